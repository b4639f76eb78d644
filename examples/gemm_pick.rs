//! Measures candidate GEMM crates on this machine (f32, row-major), to pick the kernel backend.
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let threads: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse().unwrap())
        .unwrap_or(1);
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .unwrap();
    for &(m, k, n) in &[
        (1024usize, 1024usize, 1024usize),
        (128, 784, 500),
        (128, 500, 500),
        (784, 128, 500),
    ] {
        let a: Vec<f32> = (0..m * k)
            .map(|i| ((i * 7919) % 1000) as f32 / 1000.0)
            .collect();
        let b: Vec<f32> = (0..k * n)
            .map(|i| ((i * 104729) % 1000) as f32 / 1000.0)
            .collect();
        let mut c = vec![0f32; m * n];
        let flops = 2.0 * (m * k * n) as f64;
        let reps = (2e10 / flops).clamp(3.0, 200.0) as usize;
        let par = if threads > 1 {
            gemm::Parallelism::Rayon(threads)
        } else {
            gemm::Parallelism::None
        };
        let mut tg = vec![];
        for _ in 0..reps {
            let t = Instant::now();
            unsafe {
                gemm::gemm(
                    m,
                    n,
                    k,
                    c.as_mut_ptr(),
                    1,
                    n as isize,
                    false,
                    a.as_ptr(),
                    1,
                    k as isize,
                    b.as_ptr(),
                    1,
                    n as isize,
                    0.0f32,
                    1.0f32,
                    false,
                    false,
                    false,
                    par,
                );
            }
            tg.push(t.elapsed().as_secs_f64());
        }
        let mut tm = vec![];
        for _ in 0..reps {
            let t = Instant::now();
            unsafe {
                matrixmultiply::sgemm(
                    m,
                    k,
                    n,
                    1.0,
                    a.as_ptr(),
                    k as isize,
                    1,
                    b.as_ptr(),
                    n as isize,
                    1,
                    0.0,
                    c.as_mut_ptr(),
                    n as isize,
                    1,
                );
            }
            tm.push(t.elapsed().as_secs_f64());
        }
        println!(
            "{m}x{k}x{n} threads {threads}: gemm {:.1} GFLOP/s, matrixmultiply {:.1} GFLOP/s",
            flops / median(tg) / 1e9,
            flops / median(tm) / 1e9
        );
    }
}

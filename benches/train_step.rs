//! Speed benchmarks against the targets (run with `cargo bench`; compare with PyTorch via
//! `bench/compare_torch.sh`). Prints medians in milliseconds as `name: value` lines. The copy
//! that the EG update is compared with uses the same threads as the update.
//!
//! (a) one training step (forward, backward, SGD-EG update) of a 784-500-500-10 ReLU MLP at
//!     batch 128; (b) the same with a DANN network (500 E + 50 I per hidden layer, 10 E + 1 I
//!     output, divisive, corrected gradients); (c) the EG update alone on 10⁷ weights, against a
//!     plain copy of the same size; (d) f32 GEMM 1024³ in GFLOP/s.

use geoplast::geometry::Potential;
use geoplast::kernels::gemm::{Operand, matmul};
use geoplast::kernels::{Backend, Cpu};
use geoplast::nn::*;
use geoplast::optim::{OptimConfig, Optimizer, Transform};
use geoplast::train::config::{ModelConfig, ModelKind};
use geoplast::train::model;
use rand::RngExt;
use std::time::Instant;

fn median_ms(mut f: impl FnMut(), reps: usize) -> f64 {
    for _ in 0..3 {
        f();
    }
    let mut t: Vec<f64> = (0..reps)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

/// Median time of one training step (forward, loss, backward, update) at batch 128.
fn step_ms(
    net: &mut Sequential<f32>,
    cfg: &OptimConfig,
    x: &[f32],
    labels: &[u32],
    reps: usize,
) -> f64 {
    let mut opt = Optimizer::<f32>::new(cfg.clone()).unwrap();
    opt.measure_norm = false; // as PyTorch: no norm without clipping
    let mut grads = net.grads();
    median_ms(
        || {
            let (out, tape) = net.forward(&Cpu, Mat::from_vec(128, 784, x.to_vec()));
            let mut g = Mat::zeros(out.rows, out.cols);
            Cpu.softmax_cross_entropy(&out.data, out.cols, labels, 0.0, None, &mut g.data);
            grads.zero();
            net.backward(&Cpu, &tape, g, &mut grads);
            opt.step(&Cpu, &mut net.params_mut(), &mut grads);
        },
        reps,
    )
}

fn main() {
    let threads: usize = std::env::var("GEOPLAST_THREADS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2);
    // GEOPLAST_BENCH_REPS=N repeats the step benchmarks N times (for a profiler).
    let reps: usize = std::env::var("GEOPLAST_BENCH_REPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .unwrap();
    let mut rng = geoplast::rng::named(0, "bench");
    let init = Init::SignedLogNormal {
        ratio: 1.5,
        gain: 1.0,
        fan: Fan::In,
    };
    let mut net = Sequential {
        layers: vec![
            Layer::Linear(Linear::new("l0", 784, 500, init, BiasKind::Split, &mut rng)),
            Layer::Act(Activation::Relu),
            Layer::Linear(Linear::new("l1", 500, 500, init, BiasKind::Split, &mut rng)),
            Layer::Act(Activation::Relu),
            Layer::Linear(Linear::new("l2", 500, 10, init, BiasKind::Split, &mut rng)),
        ],
    };
    let x: Vec<f32> = (0..128 * 784).map(|_| rng.random::<f32>()).collect();
    let labels: Vec<u32> = (0..128).map(|i| i % 10).collect();
    let eg_cfg = OptimConfig {
        potential: Potential::NegEntropy,
        ..OptimConfig::sgd(0.01)
    };
    let step = step_ms(&mut net, &eg_cfg, &x, &labels, reps);
    println!("mlp_784_500_500_10_b128_eg_step_ms: {step:.3}");

    let dann_cfg = ModelConfig {
        kind: ModelKind::Dann,
        hidden: vec![500, 500],
        ..ModelConfig::default()
    };
    let model::Model::Feedforward(mut dann) = model::build(&dann_cfg, &eg_cfg, 784, 10, 0.5, 0)
    else {
        unreachable!("a DANN stack is feed-forward")
    };
    let corrected = OptimConfig {
        transforms: Some(vec![Transform::DannCorrections]),
        ..eg_cfg.clone()
    };
    let step = step_ms(&mut dann, &corrected, &x, &labels, reps);
    println!("dann_784_500_500_10_b128_eg_step_ms: {step:.3}");

    let n = 10_000_000;
    let mut p = Param::new(
        "w",
        vec![n],
        (0..n).map(|i| 0.01 + (i % 97) as f32 * 1e-4).collect(),
        SignSpec::Free,
    );
    let mut grads = Grads::for_params(&[&p]);
    for (i, g) in grads.of(&p).iter_mut().enumerate() {
        *g = ((i % 13) as f32 - 6.0) * 1e-3;
    }
    let mut eg = Optimizer::<f32>::new(OptimConfig::eg(1e-3)).unwrap();
    eg.measure_norm = false;
    let update = median_ms(
        || {
            eg.step(&Cpu, &mut [&mut p], &mut grads);
        },
        20,
    );
    let src = vec![1.0f32; n];
    let mut dst = vec![0.0f32; n];
    // The reference copy runs on the same threads as the update (blocks of the optimiser's
    // size, in parallel); black_box keeps the compiler from dropping a copy never read.
    let copy = median_ms(
        || {
            use rayon::prelude::*;
            dst.par_chunks_mut(1 << 15)
                .zip(std::hint::black_box(&src).par_chunks(1 << 15))
                .for_each(|(d, s)| d.copy_from_slice(s));
            std::hint::black_box(&mut dst);
        },
        20,
    );
    // Bytes moved: the update reads w and g and writes w (12 B/weight); the copy reads and writes (8 B).
    println!("eg_update_10M_ms: {update:.3}");
    println!("copy_10M_ms: {copy:.3}");
    println!(
        "eg_update_fraction_of_copy_bandwidth: {:.2}",
        (12.0 / update) / (8.0 / copy)
    );

    let k = 1024;
    let a: Vec<f32> = (0..k * k).map(|_| rng.random::<f32>()).collect();
    let b: Vec<f32> = (0..k * k).map(|_| rng.random::<f32>()).collect();
    let mut c = vec![0.0f32; k * k];
    let ms = median_ms(
        || matmul(&mut c, Operand::new(&a, k, k), Operand::new(&b, k, k), 0.0),
        20,
    );
    println!(
        "gemm_1024_gflops: {:.1}",
        2.0 * (k as f64).powi(3) / (ms * 1e6)
    );
}

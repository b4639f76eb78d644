//! Benchmarks of one RNN training step as `geoplast train` takes it (the learner's
//! `recurrent::gradients`: sequence, readout, loss, BPTT; then SGD-EG with momentum 0.925 and
//! global clipping at 2.0), at the shapes of the recurrent-network issue, for
//! `bench/compare_rnn.sh` to set beside PyTorch (`bench/rnn_torch.py`):
//!
//! * `rnn_a`: a column-EI ReLU RNN (`W⁺·D`, 10 % I), 28 inputs, H = 256, B = 128, T = 28,
//!   cross-entropy at the last step;
//! * `rnn_b`: a dense ReLU RNN, 115 inputs, H = 256, B = 64, T = 350, readout at every step with
//!   E2's loss (masked MSE towards class 0 + cross-entropy in the decision steps, smoothing
//!   0.1); also the time of the step's GEMMs alone (`rnn_b_gemms_ms`) and the process's peak
//!   resident memory after it (`rnn_b_peak_rss_mb`);
//! * `rnn_c`: a small tanh RNN, 16 inputs, H = 64, B = 16, T = 100, readout at the last step.
//!
//! Prints `name: value` lines (medians in ms). Threads: `GEOPLAST_THREADS` (default 2);
//! `GEOPLAST_BENCH_ONLY=a|b|c` runs one workload (for a profile).

use geoplast::kernels::gemm::Operand;
use geoplast::kernels::{Activation, Backend, Cpu};
use geoplast::nn::{BiasKind, Fan, Init, Linear, Mat, RecurrentNet, Rnn, ei_cells};
use geoplast::optim::{OptimConfig, Optimizer};
use geoplast::train::recurrent::{Sequences, gradients};
use geoplast::train::source::{Batch, Targets};
use rand::RngExt;

fn median_ms(mut f: impl FnMut(), reps: usize) -> f64 {
    for _ in 0..3 {
        f();
    }
    let mut t: Vec<f64> = (0..reps)
        .map(|_| {
            let s = std::time::Instant::now();
            f();
            s.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

/// A batch of random inputs in [0, 1) with the targets of `kind`.
fn batch(steps: usize, b: usize, inputs: usize, classes: usize, kind: &str) -> Batch {
    let mut rng = geoplast::rng::named(2, "bench/rnn/batch");
    let x = Mat::from_vec(
        steps * b,
        inputs,
        (0..steps * b * inputs)
            .map(|_| rng.random_range(0.0f32..1.0))
            .collect(),
    );
    let rows = if kind == "last" { b } else { steps * b };
    let labels: Vec<u32> = (0..rows as u32).map(|i| i % classes as u32).collect();
    let targets = match kind {
        // The last tenth of the steps are decisions.
        "decisions" => Targets::Decisions {
            decision: (0..rows)
                .map(|r| (r / b >= steps * 9 / 10) as u8 as f32)
                .collect(),
            labels,
            groups: None,
        },
        _ => Targets::Classes(labels),
    };
    Batch {
        x,
        targets,
        mask: None,
        steps,
    }
}

/// The median time of one training step of `net` on `batch`.
fn step_ms(mut net: RecurrentNet<f32>, batch: &Batch, smoothing: f64, reps: usize) -> f64 {
    let be: &dyn Backend<f32> = &Cpu;
    let mut opt = Optimizer::<f32>::new(OptimConfig {
        momentum: 0.925,
        clip_norm: Some(2.0),
        ..OptimConfig::eg(0.01)
    })
    .unwrap();
    let mut grads = geoplast::nn::Grads::for_params(&net.params());
    let seq = Sequences::default();
    let mut rec = net.cell.begin(be, &[], 0, 0);
    median_ms(
        || {
            grads.zero();
            gradients(be, &net, &seq, &mut rec, batch, smoothing, 0, &mut grads);
            opt.step(be, &mut net.params_mut(), &mut grads);
        },
        reps,
    )
}

fn dense(inputs: usize, hidden: usize, classes: usize, act: Activation) -> RecurrentNet<f32> {
    let mut rng = geoplast::rng::named(1, "bench/rnn");
    let init = Init::Uniform {
        gain: 1.0,
        fan: Fan::Out,
    };
    RecurrentNet {
        cell: Rnn::new(
            "rnn",
            inputs,
            hidden,
            init,
            BiasKind::Split,
            act,
            1.0,
            &mut rng,
        ),
        readout: Linear::new("readout", hidden, classes, init, BiasKind::Split, &mut rng),
    }
}

/// The GEMMs of one step of `rnn_b` alone, on buffers allocated once: the input projection,
/// T recurrent products forward and back, the three weight gradients, the readout forward, its
/// weight gradient and ∂L/∂r.
fn gemms_ms(inputs: usize, h: usize, b: usize, steps: usize, out: usize, reps: usize) -> f64 {
    let be: &dyn Backend<f32> = &Cpu;
    let n = steps * b;
    let (u, w_ih, w_hh, w_out) = (
        vec![0.5f32; n * inputs],
        vec![0.01f32; h * inputs],
        vec![0.01f32; h * h],
        vec![0.01f32; out * h],
    );
    let (mut x, mut y, mut g) = (vec![0f32; n * h], vec![0f32; n * out], vec![0f32; n * h]);
    let (mut dw_ih, mut dw_hh, mut dw_out) = (
        vec![0f32; h * inputs],
        vec![0f32; h * h],
        vec![0f32; out * h],
    );
    let split = (b / 2) * h;
    median_ms(
        || {
            be.gemm(
                &mut x,
                Operand::new(&u, n, inputs),
                Operand::new(&w_ih, h, inputs).t(),
                0.0,
            );
            for pass in 0..2 {
                for t in 1..steps {
                    let (prev, cur) = x.split_at_mut(t * b * h);
                    let prev = &prev[(t - 1) * b * h..];
                    let (c0, c1) = cur[..b * h].split_at_mut(split);
                    let (p0, p1) = prev.split_at(split);
                    let hh = Operand::new(&w_hh, h, h);
                    let hh = if pass == 0 { hh.t() } else { hh };
                    be.join(
                        &mut || be.gemm_acc(c0, Operand::new(p0, split / h, h), hh, 1.0),
                        &mut || be.gemm_acc(c1, Operand::new(p1, (b * h - split) / h, h), hh, 1.0),
                    );
                }
            }
            be.gemm(
                &mut y,
                Operand::new(&x, n, h),
                Operand::new(&w_out, out, h).t(),
                0.0,
            );
            be.gemm_acc(
                &mut dw_out,
                Operand::new(&y, n, out).t(),
                Operand::new(&x, n, h),
                1.0,
            );
            be.gemm(
                &mut g,
                Operand::new(&y, n, out),
                Operand::new(&w_out, out, h),
                0.0,
            );
            be.gemm_acc(
                &mut dw_hh,
                Operand::new(&g, n, h).t(),
                Operand::new(&x, n, h),
                1.0,
            );
            be.gemm_acc(
                &mut dw_ih,
                Operand::new(&g, n, h).t(),
                Operand::new(&u, n, inputs),
                1.0,
            );
        },
        reps,
    )
}

/// The peak resident memory of this process so far, in MiB.
fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() {
    let threads: usize = std::env::var("GEOPLAST_THREADS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2);
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .unwrap();
    let reps: usize = std::env::var("GEOPLAST_BENCH_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let only = std::env::var("GEOPLAST_BENCH_ONLY").ok();
    let run = |w: &str| only.as_deref().is_none_or(|o| o == w);
    // (b) first, so that the peak memory is its own.
    let few = reps.div_ceil(4).max(3);
    if run("b") {
        let b_batch = batch(350, 64, 115, 17, "decisions");
        let b = step_ms(dense(115, 256, 17, Activation::Relu), &b_batch, 0.1, few);
        println!("rnn_b_h256_b64_t350_step_ms: {b:.3}");
        println!("rnn_b_peak_rss_mb: {:.1}", peak_rss_mb());
        println!(
            "rnn_b_gemms_ms: {:.3}",
            gemms_ms(115, 256, 64, 350, 17, few)
        );
    }
    if run("a") {
        let mut rng = geoplast::rng::named(1, "bench/rnn/colei");
        let be: &dyn Backend<f32> = &Cpu;
        let cell = ei_cells::colei(
            be,
            28,
            256,
            25,
            0.29,
            true,
            false,
            Some(1.5),
            Activation::Relu,
            1.0,
            &mut rng,
        );
        let readout = Linear::new(
            "readout",
            256,
            10,
            Init::default(),
            BiasKind::Split,
            &mut rng,
        );
        let a_net = RecurrentNet { cell, readout }.read_excitatory_only(25);
        let a = step_ms(a_net, &batch(28, 128, 28, 10, "last"), 0.0, reps * 2);
        println!("rnn_a_colei_h256_b128_t28_step_ms: {a:.3}");
    }
    if run("c") {
        let c_net = dense(16, 64, 10, Activation::Tanh);
        let c = step_ms(c_net, &batch(100, 16, 16, 10, "last"), 0.0, reps * 5);
        println!("rnn_c_h64_b16_t100_step_ms: {c:.3}");
    }
}

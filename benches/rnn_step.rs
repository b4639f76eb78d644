//! Benchmarks of one RNN training step (BPTT, cross-entropy, SGD-EG with momentum 0.925 and
//! global clipping at 2.0), at the shapes of the recurrent-network issue, for
//! `bench/compare_rnn.sh` to set beside `torch.nn.RNN` (`bench/rnn_torch.py`):
//!
//! * `rnn_b`: a dense ReLU RNN, 115 inputs, H = 256, B = 64, T = 350, readout at every step;
//! * `rnn_c`: a small tanh RNN, 16 inputs, H = 64, B = 16, T = 100, readout at the last step.
//!
//! Prints `name: median ms` lines. Threads: `GEOPLAST_THREADS` (default 2).

use geoplast::kernels::{Activation, Backend, Cpu};
use geoplast::nn::{BiasKind, Fan, Grads, Init, Linear, Mat, Module, Rnn};
use geoplast::optim::{OptimConfig, Optimizer};
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

/// One training step's median time for an RNN of these sizes.
#[allow(clippy::too_many_arguments)]
fn step_ms(
    inputs: usize,
    hidden: usize,
    batch: usize,
    steps: usize,
    classes: usize,
    act: Activation,
    every_step: bool,
    reps: usize,
) -> f64 {
    let be: &dyn Backend<f32> = &Cpu;
    let mut rng = geoplast::rng::named(1, "bench/rnn");
    let init = Init::Uniform {
        gain: 1.0,
        fan: Fan::Out,
    };
    let mut cell = Rnn::<f32>::new(
        "rnn",
        inputs,
        hidden,
        init,
        BiasKind::Split,
        act,
        1.0,
        &mut rng,
    );
    let mut readout =
        Linear::<f32>::new("readout", hidden, classes, init, BiasKind::Split, &mut rng);
    let u = Mat::from_vec(
        steps * batch,
        inputs,
        (0..steps * batch * inputs)
            .map(|_| rng.random_range(-1.0f32..1.0))
            .collect(),
    );
    let rows = if every_step { steps * batch } else { batch };
    let labels: Vec<u32> = (0..rows as u32).map(|i| i % classes as u32).collect();
    let mut opt = Optimizer::<f32>::new(OptimConfig {
        momentum: 0.925,
        clip_norm: Some(2.0),
        ..OptimConfig::eg(0.01)
    })
    .unwrap();
    opt.measure_norm = false;
    let mut grads = {
        let mut ps = cell.params();
        ps.extend(readout.params());
        Grads::for_params(&ps)
    };
    let mut d_r = vec![0f32; steps * batch * hidden];
    // One record and one readout input for every step: no sequence after the first allocates.
    let x0 = cell.zero_state(batch);
    let mut rec = cell.begin(be, &x0, batch, steps);
    let mut h = Mat::zeros(rows, hidden);
    median_ms(
        || {
            cell.seq_into(be, &mut rec, &x0, &u, batch, None);
            if every_step {
                h.data.copy_from_slice(rec.all_rates());
            } else {
                h.data.copy_from_slice(rec.rates_at(steps));
            }
            let (out, saved) = readout.forward(be, &h);
            let mut g = Mat::zeros(out.rows, out.cols);
            be.softmax_cross_entropy(&out.data, classes, &labels, 0.0, None, &mut g.data);
            grads.zero();
            let dh = readout
                .backward(be, &h, &saved, &g, true, &mut grads)
                .expect("∂h");
            if every_step {
                d_r.copy_from_slice(&dh.data);
            } else {
                let last = (steps - 1) * batch * hidden;
                d_r[last..].copy_from_slice(&dh.data);
            }
            cell.backward(be, &mut rec, &d_r, false, &mut grads);
            let mut ps = cell.params_mut();
            ps.extend(readout.params_mut());
            opt.step(be, &mut ps, &mut grads);
        },
        reps,
    )
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
    let b = step_ms(
        115,
        256,
        64,
        350,
        17,
        Activation::Relu,
        true,
        reps.div_ceil(4).max(3),
    );
    println!("rnn_b_h256_b64_t350_step_ms: {b:.3}");
    let c = step_ms(16, 64, 16, 100, 10, Activation::Tanh, false, reps * 5);
    println!("rnn_c_h64_b16_t100_step_ms: {c:.3}");
}

//! Finite-difference gradient checks in f64 on small shapes: every module and every loss.
//!
//! Each module is wrapped in the scalar loss `L = Σ r ⊙ f(x)` with a fixed random `r`; analytic
//! gradients of every parameter and of the input are compared with central differences, and a
//! second backward pass into the same gradient store must double every gradient (backward adds).
//! Every check runs on the reference backend and on the fast CPU one (both in f64).

use geoplast::kernels::{Backend, Cpu, Reference};
use geoplast::nn::*;
use rand::RngExt;

const BACKENDS: [&dyn Backend<f64>; 2] = [&Reference, &Cpu];

fn rng() -> rand_chacha::ChaCha8Rng {
    geoplast::rng::named(7, "gradcheck")
}

fn rand_mat(rows: usize, cols: usize, lo: f64, hi: f64, seed: u64) -> Mat<f64> {
    let mut r = geoplast::rng::named(seed, "mat");
    Mat::from_vec(
        rows,
        cols,
        (0..rows * cols).map(|_| r.random_range(lo..hi)).collect(),
    )
}

fn assert_close(what: &str, an: f64, fd: f64) {
    let tol = 1e-6 * (1.0 + an.abs().max(fd.abs()));
    assert!(
        (an - fd).abs() <= tol,
        "{what}: analytic {an} vs finite difference {fd}"
    );
}

/// Checks ∂L/∂θ for every parameter and ∂L/∂x of `m` at input `x`, on every backend.
fn check<M: Module<f64> + Clone>(name: &str, m: &M, x: &Mat<f64>) {
    for be in BACKENDS {
        check_on(be, &format!("{name} on {be:?}"), m, x);
    }
}

fn check_on<M: Module<f64> + Clone>(be: &dyn Backend<f64>, name: &str, m: &M, x: &Mat<f64>) {
    let (y, _) = m.forward(be, x);
    let r = rand_mat(y.rows, y.cols, -1.0, 1.0, 99);
    let loss = |m: &M, x: &Mat<f64>| -> f64 {
        m.forward(be, x)
            .0
            .data
            .iter()
            .zip(&r.data)
            .map(|(a, b)| a * b)
            .sum()
    };
    let mut grads = Grads::for_params(&m.params());
    let (_, saved) = m.forward(be, x);
    let dx = m
        .backward(be, x, &saved, &r, true, &mut grads)
        .expect("input gradient");
    let once = grads.clone();
    m.backward(be, x, &saved, &r, true, &mut grads);
    let h = 1e-6;
    for (pi, p) in m.params().iter().enumerate() {
        let (g1, g2) = (once.get(&p.name), grads.get(&p.name));
        for i in 0..p.len() {
            let mut plus = m.clone();
            plus.params_mut()[pi].value[i] += h;
            let mut minus = m.clone();
            minus.params_mut()[pi].value[i] -= h;
            let fd = (loss(&plus, x) - loss(&minus, x)) / (2.0 * h);
            assert_close(&format!("{name} {}[{i}]", p.name), g1[i], fd);
            assert!(
                (g2[i] - 2.0 * g1[i]).abs() <= 1e-12 * g1[i].abs().max(1e-300),
                "{name} {}[{i}]: two backward passes gave {} for {} once",
                p.name,
                g2[i],
                g1[i]
            );
        }
    }
    for i in 0..x.data.len() {
        let (mut xp, mut xm) = (x.clone(), x.clone());
        xp.data[i] += h;
        xm.data[i] -= h;
        let fd = (loss(m, &xp) - loss(m, &xm)) / (2.0 * h);
        assert_close(&format!("{name} dx[{i}]"), dx.data[i], fd);
    }
}

#[test]
fn linear_with_every_bias_kind() {
    let x = rand_mat(4, 5, -1.0, 1.0, 1);
    for bias in [
        BiasKind::None,
        BiasKind::Uniform,
        BiasKind::Split,
        BiasKind::Fixed(-0.5),
    ] {
        let l = Linear::<f64>::new(
            "l",
            5,
            3,
            Init::Normal {
                gain: 1.0,
                fan: Fan::In,
            },
            bias,
            &mut rng(),
        );
        check(&format!("linear {bias:?}"), &l, &x);
    }
}

#[test]
fn activations() {
    // Keep inputs away from ReLU's kink, where the derivative is undefined.
    let x = Mat::from_vec(2, 4, vec![-1.3, -0.4, 0.2, 0.9, 1.7, -0.8, 0.35, -2.0]);
    for a in [
        Activation::Relu,
        Activation::Tanh,
        Activation::Sigmoid,
        Activation::Identity,
    ] {
        check(&format!("{a:?}"), &a, &x);
    }
}

#[test]
fn column_ei_layers() {
    let x = rand_mat(3, 6, 0.0, 1.0, 2);
    let l = ColEi::<f64>::balanced("c", 4, 2, 3, BiasKind::Uniform, &mut rng());
    check("colei balanced", &l, &x);
    for split in [false, true] {
        let f = ColEi::<f64>::first_layer("f", 6, 3, 0.286, split, &mut rng());
        check(&format!("colei first layer, split bias {split}"), &f, &x);
    }
    // |W_raw|·D, with some raw weights negative (their sign must not matter forward).
    let mut r = l.clone().reparametrised();
    for (i, v) in r.weight.value.iter_mut().enumerate() {
        if i % 3 == 0 {
            *v = -*v;
        }
    }
    check("colei |W|·D", &r, &x);
}

#[test]
fn dann_layers_divisive_and_subtractive() {
    let x = rand_mat(3, 5, 0.0, 1.0, 3);
    for (divisive, n_i) in [(true, 2), (true, 1), (false, 2)] {
        let mut l = Dann::<f64>::new("d", 5, 4, n_i, true, divisive, BiasKind::Split, &mut rng());
        // Move the clamped-at-init values off their symmetric starting points.
        for p in l.params_mut() {
            for (i, v) in p.value.iter_mut().enumerate() {
                *v *= 1.0 + 0.1 * ((i % 5) as f64);
            }
        }
        check(&format!("dann divisive={divisive} n_i={n_i}"), &l, &x);
    }
}

/// DANN's corrected SGD is the optimiser's `dann_corrections` transform: with plain SGD at
/// lr 1, the step of each parameter is its raw gradient times the documented factor.
#[test]
fn dann_corrections_scale_the_documented_gradients() {
    use geoplast::optim::{OptimConfig, Optimizer, Transform};
    let x = rand_mat(3, 5, 0.0, 1.0, 4);
    let base = Dann::<f64>::new("d", 5, 4, 2, false, true, BiasKind::Zero, &mut rng());
    let mut grads = Grads::for_params(&base.params());
    let (y, s) = base.forward(&Reference, &x);
    let dy = Mat::from_vec(y.rows, y.cols, vec![1.0; y.data.len()]);
    base.backward(&Reference, &x, &s, &dy, false, &mut grads);
    let step = |transforms: Vec<Transform>| {
        let mut l = base.clone();
        let mut opt = Optimizer::<f64>::new(OptimConfig {
            transforms: Some(transforms),
            clamp: Some(false),
            ..OptimConfig::sgd(1.0)
        })
        .unwrap();
        opt.step(&Reference, &mut l.params_mut(), &mut grads.clone());
        l
    };
    let (plain, corr) = (step(vec![]), step(vec![Transform::DannCorrections]));
    let (ne, d) = (4.0f64, 5.0f64);
    for ((p0, a), b) in base.params().iter().zip(plain.params()).zip(corr.params()) {
        let factor = match p0.name.as_str() {
            "d.w_ie" => 1.0 / ne.sqrt(),
            "d.w_ei" => 1.0 / d,
            "d.alpha" => 1.0 / (ne.sqrt() * d),
            _ => 1.0,
        };
        let g = grads.get(&p0.name);
        for (i, gi) in g.iter().enumerate() {
            let (da, db) = (p0.value[i] - a.value[i], p0.value[i] - b.value[i]);
            assert!((da - gi).abs() < 1e-12, "{}: plain step", p0.name);
            assert!(
                (db - gi * factor).abs() < 1e-12,
                "{}: corrected step",
                p0.name
            );
        }
    }
}

#[test]
fn sequential_mlp_of_mixed_layers() {
    let mut r = rng();
    let net = Sequential {
        layers: vec![
            Layer::Dann(Dann::new(
                "l0",
                6,
                5,
                2,
                false,
                true,
                BiasKind::Uniform,
                &mut r,
            )),
            Layer::Act(Activation::Tanh),
            Layer::ColEi(ColEi::balanced("l1", 3, 2, 4, BiasKind::Uniform, &mut r)),
            Layer::Act(Activation::Sigmoid),
            Layer::Linear(Linear::new(
                "l2",
                4,
                3,
                Init::Normal {
                    gain: 1.0,
                    fan: Fan::In,
                },
                BiasKind::Split,
                &mut r,
            )),
        ],
    };
    let x = rand_mat(3, 6, 0.0, 1.0, 5);
    let rr = rand_mat(3, 3, -1.0, 1.0, 6);
    for be in BACKENDS {
        let loss = |n: &Sequential<f64>| -> f64 {
            n.predict(be, x.clone())
                .data
                .iter()
                .zip(&rr.data)
                .map(|(a, b)| a * b)
                .sum()
        };
        let mut grads = net.grads();
        let (_, tape) = net.forward(be, x.clone());
        net.backward(be, &tape, rr.clone(), &mut grads);
        let h = 1e-6;
        for (pi, p) in net.params().iter().enumerate() {
            for i in 0..p.len() {
                let (mut a, mut b) = (net.clone(), net.clone());
                a.params_mut()[pi].value[i] += h;
                b.params_mut()[pi].value[i] -= h;
                assert_close(
                    &format!("seq {}[{i}] on {be:?}", p.name),
                    grads.get(&p.name)[i],
                    (loss(&a) - loss(&b)) / (2.0 * h),
                );
            }
        }
    }
}

/// Checks a loss's gradient with respect to its input.
/// A loss on a backend: (input, ∂loss/∂input) → loss.
type Loss<'a> = &'a dyn Fn(&dyn Backend<f64>, &[f64], &mut [f64]) -> f64;

/// Checks a loss's gradient with respect to its input (a 4 × 3 batch), on every backend.
fn check_loss(name: &str, x: &[f64], f: Loss) {
    for be in BACKENDS {
        let mut g = vec![0.0; x.len()];
        f(be, x, &mut g);
        let h = 1e-6;
        let mut scratch = vec![0.0; x.len()];
        for i in 0..x.len() {
            let (mut xp, mut xm) = (x.to_vec(), x.to_vec());
            xp[i] += h;
            xm[i] -= h;
            let fd = (f(be, &xp, &mut scratch) - f(be, &xm, &mut scratch)) / (2.0 * h);
            assert_close(&format!("{name}[{i}] on {be:?}"), g[i], fd);
        }
    }
}

#[test]
fn losses() {
    let z = rand_mat(4, 3, -3.0, 3.0, 8).data;
    let labels = [0u32, 2, 1, 2];
    let mask = [1.0, 0.0, 1.0, 0.5];
    check_loss("softmax ce", &z, &|be, x, g| {
        be.softmax_cross_entropy(x, 3, &labels, 0.0, None, g)
    });
    check_loss("softmax ce smoothed+masked", &z, &|be, x, g| {
        be.softmax_cross_entropy(x, 3, &labels, 0.1, Some(&mask), g)
    });
    let t: Vec<f64> = (0..12).map(|i| (i % 2) as f64).collect();
    check_loss("bce", &z, &|be, x, g| be.bce(x, &t, g));
    let m: Vec<f64> = (0..12).map(|i| (i % 3 != 0) as u8 as f64).collect();
    check_loss("mse masked", &z, &|be, x, g| be.mse(x, &t, Some(&m), g));
}

#[test]
fn loss_values_on_fixed_inputs() {
    for be in BACKENDS {
        // Hand-computed: CE of logits (0, ln 3) against class 1 = −ln(3/4); BCE(0, 1) = ln 2.
        let mut g = [0.0; 2];
        let ce = be.softmax_cross_entropy(&[0.0, 3f64.ln()], 2, &[1], 0.0, None, &mut g);
        assert!((ce + (0.75f64).ln()).abs() < 1e-12, "{be:?}");
        let b = be.bce(&[0.0], &[1.0], &mut [0.0]);
        assert!((b - 2f64.ln()).abs() < 1e-12, "{be:?}");
        // Large logits stay finite.
        let b = be.bce(&[800.0, -800.0], &[0.0, 1.0], &mut [0.0; 2]);
        assert!((b - 800.0).abs() < 1e-9, "{be:?}");
    }
}

#[test]
fn dale_initialisers_are_balanced() {
    let c = ColEi::<f64>::balanced("c", 500, 50, 200, BiasKind::Zero, &mut rng());
    let row_scale = c.weight.value.iter().sum::<f64>() / 200.0;
    assert!(
        c.mean_row_sum().abs() < 0.1 * row_scale,
        "colei mean row sum {}",
        c.mean_row_sum()
    );
    let d = Dann::<f64>::new("d", 500, 200, 20, true, true, BiasKind::Zero, &mut rng());
    assert!(
        d.mean_row_sum().abs() < 0.5,
        "dann mean row sum {}",
        d.mean_row_sum()
    );
    let out = Dann::<f64>::new("o", 500, 10, 1, true, true, BiasKind::Zero, &mut rng());
    assert!(
        out.mean_row_sum().abs() < 1e-9,
        "output DANN with one interneuron cancels exactly"
    );
}

/// Backpropagation through time of the recurrent layer: every parameter, the inputs and the
/// initial state against central differences, for leaky (α < 1) and discrete (α = 1) cells,
/// tanh and ReLU, split and plain biases, fixed recurrent noise, and a loss that skips some
/// steps (a mask), on both backends; two backward passes give twice the gradient.
#[test]
fn rnn_through_time() {
    let (steps, batch, inputs, hidden) = (6, 2, 3, 4);
    let u = rand_mat(steps * batch, inputs, -1.0, 1.0, 21);
    let noise = rand_mat(steps * batch, hidden, -0.1, 0.1, 22).data;
    let x0 = rand_mat(batch, hidden, 0.1, 0.6, 23).data;
    let mut w = rand_mat(steps * batch, hidden, -1.0, 1.0, 24);
    // Steps 2 and 4 do not count (a decision mask).
    for t in [2, 4] {
        w.data[t * batch * hidden..(t + 1) * batch * hidden].fill(0.0);
    }
    for (alpha, act, bias) in [
        (1.0, Activation::Tanh, BiasKind::Uniform),
        (0.3, Activation::Tanh, BiasKind::Split),
        (0.5, Activation::Relu, BiasKind::Uniform),
    ] {
        let init = Init::Normal {
            gain: 1.2,
            fan: Fan::Out,
        };
        let cell = Rnn::<f64>::new("rnn", inputs, hidden, init, bias, act, alpha, &mut rng());
        for be in BACKENDS {
            let name = format!("rnn α={alpha} {act:?} {bias:?} on {be:?}");
            let loss = |c: &Rnn<f64>, u: &Mat<f64>, x0: &[f64]| -> f64 {
                let rec = c.seq(be, x0.to_vec(), u, batch, Some(&noise));
                rec.rates()
                    .data
                    .iter()
                    .zip(&w.data)
                    .map(|(a, b)| a * b)
                    .sum()
            };
            let mut rec = cell.seq(be, x0.clone(), &u, batch, Some(&noise));
            let params: Vec<&Param<f64>> = cell.params();
            let mut grads = Grads::for_params(&params);
            let g = cell.backward(be, &mut rec, &w.data, true, &mut grads);
            let once = grads.clone();
            cell.backward(be, &mut rec, &w.data, true, &mut grads);
            let h = 1e-6;
            for (pi, p) in cell.params().iter().enumerate() {
                for i in 0..p.len() {
                    let (mut a, mut b) = (cell.clone(), cell.clone());
                    a.params_mut()[pi].value[i] += h;
                    b.params_mut()[pi].value[i] -= h;
                    let fd = (loss(&a, &u, &x0) - loss(&b, &u, &x0)) / (2.0 * h);
                    let an = once.get(&p.name)[i];
                    assert_close(&format!("{name} {}[{i}]", p.name), an, fd);
                    assert!(
                        (grads.get(&p.name)[i] - 2.0 * an).abs() <= 1e-12 * an.abs().max(1e-300)
                    );
                }
            }
            let du = g.du.expect("asked for");
            for i in 0..u.data.len() {
                let (mut a, mut b) = (u.clone(), u.clone());
                a.data[i] += h;
                b.data[i] -= h;
                let fd = (loss(&cell, &a, &x0) - loss(&cell, &b, &x0)) / (2.0 * h);
                assert_close(&format!("{name} du[{i}]"), du.data[i], fd);
            }
            for i in 0..x0.len() {
                let (mut a, mut b) = (x0.clone(), x0.clone());
                a[i] += h;
                b[i] -= h;
                let fd = (loss(&cell, &u, &a) - loss(&cell, &u, &b)) / (2.0 * h);
                assert_close(&format!("{name} dx0[{i}]"), g.dx0[i], fd);
            }
        }
    }
}

/// `step` after `step` records what `seq` records, and backward gives the same gradients;
/// two windows with the state carried equal one long window forward; an RNN over one step from
/// a zero state is the dense layer with both biases followed by the activation.
#[test]
fn rnn_step_seq_windows_and_one_step() {
    let (steps, batch, inputs, hidden) = (5, 3, 2, 4);
    let u = rand_mat(steps * batch, inputs, -1.0, 1.0, 31);
    let noise = rand_mat(steps * batch, hidden, -0.1, 0.1, 32).data;
    let init = Init::Uniform {
        gain: 1.0,
        fan: Fan::Out,
    };
    let cell = Rnn::<f64>::new(
        "rnn",
        inputs,
        hidden,
        init,
        BiasKind::Split,
        Activation::Relu,
        0.4,
        &mut rng(),
    );
    let be: &dyn Backend<f64> = &Cpu;
    let mut whole = cell.seq(be, cell.zero_state(batch), &u, batch, Some(&noise));
    let mut rec = cell.begin(be, &cell.zero_state(batch), batch, steps);
    let b = batch * hidden;
    for t in 0..steps {
        let ut = &u.data[t * batch * inputs..(t + 1) * batch * inputs];
        cell.step(be, &mut rec, ut, Some(&noise[t * b..(t + 1) * b]));
    }
    let close = |a: &[f64], b: &[f64], what: &str| {
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!(
                (x - y).abs() <= 1e-12 * (1.0 + x.abs()),
                "{what}[{i}]: {x} vs {y}"
            );
        }
    };
    close(&whole.rates().data, &rec.rates().data, "step vs seq rates");
    let d = rand_mat(steps * batch, hidden, -1.0, 1.0, 33).data;
    let (mut g1, mut g2) = (
        Grads::for_params(&cell.params()),
        Grads::for_params(&cell.params()),
    );
    cell.backward(be, &mut whole, &d, false, &mut g1);
    cell.backward(be, &mut rec, &d, false, &mut g2);
    for p in cell.params() {
        close(g1.get(&p.name), g2.get(&p.name), &p.name);
    }
    // A record reused for a shorter sequence (stale buffers) gives what a fresh one gives,
    // forward and backward.
    let short = Mat::from_vec(2 * batch, inputs, u.data[..2 * batch * inputs].to_vec());
    let mut fresh = cell.seq(be, cell.zero_state(batch), &short, batch, None);
    cell.seq_into(be, &mut rec, &cell.zero_state(batch), &short, batch, None);
    close(&fresh.rates().data, &rec.rates().data, "reused record");
    let d2 = &d[..2 * batch * hidden];
    let (mut g3, mut g4) = (
        Grads::for_params(&cell.params()),
        Grads::for_params(&cell.params()),
    );
    cell.backward(be, &mut fresh, d2, false, &mut g3);
    cell.backward(be, &mut rec, d2, false, &mut g4);
    for p in cell.params() {
        close(g3.get(&p.name), g4.get(&p.name), &p.name);
    }
    // Two windows of 2 and 3 steps, the second starting from the first's last state.
    let split = 2 * batch;
    let first = Mat::from_vec(split, inputs, u.data[..split * inputs].to_vec());
    let second = Mat::from_vec(u.rows - split, inputs, u.data[split * inputs..].to_vec());
    let w1 = cell.seq(
        be,
        cell.zero_state(batch),
        &first,
        batch,
        Some(&noise[..2 * b]),
    );
    let w2 = cell.seq(be, w1.state(), &second, batch, Some(&noise[2 * b..]));
    let joined: Vec<f64> = [w1.rates().data, w2.rates().data].concat();
    close(&joined, &whole.rates().data, "two windows vs one");
    // One step from zero, α = 1: f(u·W_ihᵀ + b_ih + b_hh).
    let mut one = cell.clone();
    one.alpha = 1.0;
    let u1 = Mat::from_vec(batch, inputs, u.data[..batch * inputs].to_vec());
    let r = one.seq(be, one.zero_state(batch), &u1, batch, None).rates();
    let mut lin = Linear::<f64>::new("l", inputs, hidden, init, BiasKind::None, &mut rng());
    lin.weight.value = cell.w_ih.free().unwrap().value.clone();
    let (mut y, _) = lin.forward(be, &u1);
    cell.b_ih.add_to(be, &mut y);
    cell.b_hh.add_to(be, &mut y);
    let (want, _) = Activation::Relu.forward(be, &y);
    close(&r.data, &want.data, "one step vs dense layer");
}

/// The recurrence runs as two fixed shards of the batch: results are the same bits for any
/// thread count (f32, sizes where the weight-gradient products split across threads too).
#[test]
fn rnn_results_do_not_depend_on_the_thread_count() {
    let (steps, batch, inputs, hidden) = (4, 33, 20, 128);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let be: &dyn Backend<f32> = &Cpu;
            let init = Init::Uniform {
                gain: 1.0,
                fan: Fan::Out,
            };
            let cell = Rnn::<f32>::new(
                "rnn",
                inputs,
                hidden,
                init,
                BiasKind::Uniform,
                Activation::Tanh,
                0.5,
                &mut rng(),
            );
            let u = Mat::from_vec(
                steps * batch,
                inputs,
                rand_mat(steps * batch, inputs, -1.0, 1.0, 41)
                    .data
                    .iter()
                    .map(|&v| v as f32)
                    .collect(),
            );
            let mut rec = cell.seq(be, cell.zero_state(batch), &u, batch, None);
            let d: Vec<f32> = rec.all_rates().iter().map(|v| v * 0.5 - 0.1).collect();
            let mut grads = Grads::for_params(&cell.params());
            let g = cell.backward(be, &mut rec, &d, false, &mut grads);
            let mut bits: Vec<u32> = rec.all_rates().iter().map(|v| v.to_bits()).collect();
            bits.extend(g.dx0.iter().map(|v| v.to_bits()));
            for p in cell.params() {
                bits.extend(grads.get(&p.name).iter().map(|v| v.to_bits()));
            }
            bits
        })
    };
    assert_eq!(run(1), run(3));
}

/// Every recurrent parametrisation (free, column-EI `W⁺·D`, `|W|·D`, recurrent DANN) inside a
/// network with a readout at the last step and at every step: ∂L/∂θ of every parameter and
/// ∂L/∂x₀ against central differences through time (T = 5, fixed noise, leaky and not), on
/// both backends.
#[test]
fn recurrent_cells_and_readouts_through_time() {
    use geoplast::nn::recurrent::Readout;
    let (steps, batch, inputs, hidden, outputs) = (5, 2, 3, 6, 3);
    let u = rand_mat(steps * batch, inputs, 0.0, 1.0, 51);
    let noise = rand_mat(steps * batch, hidden, -0.1, 0.1, 52).data;
    let x0 = rand_mat(batch, hidden, 0.1, 0.6, 53).data;
    let be0: &dyn Backend<f64> = &Cpu;
    let mut reparam = ei_cells::colei(
        be0,
        inputs,
        hidden,
        2,
        0.5,
        false,
        true,
        Some(1.5),
        Activation::Tanh,
        0.5,
        &mut rng(),
    );
    // Some negative raw weights, so that |W| and its sign both matter.
    for p in reparam.params_mut() {
        for (i, v) in p.value.iter_mut().enumerate() {
            if i % 3 == 1 {
                *v = -*v;
            }
        }
    }
    let cells = [
        (
            "dense",
            Rnn::new(
                "rnn",
                inputs,
                hidden,
                Init::Normal {
                    gain: 1.2,
                    fan: Fan::Out,
                },
                BiasKind::Uniform,
                Activation::Tanh,
                1.0,
                &mut rng(),
            ),
        ),
        (
            "colei",
            ei_cells::colei(
                be0,
                inputs,
                hidden,
                2,
                0.5,
                true,
                false,
                Some(1.5),
                Activation::Tanh,
                0.4,
                &mut rng(),
            ),
        ),
        ("colei |W|·D", reparam),
        (
            "dann",
            ei_cells::dann(
                inputs,
                hidden,
                2,
                BiasKind::Split,
                Activation::Relu,
                0.5,
                &mut rng(),
            ),
        ),
    ];
    for (what, cell) in cells {
        let readout = readout(hidden, outputs);
        let net = RecurrentNet { cell, readout };
        let net = if what.starts_with("colei") {
            net.read_excitatory_only(2)
        } else {
            net
        };
        for mode in [Readout::Last, Readout::Every] {
            for be in BACKENDS {
                let name = format!("{what} {mode:?} on {be:?}");
                let rows = if mode == Readout::Last {
                    batch
                } else {
                    steps * batch
                };
                let r = rand_mat(rows, outputs, -1.0, 1.0, 54);
                let loss = |n: &RecurrentNet<f64>, x0: &[f64]| -> f64 {
                    let mut rec = n.cell.begin(be, x0, batch, steps);
                    let y = n.forward(be, &mut rec, x0, &u, batch, Some(&noise), mode);
                    y.data.iter().zip(&r.data).map(|(a, b)| a * b).sum()
                };
                let mut rec = net.cell.begin(be, &x0, batch, steps);
                net.forward(be, &mut rec, &x0, &u, batch, Some(&noise), mode);
                let mut grads = Grads::for_params(&net.params());
                let dx0 = net.backward(be, &mut rec, &r, mode, &mut grads);
                let h = 1e-6;
                for (pi, p) in net.params().iter().enumerate() {
                    for i in 0..p.len() {
                        let (mut a, mut b) = (net.clone(), net.clone());
                        a.params_mut()[pi].value[i] += h;
                        b.params_mut()[pi].value[i] -= h;
                        let fd = (loss(&a, &x0) - loss(&b, &x0)) / (2.0 * h);
                        assert_close(
                            &format!("{name} {}[{i}]", p.name),
                            grads.get(&p.name)[i],
                            fd,
                        );
                    }
                }
                for i in 0..x0.len() {
                    let (mut a, mut b) = (x0.clone(), x0.clone());
                    a[i] += h;
                    b[i] -= h;
                    let fd = (loss(&net, &a) - loss(&net, &b)) / (2.0 * h);
                    assert_close(&format!("{name} dx0[{i}]"), dx0[i], fd);
                }
            }
        }
    }
}

/// Truncated BPTT as the trainer runs it: two windows through one reused record, the second
/// starting from the first's last state, detached. The gradient summed over both windows is
/// the finite difference of the two window losses with that carried state held fixed.
#[test]
fn truncated_bptt_through_a_reused_record() {
    use geoplast::nn::recurrent::Readout;
    let (steps, batch, inputs, hidden, outputs) = (6, 2, 3, 5, 2);
    let u = rand_mat(steps * batch, inputs, -1.0, 1.0, 61);
    let half = steps / 2 * batch;
    let (u1, u2) = (
        Mat::from_vec(half, inputs, u.data[..half * inputs].to_vec()),
        Mat::from_vec(half, inputs, u.data[half * inputs..].to_vec()),
    );
    let init = Init::Normal {
        gain: 1.5,
        fan: Fan::Out,
    };
    let cell = Rnn::new(
        "rnn",
        inputs,
        hidden,
        init,
        BiasKind::Split,
        Activation::Tanh,
        0.7,
        &mut rng(),
    );
    let readout = readout(hidden, outputs);
    let net = RecurrentNet { cell, readout };
    let r = rand_mat(half, outputs, -1.0, 1.0, 62);
    for be in BACKENDS {
        let x0 = net.cell.zero_state(batch);
        let mut rec = net.cell.begin(be, &x0, batch, steps);
        let mut grads = Grads::for_params(&net.params());
        net.forward(be, &mut rec, &x0, &u1, batch, None, Readout::Every);
        net.backward(be, &mut rec, &r, Readout::Every, &mut grads);
        let carried = rec.state();
        net.forward(be, &mut rec, &carried, &u2, batch, None, Readout::Every);
        net.backward(be, &mut rec, &r, Readout::Every, &mut grads);
        let loss = |n: &RecurrentNet<f64>| -> f64 {
            let mut rec = n.cell.begin(be, &x0, batch, steps);
            let mut l = 0.0;
            for (start, u) in [(&x0, &u1), (&carried, &u2)] {
                let y = n.forward(be, &mut rec, start, u, batch, None, Readout::Every);
                l += y.data.iter().zip(&r.data).map(|(a, b)| a * b).sum::<f64>();
            }
            l
        };
        let h = 1e-6;
        for (pi, p) in net.params().iter().enumerate() {
            for i in 0..p.len() {
                let (mut a, mut b) = (net.clone(), net.clone());
                a.params_mut()[pi].value[i] += h;
                b.params_mut()[pi].value[i] -= h;
                let fd = (loss(&a) - loss(&b)) / (2.0 * h);
                assert_close(
                    &format!("truncated on {be:?} {}[{i}]", p.name),
                    grads.get(&p.name)[i],
                    fd,
                );
            }
        }
    }
}

/// A linear readout of `hidden` rates into `outputs`.
fn readout(hidden: usize, outputs: usize) -> Linear<f64> {
    let init = Init::default();
    Linear::new(
        "readout",
        hidden,
        outputs,
        init,
        BiasKind::Uniform,
        &mut rng(),
    )
}

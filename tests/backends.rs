//! The fast CPU backend against the plain-loop reference: every method of the interface on
//! random inputs, then whole training steps (forward, loss, backward, update) of a network with
//! every layer type under several optimiser rules.

use geoplast::geometry::Potential;
use geoplast::kernels::gemm::Operand;
use geoplast::kernels::update::{AdamCoeffs, SgdCoeffs};
use geoplast::kernels::{Activation, Backend, BiasValue, Cpu, Geometry, Reference};
use geoplast::nn::*;
use geoplast::optim::{Adam, OptimConfig, Optimizer};
use rand::RngExt;

fn vals(n: usize, lo: f64, hi: f64, seed: u64) -> Vec<f64> {
    let mut r = geoplast::rng::named(seed, "backends");
    (0..n).map(|_| r.random_range(lo..hi)).collect()
}

fn close(what: &str, a: &[f64], b: &[f64], tol: f64) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= tol * (1.0 + x.abs().max(y.abs())),
            "{what}[{i}]: cpu {x} vs reference {y}"
        );
    }
}

/// Runs `f` on both backends from the same inputs and compares what it writes and returns.
fn agree(what: &str, f: impl Fn(&dyn Backend<f64>) -> Vec<f64>) {
    close(what, &f(&Cpu), &f(&Reference), 1e-12);
}

#[test]
fn products_in_every_transpose() {
    let (m, k, n) = (13, 17, 9);
    let a = vals(m * k, -1.0, 1.0, 1);
    let b = vals(k * n, -1.0, 1.0, 2);
    let c0 = vals(m * n, -1.0, 1.0, 3);
    for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
        let oa = || {
            if ta {
                Operand::new(&a, k, m).t()
            } else {
                Operand::new(&a, m, k)
            }
        };
        let ob = || {
            if tb {
                Operand::new(&b, n, k).t()
            } else {
                Operand::new(&b, k, n)
            }
        };
        for beta in [0.0, 1.0] {
            agree(&format!("gemm {ta} {tb} β={beta}"), |be| {
                let mut c = c0.clone();
                be.gemm(&mut c, oa(), ob(), beta);
                c
            });
        }
        agree(&format!("gemm_acc {ta} {tb}"), |be| {
            let mut c = c0.clone();
            be.gemm_acc(&mut c, oa(), ob(), -0.5);
            c
        });
    }
}

#[test]
fn element_wise_methods() {
    let (rows, cols) = (7, 5);
    let x = vals(rows * cols, -2.0, 2.0, 4);
    let v = vals(cols, -1.0, 1.0, 5);
    let w = vals(cols, -1.0, 1.0, 6);
    let pos = vals(rows * cols, 0.5, 2.0, 7);
    for f in [
        Activation::Relu,
        Activation::Tanh,
        Activation::Sigmoid,
        Activation::Identity,
    ] {
        agree(&format!("{f:?}"), |be| {
            let mut y = vec![0.0; x.len()];
            be.activation(f, &x, &mut y);
            let mut dx = vec![0.0; x.len()];
            be.activation_backward(f, &y, &pos, &mut dx);
            y.extend(dx);
            y
        });
    }
    for (name, bias) in [
        ("vector", BiasValue::Vector(&v[..])),
        ("split", BiasValue::Split(&v[..], &w[..])),
        ("constant", BiasValue::Constant(-0.25)),
    ] {
        agree(name, |be| {
            let mut y = x.clone();
            be.add_bias(&mut y, bias);
            y
        });
    }
    agree("sum_rows, scale, add_scalar, scale_columns, exp", |be| {
        let mut g = v.clone();
        be.sum_rows(&mut g, &x);
        let mut y = x.clone();
        be.scale(&mut y, -1.5);
        be.add_scalar(&mut y, 0.75);
        be.axpy(&mut y, -0.3, &x);
        be.scale_columns(&mut y, &w);
        let mut e = vec![0.0; cols];
        be.exp(&v, &mut e);
        let keep: Vec<bool> = (0..x.len()).map(|i| i % 3 != 0).collect();
        be.zero_pruned(&mut y, &keep);
        g.extend(y);
        g.extend(e);
        g
    });
    agree("divisive path", |be| {
        let mut z = vec![0.0; x.len()];
        be.divide(&mut z, &x, &pos, &v);
        let (mut dzhat, mut dgamma, mut dgain) =
            (vec![0.0; x.len()], vec![0.0; x.len()], w.clone());
        be.divide_backward(&x, &x, &pos, &v, &mut dzhat, &mut dgamma, &mut dgain);
        let (mut dalpha, mut dz_i) = (v.clone(), x.clone());
        be.inhibition_scale_backward(&x, &pos, &w, &mut dalpha, &mut dz_i);
        [z, dzhat, dgamma, dgain, dalpha, dz_i].concat()
    });
    let labels: Vec<u32> = (0..rows as u32).map(|i| i % cols as u32).collect();
    let mask: Vec<f64> = (0..rows).map(|i| (i % 3) as f64 * 0.5).collect();
    let t: Vec<f64> = (0..x.len()).map(|i| (i % 2) as f64).collect();
    agree("losses", |be| {
        let mut g = vec![0.0; x.len()];
        let mut out = vec![be.softmax_cross_entropy(&x, cols, &labels, 0.1, Some(&mask), &mut g)];
        out.extend(&g);
        out.push(be.bce(&x, &t, &mut g));
        out.extend(&g);
        out.push(be.mse(&x, &t, Some(&pos), &mut g));
        out.extend(&g);
        out
    });
}

fn geometries() -> Vec<Geometry> {
    let g = |potential, unsigned_eg| Geometry {
        potential,
        unsigned_eg,
        lr: 0.05,
    };
    vec![
        g(Potential::Euclidean, false),
        g(Potential::PNorm { p: 1.5 }, false),
        g(Potential::PNorm { p: 3.0 }, false),
        g(Potential::NegEntropy, false),
        g(Potential::Hypentropy { beta: 0.1 }, false),
        g(Potential::NegEntropy, true),
    ]
}

/// The fused updates in f32 (the training precision, vectorised `exp`) against the reference
/// in f64, and the two in f64; sizes above the parallel block run the threaded path.
#[test]
fn optimiser_updates() {
    for n in [37, 3 << 15] {
        let w0 = vals(n, -1.0, 1.0, 8);
        let g0 = vals(n, -1.0, 1.0, 9);
        let b0 = vals(n, -0.1, 0.1, 10);
        let sgd = |first: bool| SgdCoeffs {
            grad_scale: 0.8,
            wd_w: 0.01,
            wd_sign: 0.0,
            wd_abs_sign: 0.0,
            mom_buf: if first { 0.0 } else { 0.9 },
            mom_d: 1.0,
            dir_d: 1.0,
            dir_buf: 0.9,
            freeze: 1e-6,
            nonneg: false,
        };
        let adam = AdamCoeffs {
            grad_scale: 1.0,
            decay: 0.999,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            sqrt_bias2: 0.3,
            freeze: 0.0,
            nonneg: true,
        };
        let cast = |c: &SgdCoeffs<f64>| SgdCoeffs::<f32> {
            grad_scale: c.grad_scale as f32,
            wd_w: c.wd_w as f32,
            wd_sign: c.wd_sign as f32,
            wd_abs_sign: c.wd_abs_sign as f32,
            mom_buf: c.mom_buf as f32,
            mom_d: c.mom_d as f32,
            dir_d: c.dir_d as f32,
            dir_buf: c.dir_buf as f32,
            freeze: c.freeze as f32,
            nonneg: c.nonneg,
        };
        for geo in geometries() {
            for first in [true, false] {
                let c = sgd(first);
                let run64 = |be: &dyn Backend<f64>| {
                    let (mut w, mut b) = (w0.clone(), b0.clone());
                    be.sgd_update(&mut w, &g0, Some(&mut b), &c, geo);
                    [w, b].concat()
                };
                let want = run64(&Reference);
                close(&format!("sgd {geo:?} n={n}"), &run64(&Cpu), &want, 1e-12);
                let mut w: Vec<f32> = w0.iter().map(|&v| v as f32).collect();
                let mut b: Vec<f32> = b0.iter().map(|&v| v as f32).collect();
                let g: Vec<f32> = g0.iter().map(|&v| v as f32).collect();
                Cpu.sgd_update(&mut w, &g, Some(&mut b), &cast(&c), geo);
                let got: Vec<f64> = w.iter().chain(&b).map(|&v| v as f64).collect();
                close(&format!("sgd f32 {geo:?} n={n}"), &got, &want, 1e-5);
            }
            let run = |be: &dyn Backend<f64>| {
                let (mut w, mut m, mut v, mut vm) =
                    (w0.clone(), b0.clone(), vec![0.01; n], vec![0.02; n]);
                be.adam_update(&mut w, &g0, &mut m, &mut v, Some(&mut vm), &adam, geo);
                [w, m, v, vm].concat()
            };
            close(
                &format!("adam {geo:?} n={n}"),
                &run(&Cpu),
                &run(&Reference),
                1e-12,
            );
        }
        agree("sum of squares", |be| vec![be.sum_squares(&g0)]);
    }
}

/// One network with every layer type, three training steps under several rules, on both
/// backends in f64: the same weights and optimiser state.
#[test]
fn whole_training_steps() {
    let mut r = geoplast::rng::named(3, "backends/net");
    let net = Sequential {
        layers: vec![
            Layer::Dann(Dann::new(
                "l0",
                6,
                5,
                2,
                false,
                true,
                BiasKind::Split,
                &mut r,
            )),
            Layer::Act(Activation::Relu),
            Layer::ColEi(ColEi::balanced("l1", 3, 2, 4, BiasKind::Uniform, &mut r)),
            Layer::Act(Activation::Tanh),
            Layer::Linear(Linear::new(
                "l2",
                4,
                3,
                Init::Normal {
                    gain: 1.0,
                    fan: Fan::In,
                },
                BiasKind::Uniform,
                &mut r,
            )),
        ],
    };
    let x = Mat::from_vec(4, 6, vals(24, 0.0, 1.0, 11));
    let labels = [0u32, 2, 1, 2];
    let rules = [
        OptimConfig {
            momentum: 0.9,
            clip_norm: Some(0.1),
            ..OptimConfig::eg(0.1)
        },
        OptimConfig {
            weight_decay: 1e-2,
            sign_freeze: Some(1e-6),
            ..OptimConfig::sgd(0.2)
        },
        OptimConfig {
            adam: Some(Adam::default()),
            weight_decay: 1e-3,
            ..OptimConfig::eg(0.01)
        },
    ];
    for rule in rules {
        let train = |be: &dyn Backend<f64>| {
            let mut net = net.clone();
            let mut opt = Optimizer::<f64>::new(rule.clone()).unwrap();
            let mut grads = net.grads();
            let mut losses = vec![];
            for _ in 0..3 {
                let (out, tape) = net.forward(be, x.clone());
                let mut g = Mat::zeros(out.rows, out.cols);
                losses.push(be.softmax_cross_entropy(
                    &out.data,
                    3,
                    &labels,
                    0.0,
                    None,
                    &mut g.data,
                ));
                grads.zero();
                net.backward(be, &tape, g, &mut grads);
                opt.step(be, &mut net.params_mut(), &mut grads);
            }
            let mut all = losses;
            for p in net.params() {
                all.extend(&p.value);
            }
            for st in opt.states.values() {
                all.extend(&st.momentum);
                all.extend(&st.adam_m);
            }
            all
        };
        close(
            &format!("{rule:?}"),
            &train(&Cpu),
            &train(&Reference),
            1e-10,
        );
    }
}

//! Golden tests of the optimiser family: three updates on fixed weights and gradients.
//!
//! The expected values were computed independently by `tests/golden/optim_golden.py`, a plain
//! numpy float64 implementation written from science.md §2 (not from the Rust code); rerun it to
//! regenerate the constants below.

use geoplast::geometry::Potential;
use geoplast::nn::{Param, SignSpec};
use geoplast::optim::{Adam, OptimConfig, Optimizer};

const SGD_EG_MOMENTUM_SIGNED_WD: [f64; 5] = [
    0.35336732562941625,
    -0.32309050158951796,
    0.017698542181381657,
    -1.7466882331186597,
    1.0544033438189206,
];
const SGD_EG_NESTEROV_CLIPPED: [f64; 5] = [
    0.3604878234807812,
    -0.37248392882171644,
    0.01744040128753067,
    -1.4902886123507333,
    0.8418531319542865,
];
const ADAMW_EG: [f64; 5] = [
    0.4539671628764347,
    -0.2979815904941722,
    0.018038253922469917,
    -1.330740609054096,
    0.7617684004025616,
];
const ADAMW_EG_DECAYING: [f64; 5] = [
    0.4470230974617911,
    -0.273755141035244,
    0.017845148046561236,
    -1.3366983228802012,
    0.7781062421428505,
];
const ADAMW_EG_AMSGRAD: [f64; 5] = [
    0.4470230974617911,
    -0.273755141035244,
    0.017845148046561236,
    -1.3366983228802012,
    0.778097967994176,
];
const PROJECTED_GD: [f64; 5] = [1e-18, -0.8, 1e-18, -2.15, 1.75];
const PNORM_1_5: [f64; 5] = [
    0.4450314575050762,
    -0.32230890230020665,
    0.01649204473782995,
    -1.244217804600413,
    0.7510996015920446,
];
const PNORM_3: [f64; 5] = [
    0.42956523067232577,
    -0.3394613377985311,
    -0.13904713730571475,
    -1.232729370519868,
    0.7579563124192084,
];

const W0: [f64; 5] = [0.5, -0.3, 0.02, -1.2, 0.7];
const GRADS: [[f64; 5]; 3] = [
    [0.2, -0.1, 0.05, 0.3, -0.4],
    [-0.1, 0.25, -0.02, 0.1, 0.15],
    [0.3, 0.05, 0.1, -0.2, -0.05],
];

fn run(cfg: OptimConfig, grads: &[[f64; 5]; 3]) -> Vec<f64> {
    let mut p = Param::new("w", vec![5], W0.to_vec(), SignSpec::Free);
    let mut opt = Optimizer::<f64>::new(cfg).unwrap();
    for g in grads {
        p.grad.copy_from_slice(g);
        opt.step(&mut [&mut p]);
    }
    p.value
}

fn assert_close(got: &[f64], want: &[f64]) {
    for (g, w) in got.iter().zip(want) {
        assert!(
            (g - w).abs() <= 1e-12 * w.abs().max(1e-6),
            "got {got:?}\nwant {want:?}"
        );
    }
}

#[test]
fn sgd_eg_with_momentum_dampening_and_signed_weight_decay() {
    let cfg = OptimConfig {
        momentum: 0.9,
        dampening: 0.1,
        weight_decay: 0.01,
        ..OptimConfig::eg(0.5)
    };
    assert_close(&run(cfg, &GRADS), &SGD_EG_MOMENTUM_SIGNED_WD);
}

#[test]
fn sgd_eg_nesterov_with_global_clipping() {
    let cfg = OptimConfig {
        momentum: 0.9,
        nesterov: true,
        weight_decay: 0.01,
        clip_norm: Some(0.3),
        ..OptimConfig::eg(0.5)
    };
    assert_close(&run(cfg, &GRADS), &SGD_EG_NESTEROV_CLIPPED);
}

fn adamw_eg(amsgrad: bool) -> OptimConfig {
    OptimConfig {
        adam: Some(Adam {
            amsgrad,
            ..Adam::default()
        }),
        weight_decay: 0.01,
        ..OptimConfig::eg(0.05)
    }
}

#[test]
fn adamw_eg_steps() {
    assert_close(&run(adamw_eg(false), &GRADS), &ADAMW_EG);
}

#[test]
fn adamw_eg_amsgrad_keeps_the_largest_second_moment() {
    let mut decaying = GRADS;
    decaying[0].iter_mut().for_each(|g| *g *= 10.0);
    assert_close(&run(adamw_eg(false), &decaying), &ADAMW_EG_DECAYING);
    assert_close(&run(adamw_eg(true), &decaying), &ADAMW_EG_AMSGRAD);
}

#[test]
fn projected_gd_resets_crossed_weights_to_a_signed_tiny_value() {
    let cfg = OptimConfig {
        momentum: 0.5,
        sign_freeze: Some(1e-18),
        ..OptimConfig::sgd(2.0)
    };
    assert_close(&run(cfg, &GRADS), &PROJECTED_GD);
}

#[test]
fn pnorm_steps() {
    let p15 = OptimConfig {
        potential: Potential::PNorm { p: 1.5 },
        ..OptimConfig::sgd(0.1)
    };
    assert_close(&run(p15, &GRADS), &PNORM_1_5);
    let p3 = OptimConfig {
        potential: Potential::PNorm { p: 3.0 },
        momentum: 0.9,
        weight_decay: 0.001,
        ..OptimConfig::sgd(0.1)
    };
    assert_close(&run(p3, &GRADS), &PNORM_3);
}

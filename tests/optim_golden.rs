//! Golden tests of the optimiser family: three updates on fixed weights and gradients.
//!
//! The expected values were computed independently by `tests/golden/optim_golden.py`, a plain
//! numpy float64 implementation written from science.md §2 (not from the Rust code); rerun it to
//! regenerate the constants below.

use geoplast::geometry::Potential;
use geoplast::kernels::Cpu;
use geoplast::nn::{Grads, Param, SignSpec};
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

const GROUPS_CLIPPED_WARMUP: [f64; 10] = [
    0.4698438964277854,
    -0.3077657532842882,
    0.01934200533346593,
    -1.2192711492482171,
    0.707062977327711,
    0.3758564911752188,
    0.05148691879448998,
    0.8772240038426246,
    -0.2535557588154768,
    0.017155392947618517,
];
const ADAMW_PROJECTED: [f64; 5] = [
    1e-18,
    -0.44639049390647406,
    1e-18,
    -2.2240692353346967,
    1.5442761488351089,
];

const W0: [f64; 5] = [0.5, -0.3, 0.02, -1.2, 0.7];
const GRADS: [[f64; 5]; 3] = [
    [0.2, -0.1, 0.05, 0.3, -0.4],
    [-0.1, 0.25, -0.02, 0.1, 0.15],
    [0.3, 0.05, 0.1, -0.2, -0.05],
];

fn run(cfg: OptimConfig, grads_in: &[[f64; 5]; 3]) -> Vec<f64> {
    let mut p = Param::new("w", vec![5], W0.to_vec(), SignSpec::Free);
    let mut opt = Optimizer::<f64>::new(cfg).unwrap();
    let mut grads = Grads::for_params(&[&p]);
    for g in grads_in {
        grads.of(&p).copy_from_slice(g);
        opt.step(&Cpu, &mut [&mut p], &mut grads);
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

/// Three parameters under three rules in one EG run: the default SGD-EG rule, a group with
/// DANN's correction transform (factor 0.5 on `l.w_ie`) and its own lr, and α by gradient
/// descent. Clipping is global over all groups (the raw norm exceeds 0.3), and the warm-up
/// schedule's first factor is 0, so the first update only fills the momentum buffers.
#[test]
fn groups_with_global_clipping_a_correction_group_and_alpha_by_gd() {
    let cfg: OptimConfig = toml::from_str(
        r#"
        lr = 0.5
        potential = { kind = "negentropy" }
        momentum = 0.9
        weight_decay = 0.01
        clip_norm = 0.3
        schedule = { kind = "wcc", warmup = 2, cooldown = 0, total = 10 }
        [groups.corrected]
        params = ["*.w_ie"]
        lr = 0.2
        transforms = ["dann_corrections"]
        [groups.alpha]
        params = ["*.alpha"]
        potential = { kind = "euclid" }
        lr = 0.1
        weight_decay = 0.0
        "#,
    )
    .unwrap();
    let mut weight = Param::new("l.weight", vec![5], W0.to_vec(), SignSpec::Free);
    let mut w_ie = Param::new(
        "l.w_ie",
        vec![3],
        vec![0.4, 0.05, 0.9],
        SignSpec::NonNegative,
    );
    w_ie.correction = 0.5;
    let mut alpha = Param::new("l.alpha", vec![2], vec![-0.3, -0.02], SignSpec::Free);
    let mut opt = Optimizer::<f64>::new(cfg).unwrap();
    let mut grads = Grads::for_params(&[&weight, &w_ie, &alpha]);
    for (k, g) in GRADS.iter().enumerate() {
        let k1 = (k + 1) as f64;
        grads.of(&weight).copy_from_slice(g);
        grads
            .of(&w_ie)
            .copy_from_slice(&[0.3 * k1, -0.2 * k1, 0.1 * k1]);
        let a = (2 - k) as f64;
        grads.of(&alpha).copy_from_slice(&[-0.5 * a, -0.4 * a]);
        let before = weight.value.clone();
        let info = opt.step(&Cpu, &mut [&mut weight, &mut w_ie, &mut alpha], &mut grads);
        assert!(info.grad_norm > 0.3, "clipping must be active");
        if k == 0 {
            assert_eq!(weight.value, before, "a schedule factor of 0 moves nothing");
            // ... but fills momentum: buf = d = clipped g + wd·sign(w).
            let scale = 0.3 / (info.grad_norm + 1e-6);
            let want: Vec<f64> = g
                .iter()
                .zip(&before)
                .map(|(g, w)| g * scale + 0.01 * w.signum())
                .collect();
            assert_close(&opt.states["l.weight"].momentum, &want);
        }
    }
    let got: Vec<f64> = [weight.value, w_ie.value, alpha.value].concat();
    assert_close(&got, &GROUPS_CLIPPED_WARMUP);
    assert!(got[9] > 0.0, "α crossed zero: it is trained by GD, not EG");
}

/// Sign freeze does not depend on the direction: it works with Adam moments too.
#[test]
fn adamw_with_sign_freeze() {
    let cfg = OptimConfig {
        adam: Some(Adam::default()),
        weight_decay: 0.01,
        sign_freeze: Some(1e-18),
        ..OptimConfig::sgd(0.5)
    };
    assert_close(&run(cfg, &GRADS), &ADAMW_PROJECTED);
}

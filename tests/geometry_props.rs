//! Property tests of the potentials (science.md §1): ψ⁻¹∘ψ = id, Bregman ≥ 0 and D(w,w) = 0,
//! f'' is the derivative of ψ, p = 2 equals Euclidean, a NegEntropy mirror step is the EG update,
//! EG keeps signs and zeros, and MD with p = 2 equals SGD bit for bit.

use geoplast::geometry::{MirrorMap, PNorm, Potential};
use geoplast::kernels::Cpu;
use geoplast::nn::{Grads, Param, SignSpec};
use geoplast::optim::{OptimConfig, Optimizer};
use proptest::prelude::*;

fn potentials() -> Vec<Potential> {
    vec![
        Potential::Euclidean,
        Potential::PNorm { p: 1.3 },
        Potential::PNorm { p: 2.0 },
        Potential::PNorm { p: 3.0 },
        Potential::NegEntropy,
        Potential::Hypentropy { beta: 0.05 },
        Potential::Hypentropy { beta: 2.0 },
    ]
}

fn weight() -> impl Strategy<Value = f64> {
    prop_oneof![-3.0f64..-1e-3, 1e-3f64..3.0]
}

proptest! {
    #[test]
    fn inverse_undoes_the_mirror_map(w in weight()) {
        for pot in potentials() {
            let back = pot.inverse(pot.mirror(w), w.signum());
            prop_assert!((back - w).abs() <= 1e-10 * w.abs().max(1.0), "{pot:?}: {w} -> {back}");
        }
    }

    #[test]
    fn bregman_is_nonnegative_and_zero_on_the_diagonal(w in weight(), v in weight()) {
        for pot in potentials() {
            prop_assert!(pot.bregman(w, w).abs() < 1e-12);
            let v = if pot == Potential::NegEntropy { v.abs() * w.signum() } else { v };
            prop_assert!(pot.bregman(w, v) >= -1e-12, "{pot:?} D({w},{v}) < 0");
        }
    }

    #[test]
    fn hessian_is_the_derivative_of_the_mirror_map(w in weight()) {
        for pot in potentials() {
            let h = 1e-6 * w.abs().max(1e-2);
            let fd = (pot.mirror(w + h) - pot.mirror(w - h)) / (2.0 * h);
            let an = pot.hessian(w);
            prop_assert!((fd - an).abs() <= 1e-5 * an.abs().max(1.0), "{pot:?} at {w}: {fd} vs {an}");
        }
    }

    #[test]
    fn pnorm_two_is_euclidean(w in weight(), v in weight()) {
        let (p2, e) = (Potential::PNorm { p: 2.0 }, Potential::Euclidean);
        prop_assert!((p2.mirror(w) - e.mirror(w)).abs() < 1e-15);
        prop_assert!((p2.bregman(w, v) - e.bregman(w, v)).abs() < 1e-12);
    }

    #[test]
    fn negentropy_dual_step_is_the_eg_update(w in weight(), d in -5.0f64..5.0, lr in 1e-3f64..1.0) {
        let ne = Potential::NegEntropy;
        let dual = ne.inverse(ne.mirror(w) - lr * d, w.signum());
        let eg = w * (-lr * w.signum() * d).exp();
        prop_assert!((dual - eg).abs() <= 1e-12 * eg.abs().max(1e-300));
        prop_assert!((ne.step(w, w.signum(), d, lr) - eg).abs() <= 1e-12 * eg.abs());
    }

    #[test]
    fn eg_never_flips_a_sign_and_zero_stays_zero(
        w in proptest::collection::vec(prop_oneof![Just(0.0f32), -2.0f32..2.0], 1..40),
        seed in 0u64..1000,
    ) {
        let n = w.len();
        let mut p = Param::new("w", vec![n], w.clone(), SignSpec::Free);
        let cfg = OptimConfig { momentum: 0.9, weight_decay: 1e-3, ..OptimConfig::eg(0.3) };
        let mut opt = Optimizer::<f32>::new(cfg).unwrap();
        let mut grads = Grads::for_params(&[&p]);
        for step in 0..20u64 {
            for (i, g) in grads.of(&p).iter_mut().enumerate() {
                *g = (((seed + step * 31 + i as u64 * 7) % 97) as f32 / 48.5 - 1.0) * 3.0;
            }
            opt.step(&Cpu, &mut [&mut p], &mut grads);
        }
        for (a, b) in w.iter().zip(&p.value) {
            prop_assert!(a.signum() == b.signum() || *b == 0.0, "{a} became {b}");
            if *a == 0.0 { prop_assert_eq!(*b, 0.0); }
        }
    }

    #[test]
    fn mirror_descent_with_p2_equals_sgd_bit_for_bit(
        w in proptest::collection::vec(-2.0f64..2.0, 1..20),
        g in -1.0f64..1.0,
    ) {
        let run = |pot| {
            let mut p = Param::new("w", vec![w.len()], w.clone(), SignSpec::Free);
            let cfg = OptimConfig { potential: pot, momentum: 0.9, weight_decay: 1e-2, ..OptimConfig::sgd(0.1) };
            let mut opt = Optimizer::<f64>::new(cfg).unwrap();
            let mut grads = Grads::for_params(&[&p]);
            for k in 0..3 {
                grads.of(&p).iter_mut().enumerate().for_each(|(i, x)| *x = g * (i + k) as f64);
                opt.step(&Cpu, &mut [&mut p], &mut grads);
            }
            p.value
        };
        let sgd = run(Potential::Euclidean);
        let md = run(Potential::PNorm { p: 2.0 });
        prop_assert_eq!(sgd, md);
        // The p-norm's own f64 maps at p = 2 give the SGD step exactly too (not only the
        // canonical Euclidean form the dispatch picks).
        for &x in &w {
            let (d, lr) = (g, 0.1);
            prop_assert_eq!(PNorm { p: 2.0 }.step(x, x.signum(), d, lr), x - lr * d);
        }
    }
}

#[test]
fn masked_synapses_stay_zero_and_get_no_momentum() {
    let mut p = Param::new("w", vec![4], vec![0.5f64, -0.5, 0.3, 0.2], SignSpec::Free);
    p.mask = Some(vec![true, false, true, false]);
    p.mask_value(&Cpu);
    let mut opt = Optimizer::<f64>::new(OptimConfig {
        momentum: 0.9,
        ..OptimConfig::sgd(0.5)
    })
    .unwrap();
    let mut grads = Grads::for_params(&[&p]);
    for _ in 0..5 {
        grads.of(&p).copy_from_slice(&[0.1, -0.2, 0.3, 0.4]);
        opt.step(&Cpu, &mut [&mut p], &mut grads);
    }
    assert_eq!(p.value[1], 0.0);
    assert_eq!(p.value[3], 0.0);
    assert_eq!(opt.states["w"].momentum[1], 0.0);
    assert!(p.value[0] != 0.5);
}

#[test]
fn nonnegative_parameters_are_clamped_under_gd() {
    let mut p = Param::new("w", vec![3], vec![0.1f64, 0.5, 0.0], SignSpec::NonNegative);
    let mut grads = Grads::for_params(&[&p]);
    grads.of(&p).copy_from_slice(&[1.0, -1.0, 1.0]);
    Optimizer::<f64>::new(OptimConfig::sgd(0.5))
        .unwrap()
        .step(&Cpu, &mut [&mut p], &mut grads);
    assert_eq!(p.value, vec![0.0, 1.0, 0.0]);
}

#[test]
fn invalid_settings_are_named() {
    let bad = [
        (OptimConfig::sgd(-0.1), "lr"),
        (OptimConfig::sgd(0.0), "lr"),
        (
            OptimConfig {
                potential: Potential::PNorm { p: 1.0 },
                ..OptimConfig::sgd(0.1)
            },
            "p > 1",
        ),
        (
            OptimConfig {
                nesterov: true,
                ..OptimConfig::sgd(0.1)
            },
            "nesterov",
        ),
        (
            OptimConfig {
                unsigned_eg: true,
                ..OptimConfig::sgd(0.1)
            },
            "unsigned_eg",
        ),
        (
            OptimConfig {
                weight_decay: -1.0,
                ..OptimConfig::sgd(0.1)
            },
            "weight_decay",
        ),
    ];
    for (cfg, needle) in bad {
        let err = cfg.validate().unwrap_err();
        assert!(err.contains(needle), "{err}");
    }
}

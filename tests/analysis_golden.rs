//! The geometry-test statistics on fixed small arrays, against values computed independently by
//! `tests/golden/delta_cdf_golden.py` (numpy, the literal definition of science.md §4.2:
//! sort and count strictly below each grid point); and the Gaussian noise floor of §4.3.

use geoplast::analysis::delta_cdf::{self, Centring};
use geoplast::analysis::dual::{Prepared, dual_change};
use geoplast::analysis::ks::ks_normal;
use geoplast::analysis::paired::{PairedOptions, infer, mean_sd};
use geoplast::geometry::Potential;
use rand::RngExt;
use rand_distr::StandardNormal;

/// (potential, uncentred ΔCDF, centred ΔCDF, M, mean, sd, skewness, excess kurtosis, KS D).
type Row = (&'static str, f64, f64, f64, f64, f64, f64, f64, f64);
const GOLDEN: [Row; 4] = [
    (
        "NE",
        0.2943735798559503,
        0.24175557724136768,
        0.18534207474101974,
        0.030387744575315526,
        0.14140763446580876,
        -0.0070613739869689485,
        -1.4825338976035511,
        0.16990990154181385,
    ),
    (
        "p1.5",
        0.26099003822374606,
        0.16583508673276745,
        0.07367917318171843,
        0.008472634170070681,
        0.03523567216532122,
        0.11650281012557093,
        -1.2381672067748564,
        0.14046941032340698,
    ),
    (
        "p2",
        0.26441602207271475,
        0.12712167846820574,
        0.1517888090648495,
        0.009783858930717492,
        0.037964928418313115,
        0.2971519989880523,
        -0.8584300623804118,
        0.12234097589104964,
    ),
    (
        "p3",
        0.2903009485347973,
        0.18056953196647715,
        0.3245485540107088,
        0.006907215232236785,
        0.02438073439936694,
        0.6938147856618956,
        -0.020476034285294098,
        0.13318373220834556,
    ),
];

fn pairs() -> (Vec<f64>, Vec<f64>) {
    let w0: Vec<f64> = (0..64)
        .map(|i| 0.05 + 0.3 * (0.7 * i as f64 + 0.3).sin().abs())
        .collect();
    let w1 = w0
        .iter()
        .enumerate()
        .map(|(i, w)| w * (0.2 * (1.3 * i as f64).sin() + 0.03).exp())
        .collect();
    (w0, w1)
}

#[test]
fn statistics_match_an_independent_implementation() {
    let (w0, w1) = pairs();
    let data = Prepared::new(w0, w1);
    for (name, unc, cen, mag, mean, sd, skew, kurt, ks) in GOLDEN {
        let pot = if name == "NE" {
            Potential::NegEntropy
        } else {
            Potential::PNorm {
                p: name[1..].parse().unwrap(),
            }
        };
        let (d, s) = dual_change(&data, pot);
        let close = |what: &str, a: f64, b: f64| {
            assert!(
                (a - b).abs() < 1e-9 * (1.0 + b.abs()),
                "{name} {what}: {a} vs {b}"
            )
        };
        close(
            "uncentred ΔCDF",
            delta_cdf::delta_cdf(&d, s.mean, s.sd, Centring::Uncentred),
            unc,
        );
        close(
            "centred ΔCDF",
            delta_cdf::delta_cdf(&d, s.mean, s.sd, Centring::Centred),
            cen,
        );
        close("magnitude", s.magnitude, mag);
        close("mean", s.mean, mean);
        close("sd", s.sd, sd);
        close("skewness", s.skewness, skew);
        close("kurtosis", s.kurtosis, kurt);
        let mut z: Vec<f64> = d.iter().map(|v| v / s.sd).collect();
        z.sort_by(f64::total_cmp);
        close("KS", ks_normal(&z).0, ks);
    }
}

/// science.md §4.3 (approximate; 20–50 draws each): mean ± sd of ΔCDF for Gaussian samples.
#[test]
fn gaussian_noise_floor_matches_the_table() {
    let table = [
        (100usize, 0.117, 0.05),
        (1000, 0.040, 0.015),
        (3419, 0.019, 0.007),
        (10_000, 0.011, 0.003),
        (100_000, 0.0038, 0.0015),
    ];
    for (d, want_mean, want_sd) in table {
        let draws = 40;
        let vals: Vec<f64> = (0..draws)
            .map(|r| {
                let mut rng = geoplast::rng::named(r, &format!("floor/{d}"));
                let x: Vec<f64> = (0..d).map(|_| rng.sample(StandardNormal)).collect();
                let (m, s) = mean_sd(&x);
                delta_cdf::delta_cdf(&x, m, s, Centring::Uncentred)
            })
            .collect();
        let (m, s) = mean_sd(&vals);
        // Within the table's spread: the mean of 40 draws to within one tabulated sd, and the sd
        // within a factor of 2.
        assert!(
            (m - want_mean).abs() < want_sd,
            "D = {d}: mean {m} vs {want_mean}"
        );
        assert!(
            s > want_sd / 2.0 && s < want_sd * 2.0,
            "D = {d}: sd {s} vs {want_sd}"
        );
    }
}

/// Synthetic mirror-descent changes: Gaussian noise in the dual space of the true potential.
fn synthetic(truth: Potential, n: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
    use geoplast::geometry::MirrorMap;
    let mut rng = geoplast::rng::named(seed, "synthetic");
    let w0: Vec<f64> = (0..n)
        .map(|_| {
            let s = if rng.random::<bool>() { 1.0 } else { -1.0 };
            s * (rng.sample::<f64, _>(StandardNormal) * 0.6 - 3.0).exp()
        })
        .collect();
    let w1 = w0
        .iter()
        .map(|&w| {
            truth.inverse(
                truth.mirror(w)
                    + 0.05 * truth.mirror(0.05).abs() * rng.sample::<f64, _>(StandardNormal),
                w.signum(),
            )
        })
        .collect();
    (w0, w1)
}

#[test]
fn paired_inference_recovers_the_true_geometry() {
    for truth in [
        Potential::NegEntropy,
        Potential::PNorm { p: 2.0 },
        Potential::PNorm { p: 3.0 },
    ] {
        let (w0, w1) = synthetic(truth, 5000, 1);
        let mut cands = vec![Potential::NegEntropy];
        cands.extend((11..=30).map(|k| Potential::PNorm { p: k as f64 / 10.0 }));
        let mut opts = PairedOptions::new(cands);
        opts.bootstrap = 50;
        let r = infer(w0, w1, &opts);
        let best = r.candidates[0].potential;
        match truth {
            Potential::NegEntropy => {
                let ok = best == Potential::NegEntropy
                    || matches!(best, Potential::PNorm { p } if p <= 1.1 + 1e-9);
                assert!(ok, "{best:?}")
            }
            Potential::PNorm { p } => assert!(
                matches!(best, Potential::PNorm { p: q } if (q - p).abs() <= 0.2 + 1e-9),
                "{best:?} for p = {p}"
            ),
            _ => unreachable!(),
        }
        let best_row = &r.candidates[0];
        assert!(
            best_row.delta_cdf.unwrap() < best_row.null_mean + 4.0 * best_row.null_sd,
            "truth {truth:?} not at the floor"
        );
        assert!(
            best_row.interval.0 <= best_row.delta_cdf.unwrap()
                && best_row.delta_cdf.unwrap() <= best_row.interval.1
        );
        // Far-off candidates are told apart from the best.
        assert!(
            r.candidates
                .iter()
                .any(|c| c.delta_cdf.is_some() && !c.indistinguishable_from_best)
        );
    }
}

#[test]
fn sign_changes_exclude_negative_entropy_unless_asked() {
    let (w0, mut w1) = synthetic(Potential::PNorm { p: 2.0 }, 500, 2);
    w1[0] = -w0[0];
    let opts = PairedOptions::new(vec![Potential::NegEntropy, Potential::PNorm { p: 2.0 }]);
    let r = infer(w0.clone(), w1.clone(), &opts);
    let ne = r
        .candidates
        .iter()
        .find(|c| c.potential == Potential::NegEntropy)
        .unwrap();
    assert!(ne.excluded.as_deref().unwrap().contains("change sign"));
    assert!(
        r.warnings
            .iter()
            .any(|w| w.kind == "sign_changes" && w.count >= 1)
    );
    let mut opts = opts;
    opts.ne_subset = true;
    let r = infer(w0, w1, &opts);
    let ne = r
        .candidates
        .iter()
        .find(|c| c.potential == Potential::NegEntropy)
        .unwrap();
    assert!(ne.delta_cdf.is_some() && ne.note.is_some());
}

#[test]
fn drift_and_large_changes_are_warned_about() {
    let w0: Vec<f64> = (0..2000)
        .map(|i| 1.0 + (i as f64 * 0.37).sin() * 0.5)
        .collect();
    let drift: Vec<f64> = w0
        .iter()
        .enumerate()
        .map(|(i, w)| w + 0.3 + 0.2 * (i as f64 * 1.7).sin())
        .collect();
    let mut opts = PairedOptions::new(vec![Potential::PNorm { p: 2.0 }]);
    opts.bootstrap = 0;
    let r = infer(w0.clone(), drift, &opts);
    assert!(
        r.warnings.iter().any(|w| w.kind == "nonzero_mean"),
        "{:?}",
        r.warnings
    );
    let big: Vec<f64> = w0
        .iter()
        .enumerate()
        .map(|(i, w)| w + 3.0 * (i as f64 * 1.7).sin())
        .collect();
    let r = infer(w0, big, &opts);
    assert!(
        r.warnings.iter().any(|w| w.kind == "large_change"),
        "{:?}",
        r.warnings
    );
}

/// The progress hook of the paired test and the fit: the test ticks exactly its announced
/// steps, the fit once per potential and orthant, and a tick changes no result.
#[test]
fn the_geometry_test_and_the_fit_tick_their_steps() {
    use geoplast::analysis::{paired, unpaired};
    use std::sync::atomic::{AtomicU64, Ordering};
    let (w0, w1) = synthetic(Potential::NegEntropy, 3000, 2);
    let mut opts = PairedOptions::new(vec![Potential::NegEntropy, Potential::PNorm { p: 2.0 }]);
    opts.bootstrap = 20;
    let n = AtomicU64::new(0);
    let r = paired::infer_with(w0.clone(), w1.clone(), &opts, &|| {
        n.fetch_add(1, Ordering::Relaxed);
    });
    assert_eq!(n.load(Ordering::Relaxed), paired::steps(&opts));
    let plain = infer(w0.clone(), w1, &opts);
    assert_eq!(
        serde_json::to_string(&r).unwrap(),
        serde_json::to_string(&plain).unwrap()
    );
    let cands = [Potential::NegEntropy, Potential::PNorm { p: 2.0 }];
    let n = AtomicU64::new(0);
    unpaired::fit_report(&w0, &cands, None, &|| {
        n.fetch_add(1, Ordering::Relaxed);
    })
    .unwrap();
    // One fit per orthant with at least 10 values.
    let orthants = [1.0, -1.0]
        .iter()
        .filter(|&&s| w0.iter().filter(|&&w| w * s > 0.0).count() >= 10)
        .count() as u64;
    assert!(orthants >= 1);
    assert_eq!(n.load(Ordering::Relaxed), orthants * cands.len() as u64);
}

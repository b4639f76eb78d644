//! Paired inference: which geometry of plasticity is consistent with how these synapses changed?
//!
//! For each candidate potential: the dual change, its uncentred (and centred) ΔCDF, moments and
//! change magnitude. How sure the answer is comes from two calibrations:
//!
//! * a **parametric null**: ΔCDF of exactly Gaussian samples of the same size, so the user sees
//!   whether the best fit sits at the noise floor (differences below ~2 null-sd mean nothing);
//! * a **paired bootstrap over synapses**: an interval for each candidate's ΔCDF, and the set of
//!   candidates whose difference from the best is not resolved.
//!
//! Both are simulated at up to `null_max` / `bootstrap_max` synapses and rescaled by √(m/D) (the
//! m-out-of-n bootstrap; the floor scales as 1/√D), which keeps 10⁷ pairs fast.

use super::delta_cdf::{self, Centring};
use super::dual::{
    DualStats, Prepared, dual_change, dual_change_aligned, score_all, weighted_mean_sd,
};
use crate::geometry::Potential;
use rand::RngExt;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use serde::Serialize;

/// Settings of the paired test.
#[derive(Clone, Debug, Serialize)]
pub struct PairedOptions {
    pub candidates: Vec<Potential>,
    /// Which ΔCDF ranks the candidates (the other is reported too).
    pub centring: Centring,
    pub bootstrap: usize,
    pub bootstrap_max: usize,
    pub null_draws: usize,
    pub null_max: usize,
    /// With sign changes present, still score negative entropy on the sign-preserving pairs.
    pub ne_subset: bool,
    pub seed: u64,
}

impl PairedOptions {
    pub fn new(candidates: Vec<Potential>) -> Self {
        Self {
            candidates,
            centring: Centring::Uncentred,
            bootstrap: 200,
            bootstrap_max: 20_000,
            null_draws: 50,
            null_max: 200_000,
            ne_subset: false,
            seed: 0,
        }
    }
}

/// The default candidates: negative entropy, p = 1.1, 1.2, …, 3.0, and hypentropy with β at
/// 0.01, 0.1, 1, 10 and 100 times the median |w_before| (β matters only relative to |w|).
pub fn default_candidates(w0: &[f64]) -> Vec<Potential> {
    let mut c = vec![Potential::NegEntropy];
    c.extend((11..=30).map(|k| Potential::pnorm(k as f64 / 10.0)));
    let scale = median_abs(w0);
    if scale > 0.0 {
        c.extend(
            [0.01, 0.1, 1.0, 10.0, 100.0].map(|f| Potential::Hypentropy {
                beta: sig3(f * scale),
            }),
        );
    }
    c
}

fn sig3(x: f64) -> f64 {
    let e = 10f64.powf(x.abs().log10().floor() - 2.0);
    (x / e).round() * e
}

fn median_abs(w: &[f64]) -> f64 {
    let mut a: Vec<f64> = w.iter().map(|v| v.abs()).filter(|v| *v > 0.0).collect();
    if a.is_empty() {
        return 0.0;
    }
    let mid = a.len() / 2;
    *a.select_nth_unstable_by(mid, f64::total_cmp).1
}

/// One candidate's result.
#[derive(Clone, Debug, Serialize)]
pub struct CandidateResult {
    pub potential: Potential,
    pub label: String,
    /// ΔCDF used for ranking (None: excluded).
    pub delta_cdf: Option<f64>,
    pub delta_cdf_uncentred: Option<f64>,
    pub delta_cdf_centred: Option<f64>,
    pub stats: DualStats,
    /// Mean and sd of ΔCDF for exactly Gaussian samples of the same size.
    pub null_mean: f64,
    pub null_sd: f64,
    /// 95 % bootstrap interval of ΔCDF (spread of the paired bootstrap, centred on the estimate).
    pub interval: (f64, f64),
    /// The difference from the best candidate is not resolved (bootstrap, or < 2 null-sd).
    pub indistinguishable_from_best: bool,
    /// Why the candidate was not scored.
    pub excluded: Option<String>,
    /// A caveat about how it was scored.
    pub note: Option<String>,
}

/// A warning with the number of pairs it concerns.
#[derive(Clone, Debug, Serialize)]
pub struct Warning {
    pub kind: &'static str,
    pub count: usize,
    pub message: String,
}

/// Distribution diagnostics of one candidate's standardised change (for tables and plots).
#[derive(Clone, Debug, Serialize)]
pub struct Diagnostic {
    pub label: String,
    pub ks_distance: f64,
    pub ks_p_value: f64,
    /// Quantiles of z at probabilities (i + 0.5)/Q, for QQ plots.
    pub quantiles: Vec<f64>,
    /// Counts of z in 100 bins over [−5, 5] (out-of-range values in the end bins).
    pub histogram: Vec<u64>,
}

/// The answer of the paired test.
#[derive(Clone, Debug, Serialize)]
pub struct PairedReport {
    pub n_pairs: usize,
    /// Scored candidates by increasing ΔCDF, then the excluded ones.
    pub candidates: Vec<CandidateResult>,
    pub best: String,
    pub warnings: Vec<Warning>,
    /// KS and plot data for the best and for the Euclidean candidate.
    pub diagnostics: Vec<Diagnostic>,
    pub options: PairedOptions,
}

/// ΔCDF of exactly Gaussian samples of size n: (mean, sd), simulated at up to `max` samples.
fn null_floor(n: usize, opts: &PairedOptions) -> (f64, f64) {
    if n < 2 {
        return (f64::NAN, f64::NAN);
    }
    let m = n.min(opts.null_max);
    let vals: Vec<f64> = (0..opts.null_draws)
        .into_par_iter()
        .map(|r| {
            let mut rng = crate::rng::named(opts.seed, &format!("geometry/null/{m}/{r}"));
            let x: Vec<f64> = (0..m).map(|_| rng.sample(StandardNormal)).collect();
            let (mean, sd) = mean_sd(&x);
            delta_cdf::delta_cdf(&x, mean, sd, opts.centring)
        })
        .collect();
    let (mean, sd) = mean_sd(&vals);
    let s = (m as f64 / n as f64).sqrt();
    (mean * s, sd * s)
}

/// Mean and sd (ddof = 1) of the finite values.
pub fn mean_sd(x: &[f64]) -> (f64, f64) {
    let (n, sum) = x
        .iter()
        .filter(|v| v.is_finite())
        .fold((0.0, 0.0), |(n, s), v| (n + 1.0, s + v));
    let mean = sum / n;
    let ss: f64 = x
        .iter()
        .filter(|v| v.is_finite())
        .map(|v| (v - mean) * (v - mean))
        .sum();
    (mean, (ss / (n - 1.0)).sqrt())
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

fn diagnostic(label: &str, delta: &[f64], stats: &DualStats, centring: Centring) -> Diagnostic {
    let shift = if centring == Centring::Centred {
        stats.mean
    } else {
        0.0
    };
    let sd = stats.sd;
    let z = |d: f64| (d - shift) / sd;
    let q = 200.min(delta.len());
    let positions: Vec<usize> = (0..q)
        .map(|i| ((i as f64 + 0.5) / q as f64 * delta.len() as f64) as usize)
        .collect();
    let super::order_stats::Resolved {
        ks_distance,
        ks_p_value,
        order_stats: quantiles,
    } = super::order_stats::ks_and_order_stats(delta, z, &positions);
    let histogram = delta
        .par_chunks(1 << 16)
        .fold(
            || vec![0u64; 100],
            |mut h, c| {
                for &d in c {
                    // Truncation after the clamp is the floor.
                    h[((z(d) + 5.0) * 10.0).clamp(0.0, 99.0) as usize] += 1;
                }
                h
            },
        )
        .reduce(
            || vec![0u64; 100],
            |mut a, b| {
                a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                a
            },
        );
    Diagnostic {
        label: label.to_string(),
        ks_distance,
        ks_p_value,
        quantiles,
        histogram,
    }
}

/// Runs the paired test on `w0` (before) and `w1` (after). Values must be finite.
pub fn infer(w0: Vec<f64>, w1: Vec<f64>, opts: &PairedOptions) -> PairedReport {
    infer_with(w0, w1, opts, &|| {})
}

/// The units of work of [`infer_with`], for a progress bar: scoring, one noise floor per
/// candidate, one bootstrap replicate each.
pub fn steps(opts: &PairedOptions) -> u64 {
    (1 + opts.candidates.len() + opts.bootstrap) as u64
}

/// [`infer`], calling `tick` after each of its [`steps`].
pub fn infer_with(
    w0: Vec<f64>,
    w1: Vec<f64>,
    opts: &PairedOptions,
    tick: &(dyn Fn() + Sync),
) -> PairedReport {
    let n_pairs = w0.len();
    let data = Prepared::new(w0, w1);
    let sign_changes = (0..n_pairs)
        .filter(|&i| data.w0[i] * data.w1[i] < 0.0)
        .count();
    let zeros = (0..n_pairs)
        .filter(|&i| data.w0[i] == 0.0 || data.w1[i] == 0.0)
        .count();
    let mut warnings = Vec::new();
    let has_ne = opts.candidates.contains(&Potential::NegEntropy);
    if sign_changes > 0 {
        warnings.push(Warning {
            kind: "sign_changes",
            count: sign_changes,
            message: format!(
                "{sign_changes} of {n_pairs} pairs change sign: this excludes negative entropy and every \
                 sign-preserving geometry{}",
                if opts.ne_subset { " (negative entropy is shown on the sign-preserving pairs only, flagged)" } else { "" }
            ),
        });
    }
    if zeros > 0 && has_ne {
        warnings.push(Warning {
            kind: "zeros",
            count: zeros,
            message: format!(
                "{zeros} pairs contain a zero weight: dropped for negative entropy (ψ(0) = −∞)"
            ),
        });
    }

    // Score every candidate on all pairs where it is defined, in two fused passes.
    let scored = score_all(&data, &opts.candidates);
    tick();
    let mut results: Vec<CandidateResult> = opts
        .candidates
        .iter()
        .zip(&scored)
        .map(|(&pot, sc)| {
            let label = pot.label();
            let blank = |excluded: Option<String>| CandidateResult {
                potential: pot,
                label: label.clone(),
                delta_cdf: None,
                delta_cdf_uncentred: None,
                delta_cdf_centred: None,
                stats: DualStats::default(),
                null_mean: f64::NAN,
                null_sd: f64::NAN,
                interval: (f64::NAN, f64::NAN),
                indistinguishable_from_best: false,
                excluded,
                note: None,
            };
            if pot == Potential::NegEntropy && sign_changes > 0 && !opts.ne_subset {
                return blank(Some(format!("{sign_changes} pairs change sign")));
            }
            let stats = sc.stats;
            if stats.n < 3 || stats.sd.is_nan() || stats.sd <= 0.0 {
                return blank(Some("fewer than 3 usable pairs or no change".into()));
            }
            let unc = delta_cdf::from_bins(&sc.bins.0, stats.n);
            let cen = delta_cdf::from_bins(&sc.bins.1, stats.n);
            let mut r = blank(None);
            r.delta_cdf = Some(if opts.centring == Centring::Centred {
                cen
            } else {
                unc
            });
            r.delta_cdf_uncentred = Some(unc);
            r.delta_cdf_centred = Some(cen);
            r.stats = stats;
            if pot == Potential::NegEntropy && stats.n < n_pairs {
                r.note = Some(format!(
                    "scored on the {} pairs with nonzero, same-sign weights",
                    stats.n
                ));
            }
            r
        })
        .collect();

    // The noise floor at each candidate's sample size.
    let mut floors: Vec<(usize, (f64, f64))> = Vec::new();
    for r in results.iter_mut() {
        tick();
        if r.delta_cdf.is_none() {
            continue;
        }
        let n = r.stats.n;
        let f = match floors.iter().find(|(m, _)| *m == n) {
            Some((_, f)) => *f,
            None => {
                let f = null_floor(n, opts);
                floors.push((n, f));
                f
            }
        };
        (r.null_mean, r.null_sd) = f;
    }

    let best_idx = results
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.delta_cdf.map(|d| (i, d)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(i, _)| i);
    bootstrap(&data, &mut results, best_idx, opts, tick);

    let mut diagnostics = Vec::new();
    if let Some(b) = best_idx {
        let r = &results[b];
        let stats = r.stats;
        let delta = dual_change(&data, r.potential).0;
        diagnostics.push(diagnostic(&r.label, &delta, &stats, opts.centring));
        if stats.magnitude > 0.5 {
            warnings.push(Warning {
                kind: "large_change",
                count: stats.n,
                message: format!(
                    "change magnitude M = {:.2} > 0.5 under {}: the small-change assumption fails and ΔCDF loses power",
                    stats.magnitude, r.label
                ),
            });
        }
        let drift = stats.mean.abs() / stats.sd;
        if drift > 0.2 {
            warnings.push(Warning {
                kind: "nonzero_mean",
                count: stats.n,
                message: format!(
                    "the dual change under {} has |mean|/sd = {drift:.2} > 0.2: the zero-mean prediction fails \
                     (drift such as weight decay or homeostatic scaling); compare the centred ΔCDF",
                    r.label
                ),
            });
        }
        let excess = (r.delta_cdf.unwrap() - r.null_mean) / r.null_sd;
        if excess > 5.0 {
            warnings.push(Warning {
                kind: "above_noise_floor",
                count: stats.n,
                message: format!(
                    "even the best fit ({}, ΔCDF {:.4}) is {excess:.0} null-sd above the noise floor for {} pairs \
                     ({:.4} ± {:.4}): no candidate makes the change Gaussian (skewness {:.2}, excess kurtosis {:.2}); \
                     read the ranking as relative evidence only",
                    r.label, r.delta_cdf.unwrap(), stats.n, r.null_mean, r.null_sd, stats.skewness, stats.kurtosis
                ),
            });
        }
        if r.delta_cdf.unwrap() < r.null_mean + 2.0 * r.null_sd {
            warnings.push(Warning {
                kind: "noise_floor",
                count: stats.n,
                message: format!(
                    "the best fit ({}, ΔCDF {:.4}) is at the noise floor for {} pairs ({:.4} ± {:.4}): \
                     indistinguishable from exactly Gaussian changes",
                    r.label, r.delta_cdf.unwrap(), stats.n, r.null_mean, r.null_sd
                ),
            });
        }
    }
    // The Euclidean candidate's diagnostics too, for comparison, when it is not the best.
    if let Some(r) = results
        .iter()
        .find(|r| r.delta_cdf.is_some() && r.potential == Potential::Euclidean)
        && best_idx.is_some_and(|b| results[b].label != r.label)
    {
        diagnostics.push(diagnostic(
            &r.label,
            &dual_change(&data, r.potential).0,
            &r.stats,
            opts.centring,
        ));
    }
    let mut candidates: Vec<CandidateResult> = results;
    candidates.sort_by(|a, b| match (a.delta_cdf, b.delta_cdf) {
        (Some(x), Some(y)) => x.total_cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    let best = candidates
        .first()
        .filter(|c| c.delta_cdf.is_some())
        .map_or("none".into(), |c| c.label.clone());
    PairedReport {
        n_pairs,
        candidates,
        best,
        warnings,
        diagnostics,
        options: opts.clone(),
    }
}

/// Paired bootstrap over synapses: fills each scored candidate's interval and whether it can be
/// told apart from the best.
fn bootstrap(
    data: &Prepared,
    results: &mut [CandidateResult],
    best: Option<usize>,
    opts: &PairedOptions,
    tick: &(dyn Fn() + Sync),
) {
    let skip = || (0..opts.bootstrap).for_each(|_| tick());
    let Some(best) = best else { return skip() };
    if opts.bootstrap == 0 {
        return;
    }
    let n = data.len();
    let m = n.min(opts.bootstrap_max);
    let mut rng = crate::rng::named(opts.seed, "geometry/bootstrap/subsample");
    let sub: Vec<usize> = if m < n {
        rand::seq::index::sample(&mut rng, n, m).into_vec()
    } else {
        (0..n).collect()
    };
    let sub_data = Prepared::new(
        sub.iter().map(|&i| data.w0[i]).collect(),
        sub.iter().map(|&i| data.w1[i]).collect(),
    );
    let scored: Vec<usize> = (0..results.len())
        .filter(|&i| results[i].delta_cdf.is_some())
        .collect();
    // Δ on the subsample, aligned across candidates (NaN where a candidate is undefined).
    let deltas: Vec<Vec<f64>> = scored
        .iter()
        .map(|&i| dual_change_aligned(&sub_data, results[i].potential, true).0)
        .collect();
    // A resample is scored through its multiplicities (how often each pair was drawn): the
    // same numbers as scoring the resampled copy, without gathering it. NaN (undefined) pairs
    // are skipped by both the moments and the bins.
    let shift = |mean: f64| {
        if opts.centring == Centring::Centred {
            mean
        } else {
            0.0
        }
    };
    let score = |d: &[f64], times: &[u32]| -> f64 {
        let (n, mean, sd) = weighted_mean_sd(d, times);
        let mut counts = delta_cdf::Counts::<1>::new();
        counts.add_weighted(d, times, [shift(mean)], sd);
        let [bins] = counts.into_bins();
        delta_cdf::from_bins(&bins, n as usize)
    };
    let ones = vec![1; m];
    let on_sub: Vec<f64> = deltas.iter().map(|d| score(d, &ones)).collect();
    let reps: Vec<Vec<f64>> = (0..opts.bootstrap)
        .into_par_iter()
        .map(|b| {
            let mut rng = crate::rng::named(opts.seed, &format!("geometry/bootstrap/{b}"));
            let mut times = vec![0u32; m];
            for _ in 0..m {
                times[rng.random_range(0..m)] += 1;
            }
            let r = deltas.iter().map(|d| score(d, &times)).collect();
            tick();
            r
        })
        .collect();
    let bpos = scored
        .iter()
        .position(|&i| i == best)
        .expect("best is scored");
    let best_null_sd = results[best].null_sd;
    let best_est = results[best].delta_cdf.unwrap();
    for (k, &i) in scored.iter().enumerate() {
        let r = &mut results[i];
        // m-out-of-n rescaling: √(pairs scored in the subsample / pairs scored in all data).
        let scale =
            (deltas[k].iter().filter(|v| v.is_finite()).count() as f64 / r.stats.n as f64).sqrt();
        let est = r.delta_cdf.unwrap();
        // Bootstrap replicates of a distance are biased upward (resampling duplicates synapses,
        // which adds noise); the spread is centred on the estimate with that bias removed.
        let centred = |mut v: Vec<f64>| {
            let bias = v.iter().sum::<f64>() / v.len() as f64;
            v.iter_mut().for_each(|x| *x -= bias);
            v.sort_by(f64::total_cmp);
            v
        };
        let spread = centred(reps.iter().map(|v| (v[k] - on_sub[k]) * scale).collect());
        r.interval = (
            (est + percentile(&spread, 0.025)).max(0.0),
            est + percentile(&spread, 0.975),
        );
        let diff = centred(
            reps.iter()
                .map(|v| ((v[k] - v[bpos]) - (on_sub[k] - on_sub[bpos])) * scale)
                .collect(),
        );
        let gap = est - best_est;
        r.indistinguishable_from_best =
            i == best || gap + percentile(&diff, 0.025) <= 0.0 || gap < 2.0 * best_null_sd;
    }
}

/// [`infer`], refusing what cannot be answered: fewer than 3 pairs, or no candidate that can
/// be scored (the sentence says why for each).
pub fn infer_checked(
    w0: Vec<f64>,
    w1: Vec<f64>,
    opts: &PairedOptions,
    tick: &(dyn Fn() + Sync),
) -> Result<PairedReport, String> {
    if w0.len() < 3 {
        return Err(format!(
            "only {} pairs are left: the geometry test needs at least 3",
            w0.len()
        ));
    }
    let report = infer_with(w0, w1, opts, tick);
    if report.candidates.iter().all(|c| c.delta_cdf.is_none()) {
        let why: Vec<String> = report
            .candidates
            .iter()
            .map(|c| format!("{}: {}", c.label, c.excluded.clone().unwrap_or_default()))
            .collect();
        return Err(format!(
            "no candidate potential could be scored on these {} pairs ({})",
            report.n_pairs,
            why.join("; ")
        ));
    }
    Ok(report)
}

/// The most candidate potentials one test scores (each is a pass over the data).
pub const MAX_CANDIDATES: usize = 1000;

/// Parses a candidate list such as `ne,p1.1:3.0:0.1,euclid,hyp0.01` (`default`: the default set).
pub fn parse_candidates(spec: &str, w0: &[f64]) -> Result<Vec<Potential>, String> {
    let mut out = Vec::new();
    for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let num = |s: &str| {
            s.parse::<f64>()
                .map_err(|_| format!("candidate {item:?}: {s:?} is not a number"))
        };
        match item {
            "default" => out.extend(default_candidates(w0)),
            "ne" | "negentropy" => out.push(Potential::NegEntropy),
            "euclid" | "euclidean" => out.push(Potential::Euclidean),
            _ if item.starts_with("hyp") => out.push(Potential::Hypentropy {
                beta: num(&item[3..])?,
            }),
            _ if item.starts_with('p') => {
                let parts: Vec<&str> = item[1..].split(':').collect();
                match parts[..] {
                    [p] => out.push(Potential::pnorm(num(p)?)),
                    [a, b, step] => {
                        let (a, b, step) = (num(a)?, num(b)?, num(step)?);
                        if !(step > 0.0 && step.is_finite()) {
                            return Err(format!("candidate {item:?}: the step must be > 0"));
                        }
                        if !(a <= b && b.is_finite()) {
                            return Err(format!(
                                "candidate {item:?}: the range must run upwards, pA:B:STEP with \
                                 A <= B (got A = {a}, B = {b})"
                            ));
                        }
                        // Checked before anything is allocated: each candidate is a pass over
                        // the data.
                        let count = (b - a) / step + 1e-9;
                        if count >= MAX_CANDIDATES as f64 {
                            return Err(format!(
                                "candidate {item:?} gives {count:.0} candidates, more than the \
                                 {MAX_CANDIDATES} allowed: use a larger step"
                            ));
                        }
                        let k = count.floor() as usize;
                        out.extend((0..=k).map(|i| {
                            Potential::pnorm(((a + i as f64 * step) * 1e6).round() / 1e6)
                        }));
                    }
                    _ => return Err(format!("candidate {item:?}: write pP or pA:B:STEP")),
                }
            }
            _ => {
                return Err(format!(
                    "unknown candidate {item:?}: use ne, euclid, pP, pA:B:STEP, hypBETA or default"
                ));
            }
        }
    }
    for p in &out {
        p.validate()?;
    }
    // `euclid` and `p2` are one geometry: a list naming both scores it once.
    let mut unique: Vec<Potential> = Vec::with_capacity(out.len());
    for p in out {
        if !unique.contains(&p) {
            unique.push(p);
        }
    }
    let out = unique;
    if out.len() > MAX_CANDIDATES {
        return Err(format!(
            "{} candidate potentials given, more than the {MAX_CANDIDATES} allowed",
            out.len()
        ));
    }
    if out.is_empty() {
        return Err("no candidate potentials given".into());
    }
    Ok(out)
}

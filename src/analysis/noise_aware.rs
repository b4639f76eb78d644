//! The paired geometry test with measurement noise: each candidate's ΔCDF is compared with that
//! candidate's own null instead of the Gaussian floor.
//!
//! For candidate ψ, the null is what the test would see if ψ were the geometry of learning: the
//! initial weights w0, a zero-mean Gaussian dual change `Δ ~ N(0, s²)` (the prediction of
//! science.md §4.1; the uncentred statistic tests the zero mean too) so that
//! `w1 = ψ⁻¹(ψ(w0) + Δ)`, both sessions passed through the noise model, and the same statistic
//! (uncentred ΔCDF, negative entropy on the sign-preserving pairs). s is fitted so that the
//! simulated *observed* dual change has the data's sd: the noise's share of the change is not
//! counted twice. The candidate is rejected when its ΔCDF lies outside the null's central
//! 1 − α range (two-sided: a change *more* Gaussian than the candidate with this noise predicts
//! is as inconsistent with it as a less Gaussian one; this happens when the assumed noise alone
//! would already give more change than the data show).
//!
//! The simulations start from the observed w0 with the noise's spread taken out
//! ([`MeasurementNoise::deconvolve`]): starting from the observed weights themselves counts their
//! noise twice, which at large noise made the data look more Gaussian than the truth's own null
//! (the true geometry was rejected in 21 of 50 synthetic studies at mult = 0.2).

use super::delta_cdf::from_bins;
use super::dual::{DualStats, Prepared, score_all};
use super::noise::MeasurementNoise;
use crate::geometry::{MirrorMap, Potential};
use rand::RngExt;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use serde::Serialize;

/// Settings of the noise-aware test.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct NoiseAwareOptions {
    pub noise: MeasurementNoise,
    /// Simulated data sets per candidate for its null.
    pub reps: usize,
    /// Level of each candidate's test.
    pub alpha: f64,
    pub seed: u64,
}

/// One candidate against its own null.
#[derive(Clone, Debug, Serialize)]
pub struct CandidateNull {
    pub potential: Potential,
    pub label: String,
    /// Observed uncentred ΔCDF (None: the candidate could not be scored).
    pub delta_cdf: Option<f64>,
    pub null_median: f64,
    /// The α/2 and 1 − α/2 quantiles of the null: the ΔCDF range the candidate explains.
    pub null_low: f64,
    pub null_high: f64,
    /// Two-sided Monte-Carlo p-value.
    pub p_value: f64,
    pub rejected: bool,
    /// Share of the observed dual-change variance that the noise alone produces (no learning).
    pub noise_share: f64,
    /// The sd s of the simulations' zero-mean Gaussian dual change.
    pub fitted_sd: f64,
    pub excluded: Option<String>,
}

/// The noise-aware answer.
#[derive(Clone, Debug, Serialize)]
pub struct NoiseAwareReport {
    pub options: NoiseAwareOptions,
    pub n_pairs: usize,
    pub candidates: Vec<CandidateNull>,
    /// Candidates the data do not reject.
    pub not_rejected: Vec<String>,
    /// One or two sentences: what the data reject, and whether the noise swamps the change.
    pub verdict: Vec<String>,
}

/// Uncentred ΔCDF and the dual-change statistics of `pot` on paired weights (None: fewer than
/// 3 usable pairs, or no change).
pub fn score(w0: Vec<f64>, w1: Vec<f64>, pot: Potential) -> Option<(f64, DualStats)> {
    let data = Prepared::new(w0, w1);
    let s = score_all(&data, &[pot]).pop()?;
    (s.stats.n >= 3 && s.stats.sd > 0.0 && s.stats.sd.is_finite())
        .then(|| (from_bins(&s.bins.0, s.stats.n), s.stats))
}

/// Weights after a dual change `sd·z_i` under `pot`.
fn after(w0: &[f64], z: &[f64], sd: f64, pot: Potential) -> Vec<f64> {
    w0.iter()
        .zip(z)
        .map(|(&w, &z)| pot.inverse(pot.mirror(w) + sd * z, w.signum()))
        .collect()
}

/// Draws for one simulated data set: the dual change's standard normals and the noise of both
/// sessions, from one named generator.
struct Draws {
    z: Vec<f64>,
    rng_state: u64,
}

impl Draws {
    fn new(n: usize, seed: u64, name: &str) -> Self {
        let mut rng = crate::rng::named(seed, name);
        Self {
            z: (0..n).map(|_| rng.sample(StandardNormal)).collect(),
            rng_state: rng.random(),
        }
    }
    /// The observed (noisy) sessions of a data set with dual change `sd·z` under `pot`.
    fn observe(
        &self,
        w0: &[f64],
        sd: f64,
        pot: Potential,
        noise: MeasurementNoise,
    ) -> (Vec<f64>, Vec<f64>) {
        let w1 = after(w0, &self.z, sd, pot);
        let mut rng = crate::rng::named(self.rng_state, "noise-aware/observe");
        (noise.observe(w0, &mut rng), noise.observe(&w1, &mut rng))
    }
}

/// The sd of the observed dual change of a simulated data set (NaN when it cannot be scored).
fn simulated_sd(d: &Draws, w0: &[f64], sd: f64, pot: Potential, noise: MeasurementNoise) -> f64 {
    let (a, b) = d.observe(w0, sd, pot, noise);
    score(a, b, pot).map_or(f64::NAN, |(_, s)| s.sd)
}

/// (s, noise share): the sd s of a zero-mean dual change under `pot` whose simulated *observed*
/// dual change has the data's sd `sd_obs` (common random numbers, bisection on s), and the
/// share of that variance the noise alone gives.
pub fn fit_dual_change(
    w0: &[f64],
    sd_obs: f64,
    pot: Potential,
    noise: MeasurementNoise,
    seed: u64,
) -> (f64, f64) {
    let d = Draws::new(w0.len(), seed, &format!("noise-aware/fit/{}", pot.label()));
    let observed_sd = |s: f64| simulated_sd(&d, w0, s, pot, noise);
    let noise_only = observed_sd(0.0);
    let share = if noise.is_zero() || !noise_only.is_finite() {
        0.0
    } else {
        (noise_only * noise_only / (sd_obs * sd_obs)).min(1.0)
    };
    if noise_only >= sd_obs {
        return (0.0, share);
    }
    let (mut lo, mut hi) = (0.0, sd_obs);
    while observed_sd(hi) < sd_obs && hi < 1e6 * sd_obs {
        hi *= 2.0;
    }
    for _ in 0..40 {
        let mid = 0.5 * (lo + hi);
        let s = observed_sd(mid);
        if s.is_finite() && s < sd_obs {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (0.5 * (lo + hi), share)
}

/// ΔCDF of `reps` data sets simulated under `pot` with dual change N(0, s²), each observed
/// through the noise (data sets that cannot be scored are left out).
pub fn null_draws(
    w0: &[f64],
    sd: f64,
    pot: Potential,
    noise: MeasurementNoise,
    reps: usize,
    seed: u64,
) -> Vec<f64> {
    (0..reps)
        .into_par_iter()
        .filter_map(|r| {
            let d = Draws::new(
                w0.len(),
                seed,
                &format!("noise-aware/null/{}/{r}", pot.label()),
            );
            let (a, b) = d.observe(w0, sd, pot, noise);
            score(a, b, pot).map(|s| s.0)
        })
        .collect()
}

/// The q quantile of `v` (sorted in place; linear interpolation).
pub fn quantile(v: &mut [f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let x = q * (v.len() - 1) as f64;
    let (i, f) = (x.floor() as usize, x.fract());
    v[i] + f * (v[(i + 1).min(v.len() - 1)] - v[i])
}

/// Runs the noise-aware test on paired weights (see the module documentation); `progress` is
/// called after each candidate.
pub fn test(
    w0: &[f64],
    w1: &[f64],
    pots: &[Potential],
    opts: &NoiseAwareOptions,
    progress: &dyn Fn(),
) -> NoiseAwareReport {
    let true_w0 = opts.noise.deconvolve(w0);
    let candidates: Vec<CandidateNull> = pots
        .iter()
        .map(|&pot| {
            let label = pot.label();
            let Some((obs, stats)) = score(w0.to_vec(), w1.to_vec(), pot) else {
                return CandidateNull {
                    potential: pot,
                    label,
                    delta_cdf: None,
                    null_median: f64::NAN,
                    null_low: f64::NAN,
                    null_high: f64::NAN,
                    p_value: f64::NAN,
                    rejected: false,
                    noise_share: f64::NAN,
                    fitted_sd: f64::NAN,
                    excluded: Some("fewer than 3 usable pairs, or no change".into()),
                };
            };
            let (sd, share) = fit_dual_change(&true_w0, stats.sd, pot, opts.noise, opts.seed);
            let mut null = null_draws(&true_w0, sd, pot, opts.noise, opts.reps, opts.seed);
            let above = null.iter().filter(|v| **v >= obs).count();
            let below = null.iter().filter(|v| **v <= obs).count();
            let tail = |k: usize| (1 + k) as f64 / (1 + null.len()) as f64;
            let p_value = (2.0 * tail(above.min(below))).min(1.0);
            progress();
            CandidateNull {
                potential: pot,
                label,
                delta_cdf: Some(obs),
                null_median: quantile(&mut null, 0.5),
                null_low: quantile(&mut null, opts.alpha / 2.0),
                null_high: quantile(&mut null, 1.0 - opts.alpha / 2.0),
                p_value,
                rejected: p_value < opts.alpha,
                noise_share: share,
                fitted_sd: sd,
                excluded: None,
            }
        })
        .collect();
    let scored: Vec<&CandidateNull> = candidates
        .iter()
        .filter(|c| c.delta_cdf.is_some())
        .collect();
    let not_rejected: Vec<String> = scored
        .iter()
        .filter(|c| !c.rejected)
        .map(|c| c.label.clone())
        .collect();
    let mut verdict = vec![if not_rejected.len() == scored.len() {
        format!(
            "no candidate is rejected: with this measurement noise and {} pairs the data cannot \
             tell these {} geometries apart",
            w0.len(),
            scored.len()
        )
    } else if not_rejected.is_empty() {
        "every candidate is rejected: under none of them is the change a Gaussian dual change \
         seen through this noise"
            .to_string()
    } else {
        format!(
            "the data reject {} of {} candidates at α = {}; not rejected: {}",
            scored.len() - not_rejected.len(),
            scored.len(),
            opts.alpha,
            not_rejected.join(", ")
        )
    }];
    let swamped: Vec<&str> = scored
        .iter()
        .filter(|c| c.noise_share >= 1.0)
        .map(|c| c.label.as_str())
        .collect();
    if !swamped.is_empty() {
        verdict.push(format!(
            "under {} the assumed noise alone gives at least the observed dual-change variance: \
             for these candidates the noise level is too high for the data (their null has no \
             learning left)",
            swamped.join(", ")
        ));
    }
    if let Some(best) = scored.iter().min_by(|a, b| {
        a.delta_cdf
            .unwrap_or(f64::INFINITY)
            .total_cmp(&b.delta_cdf.unwrap_or(f64::INFINITY))
    }) && best.noise_share >= 0.5
    {
        verdict.push(format!(
            "measurement noise alone accounts for {:.0} % of the observed dual-change variance \
             under {}: the learning signal is small against the noise",
            100.0 * best.noise_share,
            best.label
        ));
    }
    NoiseAwareReport {
        options: *opts,
        n_pairs: w0.len(),
        candidates,
        not_rejected,
        verdict,
    }
}

/// The report as a markdown table with the verdict.
pub fn markdown(r: &NoiseAwareReport) -> String {
    let mut t = format!(
        "Noise-aware test (measurement noise {}, {} simulated data sets per candidate, α = {}):\n\n\
         | candidate | ΔCDF | null median | null {:.0} % range | p (two-sided) | noise share | verdict |\n\
         |---|---|---|---|---|---|---|\n",
        r.options.noise,
        r.options.reps,
        r.options.alpha,
        100.0 * (1.0 - r.options.alpha)
    );
    for c in &r.candidates {
        match c.delta_cdf {
            Some(d) => {
                t += &format!(
                    "| {} | {d:.4} | {:.4} | {:.4}–{:.4} | {:.3} | {:.2} | {} |\n",
                    c.label,
                    c.null_median,
                    c.null_low,
                    c.null_high,
                    c.p_value,
                    c.noise_share,
                    if c.rejected {
                        "rejected"
                    } else {
                        "not rejected"
                    }
                )
            }
            None => {
                t += &format!(
                    "| {} | — | — | — | — | — | excluded: {} |\n",
                    c.label,
                    c.excluded.clone().unwrap_or_default()
                )
            }
        }
    }
    for v in &r.verdict {
        t += &format!("\n{v}");
    }
    t + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Log-normal initial weights and a Gaussian dual change under `truth`, seen through `noise`.
    fn study(
        truth: Potential,
        n: usize,
        change: f64,
        noise: MeasurementNoise,
        seed: u64,
    ) -> (Vec<f64>, Vec<f64>) {
        let mut rng = crate::rng::named(seed, "noise-aware/test");
        let w0: Vec<f64> = (0..n)
            .map(|_| (rng.sample::<f64, _>(StandardNormal) * 0.7 - 1.0).exp())
            .collect();
        let z: Vec<f64> = (0..n).map(|_| rng.sample(StandardNormal)).collect();
        let w1 = after(&w0, &z, change, truth);
        (noise.observe(&w0, &mut rng), noise.observe(&w1, &mut rng))
    }

    /// Known geometry and known noise: the truth is not rejected, a wrong geometry is when the
    /// noise is small, and with noise far above the change nothing is rejected.
    #[test]
    fn keeps_the_truth_and_rejects_a_wrong_geometry() {
        let pots = [Potential::NegEntropy, Potential::Euclidean];
        let small = MeasurementNoise {
            add: 0.002,
            mult: 0.05,
        };
        let opts = NoiseAwareOptions {
            noise: small,
            reps: 100,
            alpha: 0.05,
            seed: 0,
        };
        let (mut kept, mut rejected) = (0, 0);
        for seed in 0..6 {
            let (a, b) = study(Potential::NegEntropy, 2000, 0.3, small, seed);
            let r = test(&a, &b, &pots, &opts, &|| {});
            kept += !r.candidates[0].rejected as usize;
            rejected += r.candidates[1].rejected as usize;
        }
        assert!(kept >= 5, "NE kept in {kept} of 6");
        assert!(rejected == 6, "p2 rejected in {rejected} of 6");
        let loud = MeasurementNoise {
            add: 0.0,
            mult: 1.0,
        };
        let (a, b) = study(Potential::NegEntropy, 300, 0.05, loud, 9);
        let r = test(
            &a,
            &b,
            &pots,
            &NoiseAwareOptions {
                noise: loud,
                ..opts
            },
            &|| {},
        );
        assert!(
            r.verdict.iter().any(|v| v.contains("noise alone accounts")),
            "{:?}",
            r.verdict
        );
    }
}

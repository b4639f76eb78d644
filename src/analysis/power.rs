//! `geoplast power`: how many synapses, at what measurement noise, does a study need to tell
//! the true geometry of plasticity from the alternatives?
//!
//! For each noise level and synapse count N, whole studies are simulated under the truth
//! (initial weights from the design, a Gaussian dual change of the given sd under the true
//! potential, both sessions observed through the noise) and scored with the noise-aware test
//! ([`super::noise_aware`]). A candidate is rejected when its ΔCDF lies outside its null's central
//! 1 − α range. To keep a design under a minute, each candidate's null is fitted once per
//! (noise, N) on a pilot study of the design (at least 10⁴ synapses) rather than refitted on every
//! simulated study, as the test on real data does.

use super::noise::MeasurementNoise;
use super::noise_aware::{fit_dual_change, null_draws, quantile, score};
use crate::geometry::{MirrorMap, Potential};
use rand::{Rng, RngExt};
use rand_distr::StandardNormal;
use rayon::prelude::*;
use serde::Serialize;

/// Where the initial weights come from.
#[derive(Clone, Debug, Serialize)]
pub enum InitDist {
    /// ln w ~ N(μ, σ²).
    LogNormal { mu: f64, sigma: f64 },
    /// Resampled (with replacement) from measured positive weights.
    Empirical(Vec<f64>),
}

impl InitDist {
    fn sample(&self, n: usize, rng: &mut impl Rng) -> Vec<f64> {
        match self {
            InitDist::LogNormal { mu, sigma } => (0..n)
                .map(|_| (mu + sigma * rng.sample::<f64, _>(StandardNormal)).exp())
                .collect(),
            InitDist::Empirical(w) => (0..n).map(|_| w[rng.random_range(0..w.len())]).collect(),
        }
    }
}

/// A study design.
#[derive(Clone, Debug, Serialize)]
pub struct Design {
    pub truth: Potential,
    pub alternatives: Vec<Potential>,
    pub init: InitDist,
    /// sd of the learning-induced dual change under the truth.
    pub change: f64,
    pub noise: Vec<MeasurementNoise>,
    pub synapses: Vec<usize>,
    /// Simulated studies per point, and null data sets per candidate.
    pub reps: usize,
    pub null_reps: usize,
    pub alpha: f64,
    /// The power the one-line answers ask for.
    pub target: f64,
    pub seed: u64,
}

impl Design {
    /// Checks every setting before work starts; the sentence names the option.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.change > 0.0 && self.change.is_finite()) {
            return Err(format!(
                "--change must be a standard deviation > 0 (got {})",
                self.change
            ));
        }
        if self.synapses.is_empty()
            || self
                .synapses
                .iter()
                .any(|&n| !(10..=10_000_000).contains(&n))
        {
            return Err("--synapses must list counts between 10 and 10,000,000".into());
        }
        if self.noise.is_empty() {
            return Err("give at least one --noise level (add=0,mult=0 for none)".into());
        }
        if self.reps < 10 || self.null_reps < 10 {
            return Err("--reps and --null-reps must be at least 10".into());
        }
        if !(self.alpha > 0.0 && self.alpha < 0.5) {
            return Err(format!("--alpha must be in (0, 0.5) (got {})", self.alpha));
        }
        if !(self.target > 0.0 && self.target < 1.0) {
            return Err(format!("--power must be in (0, 1) (got {})", self.target));
        }
        if self.alternatives.is_empty() || self.alternatives.contains(&self.truth) {
            return Err(
                "--alternatives must list at least one potential other than --truth".into(),
            );
        }
        if let InitDist::LogNormal { mu, sigma } = self.init
            && !(mu.is_finite() && sigma > 0.0 && sigma < 10.0 && mu.abs() < 300.0)
        {
            return Err(format!(
                "--init lognormal:MU,SIGMA needs a finite MU within ±300 and 0 < SIGMA < 10 (got {mu}, {sigma})"
            ));
        }
        if let InitDist::Empirical(w) = &self.init
            && w.len() < 10
        {
            return Err("--init-from needs at least 10 positive weights".into());
        }
        Ok(())
    }
}

/// One (noise level, synapse count) point.
#[derive(Clone, Debug, Serialize)]
pub struct Point {
    pub noise: MeasurementNoise,
    pub synapses: usize,
    /// P(the truth is not rejected).
    pub truth_kept: f64,
    /// Per alternative: P(rejected) and P(rejected while the truth is kept).
    pub rejected: Vec<f64>,
    pub separated: Vec<f64>,
}

/// The whole answer.
#[derive(Clone, Debug, Serialize)]
pub struct PowerReport {
    pub design: Design,
    pub points: Vec<Point>,
    /// One sentence per noise level and alternative.
    pub answers: Vec<String>,
    pub seconds: f64,
}

/// Observed sessions of one simulated study of `n` synapses under the truth.
fn study(d: &Design, noise: MeasurementNoise, n: usize, name: &str) -> (Vec<f64>, Vec<f64>) {
    let mut rng = crate::rng::named(d.seed, name);
    let w0 = d.init.sample(n, &mut rng);
    let w1: Vec<f64> = w0
        .iter()
        .map(|&w| {
            let z: f64 = rng.sample(StandardNormal);
            d.truth
                .inverse(d.truth.mirror(w) + d.change * z, w.signum())
        })
        .collect();
    (noise.observe(&w0, &mut rng), noise.observe(&w1, &mut rng))
}

/// Each candidate's null range (α/2 and 1 − α/2 quantiles) at this noise level and count.
fn bands(d: &Design, cands: &[Potential], noise: MeasurementNoise, n: usize) -> Vec<(f64, f64)> {
    let tag = format!("{noise}/{n}");
    let (p0, p1) = study(d, noise, n.max(10_000), &format!("power/pilot/{tag}"));
    let (w0, _) = study(d, noise, n, &format!("power/null-w0/{tag}"));
    cands
        .iter()
        .map(|&c| match score(p0.clone(), p1.clone(), c) {
            Some((_, s)) => {
                let (p0, w0) = (noise.deconvolve(&p0), noise.deconvolve(&w0));
                let (sd, _) = fit_dual_change(&p0, s.sd, c, noise, d.seed);
                let mut null = null_draws(&w0, sd, c, noise, d.null_reps, d.seed);
                (
                    quantile(&mut null, d.alpha / 2.0),
                    quantile(&mut null, 1.0 - d.alpha / 2.0),
                )
            }
            None => (f64::NAN, f64::NAN),
        })
        .collect()
}

/// Runs the design; `progress` is called after each (noise, N) point.
pub fn run(d: &Design, progress: &(dyn Fn() + Sync)) -> PowerReport {
    let start = std::time::Instant::now();
    let cands: Vec<Potential> = std::iter::once(d.truth)
        .chain(d.alternatives.iter().copied())
        .collect();
    let mut points = Vec::new();
    for &noise in &d.noise {
        for &n in &d.synapses {
            let band = bands(d, &cands, noise, n);
            // Per study: which candidates are rejected (unscorable counts as rejected).
            let rejections: Vec<Vec<bool>> = (0..d.reps)
                .into_par_iter()
                .map(|r| {
                    let (a, b) = study(d, noise, n, &format!("power/study/{noise}/{n}/{r}"));
                    cands
                        .iter()
                        .zip(&band)
                        .map(|(&c, &(lo, hi))| {
                            score(a.clone(), b.clone(), c)
                                .is_none_or(|(v, _)| !(lo <= v && v <= hi))
                        })
                        .collect()
                })
                .collect();
            let frac = |f: &dyn Fn(&Vec<bool>) -> bool| {
                rejections.iter().filter(|r| f(r)).count() as f64 / d.reps as f64
            };
            points.push(Point {
                noise,
                synapses: n,
                truth_kept: frac(&|r| !r[0]),
                rejected: (1..cands.len()).map(|k| frac(&|r| r[k])).collect(),
                separated: (1..cands.len()).map(|k| frac(&|r| !r[0] && r[k])).collect(),
            });
            progress();
        }
    }
    let answers = answers(d, &points);
    PowerReport {
        design: d.clone(),
        points,
        answers,
        seconds: start.elapsed().as_secs_f64(),
    }
}

fn answers(d: &Design, points: &[Point]) -> Vec<String> {
    let mut out = Vec::new();
    // The truth should be kept in about 1 − α of the studies; far less means the null is off at
    // that noise (its deconvolution and fit are approximations), and the power there is inflated.
    let off: Vec<String> = points
        .iter()
        .filter(|p| p.truth_kept < 1.0 - 3.0 * d.alpha)
        .map(|p| {
            format!(
                "{} synapses at noise {} ({:.0} %)",
                p.synapses,
                p.noise,
                100.0 * p.truth_kept
            )
        })
        .collect();
    if !off.is_empty() {
        out.push(format!(
            "caution: the truth is rejected far more often than α = {} at {}: the noise-aware null \
             is approximate there, and the power at those points is inflated",
            d.alpha,
            off.join(", ")
        ));
    }
    for &noise in &d.noise {
        for (k, alt) in d.alternatives.iter().enumerate() {
            let first = points
                .iter()
                .filter(|p| p.noise == noise)
                .find(|p| p.separated[k] >= d.target);
            out.push(match first {
                Some(p) => format!(
                    "≥ {} synapses at measurement noise {noise} separate {} from {} with {:.0} % power \
                     ({:.0} % measured: truth kept and {} rejected)",
                    p.synapses,
                    d.truth.label(),
                    alt.label(),
                    100.0 * d.target,
                    100.0 * p.separated[k],
                    alt.label()
                ),
                None => format!(
                    "no synapse count up to {} separates {} from {} with {:.0} % power at \
                     measurement noise {noise}",
                    d.synapses.iter().max().unwrap_or(&0),
                    d.truth.label(),
                    alt.label(),
                    100.0 * d.target
                ),
            });
        }
    }
    out
}

/// The table (one row per point) and the answers, as markdown.
pub fn markdown(r: &PowerReport) -> String {
    let alts: Vec<String> = r.design.alternatives.iter().map(|a| a.label()).collect();
    let mut t = format!(
        "Power of the noise-aware geometry test: truth {}, dual-change sd {}, α = {}, {} studies per \
         point, {} null data sets per candidate.\n\n| noise | synapses | truth kept |",
        r.design.truth.label(),
        r.design.change,
        r.design.alpha,
        r.design.reps,
        r.design.null_reps
    );
    for a in &alts {
        t += &format!(" {a} rejected | separated from {a} |");
    }
    t += &format!("\n|---|---|---|{}\n", "---|---|".repeat(alts.len()));
    for p in &r.points {
        t += &format!("| {} | {} | {:.2} |", p.noise, p.synapses, p.truth_kept);
        for k in 0..alts.len() {
            t += &format!(" {:.2} | {:.2} |", p.rejected[k], p.separated[k]);
        }
        t += "\n";
    }
    t += "\n";
    for a in &r.answers {
        t += &format!("* {a}\n");
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn design() -> Design {
        Design {
            truth: Potential::NegEntropy,
            alternatives: vec![Potential::Euclidean],
            init: InitDist::LogNormal {
                mu: -1.0,
                sigma: 0.7,
            },
            change: 0.3,
            noise: vec![MeasurementNoise {
                add: 0.0,
                mult: 0.05,
            }],
            synapses: vec![30, 3000],
            reps: 40,
            null_reps: 40,
            alpha: 0.05,
            target: 0.8,
            seed: 0,
        }
    }

    /// Power grows with the synapse count; the truth is kept at about 1 − α; the answer names
    /// the count that reaches the target.
    #[test]
    fn power_grows_with_synapses() {
        let r = run(&design(), &|| {});
        let (small, large) = (&r.points[0], &r.points[1]);
        assert!(large.separated[0] > small.separated[0], "{:?}", r.points);
        assert!(large.separated[0] >= 0.8, "{:?}", r.points);
        assert!(large.truth_kept >= 0.8, "{:?}", r.points);
        assert!(
            r.answers[0].starts_with("≥ 3000 synapses"),
            "{}",
            r.answers[0]
        );
    }

    #[test]
    fn bad_designs_are_named() {
        let mut d = design();
        d.alternatives = vec![Potential::NegEntropy];
        assert!(d.validate().unwrap_err().contains("--alternatives"));
        let mut d = design();
        d.change = f64::NAN;
        assert!(d.validate().unwrap_err().contains("--change"));
        let mut d = design();
        d.synapses = vec![5];
        assert!(d.validate().unwrap_err().contains("--synapses"));
    }
}

//! Measurement noise of imaged synapses: `w_obs = w·exp(ε_mult) + ε_add`, with
//! `ε_mult ~ N(0, σ_mult²)` and `ε_add ~ N(0, σ_add²)` drawn independently per synapse and
//! session (either term may be 0). The parameters come from the user or are estimated from two
//! sessions with no learning in between (two images minutes apart).

use rand::{Rng, RngExt};
use rand_distr::StandardNormal;
use serde::Serialize;

/// The noise model's two standard deviations (σ_add in the units of the weights).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct MeasurementNoise {
    pub add: f64,
    pub mult: f64,
}

impl std::fmt::Display for MeasurementNoise {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Four decimals, trailing zeros dropped: `add=0,mult=0.1`.
        let short = |x: f64| {
            let s = format!("{x:.4}");
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        };
        write!(f, "add={},mult={}", short(self.add), short(self.mult))
    }
}

impl std::str::FromStr for MeasurementNoise {
    type Err = String;
    /// `add=0.01,mult=0.1` (either may be left out, meaning 0).
    fn from_str(s: &str) -> Result<Self, String> {
        let mut n = Self::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| format!("measurement noise {s:?}: write add=SD,mult=SD"))?;
            let v: f64 = v
                .trim()
                .parse()
                .map_err(|_| format!("measurement noise {s:?}: {v:?} is not a number"))?;
            if !(0.0..=1e150).contains(&v) {
                return Err(format!(
                    "measurement noise {s:?}: {k} must be a standard deviation >= 0 (got {v})"
                ));
            }
            match k.trim() {
                "add" => n.add = v,
                "mult" if v <= 5.0 => n.mult = v,
                "mult" => {
                    return Err(format!(
                        "measurement noise {s:?}: mult is the sd of ln(w_obs/w) and must be <= 5 \
                         (got {v})"
                    ));
                }
                other => {
                    return Err(format!(
                        "measurement noise {s:?}: unknown term {other:?}; use add and mult"
                    ));
                }
            }
        }
        Ok(n)
    }
}

impl MeasurementNoise {
    pub fn is_zero(&self) -> bool {
        self.add == 0.0 && self.mult == 0.0
    }

    /// One noisy observation of each weight of `w`.
    pub fn observe(&self, w: &[f64], rng: &mut impl Rng) -> Vec<f64> {
        w.iter()
            .map(|&x| {
                let m: f64 = rng.sample(StandardNormal);
                let a: f64 = rng.sample(StandardNormal);
                x * (self.mult * m).exp() + self.add * a
            })
            .collect()
    }

    /// The observed weights with the noise's spread taken out, by moment-matching shrinkage:
    /// the additive part shrinks w towards its mean so that its variance loses σ_add², the
    /// multiplicative part shrinks ln|w| towards its mean so that its variance loses σ_mult².
    /// Ranks and signs are kept. (Simulating from the observed weights themselves would count
    /// their noise twice, and for heteroscedastic changes that shifts the statistic's null.)
    pub fn deconvolve(&self, w: &[f64]) -> Vec<f64> {
        let shrink = |v: &[f64], noise_var: f64| -> (f64, f64) {
            let n = v.len().max(1) as f64;
            let m = v.iter().sum::<f64>() / n;
            let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n;
            let f = if var > 0.0 {
                (1.0 - noise_var / var).max(0.0).sqrt()
            } else {
                1.0
            };
            (m, f)
        };
        let (m, f) = shrink(w, self.add * self.add);
        let mut out: Vec<f64> = w.iter().map(|x| m + f * (x - m)).collect();
        let ln: Vec<f64> = out
            .iter()
            .filter(|x| **x != 0.0)
            .map(|x| x.abs().ln())
            .collect();
        let (lm, lf) = shrink(&ln, self.mult * self.mult);
        for x in out.iter_mut().filter(|x| **x != 0.0) {
            *x = x.signum() * (lm + lf * (x.abs().ln() - lm)).exp();
        }
        out
    }

    /// Maximum-likelihood estimate from two sessions `x`, `y` of the same synapses with no
    /// learning in between. Given the true weight w, `d = x − y` has mean 0 and variance
    /// `2σ_add² + w²·2e^{σ²}(e^{σ²} − 1)` (σ = σ_mult); w is replaced by `(x + y)/2`, which is
    /// accurate while the noise is small against the weights. The likelihood of the d is
    /// maximised over the share t of the variance that is additive at the typical weight (a grid
    /// of 2,001 values, then the scale in closed form), so no optimiser can stop early.
    pub fn estimate(x: &[f64], y: &[f64]) -> Result<Self, String> {
        let n = x.len();
        if n < 10 || y.len() != n {
            return Err(format!(
                "estimating measurement noise needs at least 10 synapses seen in both sessions \
                 (got {n})"
            ));
        }
        let d2: Vec<f64> = x.iter().zip(y).map(|(a, b)| (a - b) * (a - b)).collect();
        let m2: Vec<f64> = x
            .iter()
            .zip(y)
            .map(|(a, b)| (0.5 * (a + b)).powi(2))
            .collect();
        let typical = m2.iter().sum::<f64>() / n as f64;
        if d2.iter().all(|v| *v == 0.0) {
            return Ok(Self::default());
        }
        // Variance g_i(t)·c with g_i(t) = t + (1 − t)·w̄_i²/typical; for fixed t the ML c is the
        // mean of d_i²/g_i, and the profile log-likelihood is −½ Σ (ln c g_i + 1).
        let profile = |t: f64| -> (f64, f64) {
            let g = |i: usize| t + (1.0 - t) * m2[i] / typical;
            let c = (0..n).map(|i| d2[i] / g(i)).sum::<f64>() / n as f64;
            let ll = -0.5 * (0..n).map(|i| (c * g(i)).ln() + 1.0).sum::<f64>();
            (ll, c)
        };
        let (t, c) = (0..=2000)
            .map(|k| k as f64 / 2000.0)
            .map(|t| (t, profile(t)))
            .filter(|(_, (ll, c))| ll.is_finite() && *c > 0.0)
            .max_by(|a, b| a.1.0.total_cmp(&b.1.0))
            .map(|(t, (_, c))| (t, c))
            .ok_or_else(|| {
                "the two sessions give no finite likelihood (a weight of exactly 0 in both \
                 sessions with no additive noise?)"
                    .to_string()
            })?;
        let add_var = c * t; // 2σ_add²
        let mult_var = c * (1.0 - t) / typical; // 2e^{s}(e^{s} − 1), s = σ_mult²
        let s = ((1.0 + (1.0 + 2.0 * mult_var).sqrt()) / 2.0).ln();
        Ok(Self {
            add: (add_var / 2.0).sqrt(),
            mult: s.max(0.0).sqrt(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lognormal_weights(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = crate::rng::named(seed, "noise/w");
        (0..n)
            .map(|_| (rng.sample::<f64, _>(StandardNormal) * 0.8 - 1.0).exp())
            .collect()
    }

    /// Deconvolution restores the spread of the true weights (log-normal, σ_ln = 0.8).
    #[test]
    fn deconvolution_restores_the_spread() {
        let w = lognormal_weights(20_000, 3);
        let noise = MeasurementNoise {
            add: 0.0,
            mult: 0.5,
        };
        let obs = noise.observe(&w, &mut crate::rng::named(4, "noise/obs"));
        let sd_ln = |v: &[f64]| {
            let l: Vec<f64> = v.iter().map(|x| x.ln()).collect();
            let m = l.iter().sum::<f64>() / l.len() as f64;
            (l.iter().map(|x| (x - m).powi(2)).sum::<f64>() / l.len() as f64).sqrt()
        };
        assert!((sd_ln(&obs) - (0.64f64 + 0.25).sqrt()).abs() < 0.02);
        assert!((sd_ln(&noise.deconvolve(&obs)) - 0.8).abs() < 0.02);
    }

    #[test]
    fn parses_and_refuses() {
        let n: MeasurementNoise = "add=0.01, mult=0.1".parse().unwrap();
        assert_eq!((n.add, n.mult), (0.01, 0.1));
        let n: MeasurementNoise = "mult=0.2".parse().unwrap();
        assert_eq!((n.add, n.mult), (0.0, 0.2));
        for bad in ["add=-1", "mult=nan", "mult=9", "foo=1", "add", "add=x"] {
            assert!(bad.parse::<MeasurementNoise>().is_err(), "{bad}");
        }
    }

    /// Known noise is recovered from two simulated sessions of 5,000 synapses.
    #[test]
    fn estimates_known_noise() {
        let w = lognormal_weights(5000, 1);
        for (add, mult) in [(0.0, 0.1), (0.02, 0.0), (0.02, 0.1), (0.0, 0.0)] {
            let truth = MeasurementNoise { add, mult };
            let mut rng = crate::rng::named(2, "noise/obs");
            let (x, y) = (truth.observe(&w, &mut rng), truth.observe(&w, &mut rng));
            let e = MeasurementNoise::estimate(&x, &y).unwrap();
            assert!(
                (e.add - add).abs() < 0.1 * add + 2e-3 && (e.mult - mult).abs() < 0.1 * mult + 0.01,
                "truth {truth:?}, estimate {e:?}"
            );
        }
    }
}

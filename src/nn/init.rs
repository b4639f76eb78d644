//! Weight initialisers (science.md §2.6): `std = gain/√fan`, with fan-in for linear layers and
//! fan-out = H for RNN cells.

use crate::kernels::Real;
use rand::{Rng, RngExt};
use rand_distr::{Distribution, Exp, LogNormal, Normal, Uniform};
use serde::{Deserialize, Serialize};

/// Which fan sets the scale.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fan {
    #[default]
    In,
    Out,
}

/// A weight distribution.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Init {
    /// N(0, std²).
    Normal {
        #[serde(default = "one")]
        gain: f64,
        #[serde(default)]
        fan: Fan,
    },
    /// U(−√3·std, √3·std) (PyTorch's default is gain 1/√3).
    Uniform {
        #[serde(default = "one")]
        gain: f64,
        #[serde(default)]
        fan: Fan,
    },
    /// Every weight equal to `value`.
    Constant { value: f64 },
    /// Exponential with mean `scale` (non-negative magnitudes of Dale's-law layers).
    Exponential { scale: f64 },
    /// |w| log-normal with arithmetic mean/sd ratio ρ and E[w²] = std², times a Rademacher sign.
    SignedLogNormal {
        #[serde(default = "ratio")]
        ratio: f64,
        #[serde(default = "one")]
        gain: f64,
        #[serde(default)]
        fan: Fan,
    },
}

fn one() -> f64 {
    1.0
}
fn ratio() -> f64 {
    1.5
}

impl Default for Init {
    fn default() -> Self {
        Init::Uniform {
            gain: 1.0 / 3f64.sqrt(),
            fan: Fan::In,
        }
    }
}

/// (μ_ln, σ_ln) of the signed log-normal with ratio ρ and E[w²] = std².
pub fn signed_lognormal_params(std: f64, ratio: f64) -> (f64, f64) {
    let s = std / (1.0 + ratio * ratio).sqrt();
    let (m, v) = (ratio * s, s * s);
    (
        (m * m / (m * m + v).sqrt()).ln(),
        (1.0 + v / (m * m)).ln().sqrt(),
    )
}

impl Init {
    /// The same distribution with its scale set by `fan` (§2.6: an RNN cell's matrices use
    /// fan_out = H); distributions without a fan are unchanged.
    pub fn with_fan(self, fan: Fan) -> Self {
        match self {
            Init::Normal { gain, .. } => Init::Normal { gain, fan },
            Init::Uniform { gain, .. } => Init::Uniform { gain, fan },
            Init::SignedLogNormal { ratio, gain, .. } => Init::SignedLogNormal { ratio, gain, fan },
            other => other,
        }
    }

    /// Every parameter in a range where the distribution exists and its samples are finite
    /// 32-bit floats (a range check written `lo <= v && v <= hi` is also false for NaN), and a
    /// constant representable in f32. Gains beyond 1e30 overflow f32 weights; below 1e-30 the
    /// log-normal's moments underflow.
    pub fn validate(&self) -> Result<(), String> {
        let within = |what: &str, v: f64, lo: f64, hi: f64| {
            if lo <= v && v <= hi {
                Ok(())
            } else {
                Err(format!(
                    "init {what} must be a number in [{lo:e}, {hi:e}] (got {v})"
                ))
            }
        };
        let gain = |what: &str, v: f64| within(what, v, 1e-30, 1e30);
        match *self {
            Init::Normal { gain: g, .. } | Init::Uniform { gain: g, .. } => gain("gain", g),
            Init::Exponential { scale } => gain("scale", scale),
            Init::SignedLogNormal { ratio, gain: g, .. } => {
                within("ratio", ratio, 1e-6, 1e6).and(gain("gain", g))
            }
            Init::Constant { value } if value.is_nan() || value.abs() > f32::MAX as f64 => {
                Err(format!(
                    "init value must be finite in 32-bit floats, |value| <= {:e} (got {value})",
                    f32::MAX
                ))
            }
            Init::Constant { .. } => Ok(()),
        }
    }

    /// Draws a `rows × cols` (fan-out × fan-in) matrix.
    pub fn sample<T: Real>(&self, rows: usize, cols: usize, rng: &mut impl Rng) -> Vec<T> {
        let n = rows * cols;
        let std_of = |gain: f64, fan: Fan| {
            gain / ((if fan == Fan::In { cols } else { rows }).max(1) as f64).sqrt()
        };
        match *self {
            Init::Normal { gain, fan } => {
                let d = Normal::new(0.0, std_of(gain, fan)).expect("positive std");
                (0..n).map(|_| T::c(d.sample(rng))).collect()
            }
            Init::Uniform { gain, fan } => {
                let a = 3f64.sqrt() * std_of(gain, fan);
                let d = Uniform::new_inclusive(-a, a).expect("valid range");
                (0..n).map(|_| T::c(d.sample(rng))).collect()
            }
            Init::Constant { value } => vec![T::c(value); n],
            Init::Exponential { scale } => {
                let d = Exp::new(1.0 / scale).expect("positive scale");
                (0..n).map(|_| T::c(d.sample(rng))).collect()
            }
            Init::SignedLogNormal { ratio, gain, fan } => {
                let (mu, sigma) = signed_lognormal_params(std_of(gain, fan), ratio);
                let d = LogNormal::new(mu, sigma).expect("valid log-normal");
                (0..n)
                    .map(|_| {
                        let sign: f64 = if rng.random::<bool>() { 1.0 } else { -1.0 };
                        T::c(sign * Distribution::<f64>::sample(&d, rng))
                    })
                    .collect()
            }
        }
    }
}

/// Uniform samples in [lo, hi).
pub fn uniform<T: Real>(n: usize, lo: f64, hi: f64, rng: &mut impl Rng) -> Vec<T> {
    if hi <= lo {
        return vec![T::c(lo); n];
    }
    let d = Uniform::new(lo, hi).expect("valid range");
    (0..n).map(|_| T::c(d.sample(rng))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_lognormal_matches_the_documented_example() {
        // science.md §2.6: H = 2500 gives std 0.02, m = 0.016641 and μ_ln = −4.2797; σ_ln = 0.6064.
        let (mu, sigma) = signed_lognormal_params(0.02, 1.5);
        assert!((mu + 4.2797).abs() < 1e-4, "{mu}");
        assert!((sigma - 0.6064).abs() < 1e-4, "{sigma}");
        let w: Vec<f64> = Init::SignedLogNormal {
            ratio: 1.5,
            gain: 1.0,
            fan: Fan::In,
        }
        .sample(400, 2500, &mut crate::rng::named(0, "t"));
        let ms = w.iter().map(|x| x * x).sum::<f64>() / w.len() as f64;
        assert!((ms.sqrt() - 0.02).abs() < 2e-4, "rms {}", ms.sqrt());
        let neg = w.iter().filter(|x| **x < 0.0).count() as f64 / w.len() as f64;
        assert!((neg - 0.5).abs() < 0.01);
    }

    #[test]
    fn scales_follow_the_fan() {
        let mut rng = crate::rng::named(0, "t");
        let w: Vec<f64> = Init::Normal {
            gain: 1.0,
            fan: Fan::In,
        }
        .sample(200, 400, &mut rng);
        let sd = (w.iter().map(|x| x * x).sum::<f64>() / w.len() as f64).sqrt();
        assert!((sd - 0.05).abs() < 1e-3);
        let u: Vec<f64> = Init::Uniform {
            gain: 1.0,
            fan: Fan::Out,
        }
        .sample(100, 400, &mut rng);
        assert!(u.iter().all(|x| x.abs() <= 3f64.sqrt() * 0.1 + 1e-12));
        let e: Vec<f64> = Init::Exponential { scale: 0.3 }.sample(100, 100, &mut rng);
        let mean = e.iter().sum::<f64>() / e.len() as f64;
        assert!(e.iter().all(|x| *x >= 0.0) && (mean - 0.3).abs() < 0.01);
    }
}

//! The geometry of plasticity: potentials φ(w) = Σᵢ f(wᵢ) and their mirror maps ψ = f'.
//!
//! Training uses a potential through [`Potential::step`] (a mirror-descent step in dual
//! coordinates, `w ← ψ⁻¹(ψ(w) − η·d)`); the geometry test uses the same potential through
//! [`MirrorMap::mirror`]. Each potential lives in its own file with its value, mirror map,
//! inverse, Hessian diagonal and Bregman divergence.

mod euclidean;
mod hypentropy;
mod negentropy;
mod pnorm;

pub use euclidean::Euclidean;
pub use hypentropy::Hypentropy;
pub use negentropy::NegEntropy;
pub use pnorm::PNorm;

use crate::kernels::Real;
use serde::{Deserialize, Serialize};

/// The per-coordinate functions of a separable potential, in f64.
pub trait MirrorMap {
    /// f(w).
    fn value(&self, w: f64) -> f64;
    /// ψ(w) = f'(w), the mirror map.
    fn mirror(&self, w: f64) -> f64;
    /// ψ⁻¹(u). `sign` is the sign of the weight before the step; only negative entropy needs it,
    /// because its mirror map is defined separately on each orthant.
    fn inverse(&self, u: f64, sign: f64) -> f64;
    /// f''(w), the Hessian diagonal; `1/f''(w)` is the synapse's effective learning rate.
    fn hessian(&self, w: f64) -> f64;
    /// D(w, w′) = f(w) − f(w′) − ψ(w′)(w − w′).
    fn bregman(&self, w: f64, w_prime: f64) -> f64 {
        self.value(w) - self.value(w_prime) - self.mirror(w_prime) * (w - w_prime)
    }
}

/// A potential, as a closed set so the optimiser can specialise its fused loops.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Potential {
    /// φ = ½‖w‖²: gradient descent.
    Euclidean,
    /// φ = Σ|w|ᵖ/p, p > 1.
    #[serde(rename = "pnorm")]
    PNorm { p: f64 },
    /// φ = Σ|w|ln|w|: exponentiated gradient (sign-preserving).
    #[serde(rename = "negentropy", alias = "neg_entropy")]
    NegEntropy,
    /// φ = Σ w·asinh(w/β) − √(w²+β²) (Ghai et al. 2020).
    Hypentropy { beta: f64 },
}

impl Potential {
    /// Checks parameters; the error names the field and the fix.
    pub fn validate(&self) -> Result<(), String> {
        match *self {
            Potential::PNorm { p } if !(p > 1.0 && p.is_finite()) => Err(format!(
                "p-norm potential needs p > 1 (got p = {p}); p = 2 is gradient descent, \
                 use negentropy for the p → 1 limit"
            )),
            Potential::Hypentropy { beta } if !(beta > 0.0 && beta.is_finite()) => {
                Err(format!("hypentropy needs beta > 0 (got beta = {beta})"))
            }
            _ => Ok(()),
        }
    }

    /// A short name used in tables and file names: `NE`, `p2.5`, `euclid`, `hyp(0.01)`.
    pub fn label(&self) -> String {
        match *self {
            Potential::Euclidean => "euclid".into(),
            Potential::PNorm { p } => format!("p{}", (p * 100.0).round() / 100.0),
            Potential::NegEntropy => "NE".into(),
            Potential::Hypentropy { beta } => format!("hyp({})", short(beta)),
        }
    }

    /// Whether a mirror step can never change a weight's sign.
    pub fn preserves_sign(&self) -> bool {
        matches!(self, Potential::NegEntropy)
    }

    /// Runs `f` with this potential's per-coordinate functions.
    fn with_map<R>(&self, f: impl FnOnce(&dyn MirrorMap) -> R) -> R {
        match *self {
            Potential::Euclidean => f(&Euclidean),
            Potential::PNorm { p } => f(&PNorm { p }),
            Potential::NegEntropy => f(&NegEntropy),
            Potential::Hypentropy { beta } => f(&Hypentropy { beta }),
        }
    }

    /// The mirror-descent step `w ← ψ⁻¹(ψ(w) − η·d)` for weight `w` with sign `s`, as used inside
    /// the fused optimiser loops. Euclidean and negative entropy take closed forms
    /// (`w − ηd` and `w·exp(−η·s·d)`); the others go through f64 mirror maps.
    #[inline(always)]
    pub fn step<T: Real>(&self, w: T, s: T, d: T, lr: T) -> T {
        match *self {
            Potential::Euclidean => w - lr * d,
            Potential::NegEntropy => w * (-(lr * s * d)).fast_exp(),
            Potential::PNorm { p } => {
                let m = PNorm { p };
                T::c(m.inverse(m.mirror(w.f64()) - (lr * d).f64(), s.f64()))
            }
            Potential::Hypentropy { beta } => {
                let m = Hypentropy { beta };
                T::c(m.inverse(m.mirror(w.f64()) - (lr * d).f64(), s.f64()))
            }
        }
    }
}

/// A number in at most 4 significant digits, without float noise (`11.2`, not `11.200000000000001`).
fn short(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return x.to_string();
    }
    let digits = (3 - x.abs().log10().floor() as i32).max(0) as usize;
    let s = format!("{x:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

impl MirrorMap for Potential {
    fn value(&self, w: f64) -> f64 {
        self.with_map(|m| m.value(w))
    }
    fn mirror(&self, w: f64) -> f64 {
        self.with_map(|m| m.mirror(w))
    }
    fn inverse(&self, u: f64, sign: f64) -> f64 {
        self.with_map(|m| m.inverse(u, sign))
    }
    fn hessian(&self, w: f64) -> f64 {
        self.with_map(|m| m.hessian(w))
    }
    fn bregman(&self, w: f64, w_prime: f64) -> f64 {
        self.with_map(|m| m.bregman(w, w_prime))
    }
}

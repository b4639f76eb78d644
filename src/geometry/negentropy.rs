//! Negative entropy f(w) = |w|·ln|w|: mirror descent with it is exponentiated gradient (EG).
//!
//! The mirror map ψ(w) = s·(ln|w| + 1) is defined separately on each orthant, so the inverse
//! takes the sign `s₀` of the weight before the step: ψ⁻¹(u) = s₀·exp(s₀·u − 1). The step is then
//! `w·exp(−η·s₀·d)`: a synapse never changes sign, and a zero stays zero (ψ(0) = −∞; the
//! optimiser uses the multiplicative form, which maps 0 to 0). The effective learning rate
//! 1/f''(w) = |w| is weight-proportional: multiplicative plasticity.
//!
//! The EG reference code writes the potential as |w|ln|w| − |w| (ψ = s·ln|w|); the two mirror
//! maps differ by a constant per orthant, so updates and same-sign dual differences agree.

use super::MirrorMap;
use crate::kernels::Real;

/// φ(w) = Σ|w|ln|w|.
#[derive(Clone, Copy, Debug, Default)]
pub struct NegEntropy;

impl NegEntropy {
    /// The unsigned-EG ablation (EG paper Fig S2), `w·exp(−η·d)`: without the sign, negative
    /// weights move the wrong way. Not a mirror step of any potential.
    #[inline(always)]
    pub fn unsigned_step<T: Real>(w: T, d: T, lr: T) -> T {
        w * (-(lr * d)).fast_exp()
    }
}

impl MirrorMap for NegEntropy {
    fn same_sign_only(&self) -> bool {
        true
    }

    fn value(&self, w: f64) -> f64 {
        let a = w.abs();
        if a == 0.0 { 0.0 } else { a * a.ln() }
    }
    /// ψ(0) is −∞ on the positive orthant and +∞ on the negative one: returns NaN for 0, which
    /// the analysis drops and counts.
    fn mirror(&self, w: f64) -> f64 {
        if w == 0.0 {
            f64::NAN
        } else {
            w.signum() * (w.abs().ln() + 1.0)
        }
    }
    fn inverse(&self, u: f64, sign: f64) -> f64 {
        if sign == 0.0 {
            0.0
        } else {
            sign * (sign * u - 1.0).exp()
        }
    }
    fn hessian(&self, w: f64) -> f64 {
        1.0 / w.abs()
    }
    /// Unnormalised KL for weights of the same sign; +∞ across signs (no step connects them).
    fn bregman(&self, w: f64, w_prime: f64) -> f64 {
        let (a, b) = (w.abs(), w_prime.abs());
        if w * w_prime < 0.0 || (b == 0.0 && a != 0.0) {
            return f64::INFINITY;
        }
        if a == 0.0 {
            return b;
        }
        a * (a / b).ln() - a + b
    }
    /// `s·(ln|w| + 1)`; for `w = 0` the value is meaningless and the caller masks it
    /// ([`MirrorMap::same_sign_only`]).
    #[inline(always)]
    fn mirror_cached(&self, w: f64, ln_abs: f64) -> f64 {
        super::sign(w) * (ln_abs + 1.0)
    }
    /// EG, `w·exp(−η·s·d)` with the vectorised `exp`: 0 stays 0 and no sign changes.
    #[inline(always)]
    fn step<T: Real>(&self, w: T, s: T, d: T, lr: T) -> T {
        w * (-(lr * s * d)).fast_exp()
    }
}

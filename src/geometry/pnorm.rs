//! p-norm potential f(w) = |w|ᵖ/p, p > 1. Weights can cross zero; the effective learning rate
//! |w|^(2−p)/(p−1) makes small weights stiff for p < 2 (close to EG) and fast for p > 2.

use super::MirrorMap;
use crate::kernels::exp::exp_f64;

/// φ(w) = Σ|w|ᵖ/p.
#[derive(Clone, Copy, Debug)]
pub struct PNorm {
    pub p: f64,
}

impl PNorm {
    /// ψ(w) = s·|w|^(p−1) from a precomputed `abs_pow = |w|^(p−1)` (the geometry test updates
    /// that power incrementally along a grid of p).
    #[inline(always)]
    pub fn mirror_from_power(w: f64, abs_pow: f64) -> f64 {
        super::sign(w) * abs_pow
    }
}

impl MirrorMap for PNorm {
    fn value(&self, w: f64) -> f64 {
        w.abs().powf(self.p) / self.p
    }
    fn mirror(&self, w: f64) -> f64 {
        w.signum() * w.abs().powf(self.p - 1.0) * (w != 0.0) as u8 as f64
    }
    fn inverse(&self, u: f64, _sign: f64) -> f64 {
        u.signum() * u.abs().powf(1.0 / (self.p - 1.0)) * (u != 0.0) as u8 as f64
    }
    fn hessian(&self, w: f64) -> f64 {
        (self.p - 1.0) * w.abs().powf(self.p - 2.0)
    }
    /// `s·|w|^(p−1) = s·exp((p−1)·ln|w|)` (0 for w = 0, where ln|w| = −∞).
    #[inline(always)]
    fn mirror_cached(&self, w: f64, ln_abs: f64) -> f64 {
        Self::mirror_from_power(w, exp_f64((self.p - 1.0) * ln_abs))
    }
}

//! Hypentropy f(w) = w·asinh(w/β) − √(w² + β²) (Ghai, Hazan & Singer 2020), a geoplast extension.
//! GD-like (rate ≈ β) for |w| ≪ β, EG-like (rate ≈ |w|) for |w| ≫ β; weights can change sign.

use super::MirrorMap;
use crate::kernels::log::asinh_f64;

/// φ(w) = Σ w·asinh(w/β) − √(w²+β²), β > 0.
#[derive(Clone, Copy, Debug)]
pub struct Hypentropy {
    pub beta: f64,
}

impl MirrorMap for Hypentropy {
    fn value(&self, w: f64) -> f64 {
        w * (w / self.beta).asinh() - (w * w + self.beta * self.beta).sqrt()
    }
    fn mirror(&self, w: f64) -> f64 {
        (w / self.beta).asinh()
    }
    fn inverse(&self, u: f64, _sign: f64) -> f64 {
        self.beta * u.sinh()
    }
    fn hessian(&self, w: f64) -> f64 {
        1.0 / (w * w + self.beta * self.beta).sqrt()
    }
    /// asinh(w/β) with the vectorisable `asinh`.
    #[inline(always)]
    fn mirror_cached(&self, w: f64, _ln_abs: f64) -> f64 {
        asinh_f64(w * (1.0 / self.beta))
    }
}

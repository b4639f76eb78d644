//! Euclidean potential f(w) = w²/2: mirror descent is plain gradient descent.

use super::MirrorMap;
use crate::kernels::Real;

/// φ(w) = ½‖w‖²; ψ is the identity.
#[derive(Clone, Copy, Debug, Default)]
pub struct Euclidean;

impl MirrorMap for Euclidean {
    fn value(&self, w: f64) -> f64 {
        0.5 * w * w
    }
    fn mirror(&self, w: f64) -> f64 {
        w
    }
    fn inverse(&self, u: f64, _sign: f64) -> f64 {
        u
    }
    fn hessian(&self, _w: f64) -> f64 {
        1.0
    }
    fn bregman(&self, w: f64, w_prime: f64) -> f64 {
        0.5 * (w - w_prime) * (w - w_prime)
    }
    #[inline(always)]
    fn mirror_cached(&self, w: f64, _ln_abs: f64) -> f64 {
        w
    }
    /// Gradient descent, `w − η·d`.
    #[inline(always)]
    fn step<T: Real>(&self, w: T, _s: T, d: T, lr: T) -> T {
        w - lr * d
    }
}

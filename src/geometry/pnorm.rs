//! p-norm potential f(w) = |w|ᵖ/p, p > 1. Weights can cross zero; the effective learning rate
//! |w|^(2−p)/(p−1) makes small weights stiff for p < 2 (close to EG) and fast for p > 2.

use super::MirrorMap;

/// φ(w) = Σ|w|ᵖ/p.
#[derive(Clone, Copy, Debug)]
pub struct PNorm {
    pub p: f64,
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
}

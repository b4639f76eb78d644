//! Global gradient-norm clipping over all parameters (split biases included), before weight
//! decay and momentum: if `n = √Σ‖g‖² > c`, every gradient is multiplied by `c/(n + 1e-6)`.

use crate::kernels::{Backend, Real};

/// The global norm of `grads`, accumulated in f64 by the backend (the same value for any thread
/// count).
pub fn global_norm<'a, T: Real>(be: &dyn Backend<T>, grads: impl Iterator<Item = &'a [T]>) -> f64 {
    grads.map(|g| be.sum_squares(g)).sum::<f64>().sqrt()
}

/// The factor that clips a gradient of norm `norm` to `max_norm` (1 when it is not exceeded).
pub fn clip_factor(norm: f64, max_norm: Option<f64>) -> f64 {
    match max_norm {
        Some(c) if norm > c => c / (norm + 1e-6),
        _ => 1.0,
    }
}

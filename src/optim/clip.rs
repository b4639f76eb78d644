//! Global gradient-norm clipping over all parameters (split biases included), before weight
//! decay and momentum: if `n = √Σ‖g‖² > c`, every gradient is multiplied by `c/(n + 1e-6)`.

use crate::kernels::Real;

/// The global norm of `grads` (accumulated in f64; large gradients in fixed blocks summed in
/// order, in parallel, so the value does not depend on the thread count).
pub fn global_norm<'a, T: Real>(grads: impl Iterator<Item = &'a [T]>) -> f64 {
    use rayon::prelude::*;
    let sum_sq = |g: &[T]| crate::dispatch!(crate::kernels::update::sum_squares(g));
    grads
        .map(|g| {
            if g.len() < 2 * super::CHUNK {
                sum_sq(g)
            } else {
                let parts: Vec<f64> = g.par_chunks(super::CHUNK).map(sum_sq).collect();
                parts.iter().sum()
            }
        })
        .sum::<f64>()
        .sqrt()
}

/// The factor that clips a gradient of norm `norm` to `max_norm` (1 when it is not exceeded).
pub fn clip_factor(norm: f64, max_norm: Option<f64>) -> f64 {
    match max_norm {
        Some(c) if norm > c => c / (norm + 1e-6),
        _ => 1.0,
    }
}

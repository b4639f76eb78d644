//! Constraints applied with or after the geometry step. Sign freeze (projected GD) and the
//! non-negativity clamp run inside the fused update loop (`kernels::update`); fixed pruning
//! masks are applied here, to gradients before the step and to values after it.

use crate::kernels::Real;
use crate::nn::Param;

/// The default projected-GD reset value: a weight that crossed zero becomes `sign·1e-18`, small
/// enough to be harmless, nonzero so the sign stays readable from the weight and it can regrow.
pub const SIGN_FREEZE_DEFAULT: f64 = 1e-18;

/// Pruned synapses receive no gradient (so no momentum either).
pub fn mask_gradients<T: Real>(params: &mut [&mut Param<T>]) {
    for p in params.iter_mut() {
        p.apply_mask(true);
    }
}

/// Pruned synapses stay exactly zero.
pub fn mask_values<T: Real>(params: &mut [&mut Param<T>]) {
    for p in params.iter_mut() {
        p.apply_mask(false);
    }
}

//! Gradient transforms: what a group does to its raw gradients after global clipping and before
//! weight decay.

use crate::kernels::Real;
use crate::nn::Param;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transform {
    /// DANN's corrected SGD (Cornford et al. 2021): each gradient times the factor its layer
    /// prescribes ([`Param::correction`]: ∇W_IE/√n_E, ∇W_EI/d, ∇α/(√n_E·d); 1 elsewhere).
    DannCorrections,
}

/// The factor the transforms apply to the gradient of `p` (they are all scalings).
pub fn factor<T: Real>(transforms: &[Transform], p: &Param<T>) -> f64 {
    transforms
        .iter()
        .map(|t| match t {
            Transform::DannCorrections => p.correction,
        })
        .product()
}

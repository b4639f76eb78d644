//! The module interface: explicit forward and backward passes.
//!
//! `forward` returns the output and the tensors it saved for the backward pass; `backward`
//! *accumulates* parameter gradients (+=). A recurrent cell unrolled through time is therefore a
//! module called once per step, keeping each step's saved tensors, with its weight gradients
//! summed over steps (backpropagation through time).

use super::{Mat, Param};
use crate::kernels::Real;

/// Tensors a forward pass keeps for its backward pass.
pub type Saved<T> = Vec<Mat<T>>;

pub trait Module<T: Real> {
    /// `y = f(x)`, with what the backward pass needs.
    fn forward(&self, x: &Mat<T>) -> (Mat<T>, Saved<T>);
    /// Adds ∂L/∂θ to every parameter's gradient; returns ∂L/∂x when `need_dx`.
    fn backward(
        &mut self,
        x: &Mat<T>,
        saved: &Saved<T>,
        dy: &Mat<T>,
        need_dx: bool,
    ) -> Option<Mat<T>>;
    fn params(&self) -> Vec<&Param<T>>;
    fn params_mut(&mut self) -> Vec<&mut Param<T>>;
}

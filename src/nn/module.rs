//! The module interface: explicit forward and backward passes.
//!
//! `forward` returns the output and the tensors it saved for the backward pass; `backward`
//! *adds* parameter gradients into the gradient store ([`Grads`]), which the module does not
//! own. Two backward passes give twice the gradient; a recurrent cell unrolled through time adds
//! one step at a time (backpropagation through time). All arithmetic goes through the backend
//! `be` ([`Backend`]); a module only decides what to compute.

use super::{Grads, Mat, Param};
use crate::kernels::{Backend, Real};

/// Tensors a forward pass keeps for its backward pass.
pub type Saved<T> = Vec<Mat<T>>;

pub trait Module<T: Real> {
    /// `y = f(x)`, with what the backward pass needs.
    fn forward(&self, be: &dyn Backend<T>, x: &Mat<T>) -> (Mat<T>, Saved<T>);
    /// Adds ∂L/∂θ of every parameter into `grads`; returns ∂L/∂x when `need_dx`.
    fn backward(
        &self,
        be: &dyn Backend<T>,
        x: &Mat<T>,
        saved: &Saved<T>,
        dy: &Mat<T>,
        need_dx: bool,
        grads: &mut Grads<T>,
    ) -> Option<Mat<T>>;
    fn params(&self) -> Vec<&Param<T>>;
    fn params_mut(&mut self) -> Vec<&mut Param<T>>;
}

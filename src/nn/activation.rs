//! Element-wise nonlinearities as a module; the maths is in [`crate::kernels::activation`]. The
//! backward pass uses the saved output.

use super::module::{Module, Saved};
use super::{Grads, Mat, Param};
use crate::kernels::{Backend, Real};

pub use crate::kernels::Activation;

impl<T: Real> Module<T> for Activation {
    fn forward(&self, be: &dyn Backend<T>, x: &Mat<T>) -> (Mat<T>, Saved<T>) {
        let mut y = Mat::zeros(x.rows, x.cols);
        be.activation(*self, &x.data, &mut y.data);
        (y.clone(), vec![y])
    }
    fn backward(
        &self,
        be: &dyn Backend<T>,
        _x: &Mat<T>,
        saved: &Saved<T>,
        dy: &Mat<T>,
        need_dx: bool,
        _grads: &mut Grads<T>,
    ) -> Option<Mat<T>> {
        need_dx.then(|| {
            let y = &saved[0];
            let mut dx = Mat::zeros(y.rows, y.cols);
            be.activation_backward(*self, &y.data, &dy.data, &mut dx.data);
            dx
        })
    }
    fn params(&self) -> Vec<&Param<T>> {
        vec![]
    }
    fn params_mut(&mut self) -> Vec<&mut Param<T>> {
        vec![]
    }
}

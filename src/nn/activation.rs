//! Element-wise nonlinearities. The backward pass uses the saved output.

use super::module::{Module, Saved};
use super::{Grads, Mat, Param};
use crate::kernels::Real;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    #[default]
    Relu,
    Tanh,
    Sigmoid,
    Identity,
}

impl Activation {
    #[inline(always)]
    fn f<T: Real>(self, x: T) -> T {
        match self {
            Activation::Relu => x.max(T::zero()),
            Activation::Tanh => x.tanh(),
            Activation::Sigmoid => T::one() / (T::one() + (-x).exp()),
            Activation::Identity => x,
        }
    }
    /// f'(x) written in terms of y = f(x).
    #[inline(always)]
    fn df<T: Real>(self, y: T) -> T {
        match self {
            Activation::Relu => {
                if y > T::zero() {
                    T::one()
                } else {
                    T::zero()
                }
            }
            Activation::Tanh => T::one() - y * y,
            Activation::Sigmoid => y * (T::one() - y),
            Activation::Identity => T::one(),
        }
    }
}

impl<T: Real> Module<T> for Activation {
    fn forward(&self, x: &Mat<T>) -> (Mat<T>, Saved<T>) {
        let y = Mat::from_vec(x.rows, x.cols, x.data.iter().map(|&v| self.f(v)).collect());
        (y.clone(), vec![y])
    }
    fn backward(
        &self,
        _x: &Mat<T>,
        saved: &Saved<T>,
        dy: &Mat<T>,
        need_dx: bool,
        _grads: &mut Grads<T>,
    ) -> Option<Mat<T>> {
        need_dx.then(|| {
            let y = &saved[0];
            Mat::from_vec(
                y.rows,
                y.cols,
                y.data
                    .iter()
                    .zip(&dy.data)
                    .map(|(&y, &d)| self.df(y) * d)
                    .collect(),
            )
        })
    }
    fn params(&self) -> Vec<&Param<T>> {
        vec![]
    }
    fn params_mut(&mut self) -> Vec<&mut Param<T>> {
        vec![]
    }
}

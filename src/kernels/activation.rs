//! Element-wise nonlinearities, as written in configs, with their derivative in terms of the
//! output (the backward pass keeps `y = f(x)`, not `x`).

use super::Real;
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
    pub fn f<T: Real>(self, x: T) -> T {
        match self {
            Activation::Relu => x.max(T::zero()),
            Activation::Tanh => x.fast_tanh(),
            Activation::Sigmoid => T::one() / (T::one() + (-x).exp()),
            Activation::Identity => x,
        }
    }
    /// f'(x) written in terms of y = f(x).
    #[inline(always)]
    pub fn df<T: Real>(self, y: T) -> T {
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

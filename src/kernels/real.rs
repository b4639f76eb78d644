//! The floating-point element type: `f32` for training, `f64` for gradient checks and analysis.

use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{AddAssign, DivAssign, MulAssign, SubAssign};

/// A float that geoplast computes with (`f32` or `f64`).
pub trait Real:
    num_traits::Float
    + Default
    + Debug
    + Display
    + Send
    + Sync
    + Sum
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + 'static
{
    /// Converts from `f64` (rounding for `f32`).
    fn c(x: f64) -> Self;
    /// Widens to `f64`.
    fn f64(self) -> f64;
    /// `exp` built for vectorised loops (polynomial for `f32`, libm for `f64`).
    fn fast_exp(self) -> Self;
    /// `tanh` built for vectorised loops (exp-based for `f32`, libm for `f64`).
    fn fast_tanh(self) -> Self;
    /// The sign with `sign(0) = 0` (unlike `signum`, which gives ±1 for ±0).
    #[inline(always)]
    fn sign(self) -> Self {
        let one = Self::one();
        let zero = Self::zero();
        (if self > zero { one } else { zero }) - (if self < zero { one } else { zero })
    }
}

impl Real for f32 {
    #[inline(always)]
    fn c(x: f64) -> Self {
        x as f32
    }
    #[inline(always)]
    fn f64(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn fast_exp(self) -> Self {
        super::exp::exp_f32(self)
    }
    #[inline(always)]
    fn fast_tanh(self) -> Self {
        super::exp::tanh_f32(self)
    }
}

impl Real for f64 {
    #[inline(always)]
    fn c(x: f64) -> Self {
        x
    }
    #[inline(always)]
    fn f64(self) -> f64 {
        self
    }
    #[inline(always)]
    fn fast_exp(self) -> Self {
        self.exp()
    }
    #[inline(always)]
    fn fast_tanh(self) -> Self {
        self.tanh()
    }
}

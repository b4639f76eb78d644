//! Direction transforms: which way to move, before the geometry decides how.
//!
//! Weight decay (coupled `g + wd·w`; signed `g + wd·sign(w)` for EG, the L1 subgradient that
//! shrinks |w| by exp(−η·wd) whatever the sign; unsigned `g + wd·|sign(w)|` for the unsigned-EG
//! ablation; decoupled `w·(1 − η·wd)` for AdamW), heavy-ball momentum with dampening and Nesterov
//! in the PyTorch convention, and Adam moments. They are resolved here into the coefficients of
//! the fused loops in `kernels::update`.

use crate::kernels::Real;
use crate::kernels::update::{AdamCoeffs, SgdCoeffs};
use serde::{Deserialize, Serialize};

/// How weight decay enters the direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecayMode {
    /// The pairing of science.md §2: signed for negative entropy, unsigned for the unsigned-EG
    /// ablation, decoupled with Adam, coupled otherwise.
    #[default]
    Auto,
    Coupled,
    Signed,
    Unsigned,
    Decoupled,
}

/// Adam moments (AdamW, AdamW-EG).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Adam {
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub amsgrad: bool,
}

impl Default for Adam {
    fn default() -> Self {
        Self {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            amsgrad: false,
        }
    }
}

/// The SGD-family coefficients for one update. `first` is true on the first update of a
/// momentum buffer (PyTorch: the buffer starts as a copy of d, without dampening).
#[allow(clippy::too_many_arguments)]
pub fn sgd_coeffs<T: Real>(
    grad_scale: f64,
    decay: DecayMode,
    wd: f64,
    momentum: f64,
    dampening: f64,
    nesterov: bool,
    first: bool,
    freeze: Option<f64>,
    nonneg: bool,
) -> SgdCoeffs<T> {
    let pick = |m: DecayMode| T::c(if decay == m { wd } else { 0.0 });
    let (mom_buf, mom_d) = if first {
        (0.0, 1.0)
    } else {
        (momentum, 1.0 - dampening)
    };
    let (dir_d, dir_buf) = if nesterov {
        (1.0, momentum)
    } else {
        (0.0, 1.0)
    };
    SgdCoeffs {
        grad_scale: T::c(grad_scale),
        wd_w: pick(DecayMode::Coupled),
        wd_sign: pick(DecayMode::Signed),
        wd_abs_sign: pick(DecayMode::Unsigned),
        mom_buf: T::c(mom_buf),
        mom_d: T::c(mom_d),
        dir_d: T::c(dir_d),
        dir_buf: T::c(dir_buf),
        freeze: T::c(freeze.unwrap_or(0.0)),
        nonneg,
    }
}

/// The Adam-family coefficients for update `t` (1-based) at learning rate `lr`.
pub fn adam_coeffs<T: Real>(
    adam: &Adam,
    grad_scale: f64,
    lr: f64,
    wd: f64,
    t: usize,
    freeze: Option<f64>,
    nonneg: bool,
) -> AdamCoeffs<T> {
    let b2 = 1.0 - adam.beta2.powi(t as i32);
    AdamCoeffs {
        grad_scale: T::c(grad_scale),
        decay: T::c(1.0 - lr * wd),
        beta1: T::c(adam.beta1),
        beta2: T::c(adam.beta2),
        eps: T::c(adam.eps),
        sqrt_bias2: T::c(b2.sqrt()),
        freeze: T::c(freeze.unwrap_or(0.0)),
        nonneg,
    }
}

/// `1 − β₁ᵗ`, the first-moment bias correction folded into the step size `η/b₁`.
pub fn adam_bias1(adam: &Adam, t: usize) -> f64 {
    1.0 - adam.beta1.powi(t as i32)
}

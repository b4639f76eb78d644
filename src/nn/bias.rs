//! Biases, including the split bias `b = b⁺ + b⁻` that lets EG (which cannot move a weight
//! through zero) learn a bias of either sign (science.md §2.3).

use super::init::uniform;
use super::{Grads, Mat, Param, SignSpec};
use crate::kernels::{Backend, BiasValue, Real};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// How a layer's bias is made, as written in configs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BiasKind {
    None,
    /// `U(−B, B)`, B = 1/√fan_in (PyTorch's default).
    #[default]
    Uniform,
    /// Zero-initialised (DANN's `b`); not trainable by EG, use `split` there.
    Zero,
    /// `b⁺ ~ U(0, √2·B)`, `b⁻ ~ U(−√2·B, 0)`: same mean and variance as `uniform`.
    Split,
    /// A constant, not trained (the r-of-k neuron's `−r`).
    Fixed(f64),
}

/// A bias vector of a layer.
#[derive(Clone, Debug)]
pub enum Bias<T> {
    None,
    Trained(Param<T>),
    Split { pos: Param<T>, neg: Param<T> },
    Fixed(T),
}

impl<T: Real> Bias<T> {
    /// Builds the bias of `n` units named `{name}.bias` with scale `b = 1/√fan_in`.
    pub fn new(kind: BiasKind, name: &str, n: usize, scale: f64, rng: &mut impl Rng) -> Self {
        let p = |suffix: &str, v: Vec<T>| {
            Param::new(format!("{name}.{suffix}"), vec![n], v, SignSpec::Free)
        };
        match kind {
            BiasKind::None => Bias::None,
            BiasKind::Uniform => Bias::Trained(p("bias", uniform(n, -scale, scale, rng))),
            BiasKind::Zero => Bias::Trained(p("bias", vec![T::zero(); n])),
            BiasKind::Split => {
                let a = 2f64.sqrt() * scale;
                Bias::Split {
                    pos: p("bias_pos", uniform(n, 0.0, a, rng)),
                    neg: p("bias_neg", uniform(n, -a, 0.0, rng)),
                }
            }
            BiasKind::Fixed(v) => Bias::Fixed(T::c(v)),
        }
    }

    /// The same bias with its parameters named `name` (a trained bias) or `name.pos` and
    /// `name.neg` (a split one), as PyTorch names a bias and geoplast its EG parts.
    pub fn renamed(mut self, name: &str) -> Self {
        match &mut self {
            Bias::Trained(b) => b.name = name.to_string(),
            Bias::Split { pos, neg } => {
                pos.name = format!("{name}.pos");
                neg.name = format!("{name}.neg");
            }
            Bias::None | Bias::Fixed(_) => {}
        }
        self
    }

    /// Adds the bias to every row of `y`.
    pub fn add_to(&self, be: &dyn Backend<T>, y: &mut Mat<T>) {
        self.add_to_rows(be, &mut y.data);
    }

    /// Adds the bias to every row of the row-major `y` (rows as long as the bias).
    pub fn add_to_rows(&self, be: &dyn Backend<T>, y: &mut [T]) {
        let value = match self {
            Bias::None => return,
            Bias::Trained(b) => BiasValue::Vector(&b.value),
            Bias::Split { pos, neg } => BiasValue::Split(&pos.value, &neg.value),
            Bias::Fixed(c) => BiasValue::Constant(*c),
        };
        be.add_bias(y, value);
    }

    /// Adds ∂L/∂b = Σ_rows dy into the bias gradient(s) (both parts of a split bias get it).
    pub fn backward(&self, be: &dyn Backend<T>, dy: &Mat<T>, grads: &mut Grads<T>) {
        match self {
            Bias::Trained(b) => be.sum_rows(grads.of(b), &dy.data),
            Bias::Split { pos, neg } => {
                be.sum_rows(grads.of(pos), &dy.data);
                be.sum_rows(grads.of(neg), &dy.data);
            }
            Bias::None | Bias::Fixed(_) => {}
        }
    }

    /// `weight` followed by this bias's parameters (the parameter list of a dense layer).
    pub fn after<'a>(&'a self, weight: &'a Param<T>) -> Vec<&'a Param<T>> {
        let mut v = vec![weight];
        v.extend(self.params());
        v
    }
    /// The mutable version of [`Bias::after`].
    pub fn after_mut<'a>(&'a mut self, weight: &'a mut Param<T>) -> Vec<&'a mut Param<T>> {
        let mut v = vec![weight];
        v.extend(self.params_mut());
        v
    }

    pub fn params(&self) -> Vec<&Param<T>> {
        match self {
            Bias::Trained(b) => vec![b],
            Bias::Split { pos, neg } => vec![pos, neg],
            _ => vec![],
        }
    }
    pub fn params_mut(&mut self) -> Vec<&mut Param<T>> {
        match self {
            Bias::Trained(b) => vec![b],
            Bias::Split { pos, neg } => vec![pos, neg],
            _ => vec![],
        }
    }
}

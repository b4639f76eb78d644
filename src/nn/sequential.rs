//! A feed-forward network: a stack of layers, with the activations kept for the backward pass.

use super::activation::Activation;
use super::colei::ColEi;
use super::dann::Dann;
use super::linear::Linear;
use super::module::{Module, Saved};
use super::{Grads, Mat, Param};
use crate::kernels::{Backend, Real};

/// Any layer of a feed-forward network (a handful per network, so the size of the largest
/// variant does not matter).
#[derive(Clone, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Layer<T> {
    Linear(Linear<T>),
    ColEi(ColEi<T>),
    Dann(Dann<T>),
    Act(Activation),
}

impl<T: Real> Layer<T> {
    fn module(&self) -> &dyn Module<T> {
        match self {
            Layer::Linear(l) => l,
            Layer::ColEi(l) => l,
            Layer::Dann(l) => l,
            Layer::Act(a) => a,
        }
    }
    fn module_mut(&mut self) -> &mut dyn Module<T> {
        match self {
            Layer::Linear(l) => l,
            Layer::ColEi(l) => l,
            Layer::Dann(l) => l,
            Layer::Act(a) => a,
        }
    }
}

/// What a forward pass keeps: every layer's input and saved tensors.
pub struct Tape<T> {
    inputs: Vec<Mat<T>>,
    saved: Vec<Saved<T>>,
}

#[derive(Clone, Debug)]
pub struct Sequential<T> {
    pub layers: Vec<Layer<T>>,
}

impl<T: Real> Sequential<T> {
    /// The output, and the tape for [`Sequential::backward`].
    pub fn forward(&self, be: &dyn Backend<T>, x: Mat<T>) -> (Mat<T>, Tape<T>) {
        let mut tape = Tape {
            inputs: Vec::with_capacity(self.layers.len()),
            saved: Vec::with_capacity(self.layers.len()),
        };
        let mut h = x;
        for layer in &self.layers {
            let (y, saved) = layer.module().forward(be, &h);
            tape.inputs.push(h);
            tape.saved.push(saved);
            h = y;
        }
        (h, tape)
    }

    /// The output only (evaluation).
    pub fn predict(&self, be: &dyn Backend<T>, x: Mat<T>) -> Mat<T> {
        self.layers
            .iter()
            .fold(x, |h, l| l.module().forward(be, &h).0)
    }

    /// Adds every parameter's gradient from ∂L/∂output into `grads`.
    pub fn backward(
        &self,
        be: &dyn Backend<T>,
        tape: &Tape<T>,
        dout: Mat<T>,
        grads: &mut Grads<T>,
    ) {
        let mut d = dout;
        let n = self.layers.len();
        for (i, layer) in self.layers.iter().enumerate().rev() {
            match layer
                .module()
                .backward(be, &tape.inputs[i], &tape.saved[i], &d, i > 0, grads)
            {
                Some(dx) => d = dx,
                None => debug_assert_eq!(i, 0, "only the first of {n} layers skips ∂x"),
            }
        }
    }

    pub fn params(&self) -> Vec<&Param<T>> {
        self.layers
            .iter()
            .flat_map(|l| l.module().params())
            .collect()
    }
    pub fn params_mut(&mut self) -> Vec<&mut Param<T>> {
        self.layers
            .iter_mut()
            .flat_map(|l| l.module_mut().params_mut())
            .collect()
    }
    /// Per Dale's-law layer, the mean row sum of its effective matrix (≈ 0 when the
    /// initialisation balances excitation and inhibition).
    pub fn ei_balance(&self) -> Vec<(String, f64)> {
        self.layers
            .iter()
            .filter_map(|l| match l {
                Layer::ColEi(c) => Some((c.weight.name.clone(), c.mean_row_sum())),
                Layer::Dann(d) => Some((d.w_ee.name.clone(), d.mean_row_sum())),
                _ => None,
            })
            .collect()
    }

    /// A zeroed gradient store for this network's parameters.
    pub fn grads(&self) -> Grads<T> {
        Grads::for_params(&self.params())
    }
}

//! A trainable parameter: values, gradients, its sign structure (Dale's law) and an optional
//! fixed pruning mask.

use crate::kernels::Real;

/// The sign structure a parameter must keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignSpec {
    /// Unconstrained (GD may flip signs; EG keeps every synapse's sign by construction).
    Free,
    /// Magnitudes of a Dale's-law layer (column-EI `W⁺`, DANN matrices, gains): clamped at ≥ 0
    /// after every step of a geometry that can cross zero.
    NonNegative,
}

/// A named tensor with its gradient.
#[derive(Clone, Debug)]
pub struct Param<T> {
    /// The name a PyTorch user sees in the `.safetensors` file (`layers.0.weight`).
    pub name: String,
    pub shape: Vec<usize>,
    pub value: Vec<T>,
    pub grad: Vec<T>,
    pub sign: SignSpec,
    /// `false` marks a pruned synapse: it stays 0 and receives no gradient.
    pub mask: Option<Vec<bool>>,
}

impl<T: Real> Param<T> {
    pub fn new(name: impl Into<String>, shape: Vec<usize>, value: Vec<T>, sign: SignSpec) -> Self {
        let n: usize = shape.iter().product();
        assert_eq!(n, value.len(), "parameter shape and value length differ");
        Self {
            name: name.into(),
            shape,
            grad: vec![T::zero(); n],
            value,
            sign,
            mask: None,
        }
    }
    pub fn len(&self) -> usize {
        self.value.len()
    }
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }
    pub fn zero_grad(&mut self) {
        self.grad.fill(T::zero());
    }
    /// Zeroes pruned entries of the value (`grad = false`) or of the gradient (`grad = true`).
    pub fn apply_mask(&mut self, grad: bool) {
        if let Some(mask) = &self.mask {
            let v = if grad {
                &mut self.grad
            } else {
                &mut self.value
            };
            for (x, &keep) in v.iter_mut().zip(mask) {
                if !keep {
                    *x = T::zero();
                }
            }
        }
    }
}

//! A trainable parameter: values, its sign structure (Dale's law), the gradient scale its layer
//! prescribes, and an optional fixed pruning mask. Gradients live in [`super::Grads`].

use crate::kernels::{Backend, Real};

/// The sign structure a parameter must keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignSpec {
    /// Unconstrained (GD may flip signs; EG keeps every synapse's sign by construction).
    Free,
    /// Magnitudes of a Dale's-law layer (column-EI `W⁺`, DANN matrices, gains): clamped at ≥ 0
    /// after every step of a geometry that can cross zero.
    NonNegative,
}

/// A named tensor.
#[derive(Clone, Debug)]
pub struct Param<T> {
    /// The name a PyTorch user sees in the `.safetensors` file (`layers.0.weight`).
    pub name: String,
    pub shape: Vec<usize>,
    pub value: Vec<T>,
    pub sign: SignSpec,
    /// The factor DANN's corrected SGD applies to this gradient (Cornford et al. 2021:
    /// 1/√n_E for W_IE, 1/d for W_EI, 1/(√n_E·d) for α; 1 elsewhere). The optimiser's
    /// `dann_corrections` transform multiplies by it, after global clipping.
    pub correction: f64,
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
            value,
            sign,
            correction: 1.0,
            mask: None,
        }
    }
    pub fn len(&self) -> usize {
        self.value.len()
    }
    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }
    /// Zeroes the pruned entries of `v` (this parameter's gradient).
    pub fn mask(&self, be: &dyn Backend<T>, v: &mut [T]) {
        if let Some(mask) = &self.mask {
            be.zero_pruned(v, mask);
        }
    }
    /// Zeroes the pruned entries of the value: pruned synapses stay exactly 0.
    pub fn mask_value(&mut self, be: &dyn Backend<T>) {
        if let Some(mask) = &self.mask {
            be.zero_pruned(&mut self.value, mask);
        }
    }
}

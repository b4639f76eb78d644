//! The gradient store: ∂L/∂θ of every parameter of a model, held outside the modules and keyed
//! by parameter name.
//!
//! Modules compute; stores hold. A backward pass *adds* into the store, so one store can collect
//! the gradients of several passes (time steps, batch shards reduced in a fixed order), and a
//! second backend can own the buffers while the modules stay the same.

use super::Param;
use crate::kernels::Real;
use std::collections::HashMap;

#[derive(Clone, Debug)]
pub struct Grads<T> {
    index: HashMap<String, usize>,
    bufs: Vec<Vec<T>>,
}

impl<T: Real> Grads<T> {
    /// A zeroed buffer for each of `params`, in their order.
    pub fn for_params(params: &[&Param<T>]) -> Self {
        let index = params.iter().map(|p| p.name.clone()).zip(0..).collect();
        let bufs = params.iter().map(|p| vec![T::zero(); p.len()]).collect();
        Self { index, bufs }
    }

    fn slot(&self, name: &str) -> usize {
        // The store is made from the model's own parameter list: a miss is a bug, not input.
        *self
            .index
            .get(name)
            .unwrap_or_else(|| panic!("no gradient buffer for parameter `{name}`"))
    }

    /// The gradient of the parameter called `name`.
    pub fn get(&self, name: &str) -> &[T] {
        &self.bufs[self.slot(name)]
    }
    /// The gradient buffer of `p`, to add into.
    pub fn of(&mut self, p: &Param<T>) -> &mut [T] {
        let i = self.slot(&p.name);
        &mut self.bufs[i]
    }
    /// The gradient buffers of two different parameters at once (for passes that run in
    /// parallel).
    pub fn two(&mut self, a: &Param<T>, b: &Param<T>) -> (&mut [T], &mut [T]) {
        let (i, j) = (self.slot(&a.name), self.slot(&b.name));
        assert_ne!(i, j, "two gradient buffers of one parameter");
        if i < j {
            let (lo, hi) = self.bufs.split_at_mut(j);
            (&mut lo[i], &mut hi[0])
        } else {
            let (lo, hi) = self.bufs.split_at_mut(i);
            (&mut hi[0], &mut lo[j])
        }
    }

    /// Sets every gradient to 0 (before the next backward pass).
    pub fn zero(&mut self) {
        self.bufs.iter_mut().for_each(|b| b.fill(T::zero()));
    }
}

//! A recurrent network: one [`Rnn`] cell and a linear readout of its rates, `y_t = W_out·r_t +
//! b_out` (`readout.weight`, `readout.bias`: `torch.nn.Linear`'s names and layout), read at the
//! last step or at every step. An E/I cell's readout reads its E units only: the weights from I
//! units are masked (fixed at 0, no gradient), so the tensor keeps PyTorch's shape.

use super::{Grads, Linear, Mat, Param, Record, Rnn};
use crate::kernels::gemm::Operand;
use crate::kernels::{Backend, Real};

#[derive(Clone, Debug)]
pub struct RecurrentNet<T> {
    pub cell: Rnn<T>,
    pub readout: Linear<T>,
}

/// Where the readout reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Readout {
    /// The last step only: outputs are `[B, out]`.
    Last,
    /// Every step: outputs are `[T·B, out]`, time-major.
    Every,
}

impl<T: Real> RecurrentNet<T> {
    /// Masks the readout's weights from the last `n_i` units (inhibitory ones).
    pub fn read_excitatory_only(mut self, n_i: usize) -> Self {
        let w = &mut self.readout.weight;
        let h = w.shape[1];
        let keep: Vec<bool> = (0..w.len()).map(|i| i % h < h - n_i).collect();
        for (v, &k) in w.value.iter_mut().zip(&keep) {
            if !k {
                *v = T::zero();
            }
        }
        w.mask = Some(keep);
        self
    }

    /// Runs `u` (`[T·B, in]`) from the state `x0` into `rec` and reads it out.
    #[allow(clippy::too_many_arguments)]
    pub fn forward(
        &self,
        be: &dyn Backend<T>,
        rec: &mut Record<T>,
        x0: &[T],
        u: &Mat<T>,
        batch: usize,
        noise: Option<&[T]>,
        readout: Readout,
    ) -> Mat<T> {
        self.cell.seq_into(be, rec, x0, u, batch, noise);
        let r = read(rec, readout);
        let h = self.cell.hidden();
        let out_n = self.readout.outputs();
        let rows = r.len() / h;
        let mut y = Mat::zeros(rows, out_n);
        be.gemm(
            &mut y.data,
            Operand::new(r, rows, h),
            Operand::new(&self.readout.weight.value, out_n, h).t(),
            T::zero(),
        );
        self.readout.bias.add_to(be, &mut y);
        y
    }

    /// Adds every gradient from ∂L/∂outputs (`dy`, as [`RecurrentNet::forward`] returned them):
    /// the readout's, then BPTT through the record. Returns ∂L/∂x₀.
    pub fn backward(
        &self,
        be: &dyn Backend<T>,
        rec: &mut Record<T>,
        dy: &Mat<T>,
        readout: Readout,
        grads: &mut Grads<T>,
    ) -> Vec<T> {
        let h = self.cell.hidden();
        let out_n = self.readout.outputs();
        let r = read(rec, readout);
        be.gemm_acc(
            grads.of(&self.readout.weight),
            dy.op().t(),
            Operand::new(r, dy.rows, h),
            T::one(),
        );
        self.readout.bias.backward(be, dy, grads);
        // ∂L/∂r of every step: the readout's rows, zero before the last step for `Last`; in
        // the record's scratch, reused by every update.
        let mut d_r = std::mem::take(&mut rec.d_r);
        d_r.clear();
        d_r.resize(rec.steps() * rec.batch * h, T::zero());
        let at = d_r.len() - dy.rows * h;
        be.gemm(
            &mut d_r[at..],
            dy.op(),
            Operand::new(&self.readout.weight.value, out_n, h),
            T::zero(),
        );
        let dx0 = self.cell.backward(be, rec, &d_r, false, grads).dx0;
        rec.d_r = d_r;
        dx0
    }

    pub fn params(&self) -> Vec<&Param<T>> {
        let mut v = self.cell.params();
        v.extend(self.readout.bias.after(&self.readout.weight));
        v
    }
    pub fn params_mut(&mut self) -> Vec<&mut Param<T>> {
        let mut v = self.cell.params_mut();
        v.extend(self.readout.bias.after_mut(&mut self.readout.weight));
        v
    }
}

/// The rates the readout reads.
fn read<T: Real>(rec: &Record<T>, readout: Readout) -> &[T] {
    match readout {
        Readout::Last => rec.rates_at(rec.steps()),
        Readout::Every => rec.all_rates(),
    }
}

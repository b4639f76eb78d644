//! One matrix of a recurrent cell with its Dale's-law parametrisation (science.md §3): a free
//! matrix, column-EI `W⁺·D` (non-negative `W⁺`, kept so by clamping or by EG), the
//! reparametrisation `|W|·D` (PsychRNN's: `W` is free and only its magnitude is used), or
//! DANN's `W_EE − W_EI·W_IE`. The cell forms the effective matrix once per sequence
//! ([`Synapses::form`]) and chains ∂L/∂W_eff back to the parameters ([`Synapses::backward`]),
//! so the dynamics never depend on the parametrisation.

use super::{Grads, Param};
use crate::kernels::gemm::Operand;
use crate::kernels::{Backend, Real};

#[derive(Clone, Debug)]
pub enum Synapses<T> {
    /// The matrix itself (rows are postsynaptic units).
    Free(Param<T>),
    /// `W_eff[i, j] = m(W[i, j])·sign[j]` with `m` the identity on a non-negative `W⁺`
    /// (`reparam = false`) or `|·|` on a free `W` (`reparam = true`).
    Columns {
        weight: Param<T>,
        /// ±1 per presynaptic unit: E or I.
        sign: Vec<T>,
        reparam: bool,
    },
    /// `W_EE − W_EI·W_IE`: `ee` is rows × cols, `ei` rows × n_I, `ie` n_I × cols, all ≥ 0.
    Dann {
        ee: Param<T>,
        ei: Param<T>,
        ie: Param<T>,
    },
}

impl<T: Real> Synapses<T> {
    /// (rows, cols) of the effective matrix.
    pub fn shape(&self) -> (usize, usize) {
        let p = match self {
            Synapses::Free(p) | Synapses::Columns { weight: p, .. } => p,
            Synapses::Dann { ee, .. } => ee,
        };
        (p.shape[0], p.shape[1])
    }

    /// The matrix a free parametrisation trains directly (no effective matrix to form).
    pub fn free(&self) -> Option<&Param<T>> {
        match self {
            Synapses::Free(p) => Some(p),
            _ => None,
        }
    }

    /// Forms the effective matrix into `buf` (left empty for a free matrix, which is used as
    /// it is: see [`Synapses::matrix`]).
    pub fn form(&self, be: &dyn Backend<T>, buf: &mut Vec<T>) {
        let (rows, cols) = self.shape();
        match self {
            Synapses::Free(_) => buf.clear(),
            Synapses::Columns {
                weight,
                sign,
                reparam,
            } => {
                buf.resize(rows * cols, T::zero());
                if *reparam {
                    be.abs(&weight.value, buf);
                } else {
                    buf.copy_from_slice(&weight.value);
                }
                be.scale_columns(buf, sign);
            }
            Synapses::Dann { ee, ei, ie } => {
                let n_i = ei.shape[1];
                buf.resize(rows * cols, T::zero());
                buf.copy_from_slice(&ee.value);
                be.gemm_acc(
                    buf,
                    Operand::new(&ei.value, rows, n_i),
                    Operand::new(&ie.value, n_i, cols),
                    -T::one(),
                );
            }
        }
    }

    /// The effective matrix: the parameter itself, or what [`Synapses::form`] wrote in `buf`.
    pub fn matrix<'a>(&'a self, buf: &'a [T]) -> &'a [T] {
        match self {
            Synapses::Free(p) => &p.value,
            _ => buf,
        }
    }

    /// The effective matrix as a new f64 matrix (reports: row sums, spectra).
    pub fn effective_f64(&self, be: &dyn Backend<T>) -> Vec<f64> {
        let mut buf = Vec::new();
        self.form(be, &mut buf);
        self.matrix(&buf).iter().map(|v| v.f64()).collect()
    }

    /// Adds every parameter's gradient from `d` = ∂L/∂W_eff (overwritten as scratch).
    pub fn backward(&self, be: &dyn Backend<T>, d: &mut [T], grads: &mut Grads<T>) {
        let (rows, cols) = self.shape();
        match self {
            Synapses::Free(p) => be.axpy(grads.of(p), T::one(), d),
            Synapses::Columns {
                weight,
                sign,
                reparam,
            } => {
                be.scale_columns(d, sign);
                if *reparam {
                    be.mul_sign(d, &weight.value);
                }
                be.axpy(grads.of(weight), T::one(), d);
            }
            Synapses::Dann { ee, ei, ie } => {
                let n_i = ei.shape[1];
                let dm = Operand::new(&*d, rows, cols);
                be.gemm_acc(
                    grads.of(ei),
                    dm,
                    Operand::new(&ie.value, n_i, cols).t(),
                    -T::one(),
                );
                be.gemm_acc(
                    grads.of(ie),
                    Operand::new(&ei.value, rows, n_i).t(),
                    dm,
                    -T::one(),
                );
                be.axpy(grads.of(ee), T::one(), d);
            }
        }
    }

    /// Multiplies the effective matrix by `c > 0` (a spectral-radius rescaling): the magnitudes
    /// of a column-EI matrix, `W_EE` and `W_EI` of a DANN one (so `W_EI·W_IE` scales once).
    pub fn rescale(&mut self, c: f64) {
        let c = T::c(c);
        let ps: Vec<&mut Param<T>> = match self {
            Synapses::Free(p) | Synapses::Columns { weight: p, .. } => vec![p],
            Synapses::Dann { ee, ei, .. } => vec![ee, ei],
        };
        for p in ps {
            p.value.iter_mut().for_each(|v| *v *= c);
        }
    }

    pub fn params(&self) -> Vec<&Param<T>> {
        match self {
            Synapses::Free(p) | Synapses::Columns { weight: p, .. } => vec![p],
            Synapses::Dann { ee, ei, ie } => vec![ee, ei, ie],
        }
    }
    pub fn params_mut(&mut self) -> Vec<&mut Param<T>> {
        match self {
            Synapses::Free(p) | Synapses::Columns { weight: p, .. } => vec![p],
            Synapses::Dann { ee, ei, ie } => vec![ee, ei, ie],
        }
    }
}

//! The Dale's-law recurrent cells (science.md §3): column-EI (Song et al. 2016; Li et al. 2023)
//! and the recurrent DANN of Li et al. (2023). Both read non-negative inputs through
//! non-negative matrices; their recurrent matrices start balanced (inhibition cancels the mean
//! excitatory drive), which [`EiReport`] checks: the mean row sum of the effective `W_rec` and
//! its spectral radius.

use super::bias::{Bias, BiasKind};
use super::colei::ColEi;
use super::dann::Dann;
use super::rnn::Rnn;
use super::synapses::Synapses;
use super::{Activation, Param, SignSpec};
use crate::kernels::{Backend, Real};
use rand::Rng;

/// Balance and spectrum of an E/I cell's effective recurrent matrix.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct EiReport {
    /// The mean over rows of each row's sum (≈ 0 when balanced).
    pub mean_row_sum: f64,
    /// The largest |eigenvalue|.
    pub spectral_radius: f64,
}

/// The report of `cell`'s recurrent matrix.
pub fn report<T: Real>(be: &dyn Backend<T>, cell: &Rnn<T>) -> EiReport {
    let w = cell.w_hh.effective_f64(be);
    EiReport {
        mean_row_sum: row_sum_mean(&w, cell.hidden()),
        spectral_radius: super::spectrum::spectral_radius(&w, cell.hidden()),
    }
}

/// The mean row sum of `cell`'s effective recurrent matrix alone (no eigenvalues).
pub fn mean_row_sum<T: Real>(be: &dyn Backend<T>, cell: &Rnn<T>) -> f64 {
    row_sum_mean(&cell.w_hh.effective_f64(be), cell.hidden())
}

/// The mean over the `rows` rows of `w` of each row's sum.
fn row_sum_mean(w: &[f64], rows: usize) -> f64 {
    w.iter().sum::<f64>() / rows.max(1) as f64
}

/// A magnitude parameter named `name`: non-negative (`W⁺`, clamped or trained by EG), or free
/// under the reparametrisation `|W|·D`.
fn magnitudes<T: Real>(mut p: Param<T>, name: String, reparam: bool) -> Param<T> {
    p.name = name;
    if reparam {
        p.name = p.name.replace("_pos", "_raw");
        p.sign = SignSpec::Free;
    }
    p
}

/// A column-EI cell of `hidden` units, the last `n_i` inhibitory, on `inputs` non-negative
/// inputs of mean `input_mean`:
/// * input `W_in ≥ 0 ~ Exp(√(1/d))` with the centring bias `−d·σ·mean` (the first layer on
///   non-negative pixels; split under EG), named `rnn.weight_ih_l0_pos` and `rnn.bias_ih_l0`;
/// * recurrent `W⁺·D` with the balanced exponential initialisation, named
///   `rnn.weight_hh_l0_pos`, rescaled so that its spectral radius is `radius` (if given);
/// * `reparam`: both matrices are `|W|·D` of free `W` (`…_raw`).
#[allow(clippy::too_many_arguments)]
pub fn colei<T: Real>(
    be: &dyn Backend<T>,
    inputs: usize,
    hidden: usize,
    n_i: usize,
    input_mean: f64,
    split_bias: bool,
    reparam: bool,
    radius: Option<f64>,
    activation: Activation,
    alpha: f64,
    rng: &mut impl Rng,
) -> Rnn<T> {
    let first = ColEi::<T>::first_layer("rnn", inputs, hidden, input_mean, split_bias, rng);
    let rec = ColEi::<T>::balanced("rnn", hidden - n_i, n_i, hidden, BiasKind::None, rng);
    let mut cell = Rnn {
        w_ih: Synapses::Columns {
            weight: magnitudes(first.weight, "rnn.weight_ih_l0_pos".into(), reparam),
            sign: first.input_sign,
            reparam,
        },
        w_hh: Synapses::Columns {
            weight: magnitudes(rec.weight, "rnn.weight_hh_l0_pos".into(), reparam),
            sign: rec.input_sign,
            reparam,
        },
        b_ih: first.bias.renamed("rnn.bias_ih_l0"),
        b_hh: Bias::None,
        activation,
        alpha,
    };
    if let Some(target) = radius {
        let now = report(be, &cell).spectral_radius;
        if now > 0.0 && now.is_finite() {
            cell.w_hh.rescale(target / now);
        }
    }
    cell
}

/// Renames a DANN layer's matrices `{prefix}_ee`, `_ei`, `_ie`.
fn dann_synapses<T: Real>(d: Dann<T>, prefix: &str) -> (Synapses<T>, Bias<T>) {
    let name = |mut p: Param<T>, s: &str| {
        p.name = format!("{prefix}_{s}");
        p
    };
    (
        Synapses::Dann {
            ee: name(d.w_ee, "ee"),
            ei: name(d.w_ei, "ei"),
            ie: name(d.w_ie, "ie"),
        },
        d.bias,
    )
}

/// A recurrent DANN of `hidden` E units with `n_i` interneurons (Li et al. 2023):
/// `h_t = f((U_EE − U_EI·U_IE)·x_t + (W_EE − W_EI·W_IE)·h_{t−1} + b)`. The input part is
/// initialised as a DANN first layer on `inputs` raw inputs, the recurrent part as a DANN layer
/// after ReLU with d = n_E = `hidden` (inhibition cancels the mean excitatory drive), and the
/// corrected-SGD gradient scales of both (∇W_IE/√n_E, ∇W_EI/d, so /n_E for the recurrent
/// `W_EI`) are set for the optimiser's `dann_corrections` transform. One bias `b`.
#[allow(clippy::too_many_arguments)]
pub fn dann<T: Real>(
    inputs: usize,
    hidden: usize,
    n_i: usize,
    bias: BiasKind,
    activation: Activation,
    alpha: f64,
    rng: &mut impl Rng,
) -> Rnn<T> {
    let input = Dann::<T>::new("rnn", inputs, hidden, n_i, false, false, bias, rng);
    let rec = Dann::<T>::new("rnn", hidden, hidden, n_i, true, false, BiasKind::None, rng);
    let (w_ih, b) = dann_synapses(input, "rnn.weight_ih_l0");
    let (w_hh, _) = dann_synapses(rec, "rnn.weight_hh_l0");
    Rnn {
        w_ih,
        w_hh,
        b_ih: b.renamed("rnn.bias_ih_l0"),
        b_hh: Bias::None,
        activation,
        alpha,
    }
}

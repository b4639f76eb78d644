//! The paired test on a network's named tensors, per tensor and pooled after standardising.
//!
//! Pooling raw dual changes lets the tensor with the largest changes dominate: on a small
//! PyTorch MLP trained with EG, each weight matrix alone kept negative entropy among the
//! candidates that cannot be told apart from the best, but pooled (their changes differ about
//! fivefold in scale) it was pushed out. Dividing each tensor's dual change by its own sd under
//! each candidate before pooling removes that scale difference; the ranking per tensor shows
//! whether the tensors agree at all.

use super::delta_cdf::delta_cdf;
use super::dual::{Prepared, dual_change};
use super::paired::{PairedOptions, PairedReport, infer, mean_sd};
use crate::geometry::Potential;
use serde::Serialize;
use std::ops::Range;

/// The paired test on one tensor.
#[derive(Clone, Debug, Serialize)]
pub struct TensorReport {
    pub name: String,
    pub report: PairedReport,
}

/// The paired test on each tensor separately.
pub fn per_tensor(
    w0: &[f64],
    w1: &[f64],
    tensors: &[(String, Range<usize>)],
    opts: &PairedOptions,
) -> Vec<TensorReport> {
    tensors
        .iter()
        .filter(|(_, r)| r.len() >= 3)
        .map(|(name, r)| TensorReport {
            name: name.clone(),
            report: infer(w0[r.clone()].to_vec(), w1[r.clone()].to_vec(), opts),
        })
        .collect()
}

/// One candidate of the standardised pool.
#[derive(Clone, Debug, Serialize)]
pub struct Pooled {
    pub label: String,
    pub delta_cdf: Option<f64>,
    pub n: usize,
    pub excluded: Option<String>,
}

/// ΔCDF of every candidate on the pool of per-tensor standardised dual changes
/// `Δ_i / sd_t(Δ)`, ranked (scored candidates first, by increasing ΔCDF). Negative entropy is
/// excluded when a pair changes sign, unless `opts.ne_subset`, as in [`infer`].
pub fn pooled_standardised(
    w0: &[f64],
    w1: &[f64],
    tensors: &[(String, Range<usize>)],
    opts: &PairedOptions,
) -> Vec<Pooled> {
    let parts: Vec<Prepared> = tensors
        .iter()
        .map(|(_, r)| Prepared::new(w0[r.clone()].to_vec(), w1[r.clone()].to_vec()))
        .collect();
    let sign_changes = w0.iter().zip(w1).filter(|(a, b)| **a * **b < 0.0).count();
    let mut out: Vec<Pooled> = opts
        .candidates
        .iter()
        .map(|&pot: &Potential| {
            let label = pot.label();
            if pot == Potential::NegEntropy && sign_changes > 0 && !opts.ne_subset {
                return Pooled {
                    label,
                    delta_cdf: None,
                    n: 0,
                    excluded: Some(format!("{sign_changes} pairs change sign")),
                };
            }
            let mut z = Vec::with_capacity(w0.len());
            for data in &parts {
                let (d, s) = dual_change(data, pot);
                if s.n >= 3 && s.sd > 0.0 && s.sd.is_finite() {
                    z.extend(d.iter().map(|v| v / s.sd));
                }
            }
            let (mean, sd) = mean_sd(&z);
            if z.len() < 3 || sd.is_nan() || sd <= 0.0 {
                return Pooled {
                    label,
                    delta_cdf: None,
                    n: z.len(),
                    excluded: Some("fewer than 3 usable pairs or no change".into()),
                };
            }
            Pooled {
                label,
                delta_cdf: Some(delta_cdf(&z, mean, sd, opts.centring)),
                n: z.len(),
                excluded: None,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        a.delta_cdf
            .unwrap_or(f64::INFINITY)
            .total_cmp(&b.delta_cdf.unwrap_or(f64::INFINITY))
    });
    out
}

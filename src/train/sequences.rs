//! Sequence data for recurrent networks: images read row by row (row-wise sequential
//! Fashion-MNIST is 28 steps of 28 pixels), the 8×8 digits, and `.npz` archives in the layout
//! of `torch.nn.RNN` and NeuroGym (time first). Samples are stored sample-major; a batch is cut
//! time-major, `[T·B, in]` with step t's rows together, as the recurrent cell reads it.

use super::source::{Batch, Targets};
use crate::error::{Error, Result};
use crate::io::weights::NdArray;
use crate::nn::Mat;
use crate::tasks::Dataset;
use std::collections::BTreeMap;
use std::path::Path;

/// What a sequence is trained against.
#[derive(Clone, Debug)]
pub enum Labels {
    /// A class at the last step (one per sequence).
    Last(Vec<u32>),
    /// A class at every step (`n × T`).
    Steps(Vec<u32>),
    /// `out` values at the last step (`n × out`).
    ValuesLast { out: usize, v: Vec<f32> },
    /// `out` values at every step (`n × T × out`).
    ValuesSteps { out: usize, v: Vec<f32> },
}

/// `n` sequences of `steps` steps of `inputs` values.
#[derive(Clone, Debug)]
pub struct SeqSplit {
    pub steps: usize,
    pub inputs: usize,
    /// `n × steps × inputs`.
    pub x: Vec<f32>,
    pub labels: Labels,
    /// The decision mask (`n × steps`): cross-entropy inside it, MSE towards class 0 outside
    /// (science.md E2). Per-step class labels only.
    pub decision: Option<Vec<bool>>,
    /// Steps that count in the loss at all (`n × steps`).
    pub loss_mask: Option<Vec<bool>>,
}

impl SeqSplit {
    pub fn len(&self) -> usize {
        self.x.len() / (self.steps * self.inputs).max(1)
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Images of `side × side` pixels read row by row: step t is row t.
    pub fn from_images(d: Dataset) -> std::result::Result<Self, String> {
        let side = (d.dim as f64).sqrt().round() as usize;
        if side * side != d.dim {
            return Err(format!(
                "images of {} pixels are not square: an rnn reads square images row by row",
                d.dim
            ));
        }
        Ok(Self {
            steps: side,
            inputs: side,
            x: d.x,
            labels: Labels::Last(d.y),
            decision: None,
            loss_mask: None,
        })
    }

    /// The mean and the population sd of every input value.
    pub fn moments(&self) -> (f64, f64) {
        let n = self.x.len().max(1) as f64;
        let mean = self.x.iter().map(|&v| v as f64).sum::<f64>() / n;
        let var = self
            .x
            .iter()
            .map(|&v| (v as f64 - mean).powi(2))
            .sum::<f64>()
            / n;
        (mean, var.sqrt())
    }

    /// `x ← (x − mean)/sd`.
    pub fn standardise(&mut self, mean: f64, sd: f64) {
        let sd = if sd > 0.0 { sd } else { 1.0 };
        for v in &mut self.x {
            *v = ((*v as f64 - mean) / sd) as f32;
        }
    }

    /// The smallest input value.
    pub fn min_input(&self) -> f64 {
        self.x.iter().fold(f64::INFINITY, |a, &v| a.min(v as f64))
    }

    /// Outputs the labels need: the largest class + 1, or the value width.
    pub fn outputs(&self) -> usize {
        match &self.labels {
            Labels::Last(l) | Labels::Steps(l) => l.iter().max().map_or(0, |&m| m as usize + 1),
            Labels::ValuesLast { out, .. } | Labels::ValuesSteps { out, .. } => *out,
        }
    }

    /// Whether the targets are classes.
    pub fn classifies(&self) -> bool {
        matches!(self.labels, Labels::Last(_) | Labels::Steps(_))
    }

    /// Splits off the sequences from `keep` on (a validation set).
    pub fn split_off(&mut self, keep: usize) -> Self {
        let (t, i) = (self.steps, self.inputs);
        let per = |v: &mut Vec<bool>| v.split_off(keep * t);
        Self {
            steps: t,
            inputs: i,
            x: self.x.split_off(keep * t * i),
            labels: match &mut self.labels {
                Labels::Last(l) => Labels::Last(l.split_off(keep)),
                Labels::Steps(l) => Labels::Steps(l.split_off(keep * t)),
                Labels::ValuesLast { out, v } => Labels::ValuesLast {
                    out: *out,
                    v: v.split_off(keep * *out),
                },
                Labels::ValuesSteps { out, v } => Labels::ValuesSteps {
                    out: *out,
                    v: v.split_off(keep * t * *out),
                },
            },
            decision: self.decision.as_mut().map(per),
            loss_mask: self.loss_mask.as_mut().map(per),
        }
    }

    /// The sequences `idx` as one time-major batch.
    pub fn batch(&self, idx: &[usize]) -> Batch {
        let (t_n, inp, b_n) = (self.steps, self.inputs, idx.len());
        let mut x = Mat::zeros(t_n * b_n, inp);
        for t in 0..t_n {
            for (b, &i) in idx.iter().enumerate() {
                let from = (i * t_n + t) * inp;
                x.row_mut(t * b_n + b)
                    .copy_from_slice(&self.x[from..from + inp]);
            }
        }
        // Where each time-major row of the batch is in a per-step `n × T` array.
        let order: Vec<usize> = (0..t_n)
            .flat_map(|t| idx.iter().map(move |&i| i * t_n + t))
            .collect();
        let as_weights = |m: &[bool]| order.iter().map(|&k| m[k] as u8 as f32).collect();
        let loss_mask: Option<Vec<f32>> = self.loss_mask.as_deref().map(as_weights);
        let (targets, mask) = match &self.labels {
            Labels::Last(l) => (Targets::Classes(idx.iter().map(|&i| l[i]).collect()), None),
            Labels::Steps(l) => {
                let labels: Vec<u32> = order.iter().map(|&k| l[k]).collect();
                match &self.decision {
                    Some(d) => (
                        Targets::Decisions {
                            labels,
                            decision: as_weights(d),
                            groups: None,
                        },
                        loss_mask,
                    ),
                    None => (Targets::Classes(labels), loss_mask),
                }
            }
            Labels::ValuesLast { out, v } => (
                Targets::Values(
                    idx.iter()
                        .flat_map(|&i| v[i * out..(i + 1) * out].iter().copied())
                        .collect(),
                ),
                None,
            ),
            Labels::ValuesSteps { out, v } => {
                let vals = order
                    .iter()
                    .flat_map(|&k| v[k * out..(k + 1) * out].iter().copied())
                    .collect();
                // The step mask weights every output of its step.
                let m = loss_mask.map(|m| {
                    m.iter()
                        .flat_map(|&w| std::iter::repeat_n(w, *out))
                        .collect()
                });
                (Targets::Values(vals), m)
            }
        };
        Batch {
            x,
            targets,
            mask,
            steps: t_n,
        }
    }
}

/// `n` sequences of the adding problem of `steps` steps from the generator `rng`.
pub fn adding(n: usize, steps: usize, rng: &mut impl rand::Rng) -> SeqSplit {
    use rand::RngExt;
    let half = steps / 2;
    let mut x = vec![0f32; n * steps * 2];
    let mut y = Vec::with_capacity(n);
    for s in 0..n {
        let at = |t: usize| (s * steps + t) * 2;
        for t in 0..steps {
            x[at(t)] = rng.random_range(0.0f32..1.0);
        }
        let (a, b) = (rng.random_range(0..half), rng.random_range(half..steps));
        x[at(a) + 1] = 1.0;
        x[at(b) + 1] = 1.0;
        y.push(x[at(a)] + x[at(b)]);
    }
    SeqSplit {
        steps,
        inputs: 2,
        x,
        labels: Labels::ValuesLast { out: 1, v: y },
        decision: None,
        loss_mask: None,
    }
}

/// Reads the 8×8 digits (pixels/16) embedded in `smartcore`.
pub fn digits() -> Dataset {
    let d = smartcore::dataset::digits::load_dataset();
    Dataset {
        x: d.data.iter().map(|&v| v / 16.0).collect(),
        y: d.target.iter().map(|&v| v as u32).collect(),
        dim: d.num_features,
        classes: 10,
    }
}

/// Reads a sequence archive (see [`crate::train::config::DataConfig::Npz`]), checking every
/// shape against `x`'s and every value.
pub fn read_npz(path: &Path) -> Result<SeqSplit> {
    let mut a = crate::io::weights::read_npz_all(path)?;
    let bad = |m: String| Error::data(path, m);
    let x = a.remove("x").ok_or_else(|| {
        bad(format!(
            "the archive has no array `x` (it has {})",
            names(&a)
        ))
    })?;
    let y = a.remove("y").ok_or_else(|| {
        bad(format!(
            "the archive has no array `y` (it has {})",
            names(&a)
        ))
    })?;
    let [t_n, n, inp] = x.shape[..] else {
        return Err(bad(format!(
            "`x` has shape {:?}; it must be [T, N, inputs] (time first)",
            x.shape
        )));
    };
    if !x.float {
        return Err(bad("`x` must hold floats".into()));
    }
    if t_n == 0 || n == 0 || inp == 0 {
        return Err(bad(format!("`x` has an empty dimension: {:?}", x.shape)));
    }
    if let Some(i) = x.data.iter().position(|v| !v.is_finite()) {
        return Err(bad(format!(
            "`x` holds a non-finite value at [{}, {}, {}]",
            i / (n * inp),
            i / inp % n,
            i % inp
        )));
    }
    // [T, N, ·] → [N, T, ·].
    let to_sample_major = |v: &[f64], w: usize| -> Vec<f64> {
        let mut o = vec![0.0; v.len()];
        for t in 0..t_n {
            for s in 0..n {
                let (from, to) = ((t * n + s) * w, (s * t_n + t) * w);
                o[to..to + w].copy_from_slice(&v[from..from + w]);
            }
        }
        o
    };
    let xs = to_sample_major(&x.data, inp)
        .into_iter()
        .map(|v| v as f32)
        .collect();
    let classes = |v: &[f64], what: &str| -> Result<Vec<u32>> {
        match v
            .iter()
            .position(|&c| !(c >= 0.0 && c.fract() == 0.0 && c < u32::MAX as f64))
        {
            Some(i) => Err(bad(format!(
                "`{what}` holds {} at flat index {i}: class labels are integers >= 0",
                v[i]
            ))),
            None => Ok(v.iter().map(|&c| c as u32).collect()),
        }
    };
    let labels = match (y.float, &y.shape[..]) {
        (false, [m]) if *m == n => Labels::Last(classes(&y.data, "y")?),
        (false, [a, b]) if (*a, *b) == (t_n, n) => {
            Labels::Steps(classes(&to_sample_major(&y.data, 1), "y")?)
        }
        (true, [m, out]) if *m == n => Labels::ValuesLast {
            out: *out,
            v: finite(&y, path)?.iter().map(|&v| v as f32).collect(),
        },
        (true, [a, b, out]) if (*a, *b) == (t_n, n) => {
            let v = finite(&y, path)?;
            Labels::ValuesSteps {
                out: *out,
                v: to_sample_major(v, *out).iter().map(|&v| v as f32).collect(),
            }
        }
        _ => {
            return Err(bad(format!(
                "`y` ({} {:?}) does not match `x` [{t_n}, {n}, {inp}]: use integer [N] or \
                 [T, N] classes, or float [N, out] or [T, N, out] values",
                if y.float { "float" } else { "integer" },
                y.shape
            )));
        }
    };
    let mut step_mask = |name: &str| -> Result<Option<Vec<bool>>> {
        let Some(m) = a.remove(name) else {
            return Ok(None);
        };
        if m.shape != [t_n, n] {
            return Err(bad(format!(
                "`{name}` has shape {:?}; it must be [T, N] = [{t_n}, {n}] like `x`",
                m.shape
            )));
        }
        if let Some(i) = m.data.iter().position(|&v| v != 0.0 && v != 1.0) {
            return Err(bad(format!(
                "`{name}` holds {} at flat index {i}: a mask is bool (or 0/1)",
                m.data[i]
            )));
        }
        Ok(Some(
            to_sample_major(&m.data, 1)
                .iter()
                .map(|&v| v != 0.0)
                .collect(),
        ))
    };
    let decision = step_mask("mask")?;
    let loss_mask = step_mask("loss_mask")?;
    if decision.is_some() && !matches!(labels, Labels::Steps(_)) {
        return Err(bad(
            "`mask` (the decision mask) needs per-step class labels `y` [T, N]".into(),
        ));
    }
    if loss_mask.is_some() && matches!(labels, Labels::Last(_) | Labels::ValuesLast { .. }) {
        return Err(bad(
            "`loss_mask` weights steps, but `y` labels only the last step".into(),
        ));
    }
    Ok(SeqSplit {
        steps: t_n,
        inputs: inp,
        x: xs,
        labels,
        decision,
        loss_mask,
    })
}

fn names(a: &BTreeMap<String, NdArray>) -> String {
    if a.is_empty() {
        "none".into()
    } else {
        a.keys().cloned().collect::<Vec<_>>().join(", ")
    }
}

fn finite<'a>(y: &'a NdArray, path: &Path) -> Result<&'a [f64]> {
    match y.data.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(Error::data(
            path,
            format!("`y` holds a non-finite value at flat index {i}"),
        )),
        None => Ok(&y.data),
    }
}

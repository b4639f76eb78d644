//! What the trainer trains: a [`Learner`] takes one update from a batch and evaluates itself.
//! [`Network`] is a feed-forward network with its optimiser; the r-of-k and linear-regression
//! experiments bring their own multi-rate learners (one lane per learning rate).

use super::model::Model;
use super::recurrent::{self, Sequences};
use super::source::{Batch, Source, Targets};
use crate::kernels::Backend;
use crate::nn::{Grads, Mat, Record, Sequential};
use crate::optim::{Optimizer, StepInfo};

/// What one update reports to the loop.
#[derive(Clone, Copy, Debug)]
pub struct Update {
    /// The batch's mean training loss (non-finite: the run diverged, nothing was updated).
    pub loss: f64,
    /// Samples in the batch (weights the logged mean training loss).
    pub rows: f64,
    /// The optimiser's report, for the step log.
    pub info: Option<StepInfo>,
}

/// An evaluation: the loss that decides divergence, and every metric by name.
#[derive(Clone, Debug)]
pub struct Evaluation {
    pub loss: f64,
    pub metrics: Vec<(&'static str, f64)>,
}

pub trait Learner {
    type Batch;
    /// One update from `batch`, in `epoch`; `measure` asks for the gradient norm in
    /// [`Update::info`] (the steps that are logged).
    fn update(&mut self, batch: Self::Batch, epoch: usize, measure: bool) -> Update;
    /// Evaluates on held-out data (`source.test()`, or the learner's own sets).
    fn evaluate(&mut self, source: &dyn Source<Batch = Self::Batch>) -> Evaluation;
}

/// A network, its optimiser and the backend they run on.
pub struct Network<'a> {
    pub be: &'a dyn Backend<f32>,
    pub model: &'a mut Model,
    pub opt: &'a mut Optimizer<f32>,
    pub smoothing: f64,
    /// How a recurrent network runs its sequences (noise, truncation).
    pub sequences: Sequences,
    grads: Grads<f32>,
    /// A recurrent network's record of its states, reused by every update.
    record: Option<Record<f32>>,
}

impl<'a> Network<'a> {
    pub fn new(
        be: &'a dyn Backend<f32>,
        model: &'a mut Model,
        opt: &'a mut Optimizer<f32>,
        smoothing: f64,
        sequences: Sequences,
    ) -> Self {
        let grads = model.grads();
        Self {
            be,
            model,
            opt,
            smoothing,
            sequences,
            grads,
            record: None,
        }
    }
}

/// The mean loss of `out` against `targets` (weighted by `mask`), with ∂loss/∂out in `grad`.
pub fn loss_of(
    be: &dyn Backend<f32>,
    out: &Mat<f32>,
    targets: &Targets,
    mask: Option<&[f32]>,
    smoothing: f64,
    grad: &mut Mat<f32>,
) -> f32 {
    match targets {
        Targets::Classes(labels) => {
            be.softmax_cross_entropy(&out.data, out.cols, labels, smoothing, mask, &mut grad.data)
        }
        Targets::Binary(t) => be.bce(&out.data, t, &mut grad.data),
        Targets::Values(y) => be.mse(&out.data, y, mask, &mut grad.data),
        Targets::Decisions {
            labels, decision, ..
        } => recurrent::decision_loss(be, out, labels, decision, mask, smoothing, grad),
    }
}

/// The class `out` predicts in row `r`.
fn predicted(out: &Mat<f32>, r: usize) -> u32 {
    let row = out.row(r);
    (0..row.len())
        .max_by(|&a, &b| row[a].total_cmp(&row[b]))
        .unwrap_or(0) as u32
}

/// Correct predictions and the rows counted (those of weight > 0), overall and in the
/// decision steps of decision targets (`None` for regression).
fn correct(out: &Mat<f32>, b: &Batch) -> Option<[(usize, usize); 2]> {
    let weight = |r: usize| b.mask.as_ref().map_or(1.0, |m| m[r]);
    let count = |ok: &dyn Fn(usize) -> bool, w: &dyn Fn(usize) -> f32| {
        let rows = (0..out.rows).filter(|&r| w(r) > 0.0);
        let n = rows.clone().count();
        (rows.filter(|&r| ok(r)).count(), n)
    };
    match &b.targets {
        Targets::Classes(labels) => {
            let c = count(&|r| predicted(out, r) == labels[r], &weight);
            Some([c, (0, 0)])
        }
        Targets::Binary(t) => {
            let c = count(&|r| ((out.row(r)[0] >= 0.0) as u32 as f32) == t[r], &weight);
            Some([c, (0, 0)])
        }
        Targets::Decisions {
            labels, decision, ..
        } => {
            let ok = |r: usize| predicted(out, r) == labels[r];
            Some([
                count(&ok, &weight),
                count(&ok, &|r| weight(r) * decision[r]),
            ])
        }
        Targets::Values(_) => None,
    }
}

/// Test-set metrics: the mean loss, the accuracy (%; NaN for regression), and for decision
/// targets the accuracy over decision steps (Dec Acc, %).
pub struct TestMetrics {
    pub loss: f64,
    pub acc: f64,
    pub dec_acc: Option<f64>,
}

/// [`TestMetrics`] of `model` on the source's test set.
pub fn evaluate(
    be: &dyn Backend<f32>,
    model: &Model,
    sequences: &Sequences,
    source: &dyn Source<Batch = Batch>,
    smoothing: f64,
) -> TestMetrics {
    let (mut loss, mut hits, mut samples) = (0.0, Some([(0usize, 0usize); 2]), 0usize);
    let mut decisions = false;
    for b in source.test() {
        let out = match model {
            Model::Feedforward(m) => m.predict(be, b.x.clone()),
            Model::Recurrent(net) => recurrent::predict(be, net, sequences, b),
        };
        let mut g = Mat::zeros(out.rows, out.cols);
        let n = b.samples();
        loss +=
            loss_of(be, &out, &b.targets, b.mask.as_deref(), smoothing, &mut g) as f64 * n as f64;
        decisions |= matches!(b.targets, Targets::Decisions { .. });
        hits = hits.zip(correct(&out, b)).map(|(a, c)| {
            [
                (a[0].0 + c[0].0, a[0].1 + c[0].1),
                (a[1].0 + c[1].0, a[1].1 + c[1].1),
            ]
        });
        samples += n;
    }
    let pct = |(h, n): (usize, usize)| 100.0 * h as f64 / n.max(1) as f64;
    TestMetrics {
        loss: loss / samples.max(1) as f64,
        acc: hits.map_or(f64::NAN, |h| pct(h[0])),
        dec_acc: hits.filter(|_| decisions).map(|h| pct(h[1])),
    }
}

/// Dec Acc per group (task) on the source's test set, beside each group's chance level; `None`
/// when the source has no groups.
pub fn per_group(
    be: &dyn Backend<f32>,
    model: &Model,
    sequences: &Sequences,
    source: &dyn Source<Batch = Batch>,
) -> Option<crate::tasks::cognitive::metrics::Scores> {
    let groups = source.groups();
    let Model::Recurrent(net) = model else {
        return None;
    };
    if groups.is_empty() {
        return None;
    }
    let (mut pred, mut label, mut decision, mut group) = (vec![], vec![], vec![], vec![]);
    for b in source.test() {
        let Targets::Decisions {
            labels,
            decision: d,
            groups: Some(g),
        } = &b.targets
        else {
            continue;
        };
        let out = recurrent::predict(be, net, sequences, b);
        pred.extend((0..out.rows).map(|r| predicted(&out, r)));
        label.extend_from_slice(labels);
        decision.extend(d.iter().map(|&v| v > 0.0));
        group.extend_from_slice(g);
    }
    Some(crate::tasks::cognitive::metrics::score(
        &groups, &pred, &label, &decision, &group,
    ))
}

impl Learner for Network<'_> {
    type Batch = Batch;

    fn update(&mut self, batch: Batch, epoch: usize, measure: bool) -> Update {
        let be = self.be;
        let rows = batch.samples() as f64;
        self.opt.epoch = epoch;
        self.grads.zero();
        let loss = match &mut *self.model {
            Model::Feedforward(m) => feedforward(be, m, batch, self.smoothing, &mut self.grads),
            Model::Recurrent(net) => {
                let rec = self
                    .record
                    .get_or_insert_with(|| net.cell.begin(be, &[], 0, 0));
                let noise_at = self.opt.t;
                recurrent::gradients(
                    be,
                    net,
                    &self.sequences,
                    rec,
                    &batch,
                    self.smoothing,
                    noise_at,
                    &mut self.grads,
                )
            }
        };
        if !loss.is_finite() {
            return Update {
                loss,
                rows,
                info: None,
            };
        }
        self.opt.measure_norm = measure;
        let info = self
            .opt
            .step(be, &mut self.model.params_mut(), &mut self.grads);
        Update {
            loss,
            rows,
            info: Some(info),
        }
    }

    fn evaluate(&mut self, source: &dyn Source<Batch = Batch>) -> Evaluation {
        let m = evaluate(self.be, self.model, &self.sequences, source, self.smoothing);
        let mut metrics = vec![("test_acc", m.acc), ("test_loss", m.loss)];
        if let Some(d) = m.dec_acc {
            metrics.push(("test_dec_acc", d));
        }
        Evaluation {
            loss: m.loss,
            metrics,
        }
    }
}

/// The loss of a feed-forward network on `batch`, with every gradient added into `grads`
/// (none when the loss is not finite).
fn feedforward(
    be: &dyn Backend<f32>,
    model: &Sequential<f32>,
    batch: Batch,
    smoothing: f64,
    grads: &mut Grads<f32>,
) -> f64 {
    let Batch {
        x, targets, mask, ..
    } = batch;
    let (out, tape) = model.forward(be, x);
    let mut grad = Mat::zeros(out.rows, out.cols);
    let loss = loss_of(be, &out, &targets, mask.as_deref(), smoothing, &mut grad) as f64;
    if loss.is_finite() {
        model.backward(be, &tape, grad, grads);
    }
    loss
}

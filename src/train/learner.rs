//! What the trainer trains: a [`Learner`] takes one update from a batch and evaluates itself.
//! [`Network`] is a feed-forward network with its optimiser; the r-of-k and linear-regression
//! experiments bring their own multi-rate learners (one lane per learning rate).

use super::source::{Batch, Source, Targets};
use crate::kernels::Backend;
use crate::nn::{Grads, Mat, Sequential};
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
    pub model: &'a mut Sequential<f32>,
    pub opt: &'a mut Optimizer<f32>,
    pub smoothing: f64,
    grads: Grads<f32>,
}

impl<'a> Network<'a> {
    pub fn new(
        be: &'a dyn Backend<f32>,
        model: &'a mut Sequential<f32>,
        opt: &'a mut Optimizer<f32>,
        smoothing: f64,
    ) -> Self {
        let grads = model.grads();
        Self {
            be,
            model,
            opt,
            smoothing,
            grads,
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
    }
}

/// Correct predictions in a batch (`None` for regression).
fn correct(out: &Mat<f32>, batch: &Batch) -> Option<usize> {
    let rows = 0..out.rows;
    match &batch.targets {
        Targets::Classes(labels) => Some(
            rows.filter(|&r| {
                let row = out.row(r);
                let pred = (0..row.len())
                    .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                    .unwrap_or(0) as u32;
                pred == labels[r]
            })
            .count(),
        ),
        Targets::Binary(t) => Some(
            rows.filter(|&r| ((out.row(r)[0] >= 0.0) as u32 as f32) == t[r])
                .count(),
        ),
        Targets::Values(_) => None,
    }
}

/// Mean loss and accuracy (%; NaN for regression) of `model` on the source's test set.
pub fn evaluate(
    be: &dyn Backend<f32>,
    model: &Sequential<f32>,
    source: &dyn Source<Batch = Batch>,
    smoothing: f64,
) -> (f64, f64) {
    let (mut loss, mut hits, mut rows) = (0.0, Some(0usize), 0usize);
    for b in source.test() {
        let out = model.predict(be, b.x.clone());
        let mut g = Mat::zeros(out.rows, out.cols);
        loss += loss_of(be, &out, &b.targets, b.mask.as_deref(), smoothing, &mut g) as f64
            * b.x.rows as f64;
        hits = hits.zip(correct(&out, b)).map(|(a, c)| a + c);
        rows += b.x.rows;
    }
    let n = rows.max(1) as f64;
    (loss / n, hits.map_or(f64::NAN, |h| 100.0 * h as f64 / n))
}

impl Learner for Network<'_> {
    type Batch = Batch;

    fn update(&mut self, batch: Batch, epoch: usize, measure: bool) -> Update {
        let be = self.be;
        let Batch { x, targets, mask } = batch;
        let rows = x.rows as f64;
        self.opt.epoch = epoch;
        let (out, tape) = self.model.forward(be, x);
        let mut grad = Mat::zeros(out.rows, out.cols);
        let loss = loss_of(
            be,
            &out,
            &targets,
            mask.as_deref(),
            self.smoothing,
            &mut grad,
        ) as f64;
        if !loss.is_finite() {
            return Update {
                loss,
                rows,
                info: None,
            };
        }
        self.grads.zero();
        self.model.backward(be, &tape, grad, &mut self.grads);
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
        let (loss, acc) = evaluate(self.be, self.model, source, self.smoothing);
        Evaluation {
            loss,
            metrics: vec![("test_acc", acc), ("test_loss", loss)],
        }
    }
}

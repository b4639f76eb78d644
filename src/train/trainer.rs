//! The one training loop: batches from a [`Source`], forward, loss, backward into the gradient
//! store, one optimiser update, then the step hooks. Its length is counted in updates; an epoch
//! source also marks epoch boundaries, where it evaluates unless `eval_every` says otherwise.
//!
//! After every evaluation the rolling checkpoint holds the weights, the optimiser state, the
//! source's position and the running loss sums, so a run stopped at any evaluation (or by a
//! signal, at any update) and resumed ends with the same weights as one that never stopped.

use super::checkpoint::{self, Extra};
use super::config::TrainConfig;
use super::hooks::{self, Checkpoints, Progress};
use super::source::{Batch, Source, Targets};
use crate::error::{Error, Result};
use crate::io::RunDir;
use crate::kernels::Backend;
use crate::nn::{Mat, Sequential};
use crate::optim::Optimizer;
use std::collections::HashMap;

/// Running sums of the training loss, saved in checkpoints.
#[derive(Clone, Debug, Default)]
pub struct Totals {
    /// Σ of the batch losses over all updates so far, and their count (the loss AUC).
    pub loss_sum: f64,
    pub updates: usize,
    /// Σ loss·rows and Σ rows since the last evaluation (the logged `train_loss`).
    pub period_loss: f64,
    pub period_rows: f64,
}

impl Totals {
    /// The mean training loss per update (NaN before the first).
    pub fn auc(&self) -> f64 {
        if self.updates == 0 {
            f64::NAN
        } else {
            self.loss_sum / self.updates as f64
        }
    }

    /// As checkpoint metadata (exact: floats by their bits).
    pub fn to_meta(&self) -> Vec<(String, String)> {
        vec![
            ("train.loss_sum".into(), self.loss_sum.to_bits().to_string()),
            ("train.updates".into(), self.updates.to_string()),
            (
                "train.period_loss".into(),
                self.period_loss.to_bits().to_string(),
            ),
            (
                "train.period_rows".into(),
                self.period_rows.to_bits().to_string(),
            ),
        ]
    }

    /// From checkpoint metadata; a checkpoint written before these sums existed restores zeros.
    pub fn restore(meta: &HashMap<String, String>) -> std::result::Result<Self, String> {
        if !meta.contains_key("train.updates") {
            return Ok(Self::default());
        }
        let get = |k: &str| -> std::result::Result<u64, String> {
            meta.get(k)
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| format!("checkpoint metadata `{k}` is missing or not a number"))
        };
        Ok(Self {
            loss_sum: f64::from_bits(get("train.loss_sum")?),
            updates: get("train.updates")? as usize,
            period_loss: f64::from_bits(get("train.period_loss")?),
            period_rows: f64::from_bits(get("train.period_rows")?),
        })
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

/// Mean loss and accuracy (%; NaN for regression) on the source's test set.
pub fn evaluate(
    be: &dyn Backend<f32>,
    model: &Sequential<f32>,
    source: &dyn Source,
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

/// How a call to [`Trainer::train`] ended.
pub struct EndState {
    /// Updates taken in total.
    pub updates: usize,
    pub test_loss: f64,
    pub test_acc: f64,
    /// Ended by a stop signal before `end`.
    pub stopped: bool,
}

pub struct Trainer<'a> {
    /// Where the arithmetic runs.
    pub be: &'a dyn Backend<f32>,
    pub cfg: &'a TrainConfig,
    pub run: &'a mut RunDir,
    pub model: &'a mut Sequential<f32>,
    pub opt: &'a mut Optimizer<f32>,
    pub source: &'a mut dyn Source,
    /// Updates per epoch (`None` for a stream).
    pub per_epoch: Option<usize>,
    pub totals: Totals,
    pub quiet: bool,
}

impl Trainer<'_> {
    fn epoch_of(&self, t: usize) -> usize {
        self.per_epoch.map_or(0, |e| t / e)
    }

    /// Whether an evaluation follows update `t` (1-based) of `total`.
    fn evaluates_after(&self, t: usize, total: usize) -> bool {
        let every = match (self.cfg.eval_every, self.per_epoch) {
            (Some(n), _) => n,
            (None, Some(e)) => e,
            (None, None) => total.div_ceil(10).max(1),
        };
        t.is_multiple_of(every) || t == total
    }

    fn save(&mut self, path: &std::path::Path, t: usize) -> Result<()> {
        let mut meta = self.source.state();
        meta.extend(self.totals.to_meta());
        let extra = Extra {
            epoch: self.epoch_of(t),
            meta,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        checkpoint::save(path, self.model, self.opt, &extra)
    }

    fn diverged(&mut self, value: f64) -> Result<EndState> {
        self.run.flush()?;
        Err(Error::Diverged {
            step: self.opt.t,
            epoch: self.epoch_of(self.opt.t),
            value,
            dir: self.run.file("checkpoint.safetensors"),
        })
    }

    /// Runs updates `start..end` of a run of `total` updates.
    pub fn train(&mut self, start: usize, end: usize, total: usize) -> Result<EndState> {
        let (cfg, be) = (self.cfg, self.be);
        let smoothing = cfg.loss.label_smoothing;
        let named = Checkpoints::new(&cfg.checkpoints, &self.run.path);
        let progress = Progress::new("updates", start as u64, total as u64, self.quiet);
        let mut grads = self.model.grads();
        let rolling = self.run.file("checkpoint.safetensors");
        let (mut test_loss, mut test_acc) = (f64::NAN, f64::NAN);
        for t in start..end {
            let epoch = self.epoch_of(t);
            self.opt.epoch = epoch;
            if self.per_epoch.is_some_and(|e| t.is_multiple_of(e))
                && let Some(p) = named.at_epoch_start(epoch)
            {
                self.save(&p, t)?;
            }
            let Batch { x, targets, mask } = self.source.batch(t);
            let rows = x.rows as f64;
            let (out, tape) = self.model.forward(be, x);
            let mut grad = Mat::zeros(out.rows, out.cols);
            let loss = loss_of(be, &out, &targets, mask.as_deref(), smoothing, &mut grad);
            if !loss.is_finite() {
                return self.diverged(loss as f64);
            }
            self.totals.period_loss += loss as f64 * rows;
            self.totals.period_rows += rows;
            self.totals.loss_sum += loss as f64;
            self.totals.updates += 1;
            grads.zero();
            self.model.backward(be, &tape, grad, &mut grads);
            self.opt.measure_norm = (self.opt.t + 1).is_multiple_of(cfg.log_every);
            let info = self.opt.step(be, &mut self.model.params_mut(), &mut grads);
            let done = t + 1;
            if self.opt.t.is_multiple_of(cfg.log_every) {
                self.run.log(&serde_json::json!({
                    "step": self.opt.t, "epoch": epoch, "loss": loss, "lr": info.lr,
                    "grad_norm": info.grad_norm, "grad_norm_clipped": info.grad_norm_clipped,
                }))?;
            }
            progress.set(done as u64, || format!("loss {loss:.4}"));
            if let Some(p) = named.after_update(done) {
                self.save(&p, done)?;
            }
            let stop = hooks::stop_requested() && done < end;
            if self.evaluates_after(done, total) {
                (test_loss, test_acc) = evaluate(be, self.model, self.source, smoothing);
                if !test_loss.is_finite() {
                    return self.diverged(test_loss);
                }
                let train_loss = self.totals.period_loss / self.totals.period_rows;
                self.totals.period_loss = 0.0;
                self.totals.period_rows = 0.0;
                let mut line = serde_json::json!({
                    "step": self.opt.t, "train_loss": train_loss,
                    "test_loss": test_loss, "test_acc": test_acc,
                });
                if self.per_epoch.is_some() {
                    line["epoch"] = serde_json::json!(self.epoch_of(done));
                }
                self.run.log(&line)?;
                self.run.flush()?;
                self.save(&rolling, done)?;
                let metrics = [
                    ("test_acc", test_acc),
                    ("test_loss", test_loss),
                    ("train_loss", train_loss),
                ];
                for p in named.after_evaluation(&metrics) {
                    self.save(&p, done)?;
                }
            } else if stop {
                self.run.flush()?;
                self.save(&rolling, done)?;
            }
            if stop {
                progress.finish();
                return Ok(EndState {
                    updates: done,
                    test_loss,
                    test_acc,
                    stopped: true,
                });
            }
        }
        progress.finish();
        // Stopped early on purpose (`--stop-after` between evaluations): keep the position.
        if end > start && end < total && !self.evaluates_after(end, total) {
            self.run.flush()?;
            self.save(&rolling, end)?;
        }
        Ok(EndState {
            updates: end.max(start),
            test_loss,
            test_acc,
            stopped: false,
        })
    }
}

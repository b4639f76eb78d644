//! The one training loop, for every learner: the batch of each update from a [`Source`], one
//! update of the [`Learner`], then the step hooks ([`Hooks`]); evaluations where the
//! [`Schedule`] says. Its length is counted in updates; an epoch source also marks epoch
//! boundaries, where it evaluates unless `eval_every` says otherwise. `geoplast train` runs a
//! [`Network`](super::learner::Network) with the run-folder hooks
//! ([`RunHooks`](super::run_hooks::RunHooks)); r-of-k and linreg run their multi-rate learners
//! with hooks of their own.

use super::hooks::{self, Progress};
use super::learner::{Evaluation, Learner, Update};
use super::source::Source;
use crate::error::Result;
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

/// When the loop evaluates.
#[derive(Clone, Copy, Debug)]
pub struct Schedule {
    /// Updates per epoch (`None` for a stream).
    pub per_epoch: Option<usize>,
    /// Evaluate after every this many updates (default: every epoch, or a tenth of a stream).
    pub eval_every: Option<usize>,
    /// Also evaluate before the first update of a run (r-of-k reports the evaluation at each
    /// epoch start).
    pub eval_at_start: bool,
    /// A stop signal ends the run at the next update.
    pub stoppable: bool,
    /// Show progress (a bar or status lines).
    pub progress: bool,
}

impl Schedule {
    pub fn epoch_of(&self, t: usize) -> usize {
        self.per_epoch.map_or(0, |e| t / e)
    }

    /// Whether an evaluation follows update `t` (1-based) of `total`.
    pub fn evaluates_after(&self, t: usize, total: usize) -> bool {
        let every = match (self.eval_every, self.per_epoch) {
            (Some(n), _) => n,
            (None, Some(e)) => e,
            (None, None) => total.div_ceil(10).max(1),
        };
        t.is_multiple_of(every) || t == total
    }
}

/// What the loop shows its hooks: the learner, the source and the running sums.
pub struct View<'v, L: Learner> {
    pub learner: &'v L,
    pub source: &'v dyn Source<Batch = L::Batch>,
    pub totals: &'v Totals,
    pub schedule: &'v Schedule,
}

/// Step hooks: logging, checkpoints, ticks. Each gets the loop's [`View`]; an error ends the run.
pub trait Hooks<L: Learner> {
    /// Before the first update of `epoch` (update `t`).
    fn epoch_start(&mut self, _v: &View<L>, _t: usize, _epoch: usize) -> Result<()> {
        Ok(())
    }
    /// After `done` updates.
    fn after_update(
        &mut self,
        _v: &View<L>,
        _done: usize,
        _epoch: usize,
        _u: &Update,
    ) -> Result<()> {
        Ok(())
    }
    /// After the evaluation that follows `done` updates; `train_loss` is the mean training loss
    /// since the previous evaluation (NaN for the one before the first update).
    fn after_evaluation(
        &mut self,
        _v: &View<L>,
        _done: usize,
        _e: &Evaluation,
        _train_loss: f64,
    ) -> Result<()> {
        Ok(())
    }
    /// The run ends at `done` without an evaluation there (a stop signal, or `--stop-after`):
    /// keep the position.
    fn keep_position(&mut self, _v: &View<L>, _done: usize) -> Result<()> {
        Ok(())
    }
    /// A non-finite loss `value` at update `step`. The default ends the loop quietly (the
    /// learner knows what diverged); a run folder turns it into an error.
    fn diverged(&mut self, _v: &View<L>, _step: usize, _value: f64) -> Result<()> {
        Ok(())
    }
}

/// No hooks: a learner that keeps its own record.
pub struct NoHooks;

impl<L: Learner> Hooks<L> for NoHooks {}

/// How a call to [`Trainer::train`] ended.
pub struct EndState {
    /// Updates taken in total.
    pub updates: usize,
    /// The last evaluation (None if there was none).
    pub last: Option<Evaluation>,
    /// The mean training loss logged with the last evaluation: over the updates since the one
    /// before it, the final epoch's when evaluating every epoch (NaN if there was none).
    pub train_loss: f64,
    /// Ended by a stop signal before `end`.
    pub stopped: bool,
}

pub struct Trainer<'a, L: Learner> {
    pub learner: &'a mut L,
    pub source: &'a mut dyn Source<Batch = L::Batch>,
    pub hooks: &'a mut dyn Hooks<L>,
    pub schedule: Schedule,
    /// Log the gradient norm on updates that are multiples of this.
    pub log_every: usize,
    pub totals: Totals,
    /// A caller watching the progress (and able to stop the run).
    pub watcher: Option<&'a hooks::Watcher>,
}

/// The [`View`] of a trainer, borrowed field by field so that its hooks stay borrowable.
macro_rules! view {
    ($t:expr) => {
        &View {
            learner: &*$t.learner,
            source: &*$t.source,
            totals: &$t.totals,
            schedule: &$t.schedule,
        }
    };
}

impl<L: Learner> Trainer<'_, L> {
    /// Runs updates `start..end` of a run of `total` updates.
    pub fn train(&mut self, start: usize, end: usize, total: usize) -> Result<EndState> {
        let sch = self.schedule;
        let progress = Progress::new("updates", start as u64, total as u64, !sch.progress);
        let mut last = None;
        let mut train_loss = f64::NAN;
        let mut watched = std::time::Instant::now();
        if sch.eval_at_start && start == 0 {
            let e = self.learner.evaluate(self.source);
            self.hooks.after_evaluation(view!(self), 0, &e, f64::NAN)?;
            last = Some(e);
        }
        for t in start..end {
            let epoch = sch.epoch_of(t);
            if sch.per_epoch.is_some_and(|e| t.is_multiple_of(e)) {
                self.hooks.epoch_start(view!(self), t, epoch)?;
            }
            let batch = self.source.batch(t);
            let done = t + 1;
            let u = self
                .learner
                .update(batch, epoch, done.is_multiple_of(self.log_every));
            if !u.loss.is_finite() {
                self.hooks.diverged(view!(self), t, u.loss)?;
                progress.finish();
                return Ok(EndState {
                    updates: t,
                    last,
                    train_loss,
                    stopped: false,
                });
            }
            self.totals.period_loss += u.loss * u.rows;
            self.totals.period_rows += u.rows;
            self.totals.loss_sum += u.loss;
            self.totals.updates += 1;
            self.hooks.after_update(view!(self), done, epoch, &u)?;
            let loss = u.loss;
            progress.set(done as u64, || format!("loss {loss:.4}"));
            if let Some(w) = self.watcher
                && (done == end || watched.elapsed().as_millis() >= 100)
            {
                watched = std::time::Instant::now();
                if !(w.0)(done as u64, total as u64) {
                    hooks::request_stop();
                }
            }
            let stop = sch.stoppable && hooks::stop_requested() && done < end;
            if sch.evaluates_after(done, total) {
                let e = self.learner.evaluate(self.source);
                if !e.loss.is_finite() {
                    self.hooks.diverged(view!(self), done, e.loss)?;
                    progress.finish();
                    return Ok(EndState {
                        updates: done,
                        last: Some(e),
                        train_loss,
                        stopped: false,
                    });
                }
                train_loss = self.totals.period_loss / self.totals.period_rows;
                self.totals.period_loss = 0.0;
                self.totals.period_rows = 0.0;
                self.hooks
                    .after_evaluation(view!(self), done, &e, train_loss)?;
                last = Some(e);
            } else if stop {
                self.hooks.keep_position(view!(self), done)?;
            }
            if stop {
                progress.finish();
                return Ok(EndState {
                    updates: done,
                    last,
                    train_loss,
                    stopped: true,
                });
            }
        }
        progress.finish();
        // Stopped early on purpose (`--stop-after` between evaluations): keep the position.
        if end > start && end < total && !sch.evaluates_after(end, total) {
            self.hooks.keep_position(view!(self), end)?;
        }
        Ok(EndState {
            updates: end.max(start),
            last,
            train_loss,
            stopped: false,
        })
    }
}

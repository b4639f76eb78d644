//! The hooks of a run folder: the step and evaluation lines of `metrics.jsonl`, the rolling
//! checkpoint after every evaluation (and where a run stops between evaluations), the named
//! checkpoints, and divergence as an error that names the last checkpoint.
//!
//! The rolling checkpoint holds the weights, the optimiser state, the source's position and the
//! running loss sums, so a run stopped at any evaluation (or by a signal, at any update) and
//! resumed ends with the same weights as one that never stopped.

use super::checkpoint::{self, Extra};
use super::hooks::Checkpoints;
use super::learner::{Evaluation, Network, Update};
use super::trainer::{Hooks, View};
use crate::error::{Error, Result};
use crate::io::RunDir;
use std::path::{Path, PathBuf};

pub struct RunHooks<'a> {
    pub run: &'a mut RunDir,
    named: Checkpoints<'a>,
    rolling: PathBuf,
    log_every: usize,
}

impl<'a> RunHooks<'a> {
    pub fn new(run: &'a mut RunDir, cfg: &'a super::config::TrainConfig) -> Self {
        let named = Checkpoints::new(&cfg.checkpoints, &run.path);
        let rolling = run.file("checkpoint.safetensors");
        Self {
            run,
            named,
            rolling,
            log_every: cfg.log_every,
        }
    }

    /// Saves a checkpoint at `path`; the rolling one keeps its previous generation.
    fn save(&self, v: &View<Network>, path: &Path, t: usize) -> Result<()> {
        let mut meta = v.source.state();
        meta.extend(v.totals.to_meta());
        let extra = Extra {
            epoch: v.schedule.epoch_of(t),
            meta,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        if path == self.rolling {
            checkpoint::save_keeping_previous(path, v.learner.model, v.learner.opt, &extra)
        } else {
            checkpoint::save(path, v.learner.model, v.learner.opt, &extra)
        }
    }
}

impl<'a, 'n> Hooks<Network<'n>> for RunHooks<'a> {
    fn epoch_start(&mut self, v: &View<Network<'n>>, t: usize, epoch: usize) -> Result<()> {
        match self.named.at_epoch_start(epoch) {
            Some(p) => self.save(v, &p, t),
            None => Ok(()),
        }
    }

    fn after_update(
        &mut self,
        v: &View<Network<'n>>,
        done: usize,
        epoch: usize,
        u: &Update,
    ) -> Result<()> {
        if let Some(info) = u.info
            && done.is_multiple_of(self.log_every)
        {
            self.run.log(&serde_json::json!({
                "step": done, "epoch": epoch, "loss": u.loss as f32, "lr": info.lr,
                "grad_norm": info.grad_norm, "grad_norm_clipped": info.grad_norm_clipped,
            }))?;
        }
        match self.named.after_update(done) {
            Some(p) => self.save(v, &p, done),
            None => Ok(()),
        }
    }

    fn after_evaluation(
        &mut self,
        v: &View<Network<'n>>,
        done: usize,
        e: &Evaluation,
        train_loss: f64,
    ) -> Result<()> {
        let mut line = serde_json::json!({ "step": done, "train_loss": train_loss });
        for (name, value) in &e.metrics {
            line[*name] = serde_json::json!(value);
        }
        if v.schedule.per_epoch.is_some() {
            line["epoch"] = serde_json::json!(v.schedule.epoch_of(done));
        }
        self.run.log(&line)?;
        self.run.flush()?;
        self.save(v, &self.rolling, done)?;
        let mut metrics = e.metrics.clone();
        metrics.push(("train_loss", train_loss));
        for p in self.named.after_evaluation(&metrics) {
            self.save(v, &p, done)?;
        }
        Ok(())
    }

    fn keep_position(&mut self, v: &View<Network<'n>>, done: usize) -> Result<()> {
        self.run.flush()?;
        self.save(v, &self.rolling, done)
    }

    fn diverged(&mut self, v: &View<Network<'n>>, step: usize, value: f64) -> Result<()> {
        self.run.flush()?;
        Err(Error::Diverged {
            step,
            epoch: v.schedule.epoch_of(step),
            value,
            dir: self.rolling.clone(),
        })
    }
}

//! Data sources of the trainer, behind one trait: data sets served in epoch-shuffled batches, and
//! streams of fresh samples counted in updates, whose position a checkpoint saves.

use super::data::{Data, Split};
use crate::nn::Mat;
use crate::tasks::teacher::TeacherStream;
use rand::seq::SliceRandom;
use std::collections::HashMap;

/// What the outputs of a batch are trained against.
#[derive(Clone, Debug)]
pub enum Targets {
    /// Class indices (softmax cross-entropy).
    Classes(Vec<u32>),
    /// 0/1 labels of one logit (binary cross-entropy).
    Binary(Vec<f32>),
    /// Regression targets, one per output element (mean squared error).
    Values(Vec<f32>),
    /// Per-step classes with a decision mask (1 inside a decision): cross-entropy inside it
    /// and MSE towards one-hot(class 0) outside, each averaged over its own steps (E2's loss).
    Decisions {
        labels: Vec<u32>,
        decision: Vec<f32>,
        /// The group (task) of every step, for Dec Acc per group ([`Source::groups`]).
        groups: Option<Vec<u16>>,
    },
}

/// One batch: inputs (rows are samples), targets, and an optional mask that weights rows of
/// class targets or elements of value targets (0 leaves them out of the loss). A batch of
/// sequences has `steps > 1`: `x` is `[T·B, in]`, time-major, and the targets are either one
/// per sequence (read at the last step) or one per step and sequence (time-major).
#[derive(Clone, Debug)]
pub struct Batch {
    pub x: Mat<f32>,
    pub targets: Targets,
    pub mask: Option<Vec<f32>>,
    /// Time steps (1: a batch of samples).
    pub steps: usize,
}

impl Batch {
    /// Samples (sequences) in the batch.
    pub fn samples(&self) -> usize {
        self.x.rows / self.steps.max(1)
    }
}

/// A source of training batches. `Batch` is what its learner consumes: a [`Batch`] of matrices
/// for networks, row indices for the bit-packed r-of-k kernel.
pub trait Source {
    type Batch;
    /// Updates in one epoch, or `None` for a stream (counted in updates only).
    fn updates_per_epoch(&self) -> Option<usize>;
    /// The batch of update `t` (0-based). Updates are asked for in order, from the first update
    /// of a run or of a resume.
    fn batch(&mut self, t: usize) -> Self::Batch;
    /// The held-out evaluation set, in batches (none: the learner holds its own).
    fn test(&self) -> &[Self::Batch] {
        &[]
    }
    /// The source's position beyond the update count, as checkpoint metadata
    /// (`source.*` keys; a few integers). None for a source whose batch depends on the
    /// update alone.
    fn state(&self) -> Vec<(String, String)> {
        vec![]
    }
    /// The groups that decision targets' `groups` index (the tasks of a task stream): name and
    /// chance Dec Acc. Empty: no groups.
    fn groups(&self) -> Vec<(String, f64)> {
        vec![]
    }
    /// Restores a position saved by [`Source::state`].
    fn restore(&mut self, _meta: &HashMap<String, String>) -> Result<(), String> {
        Ok(())
    }
}

/// The sources of networks.
pub type DataSource = dyn Source<Batch = Batch>;

/// Evaluation batches of at most this many samples.
const EVAL_ROWS: usize = 1000;

/// Sequences of `steps` steps per evaluation batch: about as many step rows as 1,000 rows of
/// 28-step images.
pub fn eval_sequences(steps: usize) -> usize {
    (EVAL_ROWS * 28 / steps.max(1)).clamp(1, EVAL_ROWS)
}

/// A data set in batches of `batch_size`, reshuffled every epoch from the named generator of
/// that epoch (`train/shuffle/epoch{e}`), so the batch of update t depends on t alone.
pub struct Shuffled {
    data: Data,
    batch_size: usize,
    seed: u64,
    order: Vec<usize>,
    order_epoch: Option<usize>,
    test: Vec<Batch>,
}

fn split_batch(split: &Split, binary: bool, idx: &[usize]) -> Batch {
    if let Split::Seq(s) = split {
        return s.batch(idx);
    }
    let labels = idx.iter().map(|&i| split.label(i));
    Batch {
        x: split.batch(idx),
        targets: if binary {
            Targets::Binary(labels.map(|l| l as f32).collect())
        } else {
            Targets::Classes(labels.collect())
        },
        mask: None,
        steps: 1,
    }
}

impl Shuffled {
    pub fn new(data: Data, batch_size: usize, seed: u64) -> Self {
        let all: Vec<usize> = (0..data.test.len()).collect();
        // Sequences are evaluated in batches of about as many time-step rows as images.
        let chunk = match &data.test {
            Split::Seq(s) => eval_sequences(s.steps),
            _ => EVAL_ROWS,
        };
        let test = all
            .chunks(chunk)
            .map(|idx| split_batch(&data.test, data.binary, idx))
            .collect();
        Self {
            data,
            batch_size,
            seed,
            order: Vec::new(),
            order_epoch: None,
            test,
        }
    }
}

impl Source for Shuffled {
    type Batch = Batch;
    fn updates_per_epoch(&self) -> Option<usize> {
        Some(self.data.train.len().div_ceil(self.batch_size))
    }
    fn batch(&mut self, t: usize) -> Batch {
        let per_epoch = self.data.train.len().div_ceil(self.batch_size);
        let epoch = t / per_epoch;
        if self.order_epoch != Some(epoch) {
            self.order = (0..self.data.train.len()).collect();
            self.order.shuffle(&mut crate::rng::named(
                self.seed,
                &format!("train/shuffle/epoch{epoch}"),
            ));
            self.order_epoch = Some(epoch);
        }
        let k = t % per_epoch;
        let end = ((k + 1) * self.batch_size).min(self.order.len());
        let idx = &self.order[k * self.batch_size..end];
        split_batch(&self.data.train, self.data.binary, idx)
    }
    fn test(&self) -> &[Batch] {
        &self.test
    }
}

/// The student–teacher stream in batches of `batch_size` fresh samples.
pub struct Stream {
    teacher: TeacherStream,
    batch_size: usize,
    test: Vec<Batch>,
}

impl Stream {
    pub fn new(teacher: TeacherStream, batch_size: usize, seed: u64) -> Self {
        let (d, o) = (teacher.task.inputs, teacher.task.outputs);
        let (x, y) = teacher.test_set(seed);
        let test = x
            .chunks(EVAL_ROWS * d)
            .zip(y.chunks(EVAL_ROWS * o))
            .map(|(x, y)| Batch {
                x: Mat::from_vec(x.len() / d, d, x.to_vec()),
                targets: Targets::Values(y.to_vec()),
                mask: None,
                steps: 1,
            })
            .collect();
        Self {
            teacher,
            batch_size,
            test,
        }
    }
}

impl Source for Stream {
    type Batch = Batch;
    fn updates_per_epoch(&self) -> Option<usize> {
        None
    }
    fn batch(&mut self, _t: usize) -> Batch {
        let (mut x, mut y) = (Vec::new(), Vec::new());
        self.teacher.next(self.batch_size, &mut x, &mut y);
        Batch {
            x: Mat::from_vec(self.batch_size, self.teacher.task.inputs, x),
            targets: Targets::Values(y),
            mask: None,
            steps: 1,
        }
    }
    fn test(&self) -> &[Batch] {
        &self.test
    }
    fn state(&self) -> Vec<(String, String)> {
        vec![(
            "source.word_pos".into(),
            self.teacher.position().to_string(),
        )]
    }
    fn restore(&mut self, meta: &HashMap<String, String>) -> Result<(), String> {
        let pos = meta
            .get("source.word_pos")
            .and_then(|v| v.parse::<u128>().ok())
            .ok_or("checkpoint metadata lacks the stream position `source.word_pos`")?;
        self.teacher.seek(pos);
        Ok(())
    }
}

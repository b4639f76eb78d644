//! The cognitive-task streams as a trainer data source: update t trains on the next window of
//! every stream (plus E2's training input noise, keyed by t so a resume redraws it), the streams'
//! positions go into checkpoints, and evaluation uses fixed, seeded held-out windows.

use super::source::{Batch, Source, Targets, eval_sequences};
use crate::nn::Mat;
use crate::tasks::cognitive::{LabelMode, Streams, TaskSet, Window};
use std::collections::HashMap;

/// What the `data.kind = "tasks"` config asks for.
pub struct TaskData {
    pub set: TaskSet,
    pub steps: usize,
    pub dt: u32,
    pub labels: LabelMode,
    pub noise: bool,
    pub held_out: usize,
    /// `validation` or `test`.
    pub evaluate: String,
    pub epoch_updates: Option<usize>,
}

pub struct TaskStream {
    set: TaskSet,
    streams: Streams,
    steps: usize,
    noise: bool,
    epoch_updates: Option<usize>,
    window: Window,
    test: Vec<Batch>,
}

fn batch_of(w: &mut Window) -> Batch {
    Batch {
        x: Mat::from_vec(w.steps * w.batch, w.inputs, std::mem::take(&mut w.x)),
        targets: Targets::Decisions {
            labels: w.label.clone(),
            decision: w.decision.iter().map(|&d| d as u8 as f32).collect(),
            groups: Some(w.task.clone()),
        },
        mask: None,
        steps: w.steps,
    }
}

impl TaskStream {
    pub fn new(d: TaskData, batch_size: usize, seed: u64) -> Result<Self, String> {
        let streams = Streams::new(d.set.clone(), d.dt, d.labels, seed, "train", batch_size)?;
        // The held-out set in evaluation-sized chunks, each its own streams of the split.
        let chunk = eval_sequences(d.steps);
        let mut test = Vec::new();
        let mut w = Window::default();
        for (c, start) in (0..d.held_out).step_by(chunk).enumerate() {
            let n = chunk.min(d.held_out - start);
            let split = format!("{}/{c}", d.evaluate);
            let mut s = Streams::new(d.set.clone(), d.dt, d.labels, seed, &split, n)?;
            s.window(d.steps, &mut w);
            test.push(batch_of(&mut w));
        }
        Ok(Self {
            set: d.set,
            streams,
            steps: d.steps,
            noise: d.noise,
            epoch_updates: d.epoch_updates,
            window: Window::default(),
            test,
        })
    }

    /// The mean input over the held-out set (noise-free).
    pub fn mean_input(&self) -> f64 {
        let (s, n) = self.test.iter().fold((0.0, 0usize), |(s, n), b| {
            (
                s + b.x.data.iter().map(|&v| v as f64).sum::<f64>(),
                n + b.x.data.len(),
            )
        });
        s / n.max(1) as f64
    }
}

impl Source for TaskStream {
    type Batch = Batch;
    fn updates_per_epoch(&self) -> Option<usize> {
        self.epoch_updates
    }
    fn batch(&mut self, t: usize) -> Batch {
        self.streams.window(self.steps, &mut self.window);
        if self.noise {
            self.streams.add_input_noise(&mut self.window, t as u64);
        }
        batch_of(&mut self.window)
    }
    fn test(&self) -> &[Batch] {
        &self.test
    }
    fn state(&self) -> Vec<(String, String)> {
        vec![("source.task_streams".into(), self.streams.state())]
    }
    fn groups(&self) -> Vec<(String, f64)> {
        self.set
            .tasks
            .iter()
            .map(|t| (t.name.clone(), t.chance))
            .collect()
    }
    fn restore(&mut self, meta: &HashMap<String, String>) -> Result<(), String> {
        let s = meta
            .get("source.task_streams")
            .ok_or("checkpoint metadata lacks the task-stream positions `source.task_streams`")?;
        self.streams.restore(s)
    }
}

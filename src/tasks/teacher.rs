//! The student–teacher regression stream: an endless supply of fresh samples from a fixed linear
//! teacher, the classic online-learning setting (each update sees new data, so the run is
//! counted in updates, not epochs).
//!
//! `x ~ N(0, I_d)`, `y = W*·x/√d + σ·ε` with `W*` (outputs × d) i.i.d. N(0, 1) and ε ~ N(0, 1).
//! The teacher, the test set and the stream each draw from their own named generator; the
//! stream's position is one integer (its generator's word position), which a checkpoint saves.

use crate::rng::named;
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Teacher {
    /// Input dimension d.
    pub inputs: usize,
    /// Output dimension.
    pub outputs: usize,
    /// Label noise σ.
    pub noise: f64,
    /// Held-out test samples (drawn once).
    pub n_test: usize,
}

impl Default for Teacher {
    fn default() -> Self {
        Self {
            inputs: 20,
            outputs: 1,
            noise: 0.1,
            n_test: 1000,
        }
    }
}

impl Teacher {
    pub fn validate(&self) -> Result<(), String> {
        if self.inputs == 0 || self.outputs == 0 || self.n_test == 0 {
            return Err("data.inputs, data.outputs and data.n_test must be >= 1".into());
        }
        if !(self.noise >= 0.0 && self.noise.is_finite()) {
            return Err(format!("data.noise must be >= 0 (got {})", self.noise));
        }
        Ok(())
    }
}

/// The teacher of a run and its stream of samples.
#[derive(Clone, Debug)]
pub struct TeacherStream {
    pub task: Teacher,
    weights: Vec<f64>,
    stream: ChaCha8Rng,
}

impl TeacherStream {
    pub fn new(task: Teacher, seed: u64) -> Self {
        let mut rng = named(seed, "teacher/weights");
        let weights = (0..task.outputs * task.inputs)
            .map(|_| rng.sample::<f64, _>(StandardNormal))
            .collect();
        Self {
            task,
            weights,
            stream: named(seed, "teacher/stream"),
        }
    }

    /// Appends `n` samples drawn from `rng` to `x` (n × d) and `y` (n × outputs).
    fn draw(
        task: &Teacher,
        weights: &[f64],
        rng: &mut ChaCha8Rng,
        n: usize,
        x: &mut Vec<f32>,
        y: &mut Vec<f32>,
    ) {
        let (d, o) = (task.inputs, task.outputs);
        let scale = 1.0 / (d as f64).sqrt();
        let mut row = vec![0.0; d];
        for _ in 0..n {
            row.iter_mut()
                .for_each(|v| *v = rng.sample::<f64, _>(StandardNormal));
            x.extend(row.iter().map(|&v| v as f32));
            for k in 0..o {
                let w = &weights[k * d..(k + 1) * d];
                let clean: f64 = w.iter().zip(&row).map(|(a, b)| a * b).sum::<f64>() * scale;
                let eps: f64 = rng.sample(StandardNormal);
                y.push((clean + task.noise * eps) as f32);
            }
        }
    }

    /// The next `n` stream samples as (x, y), overwriting the buffers.
    pub fn next(&mut self, n: usize, x: &mut Vec<f32>, y: &mut Vec<f32>) {
        x.clear();
        y.clear();
        Self::draw(&self.task, &self.weights, &mut self.stream, n, x, y);
    }

    /// The held-out test set (the same for every call).
    pub fn test_set(&self, seed: u64) -> (Vec<f32>, Vec<f32>) {
        let (mut x, mut y) = (Vec::new(), Vec::new());
        let mut rng = named(seed, "teacher/test");
        Self::draw(
            &self.task,
            &self.weights,
            &mut rng,
            self.task.n_test,
            &mut x,
            &mut y,
        );
        (x, y)
    }

    /// The stream's position (its generator's word position).
    pub fn position(&self) -> u128 {
        self.stream.get_word_pos()
    }
    /// Moves the stream to a saved position.
    pub fn seek(&mut self, pos: u128) {
        self.stream.set_word_pos(pos);
    }
}

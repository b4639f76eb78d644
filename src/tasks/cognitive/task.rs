//! A task: its periods, channels, classes and paper, and the family rule that fills a trial.

use super::trial::{PeriodSpec, Trial};
use super::{classic, yang};
use rand_chacha::ChaCha8Rng;

/// Per-(stream, task) draws, made once when a stream is created.
#[derive(Clone, Copy, Debug)]
pub struct Instance {
    /// The modality of this task's next trial (go and match tasks alternate it).
    pub modality: usize,
    /// The match delay (ms) in the reference mode.
    pub delay: Option<f64>,
}

/// How a family fills a trial once its periods are drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Rule {
    Go(yang::Go),
    Dm(yang::Dm),
    Match(yang::Match),
    Classic(classic::Classic),
}

#[derive(Clone, Debug)]
pub struct Task {
    pub name: String,
    pub family: &'static str,
    pub paper: &'static str,
    pub periods: Vec<PeriodSpec>,
    /// The names of the input channels (the rule one-hot of a collection comes after them).
    pub channels: Vec<String>,
    /// Output classes; class 0 is "fixate".
    pub classes: usize,
    /// Dec Acc of guessing: 1/16 for ring choices, the go/no-go split for match tasks.
    pub chance: f64,
    /// The step (ms) a stream of this task uses unless told otherwise.
    pub default_dt: u32,
    pub rule: Rule,
}

impl Task {
    /// Fills `t` with one trial (its `channels`, `dt` and label mode already set).
    pub fn draw(&self, t: &mut Trial, rng: &mut ChaCha8Rng, inst: Instance) {
        match &self.rule {
            Rule::Go(g) => g.draw(self, t, rng, inst),
            Rule::Dm(d) => d.draw(self, t, rng),
            Rule::Match(m) => m.draw(self, t, rng, inst),
            Rule::Classic(c) => c.draw(self, t, rng),
        }
    }

    /// The mean trial length in steps of `dt`.
    pub fn mean_steps(&self, dt: u32) -> f64 {
        self.periods.iter().map(|p| p.duration.mean_steps(dt)).sum()
    }

    /// Why `dt` cannot be used with this task: a fixed period it does not divide.
    pub fn check_dt(&self, dt: u32) -> Result<(), String> {
        if dt == 0 {
            return Err("dt must be a positive number of ms".into());
        }
        for p in &self.periods {
            if let Some(v) = p.duration.fixed_values().into_iter().find(|v| v % dt != 0) {
                return Err(format!(
                    "dt = {dt} ms does not divide the {} ms {} period of task {}; use a dt \
                     that divides it (e.g. {})",
                    v,
                    p.name,
                    self.name,
                    gcd(v, dt)
                ));
            }
        }
        Ok(())
    }
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a } else { gcd(b, a % b) }
}

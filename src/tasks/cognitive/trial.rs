//! One trial, built the way a methods section describes it: named periods with sampled
//! durations, what each period shows on which channels, where the stimulus noise is, and the
//! response in the decision period. Every family draws its variables and then calls these few
//! verbs, so the rules shared by all tasks (the fixation input, the decision mask, the label
//! convention) live here once.

use super::ring;
use crate::kernels::normal;
use rand::{Rng, RngExt};

/// How a period's duration (ms) is drawn; every draw is then floored to a multiple of dt.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Duration {
    Fixed(u32),
    /// U(lo, hi).
    Uniform(u32, u32),
    /// Uniform among the values.
    Choice(&'static [u32]),
    /// Exponential of this mean, redrawn until it falls in [min, max) (NeuroGym's
    /// `truncated_exponential`).
    TruncExp {
        mean: u32,
        min: u32,
        max: u32,
    },
    /// U(lo, hi) drawn once per task instance of a stream (the reference's match delay);
    /// per trial in the corrected mode.
    PerInstance(u32, u32),
}

impl Duration {
    /// A duration in ms, floored to a multiple of `dt`. `instance` is the stream's draw for
    /// [`Duration::PerInstance`] (`None`: draw now).
    pub fn sample(&self, rng: &mut impl Rng, dt: u32, instance: Option<f64>) -> u32 {
        let ms = match *self {
            Duration::Fixed(v) => v as f64,
            Duration::Uniform(lo, hi) => rng.random_range(lo as f64..hi as f64),
            Duration::Choice(v) => v[rng.random_range(0..v.len())] as f64,
            Duration::TruncExp { mean, min, max } => loop {
                let u: f64 = rng.random();
                let x = -(mean as f64) * (1.0 - u).ln();
                if x >= min as f64 && x < max as f64 {
                    break x;
                }
            },
            Duration::PerInstance(lo, hi) => {
                instance.unwrap_or_else(|| rng.random_range(lo as f64..hi as f64))
            }
        };
        (ms as u32 / dt) * dt
    }

    /// The mean duration in steps of `dt`, after flooring (exact).
    pub fn mean_steps(&self, dt: u32) -> f64 {
        let dt = dt as f64;
        // Mean of ⌊X/dt⌋ for X ~ U(lo, hi): the share of [lo, hi) in each step bin.
        let uniform = |lo: f64, hi: f64| {
            let mut s = 0.0;
            let mut k = (lo / dt).floor();
            while k * dt < hi {
                let (a, b) = ((k * dt).max(lo), ((k + 1.0) * dt).min(hi));
                s += k * (b - a) / (hi - lo);
                k += 1.0;
            }
            s
        };
        match *self {
            Duration::Fixed(v) => (v as f64 / dt).floor(),
            Duration::Uniform(lo, hi) | Duration::PerInstance(lo, hi) => {
                uniform(lo as f64, hi as f64)
            }
            Duration::Choice(v) => {
                v.iter().map(|&x| (x as f64 / dt).floor()).sum::<f64>() / v.len() as f64
            }
            Duration::TruncExp { mean, min, max } => {
                let (m, lo, hi) = (mean as f64, min as f64, max as f64);
                let cdf = |x: f64| 1.0 - (-x / m).exp();
                let (mut s, mut k) = (0.0, (lo / dt).floor());
                while k * dt < hi {
                    let (a, b) = ((k * dt).max(lo), ((k + 1.0) * dt).min(hi));
                    s += k * (cdf(b) - cdf(a));
                    k += 1.0;
                }
                s / (cdf(hi) - cdf(lo))
            }
        }
    }

    /// Values that must be exact multiples of dt (the rest are floored by definition).
    pub fn fixed_values(&self) -> Vec<u32> {
        match *self {
            Duration::Fixed(v) => vec![v],
            Duration::Choice(v) => v.to_vec(),
            _ => vec![],
        }
    }

    pub fn describe(&self) -> String {
        match *self {
            Duration::Fixed(v) => format!("{v}"),
            Duration::Uniform(lo, hi) => format!("U({lo}, {hi})"),
            Duration::Choice(v) => format!("{{{}..{}}}", v[0], v[v.len() - 1]),
            Duration::TruncExp { mean, min, max } => format!("TExp({mean}; {min}–{max})"),
            Duration::PerInstance(lo, hi) => format!("U({lo}, {hi}) per instance"),
        }
    }
}

/// A named period of a task and how its duration is drawn.
#[derive(Clone, Copy, Debug)]
pub struct PeriodSpec {
    pub name: &'static str,
    pub duration: Duration,
}

/// The class labels of ring responses (science.md §6.1).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelMode {
    /// The reference code's labels: class `((i + 1 + s·t) mod 16) + 1`, and class 1 for a
    /// no-go decision; the match-category sample uses `1[i > 8]` and the non-int match delay is
    /// drawn once per task instance.
    #[default]
    Reference,
    /// Class `((i + s·t) mod 16) + 1`, class 0 for no-go, category `1[i ≥ 8]`, and the match
    /// delay drawn per trial.
    Corrected,
}

/// What the network should answer in the decision period.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Response {
    /// Ring position `index`, advancing `seq` positions per step (0: constant).
    Ring { index: usize, seq: i32 },
    /// Keep fixating: a "fixate" match trial.
    NoGo,
    /// A class of a classic task.
    Class(u32),
}

/// The period a trial's response is read in; the fixation input is off in it.
pub const DECISION: &str = "decision";

/// A trial being built: inputs `steps × channels` (task channels only; the rule is the
/// stream's), the decision mask and the class of every step.
#[derive(Clone, Debug, Default)]
pub struct Trial {
    pub channels: usize,
    pub dt: u32,
    pub labels_mode: LabelMode,
    pub periods: Vec<(&'static str, usize, usize)>,
    pub x: Vec<f32>,
    pub decision: Vec<bool>,
    pub label: Vec<u32>,
    pub steps: usize,
    /// The trial's drawn variables (ring positions, strengths, coherences, match, delay…),
    /// by name, for analyses that condition on them.
    pub vars: Vec<(&'static str, f64)>,
    /// σ of the stimulus noise `N(0, (σ/√dt)²)`: 1, or 0 for noise-free pictures and checks.
    pub sigma: f32,
    /// Scratch for one period's noise.
    noise: Vec<f32>,
}

impl Trial {
    /// An empty trial of `channels` task channels at step `dt`, with stimulus noise σ = 1.
    pub fn new(channels: usize, dt: u32, labels_mode: LabelMode) -> Self {
        Self {
            channels,
            dt,
            labels_mode,
            sigma: 1.0,
            ..Self::default()
        }
    }

    /// Starts a trial: draws the periods' durations, clears the inputs and sets the fixation
    /// input (channel 0) to 1 outside the decision period. Returns the delay (ms) of a period
    /// called "delay", which the int tasks use as D.
    pub fn begin(
        &mut self,
        specs: &[PeriodSpec],
        rng: &mut impl Rng,
        instance_delay: Option<f64>,
    ) -> u32 {
        self.periods.clear();
        self.vars.clear();
        let mut start = 0;
        let mut delay = 0;
        for p in specs {
            let ms = p.duration.sample(rng, self.dt, instance_delay);
            if p.name == "delay" {
                delay = ms;
                self.vars.push(("delay", ms as f64));
            }
            let n = (ms / self.dt) as usize;
            self.periods.push((p.name, start, n));
            start += n;
        }
        self.steps = start;
        self.x.clear();
        self.x.resize(start * self.channels, 0.0);
        self.label.clear();
        self.label.resize(start, 0);
        for &(name, s, n) in &self.periods {
            if name != DECISION {
                for t in s..s + n {
                    self.x[t * self.channels] = 1.0;
                }
            }
        }
        delay
    }

    fn span(&self, period: &str) -> (usize, usize) {
        self.periods
            .iter()
            .find(|p| p.0 == period)
            .map(|&(_, s, n)| (s, n))
            .unwrap_or_else(|| panic!("the task declares no period {period}"))
    }

    /// Adds `values` to channels `first..first+values.len()` at every step of `period`.
    pub fn show(&mut self, period: &str, first: usize, values: &[f32]) {
        let (s, n) = self.span(period);
        for t in s..s + n {
            let row = &mut self.x[t * self.channels + first..][..values.len()];
            row.iter_mut().zip(values).for_each(|(x, v)| *x += v);
        }
    }

    /// A Gaussian bump at `angle` of strength `a` on ring `ring` (0 or 1: channels 1–16 or
    /// 17–32).
    pub fn show_bump(&mut self, period: &str, ring: usize, angle: f64, a: f64) {
        let b = ring::gaussian(angle, a);
        self.show(period, 1 + ring::UNITS * ring, &b);
    }

    /// Records a drawn variable.
    pub fn note(&mut self, name: &'static str, value: f64) {
        self.vars.push((name, value));
    }

    /// A recorded variable (NaN if the trial has none of that name).
    pub fn var(&self, name: &str) -> f64 {
        self.vars
            .iter()
            .find(|v| v.0 == name)
            .map_or(f64::NAN, |v| v.1)
    }

    /// Sets one channel at every step of the trial.
    pub fn hold(&mut self, channel: usize, value: f32) {
        for t in 0..self.steps {
            self.x[t * self.channels + channel] = value;
        }
    }

    /// The decision mask (clean fixation input == 0) and the class of every step: 0 outside
    /// the mask, the response inside. Called after the inputs are shown and before the noise.
    pub fn respond(&mut self, response: Response) {
        self.decision.clear();
        self.decision
            .extend((0..self.steps).map(|t| self.x[t * self.channels] == 0.0));
        let mut k = 0;
        for t in 0..self.steps {
            if !self.decision[t] {
                continue;
            }
            self.label[t] = match (response, self.labels_mode) {
                (Response::Ring { index, seq }, mode) => {
                    let shift = if mode == LabelMode::Reference { 1 } else { 0 };
                    let r = (index as i64 + shift + seq as i64 * k).rem_euclid(16);
                    r as u32 + 1
                }
                (Response::NoGo, LabelMode::Reference) => 1,
                (Response::NoGo, LabelMode::Corrected) => 0,
                (Response::Class(c), _) => c,
            };
            k += 1;
        }
    }

    /// Stimulus noise N(0, (σ/√dt)²), σ = 1, on channels `channels` during `period`, from the
    /// normal stream keyed `key`.
    pub fn noise(&mut self, period: &str, channels: std::ops::Range<usize>, key: u64) {
        if self.sigma == 0.0 {
            return;
        }
        let sd = self.sigma / (self.dt as f32).sqrt();
        let (s, n) = self.span(period);
        let w = channels.len();
        // One call for the whole period (a call computes whole blocks of 32 normals).
        self.noise.clear();
        self.noise.resize(n * w, 0.0);
        normal::add(&mut self.noise, sd, key, 0);
        for (j, t) in (s..s + n).enumerate() {
            let row = &mut self.x[t * self.channels + channels.start..][..w];
            row.iter_mut()
                .zip(&self.noise[j * w..(j + 1) * w])
                .for_each(|(x, z)| *x += z);
        }
    }
}

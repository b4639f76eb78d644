//! Streams of back-to-back trials (science.md §6.1), cut into windows that start and end
//! mid-trial and continue across consecutive batches.
//!
//! Each batch row is one stream. Trial k of stream b draws everything — its task (uniform among
//! the tasks other than the previous one), its periods, stimuli and noise — from a generator
//! derived from (seed, b, k), so a stream's position is a few integers: the trial index, the
//! offset in it, the previous task and one parity bit per task (go and match tasks alternate
//! their modality on successive trials of a task instance). A window regenerates the trial it
//! starts in and skips the steps already served, so a stream cut anywhere continues exactly.

use super::TaskSet;
use super::task::Instance;
use super::trial::{LabelMode, Trial};
use crate::kernels::normal;
use crate::rng::mix64;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// E2's training input noise: N(0, 0.1²) on every input element.
pub const INPUT_NOISE_SD: f32 = 0.1;

/// A key for (base, a, b), distinct for every pair.
fn derive(base: u64, a: u64, b: u64) -> u64 {
    mix64(mix64(base ^ mix64(a.wrapping_add(0x9e37_79b9_7f4a_7c15))).wrapping_add(b))
}

/// Where a stream stands: before trial `trial`, `offset` steps into it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Position {
    pub trial: u64,
    pub offset: u32,
    /// The task of trial `trial − 1`.
    pub prev: Option<u16>,
    /// Bit i: task i has had an odd number of trials before trial `trial`.
    pub parity: u128,
}

impl Position {
    fn encode(&self) -> String {
        let prev = self.prev.map_or(-1, |p| p as i64);
        format!("{}:{}:{}:{:x}", self.trial, self.offset, prev, self.parity)
    }

    fn decode(s: &str) -> Option<Self> {
        let f: Vec<&str> = s.split(':').collect();
        let [trial, offset, prev, parity] = f[..] else {
            return None;
        };
        let prev: i64 = prev.parse().ok()?;
        Some(Self {
            trial: trial.parse().ok()?,
            offset: offset.parse().ok()?,
            prev: if prev < 0 {
                None
            } else {
                Some(u16::try_from(prev).ok()?)
            },
            parity: u128::from_str_radix(parity, 16).ok()?,
        })
    }
}

/// One window of every stream, time first: `x` `[T, B, in]`, `label`, `decision` and `task`
/// `[T, B]`.
#[derive(Clone, Debug, Default)]
pub struct Window {
    pub steps: usize,
    pub batch: usize,
    pub inputs: usize,
    pub x: Vec<f32>,
    pub label: Vec<u32>,
    pub decision: Vec<bool>,
    pub task: Vec<u16>,
}

/// `batch` streams over a task set.
pub struct Streams {
    pub set: TaskSet,
    base: u64,
    pos: Vec<Position>,
    /// Per (stream, task): the modality of the instance's first trial and its match delay.
    instances: Vec<(u8, f64)>,
    /// Per stream: the last trial drawn, its index and task, so a window that starts inside it
    /// does not draw it again (a restored stream draws it once).
    trials: Vec<(Option<u64>, usize, Trial)>,
}

impl Streams {
    /// Streams of `set` seeded by (`seed`, `split`) — `train`, `validation` and `test` give
    /// independent streams. `dt` must divide every fixed period (see [`TaskSet::check_dt`]).
    pub fn new(
        set: TaskSet,
        dt: u32,
        labels: LabelMode,
        seed: u64,
        split: &str,
        batch: usize,
    ) -> Result<Self, String> {
        if batch == 0 {
            return Err("the batch size must be at least 1 stream".into());
        }
        set.check_dt(dt)?;
        if set.tasks.len() > 128 {
            return Err("a task set holds at most 128 tasks".into());
        }
        let base = rand::Rng::next_u64(&mut crate::rng::named(seed, &format!("tasks/{split}")));
        let n = set.tasks.len();
        let mut instances = Vec::with_capacity(batch * n);
        for b in 0..batch {
            for k in 0..n {
                let mut r = ChaCha8Rng::seed_from_u64(derive(base ^ 0x5a5a, b as u64, k as u64));
                instances.push((r.random_range(0..2u8), r.random_range(200.0..1200.0)));
            }
        }
        let trial = Trial::new(set.tasks[0].channels.len(), dt, labels);
        let trials = vec![(None, 0, trial); batch];
        Ok(Self {
            set,
            base,
            pos: vec![Position::default(); batch],
            instances,
            trials,
        })
    }

    /// Sets σ of the tasks' own stimulus noise (1 by default; 0 gives noise-free inputs).
    pub fn set_stimulus_sigma(&mut self, sigma: f32) {
        for t in &mut self.trials {
            t.0 = None;
            t.2.sigma = sigma;
        }
    }

    pub fn batch(&self) -> usize {
        self.pos.len()
    }

    /// Draws trial `p.trial` of stream `b` into the stream's trial (unless it holds it
    /// already); returns its task.
    fn draw(&mut self, b: usize, p: &Position) -> usize {
        if self.trials[b].0 == Some(p.trial) {
            return self.trials[b].1;
        }
        let n = self.set.tasks.len();
        let mut rng = ChaCha8Rng::seed_from_u64(derive(self.base, b as u64, p.trial));
        let task = match p.prev {
            _ if n == 1 => 0,
            None => rng.random_range(0..n),
            Some(q) => {
                let k = rng.random_range(0..n - 1);
                k + (k >= q as usize) as usize
            }
        };
        let (first, delay) = self.instances[b * n + task];
        let inst = Instance {
            modality: (first as usize) ^ ((p.parity >> task) & 1) as usize,
            delay: Some(delay),
        };
        let slot = &mut self.trials[b];
        self.set.tasks[task].draw(&mut slot.2, &mut rng, inst);
        (slot.0, slot.1) = (Some(p.trial), task);
        task
    }

    /// The next whole trial of stream 0 and its task (for pictures and statistics; the stream
    /// must stand at a trial's start).
    pub fn next_trial(&mut self) -> (usize, &Trial) {
        let p = self.pos[0];
        debug_assert_eq!(p.offset, 0, "next_trial starts at a trial boundary");
        let task = self.draw(0, &p);
        self.pos[0] = Position {
            trial: p.trial + 1,
            offset: 0,
            prev: Some(task as u16),
            parity: p.parity ^ (1u128 << task),
        };
        (task, &self.trials[0].2)
    }

    /// The next `steps` steps of every stream into `w` (its buffers reused).
    pub fn window(&mut self, steps: usize, w: &mut Window) {
        let (batch, inputs) = (self.batch(), self.set.inputs());
        let ch = self.set.tasks[0].channels.len();
        w.steps = steps;
        w.batch = batch;
        w.inputs = inputs;
        w.x.clear();
        w.x.resize(steps * batch * inputs, 0.0);
        w.label.resize(steps * batch, 0);
        w.decision.resize(steps * batch, false);
        w.task.resize(steps * batch, 0);
        for b in 0..batch {
            let mut p = self.pos[b];
            let mut t = 0;
            while t < steps {
                let task = self.draw(b, &p);
                let tr = &self.trials[b].2;
                let from = p.offset as usize;
                let take = (tr.steps - from.min(tr.steps)).min(steps - t);
                for s in from..from + take {
                    let r = t * batch + b;
                    let row = &mut w.x[r * inputs..(r + 1) * inputs];
                    // A loop, not `copy_from_slice`: rows of 3 to 33 values made the memmove
                    // call a visible share of a classic task's window.
                    for (o, v) in row[..ch].iter_mut().zip(&tr.x[s * ch..(s + 1) * ch]) {
                        *o = *v;
                    }
                    if self.set.rules {
                        row[ch + task] = 1.0;
                    }
                    w.label[r] = tr.label[s];
                    w.decision[r] = tr.decision[s];
                    w.task[r] = task as u16;
                    t += 1;
                }
                if from + take >= tr.steps {
                    p = Position {
                        trial: p.trial + 1,
                        offset: 0,
                        prev: Some(task as u16),
                        parity: p.parity ^ (1u128 << task),
                    };
                } else {
                    p.offset += take as u32;
                }
            }
            self.pos[b] = p;
        }
    }

    /// E2's training input noise on every element of window `index` of these streams.
    pub fn add_input_noise(&self, w: &mut Window, index: u64) {
        normal::add(
            &mut w.x,
            INPUT_NOISE_SD,
            derive(self.base, u64::MAX, index),
            0,
        );
    }

    /// The streams' positions, one string (checkpoint metadata).
    pub fn state(&self) -> String {
        let v: Vec<String> = self.pos.iter().map(Position::encode).collect();
        v.join(",")
    }

    /// Restores positions saved by [`Streams::state`].
    pub fn restore(&mut self, s: &str) -> Result<(), String> {
        let pos: Option<Vec<Position>> = s.split(',').map(Position::decode).collect();
        match pos {
            Some(p) if p.len() == self.pos.len() => {
                self.pos = p;
                self.trials.iter_mut().for_each(|t| t.0 = None);
                Ok(())
            }
            Some(p) => Err(format!(
                "the checkpoint holds {} task streams but the config asks for {}; resume with \
                 the batch size it was trained with",
                p.len(),
                self.pos.len()
            )),
            None => Err("the checkpoint's task-stream positions cannot be read".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn streams(name: &str, batch: usize) -> Streams {
        let set = TaskSet::named(name).unwrap();
        let dt = set.default_dt();
        Streams::new(set, dt, LabelMode::Reference, 3, "train", batch).unwrap()
    }

    #[test]
    fn a_stream_cut_into_windows_equals_one_window_and_restores_from_its_state() {
        let mut whole = Window::default();
        streams("modcog", 4).window(300, &mut whole);
        let mut s = streams("modcog", 4);
        let (mut a, mut b) = (Window::default(), Window::default());
        s.window(137, &mut a);
        let saved = s.state();
        let mut r = streams("modcog", 4);
        r.restore(&saved).unwrap();
        r.window(163, &mut b);
        let rows = 4 * 115;
        assert_eq!(&whole.x[..137 * rows], &a.x[..]);
        assert_eq!(&whole.x[137 * rows..], &b.x[..]);
        assert_eq!(&whole.label[137 * 4..], &b.label[..]);
        assert_eq!(&whole.task[..137 * 4], &a.task[..]);
        assert!(r.restore("1:2").is_err() && r.restore("0:0:-1:0").is_err());
    }

    #[test]
    fn trials_never_repeat_a_task_and_carry_their_rule() {
        let mut s = streams("yang19", 2);
        let mut p = Position::default();
        for _ in 0..500 {
            let task = s.draw(1, &p);
            assert_ne!(Some(task as u16), p.prev);
            p = Position {
                trial: p.trial + 1,
                offset: 0,
                prev: Some(task as u16),
                parity: p.parity ^ (1 << task),
            };
        }
        let mut w = Window::default();
        s.window(400, &mut w);
        for r in 0..800 {
            let rule = &w.x[r * 53 + 33..(r + 1) * 53];
            assert_eq!(rule[w.task[r] as usize], 1.0);
            assert_eq!(rule.iter().sum::<f32>(), 1.0);
        }
    }
}

//! The optimiser, one pipeline for every rule of both papers:
//!
//! global gradient-norm clipping → direction transforms (weight decay, momentum / Adam moments)
//! → geometry step with any [`Potential`] → constraints (sign freeze, non-negativity, masks).
//!
//! SGD is `Euclidean`; SGD-EG is `NegEntropy` (signed weight decay); projected GD (cSGD) is
//! `Euclidean` with `sign_freeze`; AdamW and AdamW-EG add `adam`; `unsigned_eg` is the Fig S2
//! ablation `w ← w·exp(−η·d)`.

pub mod clip;
pub mod constraint;
pub mod direction;
pub mod schedule;

pub use direction::{Adam, DecayMode};
pub use schedule::Schedule;

use crate::geometry::{MirrorMap, NegEntropy, Potential};
use crate::kernels::Real;
use crate::kernels::update::{adam_step, sgd_step};
use crate::nn::{Param, SignSpec};
use serde::{Deserialize, Serialize};

/// Expands `$body` once per geometry with `$geo` bound to the step `(w, s, d) → w_new` at
/// learning rate `$lr` (the potential's own [`MirrorMap::step`], or the unsigned-EG ablation), so
/// each fused loop is monomorphised with no branch on the potential.
macro_rules! with_geometry {
    ($T:ty, $cfg:expr, $lr:expr, |$geo:ident| $body:expr) => {{
        let lr = <$T>::c($lr);
        if $cfg.unsigned_eg {
            let $geo = move |w: $T, _s: $T, d: $T| NegEntropy::unsigned_step(w, d, lr);
            $body
        } else {
            $crate::with_potential!($cfg.potential, |m| {
                let $geo = move |w: $T, s: $T, d: $T| m.step(w, s, d, lr);
                $body
            })
        }
    }};
}

/// Elements per parallel block of an update or a norm. Fixed, so that results do not depend on
/// the thread count.
pub(crate) const CHUNK: usize = 1 << 15;

/// Runs the elementwise update `f` over matching blocks of `w`, `g` and `buf`, in parallel for
/// large parameters (two threads halve a memory-bound update).
fn chunked<T: Real>(
    w: &mut [T],
    g: &[T],
    buf: Option<&mut [T]>,
    f: impl Fn(&mut [T], &[T], Option<&mut [T]>) + Sync,
) {
    use rayon::prelude::*;
    if w.len() < 2 * CHUNK || rayon::current_num_threads() == 1 {
        return f(w, g, buf);
    }
    let pairs = w.par_chunks_mut(CHUNK).zip(g.par_chunks(CHUNK));
    match buf {
        Some(b) => pairs
            .zip(b.par_chunks_mut(CHUNK))
            .for_each(|((w, g), b)| f(w, g, Some(b))),
        None => pairs.for_each(|(w, g)| f(w, g, None)),
    }
}

/// Every setting of the optimiser, as written in a config's `[optimizer]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OptimConfig {
    /// Base learning rate (> 0).
    pub lr: f64,
    pub potential: Potential,
    pub momentum: f64,
    pub dampening: f64,
    pub nesterov: bool,
    pub weight_decay: f64,
    pub weight_decay_mode: DecayMode,
    /// Adam moments (AdamW with a Euclidean potential, AdamW-EG with negative entropy).
    pub adam: Option<Adam>,
    /// Global gradient-norm clipping threshold.
    pub clip_norm: Option<f64>,
    /// Projected GD: a weight that crosses zero is reset to `sign·sign_freeze` (e.g. 1e-18).
    pub sign_freeze: Option<f64>,
    /// The unsigned-EG ablation `w ← w·exp(−η·d)` (needs `potential = negentropy`).
    pub unsigned_eg: bool,
    pub schedule: Schedule,
}

impl Default for OptimConfig {
    fn default() -> Self {
        Self {
            lr: 0.01,
            potential: Potential::Euclidean,
            momentum: 0.0,
            dampening: 0.0,
            nesterov: false,
            weight_decay: 0.0,
            weight_decay_mode: DecayMode::Auto,
            adam: None,
            clip_norm: None,
            sign_freeze: None,
            unsigned_eg: false,
            schedule: Schedule::Constant,
        }
    }
}

impl OptimConfig {
    /// Plain SGD at `lr`.
    pub fn sgd(lr: f64) -> Self {
        Self {
            lr,
            ..Self::default()
        }
    }
    /// SGD-EG (negative entropy, signed weight decay) at `lr`.
    pub fn eg(lr: f64) -> Self {
        Self {
            lr,
            potential: Potential::NegEntropy,
            ..Self::default()
        }
    }

    /// Checks every field before any work starts; the message names the field and the fix.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return Err(format!(
                "optimizer.lr must be a positive number (got {})",
                self.lr
            ));
        }
        for (name, v) in [
            ("momentum", self.momentum),
            ("weight_decay", self.weight_decay),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(format!("optimizer.{name} must be >= 0 (got {v})"));
            }
        }
        if !(0.0..=1.0).contains(&self.dampening) {
            return Err(format!(
                "optimizer.dampening must be in [0, 1] (got {})",
                self.dampening
            ));
        }
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err("optimizer.nesterov needs momentum > 0 and dampening = 0".into());
        }
        self.potential
            .validate()
            .map_err(|e| format!("optimizer.potential: {e}"))?;
        if self.unsigned_eg && self.potential != Potential::NegEntropy {
            return Err(
                "optimizer.unsigned_eg is an ablation of EG: set potential = \
                        { kind = \"negentropy\" }"
                    .into(),
            );
        }
        if let Some(t) = self.sign_freeze
            && !(t > 0.0 && t.is_finite())
        {
            return Err(format!(
                "optimizer.sign_freeze must be > 0, e.g. 1e-18 (got {t})"
            ));
        }
        if let Some(c) = self.clip_norm
            && c.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater)
        {
            return Err(format!("optimizer.clip_norm must be > 0 (got {c})"));
        }
        if let Some(a) = &self.adam {
            if !((0.0..1.0).contains(&a.beta1) && (0.0..1.0).contains(&a.beta2) && a.eps > 0.0) {
                return Err("optimizer.adam needs 0 <= beta1, beta2 < 1 and eps > 0".into());
            }
            if self.momentum != 0.0 {
                return Err("optimizer.momentum has no effect with adam: remove one".into());
            }
            if !matches!(
                self.weight_decay_mode,
                DecayMode::Auto | DecayMode::Decoupled
            ) {
                return Err("optimizer.adam uses decoupled weight decay: set \
                            weight_decay_mode = \"decoupled\" or \"auto\""
                    .into());
            }
        } else if self.weight_decay_mode == DecayMode::Decoupled {
            return Err("optimizer.weight_decay_mode = \"decoupled\" needs adam".into());
        }
        self.schedule
            .validate()
            .map_err(|e| format!("optimizer.{e}"))
    }

    /// Whether no update can change a weight's sign (EG and its unsigned ablation): such
    /// optimisers cannot move a weight that starts at 0, and need split biases.
    pub fn keeps_signs(&self) -> bool {
        self.potential.preserves_sign() || self.unsigned_eg
    }

    /// The weight-decay mode after resolving `auto`.
    pub fn decay_mode(&self) -> DecayMode {
        match self.weight_decay_mode {
            DecayMode::Auto if self.adam.is_some() => DecayMode::Decoupled,
            DecayMode::Auto if self.unsigned_eg => DecayMode::Unsigned,
            DecayMode::Auto if self.potential == Potential::NegEntropy => DecayMode::Signed,
            DecayMode::Auto => DecayMode::Coupled,
            m => m,
        }
    }
}

/// Per-parameter optimiser state.
#[derive(Clone, Debug, Default)]
pub struct State<T> {
    pub momentum: Vec<T>,
    pub adam_m: Vec<T>,
    pub adam_v: Vec<T>,
    pub adam_vmax: Vec<T>,
}

/// What one update did, for the metrics log.
#[derive(Clone, Copy, Debug)]
pub struct StepInfo {
    pub lr: f64,
    /// The global gradient norm before and after clipping (NaN when not measured: no clipping
    /// and `measure_norm` off).
    pub grad_norm: f64,
    pub grad_norm_clipped: f64,
}

/// The optimiser: a validated config, the update counter and per-parameter state.
#[derive(Clone, Debug)]
pub struct Optimizer<T> {
    pub config: OptimConfig,
    /// Updates taken so far (the 0-based index of the next one).
    pub t: usize,
    /// The current epoch (for per-epoch schedules).
    pub epoch: usize,
    pub states: Vec<State<T>>,
    /// Compute the global gradient norm for [`StepInfo`] even without clipping (a full pass over
    /// the gradients; a training loop turns it on only for the steps it logs).
    pub measure_norm: bool,
}

impl<T: Real> Optimizer<T> {
    pub fn new(config: OptimConfig) -> Result<Self, String> {
        config.validate()?;
        Ok(Self {
            config,
            t: 0,
            epoch: 0,
            states: Vec::new(),
            measure_norm: true,
        })
    }

    /// The learning rate of the next update.
    pub fn current_lr(&self) -> f64 {
        self.config.lr * self.config.schedule.factor(self.t, self.epoch)
    }

    /// Applies one update to `params` (always passed in the same order) from their gradients.
    pub fn step(&mut self, params: &mut [&mut Param<T>]) -> StepInfo {
        let cfg = self.config.clone();
        let lr = self.current_lr();
        if self.states.len() != params.len() {
            self.states = params.iter().map(|_| State::default()).collect();
        }
        constraint::mask_gradients(params);
        let grad_norm = if cfg.clip_norm.is_some() || self.measure_norm {
            clip::global_norm(params)
        } else {
            f64::NAN
        };
        let scale = clip::clip_factor(grad_norm, cfg.clip_norm);
        let decay = cfg.decay_mode();
        for (p, st) in params.iter_mut().zip(self.states.iter_mut()) {
            let nonneg = p.sign == SignSpec::NonNegative;
            let w = &mut p.value;
            let g = &p.grad;
            if let Some(adam) = &cfg.adam {
                let n = w.len();
                for v in [&mut st.adam_m, &mut st.adam_v] {
                    v.resize(n, T::zero());
                }
                if adam.amsgrad {
                    st.adam_vmax.resize(n, T::zero());
                }
                let t1 = self.t + 1;
                let c = direction::adam_coeffs::<T>(adam, scale, lr, cfg.weight_decay, t1, nonneg);
                let step_lr = lr / direction::adam_bias1(adam, t1);
                let vmax = adam.amsgrad.then_some(&mut st.adam_vmax[..]);
                let (m, v) = (&mut st.adam_m, &mut st.adam_v);
                with_geometry!(T, cfg, step_lr, |geo| {
                    crate::dispatch!(adam_step(w, g, m, v, vmax, &c, geo))
                });
            } else {
                let first = st.momentum.is_empty();
                let c = direction::sgd_coeffs::<T>(
                    scale,
                    decay,
                    cfg.weight_decay,
                    cfg.momentum,
                    cfg.dampening,
                    cfg.nesterov,
                    first,
                    cfg.sign_freeze,
                    nonneg,
                );
                let buf = if cfg.momentum > 0.0 {
                    st.momentum.resize(w.len(), T::zero());
                    Some(&mut st.momentum[..])
                } else {
                    None
                };
                with_geometry!(T, cfg, lr, |geo| chunked(w, g, buf, |w, g, buf| {
                    crate::dispatch!(sgd_step(w, g, buf, &c, geo))
                }));
            }
        }
        constraint::mask_values(params);
        self.t += 1;
        StepInfo {
            lr,
            grad_norm,
            grad_norm_clipped: grad_norm * scale,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Large parameters update in parallel blocks; the result must not depend on the threads.
    #[test]
    fn parallel_updates_equal_serial_ones_bit_for_bit() {
        let n = 5 * CHUNK + 123;
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let mut p = Param::new(
                    "w",
                    vec![n],
                    (0..n).map(|i| ((i as f32) * 0.37).sin() * 0.1).collect(),
                    SignSpec::Free,
                );
                let mut opt = Optimizer::<f32>::new(OptimConfig {
                    momentum: 0.9,
                    clip_norm: Some(0.5),
                    ..OptimConfig::eg(0.1)
                })
                .unwrap();
                let mut norms = vec![];
                for step in 0..3 {
                    p.grad = (0..n)
                        .map(|i| ((i * (step + 3)) as f32 * 0.11).cos() * 1e-2)
                        .collect();
                    norms.push(opt.step(&mut [&mut p]).grad_norm);
                }
                (p.value, opt.states[0].momentum.clone(), norms)
            })
        };
        let (w1, m1, n1) = run(1);
        let (w3, m3, n3) = run(3);
        assert!(w1.iter().zip(&w3).all(|(a, b)| a.to_bits() == b.to_bits()));
        assert!(m1.iter().zip(&m3).all(|(a, b)| a.to_bits() == b.to_bits()));
        assert_eq!(n1, n3);
        // The blocked norm is the norm: compare with a plain f64 sum of the first gradient.
        let want = (0..n)
            .map(|i| (((i * 3) as f32 * 0.11).cos() * 1e-2) as f64)
            .map(|g| g * g)
            .sum::<f64>()
            .sqrt();
        assert!((n1[0] - want).abs() < 1e-9 * want, "{} vs {want}", n1[0]);
        assert!(want > 0.5, "clipping must be active: {want}");
    }
}

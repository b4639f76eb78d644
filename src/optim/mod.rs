//! The optimiser, one pipeline for every rule of both papers. Per parameter, in this order:
//!
//! 1. raw gradients (pruned synapses masked to 0);
//! 2. the global gradient norm over all parameters of all groups, and clipping;
//! 3. the group's gradient transforms (DANN's corrections);
//! 4. weight decay (coupled, signed, unsigned or decoupled);
//! 5. momentum, or Adam's moments;
//! 6. the geometry step of the group's [`Potential`];
//! 7. constraints: sign freeze, the non-negative clamp, pruning masks.
//!
//! Steps 3–7 are one fused pass over memory, done by the backend (`kernels::Backend`). SGD is `Euclidean`; SGD-EG is
//! `NegEntropy` (signed weight decay); projected GD (cSGD) is `Euclidean` with `sign_freeze`;
//! AdamW and AdamW-EG add `adam`; `unsigned_eg` is the Fig S2 ablation `w ← w·exp(−η·d)`.
//! Parameter groups ([`groups`]) give some parameters their own rule; optimiser state is kept
//! by parameter name ([`Optimizer::states`]).

pub mod clip;
pub mod direction;
pub mod groups;
pub mod schedule;
pub mod state;
pub mod transforms;

pub use direction::{Adam, DecayMode};
pub use groups::{GroupConfig, Groups};
pub use schedule::Schedule;
pub use state::State;
pub use transforms::Transform;

use crate::geometry::Potential;
use crate::kernels::{Backend, Geometry, Real};
use crate::nn::{Grads, Param, SignSpec};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

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
    /// The non-negative clamp after each step: unset follows the parameter (Dale's-law
    /// magnitudes are clamped), `true` clamps every parameter, `false` none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clamp: Option<bool>,
    /// The unsigned-EG ablation `w ← w·exp(−η·d)` (needs `potential = negentropy`).
    pub unsigned_eg: bool,
    pub schedule: Schedule,
    /// Gradient transforms after clipping; unset means the model's default (a DANN model with
    /// `model.dann_corrections` gets `["dann_corrections"]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transforms: Option<Vec<Transform>>,
    /// Parameter groups, matched in the order written ([`groups`]).
    #[serde(skip_serializing_if = "indexmap::IndexMap::is_empty")]
    pub groups: indexmap::IndexMap<String, GroupConfig>,
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
            clamp: None,
            transforms: None,
            groups: indexmap::IndexMap::new(),
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

    /// Checks every field, and every group, before any work starts; the message names the
    /// field and the fix.
    pub fn validate(&self) -> Result<(), String> {
        self.validate_at("optimizer")?;
        Groups::new(self).map(|_| ())
    }

    /// Checks the fields of one rule, naming them under the table `at`.
    pub fn validate_at(&self, at: &str) -> Result<(), String> {
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return Err(format!(
                "{at}.lr must be a positive number (got {})",
                self.lr
            ));
        }
        for (name, v) in [
            ("momentum", self.momentum),
            ("weight_decay", self.weight_decay),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(format!("{at}.{name} must be >= 0 (got {v})"));
            }
        }
        if !(0.0..=1.0).contains(&self.dampening) {
            return Err(format!(
                "{at}.dampening must be in [0, 1] (got {})",
                self.dampening
            ));
        }
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(format!(
                "{at}.nesterov needs momentum > 0 and dampening = 0"
            ));
        }
        self.potential
            .validate()
            .map_err(|e| format!("{at}.potential: {e}"))?;
        if self.unsigned_eg && self.potential != Potential::NegEntropy {
            return Err(format!(
                "{at}.unsigned_eg is an ablation of EG: set potential = \
                 {{ kind = \"negentropy\" }}"
            ));
        }
        if let Some(t) = self.sign_freeze
            && !(t > 0.0 && t.is_finite())
        {
            return Err(format!(
                "{at}.sign_freeze must be > 0, e.g. 1e-18 (got {t})"
            ));
        }
        if let Some(c) = self.clip_norm
            && c.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater)
        {
            return Err(format!("{at}.clip_norm must be > 0 (got {c})"));
        }
        if let Some(a) = &self.adam {
            if !((0.0..1.0).contains(&a.beta1) && (0.0..1.0).contains(&a.beta2) && a.eps > 0.0) {
                return Err(format!("{at}.adam needs 0 <= beta1, beta2 < 1 and eps > 0"));
            }
            if self.momentum != 0.0 {
                return Err(format!("{at}.momentum has no effect with adam: remove one"));
            }
            if !matches!(
                self.weight_decay_mode,
                DecayMode::Auto | DecayMode::Decoupled
            ) {
                return Err(format!(
                    "{at}.adam uses decoupled weight decay: set \
                     weight_decay_mode = \"decoupled\" or \"auto\""
                ));
            }
        } else if self.weight_decay_mode == DecayMode::Decoupled {
            return Err(format!("{at}.weight_decay_mode = \"decoupled\" needs adam"));
        }
        self.schedule.validate().map_err(|e| format!("{at}.{e}"))
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

/// What one update did, for the metrics log.
#[derive(Clone, Copy, Debug)]
pub struct StepInfo {
    pub lr: f64,
    /// The global gradient norm before and after clipping (NaN when not measured: no clipping
    /// and `measure_norm` off).
    pub grad_norm: f64,
    pub grad_norm_clipped: f64,
}

/// The optimiser: a validated config compiled into group rules, the update counter and the
/// state of every parameter, by name.
#[derive(Clone, Debug)]
pub struct Optimizer<T> {
    pub config: OptimConfig,
    groups: Groups,
    /// Updates taken so far (the 0-based index of the next one).
    pub t: usize,
    /// The current epoch (for per-epoch schedules).
    pub epoch: usize,
    /// Momentum and Adam buffers by parameter name (empty until first used).
    pub states: BTreeMap<String, State<T>>,
    /// The rule index of each parameter seen so far.
    assigned: HashMap<String, usize>,
    /// Compute the global gradient norm for [`StepInfo`] even without clipping (a full pass over
    /// the gradients; a training loop turns it on only for the steps it logs).
    pub measure_norm: bool,
}

impl<T: Real> Optimizer<T> {
    pub fn new(config: OptimConfig) -> Result<Self, String> {
        config.validate()?;
        Ok(Self {
            groups: Groups::new(&config)?,
            config,
            t: 0,
            epoch: 0,
            states: BTreeMap::new(),
            assigned: HashMap::new(),
            measure_norm: true,
        })
    }

    /// The groups, compiled (to check them against a model's parameter names).
    pub fn groups(&self) -> &Groups {
        &self.groups
    }

    /// The learning rate of the next update (of `[optimizer]`; a group's is its own `lr` times
    /// the same schedule factor).
    pub fn current_lr(&self) -> f64 {
        self.config.lr * self.config.schedule.factor(self.t, self.epoch)
    }

    /// Applies one update to `params` from their gradients in `grads` (see the module
    /// documentation for the order of the pipeline).
    pub fn step(
        &mut self,
        be: &dyn Backend<T>,
        params: &mut [&mut Param<T>],
        grads: &mut Grads<T>,
    ) -> StepInfo {
        let factor = self.config.schedule.factor(self.t, self.epoch);
        for p in params.iter() {
            p.mask(be, grads.of(p));
        }
        let grad_norm = if self.config.clip_norm.is_some() || self.measure_norm {
            clip::global_norm(be, params.iter().map(|p| grads.get(&p.name)))
        } else {
            f64::NAN
        };
        let clip = clip::clip_factor(grad_norm, self.config.clip_norm);
        for p in params.iter_mut() {
            let rule_idx = match self.assigned.get(&p.name) {
                Some(&i) => i,
                None => {
                    let i = self.groups.rule_of(&p.name);
                    self.assigned.insert(p.name.clone(), i);
                    i
                }
            };
            let rule = &self.groups.rules[rule_idx];
            if !self.states.contains_key(&p.name) {
                self.states.insert(p.name.clone(), State::default());
            }
            let st = self.states.get_mut(&p.name).expect("inserted above");
            let scale = clip * transforms::factor(rule.transforms.as_deref().unwrap_or(&[]), p);
            update(
                be,
                rule,
                rule.lr * factor,
                self.t,
                scale,
                p,
                grads.get(&p.name),
                st,
            );
            p.mask_value(be);
        }
        self.t += 1;
        StepInfo {
            lr: self.config.lr * factor,
            grad_norm,
            grad_norm_clipped: grad_norm * clip,
        }
    }
}

/// Steps 4–7 of the pipeline for one parameter under `rule`, at learning rate `lr`, with the
/// raw gradient `g` scaled by `scale` (clipping and transforms), in one fused pass.
#[allow(clippy::too_many_arguments)]
fn update<T: Real>(
    be: &dyn Backend<T>,
    rule: &OptimConfig,
    lr: f64,
    t: usize,
    scale: f64,
    p: &mut Param<T>,
    g: &[T],
    st: &mut State<T>,
) {
    let nonneg = rule.clamp.unwrap_or(p.sign == SignSpec::NonNegative);
    let geometry = |lr: f64| Geometry {
        potential: rule.potential,
        unsigned_eg: rule.unsigned_eg,
        lr,
    };
    let w = &mut p.value;
    if let Some(adam) = &rule.adam {
        let n = w.len();
        for v in [&mut st.adam_m, &mut st.adam_v] {
            v.resize(n, T::zero());
        }
        if adam.amsgrad {
            st.adam_vmax.resize(n, T::zero());
        }
        let t1 = t + 1;
        let c = direction::adam_coeffs::<T>(
            adam,
            scale,
            lr,
            rule.weight_decay,
            t1,
            rule.sign_freeze,
            nonneg,
        );
        let step_lr = lr / direction::adam_bias1(adam, t1);
        let vmax = adam.amsgrad.then_some(&mut st.adam_vmax[..]);
        let (m, v) = (&mut st.adam_m, &mut st.adam_v);
        be.adam_update(w, g, m, v, vmax, &c, geometry(step_lr));
    } else {
        let first = st.momentum.is_empty();
        let c = direction::sgd_coeffs::<T>(
            scale,
            rule.decay_mode(),
            rule.weight_decay,
            rule.momentum,
            rule.dampening,
            rule.nesterov,
            first,
            rule.sign_freeze,
            nonneg,
        );
        let buf = if rule.momentum > 0.0 {
            st.momentum.resize(w.len(), T::zero());
            Some(&mut st.momentum[..])
        } else {
            None
        };
        be.sgd_update(w, g, buf, &c, geometry(lr));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::Cpu;
    use crate::kernels::cpu::CHUNK;

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
                let mut grads = Grads::for_params(&[&p]);
                for step in 0..3 {
                    for (i, g) in grads.of(&p).iter_mut().enumerate() {
                        *g = ((i * (step + 3)) as f32 * 0.11).cos() * 1e-2;
                    }
                    norms.push(opt.step(&Cpu, &mut [&mut p], &mut grads).grad_norm);
                }
                (p.value, opt.states["w"].momentum.clone(), norms)
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

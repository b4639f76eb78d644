//! The `geoplast train` configuration, validated before any work starts.

use crate::geometry::Potential;
use crate::nn::{Activation, BiasKind, Init};
use crate::optim::{GroupConfig, OptimConfig, Transform};
use crate::tasks::r_of_k::ROfK;
use crate::tasks::teacher::Teacher;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    pub seed: u64,
    /// The length in passes over a data set; a stream is counted in `updates` instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epochs: Option<usize>,
    /// The length in updates (the alternative to `epochs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updates: Option<usize>,
    /// Evaluate (and checkpoint) every this many updates; default: every epoch, or a tenth of
    /// the updates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval_every: Option<usize>,
    pub batch_size: usize,
    /// Log the training loss every this many updates.
    #[serde(default = "default_log_every")]
    pub log_every: usize,
    pub data: DataConfig,
    pub model: ModelConfig,
    pub optimizer: OptimConfig,
    #[serde(default)]
    pub loss: LossConfig,
    /// Start the model from the tensors of this `.safetensors` file ([`super::init_from`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub init_from: Option<PathBuf>,
    /// Extra checkpoints, kept under `checkpoints/` in the run folder.
    #[serde(default, skip_serializing_if = "CheckpointConfig::is_empty")]
    pub checkpoints: CheckpointConfig,
    /// Prune the starting weights (usually `init_from` a trained run) before training.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prune: Option<super::prune::PruneConfig>,
}

/// Checkpoints beyond the rolling `checkpoint.safetensors`, each written once under a name later
/// tools can find: `checkpoints/step_000050`, `checkpoints/epoch_003` (at the start of epoch 3,
/// before its first update), `checkpoints/test_acc_80` (the first evaluation at which the
/// metric reaches the threshold: at or above it for accuracies, at or below for losses).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CheckpointConfig {
    /// After these updates (counted from 1).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub at: Vec<usize>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub epoch_starts: bool,
    /// Metric name (`test_acc`, `test_dec_acc`, `test_loss`, `train_loss`) → thresholds.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub thresholds: std::collections::BTreeMap<String, Vec<f64>>,
}

impl CheckpointConfig {
    pub fn is_empty(&self) -> bool {
        self.at.is_empty() && !self.epoch_starts && self.thresholds.is_empty()
    }
}

fn default_log_every() -> usize {
    50
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DataConfig {
    /// MNIST-format files: `{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]`.
    Idx {
        /// The folder (default: `--data-dir`, else the Debian Fashion-MNIST folder).
        #[serde(default)]
        dir: Option<PathBuf>,
        /// Use only the first this many training samples.
        #[serde(default)]
        train_limit: Option<usize>,
        /// Use only the first this many test samples.
        #[serde(default)]
        test_limit: Option<usize>,
        /// Hold out the last this many training samples and evaluate on them instead of the
        /// test files (learning-rate selection that never sees the test set).
        #[serde(default)]
        validation: Option<usize>,
        /// The number of classes (outputs). Default: the largest label + 1, and then every
        /// class below it must occur in the data (a stray label 255 would otherwise silently
        /// make a 256-way classifier).
        #[serde(default)]
        classes: Option<usize>,
    },
    /// The r-of-k task (binary labels, BCE).
    ROfK {
        #[serde(default)]
        task: ROfK,
    },
    /// A stream of student–teacher regression samples (MSE), counted in updates.
    Teacher {
        #[serde(flatten)]
        task: Teacher,
    },
    /// The 8×8 digits (1,797 samples embedded in `smartcore`, pixels/16), split by a seeded
    /// permutation.
    Digits {
        /// The share of samples held out as the test set.
        #[serde(default = "default_test_fraction")]
        test_fraction: f64,
    },
    /// The adding problem (Le et al. 2015; science.md E10): two channels over `steps` steps,
    /// channel 0 U(0, 1) values, channel 1 marking one step in each half; the target is the sum
    /// of the two marked values at the last step (MSE; predicting 1 gives about 1/6).
    Adding {
        #[serde(default = "default_adding_steps")]
        steps: usize,
        #[serde(default = "default_adding_train")]
        train: usize,
        #[serde(default = "default_adding_test")]
        test: usize,
    },
    /// Streams of cognitive-task trials (science.md §6), generated on the fly, counted in
    /// updates: each update is the next window of `batch_size` streams, which continue across
    /// updates (and across a resume). Evaluated on a fixed, seeded held-out set.
    Tasks {
        /// `modcog` (115 inputs, 17 outputs), `yang19` (53 inputs) or one task's name.
        #[serde(default = "default_task_set")]
        set: String,
        /// Steps per window.
        #[serde(default = "default_task_steps")]
        steps: usize,
        /// Time step in ms (default: the set's, 100 ms for the collections).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dt: Option<u32>,
        /// `reference` (the EG paper's labels, default) or `corrected`.
        #[serde(default)]
        labels: crate::tasks::cognitive::LabelMode,
        /// E2's training input noise N(0, 0.1²) on every element (never on the held-out set).
        #[serde(default = "default_true")]
        noise: bool,
        /// Held-out sequences (one window of as many streams).
        #[serde(default = "default_task_held_out")]
        held_out: usize,
        /// Which fixed held-out set to evaluate on: `validation` (for selection) or `test`.
        #[serde(default = "default_held_out_split")]
        evaluate: String,
        /// Updates counted as one epoch, so that `epochs`, epoch schedules and epoch
        /// checkpoints apply to the stream (the EG paper: 1,000 updates of batch 512).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        epoch_updates: Option<usize>,
    },
    /// Sequences in an `.npz` archive, time first: `x` float `[T, N, in]`; `y` integer `[N]`
    /// (label at the last step) or `[T, N]` (per step), or float `[N, out]` / `[T, N, out]`
    /// (regression); optional `mask` bool `[T, N]` (the decision mask: cross-entropy inside,
    /// MSE towards class 0 outside) and `loss_mask` bool `[T, N]` (steps that count at all).
    Npz {
        path: PathBuf,
        /// A held-out archive of the same layout (else `validation` of the training one).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        test: Option<PathBuf>,
        /// The share of the training sequences held out instead of a test archive.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        validation: Option<f64>,
        /// The number of classes (default: the largest label + 1).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        classes: Option<usize>,
    },
}

fn default_true() -> bool {
    true
}
fn default_task_set() -> String {
    "modcog".into()
}
fn default_task_steps() -> usize {
    350
}
fn default_task_held_out() -> usize {
    2048
}
fn default_held_out_split() -> String {
    "validation".into()
}
fn default_test_fraction() -> f64 {
    0.2
}
fn default_adding_steps() -> usize {
    100
}
fn default_adding_train() -> usize {
    10_000
}
fn default_adding_test() -> usize {
    1_000
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// Linear layers with `activation` between them.
    #[default]
    Mlp,
    /// Column-EI layers (fixed presynaptic signs, E:I = `ei_ratio`:1 per hidden layer).
    Colei,
    /// DANN layers (`hidden` E units, `hidden/ei_ratio` interneurons; output 1 interneuron).
    Dann,
    /// One recurrent layer of `hidden[0]` units and a linear readout (`[model.rnn]`).
    Rnn,
}

/// The recurrent matrices of an RNN (science.md §3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cell {
    /// Free matrices (§2.6 initialisation, fan_out = H): the EG paper's cell.
    #[default]
    Dense,
    /// `W_rec = W⁺·D` with the last ⌊H·i_fraction⌋ units inhibitory, readout from E units.
    Colei,
    /// The recurrent DANN of Li et al. (2023).
    Dann,
}

/// How a Dale's-law cell keeps its signs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dale {
    /// Gradient descent, then `W⁺ ← max(W⁺, 0)`.
    #[default]
    Clamp,
    /// Exponentiated gradient on `W⁺` (needs a sign-preserving optimiser).
    Eg,
    /// `W = |W_raw|·D` with `W_raw` free (PsychRNN's), column-EI only.
    Reparam,
}

/// Whether to rescale a column-EI recurrent matrix to a spectral radius.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Radius {
    /// `false`: keep the initialisation as drawn; `true`: 1.5.
    Switch(bool),
    To(f64),
}

impl Radius {
    pub fn target(self) -> Option<f64> {
        match self {
            Radius::Switch(false) => None,
            Radius::Switch(true) => Some(1.5),
            Radius::To(r) => Some(r),
        }
    }
}

/// `[model.rnn]`: the dynamics `x_t = (1−α)·x_{t−1} + α·(W_rec·r_{t−1} + W_in·u_t + b) +
/// √(2α)·σ_rec·ξ_t`, `r = f(x)`, and the parametrisation of the matrices, chosen apart.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RnnConfig {
    pub cell: Cell,
    /// α = dt/τ ∈ (0, 1]; or give `tau` and `dt` (ms).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alpha: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tau: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dt: Option<f64>,
    /// σ_rec, the recurrent noise (training only unless `noise_in_evaluation`).
    pub noise: f64,
    pub noise_in_evaluation: bool,
    /// The share of inhibitory units of an E/I cell (Li et al.: 0.1; Song et al.: 0.2).
    pub i_fraction: f64,
    /// Column-EI: rescale `W⁺·D` to this spectral radius (default 1.5; `false`: off).
    pub spectral_radius: Radius,
    /// Truncated BPTT: gradients flow back at most this many steps (windows of a sequence,
    /// the state carried detached from one to the next). Unset: full BPTT.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<usize>,
}

impl Default for RnnConfig {
    fn default() -> Self {
        Self {
            cell: Cell::Dense,
            alpha: None,
            tau: None,
            dt: None,
            noise: 0.0,
            noise_in_evaluation: false,
            i_fraction: 0.1,
            spectral_radius: Radius::To(1.5),
            window: None,
        }
    }
}

impl RnnConfig {
    /// α from `alpha`, or `dt/tau`, or 1.
    pub fn alpha(&self) -> f64 {
        match (self.alpha, self.tau, self.dt) {
            (Some(a), _, _) => a,
            (None, Some(tau), Some(dt)) => dt / tau,
            _ => 1.0,
        }
    }
    /// Inhibitory units among `h`.
    pub fn n_i(&self, h: usize) -> usize {
        (h as f64 * self.i_fraction).floor() as usize
    }

    pub fn validate(&self, hidden: usize) -> Result<(), String> {
        for (k, v) in [("tau", self.tau), ("dt", self.dt)] {
            if let Some(v) = v.filter(|v| !(*v > 0.0 && v.is_finite())) {
                return Err(format!(
                    "model.rnn.{k} must be a positive number of ms (got {v})"
                ));
            }
        }
        if self.alpha.is_some() && (self.tau.is_some() || self.dt.is_some()) {
            return Err("model.rnn: give either alpha or tau and dt, not both".into());
        }
        if self.tau.is_some() != self.dt.is_some() {
            return Err("model.rnn: tau and dt go together (alpha = dt/tau)".into());
        }
        let a = self.alpha();
        if !(a > 0.0 && a <= 1.0) {
            return Err(format!(
                "model.rnn: alpha = dt/tau must be in (0, 1] (got {a}): lower dt or raise tau"
            ));
        }
        if !(self.noise >= 0.0 && self.noise.is_finite()) {
            return Err(format!("model.rnn.noise must be >= 0 (got {})", self.noise));
        }
        if let Some(r) = self
            .spectral_radius
            .target()
            .filter(|r| !(*r > 0.0 && r.is_finite()))
        {
            return Err(format!(
                "model.rnn.spectral_radius must be a positive number or false (got {r})"
            ));
        }
        if self.window == Some(0) {
            return Err("model.rnn.window must be >= 1 step (or unset for full BPTT)".into());
        }
        if self.cell == Cell::Dense {
            return Ok(());
        }
        if !(self.i_fraction > 0.0 && self.i_fraction < 1.0) {
            return Err(format!(
                "model.rnn.i_fraction must be in (0, 1) (got {})",
                self.i_fraction
            ));
        }
        let n_i = self.n_i(hidden);
        if n_i == 0 || n_i == hidden {
            return Err(format!(
                "model.rnn: {hidden} units at i_fraction {} give {n_i} inhibitory units; an E/I cell needs both E and I units (raise model.hidden or change i_fraction)",
                self.i_fraction
            ));
        }
        Ok(())
    }
}

/// Checks `model.dale` for a model whose Dale's-law matrices are column-EI (`colei`) or DANN.
fn validate_dale(dale: Dale, colei: bool, keeps_signs: bool) -> Result<(), String> {
    match (dale, keeps_signs) {
        (Dale::Reparam, _) if !colei => Err(
            "model.dale = \"reparam\" is for column-EI matrices; DANN keeps its signs by \
             \"clamp\" or \"eg\""
                .into(),
        ),
        (Dale::Eg, false) => Err(
            "model.dale = \"eg\" needs a sign-preserving optimiser: set \
                                  optimizer.potential = { kind = \"negentropy\" }"
                .into(),
        ),
        (Dale::Clamp, true) => Err(
            "model.dale = \"clamp\" clamps after a gradient-descent step, \
                                    but the optimiser is EG, which keeps signs by itself: set \
                                    model.dale = \"eg\""
                .into(),
        ),
        _ => Ok(()),
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModelConfig {
    pub kind: ModelKind,
    /// Hidden layer widths (empty: a single linear layer).
    pub hidden: Vec<usize>,
    pub activation: Activation,
    /// Weight initialisation of `mlp` layers (Dale's-law layers use their own).
    pub init: Init,
    /// Bias kind; `None` means split for sign-preserving optimisers (EG), otherwise uniform
    /// (zero for DANN).
    pub bias: Option<BiasKind>,
    pub ei_ratio: usize,
    pub dann_divisive: bool,
    pub dann_corrections: bool,
    /// How Dale's-law matrices keep their signs (column-EI and DANN layers, E/I cells).
    /// Unset for an E/I cell: `eg` under a sign-preserving optimiser, else `clamp`; unset for a
    /// feed-forward stack: clamped under GD (EG keeps signs anyway).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dale: Option<Dale>,
    /// The recurrent layer of `kind = "rnn"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rnn: Option<RnnConfig>,
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self {
            kind: ModelKind::Mlp,
            hidden: vec![],
            activation: Activation::Relu,
            init: Init::default(),
            bias: None,
            ei_ratio: 10,
            dann_divisive: true,
            dann_corrections: true,
            dale: None,
            rnn: None,
        }
    }
}

/// The unit a run's length, `--stop-after` and checkpoints count in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Epochs,
    Updates,
}

impl Unit {
    /// The config key of this unit.
    pub fn key(self) -> &'static str {
        match self {
            Unit::Epochs => "epochs",
            Unit::Updates => "updates",
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LossConfig {
    pub label_smoothing: f64,
}

impl TrainConfig {
    /// Fills in what the model implies for the optimiser, so that the saved `config.toml` shows
    /// the rules a run really used:
    /// * a DANN model with `model.dann_corrections` gets `optimizer.transforms =
    ///   ["dann_corrections"]` unless transforms are set;
    /// * a divisive DANN model under a sign-preserving optimiser (EG) gets a group
    ///   `dann_alpha` that trains the unconstrained `α` by gradient descent (science.md §3:
    ///   under EG it would keep its initial negative sign for ever), unless a group already
    ///   takes `*.alpha`.
    pub fn apply_model_defaults(&mut self) {
        let keeps_signs = self.optimizer.keeps_signs();
        if self.model.kind == ModelKind::Rnn {
            let rnn = self.model.rnn.get_or_insert_with(RnnConfig::default);
            if rnn.cell != Cell::Dense && self.model.dale.is_none() {
                self.model.dale = Some(if keeps_signs { Dale::Eg } else { Dale::Clamp });
            }
        }
        let rnn_dann = self
            .model
            .rnn
            .as_ref()
            .is_some_and(|r| self.model.kind == ModelKind::Rnn && r.cell == Cell::Dann);
        let dann = self.model.kind == ModelKind::Dann || rnn_dann;
        let opt = &mut self.optimizer;
        // Other models leave `transforms` unset (none), so their resolved configs read as before.
        if dann && opt.transforms.is_none() {
            opt.transforms = Some(if self.model.dann_corrections {
                vec![Transform::DannCorrections]
            } else {
                vec![]
            });
        }
        // The groups' own matching decides (an invalid group is reported by validation).
        let alpha_taken = crate::optim::Groups::new(opt)
            .is_ok_and(|g| g.rule_of("layers.0.alpha") < g.rules.len() - 1);
        if self.model.kind == ModelKind::Dann
            && self.model.dann_divisive
            && opt.keeps_signs()
            && !alpha_taken
        {
            opt.groups.insert(
                "dann_alpha".into(),
                GroupConfig {
                    params: vec!["*.alpha".into()],
                    potential: Some(Potential::Euclidean),
                    unsigned_eg: Some(false),
                    // α is a log scale: decay would pull e^α towards 1.
                    weight_decay: Some(0.0),
                    ..GroupConfig::default()
                },
            );
        }
    }

    /// The run's length as (count, unit): epochs for a data set, updates for a stream or when
    /// `updates` is given.
    pub fn length(&self) -> (usize, Unit) {
        match (self.epochs, self.updates) {
            (Some(e), _) => (e, Unit::Epochs),
            (None, Some(u)) => (u, Unit::Updates),
            (None, None) => (0, Unit::Epochs),
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        let stream = match &self.data {
            DataConfig::Teacher { .. } => true,
            DataConfig::Tasks { epoch_updates, .. } => epoch_updates.is_none(),
            _ => false,
        };
        match (self.epochs, self.updates) {
            (Some(_), Some(_)) => {
                return Err("set either epochs or updates, not both".into());
            }
            (None, None) => {
                return Err(if stream {
                    "updates is missing: a stream is counted in updates".into()
                } else {
                    "epochs (or updates) is missing: set the length of the run".into()
                });
            }
            (Some(_), None) if stream => {
                return Err("epochs: a stream has no epochs, set updates = N instead".into());
            }
            (Some(0), _) | (_, Some(0)) => {
                return Err(format!("{} must be >= 1", self.length().1.key()));
            }
            _ => {}
        }
        if self.eval_every == Some(0) {
            return Err("eval_every must be >= 1 (updates between evaluations)".into());
        }
        if let Some(p) = &self.prune {
            p.validate()?;
        }
        if let Some(&t) = self.checkpoints.at.iter().find(|&&t| t == 0) {
            return Err(format!(
                "checkpoints.at lists update {t}: updates count from 1 (the initial weights are \
                 weights_init.safetensors)"
            ));
        }
        for (m, v) in &self.checkpoints.thresholds {
            if !["test_acc", "test_dec_acc", "test_loss", "train_loss"].contains(&m.as_str()) {
                return Err(format!(
                    "checkpoints.thresholds.{m}: unknown metric; use test_acc, test_dec_acc (task \
                     streams and decision masks), test_loss or train_loss"
                ));
            }
            if let Some(x) = v.iter().find(|x| !x.is_finite()) {
                return Err(format!(
                    "checkpoints.thresholds.{m}: {x} is not a finite number"
                ));
            }
        }
        if let DataConfig::Teacher { task } = &self.data {
            task.validate()?;
        }
        if let DataConfig::Tasks {
            set,
            steps,
            dt,
            held_out,
            evaluate,
            epoch_updates,
            ..
        } = &self.data
        {
            let set = crate::tasks::cognitive::TaskSet::named(set)
                .map_err(|e| format!("data.set: {e}"))?;
            set.check_dt(dt.unwrap_or(set.default_dt()))
                .map_err(|e| format!("data.dt: {e}"))?;
            if *steps == 0 {
                return Err("data.steps must be >= 1 (steps per window)".into());
            }
            if *held_out == 0 {
                return Err("data.held_out must be >= 1 sequence".into());
            }
            if !["validation", "test"].contains(&evaluate.as_str()) {
                return Err(format!(
                    "data.evaluate = \"{evaluate}\": use \"validation\" or \"test\""
                ));
            }
            if *epoch_updates == Some(0) {
                return Err("data.epoch_updates must be >= 1".into());
            }
            if self.model.kind != ModelKind::Rnn {
                return Err("cognitive tasks are sequences: use model.kind = \"rnn\"".into());
            }
        }
        if self.batch_size == 0 {
            return Err("batch_size must be >= 1".into());
        }
        if self.log_every == 0 {
            return Err("log_every must be >= 1".into());
        }
        self.optimizer.validate()?;
        self.model
            .init
            .validate()
            .map_err(|e| format!("model.{e}"))?;
        if self.model.hidden.contains(&0) {
            return Err("model.hidden widths must be >= 1".into());
        }
        if self.model.ei_ratio == 0 {
            return Err("model.ei_ratio must be >= 1 (E units per I unit)".into());
        }
        if let DataConfig::Idx {
            classes: Some(c), ..
        } = &self.data
            && *c < 2
        {
            return Err(format!("data.classes must be >= 2 (got {c})"));
        }
        if self.model.kind == ModelKind::Colei
            && let Some(&w) = self
                .model
                .hidden
                .iter()
                .find(|&&w| crate::nn::colei::ei_split(w, self.model.ei_ratio).0 == 0)
        {
            return Err(format!(
                "model.hidden width {w} is too small for a colei model at ei_ratio {}: every \
                 layer needs both E and I units, so widths must be >= 2",
                self.model.ei_ratio
            ));
        }
        if self.model.kind != ModelKind::Mlp && self.model.hidden.is_empty() {
            return Err(
                "model.hidden must list at least one layer for colei, dann and rnn models".into(),
            );
        }
        if let Some(dale) = self.model.dale {
            let colei = match (self.model.kind, &self.model.rnn) {
                (ModelKind::Colei, _) => true,
                (ModelKind::Dann, _) => false,
                (ModelKind::Rnn, Some(r)) if r.cell != Cell::Dense => r.cell == Cell::Colei,
                _ => {
                    return Err(
                        "model.dale applies to colei and dann models and to E/I rnn \
                                cells; remove it for this model"
                            .into(),
                    );
                }
            };
            validate_dale(dale, colei, self.optimizer.keeps_signs())?;
        }
        let sequences = matches!(self.data, DataConfig::Npz { .. });
        match (&self.model.rnn, self.model.kind) {
            (Some(rnn), ModelKind::Rnn) => {
                if self.model.hidden.len() != 1 {
                    return Err(format!(
                        "model.hidden lists {} widths: an rnn model has one recurrent layer \
                         (e.g. hidden = [128])",
                        self.model.hidden.len()
                    ));
                }
                rnn.validate(self.model.hidden[0])?;
                if matches!(
                    self.data,
                    DataConfig::Teacher { .. } | DataConfig::ROfK { .. }
                ) {
                    return Err(
                        "an rnn model reads sequences: use data.kind = \"idx\" (images \
                                row by row), \"digits\", \"adding\", \"tasks\" or \"npz\""
                            .into(),
                    );
                }
            }
            (Some(_), _) => {
                return Err("[model.rnn] is set but model.kind is not \"rnn\"".into());
            }
            (None, _) if sequences => {
                return Err(
                    "data.kind = \"npz\" holds sequences: train them with model.kind = \"rnn\""
                        .into(),
                );
            }
            _ => {}
        }
        if let DataConfig::Adding { steps, train, test } = &self.data {
            if *steps < 2 {
                return Err(format!(
                    "data.steps must be >= 2 (one marked step in each half; got {steps})"
                ));
            }
            if *train == 0 || *test == 0 {
                return Err("data.train and data.test must be >= 1 sequence".into());
            }
            if self.model.kind != ModelKind::Rnn {
                return Err("the adding problem holds sequences: use model.kind = \"rnn\"".into());
            }
        }
        if let DataConfig::Digits { test_fraction } = &self.data
            && !(*test_fraction > 0.0 && *test_fraction < 1.0)
        {
            return Err(format!(
                "data.test_fraction must be in (0, 1) (got {test_fraction})"
            ));
        }
        if let DataConfig::Npz {
            test, validation, ..
        } = &self.data
        {
            match (test, validation) {
                (Some(_), Some(_)) => {
                    return Err(
                        "data: give either test (an archive) or validation (a share of \
                                the training sequences), not both"
                            .into(),
                    );
                }
                (None, None) => {
                    return Err("data: an npz data set needs a held-out split: set test = \
                                \"FILE.npz\" or validation = 0.1"
                        .into());
                }
                (None, Some(v)) if !(*v > 0.0 && *v < 1.0) => {
                    return Err(format!("data.validation must be in (0, 1) (got {v})"));
                }
                _ => {}
            }
        }
        if !(0.0..1.0).contains(&self.loss.label_smoothing) {
            return Err("loss.label_smoothing must be in [0, 1)".into());
        }
        if let DataConfig::Idx {
            validation: Some(0),
            ..
        } = &self.data
        {
            return Err("data.validation must be >= 1 (held-out training samples)".into());
        }
        if let DataConfig::ROfK { task } = &self.data {
            task.validate()?;
            if self.model.kind != ModelKind::Mlp {
                return Err(
                    "the r-of-k task trains a linear neuron: use model.kind = \"mlp\"".into(),
                );
            }
        }
        Ok(())
    }
}

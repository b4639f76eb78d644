//! The `geoplast train` configuration, validated before any work starts.

use crate::geometry::Potential;
use crate::nn::{Activation, BiasKind, Init};
use crate::optim::{GroupConfig, OptimConfig, Transform};
use crate::tasks::r_of_k::ROfK;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    pub seed: u64,
    pub epochs: usize,
    pub batch_size: usize,
    /// Log the training loss every this many updates.
    #[serde(default = "default_log_every")]
    pub log_every: usize,
    pub data: DataConfig,
    pub model: ModelConfig,
    pub optimizer: OptimConfig,
    #[serde(default)]
    pub loss: LossConfig,
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
        let dann = self.model.kind == ModelKind::Dann;
        let opt = &mut self.optimizer;
        if opt.transforms.is_none() {
            opt.transforms = Some(if dann && self.model.dann_corrections {
                vec![Transform::DannCorrections]
            } else {
                vec![]
            });
        }
        let alpha_taken = opt
            .groups
            .values()
            .flat_map(|g| &g.params)
            .filter_map(|p| globset::Glob::new(p).ok())
            .any(|g| g.compile_matcher().is_match("layers.0.alpha"));
        if dann && self.model.dann_divisive && opt.keeps_signs() && !alpha_taken {
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

    pub fn validate(&self) -> Result<(), String> {
        if self.epochs == 0 {
            return Err("epochs must be >= 1".into());
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
                "model.hidden must list at least one layer for colei and dann models".into(),
            );
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

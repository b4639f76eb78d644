//! `[prune]`: unstructured magnitude pruning of a new run's starting weights (the EG paper's
//! Fig 3: prune a trained network, then retrain it with a fresh optimiser). The pruned synapses
//! become fixed masks on their parameters: their values are 0, the optimiser masks their
//! gradients and values, and the masks are saved with the weights (`mask.<name>`, u8), so a
//! resumed pruned run stays pruned and later tools see which synapses were removed.

use super::model::Model;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PruneConfig {
    /// The share of the chosen weights to remove, in [0, 1).
    pub fraction: f64,
    #[serde(default)]
    pub order: Order,
    #[serde(default)]
    pub scope: Scope,
    /// Parameter-name globs to prune (default: every parameter).
    #[serde(default = "every")]
    pub include: Vec<String>,
    /// Prune biases too (one-dimensional parameters; excluded by default, as in the paper).
    #[serde(default)]
    pub biases: bool,
}

fn every() -> Vec<String> {
    vec!["*".into()]
}

/// Which magnitudes go first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// The smallest |w| (magnitude pruning).
    #[default]
    Smallest,
    /// The largest |w| (the paper's reverse pruning, Fig S7).
    Largest,
}

/// Over which weights the fraction is counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// One magnitude threshold shared by every chosen parameter.
    #[default]
    Global,
    /// Each chosen parameter loses its own `fraction`.
    PerTensor,
}

impl PruneConfig {
    pub fn validate(&self) -> std::result::Result<(), String> {
        if !(0.0..1.0).contains(&self.fraction) {
            return Err(format!(
                "prune.fraction must be in [0, 1), the share of weights removed (got {})",
                self.fraction
            ));
        }
        if self.include.is_empty() {
            return Err(
                "prune.include is empty: name the parameters to prune, e.g. [\"*\"]".into(),
            );
        }
        crate::io::weights::glob_set(&self.include, "prune.include")
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

/// Per pruned parameter: (name, weights kept, weights chosen).
pub type Pruned = Vec<(String, usize, usize)>;

/// Prunes `model` as `cfg` says. Entries masked already (an E/I readout's weights from I units)
/// are neither counted nor kept. Ties in |w| are broken by position, so the result is
/// deterministic.
pub fn apply(cfg: &PruneConfig, model: &mut Model) -> Result<Pruned> {
    let globs = crate::io::weights::glob_set(&cfg.include, "prune.include")?;
    let mut params: Vec<_> = model
        .params_mut()
        .into_iter()
        .filter(|p| globs.is_match(&p.name) && (cfg.biases || p.shape.len() >= 2))
        .collect();
    if params.is_empty() {
        return Err(Error::Config(format!(
            "prune.include {:?} matches no {}parameter of the model: use the names of \
             weights_init.safetensors",
            cfg.include,
            if cfg.biases { "" } else { "weight (non-bias) " }
        )));
    }
    // (|w|, parameter, index) of every live entry, in a group per threshold.
    let live = |i: usize, p: &crate::nn::Param<f32>| -> Vec<(f32, usize, usize)> {
        p.value
            .iter()
            .enumerate()
            .filter(|(j, _)| p.mask.as_ref().is_none_or(|m| m[*j]))
            .map(|(j, v)| (v.abs(), i, j))
            .collect()
    };
    let groups: Vec<Vec<(f32, usize, usize)>> = match cfg.scope {
        Scope::Global => vec![
            params
                .iter()
                .enumerate()
                .flat_map(|(i, p)| live(i, p))
                .collect(),
        ],
        Scope::PerTensor => params.iter().enumerate().map(|(i, p)| live(i, p)).collect(),
    };
    let mut chosen = vec![0usize; params.len()];
    let mut cut: Vec<Vec<usize>> = vec![vec![]; params.len()];
    for mut g in groups {
        for e in &g {
            chosen[e.1] += 1;
        }
        g.sort_by(|a, b| a.0.total_cmp(&b.0).then((a.1, a.2).cmp(&(b.1, b.2))));
        if cfg.order == Order::Largest {
            g.reverse();
        }
        let k = (cfg.fraction * g.len() as f64).floor() as usize;
        for &(_, i, j) in &g[..k] {
            cut[i].push(j);
        }
    }
    let mut out = Vec::new();
    for (i, p) in params.iter_mut().enumerate() {
        let n = p.value.len();
        let mask = p.mask.get_or_insert_with(|| vec![true; n]);
        for &j in &cut[i] {
            mask[j] = false;
            p.value[j] = 0.0;
        }
        out.push((p.name.clone(), chosen[i] - cut[i].len(), chosen[i]));
    }
    Ok(out)
}

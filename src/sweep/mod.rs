//! `geoplast sweep SWEEP.toml`: a grid of `geoplast train` runs (seeds × learning rates ×
//! optimisers × models, any config key), run in parallel, resumable, summarised in one table.
//!
//! A sweep file names a base train config and what varies:
//!
//! ```toml
//! base = "mlp_fmnist_gd.toml"      # a train config (relative to this file), or an inline [base] table
//! metric = "test_acc"              # or "test_loss", "train_loss", "train_loss_auc": the best setting per group
//! group_by = ["variant"]           # default: the variant, if there are variants
//!
//! [grid]                           # crossed with everything; keys are dotted config paths
//! seed = [1, 2, 3]
//!
//! [[variant]]                      # alternatives, each a set of overrides and its own grid
//! name = "eg"
//! "optimizer.potential" = { kind = "negentropy" }
//! grid = { "optimizer.lr" = [0.3, 1.0, 3.0] }
//! ```
//!
//! A key's value replaces the whole value at that path in the base config. Every run is expanded
//! and validated before any starts. Run `i` trains into `OUT/runs/NNN-name/`, a normal train run
//! folder; a run with `summary.json` is complete and skipped, one with only a checkpoint resumes.

pub mod exec;
pub mod slurm;
pub mod summary;

use crate::error::{Error, Result};
use crate::train::config::TrainConfig;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Which outcome of a run ranks the settings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Test (or validation) accuracy, higher is better.
    #[default]
    TestAcc,
    /// Test (or validation) loss, lower is better.
    TestLoss,
    /// The mean training loss over the run (the area under its training-loss curve), lower is
    /// better: rewards fast learning.
    TrainLossAuc,
    /// The final training loss (the last epoch's mean when evaluating every epoch), lower is
    /// better: the geometry paper's selection.
    TrainLoss,
}

impl Metric {
    pub fn name(self) -> &'static str {
        match self {
            Metric::TestAcc => "test_acc",
            Metric::TestLoss => "test_loss",
            Metric::TrainLossAuc => "train_loss_auc",
            Metric::TrainLoss => "train_loss",
        }
    }
    /// Whether `a` is better than `b`.
    pub fn better(self, a: f64, b: f64) -> bool {
        match self {
            Metric::TestAcc => a > b,
            Metric::TestLoss | Metric::TrainLossAuc | Metric::TrainLoss => a < b,
        }
    }
}

/// One varying key and its values.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    pub key: String,
    pub values: Vec<toml::Value>,
}

/// A named set of overrides with its own grid.
#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    pub name: String,
    pub set: Vec<(String, toml::Value)>,
    pub grid: Vec<Axis>,
}

/// A parsed sweep.
#[derive(Clone, Debug)]
pub struct Sweep {
    pub name: String,
    pub base: toml::Table,
    pub metric: Metric,
    pub group_by: Vec<String>,
    /// Crossed with every variant.
    pub grid: Vec<Axis>,
    /// Empty: one unnamed variant.
    pub variants: Vec<Variant>,
    /// `[slurm]`: scheduler options of `--emit-slurm`.
    pub slurm: slurm::Options,
}

/// One expanded run.
#[derive(Clone, Debug)]
pub struct Run {
    pub index: usize,
    /// The folder name under `OUT/runs/`: index, variant and the axis values.
    pub name: String,
    /// `variant` (if any) and every axis key with this run's value, in a fixed column order.
    pub labels: Vec<(String, String)>,
    pub config: TrainConfig,
}

impl Run {
    pub fn dir(&self, out: &Path) -> PathBuf {
        out.join("runs").join(&self.name)
    }
    pub fn label(&self, key: &str) -> &str {
        self.labels
            .iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v)
    }
}

fn config_err(origin: &str, msg: impl std::fmt::Display) -> Error {
    Error::Config(format!("{origin}: {msg}"))
}

fn axes(table: &toml::Table, origin: &str) -> Result<Vec<Axis>> {
    table
        .iter()
        .map(|(key, v)| match v {
            toml::Value::Array(values) if !values.is_empty() => Ok(Axis {
                key: key.clone(),
                values: values.clone(),
            }),
            _ => Err(config_err(
                origin,
                format!(
                    "grid key `{key}` must be a non-empty list of values, e.g. `\"{key}\" = [1, 2]`"
                ),
            )),
        })
        .collect()
}

/// Sets the dotted `path` of `table` to `value` (creating tables on the way).
pub fn set_path(
    table: &mut toml::Table,
    path: &str,
    value: toml::Value,
) -> std::result::Result<(), String> {
    let parts: Vec<&str> = path.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(format!("`{path}` is not a dotted config path"));
    }
    let mut t = table;
    for (i, part) in parts[..parts.len() - 1].iter().enumerate() {
        let entry = t
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        t = entry.as_table_mut().ok_or_else(|| {
            format!(
                "`{path}`: `{}` is a value, not a table",
                parts[..=i].join(".")
            )
        })?;
    }
    t.insert(parts[parts.len() - 1].to_string(), value);
    Ok(())
}

/// A value as a label: strings without quotes, everything else as TOML writes it.
fn show(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        // Debug switches to exponents for very large or small numbers (1e38, 1e-5).
        toml::Value::Float(f) => format!("{f:?}"),
        v => v.to_string(),
    }
}

/// A label made safe for a folder name.
pub fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '=') {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}

impl Sweep {
    /// Parses a sweep file; a relative `base` path is read relative to the file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let name = path
            .file_stem()
            .map_or("sweep".into(), |s| s.to_string_lossy().to_string());
        Self::parse(&text, &path.display().to_string(), &name, path.parent())
    }

    /// Parses sweep text from `origin`.
    pub fn parse(text: &str, origin: &str, name: &str, dir: Option<&Path>) -> Result<Self> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct File {
            name: Option<String>,
            base: toml::Value,
            #[serde(default)]
            metric: Metric,
            group_by: Option<Vec<String>>,
            #[serde(default)]
            grid: toml::Table,
            #[serde(default)]
            variant: Vec<toml::Table>,
            #[serde(default)]
            slurm: slurm::Options,
        }
        let f: File = crate::io::config::parse(text, origin)?;
        f.slurm.validate().map_err(|m| config_err(origin, m))?;
        let base = match f.base {
            toml::Value::Table(t) => t,
            toml::Value::String(p) => {
                let p = dir.unwrap_or(Path::new(".")).join(p);
                let text = std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e))?;
                text.parse::<toml::Table>()
                    .map_err(|e| Error::data(&p, e.to_string()))?
            }
            _ => {
                return Err(config_err(
                    origin,
                    "`base` must be a config file path or a [base] table",
                ));
            }
        };
        let mut variants = Vec::new();
        for (i, mut v) in f.variant.into_iter().enumerate() {
            let name = match v.remove("name") {
                Some(toml::Value::String(s)) if !s.is_empty() => s,
                _ => {
                    return Err(config_err(
                        origin,
                        format!("variant {} needs a `name = \"...\"`", i + 1),
                    ));
                }
            };
            let grid = match v.remove("grid") {
                Some(toml::Value::Table(t)) => axes(&t, origin)?,
                Some(_) => {
                    return Err(config_err(
                        origin,
                        format!("variant `{name}`: `grid` must be a table of lists"),
                    ));
                }
                None => vec![],
            };
            variants.push(Variant {
                name,
                set: v.into_iter().collect(),
                grid,
            });
        }
        let mut names: Vec<&str> = variants.iter().map(|v| v.name.as_str()).collect();
        names.sort_unstable();
        if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
            return Err(config_err(
                origin,
                format!("two variants are named `{}`", w[0]),
            ));
        }
        let group_by = f.group_by.unwrap_or_else(|| {
            if variants.is_empty() {
                vec![]
            } else {
                vec!["variant".into()]
            }
        });
        Ok(Self {
            name: f.name.unwrap_or_else(|| name.to_string()),
            base,
            metric: f.metric,
            group_by,
            grid: axes(&f.grid, origin)?,
            variants,
            slurm: f.slurm,
        })
    }

    /// Every label column: `variant` (if any), then the axis keys in order of first appearance.
    pub fn columns(&self) -> Vec<String> {
        let mut cols: Vec<String> = if self.variants.is_empty() {
            vec![]
        } else {
            vec!["variant".into()]
        };
        let keys = self
            .grid
            .iter()
            .chain(self.variants.iter().flat_map(|v| &v.grid))
            .map(|a| &a.key);
        for k in keys {
            if !cols.contains(k) {
                cols.push(k.clone());
            }
        }
        cols
    }

    /// Expands and validates every run (`data_dir` as `--data-dir` of `geoplast train`).
    pub fn expand(&self, data_dir: Option<&Path>) -> Result<Vec<Run>> {
        let columns = self.columns();
        if let Some(g) = self.group_by.iter().find(|g| !columns.contains(g)) {
            return Err(Error::Config(format!(
                "sweep `{}`: group_by `{g}` is neither `variant` nor a grid key (grid keys: {})",
                self.name,
                columns.join(", ")
            )));
        }
        let unnamed = [Variant {
            name: String::new(),
            set: vec![],
            grid: vec![],
        }];
        let variants = if self.variants.is_empty() {
            &unnamed[..]
        } else {
            &self.variants[..]
        };
        let mut runs = Vec::new();
        for v in variants {
            // The variant's own grid replaces a global axis with the same key.
            let mut grid: Vec<&Axis> = self
                .grid
                .iter()
                .filter(|a| !v.grid.iter().any(|b| b.key == a.key))
                .collect();
            grid.extend(&v.grid);
            let combos: usize = grid.iter().map(|a| a.values.len()).product();
            for c in 0..combos {
                let origin = |i: usize| format!("sweep `{}`, run {i}", self.name);
                let index = runs.len();
                let mut table = self.base.clone();
                let mut labels = vec![];
                if !v.name.is_empty() {
                    labels.push(("variant".to_string(), v.name.clone()));
                }
                for (k, val) in &v.set {
                    set_path(&mut table, k, val.clone())
                        .map_err(|e| config_err(&origin(index), e))?;
                }
                // Mixed radix over the axes, last axis fastest.
                let mut rest = c;
                let mut picks = vec![0; grid.len()];
                for (i, a) in grid.iter().enumerate().rev() {
                    picks[i] = rest % a.values.len();
                    rest /= a.values.len();
                }
                for (a, &p) in grid.iter().zip(&picks) {
                    let val = &a.values[p];
                    set_path(&mut table, &a.key, val.clone())
                        .map_err(|e| config_err(&origin(index), e))?;
                    labels.push((a.key.clone(), show(val)));
                }
                let text = toml::to_string(&table).expect("a table serialises");
                let what = format!(
                    "{} ({})",
                    origin(index),
                    labels
                        .iter()
                        .map(|(k, v)| format!("{k} = {v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                let config: TrainConfig = crate::io::config::parse(&text, &what)?;
                let config = crate::train::resolve(config, data_dir).map_err(|e| match e {
                    Error::Config(m) => config_err(&what, m),
                    e => e,
                })?;
                let short: Vec<String> = labels
                    .iter()
                    .map(|(k, val)| {
                        if k == "variant" {
                            val.clone()
                        } else {
                            format!("{}={val}", k.rsplit('.').next().unwrap_or(k))
                        }
                    })
                    .collect();
                let name = slug(&format!("{index:03}-{}", short.join("_")));
                let labels = columns
                    .iter()
                    .map(|col| {
                        let v = labels.iter().find(|(k, _)| k == col);
                        (col.clone(), v.map_or(String::new(), |(_, v)| v.clone()))
                    })
                    .collect();
                runs.push(Run {
                    index,
                    name,
                    labels,
                    config,
                });
            }
        }
        Ok(runs)
    }
}

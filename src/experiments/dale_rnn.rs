//! Dale's-law RNNs compared by their spectra (Li, Cornford, Ghosh & Richards, NeurIPS 2023;
//! science.md E10): a dense RNN, column-EI RNNs and a recurrent DANN, each trained by GD and by
//! EG, on row-wise sequential images and on the adding problem. Column-EI varies one factor at
//! a time: its width at 10 % inhibitory units, and its inhibitory share at the base width.
//!
//! Per task, two sweeps ([`crate::sweep`]): every network's learning rate is selected from a
//! 3-value grid by the validation loss at one seed that is not a final seed, then every network
//! trains at its rate for each seed and is scored on the test set. For every final network, at
//! initialisation and after training: the singular values of the effective recurrent matrix
//! (`W_hh`, `W⁺·D` or `W_EE − W_EI·W_IE`, rebuilt from the run folder as the network uses it),
//! their normalised SVD entropy (NSE), the eigenvalues and the spectral radius, from `faer`
//! through [`crate::report::spectrum`].

use super::{Check, Final, Ranked, W_HH, final_with_fallback, read_json, run_sweep};
use crate::analysis::paired::mean_sd;
use crate::analysis::spearman::{spearman, spearman_test};
use crate::error::{Error, Result};
use crate::report::spectrum::{self, MatrixSpectrum};
use crate::report::{Figure, Panel, PanelKind, Series, plot};
use crate::sweep::exec::Done;
use crate::sweep::{Axis, Metric, Run, Sweep, Variant};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The two tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// Row-wise sequential images (Fashion-MNIST; the 8×8 digits under `--quick`),
    /// cross-entropy at the last step, scored by test accuracy.
    Images,
    /// The adding problem, MSE at the last step, scored by test MSE (predicting 1 gives ≈ 1/6).
    Adding,
}

impl Task {
    fn key(self) -> &'static str {
        match self {
            Task::Images => "images",
            Task::Adding => "adding",
        }
    }
}

/// The protocol.
#[derive(Clone, Debug, Serialize)]
pub struct Protocol {
    pub seeds: Vec<u64>,
    /// The selection runs' seed: not a final seed, so the adding problem's validation draws are
    /// no final run's test set.
    pub select_seed: u64,
    /// Multipliers of each network's centre rate (`CENTRES`) in its selection grid.
    pub lr_factors: Vec<f64>,
    /// Width of the dense RNN, the DANN and the column-EI network whose I share varies.
    pub hidden: usize,
    /// Column-EI widths at `i_fraction`.
    pub colei_widths: Vec<usize>,
    /// Column-EI inhibitory shares at `hidden`.
    pub i_fractions: Vec<f64>,
    /// The inhibitory share of every E/I network outside the I-share series (Li et al.: 10 %).
    pub i_fraction: f64,
    /// Images: `"idx"` (Fashion-MNIST, or `--data-dir`) or `"digits"`.
    pub images: &'static str,
    pub image_epochs: usize,
    pub image_select_epochs: usize,
    pub image_batch: usize,
    /// Held-out training images of the selection runs (IDX only; the digits select on their
    /// test split).
    pub validation: usize,
    /// The adding problem: sequence length, updates, batch, training and test sequences.
    pub adding_steps: usize,
    pub adding_updates: usize,
    pub adding_batch: usize,
    pub adding_train: usize,
    pub adding_test: usize,
}

impl Protocol {
    /// The default (25 minutes on 2 cores). The adding problem runs at T = 100: a pilot of
    /// 3,000 updates of batch 32 found the DANN learning it (test MSE 0.028 under GD at 0.01),
    /// so the fallback to T = 50 was not needed.
    pub fn standard() -> Self {
        Self {
            seeds: vec![1, 2, 3],
            select_seed: 100,
            lr_factors: vec![1.0 / 3.0, 1.0, 3.0],
            hidden: 128,
            colei_widths: vec![32, 64, 128, 256],
            i_fractions: vec![0.1, 0.2, 0.5],
            i_fraction: 0.1,
            images: "idx",
            image_epochs: 3,
            image_select_epochs: 1,
            image_batch: 128,
            validation: 10_000,
            adding_steps: 100,
            adding_updates: 4000,
            adding_batch: 32,
            adding_train: 10_000,
            adding_test: 1000,
        }
    }
    /// A smoke test (seconds): the 8×8 digits, widths 10 and 20, short adding sequences.
    pub fn quick() -> Self {
        Self {
            seeds: vec![1],
            lr_factors: vec![1.0],
            hidden: 20,
            colei_widths: vec![10, 20],
            i_fractions: vec![0.1, 0.5],
            images: "digits",
            image_epochs: 2,
            image_batch: 64,
            adding_steps: 10,
            adding_updates: 60,
            adding_batch: 16,
            adding_train: 320,
            adding_test: 64,
            ..Self::standard()
        }
    }
    /// Runs of all four sweeps (for a progress bar).
    pub fn runs(&self) -> usize {
        2 * 2 * architectures(self).len() * (self.lr_factors.len() + self.seeds.len())
    }
}

/// One network: its cell, width and inhibitory share.
#[derive(Clone, Debug, Serialize)]
pub struct Arch {
    /// `dense-128`, `dann-128`, `colei-32`, `colei-128-i50`, …
    pub name: String,
    /// `dense`, `colei` or `dann` (`model.rnn.cell`).
    pub cell: &'static str,
    pub hidden: usize,
    /// The inhibitory share (E/I cells).
    pub i_fraction: f64,
}

/// The networks: the dense RNN and the DANN at the base width, column-EI at every width (base
/// I share) and at every other I share (base width).
pub fn architectures(p: &Protocol) -> Vec<Arch> {
    let pct = |f: f64| (f * 100.0).round() as usize;
    let mut a = vec![
        Arch {
            name: format!("dense-{}", p.hidden),
            cell: "dense",
            hidden: p.hidden,
            i_fraction: p.i_fraction,
        },
        Arch {
            name: format!("dann-{}", p.hidden),
            cell: "dann",
            hidden: p.hidden,
            i_fraction: p.i_fraction,
        },
    ];
    for &w in &p.colei_widths {
        a.push(Arch {
            name: format!("colei-{w}"),
            cell: "colei",
            hidden: w,
            i_fraction: p.i_fraction,
        });
    }
    for &f in &p.i_fractions {
        if f == p.i_fraction && p.colei_widths.contains(&p.hidden) {
            continue;
        }
        a.push(Arch {
            name: format!("colei-{}-i{}", p.hidden, pct(f)),
            cell: "colei",
            hidden: p.hidden,
            i_fraction: f,
        });
    }
    a
}

/// The optimisers: name and config overrides. The Dale's-law cells clamp under GD and run EG on
/// their non-negative matrices under EG (`model.dale`'s default).
const OPTIMISERS: [(&str, &str); 2] = [
    ("gd", ""),
    ("eg", r#""optimizer.potential" = { kind = "negentropy" }"#),
];

/// Centres of the learning-rate grids: (task, cell, GD, EG). Images: the rates the example
/// configs selected on a validation split (`experiments/rnn_*.toml`); adding: the pilot's. A
/// first full run selected the lowest rate of three grids at every width (images: dense GD
/// 0.0167, column-EI EG 0.2; adding: column-EI EG 0.0333), so those grids were centred there.
const CENTRES: [(Task, &str, f64, f64); 6] = [
    (Task::Images, "dense", 0.02, 0.3),
    (Task::Images, "colei", 0.05, 0.2),
    (Task::Images, "dann", 0.1, 0.6),
    (Task::Adding, "dense", 0.01, 0.1),
    (Task::Adding, "colei", 0.01, 0.03),
    (Task::Adding, "dann", 0.01, 0.1),
];

fn centre(task: Task, cell: &str, opt: &str) -> f64 {
    let c = CENTRES
        .iter()
        .find(|c| c.0 == task && c.1 == cell)
        .expect("every cell has a centre");
    if opt == "eg" { c.3 } else { c.2 }
}

/// The grid of one network: the centre times each factor, rounded to 4 significant digits.
fn grid(p: &Protocol, task: Task, cell: &str, opt: &str) -> Vec<f64> {
    let c = centre(task, cell, opt);
    p.lr_factors
        .iter()
        .map(|f| {
            format!("{:.3e}", c * f)
                .parse()
                .expect("a formatted float parses")
        })
        .collect()
}

/// The variant name of a network under an optimiser.
fn variant_name(arch: &Arch, opt: &str) -> String {
    format!("{}-{opt}", arch.name)
}

/// The run config shared by a task's runs; `select` holds out a validation split.
fn base(p: &Protocol, task: Task, select: bool) -> toml::Table {
    let head = "log_every = 100\n[model]\nkind = \"rnn\"\nactivation = \"relu\"\n\
                init = { kind = \"uniform\", gain = 1.0 }\n\
                [optimizer]\nlr = 0.1\nmomentum = 0.9\nclip_norm = 1.0\n";
    let mut t: toml::Table = head.parse().expect("valid base");
    let int = |v: usize| toml::Value::Integer(v as i64);
    let mut data = toml::Table::new();
    match task {
        Task::Images => {
            data.insert("kind".into(), p.images.into());
            if select && p.images == "idx" {
                data.insert("validation".into(), int(p.validation));
            }
            let epochs = if select {
                p.image_select_epochs
            } else {
                p.image_epochs
            };
            t.insert("epochs".into(), int(epochs));
            t.insert("batch_size".into(), int(p.image_batch));
        }
        Task::Adding => {
            data.insert("kind".into(), "adding".into());
            data.insert("steps".into(), int(p.adding_steps));
            data.insert("train".into(), int(p.adding_train));
            data.insert("test".into(), int(p.adding_test));
            t.insert("updates".into(), int(p.adding_updates));
            t.insert("eval_every".into(), int(p.adding_updates.div_ceil(8)));
            t.insert("batch_size".into(), int(p.adding_batch));
        }
    }
    t.insert("seed".into(), int(p.select_seed as usize));
    t.insert("data".into(), toml::Value::Table(data));
    t
}

fn variant(arch: &Arch, opt: (&str, &str), lrs: &[f64]) -> Variant {
    let mut set: Vec<(String, toml::Value)> = opt
        .1
        .parse::<toml::Table>()
        .expect("valid overrides")
        .into_iter()
        .collect();
    set.push((
        "model.hidden".into(),
        toml::Value::Array(vec![toml::Value::Integer(arch.hidden as i64)]),
    ));
    let mut rnn = toml::Table::new();
    rnn.insert("cell".into(), arch.cell.into());
    if arch.cell != "dense" {
        rnn.insert("i_fraction".into(), arch.i_fraction.into());
    }
    set.push(("model.rnn".into(), toml::Value::Table(rnn)));
    Variant {
        name: variant_name(arch, opt.0),
        set,
        grid: vec![Axis {
            key: "optimizer.lr".into(),
            values: lrs.iter().map(|&v| toml::Value::Float(v)).collect(),
        }],
    }
}

/// The learning-rate selection of one task: every network over its grid at the selection seed.
pub fn selection(p: &Protocol, task: Task) -> Sweep {
    let mut variants = Vec::new();
    for a in architectures(p) {
        for o in OPTIMISERS {
            variants.push(variant(&a, o, &grid(p, task, a.cell, o.0)));
        }
    }
    Sweep {
        name: format!("dale-rnn-{}-select", task.key()),
        base: base(p, task, true),
        metric: Metric::TestLoss,
        group_by: vec!["variant".into()],
        grid: vec![],
        variants,
        slurm: Default::default(),
    }
}

/// The final sweep of one task: the networks in `chosen` (variant name, rate) over the seeds.
fn final_sweep(p: &Protocol, task: Task, chosen: &[(String, f64)]) -> Sweep {
    let mut variants = Vec::new();
    for a in architectures(p) {
        for o in OPTIMISERS {
            if let Some((_, lr)) = chosen.iter().find(|c| c.0 == variant_name(&a, o.0)) {
                variants.push(variant(&a, o, &[*lr]));
            }
        }
    }
    Sweep {
        name: format!("dale-rnn-{}", task.key()),
        base: base(p, task, false),
        metric: Metric::TestLoss,
        group_by: vec!["variant".into()],
        grid: vec![Axis {
            key: "seed".into(),
            values: p
                .seeds
                .iter()
                .map(|&s| toml::Value::Integer(s as i64))
                .collect(),
        }],
        variants,
        slurm: Default::default(),
    }
}

/// The spectral summary of one effective recurrent matrix.
#[derive(Clone, Debug, Serialize)]
pub struct Spectral {
    /// Normalised SVD entropy.
    pub nse: f64,
    pub spectral_radius: f64,
    pub sigma_max: f64,
    pub sigma_min: f64,
    /// Coefficient of variation of the singular values (their dispersion).
    pub sigma_cv: f64,
    /// Largest first.
    pub singular_values: Vec<f64>,
    /// (re, im).
    pub eigenvalues: Vec<(f64, f64)>,
}

impl Spectral {
    fn of(m: MatrixSpectrum) -> Self {
        let (mean, sd) = mean_sd(&m.singular_values);
        Self {
            nse: m.svd_entropy,
            spectral_radius: m.spectral_radius.unwrap_or(f64::NAN),
            sigma_max: m.singular_values.first().copied().unwrap_or(f64::NAN),
            sigma_min: m.singular_values.last().copied().unwrap_or(f64::NAN),
            sigma_cv: sd / mean,
            singular_values: m.singular_values,
            eigenvalues: m.eigenvalues.unwrap_or_default(),
        }
    }
}

/// One final run.
#[derive(Clone, Debug, Serialize)]
pub struct RunRow {
    pub task: Task,
    pub arch: String,
    pub optimiser: String,
    pub seed: u64,
    pub lr: f64,
    /// Test accuracy (%) for images, test MSE for the adding problem; NaN if it diverged.
    pub performance: f64,
    pub init: Spectral,
    pub trained: Option<Spectral>,
}

/// One network under one optimiser on one task, over the seeds.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub task: Task,
    pub arch: String,
    pub cell: String,
    pub hidden: usize,
    pub i_fraction: f64,
    pub optimiser: String,
    pub lr: f64,
    pub lr_at_grid_edge: bool,
    /// Per seed; mean and sd over the finite ones.
    pub performance: Vec<f64>,
    pub mean: f64,
    pub sd: f64,
    /// Means over seeds.
    pub nse_init: f64,
    pub nse_trained: f64,
    pub radius_init: f64,
    pub radius_trained: f64,
    pub sigma_cv_init: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub experiment: &'static str,
    pub protocol: Protocol,
    pub architectures: Vec<Arch>,
    pub rows: Vec<Row>,
    pub runs: Vec<RunRow>,
    pub checks: Vec<Check>,
    pub notes: Vec<String>,
    pub seconds: f64,
}

impl super::Reproduced for Report {
    fn printed(&self) -> (String, &[Check], &[String], f64) {
        let table = format!(
            "images\n{}\nadding\n{}\n{}",
            table_markdown(self, Task::Images),
            table_markdown(self, Task::Adding),
            eg_effect(self).join("\n")
        );
        (table, &self.checks, &self.notes, self.seconds)
    }
}

/// The effective recurrent matrix of a run folder's model with its `weights` file.
fn recurrent(dir: &Path, weights: &str) -> Result<MatrixSpectrum> {
    let m = spectrum::of_run(dir, weights)?
        .into_iter()
        .find(|m| m.0.starts_with(W_HH))
        .ok_or_else(|| Error::data(dir.join(weights), "no recurrent matrix"))?;
    spectrum::analyse(&m)
}

/// Whether a task scores higher-is-better.
fn higher_better(task: Task) -> bool {
    task == Task::Images
}

/// Runs all four sweeps into `out/{images,adding}/{select,final}` (complete runs are reused, so
/// an interrupted reproduction continues) and writes the report, tables and plots into `out`.
pub fn run(
    p: &Protocol,
    out: &Path,
    data_dir: Option<&Path>,
    jobs: usize,
    on_done: &(dyn Fn(&Run, &Done) + Sync),
) -> Result<Report> {
    let start = std::time::Instant::now();
    let archs = architectures(p);
    let mut notes = Vec::new();
    let mut rows = Vec::new();
    let mut runs_out = Vec::new();
    for task in [Task::Images, Task::Adding] {
        let dir = out.join(task.key());
        let (_, sel) = run_sweep(
            &selection(p, task),
            &dir.join("select"),
            data_dir,
            jobs,
            on_done,
        )?;
        let mut ranked = Vec::new();
        for a in &archs {
            for (o, _) in OPTIMISERS {
                let r = Ranked::of(&sel, &variant_name(a, o), Metric::TestLoss);
                if r.rates.is_empty() {
                    notes.push(format!(
                        "{}: {} diverged at every rate of its grid; it has no final runs",
                        task.key(),
                        r.name
                    ));
                } else {
                    ranked.push(r);
                }
            }
        }
        let names: Vec<String> = ranked.iter().map(|r| r.name.clone()).collect();
        let build = |lrs: &[f64]| {
            let chosen: Vec<(String, f64)> = names.iter().cloned().zip(lrs.to_vec()).collect();
            final_sweep(p, task, &chosen)
        };
        let final_dir = dir.join("final");
        let Final {
            runs, rates: pick, ..
        } = final_with_fallback(
            &ranked, &build, &final_dir, data_dir, jobs, on_done, &mut notes,
        )?;
        for a in &archs {
            for (o, _) in OPTIMISERS {
                let name = variant_name(a, o);
                let Some(k) = names.iter().position(|n| *n == name) else {
                    continue;
                };
                let lr = pick[k].0;
                let g = grid(p, task, a.cell, o);
                let mut mine = Vec::new();
                for r in runs.iter().filter(|r| r.label("variant") == name) {
                    let d = r.dir(&final_dir);
                    let init = recurrent(&d, "weights_init.safetensors")?;
                    let summary = d.join("summary.json");
                    let (performance, trained) = if summary.is_file() {
                        let v = read_json(&summary)?;
                        let key = if higher_better(task) {
                            "test_acc"
                        } else {
                            "test_loss"
                        };
                        let fin = recurrent(&d, "weights_final.safetensors")?;
                        (v[key].as_f64().unwrap_or(f64::NAN), Some(fin))
                    } else {
                        (f64::NAN, None)
                    };
                    mine.push(RunRow {
                        task,
                        arch: a.name.clone(),
                        optimiser: o.into(),
                        seed: r.config.seed,
                        lr,
                        performance,
                        init: Spectral::of(init),
                        trained: trained.map(Spectral::of),
                    });
                }
                let perf: Vec<f64> = mine.iter().map(|r| r.performance).collect();
                let (mean, sd) = mean_sd(&perf);
                let avg = |f: &dyn Fn(&RunRow) -> f64| {
                    mean_sd(&mine.iter().map(f).collect::<Vec<f64>>()).0
                };
                rows.push(Row {
                    task,
                    arch: a.name.clone(),
                    cell: a.cell.into(),
                    hidden: a.hidden,
                    i_fraction: a.i_fraction,
                    optimiser: o.into(),
                    lr,
                    lr_at_grid_edge: g.len() > 1 && (lr == g[0] || lr == g[g.len() - 1]),
                    mean,
                    sd,
                    nse_init: avg(&|r| r.init.nse),
                    nse_trained: avg(&|r| r.trained.as_ref().map_or(f64::NAN, |t| t.nse)),
                    radius_init: avg(&|r| r.init.spectral_radius),
                    radius_trained: avg(&|r| {
                        r.trained.as_ref().map_or(f64::NAN, |t| t.spectral_radius)
                    }),
                    sigma_cv_init: avg(&|r| r.init.sigma_cv),
                    performance: perf,
                });
                runs_out.extend(mine);
            }
        }
    }
    let checks = checks(p, &archs, &rows);
    let report = Report {
        experiment: "dale-rnn",
        protocol: p.clone(),
        architectures: archs,
        rows,
        runs: runs_out,
        checks,
        notes,
        seconds: start.elapsed().as_secs_f64(),
    };
    write(&report, out)?;
    Ok(report)
}

/// The row of network `arch` under optimiser `o` on `task`.
fn row_of<'a>(rows: &'a [Row], task: Task, o: &str, arch: &str) -> Option<&'a Row> {
    rows.iter()
        .find(|r| r.task == task && r.optimiser == o && r.arch == arch)
}

fn checks(p: &Protocol, archs: &[Arch], rows: &[Row]) -> Vec<Check> {
    let mut out = Vec::new();
    let base_colei = format!("colei-{}", p.hidden);
    let base_colei = if archs.iter().any(|a| a.name == base_colei) {
        base_colei
    } else {
        format!("colei-{}-i{}", p.hidden, (p.i_fraction * 100.0).round())
    };
    for task in [Task::Images, Task::Adding] {
        let sign = if higher_better(task) { 1.0 } else { -1.0 };
        let unit = if higher_better(task) {
            "test accuracy, points"
        } else {
            "test MSE"
        };
        for (o, _) in OPTIMISERS {
            let score =
                |arch: &str| row_of(rows, task, o, arch).map_or(f64::NAN, |r| sign * r.mean);
            let what = |s: &str| format!("{} {}: {s}", task.key(), o.to_uppercase());
            for other in [format!("dense-{}", p.hidden), format!("dann-{}", p.hidden)] {
                let d = score(&base_colei) - score(&other);
                out.push(Check {
                    what: what(&format!(
                        "{base_colei} learns worse than {other} (measured: difference in {unit})"
                    )),
                    measured: sign * d,
                    pass: d < 0.0,
                });
            }
            let series = |keep: &dyn Fn(&Arch) -> Option<f64>| -> (Vec<f64>, Vec<f64>) {
                archs
                    .iter()
                    .filter_map(|a| keep(a).map(|x| (x, score(&a.name))))
                    .unzip()
            };
            let (w, s) = series(&|a| {
                (a.cell == "colei" && a.i_fraction == p.i_fraction).then_some(a.hidden as f64)
            });
            let rho = spearman(&w, &s);
            out.push(Check {
                what: what("column-EI learns better the wider it is (measured: Spearman ρ of width and score; pass: ρ > 0, a direction only)"),
                measured: rho,
                pass: rho > 0.0,
            });
            let (f, s) =
                series(&|a| (a.cell == "colei" && a.hidden == p.hidden).then_some(a.i_fraction));
            let rho = spearman(&f, &s);
            out.push(Check {
                what: what("column-EI learns better with more I units (measured: Spearman ρ of I share and score; pass: ρ > 0, a direction only)"),
                measured: rho,
                pass: rho > 0.0,
            });
            let (nse, s): (Vec<f64>, Vec<f64>) = rows
                .iter()
                .filter(|r| r.task == task && r.optimiser == o)
                .map(|r| (r.nse_init, sign * r.mean))
                .unzip();
            let (rho, pv) = spearman_test(&nse, &s);
            out.push(Check {
                what: what(&format!(
                    "NSE at initialisation orders the {} networks by final score (measured: \
                     Spearman ρ; one-sided permutation p = {pv:.3}, pass: p < 0.05)",
                    nse.len()
                )),
                measured: rho,
                pass: pv < 0.05,
            });
        }
    }
    // The spectrum at initialisation (the GD runs of the image task: one draw per seed).
    let nse = |arch: &str| row_of(rows, Task::Images, "gd", arch).map_or(f64::NAN, |r| r.nse_init);
    for other in [format!("dense-{}", p.hidden), format!("dann-{}", p.hidden)] {
        let d = nse(&base_colei) - nse(&other);
        out.push(Check {
            what: format!(
                "NSE at initialisation: {base_colei} below {other} (its spectrum is dispersed; measured: difference)"
            ),
            measured: d,
            pass: d < 0.0,
        });
    }
    out
}

/// The table of one task: one row per network, GD and EG side by side.
pub fn table_markdown(r: &Report, task: Task) -> String {
    let unit = if higher_better(task) {
        "test acc. %"
    } else {
        "test MSE"
    };
    let mut t = format!(
        "| network | GD: {unit} mean ± sd | EG: {unit} mean ± sd | lr GD / EG | NSE at init (GD / EG draw) | NSE trained GD / EG | radius at init | radius trained GD / EG |\n|---|---|---|---|---|---|---|---|\n"
    );
    for a in &r.architectures {
        let of = |o: &str| row_of(&r.rows, task, o, &a.name);
        let (gd, eg) = (of("gd"), of("eg"));
        let cell = |x: Option<&Row>| {
            x.map_or("—".into(), |x| {
                let diverged = x.performance.iter().filter(|v| !v.is_finite()).count();
                let d = if diverged > 0 {
                    format!(" ({diverged} diverged)")
                } else {
                    String::new()
                };
                let edge = if x.lr_at_grid_edge { " †" } else { "" };
                let prec = if higher_better(task) { 2 } else { 4 };
                let sd = if x.sd.is_finite() {
                    format!(" ± {:.*}", prec, x.sd)
                } else {
                    String::new()
                };
                format!("{:.*}{sd}{d}{edge}", prec, x.mean)
            })
        };
        let f = |x: Option<&Row>, g: &dyn Fn(&Row) -> f64, prec: usize| {
            x.map_or("—".into(), |x| format!("{:.*}", prec, g(x)))
        };
        t += &format!(
            "| {} | {} | {} | {} / {} | {} / {} | {} / {} | {} | {} / {} |\n",
            a.name,
            cell(gd),
            cell(eg),
            f(gd, &|x| x.lr, 4),
            f(eg, &|x| x.lr, 4),
            f(gd, &|x| x.nse_init, 3),
            f(eg, &|x| x.nse_init, 3),
            f(gd, &|x| x.nse_trained, 3),
            f(eg, &|x| x.nse_trained, 3),
            f(gd, &|x| x.radius_init, 2),
            f(gd, &|x| x.radius_trained, 2),
            f(eg, &|x| x.radius_trained, 2),
        );
    }
    t
}

/// What EG changes, per task: how many networks it trains better than GD, the mean
/// difference, and how it moves the trained NSE and spectral radius.
pub fn eg_effect(r: &Report) -> Vec<String> {
    let mut out = Vec::new();
    for task in [Task::Images, Task::Adding] {
        let sign = if higher_better(task) { 1.0 } else { -1.0 };
        let mut pairs = Vec::new();
        for a in &r.architectures {
            let of = |o: &str| row_of(&r.rows, task, o, &a.name);
            if let (Some(gd), Some(eg)) = (of("gd"), of("eg")) {
                pairs.push((a.name.clone(), gd, eg));
            }
        }
        let better: Vec<&str> = pairs
            .iter()
            .filter(|(_, gd, eg)| sign * (eg.mean - gd.mean) > 0.0)
            .map(|(n, ..)| n.as_str())
            .collect();
        let diffs: Vec<f64> = pairs.iter().map(|(_, gd, eg)| eg.mean - gd.mean).collect();
        let d_nse: Vec<f64> = pairs
            .iter()
            .map(|(_, gd, eg)| eg.nse_trained - gd.nse_trained)
            .collect();
        let d_rho: Vec<f64> = pairs
            .iter()
            .map(|(_, gd, eg)| eg.radius_trained - gd.radius_trained)
            .collect();
        let unit = if higher_better(task) {
            "accuracy points"
        } else {
            "MSE"
        };
        out.push(format!(
            "{}: EG beats GD on {} of {} networks ({}); mean EG − GD {:.4} {unit}; trained NSE \
             EG − GD {:+.3} on average, trained spectral radius {:+.2}",
            task.key(),
            better.len(),
            pairs.len(),
            if better.is_empty() {
                "none".to_string()
            } else {
                better.join(", ")
            },
            mean_sd(&diffs).0,
            mean_sd(&d_nse).0,
            mean_sd(&d_rho).0,
        ));
    }
    out
}

/// The series a network belongs to in the plots.
fn family(a: &Row, p: &Protocol) -> &'static str {
    match a.cell.as_str() {
        "dense" => "dense",
        "dann" => "DANN",
        _ if a.i_fraction != p.i_fraction => "column-EI, I share varied",
        _ => "column-EI, width varied",
    }
}

fn write(r: &Report, out: &Path) -> Result<()> {
    let p = &r.protocol;
    // Singular values of every network, at initialisation and after GD and EG (first seed).
    for task in [Task::Images, Task::Adding] {
        let mut panels = Vec::new();
        for a in &r.architectures {
            let mut samples = Vec::new();
            for run in r
                .runs
                .iter()
                .filter(|x| x.task == task && x.arch == a.name && x.seed == p.seeds[0])
            {
                if run.optimiser == "gd" {
                    samples.push(("init".to_string(), run.init.singular_values.clone()));
                }
                if let Some(t) = &run.trained {
                    samples.push((
                        format!("after {}", run.optimiser.to_uppercase()),
                        t.singular_values.clone(),
                    ));
                }
            }
            if samples.is_empty() {
                continue;
            }
            let bins = 40.min(a.hidden.max(4));
            panels.push(Panel {
                title: a.name.clone(),
                x_label: "singular value of W_rec".into(),
                y_label: "density".into(),
                kind: PanelKind::Hist { samples, bins },
            });
        }
        plot::save(
            &Figure {
                title: format!(
                    "{}: singular values of the effective recurrent matrix (seed {})",
                    task.key(),
                    p.seeds[0]
                ),
                cols: 4,
                panels,
            },
            &out.join(format!("singular_values_{}", task.key())),
        )?;
    }
    // Final score against NSE at initialisation, one point per run.
    let mut panels = Vec::new();
    for task in [Task::Images, Task::Adding] {
        for (o, _) in OPTIMISERS {
            let mut series: Vec<Series> = Vec::new();
            for row in r.rows.iter().filter(|x| x.task == task && x.optimiser == o) {
                let name = family(row, p);
                let i = match series.iter().position(|s| s.name == name) {
                    Some(i) => i,
                    None => {
                        series.push(Series {
                            name: name.into(),
                            x: vec![],
                            y: vec![],
                        });
                        series.len() - 1
                    }
                };
                for run in r
                    .runs
                    .iter()
                    .filter(|x| x.task == task && x.optimiser == o && x.arch == row.arch)
                {
                    if run.performance.is_finite() {
                        series[i].x.push(run.init.nse);
                        series[i].y.push(run.performance);
                    }
                }
            }
            panels.push(Panel {
                title: format!("{} {}", task.key(), o.to_uppercase()),
                x_label: "NSE of W_rec at initialisation".into(),
                y_label: if higher_better(task) {
                    "test accuracy (%)".into()
                } else {
                    "test MSE".into()
                },
                kind: PanelKind::Points(series),
            });
        }
    }
    plot::save(
        &Figure {
            title: "Final score against the NSE at initialisation (one point per run)".into(),
            cols: 2,
            panels,
        },
        &out.join("nse_vs_score"),
    )?;
    let checks = super::checks_markdown(&r.checks, &r.notes);
    let images = if p.images == "idx" {
        "row-wise sequential Fashion-MNIST"
    } else {
        "row-wise sequential 8×8 digits"
    };
    let text = format!(
        "# Dale's-law RNNs compared by their spectra (Li et al. 2023)\n\n\
         One ReLU RNN layer and a linear readout at the last step; momentum 0.9, clipping 1.0; \
         the dense RNN starts from U(±√3/√H) (§2.6, gain 1), column-EI from the balanced \
         exponential draw rescaled to spectral radius 1.5, the DANN from its E/I-balanced draw. \
         GD clamps the Dale's-law matrices at 0, EG keeps their signs itself. Seeds {:?}; mean ± \
         sd over seeds. † the selected rate is at the edge of its grid.\n\n\
         ## {images}\n\n{} epochs of batch {}, test accuracy on the test set.\n\n{}\n\
         ## The adding problem\n\nT = {}, {} updates of batch {} over {} training sequences, \
         MSE on {} test sequences (predicting 1 gives ≈ 0.167).\n\n{}\n\
         ## What EG changes\n\n{}\n\
         ## Checks\n\n{checks}\n\
         Learning rates were selected per network from its centre × {:?} by the validation loss \
         at seed {} ({}; fresh adding sequences of that seed).\n\n\
         ![singular values, images](singular_values_images.png)\n\n\
         ![singular values, adding](singular_values_adding.png)\n\n\
         ![score against NSE](nse_vs_score.png)\n\n\
         `summary.json` holds every final run's spectra (singular values, eigenvalues, NSE, \
         radius) at initialisation and after training; each run folder under \
         `{{images,adding}}/final/runs/` is a train run (`geoplast spectrum RUN_DIR` plots one). Wall time of this call {:.0} s (runs reused from an \
         earlier call not counted).\n",
        p.seeds,
        p.image_epochs,
        p.image_batch,
        table_markdown(r, Task::Images),
        p.adding_steps,
        p.adding_updates,
        p.adding_batch,
        p.adding_train,
        p.adding_test,
        table_markdown(r, Task::Adding),
        eg_effect(r)
            .iter()
            .map(|l| format!("* {l}.\n"))
            .collect::<String>(),
        p.lr_factors
            .iter()
            .map(|f| (f * 1000.0).round() / 1000.0)
            .collect::<Vec<_>>(),
        p.select_seed,
        if p.images == "idx" {
            format!("{} held-out training images", p.validation)
        } else {
            "the digits' test split: a smoke test".into()
        },
        r.seconds,
    );
    super::write_report(out, text, r)
}

/// The default run folder.
pub fn default_out(quick: bool) -> PathBuf {
    PathBuf::from(if quick {
        "runs/dale-rnn-quick"
    } else {
        "runs/dale-rnn"
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_networks_vary_one_factor_at_a_time() {
        let p = Protocol::standard();
        let names: Vec<String> = architectures(&p).into_iter().map(|a| a.name).collect();
        assert_eq!(
            names,
            [
                "dense-128",
                "dann-128",
                "colei-32",
                "colei-64",
                "colei-128",
                "colei-256",
                "colei-128-i20",
                "colei-128-i50"
            ]
        );
        assert_eq!(grid(&p, Task::Images, "colei", "eg"), [0.06667, 0.2, 0.6]);
        assert_eq!(
            grid(&p, Task::Adding, "dense", "gd"),
            [0.003333, 0.01, 0.03]
        );
        // Both tasks, both optimisers, 3 rates and 3 seeds per network.
        assert_eq!(p.runs(), 2 * 2 * 8 * 6);
    }
}

//! Fashion-MNIST with Dale's law (Cornford et al. 2021, "Learning to live with Dale's principle"),
//! with EG added as a second optimiser column.
//!
//! Six variants: a ReLU MLP (3 hidden layers of 500), DANN (500 E + 50 I per hidden layer, 10 E +
//! 1 I output, divisive, corrected SGD) and column-EI (550 units per hidden layer, 10:1 E:I), each
//! trained by plain SGD (GD; Dale's-law matrices clamped at ≥ 0) and by SGD-EG (sign-preserving,
//! split biases; the MLP starts from signed log-normal weights). Batch 32, no momentum, no decay:
//! only the geometry differs between the two columns.
//!
//! Two sweeps ([`crate::sweep`]): the learning rate of every variant is selected on 10,000
//! held-out training samples (seed 1, a short run, a half-decade grid around a centre), then each
//! variant trains with its selected rate on all 60,000 training samples for every seed, and the
//! test accuracy is reported. The test files are used only in the second sweep.

use super::{Final, Ranked, density, final_with_fallback, run_sweep};
use crate::error::{Error, Result};
use crate::io::checkpoint;
use crate::report::{Figure, Panel, PanelKind, Series, plot};
use crate::sweep::exec::Done;
use crate::sweep::summary;
use crate::sweep::{Axis, Metric, Run, Sweep, Variant};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The protocol.
#[derive(Clone, Debug, Serialize)]
pub struct Protocol {
    pub seeds: Vec<u64>,
    pub epochs: usize,
    /// Epochs of each learning-rate selection run.
    pub select_epochs: usize,
    /// Held-out training samples for the selection.
    pub validation: usize,
    /// Multipliers of each variant's centre rate in the selection grid.
    pub lr_factors: Vec<f64>,
    /// Only for smoke tests: fewer training and test samples.
    pub train_limit: Option<usize>,
    pub test_limit: Option<usize>,
}

impl Protocol {
    /// The paper's length: 50 epochs, 3 seeds.
    pub fn full() -> Self {
        Self {
            seeds: vec![1, 2, 3],
            epochs: 50,
            select_epochs: 2,
            validation: 10_000,
            lr_factors: vec![1.0 / 3.0, 1.0, 3.0],
            train_limit: None,
            test_limit: None,
        }
    }
    /// The default: 20 epochs (about 30 min on 2 cores).
    pub fn standard() -> Self {
        Self {
            epochs: 20,
            ..Self::full()
        }
    }
    /// A smoke test: one seed, one epoch, 3,000 training and 2,000 test samples.
    pub fn quick() -> Self {
        Self {
            seeds: vec![1],
            epochs: 1,
            select_epochs: 1,
            validation: 1000,
            train_limit: Some(3000),
            test_limit: Some(2000),
            ..Self::full()
        }
    }
}

/// The variants: name, model, optimiser, centre of the learning-rate grid, and config overrides.
/// GD centres are the 2021 paper's tuned MNIST-family rates (science.md §3); EG centres come from
/// one-epoch pilot runs.
pub const VARIANTS: [(&str, &str, &str, f64, &str); 6] = [
    (
        "mlp-gd",
        "MLP",
        "GD",
        0.2976,
        r#"model = { kind = "mlp", hidden = [500, 500, 500], init = { kind = "uniform", gain = 0.5773502691896258 } }"#,
    ),
    (
        "mlp-eg",
        "MLP",
        "EG",
        1.0,
        r#"model = { kind = "mlp", hidden = [500, 500, 500], init = { kind = "signed_log_normal", ratio = 1.5, gain = 1.0 } }
"optimizer.potential" = { kind = "negentropy" }"#,
    ),
    (
        "dann-gd",
        "DANN",
        "GD",
        0.1107,
        r#"model = { kind = "dann", hidden = [500, 500, 500], ei_ratio = 10 }"#,
    ),
    (
        "dann-eg",
        "DANN",
        "EG",
        0.3,
        r#"model = { kind = "dann", hidden = [500, 500, 500], ei_ratio = 10 }
"optimizer.potential" = { kind = "negentropy" }"#,
    ),
    (
        "colei-gd",
        "column-EI",
        "GD",
        0.05273,
        r#"model = { kind = "colei", hidden = [550, 550, 550], ei_ratio = 10 }"#,
    ),
    (
        "colei-eg",
        "column-EI",
        "EG",
        0.3,
        r#"model = { kind = "colei", hidden = [550, 550, 550], ei_ratio = 10 }
"optimizer.potential" = { kind = "negentropy" }"#,
    ),
];

fn base(p: &Protocol, epochs: usize, validation: Option<usize>) -> toml::Table {
    let mut data = toml::Table::new();
    data.insert("kind".into(), "idx".into());
    for (k, v) in [
        ("train_limit", p.train_limit),
        ("test_limit", p.test_limit),
        ("validation", validation),
    ] {
        if let Some(v) = v {
            data.insert(k.into(), toml::Value::Integer(v as i64));
        }
    }
    let mut t: toml::Table =
        "seed = 1\nbatch_size = 32\nlog_every = 500\n[model]\n[optimizer]\nlr = 0.1\n"
            .parse()
            .expect("valid base");
    t.insert("epochs".into(), toml::Value::Integer(epochs as i64));
    t.insert("data".into(), toml::Value::Table(data));
    t
}

fn variant(name: &str, overrides: &str, lrs: &[f64]) -> Variant {
    let set: toml::Table = overrides.parse().expect("valid overrides");
    Variant {
        name: name.into(),
        set: set.into_iter().collect(),
        grid: vec![Axis {
            key: "optimizer.lr".into(),
            values: lrs.iter().map(|&v| toml::Value::Float(v)).collect(),
        }],
    }
}

/// The learning-rate selection sweep.
pub fn selection(p: &Protocol) -> Sweep {
    let r = |v: f64| (v * 1e4).round() / 1e4;
    Sweep {
        name: "dann-fmnist-select".into(),
        base: base(p, p.select_epochs, Some(p.validation)),
        metric: Metric::TestAcc,
        group_by: vec!["variant".into()],
        grid: vec![],
        variants: VARIANTS
            .iter()
            .map(|&(name, _, _, centre, o)| {
                let lrs: Vec<f64> = p.lr_factors.iter().map(|f| r(centre * f)).collect();
                variant(name, o, &lrs)
            })
            .collect(),
        slurm: Default::default(),
    }
}

/// The final sweep: each variant at its selected rate, every seed, evaluated on the test files.
pub fn final_sweep(p: &Protocol, lrs: &[f64]) -> Sweep {
    Sweep {
        name: "dann-fmnist".into(),
        base: base(p, p.epochs, None),
        metric: Metric::TestAcc,
        group_by: vec!["variant".into()],
        grid: vec![Axis {
            key: "seed".into(),
            values: p
                .seeds
                .iter()
                .map(|&s| toml::Value::Integer(s as i64))
                .collect(),
        }],
        variants: VARIANTS
            .iter()
            .zip(lrs)
            .map(|(&(name, _, _, _, o), &lr)| variant(name, o, &[lr]))
            .collect(),
        slurm: Default::default(),
    }
}

/// One variant's outcome.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub variant: String,
    pub model: String,
    pub optimiser: String,
    pub lr: f64,
    /// The selected rate is the smallest or largest of the grid.
    pub lr_at_grid_edge: bool,
    pub validation_acc: f64,
    pub test_acc: Vec<f64>,
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    /// Training seconds summed over the seeds (a resumed run counts only its last call).
    pub seconds: f64,
}

pub use super::Check;

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub experiment: &'static str,
    pub protocol: Protocol,
    pub rows: Vec<Row>,
    pub checks: Vec<Check>,
    /// Learning-rate fallbacks after divergence.
    pub notes: Vec<String>,
    /// Wall time of this call.
    pub seconds: f64,
}

impl super::Reproduced for Report {
    fn printed(&self) -> (String, &[Check], &[String], f64) {
        (
            table_markdown(self),
            &self.checks,
            &self.notes,
            self.seconds,
        )
    }
}

/// Runs both sweeps into `out/select` and `out/final` (complete runs are reused, so an
/// interrupted reproduction continues) and writes the report, the table and the plots into `out`.
pub fn run(
    p: &Protocol,
    out: &Path,
    data_dir: Option<&Path>,
    jobs: usize,
    on_done: &(dyn Fn(&Run, &Done) + Sync),
) -> Result<Report> {
    let start = std::time::Instant::now();
    let sel = selection(p);
    let (_, sel_summary) = run_sweep(&sel, &out.join("select"), data_dir, jobs, on_done)?;
    // Per variant, the completed rates by validation accuracy, best first.
    let ranked: Vec<Ranked> = VARIANTS
        .iter()
        .map(|&(name, ..)| Ranked::of(&sel_summary, name, Metric::TestAcc))
        .collect();
    let mut notes = Vec::new();
    let final_dir = out.join("final");
    let build = |lrs: &[f64]| final_sweep(p, lrs);
    let Final {
        runs,
        summary: s,
        rates: pick,
    } = final_with_fallback(
        &ranked, &build, &final_dir, data_dir, jobs, on_done, &mut notes,
    )?;
    let lrs: Vec<f64> = pick.iter().map(|x| x.0).collect();
    let val: Vec<f64> = pick.iter().map(|x| x.1).collect();
    let mut rows = Vec::new();
    for (i, &(name, model, optimiser, centre, _)) in VARIANTS.iter().enumerate() {
        let mine: Vec<&summary::Row> = s
            .rows
            .iter()
            .zip(&runs)
            .filter(|(_, r)| r.label("variant") == name)
            .map(|(row, _)| row)
            .collect();
        let acc: Vec<f64> = mine.iter().filter_map(|r| r.test_acc).collect();
        if acc.len() != mine.len() {
            return Err(Error::Config(format!(
                "{name} diverged at the selected learning rate {} (see {})",
                lrs[i],
                final_dir.display()
            )));
        }
        let grid: Vec<f64> = p.lr_factors.iter().map(|f| centre * f).collect();
        let (lo, hi) = grid
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(a, b), &v| (a.min(v), b.max(v)));
        rows.push(Row {
            variant: name.into(),
            model: model.into(),
            optimiser: optimiser.into(),
            lr: lrs[i],
            lr_at_grid_edge: grid.len() > 1
                && ((lrs[i] - lo).abs() < 1e-4 * lo || (lrs[i] - hi).abs() < 1e-4 * hi),
            validation_acc: val[i],
            mean: acc.iter().sum::<f64>() / acc.len() as f64,
            min: acc.iter().copied().fold(f64::INFINITY, f64::min),
            max: acc.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            test_acc: acc,
            seconds: mine.iter().filter_map(|r| r.seconds).sum(),
        });
    }
    let mean = |v: &str| {
        rows.iter()
            .find(|r| r.variant == v)
            .map_or(f64::NAN, |r| r.mean)
    };
    let checks = vec![
        Check {
            what: "MLP (GD) test accuracy >= 88 %".into(),
            measured: mean("mlp-gd"),
            pass: mean("mlp-gd") >= 88.0,
        },
        Check {
            what: "DANN (GD) within 1.5 points of the MLP (GD)".into(),
            measured: mean("dann-gd") - mean("mlp-gd"),
            pass: (mean("dann-gd") - mean("mlp-gd")).abs() <= 1.5,
        },
        Check {
            what: "column-EI (GD) below the MLP (GD) (the 2021 finding)".into(),
            measured: mean("colei-gd") - mean("mlp-gd"),
            pass: mean("colei-gd") < mean("mlp-gd"),
        },
    ];
    let report = Report {
        experiment: "dann-fmnist",
        protocol: p.clone(),
        rows,
        checks,
        notes,
        seconds: start.elapsed().as_secs_f64(),
    };
    write(&report, &runs, &final_dir, out)?;
    Ok(report)
}

/// The table: model × optimiser, mean (range) test accuracy over seeds.
pub fn table_markdown(r: &Report) -> String {
    let mut t = String::from(
        "| model | GD: test acc. % mean (range) | EG: test acc. % mean (range) | lr GD / EG |\n|---|---|---|---|\n",
    );
    for pair in r.rows.chunks(2) {
        let cell = |x: &Row| {
            format!(
                "{:.2} ({:.2}–{:.2}){}",
                x.mean,
                x.min,
                x.max,
                if x.lr_at_grid_edge { " †" } else { "" }
            )
        };
        t += &format!(
            "| {} | {} | {} | {} / {} |\n",
            pair[0].model,
            cell(&pair[0]),
            cell(&pair[1]),
            pair[0].lr,
            pair[1].lr
        );
    }
    t
}

/// Mean test accuracy per epoch over the runs of each variant.
fn curves(runs: &[Run], dir: &Path) -> Result<Vec<Series>> {
    let mut out = Vec::new();
    for (name, ..) in VARIANTS {
        let mut sums: Vec<(f64, usize)> = Vec::new();
        for r in runs.iter().filter(|r| r.label("variant") == name) {
            let p = r.dir(dir).join("metrics.jsonl");
            let text = std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e))?;
            for v in text
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            {
                if let (Some(e), Some(a)) = (v["epoch"].as_u64(), v["test_acc"].as_f64()) {
                    let e = e as usize;
                    if sums.len() < e {
                        sums.resize(e, (0.0, 0));
                    }
                    sums[e - 1].0 += a;
                    sums[e - 1].1 += 1;
                }
            }
        }
        out.push(Series {
            name: name.into(),
            x: (1..=sums.len()).map(|e| e as f64).collect(),
            y: sums.iter().map(|(s, n)| s / *n as f64).collect(),
        });
    }
    Ok(out)
}

/// One panel per weight matrix of a run: histograms of log10 |w| before and after training and
/// the log-normal fitted to the final magnitudes (a normal density on the log axis).
fn weight_panels(dir: &Path) -> Result<Vec<Panel>> {
    let (init, _) = checkpoint::load(&dir.join("weights_init.safetensors"))?;
    let (fin, _) = checkpoint::load(&dir.join("weights_final.safetensors"))?;
    let mut panels = Vec::new();
    for (name, t) in fin.iter().filter(|(_, t)| t.shape.len() == 2) {
        let logs = |d: &[f32]| -> Vec<f64> {
            d.iter()
                .filter(|v| **v != 0.0)
                .map(|v| (v.abs() as f64).log10())
                .collect()
        };
        let after = logs(&t.data);
        let before = init.get(name).map_or(vec![], |t| logs(&t.data));
        if after.len() < 10 {
            continue;
        }
        let all = after.iter().chain(&before);
        let lo = all.clone().fold(f64::INFINITY, |a, &b| a.min(b)).max(-8.0);
        let hi = all.fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        let n = after.len() as f64;
        let m = after.iter().sum::<f64>() / n;
        let sd = (after.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n).sqrt();
        let (x, y) = density(&after, lo, hi, 60);
        let mut series = vec![];
        if !before.is_empty() {
            let (bx, by) = density(&before, lo, hi, 60);
            series.push(Series {
                name: "initial".into(),
                x: bx,
                y: by,
            });
        }
        series.push(Series {
            name: "final".into(),
            x: x.clone(),
            y,
        });
        series.push(Series {
            name: "log-normal fit".into(),
            x: x.clone(),
            y: x.iter()
                .map(|v| crate::analysis::normal::pdf((v - m) / sd) / sd)
                .collect(),
        });
        panels.push(Panel {
            title: name.clone(),
            x_label: "log10 |w|".into(),
            y_label: "density".into(),
            kind: PanelKind::Lines(series),
        });
    }
    Ok(panels)
}

fn write(r: &Report, runs: &[Run], final_dir: &Path, out: &Path) -> Result<()> {
    plot::save(
        &Figure {
            title: "Fashion-MNIST: test accuracy (mean over seeds)".into(),
            cols: 1,
            panels: vec![Panel {
                title: "learning curves".into(),
                x_label: "epoch".into(),
                y_label: "test accuracy (%)".into(),
                kind: PanelKind::Lines(curves(runs, final_dir)?),
            }],
        },
        &out.join("curves"),
    )?;
    let mut hist = String::new();
    let mut stats = String::from(
        "| variant | matrix | sign flips | set to 0 | slope of abs(Δw) on abs(w_init) | skewness / excess kurtosis of ln abs(w) | log-lik. log-normal − half-normal |\n|---|---|---|---|---|---|---|\n",
    );
    for (name, ..) in VARIANTS {
        let Some(first) = runs.iter().find(|r| r.label("variant") == name) else {
            continue;
        };
        let dir = first.dir(final_dir);
        let panels = weight_panels(&dir)?;
        let cols = panels.len().min(4);
        plot::save(
            &Figure {
                title: format!(
                    "{name}: weights before and after training (seed {})",
                    first.config.seed
                ),
                cols,
                panels,
            },
            &out.join(format!("weights_{name}")),
        )?;
        hist += &format!("![{name}](weights_{name}.png)\n\n");
        let p = dir.join("summary.json");
        let text = std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e))?;
        let v: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| Error::data(&p, e.to_string()))?;
        for w in v["weight_stats"].as_array().into_iter().flatten() {
            let f = |k: &str| w[k].as_f64().unwrap_or(f64::NAN);
            stats += &format!(
                "| {name} | {} | {} | {} | {:.3} | {:.2} / {:.2} | {:.3e} |\n",
                w["name"].as_str().unwrap_or(""),
                w["sign_flips"],
                w["zeroed"],
                w["multiplicative"]["slope"].as_f64().unwrap_or(f64::NAN),
                f("log_skewness"),
                f("log_kurtosis"),
                f("loglik_lognormal") - f("loglik_halfnormal"),
            );
        }
    }
    let checks = super::checks_markdown(&r.checks, &r.notes);
    let p = &r.protocol;
    let sel: Vec<String> = r
        .rows
        .iter()
        .map(|x| format!("{} {} ({:.2} %)", x.variant, x.lr, x.validation_acc))
        .collect();
    let text = format!(
        "# Fashion-MNIST with Dale's law (Cornford et al. 2021) and EG\n\n\
         Test accuracy after {} epochs, batch 32, plain SGD (GD) or SGD-EG, over seeds {:?}.\n\n{}\n\
         † the selected learning rate is at the edge of its grid.\n\n{checks}\n\
         Learning rates were selected per variant on the last {} training samples (seed 1, {} epochs, \
         grid = centre × {}); selected rate (validation accuracy): {}.\n\n\
         ![curves](curves.png)\n\n## Weights after training (seed {})\n\n{stats}\n{hist}\
         Runs: `final/` (the table) and `select/` (the learning-rate sweep), each with summary.csv and one \
         train run folder per run. Wall time of this call {:.0} s (runs reused from an earlier call not counted).\n",
        p.epochs,
        p.seeds,
        table_markdown(r),
        p.validation,
        p.select_epochs,
        p.lr_factors
            .iter()
            .map(|f| format!("{f:.3}"))
            .collect::<Vec<_>>()
            .join(", "),
        sel.join(", "),
        p.seeds[0],
        r.seconds,
    );
    super::write_report(out, text, r)
}

/// The default run folder.
pub fn default_out(quick: bool, full: bool) -> PathBuf {
    PathBuf::from(match (quick, full) {
        (true, _) => "runs/dann-fmnist-quick",
        (_, true) => "runs/dann-fmnist-full",
        _ => "runs/dann-fmnist",
    })
}

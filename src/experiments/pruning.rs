//! The EG paper's pruning experiment (science.md E3; Fig 3, S6, S7): the Mod-Cog networks of
//! [`super::modcog`] at the start of their cooldown are pruned by magnitude — one |w| threshold
//! shared by W_ih, W_hh and W_out, biases kept — and retrained with a fresh optimiser under
//! WCC(0, N, N) through fixed masks (`[prune]` with `init_from`). Per method and fraction, the
//! learning rate with the lowest training-loss AUC (averaged over seeds) is reported.
//! Zero-shot, the cosine similarity of the pruned and unpruned parameter vectors; reverse
//! pruning (largest first) at two fractions.

use super::modcog::{self, METHODS};
use super::{Check, read_json, run_sweep};
use crate::analysis::paired;
use crate::error::{Error, Result};
use crate::io::checkpoint::{self, MASK_PREFIX};
use crate::report::{Figure, Panel, PanelKind, Series, plot};
use crate::sweep::exec::Done;
use crate::sweep::{Axis, Metric, Run, Sweep, Variant};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The protocol.
#[derive(Clone, Debug, Serialize)]
pub struct Protocol {
    /// The Mod-Cog reproduction whose EG and GD runs are pruned.
    pub modcog: modcog::Protocol,
    pub fractions: Vec<f64>,
    /// Retraining updates N, under WCC(0, N, N).
    pub updates: usize,
    /// The retraining rate grids as multiples of the rate the network was trained with: the
    /// paper's grids (EG {1, 1.5, 2}, GD {0.1, 0.25, 0.5}) over its training rates (EG 3.5,
    /// GD 0.1). At this scale the Mod-Cog rates are lower (EG 2 and 1 diverged there), and
    /// EG's retraining at the paper's absolute rates diverged within 200 updates.
    pub eg_factors: Vec<f64>,
    pub gd_factors: Vec<f64>,
    /// Fractions of reverse pruning (largest magnitudes first), at each method's selected rate.
    pub reverse: Vec<f64>,
}

impl Protocol {
    /// The CPU scale: the N = 400, 102 retraining runs of 400 updates (about 40 minutes
    /// at the 0.12 s per update the Mod-Cog runs measured, two at a time on one thread each).
    pub fn standard() -> Self {
        Self {
            modcog: modcog::Protocol::standard(),
            fractions: vec![0.9, 0.925, 0.95, 0.975, 0.99],
            updates: 400,
            eg_factors: vec![1.0 / 3.5, 1.5 / 3.5, 2.0 / 3.5],
            gd_factors: vec![1.0, 2.5, 5.0],
            reverse: vec![0.9, 0.99],
        }
    }
    /// A smoke test on the quick Mod-Cog networks.
    pub fn quick() -> Self {
        Self {
            modcog: modcog::Protocol::quick(),
            fractions: vec![0.9, 0.99],
            updates: 10,
            eg_factors: vec![1.0 / 3.5, 2.0 / 3.5],
            gd_factors: vec![1.0, 5.0],
            reverse: vec![0.9],
        }
    }
    /// Retraining runs (for a progress bar), besides the Mod-Cog runs.
    pub fn runs(&self) -> usize {
        let seeds = self.modcog.seeds.len();
        seeds * self.fractions.len() * (self.eg_factors.len() + self.gd_factors.len())
            + 2 * seeds * self.reverse.len()
    }
}

/// The fractions of the zero-shot curve: sorted(1 − logspace(−5, 0, 20)).
pub fn zero_shot_fractions() -> Vec<f64> {
    let mut f: Vec<f64> = (0..20)
        .map(|k| 1.0 - 10f64.powf(-5.0 + 5.0 * k as f64 / 19.0))
        .collect();
    f.sort_by(f64::total_cmp);
    f
}

/// The cosine similarity of `w` and `w` with the `fraction` smallest (or largest) magnitudes
/// set to 0: ‖w_kept‖ / ‖w‖.
pub fn zero_shot_cosine(w: &[f64], fraction: f64, largest_first: bool) -> f64 {
    let mut sq: Vec<f64> = w.iter().map(|v| v * v).collect();
    sq.sort_by(f64::total_cmp);
    if largest_first {
        sq.reverse();
    }
    let cut = ((fraction * sq.len() as f64).round() as usize).min(sq.len());
    let total: f64 = sq.iter().sum();
    let kept: f64 = sq[cut..].iter().sum();
    if total > 0.0 {
        (kept / total).sqrt()
    } else {
        f64::NAN
    }
}

/// The non-bias parameters of a checkpoint, flattened: what E3 prunes.
fn prunable(path: &Path) -> Result<Vec<f64>> {
    let (t, _) = checkpoint::load(path)?;
    Ok(t.iter()
        .filter(|(n, x)| {
            x.shape.len() >= 2 && !n.starts_with(MASK_PREFIX) && !n.starts_with("optimizer.")
        })
        .flat_map(|(_, x)| x.data.iter().map(|&v| v as f64))
        .collect())
}

/// The two pruned methods: (name in the Mod-Cog sweep, display name).
const PRUNED: [(&str, &str); 2] = [("eg", "EG"), ("gd", "GD")];

/// One source network: a completed Mod-Cog run at the start of its last epoch (the cooldown).
struct Source {
    method: &'static str,
    seed: u64,
    checkpoint: PathBuf,
}

/// A retraining sweep of `variants` (one or more per source network): `n` updates under
/// WCC(0, n, n) from the pruned checkpoint, scored on the test set.
fn retrain_sweep(p: &Protocol, name: &str, variants: Vec<Variant>) -> Sweep {
    let n = p.updates;
    let mut base = modcog::base(&p.modcog, n, (0, n), "test");
    base.insert("log_every".into(), toml::Value::Integer(10.min(n as i64)));
    base.insert(
        "prune".into(),
        toml::Value::Table(
            "fraction = 0.9\norder = \"smallest\"\nscope = \"global\""
                .parse()
                .expect("valid prune table"),
        ),
    );
    Sweep {
        name: name.into(),
        base,
        metric: Metric::TrainLossAuc,
        group_by: vec!["variant".into()],
        grid: vec![],
        variants,
        slurm: Default::default(),
    }
}

fn source_variant(
    s: &Source,
    name: String,
    extra: Vec<(String, toml::Value)>,
    grid: Vec<Axis>,
) -> Variant {
    let m = METHODS
        .iter()
        .find(|m| m.0 == s.method)
        .expect("a pruned method is a Mod-Cog method");
    let mut set: Vec<(String, toml::Value)> =
        m.2.parse::<toml::Table>()
            .expect("valid overrides")
            .into_iter()
            .collect();
    set.push(("seed".into(), toml::Value::Integer(s.seed as i64)));
    set.push((
        "init_from".into(),
        toml::Value::String(s.checkpoint.to_string_lossy().into_owned()),
    ));
    set.extend(extra);
    Variant { name, set, grid }
}

fn floats(v: &[f64]) -> Vec<toml::Value> {
    v.iter().map(|&x| toml::Value::Float(x)).collect()
}

/// One method at one fraction, at its selected rate, over the seeds.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub method: String,
    pub fraction: f64,
    /// Synapses left (mean over seeds).
    pub kept: f64,
    pub lr: f64,
    /// The training loss summed over the N updates (the paper's loss AUC), mean ± sd.
    pub loss_auc: (f64, f64),
    /// Test Dec Acc (the paper's response accuracy), Acc and loss after retraining.
    pub dec_acc: (f64, f64),
    pub acc: (f64, f64),
    pub loss: (f64, f64),
    /// Mean loss AUC of every rate of the grid (NaN: a seed diverged).
    pub auc_by_lr: Vec<(f64, f64)>,
}

/// The zero-shot curve of one method and order: fraction, cosine (mean over seeds).
#[derive(Clone, Debug, Serialize)]
pub struct ZeroShot {
    pub method: String,
    pub largest_first: bool,
    pub fraction: Vec<f64>,
    pub cosine: Vec<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub experiment: &'static str,
    pub protocol: Protocol,
    /// The Mod-Cog rates of the pruned networks.
    pub source_lrs: (f64, f64),
    /// The retraining grids: the protocol's factors times the Mod-Cog rates.
    pub eg_lrs: Vec<f64>,
    pub gd_lrs: Vec<f64>,
    pub rows: Vec<Row>,
    /// Reverse pruning, at each method's rate selected for magnitude pruning at that fraction.
    pub reverse: Vec<Row>,
    pub zero_shot: Vec<ZeroShot>,
    pub checks: Vec<Check>,
    pub notes: Vec<String>,
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

/// One retraining run's outcome: (loss AUC as a sum, Dec Acc, Acc, loss, kept); NaN when it
/// diverged.
fn outcome(p: &Protocol, run: &Run, dir: &Path) -> Result<[f64; 5]> {
    let d = run.dir(dir);
    let path = d.join("summary.json");
    if !path.is_file() {
        return Ok([f64::NAN; 5]);
    }
    let v = read_json(&path)?;
    let f = |x: &serde_json::Value| x.as_f64().unwrap_or(f64::NAN);
    let (masks, _) = checkpoint::load(&d.join("weights_init.safetensors"))?;
    let kept: f64 = masks
        .iter()
        .filter(|(n, _)| n.starts_with(MASK_PREFIX))
        .map(|(_, t)| t.data.iter().map(|&x| x as f64).sum::<f64>())
        .sum();
    Ok([
        f(&v["train_loss_auc"]) * p.updates as f64,
        f(&v["per_task"]["dec_acc"]),
        f(&v["per_task"]["acc"]),
        f(&v["test_loss"]),
        kept,
    ])
}

/// Mean and sd over seeds; NaN when a seed diverged (a diverged setting is not eligible).
fn over_seeds(v: &[f64]) -> (f64, f64) {
    if v.iter().any(|x| !x.is_finite()) {
        (f64::NAN, f64::NAN)
    } else {
        paired::mean_sd(v)
    }
}

/// Runs (or reuses) the Mod-Cog reproduction in `from`, then the retraining sweeps into
/// `out/retrain` and `out/reverse`, and writes the report, table and plots into `out`.
pub fn run(
    p: &Protocol,
    from: &Path,
    out: &Path,
    jobs: usize,
    on_done: &(dyn Fn(&Run, &Done) + Sync),
) -> Result<Report> {
    let start = std::time::Instant::now();
    let mc = modcog::run(&p.modcog, from, jobs, on_done)?;
    let lr_of = |v: &str| mc.rows.iter().find(|r| r.variant == v).map(|r| r.lr);
    let (Some(eg_lr), Some(gd_lr)) = (lr_of("eg"), lr_of("gd")) else {
        return Err(Error::Config(format!(
            "{} holds no EG or GD runs to prune",
            from.display()
        )));
    };
    let grid = |factors: &[f64], lr: f64| -> Vec<f64> {
        factors
            .iter()
            .map(|f| (f * lr * 1e4).round() / 1e4)
            .collect()
    };
    let (eg_lrs, gd_lrs) = (grid(&p.eg_factors, eg_lr), grid(&p.gd_factors, gd_lr));
    let mc_final = from.join("final");
    let epoch = format!("epoch_{:03}.safetensors", p.modcog.epochs - 1);
    let mut notes = Vec::new();
    let mut sources = Vec::new();
    for r in modcog::final_sweep(&p.modcog, eg_lr, gd_lr).expand(None)? {
        let Some(&(method, _)) = PRUNED.iter().find(|m| m.0 == r.label("variant")) else {
            continue;
        };
        let d = r.dir(&mc_final);
        let ck = d.join("checkpoints").join(&epoch);
        if !d.join("summary.json").is_file() || !ck.is_file() {
            notes.push(format!("{} diverged or lacks {epoch}: not pruned", r.name));
            continue;
        }
        let checkpoint = std::path::absolute(&ck).map_err(|e| Error::io(&ck, e))?;
        sources.push(Source {
            method,
            seed: r.config.seed,
            checkpoint,
        });
    }
    for (m, _) in PRUNED {
        if !sources.iter().any(|s| s.method == m) {
            return Err(Error::Config(format!(
                "no {m} run of {} completed: there is nothing to prune",
                from.display()
            )));
        }
    }
    // Zero-shot: the cosine of the pruned and unpruned parameter vectors.
    let mut fz = zero_shot_fractions();
    fz.extend(&p.fractions);
    fz.sort_by(f64::total_cmp);
    fz.dedup();
    let mut zero_shot = Vec::new();
    for (m, _) in PRUNED {
        let ws: Vec<Vec<f64>> = sources
            .iter()
            .filter(|s| s.method == m)
            .map(|s| prunable(&s.checkpoint))
            .collect::<Result<_>>()?;
        for largest_first in [false, true] {
            let cosine = fz
                .iter()
                .map(|&f| {
                    let c: Vec<f64> = ws
                        .iter()
                        .map(|w| zero_shot_cosine(w, f, largest_first))
                        .collect();
                    paired::mean_sd(&c).0
                })
                .collect();
            zero_shot.push(ZeroShot {
                method: m.into(),
                largest_first,
                fraction: fz.clone(),
                cosine,
            });
        }
    }
    // Magnitude pruning and retraining over the rate grids.
    let variants = sources
        .iter()
        .map(|s| {
            let lrs = if s.method == "eg" { &eg_lrs } else { &gd_lrs };
            source_variant(
                s,
                format!("{}_seed{}", s.method, s.seed),
                vec![],
                vec![
                    Axis {
                        key: "prune.fraction".into(),
                        values: floats(&p.fractions),
                    },
                    Axis {
                        key: "optimizer.lr".into(),
                        values: floats(lrs),
                    },
                ],
            )
        })
        .collect();
    let dir = out.join("retrain");
    let (runs, _) = run_sweep(
        &retrain_sweep(p, "pruning", variants),
        &dir,
        None,
        jobs,
        on_done,
    )?;
    let mut results = Vec::with_capacity(runs.len());
    for r in &runs {
        results.push(outcome(p, r, &dir)?);
    }
    let method_of = |r: &Run| {
        sources
            .iter()
            .find(|s| r.config.seed == s.seed && r.label("variant").starts_with(s.method))
            .map_or("", |s| s.method)
    };
    let near = |a: f64, b: f64| (a - b).abs() < 1e-9;
    let mut rows = Vec::new();
    for (m, _) in PRUNED {
        let lrs = if m == "eg" { &eg_lrs } else { &gd_lrs };
        for &f in &p.fractions {
            let at = |lr: f64| -> Vec<[f64; 5]> {
                runs.iter()
                    .zip(&results)
                    .filter(|(r, _)| {
                        method_of(r) == m
                            && near(r.config.optimizer.lr, lr)
                            && r.config.prune.as_ref().is_some_and(|x| near(x.fraction, f))
                    })
                    .map(|(_, o)| *o)
                    .collect()
            };
            let auc_by_lr: Vec<(f64, f64)> = lrs
                .iter()
                .map(|&lr| {
                    let a: Vec<f64> = at(lr).iter().map(|o| o[0]).collect();
                    (lr, over_seeds(&a).0)
                })
                .collect();
            let best = auc_by_lr
                .iter()
                .filter(|x| x.1.is_finite())
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map_or(f64::NAN, |x| x.0);
            rows.push(summarise(m, f, best, &at(best), auc_by_lr));
        }
    }
    // Reverse pruning at each method's rate for that fraction.
    let mut rev_variants = Vec::new();
    for s in &sources {
        for &f in &p.reverse {
            let lr = rows
                .iter()
                .find(|r| r.method == s.method && near(r.fraction, f))
                .map(|r| r.lr)
                .filter(|lr| lr.is_finite())
                .unwrap_or(if s.method == "eg" {
                    eg_lrs[0]
                } else {
                    gd_lrs[0]
                });
            rev_variants.push(source_variant(
                s,
                format!("{}_seed{}_f{f}", s.method, s.seed),
                vec![
                    ("prune.order".into(), toml::Value::String("largest".into())),
                    ("prune.fraction".into(), toml::Value::Float(f)),
                    ("optimizer.lr".into(), toml::Value::Float(lr)),
                ],
                vec![],
            ));
        }
    }
    let rdir = out.join("reverse");
    let (rruns, _) = run_sweep(
        &retrain_sweep(p, "pruning-reverse", rev_variants),
        &rdir,
        None,
        jobs,
        on_done,
    )?;
    let mut reverse = Vec::new();
    for (m, _) in PRUNED {
        for &f in &p.reverse {
            let mut o = Vec::new();
            let mut lr = f64::NAN;
            for r in rruns.iter().filter(|r| {
                method_of(r) == m && r.config.prune.as_ref().is_some_and(|x| near(x.fraction, f))
            }) {
                lr = r.config.optimizer.lr;
                o.push(outcome(p, r, &rdir)?);
            }
            reverse.push(summarise(m, f, lr, &o, vec![]));
        }
    }
    let checks = checks(&rows, &zero_shot, &p.fractions);
    let report = Report {
        experiment: "pruning",
        protocol: p.clone(),
        source_lrs: (eg_lr, gd_lr),
        eg_lrs,
        gd_lrs,
        rows,
        reverse,
        zero_shot,
        checks,
        notes,
        seconds: start.elapsed().as_secs_f64(),
    };
    write(&report, out)?;
    Ok(report)
}

fn summarise(m: &str, f: f64, lr: f64, o: &[[f64; 5]], auc_by_lr: Vec<(f64, f64)>) -> Row {
    let col = |i: usize| -> (f64, f64) {
        let v: Vec<f64> = o.iter().map(|x| x[i]).collect();
        if v.is_empty() {
            (f64::NAN, f64::NAN)
        } else {
            over_seeds(&v)
        }
    };
    Row {
        method: m.into(),
        fraction: f,
        kept: col(4).0,
        lr,
        loss_auc: col(0),
        dec_acc: col(1),
        acc: col(2),
        loss: col(3),
        auc_by_lr,
    }
}

fn checks(rows: &[Row], zero_shot: &[ZeroShot], fractions: &[f64]) -> Vec<Check> {
    let get = |m: &str, f: f64| rows.iter().find(|r| r.method == m && r.fraction == f);
    let mut c = Vec::new();
    for &f in fractions {
        let (Some(eg), Some(gd)) = (get("eg", f), get("gd", f)) else {
            continue;
        };
        let d = eg.loss_auc.0 - gd.loss_auc.0;
        c.push(Check {
            what: format!(
                "{:.1} % pruned: EG's loss AUC below GD's (measured: EG − GD; NaN: diverged)",
                100.0 * f
            ),
            measured: d,
            pass: d < 0.0,
        });
        let d = eg.dec_acc.0 - gd.dec_acc.0;
        let reversed = f > 0.98;
        c.push(Check {
            what: format!(
                "{:.1} % pruned: EG's test Dec Acc {} GD's, as in the paper (measured: EG − GD)",
                100.0 * f,
                if reversed { "below" } else { "above" }
            ),
            measured: d,
            pass: if reversed { d < 0.0 } else { d > 0.0 },
        });
    }
    // Zero-shot, smallest first: EG keeps more of its parameter vector at every E3 fraction
    // (the curve holds them: see `run`).
    let curve = |m: &str| zero_shot.iter().find(|z| z.method == m && !z.largest_first);
    if let (Some(eg), Some(gd)) = (curve("eg"), curve("gd")) {
        let at = |z: &ZeroShot, f: f64| {
            z.fraction
                .iter()
                .position(|&x| x == f)
                .map_or(f64::NAN, |i| z.cosine[i])
        };
        let worst = fractions
            .iter()
            .map(|&f| at(eg, f) - at(gd, f))
            .fold(f64::INFINITY, f64::min);
        c.push(Check {
            what: "zero-shot cosine similarity of EG above GD's at every E3 fraction (measured: \
                   the smallest difference)"
                .into(),
            measured: worst,
            pass: worst > 0.0,
        });
    }
    c
}

/// The paper's table (μ = 0.925, best rate per method, final test values, 5 seeds, H = 2,500,
/// 1,000 retraining updates): fraction, GD lr, resp.-acc, loss-AUC, EG lr, resp.-acc, loss-AUC.
const PAPER: [(f64, f64, f64, f64, f64, f64, f64); 5] = [
    (0.9, 0.1, 0.9793, 786.0, 2.0, 0.9826, 681.0),
    (0.925, 0.1, 0.9730, 884.0, 1.5, 0.9818, 711.0),
    (0.95, 0.25, 0.9527, 1027.0, 1.5, 0.9801, 775.0),
    (0.975, 0.25, 0.9054, 1350.0, 1.5, 0.9319, 1106.0),
    (0.99, 0.5, 0.7030, 2076.0, 1.0, 0.6151, 1815.0),
];

fn pm((m, s): (f64, f64), digits: usize) -> String {
    if m.is_finite() && s.is_finite() {
        format!("{m:.digits$} ± {s:.digits$}")
    } else if m.is_finite() {
        format!("{m:.digits$}")
    } else {
        "diverged".into()
    }
}

/// The main table: one row per fraction, GD then EG, next to the paper's values.
pub fn table_markdown(r: &Report) -> String {
    let mut t = String::from(
        "| pruned | synapses left | GD lr | GD Dec Acc | GD loss | GD loss AUC | EG lr | EG Dec Acc | EG loss | EG loss AUC | paper GD / EG Dec Acc | paper GD / EG loss AUC |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for &f in &r.protocol.fractions {
        let get = |m: &str| r.rows.iter().find(|x| x.method == m && x.fraction == f);
        let (Some(gd), Some(eg)) = (get("gd"), get("eg")) else {
            continue;
        };
        let paper = PAPER.iter().find(|x| (x.0 - f).abs() < 1e-9);
        let (pa, pb) = paper.map_or(("—".into(), "—".into()), |x| {
            (
                format!("{:.3} / {:.3}", x.2, x.5),
                format!("{:.0} / {:.0}", x.3, x.6),
            )
        });
        t += &format!(
            "| {:.1} % | {:.0} | {} | {} | {} | {} | {} | {} | {} | {} | {pa} | {pb} |\n",
            100.0 * f,
            eg.kept,
            gd.lr,
            pm(gd.dec_acc, 3),
            pm(gd.loss, 3),
            pm(gd.loss_auc, 1),
            eg.lr,
            pm(eg.dec_acc, 3),
            pm(eg.loss, 3),
            pm(eg.loss_auc, 1),
        );
    }
    t
}

fn write(r: &Report, out: &Path) -> Result<()> {
    let line = |key: fn(&Row) -> f64, rows: &[Row], m: &str| Series {
        name: PRUNED.iter().find(|x| x.0 == m).map_or(m, |x| x.1).into(),
        x: rows
            .iter()
            .filter(|x| x.method == m)
            .map(|x| 100.0 * x.fraction)
            .collect(),
        y: rows.iter().filter(|x| x.method == m).map(key).collect(),
    };
    let both = |key: fn(&Row) -> f64| -> Vec<Series> {
        PRUNED.iter().map(|(m, _)| line(key, &r.rows, m)).collect()
    };
    let zs: Vec<Series> = r
        .zero_shot
        .iter()
        .map(|z| Series {
            name: format!(
                "{} ({} first)",
                z.method.to_uppercase(),
                if z.largest_first {
                    "largest"
                } else {
                    "smallest"
                }
            ),
            // log10 of the share kept: the E3 fractions sit at −1 … −2.
            x: z.fraction.iter().map(|f| (1.0 - f).log10()).collect(),
            y: z.cosine.clone(),
        })
        .collect();
    plot::save(
        &Figure {
            title: format!(
                "Pruned Mod-Cog RNNs retrained for {} updates (mean over seeds, best rate per \
                 method)",
                r.protocol.updates
            ),
            cols: 3,
            panels: vec![
                Panel {
                    title: "training-loss AUC".into(),
                    x_label: "% pruned".into(),
                    y_label: "loss summed over the updates".into(),
                    kind: PanelKind::Lines(both(|x| x.loss_auc.0)),
                },
                Panel {
                    title: "test Dec Acc (response accuracy)".into(),
                    x_label: "% pruned".into(),
                    y_label: "Dec Acc".into(),
                    kind: PanelKind::Lines(both(|x| x.dec_acc.0)),
                },
                Panel {
                    title: "zero-shot: cosine(pruned, unpruned)".into(),
                    x_label: "log10 share of synapses kept".into(),
                    y_label: "cosine similarity".into(),
                    kind: PanelKind::Lines(zs),
                },
            ],
        },
        &out.join("pruning"),
    )?;
    let mut by_lr = String::from("| method | pruned | lr: mean loss AUC |\n|---|---|---|\n");
    for x in &r.rows {
        let cells: Vec<String> = x
            .auc_by_lr
            .iter()
            .map(|(lr, a)| {
                if a.is_finite() {
                    format!("{lr}: {a:.1}")
                } else {
                    format!("{lr}: diverged")
                }
            })
            .collect();
        by_lr += &format!(
            "| {} | {:.1} % | {} |\n",
            x.method,
            100.0 * x.fraction,
            cells.join(", ")
        );
    }
    let mut rev = String::from(
        "| method | pruned (largest first) | lr | synapses left | test Dec Acc | test loss | loss AUC |\n|---|---|---|---|---|---|---|\n",
    );
    for x in &r.reverse {
        rev += &format!(
            "| {} | {:.1} % | {} | {:.0} | {} | {} | {} |\n",
            x.method,
            100.0 * x.fraction,
            x.lr,
            x.kept,
            pm(x.dec_acc, 3),
            pm(x.loss, 3),
            pm(x.loss_auc, 1)
        );
    }
    let checks = super::checks_markdown(&r.checks, &r.notes);
    let p = &r.protocol;
    let text = format!(
        "# Pruning Mod-Cog RNNs (EG paper, Fig 3, S6, S7)\n\n\
         The EG (lr {}) and GD (lr {}) networks of the Mod-Cog reproduction (H = {}, seeds \
         {:?}) at the start of their last epoch (the cooldown) lose the given share of W_ih, \
         W_hh and W_out by one global magnitude threshold (biases kept), and retrain through \
         fixed masks with a fresh optimiser: {} updates under WCC(0, {}, {}), momentum 0.925, \
         the original weight decay, clipping 2.0. Per method and fraction, the rate of the grid \
         (EG {:?}, GD {:?}: the paper's grids over its training rates, times this run's) with the lowest training-loss AUC averaged over seeds; the table's \
         values are mean ± sd over seeds on the fixed test set. The paper retrains H = 2,500 \
         networks for 1,000 updates, so its loss AUCs (sums over 1,000 updates) are not on this \
         table's scale: compare the orderings.\n\n{}\n{checks}\n![pruning](pruning.png)\n\n\
         ## Loss AUC of every rate\n\n{by_lr}\n## Reverse pruning (Fig S7)\n\n{rev}\n\
         Runs: `retrain/` and `reverse/`. Wall time of this call {:.0} s (runs reused from an \
         earlier call not counted).\n",
        r.source_lrs.0,
        r.source_lrs.1,
        p.modcog.hidden,
        p.modcog.seeds,
        p.updates,
        p.updates,
        p.updates,
        r.eg_lrs,
        r.gd_lrs,
        table_markdown(r),
        r.seconds,
    );
    super::write_report(out, text, r)
}

/// The default run folders: this reproduction's and the Mod-Cog one it prunes.
pub fn default_out(quick: bool) -> (PathBuf, PathBuf) {
    (
        PathBuf::from(if quick {
            "runs/pruning-quick"
        } else {
            "runs/pruning"
        }),
        modcog::default_out(quick, false),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_shot_cosine_is_the_kept_norm_share() {
        let w = [3.0, -4.0, 0.0, 1.0];
        // Smallest first: dropping half removes 0 and 1; ‖(3, −4)‖ / ‖w‖ = 5 / √26.
        assert!((zero_shot_cosine(&w, 0.5, false) - 5.0 / 26f64.sqrt()).abs() < 1e-12);
        // Largest first: dropping half leaves 0 and 1.
        assert!((zero_shot_cosine(&w, 0.5, true) - 1.0 / 26f64.sqrt()).abs() < 1e-12);
        assert_eq!(zero_shot_cosine(&w, 0.0, false), 1.0);
        assert_eq!(zero_shot_cosine(&w, 1.0, false), 0.0);
    }

    #[test]
    fn zero_shot_fractions_follow_the_paper() {
        let f = zero_shot_fractions();
        assert_eq!(f.len(), 20);
        assert!(f[0].abs() < 1e-12);
        assert!((f[19] - (1.0 - 1e-5)).abs() < 1e-12);
        assert!(f.windows(2).all(|x| x[0] < x[1]));
    }
}

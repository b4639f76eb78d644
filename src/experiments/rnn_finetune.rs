//! The geometry of plasticity in trained RNNs (geometry paper, camera-ready appendix;
//! science.md E8): a tanh RNN is pretrained on row-wise sequential images with a potential,
//! fine-tuned with the same potential on N = √D held-out images (D = H² recurrent weights)
//! until it fits them all, and the change of `W_hh` is scored under every analysis potential.
//! The geometry test should name the training potential.
//!
//! The protocol, in sweeps ([`crate::sweep`]):
//! 1. **Pretraining** per training potential: 30 epochs of batch 256, momentum 0.9, per-epoch
//!    cosine, every parameter from U(±1/√H) (biases split under negative entropy, §2.3); the
//!    rate from {1e-5, …, 1e-1} with the lowest final-epoch training loss.
//! 2. **Fine-tuning search** from the pretrained weights on the N examples (written once to
//!    `finetune.npz`, standardised as the pretraining saw them), over the same grid and by the
//!    same rule. If the selected run does not classify all N examples, add 30 epochs and search
//!    again, up to 4 times.
//! 3. **Repeats**: the selected fine-tuning again for each of 10 seeds, which differ only in the
//!    order of the examples (the weights come from the same file, the examples are the same).
//!    The reference fine-tunes in batches of 256 too, which at N = 100 is one full batch per
//!    epoch, where the order cannot matter and the repeats would be one run ten times; here
//!    the batch is ⌈N/4⌉, four updates per epoch, as the reference has at H = 1,000.
//! 4. **Analysis** of `W_hh` only: the paired geometry test ([`crate::analysis::paired`])
//!    under each analysis potential, its noise floor at D, and a bootstrap interval of the mean
//!    ΔCDF over repeats.

use super::{Check, Ranked, read_json, run_sweep, w_hh};
use crate::analysis::paired::{self, PairedOptions, mean_sd};
use crate::error::{Error, Result};
use crate::geometry::Potential;
use crate::report::{Figure, Panel, PanelKind, Series, plot};
use crate::sweep::exec::Done;
use crate::sweep::{Axis, Metric, Run, Sweep, Variant};
use rand::RngExt;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// The protocol.
#[derive(Clone, Debug, Serialize)]
pub struct Protocol {
    /// `"idx"` (Fashion-MNIST, or `--data-dir`) or `"digits"` (the 8×8 digits).
    pub images: &'static str,
    pub hidden: usize,
    /// The pretraining runs' seed (which also draws the digits' split and the N examples).
    pub seed: u64,
    pub pretrain_epochs: usize,
    pub batch: usize,
    /// The learning-rate grid of every search.
    pub lrs: Vec<f64>,
    /// Epochs of the first fine-tuning search; each retry adds as many.
    pub finetune_epochs: usize,
    pub retries: usize,
    pub repeats: usize,
    pub training: Vec<Potential>,
    pub analysis: Vec<Potential>,
    /// Paired-bootstrap replicates of each run's test, and resamples of the repeats.
    pub bootstrap: usize,
}

impl Protocol {
    /// The default: H = 100 (D = 10⁴, N = 100) on Fashion-MNIST.
    pub fn standard() -> Self {
        Self {
            images: "idx",
            hidden: 100,
            seed: 1,
            pretrain_epochs: 30,
            batch: 256,
            lrs: vec![1e-5, 1e-4, 1e-3, 1e-2, 1e-1],
            finetune_epochs: 30,
            retries: 4,
            repeats: 10,
            training: vec![
                Potential::NegEntropy,
                Potential::Euclidean,
                Potential::pnorm(3.0),
            ],
            analysis: vec![
                Potential::NegEntropy,
                Potential::pnorm(1.5),
                Potential::Euclidean,
                Potential::pnorm(2.5),
                Potential::pnorm(3.0),
            ],
            bootstrap: 200,
        }
    }
    /// The paper's larger network: H = 1,000 (D = 10⁶, N = 1,000).
    pub fn full() -> Self {
        Self {
            hidden: 1000,
            ..Self::standard()
        }
    }
    /// A smoke test (seconds): the 8×8 digits, H = 16 (D = 256, N = 16), short runs.
    pub fn quick() -> Self {
        Self {
            images: "digits",
            hidden: 16,
            pretrain_epochs: 3,
            batch: 64,
            lrs: vec![1e-2, 1e-1],
            finetune_epochs: 5,
            retries: 1,
            repeats: 2,
            bootstrap: 20,
            ..Self::standard()
        }
    }
    /// D, the recurrent weights analysed.
    pub fn synapses(&self) -> usize {
        self.hidden * self.hidden
    }
    /// N = √D = H fine-tuning examples.
    pub fn examples(&self) -> usize {
        self.hidden
    }
    /// Four fine-tuning updates per epoch.
    pub fn finetune_batch(&self) -> usize {
        self.examples().div_ceil(4)
    }
    /// Runs without retries (for a progress bar).
    pub fn runs(&self) -> usize {
        self.training.len() * (2 * self.lrs.len() + self.repeats)
    }
}

/// The variant name of a training potential.
fn name(pot: Potential) -> String {
    pot.label()
}

fn potential_value(pot: Potential) -> toml::Value {
    toml::Value::try_from(pot).expect("a potential serialises")
}

fn floats(v: &[f64]) -> Vec<toml::Value> {
    v.iter().map(|&x| toml::Value::Float(x)).collect()
}

/// The config of every run: a tanh RNN of `hidden` units, momentum 0.9, `epochs` epochs of
/// per-epoch cosine, all parameters from U(±1/√H) (gain 1/√3 at fan H).
fn base(p: &Protocol, data: toml::Table, epochs: usize, batch: usize) -> toml::Table {
    let text = format!(
        "seed = {}\nepochs = {epochs}\nbatch_size = {batch}\nlog_every = 100\n\
         [model]\nkind = \"rnn\"\nhidden = [{}]\nactivation = \"tanh\"\n\
         init = {{ kind = \"uniform\", gain = 0.5773502691896258 }}\n\
         [model.rnn]\ncell = \"dense\"\n\
         [optimizer]\nlr = 0.1\nmomentum = 0.9\nschedule = {{ kind = \"cosine\", epochs = {epochs} }}\n",
        p.seed, p.hidden
    );
    let mut t: toml::Table = text.parse().expect("valid base");
    t.insert("data".into(), toml::Value::Table(data));
    t
}

/// Pretraining: every training potential over the grid.
pub fn pretraining(p: &Protocol) -> Sweep {
    let mut data = toml::Table::new();
    data.insert("kind".into(), p.images.into());
    Sweep {
        name: "rnn-finetune-pretrain".into(),
        base: base(p, data, p.pretrain_epochs, p.batch),
        metric: Metric::TrainLoss,
        group_by: vec!["variant".into()],
        grid: vec![],
        variants: p
            .training
            .iter()
            .map(|&pot| Variant {
                name: name(pot),
                set: vec![("optimizer.potential".into(), potential_value(pot))],
                grid: vec![Axis {
                    key: "optimizer.lr".into(),
                    values: floats(&p.lrs),
                }],
            })
            .collect(),
        slurm: Default::default(),
    }
}

/// A fine-tuning sweep of `epochs` epochs on the examples in `npz` from each potential's
/// pretrained weights: (potential, weights file, rates) per variant, and `seeds`.
fn finetuning(
    p: &Protocol,
    npz: &Path,
    epochs: usize,
    variants: &[(Potential, PathBuf, Vec<f64>)],
    seeds: &[u64],
) -> Sweep {
    let path = toml::Value::String(npz.to_string_lossy().into_owned());
    let mut data = toml::Table::new();
    data.insert("kind".into(), "npz".into());
    data.insert("path".into(), path.clone());
    // Scored on the examples themselves: the training accuracy the retry rule asks for.
    data.insert("test".into(), path);
    data.insert("classes".into(), toml::Value::Integer(10));
    let mut grid = vec![];
    if seeds.len() > 1 {
        grid.push(Axis {
            key: "seed".into(),
            values: seeds
                .iter()
                .map(|&s| toml::Value::Integer(s as i64))
                .collect(),
        });
    }
    Sweep {
        name: format!("rnn-finetune-{epochs}"),
        base: base(p, data, epochs, p.finetune_batch()),
        metric: Metric::TrainLoss,
        group_by: vec!["variant".into()],
        grid,
        variants: variants
            .iter()
            .map(|(pot, from, lrs)| Variant {
                name: name(*pot),
                set: vec![
                    ("optimizer.potential".into(), potential_value(*pot)),
                    (
                        "init_from".into(),
                        toml::Value::String(from.to_string_lossy().into_owned()),
                    ),
                ],
                grid: vec![Axis {
                    key: "optimizer.lr".into(),
                    values: floats(lrs),
                }],
            })
            .collect(),
        slurm: Default::default(),
    }
}

/// Writes the N fine-tuning examples: drawn from the held-out split of the pretraining run's
/// data by a seeded permutation, standardised as that run saw them, time first (`x` [T, N, in],
/// `y` [N]).
fn write_examples(p: &Protocol, pre: &Run, path: &Path) -> Result<()> {
    use crate::io::npz::{self, Member};
    use crate::train::data::{self, Split};
    use rand::seq::SliceRandom;
    let d = data::as_sequences(data::load(&pre.config.data, pre.config.seed)?, true)?;
    let Split::Seq(test) = d.test else {
        unreachable!("images are read as sequences")
    };
    let n = p.examples();
    if test.len() < n {
        return Err(Error::Config(format!(
            "the held-out split has {} images, fewer than the N = {n} fine-tuning examples",
            test.len()
        )));
    }
    let crate::train::sequences::Labels::Last(labels) = &test.labels else {
        unreachable!("images have one label each")
    };
    let mut order: Vec<usize> = (0..test.len()).collect();
    order.shuffle(&mut crate::rng::named(p.seed, "rnn-finetune/examples"));
    let pick = &order[..n];
    let (t_n, inp) = (test.steps, test.inputs);
    let mut x = Vec::with_capacity(t_n * n * inp * 4);
    for t in 0..t_n {
        for &i in pick {
            let from = (i * t_n + t) * inp;
            for v in &test.x[from..from + inp] {
                x.extend_from_slice(&v.to_le_bytes());
            }
        }
    }
    let y = pick
        .iter()
        .flat_map(|&i| (labels[i] as i64).to_le_bytes())
        .collect();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    npz::write(
        path,
        &[
            Member {
                name: "x",
                descr: "<f4",
                shape: &[t_n, n, inp],
                bytes: x,
            },
            Member {
                name: "y",
                descr: "<i8",
                shape: &[n],
                bytes: y,
            },
        ],
    )
}

/// How one training potential was selected.
#[derive(Clone, Debug, Serialize)]
pub struct Selection {
    pub potential: String,
    pub pretrain_lr: f64,
    /// The selected pretraining run's final-epoch training loss and its test accuracy (%).
    pub pretrain_loss: f64,
    pub pretrain_test_acc: f64,
    pub finetune_lr: f64,
    pub finetune_epochs: usize,
    /// Searches run (1 + retries used).
    pub searches: usize,
    /// The selected search run classified every example.
    pub fits: bool,
}

/// One cell of the cross table: a training potential analysed under one potential.
#[derive(Clone, Debug, Serialize)]
pub struct Cell {
    pub analysis: String,
    /// ΔCDF per repeat (NaN where the candidate was not scored).
    pub values: Vec<f64>,
    pub mean: f64,
    /// 95 % percentile-bootstrap interval of the mean over repeats.
    pub interval: (f64, f64),
    /// The noise floor at this candidate's sample size: ΔCDF of Gaussian samples (mean, sd).
    pub floor: (f64, f64),
}

/// One row: a training potential.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub training: String,
    pub cells: Vec<Cell>,
    pub argmin: String,
    /// Training accuracy (%) of each repeat on the N examples.
    pub train_acc: Vec<f64>,
    /// Sign changes of `W_hh` per repeat.
    pub sign_flips: Vec<usize>,
    /// Change magnitude ‖Δ‖/‖ψ(w0)‖ under the training potential, mean over repeats.
    pub magnitude: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub experiment: &'static str,
    pub protocol: Protocol,
    pub synapses: usize,
    pub examples: usize,
    pub selections: Vec<Selection>,
    pub rows: Vec<Row>,
    pub checks: Vec<Check>,
    pub notes: Vec<String>,
    /// Wall time of each stage of this call (s).
    pub stages: Vec<(String, f64)>,
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

/// The run of `variant` at rate `lr` in a sweep's runs.
fn run_at<'a>(runs: &'a [Run], variant: &str, lr: f64) -> Option<&'a Run> {
    runs.iter()
        .find(|r| r.label("variant") == variant && r.config.optimizer.lr == lr)
}

/// The 95 % percentile-bootstrap interval of the mean of the finite `v`.
fn bootstrap_mean(v: &[f64], resamples: usize, rng: &mut impl rand::Rng) -> (f64, f64) {
    let v: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let mut means: Vec<f64> = (0..resamples.max(1))
        .map(|_| {
            (0..v.len())
                .map(|_| v[rng.random_range(0..v.len())])
                .sum::<f64>()
                / v.len() as f64
        })
        .collect();
    means.sort_by(f64::total_cmp);
    let q = |p: f64| means[((means.len() - 1) as f64 * p).round() as usize];
    (q(0.025), q(0.975))
}

/// Runs the protocol into `out` (`pretrain/`, `finetune.npz`, `finetune/search-E/`,
/// `finetune/repeats/`; complete runs are reused, so an interrupted reproduction continues)
/// and writes the report, table and plot.
pub fn run(
    p: &Protocol,
    out: &Path,
    data_dir: Option<&Path>,
    jobs: usize,
    on_done: &(dyn Fn(&Run, &Done) + Sync),
) -> Result<Report> {
    let start = std::time::Instant::now();
    let mut stages = Vec::new();
    let mut notes = Vec::new();
    let lap = |stages: &mut Vec<(String, f64)>, what: &str, since: &mut std::time::Instant| {
        stages.push((what.to_string(), since.elapsed().as_secs_f64()));
        *since = std::time::Instant::now();
    };
    let mut clock = std::time::Instant::now();
    let pre_dir = out.join("pretrain");
    let (pre_runs, pre) = run_sweep(&pretraining(p), &pre_dir, data_dir, jobs, on_done)?;
    lap(&mut stages, "pretraining", &mut clock);
    let out_abs = std::path::absolute(out).map_err(|e| Error::io(out, e))?;
    // Per training potential: the pretrained run (rate, loss, weights file).
    let mut pretrained = Vec::new();
    for &pot in &p.training {
        let r = Ranked::of(&pre, &name(pot), Metric::TrainLoss);
        let &(lr, loss) = r.rates.first().ok_or_else(|| {
            Error::Config(format!(
                "every pretraining rate of {} diverged (see {})",
                name(pot),
                pre_dir.display()
            ))
        })?;
        let run = run_at(&pre_runs, &name(pot), lr).expect("a ranked rate has its run");
        let acc = pre
            .rows
            .iter()
            .find(|row| row.index == run.index)
            .and_then(|row| row.test_acc)
            .unwrap_or(f64::NAN);
        let weights = out_abs
            .join("pretrain")
            .join("runs")
            .join(&run.name)
            .join("weights_final.safetensors");
        pretrained.push((pot, lr, loss, acc, weights, run.clone()));
    }
    let npz = out_abs.join("finetune.npz");
    write_examples(p, &pretrained[0].5, &npz)?;
    // The search, with the retry rule: per potential, (lr, epochs, searches, fits).
    let mut chosen: Vec<Option<(f64, usize, usize, bool)>> = vec![None; p.training.len()];
    for round in 0..=p.retries {
        let epochs = p.finetune_epochs * (round + 1);
        let pending: Vec<usize> = (0..p.training.len())
            .filter(|&i| chosen[i].is_none())
            .collect();
        if pending.is_empty() {
            break;
        }
        let variants: Vec<(Potential, PathBuf, Vec<f64>)> = pending
            .iter()
            .map(|&i| (p.training[i], pretrained[i].4.clone(), p.lrs.clone()))
            .collect();
        let dir = out.join("finetune").join(format!("search-{epochs}"));
        let (runs, s) = run_sweep(
            &finetuning(p, &npz, epochs, &variants, &[p.seed]),
            &dir,
            None,
            jobs,
            on_done,
        )?;
        for &i in &pending {
            let pot = name(p.training[i]);
            let r = Ranked::of(&s, &pot, Metric::TrainLoss);
            let Some(&(lr, _)) = r.rates.first() else {
                return Err(Error::Config(format!(
                    "every fine-tuning rate of {pot} diverged (see {})",
                    dir.display()
                )));
            };
            let run = run_at(&runs, &pot, lr).expect("a ranked rate has its run");
            let acc = s
                .rows
                .iter()
                .find(|row| row.index == run.index)
                .and_then(|row| row.test_acc)
                .unwrap_or(0.0);
            // The reference's integer-percent floor: 100 only when every example is right.
            let fits = acc.floor() >= 100.0;
            if fits || round == p.retries {
                if !fits {
                    notes.push(format!(
                        "{pot}: the selected fine-tuning run classified {acc:.1} % of the {} \
                         examples after {} searches (the last of {epochs} epochs); its repeats \
                         run at that setting",
                        p.examples(),
                        round + 1
                    ));
                }
                chosen[i] = Some((lr, epochs, round + 1, fits));
            }
        }
    }
    lap(&mut stages, "fine-tuning search", &mut clock);
    // The repeats, one sweep per fine-tuning length.
    let seeds: Vec<u64> = (1..=p.repeats as u64).collect();
    let mut rows = Vec::new();
    let mut selections = Vec::new();
    let opts = {
        let mut o = PairedOptions::new(p.analysis.clone());
        o.bootstrap = p.bootstrap;
        // A potential that lets weights cross zero flips some: negative entropy is then scored
        // on the pairs that keep their sign (flagged), as in the cross table of E7.
        o.ne_subset = true;
        o
    };
    let mut lengths: Vec<usize> = chosen.iter().flatten().map(|c| c.1).collect();
    lengths.sort_unstable();
    lengths.dedup();
    for epochs in lengths {
        let members: Vec<usize> = (0..p.training.len())
            .filter(|&i| chosen[i].is_some_and(|c| c.1 == epochs))
            .collect();
        let variants: Vec<(Potential, PathBuf, Vec<f64>)> = members
            .iter()
            .map(|&i| {
                let c = chosen[i].expect("chosen");
                (p.training[i], pretrained[i].4.clone(), vec![c.0])
            })
            .collect();
        let dir = out.join("finetune").join(format!("repeats-{epochs}"));
        let (runs, _) = run_sweep(
            &finetuning(p, &npz, epochs, &variants, &seeds),
            &dir,
            None,
            jobs,
            on_done,
        )?;
        for &i in &members {
            let pot = p.training[i];
            let (lr, epochs, searches, fits) = chosen[i].expect("chosen");
            let (_, pre_lr, pre_loss, pre_acc, _, _) = &pretrained[i];
            selections.push(Selection {
                potential: name(pot),
                pretrain_lr: *pre_lr,
                pretrain_loss: *pre_loss,
                pretrain_test_acc: *pre_acc,
                finetune_lr: lr,
                finetune_epochs: epochs,
                searches,
                fits,
            });
            let mut per_run = Vec::new();
            let (mut accs, mut flips, mut mags) = (vec![], vec![], vec![]);
            for r in runs.iter().filter(|r| r.label("variant") == name(pot)) {
                let d = r.dir(&dir);
                let summary = d.join("summary.json");
                if !summary.is_file() {
                    notes.push(format!("{}: diverged, left out of the table", r.name));
                    continue;
                }
                accs.push(
                    read_json(&summary)?["test_acc"]
                        .as_f64()
                        .unwrap_or(f64::NAN),
                );
                let w0 = w_hh(&d.join("weights_init.safetensors"))?;
                let w1 = w_hh(&d.join("weights_final.safetensors"))?;
                flips.push(w0.iter().zip(&w1).filter(|(a, b)| *a * *b < 0.0).count());
                let rep = paired::infer(w0, w1, &opts);
                mags.push(
                    rep.candidates
                        .iter()
                        .find(|c| c.potential == pot)
                        .map_or(f64::NAN, |c| c.stats.magnitude),
                );
                per_run.push(rep);
            }
            let mut cells = Vec::new();
            for (k, &a) in p.analysis.iter().enumerate() {
                let of = |rep: &paired::PairedReport| {
                    rep.candidates.iter().find(|c| c.potential == a).cloned()
                };
                let values: Vec<f64> = per_run
                    .iter()
                    .map(|rep| of(rep).and_then(|c| c.delta_cdf).unwrap_or(f64::NAN))
                    .collect();
                let floor = per_run
                    .iter()
                    .filter_map(of)
                    .find(|c| c.null_mean.is_finite())
                    .map_or((f64::NAN, f64::NAN), |c| (c.null_mean, c.null_sd));
                let mut rng =
                    crate::rng::named(p.seed, &format!("rnn-finetune/bootstrap/{}/{k}", name(pot)));
                cells.push(Cell {
                    analysis: a.label(),
                    mean: mean_sd(&values).0,
                    interval: bootstrap_mean(&values, 2000, &mut rng),
                    floor,
                    values,
                });
            }
            let argmin = cells
                .iter()
                .filter(|c| c.mean.is_finite())
                .min_by(|a, b| a.mean.total_cmp(&b.mean))
                .map_or("—".into(), |c| c.analysis.clone());
            rows.push(Row {
                training: name(pot),
                cells,
                argmin,
                train_acc: accs,
                sign_flips: flips,
                magnitude: mean_sd(&mags).0,
            });
        }
    }
    // Rows and selections in the order of the training potentials.
    let order = |n: &str| p.training.iter().position(|&t| name(t) == n);
    rows.sort_by_key(|r| order(&r.training));
    selections.sort_by_key(|s| order(&s.potential));
    lap(&mut stages, "repeats and analysis", &mut clock);
    let checks = checks(&rows);
    let report = Report {
        experiment: "rnn-finetune",
        protocol: p.clone(),
        synapses: p.synapses(),
        examples: p.examples(),
        selections,
        rows,
        checks,
        notes,
        stages,
        seconds: start.elapsed().as_secs_f64(),
    };
    write(&report, out)?;
    Ok(report)
}

fn checks(rows: &[Row]) -> Vec<Check> {
    let mut out = Vec::new();
    for r in rows {
        let own = r.cells.iter().find(|c| c.analysis == r.training);
        out.push(Check {
            what: format!(
                "trained with {}: the row minimum is {} (measured: its ΔCDF)",
                r.training, r.training
            ),
            measured: own.map_or(f64::NAN, |c| c.mean),
            pass: r.argmin == r.training,
        });
        let z = own.map_or(f64::NAN, |c| (c.mean - c.floor.0) / c.floor.1);
        out.push(Check {
            what: format!(
                "trained with {}: its ΔCDF within 2 null-sd of the noise floor (measured: \
                 null-sd above the floor)",
                r.training
            ),
            measured: z,
            pass: z.abs() <= 2.0,
        });
    }
    out
}

/// The cross table: rows the training potential, columns the analysis potential.
pub fn table_markdown(r: &Report) -> String {
    let Some(first) = r.rows.first() else {
        return String::new();
    };
    let mut t = String::from("| trained \\ analysed |");
    for c in &first.cells {
        t += &format!(" {} |", c.analysis);
    }
    t += " row argmin | noise floor at D | own ΔCDF − floor, null-sd |\n|---|";
    t += &"---|".repeat(first.cells.len() + 3);
    t.push('\n');
    for row in &r.rows {
        t += &format!("| {} |", row.training);
        for c in &row.cells {
            let bold = if c.analysis == row.argmin { "**" } else { "" };
            t += &format!(
                " {bold}{:.4}{bold} [{:.4}, {:.4}] |",
                c.mean, c.interval.0, c.interval.1
            );
        }
        let own = row.cells.iter().find(|c| c.analysis == row.training);
        let (floor, z) = own.map_or(("—".into(), f64::NAN), |c| {
            (
                format!("{:.4} ± {:.4}", c.floor.0, c.floor.1),
                (c.mean - c.floor.0) / c.floor.1,
            )
        });
        t += &format!(" {} | {floor} | {z:.1} |\n", row.argmin);
    }
    t
}

fn write(r: &Report, out: &Path) -> Result<()> {
    let p = &r.protocol;
    // ΔCDF against the analysis potential's p (negative entropy at p = 1), one line per
    // training potential, with the noise floor and 2 null-sd above it.
    let mut series = Vec::new();
    for row in &r.rows {
        let (x, y) = row
            .cells
            .iter()
            .zip(&p.analysis)
            .filter_map(|(c, &a)| {
                Some((crate::report::geometry::p_axis(a)?, c.mean)).filter(|v| v.1.is_finite())
            })
            .unzip();
        series.push(Series {
            name: format!("trained with {}", row.training),
            x,
            y,
        });
    }
    if let Some(c) = r.rows.first().and_then(|row| {
        row.cells
            .iter()
            .find(|c| c.analysis == Potential::Euclidean.label())
    }) {
        for (label, v) in [
            ("noise floor", c.floor.0),
            ("floor + 2 null-sd", c.floor.0 + 2.0 * c.floor.1),
        ] {
            series.push(Series {
                name: label.into(),
                x: vec![1.0, 3.0],
                y: vec![v, v],
            });
        }
    }
    plot::save(
        &Figure {
            title: format!(
                "Fine-tuned RNN, W_hh (D = {}, N = {}): ΔCDF under each analysis potential",
                r.synapses, r.examples
            ),
            cols: 1,
            panels: vec![Panel {
                title: "mean over repeats; NE drawn at p = 1".into(),
                x_label: "analysis potential p".into(),
                y_label: "ΔCDF".into(),
                kind: PanelKind::Lines(series),
            }],
        },
        &out.join("cross"),
    )?;
    let mut sel = String::from(
        "| training potential | pretraining lr | final-epoch training loss | pretrained test acc. % | fine-tuning lr | epochs (searches) | training acc. % of the repeats | W_hh sign flips (mean) | M under its potential |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for (s, row) in r.selections.iter().zip(&r.rows) {
        let (lo, hi) = row
            .train_acc
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        let flips =
            row.sign_flips.iter().sum::<usize>() as f64 / row.sign_flips.len().max(1) as f64;
        sel += &format!(
            "| {} | {} | {:.4} | {:.2} | {} | {} ({}){} | {lo:.0}–{hi:.0} | {flips:.0} | {:.3} |\n",
            s.potential,
            s.pretrain_lr,
            s.pretrain_loss,
            s.pretrain_test_acc,
            s.finetune_lr,
            s.finetune_epochs,
            s.searches,
            if s.fits { "" } else { ", 100 % not reached" },
            row.magnitude,
        );
    }
    let stages: Vec<String> = r
        .stages
        .iter()
        .map(|(w, s)| format!("{w} {s:.0} s"))
        .collect();
    let data = if p.images == "idx" {
        "row-wise sequential Fashion-MNIST (28 steps of 28 pixels)"
    } else {
        "row-wise sequential 8×8 digits (8 steps of 8 pixels)"
    };
    let text = format!(
        "# Geometry of plasticity in a fine-tuned RNN (geometry paper, E8)\n\n\
         A tanh RNN of H = {} units on {data}, pretrained and then fine-tuned with each training \
         potential on N = √D = {} held-out images (D = {} recurrent weights, batch {} for {} \
         updates per epoch). Cells: the mean ΔCDF of W_hh's change over {} repeats that differ \
         only in the order of the examples, with a 95 % bootstrap interval of that mean; bold: \
         the row minimum.\n\n{}\n{}\n\
         ## Selection\n\n{sel}\n\
         Pretraining: {} epochs of batch {}, momentum 0.9, per-epoch cosine, rate from {:?} by \
         the lowest final-epoch training loss. Fine-tuning: the same grid and rule from {} \
         epochs, {} more per retry (up to {}) until the selected run classifies every \
         example.\n\n![cross](cross.png)\n\n\
         Runs: `pretrain/`, `finetune/search-E/`, `finetune/repeats-E/` (E: epochs), each with \
         summary.csv and one train run folder per run; the examples are `finetune.npz`. This \
         call: {}; {:.0} s in all (runs reused from an earlier call not counted).\n",
        p.hidden,
        r.examples,
        r.synapses,
        p.finetune_batch(),
        r.examples.div_ceil(p.finetune_batch()),
        p.repeats,
        table_markdown(r),
        super::checks_markdown(&r.checks, &r.notes),
        p.pretrain_epochs,
        p.batch,
        p.lrs,
        p.finetune_epochs,
        p.finetune_epochs,
        p.retries,
        stages.join(", "),
        r.seconds,
    );
    super::write_report(out, text, r)
}

/// The default run folder.
pub fn default_out(quick: bool, full: bool) -> PathBuf {
    PathBuf::from(match (quick, full) {
        (true, _) => "runs/rnn-finetune-quick",
        (_, true) => "runs/rnn-finetune-full",
        _ => "runs/rnn-finetune",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bootstrap_interval_brackets_the_mean() {
        let v = [0.010, 0.012, 0.011, 0.013, 0.009, f64::NAN];
        let (lo, hi) = bootstrap_mean(&v, 2000, &mut crate::rng::named(1, "t"));
        assert!(
            lo < 0.011 && 0.011 < hi && lo >= 0.009 && hi <= 0.013,
            "{lo} {hi}"
        );
        // One value: no spread.
        assert_eq!(
            bootstrap_mean(&[0.5], 100, &mut crate::rng::named(1, "t")),
            (0.5, 0.5)
        );
    }

    #[test]
    fn the_protocol_sizes_follow_d() {
        let p = Protocol::standard();
        assert_eq!(
            (p.synapses(), p.examples(), p.finetune_batch()),
            (10_000, 100, 25)
        );
        let f = Protocol::full();
        assert_eq!(
            (f.synapses(), f.examples(), f.finetune_batch()),
            (1_000_000, 1000, 250)
        );
    }
}

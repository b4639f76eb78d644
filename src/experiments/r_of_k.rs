//! E1 — r-of-k: learning from sparsely relevant inputs (EG paper, Fig 4B).
//!
//! A single linear neuron `logit = w·x − r` (no bias, all weights start at `r/(0.5·N)`) is trained
//! with BCE by plain SGD (GD) or SGD-EG, batch 500, 30 epochs, on N ∈ {200, 2000, 20000} inputs of
//! which k = 100 matter. Each learning rate of both grids runs for seeds 1–3 (fresh data per seed);
//! the best rate minimises the final validation loss averaged over seeds. Like the reference, the
//! model is evaluated at the start of every epoch, so the reported value is the one after 29
//! epochs; the evaluation after the 30th is logged as well.
//!
//! Speed: all learning rates of one (N, seed) share the data and the shuffle, so they train
//! together as the lanes of one bit-packed kernel (`kernels::bits`); each lane keeps its own
//! parameter and runs the real optimiser. The lanes are a learner of the one trainer
//! (`train::trainer`), fed by an epoch-shuffled source of row indices.

use crate::kernels::Cpu;
use crate::kernels::bits::{self, BitBatch, LANES};
use crate::kernels::loss::bce_with_logits;
use crate::nn::{Grads, Param, SignSpec};
use crate::optim::{OptimConfig, Optimizer};
use crate::tasks::r_of_k::{BitSplit, ROfK, ROfKData};
use crate::train::learner::{Evaluation, Learner, Update};
use crate::train::source::Source;
use crate::train::trainer::{Hooks, Schedule, Totals, Trainer, View};
use rand::seq::SliceRandom;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::HashMap;

/// The protocol of science.md E1.
#[derive(Clone, Debug, Serialize)]
pub struct Protocol {
    pub ns: Vec<usize>,
    pub seeds: Vec<u64>,
    pub gd_lrs: Vec<f64>,
    pub eg_lrs: Vec<f64>,
    pub epochs: usize,
    pub batch: usize,
    pub task: ROfK,
}

impl Protocol {
    /// The full protocol of the paper.
    pub fn paper() -> Self {
        Self {
            ns: vec![200, 2000, 20_000],
            seeds: vec![1, 2, 3],
            gd_lrs: vec![0.005, 0.01, 0.05, 0.1, 0.5, 1.0],
            eg_lrs: vec![0.1, 0.25, 0.5, 0.75, 1.0],
            epochs: 30,
            batch: 500,
            task: ROfK::default(),
        }
    }
    /// A subset for tests: N ∈ {200, 2000}, everything else as the paper.
    pub fn quick() -> Self {
        Self {
            ns: vec![200, 2000],
            ..Self::paper()
        }
    }
}

/// Published and re-implementation numbers (science.md E1; the paper's column-to-N assignment is
/// inferred).
pub const REFERENCE: [(usize, f64, f64, f64, f64); 3] = [
    (200, 97.3, 96.9, 98.2, 97.4),
    (2000, 70.5, 92.9, 68.0, 95.9),
    (20_000, 48.1, 89.8, 45.1, 94.8),
];

/// Validation and test loss/accuracy (%) of one run at one evaluation point.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Eval {
    pub val_loss: f64,
    pub val_acc: f64,
    pub test_loss: f64,
    pub test_acc: f64,
}

/// One learning-rate run of one (N, seed).
#[derive(Clone, Debug)]
pub struct RunResult {
    pub optimizer: &'static str,
    pub lr: f64,
    /// Evaluations at the start of each epoch, then one after the last epoch.
    pub evals: Vec<Eval>,
    pub final_weights: Vec<f32>,
}

/// All runs of one (N, seed).
#[derive(Clone, Debug)]
pub struct JobResult {
    pub n: usize,
    pub seed: u64,
    pub runs: Vec<RunResult>,
}

/// Mean BCE and accuracy (%) of every lane on a split (gathered once into `x`).
fn evaluate(
    x: &BitBatch,
    split: &BitSplit,
    w: &[f32],
    r: f32,
    lanes: usize,
    buf: &mut Vec<f32>,
) -> Vec<(f64, f64)> {
    buf.resize(x.rows * LANES, 0.0);
    bits::forward(x, w, buf);
    let mut out = vec![(0.0, 0.0); lanes];
    for (s, &y) in split.y.iter().enumerate() {
        for (l, o) in out.iter_mut().enumerate() {
            let z = buf[s * LANES + l] - r;
            o.0 += bce_with_logits(z as f64, y as f64).0;
            o.1 += ((z >= 0.0) as u8 == y) as u8 as f64;
        }
    }
    let n = x.rows as f64;
    out.iter().map(|(l, a)| (l / n, 100.0 * a / n)).collect()
}

/// The training rows in batches, epoch by epoch: one generator reshuffles the previous order at
/// the start of every epoch (the reference's protocol).
struct EpochOrder {
    order: Vec<usize>,
    rng: rand_chacha::ChaCha8Rng,
    batch: usize,
    epoch: Option<usize>,
}

impl Source for EpochOrder {
    type Batch = Vec<usize>;
    fn updates_per_epoch(&self) -> Option<usize> {
        Some(self.order.len().div_ceil(self.batch))
    }
    fn batch(&mut self, t: usize) -> Vec<usize> {
        let per_epoch = self.order.len().div_ceil(self.batch);
        let epoch = t / per_epoch;
        if self.epoch != Some(epoch) {
            self.order.shuffle(&mut self.rng);
            self.epoch = Some(epoch);
        }
        let k = t % per_epoch;
        let end = ((k + 1) * self.batch).min(self.order.len());
        self.order[k * self.batch..end].to_vec()
    }
    /// The shuffle generator's position is not saved: the jobs take seconds.
    fn restore(&mut self, _meta: &HashMap<String, String>) -> Result<(), String> {
        Err("r-of-k jobs are not resumed (a job takes seconds)".into())
    }
}

/// Every learning rate of one (N, seed) as a lane of the bit-packed kernel: the logits of all
/// lanes in one pass over the batch, then each lane's own parameter and optimiser.
struct Lanes<'d> {
    data: &'d ROfKData,
    r: f32,
    params: Vec<Param<f32>>,
    opts: Vec<Optimizer<f32>>,
    /// The lanes' weights interleaved, `LANES` per input.
    w: Vec<f32>,
    logits: Vec<f32>,
    grad: Vec<f32>,
    grads: Grads<f32>,
    xb: BitBatch,
    val_x: BitBatch,
    test_x: BitBatch,
    ebuf: Vec<f32>,
    /// Every evaluation of every lane.
    evals: Vec<Vec<Eval>>,
}

impl<'d> Lanes<'d> {
    fn new(
        data: &'d ROfKData,
        task: &ROfK,
        specs: &[(&'static str, OptimConfig)],
        batch: usize,
    ) -> Self {
        assert!(
            specs.len() <= LANES,
            "at most {LANES} learning rates per job"
        );
        let (n, lanes) = (task.n, specs.len());
        let init = task.init_weight() as f32;
        let params: Vec<Param<f32>> = (0..lanes)
            .map(|_| Param::new("w", vec![1, n], vec![init; n], SignSpec::Free))
            .collect();
        let gather_all = |s: &BitSplit| {
            let mut b = BitBatch::default();
            b.gather(&s.x, &(0..s.y.len()).collect::<Vec<_>>());
            b
        };
        let mut lanes = Self {
            data,
            r: task.r as f32,
            grads: Grads::for_params(&[&params[0]]),
            opts: specs
                .iter()
                .map(|(_, c)| Optimizer::new(c.clone()).expect("protocol configs are valid"))
                .collect(),
            params,
            w: vec![0f32; n * LANES],
            logits: vec![0f32; batch * LANES],
            grad: vec![0f32; n * LANES],
            xb: BitBatch::default(),
            val_x: gather_all(&data.val),
            test_x: gather_all(&data.test),
            ebuf: Vec::new(),
            evals: vec![Vec::new(); lanes],
        };
        lanes.interleave();
        lanes
    }

    /// Copies the lanes' parameters into `w`, row by row, so both sides are walked sequentially.
    fn interleave(&mut self) {
        for (i, wi) in self.w.chunks_exact_mut(LANES).enumerate() {
            for (l, p) in self.params.iter().enumerate() {
                wi[l] = p.value[i];
            }
        }
    }
}

impl Learner for Lanes<'_> {
    type Batch = Vec<usize>;

    /// The loss reported is the mean over the lanes whose loss is finite (∞ only when every
    /// lane diverged): one lane's divergence does not stop the others.
    fn update(&mut self, batch: Vec<usize>, _epoch: usize, _measure: bool) -> Update {
        let (b, lanes, r) = (batch.len(), self.params.len(), self.r);
        let logits = &mut self.logits[..b * LANES];
        self.xb.gather(&self.data.train.x, &batch);
        bits::forward(&self.xb, &self.w, logits);
        let mut loss = [0f64; LANES];
        for (s, &row) in batch.iter().enumerate() {
            let y = self.data.train.y[row] as f32;
            for (z, l) in logits[s * LANES..s * LANES + lanes]
                .iter_mut()
                .zip(&mut loss)
            {
                let (li, d) = bce_with_logits(*z - r, y);
                *l += li as f64;
                *z = d / b as f32;
            }
        }
        bits::backward(&self.xb, logits, &mut self.grad);
        for (l, (p, opt)) in self.params.iter_mut().zip(self.opts.iter_mut()).enumerate() {
            for (g, gi) in self
                .grads
                .of(p)
                .iter_mut()
                .zip(self.grad.chunks_exact(LANES))
            {
                *g = gi[l];
            }
            opt.step(&Cpu, &mut [p], &mut self.grads);
        }
        self.interleave();
        let (sum, n) = loss[..lanes]
            .iter()
            .filter(|l| l.is_finite())
            .fold((0.0, 0usize), |(s, n), l| (s + l / b as f64, n + 1));
        Update {
            loss: if n == 0 {
                f64::INFINITY
            } else {
                sum / n as f64
            },
            rows: b as f64,
            info: None,
        }
    }

    /// Records every lane on the validation and test sets; the loss is the best lane's.
    fn evaluate(&mut self, _source: &dyn Source<Batch = Vec<usize>>) -> Evaluation {
        let lanes = self.params.len();
        let v = evaluate(
            &self.val_x,
            &self.data.val,
            &self.w,
            self.r,
            lanes,
            &mut self.ebuf,
        );
        let t = evaluate(
            &self.test_x,
            &self.data.test,
            &self.w,
            self.r,
            lanes,
            &mut self.ebuf,
        );
        for l in 0..lanes {
            self.evals[l].push(Eval {
                val_loss: v[l].0,
                val_acc: v[l].1,
                test_loss: t[l].0,
                test_acc: t[l].1,
            });
        }
        Evaluation {
            loss: v.iter().map(|x| x.0).fold(f64::INFINITY, f64::min),
            metrics: vec![],
        }
    }
}

/// Calls the job's `tick` after each epoch.
struct Tick<'t>(&'t (dyn Fn() + Sync));

impl Hooks<Lanes<'_>> for Tick<'_> {
    fn after_evaluation(
        &mut self,
        _v: &View<Lanes<'_>>,
        done: usize,
        _e: &Evaluation,
        _train_loss: f64,
    ) -> crate::error::Result<()> {
        if done > 0 {
            (self.0)();
        }
        Ok(())
    }
}

/// Trains every (optimiser, learning rate) of the protocol on one (N, seed) on the trainer,
/// evaluating at every epoch start and after the last epoch, calling `tick` after each epoch.
pub fn run_job(p: &Protocol, n: usize, seed: u64, tick: &(dyn Fn() + Sync)) -> JobResult {
    let task = ROfK { n, ..p.task };
    let data = task.generate(&mut crate::rng::named(seed, &format!("r-of-k/data/n{n}")));
    let specs: Vec<(&'static str, OptimConfig)> = p
        .gd_lrs
        .iter()
        .map(|&lr| ("gd", OptimConfig::sgd(lr)))
        .chain(p.eg_lrs.iter().map(|&lr| ("eg", OptimConfig::eg(lr))))
        .collect();
    let mut lanes = Lanes::new(&data, &task, &specs, p.batch);
    let mut source = EpochOrder {
        order: (0..task.n_train).collect(),
        rng: crate::rng::named(seed, &format!("r-of-k/shuffle/n{n}")),
        batch: p.batch,
        epoch: None,
    };
    let per_epoch = source.updates_per_epoch();
    let total = p.epochs * per_epoch.unwrap_or(0);
    let mut hooks = Tick(tick);
    let mut trainer = Trainer {
        learner: &mut lanes,
        source: &mut source,
        hooks: &mut hooks,
        schedule: Schedule {
            per_epoch,
            eval_every: None,
            eval_at_start: true,
            stoppable: false,
            progress: false,
        },
        log_every: usize::MAX,
        totals: Totals::default(),
        watcher: None,
    };
    trainer
        .train(0, total, total)
        .expect("the r-of-k hooks do not fail");
    let runs = specs
        .iter()
        .zip(lanes.evals)
        .zip(lanes.params)
        .map(|(((name, cfg), evals), p)| RunResult {
            optimizer: name,
            lr: cfg.lr,
            evals,
            final_weights: p.value,
        })
        .collect();
    JobResult { n, seed, runs }
}

/// Runs every (N, seed) job in parallel on the current rayon pool.
pub fn run_all(p: &Protocol, tick: &(dyn Fn() + Sync)) -> Vec<JobResult> {
    let jobs: Vec<(usize, u64)> =
        p.ns.iter()
            .flat_map(|&n| p.seeds.iter().map(move |&s| (n, s)))
            .collect();
    // Largest N first, so the long jobs start at once and the short ones fill the gaps.
    let mut jobs = jobs;
    jobs.sort_by_key(|&(n, _)| std::cmp::Reverse(n));
    let mut out: Vec<JobResult> = jobs
        .par_iter()
        .map(|&(n, s)| run_job(p, n, s, tick))
        .collect();
    out.sort_by_key(|j| (j.n, j.seed));
    out
}

/// The selected learning rate of one optimiser at one N, with its per-seed results.
#[derive(Clone, Debug, Serialize)]
pub struct Cell {
    pub lr: f64,
    /// Mean final validation loss over seeds (the selection criterion).
    pub val_loss: f64,
    pub test_acc_mean: f64,
    pub test_acc_min: f64,
    pub test_acc_max: f64,
    pub test_acc_per_seed: Vec<f64>,
    /// Mean test accuracy at each evaluation (epoch starts, then the end).
    pub curve: Vec<f64>,
}

/// One row of the table: N, the two selected cells and the reference numbers.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub n: usize,
    pub gd: Cell,
    pub eg: Cell,
    pub paper_gd: f64,
    pub paper_eg: f64,
    pub reimpl_gd: f64,
    pub reimpl_eg: f64,
}

/// Picks, per N and optimiser, the learning rate with the lowest mean final validation loss.
pub fn select(p: &Protocol, jobs: &[JobResult]) -> Vec<Row> {
    let final_idx = p.epochs - 1;
    let cell = |n: usize, opt: &str| -> Cell {
        let lrs = if opt == "gd" { &p.gd_lrs } else { &p.eg_lrs };
        let runs_at = |lr: f64| -> Vec<&RunResult> {
            jobs.iter()
                .filter(|j| j.n == n)
                .flat_map(|j| {
                    j.runs
                        .iter()
                        .filter(move |r| r.optimizer == opt && r.lr == lr)
                })
                .collect()
        };
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let (lr, val_loss) = lrs
            .iter()
            .map(|&lr| {
                let v: Vec<f64> = runs_at(lr)
                    .iter()
                    .map(|r| r.evals[final_idx].val_loss)
                    .collect();
                (lr, mean(&v))
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .expect("learning-rate grid is not empty");
        let runs = runs_at(lr);
        let accs: Vec<f64> = runs.iter().map(|r| r.evals[final_idx].test_acc).collect();
        let curve = (0..=p.epochs)
            .map(|e| mean(&runs.iter().map(|r| r.evals[e].test_acc).collect::<Vec<_>>()))
            .collect();
        Cell {
            lr,
            val_loss,
            test_acc_mean: mean(&accs),
            test_acc_min: accs.iter().copied().fold(f64::INFINITY, f64::min),
            test_acc_max: accs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            test_acc_per_seed: accs,
            curve,
        }
    };
    p.ns.iter()
        .map(|&n| {
            let refs = REFERENCE.iter().find(|r| r.0 == n).copied().unwrap_or((
                n,
                f64::NAN,
                f64::NAN,
                f64::NAN,
                f64::NAN,
            ));
            Row {
                n,
                gd: cell(n, "gd"),
                eg: cell(n, "eg"),
                paper_gd: refs.1,
                paper_eg: refs.2,
                reimpl_gd: refs.3,
                reimpl_eg: refs.4,
            }
        })
        .collect()
}

pub use super::Check;

/// The hard checks (EG − GD gaps) and the ±6-point agreement with the paper per cell.
pub fn checks(rows: &[Row]) -> Vec<Check> {
    let mut out = Vec::new();
    for r in rows {
        let gap = r.eg.test_acc_mean - r.gd.test_acc_mean;
        match r.n {
            200 => out.push(Check {
                what: "N=200: |EG − GD| <= 3".into(),
                measured: gap.abs(),
                pass: gap.abs() <= 3.0,
            }),
            2000 => out.push(Check {
                what: "N=2000: EG − GD >= 15".into(),
                measured: gap,
                pass: gap >= 15.0,
            }),
            20_000 => out.push(Check {
                what: "N=20000: EG − GD >= 30".into(),
                measured: gap,
                pass: gap >= 30.0,
            }),
            _ => {}
        }
        for (name, got, paper) in [
            ("GD", r.gd.test_acc_mean, r.paper_gd),
            ("EG", r.eg.test_acc_mean, r.paper_eg),
        ] {
            if paper.is_finite() {
                let d = got - paper;
                out.push(Check {
                    what: format!("N={}: {name} within 6 points of the paper", r.n),
                    measured: d,
                    pass: d.abs() <= 6.0,
                });
            }
        }
    }
    out
}

/// Everything `geoplast reproduce r-of-k` reports.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub experiment: &'static str,
    pub protocol: Protocol,
    pub rows: Vec<Row>,
    pub checks: Vec<Check>,
    pub seconds: f64,
    pub threads: usize,
}

/// Writes the run folder: metrics.jsonl, summary.json, final weights, plots and report.md.
/// `run` is opened (and locked) before the jobs start.
pub fn write_run(
    summary: &Summary,
    jobs: &[JobResult],
    mut run: crate::io::RunDir,
) -> crate::error::Result<()> {
    use crate::io::checkpoint::{self, Tensor};
    use crate::report::{Figure, Panel, PanelKind, Series, plot};
    run.write_text(
        "config.toml",
        &toml::to_string(&summary.protocol).expect("protocol serialises"),
    )?;
    for j in jobs {
        for r in &j.runs {
            for (epoch, e) in r.evals.iter().enumerate() {
                run.log(&serde_json::json!({
                    "n": j.n, "seed": j.seed, "optimizer": r.optimizer, "lr": r.lr,
                    "epoch": epoch, "val_loss": e.val_loss, "val_acc": e.val_acc,
                    "test_loss": e.test_loss, "test_acc": e.test_acc,
                }))?;
            }
        }
    }
    run.flush()?;
    run.write_json("summary.json", summary)?;

    // Final weights of the selected runs, and the (constant) initial weights, by name.
    let mut tensors = std::collections::BTreeMap::new();
    let selected = |row: &Row, opt: &str| if opt == "gd" { row.gd.lr } else { row.eg.lr };
    for row in &summary.rows {
        let init = ROfK {
            n: row.n,
            ..summary.protocol.task
        }
        .init_weight() as f32;
        tensors.insert(
            format!("n{}.init", row.n),
            Tensor {
                shape: vec![row.n],
                data: vec![init; row.n],
            },
        );
        for j in jobs.iter().filter(|j| j.n == row.n) {
            for r in j.runs.iter().filter(|r| r.lr == selected(row, r.optimizer)) {
                let name = format!("n{}.seed{}.{}", j.n, j.seed, r.optimizer);
                tensors.insert(
                    name,
                    Tensor {
                        shape: vec![j.n],
                        data: r.final_weights.clone(),
                    },
                );
            }
        }
    }
    let meta = std::collections::HashMap::from([(
        "about".to_string(),
        format!(
            "r-of-k final weights at the selected learning rates; inputs 0..{} are relevant",
            summary.protocol.task.k
        ),
    )]);
    checkpoint::save(&run.file("weights.safetensors"), &tensors, meta)?;

    let epochs: Vec<f64> = (0..=summary.protocol.epochs).map(|e| e as f64).collect();
    let acc = Figure {
        title: "r-of-k: test accuracy (mean of seeds, selected learning rate)".into(),
        cols: summary.rows.len(),
        panels: summary
            .rows
            .iter()
            .map(|r| Panel {
                title: format!("N = {}", r.n),
                x_label: "epoch".into(),
                y_label: "test accuracy (%)".into(),
                kind: PanelKind::Lines(vec![
                    Series {
                        name: format!("GD (lr {})", r.gd.lr),
                        x: epochs.clone(),
                        y: r.gd.curve.clone(),
                    },
                    Series {
                        name: format!("EG (lr {})", r.eg.lr),
                        x: epochs.clone(),
                        y: r.eg.curve.clone(),
                    },
                ]),
            })
            .collect(),
    };
    plot::save(&acc, &run.file("accuracy"))?;
    let k = summary.protocol.task.k;
    let seed = summary.protocol.seeds[0];
    let mut panels = Vec::new();
    for opt in ["gd", "eg"] {
        for row in &summary.rows {
            let w = &tensors[&format!("n{}.seed{seed}.{opt}", row.n)].data;
            panels.push(Panel {
                title: format!("{} N = {} (seed {seed})", opt.to_uppercase(), row.n),
                x_label: "final weight".into(),
                y_label: "density".into(),
                kind: PanelKind::Hist {
                    samples: vec![
                        (
                            "relevant".into(),
                            w[..k].iter().map(|&v| v as f64).collect(),
                        ),
                        (
                            "irrelevant".into(),
                            w[k..].iter().map(|&v| v as f64).collect(),
                        ),
                    ],
                    bins: 40,
                },
            });
        }
    }
    let hist = Figure {
        title: "r-of-k: final weights, relevant vs irrelevant inputs".into(),
        cols: summary.rows.len(),
        panels,
    };
    plot::save(&hist, &run.file("weights"))?;
    run.write_text("report.md", &report_markdown(summary))?;
    Ok(())
}

/// The results table as markdown (also printed by the CLI).
pub fn table_markdown(rows: &[Row]) -> String {
    let mut s = String::from(
        "| N | GD lr | GD test acc % (min–max) | EG lr | EG test acc % (min–max) | paper GD | paper EG | re-impl. GD | re-impl. EG |\n\
         |---|---|---|---|---|---|---|---|---|\n",
    );
    for r in rows {
        s += &format!(
            "| {} | {} | {:.1} ({:.1}–{:.1}) | {} | {:.1} ({:.1}–{:.1}) | {} | {} | {} | {} |\n",
            r.n,
            r.gd.lr,
            r.gd.test_acc_mean,
            r.gd.test_acc_min,
            r.gd.test_acc_max,
            r.eg.lr,
            r.eg.test_acc_mean,
            r.eg.test_acc_min,
            r.eg.test_acc_max,
            r.paper_gd,
            r.paper_eg,
            r.reimpl_gd,
            r.reimpl_eg,
        );
    }
    s
}

fn report_markdown(s: &Summary) -> String {
    let mut out = format!(
        "# r-of-k (EG paper, Fig 4B)\n\n\
         Single linear neuron, k = {k} relevant inputs, r = {r}, batch {b}, {e} epochs, seeds {seeds:?}. \
         Learning rates selected by the lowest final validation loss averaged over seeds; test accuracy \
         after {e1} epochs (the reference evaluates at the start of each epoch).\n\n",
        k = s.protocol.task.k,
        r = s.protocol.task.r,
        b = s.protocol.batch,
        e = s.protocol.epochs,
        seeds = s.protocol.seeds,
        e1 = s.protocol.epochs - 1,
    );
    out += &table_markdown(&s.rows);
    out += "\n## Checks (science.md E1)\n\n| check | measured | pass |\n|---|---|---|\n";
    for c in &s.checks {
        out += &format!(
            "| {} | {:.2} | {} |\n",
            c.what,
            c.measured,
            if c.pass { "yes" } else { "**no**" }
        );
    }
    out += &format!(
        "\nWall time {:.1} s on {} threads.\n\n![accuracy](accuracy.png)\n\n![weights](weights.png)\n",
        s.seconds, s.threads
    );
    out
}

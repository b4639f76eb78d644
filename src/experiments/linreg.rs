//! E5 — linear-regression geometry (geometry paper, Fig 2) and E7 — the wrong-potential cross
//! table.
//!
//! A linear model (no bias, `w₀ ~ N(0, 1/D)`) is fitted by full-batch mirror descent on MSE to N
//! random ±1 labels of Toeplitz-correlated inputs ([`ToeplitzSampler`]): momentum 0.9, per-epoch
//! cosine (one epoch = one step), 100 steps. The learning rate is searched once per setting on a
//! separate data draw (16 log-spaced values in [1e-7, 1e-1], smallest final loss; while that
//! loss is ≥ 1e-3, 100 steps are added, up to 4 times). Then each seed draws fresh data and
//! initialisation, and the dual change is scored by ΔCDF.

use crate::analysis::delta_cdf;
use crate::analysis::dual::{Prepared, score_all};
use crate::error::{Error, Result};
use crate::geometry::Potential;
use crate::kernels::gemm::Operand;
use crate::kernels::{Backend, Cpu};
use crate::nn::{Grads, Param, SignSpec};
use crate::optim::{OptimConfig, Optimizer, Schedule};
use crate::report::{Figure, Panel, PanelKind, Series, plot};
use crate::tasks::linreg::ToeplitzSampler;
use crate::train::learner::{Evaluation, Learner, Update};
use crate::train::source::Source;
use crate::train::trainer::{NoHooks, Schedule as TrainSchedule, Totals, Trainer};
use rand::RngExt;
use rand_distr::Normal;
use rayon::prelude::*;
use serde::Serialize;
use std::path::Path;

/// Data of one draw: inputs (N × D, row-major), labels, initial weights.
pub struct Draw {
    pub n: usize,
    pub d: usize,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub w0: Vec<f64>,
}

/// Draws data and initial weights for (D, N, p_c) from `name`'s stream of `seed`.
pub fn draw(d: usize, n: usize, pc: f64, seed: u64, name: &str) -> Draw {
    let sampler =
        ToeplitzSampler::new(d, pc).expect("the Toeplitz embeddings of the study are PSD");
    let mut rng = crate::rng::named(seed, &format!("linreg/{name}/d{d}/n{n}/pc{pc}"));
    let mut x = vec![0.0; n * d];
    sampler.sample(n, &mut rng, &mut x);
    let y = (0..n)
        .map(|_| if rng.random::<bool>() { 1.0 } else { -1.0 })
        .collect();
    let init = Normal::new(0.0, (1.0 / d as f64).sqrt()).expect("valid");
    let w0 = (0..d).map(|_| rng.sample(init)).collect();
    Draw { n, d, x, y, w0 }
}

/// Full-batch training: every update sees the whole draw (one update per epoch), which the
/// learner holds.
struct FullBatch;

impl Source for FullBatch {
    type Batch = ();
    fn updates_per_epoch(&self) -> Option<usize> {
        Some(1)
    }
    fn batch(&mut self, _t: usize) {}
}

/// One linear model per learning rate, as the lanes of one product over the shared data. A lane
/// whose loss is not finite stops; the others go on.
struct Lanes<'d> {
    data: &'d Draw,
    params: Vec<Param<f64>>,
    opts: Vec<Optimizer<f64>>,
    /// Weights of all lanes (D × lanes), predictions (N × lanes), gradients (D × lanes).
    w: Vec<f64>,
    pred: Vec<f64>,
    grad: Vec<f64>,
    grads: Grads<f64>,
    losses: Vec<f64>,
    alive: Vec<bool>,
}

impl Lanes<'_> {
    /// The residuals `X·W − y` into `pred`, and every lane's MSE (marking diverged lanes).
    fn residuals(&mut self) -> f64 {
        let (n, d, l) = (self.data.n, self.data.d, self.params.len());
        for (i, wi) in self.w.chunks_exact_mut(l).enumerate() {
            for (k, p) in self.params.iter().enumerate() {
                wi[k] = p.value[i];
            }
        }
        Cpu.gemm(
            &mut self.pred,
            Operand::new(&self.data.x, n, d),
            Operand::new(&self.w, d, l),
            0.0,
        );
        for (r, row) in self.pred.chunks_exact_mut(l).enumerate() {
            for v in row.iter_mut() {
                *v -= self.data.y[r];
            }
        }
        for (k, loss) in self.losses.iter_mut().enumerate() {
            *loss = (0..n).map(|r| self.pred[r * l + k].powi(2)).sum::<f64>() / n as f64;
            self.alive[k] &= loss.is_finite();
        }
        // The best lane's loss: the run as a whole diverged only when every lane did.
        self.losses
            .iter()
            .zip(&self.alive)
            .filter(|(_, a)| **a)
            .map(|(l, _)| *l)
            .fold(f64::INFINITY, f64::min)
    }
}

impl Learner for Lanes<'_> {
    type Batch = ();

    fn update(&mut self, _batch: (), epoch: usize, _measure: bool) -> Update {
        let (n, d, l) = (self.data.n, self.data.d, self.params.len());
        let loss = self.residuals();
        self.pred.iter_mut().for_each(|v| *v *= 2.0 / n as f64);
        Cpu.gemm(
            &mut self.grad,
            Operand::new(&self.data.x, n, d).t(),
            Operand::new(&self.pred, n, l),
            0.0,
        );
        for (k, (p, opt)) in self.params.iter_mut().zip(self.opts.iter_mut()).enumerate() {
            if !self.alive[k] {
                continue;
            }
            for (i, g) in self.grads.of(p).iter_mut().enumerate() {
                *g = self.grad[i * l + k];
            }
            opt.epoch = epoch;
            opt.step(&Cpu, &mut [p], &mut self.grads);
        }
        Update {
            loss,
            rows: n as f64,
            info: None,
        }
    }

    /// The losses at the final weights.
    fn evaluate(&mut self, _source: &dyn Source<Batch = ()>) -> Evaluation {
        Evaluation {
            loss: self.residuals(),
            metrics: vec![],
        }
    }
}

/// Trains one model per learning rate (as lanes sharing the data) for `steps` full-batch
/// updates on the trainer; returns each lane's final MSE (∞ if it diverged) and weights.
pub fn train(data: &Draw, pot: Potential, lrs: &[f64], steps: usize) -> Vec<(f64, Vec<f64>)> {
    let (n, d, l) = (data.n, data.d, lrs.len());
    let params: Vec<Param<f64>> = lrs
        .iter()
        .map(|_| Param::new("w", vec![d], data.w0.clone(), SignSpec::Free))
        .collect();
    let mut lanes = Lanes {
        data,
        grads: Grads::for_params(&[&params[0]]),
        params,
        opts: lrs
            .iter()
            .map(|&lr| {
                Optimizer::new(OptimConfig {
                    lr,
                    potential: pot,
                    momentum: 0.9,
                    schedule: Schedule::Cosine { epochs: steps },
                    ..OptimConfig::default()
                })
                .expect("valid optimiser")
            })
            .collect(),
        w: vec![0.0; d * l],
        pred: vec![0.0; n * l],
        grad: vec![0.0; d * l],
        losses: vec![0.0; l],
        alive: vec![true; l],
    };
    let mut trainer = Trainer {
        learner: &mut lanes,
        source: &mut FullBatch,
        hooks: &mut NoHooks,
        schedule: TrainSchedule {
            per_epoch: Some(1),
            eval_every: Some(steps.max(1)),
            eval_at_start: steps == 0,
            stoppable: false,
            progress: false,
        },
        log_every: usize::MAX,
        totals: Totals::default(),
        watcher: None,
    };
    trainer
        .train(0, steps, steps)
        .expect("linreg's hooks do not fail");
    lanes
        .params
        .into_iter()
        .zip(lanes.losses)
        .zip(lanes.alive)
        .map(|((p, loss), ok)| (if ok { loss } else { f64::INFINITY }, p.value))
        .collect()
}

/// The learning-rate grid: 16 log-spaced values in [1e-7, 1e-1].
pub fn lr_grid() -> Vec<f64> {
    (0..16)
        .map(|k| 10f64.powf(-7.0 + 6.0 * k as f64 / 15.0))
        .collect()
}

/// The selected (learning rate, steps, final loss) for a setting, on its own data draw.
pub fn search(d: usize, n: usize, pc: f64, pot: Potential) -> (f64, usize, f64) {
    let data = draw(d, n, pc, 0, &format!("search/{}", pot.label()));
    let grid = lr_grid();
    let mut best = (f64::NAN, 0, f64::INFINITY);
    for extra in 0..=4 {
        let steps = 100 * (1 + extra);
        let res = train(&data, pot, &grid, steps);
        let (k, loss) = res
            .iter()
            .enumerate()
            .map(|(k, r)| (k, r.0))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .expect("grid");
        best = (grid[k], steps, loss);
        if loss < 1e-3 {
            break;
        }
    }
    best
}

/// Uncentred ΔCDF of (w0, w1) under each analysis potential (negative entropy on all nonzero
/// pairs, as the reference does), and the change magnitude under the first.
pub fn analyse(w0: Vec<f64>, w1: Vec<f64>, pots: &[Potential]) -> (Vec<f64>, f64) {
    let mut data = Prepared::new(w0, w1);
    data.ne_across_signs = true;
    let s = score_all(&data, pots);
    (
        s.iter()
            .map(|x| delta_cdf::from_bins(&x.bins.0, x.stats.n))
            .collect(),
        s[0].stats.magnitude,
    )
}

/// One cell of the E5 table.
#[derive(Clone, Debug, Serialize)]
pub struct Cell {
    pub potential: String,
    pub pc: f64,
    pub rule: f64,
    pub d: usize,
    pub n: usize,
    pub lr: f64,
    pub steps: usize,
    pub search_loss: f64,
    pub median: f64,
    pub p05: f64,
    pub p95: f64,
    pub median_magnitude: f64,
    /// (ΔCDF, M) of science.md E5 where listed.
    pub reference: Option<(f64, Option<f64>)>,
}

fn quantile(v: &mut [f64], q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    let pos = q * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

/// science.md E5 (approximate; independent float64 re-run, 10 seeds): median ΔCDF (median M).
pub fn reference(pot: Potential, pc: f64, rule: f64, d: usize) -> Option<(f64, Option<f64>)> {
    let col = [100, 324, 1053, 3419].iter().position(|&x| x == d)?;
    type RefRow = (Potential, f64, f64, [(f64, Option<f64>); 4]);
    let t: &[RefRow] = &[
        (
            Potential::NegEntropy,
            2.0,
            0.5,
            [
                (0.109, Some(0.26)),
                (0.046, Some(0.17)),
                (0.027, Some(0.09)),
                (0.017, Some(0.06)),
            ],
        ),
        (
            Potential::NegEntropy,
            2.0,
            0.75,
            [
                (0.160, Some(0.91)),
                (0.075, Some(0.57)),
                (0.034, Some(0.33)),
                (0.023, Some(0.21)),
            ],
        ),
        (
            Potential::Euclidean,
            2.0,
            0.5,
            [
                (0.093, Some(0.55)),
                (0.045, Some(0.32)),
                (0.028, Some(0.24)),
                (0.018, Some(0.17)),
            ],
        ),
        (
            Potential::Euclidean,
            2.0,
            0.75,
            [
                (0.099, Some(0.89)),
                (0.048, Some(0.76)),
                (0.028, Some(0.62)),
                (0.013, Some(0.53)),
            ],
        ),
        (
            Potential::PNorm { p: 3.0 },
            2.0,
            0.5,
            [
                (0.097, Some(0.36)),
                (0.043, Some(0.19)),
                (0.028, Some(0.14)),
                (0.018, Some(0.09)),
            ],
        ),
        (
            Potential::PNorm { p: 3.0 },
            2.0,
            0.75,
            [
                (0.115, Some(0.77)),
                (0.056, Some(0.63)),
                (0.038, Some(0.47)),
                (0.021, Some(0.38)),
            ],
        ),
        (
            Potential::NegEntropy,
            1.0,
            0.5,
            [(0.112, None), (0.047, None), (0.028, None), (0.019, None)],
        ),
        (
            Potential::Euclidean,
            1.0,
            0.5,
            [(0.097, None), (0.043, None), (0.029, None), (0.018, None)],
        ),
        (
            Potential::PNorm { p: 3.0 },
            1.0,
            0.5,
            [(0.096, None), (0.046, None), (0.030, None), (0.018, None)],
        ),
    ];
    t.iter()
        .find(|r| r.0 == pot && r.1 == pc && r.2 == rule)
        .map(|r| r.3[col])
}

/// N for D under the rule N = ⌊D^rule⌋.
pub fn n_of(d: usize, rule: f64) -> usize {
    (d as f64).powf(rule).floor() as usize
}

/// Runs one E5 cell: search, then `seeds` seeds (in parallel).
pub fn cell(pot: Potential, pc: f64, rule: f64, d: usize, seeds: u64) -> Cell {
    let n = n_of(d, rule);
    let (lr, steps, search_loss) = search(d, n, pc, pot);
    let res: Vec<(f64, f64)> = (1..=seeds)
        .into_par_iter()
        .map(|s| {
            let data = draw(d, n, pc, s, &format!("seed/{}", pot.label()));
            let w1 = train(&data, pot, &[lr], steps).remove(0).1;
            let (dc, m) = analyse(data.w0, w1, &[pot]);
            (dc[0], m)
        })
        .collect();
    let mut dc: Vec<f64> = res.iter().map(|r| r.0).collect();
    let mut m: Vec<f64> = res.iter().map(|r| r.1).collect();
    Cell {
        potential: pot.label(),
        pc,
        rule,
        d,
        n,
        lr,
        steps,
        search_loss,
        median: quantile(&mut dc, 0.5),
        p05: quantile(&mut dc, 0.05),
        p95: quantile(&mut dc, 0.95),
        median_magnitude: quantile(&mut m, 0.5),
        reference: reference(pot, pc, rule, d),
    }
}

/// One row of the cross table: the training potential and, per analysis potential, the mean and
/// sd of ΔCDF over seeds.
pub type CrossRow = (String, Vec<(String, f64, f64)>);

/// E7: mean (and sd) ΔCDF over seeds for each (training potential, analysis potential).
pub fn wrong_potential(seeds: u64) -> Vec<CrossRow> {
    let (d, n, pc) = (1898, 43, 2.0);
    let analysis: Vec<Potential> = [
        Potential::NegEntropy,
        Potential::PNorm { p: 1.5 },
        Potential::Euclidean,
        Potential::PNorm { p: 2.5 },
        Potential::PNorm { p: 3.0 },
    ]
    .to_vec();
    [
        Potential::NegEntropy,
        Potential::Euclidean,
        Potential::PNorm { p: 3.0 },
    ]
    .iter()
    .map(|&train_pot| {
        let (lr, steps, _) = search(d, n, pc, train_pot);
        let per_seed: Vec<Vec<f64>> = (1..=seeds)
            .into_par_iter()
            .map(|s| {
                let data = draw(d, n, pc, s, &format!("wrong/{}", train_pot.label()));
                let w1 = train(&data, train_pot, &[lr], steps).remove(0).1;
                analyse(data.w0, w1, &analysis).0
            })
            .collect();
        let cols = analysis
            .iter()
            .enumerate()
            .map(|(k, a)| {
                let v: Vec<f64> = per_seed.iter().map(|r| r[k]).collect();
                let mean = v.iter().sum::<f64>() / v.len() as f64;
                let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>()
                    / (v.len() as f64 - 1.0).max(1.0))
                .sqrt();
                (a.label(), mean, sd)
            })
            .collect();
        (train_pot.label(), cols)
    })
    .collect()
}

/// science.md E7 reference (approximate): rows trained NE / p2 / p3, columns NE, p1.5, p2, p2.5, p3.
pub const WRONG_REFERENCE: [[f64; 5]; 3] = [
    [0.023, 0.096, 0.234, 0.356, 0.456],
    [0.625, 0.262, 0.023, 0.100, 0.235],
    [0.537, 0.418, 0.213, 0.055, 0.021],
];

/// The E5 settings: potentials × p_c × N rule (p_c = 1 only with N = D^0.5, as in the table).
pub fn e5_settings() -> Vec<(Potential, f64, f64)> {
    let pots = [
        Potential::NegEntropy,
        Potential::Euclidean,
        Potential::PNorm { p: 3.0 },
    ];
    let mut s: Vec<(Potential, f64, f64)> = pots
        .iter()
        .flat_map(|&p| [(p, 2.0, 0.5), (p, 2.0, 0.75)])
        .collect();
    s.extend(pots.iter().map(|&p| (p, 1.0, 0.5)));
    s
}

/// The E5 table as markdown.
pub fn e5_markdown(cells: &[Cell]) -> String {
    let mut s = String::from(
        "| potential | p_c | N rule | D | N | lr | steps | median ΔCDF (5–95 %) | reference | median M | reference M | within ±0.01 (D ≥ 1000) |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for c in cells {
        let (r, rm) = c.reference.map_or(("—".into(), "—".into()), |(r, m)| {
            (
                format!("{r:.3}"),
                m.map_or("—".into(), |m| format!("{m:.2}")),
            )
        });
        let ok = match c.reference {
            Some((r, _)) if c.d >= 1000 => {
                if (c.median - r).abs() <= 0.01 {
                    "yes"
                } else {
                    "**no**"
                }
            }
            _ => "",
        };
        s += &format!(
            "| {} | {} | D^{} | {} | {} | {:.2e} | {} | {:.3} ({:.3}–{:.3}) | {r} | {:.2} | {rm} | {ok} |\n",
            c.potential,
            c.pc,
            c.rule,
            c.d,
            c.n,
            c.lr,
            c.steps,
            c.median,
            c.p05,
            c.p95,
            c.median_magnitude
        );
    }
    s
}

/// The E7 table as markdown, with the reference in brackets.
pub fn e7_markdown(rows: &[CrossRow]) -> String {
    let mut s = String::from(
        "| trained \\ analysed | NE | p1.5 | p2 | p2.5 | p3 | row argmin |\n|---|---|---|---|---|---|---|\n",
    );
    for (i, (train_pot, cols)) in rows.iter().enumerate() {
        let cells: Vec<String> = cols
            .iter()
            .enumerate()
            .map(|(k, (_, m, sd))| format!("{m:.3} ± {sd:.3} ({:.3})", WRONG_REFERENCE[i][k]))
            .collect();
        let argmin = cols
            .iter()
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map_or("", |c| c.0.as_str());
        s += &format!("| {train_pot} | {} | {argmin} |\n", cells.join(" | "));
    }
    s
}

/// The sizes and seeds of the E5 reproduction (`--quick`, default, `--full`).
pub struct E5Design {
    pub ds: Vec<usize>,
    pub seeds: u64,
}

impl E5Design {
    pub fn new(quick: bool, full: bool) -> Self {
        let (ds, seeds) = if quick {
            (vec![100, 324], 5)
        } else if full {
            (
                vec![100, 180, 324, 584, 1053, 1898, 3419, 6161, 11100, 20000],
                30,
            )
        } else {
            (vec![100, 324, 1053, 3419], 30)
        };
        Self { ds, seeds }
    }
    /// Cells of the table (settings × sizes), for a progress bar.
    pub fn cells(&self) -> usize {
        e5_settings().len() * self.ds.len()
    }
}

/// What a reproduction prints: its markdown table and wall time.
pub struct Reproduction {
    pub table: String,
    pub seconds: f64,
}

fn write(out: &Path, name: &str, text: &str) -> Result<()> {
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let p = out.join(name);
    crate::io::durable::write(&p, text)
}

/// Runs E5 (geometry paper Fig 2) into `out`: `summary.json`, `delta_cdf.{png,svg}` (one panel
/// per setting, the median and 5–95 % of ΔCDF at the true potential against log₁₀ D, with the
/// paper's approximate values) and `report.md`. `tick` is called after each cell.
pub fn reproduce_e5(design: &E5Design, out: &Path, tick: &dyn Fn()) -> Result<Reproduction> {
    let settings = e5_settings();
    let start = std::time::Instant::now();
    let mut cells = Vec::new();
    for &(pot, pc, rule) in &settings {
        for &d in &design.ds {
            cells.push(cell(pot, pc, rule, d, design.seeds));
            tick();
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let seeds = design.seeds;
    let table = e5_markdown(&cells);
    let summary = serde_json::json!({
        "experiment": "linreg", "seeds": seeds, "cells": cells, "seconds": seconds
    });
    write(
        out,
        "summary.json",
        &serde_json::to_string_pretty(&summary).expect("json"),
    )?;
    let panels = settings
        .iter()
        .map(|&(pot, pc, rule)| {
            let c: Vec<&Cell> = cells
                .iter()
                .filter(|c| c.potential == pot.label() && c.pc == pc && c.rule == rule)
                .collect();
            let x: Vec<f64> = c.iter().map(|c| (c.d as f64).log10()).collect();
            let line = |name: &str, y: Vec<f64>| Series {
                name: name.into(),
                x: x.clone(),
                y,
            };
            let mut series = vec![
                line("median", c.iter().map(|c| c.median).collect()),
                line("5 %", c.iter().map(|c| c.p05).collect()),
                line("95 %", c.iter().map(|c| c.p95).collect()),
            ];
            let refs: Vec<(f64, f64)> = c
                .iter()
                .filter_map(|c| c.reference.map(|r| ((c.d as f64).log10(), r.0)))
                .collect();
            if !refs.is_empty() {
                series.push(Series {
                    name: "reference".into(),
                    x: refs.iter().map(|r| r.0).collect(),
                    y: refs.iter().map(|r| r.1).collect(),
                });
            }
            Panel {
                title: format!("{}, p_c = {pc}, N = D^{rule}", pot.label()),
                x_label: "log10 D".into(),
                y_label: "ΔCDF at the true potential".into(),
                kind: PanelKind::Lines(series),
            }
        })
        .collect();
    plot::save(
        &Figure {
            title: "Linear regression: ΔCDF falls with D".into(),
            cols: 3,
            panels,
        },
        &out.join("delta_cdf"),
    )?;
    write(
        out,
        "report.md",
        &format!(
            "# Linear-regression geometry (geometry paper, Fig 2)\n\n{seeds} seeds per cell. \
             Reference values are approximate (science.md E5).\n\n{table}\nWall time \
             {seconds:.1} s.\n\n![ΔCDF](delta_cdf.png)\n"
        ),
    )?;
    Ok(Reproduction { table, seconds })
}

/// Runs E7 (the wrong-potential cross table) with `seeds` seeds into `out`: `summary.json` and
/// `report.md`.
pub fn reproduce_e7(seeds: u64, out: &Path) -> Result<Reproduction> {
    let start = std::time::Instant::now();
    let rows = wrong_potential(seeds);
    let seconds = start.elapsed().as_secs_f64();
    let table = e7_markdown(&rows);
    let summary = serde_json::json!({
        "experiment": "wrong-potential", "seeds": seeds, "rows": rows,
        "reference": WRONG_REFERENCE, "seconds": seconds
    });
    write(
        out,
        "summary.json",
        &serde_json::to_string_pretty(&summary).expect("json"),
    )?;
    write(
        out,
        "report.md",
        &format!(
            "# Wrong-potential cross table (geometry paper)\n\nLinear regression, D = 1898, \
             N = 43, p_c = 2, {seeds} seeds: mean ± sd of ΔCDF, reference (approximate) in \
             brackets.\n\n{table}\nWall time {seconds:.1} s.\n"
        ),
    )?;
    Ok(Reproduction { table, seconds })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn training_fits_the_labels_and_eg_keeps_signs() {
        let data = draw(60, 7, 2.0, 1, "test");
        for pot in [
            Potential::NegEntropy,
            Potential::Euclidean,
            Potential::PNorm { p: 3.0 },
        ] {
            let (lr, _, loss) = search(60, 7, 2.0, pot);
            assert!(loss < 1e-3 && lr > 0.0, "{pot:?}: loss {loss}");
            let w1 = train(&data, pot, &[lr], 100).remove(0).1;
            if pot == Potential::NegEntropy {
                assert!(
                    data.w0
                        .iter()
                        .zip(&w1)
                        .all(|(a, b)| a.signum() == b.signum())
                );
            }
        }
    }
}

//! One module per paper figure, each with its default protocol and reference numbers.

use crate::error::{Error, Result};
use crate::sweep::exec::{self, Done};
use crate::sweep::summary::{self, Summary};
use crate::sweep::{Metric, Run, Sweep};
use std::path::Path;

pub mod dale_rnn;
pub mod dann_fmnist;
pub mod linreg;
pub mod modcog;
pub mod pruning;
pub mod r_of_k;
pub mod rnn_finetune;
pub mod robustness;

/// A tolerance or claim check of a reproduction and whether it passed.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Check {
    pub what: String,
    pub measured: f64,
    pub pass: bool,
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let verdict = if self.pass { "PASS" } else { "FAIL" };
        write!(f, "{verdict} {}: {:.2}", self.what, self.measured)
    }
}

/// What a reproduction prints when it ends: its table, checks, notes and wall time.
pub trait Reproduced {
    fn printed(&self) -> (String, &[Check], &[String], f64);
}

/// The checks and notes of a report as a Markdown list.
pub(crate) fn checks_markdown(checks: &[Check], notes: &[String]) -> String {
    let mut t = String::new();
    for c in checks {
        t += &format!("* {c}\n");
    }
    for n in notes {
        t += &format!("* Note: {n}.\n");
    }
    t
}

/// Runs `sweep` into `out` (complete runs are reused, interrupted ones resumed), `jobs` runs at a
/// time on one thread each, and writes its summary. A failed run is an error; so are stopped
/// runs (run the same command again to continue).
pub(crate) fn run_sweep(
    sweep: &Sweep,
    out: &Path,
    data_dir: Option<&Path>,
    jobs: usize,
    on_done: &(dyn Fn(&Run, &Done) + Sync),
) -> Result<(Vec<Run>, Summary)> {
    let runs = sweep.expand(data_dir)?;
    let done = exec::execute(
        &runs,
        &exec::Options {
            out: out.to_path_buf(),
            jobs,
            threads_per_run: 1,
        },
        on_done,
    );
    if let Some((r, Done::Failed(m))) = runs
        .iter()
        .zip(&done)
        .find(|(_, d)| matches!(d, Done::Failed(_)))
    {
        return Err(Error::Config(format!("run {} failed: {m}", r.name)));
    }
    if done.iter().any(|d| matches!(d, Done::Stopped)) {
        return Err(Error::Config(format!(
            "runs of {} were stopped: run the same command again to continue them",
            out.display()
        )));
    }
    let s = summary::collect(sweep, &runs, out)?;
    s.write(out)?;
    Ok((runs, s))
}

/// Density histogram of `v` over `bins` equal bins of [lo, hi], as a step-free line.
pub(crate) fn density(v: &[f64], lo: f64, hi: f64, bins: usize) -> (Vec<f64>, Vec<f64>) {
    let w = (hi - lo) / bins as f64;
    let mut c = vec![0usize; bins];
    for &x in v {
        let b = (((x - lo) / w) as usize).min(bins - 1);
        c[b] += 1;
    }
    let n = v.len().max(1) as f64;
    (
        (0..bins).map(|b| lo + (b as f64 + 0.5) * w).collect(),
        c.iter().map(|&k| k as f64 / (n * w)).collect(),
    )
}

/// The learning rates of a selection sweep for one variant: completed rates, best first.
pub(crate) struct Ranked {
    pub name: String,
    /// (learning rate, selection score), best first.
    pub rates: Vec<(f64, f64)>,
}

impl Ranked {
    /// The completed `optimizer.lr` settings of variant `name` in a selection summary, best
    /// first by `metric`.
    pub fn of(s: &Summary, name: &str, metric: Metric) -> Self {
        let group = format!("variant={name}");
        let mut rates: Vec<(f64, f64)> = s
            .settings
            .iter()
            .filter(|x| x.group == group && x.complete == x.runs)
            .filter_map(|x| {
                let lr = x.setting.trim_start_matches("optimizer.lr=").parse().ok()?;
                Some((lr, x.mean?))
            })
            .collect();
        rates.sort_by(|a, b| match metric {
            Metric::TestAcc => b.1.total_cmp(&a.1),
            Metric::TestLoss | Metric::TrainLossAuc | Metric::TrainLoss => a.1.total_cmp(&b.1),
        });
        Self {
            name: name.to_string(),
            rates,
        }
    }
}

/// The recurrent matrix's name in the run folders (`torch.nn.RNN`'s).
pub(crate) const W_HH: &str = "rnn.weight_hh_l0";

/// The recurrent matrix `W_hh` of a weights file, as f64.
pub(crate) fn w_hh(file: &Path) -> Result<Vec<f64>> {
    let (t, _) = crate::io::checkpoint::load(file)?;
    let w = t
        .get(W_HH)
        .ok_or_else(|| Error::data(file, format!("no {W_HH} tensor")))?;
    Ok(w.data.iter().map(|&v| v as f64).collect())
}

/// Reads a JSON file of a run folder (its `summary.json`).
pub(crate) fn read_json(p: &Path) -> Result<serde_json::Value> {
    let text = std::fs::read_to_string(p).map_err(|e| Error::io(p, e))?;
    serde_json::from_str(&text).map_err(|e| Error::data(p, e.to_string()))
}

/// Writes a reproduction's `report.md` and its report as `summary.json` into `out`.
pub(crate) fn write_report(out: &Path, markdown: String, r: &impl serde::Serialize) -> Result<()> {
    crate::io::durable::write(&out.join("report.md"), markdown)?;
    crate::io::durable::write(
        &out.join("summary.json"),
        serde_json::to_string_pretty(r).expect("a report serialises") + "\n",
    )
}

/// A final sweep after fallbacks: its runs, their summary, and the (rate, score) used per
/// variant.
pub(crate) struct Final {
    pub runs: Vec<Run>,
    pub summary: Summary,
    pub rates: Vec<(f64, f64)>,
}

/// Runs the final sweep `build(rates)` into `out` at each variant's best rate. A rate chosen
/// from short runs can diverge in the longer final runs: then that variant falls back to its
/// best smaller rate and the sweep runs again (complete runs are reused), with a note for each
/// fallback.
pub(crate) fn final_with_fallback(
    ranked: &[Ranked],
    build: &dyn Fn(&[f64]) -> Sweep,
    out: &Path,
    data_dir: Option<&Path>,
    jobs: usize,
    on_done: &(dyn Fn(&Run, &Done) + Sync),
    notes: &mut Vec<String>,
) -> Result<Final> {
    let mut pick = Vec::with_capacity(ranked.len());
    for r in ranked {
        pick.push(*r.rates.first().ok_or_else(|| {
            Error::Config(format!(
                "every learning rate of {} diverged in the selection sweep",
                r.name
            ))
        })?);
    }
    loop {
        let lrs: Vec<f64> = pick.iter().map(|x| x.0).collect();
        let (runs, s) = run_sweep(&build(&lrs), out, data_dir, jobs, on_done)?;
        let mut again = false;
        for (v, r) in ranked.iter().enumerate() {
            let mine = |row: &&summary::Row| {
                row.labels
                    .iter()
                    .any(|(k, x)| k == "variant" && *x == r.name)
            };
            let bad = s
                .rows
                .iter()
                .filter(mine)
                .filter(|row| row.status == "diverged")
                .count();
            if bad == 0 {
                continue;
            }
            let lr = pick[v].0;
            let Some(&next) = r.rates.iter().find(|x| x.0 < lr) else {
                return Err(Error::Config(format!(
                    "{} diverged at every selected learning rate (see {}); add smaller rates to \
                     its grid",
                    r.name,
                    out.display()
                )));
            };
            notes.push(format!(
                "{}: learning rate {lr} diverged in {bad} of {} final runs; fell back to {} (the \
                 best smaller rate of the selection)",
                r.name,
                s.rows.iter().filter(mine).count(),
                next.0
            ));
            pick[v] = next;
            again = true;
        }
        if !again {
            return Ok(Final {
                runs,
                summary: s,
                rates: pick,
            });
        }
    }
}

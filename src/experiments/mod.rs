//! One module per paper figure, each with its default protocol and reference numbers.

use crate::error::{Error, Result};
use crate::sweep::exec::{self, Done};
use crate::sweep::summary::{self, Summary};
use crate::sweep::{Run, Sweep};
use std::path::Path;

pub mod dann_fmnist;
pub mod linreg;
pub mod modcog;
pub mod r_of_k;
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

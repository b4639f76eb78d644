//! `geoplast sweep --emit-slurm`: a job-array batch script whose task `i` runs run `i` of the
//! sweep into the shared sweep folder, the per-index command it calls, a summary job, and
//! `submit.sh`, which submits the array and then the summary job to run only if every task
//! succeeded (a diverged run is a result and its task exits 0; a failed run's task exits 1).

use serde::{Deserialize, Serialize};
use std::path::Path;

/// Scheduler options, from the sweep file's `[slurm]` table or `--slurm KEY=VALUE`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Options {
    pub partition: Option<String>,
    pub account: Option<String>,
    /// Time limit per task in SLURM's syntax (`02:00:00`, `1-00:00:00`).
    pub time: Option<String>,
    /// Memory per task in SLURM's syntax (`4G`).
    pub mem: Option<String>,
    /// CPUs per task (default: `--threads-per-run`).
    pub cpus_per_task: Option<usize>,
    /// Generic resources per task (`gpu:1`).
    pub gres: Option<String>,
    /// At most this many array tasks at once (`--array=0-N%throttle`).
    pub throttle: Option<usize>,
}

impl Options {
    /// Every value is checked before it goes into an `#SBATCH` line (a space or newline there
    /// would silently change the script).
    pub fn validate(&self) -> Result<(), String> {
        let word = |key: &str, v: &Option<String>, ok: &dyn Fn(char) -> bool| match v {
            Some(v) if v.is_empty() || !v.chars().all(ok) => Err(format!(
                "slurm.{key} = {v:?} is not a valid value (no spaces or special characters)"
            )),
            _ => Ok(()),
        };
        let name = |c: char| c.is_ascii_alphanumeric() || "_-.,".contains(c);
        word("partition", &self.partition, &name)?;
        word("account", &self.account, &name)?;
        word("gres", &self.gres, &|c| name(c) || c == ':')?;
        word("time", &self.time, &|c| {
            c.is_ascii_digit() || c == ':' || c == '-'
        })?;
        word("mem", &self.mem, &|c| {
            c.is_ascii_digit() || "KMGTkmgt".contains(c)
        })?;
        for (key, v) in [
            ("cpus_per_task", self.cpus_per_task),
            ("throttle", self.throttle),
        ] {
            if v == Some(0) {
                return Err(format!("slurm.{key} must be >= 1"));
            }
        }
        Ok(())
    }

    /// Sets one option from `KEY=VALUE` (`--slurm partition=gpu`).
    pub fn set(&mut self, kv: &str) -> Result<(), String> {
        let (k, v) = kv.split_once('=').ok_or_else(|| {
            format!("--slurm {kv:?}: write KEY=VALUE, e.g. --slurm time=02:00:00")
        })?;
        let (k, v) = (k.trim(), v.trim().to_string());
        let count = || {
            v.parse::<usize>()
                .map_err(|_| format!("--slurm {k}={v}: not a whole number"))
        };
        match k.replace('-', "_").as_str() {
            "partition" => self.partition = Some(v),
            "account" => self.account = Some(v),
            "time" => self.time = Some(v),
            "mem" => self.mem = Some(v),
            "gres" => self.gres = Some(v),
            "cpus_per_task" => self.cpus_per_task = Some(count()?),
            "throttle" => self.throttle = Some(count()?),
            _ => {
                return Err(format!(
                    "--slurm {k}: unknown option; use partition, account, time, mem, \
                     cpus_per_task, gres or throttle"
                ));
            }
        }
        self.validate()
    }

    /// The `#SBATCH` lines for the cluster's options (partition, account, time, memory, GPUs).
    fn lines(&self) -> String {
        [
            ("partition", &self.partition),
            ("account", &self.account),
            ("time", &self.time),
            ("mem", &self.mem),
            ("gres", &self.gres),
        ]
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("#SBATCH --{k}={v}\n")))
        .collect()
    }
}

/// Where the array tasks find everything (absolute paths: tasks start in another folder).
pub struct Paths<'a> {
    pub exe: &'a Path,
    pub sweep: &'a Path,
    pub out: &'a Path,
    pub data_dir: Option<&'a Path>,
}

/// The command that runs run `index` (`$SLURM_ARRAY_TASK_ID` in the script).
pub fn command(p: &Paths, threads: usize, index: &str) -> String {
    let data = p.data_dir.map_or(String::new(), |d| {
        format!(" --data-dir \"{}\"", d.display())
    });
    format!(
        "\"{}\" --threads {threads} sweep \"{}\" --out \"{}\"{data} --threads-per-run {threads} --index {index}",
        p.exe.display(),
        p.sweep.display(),
        p.out.display()
    )
}

/// The batch script for `runs` runs.
pub fn script(name: &str, p: &Paths, runs: usize, threads: usize, o: &Options) -> String {
    let cmd = command(
        &Paths {
            exe: Path::new("$GEOPLAST"),
            ..*p
        },
        threads,
        "\"$SLURM_ARRAY_TASK_ID\"",
    );
    let (exe, out) = (p.exe, p.out);
    format!(
        r#"#!/bin/bash
# Generated by `geoplast sweep --emit-slurm`: one array task per run of sweep `{name}`.
# Submit:   bash {submit}   (this array, then the summary job once every task succeeded)
# Each task trains one run into {out}/runs/ (a complete run is skipped, an interrupted one
# resumes from its checkpoint), so resubmitting after a time-out continues the sweep. A run
# that diverges is a result (its task exits 0); a run that fails makes its task exit 1.
#SBATCH --job-name=geoplast-{name}
#SBATCH --array=0-{last}{throttle}
#SBATCH --cpus-per-task={cpus}
#SBATCH --output={out}/slurm/%A_%a.log
{options}set -euo pipefail
GEOPLAST="${{GEOPLAST:-{exe}}}"
{cmd}
"#,
        submit = out.join("slurm/submit.sh").display(),
        out = out.display(),
        exe = exe.display(),
        last = runs.saturating_sub(1),
        throttle = o.throttle.map_or(String::new(), |t| format!("%{t}")),
        cpus = o.cpus_per_task.unwrap_or(threads),
        options = o.lines(),
    )
}

/// The summary job: collects summary.{csv,md,json} once the array is done.
pub fn summary_script(name: &str, p: &Paths, o: &Options) -> String {
    let data = p.data_dir.map_or(String::new(), |d| {
        format!(" --data-dir \"{}\"", d.display())
    });
    let keep = Options {
        partition: o.partition.clone(),
        account: o.account.clone(),
        ..Default::default()
    };
    format!(
        r#"#!/bin/bash
# Generated by `geoplast sweep --emit-slurm`: the summary of sweep `{name}`, submitted by
# submit.sh to run after every array task succeeded.
#SBATCH --job-name=geoplast-{name}-summary
#SBATCH --cpus-per-task=1
#SBATCH --output={out}/slurm/summary_%j.log
{options}set -euo pipefail
GEOPLAST="${{GEOPLAST:-{exe}}}"
"$GEOPLAST" --threads 1 sweep "{sweep}" --out "{out}"{data} --summary-only
"#,
        out = p.out.display(),
        exe = p.exe.display(),
        sweep = p.sweep.display(),
        options = keep.lines(),
    )
}

/// `submit.sh`: the array, then the summary job with `afterok` on it; a failing task leaves the
/// dependency unsatisfiable, and `--kill-on-invalid-dep=yes` cancels the summary job.
pub fn submit_script() -> String {
    r#"#!/bin/bash
# Generated by `geoplast sweep --emit-slurm`. Submits the job array, then the summary job that
# runs only if every array task succeeded (it is cancelled otherwise).
set -euo pipefail
cd "$(dirname "$0")"
array=$(sbatch --parsable sweep.sbatch)
array=${array%%;*}
summary=$(sbatch --parsable --dependency=afterok:"$array" --kill-on-invalid-dep=yes summary.sbatch)
summary=${summary%%;*}
echo "array job $array, summary job $summary"
"#
    .to_string()
}

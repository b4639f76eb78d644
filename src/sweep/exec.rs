//! Running the runs of a sweep: skip the complete ones, resume the interrupted ones, run the rest
//! on `jobs` workers with `threads_per_run` threads each.

use super::Run;
use crate::error::{Error, Result};
use crate::io::Mode;
use crate::train::{self, RunOptions};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Where a run folder stands (a run whose last attempt failed has `failed.json` and is
/// retried: its folder is New or Interrupted).
#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    /// `summary.json` exists.
    Complete,
    /// Training diverged (`diverged.json`); rerunning would diverge again.
    Diverged,
    /// A checkpoint exists but no summary: continue from it.
    Interrupted,
    /// Nothing yet.
    New,
}

impl Status {
    pub fn name(&self) -> &'static str {
        match self {
            Status::Complete => "complete",
            Status::Diverged => "diverged",
            Status::Interrupted => "interrupted",
            Status::New => "new",
        }
    }
}

/// The status of `run` in the sweep folder `out`. A folder made by a different config is an
/// error: the sweep file changed, and its runs must not be mixed with the old ones.
pub fn status(run: &Run, out: &Path) -> Result<Status> {
    let dir = run.dir(out);
    let has = |f: &str| dir.join(f).is_file();
    if !has("checkpoint.safetensors") {
        return Ok(Status::New);
    }
    train::check_same_config(&dir, &run.config).map_err(|_| {
        Error::Config(format!(
            "{} was made by a different config than run {} of this sweep (the sweep file \
             changed?): use a new --out folder, or delete that run folder",
            dir.display(),
            run.index
        ))
    })?;
    Ok(if has("summary.json") {
        Status::Complete
    } else if has("diverged.json") {
        Status::Diverged
    } else {
        Status::Interrupted
    })
}

/// How to execute.
#[derive(Clone, Debug)]
pub struct Options {
    pub out: PathBuf,
    /// Runs at a time.
    pub jobs: usize,
    /// Threads inside each run (1 by default: runs are the parallel unit).
    pub threads_per_run: usize,
}

/// What happened to one run in this invocation.
#[derive(Clone, Debug)]
pub enum Done {
    Skipped(Status),
    Trained,
    /// Stopped (or not started) by Ctrl-C or SIGTERM; the folder resumes on the next call.
    Stopped,
    Diverged(String),
    Failed(String),
}

/// Executes one run: skips it if complete or diverged, resumes it if interrupted.
pub fn execute_one(run: &Run, out: &Path) -> Done {
    let st = match status(run, out) {
        Ok(s) => s,
        Err(e) => return Done::Failed(e.to_string()),
    };
    if matches!(st, Status::Complete | Status::Diverged) {
        return Done::Skipped(st);
    }
    if train::hooks::stop_requested() {
        return Done::Stopped;
    }
    let dir = run.dir(out);
    let opts = RunOptions {
        quiet: true,
        ..Default::default()
    };
    // A run folder without a checkpoint holds nothing to keep (a start-up killed, or a
    // failure note that this attempt replaces): it starts afresh.
    let mode = if st == Status::Interrupted {
        Mode::Resume
    } else {
        Mode::Overwrite
    };
    let trained = guarded(|| train::run(&run.config, &dir, mode, &opts));
    let failed_note = dir.join("failed.json");
    match trained {
        Ok(o) if o.stopped => Done::Stopped,
        Ok(_) => {
            // A failure recorded by an earlier invocation is history now.
            let _ = std::fs::remove_file(&failed_note);
            Done::Trained
        }
        Err(e @ Error::Diverged { .. }) => {
            let msg = e.to_string();
            let note = serde_json::json!({ "status": "diverged", "error": msg });
            match crate::io::durable::write(
                &dir.join("diverged.json"),
                serde_json::to_string_pretty(&note).expect("json") + "\n",
            ) {
                Ok(()) => Done::Diverged(msg),
                Err(e) => Done::Failed(e.to_string()),
            }
        }
        Err(e) => {
            // Recorded for the summary (status "failed"); a later invocation tries again.
            let msg = e.to_string();
            let note = serde_json::json!({ "status": "failed", "error": msg });
            if std::fs::create_dir_all(&dir).is_ok() {
                let _ = crate::io::durable::write(
                    &failed_note,
                    serde_json::to_string_pretty(&note).expect("json") + "\n",
                );
            }
            Done::Failed(msg)
        }
    }
}

/// Runs `f`, turning a panic (a bug, never expected from user input) into an error, so that one
/// run's failure is recorded and reported while the other runs of a sweep go on.
pub fn guarded<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Err(Error::Config(format!(
            "internal error (a bug in geoplast; please report it with the run's config): {msg}"
        )))
    })
}

/// Executes `runs` in parallel; `on_done` is called after each (for a progress bar). Returns what
/// happened to each, in the order of `runs`.
pub fn execute(runs: &[Run], opts: &Options, on_done: &(dyn Fn(&Run, &Done) + Sync)) -> Vec<Done> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Done>>> = Mutex::new(vec![None; runs.len()]);
    let jobs = opts.jobs.clamp(1, runs.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(opts.threads_per_run.max(1))
                    .build()
                    .expect("a thread pool starts");
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(run) = runs.get(i) else { break };
                    let done = pool.install(|| execute_one(run, &opts.out));
                    on_done(run, &done);
                    results.lock().expect("no worker panicked")[i] = Some(done);
                }
            });
        }
    });
    results
        .into_inner()
        .expect("no worker panicked")
        .into_iter()
        .map(|d| d.expect("every run executed"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_error() {
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let r: Result<()> = guarded(|| panic!("boom {}", 1));
        std::panic::set_hook(hook);
        let msg = r.unwrap_err().to_string();
        assert!(
            msg.contains("internal error") && msg.contains("boom 1"),
            "{msg}"
        );
        assert_eq!(guarded(|| Ok(3)).unwrap(), 3);
    }
}

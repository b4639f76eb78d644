//! Step hooks of the trainer: named checkpoints (at chosen updates, at epoch starts, the first
//! time a metric crosses a threshold), progress (a bar on a terminal, a status line every 30 s
//! otherwise) and stop (Ctrl-C or SIGTERM end the run at the next update, with a checkpoint).

use super::config::CheckpointConfig;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

static STOP: AtomicBool = AtomicBool::new(false);

/// Installs the Ctrl-C / SIGTERM handler (once per process): the signal only sets a flag that
/// the training loop reads after each update, so no update is cut in half.
pub fn install_stop_handler() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // If another handler is installed already (an embedding program), keep it: the run
        // then simply cannot be stopped early by a signal.
        let _ = ctrlc::set_handler(|| STOP.store(true, Ordering::SeqCst));
    });
}

/// Whether a stop was asked for.
pub fn stop_requested() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// Asks the running training to stop at its next update, as a signal does.
pub fn request_stop() {
    STOP.store(true, Ordering::SeqCst);
}

/// Forgets a stop asked for earlier (a library caller that trains again in the same process).
pub fn clear_stop() {
    STOP.store(false, Ordering::SeqCst);
}

/// A caller's view of a run's progress (the Python package's bar): called with (updates done,
/// total) at most every 0.1 s and after the last update. Returning `false` asks the run to
/// stop at the next update, as a signal does (how a notebook's interrupt reaches a run whose
/// thread does not see signals).
#[derive(Clone)]
pub struct Watcher(pub std::sync::Arc<dyn Fn(u64, u64) -> bool + Send + Sync>);

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Watcher")
    }
}

/// The named checkpoints of a run (`checkpoints/…` in the run folder). Each is written once: a
/// name that exists already (from before a resume) is not written again.
pub struct Checkpoints<'a> {
    cfg: &'a CheckpointConfig,
    dir: PathBuf,
}

impl<'a> Checkpoints<'a> {
    pub fn new(cfg: &'a CheckpointConfig, run_dir: &Path) -> Self {
        Self {
            cfg,
            dir: run_dir.join("checkpoints"),
        }
    }

    /// The file for `name`, if it is still to be written.
    fn due(&self, name: String) -> Option<PathBuf> {
        let p = self.dir.join(format!("{name}.safetensors"));
        (!p.exists()).then_some(p)
    }

    /// Checkpoints due after update `t` (1-based count of updates done).
    pub fn after_update(&self, t: usize) -> Option<PathBuf> {
        self.cfg
            .at
            .contains(&t)
            .then(|| self.due(format!("step_{t:06}")))
            .flatten()
    }

    /// The checkpoint due at the start of `epoch` (before its first update).
    pub fn at_epoch_start(&self, epoch: usize) -> Option<PathBuf> {
        self.cfg
            .epoch_starts
            .then(|| self.due(format!("epoch_{epoch:03}")))
            .flatten()
    }

    /// Checkpoints due after an evaluation with these metric values: the first time each
    /// threshold is reached (at or below it for losses, at or above it otherwise).
    pub fn after_evaluation(&self, metrics: &[(&str, f64)]) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for (name, thresholds) in &self.cfg.thresholds {
            let Some(&(_, v)) = metrics.iter().find(|(m, _)| m == name) else {
                continue;
            };
            for &th in thresholds {
                let reached = if name.ends_with("loss") {
                    v <= th
                } else {
                    v >= th
                };
                if reached && let Some(p) = self.due(format!("{name}_{th}")) {
                    out.push(p);
                }
            }
        }
        out
    }
}

/// Progress of long work (training, sweeps, reproductions, the noise-aware test): a bar on a
/// terminal; otherwise (a batch job's log file) a status line every 30 s on stderr, and messages
/// (a diverged run) printed as lines instead of being dropped with the hidden bar. Nothing when
/// quiet. Shared by reference across worker threads.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    what: String,
    total: u64,
    done: AtomicU64,
    start: Instant,
    /// When the last status line was printed (`None`: no status lines).
    last_line: Option<Mutex<Instant>>,
    quiet: bool,
}

const STATUS_EVERY: Duration = Duration::from_secs(30);

impl Progress {
    /// Progress over `total` steps of `what`, `done` of them done already.
    pub fn new(what: &str, done: u64, total: u64, quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let b = indicatif::ProgressBar::new(total);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{msg} [{bar:40}] {pos}/{len} {elapsed_precise} (eta {eta})",
                )
                .expect("valid template")
                .progress_chars("=> "),
            );
            b.set_message(what.to_string());
            b.set_position(done);
            b
        });
        let now = Instant::now();
        Self {
            last_line: (!quiet && bar.is_none()).then(|| Mutex::new(now)),
            bar,
            what: what.to_string(),
            total,
            done: AtomicU64::new(done),
            start: now,
            quiet,
        }
    }

    /// One more step done.
    pub fn inc(&self) {
        let pos = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        self.set(pos, String::new);
    }

    /// `pos` steps done; `note` (say, the current loss) goes into the status line.
    pub fn set(&self, pos: u64, note: impl FnOnce() -> String) {
        self.done.store(pos, Ordering::Relaxed);
        if let Some(b) = &self.bar {
            b.set_position(pos);
            return;
        }
        let Some(last) = &self.last_line else {
            return;
        };
        let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
        if last.elapsed() < STATUS_EVERY {
            return;
        }
        *last = Instant::now();
        let note = note();
        eprintln!(
            "{}: {pos}/{} ({:.0} %){}{}, {:.0} s",
            self.what,
            self.total,
            100.0 * pos as f64 / self.total.max(1) as f64,
            if note.is_empty() { "" } else { ", " },
            note,
            self.start.elapsed().as_secs_f64()
        );
    }

    /// A message above the bar, or a line of its own without one.
    pub fn println(&self, msg: impl AsRef<str>) {
        match &self.bar {
            Some(b) => b.println(msg.as_ref()),
            None if !self.quiet => eprintln!("{}", msg.as_ref()),
            None => {}
        }
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

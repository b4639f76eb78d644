//! A run folder: the resolved `config.toml`, `metrics.jsonl` (one JSON object per logged step)
//! and the same scalars as TensorBoard events under `tb/`, `summary.json`, weights as
//! `.safetensors`, plots and `report.md`.

use super::durable;
use super::lock::{LOCK_FILE, Lock};
use super::tensorboard::{self, EventWriter};
use crate::error::{Error, Result};
use serde::Serialize;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// How a run folder is opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A new run: the folder must be new or empty.
    New,
    /// A new run that first deletes what the folder holds (`--overwrite`).
    Overwrite,
    /// Continue the run the folder holds (`--resume`).
    Resume,
}

/// An open run folder, locked for this process while it is open.
pub struct RunDir {
    pub path: PathBuf,
    metrics: BufWriter<File>,
    /// Opened at the first logged record (a folder that logs nothing has no `tb/`).
    events: Option<EventWriter>,
    resumed: bool,
    _lock: Lock,
}

/// The entries of `dir` other than its lock file, sorted (empty when it does not exist).
pub fn contents(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|r| {
            r.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n != LOCK_FILE)
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Errors if `dir` holds anything: a new run never mixes its files with another's.
pub fn check_new(dir: &Path, what: &str) -> Result<()> {
    let held = contents(dir);
    if held.is_empty() {
        return Ok(());
    }
    let shown: Vec<&str> = held.iter().take(4).map(String::as_str).collect();
    let more = if held.len() > 4 { ", …" } else { "" };
    Err(Error::Config(format!(
        "{} already holds files ({}{more}): {what}, start again with --overwrite (which \
         deletes them), or choose another --out",
        dir.display(),
        shown.join(", ")
    )))
}

/// Deletes everything in `dir` but its lock file.
pub fn clear(dir: &Path) -> Result<()> {
    for name in contents(dir) {
        let p = dir.join(name);
        let r = if p.is_dir() {
            std::fs::remove_dir_all(&p)
        } else {
            std::fs::remove_file(&p)
        };
        r.map_err(|e| Error::io(&p, e))?;
    }
    Ok(())
}

/// Creates `path` and locks it for this process, then checks (new), clears (overwrite) or
/// tidies (resume: the temporary files of writes killed half-way go) what it holds.
pub fn prepare(path: &Path, mode: Mode) -> Result<Lock> {
    std::fs::create_dir_all(path).map_err(|e| Error::io(path, e))?;
    let lock = Lock::exclusive(path)?;
    match mode {
        Mode::New => check_new(path, "continue that run with --resume")?,
        Mode::Overwrite => clear(path)?,
        Mode::Resume => {
            durable::remove_temporaries(path)?;
            durable::remove_temporaries(&path.join("checkpoints"))?;
        }
    }
    Ok(lock)
}

impl RunDir {
    /// Opens `path` as `mode` says ([`prepare`]), locked while the `RunDir` lives. A resumed
    /// run appends to `metrics.jsonl`.
    pub fn open(path: &Path, mode: Mode) -> Result<Self> {
        let lock = prepare(path, mode)?;
        let append = mode == Mode::Resume;
        let mp = path.join("metrics.jsonl");
        let f = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(append)
            .truncate(!append)
            .open(&mp)
            .map_err(|e| Error::io(&mp, e))?;
        Ok(Self {
            path: path.to_path_buf(),
            metrics: BufWriter::new(f),
            events: None,
            resumed: append,
            _lock: lock,
        })
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Appends one JSON object to `metrics.jsonl`, and its numbers (all but `step` and
    /// `epoch`) as TensorBoard scalars at its `step`, tagged with their keys.
    pub fn log(&mut self, record: &serde_json::Value) -> Result<()> {
        writeln!(self.metrics, "{record}").map_err(|e| Error::io(self.file("metrics.jsonl"), e))?;
        let (Some(fields), Some(step)) = (record.as_object(), record["step"].as_u64()) else {
            return Ok(());
        };
        if self.events.is_none() {
            self.events = Some(EventWriter::open(&self.path, self.resumed)?);
        }
        let events = self.events.as_mut().expect("opened above");
        for (tag, v) in fields {
            if let (false, Some(x)) = (tag == "step" || tag == "epoch", v.as_f64()) {
                events.scalar(tag, step, x)?;
            }
        }
        Ok(())
    }

    /// Keeps one history on resume: drops the records of `metrics.jsonl` and of the
    /// TensorBoard events logged after update `step` (a run killed after its last checkpoint
    /// wrote them, and the resumed run writes them again) and a torn last record. The files are
    /// replaced atomically.
    pub fn truncate_metrics_after(&mut self, step: usize) -> Result<()> {
        self.flush()?;
        self.events = None;
        tensorboard::truncate_after(&self.path, step as u64)?;
        let p = self.file("metrics.jsonl");
        let text = std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e))?;
        let kept: String = text
            .lines()
            .filter(|l| {
                serde_json::from_str::<serde_json::Value>(l)
                    .is_ok_and(|v| v["step"].as_u64().is_none_or(|s| s as usize <= step))
            })
            .map(|l| format!("{l}\n"))
            .collect();
        if kept.len() == text.len() {
            return Ok(());
        }
        durable::write(&p, kept)?;
        // Reopen the log at its new end (the folder stays locked by `self`).
        self.metrics = BufWriter::new(
            std::fs::OpenOptions::new()
                .append(true)
                .open(&p)
                .map_err(|e| Error::io(&p, e))?,
        );
        Ok(())
    }

    /// Flushes the metrics to disk so a crash keeps what was logged (called at evaluations and
    /// before every checkpoint, so the log reaches at least the checkpoint's update).
    pub fn flush(&mut self) -> Result<()> {
        self.metrics
            .flush()
            .and_then(|()| self.metrics.get_ref().sync_data())
            .map_err(|e| Error::io(self.file("metrics.jsonl"), e))?;
        match &mut self.events {
            Some(e) => e.flush(),
            None => Ok(()),
        }
    }

    /// Writes `name` in the folder atomically ([`durable::write`]).
    pub fn write_text(&self, name: &str, text: &str) -> Result<PathBuf> {
        let p = self.file(name);
        durable::write(&p, text)?;
        Ok(p)
    }

    pub fn write_json(&self, name: &str, value: &impl Serialize) -> Result<PathBuf> {
        self.write_text(
            name,
            &(serde_json::to_string_pretty(value).expect("serialisable") + "\n"),
        )
    }
}

//! A run folder: the resolved `config.toml`, `metrics.jsonl` (one JSON object per logged step),
//! `summary.json`, weights as `.safetensors`, plots and `report.md`.

use crate::error::{Error, Result};
use serde::Serialize;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// An open run folder.
pub struct RunDir {
    pub path: PathBuf,
    metrics: BufWriter<File>,
}

impl RunDir {
    /// Creates (or reuses) `path`; `append` keeps an existing `metrics.jsonl` (resume).
    pub fn open(path: &Path, append: bool) -> Result<Self> {
        std::fs::create_dir_all(path).map_err(|e| Error::io(path, e))?;
        remove_temporaries(path)?;
        remove_temporaries(&path.join("checkpoints"))?;
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
        })
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Appends one JSON object to `metrics.jsonl`.
    pub fn log(&mut self, record: &impl Serialize) -> Result<()> {
        let line = serde_json::to_string(record).expect("metrics records serialise");
        writeln!(self.metrics, "{line}").map_err(|e| Error::io(self.file("metrics.jsonl"), e))
    }

    /// Keeps one history on resume: drops the records of `metrics.jsonl` logged after update
    /// `step` (a run killed after its last checkpoint wrote them, and the resumed run writes
    /// them again) and a torn last line. The file is replaced atomically.
    pub fn truncate_metrics_after(&mut self, step: usize) -> Result<()> {
        self.flush()?;
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
        let tmp = self.file("metrics.jsonl.tmp");
        std::fs::write(&tmp, kept).map_err(|e| Error::io(&tmp, e))?;
        std::fs::rename(&tmp, &p).map_err(|e| Error::io(&p, e))?;
        *self = Self::open(&self.path, true)?;
        Ok(())
    }

    /// Flushes the metrics so a crash keeps what was logged.
    pub fn flush(&mut self) -> Result<()> {
        self.metrics
            .flush()
            .map_err(|e| Error::io(self.file("metrics.jsonl"), e))
    }

    pub fn write_text(&self, name: &str, text: &str) -> Result<PathBuf> {
        let p = self.file(name);
        std::fs::write(&p, text).map_err(|e| Error::io(&p, e))?;
        Ok(p)
    }

    pub fn write_json(&self, name: &str, value: &impl Serialize) -> Result<PathBuf> {
        self.write_text(
            name,
            &(serde_json::to_string_pretty(value).expect("serialisable") + "\n"),
        )
    }
}

/// Removes the `*.tmp` files that writes killed half-way left in `dir` (each output is written
/// to a temporary name and renamed, so a `.tmp` file is never a finished output).
fn remove_temporaries(dir: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "tmp") && p.is_file() {
            std::fs::remove_file(&p).map_err(|err| Error::io(&p, err))?;
        }
    }
    Ok(())
}

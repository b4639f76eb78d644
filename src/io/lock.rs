//! Folder locks: a run folder is written by one process at a time. The lock is an OS file lock
//! (`flock` on Unix) on `.lock` in the folder, released when the process exits however it ends;
//! the file itself stays (removing it would race with the next holder) and says which host and
//! process last took it exclusively.
//!
//! Limits: the lock is advisory (only geoplast honours it), and on network file systems it is as
//! good as the mount's lock support. Linux NFS v4 and v3 with `lockd` carry `flock` locks across
//! hosts; a mount with `nolock`, or a parallel file system mounted without lock support (Lustre
//! without `flock`, some GPFS settings), gives each host only a local lock, so two hosts could
//! still write one folder. Sweeps on such clusters rely on each task writing its own run folder.

use crate::error::{Error, Result};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::Path;

/// A held lock; dropping it releases it.
#[derive(Debug)]
pub struct Lock {
    _file: File,
}

/// The lock file of `dir`.
pub const LOCK_FILE: &str = ".lock";

fn open(dir: &Path) -> Result<File> {
    let p = dir.join(LOCK_FILE);
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&p)
        .map_err(|e| Error::io(&p, e))
}

fn busy(dir: &Path, mut f: File) -> Error {
    let mut holder = String::new();
    let _ = f.read_to_string(&mut holder);
    let holder = holder.trim();
    let who = if holder.is_empty() {
        "another geoplast process".to_string()
    } else {
        format!("another geoplast process (the last to take it alone: {holder})")
    };
    Error::Config(format!(
        "{} is in use by {who}: wait for it to finish or stop it; two processes writing one \
         folder would mix their files",
        dir.display()
    ))
}

fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::env::var("HOSTNAME"))
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "unknown host".into())
}

impl Lock {
    /// Takes `dir` for this process alone, or says who holds it.
    pub fn exclusive(dir: &Path) -> Result<Self> {
        let mut f = open(dir)?;
        match f.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(busy(dir, f)),
            Err(TryLockError::Error(e)) => return Err(Error::io(dir.join(LOCK_FILE), e)),
        }
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let note = format!(
            "host {} pid {} since {since} (Unix time)\n",
            host(),
            std::process::id()
        );
        f.set_len(0)
            .and_then(|()| f.rewind())
            .and_then(|()| f.write_all(note.as_bytes()))
            .map_err(|e| Error::io(dir.join(LOCK_FILE), e))?;
        Ok(Self { _file: f })
    }

    /// Takes `dir` together with other shared holders (the tasks of one SLURM array, which
    /// write their own run folders inside it), excluding an exclusive holder.
    pub fn shared(dir: &Path) -> Result<Self> {
        let f = open(dir)?;
        match f.try_lock_shared() {
            Ok(()) => Ok(Self { _file: f }),
            Err(TryLockError::WouldBlock) => Err(busy(dir, f)),
            Err(TryLockError::Error(e)) => Err(Error::io(dir.join(LOCK_FILE), e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusive_excludes_and_shared_shares() {
        let d = tempfile::tempdir().unwrap();
        let a = Lock::exclusive(d.path()).unwrap();
        let e = Lock::exclusive(d.path()).unwrap_err().to_string();
        assert!(
            e.contains("in use") && e.contains(&format!("pid {}", std::process::id())),
            "{e}"
        );
        assert!(Lock::shared(d.path()).is_err());
        drop(a);
        let s1 = Lock::shared(d.path()).unwrap();
        let _s2 = Lock::shared(d.path()).unwrap();
        assert!(Lock::exclusive(d.path()).is_err());
        drop(s1);
    }
}

//! Durable writes: every output is written to a temporary name beside it, synced, renamed into
//! place and its folder synced, so a crash or a kill leaves either the old file or the new one,
//! never a torn one, and a rename that returned survives a power cut. Temporary files of writes
//! killed half-way are recognised by name and removed when a run folder is opened again.

use crate::error::{Error, Result};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The temporary name a write to `path` goes through (`name.tmp`, or `name.tmp.png` for a plot,
/// whose encoder picks the format from the extension).
pub fn tmp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or("out".into(), |n| n.to_string_lossy());
    let tmp = match path.extension().map(|e| e.to_string_lossy()) {
        Some(ext) if ext == "png" || ext == "svg" => {
            format!("{}.tmp.{ext}", name.trim_end_matches(&format!(".{ext}")))
        }
        _ => format!("{name}.tmp"),
    };
    path.with_file_name(tmp)
}

/// Whether `name` is a temporary file of an unfinished write.
pub fn is_temporary(name: &str) -> bool {
    name.ends_with(".tmp") || name.ends_with(".tmp.png") || name.ends_with(".tmp.svg")
}

/// Writes `bytes` to `path` atomically and durably.
pub fn write(path: &Path, bytes: impl AsRef<[u8]>) -> Result<()> {
    let tmp = tmp_path(path);
    let mut f = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
    f.write_all(bytes.as_ref())
        .and_then(|()| f.sync_all())
        .map_err(|e| Error::io(&tmp, e))?;
    drop(f);
    rename(&tmp, path)
}

/// Syncs the finished temporary file `tmp` (written by another writer) and renames it to `path`.
pub fn commit(tmp: &Path, path: &Path) -> Result<()> {
    File::open(tmp)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io(tmp, e))?;
    rename(tmp, path)
}

/// Renames `from` to `to` and syncs the folder, so that the rename itself is on disk.
pub fn rename(from: &Path, to: &Path) -> Result<()> {
    std::fs::rename(from, to).map_err(|e| Error::io(to, e))?;
    sync_dir(to.parent().unwrap_or(Path::new(".")))
}

/// Syncs a folder's entries (a no-op where folders cannot be opened, as on Windows).
pub fn sync_dir(dir: &Path) -> Result<()> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    match File::open(dir) {
        Ok(f) => f.sync_all().or_else(|e| {
            // Some file systems cannot sync a folder handle; the data are synced already.
            if e.kind() == std::io::ErrorKind::InvalidInput || e.raw_os_error() == Some(22) {
                Ok(())
            } else {
                Err(Error::io(dir, e))
            }
        }),
        Err(_) => Ok(()),
    }
}

/// Removes the temporary files that writes killed half-way left in `dir`.
pub fn remove_temporaries(dir: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for e in entries.flatten() {
        let p = e.path();
        if is_temporary(&e.file_name().to_string_lossy()) && p.is_file() {
            std::fs::remove_file(&p).map_err(|err| Error::io(&p, err))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_are_recognised_and_keep_plot_extensions() {
        let t = tmp_path(Path::new("/r/checkpoint.safetensors"));
        assert_eq!(t, Path::new("/r/checkpoint.safetensors.tmp"));
        assert_eq!(
            tmp_path(Path::new("a/curves.png")),
            Path::new("a/curves.tmp.png")
        );
        for p in [t, tmp_path(Path::new("a/curves.svg"))] {
            assert!(is_temporary(&p.file_name().unwrap().to_string_lossy()));
        }
        assert!(!is_temporary("curves.png"));
    }

    #[test]
    fn a_write_replaces_the_file_and_leaves_no_temporary() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x.json");
        write(&p, "one").unwrap();
        write(&p, "two").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "two");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }
}

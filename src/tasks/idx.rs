//! MNIST-format (IDX) datasets from a folder: Fashion-MNIST from the Debian package
//! `dataset-fashion-mnist`, or MNIST/KMNIST files a user supplies. Gzipped or raw files.
//!
//! Format: a big-endian u32 magic (2051 images, 2049 labels), the item count, then (images)
//! rows and columns, then u8 data.

use super::Dataset;
use crate::error::{Error, Result};
use flate2::read::GzDecoder;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Where the Debian package `dataset-fashion-mnist` installs its files.
pub const FASHION_MNIST_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// Finds `stem` (e.g. `train-images-idx3-ubyte`) in `dir`, gzipped or not.
fn locate(dir: &Path, stem: &str) -> Result<PathBuf> {
    for name in [format!("{stem}.gz"), stem.to_string()] {
        let p = dir.join(&name);
        if p.is_file() {
            return Ok(p);
        }
    }
    Err(Error::data(dir.join(stem), "file not found (looked for it with and without .gz)"))
}

fn read_all(path: &Path) -> Result<Vec<u8>> {
    let raw = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| Error::data(path, format!("corrupt or truncated gzip data ({e})")))?;
        Ok(out)
    } else {
        Ok(raw)
    }
}

fn be_u32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().unwrap())
}

/// Reads an IDX file, checking its magic number and that its length matches its header.
/// Returns (dimensions, data).
fn read_idx(path: &Path, magic: u32) -> Result<(Vec<usize>, Vec<u8>)> {
    let b = read_all(path)?;
    let ndim = if magic == 2051 { 3 } else { 1 };
    let header = 4 + 4 * ndim;
    if b.len() < header {
        return Err(Error::data(path, format!("truncated: {} bytes, shorter than the header", b.len())));
    }
    if be_u32(&b, 0) != magic {
        return Err(Error::data(
            path,
            format!("not an IDX {} file (magic {} instead of {magic})",
                if magic == 2051 { "image" } else { "label" }, be_u32(&b, 0)),
        ));
    }
    let dims: Vec<usize> = (0..ndim).map(|i| be_u32(&b, 4 + 4 * i) as usize).collect();
    let want: usize = dims.iter().product();
    if b.len() - header != want {
        return Err(Error::data(
            path,
            format!("truncated or oversized: header says {want} data bytes, file has {}", b.len() - header),
        ));
    }
    Ok((dims, b[header..].to_vec()))
}

/// Loads one split (`train` or `t10k`) with pixels scaled to [0, 1].
pub fn load_split(dir: &Path, split: &str) -> Result<Dataset> {
    if !dir.is_dir() {
        return Err(Error::data(dir, "data folder does not exist (pass --data-dir with IDX files)"));
    }
    let ip = locate(dir, &format!("{split}-images-idx3-ubyte"))?;
    let lp = locate(dir, &format!("{split}-labels-idx1-ubyte"))?;
    let (idims, pixels) = read_idx(&ip, 2051)?;
    let (ldims, labels) = read_idx(&lp, 2049)?;
    if idims[0] != ldims[0] {
        return Err(Error::data(&lp, format!("{} labels for {} images", ldims[0], idims[0])));
    }
    let classes = labels.iter().copied().max().map_or(0, |m| m as usize + 1);
    Ok(Dataset {
        x: pixels.iter().map(|&p| p as f32 / 255.0).collect(),
        y: labels.iter().map(|&l| l as u32).collect(),
        dim: idims[1] * idims[2],
        classes,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Writes a tiny IDX pair into `dir` (used by tests of the loader and of `geoplast train`).
    pub fn write_tiny(dir: &Path, split: &str, n: usize) {
        let mut img = vec![0, 0, 8, 3];
        for v in [n as u32, 2, 2] {
            img.extend_from_slice(&v.to_be_bytes());
        }
        img.extend((0..n * 4).map(|i| (i * 37 % 256) as u8));
        let mut lab = vec![0, 0, 8, 1];
        lab.extend_from_slice(&(n as u32).to_be_bytes());
        lab.extend((0..n).map(|i| (i % 3) as u8));
        std::fs::write(dir.join(format!("{split}-images-idx3-ubyte")), img).unwrap();
        std::fs::write(dir.join(format!("{split}-labels-idx1-ubyte")), lab).unwrap();
    }

    #[test]
    fn reads_raw_files_and_rejects_truncated_ones() {
        let d = tempfile::tempdir().unwrap();
        write_tiny(d.path(), "train", 5);
        let ds = load_split(d.path(), "train").unwrap();
        assert_eq!((ds.len(), ds.dim, ds.classes), (5, 4, 3));
        assert_eq!(ds.x[1], 37.0 / 255.0);
        let p = d.path().join("train-images-idx3-ubyte");
        let b = std::fs::read(&p).unwrap();
        std::fs::write(&p, &b[..b.len() - 3]).unwrap();
        let err = load_split(d.path(), "train").unwrap_err().to_string();
        assert!(err.contains("truncated"), "{err}");
        let err = load_split(&d.path().join("nope"), "train").unwrap_err().to_string();
        assert!(err.contains("does not exist"), "{err}");
    }

    #[test]
    fn reads_fashion_mnist_when_installed() {
        let dir = Path::new(FASHION_MNIST_DIR);
        if !dir.is_dir() {
            eprintln!("skipped: {FASHION_MNIST_DIR} not installed (apt-get install dataset-fashion-mnist)");
            return;
        }
        let test = load_split(dir, "t10k").unwrap();
        assert_eq!((test.len(), test.dim, test.classes), (10_000, 784, 10));
        let mean = test.x.iter().map(|&v| v as f64).sum::<f64>() / test.x.len() as f64;
        assert!((mean - 0.286).abs() < 0.01, "pixel mean {mean}");
    }
}

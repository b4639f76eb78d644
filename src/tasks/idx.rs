//! MNIST-format (IDX) datasets from a folder: Fashion-MNIST from the Debian package
//! `dataset-fashion-mnist`, or MNIST/KMNIST files a user supplies. Gzipped or raw files.
//!
//! Format: a big-endian magic `0x00 0x00 TYPE NDIM` (u8 images 2051, labels 2049; float32
//! images, type 0x0D, are accepted too), the dimensions as big-endian u32, then the data.

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
    Err(Error::data(
        dir.join(stem),
        "file not found (looked for it with and without .gz)",
    ))
}

const U8: u8 = 0x08;
const F32: u8 = 0x0D;

/// Reads an IDX file with `ndim` dimensions (gzipped or not): see [`parse_idx`].
fn read_idx(path: &Path, ndim: usize, what: &str) -> Result<(Vec<usize>, Vec<f32>, bool)> {
    let raw = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse_idx(&raw, ndim, what).map_err(|m| Error::data(path, m))
}

/// Parses IDX bytes (gzipped or not) with `ndim` dimensions, checking the magic number and that
/// the data length equals what the header announces (checked arithmetic, compared before any
/// allocation; decompression stops one byte past the announced length, so a gzip bomb costs no
/// more than the header claims). Returns (dimensions, values, whether the values were u8).
pub fn parse_idx(
    raw: &[u8],
    ndim: usize,
    what: &str,
) -> std::result::Result<(Vec<usize>, Vec<f32>, bool), String> {
    let gz = raw.starts_with(&[0x1f, 0x8b]);
    let mut reader: Box<dyn Read + '_> = if gz {
        Box::new(GzDecoder::new(raw))
    } else {
        Box::new(raw)
    };
    let gz_err = |e: std::io::Error| format!("corrupt or truncated gzip data ({e})");
    let mut header = vec![0u8; 4 + 4 * ndim];
    let mut got = 0;
    while got < header.len() {
        match reader.read(&mut header[got..]).map_err(gz_err)? {
            0 => return Err(format!("truncated: {got} bytes, shorter than the header")),
            k => got += k,
        }
    }
    let be_u32 = |at: usize| {
        u32::from_be_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
    };
    let (ty, nd) = (header[2], header[3] as usize);
    if header[0] != 0 || header[1] != 0 || nd != ndim || !(ty == U8 || (ty == F32 && ndim == 3)) {
        return Err(format!(
            "not an IDX {what} file (magic {}; expected {} with u8{} data)",
            be_u32(0),
            if ndim == 3 { 2051 } else { 2049 },
            if ndim == 3 { " or float32" } else { "" }
        ));
    }
    let dims: Vec<usize> = (0..ndim).map(|i| be_u32(4 + 4 * i) as usize).collect();
    let width = if ty == F32 { 4 } else { 1 };
    let want = dims
        .iter()
        .try_fold(width, |a: usize, &d| a.checked_mul(d))
        .ok_or_else(|| {
            format!("the header announces {dims:?} values, more than this machine can address")
        })?;
    let data: std::borrow::Cow<[u8]> = if gz {
        let mut out = Vec::new();
        reader
            .take(want as u64 + 1)
            .read_to_end(&mut out)
            .map_err(gz_err)?;
        out.into()
    } else {
        raw[header.len()..].into()
    };
    if data.len() != want {
        return Err(format!(
            "truncated or oversized: header says {want} data bytes, file has {}{}",
            if data.len() > want { "more than " } else { "" },
            data.len().min(want)
        ));
    }
    let values = if ty == F32 {
        data.chunks_exact(4)
            .map(|c| f32::from_be_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    } else {
        data.iter().map(|&v| v as f32).collect()
    };
    Ok((dims, values, ty == U8))
}

/// Loads one split (`train` or `t10k`); u8 pixels are scaled to [0, 1], float32 images are
/// taken as they are.
pub fn load_split(dir: &Path, split: &str) -> Result<Dataset> {
    if !dir.is_dir() {
        return Err(Error::data(
            dir,
            "data folder does not exist (pass --data-dir with IDX files)",
        ));
    }
    let ip = locate(dir, &format!("{split}-images-idx3-ubyte"))?;
    let lp = locate(dir, &format!("{split}-labels-idx1-ubyte"))?;
    let (idims, pixels, bytes) = read_idx(&ip, 3, "image")?;
    let (ldims, labels, _) = read_idx(&lp, 1, "label")?;
    let scale = if bytes { 1.0 / 255.0 } else { 1.0 };
    if idims[0] != ldims[0] {
        return Err(Error::data(
            &lp,
            format!("{} labels for {} images", ldims[0], idims[0]),
        ));
    }
    let dim = idims[1] * idims[2];
    if dim == 0 {
        return Err(Error::data(
            &ip,
            format!(
                "the images have 0 pixels ({} × {}): there is nothing to learn from",
                idims[1], idims[2]
            ),
        ));
    }
    let classes = labels.iter().map(|&l| l as usize + 1).max().unwrap_or(0);
    Ok(Dataset {
        x: pixels.iter().map(|&p| p * scale).collect(),
        y: labels.iter().map(|&l| l as u32).collect(),
        dim,
        classes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_tiny(dir: &Path, split: &str, n: usize) {
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
        let err = load_split(&d.path().join("nope"), "train")
            .unwrap_err()
            .to_string();
        assert!(err.contains("does not exist"), "{err}");
    }

    #[test]
    fn reads_fashion_mnist_when_installed() {
        let dir = Path::new(FASHION_MNIST_DIR);
        if !dir.is_dir() {
            eprintln!(
                "skipped: {FASHION_MNIST_DIR} not installed (apt-get install dataset-fashion-mnist)"
            );
            return;
        }
        let test = load_split(dir, "t10k").unwrap();
        assert_eq!((test.len(), test.dim, test.classes), (10_000, 784, 10));
        let mean = test.x.iter().map(|&v| v as f64).sum::<f64>() / test.x.len() as f64;
        assert!((mean - 0.286).abs() < 0.01, "pixel mean {mean}");
    }
}

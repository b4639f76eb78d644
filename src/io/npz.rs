//! Writing `.npz` archives (NumPy's `savez` layout: uncompressed `.npy` members in a zip), so
//! that data geoplast generates loads with `np.load` directly.

use crate::error::{Error, Result};
use crate::io::durable;
use std::io::Write;
use std::path::Path;

/// One array: NumPy's dtype string (`<f4`, `<i8`, `<i4`, `|b1`), its shape and its
/// little-endian bytes.
pub struct Member<'a> {
    pub name: &'a str,
    pub descr: &'a str,
    pub shape: &'a [usize],
    pub bytes: Vec<u8>,
}

/// Strings as NumPy's fixed-width unicode (`<U{n}`, UTF-32): the dtype and the bytes.
pub fn text(v: &[String]) -> (String, Vec<u8>) {
    let width = v
        .iter()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(1)
        .max(1);
    let mut bytes = Vec::with_capacity(v.len() * width * 4);
    for n in v {
        let mut c: Vec<u32> = n.chars().map(|c| c as u32).collect();
        c.resize(width, 0);
        bytes.extend(c.iter().flat_map(|x| x.to_le_bytes()));
    }
    (format!("<U{width}"), bytes)
}

/// A version-1 `.npy` header for `descr` and `shape`, padded to 64 bytes.
fn header(descr: &str, shape: &[usize]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut h = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + h.len() + 1) % 64 != 0 {
        h.push(' ');
    }
    h.push('\n');
    let mut b = b"\x93NUMPY\x01\x00".to_vec();
    b.extend_from_slice(&(h.len() as u16).to_le_bytes());
    b.extend_from_slice(h.as_bytes());
    b
}

/// Writes the members to `path` (under a temporary name, renamed when complete).
pub fn write(path: &Path, members: &[Member]) -> Result<()> {
    let tmp = durable::tmp_path(path);
    let fail = |e: &dyn std::fmt::Display| Error::data(path, format!("could not write: {e}"));
    let file = std::fs::File::create(&tmp).map_err(|e| fail(&e))?;
    let mut z = zip::ZipWriter::new(std::io::BufWriter::new(file));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(true);
    for m in members {
        z.start_file(format!("{}.npy", m.name), opts)
            .map_err(|e| fail(&e))?;
        z.write_all(&header(m.descr, m.shape))
            .and_then(|_| z.write_all(&m.bytes))
            .map_err(|e| fail(&e))?;
    }
    z.finish()
        .map_err(|e| fail(&e))?
        .flush()
        .map_err(|e| fail(&e))?;
    durable::commit(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_through_the_npz_reader() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a.npz");
        let x: Vec<u8> = [1.5f32, -2.0, 3.25, 0.0, 1.0, 2.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let y: Vec<u8> = [7i64, 9].iter().flat_map(|v| v.to_le_bytes()).collect();
        write(
            &p,
            &[
                Member {
                    name: "x",
                    descr: "<f4",
                    shape: &[1, 2, 3],
                    bytes: x,
                },
                Member {
                    name: "y",
                    descr: "<i8",
                    shape: &[2],
                    bytes: y,
                },
            ],
        )
        .unwrap();
        let all = crate::io::weights::read_npz_all(&p).unwrap();
        assert_eq!(all["x"].shape, vec![1, 2, 3]);
        assert_eq!(all["x"].data, vec![1.5, -2.0, 3.25, 0.0, 1.0, 2.0]);
        assert_eq!(all["y"].data, vec![7.0, 9.0]);
    }
}

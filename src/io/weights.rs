//! Weight tables users actually have: CSV (one or more columns, header optional), `.npy` and
//! `.npz` (1-D vectors or 2-D synapses × sessions), and `.safetensors` (named tensors, e.g. a
//! PyTorch model's `state_dict`). Everything becomes a synapses × columns table of f64.

use crate::error::{Error, Result};
use safetensors::tensor::{Dtype, SafeTensors};
use std::io::Read;
use std::path::Path;

/// A synapses × sessions table, stored by column: the paired test takes whole sessions, and
/// at 10⁷ synapses a row-major copy plus column gathers cost more than the statistics.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub rows: usize,
    pub columns: Vec<Vec<f64>>,
}

impl Table {
    pub fn cols(&self) -> usize {
        self.columns.len()
    }
    pub fn column(&self, j: usize) -> &[f64] {
        &self.columns[j]
    }
}

/// Reads a CSV, `.npy` or `.npz` table; `file.npz:name` picks an array of an archive.
pub fn read_table(spec: &str) -> Result<Table> {
    let (path, member) = match spec.rsplit_once(':') {
        Some((p, m)) if p.ends_with(".npz") => (Path::new(p), Some(m)),
        _ => (Path::new(spec), None),
    };
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let table = match ext.as_str() {
        "npy" => parse_npy(&std::fs::read(path).map_err(|e| Error::io(path, e))?, path)?,
        "npz" => read_npz(path, member)?,
        "csv" | "txt" | "tsv" => parse_csv(
            &std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?,
            path,
        )?,
        _ => {
            return Err(Error::data(
                path,
                "unknown file type: expected .csv, .npy, .npz (or .safetensors with --before/--after)",
            ));
        }
    };
    if table.rows == 0 {
        return Err(Error::data(path, "the file holds no values"));
    }
    if let Some(i) = table
        .columns
        .iter()
        .filter_map(|c| c.iter().position(|v| !v.is_finite()))
        .min()
    {
        return Err(Error::data(
            path,
            format!("row {i} holds a NaN or infinite value"),
        ));
    }
    Ok(table)
}

/// CSV with comma, semicolon, tab or space separators; a first line that does not parse as
/// numbers is a header.
pub fn parse_csv(text: &str, path: &Path) -> Result<Table> {
    let mut columns: Vec<Vec<f64>> = Vec::new();
    let mut rows = 0;
    for (ln, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line
            .split([',', ';', '\t', ' '])
            .filter(|f| !f.is_empty())
            .collect();
        let parsed: std::result::Result<Vec<f64>, _> = fields
            .iter()
            .map(|f| f.trim_matches('"').parse::<f64>())
            .collect();
        let values = match parsed {
            Ok(v) => v,
            Err(_) if rows == 0 => continue, // header
            Err(_) => {
                return Err(Error::data(
                    path,
                    format!("line {}: not a number in {line:?}", ln + 1),
                ));
            }
        };
        if rows == 0 {
            columns = vec![Vec::new(); values.len()];
        } else if values.len() != columns.len() {
            return Err(Error::data(
                path,
                format!(
                    "line {}: {} columns, earlier lines have {}",
                    ln + 1,
                    values.len(),
                    columns.len()
                ),
            ));
        }
        for (c, v) in columns.iter_mut().zip(values) {
            c.push(v);
        }
        rows += 1;
    }
    if columns.is_empty() {
        columns.push(Vec::new());
    }
    Ok(Table { rows, columns })
}

fn header_field<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let start = header.find(&format!("'{key}'"))? + key.len() + 2;
    let rest = header[start..].trim_start().strip_prefix(':')?.trim_start();
    Some(rest)
}

/// A `.npy` array (format versions 1–3) of floats or integers, 1-D or 2-D.
pub fn parse_npy(b: &[u8], path: &Path) -> Result<Table> {
    if b.len() < 10 || &b[..6] != b"\x93NUMPY" {
        return Err(Error::data(path, "not a .npy file (bad magic)"));
    }
    let (hlen, start) = if b[6] == 1 {
        (u16::from_le_bytes([b[8], b[9]]) as usize, 10)
    } else {
        if b.len() < 12 {
            return Err(Error::data(path, "truncated .npy header"));
        }
        (u32::from_le_bytes([b[8], b[9], b[10], b[11]]) as usize, 12)
    };
    let header = std::str::from_utf8(
        b.get(start..start + hlen)
            .ok_or_else(|| Error::data(path, "truncated .npy header"))?,
    )
    .map_err(|_| Error::data(path, "unreadable .npy header"))?;
    let descr = header_field(header, "descr")
        .and_then(|r| r.strip_prefix('\''))
        .and_then(|r| r.split('\'').next())
        .ok_or_else(|| Error::data(path, "the .npy header has no dtype"))?;
    let fortran = header_field(header, "fortran_order").is_some_and(|r| r.starts_with("True"));
    let shape_txt = header_field(header, "shape")
        .and_then(|r| r.strip_prefix('('))
        .and_then(|r| r.split(')').next())
        .ok_or_else(|| Error::data(path, "the .npy header has no shape"))?;
    let shape: Vec<usize> = shape_txt
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse()
                .map_err(|_| Error::data(path, format!("bad shape ({shape_txt})")))
        })
        .collect::<Result<_>>()?;
    let (rows, cols) = match shape[..] {
        [n] => (n, 1),
        [n, m] => (n, m),
        _ => {
            return Err(Error::data(
                path,
                format!("expected a 1-D or 2-D array, got shape {shape:?}"),
            ));
        }
    };
    let big = descr.starts_with('>');
    let kind = &descr[1..];
    let width: usize = kind[1..]
        .parse()
        .map_err(|_| Error::data(path, format!("unsupported dtype {descr}")))?;
    let body = &b[start + hlen..];
    let n = rows * cols;
    if body.len() < n * width {
        return Err(Error::data(
            path,
            format!(
                "truncated: the header announces {n} values, the file holds {}",
                body.len() / width.max(1)
            ),
        ));
    }
    // Each column decoded straight from the file bytes, once per dtype (a closure per value,
    // allocating, was the slow part of 10⁷ pairs). Element (i, j) is at i·cols + j in C order,
    // j·rows + i in Fortran order.
    fn decode<const W: usize>(
        body: &[u8],
        (rows, cols, fortran): (usize, usize, bool),
        big: bool,
        f: fn([u8; W]) -> f64,
    ) -> Vec<Vec<f64>> {
        let at = |k: usize| {
            let mut b: [u8; W] = body[k * W..k * W + W].try_into().unwrap();
            if big {
                b.reverse();
            }
            f(b)
        };
        (0..cols)
            .map(|j| {
                if fortran || cols == 1 {
                    (j * rows..(j + 1) * rows).map(at).collect()
                } else {
                    (0..rows).map(|i| at(i * cols + j)).collect()
                }
            })
            .collect()
    }
    let shape = (rows, cols, fortran);
    let columns = match (kind.as_bytes()[0], width) {
        (b'f', 8) => decode::<8>(body, shape, big, f64::from_le_bytes),
        (b'f', 4) => decode::<4>(body, shape, big, |b| f32::from_le_bytes(b) as f64),
        (b'i', 8) => decode::<8>(body, shape, big, |b| i64::from_le_bytes(b) as f64),
        (b'i', 4) => decode::<4>(body, shape, big, |b| i32::from_le_bytes(b) as f64),
        (b'i', 2) => decode::<2>(body, shape, big, |b| i16::from_le_bytes(b) as f64),
        (b'i', 1) => decode::<1>(body, shape, big, |b| b[0] as i8 as f64),
        (b'u', 8) => decode::<8>(body, shape, big, |b| u64::from_le_bytes(b) as f64),
        (b'u', 4) => decode::<4>(body, shape, big, |b| u32::from_le_bytes(b) as f64),
        (b'u', 2) => decode::<2>(body, shape, big, |b| u16::from_le_bytes(b) as f64),
        (b'u', 1) => decode::<1>(body, shape, big, |b| b[0] as f64),
        _ => return Err(Error::data(path, format!("unsupported dtype {descr}"))),
    };
    Ok(Table { rows, columns })
}

fn read_npz(path: &Path, member: Option<&str>) -> Result<Table> {
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut z = zip::ZipArchive::new(f)
        .map_err(|e| Error::data(path, format!("not a readable .npz archive: {e}")))?;
    let names: Vec<String> = z
        .file_names()
        .filter_map(|n| n.ok().map(|n| n.to_string()))
        .collect();
    let want = match member {
        Some(m) => format!("{}.npy", m.trim_end_matches(".npy")),
        None => names
            .iter()
            .find(|n| n.ends_with(".npy"))
            .cloned()
            .ok_or_else(|| Error::data(path, "the archive holds no arrays"))?,
    };
    let mut entry = z.by_name(&want).map_err(|_| {
        Error::data(
            path,
            format!(
                "no array {want:?} in the archive (it has {})",
                names.join(", ")
            ),
        )
    })?;
    let mut b = Vec::new();
    entry
        .read_to_end(&mut b)
        .map_err(|e| Error::data(path, format!("corrupt archive member {want}: {e}")))?;
    parse_npy(&b, path)
}

/// `*` matches any run of characters.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == name,
        Some((head, tail)) => {
            name.starts_with(head)
                && (0..=name.len() - head.len()).any(|k| glob_match(tail, &name[head.len() + k..]))
        }
    }
}

/// A named tensor as read: (name, shape, values).
type NamedTensor = (String, Vec<usize>, Vec<f64>);

/// The selected tensors of two safetensors files, paired by name.
pub struct TensorPairs {
    pub before: Vec<f64>,
    pub after: Vec<f64>,
    /// Names of the tensors used, in order.
    pub used: Vec<String>,
    /// Selected names present in only one of the files.
    pub unpaired: Vec<String>,
}

/// All selected tensors of two safetensors files, paired by name.
pub fn read_safetensors_pair(
    before: &Path,
    after: &Path,
    include: &[String],
    exclude: &[String],
) -> Result<TensorPairs> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| Error::io(p, e));
    let (b0, b1) = (read(before)?, read(after)?);
    let parse = |b: &[u8], p: &Path| -> Result<Vec<NamedTensor>> {
        let st = SafeTensors::deserialize(b)
            .map_err(|e| Error::data(p, format!("not a valid safetensors file: {e}")))?;
        st.tensors()
            .into_iter()
            .map(|(name, v)| {
                let d = v.data();
                let vals: Vec<f64> = match v.dtype() {
                    Dtype::F64 => d
                        .chunks_exact(8)
                        .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
                        .collect(),
                    Dtype::F32 => d
                        .chunks_exact(4)
                        .map(|c| f32::from_le_bytes(c.try_into().unwrap()) as f64)
                        .collect(),
                    Dtype::BF16 => d
                        .chunks_exact(2)
                        .map(|c| {
                            f32::from_bits((u16::from_le_bytes([c[0], c[1]]) as u32) << 16) as f64
                        })
                        .collect(),
                    Dtype::F16 => d
                        .chunks_exact(2)
                        .map(|c| f16_to_f64(u16::from_le_bytes([c[0], c[1]])))
                        .collect(),
                    other => {
                        return Err(Error::data(
                            p,
                            format!(
                                "tensor {name} has dtype {other:?}; only float tensors are weights"
                            ),
                        ));
                    }
                };
                Ok((name, v.shape().to_vec(), vals))
            })
            .collect()
    };
    let (t0, t1) = (parse(&b0, before)?, parse(&b1, after)?);
    let selected = |n: &str| {
        (include.is_empty() || include.iter().any(|p| glob_match(p, n)))
            && !exclude.iter().any(|p| glob_match(p, n))
    };
    let (mut w0, mut w1, mut used, mut unpaired) = (vec![], vec![], vec![], vec![]);
    let mut sorted = t0.clone();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, shape, v0) in sorted.iter().filter(|t| selected(&t.0)) {
        match t1.iter().find(|t| &t.0 == name) {
            Some((_, s1, v1)) if s1 == shape => {
                w0.extend_from_slice(v0);
                w1.extend_from_slice(v1);
                used.push(name.clone());
            }
            Some((_, s1, _)) => {
                return Err(Error::data(
                    after,
                    format!(
                        "tensor {name} has shape {s1:?} here but {shape:?} in {}",
                        before.display()
                    ),
                ));
            }
            None => unpaired.push(name.clone()),
        }
    }
    unpaired.extend(
        t1.iter()
            .filter(|t| selected(&t.0) && !t0.iter().any(|u| u.0 == t.0))
            .map(|t| t.0.clone()),
    );
    if used.is_empty() {
        return Err(Error::data(
            before,
            "no tensor is selected and present in both files (check --include/--exclude)",
        ));
    }
    Ok(TensorPairs {
        before: w0,
        after: w1,
        used,
        unpaired,
    })
}

fn f16_to_f64(h: u16) -> f64 {
    let s = if h >> 15 == 1 { -1.0 } else { 1.0 };
    let e = ((h >> 10) & 0x1f) as i32;
    let m = (h & 0x3ff) as f64;
    s * match e {
        0 => m * 2f64.powi(-24),
        31 => {
            if m == 0.0 {
                f64::INFINITY
            } else {
                f64::NAN
            }
        }
        _ => (1.0 + m / 1024.0) * 2f64.powi(e - 15),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(descr: &str, shape: &str, body: &[u8]) -> Vec<u8> {
        let mut h = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
        while (10 + h.len() + 1) % 64 != 0 {
            h.push(' ');
        }
        h.push('\n');
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend_from_slice(&(h.len() as u16).to_le_bytes());
        b.extend_from_slice(h.as_bytes());
        b.extend_from_slice(body);
        b
    }

    #[test]
    fn npy_2d_f8_and_1d_f4() {
        let body: Vec<u8> = [1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let t = parse_npy(&npy("<f8", "(3, 2)", &body), Path::new("x.npy")).unwrap();
        assert_eq!((t.rows, t.cols()), (3, 2));
        assert_eq!(t.column(1), vec![2.0, 4.0, 6.0]);
        // The same bytes in Fortran order are the columns one after the other.
        let mut fortran = npy("<f8", "(3, 2)", &body);
        let at = fortran.windows(5).position(|w| w == b"False").unwrap();
        fortran[at..at + 5].copy_from_slice(b"True ");
        let t = parse_npy(&fortran, Path::new("x.npy")).unwrap();
        assert_eq!(t.columns, vec![vec![1.0, 2.0, 3.0], vec![4.0, 5.0, 6.0]]);
        let body: Vec<u8> = [0.5f32, -1.5]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let t = parse_npy(&npy("<f4", "(2,)", &body), Path::new("x.npy")).unwrap();
        assert_eq!(t.columns, vec![vec![0.5, -1.5]]);
        let err = parse_npy(&npy("<f8", "(4,)", &body), Path::new("x.npy"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("truncated"), "{err}");
    }

    #[test]
    fn csv_with_and_without_header() {
        let t = parse_csv("before,after\n1,2\n3,4\n", Path::new("x.csv")).unwrap();
        assert_eq!(
            (t.rows, t.columns.clone()),
            (2, vec![vec![1.0, 3.0], vec![2.0, 4.0]])
        );
        let t = parse_csv("0.5\n-1e-3\n", Path::new("x.csv")).unwrap();
        assert_eq!((t.rows, t.cols()), (2, 1));
        let err = parse_csv("1,2\n3\n", Path::new("x.csv"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2: 1 columns"), "{err}");
        let err = parse_csv("1,2\n3,x\n", Path::new("x.csv"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a number"), "{err}");
    }

    #[test]
    fn globs() {
        assert!(glob_match("*fc*", "model.fc.weight"));
        assert!(glob_match("layers.*.weight", "layers.3.weight"));
        assert!(!glob_match("layers.*.weight", "layers.3.bias"));
        assert!(glob_match("*", ""));
    }

    #[test]
    fn f16_values() {
        assert_eq!(f16_to_f64(0x3c00), 1.0);
        assert_eq!(f16_to_f64(0xc000), -2.0);
        assert_eq!(f16_to_f64(0x0001), 2f64.powi(-24));
    }
}

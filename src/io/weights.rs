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

/// What to do with missing values (blank CSV cells, `NA`, `NaN`): refuse the file (the default),
/// or keep them as NaN so that the caller drops the synapses that have one (`--missing drop`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Missing {
    #[default]
    Error,
    Drop,
}

impl Table {
    /// Removes the synapses (rows) with a missing value (NaN) in any column; returns how many.
    pub fn drop_missing_rows(&mut self) -> usize {
        let keep: Vec<bool> = (0..self.rows)
            .map(|i| self.columns.iter().all(|c| !c[i].is_nan()))
            .collect();
        for c in &mut self.columns {
            let mut k = keep.iter();
            c.retain(|_| *k.next().expect("one flag per row"));
        }
        let dropped = keep.iter().filter(|k| !**k).count();
        self.rows -= dropped;
        dropped
    }
}

/// Reads a CSV, `.npy` or `.npz` table; `file.npz:name` picks an array of an archive. Missing
/// values are an error unless `missing` is [`Missing::Drop`] (they are then NaN in the table);
/// infinite values are always an error.
pub fn read_table(spec: &Path, missing: Missing) -> Result<Table> {
    // The path is used as given (a file name need not be UTF-8); `:member` only in UTF-8 ones.
    let (path, member) = match spec.to_str().and_then(|s| s.rsplit_once(':')) {
        Some((p, m)) if p.ends_with(".npz") => (Path::new(p), Some(m)),
        _ => (spec, None),
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
    // Column by column (the table's layout), one pass: the first row with a non-finite value.
    let first_bad = table
        .columns
        .iter()
        .filter_map(|c| c.iter().position(|v| !v.is_finite()))
        .min();
    if let Some(i) = first_bad {
        let infinite = (i..table.rows).find(|&r| table.columns.iter().any(|c| c[r].is_infinite()));
        if let Some(r) = infinite {
            return Err(Error::data(
                path,
                format!("row {r} holds an infinite value"),
            ));
        }
        if missing == Missing::Error {
            return Err(Error::data(
                path,
                format!(
                    "row {i} holds a missing value (NaN, NA or an empty cell): fill it in, or \
                     pass --missing drop to drop the synapses that have one"
                ),
            ));
        }
    }
    Ok(table)
}

/// Cells that mean "no value": read as NaN, refused or dropped by [`read_table`].
fn is_missing(cell: &str) -> bool {
    cell.is_empty()
        || ["na", "n/a", "nan", "null", "none"]
            .iter()
            .any(|m| cell.eq_ignore_ascii_case(m))
}

/// `0,368`: a number written with a decimal comma.
fn decimal_comma(cell: &str) -> bool {
    cell.split_once(',').is_some_and(|(a, b)| {
        !a.is_empty() && !b.is_empty() && format!("{a}.{b}").parse::<f64>().is_ok()
    })
}

/// Reads one cell: a number, NaN for a missing value, or an error naming the line and column.
fn cell_value(cell: &str, line: u64, col: usize) -> std::result::Result<f64, String> {
    if is_missing(cell) {
        return Ok(f64::NAN);
    }
    cell.parse::<f64>().map_err(|_| {
        format!(
            "line {line}, column {col}: not a number: {cell:?}{}",
            if decimal_comma(cell) {
                " (a decimal comma? write numbers with a decimal point, e.g. 0.368)"
            } else {
                ""
            }
        )
    })
}

/// CSV (comma, semicolon or tab separated, read with the `csv` crate, quoted fields allowed) or a
/// whitespace-separated text table; `#` starts a comment line. The separator is the first of tab,
/// semicolon and comma found on the first line. The first row is a header only when none of its
/// fields is a number, so a typo in the first data row is reported, not skipped.
pub fn parse_csv(text: &str, path: &Path) -> Result<Table> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .unwrap_or("");
    let sep = ['\t', ';', ','].into_iter().find(|c| first.contains(*c));
    // Records are consumed one at a time (10⁷ rows must not be held as strings), each field
    // trimmed; the first record may be a header.
    fn record<'a>(
        columns: &mut Vec<Vec<f64>>,
        header_possible: &mut bool,
        line: u64,
        fields: impl Iterator<Item = &'a str> + Clone,
        path: &Path,
    ) -> Result<()> {
        let fields = fields.map(str::trim);
        if std::mem::take(header_possible) {
            let number = |c: &str| c.parse::<f64>().is_ok() || decimal_comma(c);
            if !fields.clone().any(number) && !fields.clone().all(is_missing) {
                return Ok(()); // a header
            }
        }
        let n = fields.clone().count();
        if columns.is_empty() {
            *columns = vec![Vec::new(); n];
        } else if n != columns.len() {
            return Err(Error::data(
                path,
                format!(
                    "line {line}: {n} columns, earlier lines have {}",
                    columns.len()
                ),
            ));
        }
        for (j, (c, cell)) in columns.iter_mut().zip(fields).enumerate() {
            c.push(cell_value(cell, line, j + 1).map_err(|m| Error::data(path, m))?);
        }
        Ok(())
    }
    let (mut columns, mut header_possible) = (Vec::new(), true);
    match sep {
        Some(sep) => {
            let mut r = csv::ReaderBuilder::new()
                .has_headers(false)
                .delimiter(sep as u8)
                .flexible(true)
                .comment(Some(b'#'))
                .from_reader(text.as_bytes());
            let mut rec = csv::StringRecord::new();
            while r
                .read_record(&mut rec)
                .map_err(|e| Error::data(path, format!("unreadable CSV: {e}")))?
            {
                if rec.iter().all(|f| f.trim().is_empty()) {
                    continue;
                }
                let line = rec.position().map_or(0, |p| p.line());
                record(&mut columns, &mut header_possible, line, rec.iter(), path)?;
            }
        }
        None => {
            for (i, l) in text.lines().enumerate() {
                if l.trim().is_empty() || l.trim_start().starts_with('#') {
                    continue;
                }
                record(
                    &mut columns,
                    &mut header_possible,
                    i as u64 + 1,
                    l.split_whitespace(),
                    path,
                )?;
            }
        }
    }
    let rows = columns.first().map_or(0, Vec::len);
    if columns.is_empty() {
        columns.push(Vec::new());
    }
    Ok(Table { rows, columns })
}

fn header_field<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let start = header.find(&format!("'{key}'"))? + key.len() + 2;
    let rest = header
        .get(start..)?
        .trim_start()
        .strip_prefix(':')?
        .trim_start();
    Some(rest)
}

/// What a `.npy` header announces: where the data start and how they are laid out.
struct NpyLayout {
    /// Offset of the first data byte.
    start: usize,
    shape: Vec<usize>,
    fortran: bool,
    big_endian: bool,
    /// dtype kind (`f`, `i`, `u`) and width in bytes.
    kind: u8,
    width: usize,
    /// Data bytes the shape needs (checked arithmetic).
    bytes: usize,
}

/// Parses the header of a `.npy` file from its first bytes (format versions 1–3). Every size is
/// checked arithmetic on untrusted numbers; nothing is allocated from them.
fn npy_layout(b: &[u8]) -> std::result::Result<NpyLayout, String> {
    if b.len() < 10 || &b[..6] != b"\x93NUMPY" {
        return Err("not a .npy file (bad magic)".into());
    }
    let (hlen, start) = match b[6] {
        1 => (u16::from_le_bytes([b[8], b[9]]) as usize, 10),
        2 | 3 if b.len() >= 12 => (u32::from_le_bytes([b[8], b[9], b[10], b[11]]) as usize, 12),
        2 | 3 => return Err("truncated .npy header".into()),
        v => return Err(format!("unsupported .npy format version {v}")),
    };
    let header = std::str::from_utf8(
        b.get(start..start + hlen)
            .ok_or_else(|| "truncated .npy header".to_string())?,
    )
    .map_err(|_| "unreadable .npy header".to_string())?;
    let descr = header_field(header, "descr")
        .and_then(|r| r.strip_prefix('\''))
        .and_then(|r| r.split('\'').next())
        .ok_or_else(|| "the .npy header has no dtype".to_string())?;
    // A dtype is a byte order, a kind letter and a width in bytes: '<f8', '|u1', '>i4'.
    let unsupported = || format!("unsupported dtype {descr:?} (use float, int or uint data)");
    let d = descr.as_bytes();
    if d.len() < 3 || !descr.is_ascii() || !b"<>|=".contains(&d[0]) {
        return Err(unsupported());
    }
    let width: usize = descr[2..].parse().map_err(|_| unsupported())?;
    let kind = d[1];
    let ok = matches!(
        (kind, width),
        (b'f', 4 | 8) | (b'i' | b'u', 1 | 2 | 4 | 8) | (b'b', 1)
    );
    if !ok {
        return Err(unsupported());
    }
    let fortran = header_field(header, "fortran_order").is_some_and(|r| r.starts_with("True"));
    let shape_txt = header_field(header, "shape")
        .and_then(|r| r.strip_prefix('('))
        .and_then(|r| r.split(')').next())
        .ok_or_else(|| "the .npy header has no shape".to_string())?;
    let shape: Vec<usize> = shape_txt
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| format!("bad shape ({shape_txt})")))
        .collect::<std::result::Result<_, _>>()?;
    let bytes = shape
        .iter()
        .try_fold(width, |n, &d| n.checked_mul(d))
        .ok_or_else(|| {
            format!("the shape {shape:?} needs more bytes than this machine can address")
        })?;
    Ok(NpyLayout {
        start: start + hlen,
        shape,
        fortran,
        big_endian: d[0] == b'>',
        kind,
        width,
        bytes,
    })
}

/// A `.npy` array (format versions 1–3) of floats or integers, 1-D or 2-D.
pub fn parse_npy(b: &[u8], path: &Path) -> Result<Table> {
    let l = npy_layout(b).map_err(|m| Error::data(path, m))?;
    let (rows, cols) = match l.shape[..] {
        [n] => (n, 1),
        [n, m] => (n, m),
        _ => {
            return Err(Error::data(
                path,
                format!("expected a 1-D or 2-D array, got shape {:?}", l.shape),
            ));
        }
    };
    let body = npy_body(b, &l, path)?;
    let (fortran, big) = (l.fortran, l.big_endian);
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
    let columns = match (l.kind, l.width) {
        (b'f', 8) => decode::<8>(body, shape, big, f64::from_le_bytes),
        (b'f', 4) => decode::<4>(body, shape, big, |b| f32::from_le_bytes(b) as f64),
        (b'i', 8) => decode::<8>(body, shape, big, |b| i64::from_le_bytes(b) as f64),
        (b'i', 4) => decode::<4>(body, shape, big, |b| i32::from_le_bytes(b) as f64),
        (b'i', 2) => decode::<2>(body, shape, big, |b| i16::from_le_bytes(b) as f64),
        (b'i', 1) => decode::<1>(body, shape, big, |b| b[0] as i8 as f64),
        (b'u', 8) => decode::<8>(body, shape, big, |b| u64::from_le_bytes(b) as f64),
        (b'u', 4) => decode::<4>(body, shape, big, |b| u32::from_le_bytes(b) as f64),
        (b'u', 2) => decode::<2>(body, shape, big, |b| u16::from_le_bytes(b) as f64),
        (b'u' | b'b', 1) => decode::<1>(body, shape, big, |b| b[0] as f64),
        _ => unreachable!("npy_layout accepts only the dtypes decoded here"),
    };
    Ok(Table { rows, columns })
}

/// The data bytes of a `.npy` file whose header is `l`, refused when shorter than announced.
fn npy_body<'a>(b: &'a [u8], l: &NpyLayout, path: &Path) -> Result<&'a [u8]> {
    let body = &b[l.start.min(b.len())..];
    if body.len() < l.bytes {
        let values: usize = l.shape.iter().product();
        return Err(Error::data(
            path,
            format!(
                "truncated: the header announces {values} values, the file holds {}",
                body.len() / l.width
            ),
        ));
    }
    Ok(&body[..l.bytes])
}

/// An array of any rank, as read from a `.npy` file: its shape, whether it holds floats, and
/// its values (C order) as f64.
#[derive(Clone, Debug)]
pub struct NdArray {
    pub shape: Vec<usize>,
    pub float: bool,
    pub data: Vec<f64>,
}

/// A `.npy` file of any rank in C order (float, int, uint or bool).
pub fn parse_nd(b: &[u8], name: &str, path: &Path) -> Result<NdArray> {
    let l = npy_layout(b).map_err(|m| Error::data(path, format!("{name}: {m}")))?;
    if l.fortran && l.shape.len() > 1 {
        return Err(Error::data(
            path,
            format!(
                "{name} is stored in Fortran order: save it with np.ascontiguousarray(...) first"
            ),
        ));
    }
    let body = npy_body(b, &l, path)?;
    fn go<const W: usize>(body: &[u8], big: bool, f: fn([u8; W]) -> f64) -> Vec<f64> {
        body.chunks_exact(W)
            .map(|c| {
                let mut b: [u8; W] = c.try_into().expect("W bytes");
                if big {
                    b.reverse();
                }
                f(b)
            })
            .collect()
    }
    let big = l.big_endian;
    let data = match (l.kind, l.width) {
        (b'f', 8) => go::<8>(body, big, f64::from_le_bytes),
        (b'f', 4) => go::<4>(body, big, |b| f32::from_le_bytes(b) as f64),
        (b'i', 8) => go::<8>(body, big, |b| i64::from_le_bytes(b) as f64),
        (b'i', 4) => go::<4>(body, big, |b| i32::from_le_bytes(b) as f64),
        (b'i', 2) => go::<2>(body, big, |b| i16::from_le_bytes(b) as f64),
        (b'i', 1) => go::<1>(body, big, |b| b[0] as i8 as f64),
        (b'u', 8) => go::<8>(body, big, |b| u64::from_le_bytes(b) as f64),
        (b'u', 4) => go::<4>(body, big, |b| u32::from_le_bytes(b) as f64),
        (b'u', 2) => go::<2>(body, big, |b| u16::from_le_bytes(b) as f64),
        (b'u' | b'b', 1) => go::<1>(body, big, |b| b[0] as f64),
        _ => unreachable!("npy_layout accepts only the dtypes decoded here"),
    };
    Ok(NdArray {
        shape: l.shape,
        float: l.kind == b'f',
        data,
    })
}

/// Every array of an `.npz` archive by name (without `.npy`), any rank.
pub fn read_npz_all(path: &Path) -> Result<std::collections::BTreeMap<String, NdArray>> {
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut z = zip::ZipArchive::new(std::io::BufReader::new(f))
        .map_err(|e| Error::data(path, format!("not a readable .npz archive: {e}")))?;
    let names: Vec<String> = z
        .file_names()
        .filter_map(|n| n.ok().map(|n| n.to_string()))
        .filter(|n| n.ends_with(".npy"))
        .collect();
    let mut out = std::collections::BTreeMap::new();
    for n in names {
        // Text arrays (`task_names` of `geoplast tasks sample`) label the numeric ones.
        let mut head = Vec::new();
        if let Ok(entry) = z.by_name(&n) {
            let _ = entry.take(128).read_to_end(&mut head);
        }
        if text_member(&head) {
            continue;
        }
        let b = read_member(&mut z, &n, path)?;
        let name = n.trim_end_matches(".npy").to_string();
        out.insert(name.clone(), parse_nd(&b, &name, path)?);
    }
    Ok(out)
}

/// Whether a `.npy` member holds strings (dtype `U` or `S`).
fn text_member(head: &[u8]) -> bool {
    let h = String::from_utf8_lossy(head);
    ["'<U", "'>U", "'|S", "'|U"]
        .iter()
        .any(|d| h.contains(&format!("'descr': {d}")))
}

fn read_npz(path: &Path, member: Option<&str>) -> Result<Table> {
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    parse_npz(f, member, path)
}

/// One array of an `.npz` archive (the first, or `member`), read from any seekable source.
pub fn parse_npz(
    archive: impl Read + std::io::Seek,
    member: Option<&str>,
    path: &Path,
) -> Result<Table> {
    let mut z = zip::ZipArchive::new(archive)
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
    if !names.contains(&want) {
        return Err(Error::data(
            path,
            format!(
                "no array {want:?} in the archive (it has {})",
                names.join(", ")
            ),
        ));
    }
    let b = read_member(&mut z, &want, path)?;
    parse_npy(&b, path)
}

/// The bytes of the `.npy` member `want` of an archive.
fn read_member<R: Read + std::io::Seek>(
    z: &mut zip::ZipArchive<R>,
    want: &str,
    path: &Path,
) -> Result<Vec<u8>> {
    let mut entry = z
        .by_name(want)
        .map_err(|e| Error::data(path, format!("archive member {want}: {e}")))?;
    // Read the member's header first, then exactly the data it announces: decompression never
    // runs past what the header says the array needs (an archive bomb costs nothing more).
    let corrupt =
        |e: std::io::Error| Error::data(path, format!("corrupt archive member {want}: {e}"));
    let mut b = Vec::new();
    (&mut entry).take(12).read_to_end(&mut b).map_err(corrupt)?;
    let hlen = match b.get(6) {
        Some(1) if b.len() >= 10 => u16::from_le_bytes([b[8], b[9]]) as u64 + 10,
        Some(2 | 3) if b.len() >= 12 => u32::from_le_bytes([b[8], b[9], b[10], b[11]]) as u64 + 12,
        _ => 0,
    };
    (&mut entry)
        .take(hlen.saturating_sub(b.len() as u64))
        .read_to_end(&mut b)
        .map_err(corrupt)?;
    let layout = npy_layout(&b).map_err(|m| Error::data(path, format!("{want}: {m}")))?;
    (&mut entry)
        .take((layout.start + layout.bytes).saturating_sub(b.len()) as u64)
        .read_to_end(&mut b)
        .map_err(corrupt)?;
    Ok(b)
}

/// Tensor-name patterns (`--include`/`--exclude`): shell globs (`*`, `?`, `[ab]`, `{a,b}`).
pub fn glob_set(patterns: &[String], flag: &str) -> Result<globset::GlobSet> {
    let mut b = globset::GlobSetBuilder::new();
    for p in patterns {
        let g = globset::Glob::new(p)
            .map_err(|e| Error::Config(format!("{flag} pattern {p:?} is not a valid glob: {e}")))?;
        b.add(g);
    }
    b.build()
        .map_err(|e| Error::Config(format!("{flag} patterns: {e}")))
}

/// A named tensor as read: (name, shape, values).
pub type NamedTensor = (String, Vec<usize>, Vec<f64>);

/// The float tensors of a safetensors file, as f64. A NaN or infinite value is refused: the
/// geometry test would silently drop or be dominated by it. A pruned run's masks (u8
/// `mask.…`, [`masks`]) are not weights and are left out.
pub fn parse_safetensors(b: &[u8]) -> std::result::Result<Vec<NamedTensor>, String> {
    let st =
        SafeTensors::deserialize(b).map_err(|e| format!("not a valid safetensors file: {e}"))?;
    st.tensors()
        .into_iter()
        .filter(|(name, v)| !is_mask(name, v.dtype()))
        .map(|(name, v)| {
            let d = v.data();
            let vals: Vec<f64> = match v.dtype() {
                Dtype::F64 => d
                    .chunks_exact(8)
                    .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
                    .collect(),
                Dtype::F32 => d
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64)
                    .collect(),
                Dtype::BF16 => d
                    .chunks_exact(2)
                    .map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f64())
                    .collect(),
                Dtype::F16 => d
                    .chunks_exact(2)
                    .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f64())
                    .collect(),
                other => {
                    return Err(format!(
                        "tensor {name} has dtype {other:?}; only float tensors are weights"
                    ));
                }
            };
            if let Some(i) = vals.iter().position(|x| !x.is_finite()) {
                return Err(format!(
                    "tensor {name} holds a non-finite value ({}) at flat index {i}: the geometry \
                     test needs finite weights (exclude the tensor with --exclude, or fix it)",
                    vals[i]
                ));
            }
            Ok((name, v.shape().to_vec(), vals))
        })
        .collect()
}

/// A mask as read: (parameter, shape, kept).
pub type NamedMask = (String, Vec<usize>, Vec<bool>);

fn is_mask(name: &str, dtype: Dtype) -> bool {
    dtype == Dtype::U8 && name.starts_with(crate::io::checkpoint::MASK_PREFIX)
}

/// The masks of a safetensors file: each `mask.{parameter}` (u8) as (parameter, shape, kept).
pub fn masks(b: &[u8]) -> std::result::Result<Vec<NamedMask>, String> {
    let st =
        SafeTensors::deserialize(b).map_err(|e| format!("not a valid safetensors file: {e}"))?;
    Ok(st
        .tensors()
        .into_iter()
        .filter(|(name, v)| is_mask(name, v.dtype()))
        .map(|(name, v)| {
            let p = name[crate::io::checkpoint::MASK_PREFIX.len()..].to_string();
            (
                p,
                v.shape().to_vec(),
                v.data().iter().map(|&k| k != 0).collect(),
            )
        })
        .collect())
}

/// The selected tensors of two safetensors files, paired by name.
pub struct TensorPairs {
    pub before: Vec<f64>,
    pub after: Vec<f64>,
    /// Names of the tensors used, in order, with their ranges in `before` and `after`.
    pub used: Vec<(String, std::ops::Range<usize>)>,
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
    let read = |p: &Path| -> Result<Vec<NamedTensor>> {
        let b = std::fs::read(p).map_err(|e| Error::io(p, e))?;
        parse_safetensors(&b).map_err(|m| Error::data(p, m))
    };
    pair_tensors(
        read(before)?,
        read(after)?,
        include,
        exclude,
        (before, after),
    )
}

/// Pairs two sets of named tensors by name (`include`/`exclude` globs select them); `files`
/// name the two sources in errors.
pub fn pair_tensors(
    t0: Vec<NamedTensor>,
    t1: Vec<NamedTensor>,
    include: &[String],
    exclude: &[String],
    (before, after): (&Path, &Path),
) -> Result<TensorPairs> {
    let (inc, exc) = (
        glob_set(include, "--include")?,
        glob_set(exclude, "--exclude")?,
    );
    let selected = |n: &str| (include.is_empty() || inc.is_match(n)) && !exc.is_match(n);
    let (mut w0, mut w1, mut used, mut unpaired) = (vec![], vec![], vec![], vec![]);
    let mut sorted = t0.clone();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, shape, v0) in sorted.iter().filter(|t| selected(&t.0)) {
        match t1.iter().find(|t| &t.0 == name) {
            Some((_, s1, v1)) if s1 == shape => {
                let start = w0.len();
                w0.extend_from_slice(v0);
                w1.extend_from_slice(v1);
                used.push((name.clone(), start..w0.len()));
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let m = |p: &str, n: &str| glob_set(&[p.to_string()], "--include").unwrap().is_match(n);
        assert!(m("*fc*", "model.fc.weight"));
        assert!(m("layers.*.weight", "layers.3.weight"));
        assert!(!m("layers.*.weight", "layers.3.bias"));
        assert!(m("*", ""));
        assert!(m("*fc*", "μ.fc.weight") && !m("*fc*", "μ.weight"));
        assert!(glob_set(&["[".to_string()], "--exclude").is_err());
    }

    #[test]
    fn half_precision_tensors_decode() {
        use safetensors::tensor::TensorView;
        let bytes = |h: &[u16]| -> Vec<u8> { h.iter().flat_map(|v| v.to_le_bytes()).collect() };
        let (f16, bf16) = (bytes(&[0x3c00, 0xc000, 0x0001]), bytes(&[0x3f80, 0xc000]));
        let views = vec![
            ("h", TensorView::new(Dtype::F16, vec![3], &f16).unwrap()),
            ("b", TensorView::new(Dtype::BF16, vec![2], &bf16).unwrap()),
        ];
        let file = safetensors::serialize(views, None).unwrap();
        let t = parse_safetensors(&file).unwrap();
        let get = |n: &str| t.iter().find(|x| x.0 == n).unwrap().2.clone();
        assert_eq!(get("h"), vec![1.0, -2.0, 2f64.powi(-24)]);
        assert_eq!(get("b"), vec![1.0, -2.0]);
    }
}

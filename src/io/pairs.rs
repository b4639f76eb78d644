//! Before/after weight pairs from the inputs of `geoplast geometry`, with a record of what was
//! dropped and why.

use super::weights::{Missing, read_safetensors_pair, read_table};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// Which sessions of a synapses × sessions table to pair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionPairs {
    /// (0,1), (1,2), …: every consecutive pair, stacked.
    Consecutive,
    /// (0, last).
    FirstLast,
    /// (i, j), 0-based.
    Fixed(usize, usize),
}

impl std::str::FromStr for SessionPairs {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s {
            "consecutive" => Ok(Self::Consecutive),
            "first-last" => Ok(Self::FirstLast),
            _ => {
                let (a, b) = s
                    .split_once(':')
                    .ok_or_else(|| format!("expected consecutive, first-last or I:J, got {s:?}"))?;
                let p = |x: &str| {
                    x.parse::<usize>()
                        .map_err(|_| format!("session {x:?} is not a 0-based index"))
                };
                Ok(Self::Fixed(p(a)?, p(b)?))
            }
        }
    }
}

/// Magnitudes the statistics handle without overflow or loss of precision. Outside this range
/// p-norm mirror maps overflow (|w|^(p−1) at 1e300) or underflow (subnormals); rescaling
/// silently is not an option because negative entropy's change magnitude M depends on the scale.
pub const MAGNITUDE_RANGE: (f64, f64) = (1e-150, 1e150);

/// Refuses nonzero values whose magnitude lies outside [`MAGNITUDE_RANGE`].
pub fn check_magnitudes(values: &[f64], what: &str) -> Result<()> {
    let (lo, hi) = MAGNITUDE_RANGE;
    // Non-short-circuit operators and a count, so that the pass over 10⁷ values vectorises.
    let bad = |v: &f64| {
        let a = v.abs();
        (a != 0.0) & ((a < lo) | (a > hi))
    };
    let count: usize = values.iter().map(|v| bad(v) as usize).sum();
    if count == 0 {
        return Ok(());
    }
    match values.iter().position(bad) {
        Some(i) => Err(Error::Config(format!(
            "{count} {what} have a magnitude outside [{lo:e}, {hi:e}] (the first: {:e}, at index {i}), \
             where the statistics overflow or lose precision: rescale the data (change units, or \
             use --normalize median)",
            values[i]
        ))),
        None => Ok(()),
    }
}

/// Paired weights and how they were obtained.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct Pairs {
    #[serde(skip)]
    pub before: Vec<f64>,
    #[serde(skip)]
    pub after: Vec<f64>,
    /// Named tensors (safetensors input): each one's range in `before` and `after`.
    #[serde(skip)]
    pub tensors: Vec<(String, std::ops::Range<usize>)>,
    /// What was read and what was dropped, in sentences.
    pub notes: Vec<String>,
}

impl Pairs {
    /// Divides each tensor (safetensors: tensors of one model differ in scale), else each file,
    /// of each session by its median positive value (`--normalize median`).
    pub fn normalize_median(&mut self) {
        // Per tensor for safetensors (tensors of one model differ in scale), else per file.
        let parts: Vec<std::ops::Range<usize>> = if self.tensors.is_empty() {
            std::iter::once(0..self.before.len()).collect()
        } else {
            self.tensors.iter().map(|t| t.1.clone()).collect()
        };
        for w in [&mut self.before, &mut self.after] {
            for r in &parts {
                let m = median_positive(w[r.clone()].iter());
                w[r.clone()].iter_mut().for_each(|v| *v /= m);
            }
        }
        self.notes.push(format!(
            "each {} divided by its median positive value (--normalize median)",
            if self.tensors.is_empty() {
                "file"
            } else {
                "tensor of each file"
            }
        ));
    }

    /// Drops every pair with a value ≤ 0 (for data where negatives are measurement noise).
    pub fn drop_nonpositive(&mut self) {
        let n = self.before.len();
        let keep: Vec<bool> = (0..n)
            .map(|i| self.before[i] > 0.0 && self.after[i] > 0.0)
            .collect();
        let zeros = (0..n)
            .filter(|&i| self.before[i] == 0.0 || self.after[i] == 0.0)
            .count();
        let dropped = keep.iter().filter(|k| !**k).count();
        let mut it = keep.iter();
        self.before.retain(|_| *it.next().unwrap());
        let mut it = keep.iter();
        self.after.retain(|_| *it.next().unwrap());
        self.notes.push(format!(
            "dropped {dropped} of {n} pairs with a value <= 0 ({zeros} with an exact zero, {} with a negative value)",
            dropped - zeros
        ));
    }
}

fn median_positive<'a>(values: impl Iterator<Item = &'a f64>) -> f64 {
    let mut v: Vec<f64> = values.copied().filter(|x| *x > 0.0).collect();
    if v.is_empty() {
        return 1.0;
    }
    let mid = v.len() / 2;
    *v.select_nth_unstable_by(mid, f64::total_cmp).1
}

/// Expands folders into their `.npy`/`.csv`/`.npz` files (sorted).
fn expand(specs: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for s in specs {
        let p = s.as_path();
        if p.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| Error::io(p, e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| {
                    matches!(
                        f.extension().and_then(|e| e.to_str()),
                        Some("npy" | "csv" | "npz")
                    )
                })
                .collect();
            files.sort();
            if files.is_empty() {
                return Err(Error::data(
                    p,
                    "the folder holds no .npy, .npz or .csv files",
                ));
            }
            out.extend(files);
        } else {
            out.push(s.clone());
        }
    }
    Ok(out)
}

/// Pairs from synapses × sessions tables (files or folders of files). With `normalize`, each
/// table is divided by its median positive value first (files often differ in scale).
/// With `Missing::Drop`, a synapse with a missing value in any session is dropped (counted).
pub fn from_tables(
    specs: &[PathBuf],
    sessions: SessionPairs,
    normalize: bool,
    missing: Missing,
) -> Result<Pairs> {
    let files = expand(specs)?;
    let mut pairs = Pairs::default();
    let (mut n_syn, mut n_missing) = (0, 0);
    for f in &files {
        let mut t = read_table(f, missing)?;
        if missing == Missing::Drop {
            n_missing += t.drop_missing_rows();
        }
        if t.cols() < 2 {
            return Err(Error::data(
                f,
                "a single column has no before/after: give two columns (sessions) or use --before/--after",
            ));
        }
        if normalize {
            let m = median_positive(t.columns.iter().flatten());
            t.columns.iter_mut().flatten().for_each(|v| *v /= m);
        }
        let list: Vec<(usize, usize)> = match sessions {
            SessionPairs::Consecutive => (0..t.cols() - 1).map(|j| (j, j + 1)).collect(),
            SessionPairs::FirstLast => vec![(0, t.cols() - 1)],
            SessionPairs::Fixed(a, b) => {
                if a >= t.cols() || b >= t.cols() {
                    return Err(Error::data(
                        f,
                        format!(
                            "session {} does not exist: the table has {} sessions (0-based)",
                            a.max(b),
                            t.cols()
                        ),
                    ));
                }
                vec![(a, b)]
            }
        };
        for (a, b) in list {
            pairs.before.extend_from_slice(t.column(a));
            pairs.after.extend_from_slice(t.column(b));
        }
        n_syn += t.rows;
    }
    pairs.notes.push(format!(
        "read {} file(s), {n_syn} synapses, {} pairs ({sessions:?} sessions{})",
        files.len(),
        pairs.before.len(),
        if normalize {
            ", each file divided by its median positive value"
        } else {
            ""
        }
    ));
    if missing == Missing::Drop {
        pairs.notes.push(format!(
            "dropped {n_missing} synapses with a missing value (--missing drop)"
        ));
    }
    Ok(pairs)
}

/// Pairs from tensors paired by name, with notes on what was used and skipped.
pub fn from_tensor_pairs(tp: super::weights::TensorPairs) -> Pairs {
    let names: Vec<&str> = tp.used.iter().map(|u| u.0.as_str()).collect();
    let mut notes = vec![format!(
        "paired {} tensors by name ({} weights): {}",
        tp.used.len(),
        tp.before.len(),
        names.join(", ")
    )];
    if !tp.unpaired.is_empty() {
        notes.push(format!(
            "skipped {} tensors present in only one file: {}",
            tp.unpaired.len(),
            tp.unpaired.join(", ")
        ));
    }
    Pairs {
        before: tp.before,
        after: tp.after,
        tensors: tp.used,
        notes,
    }
}

/// Pairs from two vectors of the same synapses (the Python package's arrays): equal lengths and
/// finite values are required.
pub fn from_vectors(w0: Vec<f64>, w1: Vec<f64>) -> Result<Pairs> {
    if w0.len() != w1.len() {
        return Err(Error::Config(format!(
            "before has {} weights but after has {}: they must list the same synapses",
            w0.len(),
            w1.len()
        )));
    }
    for (what, w) in [("before", &w0), ("after", &w1)] {
        if let Some(i) = w.iter().position(|v| !v.is_finite()) {
            return Err(Error::Config(format!(
                "{what}[{i}] is {}: the geometry test needs finite weights",
                w[i]
            )));
        }
    }
    Ok(Pairs {
        notes: vec![format!("read {} pairs", w0.len())],
        before: w0,
        after: w1,
        tensors: vec![],
    })
}

/// Pairs from two files: two `.safetensors` (tensors paired by name, filtered by glob patterns)
/// or two one-column tables of equal length.
pub fn from_before_after(
    before: &Path,
    after: &Path,
    include: &[String],
    exclude: &[String],
    normalize: bool,
    missing: Missing,
) -> Result<Pairs> {
    let mut p = read_before_after(before, after, include, exclude, missing)?;
    if normalize {
        p.normalize_median();
    }
    Ok(p)
}

fn read_before_after(
    before: &Path,
    after: &Path,
    include: &[String],
    exclude: &[String],
    missing: Missing,
) -> Result<Pairs> {
    let is_st = |p: &Path| p.extension().is_some_and(|e| e == "safetensors");
    if is_st(before) != is_st(after) {
        let (st, other) = if is_st(before) {
            (before, after)
        } else {
            (after, before)
        };
        return Err(Error::data(
            other,
            format!(
                "{} is a .safetensors file, so this one must be too (tensors are paired by name); \
                 for tables give two one-column .csv/.npy/.npz files",
                st.display()
            ),
        ));
    }
    if is_st(before) {
        return Ok(from_tensor_pairs(read_safetensors_pair(
            before, after, include, exclude,
        )?));
    }
    let read1 = |p: &Path| -> Result<Vec<f64>> {
        let t = read_table(p, missing)?;
        if t.cols() != 1 {
            return Err(Error::data(
                p,
                format!("expected one column of weights, found {}", t.cols()),
            ));
        }
        Ok(t.columns.into_iter().next().expect("one column"))
    };
    let (w0, w1) = (read1(before)?, read1(after)?);
    if w0.len() != w1.len() {
        return Err(Error::data(
            after,
            format!(
                "{} weights here but {} in {}: the files must list the same synapses",
                w1.len(),
                w0.len(),
                before.display()
            ),
        ));
    }
    let mut t = super::weights::Table {
        rows: w0.len(),
        columns: vec![w0, w1],
    };
    let dropped = t.drop_missing_rows();
    let mut notes = vec![format!("read {} pairs", t.rows)];
    if missing == Missing::Drop {
        notes.push(format!(
            "dropped {dropped} synapses with a missing value (--missing drop)"
        ));
    }
    let [w0, w1]: [Vec<f64>; 2] = t.columns.try_into().expect("two columns");
    Ok(Pairs {
        before: w0,
        after: w1,
        tensors: vec![],
        notes,
    })
}

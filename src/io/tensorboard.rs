//! TensorBoard event files: the scalars of `metrics.jsonl`, readable by TensorBoard, tbparse and
//! wandb's TensorBoard sync. No maintained crate writes them, and the format is small:
//!
//! * TFRecord framing: `u64 length`, `u32 masked_crc32c(length)`, the record, `u32
//!   masked_crc32c(record)`, all little-endian; `masked(c) = ((c >> 15) | (c << 17)) + 0xa282ead8`.
//! * Each record is an `Event` protobuf (tensorflow/core/util/event.proto): `wall_time` (field 1,
//!   double), `step` (2, int64), then `file_version` (3, string) for the first record or
//!   `summary` (5) with one `Summary.Value` (field 1) of `tag` (1, string) and `simple_value`
//!   (2, float).
//!
//! One file per run folder, `tb/events.out.tfevents.0.geoplast`, appended as the run logs. On
//! resume it is cut back to the checkpoint's update, like `metrics.jsonl`, so no step appears
//! twice for any reader (rewriting needs no support from the reader, unlike a `SessionLog`
//! START event, which only TensorBoard itself honours).

use crate::error::{Error, Result};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// The event file of a run folder.
pub fn events_path(run_dir: &Path) -> PathBuf {
    run_dir.join("tb").join("events.out.tfevents.0.geoplast")
}

fn masked_crc(bytes: &[u8]) -> u32 {
    crc32c::crc32c(bytes)
        .rotate_right(15)
        .wrapping_add(0xa282_ead8)
}

fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A length-delimited protobuf field.
fn bytes_field(field: u64, b: &[u8], out: &mut Vec<u8>) {
    varint(field << 3 | 2, out);
    varint(b.len() as u64, out);
    out.extend_from_slice(b);
}

fn event(wall_time: f64, step: u64, what: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let mut e = vec![0x09]; // field 1, 64-bit
    e.extend_from_slice(&wall_time.to_le_bytes());
    varint(2 << 3, &mut e); // field 2, varint
    varint(step, &mut e);
    what(&mut e);
    e
}

fn scalar_event(wall_time: f64, step: u64, tag: &str, value: f32) -> Vec<u8> {
    event(wall_time, step, |e| {
        let mut v = Vec::new();
        bytes_field(1, tag.as_bytes(), &mut v);
        v.push(0x15); // field 2, 32-bit
        v.extend_from_slice(&value.to_le_bytes());
        let mut summary = Vec::new();
        bytes_field(1, &v, &mut summary);
        bytes_field(5, &summary, e);
    })
}

fn frame(record: &[u8]) -> Vec<u8> {
    let len = (record.len() as u64).to_le_bytes();
    let mut out = Vec::with_capacity(record.len() + 16);
    out.extend_from_slice(&len);
    out.extend_from_slice(&masked_crc(&len).to_le_bytes());
    out.extend_from_slice(record);
    out.extend_from_slice(&masked_crc(record).to_le_bytes());
    out
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// An open event file.
pub struct EventWriter {
    path: PathBuf,
    out: BufWriter<File>,
}

impl EventWriter {
    /// Opens the event file of `run_dir`: a new run starts it (with the `file_version` record
    /// readers expect first); a resumed run appends.
    pub fn open(run_dir: &Path, append: bool) -> Result<Self> {
        let path = events_path(run_dir);
        let dir = path.parent().expect("in tb/");
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let fresh = !append || !path.is_file();
        let f = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .append(!fresh)
            .truncate(fresh)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        let mut w = Self {
            path,
            out: BufWriter::new(f),
        };
        if fresh {
            let version = event(now(), 0, |e| bytes_field(3, b"brain.Event:2", e));
            w.write(&frame(&version))?;
        }
        Ok(w)
    }

    fn write(&mut self, b: &[u8]) -> Result<()> {
        self.out.write_all(b).map_err(|e| Error::io(&self.path, e))
    }

    /// One scalar at `step` (non-finite values are left out, as `metrics.jsonl` writes null).
    pub fn scalar(&mut self, tag: &str, step: u64, value: f64) -> Result<()> {
        if !value.is_finite() {
            return Ok(());
        }
        let b = frame(&scalar_event(now(), step, tag, value as f32));
        self.write(&b)
    }

    pub fn flush(&mut self) -> Result<()> {
        self.out
            .flush()
            .and_then(|()| self.out.get_ref().sync_data())
            .map_err(|e| Error::io(&self.path, e))
    }
}

/// The records of an event file as (step, framed bytes); a torn last record ends the list.
fn records(bytes: &[u8]) -> Vec<(u64, &[u8])> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 12 <= bytes.len() {
        let len = u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes")) as usize;
        let Some(end) = len.checked_add(at + 16).filter(|&e| e <= bytes.len()) else {
            break;
        };
        let record = &bytes[at + 12..at + 12 + len];
        if masked_crc(record).to_le_bytes() != bytes[end - 4..end] {
            break;
        }
        out.push((step_of(record), &bytes[at..end]));
        at = end;
    }
    out
}

/// The `step` field of an encoded event (0 when absent).
fn step_of(record: &[u8]) -> u64 {
    let mut i = 0;
    let read_varint = |i: &mut usize| -> u64 {
        let (mut v, mut shift) = (0u64, 0);
        while *i < record.len() {
            let b = record[*i];
            *i += 1;
            v |= ((b & 0x7f) as u64) << shift;
            if b < 0x80 || shift > 56 {
                break;
            }
            shift += 7;
        }
        v
    };
    while i < record.len() {
        let key = read_varint(&mut i);
        match (key >> 3, key & 7) {
            (2, 0) => return read_varint(&mut i),
            (_, 0) => {
                read_varint(&mut i);
            }
            (_, 1) => i += 8,
            (_, 5) => i += 4,
            (_, 2) => {
                let n = read_varint(&mut i) as usize;
                i += n;
            }
            _ => break,
        }
    }
    0
}

/// Cuts the event file of `run_dir` back to the records at or before `step` (and drops a torn
/// last record), atomically; the `file_version` record (step 0) stays.
pub fn truncate_after(run_dir: &Path, step: u64) -> Result<()> {
    let path = events_path(run_dir);
    let Ok(bytes) = std::fs::read(&path) else {
        return Ok(());
    };
    let kept: Vec<u8> = records(&bytes)
        .into_iter()
        .filter(|(s, _)| *s <= step)
        .flat_map(|(_, b)| b.iter().copied())
        .collect();
    if kept.len() == bytes.len() {
        return Ok(());
    }
    super::durable::write(&path, kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The CRC of TFRecord's framing: CRC32C of "a" is 0xc1d04330 (RFC 3720's polynomial), and
    /// the mask is the one TensorFlow applies.
    #[test]
    #[allow(clippy::manual_rotate)] // TensorFlow's own spelling of the mask
    fn masked_crc32c_matches_tfrecord() {
        assert_eq!(crc32c::crc32c(b"a"), 0xc1d0_4330);
        let c = 0xc1d0_4330u32;
        assert_eq!(
            masked_crc(b"a"),
            ((c >> 15) | (c << 17)).wrapping_add(0xa282_ead8)
        );
    }

    #[test]
    fn truncation_keeps_the_steps_up_to_the_checkpoint() {
        let d = tempfile::tempdir().unwrap();
        let mut w = EventWriter::open(d.path(), false).unwrap();
        for step in 1..=10 {
            w.scalar("loss", step, step as f64).unwrap();
        }
        w.scalar("nan", 3, f64::NAN).unwrap();
        w.flush().unwrap();
        drop(w);
        let all = std::fs::read(events_path(d.path())).unwrap();
        assert_eq!(records(&all).len(), 11, "version + 10 scalars, no NaN");
        truncate_after(d.path(), 4).unwrap();
        let kept = std::fs::read(events_path(d.path())).unwrap();
        let steps: Vec<u64> = records(&kept).iter().map(|r| r.0).collect();
        assert_eq!(steps, [0, 1, 2, 3, 4]);
        // A torn last record is dropped too.
        std::fs::write(events_path(d.path()), &kept[..kept.len() - 3]).unwrap();
        truncate_after(d.path(), 100).unwrap();
        let t = std::fs::read(events_path(d.path())).unwrap();
        assert_eq!(records(&t).len(), 4);
    }
}

//! Named f32 tensors in `.safetensors` files (`safetensors.torch.load_file` reads them), with
//! string metadata; masks (`mask.…`) are u8.

use super::durable;
use crate::error::{Error, Result};
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// A named tensor to save or that was loaded.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// Tensors named `mask.…` (a parameter's fixed mask: 1 kept, 0 pruned) are stored as u8 0/1 and
/// read back as 0.0/1.0.
pub const MASK_PREFIX: &str = "mask.";

/// The metadata key of the checksum.
const CHECKSUM: &str = "checksum";

/// CRC32C over every tensor's name, shape and little-endian bytes, in name order.
fn checksum(tensors: &BTreeMap<String, Tensor>) -> String {
    let mut crc = 0u32;
    for (name, t) in tensors {
        crc = crc32c::crc32c_append(crc, name.as_bytes());
        for d in &t.shape {
            crc = crc32c::crc32c_append(crc, &(*d as u64).to_le_bytes());
        }
        let bytes: Vec<u8> = t.data.iter().flat_map(|v| v.to_le_bytes()).collect();
        crc = crc32c::crc32c_append(crc, &bytes);
    }
    format!("crc32c:{crc:08x}")
}

/// The safetensors bytes of `tensors` and `metadata` (plus the checksum), with the header's
/// entries and the metadata in sorted order, so that the same tensors and metadata always give
/// the same bytes (the crate writes metadata in hash order, which differs from run to run).
fn encode(
    path: &Path,
    tensors: &BTreeMap<String, Tensor>,
    mut metadata: HashMap<String, String>,
) -> Result<Vec<u8>> {
    metadata.insert(CHECKSUM.into(), checksum(tensors));
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .iter()
        .map(|(name, t)| {
            let b: Vec<u8> = if name.starts_with(MASK_PREFIX) {
                t.data.iter().map(|&v| (v != 0.0) as u8).collect()
            } else {
                t.data.iter().flat_map(|v| v.to_le_bytes()).collect()
            };
            (name.clone(), t.shape.clone(), b)
        })
        .collect();
    let views = bytes
        .iter()
        .map(|(n, s, b)| {
            let dtype = if n.starts_with(MASK_PREFIX) {
                Dtype::U8
            } else {
                Dtype::F32
            };
            let v = TensorView::new(dtype, s.clone(), b)
                .map_err(|e| Error::data(path, format!("tensor {n}: {e}")))?;
            Ok((n.clone(), v))
        })
        .collect::<Result<Vec<_>>>()?;
    let raw = safetensors::serialize(views, Some(metadata))
        .map_err(|e| Error::data(path, format!("could not encode safetensors: {e}")))?;
    let n = u64::from_le_bytes(raw[..8].try_into().expect("8 bytes")) as usize;
    let header: BTreeMap<String, serde_json::Value> =
        serde_json::from_slice(&raw[8..8 + n]).expect("the crate writes a JSON object");
    let sorted: BTreeMap<String, serde_json::Value> = header
        .into_iter()
        .map(|(k, v)| {
            let v = match v {
                serde_json::Value::Object(m) if k == "__metadata__" => serde_json::json!(
                    m.into_iter()
                        .collect::<BTreeMap<String, serde_json::Value>>()
                ),
                v => v,
            };
            (k, v)
        })
        .collect();
    let mut text = serde_json::to_string(&sorted).expect("JSON");
    // The data start on an 8-byte boundary, as the crate writes them.
    while !text.len().is_multiple_of(8) {
        text.push(' ');
    }
    let mut out = Vec::with_capacity(8 + text.len() + raw.len() - 8 - n);
    out.extend((text.len() as u64).to_le_bytes());
    out.extend(text.as_bytes());
    out.extend(&raw[8 + n..]);
    Ok(out)
}

/// Writes `tensors` (sorted by name) and `metadata` to `path`, atomically and durably, with a
/// checksum that [`load`] verifies.
pub fn save(
    path: &Path,
    tensors: &BTreeMap<String, Tensor>,
    metadata: HashMap<String, String>,
) -> Result<()> {
    durable::write(path, encode(path, tensors, metadata)?)
}

/// The previous generation of the checkpoint `path` (`checkpoint.prev.safetensors`).
pub fn previous(path: &Path) -> std::path::PathBuf {
    path.with_extension("prev.safetensors")
}

/// As [`save`], keeping the file it replaces as [`previous`]`(path)`: the new file is complete
/// and synced before the old one moves, so a kill at any moment leaves at least one whole
/// generation.
pub fn save_keeping_previous(
    path: &Path,
    tensors: &BTreeMap<String, Tensor>,
    metadata: HashMap<String, String>,
) -> Result<()> {
    let tmp = durable::tmp_path(path);
    durable::write(&tmp, encode(path, tensors, metadata)?)?;
    if path.exists() {
        durable::rename(path, &previous(path))?;
    }
    durable::rename(&tmp, path)
}

/// Reads every f32 tensor and the metadata of `path`.
pub fn load(path: &Path) -> Result<(BTreeMap<String, Tensor>, HashMap<String, String>)> {
    let buf = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let st = SafeTensors::deserialize(&buf)
        .map_err(|e| Error::data(path, format!("not a valid safetensors file: {e}")))?;
    let (_, meta) = SafeTensors::read_metadata(&buf)
        .map_err(|e| Error::data(path, format!("not a valid safetensors file: {e}")))?;
    let mut out = BTreeMap::new();
    for (name, view) in st.tensors() {
        let data = match (view.dtype(), name.starts_with(MASK_PREFIX)) {
            (Dtype::F32, false) => view
                .data()
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
                .collect(),
            (Dtype::U8, true) => view.data().iter().map(|&b| (b != 0) as u8 as f32).collect(),
            (d, mask) => {
                return Err(Error::data(
                    path,
                    format!(
                        "tensor {name} is {d:?}, expected {}",
                        if mask { "U8 (a mask)" } else { "F32" }
                    ),
                ));
            }
        };
        out.insert(
            name,
            Tensor {
                shape: view.shape().to_vec(),
                data,
            },
        );
    }
    let mut meta = meta.metadata().clone().unwrap_or_default();
    // Files written before checksums existed have none; any other must match.
    if let Some(want) = meta.remove(CHECKSUM) {
        let got = checksum(&out);
        if got != want {
            return Err(Error::data(
                path,
                format!("checksum mismatch ({got}, the file says {want}): the file is corrupt"),
            ));
        }
    }
    Ok((out, meta))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("w.safetensors");
        let mut t = BTreeMap::new();
        t.insert(
            "layers.0.weight".to_string(),
            Tensor {
                shape: vec![2, 3],
                data: vec![1., -2., 3., 4., 5e-20, 6.],
            },
        );
        let meta = HashMap::from([("epoch".to_string(), "3".to_string())]);
        save(&p, &t, meta.clone()).unwrap();
        let (back, m) = load(&p).unwrap();
        assert_eq!(back, t);
        assert_eq!(m, meta);
        // The same content gives the same bytes (metadata in a fixed order).
        let many: HashMap<String, String> =
            (0..20).map(|i| (format!("k{i}"), i.to_string())).collect();
        save(&p, &t, many.clone()).unwrap();
        let first = std::fs::read(&p).unwrap();
        for _ in 0..5 {
            let shuffled: HashMap<String, String> = many.clone().into_iter().collect();
            save(&p, &t, shuffled).unwrap();
            assert_eq!(std::fs::read(&p).unwrap(), first);
        }
    }

    #[test]
    fn a_flipped_data_bit_is_detected() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("w.safetensors");
        let t = BTreeMap::from([(
            "w".to_string(),
            Tensor {
                shape: vec![4],
                data: vec![1., 2., 3., 4.],
            },
        )]);
        save(&p, &t, HashMap::new()).unwrap();
        let mut b = std::fs::read(&p).unwrap();
        let last = b.len() - 1;
        b[last] ^= 0x40;
        std::fs::write(&p, b).unwrap();
        let e = load(&p).unwrap_err().to_string();
        assert!(e.contains("checksum mismatch"), "{e}");
    }
}

//! Named f32 tensors in `.safetensors` files (`safetensors.torch.load_file` reads them), with
//! string metadata.

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

/// Writes `tensors` (sorted by name) and `metadata` to `path`.
pub fn save(
    path: &Path,
    tensors: &BTreeMap<String, Tensor>,
    metadata: HashMap<String, String>,
) -> Result<()> {
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .iter()
        .map(|(name, t)| {
            let b: Vec<u8> = t.data.iter().flat_map(|v| v.to_le_bytes()).collect();
            (name.clone(), t.shape.clone(), b)
        })
        .collect();
    let views = bytes
        .iter()
        .map(|(n, s, b)| {
            let v = TensorView::new(Dtype::F32, s.clone(), b)
                .map_err(|e| Error::data(path, format!("tensor {n}: {e}")))?;
            Ok((n.clone(), v))
        })
        .collect::<Result<Vec<_>>>()?;
    // Write to a temporary name and rename, so an interrupted save never leaves a torn file.
    let tmp = path.with_extension("safetensors.tmp");
    safetensors::serialize_to_file(views, Some(metadata), &tmp)
        .map_err(|e| Error::data(path, format!("could not write safetensors: {e}")))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
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
        if view.dtype() != Dtype::F32 {
            return Err(Error::data(
                path,
                format!("tensor {name} is {:?}, expected F32", view.dtype()),
            ));
        }
        let data = view
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        out.insert(
            name,
            Tensor {
                shape: view.shape().to_vec(),
                data,
            },
        );
    }
    Ok((out, meta.metadata().clone().unwrap_or_default()))
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
    }
}

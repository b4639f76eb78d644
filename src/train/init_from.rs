//! `init_from = "FILE.safetensors"`: a model starts from the tensors of a file that uses its
//! names (a geoplast weights file, or a PyTorch `state_dict` saved with
//! `safetensors.torch.save_file`). A bias stored whole in the file and split in the model (EG
//! runs) is split as `b⁺ = max(b, 0) + δ`, `b⁻ = min(b, 0) − δ` with δ = [`SPLIT_DELTA`], so both
//! parts are nonzero (EG cannot move a zero) and they sum to `b`. The file's masks (`mask.…`,
//! a pruned run's) carry over; a checkpoint's optimiser state does not.

use super::model::Model;
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::path::Path;

/// δ of a split bias loaded from a whole one.
pub const SPLIT_DELTA: f64 = 0.01;

/// Sets every parameter of `model` from `path`; the error names every missing or mis-shaped
/// tensor. Tensors of the file that the model does not use are reported on stderr.
pub fn apply(model: &mut Model, path: &Path) -> Result<()> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let tensors =
        crate::io::weights::parse_safetensors(&bytes).map_err(|m| Error::data(path, m))?;
    let mut file: HashMap<String, (Vec<usize>, Vec<f64>)> =
        tensors.into_iter().map(|(n, s, v)| (n, (s, v))).collect();
    let masks: HashMap<String, (Vec<usize>, Vec<bool>)> = crate::io::weights::masks(&bytes)
        .map_err(|m| Error::data(path, m))?
        .into_iter()
        .map(|(n, s, k)| (n, (s, k)))
        .collect();
    let mut problems = Vec::new();
    let mut used = std::collections::BTreeSet::new();
    for p in model.params_mut() {
        // A split part `X.pos` / `X.neg` may come from the whole bias `X`.
        let whole = p
            .name
            .strip_suffix(".pos")
            .map(|b| (b, 1.0))
            .or_else(|| p.name.strip_suffix(".neg").map(|b| (b, -1.0)));
        let (key, split) = match (file.contains_key(&p.name), whole) {
            (true, _) => (p.name.clone(), None),
            (false, Some((base, sign))) if file.contains_key(base) => {
                (base.to_string(), Some(sign))
            }
            _ => {
                problems.push(format!("`{}` {:?} is missing", p.name, p.shape));
                continue;
            }
        };
        let (shape, values) = &file[&key];
        if *shape != p.shape {
            problems.push(format!(
                "`{key}` has shape {shape:?}, the model's `{}` is {:?}",
                p.name, p.shape
            ));
            continue;
        }
        for (w, &v) in p.value.iter_mut().zip(values) {
            *w = match split {
                None => v,
                Some(s) if s > 0.0 => v.max(0.0) + SPLIT_DELTA,
                Some(_) => v.min(0.0) - SPLIT_DELTA,
            } as f32;
        }
        // A pruned file's masks carry over (joined with the model's own).
        if let Some((shape, keep)) = masks.get(&p.name) {
            if *shape != p.shape {
                problems.push(format!(
                    "`mask.{}` has shape {shape:?}, the parameter is {:?}",
                    p.name, p.shape
                ));
                continue;
            }
            let n = keep.len();
            let m = p.mask.get_or_insert_with(|| vec![true; n]);
            for (k, &f) in m.iter_mut().zip(keep) {
                *k &= f;
            }
        }
        if let Some(mask) = &p.mask {
            for (w, &k) in p.value.iter_mut().zip(mask) {
                if !k {
                    *w = 0.0;
                }
            }
        }
        used.insert(key);
    }
    if !problems.is_empty() {
        return Err(Error::data(
            path,
            format!("init_from cannot start this model: {}", problems.join("; ")),
        ));
    }
    // A checkpoint's optimiser state is not used: the new run's optimiser starts fresh.
    file.retain(|k, _| !used.contains(k) && !k.starts_with("optimizer."));
    if !file.is_empty() {
        let mut extra: Vec<&String> = file.keys().collect();
        extra.sort();
        eprintln!(
            "note: init_from {} has tensors this model does not use: {}",
            path.display(),
            extra
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(())
}

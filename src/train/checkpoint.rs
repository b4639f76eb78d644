//! A run's checkpoint: every parameter and every optimiser buffer by name, with the position in
//! training in the metadata. Rewritten atomically, so a killed run resumes from the last one.
//!
//! Metadata: `format` (the layout version, [`FORMAT`]), `epoch` (epochs completed), `step`
//! (updates taken) and the trainer's own keys (`source.*`, `train.*`). Tensors: each parameter under its own name, each optimiser buffer under
//! `optimizer.{parameter}.{kind}` (`kind` one of [`crate::optim::state::KINDS`]), each mask under
//! `mask.{parameter}` (u8). On load every
//! tensor must belong to the model and have its parameter's shape.

use super::model::Model;
use crate::error::{Error, Result};
use crate::io::checkpoint::{self, Tensor};
use crate::nn::Param;
use crate::optim::Optimizer;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// The checkpoint layout this build writes. Format 1 (before the version was written) has the
/// same layout and is read too.
pub const FORMAT: u32 = 2;

/// What a checkpoint records beyond weights and optimiser state: completed epochs and the
/// trainer's metadata (the source's position, running loss sums).
#[derive(Clone, Debug, Default)]
pub struct Extra {
    pub epoch: usize,
    pub meta: Vec<(String, String)>,
}

/// Where training stood when a checkpoint was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    pub epoch: usize,
    pub step: usize,
}

/// The values of `params` as named tensors, and each mask as `mask.{name}` (1 kept, 0 fixed
/// at zero; written as u8).
pub fn tensors_of(params: &[&Param<f32>]) -> BTreeMap<String, Tensor> {
    let mut t = BTreeMap::new();
    for p in params {
        let tensor = |data| Tensor {
            shape: p.shape.clone(),
            data,
        };
        t.insert(p.name.clone(), tensor(p.value.clone()));
        if let Some(m) = &p.mask {
            t.insert(
                format!("{}{}", checkpoint::MASK_PREFIX, p.name),
                tensor(m.iter().map(|&k| k as u8 as f32).collect()),
            );
        }
    }
    t
}

/// Writes the weights, the optimiser state and `extra` to `path`.
pub fn save(path: &Path, model: &Model, opt: &Optimizer<f32>, extra: &Extra) -> Result<()> {
    let (t, meta) = contents(model, opt, extra);
    checkpoint::save(path, &t, meta)
}

/// As [`save`], keeping the checkpoint it replaces as the previous generation, which [`load`]
/// falls back to when the newer one is corrupt (the rolling checkpoint of a run).
pub fn save_keeping_previous(
    path: &Path,
    model: &Model,
    opt: &Optimizer<f32>,
    extra: &Extra,
) -> Result<()> {
    let (t, meta) = contents(model, opt, extra);
    checkpoint::save_keeping_previous(path, &t, meta)
}

/// The tensors and metadata of a checkpoint.
fn contents(
    model: &Model,
    opt: &Optimizer<f32>,
    extra: &Extra,
) -> (BTreeMap<String, Tensor>, HashMap<String, String>) {
    let params = model.params();
    let mut t = tensors_of(&params);
    for p in &params {
        let Some(st) = opt.states.get(&p.name) else {
            continue;
        };
        for (kind, v) in st.buffers() {
            if !v.is_empty() {
                t.insert(
                    format!("optimizer.{}.{kind}", p.name),
                    Tensor {
                        shape: p.shape.clone(),
                        data: v.clone(),
                    },
                );
            }
        }
    }
    let mut meta = HashMap::from([
        ("format".to_string(), FORMAT.to_string()),
        ("epoch".to_string(), extra.epoch.to_string()),
        ("step".to_string(), opt.t.to_string()),
    ]);
    meta.extend(extra.meta.iter().cloned());
    (t, meta)
}

/// Restores weights and optimiser state from the checkpoint `path`, or, when it is missing or
/// corrupt (bad checksum, torn, wrong shapes), from its previous generation, saying so on
/// stderr. Returns the position and the metadata (for the trainer's own keys).
pub fn load(
    path: &Path,
    model: &mut Model,
    opt: &mut Optimizer<f32>,
) -> Result<(Position, HashMap<String, String>)> {
    let (m0, o0) = (model.clone(), opt.clone());
    let err = match load_one(path, model, opt) {
        Ok(r) => return Ok(r),
        Err(e) => e,
    };
    let prev = checkpoint::previous(path);
    if !prev.exists() {
        return Err(err);
    }
    (*model, *opt) = (m0, o0);
    match load_one(&prev, model, opt) {
        Ok(r) => {
            eprintln!(
                "warning: {err}; resuming from the previous checkpoint {} (update {})",
                prev.display(),
                r.0.step
            );
            Ok(r)
        }
        Err(e) => Err(Error::data(
            path,
            format!("{err}; the previous generation is unusable too: {e}"),
        )),
    }
}

/// Restores from one checkpoint file.
fn load_one(
    path: &Path,
    model: &mut Model,
    opt: &mut Optimizer<f32>,
) -> Result<(Position, HashMap<String, String>)> {
    let (mut t, meta) = checkpoint::load(path)?;
    let bad = |m: String| Error::data(path, m);
    let num = |k: &str| -> Result<usize> {
        meta.get(k)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| bad(format!("checkpoint metadata lacks `{k}`")))
    };
    let format = match meta.get("format") {
        None => 1,
        Some(v) => v
            .parse::<u32>()
            .map_err(|_| bad(format!("checkpoint format `{v}` is not a number")))?,
    };
    if format > FORMAT {
        return Err(bad(format!(
            "checkpoint format {format} is newer than this geoplast reads ({FORMAT}): \
             resume with the geoplast that wrote it"
        )));
    }
    let pos = Position {
        epoch: num("epoch")?,
        step: num("step")?,
    };
    let shape_error = |name: &str, got: &[usize], want: &[usize]| {
        bad(format!(
            "`{name}` has shape {got:?} in the checkpoint, {want:?} in the model"
        ))
    };
    opt.states.clear();
    for p in model.params_mut() {
        let tensor = t
            .remove(&p.name)
            .ok_or_else(|| bad(format!("checkpoint has no tensor `{}`", p.name)))?;
        if tensor.shape != p.shape {
            return Err(shape_error(&p.name, &tensor.shape, &p.shape));
        }
        p.value.copy_from_slice(&tensor.data);
        if let Some(m) = t.remove(&format!("{}{}", checkpoint::MASK_PREFIX, p.name)) {
            if m.shape != p.shape {
                return Err(shape_error(&p.name, &m.shape, &p.shape));
            }
            p.mask = Some(m.data.iter().map(|&k| k != 0.0).collect());
        }
        let st = opt.states.entry(p.name.clone()).or_default();
        for kind in crate::optim::state::KINDS {
            if let Some(s) = t.remove(&format!("optimizer.{}.{kind}", p.name)) {
                if s.shape != p.shape {
                    return Err(shape_error(
                        &format!("optimizer.{}.{kind}", p.name),
                        &s.shape,
                        &p.shape,
                    ));
                }
                *st.buffer_mut(kind).expect("a known kind") = s.data;
            }
        }
    }
    if let Some(name) = t.keys().next() {
        return Err(bad(format!(
            "checkpoint tensor `{name}` belongs to no parameter of the model: the checkpoint \
             is from a different model (start a new run with --out)"
        )));
    }
    opt.t = pos.step;
    Ok((pos, meta))
}

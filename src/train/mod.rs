//! `geoplast train CONFIG.toml`: trains an MLP, column-EI or DANN network (or the r-of-k neuron)
//! with any optimiser configuration, into a run folder that can be resumed.
//!
//! The run folder holds the resolved `config.toml`, `metrics.jsonl`, `weights_init.safetensors`,
//! `checkpoint.safetensors` (weights, optimiser state and the epoch, rewritten atomically after
//! every epoch), `weights_final.safetensors`, `summary.json`, `curves.{png,svg}` and `report.md`.
//! The shuffle of epoch e is drawn from its own named generator, so a resumed run reaches the
//! same weights as an uninterrupted one.

pub mod checkpoint;
pub mod config;
pub mod data;
pub mod memory;
pub mod model;
pub mod report;

use crate::error::{Error, Result};
use crate::io::RunDir;
use crate::nn::loss::{bce, softmax_cross_entropy};
use crate::nn::{Mat, Sequential};
use crate::optim::Optimizer;
use checkpoint::tensors_of;
use config::{DataConfig, ModelKind, TrainConfig};
use data::{Data, Split};
use rand::seq::SliceRandom;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Loss and ∂loss/∂output of a batch.
fn loss_of(
    out: &Mat<f32>,
    split: &Split,
    idx: &[usize],
    data: &Data,
    smoothing: f64,
    grad: &mut Mat<f32>,
) -> f32 {
    let labels: Vec<u32> = idx.iter().map(|&i| split.label(i)).collect();
    if data.binary {
        let t: Vec<f32> = labels.iter().map(|&l| l as f32).collect();
        bce(out, &t, grad)
    } else {
        softmax_cross_entropy(out, &labels, smoothing, None, grad)
    }
}

/// Mean loss and accuracy (%) on a split.
fn evaluate(model: &Sequential<f32>, split: &Split, data: &Data, smoothing: f64) -> (f64, f64) {
    let (mut loss, mut correct) = (0.0, 0usize);
    let all: Vec<usize> = (0..split.len()).collect();
    for idx in all.chunks(1000) {
        let out = model.predict(split.batch(idx));
        let mut g = Mat::zeros(out.rows, out.cols);
        loss += loss_of(&out, split, idx, data, smoothing, &mut g) as f64 * idx.len() as f64;
        for (r, &i) in idx.iter().enumerate() {
            let row = out.row(r);
            let pred = if data.binary {
                (row[0] >= 0.0) as u32
            } else {
                (0..row.len())
                    .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                    .unwrap_or(0) as u32
            };
            correct += (pred == split.label(i)) as usize;
        }
    }
    let n = split.len().max(1) as f64;
    (loss / n, 100.0 * correct as f64 / n)
}

/// The first key path at which two TOML values differ.
fn first_difference(a: &toml::Value, b: &toml::Value, path: &str) -> Option<String> {
    match (a, b) {
        (toml::Value::Table(x), toml::Value::Table(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().find_map(|k| {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                match (x.get(k), y.get(k)) {
                    (Some(u), Some(v)) => first_difference(u, v, &p),
                    _ => Some(p),
                }
            })
        }
        _ if a != b => Some(if path.is_empty() {
            "(root)".into()
        } else {
            path.into()
        }),
        _ => None,
    }
}

/// What a finished run reports.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Outcome {
    pub run_dir: PathBuf,
    pub epochs: usize,
    pub test_loss: f64,
    pub test_acc: f64,
    pub seconds: f64,
    /// Mean row sum of each Dale's-law layer's effective matrix at initialisation.
    pub ei_balance_at_init: Vec<(String, f64)>,
    /// Per weight matrix: sign flips, growth, the multiplicative signature, shape of ln|w|.
    pub weight_stats: Vec<crate::analysis::weight_stats::WeightStats>,
}

/// Where a run comes from and where it goes (the command-line options of `geoplast train`).
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Overrides the config's IDX folder.
    pub data_dir: Option<PathBuf>,
    /// The run folder of a new run.
    pub out: Option<PathBuf>,
    /// Continue the run in this folder from its last checkpoint.
    pub resume: Option<PathBuf>,
    /// Stop after this many epochs in total, as an interrupted job would (resume later).
    pub stop_after: Option<usize>,
    /// No progress bar (runs of a sweep report through the sweep's bar).
    pub quiet: bool,
}

/// Reads, resolves (`--data-dir`, else the config's folder, else Fashion-MNIST) and validates a
/// config file.
pub fn load_config(path: &Path, data_dir: Option<&Path>) -> Result<TrainConfig> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let cfg: TrainConfig = crate::io::config::parse(&text, &path.display().to_string())?;
    resolve(cfg, data_dir).map_err(|e| match e {
        Error::Config(m) => Error::Config(format!("{}: {m}", path.display())),
        e => e,
    })
}

/// Resolves the data folder of a parsed config and validates it.
pub fn resolve(mut cfg: TrainConfig, data_dir: Option<&Path>) -> Result<TrainConfig> {
    if let DataConfig::Idx { dir, .. } = &mut cfg.data {
        *dir = Some(data::resolve_dir(dir, data_dir)?);
    }
    cfg.apply_model_defaults();
    cfg.validate().map_err(Error::Config)?;
    Ok(cfg)
}

/// Runs `geoplast train` (see the module documentation).
pub fn run_cli(config_path: &Path, opts: &RunOptions) -> Result<Outcome> {
    let cfg = load_config(config_path, opts.data_dir.as_deref())?;
    let stem = config_path
        .file_stem()
        .map_or("run".into(), |s| s.to_string_lossy().to_string());
    let run_dir = opts
        .resume
        .as_deref()
        .or(opts.out.as_deref())
        .map_or_else(|| PathBuf::from("runs").join(stem), Path::to_path_buf);
    run(&cfg, &run_dir, opts.resume.is_some(), opts)
}

/// Errors unless the run folder `run_dir` was made with the config `cfg` (before a resume).
pub fn check_same_config(run_dir: &Path, cfg: &TrainConfig) -> Result<()> {
    let resolved = toml::to_string(cfg).expect("config serialises");
    let saved_path = run_dir.join("config.toml");
    let saved = std::fs::read_to_string(&saved_path).map_err(|e| Error::io(&saved_path, e))?;
    let a: toml::Value =
        toml::from_str(&saved).map_err(|e| Error::data(&saved_path, e.to_string()))?;
    let b: toml::Value = toml::from_str(&resolved).expect("resolved config parses");
    match first_difference(&a, &b, "") {
        Some(key) => Err(Error::Config(format!(
            "cannot resume {}: it was made with a different config (`{key}` differs); \
             resume with the same config or start a new run with --out",
            run_dir.display()
        ))),
        None => Ok(()),
    }
}

/// Trains `cfg` (resolved and validated) into `run_dir`, or continues it from its checkpoint
/// when `resume` is set.
pub fn run(cfg: &TrainConfig, run_dir: &Path, resume: bool, opts: &RunOptions) -> Result<Outcome> {
    let resolved = toml::to_string(cfg).expect("config serialises");
    if opts.stop_after == Some(0) {
        return Err(Error::Config(
            "--stop-after must be at least 1 (it counts epochs in total)".into(),
        ));
    }
    if resume {
        check_same_config(run_dir, cfg)?;
    }
    memory::check_data(&cfg.data)?;
    let data = data::load(&cfg.data, cfg.seed)?;
    memory::check_model(&cfg.model, data.train.dim(), data.outputs)?;
    if data.train.is_empty() || data.test.is_empty() {
        return Err(Error::Config(
            "the data set has no training or no test samples".into(),
        ));
    }
    if cfg.model.kind != ModelKind::Mlp && data.train.min_input() < 0.0 {
        return Err(Error::Config(format!(
            "{:?} models need non-negative inputs (the smallest input is {})",
            cfg.model.kind,
            data.train.min_input()
        )));
    }
    let mut model = model::build(
        &cfg.model,
        &cfg.optimizer,
        data.train.dim(),
        data.outputs,
        data.train.mean_input(),
        cfg.seed,
    );
    if cfg.optimizer.keeps_signs()
        && let Some(p) = model.params().into_iter().find(|p| p.value.contains(&0.0))
    {
        return Err(Error::Config(format!(
            "parameter `{}` starts with weights at exactly 0, which EG can never move \
             (it is multiplicative): use a nonzero init, or bias = \"split\" for biases",
            p.name
        )));
    }
    if let Some(p) = model
        .params()
        .into_iter()
        .find(|p| p.value.iter().any(|v| !v.is_finite()))
    {
        return Err(Error::Config(format!(
            "model.init gives `{}` initial values that are not finite in 32-bit floats: lower \
             the init's gain, scale or value",
            p.name
        )));
    }
    let ei_balance_at_init = model.ei_balance();
    let mut opt = Optimizer::<f32>::new(cfg.optimizer.clone()).map_err(Error::Config)?;
    opt.groups()
        .check_matches(model.params().iter().map(|p| p.name.as_str()))
        .map_err(Error::Config)?;
    let mut grads = model.grads();
    let mut run = RunDir::open(run_dir, resume)?;
    let start_epoch = if resume {
        let path = run.file("checkpoint.safetensors");
        let e = checkpoint::load(&path, &mut model, &mut opt)?.epoch;
        if e > cfg.epochs {
            return Err(Error::data(
                path,
                format!(
                    "the checkpoint is at epoch {e}, beyond the config's {} epochs: it does not \
                     belong to this run (start a new run with --out)",
                    cfg.epochs
                ),
            ));
        }
        if let Some(s) = opts.stop_after.filter(|&s| s <= e && s < cfg.epochs) {
            return Err(Error::Config(format!(
                "--stop-after {s}: the run is already at epoch {e}; give a later epoch (at most {})",
                cfg.epochs
            )));
        }
        e
    } else {
        run.write_text("config.toml", &resolved)?;
        let meta = HashMap::from([("about".to_string(), "initial weights".to_string())]);
        crate::io::checkpoint::save(
            &run.file("weights_init.safetensors"),
            &tensors_of(&model.params()),
            meta,
        )?;
        checkpoint::save(&run.file("checkpoint.safetensors"), &model, &opt, 0)?;
        0
    };
    let start = std::time::Instant::now();
    let n = data.train.len();
    let steps_per_epoch = n.div_ceil(cfg.batch_size);
    let steps = (cfg.epochs.saturating_sub(start_epoch) * steps_per_epoch) as u64;
    let pb = if opts.quiet {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new(steps)
    };
    let smoothing = cfg.loss.label_smoothing;
    let (mut test_loss, mut test_acc) = (f64::NAN, f64::NAN);
    let end_epoch = opts.stop_after.map_or(cfg.epochs, |s| s.min(cfg.epochs));
    for epoch in start_epoch..end_epoch {
        opt.epoch = epoch;
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut crate::rng::named(
            cfg.seed,
            &format!("train/shuffle/epoch{epoch}"),
        ));
        let mut epoch_loss = 0.0;
        for idx in order.chunks(cfg.batch_size) {
            let (out, tape) = model.forward(data.train.batch(idx));
            let mut grad = Mat::zeros(out.rows, out.cols);
            let loss = loss_of(&out, &data.train, idx, &data, smoothing, &mut grad);
            if !loss.is_finite() {
                run.flush()?;
                return Err(Error::Diverged {
                    step: opt.t,
                    epoch,
                    value: loss as f64,
                    dir: run.file("checkpoint.safetensors"),
                });
            }
            epoch_loss += loss as f64 * idx.len() as f64;
            grads.zero();
            model.backward(&tape, grad, &mut grads);
            opt.measure_norm = (opt.t + 1) % cfg.log_every == 0;
            let info = opt.step(&mut model.params_mut(), &mut grads);
            if opt.t % cfg.log_every == 0 {
                run.log(&serde_json::json!({
                    "step": opt.t, "epoch": epoch, "loss": loss, "lr": info.lr,
                    "grad_norm": info.grad_norm, "grad_norm_clipped": info.grad_norm_clipped,
                }))?;
            }
            pb.inc(1);
        }
        (test_loss, test_acc) = evaluate(&model, &data.test, &data, smoothing);
        if !test_loss.is_finite() {
            run.flush()?;
            return Err(Error::Diverged {
                step: opt.t,
                epoch,
                value: test_loss,
                dir: run.file("checkpoint.safetensors"),
            });
        }
        run.log(&serde_json::json!({
            "epoch": epoch + 1, "step": opt.t, "train_loss": epoch_loss / n as f64,
            "test_loss": test_loss, "test_acc": test_acc,
        }))?;
        run.flush()?;
        checkpoint::save(&run.file("checkpoint.safetensors"), &model, &opt, epoch + 1)?;
    }
    pb.finish_and_clear();
    if end_epoch < cfg.epochs {
        return Ok(Outcome {
            run_dir: run_dir.to_path_buf(),
            epochs: end_epoch,
            test_loss,
            test_acc,
            seconds: start.elapsed().as_secs_f64(),
            ei_balance_at_init,
            weight_stats: vec![],
        });
    }
    if start_epoch == cfg.epochs {
        (test_loss, test_acc) = evaluate(&model, &data.test, &data, smoothing);
    }
    let meta = HashMap::from([(
        "about".to_string(),
        format!("weights after {} epochs", cfg.epochs),
    )]);
    crate::io::checkpoint::save(
        &run.file("weights_final.safetensors"),
        &tensors_of(&model.params()),
        meta,
    )?;
    let outcome = Outcome {
        run_dir: run_dir.to_path_buf(),
        epochs: cfg.epochs,
        test_loss,
        test_acc,
        seconds: start.elapsed().as_secs_f64(),
        ei_balance_at_init,
        weight_stats: report::matrix_stats(&run, &model)?,
    };
    run.write_json("summary.json", &outcome)?;
    report::write_report(&run, cfg, &outcome)?;
    Ok(outcome)
}

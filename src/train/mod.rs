//! `geoplast train CONFIG.toml`: trains an MLP, column-EI or DANN network (or the r-of-k neuron)
//! with any optimiser configuration, into a run folder that can be resumed.
//!
//! The run folder holds the resolved `config.toml`, `metrics.jsonl`, `weights_init.safetensors`,
//! `checkpoint.safetensors` (weights, optimiser state and the epoch, rewritten atomically after
//! every epoch), `weights_final.safetensors`, `summary.json`, `curves.{png,svg}` and `report.md`.
//! The shuffle of epoch e is drawn from its own named generator, so a resumed run reaches the
//! same weights as an uninterrupted one.

pub mod config;
pub mod data;
pub mod memory;

use crate::error::{Error, Result};
use crate::io::RunDir;
use crate::io::checkpoint::{self, Tensor};
use crate::nn::colei::ei_split;
use crate::nn::loss::{bce, softmax_cross_entropy};
use crate::nn::{BiasKind, ColEi, Dann, Layer, Linear, Mat, Param, Sequential};
use crate::optim::{OptimConfig, Optimizer};
use config::{DataConfig, ModelConfig, ModelKind, TrainConfig};
use data::{Data, Split};
use rand::seq::SliceRandom;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// Builds the network for `inputs` features and `outputs` units.
pub fn build_model(
    cfg: &ModelConfig,
    opt: &OptimConfig,
    inputs: usize,
    outputs: usize,
    input_mean: f64,
    seed: u64,
) -> Sequential<f32> {
    let mut rng = crate::rng::named(seed, "train/init");
    let bias = cfg.bias.unwrap_or(if opt.keeps_signs() {
        BiasKind::Split
    } else if cfg.kind == ModelKind::Dann {
        BiasKind::Zero
    } else {
        BiasKind::Uniform
    });
    let mut dims = vec![inputs];
    dims.extend(&cfg.hidden);
    dims.push(outputs);
    let mut layers = Vec::new();
    for i in 0..dims.len() - 1 {
        let name = format!("layers.{i}");
        let last = i + 2 == dims.len();
        let layer = match cfg.kind {
            ModelKind::Mlp => Layer::Linear(Linear::new(
                &name,
                dims[i],
                dims[i + 1],
                cfg.init,
                bias,
                &mut rng,
            )),
            ModelKind::Colei if i == 0 => Layer::ColEi(ColEi::first_layer(
                &name, dims[0], dims[1], input_mean, &mut rng,
            )),
            ModelKind::Colei => {
                let (n_e, n_i) = ei_split(dims[i], cfg.ei_ratio);
                Layer::ColEi(ColEi::balanced(
                    &name,
                    n_e,
                    n_i,
                    dims[i + 1],
                    bias,
                    &mut rng,
                ))
            }
            ModelKind::Dann => {
                let n_i = if last {
                    1
                } else {
                    (dims[i + 1] / cfg.ei_ratio).max(1)
                };
                let mut d = Dann::new(
                    &name,
                    dims[i],
                    dims[i + 1],
                    n_i,
                    i > 0,
                    cfg.dann_divisive,
                    bias,
                    &mut rng,
                );
                d.corrections = cfg.dann_corrections;
                Layer::Dann(d)
            }
        };
        layers.push(layer);
        if !last {
            layers.push(Layer::Act(cfg.activation));
        }
    }
    Sequential { layers }
}

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

fn tensors_of(params: &[&Param<f32>]) -> BTreeMap<String, Tensor> {
    params
        .iter()
        .map(|p| {
            (
                p.name.clone(),
                Tensor {
                    shape: p.shape.clone(),
                    data: p.value.clone(),
                },
            )
        })
        .collect()
}

fn save_checkpoint(
    run: &RunDir,
    model: &Sequential<f32>,
    opt: &Optimizer<f32>,
    epoch: usize,
) -> Result<()> {
    let params = model.params();
    let mut t = tensors_of(&params);
    for (p, st) in params.iter().zip(&opt.states) {
        for (kind, v) in [
            ("momentum", &st.momentum),
            ("adam_m", &st.adam_m),
            ("adam_v", &st.adam_v),
            ("adam_vmax", &st.adam_vmax),
        ] {
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
    let meta = HashMap::from([
        ("epoch".to_string(), epoch.to_string()),
        ("step".to_string(), opt.t.to_string()),
    ]);
    checkpoint::save(&run.file("checkpoint.safetensors"), &t, meta)
}

fn load_checkpoint(
    path: &Path,
    model: &mut Sequential<f32>,
    opt: &mut Optimizer<f32>,
) -> Result<usize> {
    let (t, meta) = checkpoint::load(path)?;
    let num = |k: &str| -> Result<usize> {
        meta.get(k)
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| Error::data(path, format!("checkpoint metadata lacks `{k}`")))
    };
    let (epoch, step) = (num("epoch")?, num("step")?);
    let mut params = model.params_mut();
    opt.states = params.iter().map(|_| Default::default()).collect();
    for (p, st) in params.iter_mut().zip(opt.states.iter_mut()) {
        let tensor = t
            .get(&p.name)
            .ok_or_else(|| Error::data(path, format!("checkpoint has no tensor `{}`", p.name)))?;
        if tensor.shape != p.shape {
            return Err(Error::data(
                path,
                format!(
                    "`{}` has shape {:?} in the checkpoint, {:?} in the model",
                    p.name, tensor.shape, p.shape
                ),
            ));
        }
        p.value.copy_from_slice(&tensor.data);
        for (kind, v) in [
            ("momentum", &mut st.momentum),
            ("adam_m", &mut st.adam_m),
            ("adam_v", &mut st.adam_v),
            ("adam_vmax", &mut st.adam_vmax),
        ] {
            if let Some(s) = t.get(&format!("optimizer.{}.{kind}", p.name)) {
                *v = s.data.clone();
            }
        }
    }
    opt.t = step;
    Ok(epoch)
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

/// Weight statistics of every matrix (parameters with two dimensions) against the run's
/// `weights_init.safetensors`.
fn matrix_stats(
    run: &RunDir,
    model: &Sequential<f32>,
) -> Result<Vec<crate::analysis::weight_stats::WeightStats>> {
    let (init, _) = checkpoint::load(&run.file("weights_init.safetensors"))?;
    Ok(model
        .params()
        .iter()
        .filter(|p| p.shape.len() == 2)
        .filter_map(|p| {
            let w0: Vec<f64> = init.get(&p.name)?.data.iter().map(|&v| v as f64).collect();
            let w1: Vec<f64> = p.value.iter().map(|&v| v as f64).collect();
            Some(crate::analysis::weight_stats::weight_stats(
                &p.name, &w0, &w1,
            ))
        })
        .collect())
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
    let mut model = build_model(
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
    let mut run = RunDir::open(run_dir, resume)?;
    let start_epoch = if resume {
        let path = run.file("checkpoint.safetensors");
        let e = load_checkpoint(&path, &mut model, &mut opt)?;
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
        checkpoint::save(
            &run.file("weights_init.safetensors"),
            &tensors_of(&model.params()),
            meta,
        )?;
        save_checkpoint(&run, &model, &opt, 0)?;
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
            model.zero_grad();
            model.backward(&tape, grad);
            opt.measure_norm = (opt.t + 1) % cfg.log_every == 0;
            let info = opt.step(&mut model.params_mut());
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
        save_checkpoint(&run, &model, &opt, epoch + 1)?;
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
    checkpoint::save(
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
        weight_stats: matrix_stats(&run, &model)?,
    };
    run.write_json("summary.json", &outcome)?;
    write_report(&run, cfg, &outcome)?;
    Ok(outcome)
}

/// Learning curves from `metrics.jsonl` (all epochs, also those before a resume) and report.md.
fn write_report(run: &RunDir, cfg: &TrainConfig, o: &Outcome) -> Result<()> {
    use crate::report::{Figure, Panel, PanelKind, Series, plot};
    let path = run.file("metrics.jsonl");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let (mut ep, mut acc, mut tl, mut trl) = (vec![], vec![], vec![], vec![]);
    for v in text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
    {
        if let (Some(e), Some(a)) = (v["epoch"].as_f64(), v["test_acc"].as_f64()) {
            ep.push(e);
            acc.push(a);
            tl.push(v["test_loss"].as_f64().unwrap_or(f64::NAN));
            trl.push(v["train_loss"].as_f64().unwrap_or(f64::NAN));
        }
    }
    let fig = Figure {
        title: format!(
            "{:?} model, {} potential",
            cfg.model.kind, cfg.optimizer.potential
        ),
        cols: 2,
        panels: vec![
            Panel {
                title: "loss".into(),
                x_label: "epoch".into(),
                y_label: "loss".into(),
                kind: PanelKind::Lines(vec![
                    Series {
                        name: "train".into(),
                        x: ep.clone(),
                        y: trl,
                    },
                    Series {
                        name: "test".into(),
                        x: ep.clone(),
                        y: tl,
                    },
                ]),
            },
            Panel {
                title: "test accuracy".into(),
                x_label: "epoch".into(),
                y_label: "accuracy (%)".into(),
                kind: PanelKind::Lines(vec![Series {
                    name: "test".into(),
                    x: ep,
                    y: acc,
                }]),
            },
        ],
    };
    plot::save(&fig, &run.file("curves"))?;
    let mut report = format!(
        "# Training run\n\nModel {:?} (hidden {:?}), optimiser potential {}, lr {}, {} epochs, batch {}, seed {}.\n\n\
         Final test accuracy **{:.2} %**, test loss {:.4} ({:.1} s).\n\n![curves](curves.png)\n\n\
         Files: `config.toml`, `metrics.jsonl`, `weights_init.safetensors`, `weights_final.safetensors`, \
         `checkpoint.safetensors`.\n",
        cfg.model.kind,
        cfg.model.hidden,
        cfg.optimizer.potential,
        cfg.optimizer.lr,
        cfg.epochs,
        cfg.batch_size,
        cfg.seed,
        o.test_acc,
        o.test_loss,
        o.seconds,
    );
    if let DataConfig::Idx {
        validation: Some(n),
        ..
    } = &cfg.data
    {
        report += &format!(
            "\n\"Test\" numbers are on the last {n} training samples, held out for validation; the test files were not used.\n"
        );
    }
    if !o.weight_stats.is_empty() {
        report += "\n## Weights after training\n\n| matrix | n | sign flips | set to 0 | fraction grown | slope of abs(Δw) on abs(w_init) (p) | R² | skewness / excess kurtosis of ln abs(w) | log-lik. log-normal − half-normal |\n|---|---|---|---|---|---|---|---|---|\n";
        for w in &o.weight_stats {
            report += &format!(
                "| {} | {} | {} | {} | {:.3} | {:.3} ({:.2e}) | {:.3} | {:.2} / {:.2} | {:.1} |\n",
                w.name,
                w.n,
                w.sign_flips,
                w.zeroed,
                w.fraction_grown,
                w.multiplicative.slope,
                w.multiplicative.slope_p,
                w.multiplicative.r2,
                w.log_skewness,
                w.log_kurtosis,
                w.loglik_lognormal - w.loglik_halfnormal
            );
        }
        report += "\nA positive slope is the multiplicative signature of EG; sign flips are 0 under EG by construction.\n";
    }
    if !o.ei_balance_at_init.is_empty() {
        report += "\n## E/I balance at initialisation\n\n| layer | mean row sum of the effective matrix |\n|---|---|\n";
        for (name, v) in &o.ei_balance_at_init {
            report += &format!("| {name} | {v:.4} |\n");
        }
        report += "\nA balanced Dale initialisation has row sums near 0; a large value means an outlier \
                   eigenvalue and saturated units. The first column-EI layer is centred by its bias instead.\n";
    }
    run.write_text("report.md", &report)?;
    Ok(())
}

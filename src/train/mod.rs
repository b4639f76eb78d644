//! `geoplast train CONFIG.toml`: trains an MLP, column-EI or DANN network (or the r-of-k neuron,
//! or a linear student on a regression stream) with any optimiser configuration, into a run
//! folder that can be resumed. The loop itself is [`trainer`]; this module opens the source,
//! builds the model and the optimiser, and writes the outputs.
//!
//! The run folder holds the resolved `config.toml`, `metrics.jsonl`, `weights_init.safetensors`,
//! `checkpoint.safetensors` (weights, optimiser state, the source's position and the running
//! loss sums, rewritten atomically after every evaluation and on a stop), the named checkpoints
//! of `[checkpoints]` in `checkpoints/`, `weights_final.safetensors`, `summary.json`,
//! `curves.{png,svg}` and `report.md`. The batch of update t depends on t (and, for a stream,
//! on the saved position) alone, so a resumed run reaches the same weights as an uninterrupted
//! one.

pub mod checkpoint;
pub mod config;
pub mod data;
pub mod hooks;
pub mod init_from;
pub mod learner;
pub mod memory;
pub mod model;
pub mod overrides;
pub mod prune;
pub mod recurrent;
pub mod report;
pub mod run_hooks;
pub mod sequences;
pub mod source;
pub mod task_source;
pub mod trainer;

use crate::error::{Error, Result};
use crate::io::{Mode, RunDir};
use crate::kernels::Cpu;
use crate::optim::Optimizer;
use checkpoint::tensors_of;
use config::{DataConfig, ModelKind, TrainConfig, Unit};
use source::DataSource;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

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
    /// Epochs completed (0 for a stream).
    pub epochs: usize,
    /// Updates taken.
    pub updates: usize,
    pub test_loss: f64,
    /// Test accuracy in % (NaN, written null, for regression).
    pub test_acc: f64,
    /// The mean training loss over all updates: the area under the training-loss curve per
    /// update, a measure of how fast a run learns.
    pub train_loss_auc: f64,
    /// The mean training loss over the updates since the evaluation before the last one: the
    /// final epoch's when evaluating every epoch (the geometry paper selects rates by it).
    pub train_loss: f64,
    pub seconds: f64,
    /// Ended early by Ctrl-C or SIGTERM (the checkpoint is saved; resume to finish).
    #[serde(skip)]
    pub stopped: bool,
    /// Mean row sum of each Dale's-law layer's effective matrix at initialisation.
    pub ei_balance_at_init: Vec<(String, f64)>,
    /// A recurrent network's effective `W_rec` at initialisation: mean row sum and spectral
    /// radius.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recurrent_at_init: Option<crate::nn::ei_cells::EiReport>,
    /// Per weight matrix: sign flips, growth, the multiplicative signature, shape of ln|w|.
    pub weight_stats: Vec<crate::analysis::weight_stats::WeightStats>,
    /// Task streams: Dec Acc per task on the held-out set, beside its chance level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_task: Option<crate::tasks::cognitive::metrics::Scores>,
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
    /// Delete what the output folder holds before a new run (else a folder that holds files is
    /// refused).
    pub overwrite: bool,
    /// Stop after this many epochs (or updates, for a run counted in updates) in total, as an
    /// interrupted job would (resume later).
    pub stop_after: Option<usize>,
    /// No progress bar (runs of a sweep report through the sweep's bar).
    pub quiet: bool,
    /// Leave the process's signal handlers alone (a library caller such as Python, whose own
    /// interrupt reaches the run through `watcher`).
    pub no_signal_handler: bool,
    /// Called with the run's progress; can stop it.
    pub watcher: Option<hooks::Watcher>,
    /// Command-line overrides of the config (`key=value`), kept in `overrides.txt`.
    pub overrides: Vec<overrides::Override>,
}

/// Reads a config file, applies `overrides`, resolves the data folder (`--data-dir`, else the
/// config's folder, else Fashion-MNIST) and validates it.
pub fn load_config(
    path: &Path,
    data_dir: Option<&Path>,
    saved_dir: Option<&Path>,
    overrides: &[overrides::Override],
) -> Result<TrainConfig> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let origin = if overrides.is_empty() {
        path.display().to_string()
    } else {
        format!("{} with the command-line overrides", path.display())
    };
    let text = overrides::apply(&text, &origin, overrides)?;
    let mut cfg: TrainConfig = crate::io::config::parse(&text, &origin)?;
    if let (
        DataConfig::Idx {
            dir: dir @ None, ..
        },
        Some(saved),
    ) = (&mut cfg.data, saved_dir)
    {
        *dir = Some(saved.to_path_buf());
    }
    resolve(cfg, data_dir).map_err(|e| match e {
        Error::Config(m) => Error::Config(format!("{origin}: {m}")),
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
    // A resumed run reads the data folder it was made with unless told otherwise.
    let saved_dir = opts
        .resume
        .as_deref()
        .filter(|_| opts.data_dir.is_none())
        .and_then(saved_data_dir);
    let cfg = load_config(
        config_path,
        opts.data_dir.as_deref(),
        saved_dir.as_deref(),
        &opts.overrides,
    )?;
    let stem = config_path
        .file_stem()
        .map_or("run".into(), |s| s.to_string_lossy().to_string());
    // Two override sets never share a default folder.
    let default = || {
        let base = PathBuf::from("runs").join(stem);
        if opts.overrides.is_empty() {
            base
        } else {
            base.join(overrides::folder_name(&opts.overrides))
        }
    };
    let run_dir = opts
        .resume
        .as_deref()
        .or(opts.out.as_deref())
        .map_or_else(default, Path::to_path_buf);
    let mode = if opts.resume.is_some() {
        Mode::Resume
    } else if opts.overwrite {
        Mode::Overwrite
    } else {
        Mode::New
    };
    run(&cfg, &run_dir, mode, opts)
}

/// Errors unless `run_dir` holds a run that can continue: a folder with a checkpoint (or its
/// previous generation).
fn check_resumable(run_dir: &Path) -> Result<()> {
    if !run_dir.is_dir() {
        return Err(Error::Config(format!(
            "cannot resume {}: no such folder (start a new run with --out)",
            run_dir.display()
        )));
    }
    let ck = run_dir.join("checkpoint.safetensors");
    if !ck.exists() && !crate::io::checkpoint::previous(&ck).exists() {
        return Err(Error::Config(format!(
            "cannot resume {}: it holds no checkpoint (a run killed while it started?); start \
             it again with --out {} --overwrite",
            run_dir.display(),
            run_dir.display()
        )));
    }
    Ok(())
}

/// Errors unless `given` are the overrides the run in `run_dir` was started with.
fn check_same_overrides(run_dir: &Path, given: &[overrides::Override]) -> Result<()> {
    let saved = std::fs::read_to_string(run_dir.join("overrides.txt")).unwrap_or_default();
    let given = overrides::file_text(given);
    if saved == given {
        return Ok(());
    }
    let show = |t: &str| {
        if t.is_empty() {
            "none".to_string()
        } else {
            t.lines().collect::<Vec<_>>().join(" ")
        }
    };
    Err(Error::Config(format!(
        "cannot resume {}: it was started with the overrides {}, not {}; resume with the same \
         overrides",
        run_dir.display(),
        show(&saved),
        show(&given)
    )))
}

/// The data folder saved in a run folder's config (None if it has none).
fn saved_data_dir(run_dir: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(run_dir.join("config.toml")).ok()?;
    let v: toml::Value = toml::from_str(&text).ok()?;
    v.get("data")?.get("dir")?.as_str().map(PathBuf::from)
}

/// Errors unless the run folder `run_dir` was made with the config `cfg` (before a resume). A
/// saved data folder is compared as a canonical path (runs made before paths were canonical
/// saved it as typed).
pub fn check_same_config(run_dir: &Path, cfg: &TrainConfig) -> Result<()> {
    let resolved = toml::to_string(cfg).expect("config serialises");
    let saved_path = run_dir.join("config.toml");
    let saved = std::fs::read_to_string(&saved_path).map_err(|e| Error::io(&saved_path, e))?;
    let mut a: toml::Value =
        toml::from_str(&saved).map_err(|e| Error::data(&saved_path, e.to_string()))?;
    if let Some(dir) = a.get_mut("data").and_then(|d| d.get_mut("dir"))
        && let Some(s) = dir.as_str()
    {
        let c = data::canonical(PathBuf::from(s));
        *dir = toml::Value::String(c.to_string_lossy().into_owned());
    }
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

/// What the trainer needs to know of a source's data to build the model.
struct Shape {
    inputs: usize,
    outputs: usize,
    input_mean: f64,
    min_input: f64,
    /// Steps per sequence (1 for samples).
    steps: usize,
}

/// Opens the data source of `cfg` (loading or generating its data).
fn open_source(cfg: &TrainConfig) -> Result<(Box<DataSource>, Shape)> {
    if let DataConfig::Teacher { task } = &cfg.data {
        let stream = crate::tasks::teacher::TeacherStream::new(*task, cfg.seed);
        let shape = Shape {
            inputs: task.inputs,
            outputs: task.outputs,
            input_mean: 0.0,
            min_input: f64::NEG_INFINITY,
            steps: 1,
        };
        return Ok((
            Box::new(source::Stream::new(stream, cfg.batch_size, cfg.seed)),
            shape,
        ));
    }
    if let DataConfig::Tasks {
        set,
        steps,
        dt,
        labels,
        noise,
        held_out,
        evaluate,
        epoch_updates,
    } = &cfg.data
    {
        let set = crate::tasks::cognitive::TaskSet::named(set).map_err(Error::Config)?;
        let (inputs, outputs) = (set.inputs(), set.outputs());
        let d = task_source::TaskData {
            dt: dt.unwrap_or(set.default_dt()),
            set,
            steps: *steps,
            labels: *labels,
            noise: *noise,
            held_out: *held_out,
            evaluate: evaluate.clone(),
            epoch_updates: *epoch_updates,
        };
        let src =
            task_source::TaskStream::new(d, cfg.batch_size, cfg.seed).map_err(Error::Config)?;
        let shape = Shape {
            inputs,
            outputs,
            input_mean: src.mean_input(),
            // The task inputs are ≥ 0 before the zero-mean noise is added.
            min_input: 0.0,
            steps: *steps,
        };
        return Ok((Box::new(src), shape));
    }
    let mut data = data::load(&cfg.data, cfg.seed)?;
    if let Some(r) = cfg
        .model
        .rnn
        .as_ref()
        .filter(|_| cfg.model.kind == ModelKind::Rnn)
    {
        data = data::as_sequences(data, r.cell == config::Cell::Dense)?;
    }
    if data.train.is_empty() || data.test.is_empty() {
        return Err(Error::Config(
            "the data set has no training or no test samples".into(),
        ));
    }
    let shape = Shape {
        inputs: data.train.dim(),
        outputs: data.outputs,
        input_mean: data.train.mean_input(),
        min_input: data.train.min_input(),
        steps: match &data.train {
            data::Split::Seq(s) => s.steps,
            _ => 1,
        },
    };
    Ok((
        Box::new(source::Shuffled::new(data, cfg.batch_size, cfg.seed)),
        shape,
    ))
}

/// The model of `cfg` for data of `shape`, started from the tensors of `start` if given.
fn model_of(cfg: &TrainConfig, shape: &Shape, start: Option<&Path>) -> Result<model::Model> {
    let mut m = model::build(
        &cfg.model,
        &cfg.optimizer,
        shape.inputs,
        shape.outputs,
        shape.input_mean,
        cfg.seed,
    );
    if let Some(path) = start {
        init_from::apply(&mut m, path)?;
    }
    Ok(m)
}

/// The model `geoplast train` would start `cfg` (resolved and validated) from: its data are
/// opened for their sizes (what `geoplast spectrum CONFIG.toml` inspects before training).
pub fn initial_model(cfg: &TrainConfig) -> Result<model::Model> {
    let (_, shape) = open_source(cfg)?;
    model_of(cfg, &shape, cfg.init_from.as_deref())
}

/// Trains `cfg` (resolved and validated) into `run_dir`, or continues it from its checkpoint
/// when `resume` is set.
pub fn run(cfg: &TrainConfig, run_dir: &Path, mode: Mode, opts: &RunOptions) -> Result<Outcome> {
    let resume = mode == Mode::Resume;
    let resolved = toml::to_string(cfg).expect("config serialises");
    let (length, unit) = cfg.length();
    if opts.stop_after == Some(0) {
        return Err(Error::Config(format!(
            "--stop-after must be at least 1 (it counts {} in total)",
            unit.key()
        )));
    }
    if resume {
        check_resumable(run_dir)?;
        check_same_overrides(run_dir, &opts.overrides)?;
        check_same_config(run_dir, cfg)?;
    }
    memory::check_data(&cfg.data)?;
    let (mut source, shape) = open_source(cfg)?;
    memory::check_model(&cfg.model, shape.inputs, shape.outputs)?;
    let rnn = cfg
        .model
        .rnn
        .as_ref()
        .filter(|_| cfg.model.kind == ModelKind::Rnn);
    if let Some(w) = rnn.and_then(|r| r.window).filter(|&w| w > shape.steps) {
        return Err(Error::Config(format!(
            "model.rnn.window = {w} is longer than the sequences ({} steps): use a window of at \
             most {} steps, or unset it for full BPTT",
            shape.steps, shape.steps
        )));
    }
    if rnn.is_some() {
        // Training batches of `batch_size` sequences (a window's worth of steps under
        // truncation), and evaluation batches of whole sequences.
        let window = rnn.and_then(|r| r.window).unwrap_or(shape.steps);
        let h = cfg.model.hidden[0];
        memory::check_record(window, cfg.batch_size, h)?;
        memory::check_record(shape.steps, source::eval_sequences(shape.steps), h)?;
    }
    let dale_cell = rnn.is_some_and(|r| r.cell != config::Cell::Dense);
    if (rnn.is_none() && cfg.model.kind != ModelKind::Mlp || dale_cell) && shape.min_input < 0.0 {
        return Err(Error::Config(format!(
            "{} models need non-negative inputs such as pixels/255 (the smallest input is {}): \
             rescale the data to [0, 1]",
            match rnn {
                Some(r) => format!("{:?} rnn", r.cell).to_lowercase(),
                None => format!("{:?}", cfg.model.kind).to_lowercase(),
            },
            shape.min_input
        )));
    }
    // A resumed run starts from its own initial weights (so that the reports of the
    // initialisation below are the run's, `init_from` or not), then loads its checkpoint.
    let init_file = run_dir.join("weights_init.safetensors");
    let start = match resume {
        true => init_file.exists().then_some(init_file.as_path()),
        false => cfg.init_from.as_deref(),
    };
    let mut model = model_of(cfg, &shape, start)?;
    // A new run prunes its starting weights; a resumed one has its masks from weights_init.
    if let (Some(p), false) = (&cfg.prune, resume) {
        let pruned = prune::apply(p, &mut model)?;
        if !opts.quiet {
            let (kept, all) = pruned.iter().fold((0, 0), |a, x| (a.0 + x.1, a.1 + x.2));
            eprintln!(
                "pruned {} of {all} weights ({}): {kept} kept",
                all - kept,
                pruned
                    .iter()
                    .map(|(n, k, a)| format!("{n} {k}/{a}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    if cfg.optimizer.keeps_signs()
        && let Some(p) = model.params().into_iter().find(|p| {
            // Masked entries (an E/I readout's weights from I units) are fixed at 0.
            p.value
                .iter()
                .enumerate()
                .any(|(i, &v)| v == 0.0 && p.mask.as_ref().is_none_or(|m| m[i]))
        })
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
    let recurrent_at_init = model.recurrent_report();
    if let (Some(r), false) = (&recurrent_at_init, opts.quiet) {
        eprintln!(
            "recurrent matrix at initialisation: mean row sum {:.4}, spectral radius {:.4}",
            r.mean_row_sum, r.spectral_radius
        );
    }
    let mut opt = Optimizer::<f32>::new(cfg.optimizer.clone()).map_err(Error::Config)?;
    opt.groups()
        .check_matches(model.params().iter().map(|p| p.name.as_str()))
        .map_err(Error::Config)?;
    // Lengths in updates: an epoch is `per_epoch` updates.
    let per_epoch = source.updates_per_epoch();
    let in_updates = |n: usize| match unit {
        Unit::Epochs => n.saturating_mul(per_epoch.unwrap_or(1)),
        Unit::Updates => n,
    };
    let total = in_updates(length);
    let mut run = RunDir::open(run_dir, mode)?;
    let mut totals = trainer::Totals::default();
    let start = if resume {
        let path = run.file("checkpoint.safetensors");
        let (pos, meta) = checkpoint::load(&path, &mut model, &mut opt)?;
        source.restore(&meta).map_err(|e| Error::data(&path, e))?;
        totals = trainer::Totals::restore(&meta).map_err(|e| Error::data(&path, e))?;
        let beyond = match unit {
            Unit::Epochs if pos.epoch > length => Some(format!("epoch {}", pos.epoch)),
            _ if pos.step > total => Some(format!("update {}", pos.step)),
            _ => None,
        };
        if let Some(at) = beyond {
            return Err(Error::data(
                path,
                format!(
                    "the checkpoint is at {at}, beyond the config's {length} {}: it does not \
                     belong to this run (start a new run with --out)",
                    unit.key()
                ),
            ));
        }
        if let Some(s) = opts
            .stop_after
            .filter(|&s| in_updates(s) <= pos.step && s < length)
        {
            let at = match unit {
                Unit::Epochs => pos.epoch,
                Unit::Updates => pos.step,
            };
            return Err(Error::Config(format!(
                "--stop-after {s}: the run is already at {} {at}; give a later one (at most \
                 {length})",
                unit.key().trim_end_matches('s')
            )));
        }
        run.truncate_metrics_after(pos.step)?;
        pos.step
    } else {
        run.write_text("config.toml", &resolved)?;
        if !opts.overrides.is_empty() {
            run.write_text("overrides.txt", &overrides::file_text(&opts.overrides))?;
        }
        let meta = HashMap::from([("about".to_string(), "initial weights".to_string())]);
        crate::io::checkpoint::save(
            &run.file("weights_init.safetensors"),
            &tensors_of(&model.params()),
            meta,
        )?;
        checkpoint::save(
            &run.file("checkpoint.safetensors"),
            &model,
            &opt,
            &checkpoint::Extra::default(),
        )?;
        0
    };
    let end = opts.stop_after.map_or(total, |s| in_updates(s).min(total));
    if !opts.no_signal_handler {
        hooks::install_stop_handler();
    }
    let clock = std::time::Instant::now();
    let sequences = rnn.map_or_else(recurrent::Sequences::default, |r| recurrent::Sequences {
        noise: r.noise,
        alpha: r.alpha(),
        noise_in_evaluation: r.noise_in_evaluation,
        window: r.window,
        seed: cfg.seed,
    });
    let mut net = learner::Network::new(
        &Cpu,
        &mut model,
        &mut opt,
        cfg.loss.label_smoothing,
        sequences.clone(),
    );
    let mut hooks = run_hooks::RunHooks::new(&mut run, cfg);
    let mut t = trainer::Trainer {
        learner: &mut net,
        source: source.as_mut(),
        hooks: &mut hooks,
        schedule: trainer::Schedule {
            per_epoch,
            eval_every: cfg.eval_every,
            eval_at_start: false,
            stoppable: true,
            progress: !opts.quiet,
        },
        log_every: cfg.log_every,
        totals,
        watcher: opts.watcher.as_ref(),
    };
    let end_state = t.train(start, end, total)?;
    let totals = t.totals.clone();
    let stopped = end_state.stopped;
    // A run resumed at its end trains nothing: evaluate it here, and take its last training
    // loss from the log.
    let (test_loss, test_acc, train_loss) = if start == total {
        let m = learner::evaluate(
            &Cpu,
            &model,
            &sequences,
            source.as_ref(),
            cfg.loss.label_smoothing,
        );
        (m.loss, m.acc, report::last_train_loss(&run)?)
    } else {
        end_state
            .last
            .as_ref()
            .map_or((f64::NAN, f64::NAN, f64::NAN), |e| {
                let acc = e.metrics.iter().find(|(m, _)| *m == "test_acc");
                (e.loss, acc.map_or(f64::NAN, |m| m.1), end_state.train_loss)
            })
    };
    let partial = Outcome {
        run_dir: run_dir.to_path_buf(),
        epochs: per_epoch.map_or(0, |e| end_state.updates / e),
        updates: end_state.updates,
        test_loss,
        test_acc,
        train_loss_auc: totals.auc(),
        train_loss,
        seconds: clock.elapsed().as_secs_f64(),
        stopped,
        ei_balance_at_init,
        recurrent_at_init,
        weight_stats: vec![],
        per_task: None,
    };
    if end_state.updates < total {
        if stopped {
            eprintln!(
                "stopped by a signal after update {}; the checkpoint is saved: continue with \
                 --resume {}",
                end_state.updates,
                run_dir.display()
            );
        }
        return Ok(partial);
    }
    let meta = HashMap::from([(
        "about".to_string(),
        format!("weights after {length} {}", unit.key()),
    )]);
    crate::io::checkpoint::save(
        &run.file("weights_final.safetensors"),
        &tensors_of(&model.params()),
        meta,
    )?;
    if let Some(t) = model.torch_tensors() {
        let meta = HashMap::from([(
            "about".to_string(),
            "final weights in PyTorch's layout (load_state_dict accepts them as they are)"
                .to_string(),
        )]);
        crate::io::checkpoint::save(&run.file("weights_torch.safetensors"), &t, meta)?;
    }
    let per_task = learner::per_group(&Cpu, &model, &sequences, source.as_ref());
    if let Some(s) = &per_task {
        report::per_task_files(&run, s)?;
    }
    let outcome = Outcome {
        weight_stats: report::matrix_stats(&run, &model)?,
        per_task,
        ..partial
    };
    run.write_json("summary.json", &outcome)?;
    report::write_report(&run, cfg, &outcome)?;
    Ok(outcome)
}

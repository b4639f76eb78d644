//! The `geoplast` command line.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use geoplast::experiments::r_of_k;
use geoplast::io::durable;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Parser)]
#[command(
    name = "geoplast",
    version,
    about = "Geometry of plasticity: train Dale's-law networks with mirror descent (GD, EG, p-norms, \
             hypentropy) and reproduce the papers' results.",
    after_help = "Examples:\n  geoplast reproduce r-of-k\n  geoplast train experiments/mlp_fmnist_eg.toml --out runs/mlp-eg"
)]
struct Cli {
    /// Worker threads (default: all cores). The same seed and thread count give the same numbers.
    #[arg(long, global = true)]
    threads: Option<usize>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Experiment {
    /// EG paper Fig 4B: GD vs EG on a single neuron as irrelevant inputs are added.
    ROfK,
    /// Geometry paper Fig 3B: the geometry test on synthetic changes, normal and log-normal inits.
    Robustness,
    /// Geometry paper Fig 2: ΔCDF of linear regression trained with NE, 2- and 3-norm vs D.
    Linreg,
    /// Geometry paper: train with one potential, analyse with every candidate (cross table).
    WrongPotential,
    /// Cornford et al. 2021 on Fashion-MNIST: MLP, DANN and column-EI, each with GD and EG.
    DannFmnist,
    /// EG paper Fig 1, S1–S5: one dense ReLU RNN on the 82 Mod-Cog tasks by EG, GD, cSGD and
    /// unsigned EG (CPU scale; --full projects the paper's scale).
    Modcog,
    /// EG paper Fig 3, S6, S7: the Mod-Cog EG and GD networks pruned by magnitude and retrained.
    Pruning,
    /// Geometry paper E8: a tanh RNN pretrained and fine-tuned on N = √D images with NE, 2- and
    /// 3-norm; the geometry test on W_hh's change under every analysis potential.
    RnnFinetune,
    /// Li et al. 2023 (E10): dense, column-EI and DANN RNNs by GD and EG on sequential
    /// Fashion-MNIST and the adding problem, with the spectra of their recurrent matrices.
    DaleRnn,
}

/// Options of `geoplast geometry`.
#[derive(clap::Args)]
struct GeometryArgs {
    /// Weights before learning (.csv/.npy/.npz column, or .safetensors).
    #[arg(long, requires = "after", conflicts_with = "weights")]
    before: Option<PathBuf>,
    /// Weights after learning (same synapses, same order).
    #[arg(long, requires = "before")]
    after: Option<PathBuf>,
    /// Synapses × sessions tables (.csv/.npy/.npz files or folders of them).
    #[arg(long, num_args = 1..)]
    weights: Vec<PathBuf>,
    /// Which sessions to pair: consecutive, first-last, or I:J (0-based).
    #[arg(long, default_value = "consecutive")]
    pairs: geoplast::io::pairs::SessionPairs,
    /// Only tensors whose name matches (safetensors; `*` is a wildcard; repeatable).
    #[arg(long)]
    include: Vec<String>,
    /// Skip tensors whose name matches (e.g. '*fc*' for classifier layers; repeatable).
    #[arg(long)]
    exclude: Vec<String>,
    /// Candidate potentials, e.g. "ne,p1.1:3.0:0.1,hyp0.01" (default: NE, p 1.1…3.0, hypentropy grid).
    #[arg(long, default_value = "default")]
    candidates: String,
    /// Rank by the centred ΔCDF (mean removed) instead of the uncentred one.
    #[arg(long)]
    centred: bool,
    /// Bootstrap replicates (0 turns the bootstrap off).
    #[arg(long, default_value_t = 200)]
    bootstrap: usize,
    /// Drop pairs with a value <= 0 from every candidate (e.g. imaging data with background-subtracted zeros).
    #[arg(long)]
    drop_nonpositive: bool,
    /// With sign changes, still score negative entropy on the sign-preserving pairs (flagged).
    #[arg(long)]
    ne_subset: bool,
    /// Missing values (blank cells, NA, NaN): an error, or drop the synapses that have one.
    #[arg(long, value_enum, default_value = "error")]
    missing: geoplast::io::weights::Missing,
    /// Divide each table by its median positive value (files in different units).
    #[arg(long, value_parser = ["none", "median"], default_value = "none")]
    normalize: String,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Write report.md, report.json and plots here.
    #[arg(long)]
    out: Option<PathBuf>,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Measurement noise of the weights, w_obs = w·exp(ε_mult) + ε_add: `add=SD,mult=SD`. Each
    /// candidate is then also compared with its own simulated null instead of the Gaussian floor.
    #[arg(long, conflicts_with = "noise_from")]
    measurement_noise: Option<geoplast::analysis::noise::MeasurementNoise>,
    /// Estimate the measurement noise from two sessions I:J of the --weights tables with no
    /// learning in between (e.g. two images minutes apart), by maximum likelihood.
    #[arg(long, requires = "weights")]
    noise_from: Option<String>,
    /// Also rank the candidates for each tensor separately (two .safetensors files): a table
    /// and per_tensor.png, one row per tensor.
    #[arg(long)]
    per_tensor: bool,
    /// How the tensors of two .safetensors files are pooled: their raw dual changes, or each
    /// tensor's divided by its sd under each candidate first (tensors whose changes differ in
    /// scale then weigh alike).
    #[arg(long, value_parser = ["raw", "standardised"], default_value = "raw")]
    pool: String,
    /// Simulated data sets per candidate for the noise-aware test.
    #[arg(long, default_value_t = 200)]
    noise_reps: usize,
}

/// Options of `geoplast power`.
#[derive(clap::Args)]
struct PowerArgs {
    /// The geometry learning is assumed to follow.
    #[arg(long, default_value = "ne")]
    truth: String,
    /// The geometries to tell it from.
    #[arg(long, default_value = "p1.5,p2")]
    alternatives: String,
    /// Initial weights: lognormal:MU,SIGMA (of ln w).
    #[arg(long, default_value = "lognormal:-1,0.7", conflicts_with = "init_from")]
    init: String,
    /// Initial weights resampled from a table of measured weights (first column, |w| > 0).
    #[arg(long)]
    init_from: Option<PathBuf>,
    /// sd of the learning-induced dual change under the truth (for NE, of ln w).
    #[arg(long, default_value_t = 0.3)]
    change: f64,
    /// Measurement noise levels, one curve each (repeatable): add=SD,mult=SD.
    #[arg(long, default_values = ["mult=0", "mult=0.1"])]
    noise: Vec<geoplast::analysis::noise::MeasurementNoise>,
    /// Synapse counts to simulate.
    #[arg(long, value_delimiter = ',', default_value = "100,300,1000,3000,10000")]
    synapses: Vec<usize>,
    /// Simulated studies per point.
    #[arg(long, default_value_t = 200)]
    reps: usize,
    /// Simulated null data sets per candidate and point.
    #[arg(long, default_value_t = 200)]
    null_reps: usize,
    /// Level of each candidate's test.
    #[arg(long, default_value_t = 0.05)]
    alpha: f64,
    /// The power the one-line answers ask for.
    #[arg(long, default_value_t = 0.8)]
    power: f64,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
    /// Write report.md, report.json and power.png/svg here.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Options of `geoplast sweep`.
#[derive(clap::Args)]
struct SweepArgs {
    /// The sweep file (see experiments/*_sweep.toml).
    sweep: PathBuf,
    /// The sweep folder (default: runs/<sweep name>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Folder with IDX files for every run (as `train --data-dir`).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Runs at a time (default: threads / threads-per-run).
    #[arg(long)]
    jobs: Option<usize>,
    /// Threads inside each run.
    #[arg(long, default_value_t = 1)]
    threads_per_run: usize,
    /// Execute only run I (0-based; what each SLURM array task does); no summary.
    #[arg(long)]
    index: Option<usize>,
    /// List the runs and their status without training.
    #[arg(long, conflicts_with_all = ["index", "emit_slurm"])]
    dry_run: bool,
    /// Only collect summary.{csv,md,json} from the run folders.
    #[arg(long, conflicts_with_all = ["index", "emit_slurm"])]
    summary_only: bool,
    /// Write OUT/slurm/sweep.sbatch (a job array, one task per run) and OUT/slurm/commands.txt
    /// instead of running.
    #[arg(long, conflicts_with = "index")]
    emit_slurm: bool,
    /// A scheduler option for --emit-slurm, KEY=VALUE (repeatable; overrides the sweep file's
    /// [slurm] table): partition, account, time, mem, cpus_per_task, gres, throttle.
    #[arg(long, requires = "emit_slurm")]
    slurm: Vec<String>,
}

/// Options of `geoplast reproduce`.
#[derive(clap::Args)]
struct ReproduceArgs {
    experiment: Experiment,
    /// Run a reduced protocol for smoke tests (r-of-k: N ∈ {200, 2000}; others: fewer seeds
    /// and sizes).
    #[arg(long)]
    quick: bool,
    /// linreg: the full D grid up to 20,000 (minutes) instead of the table's D values;
    /// dann-fmnist: the paper's 50 epochs instead of 20; modcog: time 3 updates at the
    /// paper's scale (H = 2500, batch 512) and project the protocol's total; rnn-finetune:
    /// H = 1,000 (D = 10⁶; hours) instead of 100.
    #[arg(long, conflicts_with = "quick")]
    full: bool,
    /// modcog: add E2's initialisation comparison (uniform and normal, EG and GD, first seed).
    #[arg(long)]
    inits: bool,
    /// dann-fmnist, rnn-finetune, dale-rnn: folder with IDX files (default: the Debian
    /// Fashion-MNIST folder).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// pruning: the Mod-Cog reproduction to prune (default runs/modcog, or runs/modcog-quick
    /// with --quick); its runs are made first where they are missing.
    #[arg(long)]
    from: Option<PathBuf>,
    /// Output run folder (default: runs/<experiment>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Delete what the output folder holds and compute everything again (without it, a
    /// complete folder is reported as it is, and dann-fmnist resumes its runs).
    #[arg(long)]
    overwrite: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Reproduce a paper result into a run folder (table, metrics, weights, plots, report.md).
    #[command(
        after_help = "Example:\n  geoplast reproduce r-of-k --out runs/r-of-k\n  geoplast reproduce r-of-k --quick"
    )]
    Reproduce(ReproduceArgs),
    /// Which geometry of plasticity is consistent with how these synapses changed? (paired test)
    #[command(after_help = "Examples:\n  \
        geoplast geometry --before w0.csv --after w1.csv\n  \
        geoplast geometry --weights synapses_by_session.npy --pairs consecutive --out runs/geo\n  \
        geoplast geometry --before init.safetensors --after final.safetensors --exclude '*fc*' --json\n  \
        geoplast geometry --weights ../shared/data/melander2021/all_raw_pyr_green --normalize median --drop-nonpositive")]
    Geometry(GeometryArgs),
    /// Which geometries can final weights alone rule out? (unpaired fit; excludes, never identifies)
    #[command(
        after_help = "Examples:\n  geoplast fit --weights epsp_mv.csv\n  geoplast fit --weights final.npy --column 7 --out runs/fit --json"
    )]
    Fit {
        /// A table of weights (.csv/.npy/.npz); one column is used.
        #[arg(long)]
        weights: PathBuf,
        /// Which column (0-based) of a multi-column table.
        #[arg(long, default_value_t = 0)]
        column: usize,
        /// Missing values (blank cells, NA, NaN): an error, or drop the synapses that have one.
        #[arg(long, value_enum, default_value = "error")]
        missing: geoplast::io::weights::Missing,
        /// Candidate potentials (same syntax as `geometry`).
        #[arg(long, default_value = "ne,p1.5,p2,p2.5,p3")]
        candidates: String,
        /// Print the fits as JSON.
        #[arg(long)]
        json: bool,
        /// Write report.md, report.json and a density plot here.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Run a grid of training runs (seeds × learning rates × optimisers × models) in parallel,
    /// resumable, into one summary table; or emit it as a SLURM job array.
    #[command(after_help = "Examples:\n  \
        geoplast sweep experiments/fmnist_lr_sweep.toml --dry-run\n  \
        geoplast sweep experiments/fmnist_lr_sweep.toml --out runs/lr\n  \
        geoplast sweep experiments/fmnist_lr_sweep.toml --out /shared/lr --emit-slurm")]
    Sweep(SweepArgs),
    /// How many synapses, at what measurement noise, tell the true geometry from the
    /// alternatives? (simulates whole studies through the noise-aware geometry test)
    #[command(after_help = "Examples:\n  \
        geoplast power --truth ne --alternatives p1.5,p2 --noise mult=0.05 --noise mult=0.2\n  \
        geoplast power --init-from baseline_weights.csv --change 0.2 --synapses 500,2000,8000 --out runs/power")]
    Power(PowerArgs),
    /// Singular values, SVD entropy, eigenvalues and spectral radius of every weight matrix:
    /// of a .safetensors file, of a run folder (Dale's-law matrices rebuilt as the network uses
    /// them), or of the model a training config starts from.
    #[command(after_help = "Examples:\n  \
        geoplast spectrum experiments/rnn_colei_clamp.toml      # the E/I initialisation, before training\n  \
        geoplast spectrum runs/rnn_colei_clamp --out runs/rnn_colei_clamp/spectrum\n  \
        geoplast spectrum weights.safetensors --include 'rnn.*' --json")]
    Spectrum {
        /// A .safetensors file, a run folder, or a training config (.toml).
        source: PathBuf,
        /// A run folder's initial weights instead of its final ones.
        #[arg(long)]
        init: bool,
        /// Tensor-name globs to keep (.safetensors input).
        #[arg(long)]
        include: Vec<String>,
        /// Tensor-name globs to leave out (.safetensors input).
        #[arg(long)]
        exclude: Vec<String>,
        /// Folder with IDX files, for a config that reads images.
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Print JSON instead of the table.
        #[arg(long)]
        json: bool,
        /// Write spectrum.json, spectrum.md and spectrum.{png,svg} here.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The cognitive tasks (Yang-19, Mod-Cog, classic NeuroGym tasks): list them, picture a
    /// task's trials, or sample windows of task streams into an .npz file for PyTorch.
    #[command(subcommand)]
    Tasks(TasksCmd),
    /// Hidden states of a trained task RNN on fresh trials (with period labels, task and
    /// target) and the task-variance matrix of Yang et al. 2019 with a heat map.
    #[command(after_help = "Example:\n  \
        geoplast activity runs/rnn_modcog_eg --tasks go,dm1,dms --trials 20 --out runs/rnn_modcog_eg/activity.npz")]
    Activity {
        /// A finished run folder of a recurrent network trained with data.kind = "tasks".
        run_dir: PathBuf,
        /// Comma-separated task names (default: every task of the run's set).
        #[arg(long, value_delimiter = ',')]
        tasks: Vec<String>,
        /// Trials per task.
        #[arg(long, default_value_t = 20)]
        trials: usize,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// The .npz to write (the heat map goes beside it as .png and .svg).
        #[arg(long)]
        out: PathBuf,
        /// Replace an existing output file.
        #[arg(long)]
        overwrite: bool,
    },
    /// Train a model described by a TOML config (see experiments/*.toml).
    #[command(
        after_help = "Example:\n  geoplast train experiments/r_of_k_eg.toml --out runs/rofk-eg\n  \
                            geoplast train experiments/mlp_fmnist_eg.toml --resume runs/mlp-eg"
    )]
    Train {
        /// The config file.
        config: PathBuf,
        /// Folder with IDX files (default: the Debian dataset-fashion-mnist folder when present).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Output run folder (default: runs/<config file stem>).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Continue the run in this folder from its last checkpoint.
        #[arg(long, conflicts_with = "out")]
        resume: Option<PathBuf>,
        /// Delete what the output folder holds before training (without it, a folder that
        /// holds files is refused, so a run is never mixed with another).
        #[arg(long, conflicts_with = "resume")]
        overwrite: bool,
        /// Stop after this many epochs (or updates, for a run counted in updates) in total
        /// (e.g. to fit a cluster time limit); continue later with --resume.
        #[arg(long)]
        stop_after: Option<usize>,
        /// Overrides of the config, KEY=VALUE with dotted keys (optimizer.lr=0.3,
        /// model.hidden=[256,256], optimizer.groups.gains.lr=0.01); kept in overrides.txt.
        /// With --multirun, KEY=A,B,C gives an axis of a grid.
        overrides: Vec<String>,
        /// Run the grid of the comma-separated override values as a sweep, into
        /// runs/<config stem>-multirun (the sweep file it runs is written there as multirun.toml).
        #[arg(long, conflicts_with_all = ["resume", "stop_after"])]
        multirun: bool,
        /// With --multirun: the selection metric (test_acc, test_loss, train_loss, train_loss_auc).
        #[arg(long, requires = "multirun")]
        metric: Option<String>,
        /// With --multirun: runs at a time.
        #[arg(long, requires = "multirun")]
        jobs: Option<usize>,
        /// With --multirun: list the runs without training.
        #[arg(long, requires = "multirun")]
        dry_run: bool,
        /// With --multirun: write a SLURM job array instead of running.
        #[arg(long, requires = "multirun")]
        emit_slurm: bool,
    },
}

/// `println!` that returns a write error (say, a full disk behind `> file`) instead of
/// panicking; a closed pipe still ends the process quietly (SIGPIPE, see `default_sigpipe`).
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout(), $($arg)*).context("writing to standard output")
    }};
}

#[derive(Subcommand)]
enum TasksCmd {
    /// Every task: rule index, family, input and output sizes, dt, mean trial length, periods.
    List {
        /// Print JSON instead of the table.
        #[arg(long)]
        json: bool,
    },
    /// A picture (PNG + SVG) of a few trials of one task: inputs over time, target class,
    /// decision mask and period boundaries.
    #[command(after_help = "Example:\n  geoplast tasks show dlydm1 --out runs/tasks")]
    Show {
        name: String,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Trials to draw.
        #[arg(long, default_value_t = 3)]
        trials: usize,
        /// Time step in ms (default: the task's).
        #[arg(long)]
        dt: Option<u32>,
        /// Folder for NAME.png and NAME.svg.
        #[arg(long, default_value = "runs/tasks")]
        out: PathBuf,
    },
    /// One window of B task streams of T steps as .npz: x float32 [T, B, in], y int64 [T, B],
    /// mask bool [T, B] (decision steps), task int32 [T, B], task_names.
    #[command(after_help = "Examples:\n  \
        geoplast tasks sample modcog --batch 512 --steps 350 --seed 7 --out modcog.npz\n  \
        geoplast tasks sample go_no_go --batch 16 --steps 100 --seed 0 --out gng.npz --noise")]
    Sample {
        /// A task name, `yang19` (53 inputs) or `modcog` (115 inputs).
        set: String,
        #[arg(long)]
        batch: usize,
        #[arg(long)]
        steps: usize,
        #[arg(long)]
        seed: u64,
        #[arg(long)]
        out: PathBuf,
        /// Add E2's training input noise, N(0, 0.1²) on every element (without it the inputs
        /// carry only each task's own stimulus noise).
        #[arg(long)]
        noise: bool,
        /// Label convention of ring responses.
        #[arg(long, value_enum, default_value = "reference")]
        labels: LabelsArg,
        /// Time step in ms (default: the task set's).
        #[arg(long)]
        dt: Option<u32>,
        /// Replace an existing output file.
        #[arg(long)]
        overwrite: bool,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum LabelsArg {
    Reference,
    Corrected,
}

/// An output file may be written: it does not exist (or `--overwrite` was given) and its folder
/// does.
fn check_out_file(out: &std::path::Path, overwrite: bool) -> Result<()> {
    if out.exists() && !overwrite {
        bail!(
            "{} exists; pass --overwrite to replace it or choose another --out",
            out.display()
        );
    }
    if let Some(dir) = out
        .parent()
        .filter(|d| !d.as_os_str().is_empty() && !d.is_dir())
    {
        bail!("the folder of --out, {}, does not exist", dir.display());
    }
    Ok(())
}

fn tasks_cmd(cmd: TasksCmd) -> Result<()> {
    use geoplast::report::tasks;
    use geoplast::tasks::cognitive::LabelMode;
    match cmd {
        TasksCmd::List { json } => {
            let rows = tasks::list();
            if json {
                outln!("{}", serde_json::to_string_pretty(&rows)?)?;
            } else {
                outln!("{}", tasks::list_text(&rows))?;
            }
        }
        TasksCmd::Show {
            name,
            seed,
            trials,
            dt,
            out,
        } => {
            for p in tasks::show(&name, seed, trials, dt, &out)? {
                outln!("wrote {}", p.display())?;
            }
        }
        TasksCmd::Sample {
            set,
            batch,
            steps,
            seed,
            out,
            noise,
            labels,
            dt,
            overwrite,
        } => {
            check_out_file(&out, overwrite)?;
            let req = tasks::Sample {
                set,
                batch,
                steps,
                seed,
                noise,
                labels: match labels {
                    LabelsArg::Reference => LabelMode::Reference,
                    LabelsArg::Corrected => LabelMode::Corrected,
                },
                dt,
            };
            let start = Instant::now();
            let w = tasks::sample(&req, &out)?;
            outln!(
                "wrote {} (x [{}, {}, {}], {} decision steps) in {:.2} s",
                out.display(),
                w.steps,
                w.batch,
                w.inputs,
                w.decision.iter().filter(|&&d| d).count(),
                start.elapsed().as_secs_f64()
            )?;
        }
    }
    Ok(())
}

/// Inputs from this many values on show progress in `geometry` and `fit` (about a second).
const LARGE_INPUT: usize = 1_000_000;

/// Counts finished runs on `pb` and prints each divergence above it.
fn on_run(
    pb: &geoplast::train::hooks::Progress,
) -> impl Fn(&geoplast::sweep::Run, &geoplast::sweep::exec::Done) + Sync + '_ {
    move |run, d| {
        if let geoplast::sweep::exec::Done::Diverged(m) = d {
            pb.println(format!("{} diverged: {m}", run.name));
        }
        pb.inc();
    }
}

/// Prints a reproduction's table, checks and notes, and what its run folder holds.
fn print_report(
    table: &str,
    checks: &[geoplast::experiments::Check],
    notes: &[String],
    seconds: f64,
    out: &std::path::Path,
    files: &str,
) -> Result<()> {
    outln!("{table}")?;
    for c in checks {
        outln!("{c}")?;
    }
    for n in notes {
        outln!("note: {n}")?;
    }
    outln!("\n{seconds:.0} s; run folder {} ({files})", out.display())?;
    Ok(())
}

/// Runs a sweep-based reproduction into `out` (emptied first under `--overwrite`), counting its
/// `runs` on a progress bar, and prints its report and what `files` its folder holds.
fn sweep_reproduction<R: geoplast::experiments::Reproduced>(
    out: &std::path::Path,
    overwrite: bool,
    runs: usize,
    what: &str,
    files: &str,
    run: impl FnOnce(
        &(dyn Fn(&geoplast::sweep::Run, &geoplast::sweep::exec::Done) + Sync),
    ) -> geoplast::error::Result<R>,
) -> Result<()> {
    if overwrite {
        drop(geoplast::io::run::prepare(
            out,
            geoplast::io::Mode::Overwrite,
        )?);
    }
    let pb = progress(runs as u64, what);
    let report = run(&on_run(&pb))?;
    pb.finish();
    let (table, checks, notes, seconds) = report.printed();
    print_report(&table, checks, notes, seconds, out, files)
}

fn progress(total: u64, what: &str) -> geoplast::train::hooks::Progress {
    geoplast::train::hooks::Progress::new(what, 0, total, false)
}

fn reproduce(a: ReproduceArgs) -> Result<()> {
    let ReproduceArgs {
        experiment: exp,
        quick,
        full,
        inits,
        from,
        data_dir,
        out,
        overwrite,
    } = a;
    use geoplast::io::{Mode, RunDir, run::prepare};
    let default_out =
        |name: &str| PathBuf::from(format!("runs/{name}{}", if quick { "-quick" } else { "" }));
    let images = matches!(
        exp,
        Experiment::DannFmnist | Experiment::RnnFinetune | Experiment::DaleRnn
    );
    if data_dir.is_some() && !images {
        bail!(
            "--data-dir is used only by the reproductions that read images: dann-fmnist, rnn-finetune and dale-rnn"
        );
    }
    if data_dir.is_some() && quick && !matches!(exp, Experiment::DannFmnist) {
        bail!("--data-dir: --quick reads the 8×8 digits built into geoplast; drop one of them");
    }
    if full && matches!(exp, Experiment::DaleRnn) {
        bail!("dale-rnn has no --full form: its default is the whole protocol");
    }
    if inits && !matches!(exp, Experiment::Modcog) {
        bail!("--inits is used only by modcog");
    }
    if from.is_some() && !matches!(exp, Experiment::Pruning) {
        bail!("--from is used only by pruning");
    }
    let mode = if overwrite {
        Mode::Overwrite
    } else {
        Mode::New
    };
    // A complete folder is shown as it is (so the main command can run twice); an incomplete
    // one needs --overwrite. dann-fmnist resumes its runs instead.
    let done = |out: &std::path::Path| -> Result<bool> {
        let report = out.join("report.md");
        if overwrite || !out.join("summary.json").is_file() || !report.is_file() {
            return Ok(false);
        }
        let text = std::fs::read_to_string(&report)
            .with_context(|| format!("reading {}", report.display()))?;
        outln!(
            "{text}\n{} holds a complete run (summary.json); shown as it is. Compute it again \
             with --overwrite",
            out.display()
        )?;
        Ok(true)
    };
    // Sweep-based reproductions run one thread per run, as many runs at a time as threads.
    let jobs = rayon::current_num_threads();
    match exp {
        Experiment::DannFmnist => {
            use geoplast::experiments::dann_fmnist as e;
            let p = if quick {
                e::Protocol::quick()
            } else if full {
                e::Protocol::full()
            } else {
                e::Protocol::standard()
            };
            let out = out.unwrap_or_else(|| e::default_out(quick, full));
            sweep_reproduction(
                &out,
                overwrite,
                e::VARIANTS.len() * (p.lr_factors.len() + p.seeds.len()),
                "dann-fmnist runs (1 thread each)",
                "report.md, summary.json, curves and weight plots",
                |on_done| e::run(&p, &out, data_dir.as_deref(), jobs, on_done),
            )
        }
        Experiment::Modcog => {
            use geoplast::experiments::modcog as e;
            let out = out.unwrap_or_else(|| e::default_out(quick, full));
            if overwrite {
                drop(prepare(&out, Mode::Overwrite)?);
            }
            if full {
                std::fs::create_dir_all(&out)
                    .with_context(|| format!("creating {}", out.display()))?;
                outln!(
                    "timing 3 updates at H = 2500, batch 512, 350 steps (minutes on a CPU) ..."
                )?;
                let t = e::project_full(3, &out)?;
                let text = format!(
                    "# Mod-Cog at the paper's scale: a projection\n\n{:.1} s per update (the mean \
                     of {} measured updates at H = 2500, batch 512, T = 350 on {} threads); the \
                     protocol's {} updates (selection and final runs) would take {:.0} hours \
                     here. It runs end to end once a GPU backend exists.\n",
                    t.seconds_per_update,
                    t.updates_measured,
                    rayon::current_num_threads(),
                    t.updates_total,
                    t.projected_hours
                );
                geoplast::io::durable::write(&out.join("projection.md"), &text)?;
                geoplast::io::durable::write(
                    &out.join("projection.json"),
                    serde_json::to_string_pretty(&t)? + "\n",
                )?;
                outln!("{text}")?;
                return Ok(());
            }
            let mut p = if quick {
                e::Protocol::quick()
            } else {
                e::Protocol::standard()
            };
            p.inits = inits;
            // Emptied above under --overwrite, before the --full branch.
            sweep_reproduction(
                &out,
                false,
                p.runs(),
                "modcog runs (1 thread each)",
                "report.md, summary.json, curves, per-task and weight plots",
                |on_done| e::run(&p, &out, jobs, on_done),
            )
        }
        Experiment::Pruning => {
            use geoplast::experiments::pruning as e;
            if full {
                bail!("pruning has no --full form: it prunes the default Mod-Cog networks");
            }
            let (default, modcog) = e::default_out(quick);
            let out = out.unwrap_or(default);
            let from = from.unwrap_or(modcog);
            let p = if quick {
                e::Protocol::quick()
            } else {
                e::Protocol::standard()
            };
            sweep_reproduction(
                &out,
                overwrite,
                p.runs() + p.modcog.runs(),
                "Mod-Cog and retraining runs (1 thread each)",
                "report.md, summary.json, pruning.png",
                |on_done| e::run(&p, &from, &out, jobs, on_done),
            )
        }
        Experiment::RnnFinetune => {
            use geoplast::experiments::rnn_finetune as e;
            let p = if quick {
                e::Protocol::quick()
            } else if full {
                e::Protocol::full()
            } else {
                e::Protocol::standard()
            };
            let out = out.unwrap_or_else(|| e::default_out(quick, full));
            sweep_reproduction(
                &out,
                overwrite,
                p.runs(),
                "rnn-finetune runs (1 thread each)",
                "report.md, summary.json, cross.png",
                |on_done| e::run(&p, &out, data_dir.as_deref(), jobs, on_done),
            )
        }
        Experiment::DaleRnn => {
            use geoplast::experiments::dale_rnn as e;
            let p = if quick {
                e::Protocol::quick()
            } else {
                e::Protocol::standard()
            };
            let out = out.unwrap_or_else(|| e::default_out(quick));
            sweep_reproduction(
                &out,
                overwrite,
                p.runs(),
                "dale-rnn runs (1 thread each)",
                "report.md, summary.json, singular-value and NSE plots",
                |on_done| e::run(&p, &out, data_dir.as_deref(), jobs, on_done),
            )
        }
        Experiment::Linreg => {
            use geoplast::experiments::linreg;
            let out = out.unwrap_or_else(|| default_out("linreg"));
            if done(&out)? {
                return Ok(());
            }
            let _lock = prepare(&out, mode)?;
            let design = linreg::E5Design::new(quick, full);
            let pb = progress(design.cells() as u64, "linreg cells");
            let r = linreg::reproduce_e5(&design, &out, &|| pb.inc())?;
            pb.finish();
            outln!(
                "{}\n{:.1} s; run folder {}",
                r.table,
                r.seconds,
                out.display()
            )?;
            Ok(())
        }
        Experiment::WrongPotential => {
            use geoplast::experiments::linreg;
            let out = out.unwrap_or_else(|| default_out("wrong-potential"));
            if done(&out)? {
                return Ok(());
            }
            let _lock = prepare(&out, mode)?;
            let r = linreg::reproduce_e7(if quick { 3 } else { 10 }, &out)?;
            outln!(
                "{}\n{:.1} s; run folder {}",
                r.table,
                r.seconds,
                out.display()
            )?;
            Ok(())
        }
        Experiment::Robustness => {
            use geoplast::experiments::robustness;
            // Batches: independent repeats of the whole study, for its recovery rate.
            let (seeds, batches) = if quick { (5, 20) } else { (30, 100) };
            let out = out.unwrap_or_else(|| {
                PathBuf::from(if quick {
                    "runs/robustness-quick"
                } else {
                    "runs/robustness"
                })
            });
            if done(&out)? {
                return Ok(());
            }
            let run = RunDir::open(&out, mode)?;
            let start = Instant::now();
            let rows = robustness::run(seeds, batches);
            let seconds = start.elapsed().as_secs_f64();
            robustness::write_run(&rows, seeds, seconds, run)
                .with_context(|| format!("writing {}", out.display()))?;
            outln!("{}", robustness::table_markdown(&rows))?;
            outln!(
                "{:.1} s; run folder {} (report.md, summary.json, plots)",
                seconds,
                out.display()
            )?;
            Ok(())
        }
        Experiment::ROfK => {
            let p = if quick {
                r_of_k::Protocol::quick()
            } else {
                r_of_k::Protocol::paper()
            };
            let out = out.unwrap_or_else(|| {
                PathBuf::from(if quick {
                    "runs/r-of-k-quick"
                } else {
                    "runs/r-of-k"
                })
            });
            if done(&out)? {
                return Ok(());
            }
            let run = RunDir::open(&out, mode)?;
            let pb = progress(
                (p.ns.len() * p.seeds.len() * p.epochs) as u64,
                "r-of-k epochs",
            );
            let start = Instant::now();
            let jobs = r_of_k::run_all(&p, &|| pb.inc());
            pb.finish();
            let rows = r_of_k::select(&p, &jobs);
            let checks = r_of_k::checks(&rows);
            let summary = r_of_k::Summary {
                experiment: "r-of-k",
                protocol: p,
                rows,
                checks,
                seconds: start.elapsed().as_secs_f64(),
                threads: rayon::current_num_threads(),
            };
            r_of_k::write_run(&summary, &jobs, run)
                .with_context(|| format!("writing {}", out.display()))?;
            outln!("{}", r_of_k::table_markdown(&summary.rows))?;
            for c in &summary.checks {
                outln!("{c}")?;
            }
            outln!(
                "\n{:.1} s on {} threads; run folder {} (report.md, metrics.jsonl, plots)",
                summary.seconds,
                summary.threads,
                out.display()
            )?;
            Ok(())
        }
    }
}

fn sweep_cmd(a: SweepArgs) -> Result<()> {
    use geoplast::sweep::{Sweep, exec, slurm, summary};
    let sweep = Sweep::load(&a.sweep)?;
    let runs = sweep.expand(a.data_dir.as_deref())?;
    let out = a
        .out
        .unwrap_or_else(|| PathBuf::from("runs").join(&sweep.name));
    if a.threads_per_run == 0 {
        bail!("--threads-per-run must be at least 1");
    }
    if a.emit_slurm {
        let abs = |p: &std::path::Path| {
            std::path::absolute(p).with_context(|| format!("resolving {}", p.display()))
        };
        let (exe, file, out_abs) = (std::env::current_exe()?, abs(&a.sweep)?, abs(&out)?);
        let data = a.data_dir.as_deref().map(abs).transpose()?;
        let paths = slurm::Paths {
            exe: &exe,
            sweep: &file,
            out: &out_abs,
            data_dir: data.as_deref(),
        };
        let dir = out.join("slurm");
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut options = sweep.slurm.clone();
        for kv in &a.slurm {
            options.set(kv).map_err(anyhow::Error::msg)?;
        }
        let script = slurm::script(&sweep.name, &paths, runs.len(), a.threads_per_run, &options);
        let commands: String = runs
            .iter()
            .map(|r| slurm::command(&paths, a.threads_per_run, &r.index.to_string()) + "\n")
            .collect();
        durable::write(&dir.join("sweep.sbatch"), script)?;
        durable::write(
            &dir.join("summary.sbatch"),
            slurm::summary_script(&sweep.name, &paths, &options),
        )?;
        let submit = dir.join("submit.sh");
        durable::write(&submit, slurm::submit_script())?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&submit, std::fs::Permissions::from_mode(0o755))?;
        }
        durable::write(&dir.join("commands.txt"), commands)?;
        outln!(
            "{} runs; submit with `bash {}` (a job array, one task per run, then a summary job \
             that runs once every task succeeded; commands.txt has each task's command)",
            runs.len(),
            submit.display()
        )?;
        return Ok(());
    }
    if a.dry_run {
        for r in &runs {
            outln!(
                "{:>4}  {:<12} {}",
                r.index,
                exec::status(r, &out)?.name(),
                r.name
            )?;
        }
        outln!("{} runs into {}", runs.len(), out.display())?;
        return Ok(());
    }
    let selected = match a.index {
        Some(i) => vec![runs.get(i).cloned().with_context(|| {
            format!(
                "--index {i}: the sweep has {} runs (0..{})",
                runs.len(),
                runs.len()
            )
        })?],
        None => runs.clone(),
    };
    if let [r] = &selected[..]
        && a.index.is_some()
    {
        // What a SLURM task's log shows first: which run it is.
        outln!("run {}: {}", r.index, r.name)?;
    }
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    // A local sweep owns its folder; SLURM array tasks (`--index`) and the summary job share
    // it, each task writing (and locking) only its own run folder.
    let _lock = if a.index.is_some() || a.summary_only {
        geoplast::io::lock::Lock::shared(&out)?
    } else {
        geoplast::io::lock::Lock::exclusive(&out)?
    };
    let mut failed = Vec::new();
    if !a.summary_only {
        if a.index.is_none() {
            // A changed sweep file is refused before its copy replaces the one the folder's
            // runs were made with.
            for r in &selected {
                exec::status(r, &out)?;
            }
            let text = std::fs::read(&a.sweep)
                .with_context(|| format!("reading {}", a.sweep.display()))?;
            durable::write(&out.join("sweep.toml"), text)?;
        }
        let jobs = a
            .jobs
            .unwrap_or(rayon::current_num_threads() / a.threads_per_run)
            .max(1);
        let pb = progress(selected.len() as u64, "sweep runs");
        let start = Instant::now();
        let done = exec::execute(
            &selected,
            &exec::Options {
                out: out.clone(),
                jobs,
                threads_per_run: a.threads_per_run,
            },
            &|run, d| {
                match d {
                    exec::Done::Diverged(m) => {
                        pb.println(format!("run {} diverged: {m}", run.name))
                    }
                    exec::Done::Failed(m) => pb.println(format!("run {} failed: {m}", run.name)),
                    _ => {}
                }
                pb.inc();
            },
        );
        pb.finish();
        let count = |f: &dyn Fn(&exec::Done) -> bool| done.iter().filter(|d| f(d)).count();
        let stopped = count(&|d| matches!(d, exec::Done::Stopped));
        if stopped > 0 {
            outln!("{stopped} runs stopped by a signal: run the same command again to continue")?;
        }
        outln!(
            "{} trained, {} skipped (complete or diverged before), {} diverged, {} failed; {:.1} s with {jobs} jobs × {} threads",
            count(&|d| matches!(d, exec::Done::Trained)),
            count(&|d| matches!(d, exec::Done::Skipped(_))),
            count(&|d| matches!(d, exec::Done::Diverged(_))),
            count(&|d| matches!(d, exec::Done::Failed(_))),
            start.elapsed().as_secs_f64(),
            a.threads_per_run
        )?;
        for (r, d) in selected.iter().zip(&done) {
            if let exec::Done::Failed(m) = d {
                failed.push(format!("{}: {m}", r.name));
            }
        }
    }
    if a.index.is_none() {
        let s = summary::collect(&sweep, &runs, &out)?;
        s.write(&out)?;
        outln!("{}", s.markdown())?;
        outln!(
            "summary.csv, summary.md and summary.json in {}",
            out.display()
        )?;
    }
    if !failed.is_empty() {
        bail!("{} run(s) failed:\n  {}", failed.len(), failed.join("\n  "));
    }
    Ok(())
}

fn geometry_cmd(a: GeometryArgs) -> Result<()> {
    use geoplast::analysis::paired;
    let mut p = match (&a.before, &a.after) {
        (Some(b), Some(af)) => geoplast::io::pairs::from_before_after(
            b,
            af,
            &a.include,
            &a.exclude,
            a.normalize == "median",
            a.missing,
        )?,
        _ if !a.weights.is_empty() => geoplast::io::pairs::from_tables(
            &a.weights,
            a.pairs,
            a.normalize == "median",
            a.missing,
        )?,
        _ => bail!("give --before A --after B, or --weights TABLE (synapses × sessions)"),
    };
    if a.drop_nonpositive {
        p.drop_nonpositive();
    }
    geoplast::io::pairs::check_magnitudes(&p.before, "weights before")?;
    geoplast::io::pairs::check_magnitudes(&p.after, "weights after")?;
    let cands = paired::parse_candidates(&a.candidates, &p.before).map_err(anyhow::Error::msg)?;
    let mut opts = paired::PairedOptions::new(cands);
    opts.bootstrap = a.bootstrap;
    opts.ne_subset = a.ne_subset;
    opts.seed = a.seed;
    if a.centred {
        opts.centring = geoplast::analysis::delta_cdf::Centring::Centred;
    }
    let standardised = a.pool == "standardised";
    if (a.per_tensor || standardised) && p.tensors.is_empty() {
        bail!(
            "--per-tensor and --pool standardised work on named tensors: give two .safetensors \
             files with --before/--after"
        );
    }
    let per_tensor = a.per_tensor.then(|| {
        geoplast::analysis::per_tensor::per_tensor(&p.before, &p.after, &p.tensors, &opts)
    });
    let pooled = standardised.then(|| {
        geoplast::analysis::per_tensor::pooled_standardised(&p.before, &p.after, &p.tensors, &opts)
    });
    let mut notes = p.notes.clone();
    let noise = match (&a.measurement_noise, &a.noise_from) {
        (Some(n), _) => Some(*n),
        (None, Some(spec)) => {
            let sessions: geoplast::io::pairs::SessionPairs =
                spec.parse().map_err(anyhow::Error::msg)?;
            let geoplast::io::pairs::SessionPairs::Fixed(i, j) = sessions else {
                bail!("--noise-from takes two sessions I:J (0-based), e.g. --noise-from 0:1");
            };
            let mut q = geoplast::io::pairs::from_tables(
                &a.weights,
                sessions,
                a.normalize == "median",
                a.missing,
            )?;
            if a.drop_nonpositive {
                q.drop_nonpositive();
            }
            let n = geoplast::analysis::noise::MeasurementNoise::estimate(&q.before, &q.after)
                .map_err(|e| anyhow::anyhow!("--noise-from {spec}: {e}"))?;
            notes.push(format!(
                "measurement noise {n} estimated by maximum likelihood from sessions {i}:{j} \
                 ({} synapses, assumed to have no learning in between)",
                q.before.len()
            ));
            Some(n)
        }
        (None, None) => None,
    };
    if noise.is_some() && a.noise_reps < 10 {
        bail!("--noise-reps must be at least 10 (got {})", a.noise_reps);
    }
    let noise_report = noise.map(|n| {
        use geoplast::analysis::noise_aware;
        let o = noise_aware::NoiseAwareOptions {
            noise: n,
            reps: a.noise_reps,
            alpha: 0.05,
            seed: a.seed,
        };
        let pb = progress(opts.candidates.len() as u64, "noise-aware test: candidates");
        let r = noise_aware::test(&p.before, &p.after, &opts.candidates, &o, &|| pb.inc());
        pb.finish();
        r
    });
    // A bar (or 30-s status lines) on large inputs, where the test takes seconds.
    let pb =
        (p.before.len() >= LARGE_INPUT).then(|| progress(paired::steps(&opts), "geometry test"));
    let report = paired::infer_checked(p.before, p.after, &opts, &|| {
        if let Some(pb) = &pb {
            pb.inc()
        }
    })
    .map_err(anyhow::Error::msg)?;
    if let Some(pb) = pb {
        pb.finish();
    }
    let json_value = geoplast::report::geometry::json(
        &notes,
        &report,
        noise_report.as_ref(),
        per_tensor.as_deref(),
        pooled.as_deref(),
    );
    let tensor_md = per_tensor.as_ref().map(|t| {
        format!(
            "Per tensor:\n\n{}",
            geoplast::report::geometry::per_tensor_table(t)
        )
    });
    let pooled_md = pooled.as_ref().map(|pl| {
        let floor = pl
            .first()
            .and_then(|b| report.candidates.iter().find(|c| c.label == b.label))
            .map_or((f64::NAN, f64::NAN), |c| (c.null_mean, c.null_sd));
        geoplast::report::geometry::pooled_table(pl, floor)
    });
    let extra_md: Vec<&String> = [&tensor_md, &pooled_md].into_iter().flatten().collect();
    let noise_md = noise_report
        .as_ref()
        .map(geoplast::analysis::noise_aware::markdown);
    let table = geoplast::report::geometry::table(&report);
    let lines = geoplast::report::geometry::summary_lines(&report);
    // The files first: a reader of stdout that goes away (`| head`) must not cost them.
    if let Some(dir) = &a.out {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        geoplast::report::geometry::plots(&report, dir)?;
        durable::write(
            &dir.join("report.json"),
            serde_json::to_string_pretty(&json_value)?,
        )?;
        let md = format!(
            "# Geometry test\n\n{}\n\n{table}\n{}\n\n![ΔCDF](delta_cdf.png)\n\n![change](standardised_change.png)\n\n![QQ](qq.png)\n",
            notes
                .iter()
                .map(|n| format!("* {n}"))
                .collect::<Vec<_>>()
                .join("\n"),
            lines
                .iter()
                .map(|l| format!("* {l}"))
                .collect::<Vec<_>>()
                .join("\n"),
        );
        if let Some(t) = &per_tensor {
            geoplast::report::geometry::per_tensor_plot(t, dir)?;
        }
        let mut md = md;
        for e in &extra_md {
            md += &format!("\n{e}");
        }
        if per_tensor.is_some() {
            md += "\n![per tensor](per_tensor.png)\n";
        }
        let md = match (&noise_md, &noise_report) {
            (Some(t), Some(r)) => {
                geoplast::report::geometry::noise_plot(r, dir)?;
                format!("{md}\n## With measurement noise\n\n{t}\n![null bands](noise_null.png)\n")
            }
            _ => md,
        };
        durable::write(&dir.join("report.md"), md)?;
    }
    if a.json {
        outln!("{}", serde_json::to_string_pretty(&json_value)?)?;
    } else {
        for n in &notes {
            outln!("{n}")?;
        }
        outln!("\n{table}")?;
        for l in &lines {
            outln!("{l}")?;
        }
        for e in &extra_md {
            outln!("\n{e}")?;
        }
        if let Some(t) = &noise_md {
            outln!("\n{t}")?;
        }
    }
    if let (Some(dir), false) = (&a.out, a.json) {
        outln!("\nreport, JSON and plots in {}", dir.display())?;
    }
    Ok(())
}

fn power_cmd(a: PowerArgs) -> Result<()> {
    use geoplast::analysis::power::{self, Design, InitDist};
    let one = |spec: &str, what: &str| -> Result<geoplast::geometry::Potential> {
        let p = geoplast::analysis::paired::parse_candidates(spec, &[1.0])
            .map_err(|e| anyhow::anyhow!("{what}: {e}"))?;
        match p[..] {
            [p] => Ok(p),
            _ => bail!("{what} takes one potential (got {spec:?})"),
        }
    };
    let init = match &a.init_from {
        Some(f) => {
            let t = geoplast::io::weights::read_table(f, geoplast::io::weights::Missing::Error)?;
            let w: Vec<f64> = t
                .column(0)
                .iter()
                .map(|v| v.abs())
                .filter(|v| *v > 0.0)
                .collect();
            geoplast::io::pairs::check_magnitudes(&w, "weights")?;
            InitDist::Empirical(w)
        }
        None => {
            let bad = || anyhow::anyhow!("--init takes lognormal:MU,SIGMA (got {:?})", a.init);
            let (mu, sigma) = a
                .init
                .strip_prefix("lognormal:")
                .and_then(|r| r.split_once(','))
                .ok_or_else(bad)?;
            InitDist::LogNormal {
                mu: mu.trim().parse().map_err(|_| bad())?,
                sigma: sigma.trim().parse().map_err(|_| bad())?,
            }
        }
    };
    let d = Design {
        truth: one(&a.truth, "--truth")?,
        alternatives: geoplast::analysis::paired::parse_candidates(&a.alternatives, &[1.0])
            .map_err(|e| anyhow::anyhow!("--alternatives: {e}"))?,
        init,
        change: a.change,
        noise: a.noise,
        synapses: a.synapses,
        reps: a.reps,
        null_reps: a.null_reps,
        alpha: a.alpha,
        target: a.power,
        seed: a.seed,
    };
    d.validate().map_err(anyhow::Error::msg)?;
    let pb = progress(
        (d.noise.len() * d.synapses.len()) as u64,
        "power: noise × synapse counts",
    );
    let r = power::run(&d, &|| pb.inc());
    pb.finish();
    let md = power::markdown(&r);
    let json = serde_json::to_string_pretty(&r)?;
    if let Some(dir) = &a.out {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        geoplast::report::geometry::power_plot(&r, dir)?;
        durable::write(&dir.join("report.json"), &json)?;
        durable::write(
            &dir.join("report.md"),
            format!(
                "# Power of the geometry test\n\n{md}\n![power](power.png)\n\n{:.1} s.\n",
                r.seconds
            ),
        )?;
    }
    if a.json {
        outln!("{json}")?;
    } else {
        outln!("{md}\n{:.1} s", r.seconds)?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn spectrum_cmd(
    source: PathBuf,
    init: bool,
    include: Vec<String>,
    exclude: Vec<String>,
    data_dir: Option<PathBuf>,
    json: bool,
    out: Option<PathBuf>,
) -> Result<()> {
    use geoplast::report::spectrum;
    let file_only = |what: &str| {
        if include.is_empty() && exclude.is_empty() {
            Ok(())
        } else {
            Err(anyhow::anyhow!(
                "--include and --exclude select tensors of a .safetensors file, not of {what}"
            ))
        }
    };
    let (matrices, mut notes) = if source.is_dir() {
        file_only("a run folder")?;
        let w = if init {
            "weights_init.safetensors"
        } else {
            "weights_final.safetensors"
        };
        if !source.join(w).exists() {
            bail!(
                "{} has no {w}: is it a finished geoplast run folder? (--init reads the initial \
                 weights of a run that has started)",
                source.display()
            );
        }
        (spectrum::of_run(&source, w)?, vec![])
    } else if source.extension().is_some_and(|e| e == "toml") {
        file_only("a config")?;
        let cfg = geoplast::train::load_config(&source, data_dir.as_deref(), None, &[])?;
        let m = geoplast::train::initial_model(&cfg)?;
        (
            m.effective_matrices(),
            vec!["the model at initialisation".to_string()],
        )
    } else if source.extension().is_some_and(|e| e == "safetensors") {
        spectrum::of_file(&source, &include, &exclude)?
    } else {
        bail!(
            "{}: give a .safetensors file, a run folder or a training config (.toml)",
            source.display()
        );
    };
    if matrices.is_empty() {
        bail!(
            "{}: no matrix to analyse (no 2-D tensor selected)",
            source.display()
        );
    }
    let pb = (matrices.len() > 1).then(|| progress(matrices.len() as u64, "spectrum: matrices"));
    let mut spectra = Vec::new();
    for m in &matrices {
        spectra.push(spectrum::analyse(m)?);
        if let Some(pb) = &pb {
            pb.inc();
        }
    }
    if let Some(pb) = pb {
        pb.finish();
    }
    notes.retain(|n| !n.is_empty());
    let src = source.display().to_string();
    if let Some(dir) = &out {
        spectrum::write(dir, &spectra, &notes, &src)?;
    }
    if json {
        let v = serde_json::json!({ "source": src, "matrices": spectra, "notes": notes });
        outln!("{}", serde_json::to_string_pretty(&v)?)?;
    } else {
        outln!("{}", spectrum::table(&spectra))?;
        for n in &notes {
            outln!("note: {n}")?;
        }
    }
    Ok(())
}

fn fit_cmd(
    weights: PathBuf,
    column: usize,
    missing: geoplast::io::weights::Missing,
    candidates: String,
    json: bool,
    out: Option<PathBuf>,
) -> Result<()> {
    use geoplast::analysis::unpaired;
    let t = geoplast::io::weights::read_table(&weights, missing)?;
    if column >= t.cols() {
        bail!(
            "column {column} does not exist: the table has {} columns (0-based)",
            t.cols()
        );
    }
    let all = t.column(column);
    let w: Vec<f64> = all.iter().copied().filter(|x| !x.is_nan()).collect();
    let w = &w[..];
    let dropped = all.len() - w.len();
    geoplast::io::pairs::check_magnitudes(w, "weights")?;
    let cands =
        geoplast::analysis::paired::parse_candidates(&candidates, w).map_err(anyhow::Error::msg)?;
    let unpaired::FitReport {
        orthants,
        text,
        value,
    } = {
        let pb = (w.len() >= LARGE_INPUT)
            .then(|| progress(2 * cands.len() as u64, "fit: potentials × orthants"));
        let r = unpaired::fit_report(
            w,
            &cands,
            (missing == geoplast::io::weights::Missing::Drop).then_some(dropped),
            &|| {
                if let Some(pb) = &pb {
                    pb.inc()
                }
            },
        );
        if let Some(pb) = pb {
            pb.finish();
        }
        r
    }
    .map_err(anyhow::Error::msg)?;
    if let Some(dir) = out {
        geoplast::report::fit::write(&dir, &orthants, &cands, &value, &text)?;
    }
    // Printed after the files are written, as in `geometry`.
    if json {
        outln!("{}", serde_json::to_string_pretty(&value)?)?;
    } else {
        outln!("{text}")?;
    }
    Ok(())
}

/// glibc hands freed memory back to the OS eagerly (above 128 KiB of free heap; worker-thread
/// heaps through `madvise`), and the next allocation faults every page in again. Scoring many
/// small synthetic data sets spent two thirds of its time in the kernel that way. Keep freed
/// memory in the process instead (the peak is unchanged).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn keep_freed_memory() {
    // SAFETY: mallopt only sets allocator parameters; called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
    }
}

/// Exit quietly when the reader of stdout goes away (`geoplast geometry … | head`), like other
/// command-line tools, instead of panicking on the broken pipe (Rust ignores SIGPIPE).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn default_sigpipe() {
    // SAFETY: restores the default disposition of one signal, before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> std::process::ExitCode {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        keep_freed_memory();
        default_sigpipe();
    }
    let cli = Cli::parse();
    let run = || -> Result<()> {
        if let Some(t) = cli.threads {
            if t == 0 {
                bail!("--threads must be at least 1");
            }
            // Starting tens of thousands of threads takes the system a minute to refuse.
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            let limit = (4 * cores).max(256);
            if t > limit {
                bail!(
                    "--threads {t} is more than this machine can use ({cores} cores; at most {limit} threads)"
                );
            }
            rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build_global()
                .context("starting the thread pool")?;
        }
        match cli.command {
            Command::Reproduce(a) => reproduce(a),
            Command::Geometry(args) => geometry_cmd(args),
            Command::Spectrum {
                source,
                init,
                include,
                exclude,
                data_dir,
                json,
                out,
            } => spectrum_cmd(source, init, include, exclude, data_dir, json, out),
            Command::Sweep(args) => sweep_cmd(args),
            Command::Tasks(cmd) => tasks_cmd(cmd),
            Command::Activity {
                run_dir,
                tasks,
                trials,
                seed,
                out,
                overwrite,
            } => {
                check_out_file(&out, overwrite)?;
                let a = geoplast::report::activity::export(&run_dir, &tasks, trials, seed, &out)?;
                outln!(
                    "wrote {} ({} trials of {} tasks, {} units; {} units never vary and are left \
                     out of the heat map {})",
                    out.display(),
                    a.trials,
                    a.tasks,
                    a.units,
                    a.silent,
                    out.with_extension("png").display()
                )
            }
            Command::Power(args) => power_cmd(args),
            Command::Fit {
                weights,
                column,
                missing,
                candidates,
                json,
                out,
            } => fit_cmd(weights, column, missing, candidates, json, out),
            Command::Train {
                config,
                data_dir,
                out,
                overrides,
                multirun: true,
                metric,
                jobs,
                dry_run,
                emit_slurm,
                ..
            } => {
                let stem = config
                    .file_stem()
                    .map_or("run".into(), |s| s.to_string_lossy().to_string());
                let name = format!("{stem}-multirun");
                let out = out.unwrap_or_else(|| PathBuf::from("runs").join(&name));
                let text = std::fs::read_to_string(&config)
                    .with_context(|| format!("reading {}", config.display()))?;
                let sweep = geoplast::train::overrides::multirun_sweep(
                    &text,
                    &config.display().to_string(),
                    &name,
                    metric.as_deref(),
                    &overrides,
                )?;
                std::fs::create_dir_all(&out)
                    .with_context(|| format!("creating {}", out.display()))?;
                let file = out.join("multirun.toml");
                durable::write(&file, sweep)?;
                sweep_cmd(SweepArgs {
                    sweep: file,
                    out: Some(out),
                    data_dir,
                    jobs,
                    threads_per_run: 1,
                    index: None,
                    dry_run,
                    summary_only: false,
                    emit_slurm,
                    slurm: vec![],
                })
            }
            Command::Train {
                config,
                data_dir,
                out,
                resume,
                stop_after,
                overrides,
                overwrite,
                ..
            } => {
                let overrides = overrides
                    .iter()
                    .map(|a| geoplast::train::overrides::Override::parse(a))
                    .collect::<geoplast::error::Result<Vec<_>>>()?;
                let opts = geoplast::train::RunOptions {
                    data_dir,
                    out,
                    resume,
                    overwrite,
                    stop_after,
                    quiet: false,
                    overrides,
                    ..Default::default()
                };
                let o = geoplast::train::run_cli(&config, &opts)?;
                let accuracy = if o.test_acc.is_nan() {
                    String::new()
                } else {
                    format!("test accuracy {:.2} %, ", o.test_acc)
                };
                let length = if o.epochs > 0 {
                    format!("{} epochs", o.epochs)
                } else {
                    format!("{} updates", o.updates)
                };
                outln!(
                    "{accuracy}test loss {:.4} after {length} ({:.1} s); run folder {}",
                    o.test_loss,
                    o.seconds,
                    o.run_dir.display()
                )?;
                Ok(())
            }
        }
    };
    let flushed = |r: Result<()>| {
        use std::io::Write as _;
        r.and_then(|()| {
            std::io::stdout()
                .flush()
                .context("writing to standard output")
        })
    };
    match flushed(run()) {
        // Ended early by Ctrl-C or SIGTERM, with a checkpoint: 128 + SIGINT, as shells do.
        Ok(()) if geoplast::train::hooks::stop_requested() => std::process::ExitCode::from(130),
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) if geoplast::train::hooks::stop_requested() => {
            eprintln!("stopped by a signal: {e:#}");
            std::process::ExitCode::from(130)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

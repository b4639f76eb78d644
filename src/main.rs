//! The `geoplast` command line.

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand, ValueEnum};
use geoplast::experiments::r_of_k;
use indicatif::{ProgressBar, ProgressStyle};
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
}

#[derive(Subcommand)]
enum Command {
    /// Reproduce a paper result into a run folder (table, metrics, weights, plots, report.md).
    #[command(
        after_help = "Example:\n  geoplast reproduce r-of-k --out runs/r-of-k\n  geoplast reproduce r-of-k --quick"
    )]
    Reproduce {
        experiment: Experiment,
        /// Run a reduced protocol (r-of-k: N ∈ {200, 2000}) for smoke tests.
        #[arg(long)]
        quick: bool,
        /// Output run folder (default: runs/<experiment>).
        #[arg(long)]
        out: Option<PathBuf>,
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
        /// Stop after this many epochs in total (e.g. to fit a cluster time limit); continue
        /// later with --resume.
        #[arg(long)]
        stop_after: Option<usize>,
    },
}

fn progress(total: u64, what: &str) -> ProgressBar {
    // Drawn only when stderr is a terminal (indicatif hides it otherwise).
    let pb = ProgressBar::new(total);
    pb.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} {elapsed_precise} (eta {eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    pb.set_message(what.to_string());
    pb
}

fn reproduce(exp: Experiment, quick: bool, out: Option<PathBuf>) -> Result<()> {
    match exp {
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
            let pb = progress(
                (p.ns.len() * p.seeds.len() * p.epochs) as u64,
                "r-of-k epochs",
            );
            let start = Instant::now();
            let jobs = r_of_k::run_all(&p, &|| pb.inc(1));
            pb.finish_and_clear();
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
            r_of_k::write_run(&summary, &jobs, &out)
                .with_context(|| format!("writing {}", out.display()))?;
            println!("{}", r_of_k::table_markdown(&summary.rows));
            for c in &summary.checks {
                println!(
                    "{} {}: {:.2}",
                    if c.pass { "PASS" } else { "FAIL" },
                    c.what,
                    c.measured
                );
            }
            println!(
                "\n{:.1} s on {} threads; run folder {} (report.md, metrics.jsonl, plots)",
                summary.seconds,
                summary.threads,
                out.display()
            );
            Ok(())
        }
    }
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let run = || -> Result<()> {
        if let Some(t) = cli.threads {
            if t == 0 {
                bail!("--threads must be at least 1");
            }
            rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build_global()
                .context("starting the thread pool")?;
        }
        match cli.command {
            Command::Reproduce {
                experiment,
                quick,
                out,
            } => reproduce(experiment, quick, out),
            Command::Train {
                config,
                data_dir,
                out,
                resume,
                stop_after,
            } => {
                let opts = geoplast::train::RunOptions {
                    data_dir,
                    out,
                    resume,
                    stop_after,
                };
                let o = geoplast::train::run_cli(&config, &opts)?;
                println!(
                    "test accuracy {:.2} %, test loss {:.4} after {} epochs ({:.1} s); run folder {}",
                    o.test_acc,
                    o.test_loss,
                    o.epochs,
                    o.seconds,
                    o.run_dir.display()
                );
                Ok(())
            }
        }
    };
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

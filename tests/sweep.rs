//! `geoplast sweep` on tiny r-of-k runs: expansion and its errors, run folders, one run by index
//! (a SLURM array task), skipping complete runs, resuming an interrupted one to the same weights
//! as an uninterrupted run, recording a diverged one, the summary table, a changed sweep file
//! refused, and a SLURM script that is valid bash and whose commands run.

use geoplast::geometry::Potential;
use geoplast::io::checkpoint;
use geoplast::sweep::Sweep;
use geoplast::train::{self, RunOptions};
use std::path::Path;
use std::process::Command;

mod common;
use common::{SWEEP, geoplast};

#[test]
fn expansion_crosses_variants_with_their_grids() {
    let s = Sweep::parse(SWEEP, "t.toml", "t", None).unwrap();
    let runs = s.expand(None).unwrap();
    assert_eq!(runs.len(), 2 * 2 + 2 * 2);
    assert_eq!(s.columns(), ["variant", "seed", "optimizer.lr"]);
    assert_eq!(s.group_by, ["variant"]);
    // Last axis fastest: gd seed 1 × lr 0.1, 1e38, then seed 2.
    let r = &runs[2];
    assert_eq!(r.label("variant"), "gd");
    assert_eq!(r.label("seed"), "2");
    assert_eq!(r.label("optimizer.lr"), "0.1");
    assert_eq!((r.config.seed, r.config.optimizer.lr), (2, 0.1));
    assert_eq!(r.name, "002-gd_seed=2_lr=0.1");
    let eg = &runs[7];
    assert_eq!(eg.config.optimizer.potential, Potential::NegEntropy);
    assert_eq!((eg.config.seed, eg.config.optimizer.lr), (2, 1.0));
    // The base stays as written where nothing overrides it.
    assert_eq!(runs[0].config.optimizer.potential, Potential::Euclidean);
    assert_eq!(runs[0].config.batch_size, 50);
    let names: std::collections::HashSet<_> = runs.iter().map(|r| r.name.clone()).collect();
    assert_eq!(names.len(), runs.len());
}

/// Dotted overrides address a parameter group's keys, and a grid over one crosses like any key.
#[test]
fn overrides_reach_into_parameter_groups() {
    let text = SWEEP.replace(
        "[base.optimizer]\nlr = 0.1\n",
        "[base.optimizer]\nlr = 0.1\n[base.optimizer.groups.gains]\nparams = [\"*.weight\"]\n",
    ) + "\n[[variant]]\nname = \"grouped\"\ngrid = { \"optimizer.groups.gains.lr\" = [0.01, 0.02] }\n";
    let s = Sweep::parse(&text, "t.toml", "t", None).unwrap();
    let runs = s.expand(None).unwrap();
    let grouped: Vec<f64> = runs
        .iter()
        .filter(|r| r.label("variant") == "grouped")
        .map(|r| r.config.optimizer.groups["gains"].lr.unwrap())
        .collect();
    assert_eq!(grouped, [0.01, 0.02, 0.01, 0.02]);
}

#[test]
fn bad_sweeps_say_what_is_wrong() {
    let err = |text: &str| {
        Sweep::parse(text, "t.toml", "t", None)
            .and_then(|s| s.expand(None))
            .unwrap_err()
            .to_string()
    };
    let e = err(&SWEEP.replace("seed = [1, 2]", "seed = 3"));
    assert!(
        e.contains("grid key `seed` must be a non-empty list"),
        "{e}"
    );
    let e = err(&SWEEP.replace("\"optimizer.potential\"", "\"optimizer.potentail\""));
    assert!(e.contains("did you mean `potential`"), "{e}");
    assert!(e.contains("variant = eg"), "{e}");
    let e = err(&SWEEP.replacen("[base]", "group_by = [\"lr\"]\n[base]", 1));
    assert!(e.contains("group_by `lr`"), "{e}");
    let e = err(&SWEEP.replace("name = \"eg\"", "name = \"gd\""));
    assert!(e.contains("two variants are named `gd`"), "{e}");
    let e = err(&SWEEP.replace("[0.3, 1.0]", "[0.3, -1.0]"));
    assert!(e.contains("lr"), "{e}");
    let e = err(&SWEEP.replace("\"optimizer.potential\"", "\"optimizer.lr.x\""));
    assert!(e.contains("is a value, not a table"), "{e}");
}

fn weights(dir: &Path) -> Vec<f32> {
    let (t, _) = checkpoint::load(&dir.join("weights_final.safetensors")).unwrap();
    t.values().flat_map(|t| t.data.clone()).collect()
}

#[test]
fn sweep_runs_skips_resumes_and_summarises() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("s.toml");
    std::fs::write(&file, SWEEP).unwrap();
    let out = tmp.path().join("out");
    let (f, o) = (file.to_str().unwrap(), out.to_str().unwrap());
    let runs = Sweep::load(&file).unwrap().expand(None).unwrap();
    assert_eq!(runs.len(), 8);

    // One array task: only run 0, no summary.
    let (ok, _, err) = geoplast(&["sweep", f, "--out", o, "--index", "0"]);
    assert!(ok, "{err}");
    let run0 = runs[0].dir(&out);
    assert!(run0.join("summary.json").is_file());
    assert!(!runs[4].dir(&out).exists() && !out.join("summary.csv").exists());
    let stamp = std::fs::metadata(run0.join("summary.json"))
        .unwrap()
        .modified()
        .unwrap();

    // Run 4 (eg, seed 1, lr 0.3) interrupted after one epoch, as a killed job leaves it.
    let quiet = RunOptions {
        quiet: true,
        ..Default::default()
    };
    let interrupted = RunOptions {
        stop_after: Some(1),
        ..quiet.clone()
    };
    train::run(
        &runs[4].config,
        &runs[4].dir(&out),
        geoplast::io::Mode::New,
        &interrupted,
    )
    .unwrap();
    assert!(!runs[4].dir(&out).join("summary.json").exists());

    let (ok, stdout, err) = geoplast(&["--threads", "2", "sweep", f, "--out", o]);
    assert!(ok, "{err}");
    assert!(
        stdout.contains("5 trained, 1 skipped") && stdout.contains("2 diverged"),
        "{stdout}"
    );
    // Without a terminal (a batch job's log) the divergences are printed as lines, not lost
    // with the hidden bar.
    assert_eq!(
        err.matches("diverged: training diverged").count(),
        2,
        "{err}"
    );
    // The complete run was skipped, not retrained.
    let again = std::fs::metadata(run0.join("summary.json"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(stamp, again);
    // The resumed run equals an uninterrupted one.
    let fresh = tmp.path().join("fresh");
    train::run(&runs[4].config, &fresh, geoplast::io::Mode::New, &quiet).unwrap();
    assert_eq!(weights(&runs[4].dir(&out)), weights(&fresh));
    // Diverged runs are recorded and not retried.
    for i in [1, 3] {
        assert!(runs[i].dir(&out).join("diverged.json").is_file(), "run {i}");
    }

    let csv = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "index,name,variant,seed,optimizer.lr,status,epochs,test_acc,test_loss,train_loss_auc,train_loss,seconds"
    );
    assert_eq!(lines.len(), 9);
    assert!(
        lines[2].starts_with("1,001-gd_seed=1_lr=1e38,gd,1,1e38,diverged,"),
        "{}",
        lines[2]
    );
    assert!(lines[1].contains(",complete,3,"), "{}", lines[1]);
    // The best gd setting is the one that did not diverge; its mean is over both seeds.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let best = json["best"].as_array().unwrap();
    assert_eq!(best.len(), 2);
    let gd = &json["settings"][best[0].as_u64().unwrap() as usize];
    assert_eq!(gd["setting"], "optimizer.lr=0.1");
    let accs: Vec<f64> = [0, 2]
        .iter()
        .map(|&i| json["rows"][i]["test_acc"].as_f64().unwrap())
        .collect();
    assert!((gd["mean"].as_f64().unwrap() - (accs[0] + accs[1]) / 2.0).abs() < 1e-9);
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.contains("| variant=gd | optimizer.lr=0.1 |"), "{md}");

    // Nothing left to do.
    let (ok, stdout, _) = geoplast(&["sweep", f, "--out", o]);
    assert!(ok && stdout.contains("0 trained, 8 skipped"), "{stdout}");
    // A changed sweep file must not be mixed into the old folder.
    std::fs::write(&file, SWEEP.replace("epochs = 3", "epochs = 4")).unwrap();
    let (ok, _, err) = geoplast(&["sweep", f, "--out", o]);
    assert!(!ok && err.contains("different config"), "{err}");
    // ... and the folder keeps the sweep file its runs were made with.
    let kept = std::fs::read_to_string(out.join("sweep.toml")).unwrap();
    assert!(kept.contains("epochs = 3\n"), "{kept}");
}

#[test]
fn emit_slurm_writes_a_job_array_whose_commands_run() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("s.toml");
    std::fs::write(&file, SWEEP).unwrap();
    let out = tmp.path().join("out");
    let (f, o) = (file.to_str().unwrap(), out.to_str().unwrap());
    // --data-dir reaches every task (here unused: r-of-k data are generated).
    let data = tmp.path().to_str().unwrap();
    let (ok, _, err) = geoplast(&["sweep", f, "--out", o, "--emit-slurm", "--data-dir", data]);
    assert!(ok, "{err}");
    let script = std::fs::read_to_string(out.join("slurm/sweep.sbatch")).unwrap();
    assert!(script.starts_with("#!/bin/bash\n"));
    assert!(script.contains("#SBATCH --array=0-7\n"), "{script}");
    assert!(
        script.contains("--index \"$SLURM_ARRAY_TASK_ID\""),
        "{script}"
    );
    let syntax = Command::new("bash")
        .args(["-n", out.join("slurm/sweep.sbatch").to_str().unwrap()])
        .status()
        .unwrap();
    assert!(syntax.success());
    // The script itself runs as array task 5 would (SLURM sets the variable).
    let st = Command::new("bash")
        .arg(out.join("slurm/sweep.sbatch"))
        .env("SLURM_ARRAY_TASK_ID", "5")
        .env("GEOPLAST", env!("CARGO_BIN_EXE_geoplast"))
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
    let runs = Sweep::load(&file).unwrap().expand(None).unwrap();
    assert!(runs[5].dir(&out).join("summary.json").is_file());
    // commands.txt: one command per index; the one for run 6 runs too.
    let cmds = std::fs::read_to_string(out.join("slurm/commands.txt")).unwrap();
    assert_eq!(cmds.lines().count(), 8);
    let line6 = cmds.lines().nth(6).unwrap();
    assert!(line6.ends_with("--index 6"), "{line6}");
    assert!(line6.contains(&format!("--data-dir \"{data}\"")), "{line6}");
    let st = Command::new("bash").args(["-c", line6]).status().unwrap();
    assert!(st.success());
    assert!(runs[6].dir(&out).join("summary.json").is_file());
    let (ok, stdout, _) = geoplast(&["sweep", f, "--out", o, "--summary-only"]);
    assert!(ok && stdout.contains("Best setting per group"), "{stdout}");
    let csv = std::fs::read_to_string(out.join("summary.csv")).unwrap();
    assert_eq!(csv.matches(",complete,").count(), 2);
    assert_eq!(csv.matches(",new,").count(), 6);
}

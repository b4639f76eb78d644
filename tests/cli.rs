//! The command line, end to end: bad input gets one clear sentence and a non-zero exit (never a
//! panic), an interrupted and resumed run reaches the same weights, and the quick r-of-k
//! reproduction writes its run folder.

use geoplast::io::checkpoint;
use std::path::Path;

mod common;
use common::{geoplast, write_config, write_idx};

const BASE: &str = common::MLP;

/// Runs `train` on a config and returns (success, stderr).
fn train(dir: &Path, text: &str, extra: &[&str]) -> (bool, String) {
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    if !data.join("train-images-idx3-ubyte").exists() {
        write_idx(&data, 30, false);
    }
    let cfg = write_config(dir, "c.toml", text);
    let d = data.to_string_lossy().to_string();
    let mut args = vec!["train", cfg.as_str(), "--data-dir", d.as_str()];
    args.extend_from_slice(extra);
    let (ok, _, err) = geoplast(&args);
    assert!(!err.contains("panicked"), "panic: {err}");
    (ok, err)
}

fn expect_error(text: &str, extra: &[&str], needle: &str) {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("run").to_string_lossy().to_string();
    let mut args = vec!["--out", out.as_str()];
    args.extend_from_slice(extra);
    let (ok, err) = train(d.path(), text, &args);
    assert!(!ok, "expected failure containing {needle:?}");
    assert!(err.contains(needle), "stderr {err:?} lacks {needle:?}");
}

#[test]
fn misspelled_key_names_the_nearest_valid_key() {
    expect_error(
        &BASE.replace("momentum = 0.9", "momentun = 0.9"),
        &[],
        "did you mean `momentum`",
    );
    expect_error(
        &BASE.replace("batch_size", "batchsize"),
        &[],
        "did you mean `batch_size`",
    );
}

#[test]
fn invalid_optimiser_settings() {
    expect_error(
        &BASE.replace("lr = 0.1", "lr = -0.1"),
        &[],
        "optimizer.lr must be a positive number",
    );
    expect_error(
        &BASE.replace("lr = 0.1", "lr = 0.0"),
        &[],
        "optimizer.lr must be a positive number",
    );
    expect_error(
        &BASE.replace(
            "lr = 0.1",
            "lr = 0.1\npotential = { kind = \"pnorm\", p = 1.0 }",
        ),
        &[],
        "p > 1",
    );
}

#[test]
fn eg_with_a_zero_initialised_weight() {
    let text = BASE
        .replace(
            "hidden = [6]",
            "hidden = [6]\ninit = { kind = \"constant\", value = 0.0 }",
        )
        .replace(
            "lr = 0.1",
            "lr = 0.1\npotential = { kind = \"negentropy\" }",
        );
    expect_error(&text, &[], "starts with weights at exactly 0");
}

#[test]
fn missing_truncated_and_absent_data() {
    let d = tempfile::tempdir().unwrap();
    let cfg = write_config(d.path(), "c.toml", BASE);
    let nowhere = d.path().join("nowhere").to_string_lossy().to_string();
    let (ok, _, err) = geoplast(&["train", &cfg, "--data-dir", &nowhere]);
    assert!(!ok && err.contains("data folder does not exist"), "{err}");

    let data = d.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    write_idx(&data, 30, false);
    std::fs::remove_file(data.join("t10k-labels-idx1-ubyte")).unwrap();
    let ds = data.to_string_lossy().to_string();
    let (ok, _, err) = geoplast(&["train", &cfg, "--data-dir", &ds]);
    assert!(
        !ok && err.contains("t10k-labels-idx1-ubyte") && err.contains("file not found"),
        "{err}"
    );

    write_idx(&data, 30, false);
    let img = data.join("train-images-idx3-ubyte");
    let bytes = std::fs::read(&img).unwrap();
    std::fs::write(&img, &bytes[..bytes.len() - 10]).unwrap();
    let (ok, _, err) = geoplast(&["train", &cfg, "--data-dir", &ds]);
    assert!(!ok && err.contains("truncated"), "{err}");
}

#[test]
fn nan_in_inputs_is_reported_with_the_sample() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    write_idx(&data, 30, true);
    let cfg = write_config(d.path(), "c.toml", BASE);
    let (ok, _, err) = geoplast(&["train", &cfg, "--data-dir", &data.to_string_lossy()]);
    assert!(
        !ok && err.contains("train sample 1 contains NaN or Inf"),
        "{err}"
    );
}

#[test]
fn divergence_stops_with_the_step_and_keeps_the_checkpoint() {
    let d = tempfile::tempdir().unwrap();
    let run = d.path().join("run");
    let text = BASE.replace("lr = 0.1", "lr = 1e30");
    let (ok, err) = train(d.path(), &text, &["--out", &run.to_string_lossy()]);
    assert!(
        !ok && err.contains("training diverged") && err.contains("at step"),
        "{err}"
    );
    let (_, meta) =
        checkpoint::load(&run.join("checkpoint.safetensors")).expect("last good checkpoint kept");
    assert!(meta.contains_key("epoch"));
}

#[test]
fn interrupted_and_resumed_run_matches_an_uninterrupted_one() {
    let d = tempfile::tempdir().unwrap();
    let (full, part) = (d.path().join("full"), d.path().join("part"));
    assert!(train(d.path(), BASE, &["--out", &full.to_string_lossy()]).0);
    assert!(
        train(
            d.path(),
            BASE,
            &["--out", &part.to_string_lossy(), "--stop-after", "1"]
        )
        .0
    );
    assert!(!part.join("weights_final.safetensors").exists());
    // A run killed after its last checkpoint logged records past it, and a torn line: the
    // resumed run's log keeps one history.
    let log = part.join("metrics.jsonl");
    let mut text = std::fs::read_to_string(&log).unwrap();
    text += "{\"step\": 99999, \"loss\": 1.0}\n{\"step\": 4";
    std::fs::write(&log, text).unwrap();
    // A checkpoint write killed half-way left its temporary file: resume removes it.
    let torn = part.join("checkpoint.safetensors.tmp");
    std::fs::write(&torn, [0u8; 100]).unwrap();
    assert!(train(d.path(), BASE, &["--resume", &part.to_string_lossy()]).0);
    let full_log = std::fs::read_to_string(full.join("metrics.jsonl")).unwrap();
    let part_log = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        full_log, part_log,
        "the resumed log differs from the uninterrupted one"
    );
    assert!(!torn.exists(), "the torn temporary file is left behind");
    let (a, _) = checkpoint::load(&full.join("weights_final.safetensors")).unwrap();
    let (b, _) = checkpoint::load(&part.join("weights_final.safetensors")).unwrap();
    assert_eq!(a, b, "resumed weights differ from the uninterrupted run");
    let (init, _) = checkpoint::load(&full.join("weights_init.safetensors")).unwrap();
    assert_ne!(a, init, "training changed nothing");
    // The resumed run logged every epoch once.
    let log = std::fs::read_to_string(part.join("metrics.jsonl")).unwrap();
    assert_eq!(log.lines().filter(|l| l.contains("test_acc")).count(), 3);
}

#[test]
fn resume_refuses_a_folder_made_with_another_config() {
    let d = tempfile::tempdir().unwrap();
    let run = d.path().join("run");
    assert!(
        train(
            d.path(),
            BASE,
            &["--out", &run.to_string_lossy(), "--stop-after", "1"]
        )
        .0
    );
    let (ok, err) = train(
        d.path(),
        &BASE.replace("lr = 0.1", "lr = 0.2"),
        &["--resume", &run.to_string_lossy()],
    );
    assert!(
        !ok && err.contains("different config") && err.contains("optimizer.lr"),
        "{err}"
    );
}

#[test]
fn every_model_kind_trains_on_idx_data() {
    for (kind, extra) in [
        ("mlp", ""),
        ("colei", "ei_ratio = 2"),
        ("dann", "ei_ratio = 2"),
    ] {
        for opt in ["", "potential = { kind = \"negentropy\" }"] {
            let d = tempfile::tempdir().unwrap();
            let text = BASE
                .replace("kind = \"mlp\"", &format!("kind = \"{kind}\"\n{extra}"))
                .replace("lr = 0.1", &format!("lr = 0.1\n{opt}"));
            let run = d.path().join("run");
            let (ok, err) = train(d.path(), &text, &["--out", &run.to_string_lossy()]);
            assert!(ok, "{kind} {opt}: {err}");
            let s: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap())
                    .unwrap();
            assert!(s["test_acc"].as_f64().unwrap() > 40.0, "{kind} {opt}: {s}");
            let stats = s["weight_stats"]
                .as_array()
                .expect("weight statistics in the summary");
            assert!(!stats.is_empty());
            if !opt.is_empty() {
                for w in stats {
                    assert_eq!(w["sign_flips"], 0, "EG flipped a sign in {kind}: {w}");
                }
            }
            assert!(run.join("curves.png").exists() && run.join("report.md").exists());
        }
    }
}

#[test]
fn quick_r_of_k_reproduction_writes_its_run_folder() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("rk");
    let (ok, stdout, err) = geoplast(&[
        "--threads",
        "2",
        "reproduce",
        "r-of-k",
        "--quick",
        "--out",
        &out.to_string_lossy(),
    ]);
    assert!(ok, "{err}");
    assert!(stdout.contains("| 2000 |"), "{stdout}");
    for f in [
        "metrics.jsonl",
        "summary.json",
        "report.md",
        "accuracy.png",
        "accuracy.svg",
        "weights.png",
        "weights.svg",
        "weights.safetensors",
        "config.toml",
    ] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let rows = s["rows"].as_array().unwrap();
    let gap = |i: usize| {
        rows[i]["eg"]["test_acc_mean"].as_f64().unwrap()
            - rows[i]["gd"]["test_acc_mean"].as_f64().unwrap()
    };
    assert!(gap(0).abs() <= 3.0, "N=200 gap {}", gap(0));
    assert!(gap(1) >= 15.0, "N=2000 gap {}", gap(1));
}

#[test]
fn every_command_explains_itself() {
    for args in [
        vec!["--help"],
        vec!["reproduce", "--help"],
        vec!["train", "--help"],
        vec!["sweep", "--help"],
        vec!["geometry", "--help"],
        vec!["fit", "--help"],
    ] {
        let (ok, out, _) = geoplast(&args);
        assert!(ok && out.contains("Example"), "{args:?}: {out}");
    }
}

#[test]
fn validation_holds_out_the_last_training_samples() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("run");
    let o = out.to_string_lossy().to_string();
    let text = BASE.replace("kind = \"idx\"", "kind = \"idx\"\nvalidation = 9");
    let (ok, err) = train(d.path(), &text, &["--out", &o]);
    assert!(ok, "{err}");
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("last 9 training samples"), "{report}");
    // 30 training samples: 21 train in batches, 9 are evaluated.
    let metrics = std::fs::read_to_string(out.join("metrics.jsonl")).unwrap();
    let acc = metrics
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find_map(|v| v["test_acc"].as_f64())
        .unwrap();
    assert!(
        ((acc * 9.0 / 100.0).round() - acc * 9.0 / 100.0).abs() < 1e-9,
        "{acc}"
    );
    let too_many = BASE.replace("kind = \"idx\"", "kind = \"idx\"\nvalidation = 30");
    expect_error(&too_many, &[], "leaves no training samples");
}

#[test]
fn quick_dann_fmnist_reproduction_writes_its_run_folder() {
    let fm = Path::new("/usr/share/datasets/fashion-mnist");
    if !fm.is_dir() {
        eprintln!(
            "skipped: Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)"
        );
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("r");
    let o = out.to_string_lossy().to_string();
    let (ok, stdout, err) = geoplast(&["reproduce", "dann-fmnist", "--quick", "--out", &o]);
    assert!(ok, "{err}");
    assert!(
        stdout.contains("| DANN |") && stdout.contains("MLP (GD) test accuracy"),
        "{stdout}"
    );
    for f in [
        "report.md",
        "summary.json",
        "curves.png",
        "weights_dann-eg.png",
        "select/summary.csv",
        "final/summary.md",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let rows = s["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 6);
    // Above chance (10 %) after one short epoch, for every variant.
    for r in rows {
        assert!(r["mean"].as_f64().unwrap() > 15.0, "{r}");
    }
    // A second call reuses every complete run.
    let stamp = |p: &Path| std::fs::metadata(p).unwrap().modified().unwrap();
    let run0 = std::fs::read_dir(out.join("final/runs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("000-"))
        .unwrap();
    let first = run0.join("summary.json");
    let t0 = stamp(&first);
    let (ok, _, err) = geoplast(&["reproduce", "dann-fmnist", "--quick", "--out", &o]);
    assert!(ok, "{err}");
    assert_eq!(t0, stamp(&first));
}

/// Under EG a DANN model trains α by gradient descent (a default group the saved config shows),
/// α may change sign, and every Dale's-law magnitude stays non-negative.
#[test]
fn dann_under_eg_trains_alpha_by_gd_in_a_default_group() {
    let d = tempfile::tempdir().unwrap();
    let text = BASE
        .replace("kind = \"mlp\"", "kind = \"dann\"\nei_ratio = 2")
        .replace(
            "lr = 0.1",
            "lr = 0.1\npotential = { kind = \"negentropy\" }",
        );
    let run = d.path().join("run");
    let (ok, err) = train(d.path(), &text, &["--out", &run.to_string_lossy()]);
    assert!(ok, "{err}");
    let saved = std::fs::read_to_string(run.join("config.toml")).unwrap();
    assert!(
        saved.contains("[optimizer.groups.dann_alpha]") && saved.contains("dann_corrections"),
        "{saved}"
    );
    let (w0, _) = checkpoint::load(&run.join("weights_init.safetensors")).unwrap();
    let (w1, _) = checkpoint::load(&run.join("weights_final.safetensors")).unwrap();
    let alpha = |w: &std::collections::BTreeMap<String, checkpoint::Tensor>| {
        w["layers.0.alpha"].data.clone()
    };
    assert_ne!(alpha(&w0), alpha(&w1), "α was trained");
    for (name, t) in &w1 {
        if name.contains("w_e") || name.contains("w_i") {
            assert!(t.data.iter().all(|&v| v >= 0.0), "{name} went negative");
        }
    }
}

/// The first column-EI layer's centring bias is split under EG, so it can change sign; its
/// initial sum is the centring value.
#[test]
fn colei_first_layer_bias_is_split_under_eg() {
    let d = tempfile::tempdir().unwrap();
    let text = BASE
        .replace("kind = \"mlp\"", "kind = \"colei\"\nei_ratio = 2")
        .replace(
            "lr = 0.1",
            "lr = 0.1\npotential = { kind = \"negentropy\" }",
        );
    let run = d.path().join("run");
    assert!(train(d.path(), &text, &["--out", &run.to_string_lossy()]).0);
    let (w0, _) = checkpoint::load(&run.join("weights_init.safetensors")).unwrap();
    let (pos, neg) = (&w0["layers.0.bias_pos"].data, &w0["layers.0.bias_neg"].data);
    assert!(pos.iter().all(|&v| v > 0.0) && neg.iter().all(|&v| v < 0.0));
    let sums: Vec<f32> = pos.iter().zip(neg).map(|(a, b)| a + b).collect();
    assert!(
        sums.windows(2).all(|w| (w[0] - w[1]).abs() < 1e-6),
        "{sums:?}"
    );
    assert!(!w0.contains_key("layers.0.bias"));
}

#[test]
fn parameter_groups_are_checked_against_the_model() {
    expect_error(
        &format!("{BASE}\n[optimizer.groups.gains]\nparams = [\"*.gain\"]\nlr = 0.01\n"),
        &[],
        "optimizer.groups.gains matches no parameter of the model",
    );
    expect_error(
        &format!(
            "{BASE}\n[optimizer.groups.all]\nparams = [\"*\"]\n[optimizer.groups.late]\nparams = [\"*.bias\"]\n"
        ),
        &[],
        "optimizer.groups.late matches no parameter that an earlier group does not take",
    );
    expect_error(
        &format!("{BASE}\n[optimizer.groups.slow]\nparams = [\"*.bias\"]\nmomentum = -1.0\n"),
        &[],
        "optimizer.groups.slow.momentum must be >= 0",
    );
    // A group with a lower lr trains: the biases move less than without it.
    let d = tempfile::tempdir().unwrap();
    let grouped =
        format!("{BASE}\n[optimizer.groups.frozen_bias]\nparams = [\"*.bias\"]\nlr = 1e-12\n");
    let run = d.path().join("run");
    let (ok, err) = train(d.path(), &grouped, &["--out", &run.to_string_lossy()]);
    assert!(ok, "{err}");
    let (w0, _) = checkpoint::load(&run.join("weights_init.safetensors")).unwrap();
    let (w1, _) = checkpoint::load(&run.join("weights_final.safetensors")).unwrap();
    for (name, t) in &w1 {
        let moved = t
            .data
            .iter()
            .zip(&w0[name].data)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        if name.ends_with(".bias") {
            assert!(moved < 1e-6, "{name} moved {moved} at lr 1e-12");
        } else {
            assert!(moved > 1e-4, "{name} did not train");
        }
    }
}

/// A checkpoint whose optimiser state does not fit the model is refused by name; so is one
/// written by a newer format. (Without a previous generation to fall back to: that case is
/// `tests/run_folder.rs`.)
#[test]
fn resume_checks_every_checkpoint_tensor() {
    use std::collections::HashMap;
    let d = tempfile::tempdir().unwrap();
    let run = d.path().join("run");
    let stop = ["--out", &run.to_string_lossy(), "--stop-after", "1"].map(String::from);
    let stop: Vec<&str> = stop.iter().map(String::as_str).collect();
    assert!(train(d.path(), BASE, &stop).0);
    let path = run.join("checkpoint.safetensors");
    let (t, meta) = checkpoint::load(&path).unwrap();
    assert_eq!(meta["format"], "2");
    assert!(t.contains_key("optimizer.layers.0.weight.momentum"));
    let resume = |t: &std::collections::BTreeMap<String, checkpoint::Tensor>,
                  meta: HashMap<String, String>| {
        let _ = std::fs::remove_file(checkpoint::previous(&path));
        checkpoint::save(&path, t, meta).unwrap();
        train(d.path(), BASE, &["--resume", &run.to_string_lossy()])
    };
    let mut bad = t.clone();
    let m = bad.get_mut("optimizer.layers.0.weight.momentum").unwrap();
    m.shape = vec![m.data.len(), 1];
    let want = format!(
        "`optimizer.layers.0.weight.momentum` has shape {:?}",
        m.shape
    );
    let (ok, err) = resume(&bad, meta.clone());
    assert!(!ok && err.contains(&want), "{err}");
    let mut stray = t.clone();
    stray.insert(
        "optimizer.layers.9.weight.momentum".into(),
        t["layers.0.bias"].clone(),
    );
    let (ok, err) = resume(&stray, meta.clone());
    assert!(!ok && err.contains("belongs to no parameter"), "{err}");
    let mut newer = meta.clone();
    newer.insert("format".into(), "99".into());
    let (ok, err) = resume(&t, newer);
    assert!(!ok && err.contains("format 99 is newer"), "{err}");
}

/// `train CONFIG key=value…`: the resolved config equals the edited file's, the run folder keeps
/// the overrides, the default folder names them, an unknown key gets the nearest-key error, and
/// a resume with other overrides is refused.
#[test]
fn command_line_overrides() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    write_idx(&data, 30, false);
    let dd = data.to_string_lossy().to_string();
    let cfg = write_config(d.path(), "c.toml", BASE);
    let over = [
        "optimizer.lr=0.05",
        "model.hidden=[4,3]",
        "optimizer.potential.kind=negentropy",
        "optimizer.groups.slow.params=[\"*.bias_*\"]",
        "optimizer.groups.slow.lr=0.01",
    ];
    // Run from the config's folder so that the default `runs/…` lands in the temporary folder.
    let bin = env!("CARGO_BIN_EXE_geoplast");
    let out = std::process::Command::new(bin)
        .current_dir(d.path())
        .args(["train", &cfg, "--data-dir", &dd])
        .args(over)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let runs: Vec<_> = std::fs::read_dir(d.path().join("runs/c"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    let name = run.file_name().unwrap().to_string_lossy().to_string();
    assert!(
        name.starts_with("optimizer.lr=0.05_model.hidden=_4_3"),
        "{name}"
    );
    assert_eq!(
        std::fs::read_to_string(run.join("overrides.txt")).unwrap(),
        over.join("\n") + "\n"
    );
    // The same config written out by hand resolves to the same config.toml.
    let edited = BASE
        .replace(
            "lr = 0.1",
            "lr = 0.05\npotential = { kind = \"negentropy\" }",
        )
        .replace("hidden = [6]", "hidden = [4, 3]")
        + "\n[optimizer.groups.slow]\nparams = [\"*.bias_*\"]\nlr = 0.01\n";
    let e = d.path().join("edited");
    assert!(train(d.path(), &edited, &["--out", &e.to_string_lossy()]).0);
    let parse = |p: &Path| {
        std::fs::read_to_string(p.join("config.toml"))
            .unwrap()
            .parse::<toml::Table>()
            .unwrap()
    };
    assert_eq!(parse(run), parse(&e));
    // A misspelt key names the nearest one.
    let r = d.path().join("r").to_string_lossy().to_string();
    let (ok, _, err) = geoplast(&[
        "train",
        &cfg,
        "--data-dir",
        &dd,
        "--out",
        &r,
        "optimizer.lrr=0.1",
    ]);
    assert!(!ok && err.contains("did you mean `lr`"), "{err}");
    let (ok, _, err) = geoplast(&[
        "train",
        &cfg,
        "--data-dir",
        &dd,
        "--out",
        &r,
        "optimizer.lr",
    ]);
    assert!(!ok && err.contains("KEY=VALUE"), "{err}");
    // Resume with other overrides is refused; with the same ones it continues.
    let p = run.to_string_lossy().to_string();
    let (ok, _, err) = geoplast(&[
        "train",
        &cfg,
        "--data-dir",
        &dd,
        "--resume",
        &p,
        "optimizer.lr=0.2",
    ]);
    assert!(!ok && err.contains("started with the overrides"), "{err}");
    let mut same = vec![
        "train",
        cfg.as_str(),
        "--data-dir",
        dd.as_str(),
        "--resume",
        p.as_str(),
    ];
    same.extend(over);
    let (ok, _, err) = geoplast(&same);
    assert!(ok, "{err}");
}

/// `train --multirun CONFIG k=a,b …` runs the grid as a sweep: top-level commas split values
/// (an array stays one value), single values are fixed, and the summary ranks the settings.
#[test]
fn multirun_expands_the_grid_into_a_sweep() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    write_idx(&data, 30, false);
    let (dd, cfg) = (
        data.to_string_lossy().to_string(),
        write_config(d.path(), "c.toml", BASE),
    );
    let out = d.path().join("multi").to_string_lossy().to_string();
    let args = [
        "train",
        "--multirun",
        &cfg,
        "--data-dir",
        &dd,
        "--out",
        &out,
        "optimizer.lr=0.05,0.1",
        "model.hidden=[4,3],[5]",
        "epochs=2",
    ];
    let (ok, _, err) = geoplast(&[&args[..], &["--dry-run"]].concat());
    assert!(ok, "{err}");
    let (ok, stdout, err) = geoplast(&args);
    assert!(ok, "{err}");
    assert!(stdout.contains("4 trained"), "{stdout}");
    let csv = std::fs::read_to_string(Path::new(&out).join("summary.csv")).unwrap();
    assert_eq!(csv.lines().count(), 5, "{csv}");
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .contains("optimizer.lr,model.hidden"),
        "{csv}"
    );
    let sweep = std::fs::read_to_string(Path::new(&out).join("multirun.toml")).unwrap();
    let t: toml::Table = sweep.parse().unwrap();
    assert_eq!(
        t["base"]["epochs"].as_integer(),
        Some(2),
        "single values are fixed"
    );
    assert_eq!(t["grid"]["model.hidden"].as_array().unwrap().len(), 2);
}

//! The one trainer, end to end: runs counted in updates, a stream source (student–teacher
//! regression, MSE) stopped and resumed to the same weights, named checkpoints (at updates, at
//! epoch starts, at metric thresholds), and a run stopped by SIGINT that resumes to the same
//! weights as one never stopped.

use geoplast::io::checkpoint;
use std::path::Path;
use std::process::Command;

mod common;
use common::{geoplast, write_config, write_idx};

const STREAM: &str = r#"
seed = 4
updates = 200
batch_size = 16
log_every = 10
[data]
kind = "teacher"
inputs = 12
outputs = 2
noise = 0.05
n_test = 300
[model]
kind = "mlp"
hidden = []
[optimizer]
lr = 0.05
momentum = 0.9
"#;

fn summary(run: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap()
}

fn final_weights(run: &Path) -> std::collections::BTreeMap<String, checkpoint::Tensor> {
    checkpoint::load(&run.join("weights_final.safetensors"))
        .unwrap()
        .0
}

#[test]
fn a_stream_learns_and_resumes_where_it_stopped() {
    let d = tempfile::tempdir().unwrap();
    let cfg = write_config(d.path(), "s.toml", STREAM);
    let (full, part) = (d.path().join("full"), d.path().join("part"));
    let (ok, out, err) = geoplast(&["train", &cfg, "--out", &full.to_string_lossy()]);
    assert!(ok, "{err}");
    assert!(
        out.contains("after 200 updates") && !out.contains("accuracy"),
        "{out}"
    );
    let s = summary(&full);
    assert_eq!(s["updates"], 200);
    assert!(s["test_acc"].is_null(), "regression has no accuracy: {s}");
    // The first evaluation is after 20 updates; the last one must be far lower.
    let log = std::fs::read_to_string(full.join("metrics.jsonl")).unwrap();
    let evals: Vec<f64> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["test_loss"].as_f64())
        .collect();
    assert_eq!(evals.len(), 10);
    assert!(evals[9] < 0.2 * evals[0], "MSE did not fall: {evals:?}");
    assert!(s["train_loss_auc"].as_f64().unwrap() > evals[9]);
    // The final training loss is the one logged with the last evaluation (updates 181–200).
    let last_train = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["train_loss"].as_f64())
        .next_back()
        .unwrap();
    assert_eq!(s["train_loss"].as_f64().unwrap(), last_train);

    // Stopped between evaluations (73 is not a multiple of 20) and resumed.
    let p = part.to_string_lossy().to_string();
    let (ok, _, err) = geoplast(&["train", &cfg, "--out", &p, "--stop-after", "73"]);
    assert!(ok, "{err}");
    let (_, meta) = checkpoint::load(&part.join("checkpoint.safetensors")).unwrap();
    assert_eq!(meta["step"], "73");
    assert!(meta.contains_key("source.word_pos"));
    let (ok, _, err) = geoplast(&["train", &cfg, "--resume", &p]);
    assert!(ok, "{err}");
    assert_eq!(final_weights(&full), final_weights(&part));
    for k in ["train_loss_auc", "train_loss"] {
        assert_eq!(summary(&full)[k], summary(&part)[k], "{k}");
    }
}

#[test]
fn length_and_checkpoints_in_updates() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    write_idx(&data, 40, false);
    // 40 samples at batch 8: 5 updates per epoch, 12 updates = 2.4 epochs.
    let text = r#"
seed = 1
updates = 12
batch_size = 8
[data]
kind = "idx"
[model]
kind = "mlp"
hidden = [5]
[optimizer]
lr = 0.1
[checkpoints]
at = [3, 12]
epoch_starts = true
thresholds = { test_acc = [1.0, 101.0], train_loss = [1e9] }
"#;
    let cfg = write_config(d.path(), "c.toml", text);
    let run = d.path().join("run");
    let r = run.to_string_lossy().to_string();
    let dd = data.to_string_lossy().to_string();
    let (ok, _, err) = geoplast(&["train", &cfg, "--data-dir", &dd, "--out", &r]);
    assert!(ok, "{err}");
    let names: std::collections::BTreeSet<String> = std::fs::read_dir(run.join("checkpoints"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let want = [
        "epoch_000",
        "epoch_001",
        "epoch_002",
        "step_000003",
        "step_000012",
        "test_acc_1",
        "train_loss_1000000000",
    ]
    .map(|n| format!("{n}.safetensors"));
    assert_eq!(names, want.into_iter().collect(), "101 % is never reached");
    let (_, meta) = checkpoint::load(&run.join("checkpoints/step_000003.safetensors")).unwrap();
    assert_eq!(meta["step"], "3");
    let (_, meta) = checkpoint::load(&run.join("checkpoints/epoch_002.safetensors")).unwrap();
    assert_eq!((meta["step"].as_str(), meta["epoch"].as_str()), ("10", "2"));
    assert_eq!(summary(&run)["updates"], 12);
    // Both lengths at once is refused.
    let both = write_config(
        d.path(),
        "b.toml",
        &text.replace("updates = 12", "updates = 12\nepochs = 2"),
    );
    let (ok, _, err) = geoplast(&["train", &both, "--data-dir", &dd, "--out", &r]);
    assert!(!ok && err.contains("either epochs or updates"), "{err}");
    let stream = write_config(
        d.path(),
        "e.toml",
        &STREAM.replace("updates = 200", "epochs = 2"),
    );
    let (ok, _, err) = geoplast(&["train", &stream, "--out", &r]);
    assert!(!ok && err.contains("a stream has no epochs"), "{err}");
}

/// SIGINT ends the run at the next update with a checkpoint and exit status 130; resuming it
/// gives the weights of a run that was never stopped.
#[test]
fn a_signal_stops_at_the_next_update_and_the_run_resumes() {
    let d = tempfile::tempdir().unwrap();
    // Long enough that the signal lands well before the end on any machine (the first
    // evaluation comes after 100 updates).
    let long = STREAM.replace("updates = 200", "updates = 200000\neval_every = 100");
    let cfg = write_config(d.path(), "s.toml", &long);
    let (full, part) = (d.path().join("full"), d.path().join("part"));
    let bin = env!("CARGO_BIN_EXE_geoplast");
    let child = Command::new(bin)
        .args(["train", &cfg, "--out", &part.to_string_lossy()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until training is under way (the first evaluation has written a metric line).
    let started = std::time::Instant::now();
    while !std::fs::read_to_string(part.join("metrics.jsonl"))
        .is_ok_and(|t| t.contains("test_loss"))
    {
        assert!(started.elapsed().as_secs() < 60, "training did not start");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("stopped by a signal after update"), "{err}");
    let (_, meta) = checkpoint::load(&part.join("checkpoint.safetensors")).unwrap();
    let step: usize = meta["step"].parse().unwrap();
    assert!(step > 0 && step < 200000, "stopped at {step}");
    let (ok, _, err) = geoplast(&["train", &cfg, "--resume", &part.to_string_lossy()]);
    assert!(ok, "{err}");
    let (ok, _, err) = geoplast(&["train", &cfg, "--out", &full.to_string_lossy()]);
    assert!(ok, "{err}");
    assert_eq!(final_weights(&full), final_weights(&part));
}

//! Recurrent networks through `geoplast train`: every cell and Dale's-law flavour learns the
//! 8×8 digits read row by row, with the sign invariants of EG, cSGD and clamping over every
//! update; a run stopped and resumed (with recurrent noise and truncated BPTT) ends with the same
//! weights; `.npz` sequences with per-step labels and a decision mask; `init_from`; and the
//! bad inputs of the recurrent keys, each refused with a sentence that names the key.

use geoplast::io::checkpoint;
use std::collections::BTreeMap;
use std::path::Path;

mod common;
use common::{geoplast, write_config, write_npz};

fn config(cell: &str, extra_rnn: &str, optimizer: &str) -> String {
    format!(
        r#"
seed = 3
epochs = 3
batch_size = 32
[data]
kind = "digits"
[model]
kind = "rnn"
hidden = [32]
activation = "relu"
[model.rnn]
cell = "{cell}"
{extra_rnn}
[optimizer]
momentum = 0.9
clip_norm = 2.0
{optimizer}
"#
    )
}

const GD: &str = "lr = 0.05";
const EG: &str = "lr = 0.1\npotential = { kind = \"negentropy\" }";
const CSGD: &str = "lr = 0.05\nsign_freeze = 1e-18";

fn train(dir: &Path, name: &str, text: &str, extra: &[&str]) -> (bool, String, String) {
    let cfg = write_config(dir, &format!("{name}.toml"), text);
    let out = dir.join(name).to_string_lossy().to_string();
    let mut args = vec!["train", cfg.as_str(), "--out", out.as_str()];
    args.extend_from_slice(extra);
    geoplast(&args)
}

fn summary(run: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(run.join("summary.json")).unwrap()).unwrap()
}

fn weights(file: &Path) -> BTreeMap<String, checkpoint::Tensor> {
    checkpoint::load(file).unwrap().0
}

#[test]
fn every_cell_learns_the_digits_and_keeps_its_signs() {
    let d = tempfile::tempdir().unwrap();
    let runs = [
        ("dense_gd", config("dense", "", GD)),
        ("dense_eg", config("dense", "", EG)),
        ("dense_csgd", config("dense", "", CSGD)),
        ("colei_clamp", config("colei", "", GD)),
        ("colei_eg", config("colei", "", EG)),
        (
            "colei_reparam",
            config("colei", "", GD).replace("[model.rnn]", "dale = \"reparam\"\n[model.rnn]"),
        ),
        ("dann_clamp", config("dann", "", GD)),
        ("dann_eg", config("dann", "", EG)),
    ];
    for (name, text) in &runs {
        let (ok, out, err) = train(d.path(), name, text, &[]);
        assert!(ok, "{name}: {err}");
        assert!(err.contains("spectral radius"), "{name}: {err}");
        let run = d.path().join(name);
        let s = summary(&run);
        let acc = s["test_acc"].as_f64().unwrap();
        // Chance is 10 %; three epochs of 45 updates.
        assert!(acc > 40.0, "{name} reached {acc} %: {out}");
        let (w0, w1) = (
            weights(&run.join("weights_init.safetensors")),
            weights(&run.join("weights_final.safetensors")),
        );
        let flips = |n: &str| {
            w0[n]
                .data
                .iter()
                .zip(&w1[n].data)
                .filter(|(a, b)| a.signum() != b.signum() && **a != 0.0 && **b != 0.0)
                .count()
        };
        for n in w1.keys() {
            if name.ends_with("_eg") || name.ends_with("csgd") {
                assert_eq!(flips(n), 0, "{name}: {n} flipped signs");
            }
            // The magnitudes of Dale's-law matrices stay non-negative.
            if n.ends_with("_pos") || n.ends_with("_ee") || n.ends_with("_ei") || n.ends_with("_ie")
            {
                assert!(
                    w1[n].data.iter().all(|&v| v >= 0.0),
                    "{name}: {n} went negative"
                );
            }
        }
        if name.starts_with("dense_gd") {
            assert!(flips("rnn.weight_hh_l0") > 0, "GD should flip some signs");
        }
        // An E/I readout never reads I units: their weights stay exactly 0.
        if name.starts_with("colei") {
            let r = &w1["readout.weight"];
            let h = r.shape[1];
            let n_i = 3; // ⌊32 · 0.1⌋
            for (i, v) in r.data.iter().enumerate() {
                if i % h >= h - n_i {
                    assert_eq!(*v, 0.0, "{name}: readout from an I unit");
                }
            }
        }
        assert!(
            run.join("weights_torch.safetensors").exists(),
            "{name}: no PyTorch weights"
        );
    }
}

#[test]
fn a_stopped_rnn_run_resumes_to_the_same_weights() {
    let d = tempfile::tempdir().unwrap();
    let text = config("dense", "noise = 0.05\nwindow = 3", GD);
    let (ok, _, err) = train(d.path(), "full", &text, &[]);
    assert!(ok, "{err}");
    let (ok, _, err) = train(d.path(), "part", &text, &["--stop-after", "1"]);
    assert!(ok, "{err}");
    let part = d.path().join("part").to_string_lossy().to_string();
    let cfg = d.path().join("part.toml").to_string_lossy().to_string();
    let (ok, _, err) = geoplast(&["train", &cfg, "--resume", &part]);
    assert!(ok, "{err}");
    let (a, b) = (
        weights(&d.path().join("full/weights_final.safetensors")),
        weights(&d.path().join("part/weights_final.safetensors")),
    );
    assert_eq!(a, b);
    // The noise and the truncation change the result: the run is not the plain one.
    let (ok, _, err) = train(d.path(), "plain", &config("dense", "", GD), &[]);
    assert!(ok, "{err}");
    assert_ne!(
        a,
        weights(&d.path().join("plain/weights_final.safetensors"))
    );
}

#[test]
fn a_window_as_long_as_the_sequence_is_full_bptt() {
    let d = tempfile::tempdir().unwrap();
    let (ok, _, err) = train(d.path(), "full", &config("dense", "", GD), &[]);
    assert!(ok, "{err}");
    let (ok, _, err) = train(d.path(), "w8", &config("dense", "window = 8", GD), &[]);
    assert!(ok, "{err}");
    assert_eq!(
        weights(&d.path().join("full/weights_final.safetensors")),
        weights(&d.path().join("w8/weights_final.safetensors"))
    );
}

/// A decision task in the task library's layout: fixation (channel 0) on for 6 steps, a
/// stimulus of sign s on channel 1 in steps 1–5 (remembered over the go cue), and the decision (class 1 for s > 0, 2 else)
/// in the last 3 steps, where the fixation is off (the decision mask).
fn decision_task(path: &Path, n: usize, seed: u64, x_shift: f32) {
    let (t_n, inp) = (9, 3);
    let mut state = seed;
    let mut coin = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33).is_multiple_of(2)
    };
    let signs: Vec<bool> = (0..n).map(|_| coin()).collect();
    let (mut x, mut y, mut mask) = (vec![], vec![], vec![]);
    for t in 0..t_n {
        for &pos in &signs {
            let fix = if t < 6 { 1.0f32 } else { 0.0 };
            let stim = if (1..6).contains(&t) {
                if pos { 0.5 } else { -0.5 }
            } else {
                0.0
            };
            for v in [fix, stim, 0.0] {
                x.extend_from_slice(&(v + x_shift).to_le_bytes());
            }
            let label: i64 = if t < 6 {
                0
            } else if pos {
                1
            } else {
                2
            };
            y.extend_from_slice(&label.to_le_bytes());
            mask.push((t >= 6) as u8);
        }
    }
    write_npz(
        path,
        &[
            ("x", "<f4", format!("({t_n}, {n}, {inp})"), x),
            ("y", "<i8", format!("({t_n}, {n})"), y),
            ("mask", "|b1", format!("({t_n}, {n})"), mask),
        ],
    );
}

fn npz_config(train: &Path, test: &Path, cell: &str) -> String {
    format!(
        r#"
seed = 5
epochs = 100
batch_size = 20
[data]
kind = "npz"
path = "{}"
test = "{}"
[model]
kind = "rnn"
hidden = [32]
activation = "tanh"
[model.rnn]
cell = "{cell}"
[optimizer]
lr = 0.1
momentum = 0.9
[loss]
label_smoothing = 0.1
"#,
        train.display(),
        test.display()
    )
}

#[test]
fn npz_sequences_with_a_decision_mask_are_learned() {
    let d = tempfile::tempdir().unwrap();
    let (tr, te) = (d.path().join("train.npz"), d.path().join("test.npz"));
    decision_task(&tr, 200, 1, 0.0);
    decision_task(&te, 100, 2, 0.0);
    let (ok, out, err) = train(d.path(), "dec", &npz_config(&tr, &te, "dense"), &[]);
    assert!(ok, "{err}");
    let log = std::fs::read_to_string(d.path().join("dec/metrics.jsonl")).unwrap();
    let last: serde_json::Value = log
        .lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v.get("test_dec_acc").is_some())
        .expect("evaluations report Dec Acc");
    let dec = last["test_dec_acc"].as_f64().unwrap();
    let acc = last["test_acc"].as_f64().unwrap();
    assert!(dec > 90.0, "Dec Acc {dec} %: {out}");
    assert!(acc > 90.0, "Acc {acc} %");
    // An E/I cell refuses the negative stimulus values, naming the fix.
    let (ok, _, err) = train(d.path(), "ei", &npz_config(&tr, &te, "colei"), &[]);
    assert!(!ok && err.contains("non-negative inputs"), "{err}");
}

#[test]
fn bad_recurrent_inputs_are_refused_with_the_key() {
    let d = tempfile::tempdir().unwrap();
    let cases: Vec<(String, &str)> = vec![
        (config("dense", "tau = 0\ndt = 20", GD), "model.rnn.tau"),
        (config("dense", "alpha = 1.5", GD), "alpha"),
        (config("dense", "tau = 100", GD), "tau and dt go together"),
        (
            config("colei", "spectral_radius = -1", GD),
            "spectral_radius",
        ),
        (config("dense", "window = 0", GD), "window"),
        (
            config("dense", "window = 9", GD),
            "longer than the sequences",
        ),
        (
            config("colei", "", GD).replace("[model.rnn]", "dale = \"eg\"\n[model.rnn]"),
            "sign-preserving",
        ),
        (
            config("dann", "", GD).replace("[model.rnn]", "dale = \"reparam\"\n[model.rnn]"),
            "reparam",
        ),
        (config("colei", "i_fraction = 0.01", GD), "inhibitory units"),
        (config("dense", "noise = -1", GD), "noise"),
        (
            config("dense", "", GD)
                .replace("hidden = [32]", "hidden = [3000]")
                .replace("batch_size = 32", "batch_size = 1000000000"),
            "the recurrent states of",
        ),
        (
            config("dense", "", GD).replace("hidden = [32]", "hidden = [32, 32]"),
            "one recurrent layer",
        ),
        (
            config("dense", "", GD).replace("kind = \"rnn\"", "kind = \"mlp\""),
            "[model.rnn] is set",
        ),
    ];
    for (i, (text, want)) in cases.iter().enumerate() {
        let (ok, _, err) = train(d.path(), &format!("bad{i}"), text, &[]);
        assert!(!ok, "case {i} ({want}) was accepted");
        assert!(err.contains(want), "case {i}: {err}");
        assert!(!err.contains("panicked"), "case {i}: {err}");
    }
    // Archives whose arrays disagree, or whose labels exceed the outputs.
    let bad = d.path().join("bad.npz");
    let x: Vec<u8> = (0..4 * 2 * 3).flat_map(|_| 0.5f32.to_le_bytes()).collect();
    let y3: Vec<u8> = (0..3).flat_map(|_| 1i64.to_le_bytes()).collect();
    write_npz(
        &bad,
        &[
            ("x", "<f4", "(4, 2, 3)".into(), x.clone()),
            ("y", "<i8", "(3,)".into(), y3),
        ],
    );
    let good = d.path().join("good.npz");
    decision_task(&good, 10, 1, 0.0);
    let (ok, _, err) = train(d.path(), "shape", &npz_config(&bad, &good, "dense"), &[]);
    assert!(!ok && err.contains("does not match `x`"), "{err}");
    let y2: Vec<u8> = (0..2).flat_map(|_| 1i64.to_le_bytes()).collect();
    let one = d.path().join("one.npz");
    write_npz(
        &one,
        &[
            ("x", "<f4", "(4, 2, 3)".into(), x),
            ("y", "<i8", "(2,)".into(), y2),
        ],
    );
    let (ok, _, err) = train(d.path(), "steps", &npz_config(&one, &good, "dense"), &[]);
    assert!(!ok && err.contains("must agree"), "{err}");
    let text = npz_config(&good, &good, "dense").replace("[model]", "classes = 2\n[model]");
    let (ok, _, err) = train(d.path(), "classes", &text, &[]);
    assert!(!ok && err.contains("data.classes"), "{err}");
}

#[test]
fn init_from_loads_pytorch_names_and_splits_biases_for_eg() {
    let d = tempfile::tempdir().unwrap();
    let (ok, _, err) = train(d.path(), "gd", &config("dense", "", GD), &[]);
    assert!(ok, "{err}");
    let torch = d.path().join("gd/weights_torch.safetensors");
    let text = config("dense", "", EG).replace(
        "epochs = 3",
        &format!("epochs = 1\ninit_from = \"{}\"", torch.display()),
    );
    let (ok, _, err) = train(d.path(), "eg", &text, &[]);
    assert!(ok, "{err}");
    let (src, init) = (
        weights(&torch),
        weights(&d.path().join("eg/weights_init.safetensors")),
    );
    assert_eq!(src["rnn.weight_hh_l0"], init["rnn.weight_hh_l0"]);
    for b in ["rnn.bias_ih_l0", "readout.bias"] {
        let (pos, neg) = (
            &init[&format!("{b}.pos")].data,
            &init[&format!("{b}.neg")].data,
        );
        for i in 0..pos.len() {
            assert!(
                pos[i] > 0.0 && neg[i] < 0.0,
                "{b}[{i}]: both parts must be nonzero"
            );
            assert!((pos[i] + neg[i] - src[b].data[i]).abs() < 1e-6, "{b}[{i}]");
        }
    }
    // A model of another size: every mis-shaped tensor is named.
    let text = text.replace("hidden = [32]", "hidden = [16]");
    let (ok, _, err) = train(d.path(), "small", &text, &[]);
    assert!(!ok, "accepted");
    for n in ["rnn.weight_ih_l0", "rnn.weight_hh_l0", "readout.weight"] {
        assert!(err.contains(&format!("`{n}` has shape")), "{err}");
    }
}

#[test]
fn the_adding_problem_is_generated_and_learned() {
    let d = tempfile::tempdir().unwrap();
    let text = r#"
seed = 1
epochs = 20
batch_size = 20
[data]
kind = "adding"
steps = 10
train = 1000
test = 500
[model]
kind = "rnn"
hidden = [32]
[optimizer]
lr = 0.01
momentum = 0.9
clip_norm = 1.0
"#;
    let (ok, out, err) = train(d.path(), "add", text, &[]);
    assert!(ok, "{err}");
    let s = summary(&d.path().join("add"));
    // The constant guess 1 scores about 1/6.
    let mse = s["test_loss"].as_f64().unwrap();
    assert!(mse < 0.05, "MSE {mse}: {out}");
    let (ok, _, err) = train(
        d.path(),
        "short",
        &text.replace("steps = 10", "steps = 1"),
        &[],
    );
    assert!(!ok && err.contains("data.steps"), "{err}");
}

//! `[prune]`: magnitude pruning of a run's starting weights into fixed masks (the EG paper's
//! Fig 3 protocol): which synapses go, that they stay at 0 through training and a resume, that
//! the masks are saved as u8 `mask.<name>` tensors, and the refusals.

mod common;
use common::geoplast;
use geoplast::io::checkpoint;
use std::collections::BTreeMap;
use std::path::Path;

const RNN: &str = "seed = 1\nupdates = 6\nbatch_size = 4\neval_every = 3\n[data]\nkind = \"tasks\"\n\
    set = \"yang19\"\nsteps = 40\nheld_out = 8\n[model]\nkind = \"rnn\"\nhidden = [16]\n\
    activation = \"relu\"\ninit = { kind = \"signed_log_normal\" }\n[optimizer]\nlr = 0.5\n\
    momentum = 0.9\npotential = { kind = \"negentropy\" }\n";

fn train(dir: &Path, name: &str, text: &str, extra: &[&str]) -> (bool, String) {
    let cfg = dir.join(format!("{name}.toml"));
    std::fs::write(&cfg, text).unwrap();
    let out = dir.join(name);
    let mut args = vec!["train", cfg.to_str().unwrap()];
    let o = out.to_str().unwrap().to_string();
    if !extra.contains(&"--resume") {
        args.extend(["--out", o.as_str()]);
    }
    args.extend_from_slice(extra);
    let (ok, _, err) = geoplast(&args);
    assert!(!err.contains("panicked"), "{err}");
    (ok, err)
}

fn load(p: &Path) -> BTreeMap<String, checkpoint::Tensor> {
    checkpoint::load(p).unwrap().0
}

/// A trained run, and the config of a pruned retraining from its final weights.
fn trained(dir: &Path, prune: &str) -> String {
    let (ok, err) = train(dir, "base", RNN, &[]);
    assert!(ok, "{err}");
    let from = dir.join("base/weights_final.safetensors");
    format!(
        "init_from = {:?}\n{RNN}[prune]\n{prune}\n",
        from.to_str().unwrap()
    )
}

const MATRICES: [&str; 3] = ["rnn.weight_ih_l0", "rnn.weight_hh_l0", "readout.weight"];

#[test]
fn global_pruning_removes_the_smallest_weights_and_they_stay_zero() {
    let d = tempfile::tempdir().unwrap();
    let text = trained(d.path(), "fraction = 0.6");
    let (ok, err) = train(d.path(), "pruned", &text, &[]);
    assert!(ok, "{err}");
    assert!(err.contains("pruned "), "{err}");
    let base = load(&d.path().join("base/weights_final.safetensors"));
    let init = load(&d.path().join("pruned/weights_init.safetensors"));
    let fin = load(&d.path().join("pruned/weights_final.safetensors"));
    // The masks are u8 tensors in the file.
    let bytes = std::fs::read(d.path().join("pruned/weights_init.safetensors")).unwrap();
    let st = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(
        st.tensor("mask.rnn.weight_hh_l0").unwrap().dtype(),
        safetensors::Dtype::U8
    );
    assert!(
        st.tensor("mask.rnn.bias_hh_l0.pos").is_err(),
        "biases are not pruned"
    );
    let (mut kept, mut cut) = (vec![], vec![]);
    for m in MATRICES {
        let mask = &init[&format!("mask.{m}")].data;
        for (i, &k) in mask.iter().enumerate() {
            let w = base[m].data[i].abs();
            if k == 0.0 {
                cut.push(w);
                assert_eq!(init[m].data[i], 0.0, "{m}[{i}] pruned but not zero");
                assert_eq!(fin[m].data[i], 0.0, "{m}[{i}] regrew in training");
            } else {
                kept.push(w);
                assert!(
                    fin[m].data[i] != 0.0 && fin[m].data[i].signum() == base[m].data[i].signum()
                );
            }
        }
    }
    let n = kept.len() + cut.len();
    assert_eq!(cut.len(), (0.6 * n as f64).floor() as usize);
    let top_cut = cut.iter().copied().fold(0.0f32, f32::max);
    let low_kept = kept.iter().copied().fold(f32::INFINITY, f32::min);
    assert!(
        top_cut <= low_kept,
        "one global threshold: {top_cut} > {low_kept}"
    );
    // The final weights keep the masks too, and weight statistics count live synapses only.
    assert!(fin.contains_key("mask.readout.weight"));
    let s: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(d.path().join("pruned/summary.json")).unwrap(),
    )
    .unwrap();
    let live: u64 = s["weight_stats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["n"].as_u64().unwrap())
        .sum();
    assert_eq!(live as usize, kept.len());
    // Analyses skip the masks: the spectrum lists the matrices only.
    let w = d.path().join("pruned/weights_final.safetensors");
    let (ok, out, err) = geoplast(&["spectrum", w.to_str().unwrap(), "--json"]);
    assert!(ok, "{err}");
    assert!(!out.contains("mask."), "{out}");
}

#[test]
fn a_resumed_pruned_run_stays_pruned_and_ends_with_the_same_weights() {
    let d = tempfile::tempdir().unwrap();
    let text = trained(d.path(), "fraction = 0.9");
    let (ok, err) = train(d.path(), "whole", &text, &[]);
    assert!(ok, "{err}");
    let (ok, err) = train(d.path(), "split", &text, &["--stop-after", "3"]);
    assert!(ok, "{err}");
    let split = d.path().join("split");
    let (ok, err) = train(
        d.path(),
        "split",
        &text,
        &["--resume", split.to_str().unwrap()],
    );
    assert!(ok, "{err}");
    let a = load(&d.path().join("whole/weights_final.safetensors"));
    let b = load(&split.join("weights_final.safetensors"));
    assert_eq!(a, b);
}

#[test]
fn reverse_and_per_tensor_pruning_cut_each_matrix_from_the_top() {
    let d = tempfile::tempdir().unwrap();
    let text = trained(
        d.path(),
        "fraction = 0.5\norder = \"largest\"\nscope = \"per_tensor\"\ninclude = [\"rnn.*\"]",
    );
    let (ok, err) = train(d.path(), "pruned", &text, &[]);
    assert!(ok, "{err}");
    let base = load(&d.path().join("base/weights_final.safetensors"));
    let init = load(&d.path().join("pruned/weights_init.safetensors"));
    assert!(!init.contains_key("mask.readout.weight"), "not included");
    for m in &MATRICES[..2] {
        let mask = &init[&format!("mask.{m}")].data;
        let (cut, kept): (Vec<_>, Vec<_>) = mask
            .iter()
            .zip(&base[*m].data)
            .partition(|(k, _)| **k == 0.0);
        assert_eq!(cut.len(), mask.len() / 2, "{m}");
        let low_cut = cut.iter().map(|x| x.1.abs()).fold(f32::INFINITY, f32::min);
        let top_kept = kept.iter().map(|x| x.1.abs()).fold(0.0f32, f32::max);
        assert!(low_cut >= top_kept, "{m}: the largest go first");
    }
}

#[test]
fn bad_prune_tables_are_refused_with_the_field_named() {
    let d = tempfile::tempdir().unwrap();
    for (prune, want) in [
        ("fraction = 1.0", "prune.fraction must be in [0, 1)"),
        (
            "fraction = 0.5\ninclude = [\"nothing.*\"]",
            "matches no weight",
        ),
        ("fraction = 0.5\nscope = \"local\"", "scope"),
        ("fraction = 0.5\ninclude = [\"[\"]", "not a valid glob"),
    ] {
        let text = format!("{RNN}[prune]\n{prune}\n");
        let (ok, err) = train(d.path(), "bad", &text, &["--overwrite"]);
        assert!(!ok && err.contains(want), "{prune}: {err}");
    }
}

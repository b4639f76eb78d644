//! `geoplast spectrum` through the binary: matrices with known spectra in a safetensors file
//! (orthogonal: SVD entropy 1 and radius 1; rank one: entropy 0; diagonal: the radius is the
//! largest |entry|), tensors of more than two dimensions skipped with a note, and the effective
//! recurrent matrix of a column-EI run and of its config at its initial spectral radius 1.5.

use geoplast::io::checkpoint::{self, Tensor};
use std::collections::{BTreeMap, HashMap};

mod common;
use common::{geoplast, write_config};

fn json(args: &[&str]) -> serde_json::Value {
    let (ok, out, err) = geoplast(args);
    assert!(ok, "{err}");
    serde_json::from_str(&out).unwrap()
}

fn matrix<'a>(v: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    v["matrices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"].as_str().unwrap().starts_with(name))
        .unwrap_or_else(|| panic!("no {name} in {v}"))
}

#[test]
fn known_spectra_from_a_weights_file() {
    let d = tempfile::tempdir().unwrap();
    let n = 6;
    // A permutation matrix (orthogonal) with a sign: eigenvalues on the unit circle.
    let perm: Vec<f32> = (0..n * n)
        .map(|i| {
            if (i / n + 1) % n == i % n {
                if i < n { -1.0 } else { 1.0 }
            } else {
                0.0
            }
        })
        .collect();
    let rank1: Vec<f32> = (0..n * 4)
        .map(|i| ((i / 4) + 1) as f32 * ((i % 4) as f32 - 1.5))
        .collect();
    let diag: Vec<f32> = (0..n * n)
        .map(|i| {
            if i / n == i % n {
                (i / n) as f32 - 4.0
            } else {
                0.0
            }
        })
        .collect();
    let t = BTreeMap::from([
        (
            "perm".to_string(),
            Tensor {
                shape: vec![n, n],
                data: perm,
            },
        ),
        (
            "rank1".to_string(),
            Tensor {
                shape: vec![n, 4],
                data: rank1,
            },
        ),
        (
            "diag".to_string(),
            Tensor {
                shape: vec![n, n],
                data: diag,
            },
        ),
        (
            "conv".to_string(),
            Tensor {
                shape: vec![2, 2, 2],
                data: vec![1.0; 8],
            },
        ),
        (
            "bias".to_string(),
            Tensor {
                shape: vec![n],
                data: vec![1.0; n],
            },
        ),
    ]);
    let f = d.path().join("w.safetensors");
    checkpoint::save(&f, &t, HashMap::new()).unwrap();
    let fs = f.to_string_lossy().to_string();
    let out = d.path().join("out");
    let v = json(&["spectrum", &fs, "--json", "--out", &out.to_string_lossy()]);
    let close = |a: &serde_json::Value, b: f64| (a.as_f64().unwrap() - b).abs() < 1e-9;
    assert!(close(&matrix(&v, "perm")["svd_entropy"], 1.0));
    assert!(close(&matrix(&v, "perm")["spectral_radius"], 1.0));
    assert!(close(&matrix(&v, "rank1")["svd_entropy"], 0.0));
    assert!(
        matrix(&v, "rank1")["spectral_radius"].is_null(),
        "not square"
    );
    assert!(close(&matrix(&v, "diag")["spectral_radius"], 4.0));
    assert_eq!(
        v["matrices"].as_array().unwrap().len(),
        3,
        "the 1-D and 3-D tensors are not matrices"
    );
    assert!(
        v["notes"][0]
            .as_str()
            .unwrap()
            .contains("conv has 3 dimensions"),
        "{v}"
    );
    for f in [
        "spectrum.json",
        "spectrum.md",
        "spectrum.png",
        "spectrum.svg",
    ] {
        assert!(out.join(f).exists(), "{f}");
    }
    // Globs select tensors.
    let v = json(&["spectrum", &fs, "--json", "--include", "d*"]);
    assert_eq!(v["matrices"].as_array().unwrap().len(), 1);
    // A run folder's selection by glob is refused with the reason.
    let (ok, _, err) = geoplast(&["spectrum", &d.path().to_string_lossy(), "--include", "x"]);
    assert!(!ok && err.contains("not of a run folder"), "{err}");
}

#[test]
fn a_column_ei_run_and_its_config_show_the_effective_recurrent_matrix() {
    let d = tempfile::tempdir().unwrap();
    let text = r#"
seed = 2
epochs = 1
batch_size = 64
[data]
kind = "digits"
[model]
kind = "rnn"
hidden = [20]
[model.rnn]
cell = "colei"
[optimizer]
lr = 0.05
"#;
    let cfg = write_config(d.path(), "c.toml", text);
    let v = json(&["spectrum", &cfg, "--json"]);
    let w = matrix(&v, "rnn.weight_hh_l0 (effective)");
    assert!(
        (w["spectral_radius"].as_f64().unwrap() - 1.5).abs() < 1e-4,
        "{w}"
    );
    let run = d.path().join("run").to_string_lossy().to_string();
    let (ok, _, err) = geoplast(&["train", &cfg, "--out", &run]);
    assert!(ok, "{err}");
    let init = json(&["spectrum", &run, "--init", "--json"]);
    assert_eq!(
        matrix(&init, "rnn.weight_hh_l0 (effective)")["spectral_radius"],
        w["spectral_radius"],
        "the run's initial weights are the config's"
    );
    let fin = json(&["spectrum", &run, "--json"]);
    assert_ne!(
        matrix(&fin, "rnn.weight_hh_l0 (effective)")["spectral_radius"],
        w["spectral_radius"]
    );
}

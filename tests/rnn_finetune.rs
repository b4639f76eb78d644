//! `geoplast reproduce rnn-finetune --quick` end to end (the geometry paper's RNN fine-tuning,
//! E8, on the 8×8 digits at H = 16): pretraining selected by the final training loss, the N
//! examples, the fine-tuning search with its retry, the repeats and the cross table.

mod common;
use common::geoplast;
use geoplast::io::checkpoint;
use std::path::Path;

fn w_hh(file: &Path) -> Vec<f32> {
    checkpoint::load(file).unwrap().0["rnn.weight_hh_l0"]
        .data
        .clone()
}

fn run_dirs(sweep: &Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = sweep
        .join("runs")
        .read_dir()
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    v
}

#[test]
fn quick_finetuning_reproduction_fills_the_cross_table() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("f");
    let o = out.to_str().unwrap();
    let (ok, stdout, err) = geoplast(&["reproduce", "rnn-finetune", "--quick", "--out", o]);
    assert!(ok, "{err}");
    for f in [
        "report.md",
        "summary.json",
        "cross.png",
        "finetune.npz",
        "pretrain/summary.csv",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(
        (s["synapses"].as_u64(), s["examples"].as_u64()),
        (Some(256), Some(16))
    );
    let rows = s["rows"].as_array().unwrap();
    let training: Vec<&str> = rows
        .iter()
        .map(|r| r["training"].as_str().unwrap())
        .collect();
    assert_eq!(training, ["NE", "p2", "p3"]);
    for r in rows {
        let cells = r["cells"].as_array().unwrap();
        let analysis: Vec<&str> = cells
            .iter()
            .map(|c| c["analysis"].as_str().unwrap())
            .collect();
        assert_eq!(analysis, ["NE", "p1.5", "p2", "p2.5", "p3"]);
        for c in cells {
            // Two repeats, each scored; the floor at D = 256 is about 0.07 (science.md §4.3
            // scales it as 1/√D from 0.117 at D = 100).
            let v = c["values"].as_array().unwrap();
            assert_eq!(v.len(), 2);
            let floor = c["floor"][0].as_f64().unwrap();
            assert!((0.04..0.12).contains(&floor), "{floor}");
            let (lo, hi, mean) = (
                c["interval"][0].as_f64().unwrap(),
                c["interval"][1].as_f64().unwrap(),
                c["mean"].as_f64().unwrap(),
            );
            assert!(lo <= mean && mean <= hi, "{c}");
        }
        // The row minimum is the smallest mean.
        let min = cells
            .iter()
            .min_by(|a, b| {
                a["mean"]
                    .as_f64()
                    .unwrap()
                    .total_cmp(&b["mean"].as_f64().unwrap())
            })
            .unwrap();
        assert_eq!(r["argmin"], min["analysis"]);
    }
    // EG keeps every sign of W_hh; the others need not.
    assert!(
        rows[0]["sign_flips"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f == 0)
    );
    // The pretraining rate of each potential has the lowest final training loss of its grid.
    let csv = std::fs::read_to_string(out.join("pretrain/summary.csv")).unwrap();
    let head: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let col = |k: &str| head.iter().position(|h| *h == k).unwrap();
    for sel in s["selections"].as_array().unwrap() {
        let pot = sel["potential"].as_str().unwrap();
        let best = csv
            .lines()
            .skip(1)
            .map(|l| l.split(',').collect::<Vec<_>>())
            .filter(|f| f[col("variant")] == pot)
            .min_by(|a, b| {
                let l = |f: &Vec<&str>| f[col("train_loss")].parse::<f64>().unwrap();
                l(a).total_cmp(&l(b))
            })
            .unwrap();
        assert_eq!(
            best[col("optimizer.lr")].parse::<f64>().unwrap(),
            sel["pretrain_lr"].as_f64().unwrap()
        );
    }
    // The N examples, time first: 8 steps of 8 pixels, 16 examples with their labels.
    let a = geoplast::io::weights::read_npz_all(&out.join("finetune.npz")).unwrap();
    assert_eq!(
        (a["x"].shape.clone(), a["y"].shape.clone()),
        (vec![8, 16, 8], vec![16])
    );
    assert!(a["y"].data.iter().all(|&c| (0.0..10.0).contains(&c)));
    // Every fine-tuning run starts from its potential's pretrained weights, and the repeats
    // differ only in the order of the examples, which changes where they end.
    let pre = run_dirs(&out.join("pretrain"));
    let repeats = out
        .join("finetune")
        .read_dir()
        .unwrap()
        .map(|e| e.unwrap().path());
    let mut checked = 0;
    for sweep in repeats.filter(|p| p.to_string_lossy().contains("repeats-")) {
        let runs = run_dirs(&sweep);
        for pair in runs.chunks(2) {
            let w0 = w_hh(&pair[0].join("weights_init.safetensors"));
            assert!(
                pre.iter()
                    .any(|p| w_hh(&p.join("weights_final.safetensors")) == w0)
            );
            assert_eq!(w0, w_hh(&pair[1].join("weights_init.safetensors")));
            assert_ne!(
                w_hh(&pair[0].join("weights_final.safetensors")),
                w_hh(&pair[1].join("weights_final.safetensors"))
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 3);
    // A second call reuses every run and prints the same table.
    let (ok, again, err) = geoplast(&["reproduce", "rnn-finetune", "--quick", "--out", o]);
    assert!(ok, "{err}");
    let table = |t: &str| {
        t.lines()
            .filter(|l| l.starts_with('|'))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(table(&again), table(&stdout));
}

#[test]
fn data_dir_is_refused_where_no_images_are_read() {
    let (ok, _, err) = geoplast(&["reproduce", "linreg", "--data-dir", ".", "--quick"]);
    assert!(!ok && err.contains("--data-dir is used only by"), "{err}");
    let (ok, _, err) = geoplast(&["reproduce", "rnn-finetune", "--quick", "--data-dir", "."]);
    assert!(!ok && err.contains("8×8 digits"), "{err}");
    let (ok, _, err) = geoplast(&["reproduce", "dale-rnn", "--full"]);
    assert!(!ok && err.contains("no --full form"), "{err}");
}

#[test]
fn a_data_dir_that_is_not_there_is_named() {
    let d = tempfile::tempdir().unwrap();
    let missing = d.path().join("nothing-here");
    let (ok, _, err) = geoplast(&[
        "reproduce",
        "rnn-finetune",
        "--data-dir",
        missing.to_str().unwrap(),
        "--out",
        d.path().join("o").to_str().unwrap(),
    ]);
    assert!(!ok && err.contains("nothing-here"), "{err}");
}

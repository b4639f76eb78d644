//! `geoplast geometry` end to end: every input format, the outputs, and clear errors.

use geoplast::geometry::Potential;
use geoplast::io::checkpoint::{self, Tensor};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

mod common;
use common::{eg_pairs, geoplast, write_npy};

fn json_best(stdout: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(stdout).expect("valid JSON");
    v["report"]["best"].as_str().unwrap().to_string()
}

#[test]
fn csv_with_header_ranks_and_writes_outputs() {
    let d = tempfile::tempdir().unwrap();
    let csv = d.path().join("w.csv");
    let mut text = String::from("before,after\n");
    for (a, b) in eg_pairs(3000) {
        text += &format!("{a},{b}\n");
    }
    std::fs::write(&csv, text).unwrap();
    let out = d.path().join("geo");
    let (ok, stdout, err) = geoplast(&[
        "geometry",
        "--weights",
        &csv.to_string_lossy(),
        "--bootstrap",
        "50",
        "--out",
        &out.to_string_lossy(),
    ]);
    assert!(ok, "{err}");
    assert!(
        stdout.contains("best geometry:") && stdout.contains("| rank |"),
        "{stdout}"
    );
    for f in [
        "report.md",
        "report.json",
        "delta_cdf.png",
        "delta_cdf.svg",
        "standardised_change.png",
        "qq.png",
    ] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    let (ok, stdout, _) = geoplast(&[
        "geometry",
        "--weights",
        &csv.to_string_lossy(),
        "--bootstrap",
        "0",
        "--json",
        "--candidates",
        "ne,p2",
    ]);
    assert!(ok);
    assert_eq!(json_best(&stdout), "NE");
}

#[test]
fn npy_sessions_and_separate_before_after_files() {
    let d = tempfile::tempdir().unwrap();
    let p = eg_pairs(2000);
    // Three sessions: w0, w1, and w1 again (no change between sessions 1 and 2).
    let data: Vec<f64> = p
        .iter()
        .flat_map(|(a, b)| [*a, *b, *b * 1.000_001])
        .collect();
    let npy = d.path().join("s.npy");
    write_npy(&npy, p.len(), 3, &data);
    let (ok, stdout, err) = geoplast(&[
        "geometry",
        "--weights",
        &npy.to_string_lossy(),
        "--pairs",
        "0:1",
        "--json",
        "--bootstrap",
        "0",
    ]);
    assert!(ok, "{err}");
    assert!(stdout.contains("2000 pairs"), "{stdout}");
    let (ok, stdout, _) = geoplast(&[
        "geometry",
        "--weights",
        &npy.to_string_lossy(),
        "--json",
        "--bootstrap",
        "0",
    ]);
    assert!(
        ok && stdout.contains("4000 pairs"),
        "consecutive pairs of 3 sessions"
    );
    let (ok, _, err) = geoplast(&[
        "geometry",
        "--weights",
        &npy.to_string_lossy(),
        "--pairs",
        "0:5",
    ]);
    assert!(!ok && err.contains("session 5 does not exist"), "{err}");

    let (b, a) = (d.path().join("b.csv"), d.path().join("a.csv"));
    std::fs::write(
        &b,
        p.iter().map(|x| format!("{}\n", x.0)).collect::<String>(),
    )
    .unwrap();
    std::fs::write(
        &a,
        p.iter()
            .take(1999)
            .map(|x| format!("{}\n", x.1))
            .collect::<String>(),
    )
    .unwrap();
    let (ok, _, err) = geoplast(&[
        "geometry",
        "--before",
        &b.to_string_lossy(),
        "--after",
        &a.to_string_lossy(),
    ]);
    assert!(!ok && err.contains("1999 weights here but 2000"), "{err}");
}

#[test]
fn safetensors_pairs_by_name_with_exclusions() {
    let d = tempfile::tempdir().unwrap();
    let p = eg_pairs(1200);
    let t = |f: fn(&(f64, f64)) -> f64, fc: f32| {
        let mut m = BTreeMap::new();
        m.insert(
            "conv.weight".to_string(),
            Tensor {
                shape: vec![40, 30],
                data: p.iter().map(|x| f(x) as f32).collect(),
            },
        );
        m.insert(
            "fc.weight".to_string(),
            Tensor {
                shape: vec![2],
                data: vec![fc, -fc],
            },
        );
        m
    };
    let (b, a) = (
        d.path().join("init.safetensors"),
        d.path().join("final.safetensors"),
    );
    checkpoint::save(&b, &t(|x| x.0, 1.0), HashMap::new()).unwrap();
    checkpoint::save(&a, &t(|x| x.1, -1.0), HashMap::new()).unwrap();
    let (ok, stdout, err) = geoplast(&[
        "geometry",
        "--before",
        &b.to_string_lossy(),
        "--after",
        &a.to_string_lossy(),
        "--exclude",
        "*fc*",
        "--json",
        "--bootstrap",
        "0",
    ]);
    assert!(ok, "{err}");
    assert!(
        stdout.contains("paired 1 tensors by name") && stdout.contains("conv.weight"),
        "{stdout}"
    );
    // With the classifier included, its sign flips exclude negative entropy.
    let (ok, stdout, _) = geoplast(&[
        "geometry",
        "--before",
        &b.to_string_lossy(),
        "--after",
        &a.to_string_lossy(),
        "--json",
        "--bootstrap",
        "0",
    ]);
    assert!(ok && stdout.contains("\"sign_changes\""), "{stdout}");
    let mut bad = t(|x| x.1, 1.0);
    bad.insert(
        "conv.weight".into(),
        Tensor {
            shape: vec![30, 40],
            data: vec![0.1; 1200],
        },
    );
    checkpoint::save(&a, &bad, HashMap::new()).unwrap();
    let (ok, _, err) = geoplast(&[
        "geometry",
        "--before",
        &b.to_string_lossy(),
        "--after",
        &a.to_string_lossy(),
    ]);
    assert!(
        !ok && err.contains("has shape [30, 40] here but [40, 30]"),
        "{err}"
    );
}

#[test]
fn clear_errors_for_bad_input() {
    let d = tempfile::tempdir().unwrap();
    let empty = d.path().join("empty.csv");
    std::fs::write(&empty, "before,after\n").unwrap();
    let (ok, _, err) = geoplast(&["geometry", "--weights", &empty.to_string_lossy()]);
    assert!(!ok && err.contains("holds no values"), "{err}");
    let garbage = d.path().join("g.npy");
    std::fs::write(&garbage, b"not numpy").unwrap();
    let (ok, _, err) = geoplast(&["geometry", "--weights", &garbage.to_string_lossy()]);
    assert!(!ok && err.contains("not a .npy file"), "{err}");
    let (ok, _, err) = geoplast(&[
        "geometry",
        "--weights",
        &d.path().join("missing.csv").to_string_lossy(),
    ]);
    assert!(!ok && err.contains("missing.csv"), "{err}");
    let neg = d.path().join("neg.csv");
    std::fs::write(&neg, "-1,-2\n-0.5,-0.1\n-3,-1\n0,-1\n").unwrap();
    let (ok, _, err) = geoplast(&[
        "geometry",
        "--weights",
        &neg.to_string_lossy(),
        "--drop-nonpositive",
    ]);
    assert!(!ok && err.contains("only 0 pairs are left"), "{err}");
    let zeros = d.path().join("z.csv");
    std::fs::write(&zeros, "0,1\n0,2\n1,0\n0,0\n").unwrap();
    let (ok, _, err) = geoplast(&[
        "geometry",
        "--weights",
        &zeros.to_string_lossy(),
        "--candidates",
        "ne",
    ]);
    assert!(
        !ok && err.contains("no candidate potential could be scored"),
        "{err}"
    );
    let (ok, _, err) = geoplast(&[
        "geometry",
        "--weights",
        &zeros.to_string_lossy(),
        "--candidates",
        "p0.5",
    ]);
    assert!(!ok && err.contains("p > 1"), "{err}");
}

#[test]
fn melander_real_data_when_present() {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/melander2021/all_raw_pyr_green");
    if !dir.is_dir() {
        eprintln!(
            "skipped: {} is absent (the shared data folder is not next to this checkout)",
            dir.display()
        );
        return;
    }
    let (ok, stdout, err) = geoplast(&[
        "geometry",
        "--weights",
        &dir.to_string_lossy(),
        "--normalize",
        "median",
        "--drop-nonpositive",
        "--json",
        "--bootstrap",
        "50",
    ]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let cands = v["report"]["candidates"].as_array().unwrap();
    let d = |label: &str| {
        cands.iter().find(|c| c["label"] == label).unwrap()["delta_cdf"]
            .as_f64()
            .unwrap()
    };
    // Euclidean plasticity is clearly worse than the multiplicative family on real synapses.
    assert!(d("p2") > d("NE") + 0.05, "p2 {} vs NE {}", d("p2"), d("NE"));
    assert!(v["input"].to_string().contains("dropped"));
}

#[test]
fn unpaired_fit_excludes_euclidean_for_log_normal_weights() {
    let d = tempfile::tempdir().unwrap();
    let csv = d.path().join("epsp.csv");
    // Deterministic log-normal-like values: exp of evenly spread normal quantiles.
    let vals: Vec<f64> = (1..=999)
        .map(|i| (geoplast::analysis::normal::quantile(i as f64 / 1000.0) * 0.9355 - 0.702).exp())
        .collect();
    std::fs::write(
        &csv,
        vals.iter().map(|v| format!("{v}\n")).collect::<String>(),
    )
    .unwrap();
    let out = d.path().join("fit");
    let (ok, stdout, err) = geoplast(&[
        "fit",
        "--weights",
        &csv.to_string_lossy(),
        "--json",
        "--out",
        &out.to_string_lossy(),
    ]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let fits = v["orthants"]["positive"]["fits"].as_array().unwrap();
    let excluded = |m: &str| {
        fits.iter()
            .filter(|f| f["model"] == m)
            .all(|f| f["excluded"].as_bool().unwrap())
    };
    assert!(excluded("p2") && !excluded("NE"));
    assert!(
        v["orthants"]["positive"]["song_2005"]["mu_within_2se"]
            .as_bool()
            .unwrap()
    );
    assert!(out.join("density.png").exists() && out.join("report.md").exists());
    let (ok, _, err) = geoplast(&["fit", "--weights", &csv.to_string_lossy(), "--column", "3"]);
    assert!(!ok && err.contains("column 3 does not exist"), "{err}");
}

/// The noise-aware test and the power calculator end to end, on synthetic data with known truth.
#[test]
fn noise_aware_test_and_power_calculator() {
    let d = tempfile::tempdir().unwrap();
    // Two sessions of the same synapses with multiplicative noise only (no learning), then a
    // learning session: the estimate recovers the noise, and the report has the null bands.
    use rand::RngExt;
    let mut rng = geoplast::rng::named(0, "noise-cli");
    let mut e = || (0.1 * rng.sample::<f64, _>(rand_distr::StandardNormal)).exp();
    let mut text = String::new();
    for (a, b) in eg_pairs(2000) {
        text += &format!("{},{},{}\n", a * e(), a * e(), b * e());
    }
    let csv = d.path().join("s.csv");
    std::fs::write(&csv, text).unwrap();
    let out = d.path().join("geo");
    let (ok, stdout, err) = geoplast(&[
        "geometry",
        "--weights",
        &csv.to_string_lossy(),
        "--pairs",
        "1:2",
        "--noise-from",
        "0:1",
        "--candidates",
        "ne,p2",
        "--noise-reps",
        "50",
        "--bootstrap",
        "0",
        "--json",
        "--out",
        &out.to_string_lossy(),
    ]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let mult = v["noise_aware"]["options"]["noise"]["mult"]
        .as_f64()
        .unwrap();
    assert!((mult - 0.1).abs() < 0.02, "estimated mult {mult}");
    let c = v["noise_aware"]["candidates"].as_array().unwrap();
    assert_eq!(c.len(), 2);
    assert!(
        c.iter()
            .all(|c| c["null_low"].as_f64().unwrap() <= c["null_high"].as_f64().unwrap())
    );
    assert!(out.join("noise_null.png").is_file());
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(md.contains("## With measurement noise"), "{md}");

    let pw = d.path().join("power");
    let (ok, stdout, err) = geoplast(&[
        "power",
        "--alternatives",
        "p2",
        "--noise",
        "mult=0.05",
        "--synapses",
        "50,2000",
        "--reps",
        "30",
        "--null-reps",
        "30",
        "--out",
        &pw.to_string_lossy(),
    ]);
    assert!(ok, "{err}");
    assert!(
        stdout.contains("| noise | synapses | truth kept |"),
        "{stdout}"
    );
    assert!(
        stdout.contains("separate NE from p2 with 80 % power"),
        "{stdout}"
    );
    for f in ["power.png", "power.svg", "report.md", "report.json"] {
        assert!(pw.join(f).is_file(), "{f}");
    }
}

/// Two `.safetensors` files whose tensors follow the given (geometry, dual-change sd) each.
fn tensor_files(dir: &Path, parts: &[(&str, Potential, f64)]) -> (String, String) {
    use geoplast::geometry::MirrorMap;
    use rand::RngExt;
    let mut rng = geoplast::rng::named(7, "per-tensor");
    let (mut t0, mut t1) = (BTreeMap::new(), BTreeMap::new());
    for &(name, pot, sd) in parts {
        let w0: Vec<f64> = (0..4000)
            .map(|_| (0.5 * rng.sample::<f64, _>(rand_distr::StandardNormal)).exp())
            .collect();
        let w1: Vec<f64> = w0
            .iter()
            .map(|&w| {
                pot.inverse(
                    pot.mirror(w) + sd * rng.sample::<f64, _>(rand_distr::StandardNormal),
                    1.0,
                )
            })
            .collect();
        for (t, w) in [(&mut t0, w0), (&mut t1, w1)] {
            let data = w.iter().map(|&v| v as f32).collect();
            t.insert(
                name.to_string(),
                Tensor {
                    shape: vec![40, 100],
                    data,
                },
            );
        }
    }
    let (b, a) = (dir.join("b.safetensors"), dir.join("a.safetensors"));
    checkpoint::save(&b, &t0, HashMap::new()).unwrap();
    checkpoint::save(&a, &t1, HashMap::new()).unwrap();
    (b.to_string_lossy().into(), a.to_string_lossy().into())
}

/// Each tensor ranked alone finds its own geometry; pooling after standardising removes the
/// scale mixture that raw pooling of changes of different sizes creates.
#[test]
fn per_tensor_geometry_and_standardised_pooling() {
    let d = tempfile::tempdir().unwrap();
    let (b, a) = tensor_files(
        d.path(),
        &[
            ("ne.weight", Potential::NegEntropy, 0.1),
            ("eu.weight", Potential::PNorm { p: 2.0 }, 0.1),
        ],
    );
    let out = d.path().join("geo");
    let (ok, stdout, err) = geoplast(&[
        "geometry",
        "--before",
        &b,
        "--after",
        &a,
        "--per-tensor",
        "--candidates",
        "ne,p1.5,p2,p3",
        "--bootstrap",
        "50",
        "--json",
        "--out",
        &out.to_string_lossy(),
    ]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let best = |name: &str| {
        v["per_tensor"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap()["report"]["best"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(best("ne.weight"), "NE");
    assert_eq!(best("eu.weight"), "p2");
    assert!(out.join("per_tensor.png").is_file());

    // Both tensors NE, changes fivefold apart in scale.
    let (b, a) = tensor_files(
        d.path(),
        &[
            ("small.weight", Potential::NegEntropy, 0.04),
            ("large.weight", Potential::NegEntropy, 0.2),
        ],
    );
    let run = |pool: &str| {
        let (ok, stdout, err) = geoplast(&[
            "geometry",
            "--before",
            &b,
            "--after",
            &a,
            "--pool",
            pool,
            "--candidates",
            "ne,p1.5,p2,p3",
            "--bootstrap",
            "0",
            "--json",
        ]);
        assert!(ok, "{err}");
        serde_json::from_str::<serde_json::Value>(&stdout).unwrap()
    };
    let raw = run("raw");
    let ne_raw = raw["report"]["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["label"] == "NE")
        .unwrap()["delta_cdf"]
        .as_f64()
        .unwrap();
    let std = run("standardised");
    let pooled = std["pooled_standardised"].as_array().unwrap();
    assert_eq!(pooled[0]["label"], "NE", "{pooled:?}");
    let ne_std = pooled[0]["delta_cdf"].as_f64().unwrap();
    assert!(
        ne_std < 0.5 * ne_raw,
        "standardised {ne_std} vs raw {ne_raw}"
    );
    // Tables have no named tensors.
    let csv = d.path().join("w.csv");
    std::fs::write(&csv, "1,2\n2,3\n3,5\n4,4\n").unwrap();
    let (ok, _, err) = geoplast(&[
        "geometry",
        "--weights",
        &csv.to_string_lossy(),
        "--per-tensor",
    ]);
    assert!(!ok && err.contains("work on named tensors"), "{err}");
}

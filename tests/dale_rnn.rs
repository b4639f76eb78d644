//! `geoplast reproduce dale-rnn --quick` end to end (Li et al. 2023, E10, on the 8×8 digits and
//! a short adding problem): every network under GD and EG on both tasks, and the spectra of
//! their effective recurrent matrices at initialisation and after training.

mod common;
use common::geoplast;

#[test]
fn quick_dale_rnn_reproduction_reports_every_network_and_its_spectrum() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("dale");
    let o = out.to_str().unwrap();
    let (ok, stdout, err) = geoplast(&["reproduce", "dale-rnn", "--quick", "--out", o]);
    assert!(ok, "{err}");
    for f in [
        "report.md",
        "summary.json",
        "singular_values_images.png",
        "singular_values_adding.png",
        "nse_vs_score.png",
        "images/select/summary.csv",
        "adding/final/summary.csv",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let archs: Vec<&str> = s["architectures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        archs,
        [
            "dense-20",
            "dann-20",
            "colei-10",
            "colei-20",
            "colei-20-i50"
        ]
    );
    // 5 networks × 2 optimisers × 2 tasks, one seed each.
    let runs = s["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 20);
    for r in runs {
        let init = &r["init"];
        let nse = init["nse"].as_f64().unwrap();
        assert!(nse > 0.0 && nse <= 1.0, "{r}");
        assert!(init["sigma_max"].as_f64().unwrap() >= init["sigma_min"].as_f64().unwrap());
        assert!(r["trained"]["nse"].as_f64().is_some(), "{r}");
        // Column-EI starts at spectral radius 1.5 (rescaled), whatever the optimiser.
        if r["arch"].as_str().unwrap().starts_with("colei") {
            let rho = init["spectral_radius"].as_f64().unwrap();
            assert!((rho - 1.5).abs() < 1e-6, "{r}");
        }
        // The adding problem is scored by its MSE, the images by accuracy in %.
        let perf = r["performance"].as_f64().unwrap();
        match r["task"].as_str().unwrap() {
            "adding" => assert!((0.0..1.0).contains(&perf), "{r}"),
            _ => assert!((0.0..=100.0).contains(&perf), "{r}"),
        }
    }
    // The column-EI spectrum at initialisation is the dispersed one (Li et al.): lower NSE
    // than the dense and DANN draws at the same width.
    assert!(
        stdout.contains("PASS NSE at initialisation: colei-20 below dense-20"),
        "{stdout}"
    );
    assert!(stdout.contains("EG beats GD on"), "{stdout}");
    // The EG runs keep the sign of every synapse of the Dale's-law cells: the run folders say
    // how many flipped, per matrix.
    for sweep in ["images/final", "adding/final"] {
        for e in out.join(sweep).join("runs").read_dir().unwrap() {
            let dir = e.unwrap().path();
            if !dir.to_string_lossy().contains("-eg_") {
                continue;
            }
            let v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap())
                    .unwrap();
            for w in v["weight_stats"].as_array().unwrap() {
                assert_eq!(w["sign_flips"], 0, "{}: {w}", dir.display());
            }
        }
    }
}

//! `geoplast reproduce pruning --quick` end to end (the EG paper's Fig 3 at a smoke scale): the
//! quick Mod-Cog networks are made, pruned at the start of their last epoch, retrained over the
//! rate grids and reverse-pruned; the report holds the table, the checks and the zero-shot
//! curve, and the retrained networks stay pruned.

mod common;
use common::geoplast;
use geoplast::io::checkpoint;

#[test]
fn quick_pruning_reproduction_prunes_retrains_and_reports() {
    let d = tempfile::tempdir().unwrap();
    let (from, out) = (d.path().join("modcog"), d.path().join("pruning"));
    let (f, o) = (from.to_str().unwrap(), out.to_str().unwrap());
    let (ok, stdout, err) = geoplast(&["reproduce", "pruning", "--quick", "--from", f, "--out", o]);
    assert!(ok, "{err}");
    assert!(
        from.join("report.md").is_file(),
        "the Mod-Cog runs are made first"
    );
    for f in [
        "report.md",
        "summary.json",
        "pruning.png",
        "retrain/summary.csv",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let rows = s["rows"].as_array().unwrap();
    // EG and GD at each quick fraction (0.9, 0.99), each at a rate of its grid.
    assert_eq!(rows.len(), 4);
    let total = rows[0]["kept"].as_f64().unwrap() / 0.1;
    for r in rows {
        let frac = r["fraction"].as_f64().unwrap();
        let kept = r["kept"].as_f64().unwrap();
        assert!(
            (kept - (1.0 - frac) * total).abs() <= 2.0,
            "{kept} synapses left at {frac} of {total}"
        );
        // The grids are the paper's factors times the Mod-Cog rate.
        let (key, src, factors) = if r["method"] == "eg" {
            ("eg_lrs", 0, [1.0 / 3.5, 2.0 / 3.5])
        } else {
            ("gd_lrs", 1, [1.0, 5.0])
        };
        let grid: Vec<f64> = s[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let lr = s["source_lrs"][src].as_f64().unwrap();
        for (g, f) in grid.iter().zip(factors) {
            assert!((g - f * lr).abs() < 1e-4, "{grid:?} from {lr}");
        }
        assert!(grid.contains(&r["lr"].as_f64().unwrap()), "{r}");
    }
    assert_eq!(s["reverse"].as_array().unwrap().len(), 2);
    // The zero-shot curve: 1 when nothing is pruned, falling as more is.
    for z in s["zero_shot"].as_array().unwrap() {
        let c: Vec<f64> = z["cosine"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert!((c[0] - 1.0).abs() < 1e-9, "{z}");
        assert!(c.windows(2).all(|w| w[1] <= w[0] + 1e-12), "{z}");
    }
    // One loss-AUC and one Dec Acc check per fraction, and the zero-shot check.
    assert_eq!(s["checks"].as_array().unwrap().len(), 5);
    assert!(stdout.contains("loss AUC below GD's"), "{stdout}");
    // A retrained network stays pruned: its masked synapses are 0 at the end.
    let run = out
        .join("retrain/runs")
        .read_dir()
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("000-eg_seed5_")
        })
        .expect("the first EG retraining run");
    let (w, _) = checkpoint::load(&run.join("weights_final.safetensors")).unwrap();
    let mask = &w["mask.rnn.weight_hh_l0"].data;
    let hh = &w["rnn.weight_hh_l0"].data;
    assert!(mask.contains(&0.0));
    assert!(mask.iter().zip(hh).all(|(&m, &v)| m == 1.0 || v == 0.0));
    // A second call reuses every run.
    let (ok, _, err) = geoplast(&["reproduce", "pruning", "--quick", "--from", f, "--out", o]);
    assert!(ok, "{err}");
}

#[test]
fn from_is_refused_by_other_experiments() {
    let (ok, _, err) = geoplast(&["reproduce", "r-of-k", "--quick", "--from", "x"]);
    assert!(!ok);
    assert!(err.contains("--from is used only by pruning"), "{err}");
}

//! `geoplast reproduce modcog --quick` end to end (the EG paper's multitask RNN at a smoke
//! scale): both sweeps, the report with its checks, the per-task table, the named checkpoints,
//! and `geoplast activity` on one of its runs.

mod common;
use common::geoplast;

#[test]
fn quick_modcog_reproduction_trains_every_method_and_reports_its_checks() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("m");
    let o = out.to_str().unwrap();
    let (ok, stdout, err) = geoplast(&["reproduce", "modcog", "--quick", "--out", o]);
    assert!(ok, "{err}");
    for f in [
        "report.md",
        "summary.json",
        "curves.png",
        "per_task.png",
        "per_task.csv",
        "weights_eg.png",
        "select/summary.csv",
        "final/summary.csv",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let s: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let rows = s["rows"].as_array().unwrap();
    let names: Vec<&str> = rows
        .iter()
        .map(|r| r["variant"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["eg", "gd", "csgd", "eg_unsigned"]);
    // The sign claims hold at any scale: EG and cSGD never flip a sign, GD does.
    let flips = |i: usize| rows[i]["sign_flips"][0].as_u64().unwrap();
    assert_eq!((flips(0), flips(2)), (0, 0), "{stdout}");
    assert!(flips(1) > 0, "{stdout}");
    assert!(stdout.contains("PASS EG flips exactly 0 signs"), "{stdout}");
    // Selection picked rates from the grids.
    assert!([2.0, 5.0].contains(&rows[0]["lr"].as_f64().unwrap()));
    assert!([0.05, 0.3].contains(&rows[1]["lr"].as_f64().unwrap()));
    // One line per task with the chance level and a column per method.
    let csv = std::fs::read_to_string(out.join("per_task.csv")).unwrap();
    assert_eq!(csv.lines().count(), 83);
    assert!(csv.starts_with("task,chance,eg,gd,csgd,eg_unsigned\n"));
    // The named checkpoints of E2 at every epoch start.
    let eg = out
        .join("final/runs")
        .read_dir()
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("000-eg_")
        });
    let eg = eg.expect("the EG run folder");
    for e in 0..3 {
        assert!(
            eg.join(format!("checkpoints/epoch_{e:03}.safetensors"))
                .is_file()
        );
    }
    // A second call reuses the runs and writes the same table.
    let (ok, again, err) = geoplast(&["reproduce", "modcog", "--quick", "--out", o]);
    assert!(ok, "{err}");
    let table = |t: &str| {
        t.lines()
            .filter(|l| l.starts_with('|'))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(table(&again), table(&stdout));
    // The activity export works on a modcog run.
    let act = d.path().join("act.npz");
    let (ok, _, err) = geoplast(&[
        "activity",
        eg.to_str().unwrap(),
        "--tasks",
        "go,dlyanti",
        "--trials",
        "2",
        "--out",
        act.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let a = geoplast::io::weights::read_npz_all(&act).unwrap();
    assert_eq!(
        (a["h"].shape[1], a["h"].shape[2], a["x"].shape[2]),
        (4, 32, 115)
    );
}

#[test]
fn inits_is_refused_outside_modcog() {
    let (ok, _, err) = geoplast(&["reproduce", "linreg", "--inits", "--quick"]);
    assert!(
        !ok && err.contains("--inits is used only by modcog"),
        "{err}"
    );
}

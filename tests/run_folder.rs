//! What geoplast guarantees for a run folder, through the binary: a run never writes into a
//! folder that holds another run's files (unless `--overwrite`, which clears it first), one
//! process writes a folder at a time, identical runs give identical bytes, a corrupt checkpoint
//! falls back to the previous generation, killed writes leave nothing behind, data folders are
//! compared as canonical paths, and a complete reproduction is shown rather than recomputed.

use geoplast::io::checkpoint;
use geoplast::io::lock::Lock;
use std::path::Path;
use std::process::Command;

mod common;
use common::{SWEEP, geoplast, write_config, write_idx};

const BASE: &str = common::MLP;

/// A config and a data folder in `dir`; returns (config path, data folder).
fn setup(dir: &Path) -> (String, String) {
    let data = dir.join("data");
    std::fs::create_dir_all(&data).unwrap();
    write_idx(&data, 30, false);
    (
        write_config(dir, "c.toml", BASE),
        data.to_string_lossy().into(),
    )
}

fn s(p: &Path) -> String {
    p.to_string_lossy().into()
}

fn no_panic(err: &str) {
    assert!(!err.contains("panicked"), "panic: {err}");
}

#[test]
fn a_run_never_writes_into_another_runs_folder() {
    let d = tempfile::tempdir().unwrap();
    let (cfg, data) = setup(d.path());
    let run = d.path().join("run");
    let (ok, _, err) = geoplast(&["train", &cfg, "--data-dir", &data, "--out", &s(&run)]);
    assert!(ok, "{err}");
    let metrics = std::fs::read(run.join("metrics.jsonl")).unwrap();
    // Again into the same folder: refused, nothing touched.
    let (ok, _, err) = geoplast(&["train", &cfg, "--data-dir", &data, "--out", &s(&run)]);
    no_panic(&err);
    assert!(
        !ok && err.contains("already holds files") && err.contains("--overwrite"),
        "{err}"
    );
    assert_eq!(std::fs::read(run.join("metrics.jsonl")).unwrap(), metrics);
    // --overwrite clears it first: the folder equals a fresh run's, with no stray file left.
    std::fs::write(run.join("stray.txt"), "from before").unwrap();
    let (ok, _, err) = geoplast(&[
        "train",
        &cfg,
        "--data-dir",
        &data,
        "--out",
        &s(&run),
        "--overwrite",
    ]);
    assert!(ok, "{err}");
    assert!(!run.join("stray.txt").exists());
    let fresh = d.path().join("fresh");
    let (ok, _, err) = geoplast(&["train", &cfg, "--data-dir", &data, "--out", &s(&fresh)]);
    assert!(ok, "{err}");
    for f in [
        "weights_final.safetensors",
        "checkpoint.safetensors",
        "metrics.jsonl",
    ] {
        assert_eq!(
            std::fs::read(run.join(f)).unwrap(),
            std::fs::read(fresh.join(f)).unwrap(),
            "{f}"
        );
    }
    // A folder left by a kill during start-up: resume says to start again.
    let half = d.path().join("half");
    std::fs::create_dir_all(&half).unwrap();
    std::fs::copy(run.join("config.toml"), half.join("config.toml")).unwrap();
    let (ok, _, err) = geoplast(&["train", &cfg, "--data-dir", &data, "--resume", &s(&half)]);
    no_panic(&err);
    assert!(
        !ok && err.contains("holds no checkpoint") && err.contains("--overwrite"),
        "{err}"
    );
}

#[test]
fn one_process_writes_a_folder_at_a_time() {
    let d = tempfile::tempdir().unwrap();
    let (_, data) = setup(d.path());
    let long = BASE.replace("epochs = 3", "epochs = 100000");
    let cfg = write_config(d.path(), "long.toml", &long);
    let run = d.path().join("run");
    let mut child = Command::new(env!("CARGO_BIN_EXE_geoplast"))
        .args(["train", &cfg, "--data-dir", &data, "--out", &s(&run)])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !std::fs::read_to_string(run.join("metrics.jsonl")).is_ok_and(|t| t.contains("test_loss"))
    {
        assert!(started.elapsed().as_secs() < 60, "training did not start");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    for extra in [
        ["--out", &s(&run), "--overwrite"],
        ["--resume", &s(&run), ""],
    ] {
        let mut args = vec!["train", cfg.as_str(), "--data-dir", data.as_str()];
        args.extend(extra.iter().filter(|a| !a.is_empty()));
        let (ok, _, err) = geoplast(&args);
        no_panic(&err);
        let pid = format!("pid {}", child.id());
        assert!(
            !ok && err.contains("is in use") && err.contains(&pid),
            "{err}"
        );
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // The kill released the lock: the folder can be written again.
    let short = write_config(d.path(), "short.toml", BASE);
    let (ok, _, err) = geoplast(&[
        "train",
        &short,
        "--data-dir",
        &data,
        "--out",
        &s(&run),
        "--overwrite",
    ]);
    assert!(ok, "{err}");
}

#[test]
fn a_local_sweep_owns_its_folder_and_array_tasks_share_it() {
    let d = tempfile::tempdir().unwrap();
    let sweep = write_config(d.path(), "s.toml", SWEEP);
    let out = d.path().join("sw");
    std::fs::create_dir_all(&out).unwrap();
    let o = s(&out);
    {
        let _task = Lock::shared(&out).unwrap();
        // Another array task runs alongside; a local sweep of the whole folder does not.
        let (ok, _, err) = geoplast(&["sweep", &sweep, "--out", &o, "--index", "0"]);
        assert!(ok, "{err}");
        let (ok, _, err) = geoplast(&["sweep", &sweep, "--out", &o]);
        no_panic(&err);
        assert!(!ok && err.contains("is in use"), "{err}");
    }
    {
        let _local = Lock::exclusive(&out).unwrap();
        for extra in [&["--index", "1"][..], &["--summary-only"]] {
            let mut args = vec!["sweep", sweep.as_str(), "--out", o.as_str()];
            args.extend_from_slice(extra);
            let (ok, _, err) = geoplast(&args);
            no_panic(&err);
            assert!(!ok && err.contains("is in use"), "{extra:?}: {err}");
        }
    }
    let (ok, _, err) = geoplast(&["sweep", &sweep, "--out", &o]);
    assert!(ok, "{err}");
}

#[test]
fn identical_runs_give_identical_bytes_and_one_file_mode() {
    let d = tempfile::tempdir().unwrap();
    let (cfg, data) = setup(d.path());
    let (a, b) = (d.path().join("a"), d.path().join("b"));
    for r in [&a, &b] {
        let (ok, _, err) = geoplast(&["train", &cfg, "--data-dir", &data, "--out", &s(r)]);
        assert!(ok, "{err}");
    }
    // Everything but the files that hold wall times (summary.json, report.md).
    for f in [
        "config.toml",
        "metrics.jsonl",
        "weights_init.safetensors",
        "weights_final.safetensors",
        "checkpoint.safetensors",
        "checkpoint.prev.safetensors",
        "curves.svg",
        "curves.png",
    ] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f} differs between identical runs"
        );
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let want = mode(&a.join("config.toml"));
        for e in std::fs::read_dir(&a).unwrap().flatten() {
            if e.path().is_file() {
                assert_eq!(mode(&e.path()), want, "{}", e.path().display());
            }
        }
    }
}

#[test]
fn a_corrupt_checkpoint_falls_back_to_the_previous_generation() {
    let d = tempfile::tempdir().unwrap();
    let (cfg, data) = setup(d.path());
    let (full, part) = (d.path().join("full"), d.path().join("part"));
    let (ok, _, err) = geoplast(&["train", &cfg, "--data-dir", &data, "--out", &s(&full)]);
    assert!(ok, "{err}");
    let (ok, _, err) = geoplast(&[
        "train",
        &cfg,
        "--data-dir",
        &data,
        "--out",
        &s(&part),
        "--stop-after",
        "2",
    ]);
    assert!(ok, "{err}");
    let ck = part.join("checkpoint.safetensors");
    let prev = checkpoint::previous(&ck);
    assert!(prev.is_file(), "the previous generation is kept");
    // Flip one exponent bit of the last value.
    let mut bytes = std::fs::read(&ck).unwrap();
    let n = bytes.len();
    bytes[n - 1] ^= 0x40;
    std::fs::write(&ck, bytes).unwrap();
    // Leftovers of writes killed half-way are removed on resume.
    for t in ["checkpoint.safetensors.tmp", "curves.tmp.png"] {
        std::fs::write(part.join(t), "torn").unwrap();
    }
    let (ok, _, err) = geoplast(&["train", &cfg, "--data-dir", &data, "--resume", &s(&part)]);
    assert!(ok, "{err}");
    assert!(
        err.contains("checksum mismatch") && err.contains("previous checkpoint"),
        "{err}"
    );
    for t in ["checkpoint.safetensors.tmp", "curves.tmp.png"] {
        assert!(!part.join(t).exists(), "{t} left behind");
    }
    assert_eq!(
        std::fs::read(part.join("weights_final.safetensors")).unwrap(),
        std::fs::read(full.join("weights_final.safetensors")).unwrap()
    );
    assert_eq!(
        std::fs::read(part.join("metrics.jsonl")).unwrap(),
        std::fs::read(full.join("metrics.jsonl")).unwrap(),
        "one history after resuming from the previous generation"
    );
}

#[test]
fn data_folders_are_compared_as_canonical_paths_and_resume_reads_the_saved_one() {
    let d = tempfile::tempdir().unwrap();
    let (cfg, _) = setup(d.path());
    let run = s(&d.path().join("run"));
    // Started with a relative data folder, resumed with its absolute path, then with none.
    let rel = Command::new(env!("CARGO_BIN_EXE_geoplast"))
        .current_dir(d.path())
        .args([
            "train",
            &cfg,
            "--data-dir",
            "data",
            "--out",
            &run,
            "--stop-after",
            "1",
        ])
        .output()
        .unwrap();
    assert!(
        rel.status.success(),
        "{}",
        String::from_utf8_lossy(&rel.stderr)
    );
    let abs = s(&d.path().join("data"));
    let (ok, _, err) = geoplast(&[
        "train",
        &cfg,
        "--data-dir",
        &abs,
        "--resume",
        &run,
        "--stop-after",
        "2",
    ]);
    assert!(ok, "{err}");
    let (ok, _, err) = geoplast(&["train", &cfg, "--resume", &run]);
    assert!(ok, "{err}");
}

#[test]
fn a_complete_reproduction_is_shown_not_recomputed() {
    let d = tempfile::tempdir().unwrap();
    let out = s(&d.path().join("wp"));
    let args = ["reproduce", "wrong-potential", "--quick", "--out", &out];
    let (ok, first, err) = geoplast(&args);
    assert!(ok, "{err}");
    let summary = std::fs::read(d.path().join("wp/summary.json")).unwrap();
    let (ok, again, err) = geoplast(&args);
    assert!(ok, "{err}");
    assert!(again.contains("holds a complete run"), "{again}");
    assert!(first.lines().next().is_some_and(|l| again.contains(l)));
    assert_eq!(
        std::fs::read(d.path().join("wp/summary.json")).unwrap(),
        summary
    );
    // An incomplete folder needs --overwrite.
    std::fs::remove_file(d.path().join("wp/summary.json")).unwrap();
    let (ok, _, err) = geoplast(&args);
    no_panic(&err);
    assert!(!ok && err.contains("--overwrite"), "{err}");
    let mut over = args.to_vec();
    over.push("--overwrite");
    let (ok, _, err) = geoplast(&over);
    assert!(ok, "{err}");
    assert!(d.path().join("wp/summary.json").is_file());
}

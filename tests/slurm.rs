//! `--emit-slurm` against a real single-node SLURM cluster (Debian's slurm-wlm and munge,
//! started by `tests/slurm/cluster.sh`, which `.ci/run` runs): `submit.sh` submits the array and
//! the summary job; every array task runs exactly its run; the summary job runs after them; the
//! results equal a local sweep of the same file; a failing task fails the submission and the
//! summary job is cancelled. Without a cluster the test is skipped with a message, except under
//! `CI=true`, where a missing cluster is a failure.

use geoplast::io::checkpoint;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

mod common;
use common::{SWEEP, geoplast};

/// The cluster's slurm.conf, from GEOPLAST_SLURM_CONF.
fn cluster() -> Option<String> {
    match std::env::var("GEOPLAST_SLURM_CONF") {
        Ok(c) if Path::new(&c).is_file() => Some(c),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => panic!(
            "CI=true but no SLURM cluster: .ci/run must start one (tests/slurm/cluster.sh) and \
             export GEOPLAST_SLURM_CONF"
        ),
        _ => {
            eprintln!(
                "skipped: no SLURM cluster (tests/slurm/cluster.sh start DIR, then \
                 GEOPLAST_SLURM_CONF=DIR/slurm.conf cargo test --test slurm)"
            );
            None
        }
    }
}

/// Runs a SLURM client command and returns its stdout.
fn slurm(conf: &str, cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .env("SLURM_CONF", conf)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    String::from_utf8_lossy(&out.stdout).into()
}

/// Emits the sweep `text` into `out`, submits it, and waits for both jobs to leave the queue.
/// Returns (array job id, summary job id).
fn submit_and_wait(conf: &str, dir: &Path, text: &str, out: &Path) -> (String, String) {
    let file = dir.join("s.toml");
    std::fs::write(&file, text).unwrap();
    let (ok, _, err) = geoplast(&[
        "sweep",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--emit-slurm",
        "--slurm",
        "throttle=2",
        "--slurm",
        "time=00:10:00",
    ]);
    assert!(ok, "{err}");
    let script = std::fs::read_to_string(out.join("slurm/sweep.sbatch")).unwrap();
    assert!(
        script.contains("%2\n") && script.contains("#SBATCH --time=00:10:00"),
        "{script}"
    );
    let sub = Command::new("bash")
        .arg(out.join("slurm/submit.sh"))
        .env("SLURM_CONF", conf)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&sub.stdout).to_string();
    assert!(
        sub.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&sub.stderr)
    );
    let ids: Vec<String> = said
        .split_whitespace()
        .filter(|w| w.trim_end_matches(',').chars().all(|c| c.is_ascii_digit()))
        .map(|w| w.trim_end_matches(',').to_string())
        .collect();
    assert_eq!(ids.len(), 2, "{said}");
    let start = Instant::now();
    while !slurm(conf, "squeue", &["-h", "-j", &ids.join(",")])
        .trim()
        .is_empty()
    {
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "jobs still queued after 300 s"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    (ids[0].clone(), ids[1].clone())
}

fn state(conf: &str, job: &str) -> String {
    slurm(conf, "scontrol", &["show", "job", job])
}

#[test]
fn a_sweep_runs_on_a_real_scheduler() {
    let Some(conf) = cluster() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("cluster");
    let (array, _summary) = submit_and_wait(&conf, tmp.path(), SWEEP, &out);
    let runs = geoplast::sweep::Sweep::load(&tmp.path().join("s.toml"))
        .unwrap()
        .expand(None)
        .unwrap();
    // Every array task ran exactly its run (its log names it) and finished it; a diverged run is
    // a result, so its task succeeded too.
    let mut last_run = std::time::SystemTime::UNIX_EPOCH;
    for r in &runs {
        let log = std::fs::read_to_string(out.join(format!("slurm/{array}_{}.log", r.index)))
            .unwrap_or_else(|e| panic!("task {} log: {e}", r.index));
        assert!(
            log.starts_with(&format!("run {}: {}\n", r.index, r.name)),
            "{log}"
        );
        let done = ["summary.json", "diverged.json"]
            .iter()
            .find_map(|f| std::fs::metadata(r.dir(&out).join(f)).ok())
            .unwrap_or_else(|| panic!("run {} did not finish", r.index));
        last_run = last_run.max(done.modified().unwrap());
    }
    assert!(!state(&conf, &array).contains("JobState=FAILED"));
    // The summary job ran after every task.
    let summary = std::fs::metadata(out.join("summary.csv")).expect("the summary job ran");
    assert!(summary.modified().unwrap() >= last_run);
    // The same results as a local sweep of the same file.
    let local = tmp.path().join("local");
    let (ok, _, err) = geoplast(&[
        "sweep",
        tmp.path().join("s.toml").to_str().unwrap(),
        "--out",
        local.to_str().unwrap(),
        "--jobs",
        "2",
    ]);
    assert!(ok, "{err}");
    for r in &runs {
        let w = |o: &Path| {
            checkpoint::load(&r.dir(o).join("weights_final.safetensors"))
                .map(|t| t.0)
                .ok()
        };
        assert_eq!(w(&out).is_some(), w(&local).is_some(), "run {}", r.index);
        if let (Some(a), Some(b)) = (w(&out), w(&local)) {
            for (name, t) in &a {
                assert_eq!(t.data, b[name].data, "run {} {name}", r.index);
            }
        }
    }
    let table = |o: &Path| -> Vec<String> {
        let text = std::fs::read_to_string(o.join("summary.csv")).unwrap();
        // Every column but the last (seconds).
        text.lines()
            .map(|l| l.rsplit_once(',').map_or(l, |x| x.0).to_string())
            .collect()
    };
    assert_eq!(table(&out), table(&local));
}

#[test]
fn a_failing_task_fails_the_submission_and_cancels_the_summary() {
    let Some(conf) = cluster() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("cluster");
    let text = SWEEP.replace(
        "grid = { \"optimizer.lr\" = [0.3, 1.0] }",
        "grid = { \"optimizer.lr\" = [0.3, 1.0] }\n\n[[variant]]\nname = \"broken\"\n\"data\" = { kind = \"idx\", dir = \"/nonexistent/geoplast-data\" }",
    );
    let (array, summary) = submit_and_wait(&conf, tmp.path(), &text, &out);
    assert!(
        state(&conf, &array).contains("JobState=FAILED"),
        "{}",
        state(&conf, &array)
    );
    let s = state(&conf, &summary);
    assert!(
        s.contains("JobState=CANCELLED") || s.contains("Invalid job id"),
        "summary job: {s}"
    );
    assert!(
        !out.join("summary.csv").exists(),
        "the summary job must not have run"
    );
}

//! The input side of the reliability audit (`../shared/audit/reliability-2026-12-01.md`), one
//! test per case through the binary: every bad config, data file, weight table or flag gets one
//! clear sentence and a non-zero exit, never a panic, an abort or an answer that is silently wrong.
//! The audit's ids are in the comments.

use std::path::Path;

mod common;
use common::{eg_pairs, geoplast, idx_file, npy, write_idx};

const CONFIG: &str = r#"
seed = 3
epochs = 2
batch_size = 8

[data]
kind = "idx"

[model]
kind = "mlp"
hidden = [6]

[optimizer]
lr = 0.1
"#;

/// Asserts that `geoplast args…` fails with a message containing every needle and no panic.
fn fails_with(args: &[&str], needles: &[&str]) -> String {
    let (ok, _, err) = geoplast(args);
    assert!(!err.contains("panicked"), "panic: {err}");
    assert!(!ok, "expected a failure for {args:?}; stderr {err}");
    for n in needles {
        assert!(err.contains(n), "stderr {err:?} lacks {n:?}");
    }
    err
}

/// Trains `text` on the data in `data` (a tiny IDX set is written when it is empty).
fn train_args(dir: &Path, text: &str, data: &Path) -> Vec<String> {
    if !data.join("train-images-idx3-ubyte").exists() {
        std::fs::create_dir_all(data).unwrap();
        write_idx(data, 30, false);
    }
    let cfg = dir.join("c.toml");
    std::fs::write(&cfg, text).unwrap();
    let s = |p: &Path| p.to_string_lossy().to_string();
    vec![
        "train".into(),
        s(&cfg),
        "--data-dir".into(),
        s(data),
        "--out".into(),
        s(&dir.join("run")),
    ]
}

fn train_fails(text: &str, needles: &[&str]) -> String {
    let d = tempfile::tempdir().unwrap();
    let args = train_args(d.path(), text, &d.path().join("data"));
    fails_with(
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        needles,
    )
}

fn with_init(init: &str) -> String {
    CONFIG.replace("hidden = [6]", &format!("hidden = [6]\ninit = {init}"))
}

#[test]
fn non_finite_and_overflowing_init_parameters() {
    // C22–C25: NaN and Inf passed `gain <= 0.0` and panicked in the sampler.
    for init in [
        r#"{ kind = "normal", gain = nan }"#,
        r#"{ kind = "uniform", gain = inf }"#,
        r#"{ kind = "signed_log_normal", ratio = nan }"#,
    ] {
        train_fails(&with_init(init), &["model.init", "must be a number in"]);
    }
    train_fails(
        &with_init(r#"{ kind = "exponential", scale = nan }"#),
        &["model.init scale must be a number in"],
    );
    // C26, C27: values that overflow f32 were reported as a divergence at step 0.
    let err = train_fails(
        &with_init(r#"{ kind = "constant", value = 1e39 }"#),
        &["init value must be finite in 32-bit floats"],
    );
    assert!(!err.contains("diverged"), "{err}");
    let err = train_fails(
        &with_init(r#"{ kind = "normal", gain = 1e300 }"#),
        &["model.init gain must be a number in"],
    );
    assert!(!err.contains("diverged"), "{err}");
}

#[test]
fn models_that_cannot_be_built() {
    // C28: a column-EI layer of width 1 has no E unit.
    train_fails(
        &CONFIG
            .replace("kind = \"mlp\"", "kind = \"colei\"")
            .replace("[6]", "[1]"),
        &["model.hidden width 1 is too small for a colei model"],
    );
    // C13, C39: sizes that cannot fit aborted in the allocator.
    train_fails(
        &CONFIG.replace("[6]", "[100000000000]"),
        &["parameters", "of memory", "reduce model.hidden"],
    );
    train_fails(
        "seed = 1\nepochs = 1\nbatch_size = 10\n[data]\nkind = \"r_of_k\"\ntask = { n = 10000000000 }\n[model]\n[optimizer]\nlr = 0.1\n",
        &["the generated data need about", "reduce task.n"],
    );
}

/// Writes a train and a test split with the given image bytes and labels.
fn write_split(dir: &Path, images: &[u8], labels: &[u8]) {
    std::fs::create_dir_all(dir).unwrap();
    for split in ["train", "t10k"] {
        std::fs::write(dir.join(format!("{split}-images-idx3-ubyte")), images).unwrap();
        std::fs::write(dir.join(format!("{split}-labels-idx1-ubyte")), labels).unwrap();
    }
}

#[test]
fn idx_headers_that_wrap_or_hold_nothing() {
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    // D12, D13: n × rows × cols wraps to 0 in 64 bits.
    let labels = idx_file(0x08, &[65536], &vec![0; 65536]);
    write_split(
        &data,
        &idx_file(0x08, &[65536, 1 << 24, 1 << 24], &[]),
        &labels,
    );
    let args = train_args(d.path(), CONFIG, &data);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    fails_with(&args, &["more than this machine can address"]);
    // D15–D17: 0 × 0-pixel images in both splits, for every model kind.
    let labels = idx_file(0x08, &[4], &[0, 1, 0, 1]);
    write_split(&data, &idx_file(0x08, &[4, 0, 0], &[]), &labels);
    for kind in ["mlp", "dann", "colei"] {
        let text = CONFIG.replace("kind = \"mlp\"", &format!("kind = \"{kind}\""));
        let args = train_args(d.path(), &text, &data);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        fails_with(&args, &["the images have 0 pixels"]);
    }
}

#[test]
fn a_stray_label_is_refused_unless_the_classes_are_declared() {
    // D18: one label 255 made a 256-output model without a word.
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    write_idx(&data, 30, false);
    let p = data.join("train-labels-idx1-ubyte");
    let mut b = std::fs::read(&p).unwrap();
    b[8 + 17] = 255;
    std::fs::write(&p, b).unwrap();
    let args = train_args(d.path(), CONFIG, &data);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    fails_with(
        &args,
        &[
            "the labels run up to 255 (train sample 17)",
            "data.classes = 256",
        ],
    );
    let text = CONFIG.replace("kind = \"idx\"", "kind = \"idx\"\nclasses = 256");
    let args = train_args(d.path(), &text, &data);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (ok, _, err) = geoplast(&args);
    assert!(ok, "declared classes train: {err}");
    let text = CONFIG.replace("kind = \"idx\"", "kind = \"idx\"\nclasses = 100");
    let args = train_args(d.path(), &text, &data);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    fails_with(
        &args,
        &["label 255 (train sample 17) is not below data.classes = 100"],
    );
}

#[test]
fn a_gzip_bomb_is_read_only_as_far_as_its_header() {
    // D22, D23: decompression ran to the end (1–5 GB) before the size check.
    use std::io::Write;
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    write_idx(&data, 30, false);
    let p = data.join("train-images-idx3-ubyte");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&idx_file(0x08, &[30, 4, 4], &[])).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..256 {
        gz.write_all(&zeros).unwrap(); // 256 MiB of zeros, a few hundred kB compressed
    }
    std::fs::remove_file(&p).unwrap();
    std::fs::write(
        data.join("train-images-idx3-ubyte.gz"),
        gz.finish().unwrap(),
    )
    .unwrap();
    let args = train_args(d.path(), CONFIG, &data);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let start = std::time::Instant::now();
    fails_with(
        &args,
        &["header says 480 data bytes, file has more than 480"],
    );
    // Decompressing all 256 MiB takes seconds; stopping at byte 481 takes milliseconds.
    assert!(start.elapsed().as_secs_f64() < 5.0, "{:?}", start.elapsed());
}

#[test]
fn resume_and_stop_after_that_would_report_nan() {
    let d = tempfile::tempdir().unwrap();
    let args = train_args(d.path(), CONFIG, &d.path().join("data"));
    let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
    // R12: --stop-after 0 printed "test accuracy NaN %".
    a.extend(["--stop-after", "0"]);
    fails_with(&a, &["--stop-after must be at least 1"]);
    a.truncate(a.len() - 2);
    let (ok, _, err) = geoplast(&a);
    assert!(ok, "{err}");
    // R10: a checkpoint whose epoch is beyond the config's.
    let ck = d.path().join("run/checkpoint.safetensors");
    let (t, mut meta) = geoplast::io::checkpoint::load(&ck).unwrap();
    meta.insert("epoch".into(), "1000".into());
    geoplast::io::checkpoint::save(&ck, &t, meta).unwrap();
    let run = d.path().join("run").to_string_lossy().to_string();
    let resume = ["train", a[1], "--data-dir", a[3], "--resume", run.as_str()];
    fails_with(
        &resume,
        &["the checkpoint is at epoch 1000, beyond the config's 2 epochs"],
    );
}

/// Writes `before,after` rows of `eg_pairs`, each value through `f`, and returns the path.
fn csv(dir: &Path, name: &str, header: &str, f: &dyn Fn(f64) -> String) -> String {
    let mut text = header.to_string();
    for (a, b) in eg_pairs(400) {
        text += &format!("{},{}\n", f(a), f(b));
    }
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into()
}

#[test]
fn csv_cells_are_read_or_reported_with_line_and_column() {
    let d = tempfile::tempdir().unwrap();
    // G12: decimal commas with semicolons were read as extra sessions.
    let p = d.path().join("eu.csv");
    std::fs::write(&p, "0,368;0,452\n0,5;0,6\n0,7;0,8\n").unwrap();
    fails_with(
        &["geometry", "--weights", &p.to_string_lossy()],
        &["line 1, column 1: not a number: \"0,368\"", "decimal comma"],
    );
    // G28: a first row with a typo was dropped as a header.
    let p = d.path().join("typo.csv");
    let good = csv(d.path(), "good.csv", "", &|v| v.to_string());
    let text = std::fs::read_to_string(&good).unwrap();
    std::fs::write(&p, format!("0.5,0.6x\n{text}")).unwrap();
    fails_with(
        &["geometry", "--weights", &p.to_string_lossy()],
        &["line 1, column 2: not a number: \"0.6x\""],
    );
    // Blank cells and NA are an error, or dropped and counted with --missing drop.
    let p = d.path().join("na.csv");
    std::fs::write(&p, format!("before,after\n0.5,\nNA,0.3\n{text}")).unwrap();
    let ps = p.to_string_lossy().to_string();
    fails_with(
        &["geometry", "--weights", &ps],
        &["missing value", "--missing drop"],
    );
    let (ok, stdout, err) = geoplast(&[
        "geometry",
        "--weights",
        &ps,
        "--missing",
        "drop",
        "--bootstrap",
        "0",
    ]);
    assert!(ok, "{err}");
    assert!(
        stdout.contains("dropped 2 synapses with a missing value") && stdout.contains("400 pairs"),
        "{stdout}"
    );
}

#[test]
fn scales_and_units() {
    let d = tempfile::tempdir().unwrap();
    // G14, G15: magnitudes where the statistics overflow or underflow.
    for (scale, name) in [(1e300, "huge.csv"), (1e-310, "tiny.csv")] {
        let p = csv(d.path(), name, "", &|v| format!("{:e}", v * scale));
        fails_with(
            &["geometry", "--weights", &p],
            &["magnitude outside [1e-150, 1e150]"],
        );
    }
    // G20: --normalize median was ignored with --before/--after.
    let col = |name: &str, scale: f64, after: bool| {
        let mut t = String::new();
        for (a, b) in eg_pairs(2000) {
            t += &format!("{:e}\n", scale * if after { b } else { a });
        }
        let p = d.path().join(name);
        std::fs::write(&p, t).unwrap();
        p.to_string_lossy().to_string()
    };
    let (b, a, a9) = (
        col("b.csv", 1.0, false),
        col("a.csv", 1.0, true),
        col("a9.csv", 1e9, true),
    );
    let best = |after: &str| {
        let (ok, out, err) = geoplast(&[
            "geometry",
            "--before",
            &b,
            "--after",
            after,
            "--normalize",
            "median",
            "--json",
            "--bootstrap",
            "0",
        ]);
        assert!(ok, "{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        (
            v["report"]["best"].as_str().unwrap().to_string(),
            v["input"].to_string(),
        )
    };
    let (same_units, notes) = best(&a);
    assert!(
        notes.contains("divided by its median positive value"),
        "{notes}"
    );
    assert_eq!(
        best(&a9).0,
        same_units,
        "after in other units ranks alike once normalised"
    );
}

#[test]
fn candidate_lists() {
    let d = tempfile::tempdir().unwrap();
    let p = csv(d.path(), "w.csv", "", &|v| v.to_string());
    // G21, G22: 1e11 and more candidates panicked or aborted.
    for c in ["p1.1:1e20:0.001", "p1.1:1e8:0.001"] {
        fails_with(
            &["geometry", "--weights", &p, "--candidates", c],
            &["more than the 1000 allowed"],
        );
    }
    // G24: a reversed range gave one candidate.
    fails_with(
        &["geometry", "--weights", &p, "--candidates", "p3:1.1:0.1"],
        &["the range must run upwards"],
    );
}

#[test]
fn npy_headers_that_lie() {
    let d = tempfile::tempdir().unwrap();
    let body: Vec<u8> = [1.0f64, 2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
    let cases = [
        // N04–N06: byte slicing of the dtype panicked.
        ("", "(2,)", "unsupported dtype"),
        ("<", "(2,)", "unsupported dtype"),
        ("é4", "(2,)", "unsupported dtype"),
        // N07, N08: shapes whose size overflows or exceeds the file.
        (
            "<f8",
            "(2305843009213693952,)",
            "needs more bytes than this machine can address",
        ),
        (
            "<f8",
            "(4294967296, 4294967296)",
            "needs more bytes than this machine can address",
        ),
        (
            "<f8",
            "(1000000, 2)",
            "truncated: the header announces 2000000 values",
        ),
    ];
    for (i, (descr, shape, needle)) in cases.iter().enumerate() {
        let p = d.path().join(format!("n{i}.npy"));
        std::fs::write(&p, npy(descr, shape, &body)).unwrap();
        fails_with(&["fit", "--weights", &p.to_string_lossy()], &[needle]);
    }
}

#[test]
fn safetensors_values_and_names() {
    use geoplast::io::checkpoint::{Tensor, save};
    use std::collections::{BTreeMap, HashMap};
    let d = tempfile::tempdir().unwrap();
    let pairs = eg_pairs(300);
    let file = |name: &str, tensor: &str, after: bool, poison: Option<f32>| {
        let mut data: Vec<f32> = pairs
            .iter()
            .map(|p| if after { p.1 } else { p.0 } as f32)
            .collect();
        if let Some(v) = poison {
            data[7] = v;
        }
        let t = BTreeMap::from([
            (
                tensor.to_string(),
                Tensor {
                    shape: vec![300],
                    data: data.clone(),
                },
            ),
            (
                "fc.weight".to_string(),
                Tensor {
                    shape: vec![300],
                    data,
                },
            ),
        ]);
        let p = d.path().join(name);
        save(&p, &t, HashMap::new()).unwrap();
        p.to_string_lossy().to_string()
    };
    let b = file("b.safetensors", "w", false, None);
    // S07, S08: a NaN pair was dropped silently; one Inf changed the best geometry.
    for (name, v) in [
        ("nan.safetensors", f32::NAN),
        ("inf.safetensors", f32::INFINITY),
    ] {
        let a = file(name, "w", true, Some(v));
        fails_with(
            &["geometry", "--before", &b, "--after", &a],
            &["non-finite value", "flat index 7"],
        );
    }
    // S09: a non-ASCII tensor name panicked in the glob matcher.
    let (b, a) = (
        file("mb.safetensors", "μ.weight", false, None),
        file("ma.safetensors", "μ.weight", true, None),
    );
    let (ok, out, err) = geoplast(&[
        "geometry",
        "--before",
        &b,
        "--after",
        &a,
        "--exclude",
        "*fc*",
        "--bootstrap",
        "0",
    ]);
    assert!(
        ok && out.contains("paired 1 tensors by name") && out.contains("μ.weight"),
        "{out}{err}"
    );
    // S06: a .safetensors file paired with a CSV was parsed as safetensors.
    let c = csv(d.path(), "w.csv", "", &|v| v.to_string());
    fails_with(
        &["geometry", "--before", &b, "--after", &c],
        &["so this one must be too"],
    );
}

#[test]
fn fit_refuses_a_sample_without_spread() {
    // F03: 2,000 identical values gave confident exclusions.
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("same.csv");
    std::fs::write(&p, "0.5\n".repeat(2000)).unwrap();
    fails_with(
        &["fit", "--weights", &p.to_string_lossy()],
        &["zero variance cannot be fitted"],
    );
}

#[test]
fn a_full_stdout_is_an_error_exit() {
    // L09: printing to /dev/full panicked.
    if !Path::new("/dev/full").exists() {
        eprintln!("skipped: no /dev/full");
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let p = csv(d.path(), "w.csv", "", &|v| v.to_string());
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_geoplast"))
        .args(["geometry", "--weights", &p, "--bootstrap", "0"])
        .stdout(std::fs::File::create("/dev/full").unwrap())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && !err.contains("panicked"), "{err}");
    assert!(
        err.contains("writing to standard output") && err.contains("No space left"),
        "{err}"
    );
}

#[test]
fn a_sweep_with_a_broken_variant_is_refused_up_front() {
    // W15: a variant with gain = nan panicked inside a worker and took the sweep down.
    let d = tempfile::tempdir().unwrap();
    let data = d.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    write_idx(&data, 30, false);
    let sweep = d.path().join("s.toml");
    let base = CONFIG
        .replace("[data]", "[base.data]")
        .replace("[model]", "[base.model]")
        .replace("[optimizer]", "[base.optimizer]");
    std::fs::write(
        &sweep,
        format!(
            "[base]{base}\n[[variant]]\nname = \"ok\"\n\n[[variant]]\nname = \"bad\"\n\"model.init\" = {{ kind = \"normal\", gain = nan }}\n"
        ),
    )
    .unwrap();
    let out = d.path().join("out").to_string_lossy().to_string();
    fails_with(
        &[
            "sweep",
            &sweep.to_string_lossy(),
            "--out",
            &out,
            "--data-dir",
            &data.to_string_lossy(),
        ],
        &["model.init gain must be a number in"],
    );
}

#[test]
fn file_names_that_are_not_utf8_are_used_as_given() {
    // U01, U03: a lossy copy of the name was opened instead of the file.
    use std::os::unix::ffi::OsStrExt;
    let d = tempfile::tempdir().unwrap();
    let p = csv(d.path(), "w.csv", "", &|v| v.to_string());
    let folder = d.path().join("dir");
    std::fs::create_dir_all(&folder).unwrap();
    let odd = folder.join(std::ffi::OsStr::from_bytes(b"w\xff.csv"));
    std::fs::copy(&p, &odd).unwrap();
    let (ok, out, err) = geoplast(&[
        "geometry",
        "--weights",
        &folder.to_string_lossy(),
        "--bootstrap",
        "0",
    ]);
    assert!(
        ok && out.contains("read 1 file(s), 400 synapses"),
        "{out}{err}"
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_geoplast"))
        .args(["fit", "--column", "1", "--weights"])
        .arg(&odd)
        .output()
        .unwrap();
    let (out, err) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.contains("400 weights"), "{out}{err}");
}

#[test]
fn outputs_are_written_before_stdout() {
    // L11: `geometry --json --out D | (exit 0)` was killed by SIGPIPE before D was written.
    let d = tempfile::tempdir().unwrap();
    let p = csv(d.path(), "w.csv", "", &|v| v.to_string());
    let out = d.path().join("geo");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_geoplast"))
        .args([
            "geometry",
            "--weights",
            &p,
            "--bootstrap",
            "0",
            "--json",
            "--out",
        ])
        .arg(&out)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map(|mut c| {
            drop(c.stdout.take()); // the reader goes away at once
            c.wait().unwrap()
        })
        .unwrap();
    let _ = status;
    assert!(out.join("report.json").is_file() && out.join("report.md").is_file());
}

#[test]
fn fit_reaches_the_better_of_several_em_starts() {
    // The audit's case: log-normal magnitudes, the p2 K = 2 fit stopped at the K = 1 likelihood.
    use rand::RngExt;
    let d = tempfile::tempdir().unwrap();
    let mut rng = geoplast::rng::named(1, "em");
    let ln = rand_distr::LogNormal::new(-0.702, 0.8752f64.sqrt()).unwrap();
    let text: String = (0..3000).map(|_| format!("{}\n", rng.sample(ln))).collect();
    let p = d.path().join("w.csv");
    std::fs::write(&p, text).unwrap();
    let (ok, out, err) = geoplast(&[
        "fit",
        "--weights",
        &p.to_string_lossy(),
        "--json",
        "--candidates",
        "p2",
    ]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let fits = v["orthants"]["positive"]["fits"].as_array().unwrap();
    let ll = |k: u64| {
        fits.iter()
            .find(|f| f["model"] == "p2" && f["components"] == k)
            .unwrap()["log_likelihood"]
            .as_f64()
            .unwrap()
    };
    assert!(ll(2) > ll(1) + 100.0, "K = 2 {} vs K = 1 {}", ll(2), ll(1));
}

#[test]
fn run_reports_compare_log_normal_with_half_normal() {
    let d = tempfile::tempdir().unwrap();
    let args = train_args(d.path(), CONFIG, &d.path().join("data"));
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let (ok, _, err) = geoplast(&a);
    assert!(ok, "{err}");
    let s = std::fs::read_to_string(d.path().join("run/summary.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&s).unwrap();
    let w = &v["weight_stats"][0];
    assert!(
        w["loglik_halfnormal"].is_f64() && w.get("loglik_normal").is_none(),
        "{w}"
    );
    let report = std::fs::read_to_string(d.path().join("run/report.md")).unwrap();
    assert!(report.contains("log-normal − half-normal"), "{report}");
}

#[test]
fn an_absurd_thread_count_is_refused_at_once() {
    // G27: --threads 100000 failed after 51 s with "Resource temporarily unavailable".
    let start = std::time::Instant::now();
    fails_with(
        &["--threads", "100000", "fit", "--weights", "nowhere.csv"],
        &["--threads 100000 is more than this machine can use"],
    );
    assert!(start.elapsed().as_secs_f64() < 5.0);
}

#[test]
fn measurement_noise_options() {
    let d = tempfile::tempdir().unwrap();
    let p = csv(d.path(), "w.csv", "", &|v| v.to_string());
    for (bad, needle) in [
        ("add=-1", "must be a standard deviation >= 0"),
        ("mult=9", "must be <= 5"),
        ("foo=1", "unknown term"),
        ("mult=x", "is not a number"),
    ] {
        fails_with(
            &["geometry", "--weights", &p, "--measurement-noise", bad],
            &[needle],
        );
    }
    fails_with(
        &["geometry", "--weights", &p, "--noise-from", "consecutive"],
        &["--noise-from takes two sessions I:J"],
    );
    fails_with(
        &["geometry", "--weights", &p, "--noise-from", "0:5"],
        &["session 5 does not exist"],
    );
    fails_with(
        &[
            "geometry",
            "--weights",
            &p,
            "--measurement-noise",
            "mult=0.1",
            "--noise-reps",
            "3",
        ],
        &["--noise-reps must be at least 10"],
    );
}

#[test]
fn power_options() {
    for (args, needle) in [
        (
            &["--truth", "ne", "--alternatives", "ne"][..],
            "--alternatives must list",
        ),
        (&["--truth", "ne,p2"][..], "--truth takes one potential"),
        (&["--change", "0"][..], "--change must be"),
        (&["--synapses", "5"][..], "--synapses must list"),
        (
            &["--init", "normal:0,1"][..],
            "--init takes lognormal:MU,SIGMA",
        ),
        (&["--init", "lognormal:0,-1"][..], "0 < SIGMA < 10"),
        (&["--power", "1.5"][..], "--power must be in (0, 1)"),
        (&["--noise", "mult=-1"][..], "must be a standard deviation"),
    ] {
        let mut a = vec!["power"];
        a.extend_from_slice(args);
        fails_with(&a, &[needle]);
    }
}

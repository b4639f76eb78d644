//! The cognitive tasks (science.md §6): channel layout and timing per family, the statistics of
//! their draws over many trials, the label conventions, streams, the NeuroGym reference
//! statistics, the training source, and `geoplast tasks` with bad input.
//!
//! Noise-free trials (σ = 0) are checked exactly against inputs rebuilt here from each trial's
//! recorded variables with science.md's formulas.

use geoplast::tasks::cognitive::trial::Trial;
use geoplast::tasks::cognitive::{self, LabelMode, Streams, TaskSet, Window};
use std::f64::consts::{PI, TAU};
use std::process::Command;

const RING: usize = 16;

fn trials(name: &str, n: usize, mode: LabelMode, sigma: f32, seed: u64) -> Vec<(usize, Trial)> {
    let set = TaskSet::named(name).unwrap();
    let dt = set.default_dt();
    let mut s = Streams::new(set, dt, mode, seed, "test", 1).unwrap();
    s.set_stimulus_sigma(sigma);
    (0..n)
        .map(|_| {
            let (k, t) = s.next_trial();
            (k, t.clone())
        })
        .collect()
}

fn span(t: &Trial, period: &str) -> std::ops::Range<usize> {
    let p = t.periods.iter().find(|p| p.0 == period).unwrap();
    p.1..p.1 + p.2
}

/// science.md's Gaussian bump, written out again.
fn bump(phi: f64, a: f64) -> Vec<f64> {
    (0..RING)
        .map(|k| {
            let theta = TAU * k as f64 / 16.0;
            let d = (phi.rem_euclid(TAU) - theta).abs();
            let d = d.min(TAU - d) / (PI / 8.0);
            0.8 * a * (-d * d / 2.0).exp()
        })
        .collect()
}

fn ring_at(t: &Trial, step: usize, m: usize) -> &[f32] {
    &t.x[step * t.channels + 1 + RING * m..step * t.channels + 1 + RING * (m + 1)]
}

fn close(a: &[f32], b: &[f64]) -> bool {
    a.iter().zip(b).all(|(x, y)| (*x as f64 - y).abs() < 1e-5)
}

/// The rules every task shares: fixation 1 exactly outside the decision period, the decision
/// mask is the decision period, class 0 outside it.
fn common_rules(t: &Trial) {
    let d = span(t, "decision");
    for s in 0..t.steps {
        let inside = d.contains(&s);
        assert_eq!(t.decision[s], inside);
        if inside {
            assert!(t.label[s] > 0 || t.x[s * t.channels] == 0.0);
        } else {
            assert_eq!(t.label[s], 0);
            assert_eq!(t.x[s * t.channels], 1.0, "fixation is on before the go cue");
        }
    }
}

fn reference_class(i: i64, seq: i64, k: i64) -> u32 {
    ((i + 1 + seq * k).rem_euclid(16) + 1) as u32
}

#[test]
fn go_family_layout_timing_targets_and_modality_alternation() {
    for task in &cognitive::modcog()[..22] {
        let name = &task.name;
        let rt = name.starts_with("rt");
        let anti = name.contains("anti");
        let int = if name.ends_with("intl") {
            -1.0
        } else if name.ends_with("intr") {
            1.0
        } else {
            0.0
        };
        let seq = if name.ends_with("seql") {
            -1
        } else if name.ends_with("seqr") {
            1
        } else {
            0
        };
        let mut last_modality = None;
        let mut delays = std::collections::BTreeSet::new();
        for (_, t) in trials(name, 200, LabelMode::Reference, 1.0, 1) {
            common_rules(&t);
            let (i, m) = (t.var("i"), t.var("modality") as usize);
            // One instance of a task alternates modality 1 and 2.
            if let Some(l) = last_modality {
                assert_ne!(l, m, "{name}");
            }
            last_modality = Some(m);
            let d = if int != 0.0 { t.var("delay") } else { 0.0 };
            delays.insert(d as u32);
            let phi = TAU * i / 16.0 + if anti { PI } else { 0.0 } + int * 0.01 * d;
            let shown = span(&t, if rt { "decision" } else { "stimulus" });
            for s in 0..t.steps {
                let expect = if shown.contains(&s) {
                    bump(phi, 1.0)
                } else {
                    vec![0.0; RING]
                };
                // Go tasks have no stimulus noise, even at σ = 1.
                assert!(close(ring_at(&t, s, m), &expect), "{name} step {s}");
                assert!(close(ring_at(&t, s, 1 - m), &[0.0; RING]), "{name}");
            }
            let dec = span(&t, "decision");
            assert_eq!(dec.len(), if seq != 0 && !rt { 10 } else { 5 }, "{name}");
            for (k, s) in dec.enumerate() {
                assert_eq!(
                    t.label[s],
                    reference_class(i as i64, seq, k as i64),
                    "{name}"
                );
            }
        }
        if int != 0.0 {
            assert_eq!(delays.len(), 12, "{name}: every int delay 0..1100 occurs");
            assert_eq!(*delays.iter().max().unwrap(), 1100);
        }
    }
}

#[test]
fn dm_families_coherences_strengths_choice_rule_and_silent_decision() {
    for task in &cognitive::modcog()[22..62] {
        let name = &task.name;
        let delayed = name.contains("dly");
        let shift = if name.ends_with("intl") {
            -5
        } else if name.ends_with("intr") {
            5
        } else {
            0
        };
        let seq = if name.ends_with("seql") {
            -1
        } else if name.ends_with("seqr") {
            1
        } else {
            0
        };
        let shown: [bool; 2] = if name.starts_with("dm1") || name.starts_with("dlydm1") {
            [true, false]
        } else if name.starts_with("dm2") || name.starts_with("dlydm2") {
            [false, true]
        } else {
            [true, true]
        };
        let weights = if name.starts_with("ctx") && name.contains("dm1") {
            [1.0, 0.0]
        } else if name.starts_with("ctx") {
            [0.0, 1.0]
        } else {
            [1.0, 1.0]
        };
        let mut coherences = std::collections::BTreeSet::new();
        let mut pairs = std::collections::BTreeMap::new();
        for (_, t) in trials(name, 300, LabelMode::Reference, 0.0, 2) {
            common_rules(&t);
            let (i1, i2) = (t.var("i1"), t.var("i2"));
            assert_ne!(i1, i2);
            let mut evidence = 0.0;
            for m in 0..2 {
                let (s1, s2) = (
                    t.var(["s1_mod1", "s1_mod2"][m]),
                    t.var(["s2_mod1", "s2_mod2"][m]),
                );
                assert_eq!(s1.is_nan(), !shown[m], "{name}");
                if !shown[m] {
                    for s in 0..t.steps {
                        assert!(close(ring_at(&t, s, m), &[0.0; RING]));
                    }
                    continue;
                }
                evidence += weights[m] * (s1 - s2);
                let (a, b) = (bump(TAU * i1 / 16.0, s1), bump(TAU * i2 / 16.0, s2));
                if delayed {
                    assert!(
                        s1 != s2 && [0.3, 0.6, 1.0].contains(&s1) && [0.3, 0.6, 1.0].contains(&s2)
                    );
                    *pairs
                        .entry(((s1 * 10.0) as u32, (s2 * 10.0) as u32))
                        .or_insert(0) += 1;
                    assert!(close(ring_at(&t, span(&t, "stim1").start, m), &a));
                    assert!(close(ring_at(&t, span(&t, "stim2").end - 1, m), &b));
                    assert!(close(ring_at(&t, span(&t, "delay").start, m), &[0.0; RING]));
                } else {
                    assert!((s1 + s2 - 1.0).abs() < 1e-12);
                    coherences.insert(((s1 - s2).abs() * 100.0).round() as u32);
                    let both: Vec<f64> = a.iter().zip(&b).map(|(x, y)| x + y).collect();
                    assert!(close(ring_at(&t, span(&t, "stimulus").start, m), &both));
                }
            }
            let choice = t.var("choice");
            if evidence > 1e-9 {
                assert_eq!(choice, i1, "{name}");
            } else if evidence < -1e-9 {
                assert_eq!(choice, i2, "{name}");
            }
            // All inputs are 0 in the decision period.
            for s in span(&t, "decision") {
                assert!(
                    t.x[s * 33..(s + 1) * 33].iter().all(|&v| v == 0.0),
                    "{name}"
                );
            }
            for (k, s) in span(&t, "decision").enumerate() {
                assert_eq!(
                    t.label[s],
                    reference_class(choice as i64 + shift, seq, k as i64)
                );
            }
        }
        if delayed {
            assert_eq!(pairs.len(), 6, "{name}: all ordered strength pairs occur");
        } else {
            assert_eq!(coherences, [8, 16, 32, 64].into(), "{name}");
        }
    }
}

#[test]
fn stimulus_noise_is_where_each_family_says_with_sd_one_over_root_dt() {
    let noisy = |name: &str| {
        let clean = trials(name, 100, LabelMode::Reference, 0.0, 4);
        let noisy = trials(name, 100, LabelMode::Reference, 1.0, 4);
        let mut diffs = Vec::new();
        for ((_, c), (_, n)) in clean.iter().zip(&noisy) {
            let d = n.x.iter().zip(&c.x).map(|(a, b)| (a - b) as f64);
            diffs.extend(d.filter(|&v| v != 0.0));
            // Noise leaves the clean fixation input and the labels alone.
            assert_eq!(c.decision, n.decision);
            assert_eq!(c.label, n.label);
        }
        (clean, noisy, diffs)
    };
    // DM: all 33 channels during the stimulus, nothing elsewhere.
    let (clean, noisy_dm, diffs) = noisy("dm1");
    for ((_, c), (_, n)) in clean.iter().zip(&noisy_dm) {
        let st = span(c, "stimulus");
        for s in 0..c.steps {
            let changed = (0..33)
                .filter(|&ch| n.x[s * 33 + ch] != c.x[s * 33 + ch])
                .count();
            assert_eq!(changed, if st.contains(&s) { 33 } else { 0 });
        }
    }
    let d = diffs;
    let sd = (d.iter().map(|v| v * v).sum::<f64>() / d.len() as f64).sqrt();
    assert!(
        (sd - 0.1).abs() < 0.005,
        "sd {sd} (σ/√dt = 0.1 at dt = 100 ms)"
    );
    // Match: only the shown modality's ring, during sample and test.
    let (clean, noisy_m, _) = noisy("dms");
    for ((_, c), (_, n)) in clean.iter().zip(&noisy_m) {
        let m = c.var("modality") as usize;
        let (sa, te) = (span(c, "sample"), span(c, "test"));
        for s in 0..c.steps {
            for ch in 0..33 {
                let on_ring = (1 + 16 * m..17 + 16 * m).contains(&ch);
                let expect = on_ring && (sa.contains(&s) || te.contains(&s));
                assert_eq!(n.x[s * 33 + ch] != c.x[s * 33 + ch], expect);
            }
        }
    }
}

#[test]
fn match_families_split_category_quirk_delays_and_labels() {
    for task in &cognitive::modcog()[62..] {
        let name = &task.name;
        let category = name.contains("mc");
        let go_on_match = !name.starts_with("dn");
        let shift: i64 = if name.ends_with("intl") {
            -1
        } else if name.ends_with("intr") {
            1
        } else {
            0
        };
        let seq = if name.ends_with("seql") {
            -1
        } else if name.ends_with("seqr") {
            1
        } else {
            0
        };
        let n = 400;
        let ts = trials(name, n, LabelMode::Reference, 0.0, 5);
        let matches = ts.iter().filter(|(_, t)| t.var("match") == 1.0).count();
        // 50/50: 4 sd of Binomial(400, 0.5) is 40.
        assert!(
            (matches as i64 - 200).abs() < 40,
            "{name}: {matches} matches"
        );
        let delays: std::collections::BTreeSet<u32> =
            ts.iter().map(|(_, t)| t.var("delay") as u32).collect();
        if shift == 0 {
            // Reference mode: the non-int delay is drawn once per task instance.
            assert_eq!(delays.len(), 1, "{name}");
            let d = *delays.iter().next().unwrap();
            assert!((200..1200).contains(&d) && d.is_multiple_of(100));
        } else {
            assert_eq!(delays.len(), 12, "{name}");
        }
        let mut last_m = None;
        for (_, t) in &ts {
            common_rules(t);
            let (i, test, is_match) = (t.var("sample"), t.var("test"), t.var("match") == 1.0);
            let m = t.var("modality") as usize;
            assert_ne!(last_m, Some(m), "{name} alternates modality");
            last_m = Some(m);
            if category {
                let sample_cat = i > 8.0;
                assert_eq!(
                    (test >= 8.0) == sample_cat,
                    is_match,
                    "{name} category rule"
                );
            } else {
                let expect = if is_match { i } else { (i + 8.0) % 16.0 };
                assert_eq!(test, expect);
            }
            assert!(close(
                ring_at(t, span(t, "sample").start, m),
                &bump(TAU * i / 16.0, 1.0)
            ));
            assert!(close(
                ring_at(t, span(t, "test").start, m),
                &bump(TAU * test / 16.0, 1.0)
            ));
            let d = t.var("delay") as i64;
            let dec = span(t, "decision");
            assert_eq!(dec.len(), if seq != 0 { 10 } else { 5 });
            for (k, s) in dec.enumerate() {
                let expect = if is_match == go_on_match {
                    reference_class(test as i64 + shift * d / 100, seq, k as i64)
                } else {
                    1 // a no-go decision in the reference labels
                };
                assert_eq!(t.label[s], expect, "{name}");
            }
        }
    }
    // Another stream instance draws its own delay.
    let other: std::collections::BTreeSet<u32> = (0..20)
        .map(|seed| {
            trials("dms", 1, LabelMode::Reference, 0.0, seed)[0]
                .1
                .var("delay") as u32
        })
        .collect();
    assert!(other.len() > 3);
}

#[test]
fn corrected_labels_fix_the_reference_quirks() {
    let go = trials("go", 50, LabelMode::Corrected, 0.0, 6);
    for (_, t) in &go {
        let i = t.var("i") as u32;
        assert!(span(t, "decision").all(|s| t.label[s] == i + 1));
    }
    let dnms = trials("dnms", 200, LabelMode::Corrected, 0.0, 6);
    let delays: std::collections::BTreeSet<u32> =
        dnms.iter().map(|(_, t)| t.var("delay") as u32).collect();
    assert!(
        delays.len() > 5,
        "corrected: the match delay is drawn per trial"
    );
    for (_, t) in &dnms {
        let go = t.var("match") == 0.0;
        let want = if go { t.var("test") as u32 + 1 } else { 0 };
        assert!(span(t, "decision").all(|s| t.label[s] == want));
    }
    // Category by ring half: sample 8 is category 1 in the corrected mode.
    for (_, t) in trials("dmc", 400, LabelMode::Corrected, 0.0, 7) {
        let same = (t.var("test") >= 8.0) == (t.var("sample") >= 8.0);
        assert_eq!(same, t.var("match") == 1.0);
    }
}

#[test]
fn classic_tasks_follow_neurogym_definitions() {
    for (_, t) in trials(
        "perceptual_decision_making",
        200,
        LabelMode::Reference,
        0.0,
        8,
    ) {
        common_rules(&t);
        let (gt, coh) = (t.var("choice"), t.var("coh"));
        assert!([0.0, 6.4, 12.8, 25.6, 51.2].contains(&coh));
        let s = span(&t, "stimulus").start;
        let expect = [
            0.5 + coh / 200.0 * (0.0 - PI * gt).cos(),
            0.5 + coh / 200.0 * (PI - PI * gt).cos(),
        ];
        assert!(close(&t.x[s * 3 + 1..s * 3 + 3], &expect));
        assert!(span(&t, "decision").all(|d| t.label[d] == gt as u32 + 1));
    }
    for (_, t) in trials("context_integration", 200, LabelMode::Reference, 0.0, 8) {
        common_rules(&t);
        let ctx = t.var("context") as usize;
        assert!((0..t.steps).all(|s| t.x[s * 7 + 5 + ctx] == 1.0 && t.x[s * 7 + 6 - ctx] == 0.0));
        let want = t.var(["choice_mod1", "choice_mod2"][ctx]) as u32 + 1;
        assert!(span(&t, "decision").all(|d| t.label[d] == want));
        let delay = t.var("delay");
        assert!((300.0..3000.0).contains(&delay) && delay % 50.0 == 0.0);
    }
    for (_, t) in trials("go_no_go", 100, LabelMode::Reference, 0.0, 8) {
        common_rules(&t);
        let go = t.var("go") == 1.0;
        let st = span(&t, "stimulus");
        assert!(
            (0..t.steps)
                .all(|s| t.x[s * 3 + if go { 2 } else { 1 }] == st.contains(&s) as u8 as f32)
        );
        assert!(span(&t, "decision").all(|d| t.label[d] == go as u32));
    }
    for (_, t) in trials("delayed_match_to_sample", 100, LabelMode::Reference, 0.0, 8) {
        common_rules(&t);
        let want = if t.var("match") == 1.0 { 1 } else { 2 };
        assert!(span(&t, "decision").all(|d| t.label[d] == want));
    }
}

/// NeuroGym's statistics (tests/golden/neurogym_tasks/make.py, NeuroGym's own code) against
/// geoplast's over as many trials. Compared: the mean trial length, the class histogram, and the
/// mean input of every channel in every period — except the fixation channel of perceptual
/// decision making and context-dependent integration, which NeuroGym switches off after the
/// fixation period (geoplast keeps it on until the go cue, science.md §6.4).
#[test]
fn statistics_match_neurogym_within_sampling_error() {
    let text = std::fs::read_to_string("tests/golden/neurogym_tasks/stats.json").unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    for (name, r) in v["tasks"].as_object().unwrap() {
        let n = r["trials"].as_u64().unwrap() as usize;
        let ts = trials(name, n, LabelMode::Reference, 1.0, 11);
        let mean_steps = ts.iter().map(|(_, t)| t.steps as f64).sum::<f64>() / n as f64;
        let sd = r["sd_steps"].as_f64().unwrap();
        let tol = 4.0 * sd * (2.0 / n as f64).sqrt() + 1e-9;
        assert!(
            (mean_steps - r["mean_steps"].as_f64().unwrap()).abs() <= tol,
            "{name}: mean trial length {mean_steps} vs NeuroGym {}",
            r["mean_steps"]
        );
        // Class fractions over all steps.
        let total: usize = ts.iter().map(|(_, t)| t.steps).sum();
        for (c, f) in r["class_fraction"].as_object().unwrap() {
            let c: u32 = c.parse().unwrap();
            let ours = ts
                .iter()
                .flat_map(|(_, t)| &t.label)
                .filter(|&&l| l == c)
                .count() as f64
                / total as f64;
            let f = f.as_f64().unwrap();
            // Trials are the independent units: about total/n steps each.
            let se = (f * (1.0 - f) * (total as f64 / n as f64) / total as f64).sqrt();
            assert!(
                (ours - f).abs() < 6.0 * se * 2f64.sqrt() + 1e-3,
                "{name} class {c}: {ours} vs {f}"
            );
        }
        let skip_fixation = matches!(
            name.as_str(),
            "perceptual_decision_making" | "context_integration"
        );
        for (period, p) in r["periods"].as_object().unwrap() {
            let (mean, sd) = (p["mean"].as_array().unwrap(), p["sd"].as_array().unwrap());
            for ch in 0..mean.len() {
                if ch == 0 && skip_fixation {
                    continue;
                }
                let per_trial: Vec<f64> = ts
                    .iter()
                    .filter_map(|(_, t)| {
                        let sp = t.periods.iter().find(|q| q.0 == period)?;
                        (sp.2 > 0).then(|| {
                            (sp.1..sp.1 + sp.2)
                                .map(|s| t.x[s * t.channels + ch] as f64)
                                .sum::<f64>()
                                / sp.2 as f64
                        })
                    })
                    .collect();
                let ours = per_trial.iter().sum::<f64>() / per_trial.len() as f64;
                let (m, s) = (mean[ch].as_f64().unwrap(), sd[ch].as_f64().unwrap());
                let tol = 4.5 * s * (2.0 / per_trial.len() as f64).sqrt() + 1e-6;
                assert!(
                    (ours - m).abs() <= tol,
                    "{name} {period} channel {ch}: {ours} vs NeuroGym {m} (tol {tol})"
                );
            }
        }
    }
}

#[test]
fn the_same_seed_gives_the_same_batch_and_windows_continue_across_batches() {
    let make = |seed| {
        Streams::new(
            TaskSet::named("modcog").unwrap(),
            100,
            LabelMode::Reference,
            seed,
            "train",
            16,
        )
        .unwrap()
    };
    let (mut a, mut b, mut c) = (make(1), make(1), make(2));
    let (mut wa, mut wb, mut wc) = (Window::default(), Window::default(), Window::default());
    a.window(350, &mut wa);
    b.window(350, &mut wb);
    c.window(350, &mut wc);
    assert_eq!(wa.x, wb.x);
    assert_ne!(wa.x, wc.x);
    // Windows start and end mid-trial: the second window's first step continues a trial.
    let mut whole = Window::default();
    make(1).window(700, &mut whole);
    a.window(350, &mut wa);
    assert_eq!(&whole.x[350 * 16 * 115..], &wa.x[..]);
    assert_eq!(&whole.task[350 * 16..], &wa.task[..]);
}

#[test]
fn the_training_source_resumes_the_same_streams() {
    use geoplast::train::source::Source;
    use geoplast::train::task_source::{TaskData, TaskStream};
    let data = || TaskData {
        set: TaskSet::named("yang19").unwrap(),
        steps: 60,
        dt: 100,
        labels: LabelMode::Reference,
        noise: true,
        held_out: 40,
        evaluate: "validation".into(),
        epoch_updates: None,
    };
    let mut a = TaskStream::new(data(), 8, 3).unwrap();
    let _ = a.batch(0);
    let saved: std::collections::HashMap<String, String> = a.state().into_iter().collect();
    let next = a.batch(1);
    let mut b = TaskStream::new(data(), 8, 3).unwrap();
    b.restore(&saved).unwrap();
    let resumed = b.batch(1);
    assert_eq!(next.x.data, resumed.x.data);
    assert_eq!(a.test()[0].x.data, b.test()[0].x.data);
    // Training noise on every element, the rule one-hot included; never on the held-out set.
    let rules = |x: &[f32]| {
        x.chunks(53)
            .all(|r| r[33..].iter().all(|&v| v == 0.0 || v == 1.0))
    };
    assert!(!rules(&next.x.data));
    assert!(a.test().iter().all(|t| rules(&t.x.data)));
    let mut wrong = TaskStream::new(data(), 4, 3).unwrap();
    assert!(wrong.restore(&saved).unwrap_err().contains("batch size"));
}

fn geoplast(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_geoplast"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn tasks_sample_writes_the_documented_npz_and_list_shows_every_task() {
    let d = tempfile::tempdir().unwrap();
    let f = d.path().join("m.npz");
    let o = geoplast(&[
        "tasks",
        "sample",
        "modcog",
        "--batch",
        "3",
        "--steps",
        "40",
        "--seed",
        "1",
        "--out",
        f.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let a = geoplast::io::weights::read_npz_all(&f).unwrap();
    assert_eq!(a["x"].shape, vec![40, 3, 115]);
    assert!(a["x"].float);
    for k in ["y", "mask", "task"] {
        assert_eq!(a[k].shape, vec![40, 3], "{k}");
    }
    // dtypes as documented, read from the members' headers.
    let bytes = std::fs::read(&f).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    for d in ["'<f4'", "'<i8'", "'|b1'", "'<i4'", "'<U"] {
        assert!(text.contains(&format!("'descr': {d}")), "{d}");
    }
    // mask ⇔ decision: the label is 0 outside it.
    for (y, m) in a["y"].data.iter().zip(&a["mask"].data) {
        assert!(*m == 1.0 || *y == 0.0);
    }
    // A second run is refused without --overwrite.
    let again = geoplast(&[
        "tasks",
        "sample",
        "go",
        "--batch",
        "1",
        "--steps",
        "5",
        "--seed",
        "1",
        "--out",
        f.to_str().unwrap(),
    ]);
    assert!(!again.status.success());
    let list = geoplast(&["tasks", "list", "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 86);
    assert_eq!(rows[81]["name"], "dmcseql");
    assert_eq!(rows[81]["rule"], 81);
}

#[test]
fn bad_task_input_is_one_clear_sentence_and_no_panic() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("a.npz");
    let o = out.to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "tasks", "sample", "dlygoo", "--batch", "2", "--steps", "5", "--seed", "0",
                "--out", o,
            ],
            "did you mean `dlygo`",
        ),
        (
            vec![
                "tasks", "sample", "go", "--batch", "2", "--steps", "0", "--seed", "0", "--out", o,
            ],
            "--steps must be at least 1",
        ),
        (
            vec![
                "tasks", "sample", "go", "--batch", "0", "--steps", "5", "--seed", "0", "--out", o,
            ],
            "--batch must be at least 1",
        ),
        (
            vec![
                "tasks", "sample", "go", "--batch", "2", "--steps", "5", "--seed", "0", "--dt",
                "30", "--out", o,
            ],
            "does not divide the 500 ms",
        ),
        (
            vec![
                "tasks",
                "sample",
                "go",
                "--batch",
                "2",
                "--steps",
                "5",
                "--seed",
                "0",
                "--out",
                "/nonexistent/dir/a.npz",
            ],
            "does not exist",
        ),
        (
            vec![
                "tasks",
                "show",
                "modcog",
                "--out",
                d.path().to_str().unwrap(),
            ],
            "is a collection",
        ),
        (
            vec![
                "tasks",
                "show",
                "contxt_integration",
                "--out",
                d.path().to_str().unwrap(),
            ],
            "did you mean `context_integration`",
        ),
    ];
    for (args, want) in cases {
        let r = geoplast(&args);
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(!r.status.success(), "{args:?}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn activity_exports_hidden_states_and_the_task_variance_of_a_trained_run() {
    let d = tempfile::tempdir().unwrap();
    let cfg = d.path().join("c.toml");
    std::fs::write(
        &cfg,
        "seed = 1\nupdates = 3\nbatch_size = 4\n[data]\nkind = \"tasks\"\nset = \"yang19\"\n\
         steps = 40\nheld_out = 8\n[model]\nkind = \"rnn\"\nhidden = [8]\nactivation = \"relu\"\n\
         [optimizer]\nlr = 0.1\n",
    )
    .unwrap();
    let run = d.path().join("run");
    let o = geoplast(&[
        "train",
        cfg.to_str().unwrap(),
        "--out",
        run.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // The end-of-run report has Dec Acc per task with its chance level.
    let csv = std::fs::read_to_string(run.join("per_task.csv")).unwrap();
    assert_eq!(csv.lines().count(), 21);
    assert!(csv.lines().nth(17).unwrap().starts_with("dms,") && csv.ends_with(",0.5\n"));
    let out = d.path().join("act.npz");
    let o = geoplast(&[
        "activity",
        run.to_str().unwrap(),
        "--tasks",
        "go,dlydm1",
        "--trials",
        "3",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let a = geoplast::io::weights::read_npz_all(&out).unwrap();
    let (t, n) = (a["h"].shape[0], a["h"].shape[1]);
    assert_eq!((n, a["h"].shape[2], a["x"].shape[2]), (6, 8, 53));
    assert_eq!(a["task"].data, vec![0.0, 0.0, 0.0, 11.0, 11.0, 11.0]);
    for b in 0..n {
        let steps = a["steps"].data[b] as usize;
        for s in 0..t {
            assert_eq!(
                a["period"].data[s * n + b] < 0.0,
                s >= steps,
                "padding after the trial"
            );
        }
    }
    assert!(a["h"].data.iter().all(|&v| v >= 0.0), "ReLU rates");
    let tv = &a["task_variance"];
    assert_eq!(tv.shape, vec![2, 8]);
    for u in 0..8 {
        let top = tv.data[u].max(tv.data[8 + u]);
        assert!(
            top == 0.0 || (top - 1.0).abs() < 1e-6,
            "each unit's largest task variance is 1"
        );
    }
    assert!(d.path().join("act.png").exists());
    for (args, want) in [
        (vec!["--tasks", "dm3"], "did you mean"),
        (
            vec!["--tasks", "goseql"],
            "not in the run's task set `yang19`",
        ),
        (vec!["--trials", "1"], "at least 2"),
    ] {
        let mut all = vec!["activity", run.to_str().unwrap(), "--out", "/tmp/never.npz"];
        all.extend(args);
        let r = geoplast(&all);
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(!r.status.success() && err.contains(want), "{err}");
    }
}

//! The Yang-19 families as implemented for Mod-Cog (science.md §6.2) and the Mod-Cog int and seq
//! extensions (§6.3). Inputs: fixation, ring 1 (channels 1–16), ring 2 (17–32); 17 classes.
//!
//! * int: a delay D; go tasks rotate the stimulus by ±ω·D radians and keep the target, DM and
//!   match tasks keep the stimuli and shift the target by ±ω·D ring positions.
//! * seq: a 1,000 ms decision (500 for rt tasks) whose target advances one position per step.

use super::ring::{self, UNITS};
use super::task::{Instance, Rule, Task};
use super::trial::{Duration, LabelMode, PeriodSpec, Response, Trial};
use rand::{Rng, RngExt};
use rand_chacha::ChaCha8Rng;
use std::f64::consts::PI;

/// ω, rad/ms.
const OMEGA: f64 = 0.01;
/// The int tasks' delays (ms).
pub const INT_DELAYS: &[u32] = &[0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 1100];
const COHERENCES: [f64; 4] = [0.08, 0.16, 0.32, 0.64];
const DELAYED_STRENGTHS: [f64; 3] = [0.3, 0.6, 1.0];
const YANG: &str = "Yang et al. 2019, Nat Neurosci 22 (as implemented for Mod-Cog)";
const MODCOG: &str = "Khona et al. 2022, arXiv:2207.03523 (Mod-Cog)";

fn p(name: &'static str, duration: Duration) -> PeriodSpec {
    PeriodSpec { name, duration }
}

fn ring_channels() -> Vec<String> {
    let mut c = vec!["fixation".to_string()];
    for m in 1..=2 {
        c.extend((0..UNITS).map(|k| format!("mod{m}_{k}")));
    }
    c
}

/// The ring position `i + d` (mod 16).
fn shifted(i: usize, d: i64) -> usize {
    (i as i64 + d).rem_euclid(UNITS as i64) as usize
}

/// ±ω·D in ring positions (the DM and match int tasks).
fn positions(int: i32, delay_ms: u32) -> i64 {
    int as i64 * (OMEGA * delay_ms as f64).round() as i64
}

fn task(
    name: String,
    family: &'static str,
    extended: bool,
    periods: Vec<PeriodSpec>,
    chance: f64,
    rule: Rule,
) -> Task {
    Task {
        name,
        family,
        paper: if extended { MODCOG } else { YANG },
        periods,
        channels: ring_channels(),
        classes: 1 + UNITS,
        chance,
        default_dt: 100,
        rule,
    }
}

fn decision(seq: i32, rt: bool) -> Duration {
    Duration::Fixed(if seq != 0 && !rt { 1000 } else { 500 })
}

fn suffix(int: i32, seq: i32) -> &'static str {
    match (int, seq) {
        (-1, _) => "intl",
        (1, _) => "intr",
        (_, -1) => "seql",
        (_, 1) => "seqr",
        _ => "",
    }
}

/// Go, anti, their reaction-time and delayed forms: one strength-1 bump in one modality.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Go {
    pub anti: bool,
    pub rt: bool,
    pub delayed: bool,
    /// −1 (l), +1 (r) or 0.
    pub int: i32,
    pub seq: i32,
}

impl Go {
    pub fn task(self) -> Task {
        let kind = if self.anti { "anti" } else { "go" };
        let prefix = if self.rt {
            "rt"
        } else if self.delayed {
            "dly"
        } else {
            ""
        };
        let periods = if self.rt {
            vec![
                p("fixation", Duration::Fixed(500)),
                p("decision", decision(self.seq, true)),
            ]
        } else {
            let delay = match (self.int, self.delayed) {
                (0, false) => Duration::Fixed(0),
                (0, true) => Duration::Fixed(500),
                _ => Duration::Choice(INT_DELAYS),
            };
            vec![
                p("fixation", Duration::Fixed(500)),
                p("stimulus", Duration::Fixed(500)),
                p("delay", delay),
                p("decision", decision(self.seq, false)),
            ]
        };
        let name = format!("{prefix}{kind}{}", suffix(self.int, self.seq));
        let extended = self.int != 0 || self.seq != 0;
        task(name, "go", extended, periods, 1.0 / 16.0, Rule::Go(self))
    }

    pub fn draw(&self, task: &Task, t: &mut Trial, rng: &mut ChaCha8Rng, inst: Instance) {
        let d = t.begin(&task.periods, rng, None);
        let i = rng.random_range(0..UNITS);
        let phi =
            ring::angle(i) + if self.anti { PI } else { 0.0 } + self.int as f64 * OMEGA * d as f64;
        let period = if self.rt { "decision" } else { "stimulus" };
        t.note("i", i as f64);
        t.note("modality", inst.modality as f64);
        t.show_bump(period, inst.modality, phi, 1.0);
        t.respond(Response::Ring {
            index: i,
            seq: self.seq,
        });
    }
}

/// Decision making by comparing two stimuli, at once (DM) or one after the other (delayed DM).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dm {
    /// Which modalities show the stimuli.
    pub shown: [bool; 2],
    /// The weight of each modality in the choice.
    pub weights: [f64; 2],
    pub delayed: bool,
    pub int: i32,
    pub seq: i32,
}

impl Dm {
    /// The five DM tasks in Mod-Cog order: dm1, dm2, ctxdm1, ctxdm2, multidm.
    pub fn five(delayed: bool, int: i32, seq: i32) -> Vec<Task> {
        let forms: [(&str, [bool; 2], [f64; 2]); 5] = [
            ("dm1", [true, false], [1.0, 1.0]),
            ("dm2", [false, true], [1.0, 1.0]),
            ("ctxdm1", [true, true], [1.0, 0.0]),
            ("ctxdm2", [true, true], [0.0, 1.0]),
            ("multidm", [true, true], [1.0, 1.0]),
        ];
        forms
            .iter()
            .map(|&(base, shown, weights)| {
                let name = if delayed {
                    base.replacen("dm", "dlydm", 1)
                } else {
                    base.to_string()
                };
                Dm {
                    shown,
                    weights,
                    delayed,
                    int,
                    seq,
                }
                .task(format!("{name}{}", suffix(int, seq)))
            })
            .collect()
    }

    fn task(self, name: String) -> Task {
        let fixation = p("fixation", Duration::Uniform(200, 500));
        let periods = if self.delayed {
            vec![
                fixation,
                p("stim1", Duration::Fixed(500)),
                p("delay", Duration::Fixed(500)),
                p("stim2", Duration::Fixed(500)),
                p("decision", decision(self.seq, false)),
            ]
        } else {
            vec![
                fixation,
                p("stimulus", Duration::Fixed(500)),
                p("decision", decision(self.seq, false)),
            ]
        };
        let family = if self.delayed { "delayed dm" } else { "dm" };
        let extended = self.int != 0 || self.seq != 0;
        task(name, family, extended, periods, 1.0 / 16.0, Rule::Dm(self))
    }

    pub fn draw(&self, task: &Task, t: &mut Trial, rng: &mut ChaCha8Rng) {
        let d = t.begin(&task.periods, rng, None);
        let i1 = rng.random_range(0..UNITS);
        let i2 = shifted(i1, rng.random_range(1..UNITS as i64));
        // Σ_m w_m·(s₁,m − s₂,m): positive chooses i₁.
        let mut evidence = 0.0;
        for m in (0..2).filter(|&m| self.shown[m]) {
            let (s1, s2) = if self.delayed {
                let a = rng.random_range(0..3);
                let b = (a + rng.random_range(1..3)) % 3;
                (DELAYED_STRENGTHS[a], DELAYED_STRENGTHS[b])
            } else {
                let c = COHERENCES[rng.random_range(0..4)] * if rng.random() { 1.0 } else { -1.0 };
                (0.5 + c / 2.0, 0.5 - c / 2.0)
            };
            let (p1, p2) = if self.delayed {
                ("stim1", "stim2")
            } else {
                ("stimulus", "stimulus")
            };
            t.show_bump(p1, m, ring::angle(i1), s1);
            t.show_bump(p2, m, ring::angle(i2), s2);
            t.note(["s1_mod1", "s1_mod2"][m], s1);
            t.note(["s2_mod1", "s2_mod2"][m], s2);
            evidence += self.weights[m] * (s1 - s2);
        }
        // An exact tie (multidm with opposite coherences) is broken at random, as the
        // reference's 1e-6 jitter does.
        let first = if evidence.abs() < 1e-12 {
            rng.random()
        } else {
            evidence > 0.0
        };
        let choice = if first { i1 } else { i2 };
        t.note("i1", i1 as f64);
        t.note("i2", i2 as f64);
        t.note("choice", choice as f64);
        t.respond(Response::Ring {
            index: shifted(choice, positions(self.int, d)),
            seq: self.seq,
        });
        let periods: &[&str] = if self.delayed {
            &["stim1", "stim2"]
        } else {
            &["stimulus"]
        };
        for period in periods {
            t.noise(period, 0..1 + 2 * UNITS, rng.next_u64());
        }
    }
}

/// Match-to-sample and match-to-category, with go on match (dms, dmc) or non-match (dnms, dnmc).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Match {
    pub category: bool,
    pub go_on_match: bool,
    pub int: i32,
    pub seq: i32,
}

impl Match {
    /// The four match tasks in the given order of (category, go on match).
    pub fn four(order: [(bool, bool); 4], int: i32, seq: i32) -> Vec<Task> {
        order
            .iter()
            .map(|&(category, go_on_match)| {
                Match {
                    category,
                    go_on_match,
                    int,
                    seq,
                }
                .task()
            })
            .collect()
    }

    fn task(self) -> Task {
        let base = match (self.category, self.go_on_match) {
            (false, true) => "dms",
            (false, false) => "dnms",
            (true, true) => "dmc",
            (true, false) => "dnmc",
        };
        let delay = if self.int != 0 {
            Duration::Choice(INT_DELAYS)
        } else {
            Duration::PerInstance(200, 1200)
        };
        let periods = vec![
            p("fixation", Duration::Fixed(300)),
            p("sample", Duration::Fixed(500)),
            p("delay", delay),
            p("test", Duration::Fixed(500)),
            p("decision", decision(self.seq, false)),
        ];
        let extended = self.int != 0 || self.seq != 0;
        let name = format!("{base}{}", suffix(self.int, self.seq));
        task(name, "match", extended, periods, 0.5, Rule::Match(self))
    }

    pub fn draw(&self, task: &Task, t: &mut Trial, rng: &mut ChaCha8Rng, inst: Instance) {
        let reference = t.labels_mode == LabelMode::Reference;
        let d = t.begin(&task.periods, rng, inst.delay.filter(|_| reference));
        let i = rng.random_range(0..UNITS);
        let is_match: bool = rng.random();
        let test = if self.category {
            // The reference's sample category is 1[i > 8]: index 8 counts as category 0 here
            // but as category 1 for the test.
            let sample_cat = if reference { i > 8 } else { i >= 8 };
            let test_cat = sample_cat == is_match;
            rng.random_range(0..UNITS / 2) + if test_cat { UNITS / 2 } else { 0 }
        } else if is_match {
            i
        } else {
            shifted(i, UNITS as i64 / 2)
        };
        let m = inst.modality;
        t.note("sample", i as f64);
        t.note("test", test as f64);
        t.note("match", is_match as u8 as f64);
        t.note("modality", m as f64);
        t.show_bump("sample", m, ring::angle(i), 1.0);
        t.show_bump("test", m, ring::angle(test), 1.0);
        t.respond(if is_match == self.go_on_match {
            Response::Ring {
                index: shifted(test, positions(self.int, d)),
                seq: self.seq,
            }
        } else {
            Response::NoGo
        });
        let ring = 1 + UNITS * m..1 + UNITS * (m + 1);
        t.noise("sample", ring.clone(), rng.next_u64());
        t.noise("test", ring, rng.next_u64());
    }
}

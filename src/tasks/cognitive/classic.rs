//! The classic single tasks with NeuroGym's defaults (science.md §6.4). Their stimuli use the
//! cosine encoding over two units at 0 and π. Unlike NeuroGym's perceptual decision making and
//! context-dependent integration, the fixation input stays on until the decision: its offset is
//! the go cue in every geoplast task.

use super::ring;
use super::task::{Rule, Task};
use super::trial::{Duration, PeriodSpec, Response, Trial};
use rand::{Rng, RngExt};
use rand_chacha::ChaCha8Rng;
use std::f64::consts::PI;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Classic {
    PerceptualDecisionMaking,
    ContextIntegration,
    DelayedMatchToSample,
    GoNoGo,
}

const PDM_COHERENCES: [f64; 5] = [0.0, 6.4, 12.8, 25.6, 51.2];
const CDI_COHERENCES: [f64; 3] = [5.0, 15.0, 50.0];

fn p(name: &'static str, duration: Duration) -> PeriodSpec {
    PeriodSpec { name, duration }
}

fn names(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

impl Classic {
    pub const ALL: [Classic; 4] = [
        Classic::PerceptualDecisionMaking,
        Classic::ContextIntegration,
        Classic::DelayedMatchToSample,
        Classic::GoNoGo,
    ];

    pub fn task(self) -> Task {
        let f = Duration::Fixed;
        let (name, paper, periods, channels, classes, dt) = match self {
            Classic::PerceptualDecisionMaking => (
                "perceptual_decision_making",
                "Britten et al. 1992; Roitman & Shadlen 2002, J Neurosci 22",
                vec![
                    p("fixation", f(100)),
                    p("stimulus", f(2000)),
                    p("delay", f(0)),
                    p("decision", f(100)),
                ],
                names(&["fixation", "stim_0", "stim_1"]),
                3,
                100,
            ),
            // 750 ms is not a multiple of 100 ms (NeuroGym floors it to 700 at dt = 100), so
            // this task's streams default to dt = 50.
            Classic::ContextIntegration => (
                "context_integration",
                "Mante et al. 2013, Nature 503",
                vec![
                    p("fixation", f(300)),
                    p("stimulus", f(750)),
                    p(
                        "delay",
                        Duration::TruncExp {
                            mean: 600,
                            min: 300,
                            max: 3000,
                        },
                    ),
                    p("decision", f(100)),
                ],
                names(&[
                    "fixation", "mod1_0", "mod1_1", "mod2_0", "mod2_1", "context1", "context2",
                ]),
                3,
                50,
            ),
            Classic::DelayedMatchToSample => (
                "delayed_match_to_sample",
                "Miller & Desimone 1994, Science 263",
                vec![
                    p("fixation", f(300)),
                    p("sample", f(500)),
                    p("delay", f(1000)),
                    p("test", f(500)),
                    p("decision", f(900)),
                ],
                names(&["fixation", "stim_0", "stim_1"]),
                3,
                100,
            ),
            Classic::GoNoGo => (
                "go_no_go",
                "NeuroGym GoNogo (Molano-Mazón et al. 2022)",
                vec![
                    p("fixation", f(0)),
                    p("stimulus", f(500)),
                    p("delay", f(500)),
                    p("decision", f(500)),
                ],
                names(&["fixation", "nogo", "go"]),
                2,
                100,
            ),
        };
        Task {
            name: name.into(),
            family: "classic",
            paper,
            periods,
            channels,
            classes,
            chance: 0.5,
            default_dt: dt,
            rule: Rule::Classic(self),
        }
    }

    pub fn draw(&self, task: &Task, t: &mut Trial, rng: &mut ChaCha8Rng) {
        t.begin(&task.periods, rng, None);
        let mut v = [0.0f32; 2];
        match self {
            Classic::PerceptualDecisionMaking => {
                let gt = rng.random_range(0..2);
                let coh = PDM_COHERENCES[rng.random_range(0..5)];
                ring::cosine(PI * gt as f64, 2, 0.5, coh / 200.0, &mut v);
                t.show("stimulus", 1, &v);
                t.note("choice", gt as f64);
                t.note("coh", coh);
                t.respond(Response::Class(gt as u32 + 1));
                t.noise("stimulus", 1..3, rng.next_u64());
            }
            Classic::ContextIntegration => {
                let context = rng.random_range(0..2);
                let mut dirs = [0; 2];
                for (m, dir) in dirs.iter_mut().enumerate() {
                    *dir = rng.random_range(0..2);
                    let coh = CDI_COHERENCES[rng.random_range(0..3)];
                    ring::cosine(PI * *dir as f64, 2, 0.5, coh / 200.0, &mut v);
                    t.show("stimulus", 1 + 2 * m, &v);
                    t.note(["choice_mod1", "choice_mod2"][m], *dir as f64);
                    t.note(["coh_mod1", "coh_mod2"][m], coh);
                }
                t.hold(5 + context, 1.0);
                t.note("context", context as f64);
                t.respond(Response::Class(dirs[context] as u32 + 1));
                t.noise("stimulus", 1..5, rng.next_u64());
            }
            Classic::DelayedMatchToSample => {
                let sample = rng.random_range(0..2);
                let is_match: bool = rng.random();
                let test = if is_match { sample } else { 1 - sample };
                t.note("sample", sample as f64);
                t.note("match", is_match as u8 as f64);
                ring::cosine(PI * sample as f64, 2, 0.5, 0.5, &mut v);
                t.show("sample", 1, &v);
                ring::cosine(PI * test as f64, 2, 0.5, 0.5, &mut v);
                t.show("test", 1, &v);
                t.respond(Response::Class(if is_match { 1 } else { 2 }));
                t.noise("sample", 1..3, rng.next_u64());
                t.noise("test", 1..3, rng.next_u64());
            }
            Classic::GoNoGo => {
                let go: bool = rng.random();
                let cue = if go { 2 } else { 1 };
                t.note("go", go as u8 as f64);
                t.show("stimulus", cue, &[1.0]);
                t.respond(Response::Class(go as u32));
            }
        }
    }
}

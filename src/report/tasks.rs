//! `geoplast tasks`: the task table, pictures of trials, and sampled windows as `.npz`.

use super::plot::{self, Figure, Panel, PanelKind, Series};
use crate::error::{Error, Result};
use crate::io::npz::{self, Member};
use crate::tasks::cognitive::{self, LabelMode, Streams, TaskSet, Window};
use std::path::{Path, PathBuf};

/// One row of `tasks list`.
#[derive(serde::Serialize)]
pub struct Row {
    /// The rule index in the Mod-Cog collection (classic tasks: none).
    pub rule: Option<usize>,
    pub name: String,
    pub family: &'static str,
    pub paper: &'static str,
    pub inputs: usize,
    pub outputs: usize,
    pub dt_ms: u32,
    /// (name, duration in ms as declared).
    pub periods: Vec<(&'static str, String)>,
    pub mean_trial_steps: f64,
    pub chance: f64,
}

pub fn list() -> Vec<Row> {
    let modcog = cognitive::modcog().len();
    cognitive::all()
        .into_iter()
        .enumerate()
        .map(|(i, t)| Row {
            rule: (i < modcog).then_some(i),
            mean_trial_steps: t.mean_steps(t.default_dt),
            periods: t
                .periods
                .iter()
                .map(|p| (p.name, p.duration.describe()))
                .collect(),
            name: t.name,
            family: t.family,
            paper: t.paper,
            inputs: t.channels.len(),
            outputs: t.classes,
            dt_ms: t.default_dt,
            chance: t.chance,
        })
        .collect()
}

/// The table of `tasks list`.
pub fn list_text(rows: &[Row]) -> String {
    let mut s = format!(
        "{:>4}  {:<28} {:<10} {:>3} {:>3} {:>4} {:>6}  periods (ms)\n",
        "rule", "task", "family", "in", "out", "dt", "steps"
    );
    for r in rows {
        let periods: Vec<String> = r.periods.iter().map(|(n, d)| format!("{n} {d}")).collect();
        s += &format!(
            "{:>4}  {:<28} {:<10} {:>3} {:>3} {:>4} {:>6.1}  {}\n",
            r.rule.map_or("-".into(), |i| i.to_string()),
            r.name,
            r.family,
            r.inputs,
            r.outputs,
            r.dt_ms,
            r.mean_trial_steps,
            periods.join(", ")
        );
    }
    s += "\nInputs are the task's own channels; in a collection the rule one-hot follows them \
          (yang19: 33 + 20 = 53, modcog: 33 + 82 = 115). steps: the mean trial length at dt.\n";
    s
}

/// Draws `trials` trials of one task: the inputs as a heat map over time with the period
/// boundaries, and the target class with the decision mask. Writes `DIR/NAME.{png,svg}`.
pub fn show(
    name: &str,
    seed: u64,
    trials: usize,
    dt: Option<u32>,
    out: &Path,
) -> Result<Vec<PathBuf>> {
    let set = TaskSet::named(name).map_err(Error::Config)?;
    if set.tasks.len() != 1 {
        return Err(Error::Config(format!(
            "`tasks show` pictures one task; `{name}` is a collection (pick one of its tasks \
             from `geoplast tasks list`)"
        )));
    }
    if trials == 0 {
        return Err(Error::Config("--trials must be at least 1".into()));
    }
    let dt = dt.unwrap_or(set.default_dt());
    let task = set.tasks[0].clone();
    let mut s =
        Streams::new(set, dt, LabelMode::Reference, seed, "show", 1).map_err(Error::Config)?;
    let mut panels = Vec::new();
    for k in 0..trials {
        let (_, tr) = s.next_trial();
        let ch = tr.channels;
        let mut z = vec![0.0; ch * tr.steps];
        for t in 0..tr.steps {
            for c in 0..ch {
                z[c * tr.steps + t] = tr.x[t * ch + c] as f64;
            }
        }
        let marks: Vec<f64> = tr.periods.iter().skip(1).map(|p| p.1 as f64).collect();
        let periods: Vec<String> = tr
            .periods
            .iter()
            .map(|p| format!("{} {}", p.0, p.2))
            .collect();
        panels.push(Panel {
            title: format!("{}: {}", k + 1, periods.join(" · ")),
            x_label: format!("step ({dt} ms)"),
            y_label: "channel (0 = fixation)".into(),
            kind: PanelKind::Heat {
                z,
                rows: ch,
                cols: tr.steps,
                marks,
            },
        });
        let steps: Vec<f64> = (0..tr.steps).map(|t| t as f64).collect();
        let top = (task.classes - 1) as f64;
        panels.push(Panel {
            title: format!("{}: target class and decision mask", k + 1),
            x_label: format!("step ({dt} ms)"),
            y_label: "class".into(),
            kind: PanelKind::Lines(vec![
                Series {
                    name: "target class".into(),
                    x: steps.clone(),
                    y: tr.label.iter().map(|&l| l as f64).collect(),
                },
                Series {
                    name: format!("decision mask (1 drawn at {top})"),
                    x: steps,
                    y: tr.decision.iter().map(|&d| d as u8 as f64 * top).collect(),
                },
            ]),
        });
    }
    let fig = Figure {
        title: format!("{} — {} ({})", task.name, task.family, task.paper),
        cols: 2,
        panels,
    };
    std::fs::create_dir_all(out).map_err(|e| Error::data(out, format!("cannot create: {e}")))?;
    plot::save(&fig, &out.join(&task.name))
}

/// What `tasks sample` generates.
pub struct Sample {
    pub set: String,
    pub batch: usize,
    pub steps: usize,
    pub seed: u64,
    pub noise: bool,
    pub labels: LabelMode,
    pub dt: Option<u32>,
}

/// Generates one window of `batch` streams and writes it as `.npz`: `x` float32 `[T, B, in]`,
/// `y` int64, `mask` bool and `task` int32 `[T, B]`, and `task_names` (unicode, one per rule).
pub fn sample(req: &Sample, out: &Path) -> Result<Window> {
    if req.steps == 0 {
        return Err(Error::Config("--steps must be at least 1".into()));
    }
    if req.batch == 0 {
        return Err(Error::Config("--batch must be at least 1".into()));
    }
    let cells = req
        .steps
        .checked_mul(req.batch)
        .and_then(|n| n.checked_mul(4 * 128));
    if cells.is_none_or(|n| n > 16 << 30) {
        return Err(Error::Config(
            "--batch × --steps is too large for one file (over 16 GiB); sample fewer".into(),
        ));
    }
    let set = TaskSet::named(&req.set).map_err(Error::Config)?;
    let dt = req.dt.unwrap_or(set.default_dt());
    let names: Vec<String> = set.tasks.iter().map(|t| t.name.clone()).collect();
    let mut s =
        Streams::new(set, dt, req.labels, req.seed, "sample", req.batch).map_err(Error::Config)?;
    let mut w = Window::default();
    s.window(req.steps, &mut w);
    if req.noise {
        s.add_input_noise(&mut w, 0);
    }
    let (descr, name_bytes) = npz::text(&names);
    let (t, b, i) = (w.steps, w.batch, w.inputs);
    npz::write(
        out,
        &[
            Member {
                name: "x",
                descr: "<f4",
                shape: &[t, b, i],
                bytes: w.x.iter().flat_map(|v| v.to_le_bytes()).collect(),
            },
            Member {
                name: "y",
                descr: "<i8",
                shape: &[t, b],
                bytes: w
                    .label
                    .iter()
                    .flat_map(|&v| (v as i64).to_le_bytes())
                    .collect(),
            },
            Member {
                name: "mask",
                descr: "|b1",
                shape: &[t, b],
                bytes: w.decision.iter().map(|&d| d as u8).collect(),
            },
            Member {
                name: "task",
                descr: "<i4",
                shape: &[t, b],
                bytes: w
                    .task
                    .iter()
                    .flat_map(|&v| (v as i32).to_le_bytes())
                    .collect(),
            },
            Member {
                name: "task_names",
                descr: &descr,
                shape: &[names.len()],
                bytes: name_bytes,
            },
        ],
    )?;
    Ok(w)
}

//! `geoplast activity`: the hidden states of a trained task RNN on fresh trials, the data users
//! compare with recordings, and the task-variance matrix of Yang et al. (2019).
//!
//! Every trial runs alone from h₀ = 0 (the trials of one task side by side, padded at the end,
//! which cannot change the steps before). Task variance of unit i in task A: the variance of its
//! rate across A's trials at each step, averaged over the steps every trial of A has; each unit's
//! row is then divided by its largest value, so a unit's preferred task scores 1.

use super::plot::{self, Figure, Panel, PanelKind};
use crate::error::{Error, Result};
use crate::io::npz::{self, Member};
use crate::kernels::Cpu;
use crate::nn::Mat;
use crate::tasks::cognitive::{Streams, TaskSet};
use crate::train::config::DataConfig;
use crate::train::model::Model;
use crate::train::recurrent::{Sequences, predict_with_rates};
use crate::train::source::{Batch, Targets};
use std::path::Path;

/// What `activity` measured, for its one-line summary.
pub struct Activity {
    pub trials: usize,
    pub tasks: usize,
    pub units: usize,
    /// Units whose rate never varies across trials in any task (left out of the plot).
    pub silent: usize,
}

/// Runs `trials` fresh trials of each of `tasks` (names from the run's task set; empty: all)
/// through the run's final network and writes `out` (.npz) and `out` with `.png`/`.svg` (the
/// task-variance heat map).
pub fn export(
    run_dir: &Path,
    tasks: &[String],
    trials: usize,
    seed: u64,
    out: &Path,
) -> Result<Activity> {
    if trials < 2 {
        return Err(Error::Config(
            "--trials must be at least 2 (task variance is a variance across trials)".into(),
        ));
    }
    let (cfg, model) = crate::train::model::of_run(run_dir, "weights_final.safetensors")?;
    let DataConfig::Tasks {
        set, dt, labels, ..
    } = &cfg.data
    else {
        return Err(Error::Config(format!(
            "{} was not trained on cognitive-task streams (data.kind = \"tasks\"); activity \
             needs such a run",
            run_dir.display()
        )));
    };
    let Model::Recurrent(net) = &model else {
        return Err(Error::Config("activity needs a recurrent network".into()));
    };
    let set = TaskSet::named(set).map_err(Error::Config)?;
    let dt = dt.unwrap_or(set.default_dt());
    let chosen: Vec<usize> = if tasks.is_empty() {
        (0..set.tasks.len()).collect()
    } else {
        tasks
            .iter()
            .map(|n| {
                set.tasks.iter().position(|t| &t.name == n).ok_or_else(|| {
                    let e = TaskSet::named(n).err().unwrap_or_else(|| {
                        format!("task `{n}` is not in the run's task set `{}`", set.name)
                    });
                    Error::Config(e)
                })
            })
            .collect::<Result<_>>()?
    };
    let ch = set.tasks[0].channels.len();
    let (inputs, hidden) = (set.inputs(), net.cell.hidden());
    let sequences = Sequences::default();
    // Per trial: steps, task, and per step: x, rates, target, mask, period.
    let mut runs = Vec::new();
    let mut period_names: Vec<String> = Vec::new();
    let mut variance = vec![0.0f64; chosen.len() * hidden];
    for (row, &k) in chosen.iter().enumerate() {
        let one = TaskSet::named(&set.tasks[k].name).map_err(Error::Config)?;
        let mut s = Streams::new(one, dt, *labels, seed, &format!("activity/{k}"), 1)
            .map_err(Error::Config)?;
        let drawn: Vec<_> = (0..trials).map(|_| s.next_trial().1.clone()).collect();
        let t_max = drawn.iter().map(|t| t.steps).max().unwrap_or(0);
        let mut x = Mat::zeros(t_max * trials, inputs);
        for (b, tr) in drawn.iter().enumerate() {
            for st in 0..tr.steps {
                let r = x.row_mut(st * trials + b);
                r[..ch].copy_from_slice(&tr.x[st * ch..(st + 1) * ch]);
                if set.rules {
                    r[ch + k] = 1.0;
                }
            }
        }
        let batch = Batch {
            x,
            targets: Targets::Decisions {
                labels: vec![0; t_max * trials],
                decision: vec![0.0; t_max * trials],
                groups: None,
            },
            mask: None,
            steps: t_max,
        };
        let (_, rates) = predict_with_rates(&Cpu, net, &sequences, &batch);
        // Task variance over the steps every trial has.
        let common = drawn.iter().map(|t| t.steps).min().unwrap_or(0);
        for u in 0..hidden {
            let mut v = 0.0;
            for st in 0..common {
                let vals = (0..trials).map(|b| rates.row(st * trials + b)[u] as f64);
                let m = vals.clone().sum::<f64>() / trials as f64;
                v += vals.map(|a| (a - m).powi(2)).sum::<f64>() / trials as f64;
            }
            variance[row * hidden + u] = v / common.max(1) as f64;
        }
        for (b, tr) in drawn.into_iter().enumerate() {
            let r: Vec<f32> = (0..tr.steps)
                .flat_map(|st| rates.row(st * trials + b).to_vec())
                .collect();
            let period: Vec<i32> = (0..tr.steps)
                .map(|st| {
                    let name = tr.periods.iter().find(|p| (p.1..p.1 + p.2).contains(&st));
                    let name = name.map_or("", |p| p.0);
                    let i = period_names
                        .iter()
                        .position(|n| n == name)
                        .unwrap_or_else(|| {
                            period_names.push(name.to_string());
                            period_names.len() - 1
                        });
                    i as i32
                })
                .collect();
            runs.push((k, tr, r, period));
        }
    }
    // Normalise each unit by its largest task variance.
    let mut silent = 0;
    for u in 0..hidden {
        let top = (0..chosen.len())
            .map(|r| variance[r * hidden + u])
            .fold(0.0, f64::max);
        if top > 0.0 {
            (0..chosen.len()).for_each(|r| variance[r * hidden + u] /= top);
        } else {
            silent += 1;
        }
    }
    write_npz(
        out,
        &set,
        &chosen,
        &runs,
        &period_names,
        &variance,
        inputs,
        hidden,
        ch,
    )?;
    plot_variance(out, &set, &chosen, &variance, hidden)?;
    Ok(Activity {
        trials: runs.len(),
        tasks: chosen.len(),
        units: hidden,
        silent,
    })
}

type Run = (
    usize,
    crate::tasks::cognitive::trial::Trial,
    Vec<f32>,
    Vec<i32>,
);

#[allow(clippy::too_many_arguments)]
fn write_npz(
    out: &Path,
    set: &TaskSet,
    chosen: &[usize],
    runs: &[Run],
    period_names: &[String],
    variance: &[f64],
    inputs: usize,
    hidden: usize,
    ch: usize,
) -> Result<()> {
    let (n, t) = (
        runs.len(),
        runs.iter().map(|r| r.1.steps).max().unwrap_or(0),
    );
    // Time first, padded after each trial's end (period −1, mask false).
    let mut h = vec![0.0f32; t * n * hidden];
    let mut x = vec![0.0f32; t * n * inputs];
    let (mut y, mut mask, mut period) = (vec![0i64; t * n], vec![0u8; t * n], vec![-1i32; t * n]);
    for (b, (k, tr, r, p)) in runs.iter().enumerate() {
        for st in 0..tr.steps {
            let i = st * n + b;
            h[i * hidden..(i + 1) * hidden].copy_from_slice(&r[st * hidden..(st + 1) * hidden]);
            x[i * inputs..i * inputs + ch].copy_from_slice(&tr.x[st * ch..(st + 1) * ch]);
            if set.rules {
                x[i * inputs + ch + k] = 1.0;
            }
            y[i] = tr.label[st] as i64;
            mask[i] = tr.decision[st] as u8;
            period[i] = p[st];
        }
    }
    let names: Vec<String> = chosen.iter().map(|&k| set.tasks[k].name.clone()).collect();
    let task: Vec<i32> = runs.iter().map(|r| r.0 as i32).collect();
    let steps: Vec<i32> = runs.iter().map(|r| r.1.steps as i32).collect();
    let le = |v: &[f32]| v.iter().flat_map(|a| a.to_le_bytes()).collect::<Vec<u8>>();
    let i32s = |v: &[i32]| v.iter().flat_map(|a| a.to_le_bytes()).collect::<Vec<u8>>();
    let tv: Vec<f32> = variance.iter().map(|&v| v as f32).collect();
    let all_names: Vec<String> = set.tasks.iter().map(|t| t.name.clone()).collect();
    let (tn_descr, tn) = npz::text(&all_names);
    let (pn_descr, pn) = npz::text(period_names);
    let (vn_descr, vn) = npz::text(&names);
    npz::write(
        out,
        &[
            Member {
                name: "h",
                descr: "<f4",
                shape: &[t, n, hidden],
                bytes: le(&h),
            },
            Member {
                name: "x",
                descr: "<f4",
                shape: &[t, n, inputs],
                bytes: le(&x),
            },
            Member {
                name: "y",
                descr: "<i8",
                shape: &[t, n],
                bytes: y.iter().flat_map(|a| a.to_le_bytes()).collect(),
            },
            Member {
                name: "mask",
                descr: "|b1",
                shape: &[t, n],
                bytes: mask,
            },
            Member {
                name: "period",
                descr: "<i4",
                shape: &[t, n],
                bytes: i32s(&period),
            },
            Member {
                name: "task",
                descr: "<i4",
                shape: &[n],
                bytes: i32s(&task),
            },
            Member {
                name: "steps",
                descr: "<i4",
                shape: &[n],
                bytes: i32s(&steps),
            },
            Member {
                name: "task_variance",
                descr: "<f4",
                shape: &[names.len(), hidden],
                bytes: le(&tv),
            },
            Member {
                name: "task_names",
                descr: &tn_descr,
                shape: &[all_names.len()],
                bytes: tn,
            },
            Member {
                name: "period_names",
                descr: &pn_descr,
                shape: &[period_names.len()],
                bytes: pn,
            },
            Member {
                name: "variance_tasks",
                descr: &vn_descr,
                shape: &[names.len()],
                bytes: vn,
            },
        ],
    )
}

/// The normalised task variance as a heat map, tasks × units, with the units ordered by their
/// preferred task (the task of largest variance) and then by how selective they are.
fn plot_variance(
    out: &Path,
    set: &TaskSet,
    chosen: &[usize],
    v: &[f64],
    hidden: usize,
) -> Result<()> {
    let rows = chosen.len();
    let mut units: Vec<(usize, f64, usize)> = (0..hidden)
        .filter(|&u| (0..rows).any(|r| v[r * hidden + u] > 0.0))
        .map(|u| {
            let best = (0..rows)
                .max_by(|&a, &b| v[a * hidden + u].total_cmp(&v[b * hidden + u]))
                .unwrap_or(0);
            let mean = (0..rows).map(|r| v[r * hidden + u]).sum::<f64>() / rows as f64;
            (best, mean, u)
        })
        .collect();
    units.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let cols = units.len().max(1);
    let mut z = vec![0.0; rows * cols];
    for (c, &(_, _, u)) in units.iter().enumerate() {
        for r in 0..rows {
            z[r * cols + c] = v[r * hidden + u];
        }
    }
    let first = set.tasks[chosen[0]].name.as_str();
    let last = set.tasks[chosen[rows - 1]].name.as_str();
    let fig = Figure {
        title: format!(
            "Normalised task variance ({rows} tasks × {} active units)",
            units.len()
        ),
        cols: 1,
        panels: vec![Panel {
            title: format!("rows: the tasks in rule order, {first} (bottom) to {last} (top)"),
            x_label: "unit (ordered by preferred task)".into(),
            y_label: "task (row)".into(),
            kind: PanelKind::Heat {
                z,
                rows,
                cols,
                marks: vec![],
            },
        }],
    };
    plot::save(&fig, &out.with_extension(""))?;
    Ok(())
}

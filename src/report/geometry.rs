//! How the paired geometry test is shown: a terminal table, markdown, and plots.

use crate::analysis::normal;
use crate::analysis::paired::PairedReport;
use crate::error::Result;
use crate::geometry::Potential;
use crate::report::{Figure, Panel, PanelKind, Series, plot};
use std::path::Path;

fn fmt(v: Option<f64>) -> String {
    v.map_or("—".into(), |x| format!("{x:.4}"))
}

/// What `geometry --json` prints: the input notes, the report, and the optional views (null
/// when not asked for). The Python package's `to_dict()` is this value.
pub fn json(
    notes: &[String],
    report: &PairedReport,
    noise: Option<&crate::analysis::noise_aware::NoiseAwareReport>,
    per_tensor: Option<&[crate::analysis::per_tensor::TensorReport]>,
    pooled: Option<&[crate::analysis::per_tensor::Pooled]>,
) -> serde_json::Value {
    serde_json::json!({
        "input": notes, "report": report, "noise_aware": noise,
        "per_tensor": per_tensor, "pooled_standardised": pooled,
    })
}

/// The ranking as a markdown table (also readable in a terminal).
pub fn table(r: &PairedReport) -> String {
    let mut s = String::from(
        "| rank | potential | ΔCDF | 95 % CI | centred ΔCDF | noise floor (mean ± sd) | M | mean/sd | pairs | ≈ best |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
    );
    for (i, c) in r.candidates.iter().enumerate() {
        let rank = if c.delta_cdf.is_some() {
            (i + 1).to_string()
        } else {
            "—".into()
        };
        let ci = if c.interval.0.is_finite() {
            format!("{:.4}–{:.4}", c.interval.0, c.interval.1)
        } else {
            "—".into()
        };
        let floor = if c.null_mean.is_finite() {
            format!("{:.4} ± {:.4}", c.null_mean, c.null_sd)
        } else {
            "—".into()
        };
        let (m, drift) = if c.delta_cdf.is_some() {
            (
                format!("{:.3}", c.stats.magnitude),
                format!("{:.3}", c.stats.mean / c.stats.sd),
            )
        } else {
            ("—".into(), "—".into())
        };
        let mark = match (&c.excluded, c.indistinguishable_from_best) {
            (Some(why), _) => format!("excluded: {why}"),
            (None, true) => "yes".into(),
            (None, false) => "".into(),
        };
        let label = match &c.note {
            Some(n) => format!("{} ({n})", c.label),
            None => c.label.clone(),
        };
        s += &format!(
            "| {rank} | {label} | {} | {ci} | {} | {floor} | {m} | {drift} | {} | {mark} |\n",
            fmt(c.delta_cdf),
            fmt(c.delta_cdf_centred),
            c.stats.n
        );
    }
    s
}

/// Best candidate, KS diagnostics and warnings as text lines.
pub fn summary_lines(r: &PairedReport) -> Vec<String> {
    let mut out = vec![format!(
        "best geometry: {} (argmin of ΔCDF over {} candidates, {} pairs)",
        r.best,
        r.candidates.len(),
        r.n_pairs
    )];
    let close: Vec<&str> = r
        .candidates
        .iter()
        .filter(|c| c.indistinguishable_from_best)
        .map(|c| c.label.as_str())
        .collect();
    out.push(format!(
        "cannot be told apart from the best: {}",
        close.join(", ")
    ));
    for d in &r.diagnostics {
        out.push(format!(
            "KS of the standardised change under {} against N(0,1): D = {:.4}, p = {:.3e}",
            d.label, d.ks_distance, d.ks_p_value
        ));
    }
    for w in &r.warnings {
        out.push(format!(
            "warning ({}, {} pairs): {}",
            w.kind, w.count, w.message
        ));
    }
    out
}

/// `delta_cdf`, `standardised_change` and `qq` plots (PNG + SVG) in `dir`.
pub fn plots(r: &PairedReport, dir: &Path) -> Result<()> {
    // ΔCDF over p, negative entropy drawn at p = 1 (its limit), with intervals and the floor.
    let mut pts: Vec<(f64, f64, f64, f64, f64)> = r
        .candidates
        .iter()
        .filter_map(|c| {
            let x = p_axis(c.potential)?;
            c.delta_cdf.map(|d| {
                (
                    x,
                    d,
                    c.interval.0,
                    c.interval.1,
                    c.null_mean + 2.0 * c.null_sd,
                )
            })
        })
        .collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let col = |f: fn(&(f64, f64, f64, f64, f64)) -> f64| pts.iter().map(f).collect::<Vec<f64>>();
    let xs = col(|p| p.0);
    let fig = Figure {
        title: format!(
            "Geometry test: ΔCDF per candidate ({} pairs; negative entropy at p = 1)",
            r.n_pairs
        ),
        cols: 1,
        panels: vec![Panel {
            title: format!("best: {}", r.best),
            x_label: "p (p-norm potential)".into(),
            y_label: "ΔCDF".into(),
            kind: PanelKind::Lines(vec![
                Series {
                    name: "ΔCDF".into(),
                    x: xs.clone(),
                    y: col(|p| p.1),
                },
                Series {
                    name: "95 % CI low".into(),
                    x: xs.clone(),
                    y: col(|p| p.2),
                },
                Series {
                    name: "95 % CI high".into(),
                    x: xs.clone(),
                    y: col(|p| p.3),
                },
                Series {
                    name: "noise floor + 2 sd".into(),
                    x: xs,
                    y: col(|p| p.4),
                },
            ]),
        }],
    };
    plot::save(&fig, &dir.join("delta_cdf"))?;

    let grid: Vec<f64> = (0..100).map(|i| -5.0 + (i as f64 + 0.5) * 0.1).collect();
    let hist_panels = r
        .diagnostics
        .iter()
        .map(|d| {
            let n: u64 = d.histogram.iter().sum();
            Panel {
                title: d.label.clone(),
                x_label: "standardised dual change z".into(),
                y_label: "density".into(),
                kind: PanelKind::Lines(vec![
                    Series {
                        name: "data".into(),
                        x: grid.clone(),
                        y: d.histogram
                            .iter()
                            .map(|&c| c as f64 / (n as f64 * 0.1))
                            .collect(),
                    },
                    Series {
                        name: "N(0,1)".into(),
                        x: grid.clone(),
                        y: grid.iter().map(|&x| normal::pdf(x)).collect(),
                    },
                ]),
            }
        })
        .collect::<Vec<_>>();
    if !hist_panels.is_empty() {
        let cols = hist_panels.len();
        plot::save(
            &Figure {
                title: "Standardised dual change vs N(0,1)".into(),
                cols,
                panels: hist_panels,
            },
            &dir.join("standardised_change"),
        )?;
        let qq = r
            .diagnostics
            .iter()
            .map(|d| {
                let q = d.quantiles.len();
                let theo: Vec<f64> = (0..q)
                    .map(|i| normal::quantile((i as f64 + 0.5) / q as f64))
                    .collect();
                Panel {
                    title: d.label.clone(),
                    x_label: "N(0,1) quantile".into(),
                    y_label: "data quantile".into(),
                    kind: PanelKind::Lines(vec![
                        Series {
                            name: "data".into(),
                            x: theo.clone(),
                            y: d.quantiles.clone(),
                        },
                        Series {
                            name: "identity".into(),
                            x: theo.clone(),
                            y: theo,
                        },
                    ]),
                }
            })
            .collect();
        plot::save(
            &Figure {
                title: "QQ plot of the standardised dual change".into(),
                cols,
                panels: qq,
            },
            &dir.join("qq"),
        )?;
    }
    Ok(())
}

/// Where a candidate sits on the p axis of the plots (negative entropy at its limit p = 1;
/// hypentropy has no place on it).
pub fn p_axis(pot: Potential) -> Option<f64> {
    match pot.canonical() {
        Potential::PNorm { p } => Some(p),
        Potential::NegEntropy => Some(1.0),
        Potential::Euclidean => Some(2.0),
        Potential::Hypentropy { .. } => None,
    }
}

/// `noise_null.{png,svg}`: each candidate's ΔCDF against its own null band under the noise.
pub fn noise_plot(r: &crate::analysis::noise_aware::NoiseAwareReport, dir: &Path) -> Result<()> {
    let mut pts: Vec<(f64, f64, f64, f64, f64)> = r
        .candidates
        .iter()
        .filter_map(|c| {
            Some((
                p_axis(c.potential)?,
                c.delta_cdf?,
                c.null_median,
                c.null_low,
                c.null_high,
            ))
        })
        .collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let xs: Vec<f64> = pts.iter().map(|p| p.0).collect();
    let series = |name: &str, f: fn(&(f64, f64, f64, f64, f64)) -> f64| Series {
        name: name.into(),
        x: xs.clone(),
        y: pts.iter().map(f).collect(),
    };
    let pct = 100.0 * (1.0 - r.options.alpha);
    let fig = Figure {
        title: "Noise-aware test: ΔCDF and each candidate's null".into(),
        cols: 1,
        panels: vec![Panel {
            title: format!("{} pairs, measurement noise {}", r.n_pairs, r.options.noise),
            x_label: "p (p-norm potential; NE at p = 1)".into(),
            y_label: "ΔCDF".into(),
            kind: PanelKind::Lines(vec![
                series("observed", |p| p.1),
                series("null median", |p| p.2),
                series(&format!("null {pct:.0} % range, low"), |p| p.3),
                series(&format!("null {pct:.0} % range, high"), |p| p.4),
            ]),
        }],
    };
    plot::save(&fig, &dir.join("noise_null"))?;
    Ok(())
}

/// `power.{png,svg}`: power against synapse count, one panel per alternative, one curve per
/// noise level.
pub fn power_plot(r: &crate::analysis::power::PowerReport, dir: &Path) -> Result<()> {
    let d = &r.design;
    let panels = d
        .alternatives
        .iter()
        .enumerate()
        .map(|(k, alt)| {
            let mut series: Vec<Series> = d
                .noise
                .iter()
                .map(|n| {
                    let pts: Vec<_> = r.points.iter().filter(|p| p.noise == *n).collect();
                    Series {
                        name: format!("noise {n}"),
                        x: pts.iter().map(|p| (p.synapses as f64).log10()).collect(),
                        y: pts.iter().map(|p| p.separated[k]).collect(),
                    }
                })
                .collect();
            let xs: Vec<f64> = d.synapses.iter().map(|&n| (n as f64).log10()).collect();
            series.push(Series {
                name: format!("target {:.0} %", 100.0 * d.target),
                y: vec![d.target; xs.len()],
                x: xs,
            });
            Panel {
                title: format!("{} vs {}", d.truth, alt),
                x_label: "log10 synapses".into(),
                y_label: "P(truth kept and alternative rejected)".into(),
                kind: PanelKind::Lines(series),
            }
        })
        .collect::<Vec<_>>();
    let cols = panels.len().min(3);
    plot::save(
        &Figure {
            title: format!("Power of the geometry test (dual-change sd {})", d.change),
            cols,
            panels,
        },
        &dir.join("power"),
    )?;
    Ok(())
}

/// One row per tensor: its best candidate, the ΔCDF of NE and p2, the floor, and the candidates
/// that cannot be told apart from its best.
pub fn per_tensor_table(reports: &[crate::analysis::per_tensor::TensorReport]) -> String {
    let mut s = String::from(
        "| tensor | pairs | best | ΔCDF best | NE | p2 | noise floor | cannot be told apart from the best |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for t in reports {
        let r = &t.report;
        let get = |l: &str| r.candidates.iter().find(|c| c.label == l);
        let best = get(&r.best);
        let close: Vec<&str> = r
            .candidates
            .iter()
            .filter(|c| c.indistinguishable_from_best)
            .map(|c| c.label.as_str())
            .collect();
        s += &format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            t.name,
            r.n_pairs,
            r.best,
            fmt(best.and_then(|c| c.delta_cdf)),
            fmt(get("NE").and_then(|c| c.delta_cdf)),
            fmt(get("p2").and_then(|c| c.delta_cdf)),
            best.map_or("—".into(), |c| format!(
                "{:.4} ± {:.4}",
                c.null_mean, c.null_sd
            )),
            close.join(", ")
        );
    }
    s
}

/// `per_tensor.{png,svg}`: ΔCDF over p for each tensor, one row per tensor.
pub fn per_tensor_plot(
    reports: &[crate::analysis::per_tensor::TensorReport],
    dir: &Path,
) -> Result<()> {
    let panels = reports
        .iter()
        .map(|t| {
            let mut pts: Vec<(f64, f64, f64)> = t
                .report
                .candidates
                .iter()
                .filter_map(|c| {
                    Some((
                        p_axis(c.potential)?,
                        c.delta_cdf?,
                        c.null_mean + 2.0 * c.null_sd,
                    ))
                })
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            let xs: Vec<f64> = pts.iter().map(|p| p.0).collect();
            Panel {
                title: format!(
                    "{} ({} pairs): best {}",
                    t.name, t.report.n_pairs, t.report.best
                ),
                x_label: "p (p-norm potential; NE at p = 1)".into(),
                y_label: "ΔCDF".into(),
                kind: PanelKind::Lines(vec![
                    Series {
                        name: "ΔCDF".into(),
                        x: xs.clone(),
                        y: pts.iter().map(|p| p.1).collect(),
                    },
                    Series {
                        name: "noise floor + 2 sd".into(),
                        x: xs,
                        y: pts.iter().map(|p| p.2).collect(),
                    },
                ]),
            }
        })
        .collect();
    plot::save(
        &Figure {
            title: "Geometry test per tensor".into(),
            cols: 1,
            panels,
        },
        &dir.join("per_tensor"),
    )?;
    Ok(())
}

/// The ranking of the pool of per-tensor standardised dual changes.
pub fn pooled_table(pooled: &[crate::analysis::per_tensor::Pooled], floor: (f64, f64)) -> String {
    let mut s = format!(
        "Pooled after dividing each tensor's dual change by its sd under each candidate (noise floor \
         {:.4} ± {:.4}):\n\n| rank | potential | ΔCDF | pairs |\n|---|---|---|---|\n",
        floor.0, floor.1
    );
    for (i, c) in pooled.iter().enumerate() {
        s += &match (&c.excluded, c.delta_cdf) {
            (None, Some(d)) => format!("| {} | {} | {d:.4} | {} |\n", i + 1, c.label, c.n),
            (why, _) => format!(
                "| — | {} | — | excluded: {} |\n",
                c.label,
                why.clone().unwrap_or_default()
            ),
        };
    }
    s
}

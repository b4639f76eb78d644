//! The files of `geoplast fit --out DIR`: `report.json`, `report.md` and `density.{png,svg}`,
//! per orthant the histogram of ln|w| with the density of the best geometry's fit and of the
//! Euclidean two-component fit (the density of ln|w| is the fitted mixture of ψ(w) times
//! f''(w)·|w|, the Jacobian of w ↦ ψ(w) at |w| = e^v).

use crate::analysis::unpaired::Fit;
use crate::error::{Error, Result};
use crate::geometry::{MirrorMap, Potential};
use crate::report::{Figure, Panel, PanelKind, Series, plot};
use std::path::Path;

/// Writes the fit report of `orthants` (name, magnitudes, fits) into `dir`.
pub fn write(
    dir: &Path,
    orthants: &[(String, Vec<f64>, Vec<Fit>)],
    cands: &[Potential],
    value: &serde_json::Value,
    text: &str,
) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let put = |name: &str, text: String| {
        let p = dir.join(name);
        crate::io::durable::write(&p, text)
    };
    put(
        "report.json",
        serde_json::to_string_pretty(value).expect("json"),
    )?;
    let panels = orthants
        .iter()
        .map(|(name, mag, fits)| {
            let ln: Vec<f64> = mag.iter().map(|x| x.ln()).collect();
            let (lo, hi) = ln
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                    (a.min(v), b.max(v))
                });
            let bins = 60;
            let width = (hi - lo) / bins as f64;
            let mut counts = vec![0.0; bins];
            for v in &ln {
                counts[(((v - lo) / width) as usize).min(bins - 1)] += 1.0;
            }
            let xs: Vec<f64> = (0..bins).map(|b| lo + (b as f64 + 0.5) * width).collect();
            let mut series = vec![Series {
                name: "data".into(),
                x: xs.clone(),
                y: counts
                    .iter()
                    .map(|c| c / (ln.len() as f64 * width))
                    .collect(),
            }];
            let best = fits
                .iter()
                .filter(|f| {
                    !["normal", "log-normal", "log-normal mixture (2)"].contains(&f.model.as_str())
                })
                .min_by(|a, b| a.aic.total_cmp(&b.aic));
            let euclid = fits.iter().find(|f| f.model == "p2" && f.components == 2);
            for f in best.into_iter().chain(euclid) {
                let pot = cands
                    .iter()
                    .find(|c| c.label() == f.model)
                    .copied()
                    .unwrap_or(Potential::Euclidean);
                let dens = |v: f64| {
                    let x = v.exp();
                    let u = pot.mirror(x);
                    (0..f.components)
                        .map(|k| {
                            f.weights[k] * crate::analysis::normal::pdf((u - f.means[k]) / f.sds[k])
                                / f.sds[k]
                        })
                        .sum::<f64>()
                        * pot.hessian(x)
                        * x
                };
                series.push(Series {
                    name: format!("{} (K = {})", f.model, f.components),
                    x: xs.clone(),
                    y: xs.iter().map(|&v| dens(v)).collect(),
                });
            }
            Panel {
                title: format!("{name} weights"),
                x_label: "ln |w|".into(),
                y_label: "density".into(),
                kind: PanelKind::Lines(series),
            }
        })
        .collect::<Vec<_>>();
    let cols = panels.len();
    plot::save(
        &Figure {
            title: "Unpaired fit: best geometry vs Euclidean".into(),
            cols,
            panels,
        },
        &dir.join("density"),
    )?;
    put(
        "report.md",
        format!("# Unpaired fit\n\n{text}\n![density](density.png)\n"),
    )
}

//! `geoplast spectrum`: for every weight matrix, the singular values and their normalised SVD
//! entropy (Li et al. 2023, science.md E10), and for square matrices the eigenvalues and the
//! spectral radius, as a table, `spectrum.json` and a plot (singular-value histograms, and
//! eigenvalues in the complex plane with the unit circle).
//!
//! Sources: a `.safetensors` file (each 2-D tensor as stored), a run folder (its model rebuilt
//! from `config.toml` and the final or initial weights, so Dale's-law matrices are analysed as
//! the network uses them: `W⁺·D`, `W_EE − W_EI·W_IE`), or a training config (the model it would
//! start from, to check an E/I initialisation before training).

use crate::error::{Error, Result};
use crate::nn::spectrum;
use crate::report::{Figure, Panel, PanelKind, Series, plot};
use std::path::Path;

/// A named matrix, row-major.
pub type Matrix = (String, usize, usize, Vec<f64>);

#[derive(Clone, Debug, serde::Serialize)]
pub struct MatrixSpectrum {
    pub name: String,
    pub rows: usize,
    pub cols: usize,
    /// Largest first.
    pub singular_values: Vec<f64>,
    /// Normalised SVD entropy in [0, 1].
    pub svd_entropy: f64,
    /// (re, im), square matrices only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eigenvalues: Option<Vec<(f64, f64)>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spectral_radius: Option<f64>,
}

/// The spectrum of one matrix.
pub fn analyse((name, rows, cols, data): &Matrix) -> Result<MatrixSpectrum> {
    let fail = |what: &str| {
        Error::Config(format!(
            "{name} ({rows} × {cols}): the {what} did not converge (is the matrix finite?)"
        ))
    };
    if let Some(i) = data.iter().position(|v| !v.is_finite()) {
        return Err(Error::Config(format!(
            "{name} holds a non-finite value at flat index {i}: its spectrum is undefined"
        )));
    }
    let sv = spectrum::singular_values(data, *rows, *cols).ok_or_else(|| fail("SVD"))?;
    let eig = if rows == cols {
        Some(spectrum::eigenvalues(data, *rows).ok_or_else(|| fail("eigenvalue solver"))?)
    } else {
        None
    };
    Ok(MatrixSpectrum {
        name: name.clone(),
        rows: *rows,
        cols: *cols,
        svd_entropy: spectrum::svd_entropy(&sv),
        singular_values: sv,
        spectral_radius: eig
            .as_ref()
            .map(|e| e.iter().map(|&(re, im)| re.hypot(im)).fold(0.0, f64::max)),
        eigenvalues: eig,
    })
}

/// The 2-D tensors of a safetensors file selected by the globs; notes name what was skipped.
pub fn of_file(
    path: &Path,
    include: &[String],
    exclude: &[String],
) -> Result<(Vec<Matrix>, Vec<String>)> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let tensors =
        crate::io::weights::parse_safetensors(&bytes).map_err(|m| Error::data(path, m))?;
    let inc = crate::io::weights::glob_set(include, "--include")?;
    let exc = crate::io::weights::glob_set(exclude, "--exclude")?;
    let mut notes = Vec::new();
    let mut out = Vec::new();
    for (name, shape, v) in tensors {
        if (!include.is_empty() && !inc.is_match(&name)) || exc.is_match(&name) {
            continue;
        }
        match shape[..] {
            [r, c] => out.push((name, r, c, v)),
            [_] | [] => {}
            _ => notes.push(format!(
                "{name} has {} dimensions {shape:?}: skipped (spectra are of matrices)",
                shape.len()
            )),
        }
    }
    Ok((out, notes))
}

/// The effective matrices of a run folder's model with its `weights` file
/// (`weights_final.safetensors` or `weights_init.safetensors`).
pub fn of_run(dir: &Path, weights: &str) -> Result<Vec<Matrix>> {
    Ok(crate::train::model::of_run(dir, weights)?
        .1
        .effective_matrices())
}

/// The table printed and written to `spectrum.md`.
pub fn table(s: &[MatrixSpectrum]) -> String {
    let mut t = String::from(
        "| matrix | shape | σ_max | σ_min | SVD entropy | spectral radius |\n|---|---|---|---|---|---|\n",
    );
    for m in s {
        let first = m.singular_values.first().copied().unwrap_or(f64::NAN);
        let last = m.singular_values.last().copied().unwrap_or(f64::NAN);
        let rho = m
            .spectral_radius
            .map_or("— (not square)".to_string(), |r| format!("{r:.4}"));
        t += &format!(
            "| {} | {} × {} | {first:.4} | {last:.4} | {:.4} | {rho} |\n",
            m.name, m.rows, m.cols, m.svd_entropy
        );
    }
    t
}

/// Writes `spectrum.json`, `spectrum.md` and `spectrum.{png,svg}` into `out`.
pub fn write(out: &Path, s: &[MatrixSpectrum], notes: &[String], source: &str) -> Result<()> {
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let json = serde_json::json!({ "source": source, "matrices": s, "notes": notes });
    let text = serde_json::to_string_pretty(&json).expect("spectra serialise");
    crate::io::durable::write(&out.join("spectrum.json"), text)?;
    let mut md = format!("# Spectra of {source}\n\n{}", table(s));
    for n in notes {
        md += &format!("\n* {n}");
    }
    crate::io::durable::write(&out.join("spectrum.md"), md)?;
    let mut panels = Vec::new();
    for m in s {
        panels.push(Panel {
            title: format!("{}: σ, NSE {:.3}", m.name, m.svd_entropy),
            x_label: "σ".into(),
            y_label: "density".into(),
            kind: PanelKind::Hist {
                samples: vec![("singular values".into(), m.singular_values.clone())],
                bins: 40.min(m.singular_values.len().max(1)),
            },
        });
        if let (Some(e), Some(r)) = (&m.eigenvalues, m.spectral_radius) {
            let circle = (0..=200).map(|k| std::f64::consts::TAU * k as f64 / 200.0);
            panels.push(Panel {
                title: format!("{}: λ, radius {r:.3}", m.name),
                x_label: "Re λ".into(),
                y_label: "Im λ".into(),
                kind: PanelKind::Points(vec![
                    Series {
                        name: "eigenvalues".into(),
                        x: e.iter().map(|z| z.0).collect(),
                        y: e.iter().map(|z| z.1).collect(),
                    },
                    Series {
                        name: "unit circle".into(),
                        x: circle.clone().map(f64::cos).collect(),
                        y: circle.map(f64::sin).collect(),
                    },
                ]),
            });
        }
    }
    let fig = Figure {
        title: format!("Spectra of {source}"),
        cols: 2,
        panels,
    };
    plot::save(&fig, &out.join("spectrum"))?;
    Ok(())
}

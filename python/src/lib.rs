//! The `geoplast` Python module: the paired geometry test and the unpaired fit on numpy arrays,
//! through the same library calls as the command line (`to_dict()` equals `geoplast geometry
//! --json`). Long calls release the GIL; every error is a `ValueError` with the CLI's sentence.

use geoplast_core as gp;
use gp::analysis::paired::{self, PairedOptions, PairedReport};
use gp::io::pairs::{self, Pairs};
use gp::io::weights::{NamedTensor, pair_tensors};
use numpy::{PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::collections::HashMap;
use std::path::Path;

fn value_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// An array of any shape as (shape, f64 values in C order). A contiguous float64 array is
/// read as it is; float32, integer and strided arrays are converted once by numpy.
fn array(x: &Bound<'_, PyAny>, what: &str) -> PyResult<(Vec<usize>, Vec<f64>)> {
    let np = x.py().import("numpy")?;
    let a = np
        .call_method1("ascontiguousarray", (x, "float64"))
        .map_err(|_| value_error(format!("{what} must be an array of numbers")))?;
    let a: PyReadonlyArrayDyn<'_, f64> = a
        .extract()
        .map_err(|_| value_error(format!("{what} must be an array of numbers")))?;
    Ok((a.shape().to_vec(), a.as_slice()?.to_vec()))
}

/// Named arrays of a dict (a PyTorch `state_dict` converted with `.numpy()`).
fn tensors(d: &Bound<'_, PyDict>, what: &str) -> PyResult<Vec<NamedTensor>> {
    let mut out = Vec::new();
    for (k, v) in d.iter() {
        let name: String = k
            .extract()
            .map_err(|_| value_error(format!("{what}: every key must be a tensor name (str)")))?;
        let (shape, values) = array(&v, &format!("{what}[{name:?}]"))?;
        out.push((name, shape, values));
    }
    Ok(out)
}

/// Pairs from two 1-D arrays or two dicts of named arrays.
fn read_pairs(
    before: &Bound<'_, PyAny>,
    after: &Bound<'_, PyAny>,
    include: &[String],
    exclude: &[String],
) -> PyResult<Pairs> {
    match (before.cast::<PyDict>(), after.cast::<PyDict>()) {
        (Ok(b), Ok(a)) => {
            let (t0, t1) = (tensors(b, "before")?, tensors(a, "after")?);
            let tp = pair_tensors(
                t0,
                t1,
                include,
                exclude,
                (Path::new("before"), Path::new("after")),
            )
            .map_err(value_error)?;
            Ok(pairs::from_tensor_pairs(tp))
        }
        (Err(_), Err(_)) => {
            let ((s0, w0), (s1, w1)) = (array(before, "before")?, array(after, "after")?);
            if s0.len() != 1 || s1.len() != 1 {
                return Err(value_error(
                    "before and after must be 1-D arrays of the same synapses, or two dicts of \
                     named arrays",
                ));
            }
            pairs::from_vectors(w0, w1).map_err(value_error)
        }
        _ => Err(value_error(
            "before and after must both be arrays or both be dicts of named arrays",
        )),
    }
}

/// The answer of the paired geometry test.
#[pyclass(module = "geoplast", frozen)]
struct GeometryResult {
    notes: Vec<String>,
    report: PairedReport,
}

#[pymethods]
impl GeometryResult {
    /// The candidate with the smallest ΔCDF.
    #[getter]
    fn best(&self) -> String {
        self.report.best.clone()
    }
    /// Scored candidates, best first.
    #[getter]
    fn ranking(&self) -> Vec<String> {
        let scored = self
            .report
            .candidates
            .iter()
            .filter(|c| c.delta_cdf.is_some());
        scored.map(|c| c.label.clone()).collect()
    }
    /// ΔCDF of each scored candidate.
    #[getter]
    fn delta_cdf(&self) -> HashMap<String, f64> {
        let c = self.report.candidates.iter();
        c.filter_map(|c| Some((c.label.clone(), c.delta_cdf?)))
            .collect()
    }
    /// (mean, sd) of ΔCDF for exactly Gaussian samples of the same size.
    #[getter]
    fn noise_floor(&self) -> HashMap<String, (f64, f64)> {
        let c = self
            .report
            .candidates
            .iter()
            .filter(|c| c.delta_cdf.is_some());
        c.map(|c| (c.label.clone(), (c.null_mean, c.null_sd)))
            .collect()
    }
    /// 95 % paired-bootstrap interval of each scored candidate's ΔCDF (NaN without bootstrap).
    #[getter]
    fn intervals(&self) -> HashMap<String, (f64, f64)> {
        let c = self
            .report
            .candidates
            .iter()
            .filter(|c| c.delta_cdf.is_some());
        c.map(|c| (c.label.clone(), c.interval)).collect()
    }
    /// The candidates that cannot be told apart from the best.
    #[getter]
    fn indistinguishable(&self) -> Vec<String> {
        let c = self.report.candidates.iter();
        c.filter(|c| c.indistinguishable_from_best)
            .map(|c| c.label.clone())
            .collect()
    }
    /// The warnings, as sentences.
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.report
            .warnings
            .iter()
            .map(|w| w.message.clone())
            .collect()
    }
    /// Everything, as `geoplast geometry --json` prints it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let v = gp::report::geometry::json(&self.notes, &self.report, None, None, None);
        py.import("json")?.call_method1("loads", (v.to_string(),))
    }
    fn __repr__(&self) -> String {
        let lines = gp::report::geometry::summary_lines(&self.report);
        format!(
            "{}\n{}\n{}",
            self.notes.join("\n"),
            gp::report::geometry::table(&self.report),
            lines.join("\n")
        )
    }
}

/// The paired geometry test: which potential makes ψ(after) − ψ(before) look like zero-mean
/// Gaussian noise?
///
/// `before` and `after` are 1-D arrays of the same synapses, or two dicts of named arrays (a
/// PyTorch `state_dict` converted with `.numpy()`), paired by name and selected with `include`
/// and `exclude` glob patterns. Contiguous float64 arrays are read as they are; float32 and
/// strided arrays are converted once.
///
/// >>> import numpy as np, geoplast
/// >>> w0 = np.exp(np.random.default_rng(0).normal(-1, 0.7, 5000))
/// >>> w1 = w0 * np.exp(np.random.default_rng(1).normal(0, 0.1, 5000))
/// >>> r = geoplast.geometry(w0, w1, candidates="ne,p1.5,p2", bootstrap=0)
/// >>> r.best
/// 'NE'
#[pyfunction]
#[pyo3(signature = (before, after, *, candidates=None, centred=false, bootstrap=200, seed=0,
                    include=None, exclude=None, drop_nonpositive=false, ne_subset=false,
                    normalize=false))]
#[allow(clippy::too_many_arguments)]
fn geometry(
    py: Python<'_>,
    before: &Bound<'_, PyAny>,
    after: &Bound<'_, PyAny>,
    candidates: Option<String>,
    centred: bool,
    bootstrap: usize,
    seed: u64,
    include: Option<Vec<String>>,
    exclude: Option<Vec<String>>,
    drop_nonpositive: bool,
    ne_subset: bool,
    normalize: bool,
) -> PyResult<GeometryResult> {
    let (include, exclude) = (include.unwrap_or_default(), exclude.unwrap_or_default());
    let mut p = read_pairs(before, after, &include, &exclude)?;
    py.detach(move || {
        if normalize {
            p.normalize_median();
        }
        if drop_nonpositive {
            p.drop_nonpositive();
        }
        pairs::check_magnitudes(&p.before, "weights before").map_err(value_error)?;
        pairs::check_magnitudes(&p.after, "weights after").map_err(value_error)?;
        let spec = candidates.as_deref().unwrap_or("default");
        let cands = paired::parse_candidates(spec, &p.before).map_err(value_error)?;
        let mut opts = PairedOptions::new(cands);
        opts.bootstrap = bootstrap;
        opts.ne_subset = ne_subset;
        opts.seed = seed;
        if centred {
            opts.centring = gp::analysis::delta_cdf::Centring::Centred;
        }
        let notes = p.notes.clone();
        let report =
            paired::infer_checked(p.before, p.after, &opts, &|| {}).map_err(value_error)?;
        Ok(GeometryResult { notes, report })
    })
}

/// The unpaired fit: which geometries can final weights alone rule out? Returns what
/// `geoplast fit --json` prints (a dict), for a 1-D array of weights.
///
/// >>> import numpy as np, geoplast
/// >>> w = np.exp(np.random.default_rng(0).normal(-0.7, 0.9, 2000))
/// >>> f = geoplast.fit(w)
/// >>> sorted(f["orthants"])
/// ['positive']
#[pyfunction]
#[pyo3(signature = (weights, *, candidates="ne,p1.5,p2,p2.5,p3"))]
fn fit<'py>(
    py: Python<'py>,
    weights: &Bound<'py, PyAny>,
    candidates: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let (shape, w) = array(weights, "weights")?;
    if shape.len() != 1 {
        return Err(value_error("weights must be a 1-D array"));
    }
    let candidates = candidates.to_string();
    let value = py.detach(move || -> PyResult<serde_json::Value> {
        if let Some(i) = w.iter().position(|v| !v.is_finite()) {
            return Err(value_error(format!(
                "weights[{i}] is {}: the fit needs finite weights",
                w[i]
            )));
        }
        pairs::check_magnitudes(&w, "weights").map_err(value_error)?;
        let cands = paired::parse_candidates(&candidates, &w).map_err(value_error)?;
        let r =
            gp::analysis::unpaired::fit_report(&w, &cands, None, &|| {}).map_err(value_error)?;
        Ok(r.value)
    })?;
    py.import("json")?
        .call_method1("loads", (value.to_string(),))
}

#[pymodule]
#[pyo3(name = "geoplast")]
fn geoplast_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(geometry, m)?)?;
    m.add_function(wrap_pyfunction!(fit, m)?)?;
    m.add_class::<GeometryResult>()?;
    Ok(())
}

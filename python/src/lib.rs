//! The `geoplast` Python module: the paired geometry test and the unpaired fit on numpy arrays,
//! each potential's maths (`geoplast.potentials`), and training (`train`, `load_run`), through
//! the same library calls as the command line (`to_dict()` equals `geoplast geometry --json`;
//! `train` gives the weights of `geoplast train`). Long calls release the GIL; every error is a
//! Python exception with the CLI's sentence.

use geoplast_core as gp;
use gp::analysis::paired::{self, PairedOptions, PairedReport};
use gp::io::pairs::{self, Pairs};
use gp::io::weights::{NamedTensor, pair_tensors};
use numpy::{PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArrayMethods};
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

/// One potential from its name (`ne`, `euclid`, `p1.5`, `hyp0.1`), as in candidate lists.
fn potential(name: &str) -> PyResult<gp::geometry::Potential> {
    match paired::parse_candidates(name, &[]).map_err(value_error)?[..] {
        [p] if !name.contains(',') && name.trim() != "default" => Ok(p),
        _ => Err(value_error(format!(
            "{name:?} names more than one potential: give one, e.g. \"ne\", \"p1.5\", \"hyp0.1\""
        ))),
    }
}

/// `f` applied element-wise to the float64 values of `x`, as an array of the same shape.
fn map_array<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    what: &str,
    f: impl Fn(usize, f64) -> f64 + Send + Sync,
) -> PyResult<Bound<'py, numpy::PyArrayDyn<f64>>> {
    let (shape, v) = array(x, what)?;
    let out: Vec<f64> = py.detach(|| v.iter().enumerate().map(|(i, &x)| f(i, x)).collect());
    numpy::PyArray1::from_vec(py, out).reshape(shape)
}

/// The same sign for every element, or one per element (broadcast from a scalar).
fn signs(sign: Option<&Bound<'_, PyAny>>, n: usize) -> PyResult<Option<Vec<f64>>> {
    let Some(s) = sign else { return Ok(None) };
    let (shape, v) = array(s, "sign")?;
    match v.len() {
        1 if shape.is_empty() || shape == [1] => Ok(Some(vec![v[0]; n])),
        m if m == n => Ok(Some(v)),
        m => Err(value_error(format!(
            "sign has {m} values for {n} elements: give one sign, or one per element"
        ))),
    }
}

mod potentials {
    //! Each potential's maths on numpy arrays, element-wise: the same f64 functions the
    //! geometry test uses (one home per potential, `src/geometry/`).
    use super::*;
    use gp::geometry::MirrorMap;

    /// The potential φ(w), element-wise (its sum is φ of the vector).
    ///
    /// >>> import numpy as np, geoplast
    /// >>> geoplast.potentials.value(np.array([1.0, 2.0]), "p2")
    /// array([0.5, 2. ])
    #[pyfunction]
    pub fn value<'py>(
        py: Python<'py>,
        w: &Bound<'py, PyAny>,
        potential: &str,
    ) -> PyResult<Bound<'py, numpy::PyArrayDyn<f64>>> {
        let p = super::potential(potential)?;
        map_array(py, w, "w", |_, x| p.value(x))
    }

    /// The mirror map ψ = ∇φ (the dual coordinates), element-wise.
    ///
    /// >>> geoplast.potentials.mirror(np.array([1.0, np.e]), "ne")
    /// array([1., 2.])
    #[pyfunction]
    pub fn mirror<'py>(
        py: Python<'py>,
        w: &Bound<'py, PyAny>,
        potential: &str,
    ) -> PyResult<Bound<'py, numpy::PyArrayDyn<f64>>> {
        let p = super::potential(potential)?;
        map_array(py, w, "w", |_, x| p.mirror(x))
    }

    /// The inverse map ψ⁻¹. Negative entropy's ψ maps each sign's half-line separately, so its
    /// inverse needs `sign` (a scalar or one per element); the others ignore it.
    ///
    /// >>> w = np.array([0.2, 1.5])
    /// >>> geoplast.potentials.inverse(geoplast.potentials.mirror(w, "ne"), "ne", sign=1.0)
    /// array([0.2, 1.5])
    #[pyfunction]
    #[pyo3(signature = (u, potential, sign=None))]
    pub fn inverse<'py>(
        py: Python<'py>,
        u: &Bound<'py, PyAny>,
        potential: &str,
        sign: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, numpy::PyArrayDyn<f64>>> {
        let p = super::potential(potential)?;
        let n = array(u, "u")?.1.len();
        let s = match signs(sign, n)? {
            Some(s) => s,
            None if p.same_sign_only() => {
                return Err(value_error(format!(
                    "the inverse of {potential:?} needs the sign of the weights: pass sign=1.0, \
                     sign=-1.0 or one sign per element"
                )));
            }
            None => vec![1.0; n],
        };
        map_array(py, u, "u", move |i, x| p.inverse(x, s[i]))
    }

    /// The Hessian diagonal φ''(w) = ψ'(w), element-wise.
    ///
    /// >>> geoplast.potentials.hessian(np.array([0.5, 2.0]), "ne")
    /// array([2. , 0.5])
    #[pyfunction]
    pub fn hessian<'py>(
        py: Python<'py>,
        w: &Bound<'py, PyAny>,
        potential: &str,
    ) -> PyResult<Bound<'py, numpy::PyArrayDyn<f64>>> {
        let p = super::potential(potential)?;
        map_array(py, w, "w", |_, x| p.hessian(x))
    }

    /// The Bregman divergence D_φ(w, w′) = φ(w) − φ(w′) − ψ(w′)·(w − w′), element-wise
    /// (`w` and `w_prime` of one shape).
    ///
    /// >>> geoplast.potentials.bregman(np.array([1.0]), np.array([3.0]), "p2")
    /// array([2.])
    #[pyfunction]
    pub fn bregman<'py>(
        py: Python<'py>,
        w: &Bound<'py, PyAny>,
        w_prime: &Bound<'py, PyAny>,
        potential: &str,
    ) -> PyResult<Bound<'py, numpy::PyArrayDyn<f64>>> {
        let p = super::potential(potential)?;
        let (s0, a) = array(w, "w")?;
        let (s1, b) = array(w_prime, "w_prime")?;
        if s0 != s1 {
            return Err(value_error(format!(
                "w has shape {s0:?} and w_prime {s1:?}: give two arrays of one shape"
            )));
        }
        let out: Vec<f64> =
            py.detach(|| a.iter().zip(&b).map(|(&x, &y)| p.bregman(x, y)).collect());
        numpy::PyArray1::from_vec(py, out).reshape(s0)
    }
}

/// A training run folder, read back: its summary, metrics and weights.
#[pyclass(module = "geoplast", frozen)]
struct Run {
    /// The run folder.
    #[pyo3(get)]
    dir: std::path::PathBuf,
    summary: Py<PyAny>,
    metrics: Py<PyAny>,
    initial: Py<PyAny>,
    final_: Py<PyAny>,
}

/// The tensors of a `.safetensors` file as a dict of float32 numpy arrays.
fn weights_dict<'py>(py: Python<'py>, path: &Path) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    if !path.is_file() {
        return Ok(d);
    }
    let (t, _) = gp::io::checkpoint::load(path).map_err(io_error)?;
    for (name, tensor) in t {
        let a = numpy::PyArray1::from_vec(py, tensor.data).reshape(tensor.shape)?;
        d.set_item(name, a)?;
    }
    Ok(d)
}

/// A library error as the Python exception a user expects.
fn io_error(e: gp::error::Error) -> PyErr {
    match &e {
        gp::error::Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            pyo3::exceptions::PyFileNotFoundError::new_err(e.to_string())
        }
        _ => value_error(e),
    }
}

fn read_run(py: Python<'_>, dir: &Path) -> PyResult<Run> {
    let json = py.import("json")?;
    let text = |name: &str| -> PyResult<String> {
        let p = dir.join(name);
        std::fs::read_to_string(&p).map_err(|e| io_error(gp::error::Error::io(&p, e)))
    };
    let summary = match text("summary.json") {
        Ok(t) => json.call_method1("loads", (t,))?.unbind(),
        Err(_) if dir.join("config.toml").is_file() => py.None(),
        Err(e) => return Err(e),
    };
    let metrics = pyo3::types::PyList::empty(py);
    if let Ok(t) = text("metrics.jsonl") {
        for line in t.lines().filter(|l| !l.trim().is_empty()) {
            metrics.append(json.call_method1("loads", (line,))?)?;
        }
    }
    Ok(Run {
        dir: dir.to_path_buf(),
        summary,
        metrics: metrics.into_any().unbind(),
        initial: weights_dict(py, &dir.join("weights_init.safetensors"))?
            .into_any()
            .unbind(),
        final_: weights_dict(py, &dir.join("weights_final.safetensors"))?
            .into_any()
            .unbind(),
    })
}

#[pymethods]
impl Run {
    /// What `summary.json` holds (None for a run that has not finished).
    #[getter]
    fn summary(&self, py: Python<'_>) -> Py<PyAny> {
        self.summary.clone_ref(py)
    }
    /// Every record of `metrics.jsonl`, in order (a list of dicts).
    #[getter]
    fn metrics(&self, py: Python<'_>) -> Py<PyAny> {
        self.metrics.clone_ref(py)
    }
    /// The initial weights, by name (float32 arrays).
    #[getter]
    fn initial(&self, py: Python<'_>) -> Py<PyAny> {
        self.initial.clone_ref(py)
    }
    /// The final weights, by name (float32 arrays; empty until the run has finished).
    #[getter]
    #[pyo3(name = "final")]
    fn final_weights(&self, py: Python<'_>) -> Py<PyAny> {
        self.final_.clone_ref(py)
    }
    /// The metrics as a pandas DataFrame (pandas must be installed).
    fn to_pandas<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let pd = py.import("pandas").map_err(|_| {
            pyo3::exceptions::PyImportError::new_err("to_pandas() needs pandas: pip install pandas")
        })?;
        pd.call_method1("DataFrame", (self.metrics.clone_ref(py),))
    }
    fn __repr__(&self, py: Python<'_>) -> String {
        let n = self.metrics.bind(py).len().unwrap_or(0);
        format!("Run({}, {n} metric records)", self.dir.display())
    }
}

/// Reads any run folder that `geoplast train` wrote.
///
/// >>> run = geoplast.load_run("runs/mlp_fmnist_eg")
/// >>> run.summary["test_acc"], run.final["layers.0.weight"].shape
#[pyfunction]
fn load_run(py: Python<'_>, dir: std::path::PathBuf) -> PyResult<Run> {
    read_run(py, &dir)
}

/// A TOML value written as an override's right-hand side.
fn toml_literal(v: &Bound<'_, PyAny>, key: &str) -> PyResult<String> {
    let json: String = v
        .py()
        .import("json")?
        .call_method1("dumps", (v,))
        .and_then(|s| s.extract())
        .map_err(|_| {
            value_error(format!(
                "override {key:?}: the value is not a number, string, list or dict"
            ))
        })?;
    let value: toml::Value = serde_json::from_str(&json)
        .map_err(|_| value_error(format!("override {key:?}: TOML has no null; give a value")))?;
    Ok(value.to_string())
}

/// The progress a notebook sees: tqdm when installed, else a printed line every 5 s; and the
/// notebook's interrupt, checked at each report, which stops the run at its next update.
fn watcher(progress: bool) -> gp::train::hooks::Watcher {
    let bar: std::sync::Mutex<Option<Py<PyAny>>> = std::sync::Mutex::new(None);
    let last = std::sync::Mutex::new(std::time::Instant::now());
    gp::train::hooks::Watcher(std::sync::Arc::new(move |done, total| {
        Python::attach(|py| {
            if py.check_signals().is_err() {
                return false;
            }
            if progress {
                let mut bar = bar.lock().unwrap_or_else(|e| e.into_inner());
                if bar.is_none() {
                    *bar = py
                        .import("tqdm.auto")
                        .and_then(|m| m.getattr("tqdm"))
                        .and_then(|t| {
                            let kw = PyDict::new(py);
                            kw.set_item("total", total)?;
                            kw.set_item("desc", "updates")?;
                            t.call((), Some(&kw))
                        })
                        .ok()
                        .map(Bound::unbind);
                }
                match &*bar {
                    Some(b) => {
                        let b = b.bind(py);
                        let _ = b.setattr("n", done);
                        let _ = b.call_method0("refresh");
                        if done == total {
                            let _ = b.call_method0("close");
                        }
                    }
                    None => {
                        let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
                        if last.elapsed().as_secs() >= 5 || done == total {
                            *last = std::time::Instant::now();
                            let _ = py.import("builtins").and_then(|b| {
                                b.getattr("print")?
                                    .call1((format!("updates {done}/{total}"),))
                            });
                        }
                    }
                }
            }
            true
        })
    }))
}

/// Trains a config (a path to a TOML file, or a dict of the same tables) with `overrides`
/// (dotted keys, `{"optimizer.lr": 0.3}`, as on the command line) into `out` (default as
/// `geoplast train`: `runs/<config stem>/<overrides>`; `runs/config/…` for a dict), and returns
/// the run read back. The same seed gives the same weights as `geoplast train`. Interrupting
/// (Ctrl-C, a notebook's stop button) ends the run at its next update with its checkpoint kept,
/// then raises KeyboardInterrupt; continue it with `resume=True`.
///
/// >>> run = geoplast.train("experiments/mlp_fmnist_eg.toml", {"epochs": 1}, out="runs/py")
/// >>> run.summary["test_acc"]
#[pyfunction]
#[pyo3(signature = (config, overrides=None, out=None, progress=true, resume=false, overwrite=false))]
fn train(
    py: Python<'_>,
    config: &Bound<'_, PyAny>,
    overrides: Option<&Bound<'_, PyDict>>,
    out: Option<std::path::PathBuf>,
    progress: bool,
    resume: bool,
    overwrite: bool,
) -> PyResult<Run> {
    // A dict becomes a TOML file named config.toml in a private folder.
    let _tmp;
    let path = if let Ok(d) = config.cast::<PyDict>() {
        let json: String = py.import("json")?.call_method1("dumps", (d,))?.extract()?;
        let value: toml::Value = serde_json::from_str(&json)
            .map_err(|e| value_error(format!("config: {e} (TOML has no null)")))?;
        let text = toml::to_string(&value).map_err(value_error)?;
        let dir = std::env::temp_dir().join(format!(
            "geoplast-config-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        std::fs::create_dir_all(&dir).map_err(|e| io_error(gp::error::Error::io(&dir, e)))?;
        let p = dir.join("config.toml");
        std::fs::write(&p, text).map_err(|e| io_error(gp::error::Error::io(&p, e)))?;
        _tmp = Some(dir);
        p
    } else {
        _tmp = None;
        config
            .extract::<std::path::PathBuf>()
            .map_err(|_| value_error("config must be a path to a TOML file or a dict"))?
    };
    let mut ov = Vec::new();
    if let Some(d) = overrides {
        for (k, v) in d.iter() {
            let key: String = k
                .extract()
                .map_err(|_| value_error("overrides: every key must be a dotted str"))?;
            let arg = format!("{key}={}", toml_literal(&v, &key)?);
            ov.push(gp::train::overrides::Override::parse(&arg).map_err(value_error)?);
        }
    }
    if resume && out.is_none() {
        return Err(value_error(
            "resume=True needs out=, the run folder to continue",
        ));
    }
    let opts = gp::train::RunOptions {
        out: out.clone().filter(|_| !resume),
        resume: out.filter(|_| resume),
        overwrite,
        quiet: true,
        overrides: ov,
        no_signal_handler: true,
        watcher: Some(watcher(progress)),
        ..Default::default()
    };
    gp::train::hooks::clear_stop();
    let outcome = py
        .detach(|| gp::train::run_cli(&path, &opts))
        .map_err(io_error);
    if let Some(dir) = &_tmp {
        let _ = std::fs::remove_dir_all(dir);
    }
    let outcome = outcome?;
    let run = read_run(py, &outcome.run_dir)?;
    if outcome.stopped {
        gp::train::hooks::clear_stop();
        return Err(pyo3::exceptions::PyKeyboardInterrupt::new_err(format!(
            "stopped after update {}; the checkpoint is kept: continue with \
             geoplast.train(config, out={:?}, resume=True)",
            outcome.updates,
            outcome.run_dir.display().to_string()
        )));
    }
    Ok(run)
}

#[pymodule]
#[pyo3(name = "geoplast")]
fn geoplast_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(geometry, m)?)?;
    m.add_function(wrap_pyfunction!(fit, m)?)?;
    m.add_function(wrap_pyfunction!(train, m)?)?;
    m.add_function(wrap_pyfunction!(load_run, m)?)?;
    m.add_class::<GeometryResult>()?;
    m.add_class::<Run>()?;
    let p = PyModule::new(m.py(), "potentials")?;
    p.add_function(wrap_pyfunction!(potentials::value, &p)?)?;
    p.add_function(wrap_pyfunction!(potentials::mirror, &p)?)?;
    p.add_function(wrap_pyfunction!(potentials::inverse, &p)?)?;
    p.add_function(wrap_pyfunction!(potentials::hessian, &p)?)?;
    p.add_function(wrap_pyfunction!(potentials::bregman, &p)?)?;
    m.add_submodule(&p)?;
    // `import geoplast.potentials` finds the submodule too.
    m.py()
        .import("sys")?
        .getattr("modules")?
        .set_item("geoplast.potentials", &p)?;
    Ok(())
}

"""The potentials on numpy arrays, and training from Python against `geoplast train`: the same
config and seed give the same final weights; a run folder reads back; an interrupt stops a run
with its checkpoint, and the resumed run ends with the weights of one never stopped; errors are
Python exceptions with the CLI's sentences."""

import json
import os
import signal
import subprocess
import threading

import numpy as np
import pytest

import geoplast

BIN = os.environ.get("GEOPLAST_BIN", os.path.join(os.path.dirname(__file__), "../../target/debug/geoplast"))

POTENTIALS = ["ne", "euclid", "p1.5", "p3", "hyp0.1"]


@pytest.mark.parametrize("name", POTENTIALS)
def test_each_potential_inverts_and_its_hessian_and_bregman_agree(name):
    P = geoplast.potentials
    rng = np.random.default_rng(1)
    w = np.exp(rng.normal(-1.0, 0.8, (4, 25)))  # positive, so negative entropy is defined
    u = P.mirror(w, name)
    assert u.shape == w.shape
    np.testing.assert_allclose(P.inverse(u, name, sign=1.0), w, rtol=1e-12)
    # φ'' is the derivative of ψ.
    h = 1e-6 * w
    fd = (P.mirror(w + h, name) - P.mirror(w - h, name)) / (2 * h)
    np.testing.assert_allclose(P.hessian(w, name), fd, rtol=1e-5)
    # D(w, w') = φ(w) − φ(w') − ψ(w')(w − w') ≥ 0, and 0 at w = w'.
    v = w[::-1, ::-1].copy()
    d = P.bregman(w, v, name)
    want = P.value(w, name) - P.value(v, name) - P.mirror(v, name) * (w - v)
    np.testing.assert_allclose(d, want, rtol=1e-9, atol=1e-12)
    assert (d >= -1e-12).all()
    np.testing.assert_allclose(P.bregman(w, w, name), 0.0, atol=1e-12)


def test_potential_errors_name_the_fix():
    P = geoplast.potentials
    with pytest.raises(ValueError, match="unknown candidate"):
        P.mirror(np.ones(3), "quadratic")
    with pytest.raises(ValueError, match="needs the sign"):
        P.inverse(np.ones(3), "ne")
    with pytest.raises(ValueError, match="one shape"):
        P.bregman(np.ones(3), np.ones(4), "p2")
    with pytest.raises(ValueError, match="more than one potential"):
        P.mirror(np.ones(3), "ne,p2")
    # Negative weights under negative entropy: their own half-line.
    w = -np.array([0.5, 2.0])
    np.testing.assert_allclose(P.inverse(P.mirror(w, "ne"), "ne", sign=-1.0), w)


CONFIG = {
    "seed": 7,
    "updates": 150,
    "batch_size": 16,
    "log_every": 10,
    "eval_every": 50,
    "data": {"kind": "teacher", "inputs": 6, "outputs": 2, "noise": 0.05, "n_test": 100},
    "model": {"kind": "mlp", "hidden": [5]},
    "optimizer": {"lr": 0.05, "momentum": 0.9},
}

TOML = """seed = 7
updates = 150
batch_size = 16
log_every = 10
eval_every = 50
[data]
kind = "teacher"
inputs = 6
outputs = 2
noise = 0.05
n_test = 100
[model]
kind = "mlp"
hidden = [5]
[optimizer]
lr = 0.05
momentum = 0.9
"""


def cli_train(*args):
    out = subprocess.run([BIN, "train", *args], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_training_from_python_equals_the_command_line(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(TOML)
    cli_train(str(cfg), "optimizer.lr=0.1", "optimizer.potential.kind=negentropy", "--out", str(tmp_path / "cli"))
    overrides = {"optimizer.lr": 0.1, "optimizer.potential.kind": "negentropy"}
    for config in [str(cfg), CONFIG]:
        out = tmp_path / ("py-path" if isinstance(config, str) else "py-dict")
        run = geoplast.train(config, overrides, out=str(out), progress=False)
        want = geoplast.load_run(str(tmp_path / "cli"))
        assert run.final.keys() == want.final.keys()
        for k in want.final:
            np.testing.assert_array_equal(run.final[k], want.final[k])
            assert run.final[k].dtype == np.float32
        for k in want.initial:
            np.testing.assert_array_equal(run.initial[k], want.initial[k])
        assert run.summary["updates"] == 150
        lines = [json.loads(l) for l in (out / "metrics.jsonl").read_text().splitlines()]
        assert run.metrics == lines
        assert "Run(" in repr(run)
    try:
        import pandas  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pip install pandas"):
            run.to_pandas()
    else:
        assert len(run.to_pandas()) == len(run.metrics)


def test_training_errors_are_python_exceptions(tmp_path):
    with pytest.raises(FileNotFoundError):
        geoplast.train(str(tmp_path / "missing.toml"), out=str(tmp_path / "r"))
    with pytest.raises(ValueError, match="did you mean"):
        geoplast.train(CONFIG, {"optimizer.lrr": 0.1}, out=str(tmp_path / "r"))
    geoplast.train(CONFIG, out=str(tmp_path / "r"), progress=False)
    with pytest.raises(ValueError, match="already holds files"):
        geoplast.train(CONFIG, out=str(tmp_path / "r"), progress=False)
    geoplast.train(CONFIG, out=str(tmp_path / "r"), progress=False, overwrite=True)
    with pytest.raises(ValueError, match="needs out="):
        geoplast.train(CONFIG, resume=True)


def test_an_interrupt_stops_the_run_with_its_checkpoint_and_it_resumes(tmp_path):
    # About 100 µs per update here: the interrupt at 0.3 s lands well before the end.
    long = json.loads(json.dumps(CONFIG))
    long.update(updates=20_000, eval_every=5_000)
    long["data"]["inputs"] = 64
    long["model"]["hidden"] = [256]
    part, full = tmp_path / "part", tmp_path / "full"
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt, match="resume=True"):
            geoplast.train(long, out=str(part), progress=False)
    finally:
        timer.cancel()
    stopped = geoplast.load_run(str(part))
    assert stopped.summary is None and stopped.final == {}
    resumed = geoplast.train(long, out=str(part), progress=False, resume=True)
    fresh = geoplast.train(long, out=str(full), progress=False)
    assert resumed.summary["updates"] == 20_000
    for k in fresh.final:
        np.testing.assert_array_equal(resumed.final[k], fresh.final[k])

"""The Python package against the command line on the same inputs: the geometry report equals
`geoplast geometry --json`, the fit equals `geoplast fit --json`, and errors are ValueErrors
with the CLI's sentences."""

import json
import os
import subprocess

import numpy as np
import pytest

import geoplast

BIN = os.environ.get("GEOPLAST_BIN", os.path.join(os.path.dirname(__file__), "../../target/debug/geoplast"))


def cli(*args):
    out = subprocess.run([BIN, *args], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def eg_pairs(n, seed=0):
    rng = np.random.default_rng(seed)
    w0 = np.exp(rng.normal(-1.0, 0.7, n))
    return w0, w0 * np.exp(rng.normal(0.0, 0.1, n))


def test_geometry_equals_the_cli(tmp_path):
    w0, w1 = eg_pairs(3000)
    # %.17g round-trips every float64 exactly, so both sides see the same numbers.
    np.savetxt(tmp_path / "b.csv", w0, fmt="%.17g")
    np.savetxt(tmp_path / "a.csv", w1, fmt="%.17g")
    want = cli("geometry", "--before", str(tmp_path / "b.csv"), "--after", str(tmp_path / "a.csv"),
               "--bootstrap", "50", "--json")
    r = geoplast.geometry(w0, w1, bootstrap=50)
    assert r.to_dict() == want
    assert r.best == want["report"]["best"]
    assert r.ranking[0] == r.best
    assert set(r.indistinguishable) <= set(r.ranking)
    assert "best geometry" in repr(r)


def test_float32_and_strided_arrays_are_converted():
    w0, w1 = eg_pairs(2000)
    a = geoplast.geometry(w0, w1, candidates="ne,p2", bootstrap=0)
    b = geoplast.geometry(w0.astype(np.float32).astype(np.float64), w1.astype(np.float32).astype(np.float64),
                          candidates="ne,p2", bootstrap=0)
    c = geoplast.geometry(w0.astype(np.float32), w1.astype(np.float32), candidates="ne,p2", bootstrap=0)
    assert b.to_dict() == c.to_dict()
    strided = geoplast.geometry(np.repeat(w0, 2)[::2], np.repeat(w1, 2)[::2], candidates="ne,p2", bootstrap=0)
    assert strided.to_dict() == a.to_dict()


def test_named_tensors_pair_by_name():
    w0, w1 = eg_pairs(600)
    before = {"fc.weight": w0[:100], "layers.0.weight": w0[100:].reshape(50, 10)}
    after = {"fc.weight": w1[:100], "layers.0.weight": w1[100:].reshape(50, 10)}
    r = geoplast.geometry(before, after, exclude=["*fc*"], bootstrap=0)
    assert r.to_dict()["input"][0].startswith("paired 1 tensors by name (500 weights): layers.0.weight")


def test_fit_equals_the_cli(tmp_path):
    w = np.exp(np.random.default_rng(3).normal(-0.7, 0.9, 2000))
    np.savetxt(tmp_path / "w.csv", w, fmt="%.17g")
    assert geoplast.fit(w) == cli("fit", "--weights", str(tmp_path / "w.csv"), "--json")


@pytest.mark.parametrize(
    "call, needle",
    [
        (lambda: geoplast.geometry(np.ones(10), np.ones(5)), "must list the same synapses"),
        (lambda: geoplast.geometry(np.ones(10), np.full(10, np.nan)), "needs finite weights"),
        (lambda: geoplast.geometry(np.ones(10) * 1e300, np.ones(10) * 1e300), "magnitude outside"),
        (lambda: geoplast.geometry(*eg_pairs(100), candidates="p3:1.1:0.1"), "must run upwards"),
        (lambda: geoplast.geometry(np.ones(2), np.ones(2)), "at least 3"),
        (lambda: geoplast.geometry({"a": np.ones(5)}, np.ones(5)), "both be arrays or both be dicts"),
        (lambda: geoplast.fit(np.full(50, 0.5)), "zero variance"),
        (lambda: geoplast.fit(np.ones((3, 3))), "1-D array"),
        (lambda: geoplast.fit(["a", "b"]), "array of numbers"),
    ],
)
def test_errors_are_value_errors_with_the_sentence(call, needle):
    with pytest.raises(ValueError, match=needle):
        call()

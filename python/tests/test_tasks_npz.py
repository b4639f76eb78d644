"""`geoplast tasks sample` writes an `.npz` that numpy (and so PyTorch) reads as documented:
x float32 [T, B, in], y int64, mask bool and task int32 [T, B], and the task names."""

import os
import subprocess

import numpy as np

BIN = os.environ.get("GEOPLAST_BIN", os.path.join(os.path.dirname(__file__), "../../target/debug/geoplast"))


def sample(tmp_path, *args):
    out = tmp_path / "s.npz"
    subprocess.run([BIN, "tasks", "sample", *args, "--out", str(out), "--overwrite"], check=True, capture_output=True)
    return np.load(out)


def test_modcog_window_layout(tmp_path):
    d = sample(tmp_path, "modcog", "--batch", "8", "--steps", "350", "--seed", "7")
    assert d["x"].dtype == np.float32 and d["x"].shape == (350, 8, 115)
    assert d["y"].dtype == np.int64 and d["mask"].dtype == np.bool_ and d["task"].dtype == np.int32
    assert d["y"].shape == d["mask"].shape == d["task"].shape == (350, 8)
    assert len(d["task_names"]) == 82 and d["task_names"][0] == "go" and d["task_names"][81] == "dmcseql"
    x, task = d["x"], d["task"]
    # The rule one-hot of the current task at every step, no training noise without --noise.
    rule = x[:, :, 33:]
    assert np.array_equal(rule.argmax(-1), task) and np.all(rule.sum(-1) == 1.0)
    # Decision steps are where the clean fixation input is 0; the label is 0 elsewhere.
    assert np.all(d["y"][~d["mask"]] == 0) and np.all(d["y"][d["mask"]] >= 1)


def test_noise_and_seeds(tmp_path):
    a = sample(tmp_path, "go_no_go", "--batch", "4", "--steps", "50", "--seed", "1")["x"]
    b = sample(tmp_path, "go_no_go", "--batch", "4", "--steps", "50", "--seed", "1")["x"]
    c = sample(tmp_path, "go_no_go", "--batch", "4", "--steps", "50", "--seed", "1", "--noise")["x"]
    assert a.shape == (50, 4, 3) and np.array_equal(a, b)
    # E2's training noise: N(0, 0.1²) on every element.
    assert abs(np.std(c - a) - 0.1) < 0.01

"""An `.npz` of sequences written by numpy (time first, as `torch.nn.RNN` and NeuroGym use) trains
a recurrent network with `geoplast train`: per-step labels with a decision mask (E2's loss) and
a `loss_mask`, and last-step regression values; `geoplast.train` reports Dec Acc."""

import json
import os
import subprocess

import numpy as np

import geoplast

BIN = os.environ.get("GEOPLAST_BIN", os.path.join(os.path.dirname(__file__), "../../target/debug/geoplast"))


def decision_task(n, seed):
    """Fixation for 6 steps, a stimulus of sign s in steps 1-5, the choice in the last 3."""
    rng = np.random.default_rng(seed)
    s = rng.choice([-1.0, 1.0], n)
    x = np.zeros((9, n, 3), np.float32)
    x[:6, :, 0] = 1.0
    x[1:6, :, 1] = 0.5 * s
    y = np.zeros((9, n), np.int64)
    y[6:] = np.where(s > 0, 1, 2)
    mask = np.zeros((9, n), bool)
    mask[6:] = True
    # The first step does not count at all.
    loss_mask = np.ones((9, n), bool)
    loss_mask[0] = False
    return dict(x=x, y=y, mask=mask, loss_mask=loss_mask)


CONFIG = """
seed = 5
epochs = 100
batch_size = 20
[data]
kind = "npz"
path = "{train}"
test = "{test}"
[model]
kind = "rnn"
hidden = [32]
activation = "tanh"
[optimizer]
lr = 0.1
momentum = 0.9
[loss]
label_smoothing = 0.1
"""


def test_a_numpy_written_decision_task_is_learned(tmp_path):
    np.savez(tmp_path / "train.npz", **decision_task(200, 1))
    np.savez(tmp_path / "test.npz", **decision_task(100, 2))
    cfg = tmp_path / "c.toml"
    cfg.write_text(CONFIG.format(train=tmp_path / "train.npz", test=tmp_path / "test.npz"))
    run = geoplast.train(str(cfg), out=str(tmp_path / "run"), progress=False)
    last = [m for m in run.metrics if "test_dec_acc" in m][-1]
    assert last["test_dec_acc"] > 90.0, last
    assert run.summary["test_acc"] > 90.0, run.summary
    # The readout's tensors are PyTorch's.
    assert {"rnn.weight_hh_l0", "readout.weight"} <= set(run.final)


def test_last_step_regression_values(tmp_path):
    # The adding problem in miniature: the sum of the two marked values, read at the last step.
    rng = np.random.default_rng(4)
    T, n = 10, 1000
    x = np.zeros((T, n, 2), np.float32)
    x[:, :, 0] = rng.uniform(0, 1, (T, n))
    a, b = rng.integers(0, T // 2, n), rng.integers(T // 2, T, n)
    x[a, np.arange(n), 1] = 1.0
    x[b, np.arange(n), 1] = 1.0
    y = (x[a, np.arange(n), 0] + x[b, np.arange(n), 0])[:, None].astype(np.float32)
    np.savez(tmp_path / "add.npz", x=x, y=y)
    cfg = tmp_path / "a.toml"
    cfg.write_text(
        CONFIG.format(train=tmp_path / "add.npz", test="")
        .replace('test = ""', "validation = 0.2")
        .replace("epochs = 100", "epochs = 40")
        .replace("[loss]\nlabel_smoothing = 0.1\n", "")
        .replace('activation = "tanh"', 'activation = "relu"')
        .replace("lr = 0.1", "lr = 0.01\nclip_norm = 1.0")
    )
    r = subprocess.run([BIN, "train", str(cfg), "--out", str(tmp_path / "run")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    s = json.loads((tmp_path / "run" / "summary.json").read_text())
    # Predicting the mean gives MSE ≈ 1/6; a network that reads the marks does better.
    assert s["test_acc"] is None
    assert s["test_loss"] < 0.1, s

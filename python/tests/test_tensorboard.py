"""The TensorBoard event files of a training run, read back with the `tensorboard` package's own
event reader: every number of metrics.jsonl appears under its key as tag, at its step, with its
value (as float32), and nothing else; also for a run stopped and resumed, where no step may
appear twice."""

import json
import os
import subprocess

import pytest

event_accumulator = pytest.importorskip(
    "tensorboard.backend.event_processing.event_accumulator",
    reason="the tensorboard package is not installed (CI installs it)",
)
np = pytest.importorskip("numpy")

BIN = os.environ.get("GEOPLAST_BIN", os.path.join(os.path.dirname(__file__), "../../target/debug/geoplast"))

CONFIG = """
seed = 5
updates = 120
batch_size = 16
log_every = 7
eval_every = 30
[data]
kind = "teacher"
inputs = 6
outputs = 2
noise = 0.05
n_test = 100
[model]
kind = "mlp"
hidden = [4]
[optimizer]
lr = 0.05
momentum = 0.9
clip_norm = 5.0
"""


def train(*args):
    out = subprocess.run([BIN, "train", *args], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def scalars(run):
    acc = event_accumulator.EventAccumulator(str(run / "tb"), size_guidance={event_accumulator.SCALARS: 0})
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def expected(run):
    want = {}
    for line in (run / "metrics.jsonl").read_text().splitlines():
        rec = json.loads(line)
        for key, value in rec.items():
            if key in ("step", "epoch") or value is None:
                continue
            want.setdefault(key, []).append((rec["step"], float(np.float32(value))))
    return want


def test_event_files_hold_the_logged_scalars_once_also_after_a_resume(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(CONFIG)
    full, part = tmp_path / "full", tmp_path / "part"
    train(str(cfg), "--out", str(full))
    got = scalars(full)
    assert got == expected(full)
    assert {"loss", "lr", "grad_norm", "test_loss", "train_loss"} <= set(got)
    # A run killed after it logged updates its checkpoint does not hold: stopped at update 50,
    # with the checkpoint put back to its previous generation (update 30), as if the kill came
    # before the last checkpoint was written. The resume cuts the log and the events back to
    # update 30 and writes every later step once.
    train(str(cfg), "--out", str(part), "--stop-after", "50")
    (part / "checkpoint.prev.safetensors").replace(part / "checkpoint.safetensors")
    assert max(s for s, _ in scalars(part)["loss"]) > 30
    train(str(cfg), "--resume", str(part))
    got = scalars(part)
    assert got == expected(part)
    for tag, points in got.items():
        steps = [s for s, _ in points]
        assert steps == sorted(set(steps)), f"{tag}: a step appears twice"
    assert [s for s, _ in got["loss"]] == [s for s, _ in scalars(full)["loss"]]

"""Writes the PyTorch side of tests/rnn_torch.rs (run in a throwaway venv with torch, numpy
and safetensors; never in CI, which compares with the files this script committed).

For each fixture run (dense: EG with split biases; colei: column-EI, EG), its
`weights_torch.safetensors` is loaded as it is, with `load_state_dict(strict=True)`, into
`torch.nn.RNN(nonlinearity="relu", batch_first=False)` + `torch.nn.Linear`, and the readout of
every step on a fixed batch is written to `out_{name}.npy`. The batch (`batch.npy`, [T, B, in])
is drawn here from a seeded numpy generator.

    python tests/golden/torch_rnn/make.py
"""

from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file

HERE = Path(__file__).parent


class Net(torch.nn.Module):
    def __init__(self, inputs, hidden, outputs):
        super().__init__()
        self.rnn = torch.nn.RNN(inputs, hidden, nonlinearity="relu")
        self.readout = torch.nn.Linear(hidden, outputs)

    def forward(self, x):
        r, _ = self.rnn(x)
        return self.readout(r)


def main():
    rng = np.random.default_rng(3)
    x = rng.uniform(0.0, 1.0, size=(8, 4, 8)).astype(np.float32)
    np.save(HERE / "batch.npy", x)
    for name in ["dense", "colei"]:
        state = load_file(HERE / name / "weights_torch.safetensors")
        hidden, inputs = state["rnn.weight_ih_l0"].shape
        outputs = state["readout.weight"].shape[0]
        net = Net(inputs, hidden, outputs)
        net.load_state_dict(state, strict=True)
        with torch.no_grad():
            y = net(torch.from_numpy(x)).numpy().astype(np.float64)
        np.save(HERE / f"out_{name}.npy", y.reshape(-1, outputs))
        print(name, y.shape, float(np.abs(y).mean()))


if __name__ == "__main__":
    main()

"""NeuroGym's side of the task-generation benchmark (bench/compare_tasks.sh): batches of 16
streams x 100 steps through `neurogym.Dataset`, the way NeuroGym users feed a network, for the
two tasks both libraries have. Prints `name_16x100_ms: median` lines (ms per batch).

`Dataset` generates a cache of batches at once and then serves slices of it, so a single call
is either nearly free or a whole refill: the time per batch is the mean over blocks of 400
calls (25 or more refills each), and the median over 5 blocks is printed.

Throwaway venv only (never CI): python3 -m venv /tmp/ng && /tmp/ng/bin/pip install neurogym torch
"""

import time
import warnings

import neurogym as ngym
import numpy as np

warnings.filterwarnings("ignore")

TASKS = {
    "perceptual_decision_making": ("PerceptualDecisionMaking-v0", {}),
    # geoplast runs this task at dt = 50 (its 750 ms stimulus is not a multiple of 100).
    "context_integration": ("ContextDecisionMaking-v0", {"dt": 50, "use_expl_context": True}),
}

for name, (env_id, kwargs) in TASKS.items():
    ds = ngym.Dataset(env_id, env_kwargs=kwargs, batch_size=16, seq_len=100)
    for _ in range(20):
        ds()
    blocks = []
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(400):
            ds()
        blocks.append((time.perf_counter() - t) * 1e3 / 400)
    print(f"{name}_16x100_ms: {np.median(blocks):.4f}")

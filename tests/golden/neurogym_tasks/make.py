"""Per-task statistics of NeuroGym's own task implementations, the reference that
tests/tasks.rs compares geoplast's tasks with (within sampling error).

Run in a throwaway venv (never in CI):

    python3 -m venv /tmp/ng && /tmp/ng/bin/pip install neurogym
    /tmp/ng/bin/python tests/golden/neurogym_tasks/make.py

For each task, over N trials drawn with `env.new_trial()`: the mean trial length (steps), the
mean input of every channel in every period (with the sd of the per-trial means, for the
tolerance) and the histogram of the target class over all steps. Written to stats.json.
"""

import json
import os

import neurogym as ngym
import numpy as np

N = 2000
HERE = os.path.dirname(os.path.abspath(__file__))

# geoplast name -> (NeuroGym id, kwargs)
TASKS = {
    "perceptual_decision_making": ("PerceptualDecisionMaking-v0", {}),
    "context_integration": ("ContextDecisionMaking-v0", {"dt": 50, "use_expl_context": True}),
    "delayed_match_to_sample": ("DelayMatchSample-v0", {}),
    "go_no_go": ("GoNogo-v0", {}),
    "go": ("yang19.go-v0", {}),
    "rtgo": ("yang19.rtgo-v0", {}),
    "dlygo": ("yang19.dlygo-v0", {}),
    "anti": ("yang19.anti-v0", {}),
    "rtanti": ("yang19.rtanti-v0", {}),
    "dlyanti": ("yang19.dlyanti-v0", {}),
}


def inner(env):
    """The TrialEnv that drew the last trial (ScheduleEnvs holds one per modality)."""
    e = env
    while True:
        if hasattr(e, "envs") and hasattr(e, "i_env"):
            e = e.envs[e.i_env]
        elif hasattr(e, "start_ind") and hasattr(e, "ob"):
            return e
        else:
            e = e.env


def stats(env_id, kwargs):
    env = ngym.make(env_id, **kwargs)
    env.reset(seed=1)
    lengths, per_period, classes = [], {}, {}
    for _ in range(N):
        env.new_trial()
        e = inner(env)
        ob, gt = np.asarray(e.ob, dtype=float), np.asarray(e.gt).astype(int)
        lengths.append(len(ob))
        for p in e.start_ind:
            s, t = e.start_ind[p], e.end_ind[p]
            if t > s:
                per_period.setdefault(p, []).append(ob[s:t].mean(axis=0))
        for c, k in zip(*np.unique(gt, return_counts=True)):
            classes[int(c)] = classes.get(int(c), 0) + int(k)
    total = sum(classes.values())
    return {
        "neurogym_id": env_id,
        "kwargs": kwargs,
        "trials": N,
        "mean_steps": float(np.mean(lengths)),
        "sd_steps": float(np.std(lengths)),
        "periods": {
            p: {
                "mean": np.mean(v, axis=0).tolist(),
                "sd": np.std(v, axis=0).tolist(),
                "trials": len(v),
            }
            for p, v in per_period.items()
        },
        "class_fraction": {str(c): k / total for c, k in sorted(classes.items())},
    }


out = {"neurogym_version": ngym.__version__, "tasks": {}}
for name, (env_id, kwargs) in TASKS.items():
    out["tasks"][name] = stats(env_id, kwargs)
    print(name, out["tasks"][name]["mean_steps"])
with open(os.path.join(HERE, "stats.json"), "w") as f:
    json.dump(out, f, indent=1)

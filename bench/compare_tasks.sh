#!/usr/bin/env bash
# Task generation, geoplast against NeuroGym, in one run: median ms per batch of 16 streams x 100
# steps for the tasks both have, and geoplast's Mod-Cog windows. NeuroGym comes from a throwaway
# venv (VENV, default /tmp/ng, with `pip install neurogym torch`); CI never runs this.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-/tmp/ng}
ROUNDS=${ROUNDS:-3}
cargo bench --bench task_stream --no-run >/dev/null 2>&1
cargo bench --bench rnn_step --no-run >/dev/null 2>&1
bin=$(ls -t target/release/deps/task_stream-* | grep -v '\.d$' | head -1)
rnn=$(ls -t target/release/deps/rnn_step-* | grep -v '\.d$' | head -1)
for r in $(seq "$ROUNDS"); do
  "$bin" | sed "s/^/geoplast /"
  # The training step the CPU-scale Mod-Cog runs take (H = 256, B = 64, T = 350, 2 threads).
  GEOPLAST_BENCH_ONLY=b "$rnn" | grep '^rnn_b_h256_b64_t350_step_ms' | sed "s/^/geoplast /"
  "$VENV/bin/python" bench/tasks_neurogym.py | sed "s/^/neurogym /"
done | tee /tmp/compare_tasks.txt
python3 - <<'PY'
import collections, statistics
v = collections.defaultdict(list)
for line in open("/tmp/compare_tasks.txt"):
    who, key, val = line.split()
    v[(who, key.rstrip(":"))].append(float(val))
med = {k: statistics.median(x) for k, x in v.items()}
for (who, key), m in sorted(med.items()):
    print(f"{who:9s} {key:40s} {m:10.4f}")
for task in ["perceptual_decision_making", "context_integration"]:
    k = f"{task}_16x100_ms"
    g, n = med[("geoplast", k)], med[("neurogym", k)]
    print(f"{task}: geoplast {g:.4f} ms, NeuroGym {n:.3f} ms per 16x100 batch: {n / g:.0f}x")
gen, step = med[("geoplast", "modcog_64x350_noise_ms")], med[("geoplast", "rnn_b_h256_b64_t350_step_ms")]
print(f"Mod-Cog batch 64 x 350 with noise: {gen:.2f} ms = {100 * gen / step:.1f} % of a {step:.1f} ms training step")
PY

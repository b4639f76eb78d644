"""The geometry test from Python on in-memory float64 arrays (the package's speed comparison):
    python bench/geometry_python.py PAIRS.npy [ROUNDS]   # prints the median seconds"""
import sys
import time

import numpy as np

import geoplast

pairs = np.load(sys.argv[1])
rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
w0, w1 = np.ascontiguousarray(pairs[:, 0]), np.ascontiguousarray(pairs[:, 1])
times = []
for _ in range(rounds):
    start = time.perf_counter()
    r = geoplast.geometry(w0, w1)
    times.append(time.perf_counter() - start)
    print(f"best {r.best} in {times[-1]:.2f} s", file=sys.stderr)
print(f"median {sorted(times)[rounds // 2]:.2f} s over {rounds} rounds")

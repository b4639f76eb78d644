"""What the PyTorch sides of the benchmarks share: 2 threads everywhere (set before torch loads),
the repetition count, and the median time of a warmed-up function."""
import os
import time

for _v in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_v, "2")
import torch  # noqa: E402

torch.set_num_threads(2)


def reps(default):
    return int(os.environ.get("GEOPLAST_BENCH_REPS", str(default)))


def median_ms(f, reps, warmup=10):
    for _ in range(warmup):
        f()
    t = []
    for _ in range(reps):
        s = time.perf_counter()
        f()
        t.append((time.perf_counter() - s) * 1e3)
    return sorted(t)[len(t) // 2]

"""A straightforward numpy implementation of the paired geometry statistic (uncentred ΔCDF for
the default candidates: NE, p = 1.1…3.0, hypentropy at 5 β), for timing against geoplast.

    python3 bench/geometry_numpy.py make PAIRS.npy 10000000   # synthetic pairs (synapses × 2)
    python3 bench/geometry_numpy.py run PAIRS.npy             # prints the best candidate and time
"""
import sys
import time
import numpy as np
from math import erf, sqrt

GRID = -5 + 10 * np.arange(1000) / 999
PHI = np.array([0.5 * (1 + erf(x / sqrt(2))) for x in GRID])


def delta_cdf(d):
    z = np.sort(d / d.std(ddof=1))
    f = np.searchsorted(z, GRID, side="left") / len(z)
    return float(np.abs(f - PHI).sum() * (10 / 999))


def psi(name, w):
    if name == "NE":
        return np.sign(w) * (np.log(np.abs(w)) + 1)
    if name.startswith("hyp"):
        return np.arcsinh(w / float(name[3:]))
    p = float(name[1:])
    return np.sign(w) * np.abs(w) ** (p - 1)


def main():
    if sys.argv[1] == "make":
        n = int(sys.argv[3])
        rng = np.random.default_rng(0)
        w0 = np.exp(rng.normal(-3, 0.6, n)) * rng.choice([-1.0, 1.0], n)
        w1 = w0 * np.exp(0.05 * rng.normal(size=n))
        np.save(sys.argv[2], np.stack([w0, w1], axis=1))
        return
    pairs = np.load(sys.argv[2])
    t = time.perf_counter()
    w0, w1 = pairs[:, 0], pairs[:, 1]
    med = np.median(np.abs(w0))
    cands = ["NE"] + [f"p{k / 10}" for k in range(11, 31)] + [f"hyp{f * med}" for f in (0.01, 0.1, 1, 10, 100)]
    scores = {}
    for c in cands:
        d = psi(c, w1) - psi(c, w0)
        d = d[np.isfinite(d)]
        scores[c] = delta_cdf(d)
    best = min(scores, key=scores.get)
    print(f"best {best} ΔCDF {scores[best]:.5f}; numpy {time.perf_counter() - t:.2f} s for {len(w0)} pairs, {len(cands)} candidates")


main()

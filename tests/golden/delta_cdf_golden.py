"""Independent reference for tests/analysis_golden.rs.

Plain numpy/math, written from science.md §4.2 (not from the Rust code): the dual change, sd with
ddof=1, the literal ΔCDF (sort, count strictly-below with searchsorted) in both centrings, the
change magnitude, skewness/excess kurtosis and the KS distance. Run it to regenerate the constants.
"""
import math
import numpy as np

D = 64
i = np.arange(D, dtype=float)
w0 = 0.05 + 0.3 * np.abs(np.sin(0.7 * i + 0.3))
w1 = w0 * np.exp(0.2 * np.sin(1.3 * i) + 0.03)
grid = -5 + 10 * np.arange(1000) / 999
phi = np.array([0.5 * (1 + math.erf(x / math.sqrt(2))) for x in grid])


def psi(name, w):
    if name == "NE":
        return np.sign(w) * (np.log(np.abs(w)) + 1)
    p = float(name[1:])
    return np.sign(w) * np.abs(w) ** (p - 1)


def dcdf(z):
    s = np.sort(z)
    f = np.searchsorted(s, grid, side="left") / len(z)
    return float(np.sum(np.abs(f - phi)) * (10 / 999))


for name in ["NE", "p1.5", "p2", "p3"]:
    d = psi(name, w1) - psi(name, w0)
    sd = d.std(ddof=1)
    m = d.mean()
    unc = dcdf(d / sd)
    cen = dcdf((d - m) / sd)
    mag = np.linalg.norm(d) / np.linalg.norm(psi(name, w0))
    c = d - m
    skew = np.mean(c**3) / np.mean(c**2) ** 1.5
    kurt = np.mean(c**4) / np.mean(c**2) ** 2 - 3
    z = np.sort(d / sd)
    cdf = np.array([0.5 * (1 + math.erf(x / math.sqrt(2))) for x in z])
    ks = max(np.max(np.arange(1, D + 1) / D - cdf), np.max(cdf - np.arange(D) / D))
    print(f'("{name}", {unc!r}, {cen!r}, {float(mag)!r}, {float(m)!r}, {float(sd)!r}, {float(skew)!r}, {float(kurt)!r}, {float(ks)!r}),')

"""Independent reference for tests/optim_golden.rs.

Written from science.md §2 (not from the Rust code) in plain numpy float64. Run it with
`python3 tests/golden/optim_golden.py`; it prints the Rust arrays that the golden tests embed.
"""
import numpy as np

W0 = np.array([0.5, -0.3, 0.02, -1.2, 0.7])
GRADS = [np.array([0.2, -0.1, 0.05, 0.3, -0.4]),
         np.array([-0.1, 0.25, -0.02, 0.1, 0.15]),
         np.array([0.3, 0.05, 0.1, -0.2, -0.05])]


def sgd_family(mode, lr, mom, damp, nesterov, wd, clip=None, freeze=None, pnorm=None):
    w = W0.copy()
    buf = None
    for g in GRADS:
        g = g.copy()
        if clip is not None:
            n = np.sqrt(np.sum(g * g))
            if n > clip:
                g = g * clip / (n + 1e-6)
        s = np.sign(w)
        if mode == "eg":
            d = g + wd * s
        else:
            d = g + wd * w
        if mom > 0:
            buf = d.copy() if buf is None else mom * buf + (1 - damp) * d
            d = d + mom * buf if nesterov else buf
        if mode == "eg":
            w = w * np.exp(-lr * s * d)
        elif pnorm is not None:
            p = pnorm
            u = np.sign(w) * np.abs(w) ** (p - 1) - lr * d
            w = np.sign(u) * np.abs(u) ** (1 / (p - 1))
        else:
            w = w - lr * d
            if freeze is not None:
                crossed = s * w < 0
                w[crossed] = s[crossed] * freeze
    return w


def adamw_eg(lr, b1, b2, eps, wd, amsgrad, grads=GRADS):
    w = W0.copy()
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    vmax = np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        w = w * (1 - lr * wd)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        if amsgrad:
            vmax = np.maximum(vmax, v)
            vv = vmax
        else:
            vv = v
        bc1 = 1 - b1 ** t
        bc2 = 1 - b2 ** t
        w = w * np.exp(-(lr / bc1) * np.sign(w) * m / (np.sqrt(vv) / np.sqrt(bc2) + eps))
    return w


def show(name, w):
    print(f"const {name}: [f64; 5] = [{', '.join(repr(float(x)) for x in w)}];")


show("SGD_EG_MOMENTUM_SIGNED_WD", sgd_family("eg", 0.5, 0.9, 0.1, False, 0.01))
show("SGD_EG_NESTEROV_CLIPPED", sgd_family("eg", 0.5, 0.9, 0.0, True, 0.01, clip=0.3))
show("ADAMW_EG", adamw_eg(0.05, 0.9, 0.999, 1e-8, 0.01, False))
# A large first gradient makes v shrink afterwards, where AMSGrad differs from Adam.
DECAYING = [GRADS[0] * 10, GRADS[1], GRADS[2]]
show("ADAMW_EG_DECAYING", adamw_eg(0.05, 0.9, 0.999, 1e-8, 0.01, False, DECAYING))
show("ADAMW_EG_AMSGRAD", adamw_eg(0.05, 0.9, 0.999, 1e-8, 0.01, True, DECAYING))
show("PROJECTED_GD", sgd_family("gd", 2.0, 0.5, 0.0, False, 0.0, freeze=1e-18))
show("PNORM_1_5", sgd_family("gd", 0.1, 0.0, 0.0, False, 0.0, pnorm=1.5))
show("PNORM_3", sgd_family("gd", 0.1, 0.9, 0.0, False, 0.001, pnorm=3.0))

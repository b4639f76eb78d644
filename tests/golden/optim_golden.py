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


# Parameter groups: three parameters under three rules in one EG run, written from the pipeline
# of science.md §2 (raw gradients → global clipping over all groups → group transform → decay →
# momentum → geometry step), with a warm-up schedule whose first factor is 0.
GROUP_W = {
    "l.weight": W0,
    "l.w_ie": np.array([0.4, 0.05, 0.9]),
    "l.alpha": np.array([-0.3, -0.02]),
}
GROUP_GRADS = [
    {"l.weight": GRADS[k], "l.w_ie": np.array([0.3, -0.2, 0.1]) * (k + 1),
     "l.alpha": np.array([-0.5, -0.4]) * (2 - k)}
    for k in range(3)
]
# (mode, lr, momentum, weight decay, correction factor applied by the group's transform)
GROUP_RULES = {
    "l.weight": ("eg", 0.5, 0.9, 0.01, 1.0),  # [optimizer]: SGD-EG
    "l.w_ie": ("eg", 0.2, 0.9, 0.01, 0.5),  # group with dann_corrections (factor 0.5)
    "l.alpha": ("gd", 0.1, 0.9, 0.0, 1.0),  # α by GD inside the EG run
}


def warmup_factor(t, warmup=2):
    return t / warmup if t < warmup else 1.0


def grouped(clip=0.3):
    w = {k: v.copy() for k, v in GROUP_W.items()}
    buf = {}
    for t, grads in enumerate(GROUP_GRADS):
        norm = np.sqrt(sum(np.sum(g * g) for g in grads.values()))
        scale = clip / (norm + 1e-6) if norm > clip else 1.0
        for name, g in grads.items():
            mode, lr, mom, wd, corr = GROUP_RULES[name]
            g = g * scale * corr
            s = np.sign(w[name])
            d = g + wd * (s if mode == "eg" else w[name])
            buf[name] = d.copy() if name not in buf else mom * buf[name] + d
            d = buf[name]
            eta = lr * warmup_factor(t)
            w[name] = w[name] * np.exp(-eta * s * d) if mode == "eg" else w[name] - eta * d
    return np.concatenate([w["l.weight"], w["l.w_ie"], w["l.alpha"]])


def adam_projected(lr=0.5, b1=0.9, b2=0.999, eps=1e-8, wd=0.01, freeze=1e-18):
    """AdamW (Euclidean) with sign freeze: an element that crosses zero is reset to s·freeze."""
    w = W0.copy()
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    for t, g in enumerate(GRADS, start=1):
        s = np.sign(w)
        w = w * (1 - lr * wd)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w = w - (lr / (1 - b1 ** t)) * m / (np.sqrt(v) / np.sqrt(1 - b2 ** t) + eps)
        crossed = s * w < 0
        w[crossed] = s[crossed] * freeze
    return w


def show_n(name, w):
    print(f"const {name}: [f64; {len(w)}] = [{', '.join(repr(float(x)) for x in w)}];")


show_n("GROUPS_CLIPPED_WARMUP", grouped())
show_n("ADAMW_PROJECTED", adam_projected())

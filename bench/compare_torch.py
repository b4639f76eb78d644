"""The PyTorch side of bench/compare_torch.sh: the same measurements as `cargo bench --bench
train_step`, as `name: value` lines (medians in milliseconds, 2 threads).

Written as a careful PyTorch user would: `zero_grad(set_to_none=True)`, updates under
`torch.no_grad()`, and an EG update `w ← w·exp(−η·sign(w)·g)` that allocates nothing (one
preallocated buffer per parameter, in-place ops only), with warm-up before timing.
"""
from torch_common import median_ms, reps
import numpy as np  # noqa: E402
import torch  # noqa: E402

REPS = reps(50)


class EG:
    """SGD-EG without temporaries: buf = exp(−η·sign(w)·g), then w *= buf, all in place."""

    def __init__(self, params, lr):
        self.params = list(params)
        self.lr = lr
        self.bufs = [torch.empty_like(p) for p in self.params]

    @torch.no_grad()
    def step(self):
        for p, b in zip(self.params, self.bufs):
            torch.sign(p, out=b)
            b.mul_(p.grad).mul_(-self.lr).exp_()
            p.mul_(b)


net = torch.nn.Sequential(torch.nn.Linear(784, 500), torch.nn.ReLU(), torch.nn.Linear(500, 500),
                          torch.nn.ReLU(), torch.nn.Linear(500, 10))
x = torch.rand(128, 784)
y = torch.arange(128) % 10
lr = 0.01
opt = EG(net.parameters(), lr)


def step():
    net.zero_grad(set_to_none=True)
    torch.nn.functional.cross_entropy(net(x), y).backward()
    opt.step()


print(f"mlp_784_500_500_10_b128_eg_step_ms: {median_ms(step, REPS):.3f}")


class Dann(torch.nn.Module):
    """A divisive DANN layer (science.md §3), with a split bias as geoplast uses under EG."""

    def __init__(self, d, ne, ni):
        super().__init__()
        P = torch.nn.Parameter
        self.d, self.ne = d, ne
        self.wee = P(torch.rand(ne, d) * 0.05 + 1e-3)
        self.wie = P(torch.rand(ni, d) * 0.05 + 1e-3)
        self.wei = P(torch.full((ne, ni), 1.0 / ni))
        self.alpha = P(torch.full((ni,), -3.0))
        self.g = P(torch.ones(ne))
        self.b_pos = P(torch.full((ne,), 0.01))
        self.b_neg = P(torch.full((ne,), -0.01))

    def forward(self, x):
        ze, zi = x @ self.wee.T, x @ self.wie.T
        zhat = ze - zi @ self.wei.T
        gamma = (zi * self.alpha.exp()) @ self.wei.T + 1e-8
        return self.g * zhat / gamma + (self.b_pos + self.b_neg)

    @torch.no_grad()
    def correct(self):  # DANN's gradient corrections, in place
        self.wie.grad.div_(self.ne ** 0.5)
        self.wei.grad.div_(self.d)
        self.alpha.grad.div_(self.ne ** 0.5 * self.d)


dann = torch.nn.Sequential(Dann(784, 500, 50), torch.nn.ReLU(), Dann(500, 500, 50), torch.nn.ReLU(),
                           Dann(500, 10, 1))
dann_opt = EG(dann.parameters(), lr)


def dann_step():
    dann.zero_grad(set_to_none=True)
    torch.nn.functional.cross_entropy(dann(x), y).backward()
    for m in dann:
        if isinstance(m, Dann):
            m.correct()
    dann_opt.step()


print(f"dann_784_500_500_10_b128_eg_step_ms: {median_ms(dann_step, REPS):.3f}")
n = 10_000_000
w = torch.nn.Parameter(0.01 + (torch.arange(n) % 97).float() * 1e-4)
w.grad = ((torch.arange(n) % 13).float() - 6.0) * 1e-3
big = EG([w], 1e-3)
print(f"eg_update_10M_ms: {median_ms(big.step, 20):.3f}")
src, dst = torch.ones(n), torch.zeros(n)
print(f"copy_10M_ms: {median_ms(lambda: dst.copy_(src), 20):.3f}")

k = 1024
a, b, c = torch.rand(k, k), torch.rand(k, k), torch.empty(k, k)
print(f"gemm_1024_gflops_torch: {2 * k**3 / (median_ms(lambda: torch.matmul(a, b, out=c), 20) * 1e6):.1f}")
an, bn, cn = a.numpy(), b.numpy(), np.empty((k, k), np.float32)
print(f"gemm_1024_gflops_numpy: {2 * k**3 / (median_ms(lambda: np.matmul(an, bn, out=cn), 20) * 1e6):.1f}")

"""The PyTorch side of bench/compare_rnn.sh: the same RNN training steps as `cargo bench --bench
rnn_step` (torch.nn.RNN + Linear, cross-entropy, global clipping at 2.0, SGD-EG with momentum
0.925), as `name: median ms` lines, 2 threads.

Written as a careful user would: `zero_grad(set_to_none=True)`, `clip_grad_norm_` with its
foreach kernels, and an EG update that allocates nothing (preallocated buffers, in-place ops).
"""
from torch_common import median_ms, reps
import torch  # noqa: E402

REPS = reps(20)


class EGMomentum:
    """buf = μ·buf + g ; w ← w·exp(−η·sign(w)·buf), with one scratch buffer per parameter."""

    def __init__(self, params, lr, mu):
        self.params = list(params)
        self.lr, self.mu = lr, mu
        self.bufs = [torch.zeros_like(p) for p in self.params]
        self.tmp = [torch.empty_like(p) for p in self.params]

    @torch.no_grad()
    def step(self):
        for p, b, t in zip(self.params, self.bufs, self.tmp):
            b.mul_(self.mu).add_(p.grad)
            torch.sign(p, out=t)
            t.mul_(b).mul_(-self.lr).exp_()
            p.mul_(t)


def step_ms(inputs, hidden, batch, steps, classes, nonlinearity, every_step, reps):
    torch.manual_seed(1)
    rnn = torch.nn.RNN(inputs, hidden, nonlinearity=nonlinearity)
    readout = torch.nn.Linear(hidden, classes)
    params = list(rnn.parameters()) + list(readout.parameters())
    opt = EGMomentum(params, 0.01, 0.925)
    x = torch.rand(steps, batch, inputs) * 2 - 1
    rows = steps * batch if every_step else batch
    y = torch.arange(rows) % classes

    def step():
        for p in params:
            p.grad = None
        out, _ = rnn(x)
        h = out.reshape(-1, hidden) if every_step else out[-1]
        torch.nn.functional.cross_entropy(readout(h), y).backward()
        torch.nn.utils.clip_grad_norm_(params, 2.0)
        opt.step()

    return median_ms(step, reps, warmup=3)


print(f"rnn_b_h256_b64_t350_step_ms: {step_ms(115, 256, 64, 350, 17, 'relu', True, max(3, -(-REPS // 4))):.3f}")
print(f"rnn_c_h64_b16_t100_step_ms: {step_ms(16, 64, 16, 100, 10, 'tanh', False, REPS * 5):.3f}")

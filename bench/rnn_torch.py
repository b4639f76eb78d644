"""The PyTorch side of bench/compare_rnn.sh: the same RNN training steps as `cargo bench --bench
rnn_step` (global clipping at 2.0, SGD-EG with momentum 0.925), as `name: value` lines, 2
threads: (a) a column-EI RNN as a PyTorch user writes it, an explicit loop over steps with the
effective matrix |M|·S formed each step, cross-entropy at the last step; (b) torch.nn.RNN +
Linear with E2's loss (MSE towards class 0 outside the decisions + cross-entropy with smoothing
0.1 inside), and the process's peak resident memory after it; (c) a small torch.nn.RNN.

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


def batch(steps, b, inputs):
    return torch.rand(steps, b, inputs)


def e2_loss(logits, y, decision, classes):
    """Masked MSE towards one-hot(0) outside the decisions + smoothed CE inside (E2)."""
    fixate = torch.zeros_like(logits)
    fixate[:, 0] = 1.0
    outside = ~decision
    mse = ((logits[outside] - fixate[outside]) ** 2).mean()
    ce = torch.nn.functional.cross_entropy(logits[decision], y[decision], label_smoothing=0.1)
    return mse + ce


def step_ms(inputs, hidden, batch, steps, classes, nonlinearity, every_step, reps):
    torch.manual_seed(1)
    rnn = torch.nn.RNN(inputs, hidden, nonlinearity=nonlinearity)
    readout = torch.nn.Linear(hidden, classes)
    params = list(rnn.parameters()) + list(readout.parameters())
    opt = EGMomentum(params, 0.01, 0.925)
    x = torch.rand(steps, batch, inputs)
    rows = steps * batch if every_step else batch
    y = torch.arange(rows) % classes
    decision = (torch.arange(rows) // batch) >= steps * 9 // 10

    def step():
        for p in params:
            p.grad = None
        out, _ = rnn(x)
        if every_step:
            e2_loss(readout(out.reshape(-1, hidden)), y, decision, classes).backward()
        else:
            torch.nn.functional.cross_entropy(readout(out[-1]), y).backward()
        torch.nn.utils.clip_grad_norm_(params, 2.0)
        opt.step()

    return median_ms(step, reps, warmup=3)


def colei_step_ms(inputs, hidden, n_i, batch, steps, classes, reps):
    """Column-EI as an explicit loop: h_t = relu(x_t·W_inᵀ + b + h_{t−1}·(|M|·S)ᵀ)."""
    torch.manual_seed(1)
    w_in = torch.nn.Parameter(torch.rand(hidden, inputs) * 0.1)
    m = torch.nn.Parameter(torch.rand(hidden, hidden) * 0.05)
    bias = torch.nn.Parameter(torch.zeros(hidden))
    s = torch.ones(hidden)
    s[hidden - n_i:] = -1.0
    readout = torch.nn.Linear(hidden, classes)
    params = [w_in, m, bias] + list(readout.parameters())
    opt = EGMomentum(params, 0.01, 0.925)
    x = torch.rand(steps, batch, inputs)
    y = torch.arange(batch) % classes

    def step():
        for p in params:
            p.grad = None
        h = torch.zeros(batch, hidden)
        for t in range(steps):
            w_rec = m.abs() * s
            h = torch.relu(x[t] @ w_in.T + bias + h @ w_rec.T)
        torch.nn.functional.cross_entropy(readout(h), y).backward()
        torch.nn.utils.clip_grad_norm_(params, 2.0)
        opt.step()

    return median_ms(step, reps, warmup=3)


print(f"rnn_b_h256_b64_t350_step_ms: {step_ms(115, 256, 64, 350, 17, 'relu', True, max(3, -(-REPS // 4))):.3f}")
import resource  # noqa: E402

print(f"rnn_b_peak_rss_mb: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f}")
print(f"rnn_a_colei_h256_b128_t28_step_ms: {colei_step_ms(28, 256, 25, 128, 28, 10, REPS * 2):.3f}")
print(f"rnn_c_h64_b16_t100_step_ms: {step_ms(16, 64, 16, 100, 10, 'tanh', False, REPS * 5):.3f}")

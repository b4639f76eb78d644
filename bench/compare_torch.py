"""The PyTorch side of bench/compare_torch.sh: the same measurements as `cargo bench --bench
train_step`, as `name: value` lines (medians in milliseconds, 2 threads)."""
import time
import torch

torch.set_num_threads(2)


def median_ms(f, reps):
    for _ in range(3):
        f()
    t = []
    for _ in range(reps):
        s = time.perf_counter()
        f()
        t.append((time.perf_counter() - s) * 1e3)
    return sorted(t)[len(t) // 2]


net = torch.nn.Sequential(torch.nn.Linear(784, 500), torch.nn.ReLU(), torch.nn.Linear(500, 500),
                          torch.nn.ReLU(), torch.nn.Linear(500, 10))
x = torch.rand(128, 784)
y = torch.arange(128) % 10
lr = 0.01


def step():
    net.zero_grad(set_to_none=False)
    torch.nn.functional.cross_entropy(net(x), y).backward()
    with torch.no_grad():
        for p in net.parameters():  # SGD-EG: w <- w * exp(-lr * sign(w) * g)
            p.mul_(torch.exp(-lr * p.sign() * p.grad))


print(f"mlp_784_500_500_10_b128_eg_step_ms: {median_ms(step, 50):.3f}")
n = 10_000_000
w = 0.01 + (torch.arange(n) % 97).float() * 1e-4
g = ((torch.arange(n) % 13).float() - 6.0) * 1e-3
print(f"eg_update_10M_ms: {median_ms(lambda: w.mul_(torch.exp(-1e-3 * w.sign() * g)), 20):.3f}")
src, dst = torch.ones(n), torch.zeros(n)
print(f"copy_10M_ms: {median_ms(lambda: dst.copy_(src), 20):.3f}")

"""micrograd's demo as tensors: MLP(2, 16, 16, 1) on 50 points, SVM loss + L2, one SGD step.

Tiny matrices (50x16), about 20 ops per step: the cost is almost all per-op overhead, on a
graph shaped like a real (small) model rather than a flat chain.
"""

from __future__ import annotations

if __package__ in (None, ""):
    import common
else:
    from benchmarks import common

SIZES = (2, 16, 16, 1)
POINTS = 50
ALPHA = 1e-4  # L2 strength, as in micrograd's demo
LR = 0.05


def _data():
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.standard_normal((POINTS, 2)).astype(np.float32)
    y = np.where(x[:, 0] * x[:, 1] > 0, 1.0, -1.0).astype(np.float32)[:, None]  # XOR-like
    params = []
    for n_in, n_out in zip(SIZES[:-1], SIZES[1:]):
        params.append(rng.uniform(-1, 1, (n_out, n_in)).astype(np.float32))
        params.append(np.zeros(n_out, dtype=np.float32))
    return x, y, params


def _loss(lib, F_linear, params, x, y):
    """Shared text for both frameworks: ReLU hidden layers, linear output, hinge + L2."""
    h = x
    for k in range(0, len(params), 2):
        h = F_linear(h, params[k], params[k + 1])
        if k + 2 < len(params):
            h = h.relu()
    hinge = (1 - y * h).relu().mean()
    l2 = sum((p * p).sum() for p in params)
    return hinge + ALPHA * l2


def build_minigrad():
    import minigrad as mg

    x, y, values = _data()
    params = [mg.tensor(v, requires_grad=True) for v in values]
    xt, yt = mg.tensor(x), mg.tensor(y)

    def step():
        for p in params:
            p.grad = None
        _loss(mg, mg.linear, params, xt, yt).backward()
        with mg.no_grad():
            for p in params:
                p -= LR * p.grad

    return step


def build_torch():
    import torch
    import torch.nn.functional as F

    x, y, values = _data()
    params = [torch.tensor(v, requires_grad=True) for v in values]
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def step():
        for p in params:
            p.grad = None
        _loss(torch, F.linear, params, xt, yt).backward()
        with torch.no_grad():
            for p in params:
                p -= LR * p.grad

    return step


WORKLOAD = common.Workload(
    name="scalar_graph",
    description=__doc__.splitlines()[0],
    unit="ms/step",
    unit_scale=1e3,
    build_minigrad=build_minigrad,
    build_torch=build_torch,
    warmup=30,
    block=30,
    blocks=10,
)

if __name__ == "__main__":
    common.main(WORKLOAD)

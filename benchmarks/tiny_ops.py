"""Per-op overhead: a graph of 300 elementwise ops on 16-element float32 tensors, plus a sum.

The chain repeats (mul, tanh, exp, sub, add) 60 times; one step builds it, sums it and runs
backward into three leaves. With 16 elements the arithmetic is nothing, so the time per op is
the framework's own cost of recording an op and running its backward rule.
"""

from __future__ import annotations

if __package__ in (None, ""):
    import common  # run as a script: benchmarks/ is on sys.path
else:
    from benchmarks import common

N = 16
ROUNDS = 60  # 5 ops per round
OPS = 5 * ROUNDS + 1  # + the final sum


def _data():
    import numpy as np

    rng = np.random.default_rng(0)
    return [rng.uniform(-1, 1, N).astype(np.float32) for _ in range(3)]


def chain(x, a, b):
    """Works for both frameworks: only methods and operators they share."""
    h = x
    for _ in range(ROUNDS):
        h = (h * a).tanh()  # bounded, so exp never overflows however long the chain
        h = h.exp() - b
        h = h + x
    return h.sum()


def build_minigrad():
    import minigrad as mg

    x, a, b = (mg.tensor(v, requires_grad=True) for v in _data())

    def step():
        x.grad = a.grad = b.grad = None
        chain(x, a, b).backward()

    return step


def build_torch():
    import torch

    x, a, b = (torch.tensor(v, requires_grad=True) for v in _data())

    def step():
        x.grad = a.grad = b.grad = None
        chain(x, a, b).backward()

    return step


WORKLOAD = common.Workload(
    name="tiny_ops",
    description=__doc__.splitlines()[0],
    unit="µs/op",
    unit_scale=1e6,
    per=OPS,
    build_minigrad=build_minigrad,
    build_torch=build_torch,
    warmup=30,
    block=20,
    blocks=15,
    target=0.8,
)

if __name__ == "__main__":
    common.main(WORKLOAD)

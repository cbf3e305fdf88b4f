"""A 100,000-op chain: forward and backward, on 16-element float32 tensors (cost per op).

The chain repeats (mul, tanh, add) 33,333 times and sums; one step builds it and runs backward
into three leaves. Its cost per op beside tiny_ops' (300 ops) shows whether anything grows
faster than the graph: see long_chain_forward for the forward alone. The garbage collector
stays on here (common.py pauses it inside timed blocks for the other workloads), because what
it costs on a long-lived graph is part of what this workload measures.

`MINIGRAD_BENCH_CHAIN_OPS=10000 python benchmarks/run.py long_chain` runs another length (the
environment reaches the timing processes): the cost per op should not grow with it.
"""

from __future__ import annotations

import os

if __package__ in (None, ""):
    import common
else:
    from benchmarks import common

N = 16
ROUNDS = int(os.environ.get("MINIGRAD_BENCH_CHAIN_OPS", 100_000)) // 3  # 3 ops per round
OPS = 3 * ROUNDS + 1  # + the final sum
BLOCK = max(2, 200_000 // OPS)  # steps per timed block: ~0.5 s at any length


def _data():
    import numpy as np

    rng = np.random.default_rng(0)
    return [rng.uniform(-1, 1, N).astype(np.float32) for _ in range(3)]


def chain(x, a, b):
    """Works for both frameworks: only methods and operators they share."""
    h = x
    for _ in range(ROUNDS):
        h = (h * a).tanh() + b  # bounded: no overflow however long the chain
    return h.sum()


def _with_gc(step):
    import gc

    def timed_with_gc_on():
        gc.enable()
        try:
            step()
        finally:
            gc.disable()

    return timed_with_gc_on


def _builder(framework: str, backward: bool):
    def build():
        if framework == "minigrad":
            import minigrad as mg

            x, a, b = (mg.tensor(v, requires_grad=True) for v in _data())
        else:
            import torch

            x, a, b = (torch.tensor(v, requires_grad=True) for v in _data())

        def step():
            x.grad = a.grad = b.grad = None
            out = chain(x, a, b)
            if backward:
                out.backward()

        return _with_gc(step)

    return build


WORKLOAD = common.Workload(
    name="long_chain",
    description=f"{OPS:,}-op chain (mul, tanh, add) on 16-element float32 + sum, fwd+bwd",
    unit="µs/op",
    unit_scale=1e6,
    per=OPS,
    build_minigrad=_builder("minigrad", backward=True),
    build_torch=_builder("torch", backward=True),
    warmup=1,
    block=BLOCK,
    blocks=3,
    notes=["garbage collector on (see long_chain.py)"],
)

if __name__ == "__main__":
    common.main(WORKLOAD)

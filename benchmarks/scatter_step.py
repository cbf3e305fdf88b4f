"""scatter_step: index_add + scatter_add of 8192 x 64 float32 rows into 512 bags, fwd+bwd.

The pattern of nn.EmbeddingBag(mode='sum') and of sparse gradient accumulation: 8192 looked-up
rows (a leaf here, so the lookup itself is not timed) summed into 512 bags by `index_add` along
dim 0, and the same rows summed again by `scatter_add` with the index expanded over the columns;
a squared-sum loss and backward into the rows.
"""

from __future__ import annotations

if __package__ in (None, ""):
    import common  # run as a script: benchmarks/ is on sys.path
else:
    from benchmarks import common

N, D, BAGS = 8192, 64, 512


def _data():
    import numpy as np

    rng = np.random.default_rng(0)
    rows = rng.standard_normal((N, D)).astype(np.float32)
    bag = rng.integers(0, BAGS, N)
    return rows, bag


def step_of(lib, rows, bag, wide):
    def step():
        rows.grad = None
        bags = lib.zeros(BAGS, D).index_add(0, bag, rows)
        again = lib.zeros(BAGS, D).scatter_add(0, wide, rows)
        ((bags * bags).sum() + (again * again).sum()).backward()

    return step


def build_minigrad():
    import minigrad as mg

    rows, bag = _data()
    rows = mg.tensor(rows, requires_grad=True)
    wide = mg.tensor(bag[:, None].repeat(D, 1))
    return step_of(mg, rows, mg.tensor(bag), wide)


def build_torch():
    import torch

    rows, bag = _data()
    rows = torch.tensor(rows, requires_grad=True)
    wide = torch.tensor(bag[:, None].repeat(D, 1))
    return step_of(torch, rows, torch.tensor(bag), wide)


WORKLOAD = common.Workload(
    name="scatter_step",
    description=__doc__.splitlines()[0],
    unit="ms/step",
    unit_scale=1e3,
    build_minigrad=build_minigrad,
    build_torch=build_torch,
    warmup=5,
    block=5,
    blocks=6,
    target=1.5,
)

if __name__ == "__main__":
    common.main(WORKLOAD)

"""Distances and searching: cdist forward + backward (p=2 by matrix product, p=1.5 by differences)
plus searchsorted and unique on a few thousand elements.

One step: `cdist(a, b)` for a, b of 256 x 64 (PyTorch takes its matrix-product path there, as
minigrad does) and `cdist(c, d, p=1.5)` for 64 x 16 and 48 x 16, both summed with weights and
run backward; then `searchsorted` of 8 x 512 values into 8 sorted rows of 1024, and `unique` of
4096 small ints with inverse and counts. float32 throughout.
"""

from __future__ import annotations

if __package__ in (None, ""):
    import common  # run as a script: benchmarks/ is on sys.path
else:
    from benchmarks import common


def _data():
    import numpy as np

    rng = np.random.default_rng(0)
    f32 = np.float32
    return {
        "a": rng.standard_normal((256, 64)).astype(f32),
        "b": rng.standard_normal((256, 64)).astype(f32),
        "c": rng.standard_normal((64, 16)).astype(f32),
        "d": rng.standard_normal((48, 16)).astype(f32),
        "w2": rng.standard_normal((256, 256)).astype(f32),
        "wp": rng.standard_normal((64, 48)).astype(f32),
        "rows": np.sort(rng.standard_normal((8, 1024)).astype(f32), axis=-1),
        "values": rng.standard_normal((8, 512)).astype(f32),
        "ints": rng.integers(0, 300, 4096),
    }


def _builder(lib):
    def build():
        data = _data()
        leaves = {k: lib.tensor(data[k], requires_grad=True) for k in "abcd"}
        w2, wp = lib.tensor(data["w2"]), lib.tensor(data["wp"])
        rows, values, ints = (lib.tensor(data[k]) for k in ("rows", "values", "ints"))

        def step():
            for t in leaves.values():
                t.grad = None
            a, b, c, d = (leaves[k] for k in "abcd")
            loss = (lib.cdist(a, b) * w2).sum() + (lib.cdist(c, d, p=1.5) * wp).sum()
            loss.backward()
            lib.searchsorted(rows, values)
            lib.unique(ints, return_inverse=True, return_counts=True)

        return step

    return build


def build_minigrad():
    import minigrad as mg

    return _builder(mg)()


def build_torch():
    import torch

    return _builder(torch)()


WORKLOAD = common.Workload(
    name="distances_step",
    description=__doc__.splitlines()[0],
    unit="ms",
    unit_scale=1e3,
    build_minigrad=build_minigrad,
    build_torch=build_torch,
    warmup=5,
    block=5,
    blocks=6,
    target=2.0,
)

if __name__ == "__main__":
    common.main(WORKLOAD)

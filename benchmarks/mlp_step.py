"""One training step of an MLP 784-512-512-10 (ReLU) on a batch of 256, float32.

Forward, softmax cross-entropy, backward, Adam update. The work is three GEMMs forward and
five backward, so this measures how far the framework's Python layer and its elementwise
passes stay out of BLAS's way. Both frameworks run it written the same way, with their `nn`
and `optim`; with `--device cuda`, on the GPU (CuPy / PyTorch CUDA).
"""

from __future__ import annotations

if __package__ in (None, ""):
    import common
else:
    from benchmarks import common

SIZES = (784, 512, 512, 10)
BATCH = 256
LR = 1e-3


def _data():
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    y = rng.integers(0, SIZES[-1], BATCH)
    params = []
    for n_in, n_out in zip(SIZES[:-1], SIZES[1:]):
        bound = 1 / n_in**0.5  # PyTorch's nn.Linear default range
        params.append(rng.uniform(-bound, bound, (n_out, n_in)).astype(np.float32))
        params.append(rng.uniform(-bound, bound, n_out).astype(np.float32))
    return x, y, params


def _model(nn):
    layers = []
    for n_in, n_out in zip(SIZES[:-1], SIZES[1:]):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


def build_minigrad():
    import minigrad as mg

    x, y, params = _data()
    return common.adam_cross_entropy_step(mg, _model(mg.nn), params, x, y, LR)


def build_torch():
    import torch

    x, y, params = _data()
    return common.adam_cross_entropy_step(torch, _model(torch.nn), params, x, y, LR)


WORKLOAD = common.Workload(
    name="mlp_step",
    description=__doc__.splitlines()[0],
    unit="ms/step",
    unit_scale=1e3,
    build_minigrad=build_minigrad,
    build_torch=build_torch,
    warmup=10,
    block=10,
    blocks=10,
    target=1.2 if common.DEVICE == "cpu" else None,
    notes=["minigrad: nn + optim, written as for PyTorch"],
    devices=("cpu", "cuda"),
)

if __name__ == "__main__":
    common.main(WORKLOAD)

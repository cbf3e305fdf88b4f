"""One training step of a small CNN on a batch of 64 28x28 images, float32.

Conv2d(1, 16, 3, padding=1) - ReLU - MaxPool2d(2) - Conv2d(16, 32, 3, padding=1) - ReLU -
MaxPool2d(2) - Linear(32*7*7, 10), softmax cross-entropy, backward, Adam; the same layers in both
frameworks from the same initial weights. minigrad's convolutions are im2col GEMMs; PyTorch's
CPU kernels are its own (oneDNN/MKL).
"""

from __future__ import annotations

if __package__ in (None, ""):
    import common
else:
    from benchmarks import common

BATCH = 64
LR = 1e-3


def _data():
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, BATCH)
    return x, y


def _layers(nn):
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 10),
    )  # fmt: skip


def _weights():
    import minigrad as mg

    mg.manual_seed(0)
    return [p.detach().numpy().copy() for p in _layers(mg.nn).parameters()]


def build_minigrad():
    import minigrad as mg

    return common.adam_cross_entropy_step(mg, _layers(mg.nn), _weights(), *_data(), LR)


def build_torch():
    import torch

    return common.adam_cross_entropy_step(torch, _layers(torch.nn), _weights(), *_data(), LR)


WORKLOAD = common.Workload(
    name="cnn_step",
    description=__doc__.splitlines()[0],
    unit="ms/step",
    unit_scale=1e3,
    build_minigrad=build_minigrad,
    build_torch=build_torch,
    warmup=5,
    block=10,
    blocks=6,
    notes=["minigrad: nn.Conv2d/MaxPool2d (im2col GEMMs); torch: its CPU conv kernels"],
)

if __name__ == "__main__":
    common.main(WORKLOAD)

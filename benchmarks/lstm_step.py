"""One training step of a 2-layer LSTM (hidden 256) on 64 steps of a batch of 32, float32.

Input features 256, forward through both layers, MSE against a fixed target on every step's
output, backward through time, Adam update. The work is the per-step recurrent GEMMs
(32 x 256 times 256 x 1024, 128 of them forward and again backward) plus the gate arithmetic,
so this measures what the Python time loop costs beside PyTorch's C++ one.
"""

from __future__ import annotations

if __package__ in (None, ""):
    import common
else:
    from benchmarks import common

INPUT, HIDDEN, LAYERS, STEPS, BATCH = 256, 256, 2, 64, 32
LR = 1e-3


def _data():
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.standard_normal((STEPS, BATCH, INPUT)).astype(np.float32)
    y = rng.standard_normal((STEPS, BATCH, HIDDEN)).astype(np.float32)
    return x, y


def _build(lib):
    x, y = _data()
    lib.manual_seed(0)
    model = lib.nn.LSTM(INPUT, HIDDEN, num_layers=LAYERS)
    opt = lib.optim.Adam(model.parameters(), lr=LR)
    xt, yt = lib.from_numpy(x), lib.from_numpy(y)
    mse = lib.nn.functional.mse_loss

    def step():
        opt.zero_grad()
        output, _ = model(xt)
        loss = mse(output, yt)
        loss.backward()
        opt.step()

    return step


def build_minigrad():
    import minigrad as mg

    return _build(mg)


def build_torch():
    import torch

    return _build(torch)


WORKLOAD = common.Workload(
    name="lstm_step",
    description=__doc__.splitlines()[0],
    unit="ms/step",
    unit_scale=1e3,
    build_minigrad=build_minigrad,
    build_torch=build_torch,
    warmup=3,
    block=5,
    blocks=8,
    target=1.5,
    notes=["minigrad: nn.LSTM (one fused op per layer) + optim.Adam, written as for PyTorch"],
)

if __name__ == "__main__":
    common.main(WORKLOAD)

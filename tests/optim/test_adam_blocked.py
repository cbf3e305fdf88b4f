"""Adam/AdamW on NumPy update large parameters block by block (for cache locality): the result
must be bit-for-bit the update of the whole array at once, for every option."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim
from minigrad.optim import adam as adam_module


@pytest.mark.parametrize("cls", [optim.Adam, optim.AdamW])
@pytest.mark.parametrize(
    "options",
    [{}, {"weight_decay": 0.1}, {"amsgrad": True}, {"maximize": True, "weight_decay": 0.05}],
)
def test_blocked_update_equals_whole_array_update(cls, options, monkeypatch):
    monkeypatch.setattr(adam_module, "_threads", lambda: 2)  # whatever the machine has
    rng = np.random.default_rng(0)
    shape = (300, 250)  # 75,000 elements: more than one block of 65,536
    start = rng.standard_normal(shape).astype(np.float32)
    grads = [rng.standard_normal(shape).astype(np.float32) for _ in range(3)]

    def run(chunk: int) -> np.ndarray:
        monkeypatch.setattr(adam_module, "_CHUNK", chunk)
        p = mg.tensor(start.copy(), requires_grad=True)
        opt = cls([p], lr=1e-2, **options)
        for g in grads:
            p.grad = mg.tensor(g.T.copy().T)  # a Fortran-ordered gradient: read, never blocked
            opt.step()
        return p.detach().numpy()

    whole = run(1 << 30)
    blocked = run(1 << 16)  # two blocks, one thread
    halves = run(1 << 14)  # five blocks: two threads take about half each
    assert blocked.dtype == np.float32
    np.testing.assert_array_equal(blocked, whole)
    np.testing.assert_array_equal(halves, whole)
    assert not np.array_equal(blocked, start)


def test_thread_budget_follows_blas(monkeypatch):
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    assert adam_module._threads() == 1
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "8")
    assert adam_module._threads() == 2

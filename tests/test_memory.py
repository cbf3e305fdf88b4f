"""Memory: graphs and saved values are freed by reference counting, training does not leak."""

from __future__ import annotations

import gc
import tracemalloc
import weakref

import numpy as np

import minigrad as mg


def test_dropped_graph_is_freed_without_gc():
    gc.disable()
    try:
        x = mg.tensor(np.ones(100), requires_grad=True)
        h = (x * 2).tanh()
        y = (h * h).sum()
        refs = [weakref.ref(h), weakref.ref(h.grad_fn), weakref.ref(y.grad_fn)]
        del h, y
        assert all(r() is None for r in refs)  # no reference cycles: refcounting frees it
    finally:
        gc.enable()


def test_saved_intermediate_dies_after_backward():
    gc.disable()
    try:
        x = mg.tensor(np.ones(10_000), requires_grad=True)
        big = x.exp()
        probe = weakref.ref(big._data)
        y = big.sin().sum()  # sin saves `big`'s array
        del big
        assert probe() is not None
        y.backward()
        assert probe() is None  # released as soon as backward used it
        assert y.grad_fn.next[0].saved is None  # sin's saved array: freed
        assert y.grad_fn.saved == {"x_shape": (10_000,)}  # sum kept only a shape, as PyTorch
    finally:
        gc.enable()


def test_training_loop_memory_is_stable():
    rng = np.random.default_rng(0)
    X = mg.tensor(rng.standard_normal((64, 8)).astype(np.float32))
    Y = mg.tensor(rng.standard_normal((64, 1)).astype(np.float32))
    w1 = mg.tensor(rng.standard_normal((8, 32)).astype(np.float32) * 0.3, requires_grad=True)
    b1 = mg.zeros(32, requires_grad=True)
    w2 = mg.tensor(rng.standard_normal((32, 1)).astype(np.float32) * 0.3, requires_grad=True)
    params = [w1, b1, w2]

    def step():
        loss = (((X @ w1 + b1).tanh() @ w2 - Y) ** 2).mean()
        for p in params:
            p.grad = None
        loss.backward()
        with mg.no_grad():
            for p in params:
                p -= 0.05 * p.grad
        return loss.item()

    # Warm up: CPython's free lists (tuples, floats, dicts) keep freed objects for reuse and
    # tracemalloc counts them; they fill up, then stay flat, within ~1000 steps.
    for _ in range(1500):
        step()
    tracemalloc.start()
    try:
        peaks = []
        for _ in range(4):
            tracemalloc.reset_peak()
            for _ in range(50):
                loss = step()
            current, peak = tracemalloc.get_traced_memory()
            peaks.append((current, peak))
    finally:
        tracemalloc.stop()
    first, last = peaks[0], peaks[-1]
    assert last[0] <= first[0] + 16_384, peaks  # retained memory does not grow with steps
    assert last[1] <= first[1] + 16_384, peaks
    assert np.isfinite(loss) and all(p.dtype == mg.float32 for p in params)

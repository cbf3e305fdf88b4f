"""minigrad/_fast.py records the same Nodes and computes the same gradients, bit for bit, as the
plain engine in minigrad/autograd.py (the reference). The whole op suite runs in this mode with
`make test-fast-check` (MINIGRAD_CHECK_FAST=1); here a sweep over the op families."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import _fast, autograd

rng = np.random.default_rng(0)


def _leaf(*shape):
    return mg.tensor(rng.standard_normal(shape), dtype=mg.float64, requires_grad=True)


def _sweep():
    """(name, function of fresh leaves, the leaves) over every op family."""
    a, b, c = _leaf(3, 4), _leaf(3, 4), _leaf(4)
    m = _leaf(4, 5)
    x, weight, bias = _leaf(2, 3, 8), _leaf(5, 8), _leaf(5)
    img, w = _leaf(2, 3, 6, 6), _leaf(4, 3, 3, 3)
    target = mg.tensor([1, 0, 3])
    return [
        ("arith", lambda: (a * b + a / (b * b + 1) - c) ** 2, [a, b, c]),
        ("unary", lambda: a.exp().tanh().sigmoid() + a.sin().cos() + a.abs().sqrt(), [a]),
        ("relu", lambda: F.relu(a) + F.gelu(b) + F.silu(a) + F.leaky_relu(b, 0.1), [a, b]),
        ("where", lambda: mg.where(a > 0, a, b).clamp(-0.5, 0.5) + mg.maximum(a, b), [a, b]),
        ("reduce", lambda: a.sum(1) + a.mean(1) + a.amax(1) + a.logsumexp(1) + a.var(1), [a]),
        ("softmax", lambda: a.softmax(-1) * b.log_softmax(-1), [a, b]),
        ("shape", lambda: a.reshape(4, 3).t().flip(0).roll(1, 1).unsqueeze(0).squeeze(0), [a]),
        ("index", lambda: a[1:, ::2] * 2 + a[[0, 2]].sum(), [a]),
        ("matmul", lambda: (a @ m).tanh() @ m.t(), [a, m]),
        ("linear", lambda: F.linear(x, weight) + F.linear(x, weight, bias), [x, weight, bias]),
        ("norm", lambda: F.layer_norm(x, (8,)) + F.rms_norm(x, (8,)), [x]),
        ("loss", lambda: F.cross_entropy(a, target) + F.nll_loss(a.log_softmax(-1), target), [a]),
        ("conv", lambda: F.max_pool2d(F.conv2d(img, w, padding=1), 2), [img, w]),
        ("cat", lambda: mg.cat([a, b], 0) * mg.stack([a, b]).sum(0).sum(), [a, b]),
    ]


@pytest.mark.parametrize("case", range(len(_sweep())), ids=[n for n, _, _ in _sweep()])
def test_fast_and_plain_paths_agree_node_for_node_and_bit_for_bit(case, monkeypatch):
    _, fn, leaves = _sweep()[case]
    results = []
    for fast in (True, False):
        if fast:
            _fast.install()
        else:
            _fast.uninstall()
        try:
            monkeypatch.setattr(_fast, "CHECK", fast)  # fast: each node also recorded plainly
            for t in leaves:
                t.grad = None
            out = fn()
            assert isinstance(out.grad_fn, _fast.FastNode) or not fast or _only_plain(out)
            out.sum().backward()
            results.append([t.grad.numpy().copy() for t in leaves])
        finally:
            _fast.install()
    for fast_grad, plain_grad in zip(*results):
        np.testing.assert_array_equal(fast_grad, plain_grad)


def _only_plain(out) -> bool:
    op = out.grad_fn.op
    return op.variadic or op.backward is not None


def test_the_fast_path_is_installed_and_the_plain_one_is_the_reference():
    assert autograd._record is _fast.record
    assert _fast._plain_record.__module__ == "minigrad.autograd"

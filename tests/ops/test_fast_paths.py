"""Performance fast paths must compute exactly what the plain code they replace computes:
ReLU's branch-free backward, the filled sum/mean backward, the NumPy namespace's direct
ufunc reductions, and F.linear's single GEMM for batched inputs."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.backend import _BACKENDS
from minigrad.ops import elementwise, reduce

XP = _BACKENDS[np.ndarray].xp


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("layout", ["contiguous", "transposed", "broadcast"])
def test_relu_grad_is_where_bit_for_bit(dtype, layout):
    rng = np.random.default_rng(0)
    out = np.maximum(rng.standard_normal((40, 30)), 0).astype(dtype)
    g = rng.standard_normal((40, 30)).astype(dtype)
    g[0, :5] = [np.nan, -np.nan, np.inf, -np.inf, -0.0]
    out[0, :5] = 0  # NaN/inf gradients where the unit is off must give +0
    if layout == "transposed":
        g = np.asfortranarray(g)
    elif layout == "broadcast":
        g = np.broadcast_to(g[:1], g.shape)
    got = elementwise._relu_grad(XP, g, out)
    want = np.where(out > 0, g, 0)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8))  # bits, signs of 0


def test_relu_backward_matches_torch_on_a_large_tensor():
    torch = pytest.importorskip("torch")
    x = np.random.default_rng(1).standard_normal((64, 33)).astype(np.float32)
    g = np.random.default_rng(2).standard_normal((64, 33)).astype(np.float32)
    t = mg.tensor(x, requires_grad=True)
    mg.relu(t).backward(mg.tensor(g))
    tt = torch.tensor(x, requires_grad=True)
    torch.relu(tt).backward(torch.tensor(g))
    np.testing.assert_array_equal(t.grad.numpy(), tt.grad.numpy())


@pytest.mark.parametrize("shape", [(3,), (5, 1, 4), (70, 70)])  # 70*70 > 4096: a view
@pytest.mark.parametrize("op", ["sum", "mean"])
def test_reduction_backward_small_and_large(shape, op):
    x = mg.tensor(np.random.default_rng(0).standard_normal(shape).astype(np.float32))
    x.requires_grad_()
    getattr(x, op)().backward()
    expected = np.full(shape, 1.0 if op == "sum" else 1.0 / np.prod(shape), np.float32)
    assert x.grad.dtype == mg.float32
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-6)
    x.grad.numpy()[...] += 1  # the leaf's gradient is its own, writeable memory


def test_broadcast_helper_equals_broadcast_to():
    g = np.arange(3, dtype=np.float64).reshape(3, 1)
    for shape in [(3, 4), (2, 3, 4), (3, 5000)]:
        got = reduce._broadcast(XP, g, shape)
        np.testing.assert_array_equal(got, np.broadcast_to(g, shape))


@pytest.mark.parametrize("name", ["sum", "max", "min"])
def test_namespace_reductions_equal_numpy(name):
    rng = np.random.default_rng(0)
    arrays = [
        rng.standard_normal((4, 5)).astype(np.float32),
        np.array(2.5, np.float32),
        np.array([True, False, True]),
        np.arange(6, dtype=np.int8).reshape(2, 3),
    ]
    for a in arrays:
        for axis in [None, 0, -1, (0,)]:
            if a.ndim == 0 and axis not in (None,):
                continue
            for keepdims in (False, True):
                want = getattr(np, name)(a, axis=axis, keepdims=keepdims)
                got = getattr(XP, name)(a, axis=axis, keepdims=keepdims)
                assert np.asarray(got).dtype == np.asarray(want).dtype
                np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("bias", [True, False])
def test_functional_linear_batched_equals_the_primitive(bias):
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((2, 3, 5, 4)), requires_grad=True)
    w = mg.tensor(rng.standard_normal((6, 4)), requires_grad=True)
    b = mg.tensor(rng.standard_normal(6), requires_grad=True) if bias else None
    g = mg.tensor(rng.standard_normal((2, 3, 5, 6)))
    y = F.linear(x, w, b)
    assert y.shape == (2, 3, 5, 6)
    leaves = [x, w] + ([b] if bias else [])
    got = mg.autograd.grad(y, leaves, g)
    want = mg.autograd.grad(mg.linear(x, w, b), leaves, g)
    np.testing.assert_allclose(y.detach().numpy(), mg.linear(x, w, b).detach().numpy())
    for a, e in zip(got, want):
        np.testing.assert_allclose(a.numpy(), e.numpy(), rtol=1e-12)
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        F.linear(x, mg.randn(6, 3, dtype=mg.float64))

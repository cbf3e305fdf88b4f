"""Constructors: dtypes, devices, requires_grad, shapes, seeds."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg


def test_tensor_infers_pytorch_dtypes():
    assert mg.tensor([1.0, 2.0]).dtype == mg.float32
    assert mg.tensor([1, 2]).dtype == mg.int64
    assert mg.tensor([True]).dtype == mg.bool
    assert mg.tensor(3.0).shape == ()
    assert mg.tensor(np.zeros(2)).dtype == mg.float64  # arrays keep their dtype
    assert mg.tensor(np.float32(1.0)).dtype == mg.float32
    assert mg.tensor([1, 2], dtype=mg.float16).dtype == mg.float16
    assert mg.tensor([mg.tensor(1.0), mg.tensor(2.0)]).tolist() == [1.0, 2.0]
    x = mg.tensor([1.0], dtype=mg.float64, requires_grad=True, device="cpu")
    assert x.requires_grad and x.is_leaf and x.dtype == mg.float64


def test_tensor_copies_and_from_numpy_shares():
    a = np.zeros(3, dtype=np.float32)
    t = mg.tensor(a)
    f = mg.from_numpy(a)
    a[0] = 1.0
    assert t.tolist()[0] == 0.0 and f.tolist()[0] == 1.0
    with pytest.raises(TypeError):
        mg.from_numpy([1, 2])


def test_filled_constructors():
    assert mg.zeros(2, 3).shape == (2, 3) and mg.zeros((2, 3)).shape == (2, 3)
    assert mg.ones([4]).tolist() == [1.0] * 4 and mg.ones(2).dtype == mg.float32
    assert mg.empty(2, 2).shape == (2, 2)
    assert mg.full((2,), 3).dtype == mg.int64 and mg.full((2,), 3.0).dtype == mg.float32
    assert mg.full((2,), True).dtype == mg.bool
    assert mg.eye(3).tolist() == np.eye(3).tolist() and mg.eye(2, 3).shape == (2, 3)
    assert mg.zeros(2, dtype=mg.float64, requires_grad=True).requires_grad


def test_ranges():
    assert mg.arange(5).tolist() == [0, 1, 2, 3, 4] and mg.arange(5).dtype == mg.int64
    assert mg.arange(0, 1, 0.25).tolist() == [0.0, 0.25, 0.5, 0.75]
    assert mg.arange(0, 1, 0.25).dtype == mg.float32
    assert mg.arange(1.0, 4.0).dtype == mg.float32
    lin = mg.linspace(0, 1, 5)
    assert lin.dtype == mg.float32 and lin.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_like_constructors():
    x = mg.ones(2, 3, dtype=mg.float64)
    for fn in (mg.zeros_like, mg.ones_like, mg.empty_like, mg.rand_like, mg.randn_like):
        y = fn(x)
        assert y.shape == (2, 3) and y.dtype == mg.float64
    assert mg.full_like(x, 7).tolist() == [[7.0] * 3] * 2
    assert mg.zeros_like(x, dtype=mg.int32).dtype == mg.int32
    r = mg.randint_like(x, 5)
    assert r.shape == (2, 3) and (r.numpy() < 5).all()


def test_random_constructors_and_seed():
    mg.manual_seed(123)
    a = (mg.rand(4), mg.randn(2, 3), mg.randint(0, 10, (5,)), mg.randperm(6))
    mg.manual_seed(123)
    b = (mg.rand(4), mg.randn(2, 3), mg.randint(0, 10, (5,)), mg.randperm(6))
    for x, y in zip(a, b):
        assert x.tolist() == y.tolist()
    assert a[0].dtype == mg.float32 and a[1].dtype == mg.float32
    assert a[2].dtype == mg.int64 and sorted(a[3].tolist()) == list(range(6))
    assert ((a[0].numpy() >= 0) & (a[0].numpy() < 1)).all()
    assert mg.randn(3, dtype=mg.float64).dtype == mg.float64
    assert mg.randn(3, dtype=mg.float16).dtype == mg.float16
    assert mg.randint(10, (3,)).shape == (3,)
    assert mg.randn(2, requires_grad=True).requires_grad
    with pytest.raises(RuntimeError, match="floating point"):
        mg.rand(2, dtype=mg.int64)


def test_integer_and_bool_tensors_cannot_require_grad():
    for make in (
        lambda: mg.tensor([1, 2], requires_grad=True),
        lambda: mg.zeros(2, dtype=mg.int64, requires_grad=True),
        lambda: mg.ones(2, dtype=mg.bool, requires_grad=True),
        lambda: mg.arange(3, requires_grad=True),
    ):
        with pytest.raises(RuntimeError, match="floating point dtype can require gradients"):
            make()


@pytest.mark.parametrize("make", [mg.zeros, mg.ones, mg.empty, mg.rand, mg.randn])
def test_no_size_is_a_type_error_as_torch(make):
    with pytest.raises(TypeError, match="size"):
        make()
    assert make(()).shape == ()


def test_full_and_fill_convert_the_value_as_torch():
    import torch

    for value, dtype in [(-1, "uint8"), (-255, "uint8"), (1.9, "uint8"), (-7, "int8"), (3, "bool")]:
        expected = torch.full((2,), value, dtype=getattr(torch, dtype))
        got = mg.full((2,), value, dtype=getattr(mg, dtype))
        assert got.tolist() == expected.tolist()
        assert mg.zeros(2, dtype=getattr(mg, dtype)).fill_(value).tolist() == expected.tolist()
    for value, dtype in [(300, "uint8"), (-256, "uint8"), (-1.5, "uint8"), (float("nan"), "int32")]:
        with pytest.raises(RuntimeError, match=dtype):
            mg.full((2,), value, dtype=getattr(mg, dtype))
        with pytest.raises(RuntimeError, match=dtype):
            mg.zeros(2, dtype=getattr(mg, dtype)).fill_(value)

"""Dtype objects, names and the default dtype."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import dtypes


def test_dtype_aliases():
    assert mg.float32 == mg.float == np.float32 and mg.float64 == mg.double
    assert mg.float16 == mg.half and mg.int64 == mg.long and mg.int32 == mg.int
    assert mg.int16 == mg.short and mg.bool == np.bool_
    assert dtypes.as_dtype("float64") == mg.float64 and dtypes.as_dtype(float) == mg.float32
    assert dtypes.as_dtype(int) == mg.int64 and dtypes.as_dtype(bool) == mg.bool
    with pytest.raises(TypeError, match="unknown dtype"):
        dtypes.as_dtype("nonsense")


def test_default_dtype():
    assert mg.get_default_dtype() == mg.float32
    try:
        mg.set_default_dtype(mg.float64)
        assert mg.tensor([1.0]).dtype == mg.float64 and mg.zeros(1).dtype == mg.float64
        assert (mg.tensor([1, 2]) / 2).dtype == mg.float64
    finally:
        mg.set_default_dtype(mg.float32)
    with pytest.raises(TypeError, match="floating-point"):
        mg.set_default_dtype(mg.int64)


def test_promote_types_category_wins():
    assert dtypes.promote_types(mg.int16, mg.float16) == mg.float16
    assert dtypes.promote_types(mg.uint8, mg.int8) == mg.int16
    assert dtypes.promote_types(mg.bool, mg.uint8) == mg.uint8
    assert dtypes.promote_types(mg.float16, mg.float32) == mg.float32


def test_float16_and_float64_arithmetic_keep_dtype():
    for dt in (mg.float16, mg.float64):
        x = mg.ones(3, dtype=dt, requires_grad=True)
        y = (x * 2.5 + 1).tanh().sum()
        y.backward()
        assert y.dtype == dt and x.grad.dtype == dt

"""Tests for minigrad._erf.erf, the pure-NumPy error function (checked against math.erf)."""

import math
import warnings

import numpy as np
import pytest

from minigrad._erf import erf


def _reference(x: np.ndarray) -> np.ndarray:
    return np.array([math.erf(v) for v in x.ravel()]).reshape(x.shape)


def test_matches_math_erf_float64():
    x = np.concatenate(
        [
            np.linspace(-10.0, 10.0, 200_001),
            np.linspace(0.99, 1.01, 2_001),  # branch switch at |x| = 1
            np.linspace(-6.01, -5.99, 2_001),  # cut-off to +-1 at |x| = 6
            np.geomspace(1e-300, 1.0, 2_001),
            -np.geomspace(1e-300, 1.0, 2_001),
            [0.0, -0.0, 5e-324, -5e-324, 1e300, -1e300],
        ]
    )
    ref = _reference(x)
    err = np.abs(erf(x) - ref)
    assert err.max() < 2e-15
    # small |x|: relative accuracy too, down to denormals' neighbourhood
    tiny = np.abs(x) < 1.0
    assert (err[tiny] / np.maximum(np.abs(ref[tiny]), 1e-300)).max() < 2e-15


def test_special_values():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarnings for inf/nan
        y = erf(np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-300, -1e-300, 6.0, -50.0]))
    assert y[0] == 0.0 and not np.signbit(y[0])
    assert y[1] == 0.0 and np.signbit(y[1])
    assert y[2] == 1.0 and y[3] == -1.0
    assert np.isnan(y[4])
    assert y[5] == pytest.approx(2.0 / math.sqrt(math.pi) * 1e-300, rel=1e-15)
    assert y[6] == -y[5]
    assert y[7] == 1.0 and y[8] == -1.0


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_dtype_preserved(dtype):
    x = np.linspace(-4.0, 4.0, 1001).astype(dtype)
    y = erf(x)
    assert y.dtype == dtype
    # within one ulp of 1 in the target dtype of the exact value rounded to that dtype
    ref = _reference(x.astype(np.float64)).astype(dtype)
    atol = 2e-15 if dtype == np.float64 else float(np.finfo(dtype).eps)
    np.testing.assert_allclose(y, ref, rtol=0, atol=atol)


@pytest.mark.parametrize("shape", [(), (0,), (1,), (3, 4, 5)])
def test_shape_preserved(shape):
    x = np.random.default_rng(0).normal(scale=3.0, size=shape)
    y = erf(x)
    assert isinstance(y, np.ndarray) and y.shape == shape
    np.testing.assert_allclose(y, _reference(np.asarray(x)), rtol=0, atol=2e-15)


def test_non_contiguous_input_not_modified():
    x = np.random.default_rng(1).normal(scale=2.0, size=(50, 40)).T
    x_copy = x.copy()
    y = erf(x)
    np.testing.assert_array_equal(x, x_copy)
    np.testing.assert_allclose(y, _reference(x), rtol=0, atol=2e-15)


def test_integer_input_gives_float64():
    y = erf(np.array([-2, 0, 3]))
    assert y.dtype == np.float64
    np.testing.assert_allclose(y, [math.erf(-2), 0.0, math.erf(3)], rtol=0, atol=2e-15)


def test_vectorised(monkeypatch):
    """Smoke test on 1e6 elements: no per-element Python calls (not a timing assertion)."""
    x = np.random.default_rng(2).normal(scale=3.0, size=1_000_000)
    idx = np.arange(0, x.size, 997)
    expected = _reference(x[idx])

    def forbidden(*args, **kwargs):
        raise AssertionError("erf must not call per-element Python functions")

    for name in ("erf", "erfc", "exp", "sqrt"):
        monkeypatch.setattr(math, name, forbidden)
    monkeypatch.setattr(np, "frompyfunc", forbidden)
    monkeypatch.setattr(np, "vectorize", forbidden)
    y = erf(x)
    monkeypatch.undo()
    assert y.shape == x.shape
    np.testing.assert_allclose(y[idx], expected, rtol=0, atol=2e-15)

"""Vectorised error function ``erf`` for NumPy arrays.

This module owns minigrad's ``erf`` (used e.g. by exact GELU): NumPy has no erf ufunc and
SciPy is deliberately not a dependency, so we provide our own, accurate to ~1e-15 in float64.

Method (pure NumPy, a fixed number of whole-array operations):

* ``|x| < 1``:      ``erf(x) = x * P(x**2)``, P a degree-11 polynomial in ``x**2``.
* ``1 <= |x| < 6``: ``erf(x) = sign(x) * (1 - exp(-x**2) * Q(1 / (|x| + 2)))``, Q of degree 14;
  ``exp(x**2) * erfc(x)`` is smooth and slowly varying, and the ``1 / (|x| + 2)`` variable
  makes it very cheap to approximate.
* ``|x| >= 6``:     ``erfc(6) ~ 2e-17`` is below half an ulp of 1, so ``erf(x) = sign(x)``.

P and Q are Chebyshev least-squares fits to ``math.erf``/``math.erfc`` computed at import time
(~2 ms), then converted to monomial form for an in-place Horner evaluation.
"""

import math

import numpy as np
from numpy.polynomial import chebyshev as _cheb

_SPLIT = 1.0  # boundary between the series-like and the erfc-based branch
_CUTOFF = 6.0  # beyond this erf(x) == sign(x) exactly in float64
_S_LO, _S_HI = 1.0 / (_CUTOFF + 2.0), 1.0 / (_SPLIT + 2.0)  # range of s = 1 / (|x| + 2)


def _fit(f, lo: float, hi: float, deg: int) -> np.ndarray:
    """Monomial coefficients (lowest first) of a Chebyshev fit of ``f`` on ``[lo, hi]``.

    The polynomial is in the scaled variable ``v = (2 * s - lo - hi) / (hi - lo)`` in [-1, 1].
    Least squares over 200 Chebyshev nodes averages out the rounding noise of ``f``.
    """
    v = np.cos(np.pi * (np.arange(200) + 0.5) / 200)
    y = [f(lo + (hi - lo) * (w + 1.0) / 2.0) for w in v]
    return _cheb.cheb2poly(_cheb.chebfit(v, y, deg))


def _erf_over_x(t: float) -> float:  # erf(x) / x as a function of t = x**2
    x = math.sqrt(t)
    return math.erf(x) / x if x > 0.0 else 2.0 / math.sqrt(math.pi)


def _scaled_erfc(s: float) -> float:  # exp(x**2) * erfc(x) as a function of s = 1 / (x + 2)
    x = 1.0 / s - 2.0
    return math.exp(x * x) * math.erfc(x)


_P = _fit(_erf_over_x, 0.0, _SPLIT**2, 11)
_Q = _fit(_scaled_erfc, _S_LO, _S_HI, 14)


def _horner(v: np.ndarray, coeffs: np.ndarray) -> np.ndarray:
    out = coeffs[-1] * v + coeffs[-2]
    for c in coeffs[-3::-1]:
        out *= v
        out += c
    return out


def erf(x: np.ndarray) -> np.ndarray:
    """Elementwise error function; float inputs keep their dtype (computed in float64)."""
    x = np.asarray(x)
    dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.dtype(np.float64)
    xd = np.asarray(x, dtype=np.float64).ravel()  # 1-D so fancy indexing works for 0-d too
    ax = np.abs(xd)
    out = np.minimum(ax, 1.0)  # erf(|x|) for |x| >= _CUTOFF (inf included); nan stays nan

    # Integer indices are much faster than boolean masks for gather/scatter.
    idx = np.flatnonzero(ax < _SPLIT)
    a = ax[idx]
    out[idx] = a * _horner(a * a * (2.0 / _SPLIT**2) - 1.0, _P)

    idx = np.flatnonzero((ax >= _SPLIT) & (ax < _CUTOFF))
    a = ax[idx]
    v = (2.0 / (a + 2.0) - (_S_LO + _S_HI)) / (_S_HI - _S_LO)
    out[idx] = 1.0 - np.exp(-a * a) * _horner(v, _Q)

    np.copysign(out, xd, out=out)  # erf is odd; also keeps the sign of -0.0
    return out.reshape(x.shape).astype(dtype, copy=False)

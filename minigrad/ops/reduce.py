"""Reductions (sum, mean, var, max, logsumexp, prod, cumsum, norm) and softmax/log_softmax.

Every reduction takes PyTorch's `dim`/`keepdim` and NumPy's `axis`/`keepdims` alike. Rules get
`axis` already normalised to a tuple of non-negative ints (or None for all dims) and use
`_unreduce` to put the reduced dims back before broadcasting against the input.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as _np

from minigrad import dtypes
from minigrad.autograd import apply, defop
from minigrad.backend import _BACKENDS
from minigrad.ops.elementwise import _float_input, where
from minigrad.tensor import Tensor, _dim

_ndarray = _np.ndarray


def _unreduce(xp, g, x_shape, axis, keepdims):
    """Reshape a reduced gradient so it broadcasts against the input (a no-op with keepdims)."""
    if keepdims or axis is None and g.shape == ():
        return g if keepdims else xp.reshape(g, (1,) * len(x_shape))
    kept = tuple(1 if i in axis else n for i, n in enumerate(x_shape))
    return xp.reshape(g, kept)


def _broadcast(xp, g, shape):
    """xp.broadcast_to(g, shape); on NumPy a small result is filled instead (~0.5 us, where
    np.broadcast_to is ~3 us of Python on every sum/mean backward), which also gives the engine
    a writeable array it need not copy before it becomes a `.grad`."""
    if type(g) is _ndarray and math.prod(shape) <= 4096:
        out = _np.empty(shape, g.dtype)
        _np.copyto(out, g)
        return out
    return xp.broadcast_to(g, shape)


def _count(x_shape, axis) -> int:
    return math.prod(x_shape) if axis is None else math.prod(x_shape[a] for a in axis)


# fmt: off
SUM = defop("sum", lambda xp, x, *, axis, keepdims: xp.sum(x, axis=axis, keepdims=keepdims),
            x=lambda xp, g, x_shape, axis, keepdims:                       # 1 for every element
                _broadcast(xp, _unreduce(xp, g, x_shape, axis, keepdims), x_shape))
MEAN = defop("mean", lambda xp, x, *, axis, keepdims: xp.mean(x, axis=axis, keepdims=keepdims),
             x=lambda xp, g, x_shape, axis, keepdims:                      # 1/N
                 _broadcast(xp, _unreduce(xp, g, x_shape, axis, keepdims) / _count(x_shape, axis),
                            x_shape))
VAR = defop("var", lambda xp, x, *, axis, correction, keepdims:
                xp.var(x, axis=axis, ddof=correction, keepdims=keepdims),
            x=lambda xp, g, x, axis, correction, keepdims:                 # 2 (x - mean) / (N - c)
                _var_grad(xp, g, x, axis, correction, keepdims))
STD = defop("std", lambda xp, x, *, axis, correction, keepdims:
                xp.sqrt(xp.var(x, axis=axis, ddof=correction, keepdims=keepdims)),
            x=lambda xp, g, x, out, axis, correction, keepdims:            # var's / (2 std)
                _var_grad(xp, xp.where(out == 0, 0, g / (2 * out)), x, axis, correction, keepdims))
AMAX = defop("amax", lambda xp, x, *, axis, keepdims: xp.max(x, axis=axis, keepdims=keepdims),
             x=lambda xp, g, x, out, axis, keepdims:  # g / (number of maxima) at each max
                 _even_split(xp, g, x, out, axis, keepdims))
AMIN = defop("amin", lambda xp, x, *, axis, keepdims: xp.min(x, axis=axis, keepdims=keepdims),
             x=lambda xp, g, x, out, axis, keepdims:  # g / (number of minima) at each min
                 _even_split(xp, g, x, out, axis, keepdims))
LOGSUMEXP = defop("logsumexp", lambda xp, x, *, axis, keepdims: _logsumexp(xp, x, axis, keepdims),
                  x=lambda xp, g, x, out, axis, keepdims:                  # softmax(x)
                      _unreduce(xp, g, x.shape, axis, keepdims)
                      * xp.exp(x - _unreduce(xp, out, x.shape, axis, keepdims)))
PROD = defop("prod", lambda xp, x, *, axis, keepdims: xp.prod(x, axis=axis, keepdims=keepdims),
             x=lambda xp, g, x, axis, keepdims:                            # product of the others
                 _unreduce(xp, g, x.shape, axis, keepdims) * _prod_others(xp, x, axis))
CUMSUM = defop("cumsum", lambda xp, x, *, axis: xp.cumsum(x, axis=axis),
               x=lambda xp, g, axis:                                        # reversed cumsum
                   xp.flip(xp.cumsum(xp.flip(g, axis), axis=axis), axis))
NORM2 = defop("norm",
              lambda xp, x, *, axis, keepdims: xp.sqrt(xp.sum(x * x, axis=axis, keepdims=keepdims)),
              x=lambda xp, g, x, out, axis, keepdims:                      # x / ||x||  (0 at x = 0)
                  _unreduce(xp, g, x.shape, axis, keepdims)
                  * x / xp.where(_unreduce(xp, out, x.shape, axis, keepdims) == 0, 1,
                                 _unreduce(xp, out, x.shape, axis, keepdims)))
# the +-inf norm: max (min) |x|; torch's gradient splits g over the maximal |x| and the NaNs,
# times sgn(x) (0 at NaN): unlike amax(abs(x)), NaN gives 0, not NaN (inf - inf in
# pairwise_distance)
NORM_INF = defop("norm_inf",
                 lambda xp, x, *, axis, keepdims, largest: (xp.max if largest else xp.min)(
                     xp.abs(x), axis=axis, keepdims=keepdims),
                 x=lambda xp, g, x, out, axis, keepdims, largest:  # sgn(x) / #{|x| = out}
                     _norm_inf_grad(xp, g, x, out, axis, keepdims))
SOFTMAX = defop("softmax", lambda xp, x, *, axis: _softmax(xp, x, axis),
                x=lambda xp, g, out, axis:                                 # s (g - sum(g s))
                    out * (g - xp.sum(g * out, axis=axis, keepdims=True)))
LOG_SOFTMAX = defop("log_softmax", lambda xp, x, *, axis: _log_softmax(xp, x, axis),
                    x=lambda xp, g, out, axis:                             # g - softmax sum(g)
                        g - xp.exp(out) * xp.sum(g, axis=axis, keepdims=True))
# fmt: on


def _var_grad(xp, g, x, axis, correction, keepdims):
    """2 (x - mean) / (N - correction), times the output gradient (std masks its 0s: torch)."""
    return (
        _unreduce(xp, g, x.shape, axis, keepdims)
        * 2
        * (x - xp.mean(x, axis=axis, keepdims=True))
        / (_count(x.shape, axis) - correction)
    )


def _even_split(xp, g, x, out, axis, keepdims):
    """max/min over several equal values: each gets an equal share of the gradient (PyTorch)."""
    hit = x == _unreduce(xp, out, x.shape, axis, keepdims)
    share = xp.where(hit, 1.0, 0.0).astype(x.dtype)
    return (
        _unreduce(xp, g, x.shape, axis, keepdims) * share / xp.sum(share, axis=axis, keepdims=True)
    )


def _prod_others(xp, x, axis):
    """For each element, the product of the other elements it was multiplied with: exact, with no
    division, so zeros are fine. Arrays: exclusive cumulative products from both ends. Tensors
    (double backward): prod over the last axis of x with element i replaced by 1 in row i, so
    the result stays differentiable (O(n^2) memory for the one reduced axis)."""
    if axis is None:
        return xp.reshape(_prod_others(xp, xp.reshape(x, (-1,)), (0,)), x.shape)
    (a,) = axis
    n = x.shape[a]
    if isinstance(x, Tensor):
        last = x.movedim(a, -1)
        eye = Tensor._make(_eye(last._data, n))
        rows = where(eye, 1.0, last.unsqueeze(-2))  # [..., i, j] = 1 if i == j else x[..., j]
        return prod(rows, -1).movedim(-1, a)
    if n == 0:  # nothing to multiply (and the gradient is empty)
        return xp.ones(x.shape, dtype=x.dtype)
    x = xp.moveaxis(x, a, -1)
    ones = xp.ones(x.shape[:-1] + (1,), dtype=x.dtype)
    before = xp.cumprod(xp.concatenate([ones, x[..., :-1]], axis=-1), axis=-1)  # x0..x(i-1)
    reverse = xp.concatenate([ones, xp.flip(x, -1)[..., :-1]], axis=-1)
    after = xp.flip(xp.cumprod(reverse, axis=-1), -1)  # x(i+1)..x(n-1)
    return xp.moveaxis(before * after, -1, a)


def _eye(like, n):
    return _BACKENDS[type(like)].xp.eye(n, dtype=bool)


def _logsumexp(xp, x, axis, keepdims):
    if x.size == 0:  # an empty sum is 0, so -inf (and the shape NumPy's max refuses)
        return xp.full_like(xp.sum(x, axis=axis, keepdims=keepdims), -math.inf)
    m = xp.max(x, axis=axis, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)  # all -inf (or an inf): keep exp() well defined
    out = xp.log(xp.sum(xp.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else xp.squeeze(out, axis=axis)


def _log_softmax(xp, x, axis):
    """(x - max) - log(sum(exp(x - max))): subtracting the max first keeps large logits exact
    (x - logsumexp(x) loses the fraction: -0.693359 for [1e4, 1e4] in float32)."""
    if x.size == 0:
        return x.copy()
    m = xp.max(x, axis=axis, keepdims=True)
    # an all -inf row stays defined (NaN as torch); a +inf max makes the row NaN, as torch
    shifted = x - xp.where(m == -math.inf, 0, m)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=axis, keepdims=True))


def _softmax(xp, x, axis):
    if x.size == 0:
        return x.copy()
    e = xp.exp(x - xp.max(x, axis=axis, keepdims=True))
    return e / xp.sum(e, axis=axis, keepdims=True)


# --- argument handling -------------------------------------------------------------------------


def _axes(x: Tensor, dim, axis) -> tuple | None:
    """Normalise `dim`/`axis` (int, tuple, list or None) to a sorted tuple or None."""
    if axis is not None:
        if dim is not None:
            raise TypeError("got both 'dim' and 'axis'; pass one of them")
        dim = axis
    if dim is None:
        return None
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if not dims:
        return None  # PyTorch: dim=() reduces everything
    out = tuple(sorted({_dim(d, x.ndim) for d in dims}))
    if len(out) != len(dims):
        raise RuntimeError(f"dim {dims} appears multiple times in the list of dims")
    return out if x.ndim else None


def _alias(dim, axis):
    """PyTorch takes `axis` as an alias of `dim` (NumPy's name) in its reductions."""
    if axis is None:
        return dim
    if dim is not None:
        raise TypeError("got both 'dim' and 'axis'; pass one of them")
    return axis


def _keep(keepdim, keepdims) -> bool:
    return bool(keepdims if keepdims is not None else keepdim)


def _check_nonempty(x: Tensor, axes: tuple | None, name: str, error=RuntimeError) -> None:
    """max-like reductions have no identity: torch refuses empty reduced dims (IndexError for
    a named dim; `error` for all of an empty tensor)."""
    if x.numel() != 0:
        return
    if axes is None:
        raise error(
            f"{name}(): Expected reduction dim to be specified for input.numel() == 0. Specify "
            f"the reduction dim with the 'dim' argument."
        )
    for d in axes:
        if x.shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


def _norm_inf_grad(xp, g, x, out, axis, keepdims):
    a = xp.abs(x)
    mask = (a == _unreduce(xp, out, x.shape, axis, keepdims)) | (a != a)
    count = xp.sum(mask, axis=axis, keepdims=True).astype(x.dtype)
    share = _unreduce(xp, g, x.shape, axis, keepdims) / xp.maximum(count, 1)
    return xp.where(mask, share * xp.where(x != x, 0, xp.sign(x)), 0).astype(x.dtype)


def _reduce(op, x: Tensor, dim, keepdim, axis, keepdims, **params) -> Tensor:
    return apply(
        op, (x,), {"axis": _axes(x, dim, axis), "keepdims": _keep(keepdim, keepdims), **params}
    )


def sum(
    input: Tensor, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None
) -> Tensor:
    if dtype is not None:
        input = input.to(dtype)
    elif input._data.dtype.kind in "biu":
        input = input.to(dtypes.int64)  # PyTorch sums bool and integer tensors as int64
    return _reduce(SUM, input, dim, keepdim, axis, keepdims)


def mean(
    input: Tensor, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None
) -> Tensor:
    if dtype is not None:
        input = input.to(dtype)
    if input._data.dtype.kind not in "fc":
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {input.dtype}"
        )
    return _reduce(MEAN, input, dim, keepdim, axis, keepdims)


def var(
    input: Tensor,
    dim=None,
    *,
    correction=1,
    keepdim: bool = False,
    unbiased=None,
    axis=None,
    keepdims=None,
) -> Tensor:
    """Variance with Bessel's `correction` (1 by default, as PyTorch; `unbiased=False` is 0)."""
    if unbiased is not None:
        correction = 1 if unbiased else 0
    input = _float_input(input, "var")
    return _reduce(VAR, input, dim, keepdim, axis, keepdims, correction=correction)


def std(
    input: Tensor,
    dim=None,
    *,
    correction=1,
    keepdim: bool = False,
    unbiased=None,
    axis=None,
    keepdims=None,
) -> Tensor:
    """Standard deviation; its gradient is 0 where it is 0 (a constant input), as PyTorch's."""
    if unbiased is not None:
        correction = 1 if unbiased else 0
    input = _float_input(input, "std")
    return _reduce(STD, input, dim, keepdim, axis, keepdims, correction=correction)


def amax(input: Tensor, dim=(), keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    dim = dim if dim != () else None
    _check_nonempty(input, _axes(input, dim, axis), "amax")
    return _reduce(AMAX, input, dim, keepdim, axis, keepdims)


def amin(input: Tensor, dim=(), keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
    dim = dim if dim != () else None
    _check_nonempty(input, _axes(input, dim, axis), "amin")
    return _reduce(AMIN, input, dim, keepdim, axis, keepdims)


MinMax = namedtuple("MinMax", ["values", "indices"])


def _minmax(x: Tensor, dim, keepdim, other, largest: bool, name: str):
    from minigrad.ops.elementwise import maximum, minimum
    from minigrad.ops.indexing import gather

    if isinstance(dim, Tensor):
        other, dim = dim, None
    if other is not None:
        return (maximum if largest else minimum)(x, other)
    if dim is None:
        if x.numel() == 0:
            raise RuntimeError(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0."
            )
        return (amax if largest else amin)(x)
    d = _dim(dim, x.ndim)
    _check_nonempty(x, (d,) if x.ndim else None, name)
    xp = x._backend_xp()
    index = (
        (xp.argmax if largest else xp.argmin)(x._data, axis=d, keepdims=True)
        if x.ndim
        else xp.asarray(0)
    )
    if not x.ndim:
        return MinMax(x, Tensor._make(index))
    values = gather(x, d, Tensor._make(index))  # the gradient goes to the first extreme element
    indices = Tensor._make(index)
    if not keepdim:
        values, indices = values.squeeze(d), indices.squeeze(d)
    return MinMax(values, indices)


def max(input: Tensor, dim=None, keepdim: bool = False, *, other=None, axis=None):
    """`max(x)`: the largest value (ties share the gradient equally); `max(x, dim)`: (values,
    indices), the gradient going to the first largest element (its index); `max(x, y)`: maximum."""
    return _minmax(input, _alias(dim, axis), keepdim, other, True, "max")


def min(input: Tensor, dim=None, keepdim: bool = False, *, other=None, axis=None):
    return _minmax(input, _alias(dim, axis), keepdim, other, False, "min")


def _argextreme(x: Tensor, dim, keepdim: bool, largest: bool) -> Tensor:
    xp = x._backend_xp()
    fn = xp.argmax if largest else xp.argmin
    name = "argmax" if largest else "argmin"
    _check_nonempty(
        x, None if dim is None or x.ndim == 0 else (_dim(dim, x.ndim),), name, IndexError
    )
    if dim is None:
        return Tensor._make(xp.asarray(fn(x._data)))
    d = _dim(dim, x.ndim)
    if x.ndim == 0:
        return Tensor._make(xp.zeros((), dtype=xp.int64))
    return Tensor._make(fn(x._data, axis=d, keepdims=keepdim))


def argmax(input: Tensor, dim=None, keepdim: bool = False, *, axis=None) -> Tensor:
    return _argextreme(input, _alias(dim, axis), keepdim, True)


def argmin(input: Tensor, dim=None, keepdim: bool = False, *, axis=None) -> Tensor:
    return _argextreme(input, _alias(dim, axis), keepdim, False)


def logsumexp(input: Tensor, dim=None, keepdim: bool = False, *, axis=None) -> Tensor:
    dim = _alias(dim, axis)
    if dim is None:
        raise TypeError('logsumexp() missing 1 required positional arguments: "dim"')
    return _reduce(LOGSUMEXP, _float_input(input, "logsumexp"), dim, keepdim, None, None)


def prod(input: Tensor, dim=None, keepdim: bool = False, *, dtype=None, axis=None) -> Tensor:
    dim = _alias(dim, axis)
    if dtype is not None:
        input = input.to(dtype)
    elif input._data.dtype.kind in "biu":
        input = input.to(
            dtypes.int64
        )  # as sum: bool and integer products are int64 (NumPy: uint64)
    if dim is not None and not isinstance(dim, int):
        raise TypeError(f"prod(): dim must be an int or None, got {dim!r}")
    return _reduce(PROD, input, dim, keepdim, None, None)


def _scan_dtype_check(input: Tensor, dtype) -> None:
    """cumsum/cumprod(dtype=an integer or bool type) of a tensor that requires grad: PyTorch
    refuses (the result could not carry the gradient)."""
    from minigrad.autograd import is_grad_enabled

    target = dtypes.as_dtype(dtype)
    if input.requires_grad and is_grad_enabled() and target.kind not in "fc":
        raise RuntimeError(f"Autograd not support dtype: {dtypes.torch_name(target)}")


def cumsum(input: Tensor, dim: int | None = None, *, dtype=None, axis=None) -> Tensor:
    dim = _alias(dim, axis)
    if dim is None:
        raise TypeError('cumsum() missing 1 required positional arguments: "dim"')
    if dtype is not None:
        _scan_dtype_check(input, dtype)
        input = input.to(dtype)
    elif input._data.dtype.kind in "biu":
        input = input.to(dtypes.int64)  # as sum (NumPy: uint64 for unsigned types)
    axis = _dim(dim, input.ndim)  # checked on 0-d tensors too (dim must be 0 or -1)
    if input.ndim == 0:
        return input.clone()
    return apply(CUMSUM, (input,), {"axis": axis})


def norm(input: Tensor, p="fro", dim=None, keepdim: bool = False, out=None, dtype=None) -> Tensor:
    """torch.norm: the vector p-norm over `dim` (all elements when None) for a number p (None:
    2; 1, inf, -inf, 0 or any real p), and 'fro' (the 2-norm over `dim`: Frobenius for two
    dims) with at most two dims. `dtype` casts before computing, as torch; `out` receives the
    result (resized; no autograd through it)."""
    if out is not None:
        result = norm(input, p, dim, keepdim, dtype=dtype)
        if result.requires_grad or out.requires_grad:
            raise RuntimeError(
                "linalg_vector_norm(): functions with out=... arguments don't support automatic "
                "differentiation, but one of the arguments requires grad."
            )
        if out.dtype != result.dtype:
            raise RuntimeError(
                f"Expected out tensor to have dtype {result.dtype}, but got {out.dtype} instead"
            )
        if out.shape == result.shape:
            return out.copy_(result)
        out._data = result._data.copy()  # torch resizes `out` to the result's shape
        return out
    from minigrad.ops.elementwise import abs as _abs
    from minigrad.ops.elementwise import pow as _pow

    dims = (dim,) if isinstance(dim, int) else dim
    if isinstance(p, str):
        if p == "fro" and (dims is None or len(dims) <= 2):
            p = 2
        else:
            dims = tuple(range(input.ndim)) if dims is None else tuple(dims)
            if len(dims) != 2:
                raise RuntimeError(
                    f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dims))}"
                )
            if p == "nuc":
                raise NotImplementedError(
                    "norm(p='nuc'): the nuclear norm needs a singular value decomposition, "
                    "which minigrad does not have"
                )
            raise RuntimeError(f"linalg.matrix_norm: Order {p} not supported.")
    p = 2 if p is None else p
    x = _float_input(input if dtype is None else input.to(dtype), "norm")
    if p in (math.inf, -math.inf) and x.numel() == 0:
        axes = _axes(x, dim, None)
        if axes is None or 0 in [x.shape[d] for d in axes]:  # no identity for max/min
            raise RuntimeError(
                f"linalg.vector_norm cannot compute the {p} norm on an empty tensor because the "
                f"operation does not have an identity (shape {list(x.shape)}, dim {dim})"
            )
    if p == 2:
        return _reduce(NORM2, x, dim, keepdim, None, None)
    if p in (math.inf, -math.inf):
        return _reduce(NORM_INF, x, dim, keepdim, None, None, largest=p > 0)
    if p == 0:  # the count of nonzeros (NaN counts), with PyTorch's zero gradient via sign
        from minigrad.ops.elementwise import isnan as _isnan
        from minigrad.ops.elementwise import sign as _sign

        return sum(where(_isnan(x), 1, _abs(_sign(x))), dim, keepdim)
    if p == 1:
        return sum(_abs(x), dim, keepdim)
    if not isinstance(p, (int, float)):
        raise TypeError(f"norm(): p must be a number or 'fro'/'nuc', got {p!r}")
    magnitude = _abs(x)
    if p < 1:  # |x|^p's slope is infinite at 0: there PyTorch's gradient is 0 (and so here)
        at_zero = magnitude == 0
        powered = where(
            at_zero, 0.0 if p > 0 else math.inf, _pow(where(at_zero, 1.0, magnitude), p)
        )
    else:
        powered = _pow(magnitude, p)
    total = sum(powered, dim, keepdim)
    # the root's slope is infinite at 0: masked so that an all-zero slice gets gradient 0 (torch)
    zero = total == 0
    return where(zero, 0.0, _pow(where(zero, 1.0, total), 1.0 / p))


def softmax(input: Tensor, dim: int = -1, dtype=None, *, axis=None) -> Tensor:
    dim = dim if axis is None else axis
    if dtype is not None:
        input = input.to(dtype)
    input = _float_input(input, "softmax")
    axis = _dim(dim, input.ndim)
    return apply(SOFTMAX, (input,), {"axis": axis if input.ndim else None})


def log_softmax(input: Tensor, dim: int = -1, dtype=None, *, axis=None) -> Tensor:
    dim = dim if axis is None else axis
    if dtype is not None:
        input = input.to(dtype)
    input = _float_input(input, "log_softmax")
    axis = _dim(dim, input.ndim)
    return apply(LOG_SOFTMAX, (input,), {"axis": axis if input.ndim else None})


def nonzero(input: Tensor, *, as_tuple: bool = False):
    xp = input._backend_xp()
    if input.ndim == 0:  # PyTorch: a 0-d tensor is one position with no coordinates
        n = 1 if bool(input._data) else 0
        if as_tuple:
            return (Tensor._make(xp.zeros(n, dtype=xp.int64)),)
        return Tensor._make(xp.zeros((n, 0), dtype=xp.int64))
    idx = xp.nonzero(input._data)
    if as_tuple:
        return tuple(Tensor._make(i) for i in idx)
    return Tensor._make(xp.stack(idx, axis=-1) if idx else xp.zeros((0, 0), dtype=xp.int64))


def count_nonzero(input: Tensor, dim=None, *, axis=None) -> Tensor:
    return sum(input != 0, _alias(dim, axis))


def all(input: Tensor, dim=None, keepdim: bool = False, *, axis=None) -> Tensor:
    xp = input._backend_xp()
    out = xp.all(input._data, axis=_axes(input, dim, axis), keepdims=keepdim)
    return Tensor._make(
        out.astype(xp.uint8) if input.dtype == dtypes.uint8 else out
    )  # torch: uint8


def any(input: Tensor, dim=None, keepdim: bool = False, *, axis=None) -> Tensor:
    xp = input._backend_xp()
    out = xp.any(input._data, axis=_axes(input, dim, axis), keepdims=keepdim)
    return Tensor._make(
        out.astype(xp.uint8) if input.dtype == dtypes.uint8 else out
    )  # torch: uint8

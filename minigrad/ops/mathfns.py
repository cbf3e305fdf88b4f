"""The long tail of PyTorch's math functions: inverse trigonometric and hyperbolic functions,
exp2, atan2, logaddexp(2), copysign, hypot, xlogy, lerp, the cumulative ops cumprod, cummax,
cummin and logcumsumexp, and std_mean / var_mean.

Integer and bool inputs give the default float dtype, as in PyTorch (cumprod: int64, as cumsum;
cummax/cummin keep the dtype). cummax and cummin find their indices on the raw array and read
the values with `gather`, whose rule sends each gradient to the chosen element (as PyTorch's);
std_mean and var_mean are `std`/`var` and `mean` side by side. The others are ops of their own.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np

from minigrad import dtypes
from minigrad.autograd import apply, defop
from minigrad.ops.elementwise import (
    _broadcast_error,
    _float_operands,
    as_tensor_like,
    cast,
    exp,
    promote,
    where,
)
from minigrad.ops.indexing import gather
from minigrad.ops.reduce import _alias, _scan_dtype_check, mean, std, sum, var
from minigrad.tensor import Tensor, _dim

LN2 = math.log(2.0)

# fmt: off
ASIN = defop("asin", lambda xp, x: xp.arcsin(x),
             x=lambda xp, g, x: g / xp.sqrt(1 - x * x))                    # 1/sqrt(1 - x^2)
ACOS = defop("acos", lambda xp, x: xp.arccos(x),
             x=lambda xp, g, x: -g / xp.sqrt(1 - x * x))                   # -1/sqrt(1 - x^2)
ATAN = defop("atan", lambda xp, x: xp.arctan(x),
             x=lambda g, x: g / (1 + x * x))                               # 1/(1 + x^2)
SINH = defop("sinh", lambda xp, x: xp.sinh(x), x=lambda xp, g, x: g * xp.cosh(x))     # cosh x
COSH = defop("cosh", lambda xp, x: xp.cosh(x), x=lambda xp, g, x: g * xp.sinh(x))     # sinh x
ASINH = defop("asinh", lambda xp, x: xp.arcsinh(x),
              x=lambda xp, g, x: g / xp.sqrt(x * x + 1))                   # 1/sqrt(x^2 + 1)
ACOSH = defop("acosh", lambda xp, x: xp.arccosh(x),
              x=lambda xp, g, x: g / xp.sqrt(x * x - 1))                   # 1/sqrt(x^2 - 1)
ATANH = defop("atanh", lambda xp, x: xp.arctanh(x),
              x=lambda g, x: g / (1 - x * x))                              # 1/(1 - x^2)
EXP2 = defop("exp2", lambda xp, x: xp.exp2(x), x=lambda g, out: g * out * LN2)  # 2^x ln 2
ATAN2 = defop("atan2", lambda xp, a, b: xp.arctan2(a, b),
              a=lambda xp, g, a, b: g * b * _atan2_recip(xp, a, b),        # b/(a^2 + b^2)
              b=lambda xp, g, a, b: -g * a * _atan2_recip(xp, a, b))       # -a/(a^2 + b^2)
LOGADDEXP = defop("logaddexp", lambda xp, a, b: xp.logaddexp(a, b),
                  a=lambda xp, g, a, b: g / (1 + xp.exp(b - a)),           # e^a/(e^a + e^b)
                  b=lambda xp, g, a, b: g / (1 + xp.exp(a - b)))           # e^b/(e^a + e^b)
LOGADDEXP2 = defop("logaddexp2", lambda xp, a, b: xp.logaddexp2(a, b),
                   a=lambda xp, g, a, b: g / (1 + xp.exp((b - a) * LN2)),  # 2^a/(2^a + 2^b)
                   b=lambda xp, g, a, b: g / (1 + xp.exp((a - b) * LN2)))  # 2^b/(2^a + 2^b)
COPYSIGN = defop("copysign", lambda xp, a, b: xp.copysign(a, b),
                 a=lambda xp, g, a, out:                                   # +-1 (0 at a = 0)
                     g * xp.where(a == 0, 0, out / xp.where(a == 0, 1, a)),
                 b=lambda g: g * 0)                                        # 0
HYPOT = defop("hypot", lambda xp, a, b: xp.hypot(a, b),
              a=lambda g, a, out: g * a / out,                             # a/hypot(a, b)
              b=lambda g, b, out: g * b / out)                             # b/hypot(a, b)
XLOGY = defop("xlogy", lambda xp, a, b: _xlogy(xp, a, b),
              a=lambda xp, g, a, b: g * _xlogy_grad_a(xp, a, b),  # log b (0 at a = 0, b <= 0)
              b=lambda g, a, b: g * a / b)                                 # a/b
LERP = defop("lerp", lambda xp, start, end, weight: _lerp(xp, start, end, weight),
             start=lambda g, weight: g * (1 - weight),                     # 1 - w
             end=lambda g, weight: g * weight,                             # w
             weight=lambda g, start, end: g * (end - start))               # end - start
CUMPROD = defop("cumprod", lambda xp, x, *, axis: _quiet(xp.cumprod, x, axis=axis),
                x=lambda xp, g, x, out, axis:               # sum_{i>=k} g_i prod_{j<=i,j!=k} x_j
                    _quiet(_cumprod_grad, xp, g, x, out, axis))
LOGCUMSUMEXP = defop("logcumsumexp", lambda xp, x, *, axis: _logcumsumexp(xp, x, axis),
                     x=lambda xp, g, x, out, axis:          # sum_{i>=j} g_i e^(x_j - out_i)
                         _logcumsumexp_grad(xp, g, x, out, axis))
# fmt: on


def _quiet(f, *args, **kwargs):
    """f(...) without NumPy's invalid/overflow warnings (inf * 0 in a cumulative product is
    NaN, as in PyTorch): NumPy attributes those raised in its accumulate to its own frames, which
    minigrad's warning filter does not cover."""
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        return f(*args, **kwargs)


def _xlogy(xp, a, b):
    """a log b, 0 (+0.0) where a == 0 unless b is NaN (PyTorch); log(1) stands in there, so no
    0 * -inf reaches a gradient under create_graph."""
    zero = (a == 0) & (b == b)
    return xp.where(zero, 0, a * xp.log(xp.where(zero, 1, b)))


def _xlogy_grad_a(xp, a, b):
    """log b, also where a = 0 (a positive b), but 0 where a = 0 and b <= 0, as torch."""
    skip = (a == 0) & (b <= 0)
    return xp.where(skip, 0, xp.log(xp.where(skip, 1, b)))


def _lerp(xp, start, end, weight):
    """start + w (end - start) for |w| < 1/2, else end - (end - start)(1 - w) (PyTorch's
    formula: exact at w = 1; with an infinite end, w <= -1/2 gives NaN there too)."""
    step = end - start
    return xp.where(xp.abs(weight) < 0.5, start + weight * step, end - step * (1 - weight))


def _cumprod_grad(xp, g, x, out, axis):
    """Exact where x holds zeros. Arrays, O(n): before the first zero of a slice the quotient
    rule revcumsum(g out) / x_k holds (out is 0 from that zero on); at the first zero, the sum
    of g times the cumulative product with that zero replaced by 1; after it, 0 (every product
    holds the zero). Tensors (double backward): the products of the others built explicitly
    (no division, O(n^2) memory for the one axis), so the result stays differentiable."""
    if isinstance(x, Tensor):
        last, g_last = x.movedim(axis, -1), g.movedim(axis, -1)
        txp, n = last._backend_xp(), last.shape[-1]
        eye = Tensor._make(txp.eye(n, dtype=bool))
        rows = where(eye, 1.0, last.unsqueeze(-2))  # [..., k, j] = x_j, 1 at j == k
        others = cumprod(rows, -1)  # [..., k, i] = prod_{j <= i, j != k} x_j
        later = Tensor._make(txp.triu(txp.ones((n, n), dtype=bool)))  # i >= k
        return sum(where(later, others * g_last.unsqueeze(-2), 0.0), -1).movedim(-1, axis)
    if x.shape[axis] == 0:
        return xp.zeros_like(x)
    zero = x == 0
    zeros_so_far = xp.cumsum(zero, axis=axis)
    before = zeros_so_far == 0
    first = zero & (zeros_so_far == 1)

    def revcumsum(v):
        return xp.flip(xp.cumsum(xp.flip(v, axis), axis=axis), axis)

    # PyTorch's association (so infinities give the same inf or NaN): before the first zero,
    # revcumsum of g out over that stretch only; at it, the prefix product times
    # sum_{z1 <= i < z2} g_i prod_{z1 < j <= i} x_j
    quotient = revcumsum(xp.where(before, g * out, 0)) / xp.where(before, x, 1)
    run = zeros_so_far == 1
    between = run & ~first
    inner = xp.sum(
        xp.cumprod(xp.where(between, x, 1), axis=axis) * xp.where(run, g, 0),
        axis=axis,
        keepdims=True,
    )
    prefix = xp.take(xp.cumprod(xp.where(before, x, 1), axis=axis), [-1], axis=axis)
    return xp.where(before, quotient, xp.where(first, inner * prefix, 0)).astype(x.dtype)


def _logcumsumexp(xp, x, axis):
    """log(cumsum(exp(x))) without overflow or underflow: a prefix scan of logaddexp (log2(n)
    elementwise passes), each partial sum combined in log space."""
    out = xp.moveaxis(x, axis, -1)
    n, shift = out.shape[-1], 1
    while shift < n:
        out = xp.concatenate(
            [out[..., :shift], xp.logaddexp(out[..., shift:], out[..., :-shift])], axis=-1
        )
        shift *= 2
    return xp.moveaxis(out, -1, axis)


def _logcumsumexp_grad(xp, g, x, out, axis):
    """sum_{i>=j} g_i exp(x_j - out_i). Arrays: the positive and negative parts of g summed in
    log space (a reversed logcumsumexp of log|g| - out), so nothing overflows (PyTorch's way).
    Tensors (double backward): the terms built explicitly (O(n^2) memory for the one axis);
    x_j - out_i <= 0 where i >= j, so no overflow either."""
    if isinstance(x, Tensor):
        xl, ol, gl = x.movedim(axis, -1), out.movedim(axis, -1), g.movedim(axis, -1)
        txp, n = xl._backend_xp(), xl.shape[-1]
        later = Tensor._make(txp.triu(txp.ones((n, n), dtype=bool)))  # [j, i]: i >= j
        terms = where(later, xl.unsqueeze(-1) - ol.unsqueeze(-2), -math.inf)
        return sum(exp(terms) * gl.unsqueeze(-2), -1).movedim(-1, axis)

    def reversed_lcse(v):
        return xp.flip(_logcumsumexp(xp, xp.flip(v, axis), axis), axis)

    def log_part(v):  # log(v) where v > 0, -inf elsewhere
        return xp.where(v > 0, xp.log(xp.where(v > 0, v, 1)), -math.inf)

    positive = xp.exp(x + reversed_lcse(log_part(g) - out))
    negative = xp.exp(x + reversed_lcse(log_part(-g) - out))
    return (positive - negative).astype(x.dtype)


# --- argument handling -------------------------------------------------------------------------


def _tensor_arg(value, name: str, position: int, fn: str) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(
            f"{fn}(): argument '{name}' (position {position}) must be Tensor, not "
            f"{type(value).__name__}"
        )
    return value


def _refuse_complex(name: str, *tensors) -> None:
    """NumPy has no complex kernel for these (nor PyTorch, but for logaddexp and logcumsumexp):
    a clear NotImplementedError rather than NumPy's TypeError."""
    for t in tensors:
        if isinstance(t, Tensor) and t._data.dtype.kind == "c":
            raise NotImplementedError(f"{name}(): not implemented for complex tensors ({t.dtype})")


def _float_unary(op, input) -> Tensor:
    x = _tensor_arg(input, "input", 1, op.name)
    if x._data.dtype.kind not in "fc":
        x = cast(x, dtypes.get_default_dtype())  # PyTorch: asin(int tensor) is float
    return apply(op, (x,), {})


def _binary(op, a: Tensor, b) -> Tensor:
    try:
        return apply(op, (a, b), {})
    except ValueError as e:
        raise _broadcast_error(e, a, b) from None


def _float_binary(op, input, other, *, integers: bool = True) -> Tensor:
    """Both Tensors, promoted as PyTorch; `integers=False`: PyTorch has no integer kernel (an
    integer pair raises NotImplementedError; an integer with a float promotes first)."""
    _tensor_arg(input, "input", 1, op.name)
    _tensor_arg(other, "other", 2, op.name)
    _refuse_complex(op.name, input, other)
    if not integers:
        a, b = promote(input, other)
        if a._data.dtype.kind not in "fc":
            raise NotImplementedError(
                f"{op.name}(): not implemented for integer or bool inputs (got {input.dtype} and "
                f"{other.dtype})"
            )
    a, b = _float_operands(input, other)
    return _binary(op, a, b)


# --- public functions: elementwise --------------------------------------------------------------


def asin(input: Tensor) -> Tensor:
    """arcsin, elementwise (NaN outside [-1, 1])."""
    return _float_unary(ASIN, input)


def acos(input: Tensor) -> Tensor:
    """arccos, elementwise (NaN outside [-1, 1])."""
    return _float_unary(ACOS, input)


def atan(input: Tensor) -> Tensor:
    return _float_unary(ATAN, input)


def sinh(input: Tensor) -> Tensor:
    return _float_unary(SINH, input)


def cosh(input: Tensor) -> Tensor:
    return _float_unary(COSH, input)


def asinh(input: Tensor) -> Tensor:
    return _float_unary(ASINH, input)


def acosh(input: Tensor) -> Tensor:
    """arccosh, elementwise (NaN below 1)."""
    return _float_unary(ACOSH, input)


def atanh(input: Tensor) -> Tensor:
    """arctanh, elementwise (+-inf at +-1, NaN beyond)."""
    return _float_unary(ATANH, input)


def exp2(input: Tensor) -> Tensor:
    return _float_unary(EXP2, input)


arcsin, arccos, arctan = asin, acos, atan
arcsinh, arccosh, arctanh = asinh, acosh, atanh


def _atan2_recip(xp, a, b):
    # 1/(a^2 + b^2), 0 where that is 0 (as torch: atan2's gradient at the origin, or where the
    # squares underflow, is 0, not 0 * inf = NaN)
    d = a * a + b * b
    return xp.where(d == 0, 0, 1 / xp.where(d == 0, 1, d))


def atan2(input: Tensor, other: Tensor) -> Tensor:
    """The angle of the point (other, input): arctan(input / other) in the right quadrant."""
    return _float_binary(ATAN2, input, other)


arctan2 = atan2


def logaddexp(input: Tensor, other: Tensor) -> Tensor:
    """log(e^input + e^other) without overflow."""
    return _float_binary(LOGADDEXP, input, other, integers=False)


def logaddexp2(input: Tensor, other: Tensor) -> Tensor:
    """log2(2^input + 2^other) without overflow."""
    return _float_binary(LOGADDEXP2, input, other, integers=False)


def hypot(input: Tensor, other: Tensor) -> Tensor:
    """sqrt(input^2 + other^2) without overflow."""
    return _float_binary(HYPOT, input, other, integers=False)


def copysign(input: Tensor, other) -> Tensor:
    """|input| with the sign of `other` (a Tensor or a number; -0.0 counts as negative)."""
    _tensor_arg(input, "input", 1, "copysign")
    _refuse_complex("copysign", input, other)
    a, b = _float_operands(input, other)
    return _binary(COPYSIGN, a, b)


def xlogy(input, other) -> Tensor:
    """input * log(other), 0 where input is 0 (unless other is NaN); either may be a number."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError("xlogy(): expected at least one Tensor argument, got two numbers")
    _refuse_complex("xlogy", input, other)
    a, b = _float_operands(input, other)
    return _binary(XLOGY, a, b)


def lerp(input: Tensor, end: Tensor, weight) -> Tensor:
    """input + weight * (end - input); `weight` a number or a Tensor (all three broadcast). The
    three share one floating dtype, as PyTorch requires (a 0-d weight is cast to it)."""
    _tensor_arg(input, "input", 1, "lerp")
    _tensor_arg(end, "end", 2, "lerp")
    if input._data.dtype.kind not in "fc":
        raise NotImplementedError(f"lerp(): not implemented for {input.dtype} tensors")
    if end._data.dtype != input._data.dtype:
        raise RuntimeError(f"expected dtype {input.dtype} for `end` but got dtype {end.dtype}")
    if isinstance(weight, Tensor):
        if weight._data.dtype != input._data.dtype:
            if weight.ndim:
                raise RuntimeError(
                    f"expected dtype {input.dtype} for `weight` but got dtype {weight.dtype}"
                )
            weight = cast(weight, input.dtype)  # a 0-d weight takes input's dtype (PyTorch)
    elif isinstance(weight, (bool, int, float)):
        weight = as_tensor_like(float(weight), input)
    else:
        raise TypeError(
            f"lerp(): argument 'weight' must be Tensor or a number, not {type(weight).__name__}"
        )
    try:
        return apply(LERP, (input, end, weight), {})
    except ValueError as e:
        raise _broadcast_error(e, input, end, weight) from None


# --- public functions: cumulative ---------------------------------------------------------------

cummax_result = namedtuple("cummax", ["values", "indices"])
cummin_result = namedtuple("cummin", ["values", "indices"])


def _cumulative_dim(name: str, input, dim, axis) -> int | None:
    _tensor_arg(input, "input", 1, name)
    dim = _alias(dim, axis)
    if dim is None:
        raise TypeError(f'{name}() missing 1 required positional arguments: "dim"')
    return _dim(dim, input.ndim)  # checked on 0-d tensors too (dim must be 0 or -1)


def cumprod(input: Tensor, dim: int | None = None, *, dtype=None, axis=None) -> Tensor:
    """Cumulative product along `dim` (integer and bool inputs give int64, as PyTorch); the
    gradient is exact where the input holds zeros."""
    d = _cumulative_dim("cumprod", input, dim, axis)
    x = input
    if dtype is not None:
        _scan_dtype_check(input, dtype)
        x = x.to(dtype)
    elif x._data.dtype.kind in "biu":
        x = x.to(dtypes.int64)
    if x.ndim == 0:
        return x.clone()
    return apply(CUMPROD, (x,), {"axis": d})


def logcumsumexp(input: Tensor, dim: int | None = None, *, axis=None) -> Tensor:
    """log(cumsum(exp(input))) along `dim`, computed without overflow (floating inputs only,
    as PyTorch)."""
    d = _cumulative_dim("logcumsumexp", input, dim, axis)
    if input._data.dtype.kind not in "fc":
        raise NotImplementedError(f"logcumsumexp(): not implemented for {input.dtype} tensors")
    _refuse_complex("logcumsumexp", input)
    if input.ndim == 0:
        return input.clone()
    return apply(LOGCUMSUMEXP, (input,), {"axis": d})


def _cumulative_extreme(name: str, input, dim, axis, largest: bool):
    d = _cumulative_dim(name, input, dim, axis)
    result = cummax_result if largest else cummin_result
    xp = input._backend_xp()
    if input.ndim == 0:
        return result(input.clone(), Tensor._make(xp.zeros((), dtype=xp.int64)))
    _refuse_complex(name, input)
    data = input._data
    running = (xp.maximum if largest else xp.minimum).accumulate(data, axis=d)
    # the last position so far holding the running extreme (ties: the later one, as PyTorch;
    # a NaN stays the extreme until the next NaN)
    hit = data == running
    if data.dtype.kind == "f":
        hit = hit | xp.isnan(data)
    shape = [1] * data.ndim
    shape[d] = data.shape[d]
    positions = xp.reshape(xp.arange(data.shape[d], dtype=xp.int64), shape)
    index = xp.maximum.accumulate(xp.where(hit, positions, 0), axis=d)
    indices = Tensor._make(index)
    return result(gather(input, d, indices), indices)


def cummax(input: Tensor, dim: int | None = None, *, axis=None):
    """(values, indices): the running maximum along `dim` and where it was found."""
    return _cumulative_extreme("cummax", input, dim, axis, True)


def cummin(input: Tensor, dim: int | None = None, *, axis=None):
    """(values, indices): the running minimum along `dim` and where it was found."""
    return _cumulative_extreme("cummin", input, dim, axis, False)


# --- public functions: moments ------------------------------------------------------------------


def _float_moments(input, name: str) -> Tensor:
    _tensor_arg(input, "input", 1, name)
    if input._data.dtype.kind not in "fc":
        raise RuntimeError(f"{name} only support floating point and complex dtypes")
    return input


def var_mean(
    input: Tensor,
    dim=None,
    *,
    correction=1,
    keepdim: bool = False,
    unbiased=None,
    axis=None,
    keepdims=None,
) -> tuple[Tensor, Tensor]:
    """(var, mean) over `dim` (all dims when None), `correction` as in `var`."""
    x = _float_moments(input, "var_mean")
    kw = dict(keepdim=keepdim, axis=axis, keepdims=keepdims)
    return (
        var(x, dim, correction=correction, unbiased=unbiased, **kw),
        mean(x, dim, keepdim, axis=axis, keepdims=keepdims),
    )


def std_mean(
    input: Tensor,
    dim=None,
    *,
    correction=1,
    keepdim: bool = False,
    unbiased=None,
    axis=None,
    keepdims=None,
) -> tuple[Tensor, Tensor]:
    """(std, mean) over `dim` (all dims when None), `correction` as in `std`."""
    x = _float_moments(input, "std_mean")
    kw = dict(keepdim=keepdim, axis=axis, keepdims=keepdims)
    return (
        std(x, dim, correction=correction, unbiased=unbiased, **kw),
        mean(x, dim, keepdim, axis=axis, keepdims=keepdims),
    )


__all__ = [
    "acos",
    "acosh",
    "arccos",
    "arccosh",
    "arcsin",
    "arcsinh",
    "arctan",
    "arctan2",
    "arctanh",
    "asin",
    "asinh",
    "atan",
    "atan2",
    "atanh",
    "copysign",
    "cosh",
    "cummax",
    "cummin",
    "cumprod",
    "exp2",
    "hypot",
    "lerp",
    "logaddexp",
    "logaddexp2",
    "logcumsumexp",
    "sinh",
    "std_mean",
    "var_mean",
    "xlogy",
]

"""Elementwise primitives: each forward beside its gradient rule, one line each where possible.

Rules read `g` (the output's gradient) and whatever they name: inputs, `out`, params. They never
unbroadcast (the engine sums gradients down to each input's shape) and are written against `xp`,
so they run on arrays in backward and on Tensors under `create_graph=True`.
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from minigrad import dtypes
from minigrad.autograd import apply, defop
from minigrad.tensor import Tensor

SQRT_2 = math.sqrt(2.0)
SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
GELU_C = 0.044715

# fmt: off
ADD = defop("add", lambda xp, a, b: a + b,
            a=lambda g: g,                              # d(a+b)/da = 1
            b=lambda g: g)                              # d(a+b)/db = 1
SUB = defop("sub", lambda xp, a, b: a - b,
            a=lambda g: g,                              # d(a-b)/da = 1
            b=lambda g: -g)                             # d(a-b)/db = -1
MUL = defop("mul", lambda xp, a, b: a * b,
            a=lambda g, b: g * b,                       # d(ab)/da = b
            b=lambda g, a: g * a)                       # d(ab)/db = a
DIV = defop("div", lambda xp, a, b: a / b,
            a=lambda g, b: g / b,                       # d(a/b)/da = 1/b
            b=lambda g, a, b: -g * a / (b * b))         # d(a/b)/db = -a/b^2
POW = defop("pow", lambda xp, a, b: _integer_pow(xp, a, b) if a.dtype.kind == "i" else a ** b,
            a=lambda xp, g, a, b: _pow_grad_base(xp, g, a, b),  # d(a^b)/da = b a^(b-1)
            b=lambda xp, g, a, b, out:                  # d(a^b)/db = a^b ln a  (0 at 0^(b>=0))
                g * xp.where((a == 0) & (b >= 0), 0, out * xp.log(a)))
FMOD = defop("fmod", lambda xp, a, b: xp.fmod(a, b),
             a=lambda g: g,                             # d fmod(a, b)/da = 1
             b=lambda xp, g, a, b: -g * xp.trunc(a / b))  # d fmod(a, b)/db = -trunc(a/b)
REMAINDER = defop("remainder", lambda xp, a, b: _remainder(xp, a, b),
                  a=lambda g: g,                        # d remainder(a, b)/da = 1
                  b=lambda xp, g, a, b:                 # d remainder(a, b)/db = -floor(a/b)
                      -g * xp.floor_divide(a, b))
NEG = defop("neg", lambda xp, x: -x, x=lambda g: -g)                                  # -1
EXP = defop("exp", lambda xp, x: xp.exp(x), x=lambda g, out: g * out)                 # e^x
LOG = defop("log", lambda xp, x: xp.log(x), x=lambda g, x: g / x)                     # 1/x
LOG1P = defop("log1p", lambda xp, x: xp.log1p(x), x=lambda g, x: g / (1 + x))        # 1/(1+x)
EXPM1 = defop("expm1", lambda xp, x: xp.expm1(x), x=lambda g, out: g * (out + 1))     # e^x
SQRT = defop("sqrt", lambda xp, x: xp.sqrt(x), x=lambda g, out: g / (2 * out))       # 1/(2 sqrt x)
RSQRT = defop("rsqrt", lambda xp, x: 1 / xp.sqrt(x),
              x=lambda g, out: -0.5 * g * out * out * out)                           # -x^(-3/2)/2
# torch's grad * sgn(x): sgn(NaN) is 0 (reaches norm(p=1), norm(p=inf) of inf - inf)
ABS = defop("abs", lambda xp, x: xp.abs(x),
            x=lambda xp, g, x: g * xp.where(x != x, 0, xp.sign(x)))                 # sign(x)
# torch: sign(NaN) = 0 (NumPy: NaN)
SIGN = defop("sign", lambda xp, x: xp.where(x != x, 0, xp.sign(x)) if x.dtype.kind == "f"
             else xp.sign(x), x=lambda xp, g: g * 0)                                 # 0
# rounding: piecewise constant, so zero gradient (torch records them, as here); ints unchanged
FLOOR = defop("floor", lambda xp, x: xp.floor(x) if x.dtype.kind == "f" else x.copy(),
              x=lambda xp, g: g * 0)                                                 # 0
CEIL = defop("ceil", lambda xp, x: xp.ceil(x) if x.dtype.kind == "f" else x.copy(),
             x=lambda xp, g: g * 0)                                                  # 0
ROUND = defop("round", lambda xp, x: xp.round(x) if x.dtype.kind == "f" else x.copy(),
              x=lambda xp, g: g * 0)                                                 # 0
TRUNC = defop("trunc", lambda xp, x: xp.trunc(x) if x.dtype.kind == "f" else x.copy(),
              x=lambda xp, g: g * 0)                                                 # 0
SIN = defop("sin", lambda xp, x: xp.sin(x), x=lambda xp, g, x: g * xp.cos(x))         # cos x
COS = defop("cos", lambda xp, x: xp.cos(x), x=lambda xp, g, x: -g * xp.sin(x))        # -sin x
TANH = defop("tanh", lambda xp, x: xp.tanh(x), x=lambda g, out: g * (1 - out * out))  # 1 - tanh^2
SIGMOID = defop("sigmoid", lambda xp, x: 0.5 + 0.5 * xp.tanh(0.5 * x),                # stable
                x=lambda g, out: g * out * (1 - out))                                # s (1 - s)
RELU = defop("relu", lambda xp, x: xp.maximum(x, 0),
             x=lambda xp, g, out: _relu_grad(xp, g, out))                            # 1[x > 0]
LEAKY_RELU = defop("leaky_relu",
                   lambda xp, x, *, negative_slope: xp.where(x > 0, x, x * negative_slope),
                   x=lambda xp, g, x, negative_slope:  # 1 if x > 0 else negative_slope
                       xp.where(x > 0, g, g * negative_slope))
SILU = defop("silu", lambda xp, x: x * (0.5 + 0.5 * xp.tanh(0.5 * x)),
             x=lambda xp, g, x: g * _silu_grad(xp, x))          # s(x) (1 + x (1 - s(x)))
SOFTPLUS = defop("softplus",
                 lambda xp, x, *, beta, threshold: xp.where(
                     x * beta > threshold, x, xp.logaddexp(0, x * beta) / beta),
                 x=lambda xp, g, x, beta, threshold: xp.where(                        # s(beta x)
                     x * beta > threshold, g, g * (0.5 + 0.5 * xp.tanh(0.5 * beta * x))))
GELU = defop("gelu", lambda xp, x, *, approximate: _gelu(xp, x, approximate),
             x=lambda xp, g, x, approximate: _gelu_grad(xp, g, x, approximate))  # Φ(x) + x φ(x)
ERF = defop("erf", lambda xp, x: xp.erf(x),
            x=lambda xp, g, x: g * (2 / math.sqrt(math.pi)) * xp.exp(-x * x))  # 2e^(-x^2)/sqrt(pi)
CLAMP = defop("clamp", lambda xp, x, *, lo, hi: xp.clip(x, lo, hi),
              x=lambda xp, g, x, lo, hi: xp.where((x >= lo) & (x <= hi), g, 0))      # 1 inside
MAXIMUM = defop("maximum", lambda xp, a, b: xp.maximum(a, b),  # ties: half the gradient each
                a=lambda xp, g, a, b: xp.where(a > b, g, xp.where(a == b, g * 0.5, 0)),  # 1[a>b]
                b=lambda xp, g, a, b: xp.where(b > a, g, xp.where(a == b, g * 0.5, 0)))  # 1[b>a]
MINIMUM = defop("minimum", lambda xp, a, b: xp.minimum(a, b),
                a=lambda xp, g, a, b: xp.where(a < b, g, xp.where(a == b, g * 0.5, 0)),  # 1[a<b]
                b=lambda xp, g, a, b: xp.where(b < a, g, xp.where(a == b, g * 0.5, 0)))  # 1[b<a]
WHERE = defop("where", lambda xp, cond, a, b: xp.where(cond, a, b),
              a=lambda xp, g, cond: xp.where(cond, g, 0),                            # 1[cond]
              b=lambda xp, g, cond: xp.where(cond, 0, g))                            # 1[not cond]
CAST = defop("cast", lambda xp, x, *, dtype: x.astype(dtype),
             x=lambda g, x_dtype: g.astype(x_dtype))                       # back to x's dtype
# fmt: on


_INT_OF_SIZE = {2: np.int16, 4: np.int32, 8: np.int64}


def _relu_grad(xp, g, out):
    """where(out > 0, g, 0). NumPy's where branches per element (~10x slower than a plain pass
    on a mask as random as ReLU's), so on NumPy floats g's bits are kept by an integer AND with
    0 or ~0 instead: exact (+0.0 elsewhere, NaN gradients masked too) and branch-free."""
    if type(g) is np.ndarray and type(out) is np.ndarray and g.dtype.kind == "f":
        itype = _INT_OF_SIZE.get(g.dtype.itemsize)
        if itype is not None and g.shape == out.shape and g.size > 64:  # 0-d: where is fine
            keep = np.negative((out > 0).view(np.int8), dtype=itype)  # 1 -> -1: all bits set
            np.bitwise_and(g.view(itype), keep, out=keep)
            return keep.view(g.dtype)
    return xp.where(out > 0, g, 0)


def _pow_grad_base(xp, g, a, b):
    """g b a^(b-1), and 0 at 0^0 (as PyTorch; the formula gives 0 * inf there). The exponent
    is made 1 at those points too, so double backward stays finite."""
    zero = (b == 0) & (a == 0)
    return xp.where(zero, 0, g * b * a ** xp.where(zero, 1, b - 1))


def _silu_grad(xp, x):
    s = 0.5 + 0.5 * xp.tanh(0.5 * x)
    return s * (1 + x * (1 - s))


# GELU is a chain of ~7 elementwise operations forward and ~12 backward: each runs as one fused
# kernel on CuPy (xp.fused), as written on NumPy.
def _gelu_tanh(xp, x):  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    return 0.5 * x * (1 + xp.tanh(SQRT_2_OVER_PI * (x + GELU_C * x * x * x)))


def _gelu_erf(xp, x):  # x Phi(x)
    return 0.5 * x * (1 + xp.erf(x / SQRT_2))


def _gelu_tanh_grad(xp, g, x):
    t = xp.tanh(SQRT_2_OVER_PI * (x + GELU_C * x * x * x))
    dt = SQRT_2_OVER_PI * (1 + 3 * GELU_C * x * x)
    return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * dt)


def _gelu_erf_grad(xp, g, x):  # g (Phi(x) + x phi(x))
    return g * (0.5 * (1 + xp.erf(x / SQRT_2)) + x * INV_SQRT_2PI * xp.exp(-0.5 * x * x))


def _gelu(xp, x, approximate):
    return xp.fused(_gelu_tanh if approximate == "tanh" else _gelu_erf)(x)


def _gelu_grad(xp, g, x, approximate):
    return xp.fused(_gelu_tanh_grad if approximate == "tanh" else _gelu_erf_grad)(g, x)


# --- operand handling: PyTorch's type promotion -----------------------------------------------


def _integer_pow(xp, a, b):
    """Signed integer powers as torch: a negative exponent truncates 1/a^|b| (1 for a = 1, +-1
    for a = -1, else 0; NumPy raises ValueError)."""
    negative = b < 0
    powers = a ** xp.where(negative, 0, b)
    odd = (b % 2) != 0
    inverse = xp.where(a == 1, 1, xp.where(a == -1, xp.where(odd, -1, 1), 0)).astype(a.dtype)
    return xp.where(negative, inverse, powers)


_NO_PARAMS: dict = {}  # shared by the hot calls of ops without params (never mutated)


def as_tensor_like(value, like: Tensor, dtype=None) -> Tensor:
    """A constant Tensor for `value` on `like`'s device (Python scalars, arrays, lists)."""
    if isinstance(value, Tensor):
        return value
    xp = like._backend_xp()
    dtype = dtype or like._data.dtype
    if type(value) is int and dtype.kind in "iu":  # PyTorch wraps: uint8 tensor + -1 is + 255
        info = np.iinfo(dtype)
        if not info.min <= value <= info.max:
            if not -(2**63) <= value < 2**64:
                raise OverflowError(f"Python int {value} too big to convert to {dtype}")
            value = int(np.asarray(value % 2**64, dtype=np.uint64).astype(dtype))
    return Tensor._make(xp.asarray(value, dtype=dtype))


def promote(*operands) -> list[Tensor] | tuple[Tensor, ...]:
    """Tensors for `operands` (Tensors and Python scalars), cast to PyTorch's result dtype."""
    if len(operands) == 2:  # the hot case (every binary operator): two Tensors of one dtype
        a, b = operands
        if isinstance(a, Tensor) and isinstance(b, Tensor) and a._data.dtype is b._data.dtype:
            return operands
    tensors = [o for o in operands if isinstance(o, Tensor)]
    first = tensors[0]
    dt = first._data.dtype
    if len(tensors) == len(operands) and all(t._data.dtype is dt for t in tensors):
        return list(operands)  # the common case: no promotion needed
    dims = [t._data.dtype for t in tensors if t._data.ndim]
    zero = [t._data.dtype for t in tensors if not t._data.ndim]
    # NumPy scalars (np.float32(2), a reduction's result) count as Python numbers, as in PyTorch
    operands = [
        o.item()
        if hasattr(o, "dtype") and not isinstance(o, Tensor) and not getattr(o, "ndim", 1)
        else o
        for o in operands
    ]
    scalars = [o for o in operands if not isinstance(o, Tensor)]
    for s in scalars:
        if not isinstance(s, (int, float, bool)):
            raise TypeError(
                f"unsupported operand type {type(s).__name__}: expected a Tensor or a Python number"
            )
    result = dtypes.result_type(dims, zero, scalars)
    out = []
    for o in operands:
        if isinstance(o, Tensor):
            out.append(o if o._data.dtype == result else cast(o, result))
        else:
            out.append(as_tensor_like(o, first, result))
    return out


def _broadcast_error(error: Exception, *tensors: Tensor) -> Exception:
    """PyTorch's RuntimeError for shapes that do not broadcast (NumPy's ValueError otherwise
    leaks through), naming the first mismatching pair; `error` itself when the shapes do
    broadcast (it came from elsewhere)."""
    shapes = [tuple(t.shape) for t in tensors if isinstance(t, Tensor)]
    ndim = builtins.max(len(s) for s in shapes)
    for k in range(1, ndim + 1):
        sizes = [(s[-k], i) for i, s in enumerate(shapes) if len(s) >= k and s[-k] != 1]
        for size, i in sizes[1:]:
            if size != sizes[0][0]:
                return RuntimeError(
                    f"The size of tensor {chr(97 + sizes[0][1])} ({sizes[0][0]}) must match the "
                    f"size of tensor {chr(97 + i)} ({size}) at non-singleton dimension "
                    f"{ndim - k} (shapes {', '.join(str(list(s)) for s in shapes)})"
                )
    return error


def _float_operands(*operands) -> list[Tensor]:
    """Promote, then make integer results the default float (true division, pow with floats)."""
    ops = promote(*operands)
    if ops[0]._data.dtype.kind not in "fc":
        # Python numbers straight to the float dtype: through the integer dtype a uint8
        # tensor's -3 / x would divide 253
        like = next(o for o in operands if isinstance(o, Tensor))
        float_dtype = dtypes.get_default_dtype()
        ops = [
            cast(t, float_dtype) if isinstance(o, Tensor) else as_tensor_like(o, like, float_dtype)
            for o, t in zip(operands, ops)
        ]
    return ops


def _as_tensor(x) -> Tensor:
    if isinstance(x, Tensor):
        return x
    raise TypeError(f"expected a Tensor, got {type(x).__name__}")


def _float_input(x: Tensor, name: str) -> Tensor:
    x = _as_tensor(x)
    if x._data.dtype.kind not in "fc":
        return cast(x, dtypes.get_default_dtype())  # PyTorch: exp(int tensor) is float
    return x


# --- public functions (also Tensor methods; see minigrad/ops/__init__.py) -------------------


def cast(x: Tensor, dtype) -> Tensor:
    dtype = dtypes.as_dtype(dtype)
    if dtype.kind not in "fc" or x._data.dtype.kind not in "fc":
        out = Tensor._make(x._data.astype(dtype))  # casts to or from integers carry no gradient
        return out
    return apply(CAST, (x,), {"dtype": dtype})


def add(input, other, *, alpha=1) -> Tensor:
    if alpha == 1 and isinstance(input, Tensor) and isinstance(other, Tensor):
        # the hot case: one float dtype, no promotion
        if input._data.dtype is other._data.dtype and input._data.dtype.kind in "fc":
            try:
                return apply(ADD, (input, other), _NO_PARAMS)
            except ValueError as e:
                raise _broadcast_error(e, input, other) from None
    if alpha != 1:
        other = mul(other, alpha)
    input, other = promote(input, other)
    try:
        return apply(ADD, (input, other), {})
    except ValueError as e:
        raise _broadcast_error(e, input, other) from None


def sub(input, other, *, alpha=1) -> Tensor:
    if alpha == 1 and isinstance(input, Tensor) and isinstance(other, Tensor):
        # the hot case: one float dtype, no promotion
        if input._data.dtype is other._data.dtype and input._data.dtype.kind in "fc":
            try:
                return apply(SUB, (input, other), _NO_PARAMS)
            except ValueError as e:
                raise _broadcast_error(e, input, other) from None
    if alpha != 1:
        other = mul(other, alpha)
    input, other = promote(input, other)
    if input._data.dtype.kind == "b":
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported.")
    try:
        return apply(SUB, (input, other), {})
    except ValueError as e:
        raise _broadcast_error(e, input, other) from None


def mul(input, other) -> Tensor:
    if (
        isinstance(input, Tensor)
        and isinstance(other, Tensor)
        and input._data.dtype is other._data.dtype
    ):
        try:
            return apply(MUL, (input, other), _NO_PARAMS)  # hot: no promotion, no promote()
        except ValueError as e:
            raise _broadcast_error(e, input, other) from None
    input, other = promote(input, other)
    try:
        return apply(MUL, (input, other), {})
    except ValueError as e:
        raise _broadcast_error(e, input, other) from None


def div(input, other, *, rounding_mode: str | None = None) -> Tensor:
    if rounding_mode is not None:
        return _rounded_div(input, other, rounding_mode)
    input, other = _float_operands(input, other)
    try:
        return apply(DIV, (input, other), {})
    except ValueError as e:
        raise _broadcast_error(e, input, other) from None


divide = div


def true_divide(dividend, divisor) -> Tensor:
    """`div` without a rounding mode (torch's older name)."""
    return div(dividend, divisor)


def _check_integer_divisor(a: Tensor, b: Tensor) -> None:
    """PyTorch raises for an integer division by zero (NumPy returns 0 with a warning), when
    some element is computed: an empty result divides nothing."""
    if b._data.dtype.kind in "iub" and bool((b._data == 0).any()):
        try:
            empty = 0 in np.broadcast_shapes(a.shape, b.shape)
        except ValueError:  # the op itself reports the shapes
            return
        if not empty:
            raise RuntimeError("ZeroDivisionError")


def _rounded_div(a, b, rounding_mode: str) -> Tensor:
    a, b = promote(a, b)
    _check_integer_divisor(a, b)
    xp = a._backend_xp()
    try:
        if rounding_mode == "floor":
            return Tensor._make(xp.floor_divide(a._data, b._data))
        if rounding_mode == "trunc":
            q = a._data / b._data
            return Tensor._make(xp.trunc(q).astype(a._data.dtype))
    except ValueError as e:
        raise _broadcast_error(e, a, b) from None
    raise ValueError(
        f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
        f"'{rounding_mode}'"
    )


def floor_divide(input, other) -> Tensor:
    return _rounded_div(input, other, "floor")


def _remainder(xp, a, b):
    # torch's: fmod, then b added where the signs differ. a - floor(a/b) b would be NaN at
    # 5 % inf (5, as Python's), and NumPy's remainder gives a zero the divisor's sign
    m = xp.fmod(a, b)
    return xp.where((m != 0) & ((b < 0) != (m < 0)), m + b, m)


def remainder(input, other) -> Tensor:
    """a - floor(a/b) * b, with the sign of the divisor (Python's %); as PyTorch's."""
    input, other = promote(input, other)
    _check_integer_divisor(input, other)
    try:
        return apply(REMAINDER, (input, other), {})
    except ValueError as e:
        raise _broadcast_error(e, input, other) from None


def fmod(input: Tensor, other) -> Tensor:
    """C's fmod: a - trunc(a/b) * b, with the sign of the dividend (`remainder` takes the
    divisor's); differentiable in both, as in PyTorch."""
    if not isinstance(input, Tensor):
        raise TypeError(f"fmod(): argument 'input' must be Tensor, not {type(input).__name__}")
    input, other = promote(input, other)
    _check_integer_divisor(input, other)
    try:
        return apply(FMOD, (input, other), {})
    except ValueError as e:
        raise _broadcast_error(e, input, other) from None


def pow(input, exponent) -> Tensor:
    if (
        isinstance(exponent, (int, float))
        and isinstance(input, Tensor)
        and input._data.dtype.kind in "iub"
    ):
        if isinstance(exponent, float):
            input = cast(input, dtypes.get_default_dtype())
        elif exponent < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
    input, exponent = promote(input, exponent)
    try:
        return apply(POW, (input, exponent), {})
    except ValueError as e:
        raise _broadcast_error(e, input, exponent) from None


def neg(input: Tensor) -> Tensor:
    return apply(NEG, (_as_tensor(input),), {})


negative = neg


def _unary(op, float_only: bool = True):
    def fn(input: Tensor) -> Tensor:
        if isinstance(input, Tensor) and (not float_only or input._data.dtype.kind in "fc"):
            return apply(op, (input,), _NO_PARAMS)  # the hot case, without the checks' calls
        return apply(op, (_float_input(input, op.name) if float_only else _as_tensor(input),), {})

    fn.__name__ = op.name
    fn.__qualname__ = op.name
    fn.__doc__ = (
        f"Elementwise {op.name}; the gradient rule is `minigrad.ops.elementwise.{op.name.upper()}`."
    )
    return fn


exp = _unary(EXP)
log = _unary(LOG)
log1p = _unary(LOG1P)
expm1 = _unary(EXPM1)
sqrt = _unary(SQRT)
rsqrt = _unary(RSQRT)
sin = _unary(SIN)
cos = _unary(COS)
tanh = _unary(TANH)
sigmoid = _unary(SIGMOID)
erf = _unary(ERF)
abs = _unary(ABS, float_only=False)
sign = _unary(SIGN, float_only=False)
relu = _unary(RELU, float_only=False)
silu = _unary(SILU)


def square(input: Tensor) -> Tensor:
    return mul(input, input)


def log2(input: Tensor) -> Tensor:
    return mul(log(input), 1 / math.log(2))


def log10(input: Tensor) -> Tensor:
    return mul(log(input), 1 / math.log(10))


def reciprocal(input: Tensor) -> Tensor:
    return div(1.0, input)


def tan(input: Tensor) -> Tensor:
    return div(sin(input), cos(input))


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    return apply(LEAKY_RELU, (_as_tensor(x),), {"negative_slope": float(negative_slope)})


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    if approximate not in ("none", "tanh"):
        raise ValueError(f"approximate argument must be either none or tanh, got {approximate!r}")
    return apply(GELU, (_float_input(input, "gelu"),), {"approximate": approximate})


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    return apply(
        SOFTPLUS,
        (_float_input(x, "softplus"),),
        {"beta": float(beta), "threshold": float(threshold)},
    )


def clamp(input: Tensor, min=None, max=None) -> Tensor:
    """Limit to [min, max]; gradient 1 inside (bounds included), 0 outside. Bounds may be
    Tensors."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        return _clamp_by_tensors(input, min, max)
    if input._data.dtype.kind in "iu" and (isinstance(min, float) or isinstance(max, float)):
        input = cast(input, dtypes.get_default_dtype())
    if input._data.dtype.kind in "iu":  # integer bounds keep the dtype (torch's wrap for uint8)
        info = np.iinfo(input._data.dtype)
        lo = info.min if min is None else dtypes.fill_scalar(min, input._data.dtype)
        hi = info.max if max is None else dtypes.fill_scalar(max, input._data.dtype)
    else:
        lo = -math.inf if min is None else min
        hi = math.inf if max is None else max
    return apply(CLAMP, (input,), {"lo": lo, "hi": hi})


clip = clamp


def _clamp_by_tensors(x: Tensor, min, max) -> Tensor:
    """min(max(x, min), max) with torch's gradients: x where min <= x <= max, min where
    x < min < max, max where x > max or max < min; a NaN bound gives NaN."""
    given = [b for b in (min, max) if b is not None]
    x, *bounds = promote(x, *given)
    lo = bounds.pop(0) if min is not None else None
    hi = bounds.pop(0) if max is not None else None
    out = x
    if lo is not None:
        below = (x < lo) | (lo != lo)
        out = where(below, lo if hi is None else where(lo < hi, lo, lo.detach()), out)
    if hi is not None:
        out = where((x > hi) | (hi != hi), hi, out)
        if lo is not None:
            out = where((hi < lo) & (x == x), hi, out)  # NaN stays NaN, as torch
    return out


def maximum(input, other) -> Tensor:
    input, other = promote(input, other)
    try:
        return apply(MAXIMUM, (input, other), {})
    except ValueError as e:
        raise _broadcast_error(e, input, other) from None


def minimum(input, other) -> Tensor:
    input, other = promote(input, other)
    try:
        return apply(MINIMUM, (input, other), {})
    except ValueError as e:
        raise _broadcast_error(e, input, other) from None


def where(condition, input=None, other=None) -> Tensor:
    """`condition ? input : other` elementwise; gradients flow to the chosen side only."""
    if input is None and other is None:
        from minigrad.ops.reduce import nonzero

        return nonzero(condition, as_tuple=True)
    cond = condition if isinstance(condition, Tensor) else None
    if cond is None:
        like = input if isinstance(input, Tensor) else other
        cond = as_tensor_like(condition, like, dtypes.bool)
    if cond._data.dtype.kind != "b":
        cond = Tensor._make(cond._data.astype(bool))
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input = as_tensor_like(input, cond, dtypes.result_type([], [], [input, other]))
    a, b = promote(input, other)
    try:
        return apply(WHERE, (cond, a, b), {})
    except ValueError as e:
        raise _broadcast_error(e, cond, a, b) from None


def masked_fill(input: Tensor, mask, value) -> Tensor:
    if isinstance(value, Tensor) and value.ndim != 0:
        raise RuntimeError(
            f"masked_fill only supports a 0-dimensional value tensor, but got tensor with "
            f"{value.ndim} dimension(s)."
        )
    mask = mask if isinstance(mask, Tensor) else as_tensor_like(mask, input, dtypes.bool)
    if mask._data.dtype.kind != "b":
        raise RuntimeError(
            f"masked_fill only supports boolean masks, but got mask with dtype {mask.dtype}"
        )
    value = value if isinstance(value, Tensor) else as_tensor_like(value, input)
    if value._data.dtype != input._data.dtype:
        value = cast(value, input._data.dtype)
    return where(mask, value, input)


# --- comparisons and other ops without gradients ----------------------------------------------


def _compare(name: str):
    def fn(input, other) -> Tensor:
        input, other = promote(input, other)
        xp = input._backend_xp()
        try:
            return Tensor._make(getattr(xp, name)(input._data, other._data))
        except ValueError as e:
            raise _broadcast_error(e, input, other) from None

    fn.__name__ = name
    return fn


eq = _compare("equal")
ne = _compare("not_equal")
lt = _compare("less")
le = _compare("less_equal")
gt = _compare("greater")
ge = _compare("greater_equal")
logical_and = _compare("logical_and")
logical_or = _compare("logical_or")
logical_xor = _compare("logical_xor")

# PyTorch's names for dtypes in "not implemented for 'Float'" errors
_TORCH_TYPE_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "bool": "Bool"}


def _integer_only(t: Tensor, kernel: str, allow_bool: bool = True) -> None:
    kind = t._data.dtype.kind
    if kind not in ("biu" if allow_bool else "iu"):
        name = _TORCH_TYPE_NAMES.get(t._data.dtype.name, t._data.dtype.name)
        raise NotImplementedError(f'"{kernel}_cpu" not implemented for {name!r}')


def _bitwise(name: str, kernel: str):
    def fn(input, other) -> Tensor:
        input, other = promote(input, other)
        _integer_only(input, kernel)
        xp = input._backend_xp()
        try:
            return Tensor._make(getattr(xp, name)(input._data, other._data))
        except ValueError as e:
            raise _broadcast_error(e, input, other) from None

    fn.__name__ = name
    fn.__doc__ = f"Elementwise {name} of integer or bool tensors (bool: the logical op)."
    return fn


bitwise_and = _bitwise("bitwise_and", "bitwise_and")
bitwise_or = _bitwise("bitwise_or", "bitwise_or")
bitwise_xor = _bitwise("bitwise_xor", "bitwise_xor")


def _shift(a, b, left: bool) -> Tensor:
    """C shifts made total as in PyTorch: a shift by a negative amount or by the width of the
    type or more gives 0 (left) or the sign fill (right), where C (and NumPy) are undefined."""
    a, b = promote(a, b)
    _integer_only(a, "lshift" if left else "rshift", allow_bool=False)
    xp = a._backend_xp()
    x, n = a._data, b._data
    bits = x.dtype.itemsize * 8
    inside = (n >= 0) & (n < bits)
    safe = xp.where(inside, n, 0).astype(x.dtype)
    if left:
        shifted = xp.left_shift(x, safe)
        return Tensor._make(xp.where(inside, shifted, xp.zeros_like(shifted)))
    shifted = xp.right_shift(x, safe)
    fill = xp.right_shift(x, xp.asarray(bits - 1, dtype=x.dtype))  # 0 or -1 (unsigned: 0)
    return Tensor._make(xp.where(inside, shifted, fill))


def bitwise_left_shift(input, other) -> Tensor:
    return _shift(input, other, left=True)


def bitwise_right_shift(input, other) -> Tensor:
    return _shift(input, other, left=False)


def logical_not(input: Tensor) -> Tensor:
    return Tensor._make(input._backend_xp().logical_not(input._data))


def bitwise_not(input: Tensor) -> Tensor:
    _integer_only(_as_tensor(input), "bitwise_not")
    xp = input._backend_xp()
    fn = xp.logical_not if input._data.dtype.kind == "b" else xp.invert
    return Tensor._make(fn(input._data))


def _invert(x: Tensor) -> Tensor:
    """`~x`: bitwise_not, with the TypeError PyTorch's operator raises for floats."""
    if isinstance(x, Tensor) and x._data.dtype.kind not in "biu":
        raise TypeError(
            f"~ (operator.invert) is only implemented on integer and Boolean-type tensors, got "
            f"{x.dtype}"
        )
    return bitwise_not(x)


def _nograd_unary(name: str):
    def fn(input: Tensor) -> Tensor:
        return Tensor._make(getattr(input._backend_xp(), name)(input._data))

    fn.__name__ = name
    return fn


floor = _unary(FLOOR, float_only=False)
ceil = _unary(CEIL, float_only=False)
round = _unary(ROUND, float_only=False)
trunc = _unary(TRUNC, float_only=False)
isnan = _nograd_unary("isnan")
isinf = _nograd_unary("isinf")
isfinite = _nograd_unary("isfinite")


def equal(input: Tensor, other: Tensor) -> bool:
    """True when both tensors have the same shape and elements (PyTorch's `torch.equal`)."""
    return input.shape == other.shape and bool(eq(input, other)._data.all())


def allclose(
    input: Tensor, other: Tensor, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False
) -> bool:
    xp = input._backend_xp()
    return bool(xp.allclose(input._data, other._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def isclose(
    input: Tensor, other: Tensor, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False
) -> Tensor:
    xp = input._backend_xp()
    return Tensor._make(
        xp.isclose(input._data, other._data, rtol=rtol, atol=atol, equal_nan=equal_nan)
    )

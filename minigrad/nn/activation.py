"""The activation functions beyond ReLU/GELU/SiLU: each one primitive with its gradient rule
(ELU family, hard and soft shrinkage, thresholds) or a short composition of primitives (Mish,
Softmin, PReLU, GLU), and the PyTorch modules that wrap them (`nn.ELU`, ..., `nn.GLU`).

The F-level functions are re-exported by `minigrad.nn.functional`; the modules by `minigrad.nn`.
"""

from __future__ import annotations

import math

import numpy as np

from minigrad import dtypes
from minigrad.autograd import apply, defop
from minigrad.nn.module import Module, Parameter
from minigrad.ops import elementwise as _ew
from minigrad.ops import shape as _shape
from minigrad.tensor import Tensor

__all__ = [
    "elu", "elu_", "selu", "celu", "relu6", "hardtanh", "hardtanh_", "hardswish", "hardsigmoid",
    "mish", "logsigmoid", "softsign", "softmin", "softshrink", "hardshrink", "tanhshrink",
    "threshold", "threshold_", "prelu", "glu",
    "ELU", "SELU", "CELU", "ReLU6", "Hardtanh", "Hardswish", "Hardsigmoid", "Mish", "LogSigmoid",
    "Softsign", "Softmin", "Softshrink", "Hardshrink", "Tanhshrink", "Threshold", "PReLU", "GLU",
]  # fmt: skip

SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946

# torch's hardsigmoid backward multiplies by the float32 constant 1/6, in every dtype
ONE_SIXTH = float(np.float32(1.0 / 6.0))

# fmt: off
# elu(x) = scale * (x if x > 0 else alpha (e^(x/s) - 1)), s the input scale (celu: s = alpha)
ELU_OP = defop("elu",
            lambda xp, x, *, alpha, scale, s: scale * xp.where(
                x > 0, x, alpha * (xp.exp(xp.minimum(x, 0) / s) - 1)),
            x=lambda xp, g, x, alpha, scale, s: xp.where(  # scale | (scale alpha / s) e^(x/s)
                x > 0, g * scale, g * (scale * alpha / s) * xp.exp(xp.minimum(x, 0) / s)))
HARDTANH_OP = defop("hardtanh",
                 lambda xp, x, *, low, high: xp.minimum(xp.maximum(x, low), high),
                 x=lambda xp, g, x, low, high: xp.where(           # 1 inside (low, high), else 0
                     (x > low) & (x < high), g, g * 0))
HARDSWISH_OP = defop("hardswish",
                  lambda xp, x: x * xp.minimum(xp.maximum(x + 3, 0), 6) / 6,
                  x=lambda xp, g, x: xp.where(                     # 0 | x/3 + 1/2 | 1
                      x <= -3, g * 0, xp.where(x >= 3, g, g * (x / 3 + 0.5))))
HARDSIGMOID_OP = defop("hardsigmoid",
                    lambda xp, x: xp.minimum(xp.maximum(x + 3, 0), 6) / 6,
                    x=lambda xp, g, x: xp.where(                   # 1/6 inside (-3, 3), else 0
                        (x > -3) & (x < 3), g * ONE_SIXTH, g * 0))
LOGSIGMOID_OP = defop("logsigmoid",
                   lambda xp, x: xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x))),  # stable
                   x=lambda xp, g, x: g * (0.5 - 0.5 * xp.tanh(0.5 * x)))        # 1 - s(x)
# torch composes x / (1 + |x|): its gradient is the quotient rule's two terms (NaN at +-inf)
SOFTSIGN_OP = defop("softsign", lambda xp, x: x / (1 + xp.abs(x)),
                 x=lambda xp, g, x: g / (1 + xp.abs(x))        # 1/(1+|x|) - x sgn(x)/(1+|x|)^2
                 - g * x / ((1 + xp.abs(x)) * (1 + xp.abs(x))) * xp.sign(x))
SOFTSHRINK_OP = defop("softshrink",
                   lambda xp, x, *, lambd: xp.where(
                       x > lambd, x - lambd, xp.where(x < -lambd, x + lambd, x * 0)),
                   x=lambda xp, g, x, lambd: xp.where(xp.abs(x) > lambd, g, g * 0))  # 1[|x|>λ]
HARDSHRINK_OP = defop("hardshrink",
                   lambda xp, x, *, lambd: xp.where(xp.abs(x) > lambd, x, x * 0),
                   x=lambda xp, g, x, lambd: xp.where(xp.abs(x) > lambd, g, g * 0))  # 1[|x|>λ]
THRESHOLD_OP = defop("threshold",
                  lambda xp, x, *, threshold, value: xp.where(          # NaN stays NaN
                      x <= threshold, xp.asarray(value, dtype=x.dtype), x),
                  x=lambda xp, g, x, threshold: xp.where(x <= threshold, g * 0, g))  # 1[!(x<=t)]
# fmt: on


# torch's C++ names of the dtypes, as its "not implemented for 'Long'" errors spell them
_TYPE_NAMES = {
    dtypes.bool: "Bool", dtypes.uint8: "Byte", dtypes.int8: "Char", dtypes.int16: "Short",
    dtypes.int32: "Int", dtypes.int64: "Long", dtypes.float16: "Half", dtypes.float32: "Float",
    dtypes.float64: "Double",
}  # fmt: skip


def _type_name(dtype) -> str:
    return _TYPE_NAMES.get(dtype, str(dtype))


def _floating(x, name: str, kernel: str | None = None) -> Tensor:
    """torch implements these for floating dtypes only (NotImplementedError otherwise)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(x).__name__}")
    if x.dtype.kind != "f":
        raise NotImplementedError(
            f'"{kernel or name}_cpu" not implemented for {_type_name(x.dtype)!r}'
        )
    return x


def _maybe_inplace(input: Tensor, result: Tensor, inplace: bool) -> Tensor:
    return input._inplace(result) if inplace else result


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """x if x > 0 else alpha (e^x - 1)."""
    x = _floating(input, "elu")
    params = {"alpha": float(alpha), "scale": 1.0, "s": 1.0}
    return _maybe_inplace(input, apply(ELU_OP, (x,), params), inplace)


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    return elu(input, alpha, inplace=True)


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale (x if x > 0 else alpha (e^x - 1)) with the self-normalising alpha and scale."""
    x = _floating(input, "selu", "elu")
    params = {"alpha": SELU_ALPHA, "scale": SELU_SCALE, "s": 1.0}
    return _maybe_inplace(input, apply(ELU_OP, (x,), params), inplace)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, x) + min(0, alpha (e^(x/alpha) - 1))."""
    x = _floating(input, "celu", "elu")
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    params = {"alpha": float(alpha), "scale": 1.0, "s": float(alpha)}
    return _maybe_inplace(input, apply(ELU_OP, (x,), params), inplace)


def hardtanh(
    input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False
) -> Tensor:
    """x clipped to [min_val, max_val]; gradient 1 strictly inside, 0 on and beyond the ends."""
    if not isinstance(input, Tensor):
        raise TypeError(f"hardtanh(): argument 'input' must be Tensor, not {type(input).__name__}")
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    if input.dtype == dtypes.bool:
        raise RuntimeError("\"hardtanh_cpu\" not implemented for 'Bool'")
    if input.dtype.kind == "u" and (min_val < 0 or max_val < 0):
        raise RuntimeError("cannot do hardtanh on an unsigned type with negative limits")
    if input.dtype.kind in "iu":
        low, high = math.ceil(min_val), math.floor(max_val)  # torch casts the bounds
    else:
        low, high = float(min_val), float(max_val)
    return _maybe_inplace(input, apply(HARDTANH_OP, (input,), {"low": low, "high": high}), inplace)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    return hardtanh(input, min_val, max_val, inplace=True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(x, 0), 6) (hardtanh over [0, 6])."""
    return hardtanh(input, 0.0, 6.0, inplace)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x relu6(x + 3) / 6."""
    x = _floating(input, "hardswish")
    return _maybe_inplace(input, apply(HARDSWISH_OP, (x,), {}), inplace)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6."""
    x = _floating(input, "hardsigmoid")
    return _maybe_inplace(input, apply(HARDSIGMOID_OP, (x,), {}), inplace)


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x tanh(softplus(x)) (composed: softplus and tanh carry the gradient)."""
    x = _floating(input, "mish")
    return _maybe_inplace(input, _ew.mul(x, _ew.tanh(_ew.softplus(x))), inplace)


def logsigmoid(input: Tensor) -> Tensor:
    """log(1 / (1 + e^-x)), computed as min(x, 0) - log(1 + e^-|x|) (no overflow)."""
    return apply(LOGSIGMOID_OP, (_floating(input, "logsigmoid", "log_sigmoid"),), {})


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|) (integer inputs give floats, as in torch)."""
    if isinstance(input, Tensor) and input.dtype == dtypes.bool:
        raise NotImplementedError("\"abs_cpu\" not implemented for 'Bool'")  # as torch's abs
    return apply(SOFTSIGN_OP, (_ew._float_input(input, "softsign"),), {})


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """softmax(-x) along dim."""
    from minigrad.nn.functional import softmax

    return softmax(_ew.neg(input), dim, dtype=dtype)


def _check_lambda(name: str, input: Tensor, lambd: float) -> None:
    if lambd < 0:
        raise RuntimeError(
            f"lambda must be in range [0, 3.40282e+38] for input dtype "
            f"{_type_name(input.dtype)}, but found {lambd:g}"
        )


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x - λ above λ, x + λ below -λ, 0 between."""
    x = _floating(input, "softshrink", "softshrink_check")
    _check_lambda("softshrink", x, lambd)
    return apply(SOFTSHRINK_OP, (x,), {"lambd": float(lambd)})


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """x where |x| > λ, else 0."""
    x = _floating(input, "hardshrink")
    return apply(HARDSHRINK_OP, (x,), {"lambd": float(lambd)})


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x)."""
    if isinstance(input, Tensor) and input.dtype == dtypes.bool:
        raise RuntimeError(  # torch's x - tanh(x): bool subtraction
            "Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
            "trying to invert a mask, use the `~` or `logical_not()` operator instead."
        )
    x = _ew._float_input(input, "tanhshrink")
    return _ew.sub(x, _ew.tanh(x))


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """x where x > threshold, else value."""
    if not isinstance(input, Tensor):
        raise TypeError(f"threshold(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input.dtype.kind in "iu":
        threshold = _checked_int(threshold, input.dtype)
        value = _checked_int(value, input.dtype)
    params = {"threshold": threshold, "value": value}
    return _maybe_inplace(input, apply(THRESHOLD_OP, (input,), params), inplace)


def _checked_int(v, dtype) -> int:
    """A Python scalar converted to an integer dtype as torch's c10::checked_convert does: a
    float must lie in the dtype's range (then truncates); an int too, except that an unsigned
    dtype takes -max..-1 (two's complement wrap, uint8: -1 is 255)."""
    info = np.iinfo(dtype)
    if isinstance(v, (float, np.floating)):
        ok = info.min <= v <= info.max
    elif dtype.kind == "u":
        ok = -info.max <= v <= info.max
    else:
        ok = info.min <= v <= info.max
    if not ok:
        raise RuntimeError(f"value cannot be converted to type {dtype.name}_t without overflow")
    return int(np.array(int(v)).astype(dtype))


_threshold = threshold  # the function, for callers whose parameter is also called `threshold`


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    return _threshold(input, threshold, value, inplace=True)


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """max(0, x) + weight min(0, x), one weight per channel (dim 1; inputs of fewer than two
    dims have one channel)."""
    x = _floating(input, "prelu")
    if not isinstance(weight, Tensor):
        raise TypeError(f"prelu(): argument 'weight' must be Tensor, not {type(weight).__name__}")
    if weight.dtype != x.dtype:
        raise RuntimeError(
            f"prelu: Type promoting not supported. Got {_type_name(x.dtype)} and "
            f"{_type_name(weight.dtype)}"
        )
    if weight.ndim > 1:
        raise RuntimeError(
            f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = {weight.ndim}"
        )
    n = weight.numel()
    channels = x.shape[1] if x.ndim >= 2 else 1
    if n != 1 and n != channels:
        raise RuntimeError(
            f"Mismatch of parameter numbers and input channel size. Found parameter numbers = "
            f"{n} and channel size = {channels}."
        )
    if n != 1 and x.ndim >= 2:  # one weight per channel, broadcast over dim 1
        weight = _shape.reshape(weight, (1, n) + (1,) * (x.ndim - 2))
    elif weight.ndim == 1 and x.ndim == 0:
        weight = _shape.reshape(weight, ())
    # weight * min(x, 0) rather than weight * x: the weight's gradient ignores x > 0 (even inf)
    return _ew.where(x > 0, x, _ew.mul(weight, _ew.where(x > 0, 0.0, x)))


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """a sigmoid(b), where a, b are the two halves of input along dim."""
    x = _floating(input, "glu")
    if x.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    d = dim + x.ndim if dim < 0 else dim
    if not 0 <= d < x.ndim:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-x.ndim}, {x.ndim - 1}], "
            f"but got {dim})"
        )
    if x.shape[d] % 2:
        raise RuntimeError(
            f"Halving dimension must be even, but dimension {d} is size {x.shape[d]}"
        )
    half = x.shape[d] // 2  # slices, not chunk: a size-0 dim gives two empty halves
    lead = (slice(None),) * d
    a, b = x[lead + (slice(0, half),)], x[lead + (slice(half, None),)]
    return _ew.mul(a, _ew.sigmoid(b))


# --- modules ----------------------------------------------------------------------------------


class _Inplace(Module):
    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class ELU(Module):
    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha, self.inplace = alpha, inplace

    def forward(self, input: Tensor) -> Tensor:
        return elu(input, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class CELU(ELU):
    def forward(self, input: Tensor) -> Tensor:
        return celu(input, self.alpha, self.inplace)


class SELU(_Inplace):
    def forward(self, input: Tensor) -> Tensor:
        return selu(input, self.inplace)


class Hardtanh(Module):
    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
        super().__init__()
        if min_val > max_val:
            raise ValueError("min_val cannot be greater than max_val")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def forward(self, input: Tensor) -> Tensor:
        return hardtanh(input, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        extra = ", inplace=True" if self.inplace else ""
        return f"min_val={self.min_val}, max_val={self.max_val}{extra}"


class ReLU6(Hardtanh):
    def __init__(self, inplace: bool = False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class Hardswish(_Inplace):
    def forward(self, input: Tensor) -> Tensor:
        return hardswish(input, self.inplace)


class Hardsigmoid(_Inplace):
    def forward(self, input: Tensor) -> Tensor:
        return hardsigmoid(input, self.inplace)


class Mish(_Inplace):
    def forward(self, input: Tensor) -> Tensor:
        return mish(input, self.inplace)


class LogSigmoid(Module):
    def forward(self, input: Tensor) -> Tensor:
        return logsigmoid(input)


class Softsign(Module):
    def forward(self, input: Tensor) -> Tensor:
        return softsign(input)


class Tanhshrink(Module):
    def forward(self, input: Tensor) -> Tensor:
        return tanhshrink(input)


class Softmin(Module):
    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return softmin(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class Softshrink(Module):
    def __init__(self, lambd: float = 0.5):
        super().__init__()
        self.lambd = lambd

    def forward(self, input: Tensor) -> Tensor:
        return softshrink(input, self.lambd)

    def extra_repr(self) -> str:
        return str(self.lambd)


class Hardshrink(Softshrink):
    def forward(self, input: Tensor) -> Tensor:
        return hardshrink(input, self.lambd)


class Threshold(Module):
    def __init__(self, threshold: float, value: float, inplace: bool = False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def forward(self, input: Tensor) -> Tensor:
        return _threshold(input, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        extra = ", inplace=True" if self.inplace else ""
        return f"threshold={self.threshold}, value={self.value}{extra}"


class PReLU(Module):
    """max(0, x) + a min(0, x) with a learnt `weight` a: one shared, or one per channel."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        from minigrad import creation

        self.weight = Parameter(creation.full((num_parameters,), init, dtype=dtype, device=device))

    def reset_parameters(self) -> None:
        from minigrad.autograd import no_grad

        with no_grad():
            self.weight.fill_(self.init)

    def forward(self, input: Tensor) -> Tensor:
        return prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class GLU(Module):
    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, input: Tensor) -> Tensor:
        return glu(input, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"

"""Differential entries: the rest of elementwise math (inverse trigonometric and hyperbolic
functions, exp2, atan2, copysign, hypot, logaddexp, xlogy, lerp) and the Tensor-method and
shift forms of the bitwise ops."""

import numpy as np
from hypothesis import strategies as st

from tests.differential.opinfo import (
    FLOATS,
    INTS,
    Entry,
    Sample,
    T,
    binary,
    function_and_method,
    register,
    scalar,
    tensors,
    unary,
)

# float-valued unary math: torch takes ints and bools too and promotes them to float32; the
# inverse functions' NaN outside their domain is part of what is compared
for _name in ["acos", "asin", "atan", "acosh", "asinh", "atanh", "arccos", "arcsin", "arctan",
              "arccosh", "arcsinh", "arctanh", "sinh", "cosh", "exp2"]:  # fmt: skip
    function_and_method(_name, unary, FLOATS + ("int64", "int32", "bool"))

# float-valued binary math, broadcasting, ints promoted
for _name in ["atan2", "arctan2", "hypot", "logaddexp", "logaddexp2", "xlogy", "copysign"]:
    function_and_method(_name, binary, FLOATS + ("int64",))


def _lerp_sample(draw, dtype):
    """lerp(input, end, weight): weight a tensor broadcasting with both, or a Python float."""
    s = binary(draw, dtype)
    if draw(st.booleans()):
        weight = draw(scalar(dtype))
    else:
        weight = draw(tensors(dtype, s.args[0].array.shape, edges=False, low=-2.0, high=2.0))
    return Sample(*s.args, weight)


function_and_method("lerp", _lerp_sample, FLOATS)

# bitwise ops as Tensor methods, in place too, and the shifts
for _name in ["bitwise_and", "bitwise_or", "bitwise_xor"]:
    function_and_method(_name, binary, INTS + ("bool",), grad=False, function=None)
    register(
        Entry(f"Tensor.{_name}_", (f"Tensor.{_name}_",),
              lambda lib, a, b, _n=_name: getattr(a.clone(), f"{_n}_")(b),
              binary, INTS + ("bool",), grad=False)
    )  # fmt: skip
function_and_method("bitwise_not", unary, INTS + ("bool",), grad=False, function=None)
register(
    Entry("Tensor.bitwise_not_", ("Tensor.bitwise_not_",),
          lambda lib, a: a.clone().bitwise_not_(), unary, INTS + ("bool",), grad=False)
)  # fmt: skip


def _shift_sample(draw, dtype):
    """An int tensor and shift counts in [0, bits) (a Python int or a tensor broadcasting with
    it): torch's result for a negative count or one past the width is its kernel's (C's
    undefined behaviour), not semantics."""
    x = draw(tensors(dtype, grad=False))
    bits = np.iinfo(dtype).bits
    if draw(st.booleans()):
        return Sample(x, draw(st.integers(0, bits - 1)))
    shape = x.array.shape[draw(st.integers(0, x.array.ndim)) :]
    n = int(np.prod(shape))
    counts = draw(st.lists(st.integers(0, bits - 1), min_size=n, max_size=n))
    return Sample(x, T(np.array(counts, dtype=dtype).reshape(shape), grad=False))


for _name in ["bitwise_left_shift", "bitwise_right_shift"]:
    function_and_method(_name, _shift_sample, INTS, grad=False)
    register(
        Entry(f"Tensor.{_name}_", (f"Tensor.{_name}_",),
              lambda lib, a, b, _n=_name: getattr(a.clone(), f"{_n}_")(b),
              _shift_sample, INTS, grad=False)
    )  # fmt: skip
register(Entry("Tensor.__lshift__", ("Tensor.__lshift__",), lambda lib, a, b: a << b,
               _shift_sample, INTS, grad=False))  # fmt: skip
register(Entry("Tensor.__rshift__", ("Tensor.__rshift__",), lambda lib, a, b: a >> b,
               _shift_sample, INTS, grad=False))  # fmt: skip

# the methods whose functions the elementwise table covers
function_and_method("fmod", binary, FLOATS + INTS, function=None)
function_and_method("logical_xor", binary, FLOATS + INTS + ("bool",), grad=False, function=None)

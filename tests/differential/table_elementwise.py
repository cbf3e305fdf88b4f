"""Differential entries: elementwise math, comparisons, logic and bitwise ops, activations."""

import numpy as np
from hypothesis import strategies as st

from tests.differential.opinfo import (
    ALL,
    FLOATS,
    INTS,
    Entry,
    Sample,
    binary,
    broadcast_shapes,
    function_and_method,
    is_torch,
    register,
    scalar,
    tensors,
    unary,
)

NUMERIC = FLOATS + INTS

# float-valued unary math: torch accepts ints too and promotes them to float32
for _name in ["exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "expm1", "log1p", "log2",
              "log10", "rsqrt", "tan", "erf", "reciprocal"]:  # fmt: skip
    function_and_method(_name, unary, FLOATS + ("int64", "int32", "bool"))
# dtype-preserving unary math
for _name in [
    "abs",
    "neg",
    "negative",
    "square",
    "relu",
    "sign",
    "floor",
    "ceil",
    "round",
    "trunc",
]:
    function_and_method(_name, unary, NUMERIC)

# binary arithmetic, tensor with tensor
for _name in ["add", "sub", "mul", "div", "maximum", "minimum", "pow", "subtract", "multiply",
              "divide", "true_divide", "floor_divide", "remainder", "fmod"]:  # fmt: skip
    function_and_method(
        _name,
        binary,
        NUMERIC,
        # torch.subtract/multiply exist; minigrad has only the methods (not public: no entry)
        function=None if _name in ("subtract", "multiply") else "",
        method=None if _name == "fmod" else "",
    )
for _name in ["logical_and", "logical_or", "logical_xor"]:
    function_and_method(
        _name, binary, ALL, grad=False, method=None if _name == "logical_xor" else ""
    )
function_and_method("logical_not", unary, ALL, grad=False)
for _name in ["bitwise_and", "bitwise_or", "bitwise_xor"]:
    function_and_method(_name, binary, INTS + ("bool",), grad=False, method=None)
function_and_method("bitwise_not", unary, INTS + ("bool",), grad=False, method=None)
for _name in ["eq", "ne", "lt", "le", "gt", "ge"]:
    function_and_method(_name, binary, ALL, grad=False)
for _name in ["isnan", "isinf", "isfinite"]:
    function_and_method(_name, unary, ALL, grad=False)


def _close_sample(draw, dtype):
    s = binary(draw, dtype)
    return Sample(
        *s.args,
        rtol=draw(st.sampled_from([1e-5, 0.1])),
        atol=draw(st.sampled_from([1e-8, 0.5])),
        equal_nan=draw(st.booleans()),
    )


function_and_method("isclose", _close_sample, NUMERIC, grad=False)
function_and_method("allclose", _close_sample, NUMERIC, grad=False)
function_and_method("equal", binary, ALL, grad=False)


# operators: tensor (op) tensor and tensor (op) Python scalar, both orders
OPERATORS = {
    "__add__": lambda a, b: a + b,
    "__sub__": lambda a, b: a - b,
    "__mul__": lambda a, b: a * b,
    "__truediv__": lambda a, b: a / b,
    "__floordiv__": lambda a, b: a // b,
    "__mod__": lambda a, b: a % b,
    "__pow__": lambda a, b: a**b,
    "__eq__": lambda a, b: a == b,
    "__ne__": lambda a, b: a != b,
    "__lt__": lambda a, b: a < b,
    "__le__": lambda a, b: a <= b,
    "__gt__": lambda a, b: a > b,
    "__ge__": lambda a, b: a >= b,
    "__and__": lambda a, b: a & b,
    "__or__": lambda a, b: a | b,
    "__xor__": lambda a, b: a ^ b,
}
REFLECTED = {
    "__radd__": lambda a, b: b + a,
    "__rsub__": lambda a, b: b - a,
    "__rmul__": lambda a, b: b * a,
    "__rtruediv__": lambda a, b: b / a,
    "__rfloordiv__": lambda a, b: b // a,
    "__rmod__": lambda a, b: b % a,
    "__rpow__": lambda a, b: b**a,
}
BITWISE = ("__and__", "__or__", "__xor__")
COMPARE = ("__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__")


def _with_scalar(draw, dtype):
    return Sample(draw(tensors(dtype)), draw(scalar(dtype)))


for _name, _fn in OPERATORS.items():
    _dtypes = INTS + ("bool",) if _name in BITWISE else NUMERIC
    _grad = _name not in BITWISE + COMPARE
    register(
        Entry(
            f"Tensor.{_name}",
            (f"Tensor.{_name}",),
            lambda lib, a, b, _f=_fn: _f(a, b),
            binary,
            _dtypes,
            _grad,
        ),
        Entry(
            f"Tensor.{_name}.scalar",
            (f"Tensor.{_name}",),
            lambda lib, a, b, _f=_fn: _f(a, b),
            _with_scalar,
            _dtypes,
            _grad,
        ),
    )
for _name, _fn in REFLECTED.items():
    register(
        Entry(
            f"Tensor.{_name}",
            (f"Tensor.{_name}",),
            lambda lib, a, b, _f=_fn: _f(a, b),
            _with_scalar,
            NUMERIC,
        )
    )
register(
    Entry("Tensor.__neg__", ("Tensor.__neg__",), lambda lib, a: -a, unary, NUMERIC),
    Entry("Tensor.__pos__", ("Tensor.__pos__",), lambda lib, a: +a, unary, NUMERIC),
    Entry("Tensor.__abs__", ("Tensor.__abs__",), lambda lib, a: abs(a), unary, NUMERIC),
    Entry(
        "Tensor.__invert__",
        ("Tensor.__invert__",),
        lambda lib, a: ~a,
        unary,
        INTS + ("bool",),
        grad=False,
    ),
)


def _scalar_operand(draw, dtype):
    return Sample(draw(tensors(dtype)), draw(scalar(dtype)))


def _modulus_operand(draw, dtype):
    # a float divisor of magnitude >= 1e-3 (or 0, +-inf, NaN): torch's vectorized float32 fmod
    # returns NaN wherever a / b overflows float32 (a divisor near 1e-40, say), while its 0-d
    # and float64 paths give the exact result, as minigrad does: a kernel artifact, not semantics
    b = draw(scalar(dtype).filter(lambda v: not (0 < abs(v) < 1e-3)))
    return Sample(draw(tensors(dtype)), b)


# functions with a Python-number second operand (torch's Scalar overloads)
for _name in ["add", "sub", "mul", "div", "pow", "floor_divide", "remainder", "fmod"]:
    register(
        Entry(
            f"{_name}.scalar",
            (f"minigrad.{_name}",),
            lambda lib, a, b, _n=_name: getattr(lib, _n)(a, b),
            _modulus_operand if _name in ("remainder", "fmod") else _scalar_operand,
            NUMERIC,
        )
    )


def _clamp_sample(draw, dtype):
    x = draw(tensors(dtype))
    lo = draw(st.one_of(st.none(), scalar(dtype, edges=False)))
    hi = draw(st.one_of(st.none(), scalar(dtype, edges=False)))
    return Sample(x, lo, hi)


def _clamp_tensor_sample(draw, dtype):
    s1, s2, s3 = draw(broadcast_shapes(3))
    # x takes the whole broadcast shape: torch 2.13's clamp backward fails ("output with shape
    # [1] doesn't match the broadcast shape [4]") when the bounds broadcast x to a larger shape
    s1 = np.broadcast_shapes(s1, s2, s3)
    return Sample(draw(tensors(dtype, s1)), draw(tensors(dtype, s2)), draw(tensors(dtype, s3)))


for _name in ["clamp", "clip"]:
    function_and_method(_name, _clamp_sample, NUMERIC)
    register(
        Entry(
            f"{_name}.tensor_bounds",
            (f"minigrad.{_name}",),
            lambda lib, x, lo, hi, _n=_name: getattr(lib, _n)(x, lo, hi),
            _clamp_tensor_sample,
            FLOATS,
        )
    )


def _where_sample(draw, dtype):
    s1, s2, s3 = draw(broadcast_shapes(3))
    return Sample(draw(tensors("bool", s1)), draw(tensors(dtype, s2)), draw(tensors(dtype, s3)))


register(
    Entry(
        "where", ("minigrad.where",), lambda lib, c, a, b: lib.where(c, a, b), _where_sample, ALL
    ),
    Entry(
        "where.condition_only",
        ("minigrad.where",),
        lambda lib, c: lib.where(c),
        lambda draw, dtype: Sample(draw(tensors(dtype))),
        ALL,
        grad=False,
    ),
    Entry(
        "Tensor.where", ("Tensor.where",), lambda lib, c, a, b: a.where(c, b), _where_sample, ALL
    ),
)


def _masked_fill_sample(draw, dtype):
    s1, s2 = draw(broadcast_shapes(2))
    return Sample(draw(tensors(dtype, s1)), draw(tensors("bool", s2)), draw(scalar(dtype)))


function_and_method("masked_fill", _masked_fill_sample, ALL)


# activations that are also top-level functions (torch.relu, torch.sigmoid, F.gelu, ...)
def _gelu_sample(draw, dtype):
    return Sample(draw(tensors(dtype)), approximate=draw(st.sampled_from(["none", "tanh"])))


def _leaky_sample(draw, dtype):
    return Sample(draw(tensors(dtype)), draw(st.sampled_from([0.01, 0.2, -0.5])))


def _softplus_sample(draw, dtype):
    return Sample(
        draw(tensors(dtype, low=-30, high=30)),
        beta=draw(st.sampled_from([1.0, 0.5, 2.0])),
        threshold=draw(st.sampled_from([20.0, 1.0])),
    )


for _ns in ["minigrad.nn.functional"]:
    function_and_method("gelu", _gelu_sample, FLOATS, method=None, namespace=_ns)
    function_and_method("silu", unary, FLOATS, method=None, namespace=_ns)
    function_and_method("leaky_relu", _leaky_sample, FLOATS, method=None, namespace=_ns)
    function_and_method("softplus", _softplus_sample, FLOATS, method=None, namespace=_ns)
    function_and_method("relu", unary, FLOATS + INTS, method=None, namespace=_ns)
    function_and_method("tanh", unary, FLOATS, method=None, namespace=_ns)
    function_and_method("sigmoid", unary, FLOATS, method=None, namespace=_ns)
# minigrad also exports these at top level; torch has them in F only
for _name, _sample in [("gelu", _gelu_sample), ("silu", unary), ("leaky_relu", _leaky_sample),
                       ("softplus", _softplus_sample)]:  # fmt: skip
    register(
        Entry(
            _name,
            (f"minigrad.{_name}",),
            lambda lib, *a, _n=_name, **k: (
                (lib.nn.functional if is_torch(lib) else lib).__getattr__(_n)(*a, **k)
                if not is_torch(lib)
                else getattr(lib.nn.functional, _n)(*a, **k)
            ),
            _sample,
        )
    )

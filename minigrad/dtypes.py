"""Dtypes and PyTorch's type-promotion rules.

minigrad's dtypes *are* NumPy dtype objects (CuPy uses the same ones), so no conversion happens on
the hot path. What PyTorch adds on top of NumPy is the promotion rule, implemented in
`result_type`: categories (bool < integer < floating) decide first, Python scalars never widen a
tensor of their own category, and float wins over int without going to float64.
"""

from __future__ import annotations

import builtins

import numpy as np

float16 = half = np.dtype("float16")
float32 = float = np.dtype("float32")
float64 = double = np.dtype("float64")
int8 = np.dtype("int8")
uint8 = np.dtype("uint8")
int16 = short = np.dtype("int16")
int32 = int = np.dtype("int32")
int64 = long = np.dtype("int64")
bool = np.dtype("bool")  # noqa: A001 - PyTorch's public name

DType = np.dtype
_default_float = float32
_BY_NAME = {
    name: dt
    for name, dt in {
        "float16": float16,
        "half": float16,
        "float32": float32,
        "float": float32,
        "float64": float64,
        "double": float64,
        "int8": int8,
        "uint8": uint8,
        "int16": int16,
        "int32": int32,
        "int64": int64,
        "long": int64,
        "bool": bool,
    }.items()
}


def get_default_dtype() -> np.dtype:
    return _default_float


def set_default_dtype(dtype) -> None:
    """Set the float dtype used for Python floats and `mg.tensor([1.0])` (float32 or float64)."""
    global _default_float
    dt = as_dtype(dtype)
    if dt.kind != "f":
        raise TypeError(f"only floating-point types are supported as the default type, got {dt}")
    _default_float = dt


def as_dtype(dtype) -> np.dtype:
    """Turn `mg.float32`, `"float32"`, `np.float32` or a Python type into a NumPy dtype."""
    if isinstance(dtype, np.dtype):
        return dtype
    if isinstance(dtype, str) and dtype in _BY_NAME:
        return _BY_NAME[dtype]
    if dtype is builtins.float:
        return _default_float
    if dtype is builtins.int:
        return int64
    if dtype is builtins.bool:
        return bool
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"unknown dtype {dtype!r}") from None


def is_floating_point(dtype: np.dtype) -> builtins.bool:
    return dtype.kind == "f"


def _category(dtype: np.dtype) -> builtins.int:
    # bool < integer < floating, as in PyTorch's promotion lattice.
    return 2 if dtype.kind == "f" else (0 if dtype.kind == "b" else 1)


def _scalar_dtype(value) -> np.dtype:
    """The dtype PyTorch gives a Python scalar when it stands alone."""
    if isinstance(value, builtins.bool):
        return bool
    if isinstance(value, builtins.int):
        return int64
    return _default_float


def promote_types(a: np.dtype, b: np.dtype) -> np.dtype:
    """PyTorch's pairwise promotion: a higher category wins outright (int16 + float16 ->
    float16, where NumPy says float32); within a category NumPy's lattice agrees with PyTorch's."""
    if a is b:
        return a
    ca, cb = _category(a), _category(b)
    if ca != cb:
        return a if ca > cb else b
    return np.promote_types(a, b)


def result_type(dims: list, zero_dims: list, scalars: list) -> np.dtype:
    """PyTorch's promotion: dimensioned tensors > 0-d tensors > Python scalars.

    A lower-priority group only matters when its category is higher than every group above it;
    then it contributes its own dtype (for scalars, the default dtype of that category).
    """
    result = None
    for group in (dims, zero_dims):
        if not group:
            continue
        dt = group[0]
        for other in group[1:]:
            dt = promote_types(dt, other)
        if result is None or _category(dt) > _category(result):
            result = dt
    for value in scalars:
        dt = _scalar_dtype(value)
        if result is None or _category(dt) > _category(result):
            result = dt
    return result


# PyTorch's C++ names of the dtypes, as its "not implemented for 'Float'" errors spell them
_TORCH_NAMES = {
    "float16": "Half", "float32": "Float", "float64": "Double", "bool": "Bool", "int8": "Char",
    "uint8": "Byte", "int16": "Short", "int32": "Int", "int64": "Long",
}  # fmt: skip


def torch_name(dtype) -> str:
    """PyTorch's scalar-type name of `dtype` ('Float' for float32), for error messages."""
    name = np.dtype(dtype).name
    return _TORCH_NAMES.get(name, name)


def int_argument(value, function: str, name: str, position: int) -> builtins.int:
    """`value` as an int, or PyTorch's TypeError for a float/other where an int is required
    (e.g. "diagonal(): argument 'offset' (position 2) must be int, not float")."""
    if isinstance(value, builtins.bool) or not hasattr(value, "__index__"):
        raise TypeError(
            f"{function}(): argument '{name}' (position {position}) must be int, not "
            f"{type(value).__name__}"
        )
    return value.__index__()

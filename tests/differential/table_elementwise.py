"""Differential entries: elementwise math, comparisons and logic (minigrad.ops.elementwise)."""

from tests.differential.opinfo import (
    FLOATS,
    Entry,
    binary,
    register,
    unary,
)


def both(name, sample, dtypes=FLOATS, grad=True, method=None, **kw):
    """Entries for `minigrad.<name>(x, ...)` and the method `x.<method or name>(...)`."""
    method = method or name
    register(
        Entry(
            name,
            (f"minigrad.{name}",),
            lambda lib, x, *a, **k: getattr(lib, name)(x, *a, **k),
            sample,
            dtypes,
            grad,
            **kw,
        ),
        Entry(
            f"Tensor.{method}",
            (f"Tensor.{method}",),
            lambda lib, x, *a, **k: getattr(x, method)(*a, **k),
            sample,
            dtypes,
            grad,
            **kw,
        ),
    )


for _name in ["exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "abs", "neg", "expm1",
              "log1p", "log2", "log10", "rsqrt", "tan", "erf", "square", "reciprocal", "relu",
              "sign", "floor", "ceil", "round", "trunc"]:  # fmt: skip
    both(_name, unary)

for _name in ["add", "sub", "mul", "div", "maximum", "minimum", "pow"]:
    both(_name, binary)

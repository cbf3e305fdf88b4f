"""Testing tools for minigrad and for users' own ops and Functions.

`gradcheck`/`gradgradcheck`/`numerical_grad` need only NumPy. `strategies` (Hypothesis
strategies for tensors, broadcastable shapes, matmul shapes, dims) and `check_op` need the
optional `hypothesis` package and are loaded on first use, so `import minigrad.testing` works
without it.
"""

from __future__ import annotations

from minigrad.testing.assert_close import assert_close
from minigrad.testing.gradcheck import (
    GradcheckError,
    gradcheck,
    gradgradcheck,
    numerical_grad,
)

__all__ = [
    "assert_close",
    "GradcheckError",
    "gradcheck",
    "gradgradcheck",
    "numerical_grad",
    "strategies",
    "check_op",
]


def __getattr__(name: str):
    # Lazy: Hypothesis is a dev-only dependency.
    import importlib

    if name in ("strategies", "opcheck"):
        return importlib.import_module(f"minigrad.testing.{name}")
    if name == "check_op":
        return importlib.import_module("minigrad.testing.opcheck").check_op
    raise AttributeError(f"module 'minigrad.testing' has no attribute {name!r}")

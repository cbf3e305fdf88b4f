"""Hypothesis strategies for minigrad tensors: shapes, broadcastable and matmul shapes, dims,
indices. Useful for testing your own ops and `Function`s (with `gradcheck`).

Needs the optional `hypothesis` package (minigrad's `dev` extra); `import minigrad` never loads it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from minigrad.backend import Device, get_default_device, to_device
from minigrad.tensor import Tensor

__all__ = [
    "arrays",
    "basic_indices",
    "broadcastable_pair",
    "broadcastable_shapes",
    "dims_and_keepdim",
    "floats",
    "integer_index",
    "matmul_shapes",
    "shapes",
    "tensors",
    "valid_dims",
]

MAX_SIDE = 4  # gradcheck is O(numel^2): keep drawn tensors small


def floats(min_value: float = -3.0, max_value: float = 3.0, dtype=np.float64) -> st.SearchStrategy:
    """Finite floats in [min_value, max_value], representable in `dtype`."""
    width = np.dtype(dtype).itemsize * 8
    return st.floats(min_value, max_value, allow_nan=False, allow_infinity=False, width=width)


def shapes(
    min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = MAX_SIDE
) -> st.SearchStrategy[tuple]:
    return hnp.array_shapes(
        min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    )


def arrays(shape=None, dtype=np.float64, elements=None, **shape_kwargs) -> st.SearchStrategy:
    """NumPy arrays; `shape` is a tuple, a strategy, or None (drawn by `shapes(**shape_kwargs)`)."""
    if shape is None:
        shape = shapes(**shape_kwargs)
    dtype = np.dtype(dtype)
    if elements is None and dtype.kind == "f":
        elements = floats(dtype=dtype)
    return hnp.arrays(dtype, shape, elements=elements)


def tensors(
    shape=None,
    dtype=np.float64,
    elements=None,
    requires_grad: bool = False,
    device: str | Device | None = None,
    **shape_kwargs: Any,
) -> st.SearchStrategy[Tensor]:
    """minigrad Tensors of `dtype` (float64 by default: what gradcheck needs).

    `shape`: a tuple, a strategy of tuples, or None to draw one (`min_dims`, `max_dims`,
    `min_side`, `max_side`). `elements`: a strategy of scalars (default: finite floats in
    [-3, 3]). `device`: where the tensors live (default: minigrad's default device, read when
    each example is drawn).
    """

    def make(a: np.ndarray) -> Tensor:
        target = get_default_device() if device is None else Device(device)
        t = Tensor._make(to_device(np.array(a), target))  # own, writeable memory
        return t.requires_grad_(True) if requires_grad else t

    return arrays(shape, dtype, elements, **shape_kwargs).map(make)


def broadcastable_shapes(
    num_shapes: int = 2,
    min_dims: int = 0,
    max_dims: int = 3,
    min_side: int = 1,
    max_side: int = MAX_SIDE,
) -> st.SearchStrategy[tuple]:
    """`num_shapes` shapes that broadcast together (some dims 1, some missing)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes,
        min_dims=min_dims,
        max_dims=max_dims,
        min_side=min_side,
        max_side=max_side,
    ).map(lambda bs: bs.input_shapes)


@st.composite
def broadcastable_pair(
    draw,
    dtype=np.float64,
    elements=None,
    requires_grad: bool = False,
    device: str | Device | None = None,
    **shape_kwargs: Any,
) -> tuple[Tensor, Tensor]:
    """Two Tensors whose shapes broadcast together (on `device`, default: the default device)."""
    sa, sb = draw(broadcastable_shapes(2, **shape_kwargs))
    a = draw(tensors(sa, dtype, elements, requires_grad, device))
    b = draw(tensors(sb, dtype, elements, requires_grad, device))
    return a, b


def matmul_shapes(
    min_dims: int = 0, max_dims: int = 2, min_side: int = 1, max_side: int = MAX_SIDE
) -> st.SearchStrategy[tuple]:
    """Shapes (a, b) valid for `a @ b`: 1-D or 2-D cores (the gufunc signature
    "(n?,k),(k,m?)->(n?,m?)") plus `min_dims..max_dims` broadcast batch dims."""
    return hnp.mutually_broadcastable_shapes(
        signature="(n?,k),(k,m?)->(n?,m?)",
        min_dims=min_dims,
        max_dims=max_dims,
        min_side=min_side,
        max_side=max_side,
    ).map(lambda bs: bs.input_shapes)


def valid_dims(ndim: int, allow_none: bool = False) -> st.SearchStrategy:
    """A dim for a tensor of `ndim` dims, negative ones included (-1 and 0 for a 0-d tensor)."""
    n = max(ndim, 1)
    dims = st.integers(-n, n - 1)
    return st.one_of(st.none(), dims) if allow_none else dims


@st.composite
def dims_and_keepdim(draw, ndim: int, multi: bool = True) -> tuple:
    """(dim, keepdim) for a reduction: None (all dims), one dim, or (when `multi`) a tuple of
    distinct dims, each possibly negative."""
    keepdim = draw(st.booleans())
    if ndim == 0:
        return draw(st.sampled_from([None, 0, -1])), keepdim
    kinds = ["none", "one", "many"] if multi else ["none", "one"]
    kind = draw(st.sampled_from(kinds))
    if kind == "none":
        return None, keepdim
    if kind == "one":
        return draw(valid_dims(ndim)), keepdim
    picked = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True))
    signs = draw(st.lists(st.booleans(), min_size=len(picked), max_size=len(picked)))
    return tuple(d - ndim if neg else d for d, neg in zip(picked, signs)), keepdim


def basic_indices(shape: tuple, **kwargs: Any) -> st.SearchStrategy:
    """Basic indices (ints, slices, None, Ellipsis) for `shape`: hypothesis' own strategy."""
    kwargs.setdefault("allow_newaxis", True)
    kwargs.setdefault("allow_ellipsis", True)
    return hnp.basic_indices(shape, **kwargs)


def integer_index(size: int, min_len: int = 1, max_len: int = 6) -> st.SearchStrategy:
    """An int64 index array into a dim of `size`, negative entries and repeats allowed."""
    return st.lists(st.integers(-size, size - 1), min_size=min_len, max_size=max_len).map(
        lambda xs: np.array(xs, dtype=np.int64)
    )

"""Differential entries: products (minigrad.ops.linalg) and index-taking functions
(minigrad.ops.indexing: gather, index_select, take, masked_select, one_hot)."""

import numpy as np
from hypothesis import strategies as st

from tests.differential.opinfo import (
    ALL,
    FLOATS,
    INTS,
    Entry,
    Sample,
    T,
    broadcast_shapes,
    dims,
    function_and_method,
    is_torch,
    register,
    shapes,
    tensors,
)

NUMERIC = FLOATS + INTS


def _matmul_sample(draw, dtype):
    n, m, k = (draw(st.integers(0, 4)) for _ in range(3))
    kind = draw(st.integers(0, 4))
    batch = draw(shapes(0, 2, 0, 3))
    if kind == 0:
        a, b = (k,), (k,)
    elif kind == 1:
        a, b = (k,), batch + (k, m)
    elif kind == 2:
        a, b = batch + (n, k), (k,)
    else:
        b1, b2 = draw(broadcast_shapes(2, 0, 2, 3))
        a, b = b1 + (n, k), b2 + (k, m)
    if draw(st.integers(0, 9)) == 0:
        b = b[:-1] + (b[-1] + 1,) if len(b) == 1 else b[:-2] + (b[-2] + 1, b[-1])
    other = dtype if draw(st.integers(0, 7)) else draw(st.sampled_from(FLOATS))
    return Sample(draw(tensors(dtype, a, edges=False)), draw(tensors(other, b, edges=False)))


function_and_method("matmul", _matmul_sample, NUMERIC)
register(
    Entry(
        "Tensor.__matmul__",
        ("Tensor.__matmul__",),
        lambda lib, a, b: a @ b,
        _matmul_sample,
        NUMERIC,
    ),
    Entry(
        "Tensor.__rmatmul__",
        ("Tensor.__rmatmul__",),
        lambda lib, a, b: b.__rmatmul__(a),
        _matmul_sample,
        NUMERIC,
    ),
)


def _mm_sample(draw, dtype, nd_a=2, nd_b=2, batch=False):
    n, m, k, bs = (draw(st.integers(0, 4)) for _ in range(4))
    a = (bs, n, k) if batch else (n, k)[2 - nd_a :] if nd_a else ()
    b = {2: (k, m), 1: (k,)}[nd_b]
    if batch:
        b = (bs, k, m)
    if draw(st.integers(0, 9)) == 0:
        b = tuple(s + 1 for s in b)
    return Sample(draw(tensors(dtype, a, edges=False)), draw(tensors(dtype, b, edges=False)))


function_and_method("mm", _mm_sample, NUMERIC)
function_and_method("bmm", lambda d, t: _mm_sample(d, t, batch=True), NUMERIC)
function_and_method("mv", lambda d, t: _mm_sample(d, t, nd_b=1), NUMERIC)


def _vec_pair(draw, dtype):
    n = draw(st.integers(0, 5))
    m = n if draw(st.integers(0, 7)) else n + 1
    return Sample(draw(tensors(dtype, (n,), edges=False)), draw(tensors(dtype, (m,), edges=False)))


function_and_method("dot", _vec_pair, NUMERIC)
function_and_method("outer", _vec_pair, NUMERIC)


def _inner_sample(draw, dtype):
    k = draw(st.integers(0, 3))
    a = draw(shapes(0, 2)) + (k,)
    b = draw(shapes(0, 2)) + (k,)
    return Sample(draw(tensors(dtype, a, edges=False)), draw(tensors(dtype, b, edges=False)))


function_and_method("inner", _inner_sample, NUMERIC, method=None)

EINSUMS = [
    ("ij,jk->ik", [("i", "j"), ("j", "k")]),
    ("ij->ji", [("i", "j")]),
    ("ii->i", [("i", "i")]),
    ("ij->", [("i", "j")]),
    ("bij,bjk->bik", [("b", "i", "j"), ("b", "j", "k")]),
    ("i,j->ij", [("i",), ("j",)]),
    ("...ij,...jk->...ik", [("b", "i", "j"), ("j", "k")]),
    ("ij,ij->i", [("i", "j"), ("i", "j")]),
]


def _einsum_sample(draw, dtype):
    eq, operand_dims = draw(st.sampled_from(EINSUMS))
    sizes = {c: draw(st.integers(0, 3)) for c in "bijk"}
    ops = [draw(tensors(dtype, tuple(sizes[c] for c in ds), edges=False)) for ds in operand_dims]
    if draw(st.integers(0, 9)) == 0:
        ops[0] = draw(tensors(dtype, ops[0].array.shape + (2,)))  # wrong rank: torch raises
    return Sample(eq, *ops)


register(
    Entry(
        "einsum",
        ("minigrad.einsum",),
        lambda lib, eq, *ops: lib.einsum(eq, *ops),
        _einsum_sample,
        FLOATS,
    )
)


def _linear_sample(draw, dtype):
    i, o = draw(st.integers(0, 4)), draw(st.integers(0, 4))
    x = draw(tensors(dtype, draw(shapes(0, 2, 0, 3)) + (i,), edges=False))
    w_dtype = dtype if draw(st.integers(0, 7)) else draw(st.sampled_from(FLOATS))
    w = draw(tensors(w_dtype, (o, i), edges=False))
    b = draw(st.one_of(st.none(), tensors(dtype, (o,), edges=False)))
    return Sample(x, w, b)


register(
    Entry(
        "nn.functional.linear",
        ("minigrad.nn.functional.linear",),
        lambda lib, x, w, b: lib.nn.functional.linear(x, w, b),
        _linear_sample,
    ),
    Entry(
        "linear",
        ("minigrad.linear",),
        lambda lib, x, w, b: (lib.nn.functional.linear if is_torch(lib) else lib.linear)(x, w, b),
        _linear_sample,
    ),
)


def _index_array(draw, size: int, shape) -> T:
    """int64 indices into a dim of `size`, sometimes out of range (negative or too big)."""
    hi = max(size - 1, 0)
    bad = draw(st.integers(0, 9)) == 0 or size == 0
    lo, top = (-size - 1, size) if bad else (0, hi)
    values = np.array(
        [draw(st.integers(lo, top)) for _ in range(int(np.prod(shape, dtype=int)))], np.int64
    ).reshape(shape)
    return T(values, grad=False)


def _gather_sample(draw, dtype):
    x = draw(tensors(dtype, draw(shapes(1, 3))))
    nd = x.array.ndim
    d = draw(dims(nd))
    shape = tuple(draw(st.integers(0, s)) for s in x.array.shape)
    shape = tuple(draw(st.integers(0, 3)) if k == d % nd else s for k, s in enumerate(shape))
    return Sample(x, d, _index_array(draw, x.array.shape[d], shape))


function_and_method("gather", _gather_sample, ALL)
register(
    Entry(
        "Tensor.take_along_dim",
        ("Tensor.take_along_dim",),
        lambda lib, x, d, i: x.take_along_dim(i, d),
        _gather_sample,
        ALL,
    )
)


def _index_select_sample(draw, dtype):
    x = draw(tensors(dtype, draw(shapes(1, 3))))
    d = draw(dims(x.array.ndim))
    return Sample(x, d, _index_array(draw, x.array.shape[d], (draw(st.integers(0, 4)),)))


function_and_method("index_select", _index_select_sample, ALL)


def _take_sample(draw, dtype):
    x = draw(tensors(dtype))
    n = x.array.size
    idx = _index_array(draw, n, draw(shapes(0, 2, 0, 3)))
    if draw(st.booleans()) and n:
        idx = T(idx.array - n * (idx.array >= 0) * draw(st.integers(0, 1)), grad=False)
    return Sample(x, idx)


function_and_method("take", _take_sample, ALL)


def _masked_select_sample(draw, dtype):
    s1, s2 = draw(broadcast_shapes(2))
    return Sample(draw(tensors(dtype, s1)), draw(tensors("bool", s2)))


function_and_method("masked_select", _masked_select_sample, ALL)


def _one_hot_sample(draw, dtype):
    n = draw(st.integers(1, 5))
    idx = _index_array(draw, n, draw(shapes(0, 2, 0, 3)))
    return Sample(idx, draw(st.sampled_from([-1, n, n + 2])))


register(
    Entry(
        "nn.functional.one_hot",
        ("minigrad.nn.functional.one_hot",),
        lambda lib, i, n: lib.nn.functional.one_hot(i, n),
        _one_hot_sample,
        ("int64",),
        grad=False,
    ),
    Entry(
        "one_hot",
        ("minigrad.one_hot",),
        lambda lib, i, n: (lib.nn.functional.one_hot if is_torch(lib) else lib.one_hot)(i, n),
        _one_hot_sample,
        ("int64",),
        grad=False,
    ),
)

"""Gradient and forward tests for indexing (minigrad/ops/indexing.py): basic and advanced
getitem (repeats scatter-add), boolean masks, gather, index_select, take, index_put."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.ops import indexing
from minigrad.testing import gradcheck, gradgradcheck
from minigrad.testing import strategies as S
from minigrad.testing.opcheck import check_op

COVERED = {"select", "index", "unindex"}

ANY = S.shapes()
NONEMPTY = S.shapes(min_dims=1)


def _index_params(shape):
    return S.basic_indices(shape).map(lambda i: {"index": i})


test_getitem_basic = check_op(
    lambda x, index: x[index],
    ANY,
    params=_index_params,
    gradgrad=True,
    reference=lambda x, index: x[index],
)


@st.composite
def _array_index(draw, shape):
    """An integer array (repeats, negatives) along one dim, slices elsewhere, maybe Ellipsis."""
    d = draw(st.integers(0, len(shape) - 1))
    idx = draw(S.integer_index(shape[d]))
    if draw(st.booleans()):
        idx = idx.reshape(1, -1) if draw(st.booleans()) else idx
    as_tensor = draw(st.booleans())
    i = mg.tensor(idx) if as_tensor else idx.tolist() if idx.ndim == 1 else idx
    index = (slice(None),) * d + (i,)
    if draw(st.booleans()) and d == len(shape) - 1 and d > 0:
        index = (Ellipsis, i)
    return {"index": index}


def _np_index(index):
    return tuple(np.asarray(i) if isinstance(i, (list, mg.Tensor)) else i for i in index)


test_getitem_integer_array = check_op(
    lambda x, index: x[index],
    NONEMPTY,
    params=_array_index,
    gradgrad=True,
    reference=lambda x, index: x[_np_index(index)],
)


@st.composite
def _two_arrays(draw, shape):
    """Two broadcasting integer arrays on the first two dims (repeats allowed)."""
    a = draw(S.integer_index(shape[0], max_len=4))
    b = draw(S.integer_index(shape[1], min_len=len(a), max_len=len(a)))
    return {"index": (mg.tensor(a.reshape(-1, 1)), mg.tensor(b.reshape(1, -1)))}


test_getitem_two_arrays = check_op(
    lambda x, index: x[index],
    S.shapes(min_dims=2),
    params=_two_arrays,
    reference=lambda x, index: x[_np_index(index)],
)


@st.composite
def _mask(draw, shape):
    k = draw(st.integers(1, len(shape)))
    return {"mask": draw(S.arrays(shape[:k], bool))}


test_getitem_bool_mask = check_op(
    lambda x, mask: x[mg.tensor(mask)],
    NONEMPTY,
    params=_mask,
    gradgrad=True,
    reference=lambda x, mask: x[mask],
)
test_masked_select = check_op(
    lambda x, mask: mg.masked_select(x, mg.tensor(mask)),
    NONEMPTY,
    params=lambda s: S.arrays(s, bool).map(lambda m: {"mask": m}),
    reference=lambda x, mask: x[mask],
)
test_getitem_mixed = check_op(
    lambda x, i: x[1:, None, i, ...],
    S.shapes(min_dims=2, min_side=2),
    params=lambda s: S.integer_index(s[1]).map(lambda i: {"i": mg.tensor(i)}),
    reference=lambda x, i: x[1:, None, i.numpy(), ...],
)


def test_repeated_index_scatter_adds():
    x = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[mg.tensor([0, 2, 0, 0])].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]


# --- gather / index_select / take ---------------------------------------------------------------


@st.composite
def _gather_params(draw, shape):
    d = draw(S.valid_dims(len(shape)))
    ishape = tuple(
        draw(st.integers(1, n)) if k != d % len(shape) else draw(st.integers(1, 4))
        for k, n in enumerate(shape)
    )
    index = draw(S.arrays(ishape, np.int64, elements=st.integers(0, shape[d] - 1)))
    return {"dim": d, "index": index}


def _gather_ref(x, dim, index):
    sub = tuple(
        slice(0, n) if k != dim % x.ndim else slice(None) for k, n in enumerate(index.shape)
    )
    return np.take_along_axis(x[sub], index, dim)


test_gather = check_op(
    lambda x, dim, index: x.gather(dim, mg.tensor(index)),
    NONEMPTY,
    params=_gather_params,
    reference=_gather_ref,
    gradgrad=True,
)


@st.composite
def _take_along_dim_params(draw, shape):
    """Indices as PyTorch's take_along_dim takes them: other dims equal or 1 (they broadcast),
    negative values counting from the end."""
    d = draw(S.valid_dims(len(shape)))
    ishape = tuple(
        draw(st.sampled_from([1, n])) if k != d % len(shape) else draw(st.integers(1, 4))
        for k, n in enumerate(shape)
    )
    n = shape[d]
    index = draw(S.arrays(ishape, np.int64, elements=st.integers(-n, n - 1)))
    return {"dim": d, "index": index}


def _take_along_ref(x, dim, index):
    ones = [s if k != dim % x.ndim else 1 for k, s in enumerate(x.shape)]
    common = list(np.broadcast_shapes(tuple(ones), index.shape[:dim % x.ndim] + (1,)
                                      + index.shape[dim % x.ndim + 1 :]))  # fmt: skip
    x_to, i_to = list(common), list(common)
    x_to[dim], i_to[dim] = x.shape[dim], index.shape[dim]
    return np.take_along_axis(np.broadcast_to(x, x_to), np.broadcast_to(index, i_to), dim)


test_take_along_dim = check_op(
    lambda x, dim, index: mg.take_along_dim(x, mg.tensor(index), dim),
    NONEMPTY,
    params=_take_along_dim_params,
    reference=lambda x, dim, index: _take_along_ref(x, dim, index % x.shape[dim]),
)
test_take_along_dim_method_flat = check_op(
    lambda x: x.take_along_dim(mg.tensor([0, -1, 1]) % x.numel()),
    NONEMPTY,
    reference=lambda x: x.reshape(-1)[np.array([0, -1, 1]) % x.size],
)


def _select_params(shape):
    return S.valid_dims(len(shape)).flatmap(
        lambda d: S.integer_index(shape[d]).map(lambda i: {"dim": d, "index": i % shape[d]})
    )


test_index_select = check_op(
    lambda x, dim, index: x.index_select(dim, mg.tensor(index)),
    NONEMPTY,
    params=_select_params,
    gradgrad=True,
    reference=lambda x, dim, index: np.take(x, index, dim),
)
test_take = check_op(
    lambda x, index: x.take(mg.tensor(index)),
    NONEMPTY,
    params=lambda s: S.integer_index(int(np.prod(s))).map(lambda i: {"index": i}),
    reference=lambda x, index: np.take(x.reshape(-1), index),
)


# --- index_put (x[index] = value) ---------------------------------------------------------------


def _put(x, v, index):
    y = x.clone()
    y[index] = v
    return y


def _put_ref(x, v, index):
    y = x.copy()
    y[_np_index(index) if isinstance(index, tuple) else index] = v
    return y


def _basic(xs, *_):
    return S.basic_indices(xs, allow_newaxis=False).map(lambda i: {"index": i})


# a scalar value, and a value of the indexed shape (read from a second tensor: v[index])
test_index_put_basic_scalar = check_op(
    lambda x, v, index: _put(x, v, index),
    NONEMPTY.map(lambda s: (s, ())),
    params=_basic,
    reference=_put_ref,
    gradgrad=True,
)
test_index_put_basic_tensor = check_op(
    lambda x, v, index: _put(x, v[index], index),
    NONEMPTY.map(lambda s: (s, s)),
    params=_basic,
    reference=lambda x, v, index: _put_ref(x, v[index], index),
    gradgrad=True,
)


@st.composite
def _put_array_params(draw, shape, vshape):
    idx = np.unique(draw(S.integer_index(shape[0])) % shape[0])
    return {"index": (mg.tensor(idx),)}


test_index_put_integer_array = check_op(
    lambda x, v, index: _put(x, v, index),
    NONEMPTY.map(lambda s: (s, s[1:])),
    params=_put_array_params,
    reference=_put_ref,
)
test_index_put_bool_mask = check_op(
    lambda x, v, mask: _put(x, v, mg.tensor(mask)),
    NONEMPTY.map(lambda s: (s, ())),
    params=lambda s, _: S.arrays(s, bool).map(lambda m: {"mask": m}),
    reference=lambda x, v, mask: np.where(mask, v, x),
)


def test_index_put_repeated_positions_last_write_wins():
    x = mg.zeros(4, dtype=mg.float64)
    v = mg.tensor([1.0, 2.0, 3.0], dtype=mg.float64, requires_grad=True)
    y = x.clone()
    y[mg.tensor([0, 0, 2])] = v
    expected = np.zeros(4)
    expected[[0, 0, 2]] = [1.0, 2.0, 3.0]
    np.testing.assert_array_equal(y.detach().numpy(), expected)
    y.sum().backward()
    assert v.grad.tolist() == [0.0, 1.0, 1.0]


def test_index_put_errors():
    x = mg.zeros(2, 3)
    with pytest.raises(RuntimeError, match="shape mismatch"):
        x[0] = mg.ones(4)
    with pytest.raises(IndexError):
        x[5] = 1.0


@given(x=S.tensors(S.shapes(min_dims=1), requires_grad=True))
def test_unindex_is_adjoint_of_indexing(x):
    index = (slice(None, None, -1),) + (Ellipsis,)
    g = mg.tensor(np.random.default_rng(0).standard_normal(x[index].shape), requires_grad=True)
    fn = lambda g: indexing.unindex(g, x.shape, index)
    assert gradcheck(fn, g) and gradgradcheck(fn, g)


def test_one_hot_errors_follow_torch():
    F = mg.nn.functional
    assert F.one_hot(mg.zeros(0, dtype=mg.int64), 3).shape == (0, 3)
    for index, n, match in [(mg.zeros(0, dtype=mg.int64), -1, "Can not infer"),
                            (mg.zeros(0, dtype=mg.int64), 0, "Can not infer"),
                            (mg.zeros(2, dtype=mg.int64), -2, "smaller than num_classes"),
                            (mg.tensor([-1]), -1, "non-negative")]:  # fmt: skip
        with pytest.raises(RuntimeError, match=match):
            F.one_hot(index, n)


def test_index_put_of_no_positions_keeps_an_integer_dtype():
    x = mg.zeros(3, dtype=mg.int32)
    out = x.index_put((mg.tensor([], dtype=mg.int64),), mg.tensor([], dtype=mg.int32))
    assert out.dtype == mg.int32


def test_take_along_dim_takes_indices_modulo_the_size_as_torch():
    x = mg.tensor([-2, -4, 8])
    np.testing.assert_array_equal(mg.take_along_dim(x, mg.tensor([3, 2, -4, 7]), -1).numpy(),
                                  [-2, 8, 8, -4])  # fmt: skip
    with pytest.raises(RuntimeError):  # modulo 0
        mg.take_along_dim(mg.zeros((2, 0)), mg.zeros((2, 1), dtype=mg.int64), 1)
    with pytest.raises(IndexError):
        mg.take_along_dim(mg.tensor(5.0), mg.tensor(3), 0)

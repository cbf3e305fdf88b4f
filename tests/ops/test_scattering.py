"""scatter, scatter_add, scatter_reduce, index_add/copy/fill, masked_scatter, index_put
(minigrad/ops/scattering.py): gradchecks, torch agreement, errors, and the fast index_add path."""

import numpy as np
import pytest
import torch
from hypothesis import strategies as st

import minigrad as mg
from minigrad.ops import scattering as sc
from minigrad.testing import gradgradcheck
from minigrad.testing import strategies as S
from minigrad.testing.opcheck import check_op

COVERED = {"scatter", "scatter_add", "index_add", "scatter_extreme", "scatter_prod"}


@st.composite
def _scatter_case(draw, unique: bool = False):
    """(x shape, src shape) and params: dim and an index no larger than src (and x off dim)."""
    shape = draw(S.shapes(min_dims=1, max_dims=3))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    d = dim % len(shape)
    ishape = tuple(draw(st.integers(1, n)) if k != d else draw(st.integers(1, 4)) for k, n in
                   enumerate(shape))  # fmt: skip
    if unique:
        ishape = ishape[:d] + (min(ishape[d], shape[d]),) + ishape[d + 1 :]
    sshape = tuple(n + draw(st.integers(0, 1)) for n in ishape)
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    if unique:  # a permutation along dim: each position written at most once
        keys = rng.random(ishape[:d] + (shape[d],) + ishape[d + 1 :])
        index = np.argsort(keys, axis=d).take(np.arange(ishape[d]), axis=d)
    else:
        index = rng.integers(0, shape[d], ishape)
    return (shape, sshape), {"dim": dim, "index": index}


def _index(index):
    return mg.tensor(index, dtype=mg.int64)


def _np_scatter_add(x, src, dim, index):
    out = x.copy()
    for pos in np.ndindex(index.shape):
        target = list(pos)
        target[dim % x.ndim] = index[pos]
        out[tuple(target)] += src[pos]
    return out


def _spread(a, scale):
    """Distinct offsets added to a's elements, so drawn values rarely tie (amax/amin kinks)."""
    n = int(np.prod(a.shape))
    return scale * np.arange(1, n + 1, dtype=np.float64).reshape(tuple(a.shape))


def _distinct(x, src, **_):
    """No two (spread) values within 1e-3: amax/amin stay away from their ties."""
    values = np.concatenate([(x + _spread(x, 1.01)).ravel(), (src - _spread(src, 0.77)).ravel()])
    return bool(np.all(np.diff(np.sort(values)) > 1e-3))


def _spread_extreme(reduce, include_self=True):
    def fn(x, src, dim, index):
        xs = x + mg.tensor(_spread(x, 1.01), dtype=x.dtype)
        ss = src - mg.tensor(_spread(src, 0.77), dtype=src.dtype)
        return xs.scatter_reduce(dim, _index(index), ss, reduce, include_self=include_self)

    return fn


def _case_test(fn, unique=False, reference=None, gradgrad=True, valid=None):
    """check_op over one drawn scatter case: the shapes and the params come from one draw."""
    strategy = _scatter_case(unique)
    cases = {}

    def shapes_of(case):
        cases[case[0]] = case[1]
        return case[0]

    return check_op(
        fn,
        strategy.map(shapes_of),
        params=lambda xs, ss: st.just(cases[(xs, ss)]),
        reference=reference,
        gradgrad=gradgrad,
        valid=valid,
    )


test_scatter_add = _case_test(
    lambda x, src, dim, index: mg.scatter_add(x, dim, _index(index), src),
    reference=lambda x, src, dim, index: _np_scatter_add(x, src, dim, index),
)
test_scatter = _case_test(
    lambda x, src, dim, index: x.scatter(dim, _index(index), src), unique=True
)
test_scatter_reduce_sum = _case_test(
    lambda x, src, dim, index: x.scatter_reduce(dim, _index(index), src, "sum", include_self=False)
)
test_scatter_reduce_mean = _case_test(
    lambda x, src, dim, index: x.scatter_reduce(dim, _index(index), src, "mean")
)
test_scatter_reduce_prod = _case_test(
    lambda x, src, dim, index: x.scatter_reduce(dim, _index(index), src, "prod"), gradgrad=False
)
test_scatter_reduce_amax = _case_test(
    _spread_extreme("amax"),
    valid=_distinct,
)
test_scatter_reduce_amin = _case_test(_spread_extreme("amin", include_self=False), valid=_distinct)


@st.composite
def _index_case(draw):
    shape = draw(S.shapes(min_dims=1, max_dims=3))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    d = dim % len(shape)
    k = draw(st.integers(1, 5))
    index = np.array(draw(st.lists(st.integers(0, shape[d] - 1), min_size=k, max_size=k)))
    sshape = shape[:d] + (k,) + shape[d + 1 :]
    alpha = draw(st.sampled_from([1, 2.5, -1]))
    return (shape, sshape), {"dim": dim, "index": index, "alpha": alpha}


def _index_test(fn, strategy=None, gradgrad=True):
    strategy = _index_case() if strategy is None else strategy
    cases = {}

    def shapes_of(case):
        cases[case[0]] = case[1]
        return case[0]

    return check_op(
        fn, strategy.map(shapes_of), params=lambda xs, ss: st.just(cases[(xs, ss)]),
        gradgrad=gradgrad,
    )  # fmt: skip


test_index_add = _index_test(
    lambda x, s, dim, index, alpha: mg.index_add(x, dim, _index(index), s, alpha=alpha)
)


@st.composite
def _unique_index_case(draw):
    (shape, sshape), p = draw(_index_case())
    d = p["dim"] % len(shape)
    index = np.unique(p["index"])
    sshape = shape[:d] + (len(index),) + shape[d + 1 :]
    return (shape, sshape), {"dim": p["dim"], "index": index, "alpha": 1}


test_index_copy = _index_test(
    lambda x, s, dim, index, alpha: x.index_copy(dim, _index(index), s), _unique_index_case()
)
test_index_fill_tensor_value = check_op(
    lambda x, v: x.index_fill(-1, _index([0, 0]), v.sum()),
    (S.shapes(min_dims=1).map(lambda s: (s, ()))),
    gradgrad=True,
    noncontiguous=False,
)
test_masked_scatter = check_op(
    lambda x, s: x.masked_scatter(x.detach() > 0, s),
    S.shapes(min_dims=1, max_dims=2).map(lambda s: (s, (int(np.prod(s)) + 1,))),
    valid=lambda x, s: bool(np.all(np.abs(x) > 1e-3)),  # the mask is read from x
    gradgrad=True,
)
test_index_put_accumulate = check_op(
    lambda x, v: x.index_put((_index([0, 0, -1]),), v, accumulate=True),
    S.shapes(min_dims=1, max_dims=2).map(lambda s: (s, (3,) + s[1:])),
    gradgrad=True,
)


# --- torch agreement ----------------------------------------------------------------------------


def _pair(a, requires_grad=True):
    return (
        mg.tensor(a, requires_grad=requires_grad),
        torch.tensor(a, requires_grad=requires_grad),
    )


def _same(m, t):
    assert str(m.dtype) == str(t.dtype).replace("torch.", "")
    np.testing.assert_allclose(m.detach().numpy(), t.detach().numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_matches_torch_with_ties_and_zeros(reduce, include_self):
    x = np.array([[5.0, 0.0, 2.0], [1.0, 3.0, 3.0], [0.0, -1.0, 4.0]])
    src = np.array([[5.0, 3.0, 0.0], [5.0, 3.0, 2.0], [1.0, 0.0, 4.0], [2.0, 7.0, 4.0]])
    index = np.array([[0, 1, 0], [0, 1, 0], [2, 2, 0], [1, 1, 2]])
    mx, tx = _pair(x)
    ms, ts = _pair(src)
    w = np.arange(9.0).reshape(3, 3) - 4
    out = mx.scatter_reduce(0, _index(index), ms, reduce, include_self=include_self)
    ref = tx.scatter_reduce(0, torch.tensor(index), ts, reduce, include_self=include_self)
    _same(out, ref)
    (out * mg.tensor(w)).sum().backward()
    (ref * torch.tensor(w)).sum().backward()
    _same(mx.grad, tx.grad)
    _same(ms.grad, ts.grad)


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
def test_scatter_reduce_integers_match_torch(reduce):
    x = np.array([5, 1, 7, -3])
    src = np.array([2, -3, 4, 9, -7])
    index = np.array([0, 0, 1, 3, 3])
    for include_self in (True, False):
        out = mg.tensor(x).scatter_reduce(0, _index(index), mg.tensor(src), reduce,
                                          include_self=include_self)  # fmt: skip
        ref = torch.tensor(x).scatter_reduce(
            0, torch.tensor(index), torch.tensor(src), reduce, include_self=include_self
        )
        _same(out, ref)


def test_scatter_and_scatter_add_match_torch():
    rng = np.random.default_rng(1)
    x, src = rng.standard_normal((3, 4)), rng.standard_normal((2, 3))  # torch: src as index
    index = np.array([[0, 3, 1], [2, 1, 0]])
    for name in ("scatter", "scatter_add"):
        mx, tx = _pair(x)
        ms, ts = _pair(src)
        out = getattr(mx, name)(1, _index(index), ms)
        ref = getattr(tx, name)(1, torch.tensor(index), ts)
        _same(out, ref)
        out.sum().backward()
        ref.sum().backward()
        _same(mx.grad, tx.grad)
        _same(ms.grad, ts.grad)
    _same(
        mg.tensor(x).scatter(1, _index(index), 2.5),
        torch.tensor(x).scatter(1, torch.tensor(index), 2.5),
    )
    _same(
        mg.tensor(x).scatter(1, _index(index), mg.tensor(src), reduce="multiply"),
        torch.tensor(x).scatter(1, torch.tensor(index), torch.tensor(src), reduce="multiply"),
    )


def test_in_place_variants_match_torch():
    x = np.arange(12.0).reshape(3, 4)
    index = np.array([2, 0])
    source = -np.ones((3, 2))
    cases = [
        ("index_add_", (1, index, source), {"alpha": 3}),
        ("index_copy_", (1, index, source), {}),
        ("index_fill_", (1, index, -7.0), {}),
        ("scatter_", (0, np.array([[1, 2, 0, 1]]), np.ones((1, 4))), {"reduce": "add"}),
        ("scatter_add_", (0, np.array([[1, 2, 0, 1]]), np.ones((1, 4))), {}),
        ("scatter_reduce_", (0, np.array([[1, 2, 0, 1]]), 3 * np.ones((1, 4)), "amax"), {}),
    ]
    for name, args, kwargs in cases:
        m, t = mg.tensor(x), torch.tensor(x)
        margs = [mg.tensor(a) if isinstance(a, np.ndarray) else a for a in args]
        targs = [torch.tensor(a) if isinstance(a, np.ndarray) else a for a in args]
        assert getattr(m, name)(*margs, **kwargs) is m
        getattr(t, name)(*targs, **kwargs)
        _same(m, t)
    m, t = mg.tensor(x), torch.tensor(x)
    m.masked_scatter_(mg.tensor(x) > 5, mg.tensor(-x))
    t.masked_scatter_(torch.tensor(x) > 5, torch.tensor(-x))
    _same(m, t)
    m, t = mg.zeros(5), torch.zeros(5)
    m.index_put_((mg.tensor([0, 0, 4]),), mg.tensor(1.0), accumulate=True)
    t.index_put_((torch.tensor([0, 0, 4]),), torch.tensor(1.0), accumulate=True)
    _same(m, t)


def test_zero_dim_and_empty():
    _same(mg.tensor(3.0).scatter_add(0, _index(0), mg.tensor(2.0)),
          torch.tensor(3.0).scatter_add(0, torch.tensor(0), torch.tensor(2.0)))  # fmt: skip
    _same(mg.tensor(3.0).index_add(0, _index(0), mg.tensor(2.0)),
          torch.tensor(3.0).index_add(0, torch.tensor(0), torch.tensor(2.0)))  # fmt: skip
    _same(mg.tensor([3.0, 4.0]).index_fill(0, _index(0), 2.0),
          torch.tensor([3.0, 4.0]).index_fill(0, torch.tensor(0), 2.0))  # fmt: skip
    x = mg.ones(2, 3)
    empty = mg.zeros(2, 0, dtype=mg.int64)
    assert mg.equal(x.scatter_add(1, empty, mg.ones(2, 0)), x)
    assert mg.equal(x.index_add(1, mg.zeros(0, dtype=mg.int64), mg.ones(2, 0)), x)


def test_masked_scatter_broadcast_mask():
    x = np.zeros((2, 3))
    mask = np.array([True, False, True])
    src = np.arange(6.0)
    _same(mg.tensor(x).masked_scatter(mg.tensor(mask), mg.tensor(src)),
          torch.tensor(x).masked_scatter(torch.tensor(mask), torch.tensor(src)))  # fmt: skip


def test_index_add_gradgrad_and_scatter_reduce_prod_double_backward_refused():
    x = mg.tensor(np.random.default_rng(2).standard_normal((3, 2)), requires_grad=True)
    s = mg.tensor(np.random.default_rng(3).standard_normal((4, 2)), requires_grad=True)
    assert gradgradcheck(lambda x, s: mg.index_add(x, 0, _index([0, 2, 0, 1]), s) ** 2, [x, s])
    out = x.scatter_reduce(0, _index([[0, 0]]), s[:1], "prod")
    (g,) = mg.autograd.grad(out.sum(), [s], retain_graph=True)
    with pytest.raises(RuntimeError, match="double backward"):
        mg.autograd.grad(out.sum(), [s], create_graph=True)


# --- errors ---------------------------------------------------------------------------------------


def _raises(exc, match, fn):
    with pytest.raises(exc, match=match):
        fn()


def test_errors_match_torch_types():
    x = mg.tensor([5, 1, 7])
    _raises(RuntimeError, "out of bounds for dimension 0 with size 3",
            lambda: x.scatter(0, _index([3]), mg.tensor([1])))  # fmt: skip
    _raises(RuntimeError, "index -1 is out of bounds",
            lambda: x.scatter(0, _index([-1]), mg.tensor([1])))  # fmt: skip
    _raises(RuntimeError, "Expected self.dtype to be equal to src.dtype",
            lambda: x.scatter(0, _index([1]), mg.tensor([1.0])))  # fmt: skip
    _raises(RuntimeError, "same number of dimensions",
            lambda: x.scatter_add(0, _index([[1]]), mg.tensor([1])))  # fmt: skip
    _raises(RuntimeError, "no larger than self",
            lambda: x.scatter_add(0, _index([0, 1, 2, 0]), mg.tensor([1, 2, 3])))  # fmt: skip
    _raises(RuntimeError, "Expected dtype int64 for index",
            lambda: x.scatter_add(0, mg.tensor([0.0]), mg.tensor([1])))  # fmt: skip
    _raises(RuntimeError, r"Number of indices \(2\) should be equal to source.size\(dim\)",
            lambda: x.index_add(0, _index([0, 1]), mg.tensor([1])))  # fmt: skip
    _raises(IndexError, "index out of range in self",
            lambda: x.index_add(0, _index([0, 5]), mg.tensor([1, 2])))  # fmt: skip
    _raises(RuntimeError, "Expected dtype int32/int64 for index",
            lambda: x.index_add(0, mg.tensor([0.0, 1.0]), mg.tensor([1, 2])))  # fmt: skip
    _raises(RuntimeError, "must have the same scalar type",
            lambda: x.index_add(0, _index([0, 1]), mg.tensor([1.0, 2.0])))  # fmt: skip
    _raises(IndexError, "index 5 is out of bounds",
            lambda: x.index_copy(0, _index([0, 5]), mg.tensor([1, 2])))  # fmt: skip
    _raises(IndexError, "index 5 is out of bounds",
            lambda: x.index_fill(0, _index([0, 5]), 1))  # fmt: skip
    _raises(RuntimeError, "source tensor shape must match self tensor shape",
            lambda: mg.zeros(2, 3).index_add(1, _index([0, 1]), mg.ones(3, 2)))  # fmt: skip
    _raises(RuntimeError, "Number of elements of source < number of ones in mask",
            lambda: x.masked_scatter(mg.tensor([True, True, True]), mg.tensor([1])))  # fmt: skip
    _raises(RuntimeError, "only supports boolean masks",
            lambda: x.masked_scatter(mg.tensor([1, 1, 1]), mg.tensor([1, 2, 3])))  # fmt: skip
    _raises(RuntimeError, "reduce argument must be either sum, prod, mean, amax or amin",
            lambda: x.scatter_reduce(0, _index([0]), mg.tensor([1]), "median"))  # fmt: skip
    _raises(RuntimeError, "reduce argument must be either add or multiply",
            lambda: x.scatter(0, _index([0]), mg.tensor([1]), reduce="sum"))  # fmt: skip


# --- the fast index_add path ---------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
@pytest.mark.parametrize("shape,axis", [((7, 5), 0), ((3, 7, 4), 1), ((2, 3, 7), 2), ((7,), 0)])
def test_index_add_flat_path_equals_plain_bitwise(dtype, shape, axis):
    rng = np.random.default_rng(4)
    x = (rng.standard_normal(shape) * 10).astype(dtype)
    index = rng.integers(0, shape[axis], 40)
    sshape = shape[:axis] + (40,) + shape[axis + 1 :]
    source = (rng.standard_normal(sshape) * 10).astype(dtype)
    source_view = np.asfortranarray(source)  # layout must not matter
    fast = sc._index_add_flat(x, source_view, axis, index)
    plain = sc._index_add_plain(np, x, source, axis, index)
    assert fast.dtype == plain.dtype
    np.testing.assert_array_equal(fast, plain)


@pytest.mark.parametrize("dtype", [np.float32, np.int64])
def test_scatter_add_flat_path_equals_plain_bitwise(dtype):
    rng = np.random.default_rng(5)
    x = (rng.standard_normal((5, 6, 3)) * 10).astype(dtype)
    index = rng.integers(0, 6, (4, 5, 3))
    values = (rng.standard_normal((4, 5, 3)) * 10).astype(dtype)
    where_ = (np.arange(4)[:, None, None], index, np.arange(3)[None, None, :])
    fast = sc._scatter_add_flat(x, values, where_)
    plain = sc._scatter_add_plain(np, x, values, where_)
    np.testing.assert_array_equal(fast, plain)


def test_index_op_checks_match_torch():
    x, src = mg.zeros((3, 2)), mg.ones((2, 2))
    i32 = mg.tensor([0, 1], dtype=mg.int32)
    assert x.index_add(0, i32, src).shape == (3, 2)  # int32 taken
    with pytest.raises(RuntimeError, match="long tensor"):
        x.index_copy(0, i32, src)
    with pytest.raises(IndexError, match="int64"):
        x.index_fill(0, i32, 1.0)
    with pytest.raises(RuntimeError, match="0-dimensional value"):
        x.index_fill(0, mg.tensor([0]), mg.ones(2))
    # index_add: the source shape first; bounds RuntimeError (int64, 2-d) or IndexError
    with pytest.raises(RuntimeError, match="source tensor shape"):
        x.index_add(0, mg.tensor([0, 5]), mg.ones((2, 3)))
    with pytest.raises(RuntimeError, match="out of bounds"):
        x.index_add(0, mg.tensor([0, -1]), src)
    with pytest.raises(IndexError, match="out of range in self"):
        x.index_add(0, mg.tensor([0, -1], dtype=mg.int32), src)
    with pytest.raises(IndexError, match="out of range in self"):
        mg.zeros(3).index_add(0, mg.tensor([5]), mg.zeros(1))
    # index_copy: a count mismatch is an IndexError
    with pytest.raises(IndexError, match="Number of indices"):
        x.index_copy(0, mg.tensor([0]), src)
    # index_fill wraps negative indices
    np.testing.assert_array_equal(x.index_fill(0, mg.tensor([-1]), 2.0).numpy()[2], [2, 2])
    # an empty self: no bounds checked, except slices of a 0-size dim that hold elements
    assert mg.zeros((3, 0)).index_add(0, mg.tensor([5]), mg.zeros((1, 0))).shape == (3, 0)
    assert mg.zeros((3, 0)).index_copy(0, mg.tensor([5]), mg.zeros((1, 0))).shape == (3, 0)
    assert mg.zeros((3, 0)).index_fill(0, mg.tensor([5]), 1.0).shape == (3, 0)
    with pytest.raises(RuntimeError):
        mg.zeros((2, 0)).index_fill(1, mg.tensor([0]), 1.0)


def test_masked_scatter_broadcasts_input_out_of_place_only():
    x, mask = mg.zeros((3, 1)), mg.ones(3, dtype=mg.bool)
    out = x.masked_scatter(mask, mg.arange(9.0))
    want = torch.zeros(3, 1).masked_scatter(torch.ones(3, dtype=torch.bool), torch.arange(9.0))
    np.testing.assert_array_equal(out.numpy(), want.numpy())
    assert mg.masked_scatter(x, mask, mg.arange(9.0)).shape == (3, 3)
    with pytest.raises(RuntimeError):
        x.clone().masked_scatter_(mask, mg.arange(9.0))


def test_scatter_reduce_keyword_reads_a_larger_src():
    x = mg.zeros((3, 3), dtype=mg.int64)
    src = mg.ones((2, 2), dtype=mg.int64)
    out = x.clone().scatter_(0, mg.tensor([[0]]), src, reduce="add")
    want = torch.zeros(3, 3, dtype=torch.int64).scatter_(
        0, torch.tensor([[0]]), torch.ones(2, 2, dtype=torch.int64), reduce="add"
    )
    np.testing.assert_array_equal(out.numpy(), want.numpy())


def test_integer_alpha_and_fill_values_wrap_as_torch():
    x = mg.zeros(3, dtype=mg.uint8)
    out = x.index_add(0, mg.tensor([0]), mg.tensor([1], dtype=mg.uint8), alpha=-1)
    assert out.numpy()[0] == 255
    out = mg.zeros((2, 2), dtype=mg.uint8).scatter(0, mg.tensor([[0, 1]]), -3)
    np.testing.assert_array_equal(out.numpy(), [[253, 0], [0, 253]])

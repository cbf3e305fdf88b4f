"""Gradient, double-gradient and forward tests for reductions and softmax (minigrad/ops/reduce.py)."""

import math

import numpy as np
import pytest
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import gradcheck, gradgradcheck
from minigrad.testing import strategies as S
from minigrad.testing.opcheck import check_op

COVERED = {
    "sum",
    "mean",
    "var",
    "amax",
    "amin",
    "logsumexp",
    "prod",
    "cumsum",
    "norm",
    "norm_inf",
    "softmax",
    "log_softmax",
}

ANY = S.shapes()
NONEMPTY = S.shapes(min_dims=1)


def _axis(dim):
    return dim if dim is None or isinstance(dim, int) else tuple(dim)


def dims(shape, multi=True):
    """params: dim (None, an int or a tuple; negatives too) and keepdim."""
    return S.dims_and_keepdim(len(shape), multi).map(lambda d: {"dim": d[0], "keepdim": d[1]})


def one_dim(shape, keepdim=True):
    base = {"dim": S.valid_dims(len(shape))}
    if keepdim:
        base["keepdim"] = st.booleans()
    return st.fixed_dictionaries(base)


def _np_axis(x, dim):
    return None if dim is None or x.ndim == 0 else dim


def distinct(gap=1e-3):
    """valid(): all elements pairwise at least `gap` apart (no ties at the max/min)."""

    def ok(x, **_):
        v = np.sort(x.ravel())
        return bool(np.all(np.diff(v) > gap))

    return ok


test_sum = check_op(
    lambda x, dim, keepdim: x.sum(dim, keepdim),
    ANY,
    params=dims,
    gradgrad=True,
    reference=lambda x, dim, keepdim: np.sum(x, _np_axis(x, dim), keepdims=keepdim),
)
test_mean = check_op(
    lambda x, dim, keepdim: x.mean(dim, keepdim),
    ANY,
    params=dims,
    gradgrad=True,
    reference=lambda x, dim, keepdim: np.mean(x, _np_axis(x, dim), keepdims=keepdim),
)
test_sum_axis_keepdims_aliases = check_op(
    lambda x, dim, keepdim: mg.sum(x, axis=dim, keepdims=keepdim),
    ANY,
    params=dims,
    reference=lambda x, dim, keepdim: np.sum(x, _np_axis(x, dim), keepdims=keepdim),
)


def _var_params(shape):
    return st.tuples(S.dims_and_keepdim(len(shape)), st.sampled_from([0, 1, 2])).map(
        lambda p: {"dim": p[0][0], "keepdim": p[0][1], "correction": p[1]}
    )


def _count(x, dim):
    if dim is None or x.ndim == 0:
        return x.size
    dims = (dim,) if isinstance(dim, int) else dim
    return math.prod(x.shape[d] for d in dims)


def _var_ok(x, dim, keepdim, correction):
    return _count(x, dim) > correction


def _std_ok(x, dim, keepdim, correction):
    return _var_ok(x, dim, keepdim, correction) and bool(
        np.all(np.var(x, axis=_np_axis(x, dim), ddof=correction) > 1e-3)
    )


test_var = check_op(
    lambda x, dim, keepdim, correction: x.var(dim, correction=correction, keepdim=keepdim),
    ANY,
    params=_var_params,
    valid=_var_ok,
    gradgrad=True,
    reference=lambda x, dim, keepdim, correction: np.var(
        x, _np_axis(x, dim), ddof=correction, keepdims=keepdim
    ),
)
test_std = check_op(
    lambda x, dim, keepdim, correction: x.std(dim, correction=correction, keepdim=keepdim),
    ANY,
    params=_var_params,
    valid=_std_ok,
    gradgrad=True,
    reference=lambda x, dim, keepdim, correction: np.std(
        x, _np_axis(x, dim), ddof=correction, keepdims=keepdim
    ),
)


def test_var_unbiased_flag():
    x = mg.tensor([[1.0, 2.0, 4.0], [0.0, -1.0, 3.0]], dtype=mg.float64)
    np.testing.assert_allclose(x.var(1, unbiased=False).numpy(), np.var(x.numpy(), 1))
    np.testing.assert_allclose(x.std(unbiased=True).numpy(), np.std(x.numpy(), ddof=1))


# --- max / min / amax / amin -----------------------------------------------------------------

test_max_full = check_op(lambda x: x.max(), ANY, valid=distinct(), reference=np.max, gradgrad=True)
test_min_full = check_op(lambda x: x.min(), ANY, valid=distinct(), reference=np.min, gradgrad=True)
test_max_dim = check_op(
    lambda x, dim, keepdim: tuple(x.max(dim, keepdim)),
    ANY,
    params=one_dim,
    valid=distinct(),
    reference=lambda x, dim, keepdim: (
        np.max(x, _np_axis(x, dim), keepdims=keepdim),
        np.argmax(x, _np_axis(x, dim), keepdims=keepdim) if x.ndim else np.array(0),
    ),
    gradgrad=True,
)
test_min_dim = check_op(
    lambda x, dim, keepdim: tuple(x.min(dim, keepdim)),
    ANY,
    params=one_dim,
    valid=distinct(),
    reference=lambda x, dim, keepdim: (
        np.min(x, _np_axis(x, dim), keepdims=keepdim),
        np.argmin(x, _np_axis(x, dim), keepdims=keepdim) if x.ndim else np.array(0),
    ),
    gradgrad=True,
)
test_amax = check_op(
    lambda x, dim, keepdim: x.amax(dim if dim is not None else (), keepdim),
    ANY,
    params=dims,
    valid=distinct(),
    gradgrad=True,
    reference=lambda x, dim, keepdim: np.max(x, _np_axis(x, dim), keepdims=keepdim),
)
test_amin = check_op(
    lambda x, dim, keepdim: x.amin(dim if dim is not None else (), keepdim),
    ANY,
    params=dims,
    valid=distinct(),
    gradgrad=True,
    reference=lambda x, dim, keepdim: np.min(x, _np_axis(x, dim), keepdims=keepdim),
)


def test_max_ties_documented_behaviour():
    """max(x) and amax split the gradient evenly among tied maxima; max(x, dim) sends all of it
    to the returned index (the first maximum), as PyTorch does."""
    data = [[3.0, 1.0, 3.0], [2.0, 2.0, 0.0]]
    x = mg.tensor(data, requires_grad=True)
    x.max().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.5, 0, 0.5], [0, 0, 0]])
    x.grad = None
    x.amax(1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.5, 0, 0.5], [0.5, 0.5, 0]])
    x.grad = None
    values, indices = x.max(1)
    assert indices.tolist() == [0, 0]
    values.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[1, 0, 0], [1, 0, 0]])
    x.grad = None
    x.min(dim=0).values.sum().backward()  # column 1: min 1.0 at row 0
    np.testing.assert_allclose(x.grad.numpy(), [[0, 1, 0], [1, 0, 1]])
    x.grad = None
    mg.tensor([1.0, 1.0]).requires_grad_()
    y = mg.tensor([5.0, 5.0, 5.0, 1.0], requires_grad=True)
    y.min().backward()
    np.testing.assert_allclose(y.grad.numpy(), [0, 0, 0, 1])
    y.grad = None
    y.max().backward()
    np.testing.assert_allclose(y.grad.numpy(), [1 / 3, 1 / 3, 1 / 3, 0], rtol=1e-6)


def test_max_with_other_is_maximum():
    a, b = mg.tensor([1.0, 5.0]), mg.tensor([3.0, 2.0])
    assert mg.max(a, b).tolist() == [3.0, 5.0]
    assert mg.min(a, other=b).tolist() == [1.0, 2.0]


# --- logsumexp, prod, cumsum, norm ------------------------------------------------------------


def _lse(x, dim, keepdim):
    axis = _np_axis(x, dim)
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdim else (np.squeeze(out, axis) if axis is not None else out.reshape(()))


test_logsumexp = check_op(
    lambda x, dim, keepdim: x.logsumexp(dim, keepdim),
    NONEMPTY,
    params=lambda s: dims(s).filter(lambda p: p["dim"] is not None),
    reference=_lse,
    gradgrad=True,
)


@pytest.mark.filterwarnings("ignore:divide by zero")  # log(0) for the all -inf row: -inf
def test_logsumexp_extremes():
    x = mg.tensor([[1000.0, 1000.0], [-math.inf, -math.inf], [-math.inf, 0.0]], dtype=mg.float64)
    out = x.logsumexp(1).numpy()
    np.testing.assert_allclose(out, [1000 + math.log(2), -math.inf, 0.0])


WITH_ZEROS = st.one_of(st.just(0.0), S.floats(-2, 2))


def _prod_params(shape):
    return st.fixed_dictionaries(
        {"dim": st.one_of(st.none(), S.valid_dims(len(shape))), "keepdim": st.booleans()}
    )


test_prod = check_op(
    lambda x, dim, keepdim: x.prod(dim, keepdim),
    ANY,
    params=_prod_params,
    elements=WITH_ZEROS,
    gradgrad=True,
    reference=lambda x, dim, keepdim: np.prod(x, _np_axis(x, dim), keepdims=keepdim),
)


@pytest.mark.parametrize("data", [[2.0, 0.0, 3.0, 4.0], [0.0, 0.0, 3.0, 1.0], [0.0], [1.5, -2.0]])
def test_prod_with_zeros_exact_gradient(data):
    x = mg.tensor(data, dtype=mg.float64, requires_grad=True)
    x.prod().backward()
    expected = [math.prod(v for j, v in enumerate(data) if j != i) for i in range(len(data))]
    np.testing.assert_array_equal(x.grad.numpy(), expected)
    assert gradgradcheck(lambda x: x.prod(), x) and gradcheck(lambda x: x.prod(0), x)


test_cumsum = check_op(
    lambda x, dim: x.cumsum(dim),
    ANY,
    params=lambda s: st.fixed_dictionaries({"dim": S.valid_dims(len(s))}),
    reference=lambda x, dim: np.cumsum(x, dim) if x.ndim else x,
    gradgrad=True,
)


def _norm_ref(x, p, dim, keepdim):
    axis = _np_axis(x, dim)
    a = np.abs(x)
    if p == math.inf:
        return np.max(a, axis, keepdims=keepdim)
    return np.sum(a**p, axis, keepdims=keepdim) ** (1 / p)


def _norm_ok(x, p, dim, keepdim):
    if p == 2:
        return bool(np.all(np.sum(x * x, _np_axis(x, dim)) > 1e-2))
    if p == math.inf:
        return bool(np.all(np.abs(x) > 1e-3)) and distinct()(np.abs(x))
    return bool(np.all(np.abs(x) > 1e-3))


def _norm_params(shape):
    return st.tuples(st.sampled_from([2, 1, math.inf, 3]), S.dims_and_keepdim(len(shape))).map(
        lambda p: {"p": p[0], "dim": p[1][0], "keepdim": p[1][1]}
    )


test_norm = check_op(
    lambda x, p, dim, keepdim: x.norm(p, dim, keepdim),
    ANY,
    params=_norm_params,
    valid=_norm_ok,
    reference=_norm_ref,
    gradgrad=True,
)


def test_norm_inf_gradient_at_nan_as_torch():
    # torch splits g over the maximal |x| and the NaNs, times sgn(x) (0 at NaN)
    torch = pytest.importorskip("torch")
    for xs in ([np.nan, 1.0, -1.0], [[3.0, -3.0, 1.0], [np.inf, 2.0, -np.inf]]):
        for p in (math.inf, -math.inf):
            grads = []
            for lib in (mg, torch):
                a = lib.tensor(np.array(xs), requires_grad=True)
                lib.norm(a, p, -1).sum().backward()
                grads.append(a.grad.numpy())
            np.testing.assert_array_equal(grads[0], grads[1])


def test_norm_zero_vector_gradient_is_zero():
    x = mg.zeros(3, dtype=mg.float64, requires_grad=True)
    x.norm().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]


def test_norm_fro_and_p0():
    x = mg.tensor([[3.0, 0.0], [0.0, 4.0]], dtype=mg.float64)
    assert x.norm("fro").item() == pytest.approx(5.0)
    assert x.norm(0).item() == 2.0


@pytest.mark.parametrize("p", ["fro", None, 1, 2, 3, 0.5, 0, math.inf, -math.inf])
@pytest.mark.parametrize("dim", [None, 1, -1, (0, 2), [2, 1], (0, 1, 2)])
@pytest.mark.parametrize("keepdim", [False, True])
def test_norm_matches_torch(p, dim, keepdim):
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).standard_normal((2, 3, 4))
    t = torch.tensor(a)
    try:
        expected = torch.norm(t, p, dim, keepdim)
    except RuntimeError as e:  # 'fro' over three dims: torch's matrix_norm refuses
        with pytest.raises(RuntimeError, match="2-tuple"):
            mg.norm(mg.tensor(a), p, dim, keepdim)
        assert "2-tuple" in str(e)
        return
    for ours in (mg.norm(mg.tensor(a), p, dim, keepdim), mg.tensor(a).norm(p, dim, keepdim)):
        assert ours.shape == tuple(expected.shape)
        np.testing.assert_allclose(ours.numpy(), expected.numpy(), rtol=1e-12, atol=1e-12)


def test_norm_defaults_dtype_and_bad_orders():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    x, t = mg.tensor(a), torch.tensor(a)
    ours, theirs = x.norm(dtype=mg.float64), t.norm(dtype=torch.float64)
    assert ours.dtype == mg.float64
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-12)
    np.testing.assert_allclose(mg.norm(x, dim=(0, 1)).item(), torch.norm(t, dim=(0, 1)).item())
    with pytest.raises(RuntimeError, match="Order abc not supported"):
        x.norm("abc")
    with pytest.raises(NotImplementedError, match="nuclear"):
        x.norm("nuc")
    with pytest.raises(RuntimeError, match="2-tuple"):
        mg.norm(mg.zeros(2, 2, 2), "nuc")
    out = mg.empty(0)  # torch's positional out slot, before dtype
    assert mg.norm(x, "fro", 1, False, out) is out
    np.testing.assert_allclose(out.numpy(), torch.norm(t, "fro", 1).numpy(), rtol=1e-6)
    with pytest.raises(RuntimeError, match="dtype"):
        mg.norm(x, out=mg.empty(0, dtype=mg.float64))
    with pytest.raises(RuntimeError, match="automatic differentiation"):
        mg.norm(x.requires_grad_(), out=mg.empty(0))


# --- softmax / log_softmax --------------------------------------------------------------------


def _softmax_ref(x, dim):
    e = np.exp(x - np.max(x, axis=dim, keepdims=True))
    return e / np.sum(e, axis=dim, keepdims=True)


SOFTMAX_DIM = lambda s: st.fixed_dictionaries({"dim": S.valid_dims(len(s))})
test_softmax = check_op(
    lambda x, dim: x.softmax(dim),
    NONEMPTY,
    params=SOFTMAX_DIM,
    reference=_softmax_ref,
    gradgrad=True,
)
test_log_softmax = check_op(
    lambda x, dim: x.log_softmax(dim),
    NONEMPTY,
    params=SOFTMAX_DIM,
    reference=lambda x, dim: np.log(_softmax_ref(x, dim)),
    gradgrad=True,
)


def test_log_softmax_large_logits_are_finite():
    x = mg.tensor([[1000.0, 0.0, -1000.0]], dtype=mg.float64)
    out = x.log_softmax(-1).numpy()
    np.testing.assert_allclose(out, [[0.0, -1000.0, -2000.0]])
    assert np.isfinite(x.softmax(-1).numpy()).all()


# --- found by the differential suite (tests/differential) ---------------------------------------


def _both(fn, array):
    import torch

    out = []
    for lib in (torch, mg):
        try:
            out.append(fn(lib, lib.tensor(array)))
        except Exception as e:  # noqa: BLE001 - the exception type is compared
            out.append(type(e))
    return out


@pytest.mark.parametrize(
    "fn",
    [
        lambda lib, x: lib.amax(x, 1),
        lambda lib, x: lib.amin(x),
        lambda lib, x: lib.max(x, 1),
        lambda lib, x: lib.argmax(x),
        lambda lib, x: lib.argmin(x, 1),
        lambda lib, x: x.norm(float("inf"), 1),
    ],
)
def test_max_like_reductions_refuse_empty_dims_as_torch(fn):
    want, got = _both(fn, np.zeros((3, 0, 4), np.float32))
    assert isinstance(want, type) and got is want


def test_softmax_and_logsumexp_over_an_empty_dim():
    import torch

    x = np.zeros((3, 0, 4), np.float32)
    for name in ("softmax", "log_softmax"):
        assert getattr(mg, name)(mg.tensor(x), 1).shape == (3, 0, 4)
    lse = mg.logsumexp(mg.tensor(x), 1)
    np.testing.assert_array_equal(lse.numpy(), torch.logsumexp(torch.tensor(x), 1).numpy())


def test_log_softmax_of_a_row_with_inf_is_nan_as_torch():
    import torch

    x = np.array([[np.inf, 1.0, -np.inf], [-np.inf, -np.inf, -np.inf]])
    np.testing.assert_array_equal(
        mg.log_softmax(mg.tensor(x), 1).numpy(), torch.log_softmax(torch.tensor(x), 1).numpy()
    )


def test_integer_dtypes_of_all_any_prod_cumsum_as_torch():

    x = np.array([0, 3, 200], np.uint8)
    for fn in (
        lambda lib, t: lib.all(t),
        lambda lib, t: lib.any(t),
        lambda lib, t: lib.prod(t),
        lambda lib, t: lib.cumsum(t, 0),
    ):
        want, got = _both(fn, x)
        assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
        assert got.tolist() == want.tolist()


def test_p_norm_gradient_at_zero_and_the_zero_norm_is_tracked():
    for p, expected in [(3, [0.0, 0.0]), (0, [0.0, 0.0])]:
        x = mg.zeros(2, requires_grad=True)
        x.norm(p).backward()
        assert x.grad.tolist() == expected


def test_prod_of_an_empty_tensor_has_an_empty_gradient():
    x = mg.zeros(4, 0, requires_grad=True)
    x.prod().backward()
    assert x.grad.shape == (4, 0)


def test_cumsum_cumprod_to_an_integer_dtype_refuse_a_grad_requiring_input():
    x = mg.ones(3, requires_grad=True)
    for f in (mg.cumsum, mg.cumprod):
        with pytest.raises(RuntimeError, match="Autograd not support dtype: Long"):
            f(x, 0, dtype=mg.int64)
        assert f(x, 0, dtype=mg.float64).requires_grad
        with mg.no_grad():
            assert f(x, 0, dtype=mg.int64).dtype == mg.int64


def test_norm_below_one_has_zero_gradient_at_zero():
    for p in (0.5, -1.0):
        x = mg.tensor([0.0, -2.0, 3.0], dtype=mg.float64, requires_grad=True)
        mg.norm(x, p).backward()
        assert x.grad.numpy()[0] == 0.0 and np.isfinite(x.grad.numpy()).all()
    assert mg.norm(mg.tensor([0.0, 1.0]), -1.0).item() == 0.0  # 1 / (1/0 + 1): 0

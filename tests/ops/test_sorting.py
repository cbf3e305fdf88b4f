"""sort, argsort, msort, topk, kthvalue, median, nanmedian, mode (minigrad/ops/sorting.py):
gradients (they read values with gather), torch agreement with ties and NaN, errors."""

import numpy as np
import pytest
import torch
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import strategies as S
from minigrad.testing.opcheck import check_op

NAN = float("nan")
ROWS = S.shapes(min_dims=1, max_dims=3)


def _dim(shape):
    return st.fixed_dictionaries({"dim": st.integers(-len(shape), len(shape) - 1)})


def _distinct(x, **_):  # away from ties, where the order (and so the gradient) jumps
    return bool(np.all(np.diff(np.sort(x.ravel())) > 1e-3))


test_sort = check_op(lambda x, dim: mg.sort(x, dim, descending=True).values, ROWS, params=_dim,
                     valid=_distinct, reference=lambda x, dim: -np.sort(-x, axis=dim),
                     gradgrad=True)  # fmt: skip
test_topk = check_op(lambda x, dim: x.topk(1, dim).values, ROWS, params=_dim, valid=_distinct,
                     gradgrad=True)  # fmt: skip
test_kthvalue = check_op(lambda x, dim: x.kthvalue(1, dim, keepdim=True).values, ROWS,
                         params=_dim, valid=_distinct)  # fmt: skip
test_median = check_op(lambda x, dim: x.median(dim).values, ROWS, params=_dim, valid=_distinct,
                       reference=None)  # fmt: skip
test_nanmedian_all = check_op(lambda x: x.nanmedian(), ROWS, valid=_distinct)
test_mode = check_op(lambda x: mg.mode(x, 0).values, ROWS, valid=_distinct)

CASES = [
    np.array([[1.0, 3, 3, 2, 3], [4, NAN, 0, -1, 4]]),
    np.array([[2.0, 1, 1, 2], [5, 5, 4, 4]]),
    np.array([3.0, 1, 2, 1]),
    np.array([[NAN, NAN], [NAN, 1.0]]),
]


def _same(a, b):
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert str(a.dtype) == str(b.dtype).replace("torch.", "")


@pytest.mark.parametrize("k", range(len(CASES)))
@pytest.mark.parametrize("dim", [0, -1])
def test_matches_torch_with_ties_and_nan(k, dim):
    x = CASES[k]
    m, t = mg.tensor(x), torch.tensor(x)
    for descending in (False, True):
        a = m.sort(dim, descending=descending, stable=True)
        b = torch.sort(t, dim=dim, descending=descending, stable=True)
        _same(a.values, b.values)
        _same(a.indices, b.indices)
        _same(
            m.argsort(dim, descending, stable=True),
            t.argsort(dim=dim, descending=descending, stable=True),
        )
    for name in ("median", "nanmedian"):
        a, b = getattr(m, name)(dim, keepdim=True), getattr(t, name)(dim, keepdim=True)
        _same(a.values, b.values)
        _same(a.indices, b.indices)
        _same(getattr(m, name)(), getattr(t, name)())
    if not np.isnan(x).any():
        a, b = m.mode(dim), t.mode(dim)
        _same(a.values, b.values)
        _same(a.indices, b.indices)
    _same(mg.msort(m), torch.msort(t))


def test_integer_inputs_and_result_types():
    x = np.array([[2, 1, 1, 2, 3, 3], [0, 7, 7, -1, 7, 0]])
    m, t = mg.tensor(x), torch.tensor(x)
    for name in ("median", "mode"):
        a, b = getattr(m, name)(1), getattr(t, name)(1)
        assert type(a).__name__ == type(b).__name__
        _same(a.values, b.values)
        _same(a.indices, b.indices)
    values, indices = m.topk(2, largest=False)
    _same(values, t.topk(2, largest=False).values)
    assert type(m.sort()).__name__ == "sort"


def test_gradient_goes_to_the_chosen_elements():
    a = mg.tensor([1.0, 3, 2, 5], requires_grad=True)
    ta = torch.tensor([1.0, 3, 2, 5], requires_grad=True)
    (a.topk(2).values * mg.tensor([1.0, 10])).sum().backward()
    (ta.topk(2).values * torch.tensor([1.0, 10])).sum().backward()
    _same(a.grad, ta.grad)


def test_zero_dim_and_errors():
    x = mg.tensor(2.5)
    assert x.sort().values.item() == 2.5 and x.sort().indices.item() == 0
    assert x.median().item() == 2.5
    with pytest.raises(IndexError, match="Dimension out of range"):
        mg.tensor([1.0, 2.0]).sort(1)
    with pytest.raises(RuntimeError, match="selected index k out of range"):
        mg.tensor([1.0, 2.0]).topk(3)
    with pytest.raises(RuntimeError, match="kthvalue"):  # as torch: k out of range
        mg.tensor([1.0, 2.0]).kthvalue(0)
    assert np.isnan(mg.zeros(0).median().item())  # as torch: no error, NaN


def test_kthvalue_and_median_errors_and_empty_results_match_torch():
    # k out of range is a RuntimeError; an empty reduced dim an IndexError (kthvalue, nanmedian)
    with pytest.raises(RuntimeError):
        mg.kthvalue(mg.zeros(3), 4)
    for f in (mg.kthvalue, mg.nanmedian, mg.median):
        args = (1, 1) if f is mg.kthvalue else (1,)
        with pytest.raises(IndexError):
            f(mg.zeros((2, 0)), *args)
    # median()/nanmedian() of no elements: torch's NaN fill, cast as C casts it
    for name, expected in [("float32", np.nan), ("int64", np.iinfo(np.int64).min),
                           ("int32", np.iinfo(np.int32).min), ("int16", 0), ("uint8", 0),
                           ("bool", True)]:  # fmt: skip
        for f in (mg.median, mg.nanmedian):
            out = f(mg.zeros((0, 3), dtype=getattr(mg, name)))
            assert out.shape == () and str(out.dtype).endswith(name)
            np.testing.assert_array_equal(out.numpy(), expected)
    x = mg.zeros((0, 2), requires_grad=True)
    mg.median(x).backward()
    assert x.grad.shape == (0, 2)

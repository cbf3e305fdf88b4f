"""searchsorted, bucketize, histc, unique and unique_consecutive (minigrad/ops/searching.py)
against PyTorch 2.13: values, dtypes, shapes, the tuple each flag combination returns, NaN
placement, and torch's exception types for bad input."""

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")


def _same(ours, theirs):
    if isinstance(theirs, tuple):
        assert isinstance(ours, tuple) and len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            _same(o, t)
        return
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def _agree(case):
    """Run `case(lib)` with lib = torch and lib = minigrad: same result, or same exception."""
    try:
        expected = case(torch)
    except Exception as error:
        with pytest.raises(type(error)):
            case(mg)
        return
    _same(case(mg), expected)


NAN = float("nan")
SEQ = [1.0, 3.0, 5.0, 7.0]
VALUES = [[0.0, 3.0, 6.0], [7.0, 8.0, 1.0]]

SEARCH_CASES = [
    lambda m: m.searchsorted(m.tensor(SEQ), m.tensor(VALUES)),
    lambda m: m.searchsorted(m.tensor(SEQ), m.tensor(VALUES), right=True),
    lambda m: m.searchsorted(m.tensor(SEQ), m.tensor(VALUES), side="right"),
    lambda m: m.searchsorted(m.tensor(SEQ), m.tensor(VALUES), side="left"),
    lambda m: m.searchsorted(m.tensor(SEQ), m.tensor(VALUES), side="left", right=True),
    lambda m: m.searchsorted(m.tensor(SEQ), m.tensor(VALUES), side="up"),
    lambda m: m.searchsorted(m.tensor(SEQ), m.tensor(VALUES), out_int32=True),
    lambda m: m.searchsorted(m.tensor(SEQ), 4),
    lambda m: m.searchsorted(m.tensor(SEQ), 4.5, out_int32=True),
    lambda m: m.searchsorted(m.tensor(SEQ), m.tensor(4.5)),
    lambda m: m.searchsorted(m.tensor(SEQ), m.tensor([[2, 3]])),  # int values, float sequence
    lambda m: m.searchsorted(m.tensor([1, 3, 5]), m.tensor([2.5, 3.0])),
    lambda m: m.searchsorted(m.tensor([[1.0, 2.0], [3.0, 4.0]]), m.tensor([[1.5], [3.5]])),
    lambda m: m.searchsorted(
        m.tensor([[[1.0, 2, 2], [3, 4, 5]], [[0, 0, 1], [2, 3, 3]]]),
        m.tensor([[[2.0, 0], [5, 3]], [[0, 1], [3, 9]]]),
        right=True,
    ),
    lambda m: m.searchsorted(m.tensor([[1.0, 2.0], [3.0, 4.0]]), m.tensor([[1.5], [3.5], [1]])),
    lambda m: m.searchsorted(m.tensor([[1.0, 2.0], [3.0, 4.0]]), m.tensor([1.5])),
    lambda m: m.searchsorted(m.tensor([[1.0, 2.0], [3.0, 4.0]]), 1.5),
    lambda m: m.searchsorted(m.tensor(1.0), m.tensor([1.5])),
    lambda m: m.searchsorted(m.zeros(0), m.tensor([1.5])),
    lambda m: m.searchsorted(m.zeros(2, 0), m.zeros(2, 3)),
    lambda m: m.searchsorted(m.tensor(SEQ), m.zeros(0)),
    # NaN: torch's comparisons (`!(b >= v)`) decide, not NumPy's NaN-last order
    lambda m: m.searchsorted(m.tensor([1.0, NAN]), m.tensor([NAN, 2.0, 0.5])),
    lambda m: m.searchsorted(m.tensor([1.0, NAN]), m.tensor([NAN, 2.0, 0.5]), right=True),
    lambda m: m.searchsorted(m.tensor([5.0, 1, 3]), m.tensor([2.0, 4]), sorter=m.tensor([1, 2, 0])),
    lambda m: m.searchsorted(
        m.tensor([[5.0, 1, 3], [0, 2, 1]]),
        m.tensor([[2.0, 4], [1, 1]]),
        side="right",
        sorter=m.tensor([[1, 2, 0], [0, 2, 1]]),
    ),
    lambda m: m.searchsorted(m.tensor([5.0, 1, 3]), m.tensor([2.0, 4]), sorter=m.tensor([1, 2])),
    lambda m: m.searchsorted(m.tensor([5.0, 1, 3]), m.tensor([2.0]), sorter=m.tensor([1, 2, 5])),
    lambda m: m.searchsorted(m.tensor([5.0, 1, 3]), m.tensor([2.0]), sorter=m.tensor([1.0, 2, 0])),
    lambda m: m.searchsorted(m.tensor([True, False]), m.tensor([True])),
    lambda m: m.searchsorted(m.tensor([1.0, 2.0], dtype=m.float16), m.tensor([1.5])),
    lambda m: m.searchsorted(m.tensor([1, 2], dtype=m.uint8), m.tensor([1, 300])),
    lambda m: m.bucketize(m.tensor([1, 300]), m.tensor([1, 2], dtype=m.uint8)),
    lambda m: m.bucketize(m.tensor(VALUES), m.tensor(SEQ)),
    lambda m: m.bucketize(m.tensor(VALUES), m.tensor(SEQ), right=True, out_int32=True),
    lambda m: m.bucketize(3, m.tensor(SEQ)),
    lambda m: m.bucketize(m.tensor(3.0), m.tensor(SEQ)),
    lambda m: m.bucketize(m.tensor([[1, 9], [5, 4]], dtype=m.int32), m.tensor(SEQ)),
    lambda m: m.bucketize(m.tensor(VALUES), m.ones(2, 2)),
]


@pytest.mark.parametrize("case", range(len(SEARCH_CASES)))
def test_searchsorted_and_bucketize_match_torch(case):
    _agree(SEARCH_CASES[case])


def test_searchsorted_matches_torch_on_random_batches():
    rng = np.random.default_rng(0)
    for shape, queries in [((5, 9), (5, 7)), ((2, 3, 1), (2, 3, 4)), ((30,), (4, 6))]:
        seq = np.sort(rng.integers(-5, 5, shape).astype(np.float64), axis=-1)
        values = rng.integers(-6, 6, queries).astype(np.float64)
        for right in (False, True):
            _agree(lambda m: m.searchsorted(m.tensor(seq), m.tensor(values), right=right))


def test_library_search_and_binary_search_agree():
    # the speed path (NumPy's searchsorted per row) beside the vectorised binary search that
    # serves NaN boundaries and many rows: the same indices wherever both apply
    from minigrad.ops.searching import _binary_search, _library_search

    rng = np.random.default_rng(4)
    for rows_n, n, q in [(1, 9, 20), (5, 1, 7), (3, 0, 4), (7, 33, 50), (1, 1000, 300)]:
        rows = np.sort(rng.integers(-4, 4, (rows_n, n)).astype(np.float64), axis=-1)
        asked = rng.integers(-5, 5, (rows_n, q)).astype(np.float64)
        asked[0, : q // 4] = np.nan  # NaN values: both put them after every boundary
        for right in (False, True):
            np.testing.assert_array_equal(
                _library_search(np, rows, asked, right), _binary_search(np, rows, asked, right)
            )


HIST_CASES = [
    lambda m: m.histc(m.tensor([1.0, 2, 1, 4]), bins=4),
    lambda m: m.histc(m.tensor([1.0, 2, 1, 4]), bins=4, min=0, max=3),
    lambda m: m.histc(m.tensor([1.0, 2, 1, 4]), 4, 0, 3),
    lambda m: m.histc(m.tensor([1.0, 1]), bins=4),  # one value: the range [v - 1, v + 1]
    lambda m: m.histc(m.zeros(0), bins=4),
    lambda m: m.histc(m.tensor([1.0, 2, 3, 10, -5]), bins=7, min=-1, max=3),  # outside: dropped
    lambda m: m.histc(m.tensor([0.1, 0.2, 0.3, 0.7, 1.0]), bins=10, min=0, max=1),
    lambda m: m.histc(m.tensor([[1.0, 2], [3, 4]], dtype=m.float64), bins=3, min=1, max=4),
    lambda m: m.histc(m.tensor([1.0, NAN, 2.0]), bins=4, min=0, max=3),  # NaN not counted
    lambda m: m.tensor([1.0, 2, 1, 4]).histc(3),
    lambda m: m.histc(m.tensor([1, 2]), bins=4),
    lambda m: m.histc(m.tensor([1.0, 2]), bins=0),
    lambda m: m.histc(m.tensor([1.0, 2]), bins=4, min=3, max=1),
    lambda m: m.histc(m.tensor([1.0, NAN]), bins=4),
    lambda m: m.histc(m.tensor([1.0, float("inf")]), bins=4),
    lambda m: m.histc(m.tensor([1.0, 2]), bins=4, min=NAN, max=1),
    lambda m: m.histc(m.tensor(1.0)),
    lambda m: m.histc(m.tensor([1.0, 2.0]), bins=3, min=1, max=1),
    lambda m: m.histc(m.tensor([1.0, 2.0]), bins=3.5),
]


@pytest.mark.parametrize("case", range(len(HIST_CASES)))
def test_histc_matches_torch(case):
    _agree(HIST_CASES[case])


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_histc_matches_torch_bin_for_bin_on_random_data(dtype):
    # the bin of x is computed in the input's dtype, as torch does: edges agree bit for bit
    data = np.random.default_rng(1).standard_normal(2000).astype(dtype)
    for bins, lo, hi in [(13, 0, 0), (17, -1, 2), (100, -0.5, 0.5)]:
        _agree(lambda m: m.histc(m.tensor(data), bins, lo, hi))


FLAGS = [{}, {"return_inverse": True}, {"return_counts": True},
         {"return_inverse": True, "return_counts": True}]  # fmt: skip
MATRIX = [[1, 2], [1, 2], [0, 1], [1, 2]]


def _unique_cases():
    cases = []
    for flags in FLAGS:
        cases += [
            lambda m, f=flags: m.unique(m.tensor([3, 1, 2, 3, 1, 5]), **f),
            lambda m, f=flags: m.unique(m.tensor([[3.0, 1, 2], [3, 1, 5]]), sorted=False, **f),
            lambda m, f=flags: m.tensor([True, False, True]).unique(**f),
            lambda m, f=flags: m.unique(m.tensor([NAN, NAN, 1.0, -0.0, 0.0]), **f),
            lambda m, f=flags: m.unique(m.tensor(3.0), **f),
            lambda m, f=flags: m.unique(m.zeros(0), **f),
            lambda m, f=flags: m.unique_consecutive(m.tensor([1, 1, 2, 2, 3, 1, 1, 2]), **f),
            lambda m, f=flags: m.tensor([NAN, NAN, 1.0]).unique_consecutive(**f),
            lambda m, f=flags: m.unique_consecutive(m.tensor(3.0), **f),
            lambda m, f=flags: m.unique_consecutive(m.zeros(0), **f),
        ]
        for dim in (0, 1, -1, 2, -3):
            cases += [
                lambda m, f=flags, d=dim: m.unique(m.tensor(MATRIX), dim=d, **f),
                lambda m, f=flags, d=dim: m.unique_consecutive(m.tensor(MATRIX), dim=d, **f),
            ]
        cases += [
            lambda m, f=flags: m.unique(m.tensor(2), dim=0, **f),
            lambda m, f=flags: m.unique_consecutive(m.tensor(2), dim=-1, **f),
            lambda m, f=flags: m.unique(m.tensor([[1, 2], [1, 2]]), dim=None, **f),
            lambda m, f=flags: m.unique(m.zeros(0, 3), dim=0, **f),
            lambda m, f=flags: m.unique(m.zeros(0, 3), dim=1, **f),
        ]
    return cases


UNIQUE_CASES = _unique_cases()


@pytest.mark.parametrize("case", range(len(UNIQUE_CASES)))
def test_unique_and_unique_consecutive_match_torch(case):
    _agree(UNIQUE_CASES[case])


def test_unique_along_a_dim_matches_torch_on_random_slices():
    rng = np.random.default_rng(2)
    for shape, dim in [((6, 3, 2), 1), ((5, 2), 0), ((4, 3, 5), 2), ((3, 4), -1)]:
        data = rng.integers(0, 2, shape)
        _agree(lambda m: m.unique(m.tensor(data), dim=dim, return_inverse=True, return_counts=True))
        _agree(lambda m: m.tensor(data).unique_consecutive(True, True, dim))


def test_outputs_record_no_graph():
    x = mg.tensor([1.0, 2.0, 2.0], requires_grad=True)
    for out in (mg.unique(x), mg.histc(x, 3), mg.searchsorted(x, x), mg.bucketize(x, x)):
        assert not out.requires_grad


def test_unique_dim_with_several_empty_dims_raises_runtime_error():
    for shape, dim in [((0, 0), 0), ((0, 0), 1), ((2, 0, 0), 1)]:
        for f in (mg.unique, mg.unique_consecutive):
            with pytest.raises(RuntimeError, match="zero sized dimensions"):
                f(mg.zeros(shape), dim=dim)


def test_a_python_number_is_searched_in_the_boundaries_dtype():
    b = mg.tensor([1, 2, 3, 5, 6], dtype=mg.uint8)
    assert mg.bucketize(-2, b).item() == 5  # -2 as uint8 is 254, as in torch
    assert mg.searchsorted(b, -2).item() == 5
    assert mg.bucketize(2.5, b).item() == 2  # a float stays a float
    assert mg.bucketize(200, mg.tensor([1, 2, 3], dtype=mg.int8)).item() == 0  # -56

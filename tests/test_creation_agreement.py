"""Creation functions against PyTorch 2.13 (issue 10): linspace bit for bit in every dtype,
arange's and tensor()'s errors for bad arguments and non-numeric data."""

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")

LINSPACE_CASES = [
    (5, -5, 20, "int32"),
    (0, 10, 7, "int64"),
    (-3.7, 3.7, 9, "int16"),
    (0, 255, 17, "uint8"),
    (-7, 100, 11, "int8"),
    (0, 1, 5, "float32"),
    (-1, 1, 7, "float32"),
    (1e-3, 7.1, 33, "float32"),
    (1e4, -3, 1000, "float32"),
    (0.1, 0.7, 13, "float64"),
    (0.3, -9.7, 101, "float64"),
    (-1e-5, 3e7, 10001, "float64"),
    (3, 7, 1, "float32"),
    (3, 7, 1, "int64"),
    (2, 9, 0, "float32"),
    (2.5, 2.5, 3, "float64"),
]


@pytest.mark.parametrize("start, end, steps, dtype", LINSPACE_CASES)
def test_linspace_matches_torch_bit_for_bit(start, end, steps, dtype):
    ours = mg.linspace(start, end, steps, dtype=getattr(mg, dtype))
    theirs = torch.linspace(start, end, steps, dtype=getattr(torch, dtype))
    assert str(ours.dtype) == dtype
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_linspace_default_dtype():
    np.testing.assert_array_equal(mg.linspace(-2, 3, 11).numpy(), torch.linspace(-2, 3, 11).numpy())


BAD_CASES = [
    lambda m: m.linspace(0, 1, 3, dtype=m.bool),
    lambda m: m.linspace(0, 1, -1),
    lambda m: m.arange(0, 5, 0),
    lambda m: m.arange(0, 5, -1),
    lambda m: m.arange(5, 0),
    lambda m: m.arange(0.0, -1.0, 0.5),
    lambda m: m.tensor(["a", "b"]),
    lambda m: m.tensor([["a"], ["b"]]),
    lambda m: m.tensor("a"),
    lambda m: m.tensor([1, "a"]),
    lambda m: m.tensor(["a"], dtype=m.float32),
    lambda m: m.tensor(object()),
    lambda m: m.tensor([None]),
    lambda m: m.tensor([1.0, None]),
    lambda m: m.tensor({1: 2}),
    lambda m: m.tensor([[1], [1, 2]]),
]


@pytest.mark.parametrize("case", range(len(BAD_CASES)))
def test_bad_creation_arguments_raise_torch_exception_types(case):
    with pytest.raises(Exception) as theirs:
        BAD_CASES[case](torch)
    with pytest.raises(theirs.type):
        BAD_CASES[case](mg)


def test_arange_still_accepts_good_ranges():
    for args in [(5,), (0, 5, 2), (5, 0, -1), (0.0, 1.0, 0.25), (3, 3)]:
        np.testing.assert_array_equal(mg.arange(*args).numpy(), torch.arange(*args).numpy())


TRIANGLE_CASES = [(3, 4, 1), (0, 4, 0), (3, 3, -5), (4, 2, -1), (1, 1, 3), (5, 5, 0), (2, 6, 4)]


@pytest.mark.parametrize("row, col, offset", TRIANGLE_CASES)
@pytest.mark.parametrize("name", ["tril_indices", "triu_indices"])
def test_triangle_indices_match_torch(name, row, col, offset):
    ours, theirs = getattr(mg, name)(row, col, offset), getattr(torch, name)(row, col, offset)
    assert ours.dtype == mg.int64 and ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert getattr(mg, name)(row, col, offset, dtype=mg.int32).dtype == mg.int32


@pytest.mark.parametrize("name", ["tril_indices", "triu_indices"])
@pytest.mark.parametrize(
    "kwargs", [{"row": -1, "col": 3}, {"row": 3, "col": -2}, {"row": 3, "col": 3, "dtype": "f"}]
)
def test_triangle_indices_errors_match_torch(name, kwargs):
    kwargs = dict(kwargs)
    dtype = kwargs.pop("dtype", None)
    with pytest.raises(Exception) as theirs:
        getattr(torch, name)(**kwargs, **({"dtype": torch.float32} if dtype else {}))
    with pytest.raises(theirs.type):
        getattr(mg, name)(**kwargs, **({"dtype": mg.float32} if dtype else {}))

"""Indexing against PyTorch 2.13 (issue 10): out-of-range and negative indices in gather,
index_select and embedding raise (never wrap); advanced-index dim order for get and set."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as MF

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _x(lib):
    return lib.arange(6.0).reshape(3, 2)


OUT_OF_RANGE = [
    lambda m, F: m.gather(_x(m), 0, m.tensor([[-1, 0]])),
    lambda m, F: m.gather(_x(m), 0, m.tensor([[3, 0]])),
    lambda m, F: _x(m).gather(1, m.tensor([[2], [0], [0]])),
    lambda m, F: m.index_select(_x(m), 0, m.tensor([-1])),
    lambda m, F: m.index_select(_x(m), 0, m.tensor([3])),
    lambda m, F: _x(m).index_select(0, m.tensor([0.0])),
    lambda m, F: F.embedding(m.tensor([-1]), _x(m)),
    lambda m, F: F.embedding(m.tensor([0, 3]), _x(m)),
    lambda m, F: m.nn.Embedding(3, 2)(m.tensor([5])),
    lambda m, F: m.nn.Embedding(3, 2)(m.tensor([[0, -1]])),
    lambda m, F: m.take(_x(m), m.tensor([6])),
    lambda m, F: _x(m).take_along_dim(m.tensor([-1, 2])),  # flattened: gather's rule
]


@pytest.mark.parametrize("case", range(len(OUT_OF_RANGE)))
def test_out_of_range_indices_raise_torch_exception_types(case):
    with pytest.raises(Exception) as theirs:
        OUT_OF_RANGE[case](torch, TF)
    with pytest.raises(theirs.type):
        OUT_OF_RANGE[case](mg, MF)


NEGATIVE_ALLOWED = [
    lambda m: m.take(_x(m), m.tensor([-1, 0])),
    lambda m: m.take_along_dim(_x(m), m.tensor([[-1, 0]]), 0),
    lambda m: m.take_along_dim(_x(m), m.tensor([[-1], [0], [1]]), 1),
    lambda m: _x(m).take_along_dim(m.tensor([5, 2])),
    lambda m: _x(m)[m.tensor([-1, 0])],
]


@pytest.mark.parametrize("case", range(len(NEGATIVE_ALLOWED)))
def test_negative_indices_where_torch_allows_them(case):
    np.testing.assert_array_equal(
        NEGATIVE_ALLOWED[case](mg).numpy(), NEGATIVE_ALLOWED[case](torch).numpy()
    )

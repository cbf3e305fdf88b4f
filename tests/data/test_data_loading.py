"""minigrad.data: Dataset, TensorDataset, DataLoader (batching, shuffling, drop_last, collate)
and random_split."""

from collections import namedtuple

import numpy as np
import pytest

import minigrad as mg
from minigrad.data import (
    ConcatDataset,
    DataLoader,
    Dataset,
    Subset,
    TensorDataset,
    default_collate,
    random_split,
)


def _xy(n=10):
    x = mg.tensor(np.arange(n * 3, dtype=np.float32).reshape(n, 3))
    y = mg.arange(n)
    return x, y


def test_tensor_dataset_indexing_and_shape_check():
    x, y = _xy()
    ds = TensorDataset(x, y)
    assert len(ds) == 10
    xi, yi = ds[4]
    np.testing.assert_array_equal(xi.numpy(), [12, 13, 14])
    assert int(yi) == 4
    with pytest.raises(ValueError, match=r"Size mismatch.*\[10, 3\], \[9\]"):
        TensorDataset(x, mg.arange(9))
    with pytest.raises(TypeError, match="takes Tensors"):
        TensorDataset(x, np.arange(10))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()


@pytest.mark.parametrize(
    "batch_size,drop_last,expected",
    [
        (3, False, [3, 3, 3, 1]),
        (3, True, [3, 3, 3]),
        (5, False, [5, 5]),
        (20, False, [10]),
        (20, True, []),
    ],
)
def test_batches_and_len(batch_size, drop_last, expected):
    x, y = _xy()
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, drop_last=drop_last)
    batches = list(loader)
    assert len(loader) == len(expected) == len(batches)
    assert [len(b[1]) for b in batches] == expected
    if batches:
        xb, yb = batches[0]
        assert xb.shape == (expected[0], 3) and xb.dtype == mg.float32 and yb.dtype == mg.int64
        seen = np.concatenate([b[1].numpy() for b in batches])
        np.testing.assert_array_equal(seen, np.arange(len(seen)))  # no shuffle: in order


def test_shuffle_is_a_permutation_reproducible_with_seed_and_new_each_epoch():
    x, y = _xy(50)
    ds = TensorDataset(x, y)

    def epoch(loader):
        return np.concatenate([yb.numpy() for _, yb in loader])

    a = DataLoader(ds, batch_size=8, shuffle=True, generator=mg.Generator().manual_seed(3))
    b = DataLoader(ds, batch_size=8, shuffle=True, generator=mg.Generator().manual_seed(3))
    first, second = epoch(a), epoch(a)
    assert sorted(first.tolist()) == list(range(50))
    assert not np.array_equal(first, np.arange(50))
    assert not np.array_equal(first, second)  # a new order every epoch
    np.testing.assert_array_equal(first, epoch(b))
    # rows stay paired with their labels
    for xb, yb in DataLoader(
        ds, batch_size=8, shuffle=True, generator=mg.Generator().manual_seed(0)
    ):
        np.testing.assert_array_equal(xb.numpy()[:, 0], yb.numpy() * 3)
    # without a generator, mg.manual_seed makes shuffles reproducible
    mg.manual_seed(11)
    c = epoch(DataLoader(ds, batch_size=8, shuffle=True))
    mg.manual_seed(11)
    np.testing.assert_array_equal(c, epoch(DataLoader(ds, batch_size=8, shuffle=True)))


class _Pairs(Dataset):
    """Samples of every kind default_collate handles."""

    Point = namedtuple("Point", ["u", "v"])

    def __len__(self):
        return 5

    def __getitem__(self, i):
        return {
            "t": mg.full((2,), float(i)),
            "arr": np.full((2, 2), i, dtype=np.int32),
            "f": i / 2,
            "i": i,
            "b": i % 2 == 0,
            "s": f"item{i}",
            "tup": (i, mg.tensor(i * 1.0)),
            "pt": self.Point(i, 2 * i),
            "np_scalar": np.float32(i),
        }


def test_default_collate_like_torch():
    batch = next(iter(DataLoader(_Pairs(), batch_size=3)))
    assert batch["t"].shape == (3, 2) and batch["t"].dtype == mg.float32
    assert batch["arr"].shape == (3, 2, 2) and batch["arr"].dtype == mg.int32
    assert batch["f"].dtype == mg.float64 and batch["f"].tolist() == [0.0, 0.5, 1.0]
    assert batch["i"].dtype == mg.int64 and batch["i"].tolist() == [0, 1, 2]
    assert batch["b"].dtype == mg.bool and batch["b"].tolist() == [True, False, True]
    assert batch["s"] == ["item0", "item1", "item2"]
    assert isinstance(batch["tup"], list) and batch["tup"][0].tolist() == [0, 1, 2]
    assert batch["tup"][1].shape == (3,)
    assert isinstance(batch["pt"], _Pairs.Point) and batch["pt"].v.tolist() == [0, 2, 4]
    assert batch["np_scalar"].dtype == mg.float32


def test_default_collate_matches_torch():
    pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate

    samples = [(float(i), i, [i, i + 1], {"a": np.ones(2) * i}) for i in range(4)]
    ours, theirs = default_collate(samples), torch_collate(samples)
    assert type(ours) is type(theirs)
    for o, t in zip(ours[:2], theirs[:2]):
        assert str(o.dtype) == str(t.dtype).replace("torch.", "")
        np.testing.assert_array_equal(o.numpy(), t.numpy())
    assert len(ours[2]) == len(theirs[2]) == 2
    np.testing.assert_array_equal(ours[3]["a"].numpy(), theirs[3]["a"].numpy())


def test_collate_errors():
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([mg.zeros(2), mg.zeros(3)])
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [1]])
    with pytest.raises(TypeError, match="found object"):
        default_collate([object()])


def test_collate_keeps_graph_for_tensors_requiring_grad():
    w = mg.ones(4, 2, requires_grad=True)
    (xb,) = next(
        iter(
            DataLoader(
                TensorDataset(w),
                batch_size=3,
                shuffle=True,
                generator=mg.Generator().manual_seed(0),
            )
        )
    )
    (xb * xb).sum().backward()
    assert xb.shape == (3, 2) and sorted(w.grad.numpy()[:, 0].tolist()) == [0.0, 2.0, 2.0, 2.0]


def test_default_collate_stacks_views_requiring_grad():
    w = mg.ones(4, 2, requires_grad=True)
    batch = default_collate([w[i] for i in range(4)])
    batch.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), np.ones((4, 2)))


def test_loader_options():
    x, y = _xy()
    ds = TensorDataset(x, y)
    unbatched = list(DataLoader(ds, batch_size=None))
    assert len(unbatched) == 10 and unbatched[3][0].shape == (3,)
    custom = DataLoader(ds, batch_size=4, collate_fn=lambda samples: len(samples))
    assert list(custom) == [4, 4, 2]
    by_sampler = DataLoader(ds, batch_sampler=[[0, 9], [5]])
    assert [b[1].tolist() for b in by_sampler] == [[0, 9], [5]]
    assert [b[1].tolist() for b in DataLoader(ds, batch_size=2, sampler=[9, 8, 7])] == [[9, 8], [7]]
    with pytest.raises(ValueError, match="positive integer"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(ds, sampler=[1, 2], shuffle=True)
    with pytest.raises(ValueError, match="mutually exclusive"):
        DataLoader(ds, batch_sampler=[[1]], batch_size=3)
    with pytest.raises(TypeError, match="minigrad.Generator"):
        list(DataLoader(ds, shuffle=True, generator=1))


def test_generic_dataset_path_equals_tensor_fast_path():
    x, y = _xy(13)

    class Wrapped(Dataset):
        def __len__(self):
            return 13

        def __getitem__(self, i):
            return x[i], y[i]

    fast = list(
        DataLoader(
            TensorDataset(x, y), batch_size=4, shuffle=True, generator=mg.Generator().manual_seed(5)
        )
    )
    slow = list(
        DataLoader(Wrapped(), batch_size=4, shuffle=True, generator=mg.Generator().manual_seed(5))
    )
    for (fx, fy), (sx, sy) in zip(fast, slow):
        np.testing.assert_array_equal(fx.numpy(), sx.numpy())
        np.testing.assert_array_equal(fy.numpy(), sy.numpy())


def test_random_split_lengths_fractions_and_reproducibility():
    x, y = _xy(10)
    ds = TensorDataset(x, y)
    parts = random_split(ds, [7, 3], generator=mg.Generator().manual_seed(0))
    assert [len(p) for p in parts] == [7, 3] and all(isinstance(p, Subset) for p in parts)
    labels = [int(p[i][1]) for p in parts for i in range(len(p))]
    assert sorted(labels) == list(range(10))
    again = random_split(ds, [7, 3], generator=mg.Generator().manual_seed(0))
    assert again[0].indices == parts[0].indices
    fracs = random_split(ds, [0.5, 0.25, 0.25], generator=mg.Generator().manual_seed(1))
    assert [len(p) for p in fracs] == [6, 2, 2]  # torch: remainder round-robin from the front
    assert (
        sum(
            len(p)
            for p in random_split(
                range(7), [0.3, 0.3, 0.4], generator=mg.Generator().manual_seed(0)
            )
        )
        == 7
    )
    with pytest.raises(ValueError, match="does not equal the length"):
        random_split(ds, [5, 6])
    with pytest.raises(ValueError, match="non-negative"):
        random_split(ds, [11, -1])
    loader = DataLoader(parts[1], batch_size=2)
    assert len(loader) == 2 and sum(len(b[1]) for b in loader) == 3


def test_random_split_fraction_counts_equal_torch():
    torch = pytest.importorskip("torch")
    for n, fracs in [(10, [0.5, 0.25, 0.25]), (7, [0.3, 0.3, 0.4]), (101, [0.8, 0.1, 0.1])]:
        ours = [
            len(p) for p in random_split(range(n), fracs, generator=mg.Generator().manual_seed(0))
        ]
        theirs = [len(p) for p in torch.utils.data.random_split(range(n), fracs)]
        assert ours == theirs


def test_concat_dataset():
    x, y = _xy(4)
    ds = TensorDataset(x, y) + TensorDataset(x, y)
    assert isinstance(ds, ConcatDataset) and len(ds) == 8
    assert int(ds[5][1]) == 1 and int(ds[-1][1]) == 3
    with pytest.raises(IndexError):
        ds[8]

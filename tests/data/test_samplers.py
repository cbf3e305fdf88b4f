"""Samplers, IterableDataset and friends against torch.utils.data's semantics."""

import numpy as np
import pytest
import torch

import minigrad as mg
from minigrad.utils import data as mdata


def _g(seed=0):
    return mg.Generator().manual_seed(seed)


def test_random_sampler_arguments_mean_what_torch_says():
    ds = list(range(10))
    # positional True is replacement, as in torch (not a seed)
    s = mdata.RandomSampler(ds, True, 25, _g())
    drawn = list(s)
    assert len(s) == len(drawn) == 25 and set(drawn) <= set(ds)
    t = torch.utils.data.RandomSampler(ds, True, 25)
    assert len(t) == 25
    perm = list(mdata.RandomSampler(ds, generator=_g()))
    assert sorted(perm) == ds
    long = list(mdata.RandomSampler(ds, num_samples=23, generator=_g()))
    assert len(long) == 23 and sorted(long[:10]) == ds and sorted(long[10:20]) == ds
    assert list(mdata.RandomSampler(ds, generator=_g(3))) == list(
        mdata.RandomSampler(ds, generator=_g(3))
    )
    for bad, err in [(dict(replacement=1), TypeError), (dict(num_samples=0), ValueError)]:
        with pytest.raises(err):
            torch.utils.data.RandomSampler(ds, **bad)
        with pytest.raises(err):
            mdata.RandomSampler(ds, **bad)


def test_unseeded_random_sampler_follows_manual_seed_each_pass():
    s = mdata.RandomSampler(list(range(20)))
    mg.manual_seed(5)
    a, b = list(s), list(s)
    assert a != b  # a new permutation each pass
    mg.manual_seed(5)
    assert list(s) == a


def test_subset_and_weighted_samplers():
    s = mdata.SubsetRandomSampler([3, 5, 7], generator=_g())
    assert sorted(s) == [3, 5, 7] and len(s) == 3
    w = mdata.WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 1000, generator=_g())
    drawn = np.array(list(w))
    assert set(drawn.tolist()) == {1, 3} and abs((drawn == 3).mean() - 0.75) < 0.05
    no_repl = list(mdata.WeightedRandomSampler([1, 1, 1, 1], 4, replacement=False))
    assert sorted(no_repl) == [0, 1, 2, 3]
    with pytest.raises(ValueError):
        mdata.WeightedRandomSampler([1.0], 0)
    with pytest.raises(ValueError):
        mdata.BatchSampler(range(3), 2, drop_last=1)
    assert list(mdata.BatchSampler(mdata.SequentialSampler(range(5)), 2, True)) == [[0, 1], [2, 3]]


class _Stream(mdata.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        for i in range(self.n):
            yield mg.tensor([float(i)])

    def __len__(self):
        return self.n


def test_iterable_dataset_batches_in_order():
    loader = mdata.DataLoader(_Stream(7), batch_size=3)
    batches = list(loader)
    assert [b.shape for b in batches] == [(3, 1), (3, 1), (1, 1)] and len(loader) == 3
    assert len(mdata.DataLoader(_Stream(7), batch_size=3, drop_last=True)) == 2
    with pytest.raises(ValueError, match="shuffle"):
        mdata.DataLoader(_Stream(3), shuffle=True)
    chained = list(mdata.ChainDataset([_Stream(2), _Stream(1)]))
    assert [float(t) for t in chained] == [0.0, 1.0, 0.0]
    assert mdata.get_worker_info() is None
    with pytest.raises(AssertionError):
        mdata.ConcatDataset([_Stream(2)])


def test_stack_dataset_and_submodule_paths():
    sd = mdata.StackDataset(a=[1, 2], b=[3, 4])
    assert sd[1] == {"a": 2, "b": 4} and len(sd) == 2
    assert mdata.StackDataset([1, 2], [3, 4])[0] == (1, 3)
    from minigrad.utils.data.dataloader import default_collate
    from minigrad.utils.data.sampler import RandomSampler

    assert RandomSampler is mdata.RandomSampler and default_collate is mdata.default_collate


def test_utils_data_is_there_after_a_bare_import():
    import subprocess
    import sys

    code = "import minigrad; print(minigrad.utils.data.DataLoader.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "DataLoader"


def test_loader_generator_and_random_split_reproducible():
    ds = mdata.TensorDataset(mg.arange(20))

    def epoch(g):
        return [b[0].tolist() for b in mdata.DataLoader(ds, batch_size=5, shuffle=True,
                                                        generator=g)]  # fmt: skip

    assert epoch(_g(1)) == epoch(_g(1)) != epoch(_g(2))
    a = mdata.random_split(range(10), [0.5, 0.5], generator=_g(4))
    b = mdata.random_split(range(10), [0.5, 0.5], generator=_g(4))
    assert a[0].indices == b[0].indices
    loader = mdata.DataLoader(ds, num_workers=2, worker_init_fn=lambda i: 1 / 0, timeout=1)
    assert len(list(loader)) == 20  # in-process: worker_init_fn is never called

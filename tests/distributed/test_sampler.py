"""DistributedSampler: torch's partitioning without shuffle; torch's rules with it."""

import pytest
import torch.utils.data.distributed as torch_dist

from minigrad.utils.data import DistributedSampler as Alias
from minigrad.utils.data.distributed import DistributedSampler


def test_alias():
    assert Alias is DistributedSampler


@pytest.mark.parametrize("n", [0, 1, 5, 7, 12])
@pytest.mark.parametrize("replicas", [1, 2, 3, 5])
@pytest.mark.parametrize("drop_last", [False, True])
def test_same_indices_as_torch_without_shuffle(n, replicas, drop_last):
    for epoch in (0, 2):
        for rank in range(replicas):
            ours = DistributedSampler(range(n), replicas, rank, shuffle=False, drop_last=drop_last)
            theirs = torch_dist.DistributedSampler(
                range(n), replicas, rank, shuffle=False, drop_last=drop_last
            )
            ours.set_epoch(epoch)
            theirs.set_epoch(epoch)
            assert list(ours) == list(theirs) and len(ours) == len(theirs)


@pytest.mark.parametrize("n,replicas,drop_last", [(10, 3, False), (10, 3, True), (8, 2, False)])
def test_shuffle_rules(n, replicas, drop_last):
    def shares(epoch, seed=0):
        out = []
        for rank in range(replicas):
            s = DistributedSampler(range(n), replicas, rank, seed=seed, drop_last=drop_last)
            s.set_epoch(epoch)
            out.append(list(s))
        return out

    first = shares(0)
    assert len({len(s) for s in first}) == 1  # equal shares
    flat = sorted(i for s in first for i in s)
    if drop_last:
        assert len(set(flat)) == len(flat)  # trimmed: no repeats
    else:
        assert set(flat) == set(range(n))  # padded: every index at least once
    # every rank strides through the same permutation
    merged = [first[r][k] for k in range(len(first[0])) for r in range(replicas)]
    assert len(merged) == len(first[0]) * replicas
    assert shares(0) == first  # deterministic for seed + epoch
    assert shares(1) != first  # set_epoch changes the order (forgetting it repeats epoch 0)
    assert shares(0, seed=1) != first


def test_bad_rank():
    with pytest.raises(ValueError, match="Invalid rank 2"):
        DistributedSampler(range(4), num_replicas=2, rank=2)

"""`DistributedSampler`: each rank of a data-parallel job reads its own share of a dataset.

PyTorch's partitioning rules exactly: the index list (shuffled or not) is padded by repeating
its start to a multiple of the world size (or trimmed, with drop_last), and rank r takes every
num_replicas-th index from r. With shuffle=True every rank draws the same permutation, seeded
by seed + epoch (NumPy's generator, so the order differs from PyTorch's but the rule is the
same): call `set_epoch(epoch)` each epoch, or every epoch repeats the first one's order.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from minigrad.data.dataloader import Sampler
from minigrad.data.dataset import Dataset


class DistributedSampler(Sampler):
    def __init__(
        self,
        dataset: Dataset,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ):
        if num_replicas is None or rank is None:
            from minigrad import distributed as dist

            if not dist.is_initialized():
                raise RuntimeError(
                    "DistributedSampler needs num_replicas and rank, or an initialised process "
                    "group (minigrad.distributed.init_process_group) to read them from"
                )
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if num_replicas < 1:
            raise ValueError(f"num_replicas must be at least 1, got {num_replicas}")
        if rank >= num_replicas or rank < 0:
            raise ValueError(
                f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]"
            )
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)  # drop the tail
        else:
            self.num_samples = math.ceil(n / num_replicas)  # pad to equal shares
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        if self.shuffle:
            indices = np.random.default_rng(self.seed + self.epoch).permutation(n).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            padding = self.total_size - len(indices)
            if padding <= len(indices):
                indices += indices[:padding]
            elif indices:
                indices += (indices * math.ceil(padding / len(indices)))[:padding]
        else:
            indices = indices[: self.total_size]
        return iter(indices[self.rank : self.total_size : self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use the permutation of `epoch` (same on every rank) from the next iteration on."""
        self.epoch = epoch

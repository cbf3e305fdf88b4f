"""`minigrad.data`: datasets, samplers and the `DataLoader` (PyTorch's `torch.utils.data`,
in-process; also importable as `minigrad.utils.data`)."""

from minigrad.data import dataloader, dataset, sampler
from minigrad.data.dataloader import (
    DataLoader,
    default_collate,
    default_convert,
    get_worker_info,
)
from minigrad.data.dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)
from minigrad.data.distributed import DistributedSampler
from minigrad.data.sampler import (
    BatchSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)

__all__ = [
    "Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset", "ChainDataset",
    "StackDataset", "random_split", "DataLoader", "get_worker_info", "Sampler",
    "SequentialSampler", "RandomSampler", "SubsetRandomSampler", "WeightedRandomSampler",
    "BatchSampler", "default_collate", "default_convert", "DistributedSampler",
]  # fmt: skip

"""`minigrad.data`: datasets and the `DataLoader` (PyTorch's `torch.utils.data`, in-process)."""

from minigrad.data.dataloader import (
    BatchSampler,
    DataLoader,
    RandomSampler,
    Sampler,
    SequentialSampler,
    default_collate,
    default_convert,
)
from minigrad.data.dataset import (
    ConcatDataset,
    Dataset,
    Subset,
    TensorDataset,
    random_split,
)
from minigrad.data.distributed import DistributedSampler

__all__ = [
    "Dataset",
    "TensorDataset",
    "Subset",
    "ConcatDataset",
    "random_split",
    "DataLoader",
    "Sampler",
    "SequentialSampler",
    "RandomSampler",
    "BatchSampler",
    "default_collate",
    "default_convert",
    "DistributedSampler",
]

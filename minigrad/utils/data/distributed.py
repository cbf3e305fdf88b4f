"""PyTorch's `torch.utils.data.distributed` spelling of `minigrad.data.distributed`."""

from minigrad.data.distributed import DistributedSampler

__all__ = ["DistributedSampler"]

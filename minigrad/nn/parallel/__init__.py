"""`minigrad.nn.parallel`: training one model over several processes (DistributedDataParallel)."""

from minigrad.nn.parallel.distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]

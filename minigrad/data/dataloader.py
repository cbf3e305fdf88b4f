"""`DataLoader`, its samplers and `default_collate` (PyTorch's `torch.utils.data`).

Loading runs in the calling process. A `TensorDataset` with the default collate is batched by
one fancy-index per tensor instead of stacking samples one by one: same result, far fewer
Python calls.
"""

from __future__ import annotations

import collections.abc
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from minigrad import dtypes
from minigrad.backend import CPU, backend_of
from minigrad.data.dataset import Dataset, IterableDataset, TensorDataset
from minigrad.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler
from minigrad.random import draws
from minigrad.tensor import Tensor

# --- collation ---------------------------------------------------------------------------------


def default_collate(batch: Sequence[Any]) -> Any:
    """Stack a list of samples into a batch, as PyTorch's `default_collate`.

    Tensors and NumPy arrays are stacked along a new first dimension; Python floats become a
    float64 tensor, ints int64, bools bool; strings stay a list; dicts, tuples, named tuples and
    lists are collated field by field (tuples and lists give a list).
    """
    if len(batch) == 0:
        raise ValueError("default_collate: cannot collate an empty batch")
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack_tensors(batch)
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "OSUV":
            raise TypeError(f"default_collate: cannot batch NumPy arrays of dtype {elem.dtype}")
        return Tensor._make(np.stack(batch))
    if isinstance(elem, np.generic):
        return Tensor._make(np.asarray(batch, dtype=elem.dtype))
    if isinstance(elem, bool):
        return Tensor._make(np.asarray(batch, dtype=dtypes.bool))
    if isinstance(elem, int):
        return Tensor._make(np.asarray(batch, dtype=dtypes.int64))
    if isinstance(elem, float):
        return Tensor._make(np.asarray(batch, dtype=dtypes.float64))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        return {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(e) != size for e in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(s)) for s in zip(*batch)]
    raise TypeError(
        "default_collate: batch must contain tensors, NumPy arrays, numbers, dicts or lists; "
        f"found {type(elem).__name__}"
    )


def _stack_tensors(batch: Sequence[Tensor]) -> Tensor:
    first = batch[0]
    for i, t in enumerate(batch):
        if not isinstance(t, Tensor) or t.shape != first.shape:
            what = list(t.shape) if isinstance(t, Tensor) else type(t).__name__
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(first.shape)} at "
                f"entry 0 and {what} at entry {i}"
            )
    if any(t.requires_grad for t in batch):
        from minigrad.ops.shape import stack

        return stack(list(batch))  # keep the graph
    xp = backend_of(first._data).xp
    return Tensor._make(xp.stack([t._data for t in batch]))


def default_convert(data: Any) -> Any:
    """Unbatched loading (`batch_size=None`): NumPy arrays become tensors, the rest is kept."""
    if isinstance(data, np.ndarray) and data.dtype.kind not in "OSUV":
        return Tensor._make(data)
    if isinstance(data, collections.abc.Mapping):
        return {k: default_convert(v) for k, v in data.items()}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(v) for v in data))
    if isinstance(data, (list, tuple)):
        return type(data)(default_convert(v) for v in data)
    return data


# --- samplers (minigrad/data/sampler.py; re-exported here as in PyTorch) -------------------------

__all__ = [
    "DataLoader", "default_collate", "default_convert", "get_worker_info", "Sampler",
    "SequentialSampler", "RandomSampler", "BatchSampler",
]  # fmt: skip


def get_worker_info() -> None:
    """PyTorch's `get_worker_info()`: None in the main process, and minigrad loads every batch
    in the main process (see `DataLoader`)."""
    return None


class _InfiniteConstantSampler(Sampler):
    # the sampler of an IterableDataset: the dataset yields samples itself
    def __iter__(self) -> Iterator[None]:
        while True:
            yield None


# --- loader ------------------------------------------------------------------------------------


class DataLoader:
    """Iterate over `dataset` in batches: `for x, y in DataLoader(ds, batch_size=32, shuffle=True)`.

    PyTorch's signature and semantics, loading in the calling process: `num_workers`,
    `timeout`, `multiprocessing_context`, `prefetch_factor`, `persistent_workers`, `pin_memory`,
    `pin_memory_device` and `in_order` are checked and accepted, but no worker processes start,
    so `worker_init_fn` is never called and `get_worker_info()` is None (PyTorch's answer in the
    main process). `generator` (an `mg.Generator`) drives shuffling; each pass (each `iter`)
    first draws a base seed from it, as PyTorch's loaders do, then a new permutation.
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler | Iterable | None = None,
        batch_sampler: Sampler | Iterable[list] | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[list], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context=None,
        generator=None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
        pin_memory_device: str = "",
        in_order: bool = True,
    ):
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(
                "num_workers option should be non-negative; use num_workers=0 to disable "
                "multiprocessing."
            )
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError(
                "prefetch_factor option could only be specified in multiprocessing.let "
                "num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None."
            )
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        iterable = isinstance(dataset, IterableDataset)
        if iterable:
            if shuffle not in (None, False):
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified shuffle option, "
                    f"but got shuffle={shuffle}"
                )
            if sampler is not None:
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified sampler option, "
                    f"but got sampler={sampler}"
                )
            if batch_sampler is not None:
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified batch_sampler "
                    f"option, but got batch_sampler={batch_sampler}"
                )
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError(
                    "batch_sampler option is mutually exclusive with batch_size, shuffle, "
                    "sampler, and drop_last"
                )
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError(
                "batch_size=None option disables auto-batching and is mutually exclusive with "
                "drop_last"
            )
        if sampler is None:
            if iterable:
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.in_order = in_order
        self.generator = generator
        self._iterable = iterable
        self._auto_collation = batch_sampler is not None
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn

    def __iter__(self) -> Iterator[Any]:
        # PyTorch's loader iterators draw a base seed (for worker seeding) from the loader's
        # generator before the first batch; drawing it here too keeps the stream consumed alike.
        draws(self.generator, CPU).integers(0, 1 << 63)
        if self._iterable:
            yield from self._iterate_stream()
            return
        if not self._auto_collation:
            for index in self.sampler:
                yield self.collate_fn(self.dataset[index])
            return
        fast = type(self.dataset) is TensorDataset and self.collate_fn is default_collate
        for indices in self.batch_sampler:
            if fast:
                yield self._tensor_batch(indices)
            else:
                yield self.collate_fn([self.dataset[i] for i in indices])

    def _iterate_stream(self) -> Iterator[Any]:
        if not self._auto_collation:
            for sample in self.dataset:
                yield self.collate_fn(sample)
            return
        batch: list = []
        for sample in self.dataset:
            batch.append(sample)
            if len(batch) == self.batch_size:
                yield self.collate_fn(batch)
                batch = []
        if batch and not self.drop_last:
            yield self.collate_fn(batch)

    def _tensor_batch(self, indices: list[int]) -> list[Tensor]:
        # One gather per tensor: the same values default_collate would stack.
        out = []
        for t in self.dataset.tensors:
            xp = backend_of(t._data).xp
            index = xp.asarray(indices, dtype=np.int64)
            if t.requires_grad:
                out.append(t[Tensor._make(index)])  # a differentiable gather
            else:
                out.append(Tensor._make(t._data[index]))
        return out

    def __len__(self) -> int:
        if self._iterable:  # the stream's own length, batched (TypeError when it has none)
            n = len(self.dataset)
            if self.batch_size is not None:
                n = n // self.batch_size if self.drop_last else -(-n // self.batch_size)
            return n
        if self._auto_collation:
            return len(self.batch_sampler)
        return len(self.sampler)

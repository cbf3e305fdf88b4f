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
from minigrad.backend import backend_of
from minigrad.data.dataset import Dataset, TensorDataset, _rng
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


# --- samplers ----------------------------------------------------------------------------------


class Sampler:
    """Yields dataset indices."""

    def __iter__(self) -> Iterator[int]:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError


class SequentialSampler(Sampler):
    def __init__(self, data_source: Dataset):
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A new random permutation each epoch, drawn from `generator` (a NumPy Generator or an
    int seed; None uses minigrad's global generator, seeded by `mg.manual_seed`)."""

    def __init__(self, data_source: Dataset, generator: np.random.Generator | int | None = None):
        self.data_source = data_source
        self.generator = _rng(generator)

    def __iter__(self) -> Iterator[int]:
        return iter(self.generator.permutation(len(self.data_source)).tolist())

    def __len__(self) -> int:
        return len(self.data_source)


class BatchSampler(Sampler):
    """Groups the indices of `sampler` into lists of `batch_size`."""

    def __init__(self, sampler: Iterable[int], batch_size: int, drop_last: bool):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(
                f"batch_size should be a positive integer value, but got {batch_size!r}"
            )
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        batch: list[int] = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


# --- loader ------------------------------------------------------------------------------------


class DataLoader:
    """Iterate over `dataset` in batches: `for x, y in DataLoader(ds, batch_size=32, shuffle=True)`.

    `generator` (a NumPy Generator or an int seed) or `seed` make shuffles reproducible; each
    epoch (each `iter`) draws a new permutation. `num_workers` and `pin_memory` are accepted for
    compatibility; loading happens in this process.
    """

    def __init__(
        self,
        dataset: Dataset,
        batch_size: int | None = 1,
        shuffle: bool = False,
        sampler: Sampler | Iterable[int] | None = None,
        batch_sampler: Iterable[list[int]] | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[list], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        generator: np.random.Generator | int | None = None,
        *,
        seed: int | None = None,
    ):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative")
        if seed is not None and generator is not None:
            raise ValueError("give either generator or seed, not both")
        if seed is not None:
            generator = np.random.default_rng(seed)
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
            sampler = RandomSampler(dataset, generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.generator = generator
        self._auto_collation = batch_sampler is not None
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn

    def __iter__(self) -> Iterator[Any]:
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
        if self._auto_collation:
            return len(self.batch_sampler)
        return len(self.sampler)

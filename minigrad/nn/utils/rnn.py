"""`nn.utils.rnn`: variable-length sequences for the recurrent modules, as PyTorch has them.

A `PackedSequence` stores a batch of sequences sorted by length (longest first) time step by
time step: `data` holds step 0 of every sequence, then step 1 of those still running, and so
on; `batch_sizes[t]` says how many sequences are still running at step t. The recurrent
modules (minigrad/nn/rnn.py) take and return them. Packing and padding are gathers by index,
so gradients flow through them back to the padded tensor.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from minigrad import creation
from minigrad.ops import shape as _shape
from minigrad.tensor import Tensor

__all__ = [
    "PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence",
    "pad_sequence", "unpad_sequence", "pack_sequence", "unpack_sequence",
]  # fmt: skip


def _int64(values) -> Tensor:
    """A CPU int64 tensor, as PyTorch keeps lengths, batch sizes and permutations."""
    return creation.tensor(np.asarray(values, dtype=np.int64), dtype=np.int64, device="cpu")


def _host_ints(t, name: str) -> np.ndarray:
    """A 1-D integer sequence (list, tuple, NumPy array or Tensor) as a NumPy int64 array."""
    if isinstance(t, Tensor):
        if t.dtype.kind not in "iu":
            raise RuntimeError(f"{name} must be an integer tensor, got {t.dtype}")
        return np.asarray(t.to("cpu").numpy(), dtype=np.int64)
    return np.asarray(t, dtype=np.int64)


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The permutation that undoes `permutation` (None stays None)."""
    if permutation is None:
        return None
    p = _host_ints(permutation, "permutation")
    inverse = np.empty_like(p)
    inverse[p] = np.arange(p.shape[0])
    return _int64(inverse)


_PackedSequenceBase = namedtuple(
    "PackedSequence_", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"]
)


class PackedSequence(_PackedSequenceBase):
    """A packed batch of variable-length sequences (a named tuple, as in PyTorch).

    Build one with `pack_padded_sequence` or `pack_sequence` rather than by hand.
    `sorted_indices[i]` is the original batch position of packed sequence i (None when the
    batch was already sorted); `unsorted_indices` is its inverse.
    """

    def __new__(
        cls,
        data: Tensor,
        batch_sizes: Tensor | None = None,
        sorted_indices: Tensor | None = None,
        unsorted_indices: Tensor | None = None,
    ):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            raise ValueError("PackedSequence needs batch_sizes (build one with pack_sequence)")
        if not isinstance(batch_sizes, Tensor):
            batch_sizes = _int64(batch_sizes)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs) -> PackedSequence:
        """`data` converted as `Tensor.to` would; the index tensors stay on the CPU (as torch
        keeps batch_sizes there); the permutations follow data's device."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        device = data.device
        sorted_indices = None if self.sorted_indices is None else self.sorted_indices.to(device)
        unsorted = None if self.unsorted_indices is None else self.unsorted_indices.to(device)
        return type(self)(data, self.batch_sizes, sorted_indices, unsorted)

    def cuda(self, *args, **kwargs) -> PackedSequence:
        return self.to(self.data.cuda(*args, **kwargs).device)

    def cpu(self) -> PackedSequence:
        return self.to("cpu")

    def double(self) -> PackedSequence:
        return self.to(dtype=np.float64)

    def float(self) -> PackedSequence:
        return self.to(dtype=np.float32)

    def half(self) -> PackedSequence:
        return self.to(dtype=np.float16)

    @property
    def is_cuda(self) -> bool:
        return self.data.is_cuda

    def is_pinned(self) -> bool:
        return False  # no pinned host memory here


def _packed_rows(batch_sizes: np.ndarray, batch: int) -> np.ndarray:
    """Row of the time-major flattened [T * B] layout that each packed row comes from."""
    steps = np.repeat(np.arange(batch_sizes.shape[0]), batch_sizes)
    within = np.concatenate([np.arange(n) for n in batch_sizes]) if steps.size else steps
    return steps * batch + within


def pack_padded_sequence(
    input: Tensor,
    lengths: Tensor | list[int],
    batch_first: bool = False,
    enforce_sorted: bool = True,
) -> PackedSequence:
    """Pack a padded batch [T, B, *] ([B, T, *] with batch_first) of sequences of `lengths`.

    With `enforce_sorted` the lengths must be in decreasing order; otherwise the batch is
    sorted here and the permutation kept in the result (sorted_indices / unsorted_indices).
    """
    if isinstance(lengths, Tensor) and lengths.ndim != 1:
        raise RuntimeError(
            f"'lengths' argument should be a 1D CPU int64 tensor, but got {lengths.ndim}D "
            f"{lengths.device} tensor"
        )
    lengths = _host_ints(lengths, "lengths").reshape(-1)
    if input.ndim < 2:
        raise RuntimeError(
            f"pack_padded_sequence: input must have at least 2 dimensions (time and batch), "
            f"got shape {list(input.shape)}"
        )
    batch_dim = 0 if batch_first else 1
    batch, steps = input.shape[batch_dim], input.shape[1 - batch_dim]
    if lengths.shape[0] != batch:
        raise RuntimeError(
            f"Expected `len(lengths)` to be equal to batch_size, but got {lengths.shape[0]} "
            f"(batch_size={batch})"
        )
    if enforce_sorted:
        if np.any(lengths[1:] > lengths[:-1]):
            raise RuntimeError(
                "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or "
                "pack_sequence to sidestep this requirement if you do not need ONNX "
                "exportability."
            )
        sorted_indices = None
        order = None
    else:
        order = np.argsort(-lengths, kind="stable")  # torch's descending sort keeps ties in order
        lengths = lengths[order]
        sorted_indices = _int64(order)
    if batch and lengths.min() <= 0:
        raise RuntimeError(
            "Length of all samples has to be greater than 0, but found an element in "
            "'lengths' that is <= 0"
        )
    if batch and lengths.max() > steps:
        raise RuntimeError(
            f"pack_padded_sequence: a length of {int(lengths.max())} is longer than the padded "
            f"input's {steps} time steps (input shape {list(input.shape)})"
        )
    if batch_first:
        input = _shape.transpose(input, 0, 1)
    if order is not None:
        input = input[:, order]
    batch_sizes = (lengths[None, :] > np.arange(int(lengths.max()) if batch else 0)[:, None]).sum(1)
    flat = _shape.reshape(input, (steps * batch, *input.shape[2:]))
    data = flat[_packed_rows(batch_sizes, batch)]
    return PackedSequence(data, _int64(batch_sizes), sorted_indices, None)


def pad_packed_sequence(
    sequence: PackedSequence,
    batch_first: bool = False,
    padding_value: float = 0.0,
    total_length: int | None = None,
) -> tuple[Tensor, Tensor]:
    """Undo `pack_padded_sequence`: (padded [T, B, *] or [B, T, *], lengths), in the original
    batch order, padded with `padding_value` up to `total_length` steps if given."""
    data = sequence.data
    batch_sizes = _host_ints(sequence.batch_sizes, "batch_sizes")
    steps = batch_sizes.shape[0]
    batch = int(batch_sizes[0]) if steps else 0
    if total_length is not None:
        if total_length < steps:
            raise ValueError(
                f"Expected total_length to be at least the length of the longest sequence in "
                f"input, but got total_length={total_length} and max sequence length being "
                f"{steps}"
            )
        steps = total_length
    rows = _packed_rows(batch_sizes, batch)
    # where each padded position reads from: its packed row, or the padding row appended last
    source = np.full(steps * batch, data.shape[0], dtype=np.int64)
    source[rows] = np.arange(data.shape[0])
    pad = creation.full((1, *data.shape[1:]), padding_value, dtype=data.dtype, device=data.device)
    padded = _shape.cat([data, pad])[source]
    padded = _shape.reshape(padded, (steps, batch, *data.shape[1:]))
    lengths = (batch_sizes[None, :] > np.arange(batch)[:, None]).sum(1)
    if sequence.unsorted_indices is not None:
        unsorted = _host_ints(sequence.unsorted_indices, "unsorted_indices")
        padded = padded[:, unsorted]
        lengths = lengths[unsorted]
    if batch_first:
        padded = _shape.transpose(padded, 0, 1)
    return padded, _int64(lengths)


def pad_sequence(
    sequences: Tensor | list[Tensor],
    batch_first: bool = False,
    padding_value: float = 0.0,
    padding_side: str = "right",
) -> Tensor:
    """Stack sequences [L_i, *] into [L_max, B, *] ([B, L_max, *] with batch_first), padding
    each with `padding_value` on `padding_side` ("right" or "left")."""
    if padding_side not in ("left", "right"):
        raise ValueError(
            f"Expected padding_side to be one of left or right, but got {padding_side}."
        )
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    trailing = tuple(sequences[0].shape[1:])
    for k, s in enumerate(sequences):
        if s.ndim == 0 or tuple(s.shape[1:]) != trailing:
            raise RuntimeError(
                f"pad_sequence: every sequence needs the trailing shape {list(trailing)} of the "
                f"first, but sequence {k} has shape {list(s.shape)}"
            )
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        missing = longest - s.shape[0]
        if missing:
            fill = creation.full(
                (missing, *trailing), padding_value, dtype=s.dtype, device=s.device
            )
            s = _shape.cat([s, fill] if padding_side == "right" else [fill, s])
        padded.append(s)
    return _shape.stack(padded, 0 if batch_first else 1)


def unpad_sequence(
    padded_sequences: Tensor, lengths: Tensor, batch_first: bool = False
) -> list[Tensor]:
    """Split a right-padded batch back into a list of its sequences of `lengths`."""
    if not batch_first:
        padded_sequences = _shape.transpose(padded_sequences, 0, 1)
    return [padded_sequences[k, : int(n)] for k, n in enumerate(_host_ints(lengths, "lengths"))]


def pack_sequence(sequences: list[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences [L_i, *] (longest first unless `enforce_sorted=False`)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The list of sequences a PackedSequence holds, in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)

"""Order statistics: sort, argsort, msort, topk, kthvalue, median, nanmedian, mode.

Each finds indices on the raw array (a stable sort; NaN counts as the largest value, as in
PyTorch) and reads the values with `gather`, whose rule scatters the gradient back to the
chosen positions, so none of them needs a rule of its own. Results are named tuples with
`.values` and `.indices`, like `torch.return_types`.
"""

from __future__ import annotations

from collections import namedtuple

from minigrad.ops.indexing import gather
from minigrad.tensor import Tensor, _dim

sort_result = namedtuple("sort", ["values", "indices"])
topk_result = namedtuple("topk", ["values", "indices"])
kthvalue_result = namedtuple("kthvalue", ["values", "indices"])
median_result = namedtuple("median", ["values", "indices"])
nanmedian_result = namedtuple("nanmedian", ["values", "indices"])
mode_result = namedtuple("mode", ["values", "indices"])


def _order(xp, data, axis: int, descending: bool):
    """Stable argsort along `axis`; descending keeps equal elements in their original order."""
    if not descending:
        return xp.argsort(data, axis=axis, kind="stable")
    n = data.shape[axis]
    flipped = xp.flip(data, axis)
    order = xp.argsort(flipped, axis=axis, kind="stable")  # ties: later originals first
    return (n - 1) - xp.flip(order, axis)


def _check(x: Tensor, name: str) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(x).__name__}")
    if x._data.dtype.kind == "c":
        raise RuntimeError(f"{name}(): complex tensors are not supported")


def sort(input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False):
    """(values, indices) along `dim`; the sort is always stable (a valid choice for
    stable=False too)."""
    _check(input, "sort")
    if not input.ndim:
        _dim(dim, 0)
        return sort_result(input.clone(), Tensor._make(input._backend_xp().asarray(0)))
    d = _dim(dim, input.ndim)
    index = Tensor._make(_order(input._backend_xp(), input._data, d, descending))
    return sort_result(gather(input, d, index), index)


def argsort(input: Tensor, dim: int = -1, descending: bool = False, *, stable: bool = False):
    return sort(input, dim, descending, stable=stable).indices


def msort(input: Tensor) -> Tensor:
    return sort(input, 0).values


def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
    """The k largest (or smallest) elements along `dim`, in order."""
    _check(input, "topk")
    d = _dim(dim, input.ndim)
    n = input.shape[d] if input.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"selected index k out of range (k={k}, size {n} along dim {d})")
    if not input.ndim:
        values, indices = sort(input)
        return topk_result(values, indices)
    order = _order(input._backend_xp(), input._data, d, largest)
    index = Tensor._make(order[(slice(None),) * d + (slice(0, k),)])
    return topk_result(gather(input, d, index), index)


def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False):
    """The k-th smallest element along `dim` (k counts from 1)."""
    _check(input, "kthvalue")
    d = _dim(dim, input.ndim)
    n = input.shape[d] if input.ndim else 1
    if input.ndim and not n:
        raise IndexError(f"kthvalue(): Expected reduction dim {d} to have non-zero size.")
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    return kthvalue_result(*_pick(input, d, keepdim, lambda xp, order, data: k - 1))


def _pick(input: Tensor, d: int, keepdim: bool, position):
    """values and indices at sorted position `position(xp, order, data)` (an int or an
    array with the reduced dim kept) along d."""
    xp = input._backend_xp()
    if not input.ndim:
        return input.clone(), Tensor._make(xp.asarray(0))
    order = _order(xp, input._data, d, False)
    pos = position(xp, order, input._data)
    if isinstance(pos, int):
        chosen = order[(slice(None),) * d + (slice(pos, pos + 1),)]
    else:
        chosen = xp.take_along_axis(order, pos, axis=d)
    index = Tensor._make(chosen)
    values = gather(input, d, index)
    if not keepdim:
        values, index = values.squeeze(d), index.squeeze(d)
    return values, index


def _empty_median(input: Tensor) -> Tensor:
    """median()/nanmedian() of no elements: PyTorch fills its result with NaN, which its C
    cast makes the most negative int32/int64, 0 for the narrower ints and True for bool."""
    xp = input._backend_xp()
    kind = input._data.dtype
    if kind.kind == "f":
        value = xp.asarray(float("nan"), dtype=kind)
    elif kind.kind == "b":
        value = xp.asarray(True)
    elif kind.itemsize >= 4 and kind.kind == "i":
        value = xp.asarray(xp.iinfo(kind).min, dtype=kind)
    else:
        value = xp.asarray(0, dtype=kind)
    # through the graph (0 * sum: an empty sum is 0), so the result tracks the input's grad
    out = input.reshape(-1).sum() * 0 if kind.kind == "f" else None
    return Tensor._make(value) if out is None else out + Tensor._make(value)


def median(input: Tensor, dim: int | None = None, keepdim: bool = False):
    """The lower median (of an even count, the smaller middle value); NaN if a slice holds NaN
    (index: its first NaN). Without `dim`: the median of all elements, a 0-d tensor."""
    _check(input, "median")
    if dim is None:
        flat = input.reshape(-1)
        if not flat.numel():
            return _empty_median(input)
        return median(flat, 0).values
    d = _dim(dim, input.ndim)
    if input.ndim and not input.shape[d]:
        raise IndexError(f"median(): Expected reduction dim {d} to have non-zero size.")

    def position(xp, order, data):
        n = data.shape[d]
        nan = xp.isnan(data) if data.dtype.kind == "f" else None
        pos = xp.full(data.shape[:d] + (1,) + data.shape[d + 1 :], (n - 1) // 2, dtype=xp.int64)
        if nan is None:
            return pos
        any_nan = xp.any(nan, axis=d, keepdims=True)
        count = xp.sum(~nan, axis=d, keepdims=True)  # NaNs sort last, stably: the first NaN
        return xp.where(any_nan, count, pos)

    return median_result(*_pick(input, d, keepdim, position))


def nanmedian(input: Tensor, dim: int | None = None, keepdim: bool = False):
    """The lower median of the non-NaN values (NaN where a slice is all NaN)."""
    _check(input, "nanmedian")
    if dim is None:
        flat = input.reshape(-1)
        if not flat.numel():
            return _empty_median(input)
        return nanmedian(flat, 0).values
    d = _dim(dim, input.ndim)
    if input.ndim and not input.shape[d]:
        raise IndexError(f"median(): Expected reduction dim {d} to have non-zero size.")

    def position(xp, order, data):
        if data.dtype.kind != "f":
            n = data.shape[d]
            return xp.full(data.shape[:d] + (1,) + data.shape[d + 1 :], (n - 1) // 2, xp.int64)
        count = xp.sum(~xp.isnan(data), axis=d, keepdims=True)
        return xp.maximum(count - 1, 0) // 2

    return nanmedian_result(*_pick(input, d, keepdim, position))


def mode(input: Tensor, dim: int = -1, keepdim: bool = False):
    """The most frequent value along `dim` (the smallest among equally frequent ones) and the
    index of its last occurrence, as PyTorch."""
    _check(input, "mode")
    xp = input._backend_xp()
    if not input.ndim:
        _dim(dim, 0)
        return mode_result(input.clone(), Tensor._make(xp.asarray(0)))
    d = _dim(dim, input.ndim)
    data = xp.moveaxis(input._data, d, -1)
    n = data.shape[-1]
    if not n:
        raise IndexError(f"mode(): Expected reduction dim {d} to have non-zero size.")
    order = xp.argsort(data, axis=-1, kind="stable")
    ordered = xp.take_along_axis(data, order, axis=-1)
    # run lengths in the sorted row: a run starts where the value changes
    new = xp.concatenate(
        [xp.ones(ordered.shape[:-1] + (1,), dtype=bool), ordered[..., 1:] != ordered[..., :-1]],
        axis=-1,
    )
    positions = xp.arange(n)
    start = xp.maximum.accumulate(xp.where(new, positions, 0), axis=-1)
    length = positions - start + 1  # position within its run, 1-based
    # the end of the longest run; the first such (smallest value) on ties
    end = xp.argmax(length, axis=-1)[..., None]
    chosen = xp.take_along_axis(
        order, end, axis=-1
    )  # stable: the run's last is the last occurrence
    index = Tensor._make(xp.moveaxis(chosen, -1, d))
    values = gather(input, d, index)
    if not keepdim:
        values, index = values.squeeze(d), index.squeeze(d)
    return mode_result(values, index)


__all__ = [
    "argsort",
    "kthvalue",
    "median",
    "mode",
    "msort",
    "nanmedian",
    "sort",
    "topk",
]

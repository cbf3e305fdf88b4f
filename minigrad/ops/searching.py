"""Searching and counting: searchsorted and bucketize (where values fall among sorted
boundaries), histc (a histogram of equal-width bins), unique and unique_consecutive.

None of these is differentiable: their outputs are indices or counts (histc's counts, too, are
piecewise constant), so they record no graph, like argmax.
"""

from __future__ import annotations

import math

import numpy as np

from minigrad import dtypes
from minigrad.tensor import Tensor, _dim


def _as_values(values, like: Tensor) -> Tensor:
    if isinstance(values, Tensor):
        return values
    # a Python number takes the sequence's dtype unless its category is higher (as PyTorch's
    # promotion; -2 searched among uint8 boundaries is 254), converted as a C cast
    xp = like._backend_xp()
    dtype = dtypes.result_type([like._data.dtype], [], [values])
    return Tensor._make(xp.asarray(np.array(values).astype(dtype)))


def _refuse_bool(t: Tensor, kernel: str) -> None:
    if t._data.dtype.kind == "b":
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")


def searchsorted(
    sorted_sequence: Tensor,
    values,
    *,
    out_int32: bool = False,
    right: bool = False,
    side: str | None = None,
    sorter: Tensor | None = None,
) -> Tensor:
    """For each value, the index where inserting it keeps `sorted_sequence` (along its last dim)
    sorted: the first such index (side='left'), or the last (right=True / side='right').

    A 1-D sequence serves every value; an N-D one holds one sequence per row, and `values` must
    then have the same leading dims. `sorter` (int64, the sequence's argsort) searches the
    sequence in that order instead. A Python number gives a 0-d result.
    """
    seq = sorted_sequence
    if seq.ndim == 0:
        raise RuntimeError(
            "torch.searchsorted(): boundaries tensor should have positive dimension, but got 0 "
            "dimension"
        )
    scalar = not isinstance(values, Tensor)
    values = _as_values(values, seq)
    if scalar and seq.ndim != 1:
        raise RuntimeError(
            f"torch.searchsorted(): input value can be a scalar only when boundaries tensor "
            f"dimension is 1, but we got boundaries tensor dim({seq.ndim}) and input value's "
            f"dim(0) numel(1)"
        )
    if seq.ndim > 1 and (values.ndim != seq.ndim or values.shape[:-1] != seq.shape[:-1]):
        raise RuntimeError(
            f"torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
            f"dimensions of boundaries tensor and input value tensor must match, but we got "
            f"boundaries tensor {list(seq.shape)} and input value tensor {list(values.shape)}"
        )
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(
                f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}"
            )
        if right and side == "left":
            raise RuntimeError(
                "torch.searchsorted(): side and right can't be set to opposites, got side of "
                "left while right was True"
            )
        right = side == "right"
    if type(values._data) is not type(seq._data):
        raise RuntimeError(
            f"Expected all tensors to be on the same device, but found at least two devices, "
            f"{seq.device} and {values.device}! (in searchsorted)"
        )
    _refuse_bool(seq, "searchsorted_out_cpu")
    _refuse_bool(values, "searchsorted_out_cpu")
    xp = seq._backend_xp()
    boundaries = seq._data
    if sorter is not None:
        if sorter._data.dtype != dtypes.int64:
            raise RuntimeError(
                f"torch.searchsorted(): sorter must be a tensor of long dtype but got dtype "
                f"{dtypes.torch_name(sorter.dtype)}"
            )
        if sorter.shape != seq.shape:
            raise RuntimeError(
                f"torch.searchsorted(): boundary and sorter must have the same size, but got "
                f"boundary tensor {list(seq.shape)}and got sorter tensor {list(sorter.shape)}"
            )
        order = sorter._data
        n = seq.shape[-1]
        if order.size and (int(order.min()) < 0 or int(order.max()) >= n):
            raise RuntimeError("torch.searchsorted(): sorter index out of range")
        boundaries = xp.take_along_axis(boundaries, order, axis=-1)
    common = dtypes.promote_types(boundaries.dtype, values._data.dtype)
    boundaries = boundaries.astype(common, copy=False)
    queries = values._data.astype(common, copy=False)
    batch = math.prod(seq.shape[:-1])
    rows = boundaries.reshape(batch, seq.shape[-1])
    asked = queries.reshape((batch, values.shape[-1]) if seq.ndim > 1 else (1, values.numel()))
    if boundaries.dtype.kind == "f" and bool(xp.isnan(boundaries).any()):
        found = _binary_search(xp, rows, asked, right)  # NaN boundaries: torch's comparisons
    else:
        found = _library_search(xp, rows, asked, right)
    out_dtype = dtypes.int32 if out_int32 else dtypes.int64
    return Tensor._make(found.reshape(values.shape).astype(out_dtype))


def _binary_search(xp, rows, asked, right: bool):
    """Per row r, the insertion index of each asked[r, j] into rows[r] (one row may serve all),
    every query searched at once. The comparisons are PyTorch's (`!(b >= v)` moves right for
    side='left', `!(b > v)` for side='right'), which is what decides where NaNs go."""
    n = rows.shape[1]
    lo = xp.zeros(asked.shape, dtype=dtypes.int64)
    hi = xp.full(asked.shape, n, dtype=dtypes.int64)
    if n == 0:
        return lo
    rows = xp.broadcast_to(rows, (asked.shape[0], n))
    for _ in range(n.bit_length()):
        mid = (lo + hi) // 2
        middle = xp.take_along_axis(rows, xp.minimum(mid, n - 1), axis=1)
        go_right = ~(middle > asked) if right else ~(middle >= asked)
        active = lo < hi
        lo = xp.where(active & go_right, mid + 1, lo)
        hi = xp.where(active & ~go_right, mid, hi)
    return lo


_ROWS_PER_CALL_LIMIT = 64  # above this many rows, one vectorised search beats a call per row


def _library_search(xp, rows, asked, right: bool):
    """`_binary_search`'s result through the library's own searchsorted (one call per row),
    for boundaries without NaN, where its NaN-last order and torch's comparisons agree."""
    if rows.shape[0] > _ROWS_PER_CALL_LIMIT:
        return _binary_search(xp, rows, asked, right)
    side = "right" if right else "left"
    found = xp.empty(asked.shape, dtype=dtypes.int64)
    for r in range(asked.shape[0]):  # one row serves all when the sequence is 1-D
        found[r] = xp.searchsorted(rows[0 if rows.shape[0] == 1 else r], asked[r], side=side)
    return found


def bucketize(input, boundaries: Tensor, *, out_int32: bool = False, right: bool = False) -> Tensor:
    """The bucket of each element of `input` among sorted 1-D `boundaries`: i such that
    boundaries[i-1] < x <= boundaries[i] (right=False) or boundaries[i-1] <= x < boundaries[i]
    (right=True); the same numbers as searchsorted(boundaries, input)."""
    if boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def histc(input: Tensor, bins: int = 100, min=0, max=0) -> Tensor:
    """Counts of `input`'s elements in `bins` equal-width bins over [min, max] (the data's own
    range when min == max), in `input`'s float dtype; elements outside the range (and NaNs) are
    not counted, the value max lands in the last bin. PyTorch's arithmetic: a bin is
    floor((x - min) * bins / (max - min)), computed in the input's dtype."""
    if input._data.dtype.kind != "f":
        raise NotImplementedError(
            f"\"histogram_cpu\" not implemented for '{dtypes.torch_name(input.dtype)}'"
        )
    bins = dtypes.int_argument(bins, "histc", "bins", 2)
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    lo, hi = float(min), float(max)
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    xp = input._backend_xp()
    data = input._data.reshape(-1)
    if lo == hi and data.size:
        lo, hi = float(data.min()), float(data.max())
    dt = input._data.dtype
    lo, hi = float(dt.type(lo)), float(dt.type(hi))  # the edges in the input's precision
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise RuntimeError(f"torch.histc: range of [{_c_float(lo)}, {_c_float(hi)}] is not finite")
    left, right = xp.asarray(lo, dtype=dt), xp.asarray(hi, dtype=dt)
    inside = data[(data >= left) & (data <= right)]
    position = ((inside - left) * xp.asarray(bins, dtype=dt) / (right - left)).astype(dtypes.int64)
    position = xp.minimum(position, bins - 1)  # x == max: the last bin, not one past it
    counts = xp.bincount(position, minlength=bins)
    return Tensor._make(counts.astype(dt))


def _c_float(value: float) -> str:
    """A float as PyTorch's error messages print it (1, inf, nan, 0.5)."""
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:g}"


def _uniques(xp, rows, consecutive: bool):
    """(first-of-group mask over the ordered rows, the order, the ordered rows) for `rows`, a
    2-D array whose rows are the items compared (one column: single elements)."""
    n = rows.shape[0]
    if consecutive:
        order = None
        ordered = rows
    elif rows.shape[1] == 1:
        order = xp.argsort(rows[:, 0], kind="stable")
        ordered = rows[order]
    else:  # lexicographic order of the rows: the first column is the primary key
        order = xp.lexsort(rows.T[::-1])
        ordered = rows[order]
    first = xp.ones(n, dtype=bool)
    if n > 1:
        # `!=` keeps every NaN apart from every other, as PyTorch does
        first[1:] = xp.any(ordered[1:] != ordered[:-1], axis=1)
    return first, order, ordered


def _unique(input: Tensor, consecutive: bool, return_inverse: bool, return_counts: bool, dim):
    xp = input._backend_xp()
    if dim is None:
        rows = input._data.reshape(-1, 1)
    else:
        if input.ndim == 0:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        d = _dim(dim, input.ndim)
        moved = xp.moveaxis(input._data, d, 0)
        if moved.size == 0 and moved.shape[0] != 0:
            raise RuntimeError(
                "There are 0 sized dimensions, and they aren't selected, so unique cannot be "
                "applied"
            )
        if sum(n == 0 for n in moved.shape) > 1:
            raise RuntimeError(
                "Number of zero sized dimensions is more than one, so unique cannot be applied"
            )
        rows = moved.reshape(moved.shape[0], math.prod(moved.shape[1:]))
    first, order, ordered = _uniques(xp, rows, consecutive)
    kept = ordered[first]
    if dim is None:
        values = kept.reshape(-1)
    else:
        values = xp.moveaxis(kept.reshape((kept.shape[0],) + moved.shape[1:]), 0, d)
    out = [Tensor._make(xp.ascontiguousarray(values))]
    if return_inverse:
        group = xp.cumsum(first) - 1
        if order is None:
            inverse = group
        else:
            inverse = xp.empty_like(group)
            inverse[order] = group
        inverse = inverse.astype(dtypes.int64)
        shape = input.shape if dim is None else (rows.shape[0],)
        out.append(Tensor._make(inverse.reshape(shape)))
    if return_counts:
        starts = xp.flatnonzero(first)
        ends = xp.concatenate([starts[1:], xp.asarray([rows.shape[0]], dtype=starts.dtype)])
        out.append(Tensor._make((ends - starts).astype(dtypes.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def unique(
    input: Tensor,
    sorted: bool = True,
    return_inverse: bool = False,
    return_counts: bool = False,
    dim: int | None = None,
):
    """The distinct elements (or, with `dim`, distinct slices along dim) in ascending order;
    with `return_inverse`, where each element went; with `return_counts`, how often each occurs.
    As PyTorch on the CPU, the result is sorted whatever `sorted` says, and NaNs never equal
    each other (each is its own entry)."""
    return _unique(input, False, return_inverse, return_counts, dim)


def unique_consecutive(
    input: Tensor,
    return_inverse: bool = False,
    return_counts: bool = False,
    dim: int | None = None,
):
    """`unique` of each run of equal consecutive elements (or slices along `dim`): runs keep
    their order, and a value that returns later starts a new run."""
    return _unique(input, True, return_inverse, return_counts, dim)

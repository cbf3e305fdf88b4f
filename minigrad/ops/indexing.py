"""Indexing: `x[index]`, its adjoint (scatter-add), gather and index_select, and `x[index] = v`.

Basic indexing (ints, slices, None, Ellipsis) returns a view; integer/boolean array indexing
copies. Either way the backward puts the gradient back where it was read, adding where an
integer index repeats a position (`unindex`).
"""

from __future__ import annotations

import warnings

from minigrad import dtypes
from minigrad.autograd import apply, defop
from minigrad.ops.elementwise import as_tensor_like, cast, where
from minigrad.tensor import Tensor

# fmt: off
GETITEM = defop("select", lambda xp, x, *, index: x[index], view=True,
                x=lambda xp, g, x_shape, index: xp.unindex(g, x_shape, index))   # scatter back
INDEX = defop("index", lambda xp, x, *, index: x[index],
              x=lambda xp, g, x_shape, index: xp.unindex(g, x_shape, index))     # scatter-add back
UNINDEX = defop("unindex", lambda xp, values, *, shape, index: xp.unindex(values, shape, index),
                values=lambda g, index: g[index])                              # adjoint of indexing
# fmt: on


def _as_index_array(x: Tensor, i):
    """A list, tuple or array-like index as a backend array, typed as PyTorch types a list index:
    bool when every entry is a bool, else int64 (float entries truncate, as in PyTorch)."""
    xp = x._backend_xp()
    try:
        arr = xp.asarray(i)
    except (ValueError, TypeError) as e:
        raise IndexError(f"could not make an index tensor of {i!r}: {e}") from None
    if arr.dtype.kind == "b" or (arr.dtype.kind == "u" and arr.dtype.itemsize == 1):
        return arr
    if isinstance(i, (list, tuple)):
        if arr.dtype.kind not in "biuf":
            raise IndexError(f"lists used as indices must hold ints or bools, got {arr.dtype}")
        return arr.astype(xp.int64)
    if arr.dtype.kind not in "iu":
        raise IndexError(
            f"tensors used as indices must be long, int, byte or bool tensors, got {arr.dtype}"
        )
    return arr


def _sequence_is_tuple(index) -> bool:
    """PyTorch's legacy rule: a list index holding a sequence, tensor, slice, None or Ellipsis
    is read as a tuple of indices (x[[0, [1, 2]]] is x[0, [1, 2]])."""
    if not isinstance(index, list) or len(index) >= 32:
        return False
    return any(
        isinstance(i, (Tensor, list, tuple, slice)) or i is None or i is Ellipsis
        or hasattr(i, "__array__") and getattr(i, "ndim", 0) > 0
        for i in index
    )  # fmt: skip


def _entries(x: Tensor, index) -> list:
    """The index as a list of ("int", k), ("slice", s), ("none",), ("ellipsis",),
    ("flag", bool) (a bool scalar: a new dim of size 1, kept or emptied), ("ints", array) and
    ("mask", array)."""
    if _sequence_is_tuple(index):
        warnings.warn(
            "Using a non-tuple sequence for multidimensional indexing is deprecated; use "
            "x[tuple(seq)] instead of x[seq]",
            UserWarning,
            stacklevel=5,
        )
        index = tuple(index)
    elif not isinstance(index, tuple):
        index = (index,)
    out = []
    for i in index:
        if i is None:
            out.append(("none",))
        elif i is Ellipsis:
            out.append(("ellipsis",))
        elif isinstance(i, slice):
            out.append(("slice", i))
        elif isinstance(i, bool):
            out.append(("flag", i))
        elif isinstance(i, int):
            out.append(("int", i))
        elif isinstance(i, Tensor):
            if i._data.dtype.kind not in "biu":
                raise IndexError(
                    f"tensors used as indices must be long, int, byte or bool tensors, "
                    f"got {i.dtype}"
                )
            if type(i._data) is not type(x._data):
                raise RuntimeError(
                    f"indices should be either on cpu or on the same device as the indexed tensor "
                    f"({x.device}), got indices on {i.device}"
                )
            out.append(_array_entry(i._data))
        elif isinstance(i, (list, tuple)) or hasattr(i, "__array__"):
            out.append(_array_entry(_as_index_array(x, i)))
        elif hasattr(i, "__index__"):
            out.append(("int", int(i)))
        else:
            raise IndexError(
                f"only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                f"Variables are valid indices (got {type(i).__name__})"
            )
    return out


def _array_entry(arr) -> tuple:
    """An index array as PyTorch reads it: a 0-d integer one is an int (a basic select), a 0-d
    bool or byte one a bool flag, a byte one (deprecated there) a mask."""
    kind = arr.dtype.kind
    is_byte = kind == "u" and arr.dtype.itemsize == 1
    if arr.ndim == 0:
        return ("flag", bool(arr)) if kind == "b" or is_byte else ("int", int(arr))
    if is_byte:
        warnings.warn(
            "indexing with dtype torch.uint8 is now deprecated, please use a dtype torch.bool "
            "instead.",
            UserWarning,
            stacklevel=6,
        )
        return ("mask", arr.astype(bool))
    return ("mask", arr) if kind == "b" else ("ints", arr)


def _is_full_slice(entry) -> bool:
    # by its fields: `==` on slices compares their bounds, which may be Tensors (x[:n])
    return (
        isinstance(entry, slice)
        and entry.start is None
        and entry.stop is None
        and (entry.step is None)
    )


def split_index(x: Tensor, index) -> tuple:
    """PyTorch's reading of `x[index]` as (basic, advanced): `x[index]` is
    `x._data[basic][advanced]` in NumPy's terms, either part None when there is nothing to do.

    PyTorch applies ints, slices, None and Ellipsis first, as views (an int, or a 0-d integer
    tensor, removes its dim there, so it never counts as an advanced index, unlike NumPy's rule).
    Only integer arrays and masks are left for the second step, where NumPy's and PyTorch's
    rule agree: adjacent ones put their broadcast shape in their place, ones separated by a
    slice put it first.
    """
    entries = _entries(x, index)
    ellipses = sum(e[0] == "ellipsis" for e in entries)
    if ellipses > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    dims_read = {"int": 1, "slice": 1, "ints": 1, "none": 0, "ellipsis": 0, "flag": 0}
    used = sum(e[1].ndim if e[0] == "mask" else dims_read[e[0]] for e in entries)
    if x.ndim == 0 and any(e[0] in ("int", "ints", "mask") for e in entries):
        raise IndexError(
            "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
            "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number"
        )
    if used > x.ndim:
        raise IndexError(f"too many indices for tensor of dimension {x.ndim}")
    xp = x._backend_xp()
    basic, advanced = [], {}  # advanced: position in x._data[basic] -> index array
    view_shape = []  # the shape of x._data[basic], to check masks against
    d = 0  # the dim of x the next entry reads
    for entry in entries:
        kind = entry[0]
        if kind == "int":
            k, n = entry[1], x.shape[d]
            if not -n <= k < n:
                raise IndexError(f"index {k} is out of bounds for dimension {d} with size {n}")
            basic.append(k)
            d += 1
        elif kind == "slice":
            basic.append(entry[1])
            view_shape.append(len(range(*entry[1].indices(x.shape[d]))))
            d += 1
        elif kind == "none":
            basic.append(None)
            view_shape.append(1)
        elif kind == "ellipsis":
            n = x.ndim - used
            basic.extend([slice(None)] * n)
            view_shape.extend(x.shape[d : d + n])
            d += n
        elif kind == "flag":  # a new dim of size 1, kept (True) or emptied (False)
            basic.append(None)
            advanced[len(view_shape)] = xp.ones(1, dtype=bool) if entry[1] else xp.zeros(1, bool)
            view_shape.append(1)
        elif kind == "ints":
            arr, n = entry[1], x.shape[d]
            if arr.size and (int(arr.min()) < -n or int(arr.max()) >= n):
                bad = int(arr.min()) if int(arr.min()) < -n else int(arr.max())
                raise IndexError(f"index {bad} is out of bounds for dimension {d} with size {n}")
            basic.append(slice(None))
            advanced[len(view_shape)] = arr
            view_shape.append(n)
            d += 1
        else:  # mask
            arr = entry[1]
            k = arr.ndim
            for j in range(k):
                if arr.shape[j] != x.shape[d + j]:
                    raise IndexError(
                        f"The shape of the mask {list(arr.shape)} at index {j} does not match "
                        f"the shape of the indexed tensor {view_shape + list(x.shape[d:])} at "
                        f"index {len(view_shape) + j}"
                    )
            basic.extend([slice(None)] * k)
            advanced[len(view_shape)] = arr
            view_shape.extend(x.shape[d : d + k])
            d += k
    while basic and _is_full_slice(basic[-1]):  # trailing full slices change nothing
        basic.pop()
    basic = tuple(basic) if basic else None
    if not advanced:
        return basic, None
    adv, p = [], 0
    while p <= max(advanced):
        arr = advanced.get(p)
        adv.append(slice(None) if arr is None else arr)
        p += 1 if arr is None or arr.dtype.kind != "b" else arr.ndim
    return basic, tuple(adv)


def getitem(x: Tensor, index) -> Tensor:
    """`x[index]` with PyTorch's rules (see split_index): a view unless arrays or masks index."""
    basic, advanced = split_index(x, index)
    out = x
    try:
        if basic is not None:
            out = apply(GETITEM, (out,), {"index": basic})
        if advanced is not None:
            out = apply(INDEX, (out,), {"index": advanced})
    except IndexError as e:
        raise IndexError(f"{e} (indexing a tensor of shape {list(x.shape)})") from None
    return out


def unindex(values: Tensor, shape: tuple, index: tuple) -> Tensor:
    """Zeros of `shape` with `values` added at `index` (differentiable; used by double backward)."""
    return apply(UNINDEX, (values,), {"shape": tuple(shape), "index": index})


def index_put(x: Tensor, index, value) -> Tensor:
    """`x` with `x[index]` replaced by `value`, differentiable in both (out of place).

    The positions are those `x[index]` reads (PyTorch's rules, split_index); leading size-1
    dims of `value` are dropped first, as PyTorch does. An integer index that repeats a position
    writes it once: the last write wins, and only that element of `value` gets the gradient.
    """
    if index is False:  # PyTorch's setitem skips a bare False without looking at the value
        return x
    basic, advanced = split_index(x, index)
    value = value if isinstance(value, Tensor) else as_tensor_like(value, x)
    if value._data.dtype != x._data.dtype:
        value = cast(value, x._data.dtype)
    xp = x._backend_xp()
    try:
        target = x._data if basic is None else x._data[basic]
        target_shape = target.shape if advanced is None else target[advanced].shape
    except IndexError as e:
        raise IndexError(f"{e} (assigning into a tensor of shape {list(x.shape)})") from None
    ones = 0
    while ones < value.ndim and value.shape[ones] == 1:
        ones += 1
    if ones:
        value = value.reshape(value.shape[ones:])
    try:
        flat = value.expand(target_shape).reshape(-1)
    except RuntimeError as e:
        raise RuntimeError(
            f"shape mismatch: value tensor of shape {list(value.shape)} cannot be broadcast to "
            f"indexing result of shape {list(target_shape)}"
        ) from e
    if flat.shape[0] == 0:  # nothing written; value stays in the graph (a zero gradient)
        nowhere = Tensor._make(xp.zeros(x.shape, dtype=bool))
        total = flat.sum()  # integers sum to int64: back to x's dtype
        total = total if total._data.dtype == x._data.dtype else cast(total, x._data.dtype)
        return where(nowhere, total.expand(x.shape), x)
    # source[p]: which element of the flattened value lands on position p (-1: none)
    source = xp.full(x.shape, -1, dtype=xp.int64)
    positions = xp.arange(flat.shape[0]).reshape(target_shape)
    if advanced is None:
        source[... if basic is None else basic] = positions
    else:  # x._data[basic] has the dims the arrays index, so it is a view here, not a scalar
        (source if basic is None else source[basic])[advanced] = positions
    mask = source >= 0
    picked = getitem(flat, Tensor._make(xp.where(mask, source, 0)))
    return where(Tensor._make(mask), picked, x)


def _gather_index(x: Tensor, dim: int, index: Tensor) -> tuple:
    """The advanced index that reads x[..., index[i, j, k], ...] along `dim` (PyTorch's gather)."""
    xp = x._backend_xp()
    if index.ndim != x.ndim:
        raise RuntimeError(
            f"Index tensor must have the same number of dimensions as input tensor "
            f"({index.ndim} vs {x.ndim})"
        )
    for d in range(x.ndim):
        if d != dim and index.shape[d] > x.shape[d]:
            raise RuntimeError(
                f"Size does not match at dimension {d} expected index {list(index.shape)} to be "
                f"smaller than self {list(x.shape)} apart from dimension {dim}"
            )
    grids = []
    for d in range(x.ndim):
        if d == dim:
            grids.append(index._data)
        else:
            shape = [1] * x.ndim
            shape[d] = index.shape[d]
            grids.append(xp.arange(index.shape[d]).reshape(shape))
    return tuple(grids)


def gather(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """out[i][j][k] = x[i][index[i][j][k]][k] for dim=1; the backward scatter-adds."""
    from minigrad.tensor import _dim

    if index._data.dtype.kind not in "iu":
        raise RuntimeError(f"gather(): Expected dtype int64 for index, got {index.dtype}")
    d = _dim(dim, input.ndim)
    _check_range(index, input.shape[d] if input.ndim else 1, d, RuntimeError, "gather")
    return apply(INDEX, (input,), {"index": _gather_index(input, d, index)})


def _check_range(index: Tensor, size: int, dim: int, error: type, name: str) -> None:
    """PyTorch's gather/index_select/embedding never wrap a negative index: they raise."""
    idx = index._data
    if idx.size == 0:
        return
    low, high = int(idx.min()), int(idx.max())
    if low < 0 or high >= size:
        bad = low if low < 0 else high
        if error is IndexError:
            raise IndexError(
                f"index out of range in self: {name} got index {bad} for dimension {dim} with "
                f"size {size}"
            )
        raise RuntimeError(
            f"index {bad} is out of bounds for dimension {dim} with size {size} ({name})"
        )


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    """input's values at `indices` along `dim` (all of it flattened when None); along a dim,
    indices are taken modulo its size (negative ones count from the end) and the other dims
    broadcast, as in PyTorch 2.13 (unlike gather)."""
    from minigrad.tensor import _dim

    x = input
    if indices._data.dtype.kind not in "iu":
        raise RuntimeError(
            f"torch.take_along_dim(): dtype of indices should be Long but got {indices.dtype}"
        )
    if dim is None:  # PyTorch gathers from the flattened input here: no negative indices
        return gather(x.reshape(-1), 0, indices.reshape(-1))
    if x.ndim != indices.ndim:
        raise RuntimeError(
            f"torch.take_along_dim(): input and indices should have the same number of "
            f"dimensions, but input has {x.ndim} dimensions and indices has {indices.ndim} "
            f"dimensions"
        )
    if x.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    d = _dim(dim, x.ndim)
    size = x.shape[d]
    xp = x._backend_xp()
    idx = indices._data
    if idx.size:  # PyTorch takes every index modulo the size (no bounds error)
        if size == 0:
            raise RuntimeError("ZeroDivisionError")
        idx = idx.astype(xp.int64) % size
    wrapped = Tensor._make(idx)
    try:
        shape = xp.broadcast_shapes(
            x.shape[:d] + (1,) + x.shape[d + 1 :], idx.shape[:d] + (1,) + idx.shape[d + 1 :]
        )
    except ValueError:
        raise RuntimeError(
            f"take_along_dim(): input {list(x.shape)} and indices {list(indices.shape)} do not "
            f"broadcast outside dim {d}"
        ) from None
    x = x.expand(shape[:d] + (x.shape[d],) + shape[d + 1 :]) if x.ndim else x
    wrapped = wrapped.expand(shape[:d] + (idx.shape[d],) + shape[d + 1 :]) if x.ndim else wrapped
    return gather(x, d, wrapped)


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    from minigrad.tensor import _dim

    if index.ndim > 1:
        raise IndexError(f"index_select(): Index is supposed to be a vector, got {index.ndim}-D")
    if index._data.dtype.kind not in "iu":
        raise RuntimeError(f"index_select(): Expected dtype int32 or int64 for index, got "
                           f"{index.dtype}")  # fmt: skip
    d = _dim(dim, input.ndim)
    if input.ndim and input.shape[d] == 0 and index.numel():
        raise RuntimeError(
            f"index_select(): self indexing axis dim should be positive: dim {d} of "
            f"{list(input.shape)} is empty, so no index can select from it"
        )
    _check_range(index, input.shape[d] if input.ndim else 1, d, IndexError, "index_select")
    return getitem(input, (slice(None),) * d + (index.reshape(-1),))


def take(input: Tensor, index: Tensor) -> Tensor:
    return getitem(input.reshape(-1), index)


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    input, mask = (
        input.broadcast_to(_broadcast_shape(input, mask)),
        mask.broadcast_to(_broadcast_shape(input, mask)),
    )
    return getitem(input, mask)


def _broadcast_shape(a: Tensor, b: Tensor) -> tuple:
    return a._backend_xp().broadcast_shapes(a.shape, b.shape)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    if tensor._data.dtype.kind not in "iu":
        raise RuntimeError("one_hot is only applicable to index tensor.")
    xp = tensor._backend_xp()
    if not tensor.numel():
        if num_classes <= 0:
            raise RuntimeError(
                f"Can not infer total number of classes from empty tensor (one_hot of shape "
                f"{list(tensor.shape)} with num_classes={num_classes})."
            )
    else:
        low, high = int(tensor._data.min()), int(tensor._data.max())
        if low < 0:
            raise RuntimeError(f"Class values must be non-negative (one_hot got {low}).")
        if num_classes == -1:  # only -1 means "infer": torch compares other values as given
            num_classes = high + 1
        elif high >= num_classes:
            raise RuntimeError(
                f"Class values must be smaller than num_classes ({high} >= {num_classes})."
            )
    return Tensor._make((tensor._data[..., None] == xp.arange(num_classes)).astype(dtypes.int64))

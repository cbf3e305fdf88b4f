"""Indexing: `x[index]`, its adjoint (scatter-add), gather and index_select, and `x[index] = v`.

Basic indexing (ints, slices, None, Ellipsis) returns a view; integer/boolean array indexing
copies. Either way the backward puts the gradient back where it was read, adding where an
integer index repeats a position (`unindex`).
"""

from __future__ import annotations

from minigrad import dtypes
from minigrad.autograd import apply, defop
from minigrad.ops.elementwise import as_tensor_like, cast, where
from minigrad.tensor import Tensor

# fmt: off
GETITEM = defop("select", lambda xp, x, *, index: x[index], view=True,
                x=lambda xp, g, x_shape, index: xp.unindex(g, x_shape, index))   # scatter back
INDEX = defop("index", lambda xp, x, *, index: x[index],
              x=lambda xp, g, x_shape, index: xp.unindex(g, x_shape, index))     # scatter-add back
UNINDEX = defop("unindex", lambda xp, g, *, shape, index: xp.unindex(g, shape, index),
                g=lambda g, index: g[index])                                   # adjoint of indexing
# fmt: on


def _is_basic(index: tuple) -> bool:
    return all(isinstance(i, (int, slice)) or i is None or i is Ellipsis for i in index)


def _normalize_index(x: Tensor, index) -> tuple:
    """Turn Tensors and lists inside an index into backend arrays, with clear errors."""
    if not isinstance(index, tuple):
        index = (index,)
    xp = x._backend_xp()
    out = []
    for i in index:
        if isinstance(i, Tensor):
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
            i = i._data
        elif (
            isinstance(i, (list, tuple))
            or hasattr(i, "__array__")
            and not isinstance(i, (int, slice))
        ):
            i = xp.asarray(i)
        elif not (isinstance(i, (int, slice)) or i is None or i is Ellipsis):
            if hasattr(i, "__index__"):
                i = int(i)
            else:
                raise IndexError(
                    f"only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                    f"Variables are valid indices (got {type(i).__name__})"
                )
        out.append(i)
    return tuple(out)


def getitem(x: Tensor, index) -> Tensor:
    index = _normalize_index(x, index)
    try:
        x._data[index] if not _is_basic(index) else None
    except IndexError as e:
        raise IndexError(f"{e} (indexing a tensor of shape {list(x.shape)})") from None
    if _is_basic(index):
        try:
            return apply(GETITEM, (x,), {"index": index})
        except IndexError as e:
            raise IndexError(f"{e} (indexing a tensor of shape {list(x.shape)})") from None
    return apply(INDEX, (x,), {"index": index})


def unindex(g: Tensor, shape: tuple, index: tuple) -> Tensor:
    """Zeros of `shape` with `g` added at `index` (differentiable; used by double backward)."""
    return apply(UNINDEX, (g,), {"shape": tuple(shape), "index": index})


def index_put(x: Tensor, index, value) -> Tensor:
    """`x` with `x[index]` replaced by `value`, differentiable in both (out of place).

    As in NumPy, an integer index that repeats a position writes it once: the last write wins,
    and only that element of `value` gets the gradient there.
    """
    index = _normalize_index(x, index)
    value = value if isinstance(value, Tensor) else as_tensor_like(value, x)
    if value._data.dtype != x._data.dtype:
        value = cast(value, x._data.dtype)
    xp = x._backend_xp()
    try:
        target_shape = x._data[index].shape
    except IndexError as e:
        raise IndexError(f"{e} (assigning into a tensor of shape {list(x.shape)})") from None
    try:
        flat = value.expand(target_shape).reshape(-1)
    except RuntimeError as e:
        raise RuntimeError(
            f"shape mismatch: value tensor of shape {list(value.shape)} cannot be broadcast to "
            f"indexing result of shape {list(target_shape)}"
        ) from e
    if flat.shape[0] == 0:
        return x
    # source[p]: which element of the flattened value lands on position p (-1: none)
    source = xp.full(x.shape, -1, dtype=xp.int64)
    source[index] = xp.arange(flat.shape[0]).reshape(target_shape)
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
    negative indices count from the end and the other dims broadcast, as in PyTorch (unlike
    gather)."""
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
    d = _dim(dim, x.ndim)
    size = x.shape[d] if x.ndim else 1
    xp = x._backend_xp()
    idx = indices._data
    if idx.size and int(idx.min()) < 0:
        idx = xp.where(idx < 0, idx + size, idx)
    wrapped = Tensor._make(idx)
    _check_range(wrapped, size, d, RuntimeError, "take_along_dim")
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
    if num_classes < 0:
        num_classes = int(tensor._data.max()) + 1 if tensor.numel() else 0
    if tensor.numel() and (int(tensor._data.min()) < 0 or int(tensor._data.max()) >= num_classes):
        raise RuntimeError(f"Class values must be in [0, {num_classes}) for one_hot")
    return Tensor._make((tensor._data[..., None] == xp.arange(num_classes)).astype(dtypes.int64))

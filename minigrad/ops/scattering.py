"""Writing along an index: scatter, scatter_add, scatter_reduce, index_add/copy/fill,
masked_scatter and index_put with accumulate.

`scatter*` address `self[..., index[i, j, k], ...]` along `dim` (the adjoint of gather);
`index_*` address whole slices `self.select(dim, index[i])`. Each write is one op with one rule
per input; the gradients of values that land somewhere are read back from the same place.
`index_add` is the hot one (embedding bags, sparse gradients): on NumPy it accumulates through
a flat 1-D index, which NumPy's `add.at` runs several times faster than a row index
(`_index_add_plain` is the plain version beside it, pinned equal by a test).
"""

from __future__ import annotations

import numpy as np

from minigrad.autograd import apply, defop
from minigrad.ops.elementwise import as_tensor_like, cast, where
from minigrad.ops.indexing import getitem, split_index, unindex
from minigrad.ops.indexing import index_put as _index_put
from minigrad.tensor import Tensor, _dim


def _first_order(g, name: str):
    if isinstance(
        g, Tensor
    ):  # a rule built on forward-time residuals: constants under create_graph
        raise RuntimeError(f"double backward of scatter_reduce(reduce='{name}') is not supported")
    return g


# fmt: off
SCATTER = defop("scatter",
                lambda xp, x, src, *, where_, sub, hit: _scatter(xp, x, src, where_, sub),
                x=lambda xp, g, hit: xp.where(hit, 0, g),                      # overwritten: 0
                src=lambda xp, g, src_shape, where_, sub:                      # read back: gather
                    xp.unindex(g[where_], src_shape, sub))
SCATTER_ADD = defop("scatter_add",
                    lambda xp, x, src, *, where_, sub, hit: _scatter_add(xp, x, src[sub], where_),
                    x=lambda g: g,                                             # d(x + ...)/dx = 1
                    src=lambda xp, g, src_shape, where_, sub:                  # gather
                        xp.unindex(g[where_], src_shape, sub))
INDEX_ADD = defop("index_add",
                  lambda xp, x, source, *, axis, index, alpha: _index_add(xp, x, source, axis,
                                                                          index, alpha),
                  x=lambda g: g,                                               # 1
                  source=lambda g, axis, index, alpha:                         # alpha g[index]
                      g[(slice(None),) * axis + (index,)] * alpha)
SCATTER_EXTREME = defop("scatter_extreme",
                        lambda xp, x, src, *, where_, sub, hit, largest, include_self:
                            _scatter_extreme(xp, x, src, where_, sub, hit, largest, include_self),
                        residuals=("w_self", "w_src"),
                        x=lambda g, w_self: g * w_self,          # ties share g evenly
                        src=lambda xp, g, src_shape, where_, sub, w_src:  # g at its max/min
                            xp.unindex(g[where_] * w_src, src_shape, sub))
SCATTER_PROD = defop("scatter_prod",
                     lambda xp, x, src, *, where_, sub, hit, include_self:
                         _scatter_prod(xp, x, src, where_, sub, hit, include_self),
                     residuals=("others_self", "others_src"), double_backward=False,
                     x=lambda g, others_self:                  # product of the group's others
                         _first_order(g, "prod") * others_self,
                     src=lambda xp, g, src_shape, where_, sub, others_src:  # the others' prod
                         xp.unindex(_first_order(g, "prod")[where_] * others_src, src_shape, sub))
# fmt: on


def _scatter(xp, x, src, where_, sub):
    out = x.copy()
    out[where_] = src[sub]
    return out


def _scatter_add(xp, x, values, where_):
    if type(x) is np.ndarray and values.size:
        return _scatter_add_flat(x, values, where_)
    return _scatter_add_plain(xp, x, values, where_)


def _scatter_add_plain(xp, x, values, where_):
    """x with `values` added at the advanced index `where_` (the plain version)."""
    if type(x) is np.ndarray:
        out = x.copy()
        np.add.at(out, where_, values)
        return out
    return x + xp.unindex(values, x.shape, where_)


def _scatter_add_flat(x, values, where_):
    """As `_index_add_flat`: one flat 1-D index, NumPy's fast `add.at` case (bit-identical)."""
    out = np.array(x, copy=True, order="C")
    grids = np.broadcast_arrays(*where_)
    flat = np.ravel_multi_index([g.astype(np.intp) for g in grids], x.shape)
    np.add.at(out.reshape(-1), flat.reshape(-1), np.ascontiguousarray(values).reshape(-1))
    return out


def _index_add(xp, x, source, axis, index, alpha):
    if alpha != 1:  # alpha in source's dtype, as a C cast (uint8: -1 is 255), as PyTorch
        source = source * np.array(alpha).astype(source.dtype)
    if type(x) is np.ndarray and source.size:
        return _index_add_flat(x, source, axis, index)
    return _index_add_plain(xp, x, source, axis, index)


def _index_add_plain(xp, x, source, axis, index):
    """x with source's slices added at `index` along `axis` (the plain version)."""
    out = x.copy()
    if type(x) is np.ndarray:
        np.add.at(out, (slice(None),) * axis + (index,), source)
        return out
    return out + xp.unindex(source, x.shape, (slice(None),) * axis + (index,))


def _index_add_flat(x, source, axis, index):
    """NumPy's `add.at` is fast for a 1-D index into a 1-D array and slow for rows: address
    every element through one flat index (the same additions in the same order as the plain
    version, so bit-identical)."""
    out = np.array(x, copy=True, order="C")
    lead = int(np.prod(x.shape[:axis], dtype=np.int64))
    inner = int(np.prod(x.shape[axis + 1 :], dtype=np.int64))
    n, k = x.shape[axis], index.shape[0]
    # flat[a, j, c] = (a * n + index[j]) * inner + c, in source's C order (a, j, c)
    rows = (np.arange(lead, dtype=np.intp)[:, None] * n + index.astype(np.intp)[None, :]) * inner
    flat = rows[:, :, None] + np.arange(inner, dtype=np.intp)
    values = np.ascontiguousarray(source).reshape(lead * k * inner)
    np.add.at(out.reshape(-1), flat.reshape(-1), values)
    return out


def _scatter_extreme(xp, x, src, where_, sub, hit, largest, include_self):
    values = src[sub]
    if include_self:
        out = x.copy()
    else:
        start = _lowest(x.dtype) if largest else _highest(x.dtype)
        out = xp.where(hit, xp.asarray(start, dtype=x.dtype), x)
    (xp.maximum if largest else xp.minimum).at(out, where_, values)
    tie_src = values == out[where_]
    # PyTorch counts a tied self value among the sharers even when include_self=False (and
    # then gives it nothing): the same here, so the gradients agree.
    tie_self = (x == out) & hit
    count = xp.unindex(tie_src.astype(x.dtype), x.shape, where_) + tie_self.astype(x.dtype)
    count = xp.where(count == 0, 1, count)
    own = tie_self.astype(x.dtype) / count if include_self else xp.zeros(x.shape, x.dtype)
    w_self = xp.where(hit, own, 1).astype(x.dtype)
    w_src = (tie_src.astype(x.dtype) / count[where_]).astype(x.dtype)
    return out, w_self, w_src


def _scatter_prod(xp, x, src, where_, sub, hit, include_self):
    values = src[sub]
    out = x.copy() if include_self else xp.where(hit, xp.asarray(1, dtype=x.dtype), x)
    xp.multiply.at(out, where_, values)
    # each member's gradient: the product of the other members of its group (exact with zeros)
    zero_src = values == 0
    zeros = xp.unindex(zero_src.astype(xp.int64), x.shape, where_)
    nonzero = xp.where(hit, 1, x).astype(x.dtype) if not include_self else x.copy()
    if include_self:
        zeros = zeros + ((x == 0) & hit)
        nonzero = xp.where(x == 0, 1, x).astype(x.dtype)
    xp.multiply.at(nonzero, where_, xp.where(zero_src, 1, values).astype(x.dtype))

    def others(member, zero, group_nonzero, group_zeros):
        safe = xp.where(zero, 1, member)
        alone = xp.where(zero, group_nonzero, 0)  # the only zero: the others' product
        return xp.where(
            group_zeros == 0, group_nonzero / safe, xp.where(group_zeros == 1, alone, 0)
        )

    others_src = others(values, zero_src, nonzero[where_], zeros[where_]).astype(x.dtype)
    if include_self:
        own = others(x, x == 0, nonzero, zeros)
        others_self = xp.where(hit, own, 1).astype(x.dtype)
    else:
        others_self = xp.where(hit, 0, 1).astype(x.dtype)
    return out, others_self, others_src


def _lowest(dtype):
    return -np.inf if dtype.kind == "f" else (False if dtype.kind == "b" else np.iinfo(dtype).min)


def _highest(dtype):
    return np.inf if dtype.kind == "f" else (True if dtype.kind == "b" else np.iinfo(dtype).max)


# --- argument checks ---------------------------------------------------------------------------


def _check_bounds(index_array, size: int, dim: int, error=RuntimeError) -> None:
    if index_array.size == 0:
        return
    lo, hi = int(index_array.min()), int(index_array.max())
    if lo < 0 or hi >= size:
        bad = lo if lo < 0 else hi
        raise error(f"index {bad} is out of bounds for dimension {dim} with size {size}")


def _scatter_args(name: str, x: Tensor, dim: int, index: Tensor, src: Tensor | None):
    """(dim, where_, sub, hit): the advanced index into x, the slice of src that is read, and
    the mask of written positions; with torch's checks."""
    if not isinstance(index, Tensor):
        raise TypeError(f"{name}(): index must be a Tensor, got {type(index).__name__}")
    if index._data.dtype.kind not in "iu":
        raise RuntimeError(f"{name}(): Expected dtype int64 for index")
    d = _dim(dim, x.ndim)
    if index.ndim != x.ndim and not (index.ndim <= 1 and x.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as self tensor")
    if src is not None and src.ndim != index.ndim and not (src.ndim <= 1 and index.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
    xshape = x.shape or (1,)
    ishape = index.shape or (1,)
    sshape = (src.shape or (1,)) if src is not None else ishape
    if any(ishape[k] > sshape[k] or (k != d and ishape[k] > xshape[k]) for k in range(len(ishape))):
        raise RuntimeError(
            f"Expected index {list(index.shape)} to be no larger than self {list(x.shape)} apart "
            f"from dimension {d} and to be no larger size than src {list(sshape)}"
        )
    xp = x._backend_xp()
    data = index._data.reshape(ishape).astype(xp.int64)
    _check_bounds(data, xshape[d], d)
    grids = []
    for k, n in enumerate(ishape):
        if k == d:
            grids.append(data)
        else:
            shape = [1] * len(ishape)
            shape[k] = n
            grids.append(xp.arange(n).reshape(shape))
    if not x.ndim:
        return d, (), (), xp.asarray(index.numel() > 0)
    where_ = tuple(grids)
    sub = tuple(slice(0, n) for n in ishape) if (src is not None and src.ndim) else ()
    hit = xp.zeros(x.shape, dtype=bool)
    if index.numel():
        hit[where_] = True
    return d, where_, sub, hit


def _scatter_src(name: str, x: Tensor, index: Tensor, src, value) -> Tensor:
    if src is None and value is None:
        raise TypeError(f"{name}() missing 1 required argument: 'src' or 'value'")
    if src is None or not isinstance(src, Tensor):
        fill = value if src is None else src
        if isinstance(fill, Tensor):
            fill = fill.item()
        xp = x._backend_xp()
        # the number in x's dtype as a C cast (uint8: -3 is 253), as PyTorch
        fill = np.array(fill).astype(x._data.dtype)
        return Tensor._make(xp.full(index.shape, fill, dtype=x._data.dtype))
    if src._data.dtype != x._data.dtype:
        raise RuntimeError(f"{name}(): Expected self.dtype to be equal to src.dtype")
    return src


# --- public functions ---------------------------------------------------------------------------

_REDUCES = ("sum", "prod", "mean", "amax", "amin")


def scatter(
    input: Tensor, dim: int, index: Tensor, src=None, *, value=None, reduce: str | None = None
) -> Tensor:
    """Out of place `input.scatter_(dim, index, src)`: out[..., index[i, j], ...] = src[i, j]
    along `dim`. `src` may be a Tensor or a number (`value=` too); `reduce` ('add' or
    'multiply') accumulates instead of writing, as in PyTorch."""
    s = _scatter_src("scatter", input, index, src, value)
    if reduce is not None:
        table = {"add": "sum", "multiply": "prod"}
        if reduce not in table:
            raise RuntimeError(f"reduce argument must be either add or multiply, got {reduce!r}")
        return scatter_reduce(input, dim, index, s, table[reduce])  # src may exceed index
    if not index.numel():
        return input.clone()
    d, where_, sub, hit = _scatter_args("scatter", input, dim, index, s)
    if not input.ndim:
        return where(Tensor._make(hit), s.reshape(()), input)
    return apply(SCATTER, (input, s), {"where_": where_, "sub": sub, "hit": hit})


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """out = input, then out[..., index[i, j], ...] += src[i, j] along `dim` (repeats add up)."""
    src = _scatter_src("scatter_add", input, index, src, None)
    d, where_, sub, hit = _scatter_args("scatter_add", input, dim, index, src)
    if not input.ndim:
        return input + src.reshape(()) if index.numel() else input.clone()
    return apply(SCATTER_ADD, (input, src), {"where_": where_, "sub": sub, "hit": hit})


def scatter_reduce(
    input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *, include_self: bool = True
) -> Tensor:
    """Reduce the values of `src` that land on each position ('sum', 'prod', 'mean', 'amax',
    'amin'), together with the position's own value when `include_self`. amax/amin ties share
    the gradient evenly, as in PyTorch."""
    if reduce not in _REDUCES:
        raise RuntimeError(
            f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}"
        )
    src = _scatter_src("scatter_reduce", input, index, src, None)
    if not input.ndim:
        flat = scatter_reduce(
            input.reshape(1), 0, index.reshape(-1), src.reshape(-1), reduce,
            include_self=include_self,
        )  # fmt: skip
        return flat.reshape(())
    d, where_, sub, hit = _scatter_args("scatter_reduce", input, dim, index, src)
    params = {"where_": where_, "sub": sub, "hit": hit}
    if reduce in ("sum", "mean"):
        base = input if include_self else where(Tensor._make(hit), 0, input)
        total = apply(SCATTER_ADD, (base, src), params)
        if reduce == "sum":
            return total
        xp = input._backend_xp()
        count = xp.unindex(xp.ones(index.shape, dtype=input._data.dtype), input.shape, where_)
        count = count + (1 if include_self else 0)
        count = Tensor._make(xp.where(hit, count, 1).astype(input._data.dtype))
        if input._data.dtype.kind in "fc":
            return total / count
        return Tensor._make(xp.floor_divide(total._data, count._data))
    if reduce == "prod":
        return apply(SCATTER_PROD, (input, src), {**params, "include_self": bool(include_self)})
    return apply(
        SCATTER_EXTREME,
        (input, src),
        {**params, "largest": reduce == "amax", "include_self": bool(include_self)},
    )


def _index_args(name: str, x: Tensor, dim: int, index: Tensor, *, bounds: bool = True):
    """(dim, flat int64 index) with PyTorch's checks, which differ per op: index_copy_ takes
    int64 only (RuntimeError), index_fill_ too (IndexError) and wraps negative indices;
    index_add_ leaves the bounds to `_index_add_bounds` (after its source check)."""
    if not isinstance(index, Tensor):
        raise TypeError(f"{name}(): index must be a Tensor, got {type(index).__name__}")
    if index._data.dtype.kind not in "iu":
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index but got: {index.dtype}")
    int64 = index._data.dtype == np.dtype("int64")
    if name == "index_copy_" and not int64:
        got = _C_INT[str(index._data.dtype)]
        raise RuntimeError(f"index_copy_(): Expected a long tensor for index, but got {got}")
    if name == "index_fill_" and not int64:
        raise IndexError("index_fill_(): Expected dtype int64 for index.")
    if index.ndim > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector, got {index.ndim}-D")
    d = _dim(dim, x.ndim)
    data = index._data.reshape(-1).astype(x._backend_xp().int64)
    size = (x.shape or (1,))[d]
    if name == "index_fill_":  # negative indices count from the end
        _check_empty_slices(x, d, data)
        if x.numel() == 0:  # nothing to fill: PyTorch checks no index
            return d, data[:0]
        if data.size and (int(data.min()) < -size or int(data.max()) >= size):
            bad = int(data.min()) if int(data.min()) < -size else int(data.max())
            raise IndexError(f"index {bad} is out of bounds for dimension {d} with size {size}")
        data = data % max(size, 1)
    elif bounds:
        _check_bounds(data, size, d, IndexError)
    return d, data


def _check_empty_slices(x: Tensor, d: int, data) -> None:
    """index_fill_/index_copy_ into a dim of size 0 whose slices hold elements: PyTorch's
    kernel fails (restriding a slice past its storage) whatever the index says."""
    shape = x.shape or (1,)
    rest = 1
    for j, n in enumerate(shape):
        rest *= n if j != d else 1
    if data.size and shape[d] == 0 and rest:
        raise RuntimeError(
            f"setStorage: sizes out of bounds for a slice of a tensor of shape {list(x.shape)}"
        )


def _index_add_bounds(x: Tensor, index: Tensor, data, d: int, alpha) -> None:
    """index_add_'s bounds check, as PyTorch's kernels: none when self (2-d or more) or the
    index is empty; RuntimeError "index i is out of bounds" on its scatter_add path (dim first
    or last, an int64 index, alpha 1); IndexError "index out of range in self" otherwise."""
    size = (x.shape or (1,))[d]
    if not data.size or (int(data.min()) >= 0 and int(data.max()) < size):
        return
    if x.ndim > 1:
        if x.numel() == 0:
            return
        if d in (0, x.ndim - 1) and alpha == 1 and index._data.dtype == np.dtype("int64"):
            _check_bounds(data, size, d, RuntimeError)
    raise IndexError("index out of range in self")


_C_INT = {"int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte"}


def _check_source(name: str, x: Tensor, d: int, k: int, source: Tensor) -> None:
    if not isinstance(source, Tensor):
        raise TypeError(f"{name}(): source must be a Tensor, got {type(source).__name__}")
    if source._data.dtype != x._data.dtype:
        raise RuntimeError(
            f"{name}(): self ({x.dtype}) and source ({source.dtype}) must have the same scalar type"
        )
    sshape = source.shape or (1,)
    xshape = x.shape or (1,)
    if len(sshape) != len(xshape) or any(
        a != b for j, (a, b) in enumerate(zip(sshape, xshape)) if j != d
    ):
        raise RuntimeError(
            f"source tensor shape must match self tensor shape, excluding the specified "
            f"dimension. Got self.shape = {list(x.shape)} source.shape = {list(source.shape)}"
        )
    if sshape[d] != k:
        raise (IndexError if name == "index_copy_" else RuntimeError)(
            f"{name}(): Number of indices ({k}) should be equal to source.size(dim): "
            f"({sshape[d]}), for dim: {d}"
        )


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
    """out = input, then out.select(dim, index[i]) += alpha * source.select(dim, i)."""
    d, data = _index_args("index_add_", input, dim, index, bounds=False)
    _check_source("index_add_", input, d, data.shape[0], source)
    _index_add_bounds(input, index, data, d, alpha)
    if not input.numel():  # nothing to add to (any index): source keeps a zero gradient
        return input + source.sum() * 0 if input._data.dtype.kind in "fc" else input.clone()
    if not input.ndim:
        return input + source.reshape(()) * alpha if data.size else input.clone()
    params = {"axis": d, "index": data, "alpha": alpha}
    return apply(INDEX_ADD, (input, source.reshape(source.shape or (1,))), params)


def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """out = input, then out.select(dim, index[i]) = source.select(dim, i)."""
    d, data = _index_args("index_copy_", input, dim, index, bounds=False)
    _check_source("index_copy_", input, d, data.shape[0], source)
    _check_empty_slices(input, d, data)
    if not input.numel():  # nothing to copy into: PyTorch checks no index
        return input + source.sum() * 0 if input._data.dtype.kind in "fc" else input.clone()
    _check_bounds(data, (input.shape or (1,))[d], d, IndexError)
    if not input.ndim:
        return where(
            Tensor._make(input._backend_xp().asarray(data.size > 0)), source.reshape(()), input
        )
    where_ = (slice(None),) * d + (data,)
    hit = input._backend_xp().zeros(input.shape, dtype=bool)
    hit[where_] = True
    params = {"where_": where_, "sub": (Ellipsis,), "hit": hit}
    return apply(SCATTER, (input, source), params)


def index_fill(input: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """out = input with the slices `index` along `dim` set to `value` (a number or 0-d Tensor,
    which then gets the sum of their gradients)."""
    if isinstance(value, Tensor) and value.ndim:
        raise RuntimeError(
            f"index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
            f"{value.ndim} dimension(s)."
        )
    d, data = _index_args("index_fill_", input, dim, index)
    if isinstance(value, Tensor):
        value = value if value._data.dtype == input._data.dtype else cast(value, input.dtype)
    else:
        value = as_tensor_like(value, input)
    xp = input._backend_xp()
    hit = xp.zeros(input.shape, dtype=bool)
    if input.ndim:
        hit[(slice(None),) * d + (data,)] = True
    elif data.size:
        hit[...] = True
    return where(Tensor._make(hit), value, input)


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """out = input with the positions where `mask` is True taking source's elements in order;
    input and mask broadcast together."""
    return _masked_scatter(input, mask, source, False)


def _masked_scatter(input: Tensor, mask: Tensor, source: Tensor, _inplace: bool) -> Tensor:
    """masked_scatter; `_inplace` (Tensor.masked_scatter_): mask broadcast to input only."""
    if not isinstance(mask, Tensor) or mask._data.dtype.kind != "b":
        dtype = mask.dtype if isinstance(mask, Tensor) else type(mask).__name__
        raise RuntimeError(
            f"masked_scatter_ only supports boolean masks, but got mask with dtype {dtype}"
        )
    if source._data.dtype != input._data.dtype:
        raise RuntimeError(
            f"masked_scatter_: expected self and source to have same dtypes but got "
            f"{input.dtype} and {source.dtype}"
        )
    xp = input._backend_xp()
    try:
        shape = xp.broadcast_shapes(input.shape, mask.shape)
    except ValueError:
        raise RuntimeError(
            f"The size of tensor a {list(input.shape)} must match the size of tensor b "
            f"{list(mask.shape)} (mask broadcast)"
        ) from None
    if shape != input.shape and not _inplace:  # out of place, input and mask broadcast
        input = input.expand(shape)
    if shape != input.shape:
        raise RuntimeError(
            f"masked_scatter_: mask of shape {list(mask.shape)} cannot be broadcast to self of "
            f"shape {list(input.shape)}"
        )
    m = xp.broadcast_to(mask._data, shape)
    k = int(m.sum())
    if k > source.numel():
        raise RuntimeError("Number of elements of source < number of ones in mask")
    if k == 0:
        return input.clone()
    picked = getitem(source.reshape(-1), slice(0, k))
    return _index_put(input, Tensor._make(xp.ascontiguousarray(m)), picked)


def index_put(input: Tensor, indices, values, accumulate: bool = False) -> Tensor:
    """out = input with out[indices] = values (`accumulate`: += , repeats adding up)."""
    indices = tuple(indices) if isinstance(indices, (tuple, list)) else (indices,)
    if not accumulate:
        return _index_put(input, indices, values)
    basic, advanced = split_index(input, indices)  # x[indices] is x[basic][advanced]
    values = values if isinstance(values, Tensor) else as_tensor_like(values, input)
    if values._data.dtype != input._data.dtype:
        raise RuntimeError(
            f"Index put requires the source and destination dtypes match, got {input.dtype} for "
            f"the destination and {values.dtype} for the source."
        )
    view = input._data if basic is None else input._data[basic]
    added = values.expand(view.shape if advanced is None else view[advanced].shape)
    if advanced is not None:  # repeated positions add up (the scatter-add of unindex)
        added = unindex(added, view.shape, advanced)
    if basic is not None:
        added = unindex(added, input.shape, basic)
    return input + added


__all__ = [
    "index_add",
    "index_copy",
    "index_fill",
    "index_put",
    "masked_scatter",
    "scatter",
    "scatter_add",
    "scatter_reduce",
]

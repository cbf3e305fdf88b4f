"""Shape primitives (reshape, permute, expand, cat, pad, flip, roll, tril/triu, clone, device copy)
and the compositions PyTorch users expect on top of them (view, flatten, squeeze, stack, split…).

Views (reshape, permute, expand) share their base's version counter, so an in-place change
through a view is caught by the in-place check like one on the base.
"""

from __future__ import annotations

import math
import operator
import warnings as _warnings

from minigrad import dtypes
from minigrad.autograd import apply, defop
from minigrad.backend import Device
from minigrad.backend import to_device as _to_device
from minigrad.ops import indexing
from minigrad.ops.elementwise import promote
from minigrad.tensor import Tensor, _dim

# fmt: off
RESHAPE = defop("reshape", lambda xp, x, *, shape: xp.reshape(x, shape), view=True,
                x=lambda xp, g, x_shape: xp.reshape(g, x_shape))           # g in x's shape
PERMUTE = defop("permute", lambda xp, x, *, axes, inverse: xp.transpose(x, axes), view=True,
                x=lambda xp, g, inverse: xp.transpose(g, inverse))         # inverse permutation
EXPAND = defop("expand", lambda xp, x, *, shape: xp.broadcast_to(x, shape), view=True,
               x=lambda g: g)                                # the engine sums g back to x's shape
CAT = defop("cat", lambda xp, *xs, axis: xp.concatenate(xs, axis=axis),
            xs=lambda g, i, xs_shapes, axis: g[_slice_of(i, xs_shapes, axis)])   # input i's slice
PAD = defop("pad", lambda xp, x, *, widths, value: xp.pad(x, widths, constant_values=value),
            x=lambda g, x_shape, widths:                                   # the unpadded middle
                g[tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, x_shape))])
FLIP = defop("flip", lambda xp, x, *, axis: xp.flip(x, axis),
             x=lambda xp, g, axis: xp.flip(g, axis))                       # g flipped back
ROLL = defop("roll", lambda xp, x, *, shifts, axis: xp.roll(x, shifts, axis),
             x=lambda xp, g, shifts, axis: xp.roll(g, tuple(-s for s in shifts), axis))  # roll -s
TRIL = defop("tril", lambda xp, x, *, k: xp.tril(x, k),
             x=lambda xp, g, k: xp.tril(g, k))                        # 1 on/below diagonal k
TRIU = defop("triu", lambda xp, x, *, k: xp.triu(x, k),
             x=lambda xp, g, k: xp.triu(g, k))                        # 1 on/above diagonal k
CLONE = defop("clone", lambda xp, x: xp.array(x, copy=True), x=lambda g: g)  # d(copy)/dx = 1
DIAGONAL = defop("diagonal", lambda xp, x, *, offset, dim1, dim2, index, axes:
                _strided_diagonal(xp, x, offset, dim1, dim2), view=True,
                x=lambda xp, g, x_shape, index, axes:            # g back onto the diagonal
                xp.unindex(xp.transpose(g, axes), x_shape, index))
UNFOLD = defop("unfold", lambda xp, x, *, dim, size, step, index, axes:
               _strided_windows(xp, x, dim, size, step), view=True,
               x=lambda xp, g, x_shape, index, axes:       # windows summed back where they overlap
               xp.unindex(xp.transpose(g, axes), x_shape, index))
TO_DEVICE = defop("to_copy", lambda xp, x, *, device: _to_device(x, device),
                  x=lambda g, x_device:                               # g, on x's device
                  _to_device(g, x_device) if not isinstance(g, Tensor)
                  else to_device(g, x_device))
# fmt: on


def _strided_diagonal(xp, x, offset: int, dim1: int, dim2: int):
    """The diagonal of `x` as a strided view (NumPy's own `diagonal` is read-only, and a write
    through torch's diagonal reaches the base): dims dim1, dim2 dropped, the diagonal last."""
    start = [slice(None)] * x.ndim
    if offset >= 0:
        start[dim2] = slice(offset, None)
    else:
        start[dim1] = slice(-offset, None)
    x = x[tuple(start)]
    length = min(x.shape[dim1], x.shape[dim2])
    keep = [d for d in range(x.ndim) if d not in (dim1, dim2)]
    shape = tuple(x.shape[d] for d in keep) + (length,)
    strides = tuple(x.strides[d] for d in keep) + (x.strides[dim1] + x.strides[dim2],)
    return xp.lib.stride_tricks.as_strided(x, shape, strides)


def _strided_windows(xp, x, dim: int, size: int, step: int):
    """Windows of `size` every `step` along `dim` as a strided view: dim becomes the window
    count, a new last dim runs along each window."""
    count = (x.shape[dim] - size) // step + 1
    shape = x.shape[:dim] + (count,) + x.shape[dim + 1 :] + (size,)
    stride = x.strides[dim]
    strides = x.strides[:dim] + (stride * step,) + x.strides[dim + 1 :] + (stride,)
    return xp.lib.stride_tricks.as_strided(x, shape, strides)


def _last_to(position: int, ndim: int) -> tuple:
    """The permutation moving the last of `ndim` axes to `position`."""
    return tuple(range(position)) + (ndim - 1,) + tuple(range(position, ndim - 1))


def _diagonal_index(xp, shape: tuple, offset: int, dim1: int, dim2: int) -> tuple:
    """(index, axes): `index` reads the diagonal of a tensor of `shape` with integer arrays,
    and `axes` moves a diagonal-last tensor's last axis to where `t[index]` puts it (in place
    when dim1 and dim2 are adjacent, else first, as NumPy places advanced indices)."""
    rows = max(0, -offset)
    cols = max(0, offset)
    length = max(0, min(shape[dim1] - rows, shape[dim2] - cols))
    index = [slice(None)] * len(shape)
    index[dim1] = xp.arange(rows, rows + length)
    index[dim2] = xp.arange(cols, cols + length)
    position = min(dim1, dim2) if abs(dim1 - dim2) == 1 else 0
    return tuple(index), _last_to(position, len(shape) - 1)


def _diagonal_dims(ndim: int, dim1: int, dim2: int) -> tuple:
    d1, d2 = _dim(dim1, ndim), _dim(dim2, ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return d1, d2


def _slice_of(i: int, shapes: tuple, axis: int) -> tuple:
    start = sum(s[axis] for s in shapes[:i])
    return (slice(None),) * axis + (slice(start, start + shapes[i][axis]),)


def _shape_arg(shape) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def _int_sequence(name: str, what: str, value) -> tuple:
    """torch.reshape / torch.permute take one sequence (Tensor methods also take *ints)."""
    if not isinstance(value, (tuple, list)):
        raise TypeError(
            f"{name}(): argument '{what}' (position 2) must be tuple of ints, not "
            f"{type(value).__name__}"
        )
    return tuple(int(s) for s in value)


def reshape(input: Tensor, shape) -> Tensor:
    x, shape = input, _int_sequence("reshape", "shape", shape)
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = math.prod(s for s in shape if s != -1)
    if -1 in shape:
        if known == 0 or x.numel() % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {x.numel()}")
        shape = tuple(x.numel() // known if s == -1 else s for s in shape)
    elif known != x.numel():
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {x.numel()}")
    if shape == x.shape:
        return x
    return apply(RESHAPE, (x,), {"shape": shape})


def view(x: Tensor, *shape) -> Tensor:
    """`reshape` that never copies: PyTorch's rule, raising where the new shape cannot be
    expressed with strides over the same memory (a transposed tensor flattened, ...)."""
    out = reshape(x, _shape_arg(shape))
    if out is not x and x.ndim and x.numel():
        itemsize = x._data.dtype.itemsize
        strides = [st // itemsize for st in x._data.strides]
        if _view_strides(x.shape, strides, out.shape) is None:
            raise RuntimeError(
                f"view size is not compatible with input tensor's size and stride (at least one "
                f"dimension spans across two contiguous subspaces). Use .reshape(...) instead. "
                f"(view of shape {list(x.shape)} with strides {strides} as {list(out.shape)})"
            )
    return out


def _view_strides(old_shape, old_strides, new_shape) -> list | None:
    """Strides (in elements) that give `new_shape` over the memory of a tensor of `old_shape`
    and `old_strides`, or None when there are none (PyTorch's computeStride): the old dims are
    cut into chunks that are contiguous with each other, and each chunk must be covered by
    whole new dims."""
    new_strides = [0] * len(new_shape)
    view_d = len(new_shape) - 1
    chunk_base = old_strides[-1]
    tensor_numel = view_numel = 1
    for d in range(len(old_shape) - 1, -1, -1):
        tensor_numel *= old_shape[d]
        if d == 0 or (old_shape[d - 1] != 1 and old_strides[d - 1] != tensor_numel * chunk_base):
            while view_d >= 0 and (view_numel < tensor_numel or new_shape[view_d] == 1):
                new_strides[view_d] = view_numel * chunk_base
                view_numel *= new_shape[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if d > 0:
                chunk_base = old_strides[d - 1]
                tensor_numel = view_numel = 1
    return new_strides if view_d == -1 else None


def view_as(x: Tensor, other: Tensor) -> Tensor:
    return view(x, other.shape)


def reshape_as(x: Tensor, other: Tensor) -> Tensor:
    return reshape(x, other.shape)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    if input.ndim == 0:
        return reshape(input, (1,))
    s, e = _dim(start_dim, input.ndim), _dim(end_dim, input.ndim)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shape = input.shape[:s] + (math.prod(input.shape[s : e + 1]),) + input.shape[e + 1 :]
    return reshape(input, shape)


def unflatten(input: Tensor, dim: int, sizes) -> Tensor:
    """Splits dim into `sizes`; a -1 there is inferred from that dim's size alone (not from the
    element count, which a 0 elsewhere in the shape would make ambiguous)."""
    sizes = tuple(int(s) for s in sizes)
    if not sizes:
        raise RuntimeError("unflatten: sizes must be non-empty")
    if input.ndim == 0:
        raise RuntimeError("unflatten: Dimension specified as 0 but tensor has no dimensions")
    d = _dim(dim, input.ndim)
    n = input.shape[d]
    if sizes.count(-1) > 1:
        raise RuntimeError(f"unflatten: only one dimension can be inferred: sizes {list(sizes)}")
    if any(s < -1 for s in sizes):
        raise RuntimeError(f"unflatten: invalid shape dimension in sizes {list(sizes)}")
    known = math.prod(s for s in sizes if s != -1)
    if -1 in sizes and known != 0 and n % known == 0:
        sizes = tuple(n // known if s == -1 else s for s in sizes)
    elif -1 in sizes and known == 0 and n == 0:
        raise RuntimeError(
            f"unflatten: cannot infer the -1 in sizes {list(sizes)} for dim {d} of size 0: "
            f"it could be any value"
        )
    if math.prod(sizes) != n or -1 in sizes:
        raise RuntimeError(
            f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {d} "
            f"({n}) in the input tensor"
        )
    return reshape(input, input.shape[:d] + sizes + input.shape[d + 1 :])


def _require_args(args: tuple, name: str, parameter: str) -> None:
    """torch's TypeError for `x.permute()` and the like (a required variadic argument)."""
    if not args:
        raise TypeError(f'{name}() missing 1 required positional arguments: "{parameter}"')


def permute(input: Tensor, dims) -> Tensor:
    x, dims = input, _int_sequence("permute", "dims", dims)
    if len(dims) != x.ndim:
        raise RuntimeError(
            f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
            f"length of the desired ordering of dimensions i.e. input.dim() = {x.ndim} is not "
            f"equal to len(dims) = {len(dims)}".replace("(sparse_coo)", "")
        )
    axes = tuple(_dim(d, x.ndim) for d in dims)
    if len(set(axes)) != len(axes):
        raise RuntimeError(f"permute(): duplicate dims are not allowed, got {dims}")
    if axes == tuple(range(x.ndim)):
        return x
    inverse = tuple(sorted(range(len(axes)), key=axes.__getitem__))
    return apply(PERMUTE, (x,), {"axes": axes, "inverse": inverse})


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    if input.ndim < 2 and dim0 in (0, -1) and dim1 in (0, -1):
        return input
    axes = list(range(input.ndim))
    a, b = _dim(dim0, input.ndim), _dim(dim1, input.ndim)
    axes[a], axes[b] = axes[b], axes[a]
    return permute(input, axes)


swapdims = transpose


def swapaxes(input: Tensor, axis0: int, axis1: int) -> Tensor:
    """`transpose` under NumPy's name (torch's argument names: axis0, axis1)."""
    return transpose(input, axis0, axis1)


def t(input: Tensor) -> Tensor:
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return transpose(input, 0, 1) if input.ndim == 2 else input


def movedim(input: Tensor, source: int, destination: int) -> Tensor:
    axes = list(range(input.ndim))
    s = axes.pop(_dim(source, input.ndim))
    axes.insert(_dim(destination, input.ndim), s)
    return permute(input, axes)


moveaxis = movedim


def expand(x: Tensor, *shape) -> Tensor:
    """Broadcast to `shape` without copying; -1 keeps a dimension's size (PyTorch's expand)."""
    _require_args(shape, "expand", "size")
    shape = _shape_arg(shape)
    if len(shape) < x.ndim:
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(shape)}) must be greater or equal to "
            f"the number of dimensions in the tensor ({x.ndim})"
        )
    lead = len(shape) - x.ndim
    full = tuple(
        (x.shape[i - lead] if s == -1 else s) if i >= lead else s for i, s in enumerate(shape)
    )
    for i, n in enumerate(x.shape):
        if n != 1 and n != full[lead + i]:
            raise RuntimeError(
                f"The expanded size of the tensor ({full[lead + i]}) must match the existing size "
                f"({n}) at non-singleton dimension {lead + i}.  Target sizes: {list(shape)}.  "
                f"Tensor sizes: {list(x.shape)}"
            )
    if full == x.shape:
        return x
    return apply(EXPAND, (x,), {"shape": full})


def broadcast_to(input: Tensor, shape) -> Tensor:
    return expand(input, tuple(shape))


def expand_as(x: Tensor, other: Tensor) -> Tensor:
    return expand(x, other.shape)


def broadcast_tensors(*tensors: Tensor) -> tuple:
    xp = tensors[0]._backend_xp()
    shape = xp.broadcast_shapes(*(t.shape for t in tensors))
    return tuple(expand(t, shape) for t in tensors)


def squeeze(input: Tensor, dim=None, *, axis=None) -> Tensor:
    dim = dim if axis is None else axis
    if dim is None:
        return reshape(input, tuple(n for n in input.shape if n != 1))
    listed = [_dim(d, input.ndim) for d in ((dim,) if isinstance(dim, int) else dim)]  # 0-d too
    dims = set(listed)
    if len(dims) != len(listed):
        twice = next(d for d in listed if listed.count(d) > 1)
        raise RuntimeError(f"dim {twice} appears multiple times in the list of dims")
    return reshape(input, tuple(n for i, n in enumerate(input.shape) if not (i in dims and n == 1)))


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    d = _dim(dim, input.ndim + 1)
    return reshape(input, input.shape[:d] + (1,) + input.shape[d:])


def cat(tensors, dim: int = 0, *, axis: int | None = None) -> Tensor:
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("cat(): expected a non-empty list of Tensors")
    tensors = promote(*tensors)
    for k, t in enumerate(tensors):
        if t.ndim == 0:
            raise RuntimeError(f"zero-dimensional tensor (at position {k}) cannot be concatenated")
    # torch's legacy rule: a 1-d empty tensor joins any list (it counts for the dtype only). It is
    # reshaped to the others' shape with 0 along dim, so it stays in the graph.
    legacy = [t.ndim == 1 and t.shape[0] == 0 for t in tensors]
    if all(legacy):
        return apply(CAT, tuple(tensors), {"axis": 0})
    first = tensors[legacy.index(False)]
    d = _dim(dim if axis is None else axis, first.ndim)
    for k, t in enumerate(tensors):
        if not legacy[k] and (
            t.ndim != first.ndim
            or any(a != b for i, (a, b) in enumerate(zip(t.shape, first.shape)) if i != d)
        ):
            raise RuntimeError(
                f"Sizes of tensors must match except in dimension {d}. Expected size "
                f"{list(first.shape)} but got size {list(t.shape)} for tensor number {k} in the "
                f"list."
            )
    if any(legacy):
        empty = tuple(0 if i == d else n for i, n in enumerate(first.shape))
        tensors = [reshape(t, empty) if is_legacy else t for t, is_legacy in zip(tensors, legacy)]
    # Always a new tensor (cat of one tensor too), as torch: writes to it never reach the input.
    return apply(CAT, tuple(tensors), {"axis": d})


concat = concatenate = cat


def stack(tensors, dim: int = 0) -> Tensor:
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shape = tensors[0].shape
    for k, t in enumerate(tensors):
        if t.shape != shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(shape)} at entry 0 and "
                f"{list(t.shape)} at entry {k}"
            )
    d = _dim(dim, len(shape) + 1)
    return cat([unsqueeze(t, d) for t in tensors], d)


def hstack(tensors) -> Tensor:
    tensors = list(tensors)
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors) -> Tensor:
    return cat([t if t.ndim > 1 else unsqueeze(t, 0) for t in tensors], 0)


def split(tensor: Tensor, split_size_or_sections, dim: int = 0) -> tuple:
    """Split into pieces of `split_size` (the last may be smaller) or of the listed sizes."""
    d = _dim(dim, tensor.ndim)
    n = tensor.shape[d]
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        if size <= 0:
            raise RuntimeError(f"split expects split_size be positive, but got split_size={size}")
        sizes = [min(size, n - s) for s in range(0, n, size)] or [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size "
                f"at dimension {d}), but got split_sizes={sizes}"
            )
    out, start = [], 0
    for s in sizes:
        out.append(tensor[(slice(None),) * d + (slice(start, start + s),)])
        start += s
    return tuple(out)


def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0")
    n = input.shape[_dim(dim, input.ndim)]
    return split(input, max(1, -(-n // chunks)), dim)


def unbind(input: Tensor, dim: int = 0) -> tuple:
    d = _dim(dim, input.ndim)
    return tuple(input[(slice(None),) * d + (i,)] for i in range(input.shape[d]))


_PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """PyTorch's F.pad: `pad` lists (left, right) pairs from the last dimension backwards; a
    negative width crops. Modes: constant (any rank), and reflect, replicate, circular for 1, 2
    or 3 padded dims of an input with one or two more dims (the last three gather with an index,
    so their backward scatter-adds)."""
    if mode not in _PAD_MODES:
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    widths_in = []
    for k, p in enumerate(pad):
        try:
            widths_in.append(operator.index(p))
        except TypeError:
            raise TypeError(
                f"pad(): argument 'pad' (position 2) must be tuple of ints, but found element of "
                f"type {type(p).__name__} at pos {k}"
            ) from None
    if len(widths_in) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(widths_in) > 2 * input.ndim:
        raise RuntimeError(
            f"Padding length should be less than or equal to two times the input dimension but "
            f"got padding length {len(widths_in)} and input of dimension {input.ndim}"
        )
    k = len(widths_in) // 2  # padded dims: the last k
    widths = [(0, 0)] * (input.ndim - k) + [
        (widths_in[2 * j], widths_in[2 * j + 1]) for j in reversed(range(k))
    ]
    if mode == "constant":
        return _pad_constant(input, widths, 0 if value is None else value)
    if value not in (None, 0):
        raise RuntimeError(f'Padding mode "{mode}" doesn\'t take in value argument')
    if k not in (1, 2, 3) or input.ndim not in (k + 1, k + 2):
        raise NotImplementedError(
            f"Padding size {2 * k} is not supported for {input.ndim}D input tensor.\n"
            f"Supported combinations for non-constant padding:\n"
            f"  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            f"  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            f"  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)"
        )
    if mode == "circular":
        return _pad_circular(input, widths, k)
    return _pad_edges(input, widths, k, mode)


def _pad_constant(x: Tensor, widths: list, value) -> Tensor:
    """Negative widths crop first (a view), then positive ones pad with `value`."""
    for d, ((lo, hi), n) in enumerate(zip(widths, x.shape)):
        if n + min(lo, 0) + min(hi, 0) < 0:
            raise RuntimeError(
                f"narrow(): length must be non-negative. (padding ({lo}, {hi}) crops more than "
                f"the {n} element(s) of dimension {d})"
            )
    x, widths = _crop(x, widths)
    return apply(PAD, (x,), {"widths": tuple(widths), "value": value})


def _crop(x: Tensor, widths: list) -> tuple:
    """x with the negative widths cut off (a view; at most everything), and the widths left."""
    if all(lo >= 0 and hi >= 0 for lo, hi in widths):
        return x, widths
    keep = tuple(slice(max(-lo, 0), max(n + min(hi, 0), 0)) for (lo, hi), n in zip(widths, x.shape))
    return x[keep], [(max(lo, 0), max(hi, 0)) for lo, hi in widths]


def _pad_edges(x: Tensor, widths: list, k: int, mode: str) -> Tensor:
    """reflect / replicate: PyTorch pads the input, then crops where a width is negative, so
    output position j reads input position j - left, mirrored or clamped into range."""
    first = x.ndim - k  # the first padded dim
    if any(n == 0 for n in x.shape[1 if x.ndim == k + 2 else 0 :]):
        raise RuntimeError(
            f"Expected {k + 1}D or {k + 2}D (batch mode) tensor with possibly 0 batch size and "
            f"other non-zero dimensions for input, but got: {list(x.shape)}"
        )
    if mode == "reflect":
        for d in range(first, x.ndim):
            (lo, hi), n = widths[d], x.shape[d]
            if lo >= n or hi >= n:
                raise RuntimeError(
                    f"Padding size should be less than the corresponding input dimension, but "
                    f"got: padding ({lo}, {hi}) at dimension {d} of input {list(x.shape)}"
                )
    out = [n + lo + hi for (lo, hi), n in zip(widths[first:], x.shape[first:])]
    if all(m < 1 for m in out):
        names = "DHW"[-k:]
        sizes = ", ".join(f"{c}: {n}" for c, n in zip(names, x.shape[first:]))
        outs = " ".join(f"{c}: {m}" for c, m in zip(names, out))
        raise RuntimeError(f"input ({sizes}) is too small. Calculated output {outs}")
    if any(m < 0 for m in out):
        raise RuntimeError(
            f"Trying to create tensor with negative dimension {min(out)}: "
            f"{list(x.shape[:first]) + out}"
        )
    xp = x._backend_xp()
    for d in range(first, x.ndim):
        (lo, hi), n = widths[d], x.shape[d]
        if lo == hi == 0:
            continue
        i = xp.arange(-lo, n + hi)
        if mode == "replicate":
            i = xp.clip(i, 0, n - 1)
        else:  # reflect about the first and the last element: period 2(n - 1)
            period = 2 * (n - 1)
            i = xp.abs(i) % period if period else i * 0
            i = xp.where(i >= n, period - i, i)
        x = x[(slice(None),) * d + (Tensor._make(i),)]
    return x


def _pad_circular(x: Tensor, widths: list, k: int) -> Tensor:
    """circular: PyTorch crops first (negative widths), then wraps the cropped tensor around,
    at most once: a width may not exceed what it wraps."""
    first = x.ndim - k
    for d in range(first, x.ndim):
        (lo, hi), n = widths[d], x.shape[d]
        if lo > n or hi > n:
            raise RuntimeError(
                f"Padding value causes wrapping around more than once. (padding ({lo}, {hi}) at "
                f"dimension {d} of input {list(x.shape)})"
            )
        if n + lo + hi < 0:
            raise RuntimeError(
                f"Negative padding value is resulting in an empty dimension (padding ({lo}, "
                f"{hi}) at dimension {d} of input {list(x.shape)})"
            )
        # PyTorch copies (broadcasting) the kept input into the middle of the output, slicing
        # both as Python does (a negative end counts from the back): a crop past the far end
        # can fail there
        m = n + lo + hi
        middle = range(m)[max(lo, 0) : m - max(hi, 0)]
        kept = range(n)[max(-lo, 0) : n - max(-hi, 0)]
        if len(kept) not in (len(middle), 1):
            raise RuntimeError(
                f"The size of tensor a ({len(middle)}) must match the size of tensor b "
                f"({len(kept)}) at non-singleton dimension {d}: circular padding ({lo}, {hi}) "
                f"crops past the {n} element(s) of dimension {d} of input {list(x.shape)}"
            )
    out_shape = [n + lo + hi for (lo, hi), n in zip(widths, x.shape)]
    if 0 in out_shape:  # nothing to wrap: an empty result of the padded shape
        empty = x[tuple(slice(0, 0) for _ in x.shape)]
        return apply(PAD, (empty,), {"widths": tuple((0, m) for m in out_shape), "value": 0})
    x, widths = _crop(x, widths)
    xp = x._backend_xp()
    for d in range(first, x.ndim):
        (lo, hi), n = widths[d], x.shape[d]
        if lo == hi == 0:
            continue
        if lo > n or hi > n:
            raise RuntimeError(
                f"Padding value causes wrapping around more than once: padding ({lo}, {hi}) at "
                f"dimension {d} wraps {n} element(s) left after cropping"
            )
        x = x[(slice(None),) * d + (Tensor._make(xp.arange(-lo, n + hi) % n),)]
    return x


def flip(input: Tensor, dims) -> Tensor:
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    axis = tuple(_dim(d, input.ndim) for d in dims)
    if len(set(axis)) != len(axis):
        raise RuntimeError(f"dim {axis[0]} appears multiple times in the list of dims {dims}")
    return apply(FLIP, (input,), {"axis": axis if input.ndim else ()})


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    if not shifts:
        raise RuntimeError("`shifts` required")
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:0")
        return reshape(roll(flatten(input), shifts, 0), input.shape)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(
            f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}"
        )
    if input.ndim == 0:
        raise IndexError(f"Dimension specified as {dims[0]} but tensor has no dimensions")
    axis = tuple(_dim(d, input.ndim) for d in dims)
    return apply(ROLL, (input,), {"shifts": shifts, "axis": axis})


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    if input.ndim < 2:
        raise RuntimeError("tril: input tensor must have at least 2 dimensions")
    return apply(TRIL, (input,), {"k": diagonal})


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    if input.ndim < 2:
        raise RuntimeError("triu: input tensor must have at least 2 dimensions")
    return apply(TRIU, (input,), {"k": diagonal})


def repeat(x: Tensor, *sizes) -> Tensor:
    """Tile `x` (PyTorch's repeat): expand along new interleaved axes, then merge them."""
    _require_args(sizes, "repeat", "repeats")
    sizes = _shape_arg(sizes)
    if len(sizes) < x.ndim:
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions "
            "of tensor"
        )
    shape = (1,) * (len(sizes) - x.ndim) + x.shape
    inter = tuple(v for n in shape for v in (1, n))
    target = tuple(v for r, n in zip(sizes, shape) for v in (r, n))
    out = expand(reshape(x, inter), target)
    return reshape(out, tuple(r * n for r, n in zip(sizes, shape)))


def repeat_interleave(
    input: Tensor, repeats=None, dim: int | None = None, *, output_size: int | None = None
) -> Tensor:
    """Repeat each element (each slice along `dim`; all elements flattened when dim is None)
    `repeats` times: an int, or an integer tensor with one count per slice (or one for all).
    `repeat_interleave(counts)` alone gives 0, 1, ... each repeated by its count."""
    if repeats is None:  # torch.repeat_interleave(repeats): the indices, repeated
        counts = input
        _check_repeat_counts(counts)
        xp = counts._backend_xp()
        index = xp.repeat(xp.arange(counts.numel()), counts._data.reshape(-1))
        return Tensor._make(index)
    if dim is None:
        input, dim = flatten(input), 0
    d = _dim(dim, input.ndim)
    n = input.shape[d] if input.ndim else 1
    if isinstance(repeats, Tensor):
        _check_repeat_counts(repeats)
        if repeats.ndim == 1 and repeats.numel() != 1 and repeats.numel() != n:
            raise RuntimeError(
                f"repeats must have the same size as input along dim, but got repeats.size(0) = "
                f"{repeats.numel()} and input.size({d}) = {n}"
            )
        if repeats.numel() == 1:
            repeats = int(repeats.item())
        else:
            xp = input._backend_xp()
            index = xp.repeat(xp.arange(n), repeats._data)
            _check_output_size(output_size, index.shape[0])
            return indexing.index_select(input, d, Tensor._make(index))
    repeats = int(repeats)
    if repeats < 0:
        raise RuntimeError("Repeats must be non-negative")
    _check_output_size(output_size, n * repeats)
    y = unsqueeze(input, d + 1)
    shape = list(y.shape)
    shape[d + 1] = repeats
    y = expand(y, shape)
    return flatten(y, d, d + 1)


def _check_repeat_counts(repeats: Tensor) -> None:
    if repeats.ndim > 1:
        raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
    if repeats._data.dtype.kind not in "iu":
        raise NotImplementedError(
            f"\"repeat_interleave_cpu\" not implemented for '{dtypes.torch_name(repeats.dtype)}'"
        )
    if repeats.numel() and int(repeats._data.min()) < 0:
        raise RuntimeError("repeats can not be negative")


def _check_output_size(output_size, size: int) -> None:
    if output_size is not None and output_size != size:
        raise RuntimeError(
            f"repeat_interleave: output_size={output_size} does not match the repeated size {size}"
        )


def clone(input: Tensor) -> Tensor:
    return apply(CLONE, (input,), {})


def to_device(x: Tensor, device: Device) -> Tensor:
    return apply(TO_DEVICE, (x,), {"device": device})


# --- long tail: diagonals, rotations, grids, sliding windows -----------------------------------


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal `offset` of the (dim1, dim2) planes, as a view (writes reach `input`): those
    two dims are removed and the diagonal becomes the last dim (PyTorch's diagonal)."""
    offset = dtypes.int_argument(offset, "diagonal", "offset", 2)
    d1, d2 = _diagonal_dims(input.ndim, dim1, dim2)
    index, axes = _diagonal_index(input._backend_xp(), input.shape, offset, d1, d2)
    params = {"offset": offset, "dim1": d1, "dim2": d2, "index": index, "axes": axes}
    return apply(DIAGONAL, (input,), params)


_diagonal_of = diagonal  # for diag(), whose `diagonal` parameter (PyTorch's name) hides it


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Zeros with `input`'s last dim written on diagonal `offset` of new dims dim1, dim2 (the
    inverse of `diagonal`; other dims keep their order)."""
    offset = dtypes.int_argument(offset, "diag_embed", "offset", 2)
    ndim = input.ndim + 1
    d1, d2 = _diagonal_dims(ndim, dim1, dim2)
    n = input.shape[-1] + abs(offset)
    rest = iter(input.shape[:-1])
    shape = tuple(n if d in (d1, d2) else next(rest) for d in range(ndim))
    index, axes = _diagonal_index(input._backend_xp(), shape, offset, d1, d2)
    return indexing.unindex(permute(input, axes), shape, index)


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """A 1-D input: the square matrix with it on diagonal `diagonal`; a 2-D input: a copy of
    that diagonal (PyTorch's diag)."""
    diagonal = dtypes.int_argument(diagonal, "diag", "diagonal", 2)
    if input.ndim == 1:
        return diag_embed(input, diagonal, 0, 1)
    if input.ndim == 2:
        return clone(_diagonal_of(input, diagonal))
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")


def trace(input: Tensor) -> Tensor:
    """Sum of the main diagonal of a matrix (integers sum to int64, as in PyTorch)."""
    from minigrad.ops.reduce import sum as _sum

    if input.dtype == dtypes.bool:  # PyTorch checks the dtype first
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    return _sum(diagonal(input))


def rot90(input: Tensor, k: int = 1, dims=(0, 1)) -> Tensor:
    """Rotate by k * 90 degrees in the plane `dims`, from dims[0] towards dims[1]."""
    dims = list(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.ndim}")
    d0, d1 = _dim(dims[0], input.ndim), _dim(dims[1], input.ndim)
    if d0 == d1:
        raise RuntimeError(
            f"expected rotation dims to be different, but got dim0 = {dims[0]} and dim1 = {dims[1]}"
        )
    k = dtypes.int_argument(k, "rot90", "k", 2) % 4
    if k == 1:
        return transpose(flip(input, d1), d0, d1)
    if k == 2:
        return flip(input, (d0, d1))
    if k == 3:
        return transpose(flip(input, d0), d0, d1)
    return clone(input)


def meshgrid(*tensors, indexing: str | None = None) -> tuple:
    """Coordinate grids from 0-D/1-D tensors: output i varies along dim i ('ij', the default)
    or, with 'xy', the first two dims swapped (NumPy's Cartesian order). Each output is an
    expanded view of its input. Like PyTorch, warns when `indexing` is not given."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        _warnings.warn(
            "torch.meshgrid: in an upcoming release, it will be required to pass the indexing "
            "argument.",
            UserWarning,
            stacklevel=2,
        )
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(
            f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}'
        )
    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for t in tensors:
        if t.ndim > 1:
            raise RuntimeError(
                f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got a tensor "
                f"of shape {list(t.shape)}"
            )
    first = tensors[0]
    for t in tensors[1:]:
        if t.dtype != first.dtype:
            raise RuntimeError(
                f"meshgrid expects all tensors to have the same dtype, got {first.dtype} and "
                f"{t.dtype}"
            )
        if t.device != first.device:
            raise RuntimeError(
                f"meshgrid expects all tensors to have the same device, got {first.device} and "
                f"{t.device}"
            )
    axis_of = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) > 1:
        axis_of[0], axis_of[1] = 1, 0
    sizes = [t.numel() for t in tensors]
    shape = [0] * len(tensors)
    for i, a in enumerate(axis_of):
        shape[a] = sizes[i]
    grids = []
    for t, a in zip(tensors, axis_of):
        along = [1] * len(tensors)
        along[a] = sizes[axis_of.index(a)]
        grids.append(expand(reshape(t, tuple(along)), tuple(shape)))
    return tuple(grids)


def unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """Tensor.unfold: every window of `size` elements, `step` apart, along `dimension`, as a
    view (dimension becomes the window count; a new last dim of `size` runs along each)."""
    dimension = dtypes.int_argument(dimension, "unfold", "dimension", 1)
    size = dtypes.int_argument(size, "unfold", "size", 2)
    step = dtypes.int_argument(step, "unfold", "step", 3)
    if input.ndim == 0:
        _dim(dimension, 1)
        if size > 1:
            raise RuntimeError(f"maximum size for tensor at dimension 0 is 1 but size is {size}")
        if step <= 0:
            raise RuntimeError(f"step is {step} but must be > 0")
        return reshape(input, (1,)) if size == 1 else reshape(input, (1,))[:0]
    d = _dim(dimension, input.ndim)
    if size > input.shape[d]:
        raise RuntimeError(
            f"maximum size for tensor at dimension {d} is {input.shape[d]} but size is {size}"
        )
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    xp = input._backend_xp()
    count = (input.shape[d] - size) // step + 1
    index = (slice(None),) * d + (xp.arange(count)[:, None] * step + xp.arange(size),)
    params = {
        "dim": d,
        "size": size,
        "step": step,
        "index": index,
        "axes": _last_to(d + 1, input.ndim + 1),
    }
    return apply(UNFOLD, (input,), params)

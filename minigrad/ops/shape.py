"""Shape primitives (reshape, permute, expand, cat, pad, flip, roll, tril/triu, clone, device copy)
and the compositions PyTorch users expect on top of them (view, flatten, squeeze, stack, split…).

Views (reshape, permute, expand) share their base's version counter, so an in-place change
through a view is caught by the in-place check like one on the base.
"""

from __future__ import annotations

import math

from minigrad.autograd import apply, defop
from minigrad.backend import Device
from minigrad.backend import to_device as _to_device
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
TO_DEVICE = defop("to_copy", lambda xp, x, *, device: _to_device(x, device),
                  x=lambda g, x_device:                               # g, on x's device
                  _to_device(g, x_device) if not isinstance(g, Tensor)
                  else to_device(g, x_device))
# fmt: on


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
    return reshape(x, other.shape)


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
    d = _dim(dim, input.ndim)
    return reshape(input, input.shape[:d] + tuple(sizes) + input.shape[d + 1 :])


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
    dims = {_dim(d, input.ndim) for d in ((dim,) if isinstance(dim, int) else dim)}  # 0-d too
    return reshape(input, tuple(n for i, n in enumerate(input.shape) if not (i in dims and n == 1)))


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    d = _dim(dim, input.ndim + 1)
    return reshape(input, input.shape[:d] + (1,) + input.shape[d:])


def cat(tensors, dim: int = 0, *, axis: int | None = None) -> Tensor:
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("cat(): expected a non-empty list of Tensors")
    tensors = promote(*tensors)
    d = _dim(dim if axis is None else axis, tensors[0].ndim)
    first = tensors[0]
    for k, t in enumerate(tensors[1:], 1):
        if t.ndim != first.ndim or any(
            a != b for i, (a, b) in enumerate(zip(t.shape, first.shape)) if i != d
        ):
            raise RuntimeError(
                f"Sizes of tensors must match except in dimension {d}. Expected size "
                f"{list(first.shape)} but got size {list(t.shape)} for tensor number {k} in the "
                f"list."
            )
    if len(tensors) == 1:
        return tensors[0]
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


def pad(input: Tensor, pad, mode: str = "constant", value: float | None = None) -> Tensor:
    """PyTorch's F.pad: `pad` lists (left, right) pairs from the last dimension backwards.
    Modes: constant, reflect, replicate, circular (the last three gather with an index, so their
    backward scatter-adds)."""
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise RuntimeError(
            f"Padding length must be divisible by 2 and at most 2*{input.ndim}, got {len(pad)}"
        )
    widths = [(0, 0)] * input.ndim
    for k in range(len(pad) // 2):
        widths[input.ndim - 1 - k] = (int(pad[2 * k]), int(pad[2 * k + 1]))
    if mode == "constant":
        if any(lo < 0 or hi < 0 for lo, hi in widths):
            index = tuple(
                slice(-lo if lo < 0 else 0, n + hi if hi < 0 else n)
                for (lo, hi), n in zip(widths, input.shape)
            )
            input = input[index]
            widths = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
        return apply(
            PAD, (input,), {"widths": tuple(widths), "value": 0 if value is None else value}
        )
    if value not in (None, 0):
        raise ValueError(f"Padding mode {mode!r} doesn't take in value argument")
    xp = input._backend_xp()
    out = input
    for d, (lo, hi) in enumerate(widths):
        if lo == hi == 0:
            continue
        n = input.shape[d]
        i = xp.arange(-lo, n + hi)
        if mode == "replicate":
            i = xp.clip(i, 0, n - 1)
        elif mode == "reflect":
            if lo >= n or hi >= n:
                raise RuntimeError(
                    f"Padding size should be less than the corresponding input dimension, but "
                    f"got: padding ({lo}, {hi}) at dimension {d} of input {list(input.shape)}"
                )
            period = 2 * (n - 1)
            i = xp.abs(i) % period if period else i * 0
            i = xp.where(i >= n, period - i, i)
        elif mode == "circular":
            i = i % n
        else:
            raise NotImplementedError(
                f"padding mode {mode!r}: use constant, reflect, replicate or circular"
            )
        out = out[(slice(None),) * d + (Tensor._make(i),)]
    return out


def flip(input: Tensor, dims) -> Tensor:
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    axis = tuple(_dim(d, input.ndim) for d in dims)
    if len(set(axis)) != len(axis):
        raise RuntimeError(f"dim {axis[0]} appears multiple times in the list of dims {dims}")
    return apply(FLIP, (input,), {"axis": axis if input.ndim else ()})


def roll(input: Tensor, shifts, dims=None) -> Tensor:
    if dims is None:
        return reshape(roll(flatten(input), shifts, 0), input.shape)
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(
            f"shifts and dimensions must align. shifts: {len(shifts)}, dims: {len(dims)}"
        )
    return apply(
        ROLL, (input,), {"shifts": shifts, "axis": tuple(_dim(d, input.ndim) for d in dims)}
    )


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


def repeat_interleave(input: Tensor, repeats: int, dim: int | None = None) -> Tensor:
    if dim is None:
        input, dim = flatten(input), 0
    d = _dim(dim, input.ndim)
    y = unsqueeze(input, d + 1)
    shape = list(y.shape)
    shape[d + 1] = repeats
    y = expand(y, shape)
    return flatten(y, d, d + 1)


def clone(input: Tensor) -> Tensor:
    return apply(CLONE, (input,), {})


def to_device(x: Tensor, device: Device) -> Tensor:
    return apply(TO_DEVICE, (x,), {"device": device})

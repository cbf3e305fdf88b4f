"""Convolution, pooling and batch normalisation: `conv2d`/`conv3d` and `max_pool2d`/`max_pool3d`
as fused ops with hand-written backwards; `conv1d`, `avg_pool2d`/`avg_pool3d` and `batch_norm`
built on ops (all re-exported as `F.*`); the modules `Conv1d`/`Conv2d`/`Conv3d`,
`MaxPool2d`/`MaxPool3d`, `AvgPool2d`/`AvgPool3d`, `BatchNorm1d`/`BatchNorm2d`/`BatchNorm3d`.
Layouts are PyTorch's: input [N, C, *S], weight [O, C/groups, *K]; the kernels below are
written once for any number of spatial dims S.

conv is one GEMM per group over the input's windows ("im2col"): the windows are a strided view
(`sliding_window_view`, no copy), laid out as columns [C/g*prod(K), N*prod(O)] once, and
out = W cols with W as [O/g, C/g*prod(K)]. Its backward is

    dW = g cols^T        (recomputing cols from x instead of keeping them)
    dx = col2im(W^T g)   (each kernel offset (i, j, ..) adds its slice of W^T g into x's windows)

max pooling runs one pass per kernel offset, keeps which offset held each window's (first)
maximum, and sends the gradient there.
Second derivatives through these ops are not supported (create_graph raises).
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from minigrad import creation
from minigrad.autograd import apply, defop, no_grad
from minigrad.nn import init
from minigrad.nn.module import Module, Parameter
from minigrad.ops.shape import pad
from minigrad.tensor import Tensor

# --- windows --------------------------------------------------------------------------------


def _windows(xp, x, kernel, stride, dilation):
    """[N, C, *S] -> a view [N, C, *O, *K]: the input each output position sees."""
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    windows = xp.lib.stride_tricks.sliding_window_view(x, span, axis=tuple(range(2, x.ndim)))
    steps = tuple(slice(None, None, s) for s in (*stride, *dilation))
    return windows[(slice(None), slice(None), *steps)]


def _pad_spatial(xp, x, padding, value=0.0):
    """x [N, C, *S] with `padding[d]` on both sides of each spatial dim d."""
    if not any(padding):
        return x
    return xp.pad(x, ((0, 0), (0, 0), *((p, p) for p in padding)), constant_values=value)


def _im2col(xp, x, kernel, stride, padding, dilation, groups):
    """x [N, C, *S] -> columns [G, C/G*prod(K), N*prod(O)] (one copy) and O. The output
    positions run along the last axis, so the copy moves whole rows of the image at a time."""
    windows = _windows(xp, _pad_spatial(xp, x, padding), kernel, stride, dilation)
    k = len(kernel)
    n, c = windows.shape[:2]
    out_size, kernel = windows.shape[2 : 2 + k], windows.shape[2 + k :]
    grouped = xp.reshape(windows, (n, groups, c // groups, *out_size, *kernel))
    order = (1, 2, *range(3 + k, 3 + 2 * k), 0, *range(3, 3 + k))
    rows = c // groups * math.prod(kernel)
    cols = xp.reshape(xp.transpose(grouped, order), (groups, rows, n * math.prod(out_size)))
    return cols, tuple(out_size)


def _grouped_grad(xp, g, groups):
    """The output gradient [N, O, *OS] as [G, O/G, N*prod(OS)], the layout of the GEMMs."""
    n, o = g.shape[:2]
    grouped = xp.reshape(g, (n, groups, o // groups, math.prod(g.shape[2:])))
    return xp.reshape(xp.transpose(grouped, (1, 2, 0, 3)), (groups, o // groups, -1))


def _offsets(kernel, stride, dilation, out_size):
    """(offset, slices) per kernel offset (i, j, ..): the slices of the padded input that
    offset reads for every output position at once, in row-major order of the offsets."""
    for offset in itertools.product(*(range(k) for k in kernel)):
        slices = tuple(
            slice(i * d, i * d + s * (m - 1) + 1, s)
            for i, s, d, m in zip(offset, stride, dilation, out_size)
        )
        yield offset, slices


def _crop(x, padding):
    """x [A, B, *S] without `padding[d]` on both sides of each spatial dim d."""
    inner = tuple(slice(p, n - p) for p, n in zip(padding, x.shape[2:]))
    return x[(slice(None), slice(None), *inner)]


def _no_double_backward(name: str, g) -> None:
    if isinstance(g, Tensor):
        raise RuntimeError(
            f"{name}: double backward (create_graph=True) through {name} is not supported"
        )


# --- conv2d / conv3d ------------------------------------------------------------------------


def _conv_forward(xp, x, weight, *, stride, padding, dilation, groups):
    cols, out_size = _im2col(xp, x, weight.shape[2:], stride, padding, dilation, groups)
    return _conv_of_columns(xp, cols, out_size, weight, x.shape[0], groups)


def _conv_of_columns(xp, cols, out_size, weight, n, groups):
    """W cols per group, as [N, O, *OS]."""
    o = weight.shape[0]
    out = xp.matmul(xp.reshape(weight, (groups, o // groups, -1)), cols)
    out = xp.swapaxes(xp.reshape(out, (o, n, *out_size)), 0, 1)  # [G, O/G, N*prod(OS)] ->
    return xp.ascontiguousarray(out)


def _conv_grad_x(xp, g, weight, x_shape, stride, padding, dilation, groups):
    # dx = col2im(W^T g): window element i of output position m is input row i*d + m*s
    k = len(padding)
    _no_double_backward(f"conv{k}d", g)
    n, c, *size = x_shape
    o, cg, *kernel = weight.shape
    out_size = g.shape[2:]
    weight_t = xp.swapaxes(xp.reshape(weight, (groups, o // groups, -1)), -1, -2)
    dcols = xp.matmul(weight_t, _grouped_grad(xp, g, groups))
    dcols = xp.reshape(dcols, (c, *kernel, n, *out_size))
    padded = tuple(s + 2 * p for s, p in zip(size, padding))
    dx = xp.zeros_like(g, shape=(c, n, *padded))  # channels first, as dcols
    for offset, slices in _offsets(kernel, stride, dilation, out_size):
        dx[(slice(None), slice(None), *slices)] += dcols[(slice(None), *offset)]
    return _crop(xp.swapaxes(dx, 0, 1), padding)


def _conv_grad_w(xp, g, x, weight_shape, stride, padding, dilation, groups):
    # dW = g cols^T, with the columns recomputed from x
    _no_double_backward(f"conv{len(padding)}d", g)
    cols, _ = _im2col(xp, x, weight_shape[2:], stride, padding, dilation, groups)
    return _weight_grad_of_columns(xp, g, cols, weight_shape, groups)


def _weight_grad_of_columns(xp, g, cols, weight_shape, groups):
    """g cols^T per group, as the weight's shape."""
    dw = xp.matmul(_grouped_grad(xp, g, groups), xp.swapaxes(cols, -1, -2))
    return xp.reshape(dw, weight_shape)


# fmt: off
CONV2D = defop("conv2d", _conv_forward, double_backward=False,
               x=_conv_grad_x,                                   # col2im(W^T g)
               weight=_conv_grad_w)                              # g im2col(x)^T
CONV3D = defop("conv3d", _conv_forward, double_backward=False,
               x=_conv_grad_x,                                   # col2im(W^T g)
               weight=_conv_grad_w)                              # g im2col(x)^T
# fmt: on


def _per_dim(name: str, value, minimum: int, k: int, fn: str | None = None) -> tuple:
    """`value` (an int or k ints) as k ints, each >= `minimum` (torch's checks and types)."""
    items = (value,) * k if isinstance(value, (int, np.integer)) else tuple(value)
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in items):
        raise TypeError(f"{name} must be an int or a tuple of {k} ints, got {value!r}")
    if len(items) != k:
        raise RuntimeError(
            f"{fn + '(): ' if fn else ''}expected {name} to be a single integer value or a "
            f"list of {k} values to match the dimensions, but got {name}={list(items)}"
        )
    if any(v < minimum for v in items):
        raise RuntimeError(f"{fn + '(): ' if fn else ''}{name} must be >= {minimum}, got {value!r}")
    return tuple(int(v) for v in items)


def _tuple2(name: str, value, minimum: int) -> tuple[int, int]:
    return _per_dim(name, value, minimum, 2)  # type: ignore[return-value]


def _check_fits(name: str, input: Tensor, kernel, padding, dilation) -> None:
    """The padded input [.., *S] must hold at least one window of the dilated kernel."""
    k = len(kernel)
    size = [n + 2 * p for n, p in zip(input.shape[-k:], padding)]
    span = [d * (kk - 1) + 1 for kk, d in zip(kernel, dilation)]
    if any(n < s for n, s in zip(size, span)):
        raise RuntimeError(
            f"{name}(): the (padded) input is {'x'.join(map(str, size))}, smaller than the "
            f"dilated kernel {'x'.join(map(str, span))}"
        )


def _same_padding(kernel, dilation) -> tuple[tuple[int, int], ...]:
    """Left/right padding per spatial dim that keeps the size at stride 1 (PyTorch's 'same':
    the extra pixel of an even kernel goes right/bottom)."""
    total = [d * (k - 1) for k, d in zip(kernel, dilation)]
    return tuple((t // 2, t - t // 2) for t in total)


def _check_batched(name: str, k: int, input: Tensor, weight: Tensor) -> None:
    """A batched [N, C, *S] input and a [.., .., *K] weight of one floating dtype."""
    if input.ndim != k + 2 or weight.ndim != k + 2:
        raise RuntimeError(
            f"Expected {k + 1}D (unbatched) or {k + 2}D (batched) input to {name} and a "
            f"{k + 2}D weight, but got input of size: {list(input.shape)} and weight of size: "
            f"{list(weight.shape)}"
        )
    if input.dtype.kind != "f" or input.dtype != weight.dtype:
        raise RuntimeError(
            f"{name}(): expected floating point input and weight of one dtype, got "
            f"{input.dtype} and {weight.dtype}"
        )


def _add_bias(name: str, out: Tensor, bias: Tensor | None) -> Tensor:
    """out [N, O, *S] + bias [O] per channel."""
    if bias is None:
        return out
    o = out.shape[1]
    if bias.shape != (o,) or bias.dtype != out.dtype:
        raise RuntimeError(
            f"{name}(): bias must be of shape [{o}] and dtype {out.dtype}, got "
            f"{list(bias.shape)} and {bias.dtype}"
        )
    return out + bias.reshape(1, o, *(1,) * (out.ndim - 2))


def _convnd(name, k, op, input, weight, bias, stride, padding, dilation, groups) -> Tensor:
    """conv{k}d: checks, 'same'/'valid' padding, the unbatched form, the fused op, the bias."""
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{name}(): input and weight must be Tensors")
    if input.ndim == k + 1 and weight.ndim == k + 2:
        return _convnd(name, k, op, input.unsqueeze(0), weight, bias, stride, padding,
                       dilation, groups)[0]  # fmt: skip
    _check_batched(name, k, input, weight)
    stride, dilation = _per_dim("stride", stride, 1, k), _per_dim("dilation", dilation, 1, k)
    if not isinstance(groups, (int, np.integer)) or groups < 1:
        raise RuntimeError(f"{name}(): non-positive groups is not supported, got {groups!r}")
    o, cg, *kernel = weight.shape
    c = input.shape[1]
    if c != cg * groups or o % groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(weight.shape)}, expected input"
            f"{list(input.shape)} to have {cg * groups} channels, but got {c} channels instead"
            + (f" (and {o} output channels must be divisible by groups)" if o % groups else "")
        )
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0,) * k
        elif padding == "same":
            if stride != (1,) * k:
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            sides = _same_padding(kernel, dilation)
            if any(left != right for left, right in sides):  # an even kernel: pad explicitly
                input = pad(input, [w for side in reversed(sides) for w in side])
                padding = (0,) * k
            else:
                padding = tuple(left for left, _ in sides)
        else:
            raise ValueError(
                f"Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}"
            )
    padding = _per_dim("padding", padding, 0, k)
    _check_fits(name, input, kernel, padding, dilation)
    params = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    out = apply(op, (input, weight), params)
    return _add_bias(name, out, bias)


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    dilation=1,
    groups: int = 1,
) -> Tensor:
    """2-D cross-correlation, as PyTorch's: input [N, C, H, W] (or [C, H, W]), weight
    [O, C/groups, KH, KW], bias [O]; `padding` is an int, a pair, "valid" or "same" (stride 1)."""
    return _convnd("conv2d", 2, CONV2D, input, weight, bias, stride, padding, dilation, groups)


def conv3d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    dilation=1,
    groups: int = 1,
) -> Tensor:
    """3-D cross-correlation, as PyTorch's: input [N, C, D, H, W] (or [C, D, H, W]), weight
    [O, C/groups, KD, KH, KW], bias [O]; `padding` is an int, a triple, "valid" or "same"."""
    return _convnd("conv3d", 3, CONV3D, input, weight, bias, stride, padding, dilation, groups)


def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    dilation=1,
    groups: int = 1,
) -> Tensor:
    """1-D cross-correlation: input [N, C, L] (or [C, L]), weight [O, C/groups, K], as a
    conv2d over a height of 1."""
    if input.ndim not in (2, 3) or weight.ndim != 3:
        raise RuntimeError(
            f"conv1d(): expected a 2-D or 3-D input [N, C, L] and a 3-D weight, got input "
            f"{list(input.shape)} and weight {list(weight.shape)}"
        )
    if not isinstance(padding, str):
        padding = (0, _single("padding", padding))
    stride, dilation = (1, _single("stride", stride)), (1, _single("dilation", dilation))
    out = conv2d(input.unsqueeze(-2), weight.unsqueeze(-2), bias, stride, padding, dilation, groups)
    return out.squeeze(-2)


def _single(name: str, value) -> int:
    if isinstance(value, (int, np.integer)):
        return int(value)
    items = tuple(value)
    if len(items) != 1:
        raise TypeError(f"conv1d(): {name} must be an int or a 1-tuple, got {value!r}")
    return int(items[0])


# --- pooling --------------------------------------------------------------------------------


def _pool_forward(xp, x, *, kernel, stride, padding, dilation):
    lowest = -math.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    padded = _pad_spatial(xp, x, padding, lowest)
    out_size = tuple(
        (size - d * (k - 1) - 1) // s + 1
        for size, k, s, d in zip(padded.shape[2:], kernel, stride, dilation)
    )
    if _tiles(kernel, stride, dilation):
        best, where = _pool_forward_tiled(xp, padded, kernel, stride, dilation, out_size)
        if x.dtype.kind != "f" or not bool(xp.isnan(best).any()):
            return best, where
    return _pool_forward_by_offsets(xp, padded, kernel, stride, dilation, out_size)


def _tiles(kernel, stride, dilation) -> bool:
    """Whether the windows tile the input (stride = kernel, no dilation: MaxPool2d(k))."""
    return tuple(stride) == tuple(kernel) and all(d == 1 for d in dilation)


def _pool_forward_by_offsets(xp, padded, kernel, stride, dilation, out_size):
    # the reference: one pass per kernel offset over output-sized slices; `where` keeps the
    # (row-major) number of the offset of each window's first maximum (a NaN wins, and a later
    # NaN too, as in PyTorch)
    best = where = None
    for number, (_, slices) in enumerate(_offsets(kernel, stride, dilation, out_size)):
        value = padded[(slice(None), slice(None), *slices)]
        if best is None:
            best = value.copy()
            where = xp.zeros_like(best, dtype=np.int32)
            continue
        better = (value > best) | (value != value)
        xp.copyto(best, value, where=better)
        xp.copyto(where, number, where=better)
    return best, where


def _pool_forward_tiled(xp, padded, kernel, stride, dilation, out_size):
    """_pool_forward_by_offsets for windows that tile the input, without its masked copies
    (cnn_step's 2x2 pools: 7.0 -> 3.2 ms): the maximum over the offsets' slices, then each
    window's offset is the first whose value equals it (offsets assigned last to first).
    Without NaNs only (a NaN equals nothing; the caller then takes the reference).
    tests/nn/test_conv.py pins both equal."""
    values = [
        padded[(slice(None), slice(None), *slices)]
        for _, slices in _offsets(kernel, stride, dilation, out_size)
    ]
    best = values[0].copy()
    for value in values[1:]:
        xp.maximum(best, value, out=best)
    where = xp.full(best.shape, len(values) - 1, dtype=np.int32)
    for number in range(len(values) - 2, -1, -1):
        where[values[number] == best] = number
    return best, where


def _pool_indices(xp, where, size, kernel, stride, padding, dilation):
    """Each window's chosen element as an index into the flattened spatial dims `size` of the
    unpadded input (PyTorch's return_indices)."""
    k = len(kernel)
    flat = 0
    for d in range(k):
        i = (where // math.prod(kernel[d + 1 :])) % kernel[d]  # the offset's d-th coordinate
        steps = xp.reshape(xp.arange(where.shape[2 + d]), [-1 if e == d else 1 for e in range(k)])
        position = steps * stride[d] + i * dilation[d] - padding[d]
        flat = flat + position * math.prod(size[d + 1 :])
    return flat


def _pool_grad(xp, g, x_shape, where, kernel, stride, padding, dilation):
    _no_double_backward(f"max_pool{len(kernel)}d", g)
    if _tiles(kernel, stride, dilation):
        return _pool_grad_tiled(xp, g, x_shape, where, kernel, stride, padding, dilation)
    return _pool_grad_by_offsets(xp, g, x_shape, where, kernel, stride, padding, dilation)


def _pool_grad_by_offsets(xp, g, x_shape, where, kernel, stride, padding, dilation):
    # the reference: g goes to each window's maximum, offset by offset, where `where` names it;
    # overlapping windows add up because each offset adds into its own (duplicate-free) slice
    padded = tuple(n + 2 * p for n, p in zip(x_shape[2:], padding))
    dx = xp.zeros_like(g, shape=(*x_shape[:2], *padded))
    for number, (_, slices) in enumerate(_offsets(kernel, stride, dilation, where.shape[2:])):
        dx[(slice(None), slice(None), *slices)] += xp.where(where == number, g, 0)
    return _crop(dx, padding)


def _pool_grad_tiled(xp, g, x_shape, where, kernel, stride, padding, dilation):
    """_pool_grad_by_offsets for windows that tile the input (see _pool_forward_tiled): the
    offsets' slices do not overlap, so each is written once instead of added into zeros."""
    padded = tuple(n + 2 * p for n, p in zip(x_shape[2:], padding))
    covered = tuple(k * m for k, m in zip(kernel, where.shape[2:])) == padded
    make = xp.empty_like if covered else xp.zeros_like  # empty: every element gets written
    dx = make(g, shape=(*x_shape[:2], *padded))
    for number, (_, slices) in enumerate(_offsets(kernel, stride, dilation, where.shape[2:])):
        dx[(slice(None), slice(None), *slices)] = xp.where(where == number, g, 0)
    return _crop(dx, padding)


# fmt: off
MAX_POOL2D = defop("max_pool2d", _pool_forward, residuals=("where",), double_backward=False,
                   x=_pool_grad)                              # g at each window's argmax
MAX_POOL3D = defop("max_pool3d", _pool_forward, residuals=("where",), double_backward=False,
                   x=_pool_grad)                              # g at each window's argmax
# fmt: on


def _pool_args(name, k, input, kernel_size, stride, padding, dilation, ceil_mode):
    """Checked (kernel, stride, padding, dilation) k-tuples, and the extra (far-side) padding
    that ceil_mode's last, partial windows need (0 in floor mode)."""
    if not isinstance(input, Tensor) or input.ndim not in (k + 1, k + 2):
        raise RuntimeError(
            f"{name}(): expected a {k + 1}-D or {k + 2}-D input [N, C, *spatial], got "
            f"{list(input.shape) if isinstance(input, Tensor) else type(input).__name__}"
        )
    kernel = _per_dim("kernel_size", kernel_size, 1, k, name)
    no_stride = stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0)
    stride = kernel if no_stride else _per_dim("stride", stride, 1, k, name)
    padding = _per_dim("padding", padding, 0, k, name)
    dilation = _per_dim("dilation", dilation, 1, k, name)
    if any(2 * p > kk for p, kk in zip(padding, kernel)):
        raise RuntimeError(
            f"{name}(): pad should be at most half of effective kernel size, but got pad="
            f"{padding} and kernel_size={kernel}"
        )
    _check_fits(name, input, kernel, padding, dilation)
    extra = tuple(
        _ceil_overhang(n, kk, s, p, d) if ceil_mode else 0
        for n, kk, s, p, d in zip(input.shape[-k:], kernel, stride, padding, dilation)
    )
    return kernel, stride, padding, dilation, extra


def _ceil_overhang(n: int, k: int, s: int, p: int, d: int) -> int:
    """How far ceil_mode's last window reaches past the padded input (PyTorch's rule: one
    more window when the remainder is partial, unless that window would start in the right
    padding)."""
    span = d * (k - 1) + 1
    out = -(-(n + 2 * p - span) // s) + 1
    if (out - 1) * s >= n + p:
        out -= 1
    return max((out - 1) * s + span - (n + 2 * p), 0)


def _far_side(extra) -> list:
    """F.pad widths (last dim first) that pad only the far side of each spatial dim."""
    return [w for e in reversed(extra) for w in (0, e)]


def _max_poolnd(name, k, op, input, kernel_size, stride, padding, dilation, ceil_mode,
                return_indices):  # fmt: skip
    kernel, stride, padding, dilation, extra = _pool_args(
        name, k, input, kernel_size, stride, padding, dilation, ceil_mode
    )
    if input.ndim == k + 1:
        out = _max_poolnd(name, k, op, input.unsqueeze(0), kernel, stride, padding, dilation,
                          ceil_mode, True)  # fmt: skip
        return (out[0][0], out[1][0]) if return_indices else out[0][0]
    size = input.shape[2:]
    if any(extra):  # ceil_mode: the last windows overhang; what they miss counts as -inf
        lowest = -math.inf if input.dtype.kind == "f" else int(np.iinfo(input.dtype).min)
        input = pad(input, _far_side(extra), value=lowest)
    params = {"kernel": kernel, "stride": stride, "padding": padding, "dilation": dilation}
    out = apply(op, (input,), params)
    if not return_indices:
        return out
    # the node keeps the argmax only when recording: find it again (only this path pays)
    xp = input._backend_xp()
    _, where = _pool_forward(xp, input._data, **params)
    flat = _pool_indices(xp, where, size, kernel, stride, padding, dilation)
    return out, Tensor._make(flat.astype(np.int64))


def max_pool2d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):
    """The maximum of each window of input [N, C, H, W] (or [C, H, W]); `stride` defaults to
    the kernel size, padding counts as -inf. With `return_indices`, also each maximum's index
    into the flattened H*W of the input (as PyTorch's)."""
    return _max_poolnd("max_pool2d", 2, MAX_POOL2D, input, kernel_size, stride, padding,
                       dilation, ceil_mode, return_indices)  # fmt: skip


def max_pool3d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):
    """The maximum of each window of input [N, C, D, H, W] (or [C, D, H, W]); as max_pool2d,
    the indices into the flattened D*H*W."""
    return _max_poolnd("max_pool3d", 3, MAX_POOL3D, input, kernel_size, stride, padding,
                       dilation, ceil_mode, return_indices)  # fmt: skip


def _avg_poolnd(name, k, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                divisor_override) -> Tensor:  # fmt: skip
    """The mean of each window: a depthwise conv{k}d with a constant kernel."""
    kernel, stride, padding, _, extra = _pool_args(
        name, k, input, kernel_size, stride, padding, 1, ceil_mode
    )
    if input.dtype.kind != "f":
        raise NotImplementedError(f'"{name}" not implemented for {input.dtype} input')
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError(f"{name}(): divisor must be not zero")
    if input.ndim == k + 1:
        return _avg_poolnd(name, k, input.unsqueeze(0), kernel, stride, padding, ceil_mode,
                           count_include_pad, divisor_override)[0]  # fmt: skip
    conv = conv2d if k == 2 else conv3d
    c = input.shape[1]
    xp = input._backend_xp()
    ones = Tensor._make(xp.ones_like(input._data, shape=(c, 1, *kernel)))
    sides = [w for p, e in zip(reversed(padding), reversed(extra)) for w in (p, p + e)]
    padded = pad(input, sides)  # ceil_mode's overhang: zeros, not counted
    total = conv(padded, ones, None, stride, 0, 1, c)
    if divisor_override is not None:
        return total / divisor_override
    if not any(extra) and (count_include_pad or not any(padding)):
        return total / math.prod(kernel)
    # each window's divisor: its elements inside the input (and, with count_include_pad, its
    # explicit padding), never the overhang
    size = input.shape[2:]
    if count_include_pad:
        region = tuple(n + 2 * p for n, p in zip(size, padding))
        inside = pad(Tensor._make(xp.ones_like(input._data, shape=(1, 1, *region))),
                     _far_side(extra))  # fmt: skip
    else:
        inside = pad(Tensor._make(xp.ones_like(input._data, shape=(1, 1, *size))), sides)
    counts = conv(inside, ones[:1], None, stride, 0)
    return total / counts


def avg_pool2d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """The mean of each window of input [N, C, H, W] (or [C, H, W]). Padding counts as zeros
    in the mean unless `count_include_pad=False`."""
    return _avg_poolnd("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                       count_include_pad, divisor_override)  # fmt: skip


def avg_pool3d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """The mean of each window of input [N, C, D, H, W] (or [C, D, H, W]), as avg_pool2d."""
    return _avg_poolnd("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode,
                       count_include_pad, divisor_override)  # fmt: skip


# --- batch norm -----------------------------------------------------------------------------


def batch_norm(
    input: Tensor,
    running_mean: Tensor | None,
    running_var: Tensor | None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """(x - mean) / sqrt(var + eps) * weight + bias per channel (dim 1) of input [N, C, ...].

    In training (or without running stats) mean and var are the batch's (biased var), and the
    running stats, when given, move towards them in place: r = (1 - momentum) r + momentum b,
    with the unbiased var, as PyTorch. Otherwise the running stats normalise. Built from
    differentiable ops, so it has every derivative order."""
    if input.ndim < 2:
        raise ValueError(
            f"batch_norm(): expected at least 2-D input [N, C, ...], got {input.ndim}-D"
        )
    c = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):  # fmt: skip
        if t is not None and (t.shape != (c,) or t.dtype != input.dtype):
            raise RuntimeError(
                f"batch_norm(): {name} should have {c} elements (one per channel) of the "
                f"input's dtype {input.dtype}, got shape {list(t.shape)} and {t.dtype}"
            )
    axes = (0, *range(2, input.ndim))
    shape = (1, c) + (1,) * (input.ndim - 2)
    if training or running_mean is None or running_var is None:
        count = input.numel() // c
        if count <= 1:
            raise ValueError(
                f"Expected more than 1 value per channel when training, got input size "
                f"{list(input.shape)}"
            )
        mean = input.mean(axes, keepdim=True)
        var = ((input - mean) ** 2).mean(axes, keepdim=True)
        if training and running_mean is not None and running_var is not None:
            with no_grad():
                running_mean.mul_(1 - momentum).add_(mean.reshape(c) * momentum)
                unbiased = var.reshape(c) * (count / (count - 1))
                running_var.mul_(1 - momentum).add_(unbiased * momentum)
    else:
        mean, var = running_mean.reshape(shape), running_var.reshape(shape)
    out = (input - mean) / (var + eps).sqrt()
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


# --- modules --------------------------------------------------------------------------------


class _ConvNd(Module):
    _dims = 2

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device=None,
        dtype=None,
    ):
        super().__init__()
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"in_channels ({in_channels}) and out_channels ({out_channels}) must be "
                f"divisible by groups ({groups})"
            )
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(
                f"padding_mode must be 'zeros', 'reflect', 'replicate' or 'circular', got "
                f"{padding_mode!r}"
            )
        kernel = (kernel_size,) * self._dims if isinstance(kernel_size, int) else tuple(kernel_size)
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel
        # per-dim tuples, as torch keeps them (a padding string stays a string)
        self.stride, self.dilation = self._per_dim(stride), self._per_dim(dilation)
        self.padding = padding if isinstance(padding, str) else self._per_dim(padding)
        if isinstance(padding, str) and padding not in ("valid", "same"):
            raise ValueError(
                f"Invalid padding string {padding!r}, should be one of {{'valid', 'same'}}"
            )
        if padding == "same" and any(s != 1 for s in self.stride):
            raise ValueError("padding='same' is not supported for strided convolutions")
        self.groups, self.padding_mode = groups, padding_mode
        shape = (out_channels, in_channels // groups, *kernel)
        self.weight = Parameter(creation.empty(*shape, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(creation.empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.default_layer_init_(self.weight, self.bias)  # fan_in = C/groups * KH * KW

    def _conv(self, input: Tensor) -> Tensor:
        fn = {1: conv1d, 2: conv2d, 3: conv3d}[self._dims]
        if self.padding_mode == "zeros":
            return fn(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                      self.groups)  # fmt: skip
        # other modes: pad with that mode first, then convolve without padding
        if self.padding == "valid":
            sides = [(0, 0)] * self._dims
        elif self.padding == "same":
            sides = list(_same_padding(self.kernel_size, self._per_dim(self.dilation)))
        else:
            sides = [(p, p) for p in self._per_dim(self.padding)]
        widths = [w for side in reversed(sides) for w in side]  # the last dim first, as F.pad
        padded = pad(input, widths, mode=self.padding_mode)
        return fn(padded, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)

    def _per_dim(self, value) -> tuple:
        return (value,) * self._dims if isinstance(value, int) else tuple(value)

    def forward(self, input: Tensor) -> Tensor:
        return self._conv(input)

    def extra_repr(self) -> str:
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0,) * self._dims:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * self._dims:
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class Conv2d(_ConvNd):
    """2-D convolution over [N, C, H, W] (PyTorch's nn.Conv2d, its init and arguments)."""

    _dims = 2


class Conv1d(_ConvNd):
    """1-D convolution over [N, C, L] (PyTorch's nn.Conv1d, its init and arguments)."""

    _dims = 1


class Conv3d(_ConvNd):
    """3-D convolution over [N, C, D, H, W] (PyTorch's nn.Conv3d, its init and arguments)."""

    _dims = 3


class _MaxPoolNd(Module):
    _fn = staticmethod(max_pool2d)

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):  # fmt: skip
        super().__init__()
        self.kernel_size, self.padding = kernel_size, padding
        self.stride = stride if stride is not None else kernel_size  # as torch keeps it
        self.dilation, self.return_indices, self.ceil_mode = dilation, return_indices, ceil_mode

    def forward(self, input: Tensor):
        return type(self)._fn(input, self.kernel_size, self.stride, self.padding, self.dilation,
                          self.ceil_mode, self.return_indices)  # fmt: skip

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding}, dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class MaxPool2d(_MaxPoolNd):
    """Max pooling over [N, C, H, W] (PyTorch's nn.MaxPool2d)."""

    _fn = staticmethod(max_pool2d)


class MaxPool3d(_MaxPoolNd):
    """Max pooling over [N, C, D, H, W] (PyTorch's nn.MaxPool3d)."""

    _fn = staticmethod(max_pool3d)


class _AvgPoolNd(Module):
    _fn = staticmethod(avg_pool2d)

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):  # fmt: skip
        super().__init__()
        self.kernel_size, self.padding = kernel_size, padding
        self.stride = stride if stride is not None else kernel_size  # as torch keeps it
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return type(self)._fn(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad, self.divisor_override)  # fmt: skip

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(_AvgPoolNd):
    """Average pooling over [N, C, H, W] (PyTorch's nn.AvgPool2d)."""

    _fn = staticmethod(avg_pool2d)


class AvgPool3d(_AvgPoolNd):
    """Average pooling over [N, C, D, H, W] (PyTorch's nn.AvgPool3d)."""

    _fn = staticmethod(avg_pool3d)


class _BatchNorm(Module):
    _ndims: tuple[int, ...] = (2, 3)

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None,
                 dtype=None):  # fmt: skip
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        kw = {"dtype": dtype, "device": device}
        if affine:
            self.weight = Parameter(creation.ones(num_features, **kw))
            self.bias = Parameter(creation.zeros(num_features, **kw))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", creation.zeros(num_features, **kw))
            self.register_buffer("running_var", creation.ones(num_features, **kw))
            self.register_buffer("num_batches_tracked", creation.tensor(0, device=device))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            with no_grad():
                self.running_mean.zero_()
                self.running_var.fill_(1.0)
                self.num_batches_tracked.zero_()

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in self._ndims:
            raise ValueError(
                f"expected {' or '.join(f'{n}D' for n in self._ndims)} input "
                f"(got {input.ndim}D input)"
            )
        momentum = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            with no_grad():
                self.num_batches_tracked.add_(1)
            if self.momentum is None:  # a cumulative moving average
                momentum = 1.0 / float(self.num_batches_tracked.item())
        use_batch = self.training or not self.track_running_stats
        return batch_norm(input, self.running_mean, self.running_var, self.weight, self.bias,
                          use_batch, momentum, self.eps)  # fmt: skip

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch norm over [N, C] or [N, C, L] (statistics per channel C)."""

    _ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm over [N, C, H, W] (statistics per channel C)."""

    _ndims = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch norm over [N, C, D, H, W] (statistics per channel C)."""

    _ndims = (5,)

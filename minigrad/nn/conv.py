"""Convolution, pooling and batch normalisation: `conv2d` and `max_pool2d` as fused ops with
hand-written backwards; `conv1d`, `avg_pool2d` and `batch_norm` built on ops (all re-exported as
`F.*`); the modules `Conv1d`, `Conv2d`, `MaxPool2d`, `AvgPool2d`, `BatchNorm1d`, `BatchNorm2d`.
Layouts are PyTorch's: input [N, C, H, W], weight [O, C/groups, KH, KW].

conv2d is one GEMM per group over the input's windows ("im2col"): the windows are a strided view
(`sliding_window_view`, no copy), laid out as columns [C/g*KH*KW, N*OH*OW] once, and
out = W cols with W as [O/g, C/g*KH*KW]. Its backward is

    dW = g cols^T        (recomputing cols from x instead of keeping them)
    dx = col2im(W^T g)   (each kernel offset (i, j) adds its slice of W^T g into x's windows)

max_pool2d runs one pass per kernel offset, keeps which offset held each window's (first)
maximum, and sends the gradient there.
Second derivatives through these two ops are not supported (create_graph raises).
"""

from __future__ import annotations

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
    """[N, C, H, W] -> a view [N, C, OH, OW, KH, KW]: the input each output position sees."""
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    span = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    windows = xp.lib.stride_tricks.sliding_window_view(x, span, axis=(2, 3))
    return windows[:, :, ::sh, ::sw, ::dh, ::dw]


def _pad_hw(xp, x, padding, value=0.0):
    ph, pw = padding
    if ph == 0 and pw == 0:
        return x
    return xp.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


def _im2col(xp, x, kernel, stride, padding, dilation, groups):
    """x [N, C, H, W] -> columns [G, C/G*KH*KW, N*OH*OW] (one copy) and (OH, OW). The output
    positions run along the last axis, so the copy moves whole rows of the image at a time."""
    windows = _windows(xp, _pad_hw(xp, x, padding), kernel, stride, dilation)
    n, c, oh, ow, kh, kw = windows.shape
    grouped = xp.reshape(windows, (n, groups, c // groups, oh, ow, kh, kw))
    cols = xp.reshape(
        xp.transpose(grouped, (1, 2, 5, 6, 0, 3, 4)), (groups, c // groups * kh * kw, n * oh * ow)
    )
    return cols, (oh, ow)


def _grouped_grad(xp, g, groups):
    """The output gradient [N, O, OH, OW] as [G, O/G, N*OH*OW], the layout of the GEMMs."""
    n, o, oh, ow = g.shape
    grouped = xp.reshape(g, (n, groups, o // groups, oh * ow))
    return xp.reshape(xp.transpose(grouped, (1, 2, 0, 3)), (groups, o // groups, n * oh * ow))


def _no_double_backward(name: str, g) -> None:
    if isinstance(g, Tensor):
        raise RuntimeError(
            f"{name}: double backward (create_graph=True) through {name} is not supported"
        )


# --- conv2d -------------------------------------------------------------------------------


def _conv_forward(xp, x, weight, *, stride, padding, dilation, groups):
    o, cg, kh, kw = weight.shape
    cols, (oh, ow) = _im2col(xp, x, (kh, kw), stride, padding, dilation, groups)
    out = xp.matmul(xp.reshape(weight, (groups, o // groups, cg * kh * kw)), cols)
    n = x.shape[0]  # out: [G, O/G, N*OH*OW] -> [N, O, OH, OW]
    out = xp.transpose(xp.reshape(out, (o, n, oh, ow)), (1, 0, 2, 3))
    return xp.ascontiguousarray(out)


def _conv_grad_x(xp, g, weight, x_shape, stride, padding, dilation, groups):
    # dx = col2im(W^T g): window element (i, j) of output (oh, ow) is input row i*dh + oh*sh
    _no_double_backward("conv2d", g)
    n, c, h, w = x_shape
    o, cg, kh, kw = weight.shape
    oh, ow = g.shape[2:]
    weight_t = xp.swapaxes(xp.reshape(weight, (groups, o // groups, cg * kh * kw)), -1, -2)
    dcols = xp.reshape(xp.matmul(weight_t, _grouped_grad(xp, g, groups)), (c, kh, kw, n, oh, ow))
    (ph, pw), (sh, sw), (dh, dw) = padding, stride, dilation
    dx = xp.zeros_like(g, shape=(c, n, h + 2 * ph, w + 2 * pw))  # channels first, as dcols
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
            cols = slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)
            dx[:, :, rows, cols] += dcols[:, i, j]
    return xp.transpose(dx, (1, 0, 2, 3))[:, :, ph : ph + h, pw : pw + w]


def _conv_grad_w(xp, g, x, weight_shape, stride, padding, dilation, groups):
    # dW = g cols^T, with the columns recomputed from x
    _no_double_backward("conv2d", g)
    kernel = weight_shape[2:]
    cols, _ = _im2col(xp, x, kernel, stride, padding, dilation, groups)
    dw = xp.matmul(_grouped_grad(xp, g, groups), xp.swapaxes(cols, -1, -2))
    return xp.reshape(dw, weight_shape)


# fmt: off
CONV2D = defop("conv2d", _conv_forward, double_backward=False,
               x=_conv_grad_x,                                   # col2im(W^T g)
               weight=_conv_grad_w)                              # g im2col(x)^T
# fmt: on


def _tuple2(name: str, value, minimum: int) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, (int, np.integer)) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, (int, np.integer)) for v in pair):
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")
    if any(v < minimum for v in pair):
        raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    return int(pair[0]), int(pair[1])


def _check_fits(name: str, input: Tensor, kernel, padding, dilation) -> None:
    """The padded input [.., H, W] must hold at least one window of the dilated kernel."""
    h, w = (size + 2 * p for size, p in zip(input.shape[-2:], padding))
    span = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    if h < span[0] or w < span[1]:
        raise RuntimeError(
            f"{name}(): the (padded) input is {h}x{w}, smaller than the dilated kernel "
            f"{span[0]}x{span[1]}"
        )


def _same_padding(kernel, dilation) -> tuple[tuple[int, int], tuple[int, int]]:
    """Left/right padding per spatial dim that keeps the size at stride 1 (PyTorch's 'same':
    the extra pixel of an even kernel goes right/bottom)."""
    total = [d * (k - 1) for k, d in zip(kernel, dilation)]
    return tuple((t // 2, t - t // 2) for t in total)  # type: ignore[return-value]


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
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError("conv2d(): input and weight must be Tensors")
    if input.ndim == 3:
        return conv2d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups)[0]
    if input.ndim != 4 or weight.ndim != 4:
        raise RuntimeError(
            f"conv2d(): expected a 3-D or 4-D input [N, C, H, W] and a 4-D weight, got input "
            f"{list(input.shape)} and weight {list(weight.shape)}"
        )
    if input.dtype.kind != "f" or input.dtype != weight.dtype:
        raise RuntimeError(
            f"conv2d(): expected floating point input and weight of one dtype, got "
            f"{input.dtype} and {weight.dtype}"
        )
    stride, dilation = _tuple2("stride", stride, 1), _tuple2("dilation", dilation, 1)
    if not isinstance(groups, int) or groups < 1:
        raise ValueError(f"conv2d(): groups must be a positive int, got {groups!r}")
    o, cg, kh, kw = weight.shape
    c = input.shape[1]
    if c != cg * groups or o % groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(weight.shape)}, expected input"
            f"{list(input.shape)} to have {cg * groups} channels, but got {c} channels instead"
            + (f" (and {o} output channels must be divisible by groups)" if o % groups else "")
        )
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0, 0)
        elif padding == "same":
            if stride != (1, 1):
                raise ValueError("padding='same' is not supported for strided convolutions")
            (top, bottom), (left, right) = _same_padding((kh, kw), dilation)
            if top != bottom or left != right:  # an even kernel: pad unevenly, explicitly
                input = pad(input, (left, right, top, bottom))
                padding = (0, 0)
            else:
                padding = (top, left)
        else:
            raise ValueError(f"padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
    padding = _tuple2("padding", padding, 0)
    _check_fits("conv2d", input, (kh, kw), padding, dilation)
    params = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    out = apply(CONV2D, (input, weight), params)
    if bias is not None:
        if bias.shape != (o,) or bias.dtype != input.dtype:
            raise RuntimeError(
                f"conv2d(): bias must be of shape [{o}] and dtype {input.dtype}, got "
                f"{list(bias.shape)} and {bias.dtype}"
            )
        out = out + bias.reshape(1, o, 1, 1)
    return out


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


def _pool_offsets(kernel, stride, dilation, out_hw):
    """(k, rows, cols) per kernel offset (i, j), k = i*KW + j: the slices of the padded input
    that offset reads for every output position at once."""
    (kh, kw), (sh, sw), (dh, dw), (oh, ow) = kernel, stride, dilation, out_hw
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
            yield i * kw + j, rows, slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)


def _pool_forward(xp, x, *, kernel, stride, padding, dilation):
    lowest = -math.inf if x.dtype.kind == "f" else np.iinfo(x.dtype).min
    padded = _pad_hw(xp, x, padding, lowest)
    out_hw = tuple(
        (size - d * (k - 1) - 1) // s + 1
        for size, k, s, d in zip(padded.shape[2:], kernel, stride, dilation)
    )
    if _tiles(kernel, stride, dilation):
        best, where = _pool_forward_tiled(xp, padded, kernel, out_hw)
        if x.dtype.kind != "f" or not bool(xp.isnan(best).any()):
            return best, where
    return _pool_forward_by_offsets(xp, padded, kernel, stride, dilation, out_hw)


def _tiles(kernel, stride, dilation) -> bool:
    """Whether the windows tile the input (stride = kernel, no dilation: MaxPool2d(k))."""
    return tuple(stride) == tuple(kernel) and tuple(dilation) == (1, 1)


def _pool_forward_by_offsets(xp, padded, kernel, stride, dilation, out_hw):
    # the reference: one pass per kernel offset over output-sized slices; `where` keeps the
    # offset of each window's first maximum (a NaN wins, and a later NaN too, as in PyTorch)
    best = where = None
    for k, rows, cols in _pool_offsets(kernel, stride, dilation, out_hw):
        value = padded[:, :, rows, cols]
        if best is None:
            best = value.copy()
            where = xp.zeros_like(best, dtype=np.int32)
            continue
        better = (value > best) | (value != value)
        xp.copyto(best, value, where=better)
        xp.copyto(where, k, where=better)
    return best, where


def _pool_forward_tiled(xp, padded, kernel, out_hw):
    """_pool_forward_by_offsets for windows that tile the input, without its masked copies
    (cnn_step's 2x2 pools: 7.0 -> 3.2 ms): the maximum over the offsets' slices, then each
    window's offset is the first whose value equals it (offsets assigned last to first).
    Without NaNs only (a NaN equals nothing; the caller then takes the reference).
    tests/nn/test_conv.py pins both equal."""
    (kh, kw), (oh, ow) = kernel, out_hw
    values = [
        padded[:, :, i : i + kh * oh : kh, j : j + kw * ow : kw]
        for i in range(kh)
        for j in range(kw)
    ]
    best = values[0].copy()
    for value in values[1:]:
        xp.maximum(best, value, out=best)
    where = xp.full(best.shape, len(values) - 1, dtype=np.int32)
    for k in range(len(values) - 2, -1, -1):
        where[values[k] == best] = k
    return best, where


def _pool_positions(xp, where, kernel, stride, padding, dilation):
    """Rows and columns in the unpadded input of each window's chosen element."""
    oh, ow = where.shape[2:]
    kw = kernel[1]
    (sh, sw), (dh, dw), (ph, pw) = stride, dilation, padding
    i, j = where // kw, where % kw
    rows = xp.reshape(xp.arange(oh), (oh, 1)) * sh + i * dh - ph
    cols = xp.reshape(xp.arange(ow), (1, ow)) * sw + j * dw - pw
    return rows, cols


def _pool_grad(xp, g, x_shape, where, kernel, stride, padding, dilation):
    _no_double_backward("max_pool2d", g)
    if _tiles(kernel, stride, dilation):
        return _pool_grad_tiled(xp, g, x_shape, where, kernel, padding)
    return _pool_grad_by_offsets(xp, g, x_shape, where, kernel, stride, padding, dilation)


def _pool_grad_by_offsets(xp, g, x_shape, where, kernel, stride, padding, dilation):
    # the reference: g goes to each window's maximum, offset by offset, where `where` names it;
    # overlapping windows add up because each offset adds into its own (duplicate-free) slice
    n, c, h, w = x_shape
    ph, pw = padding
    dx = xp.zeros_like(g, shape=(n, c, h + 2 * ph, w + 2 * pw))
    for k, rows, cols in _pool_offsets(kernel, stride, dilation, where.shape[2:]):
        dx[:, :, rows, cols] += xp.where(where == k, g, 0)
    return dx[:, :, ph : ph + h, pw : pw + w]


def _pool_grad_tiled(xp, g, x_shape, where, kernel, padding):
    """_pool_grad_by_offsets for windows that tile the input (see _pool_forward_tiled): the
    offsets' slices do not overlap, so each is written once instead of added into zeros."""
    n, c, h, w = x_shape
    (kh, kw), (ph, pw) = kernel, padding
    oh, ow = where.shape[2:]
    padded_hw = (h + 2 * ph, w + 2 * pw)
    if (oh * kh, ow * kw) == padded_hw:  # every element is in some window
        dx = xp.empty_like(g, shape=(n, c, *padded_hw))
    else:
        dx = xp.zeros_like(g, shape=(n, c, *padded_hw))
    for i in range(kh):
        for j in range(kw):
            rows, cols = slice(i, i + kh * oh, kh), slice(j, j + kw * ow, kw)
            dx[:, :, rows, cols] = xp.where(where == i * kw + j, g, 0)
    return dx[:, :, ph : ph + h, pw : pw + w]


# fmt: off
MAX_POOL2D = defop("max_pool2d", _pool_forward, residuals=("where",), double_backward=False,
                   x=_pool_grad)                              # g at each window's argmax
# fmt: on


def _pool_args(name, input, kernel_size, stride, padding, dilation, ceil_mode):
    """Checked (kernel, stride, padding, dilation) pairs, and the extra (bottom, right) padding
    that ceil_mode's last, partial windows need (0 in floor mode)."""
    if not isinstance(input, Tensor) or input.ndim not in (3, 4):
        raise RuntimeError(
            f"{name}(): expected a 3-D or 4-D input [N, C, H, W], got "
            f"{list(input.shape) if isinstance(input, Tensor) else type(input).__name__}"
        )
    kernel = _tuple2("kernel_size", kernel_size, 1)
    stride = kernel if stride is None or stride == [] else _tuple2("stride", stride, 1)
    padding, dilation = _tuple2("padding", padding, 0), _tuple2("dilation", dilation, 1)
    if any(2 * p > k for p, k in zip(padding, kernel)):
        raise RuntimeError(
            f"{name}(): pad should be at most half of effective kernel size, but got pad="
            f"{padding} and kernel_size={kernel}"
        )
    _check_fits(name, input, kernel, padding, dilation)
    extra = tuple(
        _ceil_overhang(n, k, s, p, d) if ceil_mode else 0
        for n, k, s, p, d in zip(input.shape[-2:], kernel, stride, padding, dilation)
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
    kernel, stride, padding, dilation, extra = _pool_args(
        "max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode
    )
    if input.ndim == 3:
        out = max_pool2d(input.unsqueeze(0), kernel, stride, padding, dilation, ceil_mode, True)
        return (out[0][0], out[1][0]) if return_indices else out[0][0]
    width = input.shape[-1]
    if extra != (0, 0):  # ceil_mode: the last windows overhang; what they miss counts as -inf
        lowest = -math.inf if input.dtype.kind == "f" else int(np.iinfo(input.dtype).min)
        input = pad(input, (0, extra[1], 0, extra[0]), value=lowest)
    params = {"kernel": kernel, "stride": stride, "padding": padding, "dilation": dilation}
    out = apply(MAX_POOL2D, (input,), params)
    if not return_indices:
        return out
    # the node keeps the argmax only when recording: find it again (only this path pays)
    xp = input._backend_xp()
    _, where = _pool_forward(xp, input._data, **params)
    rows, cols = _pool_positions(xp, where, kernel, stride, padding, dilation)
    return out, Tensor._make((rows * width + cols).astype(np.int64))


def avg_pool2d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """The mean of each window of input [N, C, H, W] (or [C, H, W]): a depthwise conv2d with a
    constant kernel. Padding counts as zeros in the mean unless `count_include_pad=False`."""
    kernel, stride, padding, _, extra = _pool_args(
        "avg_pool2d", input, kernel_size, stride, padding, 1, ceil_mode
    )
    if input.ndim == 3:
        return avg_pool2d(input.unsqueeze(0), kernel, stride, padding, ceil_mode,
                          count_include_pad, divisor_override)[0]  # fmt: skip
    c = input.shape[1]
    xp = input._backend_xp()
    ones = Tensor._make(xp.ones_like(input._data, shape=(c, 1, *kernel)))
    (ph, pw), (eh, ew) = padding, extra
    padded = pad(input, (pw, pw + ew, ph, ph + eh))  # ceil_mode's overhang: zeros, not counted
    total = conv2d(padded, ones, None, stride, 0, 1, c)
    if divisor_override is not None:
        return total / divisor_override
    if extra == (0, 0) and (count_include_pad or padding == (0, 0)):
        return total / (kernel[0] * kernel[1])
    # each window's divisor: its elements inside the input (and, with count_include_pad, its
    # explicit padding), never the overhang
    h, w = input.shape[2:]
    region = (1, 1, h + 2 * ph, w + 2 * pw) if count_include_pad else (1, 1, h, w)
    inside = Tensor._make(xp.ones_like(input._data, shape=region))
    if count_include_pad:
        inside = pad(inside, (0, ew, 0, eh))
    else:
        inside = pad(inside, (pw, pw + ew, ph, ph + eh))
    counts = conv2d(inside, ones[:1], None, stride, 0)
    return total / counts


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
        self.stride, self.padding, self.dilation = stride, padding, dilation
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
        fn = conv2d if self._dims == 2 else conv1d
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
        if self.padding not in (0, (0,) * self._dims):
            text += f", padding={self.padding}"
        if self.dilation not in (1, (1,) * self._dims):
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


class MaxPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):  # fmt: skip
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.dilation, self.return_indices, self.ceil_mode = dilation, return_indices, ceil_mode

    def forward(self, input: Tensor):
        return max_pool2d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                          self.ceil_mode, self.return_indices)  # fmt: skip

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size}, "
            f"padding={self.padding}, dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


class AvgPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):  # fmt: skip
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad, self.divisor_override)  # fmt: skip

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size}, "
            f"padding={self.padding}"
        )


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

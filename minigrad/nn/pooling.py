"""The pools beyond conv.py's max_pool2d/avg_pool2d: 1-D max and average pooling (on the 2-D
ops over a height of 1), adaptive max pooling, power-average (LP) pooling, max unpooling, and
their modules.

Adaptive max pooling gathers each output's window (windows differ in size: they are padded
with a repeat of their last element) and takes the first maximum, so its gradient goes to that
element as in PyTorch. Max unpooling puts each value back at its recorded index of a zero
tensor; its gradient gathers from the same indices.
"""

from __future__ import annotations

from minigrad.autograd import apply, defop
from minigrad.nn.conv import avg_pool2d, max_pool2d
from minigrad.nn.module import Module
from minigrad.nn.upsampling import _area_taps
from minigrad.ops import elementwise as _ew
from minigrad.ops import indexing as _ix
from minigrad.ops import shape as _shape
from minigrad.tensor import Tensor

__all__ = [
    "max_pool1d", "avg_pool1d", "adaptive_max_pool1d", "adaptive_max_pool2d",
    "adaptive_max_pool3d", "lp_pool1d",
    "lp_pool2d", "max_unpool1d", "max_unpool2d", "MaxPool1d", "AvgPool1d", "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "LPPool1d", "LPPool2d", "MaxUnpool1d", "MaxUnpool2d",
]  # fmt: skip


def _one(name: str, value) -> int:
    if isinstance(value, (list, tuple)):
        if len(value) != 1:
            raise TypeError(f"{name} must be an int or a 1-tuple, got {value!r}")
        value = value[0]
    return int(value)


def _check_1d(name: str, input: Tensor) -> None:
    if not isinstance(input, Tensor) or input.ndim not in (2, 3):
        raise RuntimeError(
            f"{name}(): expected a 2-D or 3-D input [N, C, L], got "
            f"{list(input.shape) if isinstance(input, Tensor) else type(input).__name__}"
        )


def max_pool1d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):
    """The maximum of each window of input [N, C, L] (or [C, L])."""
    _check_1d("max_pool1d", input)
    stride = _one("stride", kernel_size if stride is None or stride == [] else stride)
    out = max_pool2d(
        input.unsqueeze(-2),
        (1, _one("kernel_size", kernel_size)),
        (1, stride),
        (0, _one("padding", padding)),
        (1, _one("dilation", dilation)),
        ceil_mode,
        return_indices,
    )
    if return_indices:
        return out[0].squeeze(-2), out[1].squeeze(-2)
    return out.squeeze(-2)


def avg_pool1d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """The mean of each window of input [N, C, L] (or [C, L])."""
    _check_1d("avg_pool1d", input)
    stride = _one("stride", kernel_size if stride is None or stride == [] else stride)
    out = avg_pool2d(
        input.unsqueeze(-2),
        (1, _one("kernel_size", kernel_size)),
        (1, stride),
        (0, _one("padding", padding)),
        ceil_mode,
        count_include_pad,
    )
    return out.squeeze(-2)


# --- adaptive max pooling ---------------------------------------------------------------------


def _adaptive_max(name: str, k: int, input: Tensor, output_size, return_indices: bool):
    if not isinstance(input, Tensor) or input.ndim not in (k + 1, k + 2):
        raise RuntimeError(f"{name}(): Expected {k + 1}D or {k + 2}D tensor, but got "
                           f"{list(getattr(input, 'shape', ()))}")  # fmt: skip
    if input.ndim == k + 1:
        out = _adaptive_max(name, k, input.unsqueeze(0), output_size, True)
        return (out[0][0], out[1][0]) if return_indices else out[0][0]
    sizes = list(output_size) if isinstance(output_size, (list, tuple)) else [output_size] * k
    if len(sizes) != k:
        raise RuntimeError(f"{name}(): output_size must have {k} elements, got {output_size}")
    spatial = input.shape[2:]
    if any(n == 0 for n in spatial):
        raise RuntimeError(
            f"{name}(): Expected input to have non-zero size for non-batch dimensions, but "
            f"input has sizes {list(input.shape)}"
        )
    sizes = [n if s is None else int(s) for s, n in zip(sizes, spatial)]
    taps = [_area_taps(n, m) for n, m in zip(spatial, sizes)]
    xp = input._backend_xp()
    windows = input
    for d, tap in enumerate(taps):  # [.., n, ..] -> [.., m, width, ..]
        axis = 2 + 2 * d
        index = Tensor._make(xp.asarray(tap.index.ravel()))
        picked = _ix.index_select(windows, axis, index)
        shape = list(picked.shape)
        windows = _shape.reshape(picked, shape[:axis] + list(tap.index.shape) + shape[axis + 1 :])
    # [N, C, m1, w1, m2, w2] -> [N, C, m1, m2, w1 * w2]: the window flattened in row-major order
    order = [0, 1] + [2 + 2 * d for d in range(k)] + [3 + 2 * d for d in range(k)]
    windows = _shape.permute(windows, tuple(order))
    flat = _shape.reshape(windows, tuple(windows.shape[: 2 + k]) + (-1,))
    values, best = flat.max(-1)  # the first maximum (NaN wins): its gradient goes there
    if not return_indices:
        return values
    # the chosen element's position in the flattened input spatial dims
    b = best._data
    position = 0
    widths = [tap.index.shape[1] for tap in taps]
    for d, tap in enumerate(taps):
        stride_after = 1
        for w in widths[d + 1 :]:
            stride_after *= w
        within = (b // stride_after) % widths[d]
        grid = [1] * k
        grid[d] = sizes[d]
        rows = xp.asarray(tap.index)[xp.reshape(xp.arange(sizes[d]), grid).astype(b.dtype)]
        coordinate = xp.take_along_axis(
            xp.broadcast_to(rows, b.shape[:2] + tuple(sizes) + (widths[d],)),
            within[..., None],
            axis=-1,
        )[..., 0]
        span = 1
        for n in spatial[d + 1 :]:
            span *= n
        position = position + coordinate * span
    return values, Tensor._make(xp.asarray(position, dtype="int64"))


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool3d(input: Tensor, output_size, return_indices: bool = False):
    return _adaptive_max("adaptive_max_pool3d", 3, input, output_size, return_indices)


# --- power-average pooling --------------------------------------------------------------------


def _lp(pooled: Tensor, area: int, norm_type: float) -> Tensor:
    # (sum of x^p over the window)^(1/p), the sum as the window's mean times its size
    magnitude = _ew.mul(_ew.sign(pooled), _ew.relu(_ew.abs(pooled)))
    return _ew.pow(_ew.mul(magnitude, area), 1.0 / norm_type)


def lp_pool1d(input: Tensor, norm_type, kernel_size, stride=None, ceil_mode: bool = False):
    """(sum over each window of x^p)^(1/p) along the last dim."""
    k = _one("kernel_size", kernel_size)
    pooled = avg_pool1d(_ew.pow(input, norm_type), k, stride, 0, ceil_mode)
    return _lp(pooled, k, norm_type)


def lp_pool2d(input: Tensor, norm_type, kernel_size, stride=None, ceil_mode: bool = False):
    """(sum over each window of x^p)^(1/p) over the last two dims."""
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    pooled = avg_pool2d(_ew.pow(input, norm_type), (kh, kw), stride, 0, ceil_mode)
    return _lp(pooled, kh * kw, norm_type)


# --- max unpooling --------------------------------------------------------------------------------


def _unpool_forward(xp, x, *, indices, size):
    n, c = x.shape[:2]
    out = xp.zeros((n, c, size), dtype=x.dtype)
    rows = xp.reshape(xp.arange(n), (n, 1, 1))
    chans = xp.reshape(xp.arange(c), (1, c, 1))
    out[rows, chans, xp.reshape(indices, (n, c, -1))] = xp.reshape(x, (n, c, -1))
    return out


def _unpool_grad(xp, g, x_shape, indices):
    n, c = x_shape[:2]
    rows = xp.reshape(xp.arange(n), (n, 1, 1))
    chans = xp.reshape(xp.arange(c), (1, c, 1))
    return xp.reshape(g[rows, chans, xp.reshape(indices, (n, c, -1))], x_shape)


# fmt: off
MAX_UNPOOL = defop("max_unpool", _unpool_forward, double_backward=False,
                   x=_unpool_grad)                        # g read back at each value's index
# fmt: on


def _max_unpool(name, k, input, indices, kernel_size, stride, padding, output_size):
    if input.ndim not in (k + 1, k + 2):
        raise RuntimeError(f"{name}(): expected a {k + 1}D or {k + 2}D input, got "
                           f"{list(input.shape)}")  # fmt: skip
    if tuple(indices.shape) != tuple(input.shape) or indices.dtype.kind not in "iu":
        raise RuntimeError(
            f"{name}(): Expected shape of indices to be same as that of the input tensor "
            f"({list(input.shape)}) and integer, got {list(indices.shape)} {indices.dtype}"
        )
    unbatched = input.ndim == k + 1
    if unbatched:
        input, indices = input.unsqueeze(0), indices.unsqueeze(0)
    per_dim = lambda v: [v] * k if isinstance(v, int) else list(v)
    kernel = per_dim(kernel_size)
    stride = kernel if stride is None else per_dim(stride)
    padding = per_dim(padding)
    spatial = input.shape[2:]
    if output_size is None:
        out = [(n - 1) * s - 2 * p + kk for n, s, p, kk in zip(spatial, stride, padding, kernel)]
    else:
        out = list(output_size)[-k:]
        if len(out) != k:
            raise ValueError(f"{name}(): output_size must have {k} or {k + 2} elements")
    size = 1
    for m in out:
        size *= m
    xp = input._backend_xp()
    idx = indices._data
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= size):
        raise RuntimeError(
            f"{name}(): Found an invalid max index: {int(idx.max())} (output volumes are of "
            f"size {'x'.join(str(m) for m in out)})"
        )
    flat = apply(MAX_UNPOOL, (input,), {"indices": xp.asarray(idx), "size": size})
    result = _shape.reshape(flat, tuple(input.shape[:2]) + tuple(out))
    return result[0] if unbatched else result


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The inverse of max_pool1d(return_indices=True): each value back at its index, else 0."""
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding,
                       output_size)  # fmt: skip


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The inverse of max_pool2d(return_indices=True): each value back at its index, else 0."""
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding,
                       output_size)  # fmt: skip


# --- modules ---------------------------------------------------------------------------------


class MaxPool1d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):  # fmt: skip
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding, self.dilation = padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, input: Tensor):
        return max_pool1d(input, self.kernel_size, self.stride, self.padding, self.dilation,
                          self.ceil_mode, self.return_indices)  # fmt: skip

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )


def _single(v) -> tuple:
    return tuple(v) if isinstance(v, (list, tuple)) else (v,)


class AvgPool1d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):  # fmt: skip
        super().__init__()
        self.kernel_size = _single(kernel_size)
        self.stride = _single(stride if stride is not None else kernel_size)
        self.padding = _single(padding)
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        return avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad)  # fmt: skip

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AdaptiveMaxPoolNd(Module):
    _fn = staticmethod(adaptive_max_pool2d)

    def __init__(self, output_size, return_indices: bool = False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, input: Tensor):
        return type(self)._fn(input, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    _fn = staticmethod(adaptive_max_pool1d)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    _fn = staticmethod(adaptive_max_pool2d)


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    _fn = staticmethod(adaptive_max_pool3d)


class _LPPoolNd(Module):
    _fn = staticmethod(lp_pool2d)

    def __init__(self, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False):
        super().__init__()
        self.norm_type, self.kernel_size, self.stride = norm_type, kernel_size, stride
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor) -> Tensor:
        return type(self)._fn(input, self.norm_type, self.kernel_size, self.stride,
                              self.ceil_mode)  # fmt: skip

    def extra_repr(self) -> str:
        return (
            f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"ceil_mode={self.ceil_mode}"
        )


class LPPool1d(_LPPoolNd):
    _fn = staticmethod(lp_pool1d)


class LPPool2d(_LPPoolNd):
    _fn = staticmethod(lp_pool2d)


class _MaxUnpoolNd(Module):
    _dims = 2

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        per = lambda v: (v,) * self._dims if isinstance(v, int) else tuple(v)
        self.kernel_size = per(kernel_size)
        self.stride = per(stride if stride is not None else kernel_size)
        self.padding = per(padding)

    def forward(self, input: Tensor, indices: Tensor, output_size=None) -> Tensor:
        fn = max_unpool2d if self._dims == 2 else max_unpool1d
        return fn(input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    _dims = 1


class MaxUnpool2d(_MaxUnpoolNd):
    _dims = 2

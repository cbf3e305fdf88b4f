"""Padding, pixel shuffling and channel dropout as PyTorch's modules: `ZeroPad1d/2d/3d`,
`ConstantPad*`, `ReflectionPad*`, `ReplicationPad*`, `CircularPad*` (all over `F.pad`),
`PixelShuffle`/`PixelUnshuffle` (a reshape and a permute: their gradient is the inverse one),
and `Dropout1d/2d/3d` (whole channels zeroed), with the F functions they use.
"""

from __future__ import annotations

import warnings

from minigrad import dtypes
from minigrad.nn.module import Module
from minigrad.ops import elementwise as _ew
from minigrad.ops import shape as _shape
from minigrad.tensor import Tensor

__all__ = [
    "pixel_shuffle", "pixel_unshuffle", "dropout1d", "dropout2d", "dropout3d",
    "ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d",
    "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d",
    "ReplicationPad2d", "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d",
    "PixelShuffle", "PixelUnshuffle", "Dropout1d", "Dropout2d", "Dropout3d",
]  # fmt: skip


# --- padding modules ---------------------------------------------------------------------------


class _Pad(Module):
    """Pads the last `dims` dims; `padding` is an int (every side) or (left, right, top, ...)."""

    dims = 1
    mode = "constant"

    def __init__(self, padding, value: float = 0.0):
        super().__init__()
        n = 2 * self.dims
        if isinstance(padding, int):
            padding = (padding,) * n
        padding = tuple(int(p) for p in padding)
        if len(padding) != n:
            raise ValueError(
                f"{type(self).__name__}: padding must be an int or a tuple of {n} ints, got "
                f"{padding}"
            )
        self.padding = padding
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        if self.mode != "constant" and input.ndim not in (self.dims + 1, self.dims + 2):
            raise NotImplementedError(
                f"Padding size {2 * self.dims} is not supported for {input.ndim}D input tensor "
                f"({type(self).__name__} takes {self.dims + 1}D or {self.dims + 2}D input)"
            )
        value = self.value if self.mode == "constant" else None
        return _shape.pad(input, self.padding, self.mode, value)

    def extra_repr(self) -> str:
        return str(self.padding)


class _ConstantPad(_Pad):
    def __init__(self, padding, value: float):
        super().__init__(padding, value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class _ZeroPad(_Pad):
    def __init__(self, padding):
        super().__init__(padding, 0.0)


def _pad_class(base, name: str, dims: int, mode: str):
    return type(name, (base,), {"dims": dims, "mode": mode, "__module__": __name__})


ZeroPad1d = _pad_class(_ZeroPad, "ZeroPad1d", 1, "constant")
ZeroPad2d = _pad_class(_ZeroPad, "ZeroPad2d", 2, "constant")
ZeroPad3d = _pad_class(_ZeroPad, "ZeroPad3d", 3, "constant")
ConstantPad1d = _pad_class(_ConstantPad, "ConstantPad1d", 1, "constant")
ConstantPad2d = _pad_class(_ConstantPad, "ConstantPad2d", 2, "constant")
ConstantPad3d = _pad_class(_ConstantPad, "ConstantPad3d", 3, "constant")
ReflectionPad1d = _pad_class(_ZeroPad, "ReflectionPad1d", 1, "reflect")
ReflectionPad2d = _pad_class(_ZeroPad, "ReflectionPad2d", 2, "reflect")
ReflectionPad3d = _pad_class(_ZeroPad, "ReflectionPad3d", 3, "reflect")
ReplicationPad1d = _pad_class(_ZeroPad, "ReplicationPad1d", 1, "replicate")
ReplicationPad2d = _pad_class(_ZeroPad, "ReplicationPad2d", 2, "replicate")
ReplicationPad3d = _pad_class(_ZeroPad, "ReplicationPad3d", 3, "replicate")
CircularPad1d = _pad_class(_ZeroPad, "CircularPad1d", 1, "circular")
CircularPad2d = _pad_class(_ZeroPad, "CircularPad2d", 2, "circular")
CircularPad3d = _pad_class(_ZeroPad, "CircularPad3d", 3, "circular")


# --- pixel shuffle -------------------------------------------------------------------------------


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """[*, C r², H, W] -> [*, C, H r, W r]: each group of r² channels becomes an r x r block."""
    r = int(upscale_factor)
    if input.ndim < 3:
        raise RuntimeError(
            f"pixel_shuffle expects input to have at least 3 dimensions, but got input with "
            f"{input.ndim} dimension(s)"
        )
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(
            f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the "
            f"square of upscale_factor, but input.size(-3)={c} is not divisible by {r * r}"
        )
    n = len(lead)
    x = _shape.reshape(input, (*lead, c // (r * r), r, r, h, w))
    x = _shape.permute(x, (*range(n), n, n + 3, n + 1, n + 4, n + 2))  # C, H, r, W, r
    return _shape.reshape(x, (*lead, c // (r * r), h * r, w * r))


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """[*, C, H r, W r] -> [*, C r², H, W], the inverse of pixel_shuffle."""
    r = int(downscale_factor)
    if input.ndim < 3:
        raise RuntimeError(
            f"pixel_unshuffle expects input to have at least 3 dimensions, but got input with "
            f"{input.ndim} dimension(s)"
        )
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    *lead, c, h, w = input.shape
    for name, size, dim in (("height", h, -2), ("width", w, -1)):
        if size % r:
            raise RuntimeError(
                f"pixel_unshuffle expects {name} to be divisible by downscale_factor, but "
                f"input.size({dim})={size} is not divisible by {r}"
            )
    n = len(lead)
    x = _shape.reshape(input, (*lead, c, h // r, r, w // r, r))
    x = _shape.permute(x, (*range(n), n, n + 2, n + 4, n + 1, n + 3))  # C, r, r, H, W
    return _shape.reshape(x, (*lead, c * r * r, h // r, w // r))


class PixelShuffle(Module):
    def __init__(self, upscale_factor: int):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    def __init__(self, downscale_factor: int):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input: Tensor) -> Tensor:
        return pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


# --- channel dropout -----------------------------------------------------------------------------


def _feature_dropout(input: Tensor, p: float, training: bool, inplace: bool, batched: bool):
    """Zero whole channels (dim 1, or dim 0 without a batch dim) with probability p and scale
    the rest by 1/(1-p): one draw per channel, broadcast over its positions."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    keep_dims = 2 if batched else 1
    mask_shape = tuple(input.shape[:keep_dims]) + (1,) * (input.ndim - keep_dims)
    xp = input._backend_xp()
    dt = input._data.dtype
    if p == 1.0:
        mask = xp.zeros(mask_shape, dtype=dt)
    else:
        sample_dt = dt if dt in (dtypes.float32, dtypes.float64) else dtypes.float32
        keep = xp.rng().random(mask_shape, dtype=sample_dt) >= p
        mask = keep.astype(dt) * dt.type(1.0 / (1.0 - p))
    result = _ew.mul(input, Tensor._make(mask))
    return input._inplace(result) if inplace else result


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Channel dropout for [N, C, L] or [C, L] input."""
    if input.ndim not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note that "
            f"dropout1d exists to provide channel-wise dropout on inputs with 1 spatial "
            f"dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D "
            f"inputs)."
        )
    return _feature_dropout(input, p, training, inplace, batched=input.ndim == 3)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Channel dropout for [N, C, H, W] or [C, H, W] input (torch treats 3D input as [N, C, L],
    with a warning, and so does this)."""
    if input.ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    if input.ndim not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is deprecated and "
            f"will result in an error in a future release. To retain the behavior and silence "
            f"this warning, please use dropout instead.",
            stacklevel=2,
        )
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2,
        )
    return _feature_dropout(input, p, training, inplace, batched=True)


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False):
    """Channel dropout for [N, C, D, H, W] or [C, D, H, W] input."""
    if input.ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    if input.ndim not in (4, 5):
        warnings.warn(
            f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is deprecated and "
            f"will result in an error in a future release. To retain the behavior and silence "
            f"this warning, please use dropout instead.",
            stacklevel=2,
        )
    return _feature_dropout(input, p, training, inplace, batched=input.ndim != 4)


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(_DropoutNd):
    def forward(self, input: Tensor) -> Tensor:
        return dropout1d(input, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    def forward(self, input: Tensor) -> Tensor:
        return dropout2d(input, self.p, self.training, self.inplace)


class Dropout3d(_DropoutNd):
    def forward(self, input: Tensor) -> Tensor:
        return dropout3d(input, self.p, self.training, self.inplace)

"""Resampling along spatial dims: `F.interpolate` (nearest, nearest-exact, linear, bilinear,
bicubic, trilinear, area), `F.adaptive_avg_pool1d/2d/3d`, and the modules `Upsample`,
`UpsamplingNearest2d`, `UpsamplingBilinear2d`, `AdaptiveAvgPool1d/2d/3d`.

Every one of these is separable: along each spatial dim, output position i is a weighted sum of
a few input positions (its "taps"): one for nearest, two for linear, four for cubic, a window for
area/adaptive pooling. So one fused op, `resample`, does them all. Per dim it is the linear map
y = A x with A [out, in] sparse (taps and weights computed once, on the host, by PyTorch's
rules), so:

    forward:   y[i] = sum_t w[i, t] x[idx[i, t]]     (gathers: NaN and inf stay where they are)
    backward:  dx = A^T g                             (A^T's own taps: the same gather pass)
"""

from __future__ import annotations

import math

import numpy as np

from minigrad.autograd import apply, defop
from minigrad.nn.module import Module
from minigrad.tensor import Tensor

__all__ = [
    "interpolate", "upsample", "upsample_nearest", "upsample_bilinear", "adaptive_avg_pool1d",
    "adaptive_avg_pool2d", "adaptive_avg_pool3d", "Upsample", "UpsamplingNearest2d",
    "UpsamplingBilinear2d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d",
]  # fmt: skip

CUBIC_A = -0.75  # PyTorch's (and OpenCV's) bicubic coefficient


# --- the taps of one dim, by PyTorch's rules ---------------------------------------------


class _Taps:
    """Along one dim: out[i] = sum_t weight[i, t] * in[index[i, t]]; `n` the input size."""

    __slots__ = ("index", "weight", "n", "_adjoint", "_dense", "_blocks")

    def __init__(self, index: np.ndarray, weight: np.ndarray, n: int):
        self.index, self.weight, self.n = index, weight, n
        self._adjoint = None
        self._dense: dict = {}
        self._blocks: tuple | None = None

    def blocks(self) -> tuple[int, int]:
        """(r, 0) when the map repeats each input r times (out[i] = in[i // r]: integer nearest
        upsampling), (0, r) when it sums blocks of r (in[j] = sum of out[j r .. j r + r - 1]:
        its adjoint), else (0, 0). Those two run as a broadcast and a reshaped sum."""
        if self._blocks is None:
            self._blocks = (0, 0)
            m, t = self.index.shape
            if np.all(self.weight == 1) and self.n and m % self.n == 0 and t == 1:
                r = m // self.n
                if np.array_equal(self.index[:, 0], np.arange(m) // r):
                    self._blocks = (r, 0)
            elif np.all(self.weight == 1) and self.n == m * t:
                if np.array_equal(self.index, np.arange(self.n).reshape(m, t)):
                    self._blocks = (0, t)
        return self._blocks

    def dense(self, xp, dtype):
        """The map as a dense [out, in] matrix on xp's device (for the GEMM path)."""
        key = (id(xp), np.dtype(dtype).str)
        if key not in self._dense:
            a = np.zeros((self.index.shape[0], self.n))
            rows = np.repeat(np.arange(self.index.shape[0]), self.index.shape[1])
            np.add.at(a, (rows, self.index.ravel()), self.weight.ravel())
            self._dense[key] = xp.asarray(a.astype(dtype))
        return self._dense[key]

    def adjoint(self) -> _Taps:
        """The transposed map (A^T: in[j] = sum of weight * out[i] over the taps that read j),
        itself as taps, so backward is the same gather-and-weight pass as forward."""
        if self._adjoint is None:
            m, t = self.index.shape
            rows = np.repeat(np.arange(m), t)
            cols = self.index.ravel()
            pairs, where = np.unique(cols * m + rows, return_inverse=True)  # merge repeats
            weights = np.bincount(where, weights=self.weight.ravel(), minlength=len(pairs))
            cols, rows = pairs // m, pairs % m
            counts = np.bincount(cols, minlength=self.n)
            width = max(int(counts.max()) if self.n else 1, 1)
            starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
            slot = np.arange(len(pairs)) - starts[cols]
            index = np.zeros((self.n, width), dtype=np.int64)
            weight = np.zeros((self.n, width))
            index[:] = rows[np.minimum(starts, len(rows) - 1)][:, None]  # pads read a real tap
            index[cols, slot], weight[cols, slot] = rows, weights
            self._adjoint = _Taps(index, weight, m)
        return self._adjoint


def _source(dst: np.ndarray, scale: float, align_corners: bool, cubic: bool, dtype) -> np.ndarray:
    """The input coordinate each output position samples (PyTorch's area_pixel_compute_source_
    index), computed in the input's precision as PyTorch does."""
    if align_corners:
        return dst * dtype(scale)
    src = dtype(scale) * (dst + dtype(0.5)) - dtype(0.5)
    return src if cubic else np.maximum(src, dtype(0))


def _scale(n: int, m: int, align_corners: bool, scale_factor: float | None) -> float:
    if align_corners:
        return (n - 1) / (m - 1) if m > 1 else 0.0
    return 1.0 / scale_factor if scale_factor is not None and scale_factor > 0 else n / m


def _nearest_taps(n, m, scale_factor, exact: bool) -> _Taps:
    dt = np.float32  # PyTorch computes nearest indices in float
    scale = dt(1.0 / scale_factor if scale_factor else n / m)
    dst = np.arange(m, dtype=dt)
    src = np.floor((dst + dt(0.5)) * scale if exact else dst * scale).astype(np.int64)
    return _Taps(np.minimum(src, n - 1)[:, None], np.ones((m, 1)), n)


def _linear_taps(n, m, align_corners, scale_factor, dtype) -> _Taps:
    scale = _scale(n, m, align_corners, scale_factor)
    src = _source(np.arange(m, dtype=dtype), scale, align_corners, False, dtype)
    i0 = np.minimum(np.floor(src).astype(np.int64), n - 1)
    i1 = np.minimum(i0 + 1, n - 1)
    lam = (src - i0).astype(np.float64)
    return _Taps(np.stack([i0, i1], 1), np.stack([1 - lam, lam], 1), n)


def _cubic_taps(n, m, align_corners, scale_factor, dtype) -> _Taps:
    scale = _scale(n, m, align_corners, scale_factor)
    src = _source(np.arange(m, dtype=dtype), scale, align_corners, True, dtype)
    i = np.floor(src).astype(np.int64)
    t = (src - i).astype(np.float64)
    a = CUBIC_A

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    weight = np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], 1)
    index = np.clip(i[:, None] + np.arange(-1, 3), 0, n - 1)  # edges repeat (clamped reads)
    return _Taps(index, weight, n)


def _area_taps(n, m) -> _Taps:
    """Adaptive average pooling: output i averages input [floor(i n/m), ceil((i+1) n/m))."""
    start = (np.arange(m) * n) // m
    end = -((-(np.arange(m) + 1) * n) // m)
    width = int((end - start).max()) if m else 1
    offsets = np.arange(width)
    index = np.minimum(start[:, None] + offsets, end[:, None] - 1)  # pad with the last in window
    weight = np.where(offsets < (end - start)[:, None], 1.0 / (end - start)[:, None], 0.0)
    return _Taps(index, weight, n)


# --- the op ---------------------------------------------------------------------------------------


def _along(xp, x, tap: _Taps, axis: int):
    """One dim's map, as a GEMM with the dense [out, in] matrix: BLAS makes it several times
    faster than the gathers. A product would spread a NaN or inf over its whole row (0 * inf is
    NaN), so non-finite arrays take the gathers, which `_along_gathers` also pins in tests."""
    repeat, block = tap.blocks()
    if (repeat or block) and x.size:
        return _repeat_or_sum(xp, x, repeat, block, axis)
    if x.dtype.kind != "f" or x.size == 0 or not bool(xp.isfinite(x).all()):
        return _along_gathers(xp, x, tap, axis)
    a = tap.dense(xp, x.dtype)  # [m, n]
    n, m = x.shape[axis], a.shape[0]
    before = math.prod(x.shape[:axis])
    after = math.prod(x.shape[axis + 1 :])
    x = xp.ascontiguousarray(x)
    if after == 1:
        out = xp.matmul(xp.reshape(x, (before, n)), a.T)
    else:
        out = xp.matmul(a, xp.reshape(x, (before, n, after)))
    return xp.reshape(out, x.shape[:axis] + (m,) + x.shape[axis + 1 :])


def _repeat_or_sum(xp, x, repeat: int, block: int, axis: int):
    """Along `axis`: each element `repeat` times, or the sums of blocks of `block` elements:
    the same maps as the taps' gathers, as `repeat` strided copies or `block` strided adds
    (NumPy's reductions over a short trailing axis, and broadcast copies into one, are many
    times slower)."""

    def every(k: int, r: int) -> tuple:  # positions k, k + r, k + 2r, .. along `axis`
        return (slice(None),) * axis + (slice(k, None, r),)

    if repeat:
        shape = x.shape[:axis] + (x.shape[axis] * repeat,) + x.shape[axis + 1 :]
        out = xp.empty_like(x, shape=shape)
        for k in range(repeat):
            out[every(k, repeat)] = x
        return out
    total = x[every(0, block)] + x[every(1, block)] if block > 1 else x.copy()
    for k in range(2, block):
        total += x[every(k, block)]
    return total


def _along_gathers(xp, x, tap: _Taps, axis: int):
    """One dim's map: out[.., i, ..] = sum_t weight[i, t] x[.., index[i, t], ..]."""
    shape = [1] * x.ndim
    shape[axis] = tap.index.shape[0]
    out = None
    for t in range(tap.index.shape[1]):
        picked = xp.take(x, xp.asarray(tap.index[:, t]), axis=axis)
        if tap.index.shape[1] > 1 or not np.all(tap.weight == 1):
            picked = picked * xp.reshape(xp.asarray(tap.weight[:, t].astype(x.dtype)), shape)
        out = picked if out is None else out + picked
    return out


def _resample_forward(xp, x, *, taps):
    lead = x.ndim - len(taps)
    for d, tap in enumerate(taps):
        x = _along(xp, x, tap, lead + d)
    return x


def _resample_grad(xp, g, taps):
    # dx = A_d^T g along each dim (the adjoint taps), last dim first
    if isinstance(g, Tensor):
        raise RuntimeError(
            "interpolate/adaptive_avg_pool: double backward (create_graph=True) is not supported"
        )
    lead = g.ndim - len(taps)
    adjoint = [None] * lead + [tap.adjoint() for tap in taps]
    for axis in reversed(range(lead, g.ndim)):
        g = _along(xp, g, adjoint[axis], axis)
    return g


# fmt: off
INTERPOLATE = defop("interpolate", _resample_forward, double_backward=False,
                    x=_resample_grad)                 # A^T g per dim (A: the taps' weights)
ADAPTIVE_AVG_POOL = defop("adaptive_avg_pool", _resample_forward, double_backward=False,
                          x=_resample_grad)           # each window's g / its size, spread back
# fmt: on


# --- interpolate ---------------------------------------------------------------------------

_MODES = {
    "nearest": None, "nearest-exact": None, "area": None,
    "linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3,
}  # fmt: skip


def _per_dim(name: str, value, k: int) -> list:
    if isinstance(value, (list, tuple)):
        if len(value) != k:
            raise ValueError(
                f"Input and {name} must have the same number of spatial dimensions, but got "
                f"input with {k} spatial dimensions and {name} {tuple(value)}"
            )
        return list(value)
    return [value] * k


def interpolate(
    input: Tensor,
    size=None,
    scale_factor=None,
    mode: str = "nearest",
    align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None,
    antialias: bool = False,
) -> Tensor:
    """Resize [N, C, *spatial] to `size` or by `scale_factor` (PyTorch's F.interpolate)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"interpolate(): input must be a Tensor, got {type(input).__name__}")
    if mode not in _MODES:
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for "
            f"the modes: nearest | linear | bilinear | bicubic | trilinear | area | "
            f"nearest-exact (got {mode})"
        )
    if align_corners is not None and _MODES[mode] is None:
        raise ValueError(
            "align_corners option can only be set with the interpolating modes: linear | "
            "bilinear | bicubic | trilinear"
        )
    align = bool(align_corners)
    if antialias:
        raise NotImplementedError(
            "interpolate(): antialias=True is not supported; use antialias=False"
        )
    k = input.ndim - 2
    if k < 1 or k > 3:
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {input.ndim}D) for "
            f"the modes: nearest | linear | bilinear | bicubic | trilinear | area | "
            f"nearest-exact (got {mode})"
        )
    needed = _MODES[mode]
    if needed is not None and needed != k:
        raise NotImplementedError(
            f"Got {input.ndim}D input, but {mode} mode needs {needed + 2}D input"
        )
    if input.dtype.kind != "f":
        raise RuntimeError(
            f'"upsample_{mode}" not implemented for integer input ({input.dtype}); cast to float'
        )
    if size is None and scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    spatial = list(input.shape[2:])
    if size is not None:
        if isinstance(size, (list, tuple)) and len(size) != k:
            raise ValueError(
                f"Input and output must have the same number of spatial dimensions, but got "
                f"input with spatial dimensions of {spatial} and output size of {tuple(size)}. "
                f"Please provide input tensor in (N, C, d1, d2, ...,dK) format and output size "
                f"in (o1, o2, ...,oK) format."
            )
        out = [int(s) for s in _per_dim("size", size, k)]
        scales: list = [None] * k
    else:
        factors = [float(s) for s in _per_dim("scale_factor", scale_factor, k)]
        out = [int(math.floor(n * f)) for n, f in zip(spatial, factors)]
        scales = [None] * k if recompute_scale_factor else factors
    if any(m <= 0 for m in out):
        raise RuntimeError(
            f"Input and output sizes should be greater than 0, but got input {spatial} and "
            f"output {out}"
        )
    if mode == "area":
        return _adaptive(input, out, ADAPTIVE_AVG_POOL)
    dtype = np.float32 if input.dtype == np.float32 else np.float64
    taps = []
    for n, m, s in zip(spatial, out, scales):
        if mode in ("nearest", "nearest-exact"):
            taps.append(_nearest_taps(n, m, s, mode == "nearest-exact"))
        elif mode == "bicubic":
            taps.append(_cubic_taps(n, m, align, s, dtype))
        else:
            taps.append(_linear_taps(n, m, align, s, dtype))
    return apply(INTERPOLATE, (input,), {"taps": tuple(taps)})


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """Deprecated in PyTorch in favour of interpolate; the same."""
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# --- adaptive average pooling -------------------------------------------------------------------


def _adaptive(input: Tensor, out: list, op) -> Tensor:
    taps = tuple(_area_taps(n, m) for n, m in zip(input.shape[-len(out) :], out))
    return apply(op, (input,), {"taps": taps})


def _adaptive_avg(name: str, k: int, input: Tensor, output_size) -> Tensor:
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): input must be a Tensor, got {type(input).__name__}")
    if input.ndim not in (k + 1, k + 2):
        raise RuntimeError(
            f"{name}(): Expected {k + 1}D or {k + 2}D tensor, but got {list(input.shape)}"
        )
    if any(n == 0 for n in input.shape[-k:]):
        raise RuntimeError(
            f"{name}(): Expected input to have non-zero size for non-batch dimensions, but "
            f"input has sizes {list(input.shape)}"
        )
    if input.dtype.kind != "f":
        raise RuntimeError(f'"adaptive_avg_pool{k}d" not implemented for {input.dtype} input')
    sizes = _per_dim("output_size", output_size, k)
    out = [n if s is None else int(s) for s, n in zip(sizes, input.shape[-k:])]
    if any(m < 0 for m in out):
        raise RuntimeError(f"{name}(): output_size must be non-negative, got {output_size}")
    return _adaptive(input, out, ADAPTIVE_AVG_POOL)


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    if None in (output_size if isinstance(output_size, (list, tuple)) else (output_size,)):
        raise TypeError(
            "adaptive_avg_pool1d(): argument 'output_size' (position 2) must be tuple of ints, "
            "but found element of type NoneType at pos 0"
        )
    return _adaptive_avg("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    return _adaptive_avg("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool3d(input: Tensor, output_size) -> Tensor:
    return _adaptive_avg("adaptive_avg_pool3d", 3, input, output_size)


# --- modules -----------------------------------------------------------------------------------


class Upsample(Module):
    def __init__(
        self,
        size=None,
        scale_factor=None,
        mode: str = "nearest",
        align_corners: bool | None = None,
        recompute_scale_factor: bool | None = None,
    ):
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input: Tensor) -> Tensor:
        return interpolate(
            input,
            self.size,
            self.scale_factor,
            self.mode,
            self.align_corners,
            recompute_scale_factor=self.recompute_scale_factor,
        )

    def extra_repr(self) -> str:
        if self.scale_factor is not None:
            info = f"scale_factor={self.scale_factor!r}"
        else:
            info = f"size={self.size!r}"
        return info + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


class _AdaptiveAvgPoolNd(Module):
    _fn = staticmethod(adaptive_avg_pool2d)

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:
        return type(self)._fn(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    _fn = staticmethod(adaptive_avg_pool1d)


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    _fn = staticmethod(adaptive_avg_pool2d)


class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    _fn = staticmethod(adaptive_avg_pool3d)

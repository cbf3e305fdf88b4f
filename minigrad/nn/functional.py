"""`minigrad.nn.functional` (F): activations, linear, dropout, normalisation, embedding, losses.

Activations re-use the fused primitives of `minigrad.ops`. This module defines the fused ops that
belong to layers: `layer_norm`, `rms_norm` (one node each: forward computes the statistics,
the x-rule recomputes them with xp ops so double backward stays exact), `embedding` (scatter-add
backward, no gradient for `padding_idx`) and `nll_loss` (pick the target log-probabilities;
backward scatters into a zero tensor). `cross_entropy` is the fused `log_softmax` followed by
`nll_loss`: two nodes, stable for any finite logits.
"""

from __future__ import annotations

import math

import numpy as np

from minigrad import dtypes
from minigrad.autograd import apply, defop, no_grad
from minigrad.backend import writeable as _writeable
from minigrad.nn.loss_functions import (  # noqa: F401
    _broadcast_pair,
    _reduce,  # one reduction rule for every loss
    pairwise_distance,
)
from minigrad.nn.loss_functions import legacy_reduction as _legacy_reduction
from minigrad.ops import elementwise as _ew
from minigrad.ops import mathfns as _mf
from minigrad.ops import reduce as _red
from minigrad.ops.elementwise import (
    gelu,
    promote,
    sigmoid,
    tanh,
)
from minigrad.ops.indexing import one_hot
from minigrad.ops.linalg import linear as _linear
from minigrad.ops.shape import pad
from minigrad.tensor import Tensor

__all__ = [
    "relu", "relu_", "gelu", "silu", "tanh", "sigmoid", "softplus", "leaky_relu", "softmax",
    "log_softmax", "pad", "linear", "dropout", "layer_norm", "rms_norm", "embedding", "one_hot",
    "normalize", "cosine_similarity", "pairwise_distance", "mse_loss", "l1_loss", "huber_loss",
    "smooth_l1_loss", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "cross_entropy", "nll_loss", "kl_div",
]  # fmt: skip


# --- activations (fused ops live in minigrad.ops.elementwise / reduce) -------------------------


def _maybe_inplace(input: Tensor, result: Tensor, inplace: bool) -> Tensor:
    return input._inplace(result) if inplace else result


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    return _maybe_inplace(input, _ew.relu(input), inplace)


def relu_(input: Tensor) -> Tensor:
    return relu(input, inplace=True)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    return _maybe_inplace(input, _ew.silu(input), inplace)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    return _maybe_inplace(input, _ew.leaky_relu(input, negative_slope), inplace)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:  # noqa: F811
    return _ew.softplus(input, beta, threshold)


def _implicit_dim(ndim: int) -> int:
    # PyTorch's legacy choice when dim is omitted
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    return _red.softmax(input, _implicit_dim(input.ndim) if dim is None else dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    return _red.log_softmax(input, _implicit_dim(input.ndim) if dim is None else dim, dtype=dtype)


# --- dropout -------------------------------------------------------------------------------------


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability `p` and scale the rest by 1/(1-p) (training only)."""
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    xp = input._backend_xp()
    dt = input._data.dtype
    if p == 1.0:
        mask = xp.zeros(input.shape, dtype=dt)
    else:
        sample_dt = dt if dt in (dtypes.float32, dtypes.float64) else dtypes.float32
        keep = xp.rng().random(input.shape, dtype=sample_dt) >= p
        mask = keep.astype(dt) * dt.type(1.0 / (1.0 - p))
    return _maybe_inplace(input, _ew.mul(input, Tensor._make(mask)), inplace)


# --- layer_norm / rms_norm: one node each ---------------------------------------------------


def _ln_stats(xp, x, axis, eps):
    """(x - mean) * rstd and rstd over `axis` (biased variance, as PyTorch)."""
    xc = x - xp.mean(x, axis=axis, keepdims=True)
    rstd = 1 / xp.sqrt(xp.mean(xc * xc, axis=axis, keepdims=True) + eps)
    return xc * rstd, rstd


def _ln_grad_x(xp, gy, x, axis, eps):
    # xhat = (x - mu) rstd;  dx = rstd (gy - mean(gy) - xhat mean(gy xhat)),  gy = g * weight
    xhat, rstd = _ln_stats(xp, x, axis, eps)
    return rstd * (
        gy
        - xp.mean(gy, axis=axis, keepdims=True)
        - xhat * xp.mean(gy * xhat, axis=axis, keepdims=True)
    )


def _rms_stats(xp, x, axis, eps):
    rstd = 1 / xp.sqrt(xp.mean(x * x, axis=axis, keepdims=True) + eps)
    return x * rstd, rstd


def _rms_grad_x(xp, gy, x, axis, eps):
    # xhat = x rstd, rstd = (mean(x^2) + eps)^(-1/2);  dx = rstd (gy - xhat mean(gy xhat))
    xhat, rstd = _rms_stats(xp, x, axis, eps)
    return rstd * (gy - xhat * xp.mean(gy * xhat, axis=axis, keepdims=True))


# fmt: off
LAYER_NORM = defop("layer_norm",
                   lambda xp, x, *, axis, eps: _ln_stats(xp, x, axis, eps)[0],
                   x=lambda xp, g, x, axis, eps:        # rstd (g - mean(g) - xhat mean(g xhat))
                       _ln_grad_x(xp, g, x, axis, eps))
LAYER_NORM_W = defop("layer_norm",
                     lambda xp, x, weight, *, axis, eps: _ln_stats(xp, x, axis, eps)[0] * weight,
                     x=lambda xp, g, x, weight, axis, eps:  # rstd(gy - mean gy - xhat mean gy·xhat)
                         _ln_grad_x(xp, g * weight, x, axis, eps),  # gy = g weight
                     weight=lambda xp, g, x, axis, eps:  # g xhat
                         g * _ln_stats(xp, x, axis, eps)[0])
LAYER_NORM_WB = defop("layer_norm",
                      lambda xp, x, weight, bias, *, axis, eps:
                          _ln_stats(xp, x, axis, eps)[0] * weight + bias,
                      x=lambda xp, g, x, weight, axis, eps: # rstd(gy - mean gy - xhat mean gy·xhat)
                          _ln_grad_x(xp, g * weight, x, axis, eps),  # gy = g weight
                      weight=lambda xp, g, x, axis, eps:  # g xhat
                          g * _ln_stats(xp, x, axis, eps)[0],
                      bias=lambda g: g)                                   # summed by the engine
RMS_NORM = defop("rms_norm",
                 lambda xp, x, *, axis, eps: _rms_stats(xp, x, axis, eps)[0],
                 x=lambda xp, g, x, axis, eps:  # rstd (g - xhat mean(g xhat))
                     _rms_grad_x(xp, g, x, axis, eps))
RMS_NORM_W = defop("rms_norm",
                   lambda xp, x, weight, *, axis, eps: _rms_stats(xp, x, axis, eps)[0] * weight,
                   x=lambda xp, g, x, weight, axis, eps:  # rstd (gy - xhat mean(gy xhat)), gy = g w
                       _rms_grad_x(xp, g * weight, x, axis, eps),
                   weight=lambda xp, g, x, axis, eps: g * _rms_stats(xp, x, axis, eps)[0])  # xhat
# fmt: on


def _norm_axes(name: str, input: Tensor, normalized_shape) -> tuple:
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k :]) != shape:
        raise RuntimeError(
            f"{name}: Given normalized_shape={list(shape)}, expected input with shape "
            f"[*, {', '.join(map(str, shape))}], but got input of size {list(input.shape)}"
        )
    return tuple(range(input.ndim - k, input.ndim)), shape


def _check_affine(name: str, what: str, t: Tensor | None, shape: tuple) -> None:
    if t is not None and tuple(t.shape) != shape:
        raise RuntimeError(
            f"{name}: expected {what} of shape {list(shape)}, but got {list(t.shape)}"
        )


def layer_norm(
    input: Tensor,
    normalized_shape,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise over the trailing `normalized_shape` dims: (x - mean) / sqrt(var + eps) * w + b."""
    axis, shape = _norm_axes("layer_norm", input, normalized_shape)
    _check_affine("layer_norm", "weight", weight, shape)
    _check_affine("layer_norm", "bias", bias, shape)
    params = {"axis": axis, "eps": float(eps)}
    input = _ew._float_input(input, "layer_norm")
    if weight is None:
        if bias is not None:
            return _ew.add(apply(LAYER_NORM, (input,), params), bias)
        return apply(LAYER_NORM, (input,), params)
    if bias is None:
        return apply(LAYER_NORM_W, tuple(promote(input, weight)), params)
    return apply(LAYER_NORM_WB, tuple(promote(input, weight, bias)), params)


def rms_norm(
    input: Tensor, normalized_shape, weight: Tensor | None = None, eps: float | None = None
) -> Tensor:
    """x / sqrt(mean(x^2) + eps) * w over the trailing dims; eps=None is the dtype's epsilon."""
    axis, shape = _norm_axes("rms_norm", input, normalized_shape)
    _check_affine("rms_norm", "weight", weight, shape)
    input = _ew._float_input(input, "rms_norm")
    if weight is not None:
        input, weight = promote(input, weight)
    if eps is None:
        eps = _eps(input.dtype)  # PyTorch: torch.finfo(x.dtype).eps
    params = {"axis": axis, "eps": float(eps)}
    if weight is None:
        return apply(RMS_NORM, (input,), params)
    return apply(RMS_NORM_W, (input, weight), params)


def _eps(dtype) -> float:
    return float(np.finfo(dtype).eps)


# --- embedding -----------------------------------------------------------------------------------


def _embedding_grad(xp, g, weight_shape, indices, padding_idx, freq):
    # d weight[indices] / d weight: scatter-add g's rows back (repeated indices add up);
    # scale_grad_by_freq divides each row's gradient by how often its index occurs
    if freq is not None and isinstance(g, Tensor):
        # torch's double backward of this rule is the unscaled lookup: scale the value only
        g = g + (g / Tensor._make(freq[..., None]) - g).detach()
    elif freq is not None:
        g = g / freq[..., None]
    if padding_idx is not None:
        keep = (indices != padding_idx)[..., None]
        g = g * keep.astype(g.dtype) if not isinstance(g, Tensor) else xp.where(keep, g, 0)
    return xp.unindex(g, weight_shape, (indices,))


# fmt: off
EMBEDDING = defop("embedding", lambda xp, weight, *, indices, padding_idx, freq: weight[indices],
                  weight=lambda xp, g, weight_shape, indices, padding_idx, freq:  # Σ g[idx = r]
                      _embedding_grad(xp, g, weight_shape, indices, padding_idx, freq))
# fmt: on


def _embedding_renorm_(weight: Tensor, idx, max_norm: float, norm_type: float) -> None:
    """torch's embedding_renorm_: each row `idx` names whose norm_type-norm exceeds max_norm is
    scaled in place (outside autograd) to max_norm / (norm + 1e-7) of itself."""
    rows = weight._backend_xp().unique(idx.reshape(-1))
    if not rows.size:
        return
    picked = weight._data[rows]
    norms = _red.norm(Tensor._make(picked), norm_type, 1, keepdim=True)._data
    scale = (max_norm / (norms + 1e-7)).astype(picked.dtype)
    scaled = picked * weight._backend_xp().where(norms > max_norm, scale, 1).astype(picked.dtype)
    with no_grad():
        if not _writeable(weight._data):
            weight._data = weight._data.copy()
        weight._data[rows] = scaled
        weight._vc[0] += 1


def embedding(
    input: Tensor,
    weight: Tensor,
    padding_idx: int | None = None,
    max_norm: float | None = None,
    norm_type: float = 2.0,
    scale_grad_by_freq: bool = False,
    sparse: bool = False,
) -> Tensor:
    """Rows of `weight` ([num_embeddings, dim]) at the integer `input` indices.

    `max_norm`: first renormalises, in place, the looked-up rows whose `norm_type`-norm exceeds
    it (as torch, so `weight` changes). `scale_grad_by_freq`: each row's gradient is divided by
    how often its index occurs in `input`. `sparse=True` gives the same gradient values as a
    dense tensor: minigrad has no sparse tensors (optimizers treat it as any gradient)."""
    if input._data.dtype.kind not in "iu":
        raise RuntimeError(
            f"Expected tensor for argument #1 'indices' to have one of the following scalar "
            f"types: Long, Int; but got {input.dtype} instead (while checking arguments for "
            f"embedding)"
        )
    if weight.ndim != 2:
        raise RuntimeError(f"'weight' must be 2-D, got {list(weight.shape)}")
    n = weight.shape[0]
    idx = input._data
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= n):
        if weight.shape[1] == 0:  # torch's kernel for an empty weight raises another type
            bad = int(idx.min()) if int(idx.min()) < 0 else int(idx.max())
            raise RuntimeError(f"INDICES element is out of DATA bounds, id={bad} axis_dim={n}")
        raise IndexError(
            f"index out of range in self: indices must be in [0, {n}), got values in "
            f"[{int(idx.min())}, {int(idx.max())}]"
        )
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise ValueError(f"Padding_idx must be within num_embeddings ({n}), got {padding_idx}")
        padding_idx = padding_idx % n
    if max_norm is not None:
        _embedding_renorm_(weight, idx, max_norm, norm_type)
    freq = None
    if scale_grad_by_freq:
        xp = weight._backend_xp()
        freq = xp.bincount(idx.reshape(-1), minlength=n)[idx].astype(weight._data.dtype)
    params = {"indices": idx, "padding_idx": padding_idx, "freq": freq}
    return apply(EMBEDDING, (weight,), params)


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12) -> Tensor:
    """x / max(||x||_p, eps) along `dim` (floating-point input, as PyTorch's vector_norm)."""
    _float_norm_input(input)
    norm = _red.norm(input, p, dim, keepdim=True)
    return _ew.div(input, _ew.clamp(norm, min=eps))


def _float_norm_input(input: Tensor) -> None:
    if input._data.dtype.kind not in "fc":
        raise RuntimeError(
            f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
            f"{dtypes.torch_name(input.dtype)}"
        )


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """<x1, x2> / (||x1|| ||x2||) along `dim` (inputs broadcast), as PyTorch computes it: each
    input divided by its norm first (the result stays in [-1, 1]), each norm at least `eps`.

    As in PyTorch the eps floor is not differentiated: where a norm is below eps the gradient
    is that of x / ||x|| taken at the floored value.
    """
    x1, x2 = promote(x1, x2)
    if x1._data.dtype.kind != "f":
        raise RuntimeError(
            f"expected common dtype to be floating point, yet common dtype is "
            f"{dtypes.torch_name(x1.dtype)}"
        )
    x1, x2 = _broadcast_pair(x1, x2)

    def floored_norm(x: Tensor) -> Tensor:
        norm = _red.norm(x, 2, dim, keepdim=True)
        level = norm.detach()
        # the floor's value (eps exactly: (n - n) + eps) with the norm's own gradient
        return _ew.where(level >= eps, norm, (norm - level) + eps)

    return _red.sum((x1 / floored_norm(x1)) * (x2 / floored_norm(x2)), dim)


# --- losses --------------------------------------------------------------------------------------


def _check_reduction(reduction: str, allowed=("none", "mean", "sum")) -> None:
    if reduction not in allowed:
        raise ValueError(f"{reduction} is not a valid value for reduction")


def _pair(input: Tensor, target) -> tuple[Tensor, Tensor]:
    if not isinstance(target, Tensor):
        target = _ew.as_tensor_like(target, input)
    return input, target


def _weighted(loss: Tensor, weight: Tensor | None, reduction: str, mean_by_weight: bool):
    """loss * weight, reduced; torch's weighted mean divides by sum(weight) for mse / l1 and by
    the element count for huber."""
    if weight is None:
        return _reduce(loss, reduction)
    if tuple(weight.shape) != tuple(loss.shape):
        raise ValueError(
            f"Weights and input must have the same size: weight {list(weight.shape)}, input "
            f"{list(loss.shape)}"
        )
    loss = _ew.mul(loss, weight)
    if reduction == "mean" and mean_by_weight:
        return _ew.div(_red.sum(loss), _red.sum(weight))
    return _reduce(loss, reduction)


def mse_loss(
    input: Tensor,
    target: Tensor,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """(x - y)^2, optionally times an elementwise `weight` (mean: divided by sum(weight))."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    input, target = _pair(input, target)
    d = _ew.sub(input, target)
    return _weighted(_ew.mul(d, d), weight, reduction, mean_by_weight=True)


def l1_loss(
    input: Tensor,
    target: Tensor,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    weight: Tensor | None = None,
) -> Tensor:
    """|x - y|, optionally times an elementwise `weight` (mean: divided by sum(weight))."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    input, target = _pair(input, target)
    return _weighted(_ew.abs(_ew.sub(input, target)), weight, reduction, mean_by_weight=True)


def huber_loss(
    input: Tensor,
    target: Tensor,
    reduction: str = "mean",
    delta: float = 1.0,
    weight: Tensor | None = None,
) -> Tensor:
    """0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta), optionally times an elementwise
    `weight` (mean: over the elements, as torch)."""
    _check_reduction(reduction)
    if delta <= 0:
        raise RuntimeError(
            f"huber_loss does not support non-positive values for delta, got {delta}"
        )
    input, target = _pair(input, target)
    d = _ew.sub(input, target)
    a = _ew.abs(d)
    # the square reads 0 where it is not chosen: its gradient there is 0, and 0 * d would be
    # NaN at an infinite d (torch: +-delta); a NaN d takes the square (a NaN gradient, as
    # torch's), not |d|'s sgn(NaN) = 0
    c = _ew.where(a >= delta, 0.0, d)
    loss = _ew.where(
        a >= delta, _ew.mul(_ew.sub(a, 0.5 * delta), delta), _ew.mul(_ew.mul(c, c), 0.5)
    )
    return _weighted(loss, weight, reduction, mean_by_weight=False)


def smooth_l1_loss(
    input: Tensor,
    target: Tensor,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    beta: float = 1.0,
) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (beta = 0: L1)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if beta < 0:
        raise RuntimeError(f"smooth_l1_loss does not support negative values for beta, got {beta}")
    if beta == 0:
        return l1_loss(input, target, reduction=reduction)
    input, target = _pair(input, target)
    d = _ew.sub(input, target)
    a = _ew.abs(d)
    c = _ew.where(a >= beta, 0.0, d)  # as in huber_loss: no 0 * inf in the branch not taken
    loss = _ew.where(a >= beta, _ew.sub(a, 0.5 * beta), _ew.mul(_ew.mul(c, c), 0.5 / beta))
    return _reduce(loss, reduction)


def _same_size(name: str, input: Tensor, target: Tensor) -> None:
    if tuple(input.shape) != tuple(target.shape):
        raise ValueError(
            f"Using a target size ({list(target.shape)}) that is different to the input size "
            f"({list(input.shape)}) is deprecated. Please ensure they have the same size. ({name})"
        )


# binary_cross_entropy: one node, for torch's gradients; a composite of clamped logs would give
# 0 * inf = NaN at x = 0 or 1, where torch's input gradient divides by max(x (1 - x), 1e-12).


def _bce_forward(xp, x, t):
    with np.errstate(divide="ignore"):  # log(0) = -inf: clamped to -100, as torch
        log_x = xp.maximum(xp.log(x), -100.0)
        log_1mx = xp.maximum(xp.log1p(-x), -100.0)
    return -(t * log_x + (1 - t) * log_1mx)


def _bce_input_grad(xp, g, x, t):
    return g * (x - t) / xp.maximum(x * (1 - x), 1e-12)


def _bce_target_grad(xp, g, x):
    with np.errstate(divide="ignore"):  # +-inf at x = 0 or 1, as torch
        return g * (xp.log1p(-x) - xp.log(x))


# fmt: off
BINARY_CROSS_ENTROPY = defop("binary_cross_entropy", _bce_forward,
                             x=_bce_input_grad,   # (x - t) / max(x (1 - x), 1e-12)
                             t=_bce_target_grad)  # log(1 - x) - log(x)
# fmt: on


def binary_cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """-w [t log x + (1 - t) log(1 - x)], each log clamped to >= -100 as in PyTorch."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    input, target = _pair(input, target)
    _same_size("binary_cross_entropy", input, target)
    for what, t in (("input", input), ("target", target)):
        data = t._data  # NaN is out of range too, as in torch
        if data.size and not bool(((data >= 0) & (data <= 1)).all()):
            raise RuntimeError(f"all elements of {what} should be between 0 and 1")
    loss = apply(BINARY_CROSS_ENTROPY, (input, target), {})
    if weight is not None:
        loss = _ew.mul(loss, weight)
    return _reduce(loss, reduction)


def binary_cross_entropy_with_logits(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    pos_weight: Tensor | None = None,
) -> Tensor:
    """-w [p t log s(x) + (1 - t) log(1 - s(x))] computed stably as
    (1 - t) x + (1 + (p - 1) t) softplus(-x) (softplus via logaddexp: finite for any x)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    input, target = _pair(input, target)
    _same_size("binary_cross_entropy_with_logits", input, target)
    sp = _ew.softplus(_ew.neg(input), 1.0, math.inf)  # log(1 + e^-x) = -log s(x)
    if pos_weight is not None:
        sp = _ew.mul(sp, _ew.add(_ew.mul(_ew.sub(pos_weight, 1.0), target), 1.0))
    loss = _ew.add(_ew.mul(_ew.sub(1.0, target), input), sp)
    if weight is not None:
        loss = _ew.mul(loss, weight)
    return _reduce(loss, reduction)


# nll_loss: one node that picks -x[target] (times the per-target weight); the rule scatters the
# gradient back into zeros. `index` is an advanced index into x (one position per target) kept as
# a param so double backward can reuse it; `w` is the per-target weight (0 where ignored).


def _inverse(denom: float) -> float:
    """1 / the mean's weight sum; 0 when nothing counts (an empty batch, every target ignored:
    torch's gradient is then 0, its loss NaN)."""
    return 1.0 / denom if denom else 0.0


def _nll_forward(xp, x, w, *, index, reduction, denom):
    picked = -x[index] * w
    if reduction == "none":
        return picked
    total = xp.sum(picked)
    return total if reduction == "sum" else total / denom


def _nll_grad(xp, g, w, x_shape, index, reduction, denom):
    # d(-x[index] w)/dx: -w at the picked positions, 0 elsewhere (divided by denom for mean)
    gx = -g * w if reduction != "mean" else -g * w * _inverse(denom)
    if isinstance(gx, Tensor):
        return xp.unindex(gx, x_shape, index)
    out = xp.zeros(x_shape, dtype=gx.dtype)
    out[index] = gx  # each target picks a distinct position: plain assignment, no scatter-add
    return out


# fmt: off
NLL_LOSS = defop("nll_loss", _nll_forward,
                 x=_nll_grad)                  # -w_n at x[n, y_n], 0 elsewhere (/ N for mean)
# fmt: on


# cross_entropy with class-index targets: one node. Forward computes the softmax once (kept as a
# residual for first-order backward, so backward needs no exp); under create_graph the rule
# recomputes it with minigrad ops from x, so second derivatives are exact.


def _ce_forward(xp, x, w, *, index, reduction, denom, axis):
    m = xp.max(x, axis=axis, keepdims=True)
    e = xp.exp(x - m)
    s = xp.sum(e, axis=axis, keepdims=True)
    # -log softmax(x)[target] * weight, as log(s) - (x_t - m): adding m to log(s) first would
    # round away log(s)'s fraction at large logits
    picked = (xp.squeeze(xp.log(s), axis=axis) - (x[index] - xp.squeeze(m, axis=axis))) * w
    e /= s  # softmax, in place
    if reduction == "none":
        return picked, e
    total = xp.sum(picked)
    return (total if reduction == "sum" else total / denom), e


def _ce_grad(xp, g, x, w, p, x_shape, index, reduction, denom, axis):
    # d/dx [lse(x) - x_t] w = (softmax(x) - onehot(t)) w   (divided by denom for mean)
    gw = g * w if reduction != "mean" else g * w * _inverse(denom)
    if isinstance(x, Tensor):  # double backward: a differentiable softmax of x
        return _red.softmax(x, axis) * xp.expand_dims(gw, axis) - xp.unindex(gw, x_shape, index)
    out = p * xp.expand_dims(gw, axis)
    out[index] -= gw  # one position per target: no scatter-add needed
    return out


# fmt: off
CROSS_ENTROPY = defop("cross_entropy", _ce_forward, residuals=("p",),
                      x=_ce_grad)              # (softmax(x) - onehot(y)) w_y  (/ N for mean)
# fmt: on


def _class_index(input: Tensor, target: Tensor, ignore_index: int):
    """The advanced index of input[n, target[n, d..], d..] and the mask of ignored targets."""
    xp = input._backend_xp()
    t = target._data
    C = input.shape[1] if input.ndim > 1 else input.shape[0]
    if input.ndim == 1:
        if target.ndim != 0:
            raise RuntimeError(
                f"0D or 1D target tensor expected, multi-target not supported (input "
                f"{list(input.shape)}, target {list(target.shape)})"
            )
    elif (
        target.ndim != input.ndim - 1
        or target.shape[0] != input.shape[0]
        or tuple(target.shape[1:]) != tuple(input.shape[2:])
    ):
        raise ValueError(
            f"Expected target size {[input.shape[0], *input.shape[2:]]}, got {list(target.shape)}"
        )
    ignored = t == ignore_index
    bad = (~ignored) & ((t < 0) | (t >= C))
    if bool(bad.any()):
        raise IndexError(f"Target {int(t[bad].reshape(-1)[0])} is out of bounds (classes: {C}).")
    safe = xp.where(ignored, 0, t) if bool(ignored.any()) else t
    if input.ndim == 1:
        return (safe,), ignored
    grids = []
    for d in range(target.ndim):
        shape = [1] * target.ndim
        shape[d] = target.shape[d]
        grids.append(xp.arange(target.shape[d]).reshape(shape))
    return (grids[0], safe, *grids[1:]), ignored


def nll_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    ignore_index: int = -100,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """-input[n, target[n]] * weight[target[n]]; the mean divides by the summed weights of the
    targets that are not `ignore_index` (PyTorch's weighted mean). Input (N, C) or (N, C, d...)
    with class dim 1, or (C,) with a 0-d target."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if target._data.dtype.kind not in "iu":
        raise RuntimeError(f"expected scalar type Long but found {target.dtype} (nll_loss target)")
    if input.ndim == 0:
        raise ValueError("Expected 1 or more dimensions (got 0)")
    index, w = _target_weights(input, target, weight, ignore_index)
    denom = float(w.sum()) if reduction == "mean" else 1.0
    params = {"index": index, "reduction": reduction, "denom": denom}
    return apply(NLL_LOSS, (input, Tensor._make(w)), params)


def _target_weights(input: Tensor, target: Tensor, weight: Tensor | None, ignore_index: int):
    """The advanced index of each target's position in input, and each target's weight
    (weight[target], 0 where ignored), in input's dtype."""
    xp = input._backend_xp()
    index, ignored = _class_index(input, target, ignore_index)
    C = input.shape[1] if input.ndim > 1 else input.shape[0]
    dt = input._data.dtype
    if weight is not None:
        if weight.shape != (C,):
            raise RuntimeError(
                f"weight tensor should be defined either for all {C} classes or no classes but "
                f"got weight tensor of shape: {list(weight.shape)}"
            )
        w = weight._data.astype(dt, copy=False)[index[0] if input.ndim == 1 else index[1]]
        w = xp.where(ignored, 0, w).astype(dt, copy=False)
    else:
        w = (~ignored).astype(dt)
    return index, w


def cross_entropy(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    ignore_index: int = -100,
    reduce=None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Tensor:
    """log_softmax over the class dim (1, or 0 for unbatched input) then nll_loss, or for
    probability targets (a float tensor shaped like input) -sum_c w_c t_c log p_c."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    class_dim = 1 if input.ndim > 1 else 0
    if input.ndim == 0:
        raise ValueError("Expected 1 or more dimensions (got 0)")
    input = _ew._float_input(input, "cross_entropy")
    if target._data.dtype.kind != "f" and label_smoothing == 0.0:
        if target._data.dtype.kind not in "iu":
            raise RuntimeError(f"expected scalar type Long but found {target.dtype}")
        index, w = _target_weights(input, target, weight, ignore_index)
        denom = float(w.sum()) if reduction == "mean" else 1.0
        params = {"index": index, "reduction": reduction, "denom": denom, "axis": class_dim}
        return apply(CROSS_ENTROPY, (input, Tensor._make(w)), params)
    logp = _red.log_softmax(input, class_dim)
    C = input.shape[class_dim]
    wshape = [1] * input.ndim
    wshape[class_dim] = C
    if target._data.dtype.kind == "f":  # class probabilities
        if tuple(target.shape) != tuple(input.shape):
            raise RuntimeError(
                f"Expected floating point target of the same shape as input {list(input.shape)}, "
                f"got {list(target.shape)}"
            )
        if label_smoothing > 0:
            target = _ew.add(_ew.mul(target, 1.0 - label_smoothing), label_smoothing / C)
        prod = _ew.mul(logp, target)
        if weight is not None:
            prod = _ew.mul(prod, weight.reshape(wshape))
        loss = _ew.neg(_red.sum(prod, class_dim))
        if reduction == "mean":
            return _ew.div(_red.sum(loss), max(input.numel() // C, 0) if input.numel() else 0.0)
        return _reduce(loss, reduction)
    nll = nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if label_smoothing == 0.0:
        return nll
    # Smoothing term: -sum_c w_c log p_c per target, 0 where ignored, PyTorch's normalisation.
    prod = logp if weight is None else _ew.mul(logp, weight.reshape(wshape))
    smooth = _ew.neg(_red.sum(prod, class_dim))
    ignored = target._data == ignore_index
    if bool(ignored.any()):
        smooth = _ew.masked_fill(smooth, Tensor._make(ignored), 0.0)
    if reduction == "mean":
        if weight is not None:
            picked = target._data[~ignored]
            denom = float(weight._data[picked].sum())
        else:
            denom = float((~ignored).sum())
        smooth = _ew.div(_red.sum(smooth), denom)
    elif reduction == "sum":
        smooth = _red.sum(smooth)
    return _ew.add(_ew.mul(nll, 1.0 - label_smoothing), _ew.mul(smooth, label_smoothing / C))


def kl_div(
    input: Tensor,
    target: Tensor,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
    log_target: bool = False,
) -> Tensor:
    """xlogy(target, target) - target * input pointwise (input holds log-probabilities; 0
    where target = 0, NaN where it is negative). reduction='batchmean' divides the sum by the
    batch size (the true KL)."""
    reduction = _legacy_reduction(size_average, reduce, reduction)
    _check_reduction(reduction, ("none", "mean", "sum", "batchmean"))
    input, target = _pair(input, target)
    if log_target:
        loss = _ew.mul(_ew.exp(target), _ew.sub(target, input))
    else:  # torch's form, its gradients included (the target's is NaN at 0: log 0 in xlogy's)
        loss = _ew.sub(_mf.xlogy(target, target), _ew.mul(target, input))
    if reduction == "batchmean":
        return _ew.div(_red.sum(loss), input.shape[0] if input.ndim else 1)
    return _reduce(loss, reduction)


# Attention lives in its own module, which imports nn.layers (and so this module): import last.
from minigrad.nn.activation import __all__ as _activation_names  # noqa: E402
from minigrad.nn.activation import (  # noqa: E402, F401
    celu,
    elu,
    elu_,
    glu,
    hardshrink,
    hardsigmoid,
    hardswish,
    hardtanh,
    hardtanh_,
    logsigmoid,
    mish,
    prelu,
    relu6,
    selu,
    softmin,
    softshrink,
    softsign,
    tanhshrink,
    threshold,
    threshold_,
)
from minigrad.nn.attention import apply_rope, scaled_dot_product_attention  # noqa: E402, F401
from minigrad.nn.convtranspose import (  # noqa: E402, F401
    conv_transpose1d,
    conv_transpose2d,
    conv_transpose3d,
)
from minigrad.nn.ctc import ctc_loss  # noqa: E402, F401
from minigrad.nn.embedding_bag import embedding_bag  # noqa: E402, F401
from minigrad.nn.fold import bilinear, fold, unfold  # noqa: E402, F401
from minigrad.nn.loss_functions import (  # noqa: E402, F401
    cosine_embedding_loss,
    gaussian_nll_loss,
    hinge_embedding_loss,
    margin_ranking_loss,
    multilabel_soft_margin_loss,
    poisson_nll_loss,
    soft_margin_loss,
    triplet_margin_loss,
    triplet_margin_with_distance_loss,
)
from minigrad.nn.normalization import (  # noqa: E402, F401
    group_norm,
    instance_norm,
    local_response_norm,
)
from minigrad.nn.padding import (  # noqa: E402, F401
    dropout1d,
    dropout2d,
    dropout3d,
    pixel_shuffle,
    pixel_unshuffle,
)
from minigrad.nn.pooling import (  # noqa: E402, F401
    adaptive_max_pool1d,
    adaptive_max_pool2d,
    adaptive_max_pool3d,
    avg_pool1d,
    lp_pool1d,
    lp_pool2d,
    max_pool1d,
    max_unpool1d,
    max_unpool2d,
)
from minigrad.nn.upsampling import (  # noqa: E402, F401
    adaptive_avg_pool1d,
    adaptive_avg_pool2d,
    adaptive_avg_pool3d,
    interpolate,
    upsample,
    upsample_bilinear,
    upsample_nearest,
)

__all__ += [n for n in _activation_names if n[0].islower()]
__all__ += ["dropout1d", "dropout2d", "dropout3d", "pixel_shuffle", "pixel_unshuffle"]
__all__ += ["conv_transpose1d", "conv_transpose2d", "interpolate", "upsample", "upsample_nearest"]
__all__ += ["conv3d", "conv_transpose3d", "max_pool3d", "avg_pool3d", "adaptive_max_pool3d"]
__all__ += ["ctc_loss", "embedding_bag"]
__all__ += [
    "upsample_bilinear",
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_avg_pool3d",
]

from minigrad.nn.conv import (  # noqa: E402, F401, I001
    avg_pool2d,
    avg_pool3d,
    batch_norm,
    conv1d,
    conv2d,
    conv3d,
    max_pool2d,
    max_pool3d,
)
from minigrad.nn.multihead import multi_head_attention_forward  # noqa: E402, F401


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x W^T + b (PyTorch's F.linear; `minigrad.linear` is the primitive underneath).

    A NumPy input with several leading dims ([B, T, in]) runs as one [B*T, in] GEMM: NumPy's
    matmul would loop over B in small GEMMs (~10-20% slower on the attention step, in both the
    forward and the input's gradient). The reshapes around it are exact views, differentiable.
    """
    if (
        isinstance(input, Tensor)
        and input.ndim > 2
        and type(input._data) is np.ndarray
        and input._data.flags.c_contiguous
        and isinstance(weight, Tensor)
        and weight.ndim == 2
        and input.shape[-1] == weight.shape[1]
    ):
        lead = input.shape[:-1]
        flat = _linear(input.reshape(math.prod(lead), input.shape[-1]), weight, bias)
        return flat.reshape(*lead, flat.shape[-1])
    return _linear(input, weight, bias)

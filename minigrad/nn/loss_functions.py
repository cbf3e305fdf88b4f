"""Losses over pairs and triplets (margin ranking, cosine embedding, triplet margin, hinge
embedding, soft margin, multilabel soft margin) and likelihood losses for counts and Gaussians
(Poisson NLL, Gaussian NLL), each composed of differentiable ops, with PyTorch's arguments
(`size_average`/`reduce` included). Re-exported by `minigrad.nn.functional`; the modules are
in `minigrad.nn.losses`.
"""

from __future__ import annotations

import math
import warnings

from minigrad.autograd import no_grad
from minigrad.ops import elementwise as _ew
from minigrad.ops import reduce as _red
from minigrad.ops.shape import broadcast_tensors
from minigrad.tensor import Tensor

__all__ = [
    "margin_ranking_loss", "cosine_embedding_loss", "triplet_margin_loss",
    "triplet_margin_with_distance_loss", "hinge_embedding_loss", "soft_margin_loss",
    "multilabel_soft_margin_loss", "poisson_nll_loss", "gaussian_nll_loss",
]  # fmt: skip


def legacy_reduction(size_average, reduce, reduction: str) -> str:
    """PyTorch's translation of the deprecated size_average / reduce flags (with its warning)."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    result = "none" if not reduce else "mean" if size_average else "sum"
    warnings.warn(
        f"size_average and reduce args will be deprecated, please use reduction='{result}' "
        f"instead.",
        stacklevel=3,
    )
    return result


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return _red.mean(loss)
    if reduction == "sum":
        return _red.sum(loss)
    if reduction == "none":
        return loss
    raise ValueError(f"{reduction} is not a valid value for reduction")


def _relu(x: Tensor) -> Tensor:
    return _ew.clamp(x, min=0.0)


def _same_shape(name: str, *tensors: Tensor) -> None:
    shapes = [tuple(t.shape) for t in tensors]
    if len(set(shapes)) > 1:
        raise RuntimeError(f"{name}: expected inputs of one shape, got {shapes}")


def margin_ranking_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """max(0, -y (x1 - x2) + margin): y = 1 says x1 should rank higher, y = -1 lower."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if input1.ndim != input2.ndim or input1.ndim != target.ndim:
        raise RuntimeError(
            f"margin_ranking_loss : All input tensors should have same dimension but got sizes: "
            f"input1: {tuple(input1.shape)}, input2: {tuple(input2.shape)}, target: "
            f"{tuple(target.shape)} "
        )
    loss = _relu(_ew.add(_ew.mul(_ew.neg(target), _ew.sub(input1, input2)), margin))
    return _reduce(loss, reduction)


def cosine_embedding_loss(
    input1: Tensor,
    input2: Tensor,
    target: Tensor,
    margin: float = 0,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if input1.ndim not in (1, 2) or tuple(input1.shape) != tuple(input2.shape):
        raise RuntimeError(
            f"cosine_embedding_loss: expected 1D or 2D inputs of one shape, got "
            f"{list(input1.shape)} and {list(input2.shape)}"
        )
    expected = () if input1.ndim == 1 else (input1.shape[0],)
    if tuple(target.shape) != expected:
        raise RuntimeError(
            f"cosine_embedding_loss: expected target of shape {list(expected)}, got "
            f"{list(target.shape)}"
        )
    dim = input1.ndim - 1
    tiny = 1e-12  # torch's EPSILON: keeps zero vectors finite
    dot = _red.sum(_ew.mul(input1, input2), dim)
    norms = _ew.mul(
        _ew.add(_red.sum(_ew.mul(input1, input1), dim), tiny),
        _ew.add(_red.sum(_ew.mul(input2, input2), dim), tiny),
    )
    cos = _ew.div(dot, _ew.sqrt(norms))
    zero = _ew.mul(cos, 0.0)
    pos = _ew.where(_ew.eq(target, 1), _ew.sub(1.0, cos), zero)
    neg = _ew.where(_ew.eq(target, -1), _relu(_ew.sub(cos, margin)), zero)
    return _reduce(_ew.add(pos, neg), reduction)


def _broadcast_pair(x1: Tensor, x2: Tensor) -> tuple:
    try:
        return broadcast_tensors(x1, x2)
    except ValueError as e:
        raise _ew._broadcast_error(e, x1, x2) from None


def pairwise_distance(
    x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False
) -> Tensor:
    """||x1 - x2 + eps||_p over the last dim (inputs broadcast), as PyTorch: eps is added to
    the difference, so equal inputs give a small positive distance and a finite gradient.
    (F.pairwise_distance; the triplet losses' distance.)"""
    x1, x2 = _broadcast_pair(*_ew.promote(x1, x2))
    return _red.norm(_ew.add(_ew.sub(x1, x2), eps), p, -1 if x1.ndim else None, keepdim)


def _triplet(anchor, positive, negative, distance, margin, swap, reduction) -> Tensor:
    if not anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(
            f"The anchor, positive, and negative tensors are expected to have the same number "
            f"of dimensions, but got: anchor {anchor.ndim}D, positive {positive.ndim}D, and "
            f"negative {negative.ndim}D inputs"
        )
    d_pos = distance(anchor, positive)
    d_neg = distance(anchor, negative)
    if swap:
        d_neg = _ew.minimum(d_neg, distance(positive, negative))
    return _reduce(_relu(_ew.add(_ew.sub(d_pos, d_neg), margin)), reduction)


def triplet_margin_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    margin: float = 1.0,
    p: float = 2,
    eps: float = 1e-6,
    swap: bool = False,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """max(0, d(a, p) - d(a, n) + margin), d the p-norm distance over the last dim."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if margin <= 0:
        raise ValueError(f"margin must be greater than 0, got {margin}")
    if anchor.ndim not in (1, 2) and anchor.ndim == positive.ndim == negative.ndim:
        raise RuntimeError(
            f"The anchor, positive, and negative tensors are expected to have 1 or 2 "
            f"dimensions, but got {anchor.ndim}D inputs"
        )
    return _triplet(
        anchor, positive, negative, lambda a, b: pairwise_distance(a, b, p, eps), margin,
        swap, reduction,
    )  # fmt: skip


def triplet_margin_with_distance_loss(
    anchor: Tensor,
    positive: Tensor,
    negative: Tensor,
    *,
    distance_function=None,
    margin: float = 1.0,
    swap: bool = False,
    reduction: str = "mean",
) -> Tensor:
    """The triplet loss with any distance (default: the Euclidean pairwise distance)."""
    if margin <= 0:
        raise ValueError(f"triplet_margin_with_distance_loss: expected margin to be greater "
                         f"than 0, got {margin} instead")  # fmt: skip
    distance = distance_function or (lambda a, b: pairwise_distance(a, b, 2, 1e-6))
    return _triplet(anchor, positive, negative, distance, margin, swap, reduction)


def hinge_embedding_loss(
    input: Tensor,
    target: Tensor,
    margin: float = 1.0,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """x where y = 1, max(0, margin - x) where y = -1."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    # torch's where(y != 1, ...) and where(y != -1, ...) against constant zeros (not input * 0,
    # which is NaN at an infinite input); other targets get both terms
    from minigrad.creation import zeros_like

    zero = zeros_like(input)
    margin_term = _ew.where(_ew.ne(target, 1), _relu(_ew.sub(margin, input)), zero)
    self_term = _ew.where(_ew.ne(target, -1), input, zero)
    return _reduce(_ew.add(margin_term, self_term), reduction)


def soft_margin_loss(
    input: Tensor, target: Tensor, size_average=None, reduce=None, reduction: str = "mean"
) -> Tensor:
    """log(1 + exp(-y x)) (a smooth hinge)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    _same_shape("soft_margin_loss", input, target)
    if target.requires_grad:
        raise RuntimeError(
            "The function 'soft_margin_loss' is not differentiable with respect to argument "
            "'target'. This input cannot have requires_grad True."
        )
    # log1p(exp(-y x)) as torch computes it: its gradient -y e/(1 + e) is NaN where -y x = inf
    return _reduce(_ew.log1p(_ew.exp(_ew.neg(_ew.mul(target, input)))), reduction)


def multilabel_soft_margin_loss(
    input: Tensor,
    target: Tensor,
    weight: Tensor | None = None,
    size_average=None,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """-mean over classes of y log s(x) + (1 - y) log s(-x), per sample."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    log_sig = lambda x: _ew.neg(_ew.softplus(_ew.neg(x)))  # log sigmoid, stable
    loss = _ew.neg(
        _ew.add(
            _ew.mul(target, log_sig(input)), _ew.mul(_ew.sub(1.0, target), log_sig(_ew.neg(input)))
        )
    )
    if weight is not None:
        loss = _ew.mul(loss, weight)
    loss = _red.mean(loss, input.ndim - 1)
    return _reduce(loss, reduction)


def poisson_nll_loss(
    input: Tensor,
    target: Tensor,
    log_input: bool = True,
    full: bool = False,
    size_average=None,
    eps: float = 1e-8,
    reduce=None,
    reduction: str = "mean",
) -> Tensor:
    """exp(x) - y x (log_input), else x - y log(x + eps); `full` adds Stirling's
    y log y - y + log(2 pi y)/2 where y > 1."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if log_input:
        loss = _ew.sub(_ew.exp(input), _ew.mul(target, input))
    else:
        loss = _ew.sub(input, _ew.mul(target, _ew.log(_ew.add(input, eps))))
    if full:  # written as torch does, so the target's gradient matches (NaN at y = 0)
        stirling = _ew.add(
            _ew.sub(_ew.mul(target, _ew.log(target)), target),
            _ew.mul(_ew.log(_ew.mul(target, 2 * math.pi)), 0.5),
        )
        loss = _ew.add(loss, _ew.where(_ew.le(target, 1), 0.0, stirling))
    return _reduce(loss, reduction)


def gaussian_nll_loss(
    input: Tensor,
    target: Tensor,
    var,
    full: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
) -> Tensor:
    """(log(max(var, eps)) + (x - y)^2 / max(var, eps)) / 2 (+ log(2 pi)/2 when `full`).
    As in torch, the clamp to eps does not stop the gradient reaching `var`."""
    if not isinstance(var, Tensor):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = _ew.as_tensor_like(var, input)
    if tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):  # one var per sample: a trailing dim
            var = var.unsqueeze(-1)
        elif (
            not (
                tuple(input.shape[:-1]) == tuple(var.shape[:-1]) and var.ndim and var.shape[-1] == 1
            )
            and var.numel() != 1
        ):
            raise ValueError(
                f"var is of incorrect size: input {list(input.shape)}, var {list(var.shape)}"
            )
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    with no_grad():
        if bool(_red.any(_ew.lt(var, 0)).item()):
            raise ValueError("var has negative entry/entries")
        bump = _ew.sub(_ew.clamp(var, min=eps), var)  # the clamp, added as a constant
    var = _ew.add(var, bump)
    diff = _ew.sub(input, target)
    loss = _ew.mul(_ew.add(_ew.log(var), _ew.div(_ew.mul(diff, diff), var)), 0.5)
    if full:
        loss = _ew.add(loss, 0.5 * math.log(2 * math.pi))
    return _reduce(loss, reduction)

"""`nn.utils`: gradient clipping and flattening parameters to / from one vector; `nn.utils.rnn`
(minigrad/nn/utils/rnn.py) packs and pads variable-length sequences."""

from __future__ import annotations

import math
from collections.abc import Iterable

from minigrad import autograd
from minigrad.tensor import Tensor

__all__ = [
    "clip_grad_norm_", "clip_grad_value_", "parameters_to_vector", "vector_to_parameters", "rnn",
]  # fmt: skip


def _params(parameters) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        return [parameters]
    return list(parameters)


def clip_grad_norm_(
    parameters: Iterable[Tensor] | Tensor,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
    foreach=None,
) -> Tensor:
    """Scale all gradients together so their joint `norm_type` norm is at most `max_norm`.
    Returns the total norm before clipping (a 0-d tensor), as PyTorch."""
    grads = [p.grad for p in _params(parameters) if p.grad is not None]
    if not grads:
        import numpy as np

        return Tensor._make(np.asarray(0.0, dtype=np.float32))
    xp = grads[0]._backend_xp()
    norm_type = float(norm_type)
    arrays = [g._data for g in grads]
    if norm_type == math.inf:
        per = [xp.max(xp.abs(a)) if a.size else xp.asarray(0.0, a.dtype) for a in arrays]
        total = xp.max(xp.stack([xp.asarray(v, dtype=arrays[0].dtype) for v in per]))
    elif norm_type == 2.0:
        total = xp.sqrt(sum(xp.vdot(a.ravel(), a.ravel()).real for a in arrays))
    else:
        total = sum(xp.sum(xp.abs(a) ** norm_type) for a in arrays) ** (1.0 / norm_type)
    total = xp.asarray(total, dtype=arrays[0].dtype)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
            f"so it cannot be clipped. To disable this error and scale the gradients by the "
            f"non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    coef = float(max_norm) / (float(total) + 1e-6)
    if coef < 1.0:  # PyTorch clamps the coefficient at 1: never scale gradients up
        with autograd.no_grad():
            for g in grads:
                g._data = g._data * g._data.dtype.type(coef)
                g._vc[0] += 1
    return Tensor._make(total)


def clip_grad_value_(
    parameters: Iterable[Tensor] | Tensor, clip_value: float, foreach=None
) -> None:
    """Clamp every gradient element to [-clip_value, clip_value] in place."""
    clip_value = float(clip_value)
    for p in _params(parameters):
        if p.grad is not None:
            xp = p.grad._backend_xp()
            xp.clip(p.grad._data, -clip_value, clip_value, out=p.grad._data)
            p.grad._vc[0] += 1


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """All parameters flattened and concatenated (differentiable, like PyTorch's)."""
    from minigrad.ops import shape as _shape

    params = _params(parameters)
    if not params:
        raise RuntimeError("parameters_to_vector: expected a non-empty iterable of parameters")
    device = params[0].device
    for p in params:
        if p.device != device:
            raise TypeError(
                f"Found two parameters on different devices, this is currently not supported: "
                f"{device} and {p.device}"
            )
    return _shape.cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy slices of `vec` into the parameters (the inverse of parameters_to_vector)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {type(vec).__name__}")
    params = _params(parameters)
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.shape[0] != total:
        raise RuntimeError(
            f"vector_to_parameters: vec has shape {list(vec.shape)}, expected [{total}]"
        )
    offset = 0
    with autograd.no_grad():
        for p in params:
            n = p.numel()
            p._data = vec._data[offset : offset + n].reshape(p.shape).astype(p.dtype, copy=True)
            p._vc[0] += 1
            offset += n


from minigrad.nn.utils import rnn  # noqa: E402  (torch.nn.utils.rnn after a bare import)

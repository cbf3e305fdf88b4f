"""`Adam` and `AdamW`: Kingma & Ba's adaptive moments with bias correction (PyTorch's algorithm,
defaults and state layout: `step`, `exp_avg`, `exp_avg_sq`, `max_exp_avg_sq` with amsgrad)."""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as _np

from minigrad.backend import backend_of
from minigrad.optim._options import torch_options
from minigrad.optim.optimizer import Optimizer, ParamsT


class Adam(Optimizer):
    """Per step t, with g the gradient (plus `weight_decay * p`, or decayed from p for AdamW):

    m = b1 m + (1 - b1) g;   v = b2 v + (1 - b2) g^2   (v_max = max(v_max, v) with amsgrad)
    p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
    """

    _decoupled = False

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ):
        # decoupled_weight_decay=True is AdamW (for the whole optimizer, not per group)
        self._decoupled = self._decoupled or decoupled_weight_decay
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
        )
        defaults.update(
            torch_options(
                type(self).__name__, foreach=foreach, capturable=capturable,
                differentiable=differentiable, fused=fused,
                decoupled_weight_decay=self._decoupled,
            )
        )  # fmt: skip
        super().__init__(params, defaults)

    _nonnegative = ("lr", "weight_decay", "eps")

    def _validate_group(self, group: dict[str, Any]) -> None:
        super()._validate_group(group)
        betas = group["betas"]
        if len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        for i, b in enumerate(betas):
            if not 0.0 <= float(b) < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {b}")

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = float(group["lr"])
        beta1, beta2 = (float(b) for b in group["betas"])
        eps = float(group["eps"])
        wd = float(group["weight_decay"])
        amsgrad = group["amsgrad"]
        maximize = group["maximize"]
        for p, parr, g, state in self._params_with_grad(group):
            xp = backend_of(parr).xp
            if not state:
                state["step"] = 0
                state["exp_avg"] = self._zeros_like(parr)
                state["exp_avg_sq"] = self._zeros_like(parr)
                if amsgrad:
                    state["max_exp_avg_sq"] = self._zeros_like(parr)
            elif amsgrad and "max_exp_avg_sq" not in state:
                state["max_exp_avg_sq"] = self._zeros_like(parr)
            state["step"] += 1
            step = state["step"]
            arrays = [parr, g, state["exp_avg"]._data, state["exp_avg_sq"]._data]
            if amsgrad:
                arrays.append(state["max_exp_avg_sq"]._data)
            coefficients = (
                lr,
                beta1,
                beta2,
                eps,
                wd,
                lr / (1.0 - beta1**step),  # step size
                math.sqrt(1.0 - beta2**step),  # bias correction of the second moment, sqrt
            )
            size = parr.size
            if (
                type(parr) is _np.ndarray
                and size > _CHUNK
                and all(a.flags.c_contiguous for a in arrays if a is not g)
            ):
                # Thirteen elementwise passes: over the whole of a large parameter each pass
                # streams from memory; block by block they stay in cache (~1.5x faster). The
                # arithmetic per element is unchanged, so the result is bit-for-bit the same.
                flat = [a.reshape(-1) for a in arrays]
                starts = range(0, size, _CHUNK)
                workers = _threads()
                halves = (
                    [starts]
                    if workers < 2 or len(starts) < 4
                    else [
                        starts[: len(starts) // 2],
                        starts[len(starts) // 2 :],
                    ]
                )
                buffers = self._buffers(flat[0][:_CHUNK], 2 * len(halves))

                def run(starts, scratch):
                    for i in starts:
                        j = min(i + _CHUNK, size)
                        block = [a[i:j] for a in flat]
                        self._adam_math(
                            xp,
                            *block[:4],
                            block[4] if amsgrad else None,
                            *[b[: j - i] for b in scratch],
                            coefficients,
                            maximize,
                        )

                if len(halves) == 1:
                    run(starts, buffers)
                else:  # NumPy releases the GIL inside each pass: two halves run in parallel
                    other = _pool().submit(run, halves[0], buffers[2:])
                    run(halves[1], buffers[:2])
                    other.result()
            else:
                self._adam_math(
                    xp,
                    *arrays[:4],
                    arrays[4] if amsgrad else None,
                    *self._buffers(parr, 2),
                    coefficients,
                    maximize,
                )
            p._vc[0] += 1

    def _adam_math(self, xp, parr, g, m, v, vmax, s_grad, s_tmp, coefficients, maximize):
        """One Adam update of `parr` in place, every step elementwise (see the class doc)."""
        lr, beta1, beta2, eps, wd, step_size, bias_correction2_sqrt = coefficients
        if maximize:
            xp.negative(g, out=s_grad)
            g = s_grad
        if wd != 0.0:
            if self._decoupled:
                parr *= 1.0 - lr * wd  # AdamW: decay the weights, not the gradient
            else:
                xp.multiply(parr, wd, out=s_tmp)
                xp.add(g, s_tmp, out=s_grad)
                g = s_grad

        # m += (1 - b1) (g - m)   (a lerp towards g, as PyTorch computes it)
        xp.subtract(g, m, out=s_tmp)
        s_tmp *= 1.0 - beta1
        m += s_tmp
        # v = b2 v + (1 - b2) g^2
        v *= beta2
        xp.multiply(g, 1.0 - beta2, out=s_tmp)
        s_tmp *= g
        v += s_tmp
        if vmax is not None:
            xp.maximum(vmax, v, out=vmax)
            v = vmax

        # denom = sqrt(v) / sqrt(1 - b2^t) + eps;  p -= step_size * m / denom
        xp.sqrt(v, out=s_tmp)
        s_tmp /= bias_correction2_sqrt
        s_tmp += eps
        xp.divide(m, s_tmp, out=s_tmp)
        s_tmp *= -step_size
        parr += s_tmp


_CHUNK = 1 << 16  # elements per block of a blocked NumPy update (256 KiB of float32 per array)
_POOL = None


def _threads() -> int:
    """Threads for a large update: as many as BLAS uses (OPENBLAS_NUM_THREADS, OMP_NUM_THREADS,
    else one per core), at most 2: the same budget PyTorch's optimizer gets from its threads."""
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name, "")
        if value.isdigit():
            return min(int(value), 2)
    return min(os.cpu_count() or 1, 2)


def _pool():
    global _POOL
    if _POOL is None:
        from concurrent.futures import ThreadPoolExecutor

        _POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="minigrad-adam")
    return _POOL


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): `p *= 1 - lr * weight_decay`
    before the Adam update, instead of adding `weight_decay * p` to the gradient."""

    _decoupled = True

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ):
        super().__init__(
            params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
            capturable=capturable, differentiable=differentiable, fused=fused,
        )  # fmt: skip

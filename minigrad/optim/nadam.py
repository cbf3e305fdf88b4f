"""`NAdam`: Adam with Nesterov momentum (Dozat, 2016) and its momentum schedule, optionally
with decoupled weight decay (PyTorch's algorithm, defaults and state: `step`, `mu_product`,
`exp_avg`, `exp_avg_sq`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import dtypes
from minigrad.backend import backend_of
from minigrad.optim._options import check_betas, execution_options
from minigrad.optim.optimizer import Optimizer, ParamsT
from minigrad.tensor import Tensor


class NAdam(Optimizer):
    """mu_t = b1 (1 - 0.5 * 0.96^(t * momentum_decay)), prod_t = mu_1 ... mu_t;
    m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  d = sqrt(v / (1 - b2^t)) + eps;
    p -= lr (1 - mu_t) / (1 - prod_t) * g / d + lr mu_{t+1} / (1 - prod_t mu_{t+1}) * m / d.

    `weight_decay` adds `weight_decay * p` to g, or with `decoupled_weight_decay` (NAdamW)
    scales p by 1 - lr * weight_decay. `mu_product` is a 0-d tensor of the default dtype
    (float32 unless changed), rounded there every step, as torch keeps it.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ):
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            momentum_decay=momentum_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
        )
        defaults.update(execution_options("NAdam", foreach, capturable, differentiable))
        super().__init__(params, defaults)

    _nonnegative = ("lr", "eps", "weight_decay", "momentum_decay")

    def _validate_group(self, group: dict[str, Any]) -> None:
        super()._validate_group(group)
        check_betas(group["betas"])

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, eps, wd = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        momentum_decay = float(group["momentum_decay"])
        for p, parr, g, state in self._params_with_grad(group):
            xp = backend_of(parr).xp
            scalar_type = np.dtype(dtypes.get_default_dtype()).type
            if scalar_type is not np.float64:
                scalar_type = np.float32
            if not state:
                state["step"] = 0
                state["mu_product"] = Tensor._make(xp.asarray(np.asarray(scalar_type(1.0))))
                state["exp_avg"] = self._zeros_like(parr)
                state["exp_avg_sq"] = self._zeros_like(parr)
            state["step"] += 1
            step = state["step"]
            s_grad, s_denom, s_tmp = self._buffers(parr, 3)
            if group["maximize"]:
                xp.negative(g, out=s_grad)
                g = s_grad
            if wd != 0.0:
                if group["decoupled_weight_decay"]:
                    parr *= 1.0 - lr * wd
                else:
                    xp.multiply(parr, wd, out=s_tmp)
                    xp.add(g, s_tmp, out=s_grad)
                    g = s_grad
            mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
            mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
            held = state["mu_product"]
            mu_product = np.dtype(held.dtype).type(float(held._data)) * mu  # in the held dtype
            state["mu_product"] = Tensor._make(xp.asarray(np.asarray(mu_product)))
            mu_product = float(mu_product)
            m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
            xp.subtract(g, m, out=s_tmp)  # m += (1 - b1)(g - m), torch's lerp
            s_tmp *= 1.0 - beta1
            m += s_tmp
            v *= beta2  # v = b2 v + (1 - b2) g^2
            xp.multiply(g, 1.0 - beta2, out=s_tmp)
            s_tmp *= g
            v += s_tmp
            xp.divide(v, 1.0 - beta2**step, out=s_denom)  # d = sqrt(v / (1 - b2^t)) + eps
            xp.sqrt(s_denom, out=s_denom)
            s_denom += eps
            xp.divide(g, s_denom, out=s_tmp)
            s_tmp *= -lr * (1.0 - mu) / (1.0 - mu_product)
            parr += s_tmp
            xp.divide(m, s_denom, out=s_tmp)
            s_tmp *= (-lr * mu_next) / (1.0 - mu_product * mu_next)
            parr += s_tmp
            p._vc[0] += 1

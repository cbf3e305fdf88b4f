"""`RAdam`: Adam with the variance of its adaptive step rectified (Liu et al., 2019), plain
momentum SGD while too few steps are seen; optionally with decoupled weight decay (PyTorch's
algorithm, defaults and state: `step`, `exp_avg`, `exp_avg_sq`)."""

from __future__ import annotations

import math
from typing import Any

from minigrad.backend import backend_of
from minigrad.optim._options import check_betas, execution_options
from minigrad.optim.optimizer import Optimizer, ParamsT


class RAdam(Optimizer):
    """m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  m_hat = m / (1 - b1^t);
    rho_inf = 2 / (1 - b2) - 1,  rho_t = rho_inf - 2 t b2^t / (1 - b2^t);
    if rho_t > 5:  r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
                   p -= lr * m_hat * sqrt(1 - b2^t) / (sqrt(v) + eps) * r
    else:          p -= lr * m_hat.
    `weight_decay` adds `weight_decay * p` to g, or with `decoupled_weight_decay` scales p by
    1 - lr * weight_decay."""

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
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
            maximize=maximize,
            decoupled_weight_decay=decoupled_weight_decay,
        )
        defaults.update(execution_options("RAdam", foreach, capturable, differentiable))
        super().__init__(params, defaults)

    _nonnegative = ("lr", "eps", "weight_decay")

    def _validate_group(self, group: dict[str, Any]) -> None:
        super()._validate_group(group)
        check_betas(group["betas"])

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, eps, wd = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        for p, parr, g, state in self._params_with_grad(group):
            xp = backend_of(parr).xp
            if not state:
                state["step"] = 0
                state["exp_avg"] = self._zeros_like(parr)
                state["exp_avg_sq"] = self._zeros_like(parr)
            state["step"] += 1
            step = state["step"]
            s_grad, s_tmp, s_update = self._buffers(parr, 3)
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
            m, v = state["exp_avg"]._data, state["exp_avg_sq"]._data
            xp.subtract(g, m, out=s_tmp)  # m += (1 - b1)(g - m), torch's lerp
            s_tmp *= 1.0 - beta1
            m += s_tmp
            v *= beta2  # v = b2 v + (1 - b2) g^2
            xp.multiply(g, 1.0 - beta2, out=s_tmp)
            s_tmp *= g
            v += s_tmp
            bias_correction1 = 1 - beta1**step
            bias_correction2 = 1 - beta2**step
            xp.divide(m, bias_correction1, out=s_update)  # m_hat, then m_hat * lr
            s_update *= lr
            rho_inf = 2 / (1 - beta2) - 1
            rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
            if rho_t > 5.0:  # the variance of the adaptive step is tractable: rectify it
                rect = math.sqrt(
                    (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
                )
                xp.sqrt(v, out=s_tmp)  # adaptive lr = sqrt(1 - b2^t) / (sqrt(v) + eps)
                s_tmp += eps
                xp.divide(bias_correction2**0.5, s_tmp, out=s_tmp)
                s_update *= s_tmp
                s_update *= rect
            parr -= s_update
            p._vc[0] += 1

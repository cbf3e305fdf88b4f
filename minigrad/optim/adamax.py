"""`Adamax`: Adam with the infinity norm in place of the second moment (Kingma & Ba, section
7.1; PyTorch's algorithm, defaults and state: `step`, `exp_avg`, `exp_inf`)."""

from __future__ import annotations

from typing import Any

from minigrad.backend import backend_of
from minigrad.optim._options import check_betas, execution_options
from minigrad.optim.optimizer import Optimizer, ParamsT


class Adamax(Optimizer):
    """m = b1 m + (1 - b1) g;  u = max(b2 u, |g| + eps);  p -= lr / (1 - b1^t) * m / u
    (g plus `weight_decay * p`)."""

    def __init__(
        self,
        params: ParamsT,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize)
        defaults.update(execution_options("Adamax", foreach, capturable, differentiable))
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
                state["exp_inf"] = self._zeros_like(parr)
            state["step"] += 1
            s_grad, s_tmp = self._buffers(parr, 2)
            if group["maximize"]:
                xp.negative(g, out=s_grad)
                g = s_grad
            if wd != 0.0:
                xp.multiply(parr, wd, out=s_tmp)
                xp.add(g, s_tmp, out=s_grad)
                g = s_grad
            m, u = state["exp_avg"]._data, state["exp_inf"]._data
            xp.subtract(g, m, out=s_tmp)  # m += (1 - b1)(g - m), torch's lerp
            s_tmp *= 1.0 - beta1
            m += s_tmp
            u *= beta2  # u = max(b2 u, |g| + eps)
            xp.abs(g, out=s_tmp)
            s_tmp += eps
            xp.maximum(u, s_tmp, out=u)
            clr = lr / (1.0 - beta1 ** state["step"])
            xp.divide(m, u, out=s_tmp)
            s_tmp *= -clr
            parr += s_tmp
            p._vc[0] += 1

"""`Adadelta`: Zeiler's unit-corrected adaptive steps (PyTorch's algorithm, defaults and
state: `step`, `square_avg`, `acc_delta`)."""

from __future__ import annotations

from typing import Any

from minigrad.backend import backend_of
from minigrad.optim._options import execution_options
from minigrad.optim.optimizer import Optimizer, ParamsT


class Adadelta(Optimizer):
    """v = rho v + (1 - rho) g^2;  delta = sqrt(u + eps) / sqrt(v + eps) * g;
    u = rho u + (1 - rho) delta^2;  p -= lr * delta   (g plus `weight_decay * p`)."""

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ):
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        defaults.update(execution_options("Adadelta", foreach, capturable, differentiable))
        super().__init__(params, defaults)

    _nonnegative = ("lr", "eps", "weight_decay")

    def _validate_group(self, group: dict[str, Any]) -> None:
        super()._validate_group(group)
        if not 0.0 <= float(group["rho"]) <= 1.0:
            raise ValueError(f"Invalid rho value: {group['rho']}")

    def _update_group(self, group: dict[str, Any]) -> None:
        lr, rho, eps = float(group["lr"]), float(group["rho"]), float(group["eps"])
        wd = float(group["weight_decay"])
        for p, parr, g, state in self._params_with_grad(group):
            xp = backend_of(parr).xp
            if not state:
                state["step"] = 0
                state["square_avg"] = self._zeros_like(parr)
                state["acc_delta"] = self._zeros_like(parr)
            state["step"] += 1
            s_grad, s_std, s_delta = self._buffers(parr, 3)
            if group["maximize"]:
                xp.negative(g, out=s_grad)
                g = s_grad
            if wd != 0.0:
                xp.multiply(parr, wd, out=s_std)
                xp.add(g, s_std, out=s_grad)
                g = s_grad
            v, u = state["square_avg"]._data, state["acc_delta"]._data
            v *= rho  # v = rho v + (1 - rho) g^2
            xp.multiply(g, 1.0 - rho, out=s_std)
            s_std *= g
            v += s_std
            xp.add(v, eps, out=s_std)  # std = sqrt(v + eps)
            xp.sqrt(s_std, out=s_std)
            xp.add(u, eps, out=s_delta)  # delta = sqrt(u + eps) / std * g
            xp.sqrt(s_delta, out=s_delta)
            s_delta /= s_std
            s_delta *= g
            u *= rho  # u = rho u + (1 - rho) delta^2
            xp.multiply(s_delta, 1.0 - rho, out=s_std)
            s_std *= s_delta
            u += s_std
            s_delta *= -lr
            parr += s_delta
            p._vc[0] += 1

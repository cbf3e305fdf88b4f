"""`RMSprop`: gradients scaled by a running RMS (Hinton's lecture 6e), with optional momentum and
centering (PyTorch's algorithm, defaults and state: `step`, `square_avg`, `momentum_buffer`,
`grad_avg`)."""

from __future__ import annotations

from typing import Any

from minigrad.backend import backend_of
from minigrad.optim._options import execution_options
from minigrad.optim.optimizer import Optimizer, ParamsT


class RMSprop(Optimizer):
    """v = alpha v + (1 - alpha) g^2;  avg = sqrt(v - mean_g^2 if centered else v) + eps;
    p -= lr * g / avg   (or through a momentum buffer b = momentum b + g / avg)."""

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ):
        defaults = dict(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
            maximize=maximize,
        )
        defaults.update(execution_options("RMSprop", foreach, capturable, differentiable))
        super().__init__(params, defaults)

    _nonnegative = ("lr", "weight_decay", "eps", "momentum", "alpha")

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = float(group["lr"])
        alpha = float(group["alpha"])
        eps = float(group["eps"])
        wd = float(group["weight_decay"])
        momentum = float(group["momentum"])
        centered = group["centered"]
        maximize = group["maximize"]
        for p, parr, g, state in self._params_with_grad(group):
            xp = backend_of(parr).xp
            if not state:
                state["step"] = 0
                state["square_avg"] = self._zeros_like(parr)
            if momentum > 0 and "momentum_buffer" not in state:
                state["momentum_buffer"] = self._zeros_like(parr)
            if centered and "grad_avg" not in state:
                state["grad_avg"] = self._zeros_like(parr)
            state["step"] += 1
            s_grad, s_avg, s_tmp = self._buffers(parr, 3)
            if maximize:
                xp.negative(g, out=s_grad)
                g = s_grad
            if wd != 0.0:
                xp.multiply(parr, wd, out=s_tmp)
                xp.add(g, s_tmp, out=s_grad)
                g = s_grad
            # v = alpha v + (1 - alpha) g^2
            v = state["square_avg"]._data
            v *= alpha
            xp.multiply(g, 1.0 - alpha, out=s_tmp)
            s_tmp *= g
            v += s_tmp
            if centered:
                # mean_g += (1 - alpha)(g - mean_g);  avg = sqrt(v - mean_g^2)
                mg = state["grad_avg"]._data
                xp.subtract(g, mg, out=s_tmp)
                s_tmp *= 1.0 - alpha
                mg += s_tmp
                xp.multiply(mg, mg, out=s_avg)
                xp.subtract(v, s_avg, out=s_avg)
                xp.sqrt(s_avg, out=s_avg)
            else:
                xp.sqrt(v, out=s_avg)
            s_avg += eps
            if momentum > 0:
                # b = momentum b + g / avg;  p -= lr b
                b = state["momentum_buffer"]._data
                b *= momentum
                xp.divide(g, s_avg, out=s_tmp)
                b += s_tmp
                xp.multiply(b, -lr, out=s_tmp)
            else:
                xp.divide(g, s_avg, out=s_tmp)
                s_tmp *= -lr
            parr += s_tmp
            p._vc[0] += 1

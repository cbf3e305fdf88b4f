"""`Adagrad`: per-coordinate steps shrinking with the sum of squared gradients (Duchi et al.;
PyTorch's algorithm, defaults and state: `step`, `sum`)."""

from __future__ import annotations

from typing import Any

from minigrad.backend import backend_of
from minigrad.optim._options import torch_options
from minigrad.optim.optimizer import Optimizer, ParamsT


class Adagrad(Optimizer):
    """s += g^2;  p -= lr / (1 + (t - 1) lr_decay) * g / (sqrt(s) + eps)."""

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ):
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
            maximize=maximize,
        )
        defaults.update(
            torch_options("Adagrad", foreach=foreach, differentiable=differentiable, fused=fused)
        )
        super().__init__(params, defaults)

    _nonnegative = ("lr", "weight_decay", "lr_decay", "initial_accumulator_value", "eps")

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = float(group["lr"])
        lr_decay = float(group["lr_decay"])
        wd = float(group["weight_decay"])
        eps = float(group["eps"])
        maximize = group["maximize"]
        for p, parr, g, state in self._params_with_grad(group):
            xp = backend_of(parr).xp
            if not state:
                state["step"] = 0
                acc = self._zeros_like(parr)
                acc._data[...] = float(group["initial_accumulator_value"])
                state["sum"] = acc
            state["step"] += 1
            step = state["step"]
            s_grad, s_tmp = self._buffers(parr, 2)
            if maximize:
                xp.negative(g, out=s_grad)
                g = s_grad
            if wd != 0.0:
                xp.multiply(parr, wd, out=s_tmp)
                xp.add(g, s_tmp, out=s_grad)
                g = s_grad
            clr = lr / (1 + (step - 1) * lr_decay)
            s = state["sum"]._data
            xp.multiply(g, g, out=s_tmp)
            s += s_tmp
            # p -= clr * g / (sqrt(s) + eps)
            xp.sqrt(s, out=s_tmp)
            s_tmp += eps
            xp.divide(g, s_tmp, out=s_tmp)
            s_tmp *= -clr
            parr += s_tmp
            p._vc[0] += 1

"""`SGD`: stochastic gradient descent with momentum, dampening, Nesterov and weight decay
(PyTorch's algorithm and defaults)."""

from __future__ import annotations

from typing import Any

from minigrad.backend import backend_of
from minigrad.optim._options import torch_options
from minigrad.optim.optimizer import Optimizer, ParamsT
from minigrad.tensor import Tensor


class SGD(Optimizer):
    """`p -= lr * d`, where `d` is the gradient (plus `weight_decay * p`), or its momentum buffer
    `b = momentum * b + (1 - dampening) * g` (`g + momentum * b` with `nesterov=True`)."""

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ):
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )
        defaults.update(
            torch_options("SGD", foreach=foreach, differentiable=differentiable, fused=fused)
        )
        super().__init__(params, defaults)

    _nonnegative = ("lr", "weight_decay", "momentum")

    def _validate_group(self, group: dict[str, Any]) -> None:
        super()._validate_group(group)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = float(group["lr"])
        momentum = float(group["momentum"])
        dampening = float(group["dampening"])
        wd = float(group["weight_decay"])
        nesterov = group["nesterov"]
        maximize = group["maximize"]
        for p, parr, g, state in self._params_with_grad(group):
            xp = backend_of(parr).xp
            s_dir, s_tmp = self._buffers(parr, 2)
            # d = (-g if maximize else g) + wd * p, leaving p.grad untouched
            d = g
            if maximize or wd != 0.0:
                if maximize:
                    xp.negative(g, out=s_dir)
                else:
                    s_dir[...] = g
                if wd != 0.0:
                    xp.multiply(parr, wd, out=s_tmp)
                    s_dir += s_tmp
                d = s_dir
            if momentum != 0.0:
                buf = state.get("momentum_buffer")
                if buf is None:
                    # first step: the buffer starts as the direction itself (no dampening)
                    buf = state["momentum_buffer"] = Tensor._make(d.copy())
                else:
                    b = buf._data
                    b *= momentum
                    if dampening != 0.0:
                        xp.multiply(d, 1.0 - dampening, out=s_tmp)
                        b += s_tmp
                    else:
                        b += d
                if nesterov:
                    xp.multiply(buf._data, momentum, out=s_tmp)
                    s_tmp += d
                    d = s_tmp
                else:
                    d = buf._data
            # p += -lr * d
            if d is s_tmp:
                s_tmp *= -lr
            else:
                xp.multiply(d, -lr, out=s_tmp)
            parr += s_tmp
            p._vc[0] += 1

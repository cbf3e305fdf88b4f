"""`Optimizer`: the base class of minigrad's optimizers (PyTorch's `torch.optim.Optimizer`).

It owns parameter groups (with defaults filled in), per-parameter state, `zero_grad`, `step`
(closure handling, then one `_update_group` per group), `add_param_group`, and
`state_dict`/`load_state_dict` in PyTorch's layout. Subclasses write their update rule in
`_update_group` directly on the raw arrays (`p._data`), in place and without temporaries: an
optimizer step is on every training step's hot path.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from minigrad import autograd
from minigrad.backend import backend_of, to_device
from minigrad.tensor import Tensor

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]]


class Optimizer:
    """Base class: holds `param_groups` (list of dicts) and `state` (param -> dict)."""

    def __init__(self, params: ParamsT, defaults: dict[str, Any]):
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts, but got {type(params).__name__}"
            )
        if isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list instead."
            )
        self.defaults = dict(defaults)
        # defaultdict as in PyTorch: `opt.state[p]` of a parameter not yet stepped is `{}`
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        # Scratch buffers reused by every update (one flat array per backend and dtype), so a
        # step allocates nothing after the first one.
        self._scratch: dict[tuple, list] = {}
        groups = list(params)
        if len(groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # --- groups ---

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group (`{"params": ..., <option>: value}`); missing options take the defaults."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        group = dict(param_group)
        params = group["params"] if "params" in group else None
        if params is None:
            raise ValueError("param_group must have a 'params' key")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list instead."
            )
        params = list(params)
        if len(params) == 0:
            raise ValueError("optimizer got an empty parameter list")
        seen: set[int] = set()
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"optimizer can only optimize Tensors, but params[{i}] is a {type(p).__name__}"
                )
            if not p.is_leaf:
                raise ValueError(
                    f"can't optimize a non-leaf Tensor (params[{i}] has grad_fn="
                    f"{p.grad_fn.name()}); optimize the leaf it was computed from, or .detach() "
                    "it and set requires_grad=True"
                )
            if p.dtype.kind != "f":
                raise TypeError(
                    f"can only optimize floating point Tensors, params[{i}] is {p.dtype}"
                )
            if id(p) in seen:
                raise ValueError(
                    f"optimizer parameter group contains params[{i}] (shape {list(p.shape)}) "
                    "more than once"
                )
            seen.add(id(p))
        for other in self.param_groups:
            if any(id(q) in seen for q in other["params"]):
                raise ValueError("some parameters appear in more than one parameter group")
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        self._validate_group(group)
        group["params"] = params
        self.param_groups.append(group)

    # hyper-parameters that must be >= 0; subclasses extend the tuple
    _nonnegative: tuple[str, ...] = ("lr", "weight_decay")

    def _validate_group(self, group: dict[str, Any]) -> None:
        """Check hyper-parameters; subclasses add their own checks and call this."""
        for name in self._nonnegative:
            value = group.get(name)
            if value is not None and not float(value) >= 0.0:
                label = {"lr": "learning rate", "eps": "epsilon value"}.get(name, f"{name} value")
                raise ValueError(f"Invalid {label}: {value}")

    # --- gradients and steps ---

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimized tensors (drop them, or fill them with zeros)."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if p.grad.grad_fn is not None:
                        p.grad = p.grad.detach()
                    p.grad.requires_grad = False
                    p.grad.zero_()

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; `closure` re-evaluates the loss first."""
        loss = None
        if closure is not None:
            with autograd.enable_grad():
                loss = closure()
        with autograd.no_grad():
            for group in self.param_groups:
                self._update_group(group)
        return loss

    def _update_group(self, group: dict[str, Any]) -> None:
        raise NotImplementedError(f"{type(self).__name__} must implement _update_group or step")

    # --- helpers for subclasses ---

    def _params_with_grad(self, group: dict[str, Any]):
        """Yield `(p, p_array, grad_array, state)` for the group's params that have a gradient."""
        for p in group["params"]:
            g = p.grad
            if g is None:
                continue
            garr = g._data
            parr = p._data
            if garr.shape != parr.shape:
                raise RuntimeError(
                    f"gradient of shape {list(garr.shape)} does not match parameter of shape "
                    f"{list(parr.shape)}"
                )
            if garr.dtype != parr.dtype:
                raise RuntimeError(
                    f"gradient dtype {garr.dtype} does not match parameter dtype {parr.dtype}"
                )
            if type(garr) is not type(parr):
                raise RuntimeError(f"gradient is on {g.device} but parameter is on {p.device}")
            if not getattr(parr.flags, "writeable", True):  # CuPy arrays have no such flag
                p._data = parr = parr.copy()
            state = self.state[p]
            if state:
                _follow_device(state, parr)
            yield p, parr, garr, state

    def _buffers(self, like, count: int) -> list:
        """`count` scratch arrays shaped like `like` (views into reused flat buffers)."""
        # Keyed on the device too: guard:0/guard:1 (or cuda:0/cuda:1) share an array type.
        key = (type(like), like.dtype, count)
        device = None
        if type(like) is not np.ndarray:
            device = backend_of(like).device_of(like)
            key += (device,)
        bufs = self._scratch.get(key)
        n = like.size
        if bufs is None or bufs[0].size < n:
            backend = backend_of(like)
            # A bare `xp.empty` allocates on the *current* GPU, not necessarily like's.
            xp = backend.xp if device is None else backend.namespace(device)
            bufs = [xp.empty(max(n, 1), dtype=like.dtype) for _ in range(count)]
            self._scratch[key] = bufs
        return [b[:n].reshape(like.shape) for b in bufs]

    @staticmethod
    def _zeros_like(parr) -> Tensor:
        return Tensor._make(backend_of(parr).xp.zeros_like(parr))

    # --- state dicts ---

    def state_dict(self) -> dict[str, Any]:
        """A snapshot in PyTorch's layout: `{"state": {index: {...}}, "param_groups": [...]}`.

        Parameters are numbered in group order; state tensors are copies, so training on after
        taking the snapshot does not change it (minigrad tensors cannot be deep-copied).
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            packed["params"] = ids
            groups.append(packed)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if self.state.get(p):
                    state[index[id(p)]] = {
                        k: (v.clone() if isinstance(v, Tensor) else v)
                        for k, v in self.state[p].items()
                    }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyper-parameters and state saved by `state_dict()` (validated before any change).

        Floating-point state tensors are copied to each parameter's dtype and device.
        """
        if not isinstance(state_dict, dict) or "param_groups" not in state_dict:
            raise ValueError("optimizer state_dict must be a dict with 'state' and 'param_groups'")
        saved_groups = state_dict["param_groups"]
        saved_state = state_dict.get("state", {})
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has {len(saved_groups)} parameter groups, but the optimizer "
                f"has {len(self.param_groups)}"
            )
        for i, (g, s) in enumerate(zip(self.param_groups, saved_groups)):
            if len(g["params"]) != len(s["params"]):
                raise ValueError(
                    f"loaded state dict contains a parameter group ({i}) with {len(s['params'])} "
                    f"parameters, but the optimizer's group has {len(g['params'])}"
                )
        id_map: dict[Any, Tensor] = {}
        for g, s in zip(self.param_groups, saved_groups):
            for p, k in zip(g["params"], s["params"]):
                id_map[k] = p
        new_state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        for k, values in saved_state.items():
            key = int(k) if isinstance(k, str) and k.lstrip("-").isdigit() else k
            if key not in id_map:
                raise ValueError(f"loaded state refers to parameter {k!r}, which no group contains")
            p = id_map[key]
            if not isinstance(values, dict):
                raise ValueError(
                    f"state of parameter {k!r} must be a dict, got {type(values).__name__}"
                )
            new_state[p] = {name: _cast_state(p, name, v) for name, v in values.items()}
        groups = []
        for g, s in zip(self.param_groups, saved_groups):
            group = {k: v for k, v in s.items() if k != "params"}
            group["params"] = g["params"]
            groups.append(group)
        self.state = new_state
        self.param_groups = groups

    def __getstate__(self):
        raise TypeError("optimizers are not picklable: save optimizer.state_dict() with mg.save")

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


def _follow_device(state: dict[str, Any], parr) -> None:
    """Move state tensors to their parameter's device, lazily at the next step: after
    `module.to(device)` the parameters move but the optimizer's state (momenta, averages) does
    not, and an update mixing devices would fail. Costs a type check per state tensor on the
    host (NumPy has one device), a device comparison elsewhere."""
    host = type(parr) is np.ndarray
    device = None
    for name, value in state.items():
        if not isinstance(value, Tensor):
            continue
        arr = value._data
        if type(arr) is type(parr):
            if host:
                continue
            if device is None:
                device = backend_of(parr).device_of(parr)
            if backend_of(arr).device_of(arr) == device:
                continue
        state[name] = Tensor._make(to_device(arr, backend_of(parr).device_of(parr)))


def _cast_state(p: Tensor, name: str, value: Any) -> Any:
    """A private copy of one state value, on the parameter's device (floats in its dtype)."""
    if not isinstance(value, Tensor):
        return value
    if value.ndim > 0 and value.shape != p.shape:
        raise ValueError(
            f"loaded state '{name}' has shape {list(value.shape)}, but its parameter has shape "
            f"{list(p.shape)}"
        )
    arr = value.detach().to(p.device)._data
    if arr.dtype.kind == "f" and name != "step":
        arr = arr.astype(p.dtype, copy=True)
    else:
        arr = arr.copy()
    return Tensor._make(arr)

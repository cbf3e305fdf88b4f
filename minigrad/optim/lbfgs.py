"""`LBFGS`: limited-memory BFGS (Nocedal & Wright, Algorithm 7.4 and 7.5) with an optional
strong-Wolfe line search (Algorithms 3.5 and 3.6, cubic interpolation in the zoom), as PyTorch
runs it: the same defaults, stopping rules, state (`func_evals`, `n_iter`, `d`, `t`,
`old_dirs`, `old_stps`, `ro`, `H_diag`, `prev_flat_grad`, `prev_loss`, `al`) and iterates.

All parameters are treated as one flat vector (one parameter group only, as in torch). Step
sizes, curvatures and directional derivatives are scalars of the parameters' dtype, as torch's
0-d tensors are, so float32 runs round where torch's do; losses are Python floats.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from minigrad import autograd
from minigrad.backend import backend_of
from minigrad.optim.optimizer import Optimizer, ParamsT
from minigrad.tensor import Tensor

__all__ = ["LBFGS"]


def _scalar(value):
    """A reduction's result as a host scalar of its dtype (np.float32 / np.float64)."""
    if isinstance(value, np.generic):
        return value
    return np.dtype(value.dtype).type(float(value))


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1, g2, clamped to
    `bounds` (default: the interval between x1 and x2); the midpoint when it has none."""
    if bounds is not None:
        lo, hi = bounds
    else:
        lo, hi = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1**2 - g1 * g2
    if d2_square >= 0:
        d2 = np.sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, lo), hi)
    return (lo + hi) / 2.0


def _strong_wolfe(xp, obj_func, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """A step t along d satisfying the strong Wolfe conditions: bracket a step (growing it by
    cubic extrapolation), then zoom into the bracket by cubic interpolation. Returns
    (f_new, g_new, t, evaluations)."""
    d_norm = _scalar(xp.max(xp.abs(d)))
    f_new, g_new = obj_func(t, d)
    evals = 1
    gtd_new = _scalar(xp.dot(g_new, d))
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:
        if f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        # extrapolate, between 1.01 t and 10 t
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        previous = t
        t = _cubic_interpolate(
            t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step)
        )
        t_prev, f_prev, g_prev, gtd_prev = previous, f_new, g_new, gtd_new
        f_new, g_new = obj_func(t, d)
        evals += 1
        gtd_new = _scalar(xp.dot(g_new, d))
        ls_iter += 1
    if ls_iter == max_ls:  # no bracket found within the budget
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]

    # zoom: shrink the bracket until a point satisfies the strong Wolfe conditions
    insufficient_progress = False
    low, high = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(
            bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1]
        )
        # keep t at least 10% of the bracket away from its ends (torch's safeguard)
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insufficient_progress or t >= max(bracket) or t <= min(bracket):
                if abs(t - max(bracket)) < abs(t - min(bracket)):
                    t = max(bracket) - eps
                else:
                    t = min(bracket) + eps
                insufficient_progress = False
            else:
                insufficient_progress = True
        else:
            insufficient_progress = False
        f_new, g_new = obj_func(t, d)
        evals += 1
        gtd_new = _scalar(xp.dot(g_new, d))
        ls_iter += 1
        if f_new > f + c1 * t * gtd or f_new >= bracket_f[low]:
            bracket[high], bracket_f[high] = t, f_new
            bracket_g[high], bracket_gtd[high] = g_new, gtd_new
            low, high = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high] - bracket[low]) >= 0:
                bracket[high], bracket_f[high] = bracket[low], bracket_f[low]
                bracket_g[high], bracket_gtd[high] = bracket_g[low], bracket_gtd[low]
            bracket[low], bracket_f[low] = t, f_new
            bracket_g[low], bracket_gtd[low] = g_new, gtd_new
    return bracket_f[low], bracket_g[low], bracket[low], evals


# state entries held as arrays / host scalars while stepping, as Tensors in `state`
_VECTORS = ("d", "prev_flat_grad")
_SCALARS = ("t", "H_diag")
_LISTS = ("old_dirs", "old_stps", "ro", "al")


class LBFGS(Optimizer):
    """L-BFGS: each `step(closure)` runs up to `max_iter` iterations (at most `max_eval`
    closure calls), each a quasi-Newton direction from the last `history_size` curvature pairs
    and a step of `lr` (or a strong-Wolfe line search with `line_search_fn="strong_wolfe"`).
    Stops early when the largest gradient entry is at most `tolerance_grad`, or the step or
    the change of the loss is below `tolerance_change`. `closure` must clear the gradients,
    compute the loss, call backward and return the loss.
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float | Tensor = 1,
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
        line_search_fn: str | None = None,
    ) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= float(lr):
            raise ValueError(f"Invalid learning rate: {lr}")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(
            lr=lr,
            max_iter=max_iter,
            max_eval=max_eval,
            tolerance_grad=tolerance_grad,
            tolerance_change=tolerance_change,
            history_size=history_size,
            line_search_fn=line_search_fn,
        )
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        if self.param_groups:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        super().add_param_group(param_group)

    # --- the parameters as one flat vector ---

    def _xp(self):
        return backend_of(self._params[0]._data).xp

    def _gather_flat_grad(self):
        """A new flat array of all gradients (zeros for a parameter without one)."""
        xp = self._xp()
        views = []
        for p in self._params:
            if p.grad is None:
                views.append(xp.zeros(p.numel(), dtype=p.dtype))
            else:
                views.append(xp.reshape(p.grad._data, -1))
        return xp.concatenate(views)

    def _add_grad(self, step_size, update) -> None:
        offset = 0
        for p in self._params:
            n = p.numel()
            parr = p._data
            if not getattr(parr.flags, "writeable", True):
                p._data = parr = parr.copy()
            parr += (update[offset : offset + n] * step_size).reshape(parr.shape)
            p._vc[0] += 1
            offset += n

    def _clone_params(self) -> list:
        return [p._data.copy() for p in self._params]

    def _set_params(self, arrays) -> None:
        for p, arr in zip(self._params, arrays):
            p._data[...] = arr
            p._vc[0] += 1

    # --- the algorithm ---

    def step(self, closure: Callable[[], Any]) -> Any:  # type: ignore[override]
        """One L-BFGS step (several iterations); returns the closure's first loss."""
        if closure is None:
            raise RuntimeError("LBFGS requires a closure that reevaluates the model")

        def evaluate() -> Any:
            with autograd.enable_grad():
                return closure()

        with autograd.no_grad():
            return self._step(evaluate)

    def _step(self, closure):
        group = self.param_groups[0]
        lr = group["lr"]
        lr = lr.item() if isinstance(lr, Tensor) else lr  # an int stays an int, as in torch
        max_iter = group["max_iter"]
        max_eval = group["max_eval"]
        tolerance_grad = group["tolerance_grad"]
        tolerance_change = group["tolerance_change"]
        line_search_fn = group["line_search_fn"]
        history_size = group["history_size"]
        if line_search_fn is not None and line_search_fn != "strong_wolfe":
            raise RuntimeError("only 'strong_wolfe' is supported")

        xp = self._xp()
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if _scalar(xp.max(xp.abs(flat_grad))) <= tolerance_grad:
            return orig_loss  # already optimal

        work = self._unpack(state)
        d, t = work["d"], work["t"]
        old_dirs, old_stps, ro = work["old_dirs"], work["old_stps"], work["ro"]
        h_diag, prev_flat_grad = work["H_diag"], work["prev_flat_grad"]
        prev_loss = state.get("prev_loss")
        al = work["al"]

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:  # steepest descent first
                d = -flat_grad
                old_dirs, old_stps, ro = [], [], []
                h_diag = 1
            else:
                # update the curvature memory with y = change of gradient, s = the step
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = _scalar(xp.dot(y, s))
                if ys > 1e-10:
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    h_diag = ys / _scalar(xp.dot(y, y))  # initial Hessian scale
                # two-loop recursion: d = -H grad
                num_old = len(old_dirs)
                if al is None:
                    al = [None] * history_size
                q = -flat_grad
                for i in range(num_old - 1, -1, -1):
                    al[i] = _scalar(xp.dot(old_stps[i], q)) * ro[i]
                    q += old_dirs[i] * (-al[i])
                d = r = q * h_diag
                for i in range(num_old):
                    be_i = _scalar(xp.dot(old_dirs[i], r)) * ro[i]
                    r += old_stps[i] * (al[i] - be_i)

            prev_flat_grad = flat_grad.copy()
            prev_loss = loss
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / _scalar(xp.sum(xp.abs(flat_grad)))) * lr
            else:
                t = lr
            gtd = _scalar(xp.dot(flat_grad, d))
            if gtd > -tolerance_change:  # not a descent direction
                break

            evals = 0
            if line_search_fn is not None:
                x_init = self._clone_params()

                def obj_func(step, direction, x_init=x_init):
                    self._add_grad(step, direction)
                    value = float(closure())
                    grad = self._gather_flat_grad()
                    self._set_params(x_init)
                    return value, grad

                loss, flat_grad, t, evals = _strong_wolfe(
                    xp, obj_func, t, d, loss, flat_grad, gtd, max_ls=max_eval - current_evals
                )
                self._add_grad(t, d)
                opt_cond = _scalar(xp.max(xp.abs(flat_grad))) <= tolerance_grad
            else:
                self._add_grad(t, d)
                opt_cond = False
                if n_iter != max_iter:  # re-evaluate, unless this is the last iteration
                    loss = float(closure())
                    flat_grad = self._gather_flat_grad()
                    opt_cond = _scalar(xp.max(xp.abs(flat_grad))) <= tolerance_grad
                    evals = 1
            current_evals += evals
            state["func_evals"] += evals

            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if _scalar(xp.max(xp.abs(d * t))) <= tolerance_change:
                break
            if abs(loss - prev_loss) < tolerance_change:
                break

        self._pack(
            state,
            d=d,
            t=t,
            old_dirs=old_dirs,
            old_stps=old_stps,
            ro=ro,
            H_diag=h_diag,
            prev_flat_grad=prev_flat_grad,
            al=al,
        )
        state["prev_loss"] = prev_loss
        return orig_loss

    # --- state: Tensors outside a step (torch's layout), arrays and scalars inside ---

    @staticmethod
    def _unpack(state: dict) -> dict:
        def raw(v):
            if isinstance(v, Tensor):
                return _scalar(v._data) if v.ndim == 0 else v._data.copy()
            return v

        work: dict[str, Any] = {}
        for name in _VECTORS + _SCALARS:
            work[name] = raw(state.get(name))
        for name in _LISTS:
            value = state.get(name)
            work[name] = None if value is None else [raw(v) for v in value]
        return work

    @staticmethod
    def _pack(state: dict, **values) -> None:
        def wrap(v):
            if isinstance(v, np.generic):
                return Tensor._make(np.asarray(v))
            if v is None or isinstance(v, (int, float)):
                return v
            return Tensor._make(v)

        for name, value in values.items():
            if name in _LISTS:
                state[name] = None if value is None else [wrap(v) for v in value]
            else:
                state[name] = wrap(value)
        if state.get("al") is None:
            state.pop("al", None)

    def state_dict(self) -> dict[str, Any]:
        """torch's layout; the history lists are copied, as the tensors are."""
        packed = super().state_dict()
        for values in packed["state"].values():
            for name in _LISTS:
                if isinstance(values.get(name), list):
                    values[name] = [v.clone() if isinstance(v, Tensor) else v for v in values[name]]
        return packed

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a state saved by `state_dict()` (torch's or ours): flat vectors and history
        lists are copied to the parameters' dtype and device."""
        saved = dict(state_dict)
        state = dict(saved.get("state", {}))
        saved["state"] = {}
        super().load_state_dict(saved)
        if not state:
            return
        if len(state) != 1:
            raise ValueError(
                f"LBFGS keeps its state on the first parameter only, got state for {len(state)}"
            )
        ((key, values),) = state.items()
        if str(key) != "0":
            raise ValueError(f"LBFGS keeps its state on parameter 0, got {key!r}")
        first = self._params[0]
        numel = sum(p.numel() for p in self._params)

        def cast(name, v):
            if not isinstance(v, Tensor):
                return v
            if v.ndim > 0 and v.numel() != numel:
                raise ValueError(
                    f"loaded LBFGS state '{name}' has {v.numel()} elements, but the parameters "
                    f"have {numel}"
                )
            arr = v.detach().to(first.device)._data
            arr = arr.astype(first.dtype, copy=True) if arr.dtype.kind == "f" else arr.copy()
            return Tensor._make(arr)

        restored = {}
        for name, v in values.items():
            if isinstance(v, list):
                restored[name] = [cast(name, x) for x in v]
            else:
                restored[name] = cast(name, v)
        self.state[first] = restored

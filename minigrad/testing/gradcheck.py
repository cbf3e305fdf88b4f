"""Finite-difference gradient checks: `gradcheck`, `gradgradcheck` and `numerical_grad`.

Everything here needs only NumPy. The checks compare minigrad's analytical derivatives with
central differences in float64, over the full Jacobian when the outputs are small (what tests
use) and over a few random vector-Jacobian products otherwise.

Device-agnostic: inputs may live on any device (CPU, CUDA, guard). fn runs where its inputs
are; upstream vectors are created on the outputs' devices; values are perturbed by writing
Python floats into the input arrays in place, and every comparison happens on the host, after
explicit copies (`backend.to_device`). No device array is ever converted implicitly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from minigrad import autograd
from minigrad.backend import CPU, Device, to_device
from minigrad.tensor import Tensor

# Outputs with more elements than this are checked through random vector-Jacobian products
# (a wrong Jacobian is caught by a random projection with probability 1) instead of row by row.
FULL_JACOBIAN_LIMIT = 128
RANDOM_PROJECTIONS = 3


class GradcheckError(RuntimeError):
    """An analytical gradient disagrees with the finite-difference one."""


def _as_tuple(x) -> tuple:
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _differentiable(inputs: tuple) -> list[int]:
    """Indices of the inputs gradcheck differentiates: Tensors with requires_grad=True."""
    picked = [k for k, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    for k in picked:
        dtype = inputs[k].dtype
        if dtype != np.float64:
            raise TypeError(
                f"gradcheck: input {k} has dtype {dtype}; finite differences are only meaningful "
                f"in float64 (float32 rounding swamps eps). Pass x.double() instead."
            )
    return picked


def _on(array: np.ndarray, device: Device) -> Tensor:
    """A host array as a Tensor on `device` (an explicit transfer; no copy on the CPU)."""
    return Tensor._make(to_device(array, device))


def _host64(t: Tensor) -> np.ndarray:
    return np.asarray(to_device(t._data, CPU), dtype=np.float64)


def _outputs(fn: Callable, inputs: tuple) -> tuple:
    out = _as_tuple(fn(*inputs))
    for k, o in enumerate(out):
        if not isinstance(o, Tensor):
            raise TypeError(f"gradcheck: output {k} of fn is a {type(o).__name__}, not a Tensor")
    return out


def _flat_outputs(fn: Callable, inputs: tuple) -> np.ndarray:
    """All float outputs of fn, as one float64 vector (integer outputs carry no gradient)."""
    # Grad mode stays on: fn may itself differentiate (gradgradcheck's first derivative).
    with autograd.enable_grad():
        out = _outputs(fn, inputs)
    parts = [_host64(o).ravel() for o in out if o.dtype.kind in "fc"]
    return np.concatenate(parts) if parts else np.zeros(0)


def numerical_grad(
    fn: Callable, inputs: Sequence, eps: float = 1e-6, wrt: Sequence[int] | None = None
) -> list[np.ndarray]:
    """Central-difference Jacobians of fn's (flattened, concatenated) float outputs.

    Returns one array per differentiated input (those with requires_grad=True, or `wrt`), of
    shape [n_outputs, *input.shape]:
    d out[j] / d input[i] = (f(x + eps e_i) - f(x - eps e_i)) / (2 eps).
    """
    inputs = _as_tuple(inputs)
    wrt = _differentiable(inputs) if wrt is None else list(wrt)
    n_out = _flat_outputs(fn, inputs).size
    jacobians = []
    for k in wrt:
        # Perturbed in place (restored below), so views stay views. The values come from a host
        # copy and go in as Python floats: fine on every backend, no implicit transfer.
        array = inputs[k]._data
        host = np.array(to_device(array, CPU), dtype=np.float64)
        jac = np.zeros((n_out,) + array.shape)
        for idx in np.ndindex(array.shape):
            original = float(host[idx])
            array[idx] = original + eps
            plus = _flat_outputs(fn, inputs)
            array[idx] = original - eps
            minus = _flat_outputs(fn, inputs)
            array[idx] = original
            jac[(slice(None),) + idx] = (plus - minus) / (2 * eps)
        jacobians.append(jac)
    return jacobians


def _analytical_vjp(fn: Callable, inputs: tuple, wrt: list[int], vectors: list[np.ndarray]):
    """For each upstream vector v (over the flattened outputs): the gradients v^T J per input."""
    with autograd.enable_grad():
        outs = _outputs(fn, inputs)
    float_outs = [o for o in outs if o.dtype.kind in "fc"]
    sizes = [o.numel() for o in float_outs]
    tracked = [k for k, o in enumerate(float_outs) if o.requires_grad]
    results = []
    for v in vectors:
        grads = [np.zeros(inputs[k].shape) for k in wrt]
        if tracked:
            pieces = np.split(v, np.cumsum(sizes)[:-1]) if sizes else []
            roots = [float_outs[k] for k in tracked]
            upstream = [
                _on(
                    pieces[k].reshape(float_outs[k].shape).astype(float_outs[k].dtype),
                    float_outs[k].device,
                )
                for k in tracked
            ]
            got = autograd.grad(
                roots,
                [inputs[k] for k in wrt],
                upstream,
                retain_graph=True,
                allow_unused=True,
            )
            for j, (k, g) in enumerate(zip(wrt, got)):
                if g is None:
                    continue
                if tuple(g.shape) != tuple(inputs[k].shape) or g.dtype != inputs[k].dtype:
                    raise GradcheckError(
                        f"gradcheck: the gradient of input {k} has shape {tuple(g.shape)} and "
                        f"dtype {g.dtype}, but the input has shape {tuple(inputs[k].shape)} and "
                        f"dtype {inputs[k].dtype}"
                    )
                grads[j] = _host64(g)
        results.append(grads)
    return results


def gradcheck(
    fn: Callable,
    inputs,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    seed: int = 0,
) -> bool:
    """Check fn's gradients against central differences, for every input with requires_grad.

    `inputs` is a Tensor or a tuple of arguments (non-Tensors are passed through). fn returns a
    Tensor or a tuple of Tensors. Differentiated inputs must be float64. Returns True, or raises
    `GradcheckError` naming the input, the worst element, and both values (False when
    `raise_exception=False`).
    """
    inputs = _as_tuple(inputs)
    wrt = _differentiable(inputs)
    if not wrt:
        raise ValueError("gradcheck: no input has requires_grad=True; nothing to check")
    numerical = numerical_grad(fn, inputs, eps, wrt)
    n_out = numerical[0].shape[0]
    if n_out <= FULL_JACOBIAN_LIMIT:
        vectors = list(np.eye(n_out))  # row j of the Jacobian, one backward each
        kind = "output element"
    else:
        rng = np.random.default_rng(seed)
        vectors = list(rng.standard_normal((RANDOM_PROJECTIONS, n_out)))
        kind = "random projection"
    analytical = _analytical_vjp(fn, inputs, wrt, vectors)
    for j, k in enumerate(wrt):
        for r, v in enumerate(vectors):
            a = analytical[r][j]
            n = np.tensordot(v, numerical[j], axes=1)
            bad = ~np.isclose(a, n, rtol=rtol, atol=atol, equal_nan=True)
            if bad.any():
                err = np.where(bad, np.abs(a - n), -1.0)
                err = np.where(np.isnan(err), np.inf, err)
                worst = np.unravel_index(int(np.argmax(err)), a.shape)
                where = (
                    f"{kind} {r}"
                    if kind == "random projection"
                    else (f"output element {r} (flat index over all outputs)")
                )
                message = (
                    f"Jacobian mismatch for input {k} (shape {tuple(a.shape)}) at {where}: "
                    f"worst element {tuple(int(i) for i in worst)}: analytical "
                    f"{float(a[worst]):.10g} vs numerical {float(n[worst]):.10g} "
                    f"({int(bad.sum())} of {a.size} elements differ; atol={atol}, rtol={rtol})"
                )
                if raise_exception:
                    raise GradcheckError(message)
                return False
    return True


def gradgradcheck(
    fn: Callable,
    inputs,
    grad_outputs=None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    seed: int = 0,
) -> bool:
    """Check second derivatives: gradcheck of x -> d(fn(x) . v)/dx, recorded with create_graph.

    `grad_outputs` are the vectors v (one per output); random float64 ones by default.
    """
    inputs = _as_tuple(inputs)
    wrt = _differentiable(inputs)
    if not wrt:
        raise ValueError("gradgradcheck: no input has requires_grad=True; nothing to check")
    outs = _outputs(fn, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        vs = [_on(rng.standard_normal(o.shape).astype(o.dtype), o.device) for o in outs]
    else:
        vs = [
            g if isinstance(g, Tensor) else _on(np.asarray(g, dtype=np.float64), o.device)
            for g, o in zip(_as_tuple(grad_outputs), outs)
        ]

    def first_derivative(*args):
        out = [o for o in _outputs(fn, args) if o.dtype.kind in "fc"]
        roots = [(o, v) for o, v in zip(out, vs) if o.requires_grad]
        if not roots:
            return tuple(_on(np.zeros(args[k].shape), args[k].device) for k in wrt)
        grads = autograd.grad(
            [o for o, _ in roots],
            [args[k] for k in wrt],
            [v for _, v in roots],
            create_graph=True,
            allow_unused=True,
        )
        return tuple(
            _on(np.zeros(args[k].shape), args[k].device) if g is None else g
            for k, g in zip(wrt, grads)
        )

    return gradcheck(first_derivative, inputs, eps, atol, rtol, raise_exception, seed)


# --- torch.autograd's spellings ----------------------------------------------------------------
# `mg.autograd.gradcheck` / `gradgradcheck` take torch's arguments (all options keyword-only);
# the checks minigrad cannot run (forward-mode AD, batched gradients) are refused, not skipped.


def _refuse_unsupported(**flags: bool) -> None:
    asked = [name for name, on in flags.items() if on]
    if asked:
        raise NotImplementedError(
            f"gradcheck: {', '.join(asked)} need forward-mode AD or vmap, which minigrad lacks"
        )


def autograd_gradcheck(
    func: Callable, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
    raise_exception: bool = True, nondet_tol: float = 0.0, check_undefined_grad: bool = True,
    check_grad_dtypes: bool = False, check_batched_grad: bool = False,
    check_batched_forward_grad: bool = False, check_forward_ad: bool = False,
    check_backward_ad: bool = True, fast_mode: bool = False, masked: bool | None = None,
) -> bool:  # fmt: skip
    """torch.autograd.gradcheck: True, or GradcheckError (a RuntimeError) / False."""
    _refuse_unsupported(check_batched_grad=check_batched_grad, check_forward_ad=check_forward_ad,
                        check_batched_forward_grad=check_batched_forward_grad)  # fmt: skip
    if not check_backward_ad:
        return True
    return gradcheck(func, inputs, eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception)


def autograd_gradgradcheck(
    func: Callable, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5,
    rtol: float = 1e-3, gen_non_contig_grad_outputs: bool = False, raise_exception: bool = True,
    nondet_tol: float = 0.0, check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
    check_batched_grad: bool = False, check_fwd_over_rev: bool = False,
    check_rev_over_rev: bool = True, fast_mode: bool = False, masked: bool = False,
) -> bool:  # fmt: skip
    """torch.autograd.gradgradcheck: second derivatives against finite differences."""
    _refuse_unsupported(check_batched_grad=check_batched_grad,
                        check_fwd_over_rev=check_fwd_over_rev)  # fmt: skip
    if not check_rev_over_rev:
        return True
    return gradgradcheck(func, inputs, grad_outputs, eps=eps, atol=atol, rtol=rtol,
                         raise_exception=raise_exception)  # fmt: skip

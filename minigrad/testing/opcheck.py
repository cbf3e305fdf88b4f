"""`check_op`: a one-call Hypothesis test for a differentiable function.

    test_tanh = check_op(mg.tanh, strategies.shapes(), reference=np.tanh, gradgrad=True)

draws float64 inputs of the drawn shapes, keeps them away from kinks (`valid`), compares the
forward value with a NumPy reference, runs `gradcheck` (and `gradgradcheck`), repeats the check
with one input non-contiguous (a transposed view), and checks that float32 inputs give float32
outputs and float32 gradients. Tensors are built on minigrad's default device (so the same
tests run on cpu, cuda or guard); references and comparisons stay on the host. Needs the
optional `hypothesis` package.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from minigrad import autograd
from minigrad.backend import Device, get_default_device, to_device
from minigrad.tensor import Tensor
from minigrad.testing.gradcheck import gradcheck, gradgradcheck
from minigrad.testing.strategies import floats


def _is_shape(value) -> bool:
    return isinstance(value, tuple) and all(isinstance(n, (int, np.integer)) for n in value)


def _leaf(array: np.ndarray, device: Device, dtype=None) -> Tensor:
    """A fresh leaf on `device` holding a copy of the host array (gradcheck writes into it)."""
    a = np.array(array, dtype=dtype)
    return Tensor._make(to_device(a, device)).requires_grad_(True)


def _noncontiguous_leaf(array: np.ndarray, device: Device) -> Tensor:
    """The same values on `device`, held as a transposed view of a C-contiguous buffer."""
    buffer = to_device(np.ascontiguousarray(array.swapaxes(-1, -2)), device)
    return Tensor._make(buffer.swapaxes(-1, -2)).requires_grad_(True)


def _float_outputs(out) -> list[Tensor]:
    out = out if isinstance(out, (tuple, list)) else (out,)
    return [o for o in out if isinstance(o, Tensor) and o.dtype.kind == "f"]


def _compare_forward(out, expected, rtol: float, atol: float) -> None:
    outs = out if isinstance(out, (tuple, list)) else (out,)
    exps = expected if isinstance(expected, (tuple, list)) else (expected,)
    assert len(outs) == len(exps), f"{len(outs)} outputs but the reference gave {len(exps)}"
    for k, (o, e) in enumerate(zip(outs, exps)):
        e = np.asarray(e)
        got = o._host() if isinstance(o, Tensor) else np.asarray(o)
        assert got.shape == e.shape, f"output {k}: shape {got.shape}, reference {e.shape}"
        if e.dtype.kind in "iub":
            np.testing.assert_array_equal(got, e, err_msg=f"output {k}")
        else:
            np.testing.assert_allclose(got, e, rtol=rtol, atol=atol, err_msg=f"output {k}")


def check_op(
    fn: Callable,
    shapes: st.SearchStrategy | tuple,
    *,
    elements: st.SearchStrategy | list | None = None,
    params: Callable[..., st.SearchStrategy] | None = None,
    valid: Callable[..., bool] | None = None,
    reference: Callable | None = None,
    gradgrad: bool = False,
    noncontiguous: bool = True,
    float32: bool = True,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    ref_rtol: float = 1e-7,
    ref_atol: float = 1e-10,
    key: str | None = None,
) -> Callable:
    """Build a Hypothesis test of `fn(*tensors, **params)`.

    shapes: a strategy (or a fixed value) giving one shape, or a tuple of shapes, one per input.
    elements: the strategy for every input's values, or a list of them, one per input.
    params(*shapes): a strategy of keyword arguments for fn and reference (dims, index arrays).
    valid(*arrays, **params): False to reject a draw (inputs too close to a kink).
    reference(*arrays, **params): the expected float64 output(s), computed with NumPy.
    key: tells apart tests built at one call site (in a loop) for Hypothesis' database.
    """
    caller = sys._getframe(1)
    shape_strategy = shapes if isinstance(shapes, st.SearchStrategy) else st.just(shapes)

    @given(data=st.data())
    def test(data: Any) -> None:
        drawn = data.draw(shape_strategy, label="shapes")
        shps = [drawn] if _is_shape(drawn) else list(drawn)
        elems = elements if isinstance(elements, (list, tuple)) else [elements] * len(shps)
        arrays = [
            data.draw(
                hnp.arrays(np.float64, s, elements=floats() if e is None else e), label=f"input {k}"
            )
            for k, (s, e) in enumerate(zip(shps, elems))
        ]
        kwargs = data.draw(params(*shps), label="params") if params is not None else {}
        if valid is not None:
            assume(valid(*arrays, **kwargs))

        def call(*tensors):
            return fn(*tensors, **kwargs)

        # The default device is read per example: the test may run on cpu, cuda or guard.
        device = get_default_device()
        leaves = [_leaf(a, device) for a in arrays]
        if reference is not None:
            _compare_forward(call(*leaves), reference(*arrays, **kwargs), ref_rtol, ref_atol)
        gradcheck(call, leaves, atol=atol, rtol=rtol)
        if gradgrad:
            gradgradcheck(call, leaves, atol=atol, rtol=rtol)
        if noncontiguous:
            k = next((k for k, a in enumerate(arrays) if a.ndim >= 2 and a.shape[-1] > 1), None)
            if k is not None:
                views = [
                    _noncontiguous_leaf(a, device) if j == k else _leaf(a, device)
                    for j, a in enumerate(arrays)
                ]
                gradcheck(call, views, atol=atol, rtol=rtol)
        if float32:
            _check_float32(call, arrays, device)

    # Every check_op test shares this source, so tell Hypothesis apart by the call site: its
    # example database and derandomized seeds are keyed on the digest of the test function.
    test.hypothesis.inner_test._hypothesis_internal_add_digest = (
        f"{caller.f_globals.get('__name__')}:{caller.f_lineno}:{key}".encode()
    )
    return test


def _check_float32(call: Callable, arrays: list[np.ndarray], device: Device) -> None:
    """float32 in, float32 out, float32 gradients: nothing silently upcasts."""
    leaves = [_leaf(a, device, np.float32) for a in arrays]
    with autograd.enable_grad():
        outs = _float_outputs(call(*leaves))
    for k, o in enumerate(outs):
        assert o.dtype == np.float32, f"output {k} is {o.dtype} for float32 inputs"
    roots = [o for o in outs if o.requires_grad]
    if not roots:
        return
    upstream = [Tensor._make(to_device(np.ones(o.shape, np.float32), o.device)) for o in roots]
    grads = autograd.grad(roots, leaves, upstream, allow_unused=True)
    for k, g in enumerate(grads):
        if g is not None:
            assert g.dtype == np.float32, f"the gradient of input {k} is {g.dtype} for float32"
            assert g.shape == leaves[k].shape

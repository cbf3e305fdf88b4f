"""Differential entries: reductions, scans and softmax (minigrad.ops.reduce)."""

import numpy as np
from hypothesis import strategies as st

from tests.differential.opinfo import (
    ALL,
    FLOATS,
    INTS,
    D,
    Sample,
    binary,
    dim_tuples,
    dims,
    function_and_method,
    tensors,
    unary,
)

NUMERIC = FLOATS + INTS


def _dim_keepdim(draw, dtype, *, tuple_dims=True, none=True):
    x = draw(tensors(dtype))
    nd = x.array.ndim
    options = [dims(nd)]
    if tuple_dims:
        options.append(dim_tuples(nd))
    dim = draw(st.one_of(*options))
    if none and draw(st.booleans()):
        return Sample(x)
    return Sample(x, dim, keepdim=draw(st.booleans()))


def _dim_only(draw, dtype):
    x = draw(tensors(dtype))
    return Sample(x, draw(dims(x.array.ndim)))


def _sum_sample(draw, dtype):
    s = _dim_keepdim(draw, dtype)
    if draw(st.integers(0, 3)) == 0:
        s.kwargs["dtype"] = D(draw(st.sampled_from(["float64", "int64", "float32"])))
    return s


for _name in ["sum", "mean"]:
    function_and_method(_name, _sum_sample, NUMERIC if _name == "sum" else FLOATS + ("int64",))


def _var_sample(draw, dtype):
    x = draw(tensors(dtype))
    nd = x.array.ndim
    kwargs = {}
    if draw(st.booleans()):
        kwargs["dim"] = draw(st.one_of(dims(nd), dim_tuples(nd)))
        if kwargs["dim"] == () and nd:
            # torch 2.13 bug: var/std's backward takes dim=() as no reduction (its forward
            # reduces everything), so its gradient divides by N - correction with N = 1; all
            # dims spelt out are the same reduction
            kwargs["dim"] = tuple(range(nd))
    which = draw(st.integers(0, 2))
    if which == 1:
        kwargs["correction"] = draw(st.sampled_from([0, 1, 2]))
    elif which == 2:
        kwargs["unbiased"] = draw(st.booleans())
    if "dim" in kwargs or "unbiased" not in kwargs:  # torch has no (unbiased, keepdim) overload
        kwargs["keepdim"] = draw(st.booleans())
    return Sample(x, **kwargs)


function_and_method("var", _var_sample)
function_and_method("std", _var_sample)


def _max_sample(draw, dtype):
    kind = draw(st.integers(0, 2))
    if kind == 0:
        return Sample(draw(tensors(dtype)))
    if kind == 1:
        x = draw(tensors(dtype))
        return Sample(x, draw(dims(x.array.ndim)), keepdim=draw(st.booleans()))
    return binary(draw, dtype)


for _name in ["max", "min"]:
    function_and_method(_name, _max_sample, ALL)
for _name in ["amax", "amin"]:
    function_and_method(_name, lambda d, t: _dim_keepdim(d, t, none=True), ALL)
for _name in ["argmax", "argmin"]:
    function_and_method(
        _name, lambda d, t: _dim_keepdim(d, t, tuple_dims=False), NUMERIC, grad=False
    )


def _logsumexp_sample(draw, dtype):
    x = draw(tensors(dtype))
    nd = x.array.ndim
    dim = draw(st.one_of(dims(nd), dim_tuples(nd)))
    if dim == () and nd and np.isinf(x.array).any():
        # torch 2.13 bug: dim=() with an infinite input fails inside its own inf handling
        # ("output with shape [] doesn't match the broadcast shape"); all dims spelt out mean
        # the same reduction
        dim = tuple(range(nd))
    return Sample(x, dim, keepdim=draw(st.booleans()))


function_and_method("logsumexp", _logsumexp_sample, FLOATS + ("int64",))


def _prod_sample(draw, dtype):
    x = draw(tensors(dtype, low=-3, high=3))
    if dtype in FLOATS:
        # not followed: torch's prod gradient divides the product by each input (NaN for an
        # infinite one, inf / inf); minigrad multiplies the others (d/dx prod([inf]) = 1).
        # Zeros, -0 and NaN stay in the draws.
        x.array[np.isinf(x.array)] = 2.5
    if draw(st.booleans()):
        return Sample(x)
    return Sample(x, draw(dims(x.array.ndim)), keepdim=draw(st.booleans()))


function_and_method("prod", _prod_sample, NUMERIC + ("bool",))


def _cumsum_sample(draw, dtype):
    x = draw(tensors(dtype))
    s = Sample(x, draw(dims(x.array.ndim)))
    if draw(st.integers(0, 3)) == 0:
        s.kwargs["dtype"] = D(draw(st.sampled_from(["float64", "int64"])))
    return s


function_and_method("cumsum", _cumsum_sample, NUMERIC + ("bool",))


def _norm_sample(draw, dtype):
    x = draw(tensors(dtype))
    nd = x.array.ndim
    p = draw(st.sampled_from([2, 1, 3, 0.5, float("inf"), -float("inf"), 0, "fro"]))
    kwargs = {}
    if draw(st.booleans()):
        kwargs["dim"] = draw(st.one_of(dims(nd), dim_tuples(nd)))
        kwargs["keepdim"] = draw(st.booleans())
    return Sample(x, p, **kwargs)


function_and_method("norm", _norm_sample)


def _softmax_sample(draw, dtype):
    x = draw(tensors(dtype, low=-100, high=100))
    s = Sample(x, draw(dims(x.array.ndim)))
    if draw(st.integers(0, 3)) == 0:
        s.kwargs["dtype"] = D("float64")
    return s


function_and_method("softmax", _softmax_sample)
function_and_method("log_softmax", _softmax_sample)
function_and_method(
    "softmax",
    _softmax_sample,
    method=None,
    namespace="minigrad.nn.functional",
)
function_and_method("log_softmax", _softmax_sample, method=None, namespace="minigrad.nn.functional")


def _nonzero_sample(draw, dtype):
    return Sample(draw(tensors(dtype)), as_tuple=draw(st.booleans()))


function_and_method("nonzero", _nonzero_sample, ALL, grad=False)


def _any_sample(draw, dtype):
    x = draw(tensors(dtype))
    if draw(st.booleans()):
        return Sample(x)
    return Sample(x, draw(dims(x.array.ndim)), keepdim=draw(st.booleans()))


function_and_method("all", _any_sample, ALL, grad=False)
function_and_method("any", _any_sample, ALL, grad=False)


def _count_sample(draw, dtype):
    x = draw(tensors(dtype))
    nd = x.array.ndim
    return Sample(x, draw(st.one_of(st.none(), dims(nd), dim_tuples(nd))))


function_and_method("count_nonzero", _count_sample, ALL, grad=False)
_ = unary

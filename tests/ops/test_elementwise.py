"""Gradient, double-gradient and forward tests for every elementwise op (minigrad/ops/elementwise.py)."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.ops import elementwise as ew
from minigrad.testing import gradcheck, gradgradcheck
from minigrad.testing import strategies as S
from minigrad.testing.opcheck import check_op

COVERED = {
    "add",
    "sub",
    "mul",
    "div",
    "pow",
    "neg",
    "exp",
    "log",
    "log1p",
    "expm1",
    "sqrt",
    "rsqrt",
    "abs",
    "sign",
    "floor",
    "ceil",
    "round",
    "trunc",
    "sin",
    "cos",
    "tanh",
    "sigmoid",
    "relu",
    "leaky_relu",
    "silu",
    "softplus",
    "gelu",
    "erf",
    "clamp",
    "maximum",
    "minimum",
    "where",
    "cast",
}

UNARY = S.shapes()
BINARY = S.broadcastable_shapes(2)
POSITIVE = S.floats(0.1, 3.0)
_erf = np.vectorize(math.erf, otypes=[np.float64])


def away(points=(0.0,), gap=1e-3):
    """valid(): every input element at least `gap` away from each kink in `points`."""
    return lambda *arrays, **_: all(np.all(np.abs(a - p) > gap) for a in arrays for p in points)


def apart(gap=1e-3):
    """valid() for binary ops with a kink at a == b."""
    return lambda a, b, **_: bool(np.all(np.abs(a - b) > gap))


# --- arithmetic -----------------------------------------------------------------------------

test_add = check_op(lambda a, b: a + b, BINARY, reference=np.add, gradgrad=True)
test_sub = check_op(lambda a, b: a - b, BINARY, reference=np.subtract, gradgrad=True)
test_mul = check_op(lambda a, b: a * b, BINARY, reference=np.multiply, gradgrad=True)
test_div = check_op(
    lambda a, b: a / b,
    BINARY,
    valid=lambda a, b: bool(np.all(np.abs(b) > 0.3)),
    reference=np.divide,
    gradgrad=True,
)
test_pow = check_op(
    lambda a, b: a**b,
    BINARY,
    elements=[POSITIVE, S.floats(-2, 2)],
    reference=np.power,
    gradgrad=True,
)
test_neg = check_op(lambda x: -x, UNARY, reference=np.negative, gradgrad=True)
test_add_alpha = check_op(
    lambda a, b: mg.add(a, b, alpha=-2.5), BINARY, reference=lambda a, b: a - 2.5 * b
)
test_rsub_scalar = check_op(lambda x: 2.0 - x, UNARY, reference=lambda x: 2.0 - x)
test_rdiv_scalar = check_op(
    lambda x: 2.0 / x, UNARY, valid=away((0.0,), 0.3), reference=lambda x: 2.0 / x, gradgrad=True
)


@pytest.mark.parametrize("exponent", [0, 1, 2, 3, -1, -2])
def test_pow_integer_exponent_negative_base(exponent):
    x = mg.tensor([[-1.5, -0.7, 0.4], [2.0, -2.2, 1.1]], dtype=mg.float64, requires_grad=True)
    fn = lambda x: x**exponent
    np.testing.assert_allclose(fn(x).detach().numpy(), x.detach().numpy() ** float(exponent))
    assert gradcheck(fn, x) and gradgradcheck(fn, x)


test_pow_float_exponent = check_op(
    lambda x: x**2.5, UNARY, elements=POSITIVE, reference=lambda x: x**2.5, gradgrad=True
)
test_rpow = check_op(lambda x: 2.0**x, UNARY, reference=lambda x: 2.0**x, gradgrad=True)

# --- unary math ---------------------------------------------------------------------------

test_exp = check_op(mg.exp, UNARY, reference=np.exp, gradgrad=True)
test_log = check_op(mg.log, UNARY, elements=POSITIVE, reference=np.log, gradgrad=True)
test_log1p = check_op(
    mg.log1p, UNARY, elements=S.floats(-0.9, 3), reference=np.log1p, gradgrad=True
)
test_expm1 = check_op(mg.expm1, UNARY, reference=np.expm1, gradgrad=True)
test_sqrt = check_op(mg.sqrt, UNARY, elements=POSITIVE, reference=np.sqrt, gradgrad=True)
test_rsqrt = check_op(
    mg.rsqrt, UNARY, elements=POSITIVE, reference=lambda x: 1 / np.sqrt(x), gradgrad=True
)
test_abs = check_op(mg.abs, UNARY, valid=away(), reference=np.abs, gradgrad=True)
test_sign = check_op(mg.sign, UNARY, valid=away(), reference=np.sign, gradgrad=True)
# piecewise constant: zero gradient away from the steps (at integers; round also at halves)
_STEPS = tuple(float(k) / 2 for k in range(-20, 21))
test_floor = check_op(mg.floor, UNARY, valid=away(_STEPS), reference=np.floor)
test_ceil = check_op(mg.ceil, UNARY, valid=away(_STEPS), reference=np.ceil)
test_round = check_op(mg.round, UNARY, valid=away(_STEPS), reference=np.round)
test_trunc = check_op(mg.trunc, UNARY, valid=away(_STEPS), reference=np.trunc)


def test_rounding_is_recorded_with_zero_gradient_and_sign_of_nan_is_zero():
    # torch records floor/ceil/round/trunc (zero gradient) and gives sign(NaN) = 0
    x = mg.tensor([1.5, -2.5, float("nan")], requires_grad=True)
    for f in (mg.floor, mg.ceil, mg.round, mg.trunc):
        y = f(x)
        assert y.requires_grad
        y.sum().backward()
        assert x.grad.tolist() == [0.0, 0.0, 0.0]
        x.grad = None
    assert mg.sign(x).tolist() == [1.0, -1.0, 0.0]
    assert mg.floor(mg.tensor([3, -2])).dtype == mg.int64


test_sin = check_op(mg.sin, UNARY, reference=np.sin, gradgrad=True)
test_cos = check_op(mg.cos, UNARY, reference=np.cos, gradgrad=True)
test_tanh = check_op(mg.tanh, UNARY, reference=np.tanh, gradgrad=True)
test_sigmoid = check_op(mg.sigmoid, UNARY, reference=lambda x: 1 / (1 + np.exp(-x)), gradgrad=True)
test_erf = check_op(mg.erf, UNARY, reference=_erf, gradgrad=True)

# --- activations -----------------------------------------------------------------------------

test_relu = check_op(
    mg.relu, UNARY, valid=away(), reference=lambda x: np.maximum(x, 0), gradgrad=True
)
test_leaky_relu = check_op(
    mg.leaky_relu,
    UNARY,
    valid=away(),
    params=lambda s: st.fixed_dictionaries({"negative_slope": st.floats(0.01, 2.0)}),
    reference=lambda x, negative_slope: np.where(x > 0, x, negative_slope * x),
    gradgrad=True,
)
test_gelu = check_op(
    mg.gelu, UNARY, reference=lambda x: 0.5 * x * (1 + _erf(x / math.sqrt(2))), gradgrad=True
)
test_gelu_tanh = check_op(
    lambda x: mg.gelu(x, approximate="tanh"),
    UNARY,
    gradgrad=True,
    reference=lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))),
)
test_silu = check_op(mg.silu, UNARY, reference=lambda x: x / (1 + np.exp(-x)), gradgrad=True)
test_softplus = check_op(
    mg.softplus,
    UNARY,
    params=lambda s: st.fixed_dictionaries(
        {"beta": st.sampled_from([0.5, 1.0, 2.0]), "threshold": st.sampled_from([1.0, 20.0])}
    ),
    valid=lambda x, beta, threshold: bool(np.all(np.abs(x * beta - threshold) > 1e-2)),
    reference=lambda x, beta, threshold: np.where(
        x * beta > threshold, x, np.log1p(np.exp(beta * x)) / beta
    ),
    gradgrad=True,
)

# --- clamp, maximum, minimum, where, masked_fill -------------------------------------------


def _bounds(shape):
    return st.tuples(S.floats(-2, 0), S.floats(0, 2)).map(lambda b: {"min": b[0], "max": b[1]})


test_clamp_scalar = check_op(
    mg.clamp,
    UNARY,
    params=_bounds,
    valid=lambda x, min, max: bool(
        np.all(np.abs(x - min) > 1e-3) and np.all(np.abs(x - max) > 1e-3)
    ),
    reference=lambda x, min, max: np.clip(x, min, max),
    gradgrad=True,
)
test_clamp_min_only = check_op(
    lambda x: mg.clamp(x, min=-0.5),
    UNARY,
    valid=away((-0.5,)),
    reference=lambda x: np.maximum(x, -0.5),
)
test_clip_max_only = check_op(
    lambda x: x.clip(max=0.5), UNARY, valid=away((0.5,)), reference=lambda x: np.minimum(x, 0.5)
)
test_clamp_tensor_bounds = check_op(
    lambda x, lo, hi: mg.clamp(x, lo, hi),
    S.broadcastable_shapes(3),
    elements=[S.floats(-3, 3), S.floats(-2, -0.1), S.floats(0.1, 2)],
    valid=lambda x, lo, hi: bool(np.all(np.abs(x - lo) > 1e-3) and np.all(np.abs(x - hi) > 1e-3)),
    reference=lambda x, lo, hi: np.minimum(np.maximum(x, lo), hi),
    gradgrad=True,
)
test_maximum = check_op(mg.maximum, BINARY, valid=apart(), reference=np.maximum, gradgrad=True)
test_minimum = check_op(mg.minimum, BINARY, valid=apart(), reference=np.minimum, gradgrad=True)


def test_maximum_minimum_ties_split_evenly():
    a = mg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = mg.tensor([1.0, 0.0, 3.0], requires_grad=True)
    (mg.maximum(a, b) + mg.minimum(a, b)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [1.0, 1.0, 1.0])
    np.testing.assert_allclose(b.grad.numpy(), [1.0, 1.0, 1.0])
    a.grad = b.grad = None
    mg.maximum(a, b).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [0.5, 1.0, 0.5])
    np.testing.assert_allclose(b.grad.numpy(), [0.5, 0.0, 0.5])


def _masks(*shapes):
    """A boolean mask broadcastable with the given shapes."""
    shape = np.broadcast_shapes(*shapes)

    @st.composite
    def draw(draw):
        drop = draw(st.integers(0, len(shape)))  # fewer leading dims
        ones = draw(st.lists(st.booleans(), min_size=len(shape), max_size=len(shape)))
        mask_shape = tuple(1 if one else n for n, one in zip(shape, ones))[drop:]
        return {"cond": draw(S.arrays(mask_shape, bool))}

    return draw()


test_where = check_op(
    lambda a, b, cond: mg.where(mg.tensor(cond), a, b),
    BINARY,
    params=_masks,
    reference=lambda a, b, cond: np.where(cond, a, b),
    gradgrad=True,
)
test_where_scalar_other = check_op(
    lambda a, cond: mg.where(mg.tensor(cond), a, 0.5),
    UNARY,
    params=_masks,
    reference=lambda a, cond: np.where(cond, a, 0.5),
    gradgrad=True,
)
test_where_scalar_input = check_op(
    lambda b, cond: mg.where(mg.tensor(cond), -1.0, b),
    UNARY,
    params=_masks,
    reference=lambda b, cond: np.where(cond, -1.0, b),
)
test_tensor_where_method = check_op(
    lambda a, b, cond: a.where(mg.tensor(cond), b),
    BINARY,
    params=_masks,
    reference=lambda a, b, cond: np.where(cond, a, b),
)
test_masked_fill_scalar = check_op(
    lambda x, cond: x.masked_fill(mg.tensor(cond), -2.0),
    UNARY,
    params=_masks,
    reference=lambda x, cond: np.where(cond, -2.0, x),
    gradgrad=True,
)
test_masked_fill_tensor_value = check_op(
    lambda x, v, cond: x.masked_fill(mg.tensor(cond), v),
    (S.shapes(min_dims=1)).map(lambda s: (s, ())),
    params=lambda s, _: _masks(s),
    reference=lambda x, v, cond: np.where(cond, v, x),
    gradgrad=True,
)


def test_where_and_masked_fill_keep_float32():
    x = mg.ones(2, 3, requires_grad=True)
    mask = mg.tensor([[True, False, True], [False, False, True]])
    assert mg.where(mask, x, 0.5).dtype == mg.float32
    assert mg.where(mask, 1.5, x).dtype == mg.float32
    assert x.masked_fill(mask, 2.0).dtype == mg.float32
    assert x.masked_fill(mask, mg.tensor(2.0, dtype=mg.float64)).dtype == mg.float32
    out = mg.where(mask, 1.0, 2.0)
    assert out.dtype == mg.get_default_dtype() and out.shape == (2, 3)


# --- cast / to(dtype) / clone ----------------------------------------------------------------

# (float32=False: this cast deliberately makes float64; the dtype tests below cover float32)
test_cast = check_op(
    lambda x: ew.cast(x, mg.float64), UNARY, reference=lambda x: x, gradgrad=True, float32=False
)


@pytest.mark.parametrize("src,dst", [(mg.float32, mg.float64), (mg.float64, mg.float32)])
def test_to_dtype_gradient_comes_back_in_source_dtype(src, dst):
    x = mg.tensor([[1.0, -2.0], [0.5, 3.0]], dtype=src, requires_grad=True)
    y = x.to(dst)
    assert y.dtype == dst
    (y * y).sum().backward()
    assert x.grad.dtype == src
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.detach().numpy(), rtol=1e-6)


def test_cast_to_integer_has_no_gradient():
    x = mg.tensor([1.7, -2.2], requires_grad=True)
    y = x.long()
    assert y.dtype == mg.int64 and not y.requires_grad
    assert y.tolist() == [1, -2]


@given(x=S.tensors(requires_grad=True))
def test_gradcheck_rejects_float32(x):
    with pytest.raises(TypeError, match="float64"):
        gradcheck(mg.tanh, x.detach().float().requires_grad_())


def test_abs_gradient_at_nan_is_zero_as_torch():
    # torch's abs backward is grad * sgn(x), and sgn(NaN) is 0
    x = mg.tensor([float("nan"), -2.0, 3.0], requires_grad=True)
    mg.abs(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, -1.0, 1.0])

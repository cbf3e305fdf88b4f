"""The long-tail math functions (minigrad/ops/mathfns.py): float64 gradchecks (and double
gradients) with Hypothesis, and agreement with PyTorch 2.13 on values, dtypes, shapes, gradients
and errors."""

import math

import numpy as np
import pytest
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import gradcheck, gradgradcheck
from minigrad.testing import strategies as S
from minigrad.testing.opcheck import check_op

torch = pytest.importorskip("torch")

COVERED = {
    "asin",
    "acos",
    "atan",
    "sinh",
    "cosh",
    "asinh",
    "acosh",
    "atanh",
    "exp2",
    "atan2",
    "logaddexp",
    "logaddexp2",
    "copysign",
    "hypot",
    "xlogy",
    "lerp",
    "cumprod",
    "logcumsumexp",
}

UNARY = S.shapes()
BINARY = S.broadcastable_shapes(2)
INSIDE = S.floats(-0.9, 0.9)
POSITIVE = S.floats(0.1, 3.0)


def away(points=(0.0,), gap=1e-3):
    """valid(): the first input at least `gap` away from each point."""
    return lambda a, *_, **__: all(np.all(np.abs(a - p) > gap) for p in points)


def _dim(s):
    return st.fixed_dictionaries({"dim": S.valid_dims(len(s))})


# --- gradients ---------------------------------------------------------------------------------

test_asin = check_op(mg.asin, UNARY, elements=INSIDE, reference=np.arcsin, gradgrad=True)
test_acos = check_op(mg.acos, UNARY, elements=INSIDE, reference=np.arccos, gradgrad=True)
test_atan = check_op(mg.atan, UNARY, reference=np.arctan, gradgrad=True)
test_sinh = check_op(mg.sinh, UNARY, reference=np.sinh, gradgrad=True)
test_cosh = check_op(mg.cosh, UNARY, reference=np.cosh, gradgrad=True)
test_asinh = check_op(mg.asinh, UNARY, reference=np.arcsinh, gradgrad=True)
test_acosh = check_op(
    mg.acosh, UNARY, elements=S.floats(1.1, 4.0), reference=np.arccosh, gradgrad=True
)
test_atanh = check_op(mg.atanh, UNARY, elements=INSIDE, reference=np.arctanh, gradgrad=True)
test_exp2 = check_op(mg.exp2, UNARY, reference=np.exp2, gradgrad=True)
test_atan2 = check_op(
    mg.atan2,
    BINARY,
    valid=lambda a, b: bool(np.all(np.hypot(a, b) > 0.3) and np.all((np.abs(a) > 0.05) | (b > 0))),
    reference=np.arctan2,
    gradgrad=True,
)
test_logaddexp = check_op(mg.logaddexp, BINARY, reference=np.logaddexp, gradgrad=True)
test_logaddexp2 = check_op(mg.logaddexp2, BINARY, reference=np.logaddexp2, gradgrad=True)
test_copysign = check_op(
    mg.copysign,
    BINARY,
    valid=lambda a, b: bool(np.all(np.abs(a) > 1e-3) and np.all(np.abs(b) > 1e-3)),
    reference=np.copysign,
    gradgrad=True,
)
test_hypot = check_op(
    mg.hypot,
    BINARY,
    valid=lambda a, b: bool(np.all(np.hypot(a, b) > 0.1)),
    reference=np.hypot,
    gradgrad=True,
)
test_xlogy = check_op(
    mg.xlogy,
    BINARY,
    elements=[S.floats(), POSITIVE],
    valid=away(),  # PyTorch's d/da is 0 at a = 0 (not log b): a kink there
    reference=lambda a, b: a * np.log(b),
    gradgrad=True,
)
test_lerp_tensor_weight = check_op(
    mg.lerp,
    S.broadcastable_shapes(3),
    reference=lambda a, b, w: a + w * (b - a),
    gradgrad=True,
)
test_lerp_scalar_weight = check_op(
    lambda a, b, weight: a.lerp(b, weight),
    BINARY,
    params=lambda *s: st.fixed_dictionaries({"weight": st.sampled_from([0.0, 0.3, 0.5, 1.0, 1.7])}),
    reference=lambda a, b, weight: a + weight * (b - a),
    gradgrad=True,
)
test_cumprod = check_op(
    lambda x, dim: x.cumprod(dim),
    UNARY,
    params=_dim,
    # the quotient rule (PyTorch's too) loses subnormal inputs whose products underflow;
    # exact zeros are handled exactly (test_cumprod_gradients_at_zeros_match_torch)
    valid=lambda x, dim: bool(np.all((x == 0) | (np.abs(x) > 1e-3))),
    reference=lambda x, dim: np.cumprod(x, dim) if x.ndim else x,
    gradgrad=True,
)


def _lcse(x, dim):
    return np.logaddexp.accumulate(x, axis=dim) if x.ndim else x


test_logcumsumexp = check_op(
    lambda x, dim: mg.logcumsumexp(x, dim),
    UNARY,
    params=_dim,
    reference=_lcse,
    gradgrad=True,
)


def _distinct(x, **_):
    return len(np.unique(x)) == x.size and (
        x.size < 2 or np.min(np.diff(np.sort(x.ravel()))) > 1e-3
    )


test_cummax = check_op(
    lambda x, dim: mg.cummax(x, dim).values,
    UNARY,
    params=_dim,
    valid=_distinct,
    reference=lambda x, dim: np.maximum.accumulate(x, dim) if x.ndim else x,
    gradgrad=True,
)
test_cummin = check_op(
    lambda x, dim: x.cummin(dim).values,
    UNARY,
    params=_dim,
    valid=_distinct,
    reference=lambda x, dim: np.minimum.accumulate(x, dim) if x.ndim else x,
    gradgrad=True,
)


def _moments(s):
    return st.fixed_dictionaries(
        {"dim": S.valid_dims(len(s), allow_none=True), "correction": st.sampled_from([0, 1])}
    )


test_var_mean = check_op(
    lambda x, dim, correction: mg.var_mean(x, dim, correction=correction),
    S.shapes(min_dims=1, min_side=3),
    params=_moments,
    reference=lambda x, dim, correction: (np.var(x, dim, ddof=correction), np.mean(x, dim)),
    gradgrad=True,
)
test_std_mean = check_op(
    lambda x, dim, correction: mg.std_mean(x, dim, correction=correction),
    S.shapes(min_dims=1, min_side=3),
    params=_moments,
    valid=lambda x, dim, correction: bool(np.all(np.std(x, axis=dim) > 0.1)),  # kink at std 0
    reference=lambda x, dim, correction: (np.std(x, dim, ddof=correction), np.mean(x, dim)),
    gradgrad=True,
)


# --- cumprod with zeros: the gradient is exact (first and second order), as PyTorch's -----------


@pytest.mark.parametrize(
    "values",
    [[2.0, 0.0, 3.0, 0.0, 4.0], [0.0, 1.5, -2.0], [1.5, -2.0, 0.0], [0.0, 0.0], [0.0], [3.0]],
)
def test_cumprod_gradients_at_zeros_match_torch(values):
    w = np.linspace(-1.0, 2.0, len(values))
    x = mg.tensor(values, dtype=mg.float64, requires_grad=True)
    t = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    (g,) = mg.autograd.grad((x.cumprod(0) * mg.tensor(w)).sum(), x, create_graph=True)
    (tg,) = torch.autograd.grad((t.cumprod(0) * torch.tensor(w)).sum(), t, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), tg.detach().numpy(), rtol=1e-12, atol=1e-12)
    (gg,) = mg.autograd.grad((g * g).sum(), x)
    if len(values) == 1:  # the gradient is the constant g: torch records no graph for it
        np.testing.assert_array_equal(gg.numpy(), 0.0)
        return
    (tgg,) = torch.autograd.grad((tg * tg).sum(), t)
    np.testing.assert_allclose(gg.numpy(), tgg.numpy(), rtol=1e-12, atol=1e-12)


def test_cumprod_with_zeros_passes_gradcheck_in_2d():
    data = np.array([[1.5, 0.0, -2.0, 0.7], [0.0, 0.0, 1.1, 2.0], [0.9, -1.2, 0.0, 3.0]])
    for dim in (0, 1, -1):
        x = mg.tensor(data, requires_grad=True)
        assert gradcheck(lambda t: t.cumprod(dim), x)
        assert gradgradcheck(lambda t: t.cumprod(dim), x)


def test_logcumsumexp_stays_finite_far_from_the_max():
    x = mg.tensor([-1000.0, 0.0, -1000.0, 5.0, 800.0], dtype=mg.float64, requires_grad=True)
    t = torch.tensor(x.detach().numpy(), requires_grad=True)
    out, tout = mg.logcumsumexp(x, 0), torch.logcumsumexp(t, 0)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-12)
    out.sum().backward()
    tout.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-10, atol=1e-300)


# --- agreement with PyTorch: values and dtypes ---------------------------------------------------


def _same(ours, theirs, exact=False):
    if isinstance(theirs, tuple):
        assert type(ours).__name__ == type(theirs).__name__.split(".")[-1]
        for a, b in zip(ours, theirs):
            _same(a, b, exact)
        return
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", ""), (ours.dtype, theirs.dtype)
    assert tuple(ours.shape) == tuple(theirs.shape)
    if exact:
        np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())
    else:  # the float32 kernels differ by an ulp here and there (libm and SLEEF)
        o, t = ours.detach().numpy(), theirs.detach().numpy()
        np.testing.assert_allclose(o, t, rtol=1e-6, atol=1e-6, equal_nan=True)
        np.testing.assert_array_equal(np.signbit(o[o == 0]), np.signbit(t[o == 0]))


UNARY_NAMES = [
    "asin", "arcsin", "acos", "arccos", "atan", "arctan", "sinh", "cosh", "asinh", "arcsinh",
    "acosh", "arccosh", "atanh", "arctanh", "exp2",
]  # fmt: skip
INPUTS = {
    "int": lambda m: m.tensor([-2, 0, 1, 3]),
    "bool": lambda m: m.tensor([True, False]),
    "float32": lambda m: m.tensor([-1.0, -0.5, 0.0, 0.3, 1.0, 1.5]),
    "float64": lambda m: m.tensor([[-0.7, 0.2], [0.9, 2.5]], dtype=m.float64),
    "0-d": lambda m: m.tensor(0.25),
    "empty": lambda m: m.ones(0, 3),
}


@pytest.mark.parametrize("kind", list(INPUTS))
@pytest.mark.parametrize("name", UNARY_NAMES)
def test_unary_functions_and_methods_match_torch(name, kind):
    x, t = INPUTS[kind](mg), INPUTS[kind](torch)
    _same(getattr(mg, name)(x), getattr(torch, name)(t))
    _same(getattr(x, name)(), getattr(t, name)())


BINARY_NAMES = ["atan2", "arctan2", "logaddexp", "logaddexp2", "copysign", "hypot", "xlogy"]
PAIRS = {
    "float32": lambda m: (m.tensor([[0.5, -1.0, 0.0]]), m.tensor([[2.0], [-0.5]])),
    "float32 float64": lambda m: (m.tensor([0.5, -1.0]), m.tensor([-2.0, 3.0], dtype=m.float64)),
    "float32 0-d float64": lambda m: (m.tensor([0.5, -1.0]), m.tensor(2.0, dtype=m.float64)),
    "int float": lambda m: (m.tensor([1, 2, 3]), m.tensor([0.5, 0.2, -0.3])),
    "int int": lambda m: (m.tensor([1, 0, 3]), m.tensor([2, 5, 1], dtype=m.int32)),
    "int bool": lambda m: (m.tensor([1, 2, 3]), m.tensor([True, False, True])),
    "signed zeros": lambda m: (m.tensor([0.0, -0.0, 0.0, 2.0]), m.tensor([-0.0, 0.0, 1.0, -3.0])),
    "empty": lambda m: (m.ones(0, 2), m.ones(2)),
}
NO_INTEGER_KERNEL = {"logaddexp", "logaddexp2", "hypot"}


@pytest.mark.parametrize("kind", list(PAIRS))
@pytest.mark.parametrize("name", BINARY_NAMES)
def test_binary_functions_and_methods_match_torch(name, kind):
    (a, b), (ta, tb) = PAIRS[kind](mg), PAIRS[kind](torch)
    if kind in ("int int", "int bool") and name in NO_INTEGER_KERNEL:
        with pytest.raises(NotImplementedError):
            getattr(torch, name)(ta, tb)
        with pytest.raises(NotImplementedError, match=name):
            getattr(mg, name)(a, b)
        return
    _same(getattr(mg, name)(a, b), getattr(torch, name)(ta, tb), exact=name == "copysign")
    _same(getattr(a, name)(b), getattr(ta, name)(tb))


@pytest.mark.parametrize(
    "call",
    [
        lambda m: m.copysign(m.tensor([1.0, -2.0]), -0.0),
        lambda m: m.copysign(m.tensor([1, -2]), 3),
        lambda m: m.xlogy(m.tensor([0.0, 2.0, 0.0]), m.tensor([0.0, 3.0, float("nan")])),
        lambda m: m.xlogy(2, m.tensor([1.0, 4.0])),
        lambda m: m.xlogy(m.tensor([1, 2]), 3.0),
        lambda m: m.xlogy(m.tensor([0, 2]), 0),
        lambda m: m.atan2(m.tensor([0.0, -0.0, 1.0]), m.tensor([-1.0, -1.0, 0.0])),
        lambda m: m.logaddexp(m.tensor([float("inf"), -float("inf"), 1e4]), m.tensor([1.0, 2.0, 1e4])),
        lambda m: m.hypot(m.tensor([3e200, 0.0], dtype=m.float64), m.tensor([4e200, 0.0], dtype=m.float64)),
    ],
)  # fmt: skip
def test_scalar_operands_and_special_values_match_torch(call):
    _same(call(mg), call(torch))


def test_binary_gradients_match_torch():
    rng = np.random.default_rng(0)
    a0, b0 = rng.standard_normal((3, 4)), rng.standard_normal(4)
    b0[0], a0[1, 1] = 0.0, 0.0  # copysign / xlogy special points
    for name in BINARY_NAMES:
        a, b = mg.tensor(a0, requires_grad=True), mg.tensor(b0, requires_grad=True)
        ta, tb = torch.tensor(a0, requires_grad=True), torch.tensor(b0, requires_grad=True)
        w = rng.standard_normal((3, 4))
        (getattr(mg, name)(a, b) * mg.tensor(w)).sum().backward()
        (getattr(torch, name)(ta, tb) * torch.tensor(w)).sum().backward()
        for ours, theirs in ((a.grad, ta.grad), (b.grad, tb.grad)):
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10, err_msg=name)


@pytest.mark.parametrize(
    "call",
    [
        lambda m, a, b, w: m.lerp(a, b, 0.3),
        lambda m, a, b, w: m.lerp(a, b, 1),
        lambda m, a, b, w: m.lerp(a, b, w),
        lambda m, a, b, w: a.lerp(b, w[0]),
        lambda m, a, b, w: a.lerp(b[0], 0.9),
        lambda m, a, b, w: m.lerp(a[:1], b, w.reshape(2, 1, 3)),
    ],
)
def test_lerp_matches_torch_values_and_gradients(call):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal((2, 3)) for _ in range(3)]
    ours = [mg.tensor(x, requires_grad=True) for x in arrays]
    theirs = [torch.tensor(x, requires_grad=True) for x in arrays]
    out, tout = call(mg, *ours), call(torch, *theirs)
    _same(out, tout)
    out.sum().backward()
    tout.sum().backward()
    for o, t in zip(ours, theirs):
        if t.grad is None:
            assert o.grad is None
        else:
            np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_lerp_casts_a_0d_weight_of_another_dtype_like_torch():
    # a bool weight: forward only (torch's own backward fails on it)
    _same(
        mg.lerp(mg.ones(2), mg.zeros(2), mg.tensor(True)),
        torch.lerp(torch.ones(2), torch.zeros(2), torch.tensor(True)),
    )
    for weight in (lambda m: m.tensor(0.25, dtype=m.float64, requires_grad=True),
                   lambda m: m.tensor(1)):  # fmt: skip
        a, w = mg.tensor([0.5, -2.0], requires_grad=True), weight(mg)
        ta, tw = torch.tensor([0.5, -2.0], requires_grad=True), weight(torch)
        out, tout = mg.lerp(a, a * 3, w), torch.lerp(ta, ta * 3, tw)
        _same(out, tout)
        out.sum().backward()
        tout.sum().backward()
        _same(a.grad, ta.grad)
        if tw.requires_grad:
            _same(w.grad, tw.grad)


def test_lerp_is_exact_at_the_ends_like_torch():
    a = mg.tensor([1e8, -3.0, 0.1])
    b = mg.tensor([1.0, 7.0, 0.3])
    ta, tb = torch.tensor(a.numpy()), torch.tensor(b.numpy())
    for w in (0.0, 0.5, 1.0, 0.999):
        _same(mg.lerp(a, b, w), torch.lerp(ta, tb, w), exact=True)


@pytest.mark.parametrize("kind", ["int", "bool", "float32", "float64", "0-d", "empty"])
def test_cumulative_functions_match_torch(kind):
    x, t = INPUTS[kind](mg), INPUTS[kind](torch)
    for dim in (0, -1):
        _same(mg.cumprod(x, dim), torch.cumprod(t, dim))
        _same(x.cumprod(dim), t.cumprod(dim))
        _same(mg.cummax(x, dim), torch.cummax(t, dim), exact=True)
        _same(x.cummin(dim), t.cummin(dim), exact=True)
        if x.dtype.kind == "f":
            _same(mg.logcumsumexp(x, dim), torch.logcumsumexp(t, dim))
            _same(x.logcumsumexp(dim), t.logcumsumexp(dim))
    _same(mg.cumprod(x, 0, dtype=mg.float64), torch.cumprod(t, 0, dtype=torch.float64))


@pytest.mark.parametrize(
    "values",
    [
        [1.0, 3.0, 3.0, 2.0, 3.0],
        [3.0, 1.0, 1.0, 2.0, 1.0],
        [1.0, math.nan, 3.0, math.nan, 5.0],
        [math.nan, -1.0, math.inf, -math.inf],
        [2.0, 2.0, 2.0],
    ],
)
def test_cummax_cummin_ties_and_nans_match_torch(values):
    x = mg.tensor(values, requires_grad=True)
    t = torch.tensor(values, requires_grad=True)
    for name in ("cummax", "cummin"):
        ours, theirs = getattr(mg, name)(x, 0), getattr(torch, name)(t, 0)
        _same(ours, theirs, exact=True)
        assert ours.values is ours[0] and ours.indices is ours[1]
    x.grad = t.grad = None
    (mg.cummax(x, 0).values.sum() + mg.cummin(x, 0).values.sum()).backward()
    (torch.cummax(t, 0).values.sum() + torch.cummin(t, 0).values.sum()).backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


def test_cummax_of_a_noncontiguous_3d_tensor_matches_torch():
    data = np.random.default_rng(2).integers(0, 4, (3, 4, 5)).astype(np.float32)
    x, t = mg.tensor(data).transpose(0, 2), torch.tensor(data).transpose(0, 2)
    for dim in (0, 1, 2, -2):
        _same(x.cummax(dim), t.cummax(dim), exact=True)
        _same(x.cummin(dim), t.cummin(dim), exact=True)
        _same(x.cumprod(dim), t.cumprod(dim))
        _same(x.logcumsumexp(dim), t.logcumsumexp(dim))


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"dim": 1},
        {"dim": (0, 1), "keepdim": True},
        {"dim": -1, "correction": 0},
        {"dim": 0, "unbiased": False},
        {"correction": 2},
        {"dim": 1, "keepdim": True, "unbiased": True},
    ],
)
@pytest.mark.parametrize("name", ["std_mean", "var_mean"])
def test_std_mean_var_mean_match_torch(name, kwargs):
    data = np.random.default_rng(3).standard_normal((3, 4))
    x, t = mg.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    ours, theirs = getattr(mg, name)(x, **kwargs), getattr(torch, name)(t, **kwargs)
    assert isinstance(ours, tuple) and len(ours) == 2
    for o, th in zip(ours, theirs):
        _same(o, th)
    (ours[0] * 2 + ours[1]).sum().backward()
    (theirs[0] * 2 + theirs[1]).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-10)


# --- agreement with PyTorch: errors ---------------------------------------------------------------

ERRORS = [
    lambda m: m.asin(0.5),
    lambda m: m.atan2(m.ones(2), 2.0),
    lambda m: m.atan2(2.0, m.ones(2)),
    lambda m: m.logaddexp(m.ones(2), 1),
    lambda m: m.hypot(m.ones(2), 1.0),
    lambda m: m.copysign(2.0, m.ones(2)),
    lambda m: m.atan2(m.ones(2, 3), m.ones(4)),
    lambda m: m.xlogy(m.ones(2, 3), m.ones(4)),
    lambda m: m.copysign(m.ones(3), m.ones(2)),
    lambda m: m.lerp(m.ones(2), 2.0, 0.5),
    lambda m: m.lerp(m.ones(2), m.ones(2, dtype=m.float64), 0.5),
    lambda m: m.lerp(m.ones(2), m.ones(2), m.ones(2, dtype=m.float64)),
    lambda m: m.lerp(m.ones(2), m.ones(2), m.ones(2, dtype=m.int64)),
    lambda m: m.lerp(m.ones(2, dtype=m.int64), m.ones(2, dtype=m.int64), 0.5),
    lambda m: m.lerp(m.ones(2), m.ones(3), 0.5),
    lambda m: m.logaddexp(m.tensor([True]), m.tensor([False])),
    lambda m: m.cumprod(m.ones(2, 3), 2),
    lambda m: m.cumprod(m.tensor(1.0), 1),
    lambda m: m.cummax(m.ones(2, 3), -3),
    lambda m: m.cummin(m.tensor(1.0), 1),
    lambda m: m.logcumsumexp(m.ones(2), 1),
    lambda m: m.logcumsumexp(m.tensor([1, 2]), 0),
    lambda m: m.logcumsumexp(m.tensor([True]), 0),
    lambda m: m.var_mean(m.tensor([1, 2])),
    lambda m: m.std_mean(m.tensor([1, 2]), 0),
    lambda m: m.var_mean(m.ones(2, 3), 2),
    lambda m: m.hypot(m.ones(2), m.tensor([1j, 2.0])),
    lambda m: m.atan2(m.tensor([1j, 2.0]), m.ones(2)),
    lambda m: m.copysign(m.tensor([1j, 2.0]), 1.0),
    lambda m: m.xlogy(m.tensor([1j, 2.0]), 2.0),
    lambda m: m.cummax(m.tensor([1j, 2.0]), 0),
]


@pytest.mark.parametrize("case", range(len(ERRORS)))
def test_errors_match_torch_types(case):
    with pytest.raises(Exception) as theirs:
        ERRORS[case](torch)
    with pytest.raises(type(theirs.value)):
        ERRORS[case](mg)


def test_error_messages_name_the_dtypes_and_arguments():
    with pytest.raises(RuntimeError, match="float32 for `end` but got dtype float64"):
        mg.lerp(mg.ones(2), mg.ones(2, dtype=mg.float64), 0.5)
    with pytest.raises(TypeError, match="atan2\\(\\): argument 'other' \\(position 2\\)"):
        mg.atan2(mg.ones(2), 2.0)
    with pytest.raises(NotImplementedError, match="hypot.*int64 and int64"):
        mg.hypot(mg.tensor([1]), mg.tensor([2]))
    with pytest.raises(RuntimeError, match="size of tensor a \\(3\\) must match"):
        mg.atan2(mg.ones(2, 3), mg.ones(4))


def test_cumprod_gradient_with_infinities_and_zeros_follows_torch():
    import torch

    x = np.array([[-np.inf, -0.0, -np.inf, -np.inf], [2.0, np.inf, 0.0, 3.0]])
    g = np.array([[0.7, -1.3, -0.4, 1.1], [0.5, -0.2, 0.9, -1.5]])
    a = mg.tensor(x, requires_grad=True)
    (mg.cumprod(a, 1) * mg.tensor(g)).sum().backward()
    t = torch.tensor(x, requires_grad=True)
    (torch.cumprod(t, 1) * torch.tensor(g)).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), t.grad.numpy())
    e = mg.zeros((0, 2), requires_grad=True)
    mg.cumprod(e, 0).sum().backward()
    assert e.grad.shape == (0, 2)


def test_atan2_gradient_at_the_origin_and_underflow_as_torch():
    torch = pytest.importorskip("torch")
    inf = float("inf")
    ys, xs = (
        [0.0, 0.0, -0.0, inf, 1.0, inf, 1e-30, 1e-200],
        [0.0, -0.0, 0.0, 1.0, inf, inf, 1e-30, 1e-200],
    )

    def grads(lib):
        y = lib.tensor(ys, dtype=lib.float64, requires_grad=True)
        x = lib.tensor(xs, dtype=lib.float64, requires_grad=True)
        lib.atan2(y, x).sum().backward()
        return y.grad.numpy(), x.grad.numpy()

    for ours, theirs in zip(grads(mg), grads(torch)):
        np.testing.assert_array_equal(ours, theirs)


def test_xlogy_and_lerp_edges_as_torch():
    torch = pytest.importorskip("torch")
    inf = float("inf")

    def run(lib):
        a = lib.tensor([-3.5, 0.0, 2e-16, -inf], dtype=lib.float64, requires_grad=True)
        b = lib.tensor([8.75, 8.75, 0.0, -inf], dtype=lib.float64, requires_grad=True)
        lib.xlogy(a, b).sum().backward()  # d/da = log b, at a = 0 too
        s = lib.tensor([-9.5, 1.0, 2.0, 0.5], dtype=lib.float64, requires_grad=True)
        e = lib.tensor([inf, inf, -1.0, 3.0], dtype=lib.float64, requires_grad=True)
        w = lib.tensor([-1.0, 0.25, -0.75, 0.5], dtype=lib.float64)
        out = lib.lerp(s, e, w)  # |w| >= 1/2 takes end - (end - start)(1 - w): NaN at inf
        return [out.detach(), a.grad, b.grad]

    for ours, theirs in zip(run(mg), run(torch)):
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())

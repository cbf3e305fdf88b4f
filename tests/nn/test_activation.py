"""minigrad.nn.activation: every activation against torch (values, gradients, dtypes, the
boundary points where torch picks a one-sided gradient, errors), float64 gradchecks, modules."""

import numpy as np
import pytest
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.testing import strategies
from minigrad.testing.opcheck import check_op

torch = pytest.importorskip("torch")
TF = torch.nn.functional

# Op names of minigrad.nn.activation gradient-checked here (read by the op-coverage test).
COVERED = {
    "elu", "hardtanh", "hardswish", "hardsigmoid", "logsigmoid", "softsign", "softshrink",
    "hardshrink", "threshold",
}  # fmt: skip

# Points on and around every kink and boundary the functions have.
EDGES = [-7.0, -6.0, -3.0, -2.5, -1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0, 2.5, 3.0, 6.0, 7.0]

CASES = {
    "elu": ((), {}),
    "elu(alpha=2)": ((), {"alpha": 2.0}),
    "selu": ((), {}),
    "celu": ((), {}),
    "celu(alpha=0.5)": ((), {"alpha": 0.5}),
    "relu6": ((), {}),
    "hardtanh": ((), {}),
    "hardtanh(-2, 2.5)": ((-2.0, 2.5), {}),
    "hardswish": ((), {}),
    "hardsigmoid": ((), {}),
    "mish": ((), {}),
    "logsigmoid": ((), {}),
    "softsign": ((), {}),
    "softshrink": ((), {}),
    "softshrink(1)": ((1.0,), {}),
    "hardshrink": ((), {}),
    "hardshrink(0.25)": ((0.25,), {}),
    "tanhshrink": ((), {}),
    "threshold(0.5, -3)": ((0.5, -3.0), {}),
    "glu": ((), {}),
    "softmin": ((), {"dim": -1}),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_matches_torch_values_and_gradients(case, dtype):
    name = case.split("(")[0]
    args, kwargs = CASES[case]
    values = np.array(EDGES + [-30.0, 30.0], dtype=dtype)
    if name == "glu":
        values = values[:16].reshape(2, 8)
    else:
        values = np.stack([values, values[::-1]])
    x = mg.tensor(values, requires_grad=True)
    tx = torch.tensor(values, requires_grad=True)
    y = getattr(F, name)(x, *args, **kwargs)
    ty = getattr(TF, name)(tx, *args, **kwargs)
    assert y.dtype == np.dtype(dtype) and tuple(y.shape) == tuple(ty.shape)
    tol = dict(rtol=1e-6, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), **tol)
    w = np.random.default_rng(0).standard_normal(ty.shape).astype(dtype)
    (y * mg.tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), **tol)


@pytest.mark.parametrize("name", ["relu6", "hardtanh", "threshold"])
def test_integer_inputs_keep_their_dtype(name):
    args = (0, 5) if name == "threshold" else ()
    values = np.array([-7, -1, 0, 2, 6, 9])
    y = getattr(F, name)(mg.tensor(values), *args)
    ty = getattr(TF, name)(torch.tensor(values), *args)
    assert str(y.dtype) == str(ty.dtype).replace("torch.", "")
    np.testing.assert_array_equal(y.numpy(), ty.numpy())


@pytest.mark.parametrize(
    "name", ["elu", "selu", "celu", "hardswish", "hardsigmoid", "mish", "logsigmoid",
             "softshrink", "hardshrink", "glu"],
)  # fmt: skip
def test_integer_inputs_raise_like_torch(name):
    with pytest.raises(NotImplementedError):
        getattr(TF, name)(torch.tensor([1, 2, 3, 4]))
    with pytest.raises(NotImplementedError, match="Long"):
        getattr(F, name)(mg.tensor([1, 2, 3, 4]))


@pytest.mark.parametrize("name", ["softsign", "tanhshrink"])
def test_integer_inputs_give_floats(name):
    y = getattr(F, name)(mg.tensor([-2, 0, 3]))
    ty = getattr(TF, name)(torch.tensor([-2, 0, 3]))
    assert y.dtype == mg.float32 and ty.dtype == torch.float32
    np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=1e-6)


def test_errors_match_torch():
    for call in (
        lambda f, t: f.glu(t.ones(3)),
        lambda f, t: f.glu(t.ones(())),
        lambda f, t: f.celu(t.ones(3), 0.0),
        lambda f, t: f.softshrink(t.ones(3), -1.0),
        lambda f, t: f.prelu(t.ones(2, 3), t.ones(2)),
        lambda f, t: f.prelu(t.ones(2, 3, dtype=t.float64), t.ones(3)),
    ):
        with pytest.raises(RuntimeError) as theirs:
            call(TF, torch)
        with pytest.raises(RuntimeError) as ours:
            call(F, mg)
        first = str(theirs.value).split(",")[0].split(":")[0]
        assert first[:25] in str(ours.value), (str(theirs.value), str(ours.value))
    with pytest.raises(IndexError):
        F.glu(mg.ones(2, 4), dim=2)
    with pytest.raises(ValueError):
        nn.Hardtanh(2.0, 1.0)


@pytest.mark.parametrize("shape", [(), (5,), (2, 3), (2, 3, 4)])
@pytest.mark.parametrize("per_channel", [False, True])
def test_prelu_matches_torch(shape, per_channel):
    channels = shape[1] if len(shape) >= 2 else 1
    n = channels if per_channel else 1
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape)
    w = rng.standard_normal(n)
    mx, mw = mg.tensor(x, requires_grad=True), mg.tensor(w, requires_grad=True)
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    y, ty = F.prelu(mx, mw), TF.prelu(tx, tw)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(mw.grad.numpy(), tw.grad.numpy(), rtol=1e-12)


def test_modules_match_torch_and_their_reprs():
    x = np.linspace(-4, 4, 24, dtype=np.float32).reshape(2, 3, 4)
    for ours, theirs in [
        (nn.ELU(0.7), torch.nn.ELU(0.7)),
        (nn.SELU(), torch.nn.SELU()),
        (nn.CELU(1.5), torch.nn.CELU(1.5)),
        (nn.ReLU6(), torch.nn.ReLU6()),
        (nn.Hardtanh(-0.5, 2.0), torch.nn.Hardtanh(-0.5, 2.0)),
        (nn.Hardswish(), torch.nn.Hardswish()),
        (nn.Hardsigmoid(), torch.nn.Hardsigmoid()),
        (nn.Mish(), torch.nn.Mish()),
        (nn.LogSigmoid(), torch.nn.LogSigmoid()),
        (nn.Softsign(), torch.nn.Softsign()),
        (nn.Softmin(1), torch.nn.Softmin(1)),
        (nn.Softshrink(0.3), torch.nn.Softshrink(0.3)),
        (nn.Hardshrink(0.3), torch.nn.Hardshrink(0.3)),
        (nn.Tanhshrink(), torch.nn.Tanhshrink()),
        (nn.Threshold(0.1, 20.0), torch.nn.Threshold(0.1, 20.0)),
        (nn.GLU(-1), torch.nn.GLU(-1)),
        (nn.PReLU(3), torch.nn.PReLU(3)),
        (nn.PReLU(), torch.nn.PReLU()),
    ]:
        assert repr(ours) == repr(theirs)
        y = ours(mg.tensor(x))
        ty = theirs(torch.tensor(x))
        np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-6, atol=1e-7)
    prelu = nn.PReLU(3)
    assert [n for n, _ in prelu.named_parameters()] == ["weight"]
    assert prelu.weight.dtype == mg.float32 and tuple(prelu.weight.shape) == (3,)
    prelu.load_state_dict({"weight": mg.tensor([0.1, 0.2, 0.3])})


def test_inplace_variants_write_into_the_input():
    x = mg.tensor([-2.0, 0.5, 3.0])
    out = F.elu_(x)
    assert out is x
    np.testing.assert_allclose(x.numpy(), TF.elu(torch.tensor([-2.0, 0.5, 3.0])).numpy())
    y = mg.tensor([-2.0, 0.5, 3.0])
    nn.Hardtanh(inplace=True)(y)
    np.testing.assert_allclose(y.numpy(), [-1.0, 0.5, 1.0])
    z = mg.tensor([-2.0, 0.5, 3.0])
    F.threshold_(z, 1.0, 9.0)
    np.testing.assert_allclose(z.numpy(), [9.0, 9.0, 3.0])


def _away(points, margin=1e-3):
    """Reject draws within `margin` of a kink (finite differences straddle it there)."""
    return lambda x: bool(np.all(np.min(np.abs(x[..., None] - np.array(points)), -1) > margin))


SHAPES = strategies.shapes(max_dims=3)
test_elu = check_op(F.elu, SHAPES, valid=_away([0]), gradgrad=True)
test_celu = check_op(lambda x: F.celu(x, 0.7), SHAPES, valid=_away([0]), gradgrad=True)
test_selu = check_op(F.selu, SHAPES, valid=_away([0]), gradgrad=True)
test_hardtanh = check_op(F.hardtanh, SHAPES, valid=_away([-1, 1]), gradgrad=True)
test_hardswish = check_op(F.hardswish, SHAPES, valid=_away([-3, 3]), gradgrad=True)
test_hardsigmoid = check_op(F.hardsigmoid, SHAPES, valid=_away([-3, 3]), gradgrad=True)
test_mish = check_op(F.mish, SHAPES, gradgrad=True)
test_logsigmoid = check_op(F.logsigmoid, SHAPES, gradgrad=True)
test_softsign = check_op(F.softsign, SHAPES, valid=_away([0]), gradgrad=True)
test_softshrink = check_op(F.softshrink, SHAPES, valid=_away([-0.5, 0.5]), gradgrad=True)
test_hardshrink = check_op(F.hardshrink, SHAPES, valid=_away([-0.5, 0.5]), gradgrad=True)
test_tanhshrink = check_op(F.tanhshrink, SHAPES, gradgrad=True)
test_threshold = check_op(lambda x: F.threshold(x, 0.2, -1.0), SHAPES, valid=_away([0.2]))
test_glu = check_op(
    lambda x: F.glu(x, 0),
    strategies.shapes(min_dims=1, max_dims=3).map(lambda s: (2 * s[0],) + s[1:]),
    gradgrad=True,
)
NONZERO = st.tuples(st.floats(0.05, 3.0), st.booleans()).map(lambda t: t[0] if t[1] else -t[0])
test_prelu = check_op(
    lambda x, w: F.prelu(x, w), ((2, 3, 2), (3,)), elements=[NONZERO, strategies.floats()]
)


# regressions found by the differential suite (tests/differential/table_nnact.py)


def _grad(lib, fn, x, dtype="float64"):
    t = lib.tensor(np.array(x, dtype), requires_grad=True)
    out = fn(lib, t)
    out.sum().backward()
    return out.detach().numpy(), t.grad.numpy()


def test_threshold_keeps_nan_as_torch():
    for lib in (mg, torch):
        out = lib.nn.functional.threshold(lib.tensor([float("nan"), 1.0]), 0.5, -3.0)
        assert np.isnan(out.numpy()[0]) and out.numpy()[1] == 1.0
    assert np.isnan(nn.Threshold(0.5, -3.0)(mg.tensor([float("nan")])).numpy()[0])


@pytest.mark.parametrize(
    "dtype,th,val",
    [("uint8", 1.0, -1), ("uint8", 2.7, -1), ("uint8", -2, 5), ("uint8", -2.0, 5),
     ("uint8", 1, -1.0), ("uint8", 1, 300), ("int8", -2.5, -1.0), ("int8", -1.5, 7.9),
     ("int8", 1, -129), ("int8", -200.0, 1)],
)  # fmt: skip
def test_threshold_int_scalars_convert_as_torch(dtype, th, val):
    x = (
        np.array([-3, -2, -1, 0, 1, 2, 3, 100], dtype)
        if dtype == "int8"
        else np.array([0, 1, 2, 3, 200], dtype)
    )
    try:
        want = TF.threshold(torch.from_numpy(x), th, val).numpy()
    except RuntimeError:
        with pytest.raises(RuntimeError, match="without overflow"):
            F.threshold(mg.tensor(x), th, val)
        return
    np.testing.assert_array_equal(F.threshold(mg.tensor(x), th, val).numpy(), want)
    np.testing.assert_array_equal(F.threshold_(mg.tensor(x), th, val).numpy(), want)


def test_hardtanh_unsigned_negative_limits_raise():
    with pytest.raises(RuntimeError, match="unsigned type with negative limits"):
        F.hardtanh(mg.tensor(np.array([1, 2], np.uint8)))
    with pytest.raises(RuntimeError, match="unsigned type with negative limits"):
        F.hardtanh_(mg.tensor(np.array([1, 2], np.uint8)), -2.0, 1.0)


def test_softsign_gradient_at_inf_is_nan_as_torch():
    for x in ([np.inf, -np.inf, 2.0], [0.0, -3.0]):
        got = _grad(mg, lambda lib, t: lib.nn.functional.softsign(t), x)
        want = _grad(torch, lambda lib, t: lib.nn.functional.softsign(t), x)
        np.testing.assert_allclose(got[1], want[1], rtol=1e-12)


def test_softsign_tanhshrink_reject_bool():
    b = mg.tensor([True, False])
    with pytest.raises(NotImplementedError):
        F.softsign(b)
    with pytest.raises(RuntimeError, match="bool tensor"):
        F.tanhshrink(b)


def test_prelu_weight_gradient_ignores_positive_inf():
    for n in (1, 3):
        xs = np.array([[np.inf, -2.0, 1.0], [3.0, np.inf, -0.5]])
        grads = []
        for lib in (mg, torch):
            x = lib.tensor(xs)
            w = lib.tensor(np.full(n, 0.25), requires_grad=True)
            lib.nn.functional.prelu(x, w).sum().backward()
            grads.append(w.grad.numpy())
        np.testing.assert_allclose(grads[0], grads[1])


def test_glu_of_empty_dim_gives_two_empty_halves():
    x = np.zeros((2, 0, 3))
    got = F.glu(mg.tensor(x), 1)
    assert tuple(got.shape) == tuple(TF.glu(torch.from_numpy(x), 1).shape) == (2, 0, 3)

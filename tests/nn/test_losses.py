"""Every loss against PyTorch on the same float64 inputs: values and input gradients to 1e-6,
for all reductions and options; extreme logits stay finite."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.testing import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")
TF = torch.nn.functional

REDUCTIONS = ["none", "mean", "sum"]
COVERED = {"binary_cross_entropy"}


def pair(a, requires_grad=True):
    a = np.asarray(a)
    m = mg.tensor(a, requires_grad=requires_grad and a.dtype.kind == "f")
    t = torch.tensor(a, requires_grad=requires_grad and a.dtype.kind == "f")
    return m, t


def check(m_out, t_out, m_inputs, t_inputs, tol=1e-6):
    np.testing.assert_allclose(m_out.detach().numpy(), t_out.detach().numpy(), rtol=tol, atol=tol)
    g = np.random.default_rng(1).standard_normal(tuple(t_out.shape))
    m_out.backward(mg.tensor(g))
    t_out.backward(torch.tensor(g))
    for m, t in zip(m_inputs, t_inputs):
        np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), rtol=tol, atol=tol)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize(
    "name,kwargs",
    [
        ("mse_loss", {}),
        ("l1_loss", {}),
        ("huber_loss", {"delta": 0.7}),
        ("huber_loss", {}),
        ("smooth_l1_loss", {"beta": 0.5}),
        ("smooth_l1_loss", {"beta": 0.0}),
    ],
)
def test_regression_losses(rng, name, kwargs, reduction):
    (x, tx), (y, ty) = pair(rng.standard_normal((4, 3))), pair(rng.standard_normal((4, 3)))
    check(
        getattr(F, name)(x, y, reduction=reduction, **kwargs),
        getattr(TF, name)(tx, ty, reduction=reduction, **kwargs),
        [x, y],
        [tx, ty],
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy(rng, reduction, weighted):
    x, tx = pair(rng.uniform(0.02, 0.98, (5, 2)))
    y, ty = pair(rng.uniform(0, 1, (5, 2)))
    w, tw = pair(rng.uniform(0.5, 2, (5, 2)), requires_grad=False) if weighted else (None, None)
    check(
        F.binary_cross_entropy(x, y, w, reduction=reduction),
        TF.binary_cross_entropy(tx, ty, tw, reduction=reduction),
        [x, y],
        [tx, ty],
    )


def test_binary_cross_entropy_clamps_log_like_torch():
    x = mg.tensor([0.0, 1.0, 0.5])
    y = mg.tensor([1.0, 0.0, 1.0])
    ours = F.binary_cross_entropy(x, y, reduction="none").numpy()
    ref = TF.binary_cross_entropy(
        torch.tensor([0.0, 1.0, 0.5]), torch.tensor([1.0, 0.0, 1.0]), reduction="none"
    ).numpy()
    np.testing.assert_allclose(ours, ref, rtol=1e-6)
    with pytest.raises(RuntimeError, match="input should be between 0 and 1"):
        F.binary_cross_entropy(mg.tensor([1.5]), mg.tensor([1.0]))
    with pytest.raises(RuntimeError, match="input should be between 0 and 1"):
        F.binary_cross_entropy(mg.tensor([float("nan")]), mg.tensor([1.0]))
    for bad in (-1.0, float("inf"), float("nan")):  # torch checks the target too
        with pytest.raises(RuntimeError, match="target should be between 0 and 1"):
            TF.binary_cross_entropy(torch.tensor([0.5]), torch.tensor([bad]))
        with pytest.raises(RuntimeError, match="target should be between 0 and 1"):
            F.binary_cross_entropy(mg.tensor([0.5]), mg.tensor([bad]))


@given(st.integers(0, 2**16), st.sampled_from(REDUCTIONS), st.booleans())
def test_binary_cross_entropy_gradcheck(seed, reduction, weighted):
    rng = np.random.default_rng(seed)
    shape = tuple(rng.integers(1, 4, size=rng.integers(0, 3)))
    x = mg.tensor(rng.uniform(0.05, 0.95, shape), requires_grad=True)
    t = mg.tensor(rng.uniform(0, 1, shape), requires_grad=True)
    w = mg.tensor(rng.uniform(0.5, 2, shape)) if weighted else None
    assert gradcheck(lambda x, t: F.binary_cross_entropy(x, t, w, reduction=reduction), (x, t))
    assert gradgradcheck(lambda x, t: F.binary_cross_entropy(x, t, w, reduction=reduction), (x, t))


def test_binary_cross_entropy_gradients_at_0_and_1_as_torch():
    # torch divides the input's gradient by max(x (1 - x), 1e-12) and takes the target's from
    # the unclamped logs: finite, +-1e12 and +-inf, where clamped logs would give NaN
    x, tx = pair([0.0, 0.0, 1.0, 1.0, 1e-30, 0.5])
    y, ty = pair([0.0, 1.0, 0.0, 1.0, 0.5, 0.3])
    check(
        F.binary_cross_entropy(x, y, reduction="none"),
        TF.binary_cross_entropy(tx, ty, reduction="none"),
        [x, y],
        [tx, ty],
    )


@pytest.mark.parametrize("name,kwargs", [("huber_loss", {"delta": 0.7}), ("smooth_l1_loss", {})])
def test_huber_and_smooth_l1_gradients_at_an_infinite_difference_as_torch(name, kwargs):
    inf = float("inf")
    x, tx = pair([-inf, 0.0, 3.0, 0.5, inf, 0.7, -inf])
    y, ty = pair([-7.8, inf, 0.0, 0.0, 1.0, 0.0, -inf])  # the last: a NaN difference
    check(
        getattr(F, name)(x, y, reduction="none", **kwargs),
        getattr(TF, name)(tx, ty, reduction="none", **kwargs),
        [x, y],
        [tx, ty],
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("pos", [False, True])
def test_bce_with_logits(rng, reduction, weighted, pos):
    x, tx = pair(rng.standard_normal((5, 3)) * 4)
    y, ty = pair(rng.uniform(0, 1, (5, 3)))
    w, tw = pair(rng.uniform(0.5, 2, (5, 3)), False) if weighted else (None, None)
    p, tp = pair(rng.uniform(0.5, 3, (3,)), False) if pos else (None, None)
    check(
        F.binary_cross_entropy_with_logits(x, y, w, reduction=reduction, pos_weight=p),
        TF.binary_cross_entropy_with_logits(tx, ty, tw, reduction=reduction, pos_weight=tp),
        [x, y],
        [tx, ty],
    )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("ignore", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.15])
@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 2, 2), (4,)])
def test_cross_entropy_class_indices(rng, reduction, weighted, ignore, smoothing, shape):
    c = shape[1] if len(shape) > 1 else shape[0]
    tshape = (shape[0], *shape[2:]) if len(shape) > 1 else ()
    x, tx = pair(rng.standard_normal(shape) * 3)
    t = rng.integers(0, c, size=tshape)
    if ignore and t.size > 1:
        t.reshape(-1)[:2] = 1  # ignore_index=1: a real class id, ignored
    target, ttarget = mg.tensor(t), torch.tensor(t)
    w, tw = pair(rng.uniform(0.5, 2, c), False) if weighted else (None, None)
    ii = 1 if ignore else -100
    kw = dict(ignore_index=ii, reduction=reduction, label_smoothing=smoothing)
    check(F.cross_entropy(x, target, w, **kw), TF.cross_entropy(tx, ttarget, tw, **kw), [x], [tx])
    x2, tx2 = pair(x.detach().numpy())
    lp, tlp = (
        F.log_softmax(x2, 1 if len(shape) > 1 else 0),
        TF.log_softmax(tx2, 1 if len(shape) > 1 else 0),
    )
    kw.pop("label_smoothing")
    check(F.nll_loss(lp, target, w, **kw), TF.nll_loss(tlp, ttarget, tw, **kw), [x2], [tx2])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_probability_targets(rng, reduction, weighted, smoothing):
    x, tx = pair(rng.standard_normal((5, 4, 2)))
    p = rng.uniform(0, 1, (5, 4, 2))
    p /= p.sum(1, keepdims=True)
    y, ty = pair(p)
    w, tw = pair(rng.uniform(0.5, 2, 4), False) if weighted else (None, None)
    kw = dict(reduction=reduction, label_smoothing=smoothing)
    check(F.cross_entropy(x, y, w, **kw), TF.cross_entropy(tx, ty, tw, **kw), [x, y], [tx, ty])


@pytest.mark.filterwarnings("ignore:reduction. .mean. divides")
@pytest.mark.parametrize("reduction", ["none", "mean", "sum", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(rng, reduction, log_target):
    x, tx = pair(np.log(rng.uniform(0.1, 1, (3, 4))))
    yv = rng.uniform(0.05, 1, (3, 4))
    y, ty = pair(np.log(yv) if log_target else yv)
    check(
        F.kl_div(x, y, reduction=reduction, log_target=log_target),
        TF.kl_div(tx, ty, reduction=reduction, log_target=log_target),
        [x, y],
        [tx, ty],
    )
    # a zero target contributes 0 (0 log 0 = 0) and no input gradient
    x0, tx0 = pair(x.detach().numpy())
    yv[0, 0] = 0.0
    y0, ty0 = pair(yv, False)
    if not log_target:
        check(
            F.kl_div(x0, y0, reduction=reduction),
            TF.kl_div(tx0, ty0, reduction=reduction),
            [x0],
            [tx0],
        )


def test_kl_div_at_zero_and_negative_targets_as_torch():
    # xlogy(t, t) - t x: NaN at a negative target or at t = 0 with x = -inf, and the target's
    # gradient log(t) + 1 - x is NaN at t = 0 (xlogy's derivative in its second argument)
    x, tx = pair([-1.0, -0.3, -float("inf"), 0.1, 0.2])
    y, ty = pair([0.0, 0.5, 0.0, 2.0, -0.5])
    check(F.kl_div(x, y, reduction="none"), TF.kl_div(tx, ty, reduction="none"), [x, y], [tx, ty])


@pytest.mark.parametrize("dtype", [mg.float32, mg.float64])
def test_extreme_logits_are_finite(dtype):
    x = mg.tensor([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [1e4, 1e4, -1e4]], dtype=dtype,
                  requires_grad=True)  # fmt: skip
    t = mg.tensor([1, 0, 2])
    for loss in (
        F.cross_entropy(x, t),
        F.cross_entropy(x, t, label_smoothing=0.1),
        F.nll_loss(F.log_softmax(x, 1), t),
        F.binary_cross_entropy_with_logits(x, mg.ones(3, 3, dtype=dtype) * 0.5),
        F.cross_entropy(x, F.softmax(x.detach() * 0, 1)),
    ):
        x.grad = None
        loss.backward()
        assert np.isfinite(loss.item())
        assert np.isfinite(x.grad.numpy()).all()
    ref = TF.cross_entropy(torch.tensor(x.detach().numpy()), torch.tensor([1, 0, 2]))
    np.testing.assert_allclose(F.cross_entropy(x, t).item(), ref.item(), rtol=1e-6)


def test_loss_modules_match_functional(rng):
    x, tx = pair(rng.standard_normal((4, 3)))
    t = rng.integers(0, 3, 4)
    w = rng.uniform(0.5, 2, 3)
    cases = [
        (nn.CrossEntropyLoss(weight=mg.tensor(w), label_smoothing=0.1, reduction="sum"),
         torch.nn.CrossEntropyLoss(weight=torch.tensor(w), label_smoothing=0.1, reduction="sum"),
         mg.tensor(t), torch.tensor(t)),
        (nn.NLLLoss(ignore_index=0), torch.nn.NLLLoss(ignore_index=0), mg.tensor(t),
         torch.tensor(t)),
        (nn.MSELoss(), torch.nn.MSELoss(), mg.tensor(w[:1] * np.ones((4, 3))),
         torch.tensor(w[:1] * np.ones((4, 3)))),
        (nn.L1Loss(reduction="none"), torch.nn.L1Loss(reduction="none"), mg.zeros(4, 3,
         dtype=mg.float64), torch.zeros(4, 3, dtype=torch.float64)),
        (nn.HuberLoss(delta=0.5), torch.nn.HuberLoss(delta=0.5), mg.zeros(4, 3, dtype=mg.float64),
         torch.zeros(4, 3, dtype=torch.float64)),
        (nn.SmoothL1Loss(beta=2.0), torch.nn.SmoothL1Loss(beta=2.0),
         mg.zeros(4, 3, dtype=mg.float64), torch.zeros(4, 3, dtype=torch.float64)),
        (nn.BCEWithLogitsLoss(pos_weight=mg.tensor(w)),
         torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(w)),
         mg.ones(4, 3, dtype=mg.float64), torch.ones(4, 3, dtype=torch.float64)),
    ]  # fmt: skip
    for ours, theirs, target, ttarget in cases:
        np.testing.assert_allclose(
            ours(x, target).detach().numpy(), theirs(tx, ttarget).detach().numpy(), rtol=1e-6
        )
        assert repr(ours) == repr(theirs)
    bce, tbce = nn.BCELoss(), torch.nn.BCELoss()
    p = rng.uniform(0.1, 0.9, (4, 3))
    np.testing.assert_allclose(
        bce(mg.tensor(p), mg.ones(4, 3, dtype=mg.float64)).item(),
        tbce(torch.tensor(p), torch.ones(4, 3, dtype=torch.float64)).item(),
        rtol=1e-6,
    )
    assert nn.CrossEntropyLoss(size_average=False).reduction == "sum"


def test_loss_errors():
    x = mg.randn(3, 4)
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.mse_loss(x, x, reduction="avg")
    with pytest.raises(IndexError, match="Target 7 is out of bounds"):
        F.cross_entropy(x, mg.tensor([0, 7, 1]))
    with pytest.raises(ValueError, match="Expected target size"):
        F.cross_entropy(x, mg.tensor([0, 1]))
    with pytest.raises(RuntimeError, match="weight tensor should be defined"):
        F.cross_entropy(x, mg.tensor([0, 1, 2]), weight=mg.ones(3))
    with pytest.raises(RuntimeError, match="Long"):
        F.nll_loss(x, mg.tensor([0.0, 1.0, 2.0]))


# torch's deprecated size_average / reduce slots sit between the inputs and `reduction`: a call
# written for torch passes them (and what follows) by position
LEGACY = [(None, None), (True, None), (False, None), (None, False), (False, True), (True, True)]


@pytest.mark.filterwarnings("ignore:size_average and reduce args will be deprecated")
@pytest.mark.parametrize("size_average,reduce", LEGACY)
def test_losses_take_torchs_positional_size_average_reduce(rng, size_average, reduce):
    (x, tx), (y, ty) = pair(rng.standard_normal((4, 3))), pair(rng.standard_normal((4, 3)))
    (p, tp), (b, tb) = pair(rng.uniform(0.05, 0.95, (4, 3))), pair(rng.uniform(0, 1, (4, 3)))
    (w, tw), (cls, tcls) = pair(rng.uniform(0.5, 2, 3), False), pair(np.array([0, 2, 1, 0]))
    legacy = (size_average, reduce)
    cases = [
        (F.mse_loss(x, y, *legacy, "sum"), TF.mse_loss(tx, ty, *legacy, "sum")),
        (F.l1_loss(x, y, *legacy), TF.l1_loss(tx, ty, *legacy)),
        (F.smooth_l1_loss(x, y, *legacy, "mean", 0.5), TF.smooth_l1_loss(tx, ty, *legacy, "mean", 0.5)),
        (F.kl_div(x, p, *legacy, "sum", False), TF.kl_div(tx, tp, *legacy, "sum", False)),
        (F.binary_cross_entropy(p, b, None, *legacy), TF.binary_cross_entropy(tp, tb, None, *legacy)),
        (F.binary_cross_entropy_with_logits(x, b, None, *legacy, "mean", w),
         TF.binary_cross_entropy_with_logits(tx, tb, None, *legacy, "mean", tw)),
        (F.cross_entropy(x, cls, w, size_average, 2, reduce, "mean", 0.1),
         TF.cross_entropy(tx, tcls, tw, size_average, 2, reduce, "mean", 0.1)),
        (F.nll_loss(x, cls, w, size_average, 1, reduce), TF.nll_loss(tx, tcls, tw, size_average, 1, reduce)),
    ]  # fmt: skip
    for ours, theirs in cases:
        np.testing.assert_allclose(
            ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-6, atol=1e-12
        )


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_elementwise_weight_of_regression_losses(rng, name, reduction):
    (x, tx), (y, ty) = pair(rng.standard_normal((4, 3))), pair(rng.standard_normal((4, 3)))
    (w, tw) = pair(rng.uniform(0.1, 2, (4, 3)))
    check(
        getattr(F, name)(x, y, reduction=reduction, weight=w),
        getattr(TF, name)(tx, ty, reduction=reduction, weight=tw),
        [x, y, w],
        [tx, ty, tw],
    )
    with pytest.raises(ValueError, match="same size"):
        getattr(F, name)(x, y, weight=w[:2])


def test_legacy_flags_warn_as_torch():
    x = mg.zeros(3)
    with pytest.warns(UserWarning, match="please use reduction='sum' instead"):
        F.mse_loss(x, x, False)
    with pytest.warns(UserWarning, match="reduction='none'"):
        nn.MSELoss(reduce=False)

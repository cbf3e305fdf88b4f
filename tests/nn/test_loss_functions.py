"""minigrad.nn.loss_functions and their modules against torch: values and gradients of every
input for each reduction and option, legacy size_average/reduce, shapes and errors."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.testing import gradcheck

torch = pytest.importorskip("torch")

rng = np.random.default_rng(0)
X1, X2, X3 = (rng.standard_normal((5, 4)) for _ in range(3))
SIGN = np.array([1.0, -1.0, 1.0, -1.0, -1.0])
COUNTS = rng.integers(0, 5, size=(5, 4)).astype(np.float64)
LABELS = (rng.random((5, 4)) > 0.5).astype(np.float64)
VAR = rng.random((5, 4)) + 0.1

CASES = {
    "margin_ranking_loss": ((X1[:, 0], X2[:, 0], SIGN), {"margin": 0.3}),
    "cosine_embedding_loss": ((X1, X2, SIGN), {"margin": 0.2}),
    "cosine_embedding_loss(1d)": ((X1[0], X2[0], np.array(-1.0)), {}),
    "triplet_margin_loss": ((X1, X2, X3), {}),
    "triplet_margin_loss(p=1, swap)": ((X1, X2, X3), {"p": 1, "swap": True, "margin": 2.0}),
    "triplet_margin_loss(p=3)": ((X1, X2, X3), {"p": 3, "eps": 1e-3}),
    "hinge_embedding_loss": ((X1, np.sign(X2)), {"margin": 0.5}),
    "soft_margin_loss": ((X1, np.sign(X2)), {}),
    "multilabel_soft_margin_loss": ((X1, LABELS), {}),
    "poisson_nll_loss": ((X1, COUNTS), {}),
    "poisson_nll_loss(full)": ((X1, COUNTS), {"full": True}),
    "poisson_nll_loss(rate)": ((np.abs(X1) + 0.1, COUNTS), {"log_input": False}),
    "gaussian_nll_loss": ((X1, X2, VAR), {}),
    "gaussian_nll_loss(full, eps)": ((X1, X2, VAR), {"full": True, "eps": 0.3}),
    "gaussian_nll_loss(per sample)": ((X1, X2, VAR[:, 0]), {}),
    "gaussian_nll_loss(trailing 1)": ((X1, X2, VAR[:, :1]), {}),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses_match_torch(case, reduction):
    name = case.split("(")[0]
    arrays, kwargs = CASES[case]
    ours = [mg.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    try:
        ty = getattr(torch.nn.functional, name)(*theirs, reduction=reduction, **kwargs)
    except RuntimeError as e:  # torch refuses a target that requires grad: so do we
        assert "not differentiable" in str(e)
        with pytest.raises(RuntimeError, match="not differentiable"):
            getattr(F, name)(*ours, reduction=reduction, **kwargs)
        ours[-1], theirs[-1] = mg.tensor(arrays[-1]), torch.tensor(arrays[-1])
        ty = getattr(torch.nn.functional, name)(*theirs, reduction=reduction, **kwargs)
    y = getattr(F, name)(*ours, reduction=reduction, **kwargs)
    assert tuple(y.shape) == tuple(ty.shape)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
    w = rng.standard_normal(tuple(ty.shape))
    (y * mg.tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    for k, (m, t) in enumerate(zip(ours, theirs)):
        if t.grad is None:
            assert not t.requires_grad or m.grad is None or not m.grad.numpy().any()
            continue
        np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), rtol=1e-9, atol=1e-11,
                                   err_msg=f"input {k}")  # fmt: skip


def test_modules_match_torch():
    pairs = [
        (nn.MarginRankingLoss(0.1), torch.nn.MarginRankingLoss(0.1), (X1[:, 0], X2[:, 0], SIGN)),
        (nn.CosineEmbeddingLoss(0.1, reduction="sum"),
         torch.nn.CosineEmbeddingLoss(0.1, reduction="sum"), (X1, X2, SIGN)),
        (nn.TripletMarginLoss(swap=True), torch.nn.TripletMarginLoss(swap=True), (X1, X2, X3)),
        (nn.HingeEmbeddingLoss(), torch.nn.HingeEmbeddingLoss(), (X1, np.sign(X2))),
        (nn.SoftMarginLoss(), torch.nn.SoftMarginLoss(), (X1, np.sign(X2))),
        (nn.MultiLabelSoftMarginLoss(), torch.nn.MultiLabelSoftMarginLoss(), (X1, LABELS)),
        (nn.PoissonNLLLoss(full=True), torch.nn.PoissonNLLLoss(full=True), (X1, COUNTS)),
        (nn.GaussianNLLLoss(), torch.nn.GaussianNLLLoss(), (X1, X2, VAR)),
        (nn.TripletMarginWithDistanceLoss(), torch.nn.TripletMarginWithDistanceLoss(),
         (X1, X2, X3)),
        (nn.MarginRankingLoss(size_average=False), torch.nn.MarginRankingLoss(size_average=False),
         (X1[:, 0], X2[:, 0], SIGN)),
    ]  # fmt: skip
    for ours, theirs, arrays in pairs:
        if not isinstance(ours, nn.TripletMarginWithDistanceLoss):  # torch shows its default
            assert repr(ours) == repr(theirs)  # distance, a PairwiseDistance module
        y = ours(*(mg.tensor(a) for a in arrays))
        ty = theirs(*(torch.tensor(a) for a in arrays))
        np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=1e-10)


def test_gaussian_nll_clamp_keeps_the_gradient_of_var():
    var = np.array([1e-9, 0.5, 2.0])
    mv, tv = mg.tensor(var, requires_grad=True), torch.tensor(var, requires_grad=True)
    F.gaussian_nll_loss(mg.tensor([0.0, 1.0, 2.0]), mg.zeros(3, dtype=mg.float64), mv).backward()
    torch.nn.functional.gaussian_nll_loss(
        torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64), torch.zeros(3, dtype=torch.float64), tv
    ).backward()
    np.testing.assert_allclose(mv.grad.numpy(), tv.grad.numpy(), rtol=1e-10)


def test_errors_match_torch():
    for call, kind in [
        (lambda f, t: f.gaussian_nll_loss(t.ones(3), t.ones(3), -t.ones(3)), ValueError),
        (lambda f, t: f.gaussian_nll_loss(t.ones(3, 2), t.ones(3, 2), t.ones(2, 3)), ValueError),
        (lambda f, t: f.margin_ranking_loss(t.ones(3), t.ones(3), t.ones(3, 1)), RuntimeError),
        (lambda f, t: f.poisson_nll_loss(t.ones(3), t.ones(3), reduction="avg"), ValueError),
    ]:
        with pytest.raises(kind):
            call(torch.nn.functional, torch)
        with pytest.raises(kind):
            call(F, mg)
    with pytest.raises(ValueError):
        nn.TripletMarginLoss(margin=0.0)
    with pytest.raises(ValueError):
        torch.nn.TripletMarginLoss(margin=0.0)


def test_gradchecks():
    a, b, c = (mg.tensor(x, requires_grad=True) for x in (X1, X2, X3))
    assert gradcheck(lambda a, b, c: F.triplet_margin_loss(a, b, c, p=3), (a, b, c))
    assert gradcheck(lambda a, b: F.cosine_embedding_loss(a, b, mg.tensor(SIGN)), (a, b))
    v = mg.tensor(VAR, requires_grad=True)
    assert gradcheck(lambda a, b, v: F.gaussian_nll_loss(a, b, v, full=True), (a, b, v))


# regressions found by the differential suite (tests/differential/table_nnact.py)


def test_hinge_embedding_loss_infinite_input_and_other_targets_as_torch():
    x = np.array([np.inf, -np.inf, 1.0, 2.0, 3.0])
    y = np.array([1.0, -1.0, 0.0, 1.0, -1.0])
    for reduction in ("none", "sum"):
        got = F.hinge_embedding_loss(mg.tensor(x), mg.tensor(y), reduction=reduction).numpy()
        want = torch.nn.functional.hinge_embedding_loss(
            torch.tensor(x), torch.tensor(y), reduction=reduction
        ).numpy()
        np.testing.assert_array_equal(got, want)


def test_soft_margin_loss_gradient_at_infinity_as_torch():
    x, y = np.array([-np.inf, np.inf, 0.5]), np.array([1.0, 1.0, -1.0])
    grads = []
    for lib in (mg, torch):
        t = lib.tensor(x, requires_grad=True)
        lib.nn.functional.soft_margin_loss(t, lib.tensor(y), reduction="sum").backward()
        grads.append(t.grad.numpy())
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-12)  # NaN, -0, and a finite one


def test_triplet_margin_loss_rejects_non_positive_margin():
    a = mg.tensor(X1)
    with pytest.raises(ValueError, match="margin must be greater than 0"):
        F.triplet_margin_loss(a, a, a, margin=0.0)


def test_pairwise_distance_p1_of_inf_minus_inf_gradient_as_torch():
    for p in (1.0, float("inf")):
        grads = []
        for lib in (mg, torch):
            a = lib.tensor(np.array(np.inf), requires_grad=True)
            b = lib.tensor(np.array(np.inf), requires_grad=True)
            lib.nn.functional.pairwise_distance(a, b, p=p, keepdim=True).sum().backward()
            grads.append((a.grad.numpy(), b.grad.numpy()))
        np.testing.assert_array_equal(grads[0], grads[1])

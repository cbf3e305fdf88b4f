"""Reductions against PyTorch 2.13 where minigrad once differed (issue 10): log_softmax at large
logits, std's gradient at a constant input, 0-d inputs, out-of-range dims, `axis=`."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as MF
from minigrad.testing import strategies as S
from minigrad.testing.opcheck import check_op

torch = pytest.importorskip("torch")
TF = torch.nn.functional

COVERED = {"std"}

test_std = check_op(
    lambda x: x.std(dim=-1) if x.ndim else x.std(),
    S.shapes(min_dims=1, min_side=2),
    valid=lambda x: bool(np.all(np.std(x, axis=-1) > 0.1)),  # std has a kink at a constant
    reference=lambda x: np.std(x, axis=-1, ddof=1),
    gradgrad=True,
)
test_std_no_correction = check_op(
    lambda x: mg.std(x, correction=0),
    S.shapes(min_dims=1, min_side=2),
    valid=lambda x: bool(np.std(x) > 0.1),
    reference=lambda x: np.std(x),
)

LARGE_LOGITS = [[1e4, 1e4], [1e4, 1e4 - 3], [2e4, -1e4], [-3e4, -3e4 + 0.5]]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_log_softmax_is_exact_at_large_logits(dtype):
    ours = mg.log_softmax(mg.tensor(LARGE_LOGITS, dtype=getattr(mg, dtype)), -1)
    theirs = torch.log_softmax(torch.tensor(LARGE_LOGITS, dtype=getattr(torch, dtype)), -1)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=0)
    assert abs(float(ours[0, 0]) - (-0.693147)) < 1e-6


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_value_and_gradient_at_large_logits(label_smoothing, reduction):
    def run(lib, F):
        x = lib.tensor(LARGE_LOGITS, requires_grad=True)
        loss = F.cross_entropy(
            x, lib.tensor([0, 1, 1, 0]), label_smoothing=label_smoothing, reduction=reduction
        )
        loss.sum().backward()
        return loss.detach().numpy(), x.grad.numpy()

    for ours, theirs in zip(run(mg, MF), run(torch, TF)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


STD_CASES = [
    ([3.0, 3.0, 3.0], {}),
    ([[3.0, 3.0], [1.0, 2.0]], {"dim": 1}),
    ([3.0], {}),  # N - correction = 0: NaN, as torch
    ([3.0], {"correction": 0}),
    ([[5.0, 5.0]], {"dim": 0}),
    (7.0, {"correction": 0}),
]


@pytest.mark.parametrize("name", ["std", "var"])
@pytest.mark.parametrize("case", range(len(STD_CASES)))
def test_std_and_var_gradients_at_constant_inputs_match_torch(name, case):
    data, kwargs = STD_CASES[case]

    def run(lib):
        x = lib.tensor(data, dtype=lib.float64, requires_grad=True)
        out = getattr(x, name)(**kwargs)
        out.sum().backward()
        return out.detach().numpy(), x.grad.numpy()

    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = run(torch)
        for ours, theirs in zip(run(mg), expected):
            np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, -1])
def test_softmax_of_a_0d_tensor(fn, dim):
    def run(lib):
        x = lib.tensor(3.0, requires_grad=True)
        out = getattr(lib, fn)(x, dim)
        out.backward()
        return out.detach().numpy(), x.grad.numpy()

    for ours, theirs in zip(run(mg), run(torch)):
        assert ours.shape == theirs.shape
        np.testing.assert_array_equal(ours, theirs)


AXIS_AND_0D_CASES = [
    lambda lib, x: x.max(axis=1).values,
    lambda lib, x: x.min(axis=0).indices,
    lambda lib, x: x.any(axis=1),
    lambda lib, x: x.all(axis=0),
    lambda lib, x: x.argmax(axis=1),
    lambda lib, x: x.argmin(axis=1),
    lambda lib, x: x.amax(axis=1),
    lambda lib, x: x.prod(axis=1),
    lambda lib, x: x.cumsum(axis=1),
    lambda lib, x: x.logsumexp(axis=1),
    lambda lib, x: x.std(axis=1),
    lambda lib, x: x.count_nonzero(axis=1),
    lambda lib, x: x[:1].squeeze(axis=0),
    lambda lib, x: lib.tensor(3.0).nonzero(),
    lambda lib, x: lib.tensor(0.0).nonzero(),
    lambda lib, x: lib.tensor(3.0).nonzero(as_tuple=True)[0],
    lambda lib, x: lib.tensor(0.0).nonzero(as_tuple=True)[0],
    lambda lib, x: lib.tensor(3.0).argmax(0),
    lambda lib, x: lib.tensor(3.0).max(0).indices,
    lambda lib, x: lib.tensor(3.0).cumsum(-1),
    lambda lib, x: lib.tensor(3.0).flip(0),
]


@pytest.mark.parametrize("case", range(len(AXIS_AND_0D_CASES)))
def test_axis_alias_and_0d_inputs_match_torch(case):
    fn = AXIS_AND_0D_CASES[case]
    ours = fn(mg, mg.tensor([[1.0, 5.0], [3.0, 2.0]]))
    theirs = fn(torch, torch.tensor([[1.0, 5.0], [3.0, 2.0]]))
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)

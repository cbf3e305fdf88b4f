"""minigrad.nn.fold against torch: unfold and fold (values and gradients over kernels,
dilations, paddings, strides; unbatched; errors), bilinear and nn.Bilinear; gradchecks."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.testing import gradcheck

torch = pytest.importorskip("torch")
TF = torch.nn.functional

COVERED = {"unfold", "fold"}
ARGS = [(3,), ((2, 3), 2, 1, 2), (2, 1, 0, 2), (1,), ((3, 1), (1, 2), (1, 0), (2, 1))]


def _check(fn, x, *args):
    tx, mx = torch.tensor(x, requires_grad=True), mg.tensor(x, requires_grad=True)
    ty, y = getattr(TF, fn)(tx, *args), getattr(F, fn)(mx, *args)
    assert tuple(y.shape) == tuple(ty.shape)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
    g = np.random.default_rng(3).standard_normal(tuple(ty.shape))
    (ty * torch.tensor(g)).sum().backward()
    (y * mg.tensor(g)).sum().backward()
    np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-14)
    return ty.detach().numpy()


@pytest.mark.parametrize("args", ARGS)
@pytest.mark.parametrize("batched", [True, False])
def test_unfold_and_fold_match_torch(args, batched):
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 7) if batched else (3, 6, 7))
    cols = _check("unfold", x, *args)
    _check("fold", cols, (6, 7), *args)


def test_modules_and_errors():
    assert repr(nn.Unfold(2, stride=2)) == repr(torch.nn.Unfold(2, stride=2))
    assert repr(nn.Fold(4, 2)) == repr(torch.nn.Fold(4, 2))
    with pytest.raises(RuntimeError, match="divisible by the product of kernel_size"):
        F.fold(mg.ones(1, 5, 9), (4, 4), 2)
    with pytest.raises(RuntimeError, match="number of sliding blocks"):
        F.fold(mg.ones(1, 4, 8), (4, 4), 2)
    with pytest.raises(RuntimeError, match="non-positive"):
        F.unfold(mg.ones(1, 1, 2, 2), 3)
    with pytest.raises(NotImplementedError):
        F.unfold(mg.ones(2, 2), 1)


def test_bilinear_matches_torch():
    rng = np.random.default_rng(1)
    ours, theirs = nn.Bilinear(3, 4, 5).double(), torch.nn.Bilinear(3, 4, 5).double()
    assert repr(ours) == repr(theirs)
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == {
        k: tuple(v.shape) for k, v in theirs.state_dict().items()
    }
    assert np.abs(ours.weight.detach().numpy()).max() <= 1 / np.sqrt(3)
    ours.load_state_dict({k: mg.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    a, b = rng.standard_normal((2, 6, 3)), rng.standard_normal((2, 6, 4))
    ma, mb = mg.tensor(a, requires_grad=True), mg.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    y, ty = ours(ma, mb), theirs(ta, tb)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(ma.grad.numpy(), ta.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-12)
    with pytest.raises(RuntimeError, match="do not match weight"):
        ours(mg.ones(2, 4), mg.ones(2, 4))


def test_gradchecks():
    rng = np.random.default_rng(2)
    x = mg.tensor(rng.standard_normal((1, 2, 4, 5)), requires_grad=True)
    assert gradcheck(lambda t: F.unfold(t, 2, 1, 1, 2), (x,))
    c = mg.tensor(rng.standard_normal((1, 8, 6)), requires_grad=True)
    assert gradcheck(lambda t: F.fold(t, (3, 4), 2), (c,))

"""minigrad.nn.padding: the padding modules, pixel (un)shuffle and channel dropout, against
torch (values, gradients, reprs, errors)."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.testing import gradcheck

torch = pytest.importorskip("torch")

PADS = [
    ("ZeroPad1d", 2, 3), ("ZeroPad2d", (1, 0, 2, 1), 4), ("ZeroPad3d", 1, 5),
    ("ConstantPad1d", (2, 1), 2), ("ConstantPad2d", 1, 3), ("ConstantPad3d", (1, 0, 0, 1, 1, 1), 4),
    ("ReflectionPad1d", 2, 3), ("ReflectionPad2d", (1, 2, 2, 0), 4), ("ReflectionPad3d", 1, 5),
    ("ReplicationPad1d", (3, 1), 2), ("ReplicationPad2d", 2, 4), ("ReplicationPad3d", 1, 4),
    ("CircularPad1d", 2, 3), ("CircularPad2d", (1, 2, 0, 1), 3), ("CircularPad3d", 1, 5),
]  # fmt: skip


@pytest.mark.parametrize("name,padding,ndim", PADS)
def test_padding_modules_match_torch(name, padding, ndim):
    args = (padding, 2.5) if name.startswith("Constant") else (padding,)
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(0).standard_normal(
        (2, 3, 4, 3, 5)[-ndim:] if ndim < 5 else (2, 3, 4, 3, 5)
    )
    mx, tx = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = ours(mx), theirs(tx)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
    w = np.random.default_rng(1).standard_normal(tuple(ty.shape))
    (y * mg.tensor(w)).sum().backward()
    (ty * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def test_non_constant_padding_refuses_the_wrong_rank():
    with pytest.raises(NotImplementedError):
        torch.nn.ReflectionPad2d(1)(torch.ones(3, 3))
    with pytest.raises(NotImplementedError, match="Padding size 4"):
        nn.ReflectionPad2d(1)(mg.ones(3, 3))
    with pytest.raises(ValueError):
        nn.ZeroPad2d((1, 2, 3))


@pytest.mark.parametrize("shape,r", [((1, 8, 2, 3), 2), ((2, 3, 9, 1, 2), 3), ((4, 2, 2), 2)])
def test_pixel_shuffle_and_unshuffle_match_torch(shape, r):
    x = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    mx, tx = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = F.pixel_shuffle(mx, r), torch.nn.functional.pixel_shuffle(tx, r)
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    back = F.pixel_unshuffle(y, r)
    np.testing.assert_array_equal(back.detach().numpy(), x)
    np.testing.assert_array_equal(
        back.detach().numpy(), torch.nn.functional.pixel_unshuffle(ty, r).detach().numpy()
    )
    assert gradcheck(lambda t: F.pixel_shuffle(t, r), (mg.tensor(x, requires_grad=True),))
    assert repr(nn.PixelShuffle(r)) == repr(torch.nn.PixelShuffle(r))
    assert repr(nn.PixelUnshuffle(r)) == repr(torch.nn.PixelUnshuffle(r))


def test_pixel_shuffle_errors_match_torch():
    for call in (
        lambda f, t: f.pixel_shuffle(t.ones(3, 2, 2), 2),
        lambda f, t: f.pixel_shuffle(t.ones(2, 2), 2),
        lambda f, t: f.pixel_unshuffle(t.ones(1, 3, 3), 2),
    ):
        with pytest.raises(RuntimeError) as theirs:
            call(torch.nn.functional, torch)
        with pytest.raises(RuntimeError, match=str(theirs.value)[:40].replace("(", r"\(")):
            call(F, mg)


@pytest.mark.parametrize("fn,shape,batched", [
    ("dropout1d", (4, 5, 30), True), ("dropout1d", (5, 30), False),
    ("dropout2d", (4, 5, 6, 7), True), ("dropout3d", (2, 5, 3, 4, 5), True),
    ("dropout3d", (5, 3, 4, 5), False),
])  # fmt: skip
def test_channel_dropout_zeroes_whole_channels(fn, shape, batched):
    mg.manual_seed(0)
    x = mg.ones(*shape, requires_grad=True)
    y = getattr(F, fn)(x, 0.5)
    a = y.detach().numpy()
    channels = a.reshape(a.shape[: 2 if batched else 1] + (-1,))
    for row in channels.reshape(-1, channels.shape[-1]):
        assert set(np.unique(row)) <= {0.0, 2.0} and len(np.unique(row)) == 1
    assert 0.2 < (channels[..., 0] == 0).mean() < 0.8
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), a)  # the gradient is the mask
    assert getattr(F, fn)(x, 0.5, training=False) is x
    assert (getattr(F, fn)(x, 1.0).detach().numpy() == 0).all()


def test_channel_dropout_errors_and_modules():
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input"):
        F.dropout1d(mg.ones(2, 3, 4, 5))
    with pytest.raises(ValueError):
        nn.Dropout2d(1.5)
    with pytest.warns(UserWarning, match="3D input to dropout2d"):
        F.dropout2d(mg.ones(2, 3, 4))
    for name in ("Dropout1d", "Dropout2d", "Dropout3d"):
        assert repr(getattr(nn, name)(0.25, True)) == repr(getattr(torch.nn, name)(0.25, True))
    m = nn.Dropout2d(0.5).eval()
    x = mg.ones(2, 3, 4, 4)
    assert m(x) is x

"""minigrad.nn.padding: the padding modules, pixel (un)shuffle and channel dropout, against
torch (values, gradients, reprs, errors)."""

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

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


# --- F.pad against PyTorch: every mode, negative widths, errors (issue 10) ---------------------


def _wraps_garbage(shape, pad):
    """Circular cases PyTorch answers with uninitialised memory: a positive width wider than what
    is left after cropping, on a non-empty result. minigrad raises RuntimeError there."""
    out = list(shape)
    wide = False
    for j in range(len(pad) // 2):
        d = len(shape) - 1 - j
        lo, hi = pad[2 * j], pad[2 * j + 1]
        left = max(shape[d] - max(-lo, 0) - max(-hi, 0), 0)
        out[d] = shape[d] + lo + hi
        wide |= max(lo, 0) > left or max(hi, 0) > left
    return wide and min(out) > 0


@st.composite
def _pad_cases(draw):
    mode = draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
    k = draw(st.integers(1, 3))
    ndim = (
        draw(st.sampled_from([k + 1, k + 2]))
        if draw(st.integers(0, 9))
        else draw(st.integers(1, 5))
    )  # mostly ranks the mode takes; sometimes any rank, for the errors
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)))
    k = min(k, ndim)
    pad = []  # widths of about the size of their dim: wider ones are mostly errors
    for j in range(k):
        n = shape[ndim - 1 - j]
        pad += [draw(st.integers(-n - 1, n + 1)), draw(st.integers(-n - 1, n + 1))]
    pad = tuple(pad)
    value = draw(st.sampled_from([None, 1.5])) if mode == "constant" else None
    return mode, shape, pad, value


@settings(max_examples=200)
@given(case=_pad_cases())
def test_pad_matches_torch(case):
    mode, shape, pad, value = case
    data = np.random.default_rng(0).standard_normal(shape)
    x, xt = mg.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    try:
        yt = torch.nn.functional.pad(xt, pad, mode=mode, value=value)
    except Exception as e:  # noqa: BLE001 - PyTorch's exception type is the answer
        event(f"PyTorch raised {type(e).__name__}")
        with pytest.raises(type(e)):
            F.pad(x, pad, mode=mode, value=value)
        return
    if mode == "circular" and _wraps_garbage(shape, pad):
        event("circular: PyTorch reads uninitialised memory")
        with pytest.raises(RuntimeError, match="wrapping around more than once"):
            F.pad(x, pad, mode=mode)
        return
    event(f"{mode}: values compared")
    y = F.pad(x, pad, mode=mode, value=value)
    assert tuple(y.shape) == tuple(yt.shape)
    np.testing.assert_array_equal(y.detach().numpy(), yt.detach().numpy())
    w = np.random.default_rng(1).standard_normal(tuple(yt.shape))
    (y * mg.tensor(w)).sum().backward()
    if yt.numel() == 0:  # PyTorch's reflect-3d backward leaves this gradient uninitialised
        np.testing.assert_array_equal(x.grad.numpy(), np.zeros(shape))
        return
    (yt * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape,pad", [
    ((1, 6), (-1, 2)), ((1, 6), (2, -1)), ((1, 6), (-2, -1)), ((1, 6), (6, 0)), ((1, 6), (-3, 3)),
    ((2, 3, 4), (1, -2, -1, 2)), ((2, 3, 3, 4), (-1, 2, 2, -1, 0, 1)), ((3, 4), (-4, 0)),
])  # fmt: skip
def test_circular_crops_then_wraps_like_torch(shape, pad):
    data = np.arange(np.prod(shape), dtype=np.float64).reshape(shape)
    ours = F.pad(mg.tensor(data), pad, mode="circular")
    theirs = torch.nn.functional.pad(torch.tensor(data), pad, mode="circular")
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    x = mg.tensor(data, requires_grad=True)
    assert gradcheck(lambda t: F.pad(t, pad, mode="circular"), (x,))


def test_circular_padding_wrapping_more_than_once_raises():
    with pytest.raises(RuntimeError, match="wrapping around more than once") as theirs:
        torch.nn.functional.pad(torch.ones(1, 6), (7, 0), mode="circular")
    with pytest.raises(RuntimeError, match=str(theirs.value)[:40]):
        F.pad(mg.ones(1, 6), (7, 0), mode="circular")
    with pytest.raises(RuntimeError, match="Negative padding value is resulting in an empty"):
        F.pad(mg.ones(1, 6), (-4, -3), mode="circular")
    # PyTorch reads uninitialised memory here (4 > the 3 elements left after cropping 3)
    with pytest.raises(RuntimeError, match="3 element"):
        F.pad(mg.ones(1, 6), (-3, 4), mode="circular")


def test_pad_errors_name_the_mode_and_ranks():
    with pytest.raises(NotImplementedError, match="Unrecognised padding mode foo"):
        F.pad(mg.ones(2, 3), (1, 1), mode="foo")
    with pytest.raises(NotImplementedError, match="Padding size 2 is not supported for 1D"):
        F.pad(mg.ones(3), (1, 1), mode="reflect")
    with pytest.raises(RuntimeError, match="doesn't take in value argument"):
        F.pad(mg.ones(2, 3), (1, 1), mode="replicate", value=2.0)
    with pytest.raises(TypeError, match="must be tuple of ints"):
        F.pad(mg.ones(2, 3), (1.5, 1))
    with pytest.raises(RuntimeError, match="too small"):
        F.pad(mg.ones(2, 3), (0, -3), mode="replicate")

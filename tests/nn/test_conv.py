"""Tests for convolution, pooling and batch norm (minigrad/nn/conv.py): gradients against finite
differences (Hypothesis), agreement with PyTorch (forward, gradients, running stats, init),
the module options, and clear errors."""

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.testing import gradcheck, gradgradcheck

COVERED = {"conv2d", "max_pool2d", "conv3d", "max_pool3d"}


@st.composite
def conv_case(draw):
    groups = draw(st.sampled_from([1, 2]))
    cg, og = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    span = (dilation[0] * (kh - 1) + 1, dilation[1] * (kw - 1) + 1)
    h = draw(st.integers(max(1, span[0] - 2 * padding[0]), span[0] + 3))
    w = draw(st.integers(max(1, span[1] - 2 * padding[1]), span[1] + 3))
    n = draw(st.integers(1, 2))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.standard_normal((n, groups * cg, h, w))
    weight = rng.standard_normal((groups * og, cg, kh, kw))
    return x, weight, dict(stride=stride, padding=padding, dilation=dilation, groups=groups)


@settings(max_examples=60, deadline=None)
@given(conv_case())
def test_conv2d_gradients_match_finite_differences(case):
    x, weight, kw = case
    xt, wt = mg.tensor(x, requires_grad=True), mg.tensor(weight, requires_grad=True)
    bias = mg.tensor(np.linspace(-1, 1, weight.shape[0]), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.conv2d(x, w, b, **kw), (xt, wt, bias))


@st.composite
def pool_case(draw):
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    span = (dilation[0] * (k[0] - 1) + 1, dilation[1] * (k[1] - 1) + 1)
    h = draw(st.integers(max(1, span[0] - 2 * padding[0]), span[0] + 3))
    w = draw(st.integers(max(1, span[1] - 2 * padding[1]), span[1] + 3))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 2)), h, w)
    # distinct values 0.1 apart: no ties, so the maximum is differentiable
    perm = np.random.default_rng(draw(st.integers(0, 2**16))).permutation(int(np.prod(shape)))
    return (perm.reshape(shape) * 0.1 - 1.0), dict(
        kernel_size=k, stride=stride, padding=padding, dilation=dilation
    )


@settings(max_examples=60, deadline=None)
@given(pool_case())
def test_max_pool2d_gradients_match_finite_differences(case):
    x, kw = case
    assert gradcheck(lambda x: F.max_pool2d(x, **kw), (mg.tensor(x, requires_grad=True),))


@settings(max_examples=30, deadline=None)
@given(pool_case(), st.booleans())
def test_avg_pool2d_gradients_match_finite_differences(case, count_include_pad):
    x, kw = case
    kw.pop("dilation")
    fn = lambda x: F.avg_pool2d(x, **kw, count_include_pad=count_include_pad)
    assert gradcheck(fn, (mg.tensor(x, requires_grad=True),))


def test_batch_norm_gradients_and_second_derivatives():
    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((4, 3, 2, 2)), requires_grad=True)
    w = mg.tensor(rng.standard_normal(3), requires_grad=True)
    b = mg.tensor(rng.standard_normal(3), requires_grad=True)
    fn = lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True)
    assert gradcheck(fn, (x, w, b)) and gradgradcheck(fn, (x, w, b))


def _torch():
    return pytest.importorskip("torch")


CONV_CASES = [
    dict(),
    dict(stride=2, padding=1),
    dict(stride=(1, 2), padding=(2, 0), dilation=(2, 1)),
    dict(groups=2, padding=1),
    dict(groups=4),
    dict(padding="same", dilation=2),
    dict(padding="valid"),
]


@pytest.mark.parametrize("kw", CONV_CASES)
def test_conv2d_matches_torch(kw):
    torch = _torch()
    rng = np.random.default_rng(1)
    groups = kw.get("groups", 1)
    x = rng.standard_normal((2, 4, 9, 8)).astype(np.float32)
    w = rng.standard_normal((8, 4 // groups, 3, 3)).astype(np.float32)
    b = rng.standard_normal(8).astype(np.float32)
    g = None
    grads = []
    for lib, make in ((torch, torch.tensor), (mg, mg.tensor)):
        ts = [make(a, requires_grad=True) for a in (x, w, b)]
        out = (torch.nn.functional if lib is torch else F).conv2d(*ts, **kw)
        if g is None:
            g = rng.standard_normal(tuple(out.shape)).astype(np.float32)
        (out * make(g)).sum().backward()
        grads.append([out.detach().numpy()] + [t.grad.numpy() for t in ts])
    assert grads[1][0].dtype == np.float32
    for ours, theirs in zip(grads[1], grads[0]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4)


def test_conv1d_and_unbatched_inputs_match_torch():
    torch = _torch()
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 11))
    w = rng.standard_normal((4, 3, 3))
    for kw in (dict(), dict(stride=2, padding=1, dilation=2), dict(padding="same")):
        ours = F.conv1d(mg.tensor(x), mg.tensor(w), **kw).numpy()
        theirs = torch.nn.functional.conv1d(torch.tensor(x), torch.tensor(w), **kw).numpy()
        np.testing.assert_allclose(ours, theirs, atol=1e-12)
    x3 = rng.standard_normal((3, 6, 5))
    w4 = rng.standard_normal((2, 3, 2, 2))
    np.testing.assert_allclose(
        F.conv2d(mg.tensor(x3), mg.tensor(w4)).numpy(),
        torch.nn.functional.conv2d(torch.tensor(x3), torch.tensor(w4)).numpy(),
        atol=1e-12,
    )


@pytest.mark.parametrize(
    "kw",
    [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
     dict(kernel_size=(2, 3), stride=(1, 2), dilation=(2, 1))],
)  # fmt: skip
def test_pools_match_torch(kw):
    torch = _torch()
    x = np.random.default_rng(3).standard_normal((2, 3, 7, 8))
    out, idx = F.max_pool2d(mg.tensor(x), **kw, return_indices=True)
    t_out, t_idx = torch.nn.functional.max_pool2d(torch.tensor(x), **kw, return_indices=True)
    np.testing.assert_array_equal(out.numpy(), t_out.numpy())
    np.testing.assert_array_equal(idx.numpy(), t_idx.numpy())
    assert idx.dtype == mg.int64
    kw.pop("dilation", None)
    for extra in (dict(), dict(count_include_pad=False), dict(divisor_override=3)):
        np.testing.assert_allclose(
            F.avg_pool2d(mg.tensor(x), **kw, **extra).numpy(),
            torch.nn.functional.avg_pool2d(torch.tensor(x), **kw, **extra).numpy(),
            atol=1e-12,
        )


def test_max_pool2d_sends_the_gradient_to_the_first_maximum_of_each_window():
    x = mg.tensor([[[[1.0, 1.0], [0.0, 1.0]]]], requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    assert x.grad.numpy().tolist() == [[[[1.0, 0.0], [0.0, 0.0]]]]  # ties: the first one wins
    y = mg.tensor(np.arange(9.0).reshape(1, 1, 3, 3), requires_grad=True)
    F.max_pool2d(y, 2, stride=1).sum().backward()  # overlapping windows add up at the max
    assert y.grad.numpy()[0, 0].tolist() == [[0, 0, 0], [0, 1, 1], [0, 1, 1]]


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding", [1, (2, 1), "same"])
def test_conv2d_module_matches_torch(mode, padding):
    torch = _torch()
    ours = nn.Conv2d(3, 4, (3, 4), padding=padding, padding_mode=mode, bias=True)
    theirs = torch.nn.Conv2d(3, 4, (3, 4), padding=padding, padding_mode=mode)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.detach().numpy()))
        theirs.bias.copy_(torch.tensor(ours.bias.detach().numpy()))
    x = np.random.default_rng(4).standard_normal((2, 3, 7, 9)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns about 'same' with an even kernel
        expected = theirs(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(ours(mg.tensor(x)).detach().numpy(), expected, atol=1e-5)
    assert [k for k, _ in ours.state_dict().items()] == list(theirs.state_dict())


def test_conv_init_follows_pytorch_bounds():
    conv = nn.Conv2d(6, 8, 3, groups=2)
    bound = 1 / np.sqrt(3 * 3 * 3)  # fan_in = C/groups * KH * KW
    w, b = conv.weight.detach().numpy(), conv.bias.detach().numpy()
    assert w.shape == (8, 3, 3, 3) and np.abs(w).max() <= bound and np.abs(w).max() > 0.8 * bound
    assert np.abs(b).max() <= bound
    assert "groups=2" in repr(conv) and "kernel_size=(3, 3)" in repr(conv)
    assert nn.Conv1d(2, 3, 5).weight.shape == (3, 2, 5)


@pytest.mark.parametrize("momentum", [0.1, None])
def test_batch_norm_modules_match_torch_in_training_and_eval(momentum):
    torch = _torch()
    rng = np.random.default_rng(5)
    for ours, theirs, shape in [
        (nn.BatchNorm2d(3, momentum=momentum), torch.nn.BatchNorm2d(3, momentum=momentum),
         (4, 3, 5, 5)),
        (nn.BatchNorm1d(3, momentum=momentum), torch.nn.BatchNorm1d(3, momentum=momentum),
         (6, 3)),
        (nn.BatchNorm1d(3, affine=False), torch.nn.BatchNorm1d(3, affine=False), (4, 3, 7)),
        (nn.BatchNorm3d(3, momentum=momentum), torch.nn.BatchNorm3d(3, momentum=momentum),
         (2, 3, 3, 4, 2)),
    ]:  # fmt: skip
        for _ in range(3):
            x = (rng.standard_normal(shape) * 2 + 1).astype(np.float32)
            mx, tx = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
            y, ty = ours(mx), theirs(tx)
            np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), atol=1e-5)
            (y * y).sum().backward()
            (ty * ty).sum().backward()
            np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), rtol=1e-3, atol=1e-4)
        for name in ("running_mean", "running_var", "num_batches_tracked"):
            np.testing.assert_allclose(
                getattr(ours, name).numpy(), getattr(theirs, name).numpy(), rtol=1e-5
            )
        ours.eval()
        theirs.eval()
        x = rng.standard_normal(shape).astype(np.float32)
        np.testing.assert_allclose(
            ours(mg.tensor(x)).detach().numpy(), theirs(torch.tensor(x)).detach().numpy(),
            atol=1e-5,
        )  # fmt: skip
        assert list(ours.state_dict()) == list(theirs.state_dict())


def test_errors_are_clear():
    x = mg.randn(1, 4, 5, 5)
    with pytest.raises(RuntimeError, match=r"expected input\[1, 4, 5, 5\] to have 3 channels"):
        F.conv2d(x, mg.randn(8, 3, 3, 3))
    with pytest.raises(RuntimeError, match="smaller than the dilated kernel"):
        F.conv2d(x, mg.randn(2, 4, 3, 3), dilation=3)
    with pytest.raises(RuntimeError, match=r"bias must be of shape \[2\] and dtype float32"):
        F.conv2d(x, mg.randn(2, 4, 3, 3), mg.zeros(2, dtype=mg.float64))
    with pytest.raises(RuntimeError, match="strided"):  # as torch
        F.conv2d(x, mg.randn(2, 4, 3, 3), padding="same", stride=2)
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv2d(3, 4, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="Expected more than 1 value per channel"):
        nn.BatchNorm1d(3)(mg.randn(1, 3))
    with pytest.raises(RuntimeError, match="weight should have 3 elements .* float32"):
        F.batch_norm(mg.randn(2, 3), None, None, mg.ones(3, dtype=mg.float64), training=True)
    with pytest.raises(ValueError, match="expected 4D input"):
        nn.BatchNorm2d(3)(mg.randn(2, 3))
    w = mg.randn(2, 4, 3, 3, requires_grad=True)
    (gx,) = mg.autograd.grad(F.conv2d(x, w).sum(), w, create_graph=False)
    assert gx.shape == w.shape
    with pytest.raises(RuntimeError, match="double backward"):
        mg.autograd.grad(F.conv2d(x, w).sum(), w, create_graph=True)


def test_max_pool2d_propagates_nan_like_torch():
    x = mg.tensor([[[[1.0, float("nan")], [3.0, 2.0]]]], requires_grad=True)
    out, idx = F.max_pool2d(x, 2, return_indices=True)
    assert np.isnan(out.item()) and idx.item() == 1
    out.sum().backward()
    assert x.grad.numpy().ravel().tolist() == [0.0, 1.0, 0.0, 0.0]


def test_max_pool2d_of_integers_pads_with_the_lowest_integer():
    x = mg.tensor(np.array([[[[-5, -7], [-9, -3]]]], dtype=np.int64))
    out = F.max_pool2d(x, 2, stride=1, padding=1)
    assert out.dtype == mg.int64
    assert out.numpy()[0, 0].tolist() == [[-5, -5, -7], [-5, -3, -3], [-9, -3, -3]]


@pytest.mark.parametrize("fn", ["max_pool2d", "avg_pool2d"])
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_ceil_mode_pooling_matches_torch(fn, count_include_pad):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for h, w, k, s, p in itertools.product([5, 6, 7], [4, 9], [2, 3], [1, 2, 3], [0, 1]):
        if 2 * p > k:
            continue
        x = rng.standard_normal((2, 3, h, w))
        kw = {"ceil_mode": True}
        if fn == "avg_pool2d":
            kw["count_include_pad"] = count_include_pad
        tx, mx = torch.tensor(x, requires_grad=True), mg.tensor(x, requires_grad=True)
        ty = getattr(torch.nn.functional, fn)(tx, k, s, p, **kw)
        y = getattr(F, fn)(mx, k, s, p, **kw)
        assert tuple(y.shape) == tuple(ty.shape), (h, w, k, s, p)
        np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
        g = rng.standard_normal(tuple(ty.shape))
        (ty * torch.tensor(g)).sum().backward()
        (y * mg.tensor(g)).sum().backward()
        np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-14)
        if fn == "max_pool2d":
            _, idx = F.max_pool2d(mg.tensor(x), k, s, p, return_indices=True, ceil_mode=True)
            _, tidx = torch.nn.functional.max_pool2d(
                torch.tensor(x), k, s, p, return_indices=True, ceil_mode=True
            )
            np.testing.assert_array_equal(idx.numpy(), tidx.numpy())


@settings(max_examples=40, deadline=None)
@given(
    shape=st.tuples(st.integers(1, 2), st.integers(1, 3), st.integers(1, 7), st.integers(1, 7)),
    k=st.integers(1, 3),
    pad=st.integers(0, 1),
    dtype=st.sampled_from([np.float32, np.float64, np.int64]),
    nan=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_tiled_max_pool_equals_the_per_offset_reference(shape, k, pad, dtype, nan, seed):
    """MaxPool2d(k)'s three-pass path (windows that tile the input) against the per-offset
    loop it stands in for: the same maxima, offsets and gradients, ties and -inf included."""
    from minigrad.nn import conv

    pad = min(pad, k // 2)
    n, c, h, w = shape
    if h + 2 * pad < k or w + 2 * pad < k:
        return
    rng = np.random.default_rng(seed)
    x = rng.integers(-2, 3, shape).astype(dtype)  # few values: many ties
    if dtype != np.int64:
        x[rng.random(shape) < 0.1] = -np.inf
        if nan:
            x[rng.random(shape) < 0.2] = np.nan
    params = dict(kernel=(k, k), stride=(k, k), padding=(pad, pad), dilation=(1, 1))
    best, where = conv._pool_forward(np, x, **params)
    lowest = -np.inf if dtype != np.int64 else np.iinfo(dtype).min
    padded = conv._pad_spatial(np, x, (pad, pad), lowest)
    ref_best, ref_where = conv._pool_forward_by_offsets(
        np, padded, (k, k), (k, k), (1, 1), best.shape[2:]
    )
    np.testing.assert_array_equal(best, ref_best)
    np.testing.assert_array_equal(where, ref_where)
    assert best.dtype == ref_best.dtype and where.dtype == ref_where.dtype
    if dtype == np.int64:
        return
    g = rng.standard_normal(best.shape).astype(dtype)
    np.testing.assert_array_equal(
        conv._pool_grad(np, g, x.shape, where, **params),
        conv._pool_grad_by_offsets(np, g, x.shape, where, **params),
    )


def test_max_pool2d_window_with_two_nans_matches_torch():
    torch = _torch()
    x = np.array([[[[np.nan, 1.0, 0.0, 2.0], [5.0, np.nan, 3.0, 1.0]]]])
    xt = torch.tensor(x, requires_grad=True)
    out_t, idx_t = torch.nn.functional.max_pool2d(xt, 2, return_indices=True)
    out_t.sum().backward()
    xm = mg.tensor(x, requires_grad=True)
    out, idx = F.max_pool2d(xm, 2, return_indices=True)
    out.sum().backward()
    np.testing.assert_array_equal(out.detach().numpy(), out_t.detach().numpy())
    np.testing.assert_array_equal(idx.numpy(), idx_t.numpy())
    np.testing.assert_array_equal(xm.grad.numpy(), xt.grad.numpy())


# --- 3-d: conv3d, max_pool3d, avg_pool3d (the same N-d kernels) -------------------------------


@st.composite
def conv3d_case(draw):
    groups = draw(st.sampled_from([1, 2]))
    kernel = tuple(draw(st.integers(1, 2)) for _ in range(3))
    stride = tuple(draw(st.integers(1, 2)) for _ in range(3))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(3))
    padding = tuple(draw(st.integers(0, 1)) for _ in range(3))
    spans = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    size = tuple(draw(st.integers(max(1, s - 2 * p), s + 2)) for s, p in zip(spans, padding))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    x = rng.standard_normal((draw(st.integers(1, 2)), groups, *size))
    weight = rng.standard_normal((groups * draw(st.integers(1, 2)), 1, *kernel))
    return x, weight, dict(stride=stride, padding=padding, dilation=dilation, groups=groups)


@settings(max_examples=25, deadline=None)
@given(conv3d_case())
def test_conv3d_gradients_match_finite_differences(case):
    x, weight, kw = case
    xt, wt = mg.tensor(x, requires_grad=True), mg.tensor(weight, requires_grad=True)
    bias = mg.tensor(np.linspace(-1, 1, weight.shape[0]), requires_grad=True)
    assert gradcheck(lambda x, w, b: F.conv3d(x, w, b, **kw), (xt, wt, bias))


@st.composite
def pool3d_case(draw):
    k = tuple(draw(st.integers(1, 2)) for _ in range(3))
    stride = tuple(draw(st.integers(1, 2)) for _ in range(3))
    padding = tuple(draw(st.integers(0, kk // 2)) for kk in k)
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(3))
    spans = [d * (kk - 1) + 1 for kk, d in zip(k, dilation)]
    size = tuple(draw(st.integers(max(1, s - 2 * p), s + 2)) for s, p in zip(spans, padding))
    shape = (draw(st.integers(1, 2)), 1, *size)
    # distinct values 0.1 apart: no ties, so the maximum is differentiable
    perm = np.random.default_rng(draw(st.integers(0, 2**16))).permutation(int(np.prod(shape)))
    kw = dict(kernel_size=k, stride=stride, padding=padding, dilation=dilation)
    return perm.reshape(shape) * 0.1 - 1.0, kw, draw(st.booleans())


@settings(max_examples=25, deadline=None)
@given(pool3d_case())
def test_pool3d_gradients_match_finite_differences(case):
    x, kw, ceil_mode = case
    xt = mg.tensor(x, requires_grad=True)
    assert gradcheck(lambda x: F.max_pool3d(x, **kw, ceil_mode=ceil_mode), (xt,))
    kw.pop("dilation")
    assert gradcheck(lambda x: F.avg_pool3d(x, **kw, count_include_pad=ceil_mode), (xt,))


CONV3D_CASES = [
    dict(),
    dict(stride=2, padding=1),
    dict(stride=(1, 2, 1), padding=(2, 0, 1), dilation=(2, 1, 1)),
    dict(groups=2, padding=1),
    dict(groups=4, dilation=(1, 1, 2)),
    dict(padding="same", dilation=2),
    dict(padding="same"),  # the even kernel dim pads unevenly
    dict(padding="valid"),
]


def _agree(fn_ours, fn_theirs, arrays, tol, rng):
    """Values and all gradients of fn(*arrays) in minigrad and torch."""
    torch = _torch()
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    ours = [mg.tensor(a, requires_grad=True) for a in arrays]
    ty, y = fn_theirs(*theirs), fn_ours(*ours)
    assert tuple(y.shape) == tuple(ty.shape) and y.dtype == arrays[0].dtype
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), **tol)
    g = rng.standard_normal(tuple(ty.shape)).astype(arrays[0].dtype)
    (ty * torch.tensor(g)).sum().backward()
    (y * mg.tensor(g)).sum().backward()
    for t, m in zip(theirs, ours):
        np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), **tol)


@pytest.mark.parametrize("kw", CONV3D_CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv3d_matches_torch(kw, dtype):
    torch = _torch()
    rng = np.random.default_rng(1)
    groups = kw.get("groups", 1)
    kernel = (2, 3, 3) if kw.get("padding") == "same" and "dilation" not in kw else (3, 3, 2)
    arrays = [
        rng.standard_normal(s).astype(dtype)
        for s in ((2, 4, 7, 6, 5), (8, 4 // groups, *kernel), (8,))
    ]
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns about 'same' with an even kernel
        _agree(lambda *t: F.conv3d(*t, **kw), lambda *t: torch.nn.functional.conv3d(*t, **kw),
               arrays, tol, rng)  # fmt: skip


def test_conv3d_unbatched_and_positional_arguments_match_torch():
    torch = _torch()
    rng = np.random.default_rng(2)
    x, w, b = rng.standard_normal((3, 5, 4, 6)), rng.standard_normal((4, 3, 2, 2, 3)), None
    args = (b, (1, 2, 1), (1, 0, 1), (1, 1, 2), 1)
    y = F.conv3d(mg.tensor(x), mg.tensor(w), *args)
    ty = torch.nn.functional.conv3d(torch.tensor(x), torch.tensor(w), *args)
    assert tuple(y.shape) == tuple(ty.shape)
    np.testing.assert_allclose(y.numpy(), ty.numpy(), atol=1e-12)
    empty = F.conv3d(mg.zeros(0, 3, 4, 4, 4), mg.zeros(2, 3, 1, 1, 1))
    assert empty.shape == (0, 2, 4, 4, 4)


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding", [1, (2, 1, 0), "same", "valid"])
def test_conv3d_module_matches_torch(mode, padding):
    torch = _torch()
    ours = nn.Conv3d(2, 4, (3, 2, 3), padding=padding, padding_mode=mode, groups=2)
    theirs = torch.nn.Conv3d(2, 4, (3, 2, 3), padding=padding, padding_mode=mode, groups=2)
    assert ours.weight.shape == tuple(theirs.weight.shape) == (4, 1, 3, 2, 3)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.detach().numpy()))
        theirs.bias.copy_(torch.tensor(ours.bias.detach().numpy()))
    x = np.random.default_rng(4).standard_normal((2, 2, 5, 6, 4)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = theirs(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(ours(mg.tensor(x)).detach().numpy(), expected, atol=1e-5)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert repr(ours) == repr(theirs)
    bound = 1 / np.sqrt(1 * 3 * 2 * 3)  # fan_in = C/groups * KD * KH * KW
    assert np.abs(ours.weight.detach().numpy()).max() <= bound


POOL3D_CASES = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=(2, 3, 1), stride=(1, 2, 1), padding=(1, 1, 0)),
    dict(kernel_size=(3, 2, 2), stride=(2, 1, 3), padding=(1, 0, 1), ceil_mode=True),
    dict(kernel_size=2, stride=3, ceil_mode=True),
]


@pytest.mark.parametrize("kw", POOL3D_CASES)
def test_max_pool3d_matches_torch(kw):
    torch = _torch()
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 7, 6, 5))
    for dilation in (1, (1, 2, 1)):
        if dilation != 1 and kw["kernel_size"] == 3:
            continue
        full = dict(kw, dilation=dilation)
        # overlapping windows add gradients in another order: not bit-equal
        tol = dict(rtol=1e-12, atol=1e-14)
        _agree(lambda t: F.max_pool3d(t, **full), lambda t: torch.nn.functional.max_pool3d(t, **full),
               [x], tol, rng)  # fmt: skip
        out, idx = F.max_pool3d(mg.tensor(x), **full, return_indices=True)
        t_out, t_idx = torch.nn.functional.max_pool3d(torch.tensor(x), **full, return_indices=True)
        np.testing.assert_array_equal(out.numpy(), t_out.numpy())
        np.testing.assert_array_equal(idx.numpy(), t_idx.numpy())
        assert idx.dtype == mg.int64
    unbatched, idx = F.max_pool3d(mg.tensor(x[0]), **kw, return_indices=True)
    t_unbatched, t_idx = torch.nn.functional.max_pool3d(torch.tensor(x[0]), **kw,
                                                        return_indices=True)  # fmt: skip
    np.testing.assert_array_equal(unbatched.numpy(), t_unbatched.numpy())
    np.testing.assert_array_equal(idx.numpy(), t_idx.numpy())
    ints = (x * 10).astype(np.int32)
    assert F.max_pool3d(mg.tensor(ints), **kw).dtype == mg.int32
    np.testing.assert_array_equal(
        F.max_pool3d(mg.tensor(ints), **kw).numpy(),
        torch.nn.functional.max_pool3d(torch.tensor(ints), **kw).numpy(),
    )


@pytest.mark.parametrize("kw", POOL3D_CASES)
@pytest.mark.parametrize(
    "extra", [dict(), dict(count_include_pad=False), dict(divisor_override=3)]
)  # fmt: skip
def test_avg_pool3d_matches_torch(kw, extra):
    torch = _torch()
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 7, 6, 5))
    full = dict(kw, **extra)
    _agree(lambda t: F.avg_pool3d(t, **full), lambda t: torch.nn.functional.avg_pool3d(t, **full),
           [x], dict(rtol=1e-12, atol=1e-12), rng)  # fmt: skip
    np.testing.assert_allclose(
        F.avg_pool3d(mg.tensor(x[0].astype(np.float32)), **full).numpy(),
        torch.nn.functional.avg_pool3d(torch.tensor(x[0].astype(np.float32)), **full).numpy(),
        rtol=1e-6, atol=1e-6,
    )  # fmt: skip


def test_pool3d_modules_match_torch():
    torch = _torch()
    x = np.random.default_rng(6).standard_normal((2, 3, 6, 5, 7))
    pairs = [
        (nn.MaxPool3d(2, 1, 1), torch.nn.MaxPool3d(2, 1, 1)),
        (nn.MaxPool3d((3, 2, 2), ceil_mode=True), torch.nn.MaxPool3d((3, 2, 2), ceil_mode=True)),
        (nn.AvgPool3d(3, 2, 1, False, False), torch.nn.AvgPool3d(3, 2, 1, False, False)),
        (nn.AvgPool3d(2, divisor_override=5), torch.nn.AvgPool3d(2, divisor_override=5)),
    ]
    for ours, theirs in pairs:
        assert repr(ours) == repr(theirs)
        np.testing.assert_allclose(
            ours(mg.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy(), atol=1e-12
        )
    out, idx = nn.MaxPool3d(2, return_indices=True)(mg.tensor(x))
    t_out, t_idx = torch.nn.MaxPool3d(2, return_indices=True)(torch.tensor(x))
    np.testing.assert_array_equal(idx.numpy(), t_idx.numpy())


def test_3d_errors_are_torchs():
    x = mg.randn(1, 4, 5, 5, 5)
    with pytest.raises(RuntimeError, match=r"expected input\[1, 4, 5, 5, 5\] to have 3 channels"):
        F.conv3d(x, mg.randn(8, 3, 3, 3, 3))
    with pytest.raises(RuntimeError, match="Expected 4D .unbatched. or 5D"):
        F.conv3d(mg.randn(4, 5, 5), mg.randn(2, 4, 1, 1, 1))
    with pytest.raises(RuntimeError, match="list of 3 values"):
        F.conv3d(x, mg.randn(2, 4, 1, 1, 1), stride=(1, 1))
    with pytest.raises(RuntimeError, match="strided"):
        F.conv3d(x, mg.randn(2, 4, 1, 1, 1), padding="same", stride=2)
    with pytest.raises(RuntimeError, match="non-positive groups"):
        F.conv3d(x, mg.randn(2, 4, 1, 1, 1), groups=0)
    with pytest.raises(RuntimeError, match="padding must be >= 0"):
        F.conv3d(x, mg.randn(2, 4, 1, 1, 1), padding=-1)
    with pytest.raises(RuntimeError, match="smaller than the dilated kernel"):
        F.conv3d(x, mg.randn(2, 4, 6, 1, 1))
    with pytest.raises(RuntimeError, match="one dtype"):
        F.conv3d(x, mg.randn(2, 4, 1, 1, 1, dtype=mg.float64))
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        F.max_pool3d(x, 2, padding=2)
    with pytest.raises(RuntimeError, match="stride must be >= 1"):
        F.max_pool3d(x, 2, stride=0)
    with pytest.raises(RuntimeError, match="list of 3 values"):
        F.avg_pool3d(x, 2, padding=(1, 1))
    with pytest.raises(RuntimeError, match="divisor must be not zero"):
        F.avg_pool3d(x, 2, divisor_override=0)
    with pytest.raises(NotImplementedError, match="avg_pool3d"):
        F.avg_pool3d(mg.zeros(1, 1, 2, 2, 2, dtype=mg.int32), 2)
    with pytest.raises(RuntimeError, match="smaller than the dilated kernel"):
        F.max_pool3d(x, 6)
    with pytest.raises(ValueError, match="strided"):  # the module refuses at construction
        nn.Conv3d(2, 4, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="Invalid padding string 'full'"):
        nn.Conv3d(2, 4, 3, padding="full")
    with pytest.raises(RuntimeError, match="double backward"):
        w = mg.randn(2, 4, 1, 1, 1, requires_grad=True)
        mg.autograd.grad(F.conv3d(x, w).sum(), w, create_graph=True)

"""minigrad.nn.upsampling against torch: F.interpolate in every mode (sizes, scale factors,
align_corners, float32/float64, values and gradients), adaptive average pooling, the modules,
errors; float64 gradchecks; the GEMM path pinned to the plain gathers (and NaN kept local)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.nn import upsampling
from minigrad.testing import gradcheck

torch = pytest.importorskip("torch")

COVERED = {"interpolate", "adaptive_avg_pool"}

CASES = [
    ((2, 3, 5, 7), dict(scale_factor=2)),
    ((2, 3, 5, 7), dict(size=(3, 11))),
    ((2, 3, 5, 7), dict(size=(3, 11), mode="nearest-exact")),
    ((2, 3, 5, 7), dict(scale_factor=0.3, mode="nearest")),
    ((2, 3, 5, 7), dict(scale_factor=1.7, mode="bilinear")),
    ((2, 3, 5, 7), dict(scale_factor=1.7, mode="bilinear", align_corners=True)),
    ((2, 3, 5, 7), dict(scale_factor=(2, 0.5), mode="bilinear", recompute_scale_factor=True)),
    ((2, 3, 5, 7), dict(size=(9, 4), mode="bicubic")),
    ((2, 3, 5, 7), dict(size=(9, 4), mode="bicubic", align_corners=True)),
    ((2, 3, 5, 7), dict(scale_factor=2.5, mode="bicubic")),
    ((2, 3, 7), dict(scale_factor=0.6, mode="linear")),
    ((2, 3, 7), dict(size=1, mode="linear", align_corners=True)),
    ((1, 2, 3, 4, 5), dict(scale_factor=2, mode="trilinear")),
    ((1, 2, 3, 4, 5), dict(size=(2, 5, 3), mode="nearest")),
    ((2, 3, 7, 9), dict(size=(3, 4), mode="area")),
    ((2, 3, 7), dict(size=4, mode="area")),
]


@pytest.mark.parametrize("shape,kwargs", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_interpolate_matches_torch(shape, kwargs, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    tx, mx = torch.tensor(x, requires_grad=True), mg.tensor(x, requires_grad=True)
    ty = torch.nn.functional.interpolate(tx, **kwargs)
    y = F.interpolate(mx, **kwargs)
    assert tuple(y.shape) == tuple(ty.shape) and y.dtype == dtype
    tol = dict(rtol=2e-5, atol=2e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), **tol)
    g = rng.standard_normal(tuple(ty.shape)).astype(dtype)
    (ty * torch.tensor(g)).sum().backward()
    (y * mg.tensor(g)).sum().backward()
    np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), **tol)


@pytest.mark.parametrize("k,out", [(1, 4), (1, (3,)), (2, (4, 5)), (2, 3), (2, (None, 2)), (3, 2)])
def test_adaptive_avg_pool_matches_torch(k, out):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3) + (7, 9, 5)[:k])
    fn = f"adaptive_avg_pool{k}d"
    tx, mx = torch.tensor(x, requires_grad=True), mg.tensor(x, requires_grad=True)
    ty, y = getattr(torch.nn.functional, fn)(tx, out), getattr(F, fn)(mx, out)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12)
    ty.sum().backward()
    y.sum().backward()
    np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), rtol=1e-12)
    module = getattr(nn, f"AdaptiveAvgPool{k}d")(out)
    assert repr(module) == repr(getattr(torch.nn, f"AdaptiveAvgPool{k}d")(out))
    unbatched = module(mg.tensor(x[0]))
    np.testing.assert_allclose(unbatched.numpy(), ty.detach().numpy()[0], rtol=1e-12)


@settings(max_examples=15, deadline=None)
@given(
    st.sampled_from(["nearest", "bilinear", "bicubic", "area"]),
    st.integers(1, 6),
    st.integers(1, 6),
    st.booleans(),
    st.integers(0, 2**16),
)
def test_interpolate_gradcheck(mode, h, w, align, seed):
    x = mg.tensor(np.random.default_rng(seed).standard_normal((1, 2, 3, 4)), requires_grad=True)
    align = align if mode in ("bilinear", "bicubic") else None
    assert gradcheck(lambda t: F.interpolate(t, (h, w), mode=mode, align_corners=align), (x,))


@pytest.mark.parametrize("factor", [2, 3])
def test_integer_nearest_repeat_and_block_sum_equal_the_gathers(factor):
    x = np.random.default_rng(3).standard_normal((2, 3, 5, 4))
    x[0, 1, 2, 3] = np.nan  # a repeat spreads nothing beyond its copies
    assert upsampling._nearest_taps(5, 9, None, False).blocks() == (0, 0)  # not a whole factor
    for exact in (False, True):  # nearest and nearest-exact agree at whole factors
        taps = upsampling._nearest_taps(5, 5 * factor, factor, exact)
        assert taps.blocks() == (factor, 0) and taps.adjoint().blocks() == (0, factor)
        fast = upsampling._along(np, x, taps, 2)
        np.testing.assert_array_equal(fast, upsampling._along_gathers(np, x, taps, 2))
        g = np.random.default_rng(4).standard_normal(fast.shape)
        np.testing.assert_allclose(
            upsampling._along(np, g, taps.adjoint(), 2),
            upsampling._along_gathers(np, g, taps.adjoint(), 2), rtol=1e-14,
        )  # fmt: skip


def test_gemm_path_equals_the_gathers_and_keeps_nan_local():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, 3, 6, 5))
    for mode in ("nearest", "bilinear", "bicubic"):
        taps = upsampling._linear_taps(6, 11, False, None, np.float64)
        if mode == "nearest":
            taps = upsampling._nearest_taps(6, 11, None, False)
        elif mode == "bicubic":
            taps = upsampling._cubic_taps(6, 11, False, None, np.float64)
        fast = upsampling._along(np, x, taps, 2)
        plain = upsampling._along_gathers(np, x, taps, 2)
        np.testing.assert_allclose(fast, plain, rtol=1e-13, atol=1e-13)
        adjoint = taps.adjoint()
        g = rng.standard_normal(fast.shape)
        np.testing.assert_allclose(
            upsampling._along(np, g, adjoint, 2), upsampling._along_gathers(np, g, adjoint, 2),
            rtol=1e-13, atol=1e-13,
        )  # fmt: skip
    x[0, 0, 2, 3] = np.nan
    x[1, 2, 0, 0] = np.inf
    for mode in ("nearest", "bilinear"):
        y = F.interpolate(mg.tensor(x), scale_factor=2, mode=mode).numpy()
        ty = torch.nn.functional.interpolate(torch.tensor(x), scale_factor=2, mode=mode).numpy()
        np.testing.assert_array_equal(np.isnan(y), np.isnan(ty))
        np.testing.assert_allclose(y[np.isfinite(ty)], ty[np.isfinite(ty)], rtol=1e-12)


def test_adaptive_avg_pool1d_refuses_none_as_torch():
    with pytest.raises(TypeError):
        torch.nn.functional.adaptive_avg_pool1d(torch.ones(1, 2, 5), (None,))
    with pytest.raises(TypeError):
        F.adaptive_avg_pool1d(mg.ones(1, 2, 5), (None,))


def test_modules_and_errors_match_torch():
    for ours, theirs in [
        (nn.Upsample(scale_factor=2), torch.nn.Upsample(scale_factor=2)),
        (nn.Upsample(size=(3, 4), mode="bilinear", align_corners=True),
         torch.nn.Upsample(size=(3, 4), mode="bilinear", align_corners=True)),
        (nn.UpsamplingNearest2d(scale_factor=2), torch.nn.UpsamplingNearest2d(scale_factor=2)),
        (nn.UpsamplingBilinear2d(scale_factor=2), torch.nn.UpsamplingBilinear2d(scale_factor=2)),
    ]:  # fmt: skip
        assert repr(ours) == repr(theirs)
        x = np.random.default_rng(3).standard_normal((1, 2, 3, 5)).astype(np.float32)
        np.testing.assert_allclose(
            ours(mg.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy(), rtol=1e-5, atol=1e-6
        )
    x4 = np.ones((1, 1, 3, 4), dtype=np.float32)
    for kwargs, kind in [
        (dict(scale_factor=2, mode="linear"), NotImplementedError),
        (dict(scale_factor=2, align_corners=True), ValueError),
        (dict(), ValueError),
        (dict(size=2, scale_factor=2), ValueError),
        (dict(size=(2, 3, 4)), ValueError),
    ]:
        with pytest.raises(kind):
            torch.nn.functional.interpolate(torch.tensor(x4), **kwargs)
        with pytest.raises(kind):
            F.interpolate(mg.tensor(x4), **kwargs)
    with pytest.raises(RuntimeError):
        F.interpolate(mg.tensor([[[1, 2, 3]]]), scale_factor=2)
    with pytest.raises(RuntimeError, match="create_graph|double backward"):
        x = mg.tensor(x4, requires_grad=True)
        (g,) = mg.autograd.grad(F.interpolate(x, scale_factor=2).sum(), [x], create_graph=True)
        g.sum().backward()

"""minigrad.nn.convtranspose against torch: values and all gradients over strides, paddings,
output paddings, dilations and groups; the modules (parameter shapes, init, output_size);
float64 gradchecks; errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.testing import gradcheck

torch = pytest.importorskip("torch")

COVERED = {"conv_transpose2d", "conv_transpose3d"}

CASES = [  # n, c_in, h, w, c_out, groups, kernel, stride, padding, output_padding, dilation
    (2, 4, 5, 6, 6, 2, 3, 2, 1, 1, 1),
    (1, 3, 4, 4, 2, 1, 2, 1, 0, 0, 2),
    (2, 2, 3, 5, 4, 2, (3, 2), (2, 3), (1, 0), (1, 2), 1),
    (1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1),
    (3, 2, 4, 3, 3, 1, 4, 3, 2, 2, 1),
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv_transpose2d_matches_torch(case, dtype):
    n, ci, h, w, co, g, k, s, p, op, d = case
    kernel = (k, k) if isinstance(k, int) else k
    rng = np.random.default_rng(0)
    x, weight, bias = (
        rng.standard_normal(shape).astype(dtype)
        for shape in ((n, ci, h, w), (ci, co // g, *kernel), (co,))
    )
    _agrees_with_torch("conv_transpose2d", (x, weight, bias), (s, p, op, g, d), rng)


def _agrees_with_torch(name, arrays, args, rng):
    """Values and the gradients of every input of F.<name>(*arrays, *args), against torch."""
    dtype = arrays[0].dtype
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    ours = [mg.tensor(a, requires_grad=True) for a in arrays]
    ty = getattr(torch.nn.functional, name)(*theirs, *args)
    y = getattr(F, name)(*ours, *args)
    assert tuple(y.shape) == tuple(ty.shape) and y.dtype == dtype
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), **tol)
    upstream = rng.standard_normal(tuple(ty.shape)).astype(dtype)
    (ty * torch.tensor(upstream)).sum().backward()
    (y * mg.tensor(upstream)).sum().backward()
    for t, m in zip(theirs, ours):
        np.testing.assert_allclose(m.grad.numpy(), t.grad.numpy(), **tol)
    return y.detach().numpy(), tol


def test_conv_transpose1d_and_unbatched_match_torch():
    rng = np.random.default_rng(1)
    x, weight = rng.standard_normal((2, 4, 7)), rng.standard_normal((4, 3, 3))
    y = F.conv_transpose1d(mg.tensor(x), mg.tensor(weight), None, 2, 1, 1, 1, 1)
    ty = torch.nn.functional.conv_transpose1d(torch.tensor(x), torch.tensor(weight), None, 2, 1, 1)
    np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=1e-12)
    y = F.conv_transpose2d(mg.tensor(x[0][:, :, None]), mg.tensor(weight[..., None]))
    ty = torch.nn.functional.conv_transpose2d(
        torch.tensor(x[0][:, :, None]), torch.tensor(weight[..., None])
    )
    np.testing.assert_allclose(y.numpy(), ty.numpy(), rtol=1e-12)


@settings(max_examples=15, deadline=None)
@given(
    st.integers(1, 3),
    st.integers(1, 2),
    st.integers(0, 1),
    st.integers(1, 2),
    st.integers(0, 2**16),
)
def test_conv_transpose2d_gradcheck(kernel, stride, padding, dilation, seed):
    rng = np.random.default_rng(seed)
    x = mg.tensor(rng.standard_normal((2, 2, 3, 3)), requires_grad=True)
    weight = mg.tensor(rng.standard_normal((2, 2, kernel, kernel)), requires_grad=True)
    output_padding = min(stride, dilation) - 1 if max(stride, dilation) > 1 else 0
    fn = lambda x, w: F.conv_transpose2d(x, w, None, stride, padding, output_padding, 1, dilation)
    if padding * 2 >= (3 - 1) * stride + dilation * (kernel - 1) + 1:
        return
    assert gradcheck(fn, (x, weight))


@pytest.mark.parametrize("cls", ["ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"])
def test_modules_match_torch(cls):
    dims = int(cls[-2])
    args = dict(in_channels=4, out_channels=6, kernel_size=3, stride=2, padding=1,
                output_padding=1, groups=2)  # fmt: skip
    ours, theirs = getattr(nn, cls)(**args), getattr(torch.nn, cls)(**args)
    assert repr(ours) == repr(theirs)
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == {
        k: tuple(v.shape) for k, v in theirs.state_dict().items()
    }
    bound = 1 / np.sqrt(3 * 3**dims)  # fan_in = C_out/groups * K^dims
    assert np.abs(ours.weight.detach().numpy()).max() <= bound + 1e-6
    ours.load_state_dict({k: mg.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(2).standard_normal((2, 4) + (5,) * dims).astype(np.float32)
    np.testing.assert_allclose(
        ours(mg.tensor(x)).detach().numpy(),
        theirs(torch.tensor(x)).detach().numpy(),
        rtol=1e-5,
        atol=1e-5,
    )
    size = (2, 6) + (10,) * dims
    assert tuple(ours(mg.tensor(x), output_size=size).shape) == tuple(
        theirs(torch.tensor(x), output_size=size).shape
    )
    with pytest.raises(ValueError):
        ours(mg.tensor(x), output_size=(2, 6) + (20,) * dims)


def test_errors():
    with pytest.raises(RuntimeError, match="output padding must be smaller"):
        F.conv_transpose2d(mg.ones(1, 1, 3, 3), mg.ones(1, 1, 3, 3), output_padding=1)
    with pytest.raises(RuntimeError, match="channels"):
        F.conv_transpose2d(mg.ones(1, 2, 3, 3), mg.ones(1, 1, 3, 3))
    with pytest.raises(RuntimeError, match="dtype"):
        F.conv_transpose2d(mg.ones(1, 1, 3, 3), mg.ones(1, 1, 3, 3, dtype=mg.float64))
    with pytest.raises(ValueError, match="zeros"):
        nn.ConvTranspose2d(1, 1, 3, padding_mode="reflect")


CASES_3D = [  # n, c_in, size, c_out, groups, kernel, stride, padding, output_padding, dilation
    (2, 4, (3, 4, 2), 6, 2, 3, 2, 1, 1, 1),
    (1, 3, (2, 3, 3), 2, 1, 2, 1, 0, 0, 2),
    (2, 2, (3, 2, 4), 4, 2, (3, 2, 1), (2, 3, 1), (1, 0, 0), (1, 2, 0), 1),
    (1, 2, (2, 2, 2), 4, 1, 2, 2, 0, 0, 1),  # the U-Net upsampling stage
    (1, 1, (1, 1, 1), 1, 1, 1, 1, 0, 0, 1),
]


@pytest.mark.parametrize("case", CASES_3D)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv_transpose3d_matches_torch(case, dtype):
    n, ci, size, co, g, k, s, p, op, d = case
    kernel = (k,) * 3 if isinstance(k, int) else k
    rng = np.random.default_rng(3)
    arrays = [
        rng.standard_normal(shape).astype(dtype)
        for shape in ((n, ci, *size), (ci, co // g, *kernel), (co,))
    ]
    y, tol = _agrees_with_torch("conv_transpose3d", arrays, (s, p, op, g, d), rng)
    x, weight, bias = (mg.tensor(a) for a in arrays)
    unbatched = F.conv_transpose3d(x[0], weight, bias, s, p, op, g, d)
    np.testing.assert_allclose(unbatched.numpy(), y[0], **tol)


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 2), st.integers(1, 2), st.integers(0, 1), st.integers(0, 2**16))
def test_conv_transpose3d_gradcheck(kernel, stride, padding, seed):
    rng = np.random.default_rng(seed)
    x = mg.tensor(rng.standard_normal((1, 2, 2, 3, 2)), requires_grad=True)
    weight = mg.tensor(rng.standard_normal((2, 1, kernel, 2, kernel)), requires_grad=True)
    bias = mg.tensor(rng.standard_normal(2), requires_grad=True)
    if padding * 2 >= stride + kernel:
        return
    fn = lambda x, w, b: F.conv_transpose3d(x, w, b, stride, padding, stride - 1, 2)
    assert gradcheck(fn, (x, weight, bias))


def test_conv_transpose3d_errors():
    with pytest.raises(RuntimeError, match="output padding must be smaller"):
        F.conv_transpose3d(mg.ones(1, 1, 3, 3, 3), mg.ones(1, 1, 3, 3, 3), output_padding=1)
    with pytest.raises(RuntimeError, match="Expected 4D .unbatched. or 5D"):
        F.conv_transpose3d(mg.ones(1, 3, 3), mg.ones(1, 1, 3, 3, 3))
    with pytest.raises(RuntimeError, match="list of 3 values"):
        F.conv_transpose3d(mg.ones(1, 1, 3, 3, 3), mg.ones(1, 1, 3, 3, 3), stride=(1, 2))

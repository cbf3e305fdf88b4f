"""minigrad.nn.pooling against torch: 1-D max/avg pooling, adaptive max pooling (values,
indices, gradients, ties), LP pooling, max unpooling, the modules' reprs, errors, gradchecks."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.testing import gradcheck

torch = pytest.importorskip("torch")
TF = torch.nn.functional

COVERED = {"max_unpool"}


def _compare(name, x, *args, **kwargs):
    tx, mx = torch.tensor(x, requires_grad=True), mg.tensor(x, requires_grad=True)
    ty, y = getattr(TF, name)(tx, *args, **kwargs), getattr(F, name)(mx, *args, **kwargs)
    if isinstance(ty, tuple):
        np.testing.assert_array_equal(y[1].numpy(), ty[1].numpy())
        ty, y = ty[0], y[0]
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-14)
    g = np.random.default_rng(9).standard_normal(tuple(ty.shape))
    (ty * torch.tensor(g)).sum().backward()
    (y * mg.tensor(g)).sum().backward()
    np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-14)


X1 = np.random.default_rng(0).standard_normal((2, 3, 11))
X2 = np.random.default_rng(1).standard_normal((2, 3, 7, 9))
X2[0, 0, 1, 1] = X2[0, 0, 1, 2]  # a tie: the first maximum gets the gradient


@pytest.mark.parametrize("args,kwargs", [
    ((3,), {}), ((3, 2, 1), {}), ((2, 3), {"ceil_mode": True}), ((3, 1, 1, 2), {}),
    ((3, 2), {"return_indices": True}),
])  # fmt: skip
def test_max_pool1d(args, kwargs):
    _compare("max_pool1d", X1, *args, **kwargs)


@pytest.mark.parametrize("args", [(3,), (3, 2, 1), (4, 3, 2, True), (3, 2, 1, False, False)])
def test_avg_pool1d(args):
    _compare("avg_pool1d", X1, *args)


@pytest.mark.parametrize("out", [(3, 4), (1, 1), (7, 9), (5, 2), 4, (None, 3)])
@pytest.mark.parametrize("indices", [False, True])
def test_adaptive_max_pool2d(out, indices):
    _compare("adaptive_max_pool2d", X2, out, indices)
    _compare("adaptive_max_pool2d", X2[0], out, indices)  # unbatched


@pytest.mark.parametrize("out", [1, 4, 11])
def test_adaptive_max_pool1d(out):
    _compare("adaptive_max_pool1d", X1, out, True)


@pytest.mark.parametrize("p", [1, 2, 3.5])
def test_lp_pool(p):
    _compare("lp_pool1d", np.abs(X1) + 0.1, p, 3, 2)
    _compare("lp_pool2d", np.abs(X2) + 0.1, p, (2, 3))


def test_max_unpool_inverts_max_pool():
    values, idx = TF.max_pool2d(torch.tensor(X2), 2, return_indices=True)
    for size in (None, (7, 9)):
        if size is None:
            for lib, f in ((torch, TF), (mg, F)):
                with pytest.raises(RuntimeError, match="invalid max index"):
                    f.max_unpool2d(lib.tensor(values.numpy()), lib.tensor(idx.numpy()), 2)
            continue
        v = mg.tensor(values.numpy(), requires_grad=True)
        y = F.max_unpool2d(v, mg.tensor(idx.numpy()), 2, output_size=size)
        ty = TF.max_unpool2d(values, idx, 2, output_size=size)
        np.testing.assert_array_equal(y.detach().numpy(), ty.numpy())
        y.sum().backward()
        np.testing.assert_array_equal(v.grad.numpy(), np.ones(values.shape))
    v1, i1 = TF.max_pool1d(torch.tensor(X1), 2, return_indices=True)
    np.testing.assert_array_equal(
        F.max_unpool1d(mg.tensor(v1.numpy()), mg.tensor(i1.numpy()), 2).numpy(),
        TF.max_unpool1d(v1, i1, 2).numpy(),
    )


def test_modules_match_torch_reprs():
    for name, args in [
        ("MaxPool1d", (3, 2, 1)), ("AvgPool1d", (3, 2, 1)), ("AdaptiveMaxPool1d", (3,)),
        ("AdaptiveMaxPool2d", ((2, 3),)), ("LPPool1d", (1.5, 2, 1)), ("LPPool2d", (2, 3)),
        ("MaxUnpool1d", (3, 2)), ("MaxUnpool2d", (2,)),
    ]:  # fmt: skip
        assert repr(getattr(nn, name)(*args)) == repr(getattr(torch.nn, name)(*args))
    x = mg.tensor(X2)
    np.testing.assert_allclose(
        nn.AdaptiveMaxPool2d(2)(x).numpy(), torch.nn.AdaptiveMaxPool2d(2)(torch.tensor(X2)).numpy()
    )


def test_gradcheck():
    x = mg.tensor(np.random.default_rng(4).standard_normal((1, 2, 5, 6)), requires_grad=True)
    assert gradcheck(lambda t: F.adaptive_max_pool2d(t, (2, 3)), (x,))
    assert gradcheck(lambda t: F.lp_pool2d(t.abs() + 0.5, 2, 2), (x,))
    v = mg.tensor(np.random.default_rng(5).standard_normal((1, 2, 2, 3)), requires_grad=True)
    idx = mg.tensor(np.array([[[[0, 3, 5], [12, 15, 17]]] * 2]))
    assert gradcheck(lambda t: F.max_unpool2d(t, idx, 2, output_size=(4, 6)), (v,))


@pytest.mark.parametrize("size", [(2, 3, 4), 3, (None, 2, 5), (1, 1, 1), (7, 6, 5)])
def test_adaptive_pools_3d_match_torch(size):
    x = np.random.default_rng(4).standard_normal((2, 3, 7, 6, 5))
    x[0, 0, 0, 0, 1] = x[0, 0, 0, 0, 0]  # a tie: the first maximum gets the gradient
    _compare("adaptive_max_pool3d", x, size, return_indices=True)
    _compare("adaptive_max_pool3d", x, size)
    _compare("adaptive_avg_pool3d", x, size)
    _compare("adaptive_max_pool3d", x[0], size, True)  # unbatched [C, D, H, W]
    _compare("adaptive_avg_pool3d", x[0], size)
    for ours, theirs in [
        (nn.AdaptiveMaxPool3d(size), torch.nn.AdaptiveMaxPool3d(size)),
        (nn.AdaptiveAvgPool3d(size), torch.nn.AdaptiveAvgPool3d(size)),
    ]:
        assert repr(ours) == repr(theirs)
        np.testing.assert_allclose(
            ours(mg.tensor(x)).numpy(), theirs(torch.tensor(x)).numpy(), rtol=1e-12
        )


def test_adaptive_pools_3d_gradcheck_and_errors():
    x = mg.tensor(np.random.default_rng(5).permutation(60).reshape(1, 1, 3, 4, 5) * 0.1,
                  requires_grad=True)  # fmt: skip
    assert gradcheck(lambda t: F.adaptive_max_pool3d(t, (2, 3, 2)), (x,))
    assert gradcheck(lambda t: F.adaptive_avg_pool3d(t, (2, 3, 2)), (x,))
    with pytest.raises(RuntimeError, match="4D or 5D"):
        F.adaptive_max_pool3d(mg.ones(2, 3, 4), 2)
    with pytest.raises(RuntimeError, match="non-zero size"):
        F.adaptive_max_pool3d(mg.ones(1, 2, 0, 3, 3), 2)

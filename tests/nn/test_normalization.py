"""minigrad.nn.normalization against torch: group, instance and local response norm (values,
gradients of input and affine parameters, running statistics, reprs, state_dict keys, errors),
float64 gradchecks and gradgradchecks."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.nn.normalization import _group_norm_composite
from minigrad.testing import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")

COVERED = {"group_norm"}

MODULES = [
    ("GroupNorm", (3, 6), {}), ("GroupNorm", (1, 6), {"eps": 1e-3}), ("GroupNorm", (6, 6), {}),
    ("GroupNorm", (2, 6), {"affine": False}), ("GroupNorm", (3, 6), {"bias": False}),
    ("InstanceNorm2d", (6,), {}), ("InstanceNorm2d", (6,), {"affine": True}),
    ("InstanceNorm2d", (6,), {"affine": True, "track_running_stats": True}),
    ("InstanceNorm2d", (6,), {"track_running_stats": True, "momentum": None}),
    ("LocalResponseNorm", (3,), {}), ("LocalResponseNorm", (4, 0.1, 0.5, 2.0), {}),
    ("LocalResponseNorm", (1,), {}),
]  # fmt: skip


@pytest.mark.parametrize("name,args,kwargs", MODULES)
@pytest.mark.parametrize("train", [True, False])
def test_modules_match_torch(name, args, kwargs, train):
    rng = np.random.default_rng(0)
    ours = getattr(nn, name)(*args, **kwargs).double().train(train)
    theirs = getattr(torch.nn, name)(*args, **kwargs).double().train(train)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for p, tp in zip(ours.parameters(), theirs.parameters()):  # not the init: random values
        value = rng.standard_normal(tuple(tp.shape))
        p.data = mg.tensor(value)
        tp.data = torch.tensor(value)
    for step in range(2):
        x = rng.standard_normal((2, 6, 4, 5)) * (step + 1) + step
        mx, tx = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        y, ty = ours(mx), theirs(tx)
        np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-12)
        g = rng.standard_normal(tuple(ty.shape))
        (y * mg.tensor(g)).sum().backward()
        (ty * torch.tensor(g)).sum().backward()
        np.testing.assert_allclose(mx.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-11)
        for p, tp in zip(ours.parameters(), theirs.parameters()):
            np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), rtol=1e-9, atol=1e-11)
            p.grad = None
            tp.grad = None
    for (k, b), (tk, tb) in zip(ours.named_buffers(), theirs.named_buffers()):
        assert k == tk
        np.testing.assert_allclose(b.numpy(), tb.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("shape", [(2, 4, 3), (2, 4, 3, 2, 2), (1, 4, 5, 5)])
def test_functional_forms_match_torch(shape):
    x = np.random.default_rng(1).standard_normal(shape)
    np.testing.assert_allclose(
        F.group_norm(mg.tensor(x), 2).numpy(),
        torch.nn.functional.group_norm(torch.tensor(x), 2).numpy(),
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        F.instance_norm(mg.tensor(x)).numpy(),
        torch.nn.functional.instance_norm(torch.tensor(x)).numpy(),
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        F.local_response_norm(mg.tensor(x), 3).numpy(),
        torch.nn.functional.local_response_norm(torch.tensor(x), 3).numpy(),
        rtol=1e-12,
    )


def test_unbatched_instance_norm_and_errors():
    x = np.random.default_rng(2).standard_normal((3, 4, 5))
    np.testing.assert_allclose(
        nn.InstanceNorm2d(3)(mg.tensor(x)).numpy(),
        torch.nn.InstanceNorm2d(3)(torch.tensor(x)).numpy(),
        rtol=1e-12,
    )
    with pytest.raises(RuntimeError, match="divisible by num_groups"):
        F.group_norm(mg.ones(2, 6, 3), 4)
    with pytest.raises(ValueError):
        nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match="expected 3D or 4D input"):
        nn.InstanceNorm2d(3)(mg.ones(3, 4))
    with pytest.raises(RuntimeError, match="weight of shape"):
        F.group_norm(mg.ones(2, 6, 3), 3, mg.ones(5))


def test_gradchecks():
    rng = np.random.default_rng(3)
    x = mg.tensor(rng.standard_normal((2, 4, 3)), requires_grad=True)
    w = mg.tensor(rng.standard_normal(4), requires_grad=True)
    b = mg.tensor(rng.standard_normal(4), requires_grad=True)
    fn = lambda x, w, b: F.group_norm(x, 2, w, b)
    assert gradcheck(fn, (x, w, b)) and gradgradcheck(fn, (x, w, b))
    lrn = lambda x: F.local_response_norm(x, 3, alpha=0.5)
    assert gradcheck(lrn, (x,)) and gradgradcheck(lrn, (x,))


@pytest.mark.parametrize("shape,groups", [((2, 6, 5), 3), ((3, 4, 2, 3), 1), ((1, 8, 2, 2, 2), 8),
                                          ((2, 4), 2)])  # fmt: skip
@pytest.mark.parametrize("affine", [True, False])
def test_fused_group_norm_equals_the_composite_and_torch(shape, groups, affine):
    rng = np.random.default_rng(4)
    arrays = [rng.standard_normal(shape) * 3 + 2, rng.standard_normal(shape[1]),
              rng.standard_normal(shape[1])]  # fmt: skip
    upstream = rng.standard_normal(shape)
    results = []
    for fn in (F.group_norm, _group_norm_composite):
        x, w, b = (mg.tensor(a, requires_grad=True) for a in arrays)
        y = fn(x, groups, w if affine else None, b if affine else None, 1e-5)
        y.backward(mg.tensor(upstream))
        results.append([y.detach().numpy(), x.grad.numpy()]
                       + ([w.grad.numpy(), b.grad.numpy()] if affine else []))  # fmt: skip
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in arrays)
    ty = torch.nn.functional.group_norm(tx, groups, tw if affine else None, tb if affine else None)
    ty.backward(torch.tensor(upstream))
    expected = [ty.detach().numpy(), tx.grad.numpy()] + (
        [tw.grad.numpy(), tb.grad.numpy()] if affine else []
    )
    for fused, composite, reference in zip(*results, expected):
        np.testing.assert_allclose(fused, composite, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(fused, reference, rtol=1e-10, atol=1e-12)


def test_fused_group_norm_float32_with_a_large_mean_is_as_accurate_as_torch():
    # mean 300, std 1: float32 loses digits in both; each stays as close to float64 as torch
    x = (np.random.default_rng(5).standard_normal((2, 8, 16, 16)) + 300).astype(np.float32)

    def run(lib, fn, a):
        t = lib.tensor(a, requires_grad=True)
        y = fn(t, 4)
        (y * y[:, :, :1]).sum().backward()
        return y.detach().numpy(), t.grad.numpy()

    exact = run(torch, torch.nn.functional.group_norm, x.astype(np.float64))
    theirs = run(torch, torch.nn.functional.group_norm, x)
    ours = run(mg, F.group_norm, x)
    assert ours[0].dtype == np.float32
    for mine, reference, truth in zip(ours, theirs, exact):
        assert np.abs(mine - truth).max() <= 1.5 * np.abs(reference - truth).max()


# regressions found by the differential suite (tests/differential/table_nnact.py)


@pytest.mark.parametrize("shape,groups", [((1, 3), 3), ((1, 3), 2), ((1, 2, 1), 2)])
def test_group_norm_one_value_per_group_raises_value_error_first(shape, groups):
    x = np.ones(shape)
    with pytest.raises(ValueError):
        torch.nn.functional.group_norm(torch.from_numpy(x), groups)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.group_norm(mg.tensor(x), groups)

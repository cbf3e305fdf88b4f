"""optim.Adadelta, Adamax, NAdam and RAdam against torch.optim: the same parameter
trajectories over 30 steps of given gradients (float64 to 1e-10, float32 to 1e-6), the same
state tensors, torch's signatures and param-group options, state_dict round trip and a
bit-for-bit resume, errors."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim

torch = pytest.importorskip("torch")

SHAPES = [(3, 4), (5,)]
STEPS = 30

CASES = [
    ("Adadelta", {}),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.1)),
    ("Adadelta", dict(lr=0.3, maximize=True)),
    ("Adamax", {}),
    ("Adamax", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05)),
    ("Adamax", dict(lr=0.01, maximize=True)),
    ("NAdam", {}),
    ("NAdam", dict(lr=0.01, betas=(0.85, 0.99), momentum_decay=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("NAdam", dict(lr=0.005, maximize=True)),
    ("RAdam", {}),
    ("RAdam", dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.1)),  # rectifies from step 6
    ("RAdam", dict(lr=0.01, weight_decay=0.2, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.01, eps=1e-4, maximize=True)),
]
IDS = [f"{name}-{i}" for i, (name, _) in enumerate(CASES)]


def _data(seed=0):
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s) for s in SHAPES]
    grads = [[rng.standard_normal(s) for s in SHAPES] for _ in range(STEPS)]
    return init, grads


def _run(lib, name, kwargs, init, grads, dtype):
    params = [lib.tensor(a, dtype=getattr(lib, dtype), requires_grad=True) for a in init]
    opt = getattr(torch.optim if lib is torch else optim, name)(params, **kwargs)
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = lib.tensor(g, dtype=getattr(lib, dtype))
        opt.step()
    return params, opt


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,kwargs", CASES, ids=IDS)
def test_trajectory_and_state_match_torch(name, kwargs, dtype):
    init, grads = _data()
    ours, opt = _run(mg, name, kwargs, init, grads, dtype)
    theirs, topt = _run(torch, name, kwargs, init, grads, dtype)
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == "float64" else dict(rtol=1e-6, atol=1e-6)
    for p, tp in zip(ours, theirs):
        assert p.dtype == getattr(mg, dtype)
        np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), **tol)
    for p, tp in zip(ours, theirs):
        mine, other = opt.state[p], topt.state[tp]
        assert list(mine) == list(other)
        for key, value in other.items():
            if key == "step":
                assert mine["step"] == int(value)
            elif key == "mu_product":  # a 0-d tensor of the default dtype, as torch's
                assert mine[key].dtype == mg.float32 and mine[key].ndim == 0
                assert mine[key].item() == value.item()
            else:
                assert mine[key].dtype == p.dtype
                np.testing.assert_allclose(mine[key].numpy(), value.numpy(), **tol)


@pytest.mark.parametrize("name,kwargs", CASES[::3], ids=IDS[::3])
def test_resume_from_state_dict_is_bit_for_bit(name, kwargs):
    init, grads = _data(1)
    straight, _ = _run(mg, name, kwargs, init, grads, "float32")
    params, opt = _run(mg, name, kwargs, init, grads[:10], "float32")
    saved = opt.state_dict()
    assert saved["param_groups"][0]["params"] == [0, 1] and sorted(saved["state"]) == [0, 1]
    fresh = getattr(optim, name)(params, **kwargs)
    fresh.load_state_dict(saved)
    for step_grads in grads[10:]:
        for p, g in zip(params, step_grads):
            p.grad = mg.tensor(g, dtype=mg.float32)
        fresh.step()
    for a, b in zip(straight, params):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


@pytest.mark.parametrize("name", ["Adadelta", "Adamax", "NAdam", "RAdam"])
def test_signature_and_param_groups_as_torch(name):
    ours, theirs = getattr(optim, name), getattr(torch.optim, name)
    mine = inspect.signature(ours).parameters
    other = inspect.signature(theirs).parameters
    assert list(mine) == list(other)
    for key, param in other.items():
        assert mine[key].kind == param.kind, key
        assert mine[key].default == param.default, key
    group = ours([mg.zeros(2, requires_grad=True)]).param_groups[0]
    t_group = theirs([torch.zeros(2, requires_grad=True)]).param_groups[0]
    assert {k: v for k, v in group.items() if k != "params"} == {
        k: v for k, v in t_group.items() if k != "params"
    }


def test_errors_as_torch():
    p = [mg.zeros(2, requires_grad=True)]
    with pytest.raises(ValueError, match="Invalid rho value: 1.5"):
        optim.Adadelta(p, rho=1.5)
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        optim.Adamax(p, lr=-1)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1: 1.0"):
        optim.NAdam(p, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Invalid momentum_decay value: -0.1"):
        optim.NAdam(p, momentum_decay=-0.1)
    with pytest.raises(ValueError, match="Invalid epsilon value: -1"):
        optim.RAdam(p, eps=-1)
    with pytest.raises(NotImplementedError, match="differentiable=True"):
        optim.RAdam(p, differentiable=True)

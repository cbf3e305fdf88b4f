"""Optimizer base: param groups and defaults, errors, zero_grad, add_param_group, and
state_dict/load_state_dict (PyTorch's layout; training resumes bit-for-bit)."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim

ALL = [
    (optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True)),
    (optim.Adam, dict(lr=0.01, amsgrad=True)),
    (optim.AdamW, dict(lr=0.01)),
    (optim.RMSprop, dict(lr=0.01, momentum=0.5, centered=True)),
    (optim.Adagrad, dict(lr=0.05, lr_decay=0.01)),
]


def _problem(seed=0):
    """A tiny least-squares model: weights w [4, 3], b [3]; data x [8, 4], y [8, 3]."""
    rng = np.random.default_rng(seed)
    w = mg.tensor(rng.standard_normal((4, 3)), dtype=mg.float32, requires_grad=True)
    b = mg.tensor(rng.standard_normal(3), dtype=mg.float32, requires_grad=True)
    x = mg.tensor(rng.standard_normal((8, 4)), dtype=mg.float32)
    y = mg.tensor(rng.standard_normal((8, 3)), dtype=mg.float32)
    return [w, b], x, y


def _train(opt, params, x, y, steps):
    w, b = params
    for _ in range(steps):
        opt.zero_grad()
        loss = ((x @ w + b - y) ** 2).mean()
        loss.backward()
        opt.step()


def test_param_groups_fill_defaults_and_keep_overrides():
    a, b = mg.zeros(2, requires_grad=True), mg.zeros(3, requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5}], lr=0.1, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.5]
    assert all(g["momentum"] == 0.9 and g["nesterov"] is False for g in opt.param_groups)
    assert opt.param_groups[1]["params"] == [b] or opt.param_groups[1]["params"][0] is b
    c = mg.zeros(1, requires_grad=True)
    opt.add_param_group({"params": [c], "momentum": 0.0})
    assert opt.param_groups[2]["lr"] == 0.1 and opt.param_groups[2]["momentum"] == 0.0
    assert opt.defaults["lr"] == 0.1


def test_generator_of_params_is_accepted():
    params = [mg.zeros(2, requires_grad=True) for _ in range(3)]
    opt = optim.Adam(p for p in params)
    assert len(opt.param_groups[0]["params"]) == 3


def test_constructor_errors():
    p = mg.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="more than once"):
        optim.SGD([p, p], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([p * 2], lr=0.1)
    with pytest.raises(ValueError, match="Invalid learning rate"):
        optim.Adam([p], lr=-1.0)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1"):
        optim.Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Invalid epsilon"):
        optim.RMSprop([p], eps=-1.0)
    with pytest.raises(ValueError, match="Invalid weight_decay"):
        optim.Adagrad([p], weight_decay=-0.1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(TypeError, match="iterable of Tensors"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD({p}, lr=0.1)
    with pytest.raises(TypeError, match="only optimize Tensors"):
        optim.SGD([np.zeros(2)], lr=0.1)


def test_zero_grad():
    params, x, y = _problem()
    opt = optim.SGD(params, lr=0.1)
    _train(opt, params, x, y, 1)
    grads = [p.grad for p in params]
    opt.zero_grad(set_to_none=False)
    for p, g in zip(params, grads):
        assert p.grad is g and not p.grad.numpy().any() and p.grad.dtype == mg.float32
    opt.zero_grad()
    assert all(p.grad is None for p in params)


def test_state_dict_layout_is_torch_like():
    params, x, y = _problem()
    extra = mg.zeros(5, requires_grad=True)
    opt = optim.Adam([{"params": params}, {"params": [extra], "lr": 0.5}], lr=0.01)
    _train(opt, params, x, y, 2)
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert sd["param_groups"][1]["lr"] == 0.5 and sd["param_groups"][0]["betas"] == (0.9, 0.999)
    assert set(sd["state"]) == {0, 1}  # `extra` had no gradient, so no state
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    assert sd["state"][0]["step"] == 2
    assert sd["state"][0]["exp_avg"].shape == (4, 3)
    # a snapshot: further training does not change it
    before = sd["state"][0]["exp_avg"].numpy().copy()
    _train(opt, params, x, y, 1)
    np.testing.assert_array_equal(sd["state"][0]["exp_avg"].numpy(), before)


@pytest.mark.parametrize("cls,kwargs", ALL, ids=[c.__name__ for c, _ in ALL])
def test_resume_is_bit_for_bit(cls, kwargs):
    params, x, y = _problem()
    opt = cls(params, **kwargs)
    _train(opt, params, x, y, 5)
    saved_opt = opt.state_dict()
    saved_params = [p.detach().numpy().copy() for p in params]
    _train(opt, params, x, y, 5)
    straight = [p.detach().numpy().copy() for p in params]

    params2, _, _ = _problem(seed=1)  # different values, overwritten from the checkpoint
    with mg.no_grad():
        for p, a in zip(params2, saved_params):
            p.copy_(mg.tensor(a))
    opt2 = cls(params2, lr=123.0)  # hyper-parameters come from the state dict
    opt2.load_state_dict(saved_opt)
    assert opt2.param_groups[0]["lr"] == kwargs["lr"]
    _train(opt2, params2, x, y, 5)
    for a, p in zip(straight, params2):
        np.testing.assert_array_equal(p.detach().numpy(), a)  # identical floats


def test_load_state_dict_casts_to_param_dtype_and_copies():
    p = mg.ones(3, dtype=mg.float64, requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    p.grad = mg.ones(3, dtype=mg.float64)
    opt.step()
    sd = opt.state_dict()
    q = mg.ones(3, requires_grad=True)  # float32
    opt2 = optim.Adam([q], lr=0.1)
    opt2.load_state_dict(sd)
    assert opt2.state[q]["exp_avg"].dtype == mg.float32
    assert opt2.state[q]["step"] == 1 and isinstance(opt2.state[q]["step"], int)
    q.grad = mg.ones(3)
    opt2.step()
    assert q.dtype == mg.float32 and opt2.state[q]["exp_avg_sq"].dtype == mg.float32
    assert sd["state"][0]["step"] == 1  # the loaded dict was not modified


def test_load_state_dict_mismatch_leaves_optimizer_unchanged():
    params, x, y = _problem()
    opt = optim.Adam(params, lr=0.01)
    _train(opt, params, x, y, 1)
    sd = opt.state_dict()
    other = optim.Adam([mg.zeros(2, requires_grad=True)], lr=0.3)
    with pytest.raises(ValueError, match="parameter group"):
        other.load_state_dict(sd)
    with pytest.raises(ValueError, match="parameter groups"):
        opt.load_state_dict({"state": {}, "param_groups": []})
    bad = opt.state_dict()
    bad["state"][1]["exp_avg"] = mg.zeros(7)
    before = opt.state_dict()
    with pytest.raises(ValueError, match=r"shape \[7\]"):
        opt.load_state_dict(bad)
    after = opt.state_dict()
    assert after["param_groups"] == before["param_groups"]
    np.testing.assert_array_equal(
        after["state"][1]["exp_avg"].numpy(), before["state"][1]["exp_avg"].numpy()
    )
    assert other.param_groups[0]["lr"] == 0.3


def test_repr_lists_groups():
    opt = optim.SGD([mg.zeros(1, requires_grad=True)], lr=0.1)
    text = repr(opt)
    assert text.startswith("SGD (") and "Parameter Group 0" in text and "lr: 0.1" in text


def test_step_with_mixed_devices_or_shapes_errors():
    p = mg.zeros(3, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    p.grad = mg.zeros(4)
    with pytest.raises(RuntimeError, match="does not match parameter of shape"):
        opt.step()
    p.grad = mg.zeros(3, dtype=mg.float64)
    with pytest.raises(RuntimeError, match="dtype"):
        opt.step()

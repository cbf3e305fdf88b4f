"""Each optimizer against its algorithm written out by hand in NumPy, and against torch.optim on
the same parameters and gradients (several steps; float64 and float32)."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim

SHAPES = [(3, 4), (5,)]
STEPS = 10


def _data(seed=0, steps=STEPS):
    rng = np.random.default_rng(seed)
    init = [rng.standard_normal(s) for s in SHAPES]
    grads = [[rng.standard_normal(s) for s in SHAPES] for _ in range(steps)]
    return init, grads


# --- the algorithms, written out plainly in float64 --------------------------------------------


def ref_sgd(
    p, grads, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False
):
    buf = None
    for g in grads:
        g = -g if maximize else g
        g = g + weight_decay * p
        if momentum:
            buf = g.copy() if buf is None else momentum * buf + (1 - dampening) * g
            g = g + momentum * buf if nesterov else buf
        p = p - lr * g
    return p


def ref_adam(
    p,
    grads,
    lr=1e-3,
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=0.0,
    amsgrad=False,
    maximize=False,
    decoupled=False,
):
    b1, b2 = betas
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    vmax = np.zeros_like(p)
    for t, g in enumerate(grads, start=1):
        g = -g if maximize else g
        if decoupled:
            p = p * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat = m / (1 - b1**t)  # bias corrections (Kingma & Ba, Algorithm 1)
        if amsgrad:
            vmax = np.maximum(vmax, v)
            v_hat = vmax / (1 - b2**t)
        else:
            v_hat = v / (1 - b2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


def ref_adamw(p, grads, weight_decay=1e-2, **kw):
    return ref_adam(p, grads, weight_decay=weight_decay, decoupled=True, **kw)


def ref_rmsprop(
    p,
    grads,
    lr=1e-2,
    alpha=0.99,
    eps=1e-8,
    weight_decay=0.0,
    momentum=0.0,
    centered=False,
    maximize=False,
):
    sq = np.zeros_like(p)
    mean = np.zeros_like(p)
    buf = np.zeros_like(p)
    for g in grads:
        g = -g if maximize else g
        g = g + weight_decay * p
        sq = alpha * sq + (1 - alpha) * g * g
        if centered:
            mean = alpha * mean + (1 - alpha) * g
            avg = np.sqrt(sq - mean * mean) + eps
        else:
            avg = np.sqrt(sq) + eps
        if momentum > 0:
            buf = momentum * buf + g / avg
            p = p - lr * buf
        else:
            p = p - lr * g / avg
    return p


def ref_adagrad(
    p,
    grads,
    lr=1e-2,
    lr_decay=0.0,
    weight_decay=0.0,
    initial_accumulator_value=0.0,
    eps=1e-10,
    maximize=False,
):
    s = np.full_like(p, initial_accumulator_value)
    for t, g in enumerate(grads, start=1):
        g = -g if maximize else g
        g = g + weight_decay * p
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g * g
        p = p - clr * g / (np.sqrt(s) + eps)
    return p


CASES = [
    ("SGD", ref_sgd, dict(lr=0.1)),
    ("SGD", ref_sgd, dict(lr=0.05, momentum=0.9)),
    ("SGD", ref_sgd, dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.1)),
    ("SGD", ref_sgd, dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.01)),
    ("SGD", ref_sgd, dict(lr=0.05, momentum=0.5, maximize=True)),
    ("Adam", ref_adam, dict()),
    ("Adam", ref_adam, dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
    ("Adam", ref_adam, dict(lr=0.01, amsgrad=True)),
    ("Adam", ref_adam, dict(lr=0.01, amsgrad=True, weight_decay=0.05, maximize=True)),
    ("AdamW", ref_adamw, dict()),
    ("AdamW", ref_adamw, dict(lr=0.02, weight_decay=0.3, amsgrad=True)),
    ("RMSprop", ref_rmsprop, dict()),
    ("RMSprop", ref_rmsprop, dict(lr=0.01, alpha=0.9, weight_decay=0.1)),
    ("RMSprop", ref_rmsprop, dict(lr=0.01, momentum=0.9)),
    ("RMSprop", ref_rmsprop, dict(lr=0.01, momentum=0.5, centered=True, maximize=True)),
    ("Adagrad", ref_adagrad, dict()),
    (
        "Adagrad",
        ref_adagrad,
        dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.5),
    ),
]
IDS = [f"{name}-{i}" for i, (name, _, _) in enumerate(CASES)]


def run_minigrad(name, kwargs, init, grads, dtype):
    params = [mg.tensor(a, dtype=dtype, requires_grad=True) for a in init]
    opt = getattr(optim, name)(params, **kwargs)
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = mg.tensor(g, dtype=dtype)
        opt.step()
    return params, opt


@pytest.mark.parametrize("name,ref,kwargs", CASES, ids=IDS)
def test_matches_numpy_algorithm(name, ref, kwargs):
    init, grads = _data()
    params, _ = run_minigrad(name, kwargs, init, grads, mg.float64)
    for i, p in enumerate(params):
        expected = ref(init[i], [g[i] for g in grads], **kwargs)
        np.testing.assert_allclose(p.detach().numpy(), expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,ref,kwargs", CASES, ids=IDS)
def test_matches_torch(name, ref, kwargs, dtype):
    torch = pytest.importorskip("torch")
    init, grads = _data(seed=1)
    params, opt = run_minigrad(name, kwargs, init, grads, getattr(mg, dtype))
    tdtype = getattr(torch, dtype)
    tparams = [torch.tensor(a, dtype=tdtype, requires_grad=True) for a in init]
    topt = getattr(torch.optim, name)(tparams, **kwargs)
    for step_grads in grads:
        for p, g in zip(tparams, step_grads):
            p.grad = torch.tensor(g, dtype=tdtype)
        topt.step()
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == "float64" else dict(rtol=1e-6, atol=1e-6)
    for p, tp in zip(params, tparams):
        assert p.dtype == getattr(mg, dtype)  # no float64 creep
        np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), **tol)
    # The state tensors match torch's too, and keep the parameter's dtype.
    for p, tp in zip(params, tparams):
        ours, theirs = opt.state[p], topt.state[tp]
        for key, value in theirs.items():
            if key == "step":
                assert ours["step"] == int(value)
            elif value is not None:
                assert ours[key].dtype == p.dtype
                np.testing.assert_allclose(ours[key].numpy(), value.numpy(), **tol)


@pytest.mark.parametrize("name,ref,kwargs", CASES, ids=IDS)
def test_grad_untouched_and_version_bumped(name, ref, kwargs):
    init, grads = _data(steps=2)
    params = [mg.tensor(a, dtype=mg.float32, requires_grad=True) for a in init]
    opt = getattr(optim, name)(params, **kwargs)
    for step_grads in grads:
        for p, g in zip(params, step_grads):
            p.grad = mg.tensor(g, dtype=mg.float32)
        versions = [p._version for p in params]
        opt.step()
        for p, g, v in zip(params, step_grads, versions):
            np.testing.assert_array_equal(p.grad.numpy(), g.astype(np.float32))
            assert p._version == v + 1
            assert p.dtype == mg.float32 and p.grad.dtype == mg.float32


def test_params_without_grad_are_skipped():
    a = mg.ones(3, requires_grad=True)
    b = mg.ones(3, requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = mg.ones(3)
    opt.step()
    assert b not in opt.state
    np.testing.assert_array_equal(b.detach().numpy(), np.ones(3, np.float32))
    assert (a.detach().numpy() < 1).all()


def test_closure_is_evaluated_with_grad_enabled():
    w = mg.tensor([1.0, -2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with mg.no_grad():
        loss = opt.step(closure)
    assert float(loss) == 5.0
    np.testing.assert_allclose(w.detach().numpy(), [0.8, -1.6], rtol=1e-6)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_signature_and_param_groups_as_torch(name):
    import inspect

    torch = pytest.importorskip("torch")
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


def test_rmsprop_positional_call_as_torch():
    torch = pytest.importorskip("torch")
    init, grads = _data(seed=2)
    # lr, alpha, eps, weight_decay, momentum, centered, capturable, foreach, maximize
    args = (0.01, 0.9, 1e-8, 0.1, 0.5, True, False, None, True)
    params = [mg.tensor(a, requires_grad=True) for a in init]
    tparams = [torch.tensor(a, requires_grad=True) for a in init]
    opt, topt = optim.RMSprop(params, *args), torch.optim.RMSprop(tparams, *args)
    for step_grads in grads:
        for p, tp, g in zip(params, tparams, step_grads):
            p.grad, tp.grad = mg.tensor(g), torch.tensor(g)
        opt.step()
        topt.step()
    for p, tp in zip(params, tparams):
        np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), rtol=1e-10)


def test_adam_decoupled_weight_decay_is_adamw():
    torch = pytest.importorskip("torch")
    init, grads = _data(seed=3)
    kw = dict(lr=0.01, weight_decay=0.2, decoupled_weight_decay=True)
    params, _ = run_minigrad("Adam", kw, init, grads, mg.float64)
    tparams = [torch.tensor(a, requires_grad=True) for a in init]
    topt = torch.optim.Adam(tparams, **kw)
    for step_grads in grads:
        for tp, g in zip(tparams, step_grads):
            tp.grad = torch.tensor(g)
        topt.step()
    for p, tp in zip(params, tparams):
        np.testing.assert_allclose(p.detach().numpy(), tp.detach().numpy(), rtol=1e-10)
    with pytest.raises(NotImplementedError, match="differentiable"):
        optim.SGD(params, differentiable=True)

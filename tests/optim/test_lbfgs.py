"""optim.LBFGS against torch.optim.LBFGS: the same iterates on Rosenbrock (float64, with and
without the strong-Wolfe line search, several parameter tensors, short histories), the same
function-evaluation counts and returned losses; a float32 least-squares fit; a small network
with copied weights; torch's state layout, state_dict round trip and bit-for-bit resume;
errors."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim

torch = pytest.importorskip("torch")


def rosenbrock(parts, lib):
    x = lib.cat([p.reshape(-1) for p in parts])
    return ((1 - x[:-1]) ** 2).sum() + 100 * ((x[1:] - x[:-1] ** 2) ** 2).sum()


INIT = [np.array([-1.5, 2.0, 0.5]), np.array([[-0.7, 1.2]])]


def _pair(init, dtype, **kw):
    t_params = [torch.tensor(a, dtype=getattr(torch, dtype), requires_grad=True) for a in init]
    m_params = [mg.tensor(a, dtype=getattr(mg, dtype), requires_grad=True) for a in init]
    return (
        (t_params, torch.optim.LBFGS(t_params, **kw)),
        (m_params, optim.LBFGS(m_params, **kw)),
    )


def _closure(params, opt, objective):
    def closure():
        opt.zero_grad()
        loss = objective(params)
        loss.backward()
        return loss

    return closure


def _assert_params(m_params, t_params, tol):
    for m, t in zip(m_params, t_params):
        np.testing.assert_allclose(m.detach().numpy(), t.detach().numpy(), rtol=tol, atol=tol)


def rosenbrock_np(x):
    """Rosenbrock's value and gradient in float64 NumPy: the same numbers for both libraries."""
    f = ((1 - x[:-1]) ** 2).sum() + 100 * ((x[1:] - x[:-1] ** 2) ** 2).sum()
    g = np.zeros_like(x)
    g[:-1] += -2 * (1 - x[:-1]) - 400 * x[:-1] * (x[1:] - x[:-1] ** 2)
    g[1:] += 200 * (x[1:] - x[:-1] ** 2)
    return f, g


def _numpy_closure(params, lib, dtype):
    def closure():
        x = np.concatenate([p.detach().numpy().reshape(-1).astype(np.float64) for p in params])
        f, g = rosenbrock_np(x)
        offset = 0
        for p in params:
            n = p.numel()
            p.grad = lib.tensor(g[offset : offset + n].reshape(tuple(p.shape)), dtype=dtype)
            offset += n
        return lib.tensor(f, dtype=dtype)

    return closure


def _to_mg(value):
    if isinstance(value, list):
        return [_to_mg(v) for v in value]
    return mg.tensor(value.numpy()) if isinstance(value, torch.Tensor) else value


def _sync(mp, mopt, tp, topt):
    """Give ours torch's parameters and state (through load_state_dict)."""
    with mg.no_grad():
        for m, t in zip(mp, tp):
            m.copy_(mg.tensor(t.detach().numpy()))
    sd = topt.state_dict()
    state = {k: {name: _to_mg(v) for name, v in s.items()} for k, s in sd["state"].items()}
    mopt.load_state_dict({"state": state, "param_groups": sd["param_groups"]})


LBFGS_CASES = [
    dict(lr=0.1, max_iter=3),
    dict(lr=0.05, max_iter=3, history_size=2),
    dict(lr=1, max_iter=3, line_search_fn="strong_wolfe"),
    dict(lr=0.8, max_iter=2, max_eval=4, history_size=2, line_search_fn="strong_wolfe"),
    dict(lr=1, max_iter=3, tolerance_change=1e-5, line_search_fn="strong_wolfe"),
]


# The classic start (-1.2, 1), as one tensor and as two
STARTS = {"one": [np.array([-1.2, 1.0])], "two": [np.array([-1.5]), np.array([2.0])]}


# float32: the dot products (BLAS in both, summed in different orders) differ in the last bit,
# and L-BFGS's curvature pairs amplify that on Rosenbrock's valley to ~1e-6 relative
@pytest.mark.parametrize("dtype,tol", [("float64", 1e-10), ("float32", 1e-5)])
@pytest.mark.parametrize("start", STARTS)
@pytest.mark.parametrize("kw", LBFGS_CASES)
def test_rosenbrock_iterates_match_torch(kw, start, dtype, tol):
    # Every step starts from torch's parameters and state (loaded through load_state_dict), so
    # it checks the algorithm (the two-loop recursion, bracketing, cubic zoom, stopping rules)
    # at 25 points of the path without the chaotic growth of last-bit differences over hundreds
    # of iterations (in higher dimensions a strong-Wolfe extrapolation can amplify them 1e8x).
    (tp, topt), (mp, mopt) = _pair(STARTS[start], dtype, **kw)
    t_closure = _numpy_closure(tp, torch, getattr(torch, dtype))
    m_closure = _numpy_closure(mp, mg, getattr(mg, dtype))
    for _ in range(25):
        t_loss = topt.step(t_closure)
        m_loss = mopt.step(m_closure)
        assert isinstance(m_loss, mg.Tensor)
        np.testing.assert_allclose(m_loss.item(), t_loss.item(), rtol=tol)
        _assert_params(mp, tp, tol)
        t_state, m_state = topt.state[tp[0]], mopt.state[mp[0]]
        assert m_state["func_evals"] == t_state["func_evals"]
        assert m_state["n_iter"] == t_state["n_iter"]
        _sync(mp, mopt, tp, topt)
    assert t_closure().item() < 0.5 * rosenbrock([torch.tensor(a) for a in STARTS[start]], torch)


@pytest.mark.parametrize(
    "kw",
    [
        dict(lr=1, line_search_fn="strong_wolfe"),
        dict(lr=1, history_size=4, line_search_fn="strong_wolfe"),
    ],
)
def test_rosenbrock_runs_alongside_torch(kw):
    # Free runs with each library's own autograd objective from the classic start: the same
    # number of iterations and the same minimiser (1, 1) at the end.
    (tp, topt), (mp, mopt) = _pair(STARTS["one"], "float64", **kw)
    t_closure = _closure(tp, topt, lambda p: rosenbrock(p, torch))
    m_closure = _closure(mp, mopt, lambda p: rosenbrock(p, mg))
    for _ in range(30):
        topt.step(t_closure)
        mopt.step(m_closure)
    assert mopt.state[mp[0]]["n_iter"] == topt.state[tp[0]]["n_iter"]
    _assert_params(mp, tp, 1e-6)
    np.testing.assert_allclose(mp[0].detach().numpy(), [1.0, 1.0], atol=1e-4)
    np.testing.assert_allclose(m_closure().item(), t_closure().item(), atol=1e-15)


def test_float32_least_squares_matches_torch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 3)).astype(np.float32)
    y = (x @ rng.standard_normal((3, 2)) + 0.5).astype(np.float32)
    init = [rng.standard_normal((3, 2)) * 0.1, np.zeros(2)]
    for line_search in (None, "strong_wolfe"):
        (tp, topt), (mp, mopt) = _pair(
            init, "float32", lr=0.5, max_iter=5, line_search_fn=line_search
        )
        tx, ty, mx, my = torch.from_numpy(x), torch.from_numpy(y), mg.tensor(x), mg.tensor(y)
        t_closure = _closure(tp, topt, lambda p: ((tx @ p[0] + p[1] - ty) ** 2).mean())
        m_closure = _closure(mp, mopt, lambda p: ((mx @ p[0] + p[1] - my) ** 2).mean())
        for _ in range(3):
            topt.step(t_closure)
            mopt.step(m_closure)
            assert all(p.dtype == mg.float32 for p in mp)
            _assert_params(mp, tp, 1e-5)
        assert m_closure().item() < 1e-6


def test_network_fit_matches_torch():
    from minigrad import nn

    rng = np.random.default_rng(1)
    x = np.linspace(-2, 2, 32)[:, None]
    y = np.sin(2 * x)
    t_net = torch.nn.Sequential(torch.nn.Linear(1, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    m_net = nn.Sequential(nn.Linear(1, 8), nn.Tanh(), nn.Linear(8, 1))
    t_net.double()
    m_net.double()
    weights = {k: rng.standard_normal(tuple(v.shape)) for k, v in t_net.state_dict().items()}
    t_net.load_state_dict({k: torch.tensor(v) for k, v in weights.items()})
    m_net.load_state_dict({k: mg.tensor(v) for k, v in weights.items()})
    kw = dict(lr=1, max_iter=10, history_size=10, line_search_fn="strong_wolfe")
    topt = torch.optim.LBFGS(t_net.parameters(), **kw)
    mopt = optim.LBFGS(m_net.parameters(), **kw)
    tx, ty, mx, my = torch.tensor(x), torch.tensor(y), mg.tensor(x), mg.tensor(y)
    t_closure = _closure(None, topt, lambda _: torch.nn.functional.mse_loss(t_net(tx), ty))
    m_closure = _closure(None, mopt, lambda _: mg.nn.functional.mse_loss(m_net(mx), my))
    for _ in range(4):
        topt.step(t_closure)
        mopt.step(m_closure)
    _assert_params(list(m_net.parameters()), list(t_net.parameters()), 1e-8)


def _trajectory(kw, steps, split_at=None):
    """Params after `steps` steps, optionally rebuilding the optimizer from its state_dict
    after `split_at` steps."""
    params = [mg.tensor(a, requires_grad=True) for a in INIT]
    opt = optim.LBFGS(params, **kw)
    closure = _closure(params, opt, lambda p: rosenbrock(p, mg))
    for i in range(steps):
        if i == split_at:
            saved = opt.state_dict()
            opt = optim.LBFGS(params, **kw)
            opt.load_state_dict(saved)
            closure = _closure(params, opt, lambda p: rosenbrock(p, mg))
        opt.step(closure)
    return [p.detach().numpy() for p in params], opt


@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
def test_resume_from_state_dict_is_bit_for_bit(line_search):
    kw = dict(lr=0.5 if line_search else 0.05, max_iter=4, history_size=3)
    kw["line_search_fn"] = line_search
    straight, _ = _trajectory(kw, 6)
    resumed, _ = _trajectory(kw, 6, split_at=3)
    for a, b in zip(straight, resumed):
        np.testing.assert_array_equal(a, b)


def test_state_layout_as_torch_and_torch_state_loads():
    kw = dict(lr=1, max_iter=4, history_size=3, line_search_fn="strong_wolfe")
    (tp, topt), (mp, mopt) = _pair(INIT, "float64", **kw)
    t_closure = _closure(tp, topt, lambda p: rosenbrock(p, torch))
    m_closure = _closure(mp, mopt, lambda p: rosenbrock(p, mg))
    for _ in range(3):
        topt.step(t_closure)
        mopt.step(m_closure)
    t_sd, m_sd = topt.state_dict(), mopt.state_dict()
    assert m_sd["param_groups"] == t_sd["param_groups"]
    assert list(m_sd["state"]) == list(t_sd["state"]) == [0]
    t_state, m_state = t_sd["state"][0], m_sd["state"][0]
    assert set(m_state) == set(t_state)
    for name, value in t_state.items():
        ours = m_state[name]
        if isinstance(value, list):
            assert len(ours) == len(value)
            for a, b in zip(ours, value):
                assert (a is None) == (b is None)
                if b is not None:
                    np.testing.assert_allclose(np.asarray(a.numpy()), b.numpy(), rtol=1e-10)
        elif isinstance(value, torch.Tensor):
            assert isinstance(ours, mg.Tensor) and ours.shape == tuple(value.shape)
            np.testing.assert_allclose(ours.numpy(), value.numpy(), rtol=1e-10)
        else:
            assert type(ours) is type(value)
            assert ours == pytest.approx(value, rel=1e-10)
    # the snapshot is a copy: stepping on does not change it
    before = m_sd["state"][0]["old_dirs"][0].numpy().copy()
    mopt.step(m_closure)
    np.testing.assert_array_equal(m_sd["state"][0]["old_dirs"][0].numpy(), before)

    # torch's own state, converted tensor by tensor, resumes on the same path as torch
    def convert(v):
        if isinstance(v, list):
            return [convert(x) for x in v]
        return mg.tensor(v.numpy()) if isinstance(v, torch.Tensor) else v

    fresh = [mg.tensor(t.detach().numpy(), requires_grad=True) for t in tp]
    other = optim.LBFGS(fresh, **kw)
    other.load_state_dict(
        {
            "state": {0: {k: convert(v) for k, v in t_state.items()}},
            "param_groups": t_sd["param_groups"],
        }
    )
    topt.step(t_closure)
    other.step(_closure(fresh, other, lambda p: rosenbrock(p, mg)))
    _assert_params(fresh, tp, 1e-10)


def test_stops_at_a_zero_gradient_and_defaults():
    p = mg.tensor([1.0, 1.0], requires_grad=True)  # Rosenbrock's minimum
    opt = optim.LBFGS([p])
    loss = opt.step(_closure([p], opt, lambda q: rosenbrock(q, mg)))
    assert loss.item() == 0.0 and opt.state[p]["func_evals"] == 1 and "d" not in opt.state[p]
    group = opt.param_groups[0]
    t_group = torch.optim.LBFGS([torch.zeros(1, requires_grad=True)]).param_groups[0]
    assert {k: v for k, v in group.items() if k != "params"} == {
        k: v for k, v in t_group.items() if k != "params"
    }


def test_errors_as_torch():
    p = mg.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="doesn't support per-parameter options"):
        optim.LBFGS([{"params": [p]}, {"params": [mg.zeros(1, requires_grad=True)]}])
    with pytest.raises(ValueError, match="Invalid learning rate"):
        optim.LBFGS([p], lr=-1)
    opt = optim.LBFGS([p], line_search_fn="armijo")
    with pytest.raises(RuntimeError, match="only 'strong_wolfe' is supported"):
        opt.step(_closure([p], opt, lambda q: ((q - 1) ** 2).sum()))

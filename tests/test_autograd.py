"""The engine: grad modes, backward's options, hooks, higher order, in-place checks, Function."""

from __future__ import annotations

import threading
import weakref

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg


def leaf(values, dtype=mg.float64) -> mg.Tensor:
    return mg.tensor(values, dtype=dtype, requires_grad=True)


# --- grad modes -------------------------------------------------------------------------------


def test_grad_mode_context_managers_and_decorators():
    x = leaf([1.0])
    with mg.no_grad():
        assert not (x * 2).requires_grad
        with mg.enable_grad():
            assert (x * 2).requires_grad
    with mg.set_grad_enabled(False):
        assert not mg.is_grad_enabled()
    assert mg.is_grad_enabled()

    @mg.no_grad()
    def f():
        return mg.is_grad_enabled()

    @mg.set_grad_enabled(False)
    def g():
        return mg.is_grad_enabled()

    @mg.enable_grad()
    def h():
        return mg.is_grad_enabled()

    assert f() is False and g() is False and mg.is_grad_enabled()
    with mg.no_grad():
        assert h() is True
        assert not mg.is_grad_enabled()
    mg.set_grad_enabled(False)  # a plain call switches at once, as in PyTorch
    assert not mg.is_grad_enabled()
    mg.set_grad_enabled(True)
    assert mg.is_grad_enabled()


def test_grad_mode_is_thread_local():
    seen = []
    with mg.no_grad():
        t = threading.Thread(target=lambda: seen.append(mg.is_grad_enabled()))
        t.start()
        t.join()
        assert not mg.is_grad_enabled()
    assert seen == [True]


def test_graph_recorded_only_when_needed():
    a, c = leaf([1.0, 2.0]), mg.tensor([3.0, 4.0], dtype=mg.float64)
    assert (c * c).grad_fn is None
    y = a * c
    assert y.grad_fn.name() == "MulBackward0"
    assert [type(n).__name__ for n, _ in y.grad_fn.next_functions] == ["Tensor", "NoneType"]


# --- backward ---------------------------------------------------------------------------------


def test_backward_gradient_and_accumulation():
    x = leaf([1.0, 2.0, 3.0])
    y = x * x
    y.backward(mg.tensor([1.0, 0.5, 2.0], dtype=mg.float64))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0, 12.0])
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 5.0, 15.0])
    with pytest.raises(RuntimeError, match="scalar outputs"):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * 2).backward(mg.ones(2, dtype=mg.float64))
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.ones(2).sum().backward()


def test_root_gradient_takes_output_dtype():
    x = leaf([1.0, 2.0], dtype=mg.float32)
    (x * 2).backward(mg.ones(2, dtype=mg.float64))
    assert x.grad.dtype == mg.float32


def test_retain_graph_and_freed_graph_error():
    x = leaf([1.0, 2.0])
    y = (x.sin() * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * (np.cos([1, 2]) * [1, 2] + np.sin([1, 2])))
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_backward_inputs_restricts_accumulation():
    x, w = leaf([1.0]), leaf([2.0])
    (x * w).sum().backward(inputs=[x])
    assert x.grad.tolist() == [2.0] and w.grad is None


def test_shared_subgraph_and_diamond():
    x = leaf([0.5, -1.5])
    h = x.tanh()
    y = (h * h + h.exp() * h).sum()
    y.backward()
    t = np.tanh([0.5, -1.5])
    expected = (2 * t + np.exp(t) * (1 + t)) * (1 - t * t)
    np.testing.assert_allclose(x.grad.numpy(), expected)


def test_deep_chain_has_no_recursion_limit():
    x = leaf([1.0], dtype=mg.float32)
    y = x
    for _ in range(100_000):
        y = y + 1.0
    y.sum().backward()
    assert x.grad.tolist() == [1.0]


def test_broadcast_gradients_are_unbroadcast():
    a, b = leaf(np.ones((3, 1))), leaf(np.ones(4))
    (a * b * 2).sum().backward()
    assert a.grad.shape == (3, 1) and b.grad.shape == (4,)
    np.testing.assert_allclose(a.grad.numpy(), 8.0)
    np.testing.assert_allclose(b.grad.numpy(), 6.0)


# --- aliasing ---------------------------------------------------------------------------------


def test_leaves_never_share_a_grad_buffer():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    g = mg.tensor([1.0, 1.0], dtype=mg.float64)
    (a + b).backward(g)
    a.grad.zero_()
    assert b.grad.tolist() == [1.0, 1.0] and g.tolist() == [1.0, 1.0]
    c = leaf([1.0, 2.0])
    c.view(2).backward(g)
    c.grad.add_(1.0)
    assert g.tolist() == [1.0, 1.0]
    d = leaf(np.ones((2, 2)))
    d.sum().backward()  # the sum rule broadcasts: a read-only view that must become a buffer
    d.grad.add_(1.0)
    assert d.grad.tolist() == [[2.0, 2.0], [2.0, 2.0]]


def test_grad_of_matmul_is_not_copied():
    # The engine copies only borrowed or read-only gradients: a matmul's own result is kept.
    w, x = leaf(np.ones((3, 4))), mg.tensor(np.ones((5, 4)))
    captured = []
    w.register_hook(lambda g: captured.append(g._data))
    (x @ w.T).sum().backward()
    assert w.grad._data is captured[0]


def test_retained_grad_does_not_alias_root():
    a = leaf([1.0, 2.0])
    y = a * 2
    y.retain_grad()
    g = mg.tensor([1.0, 1.0], dtype=mg.float64)
    y.backward(g)
    y.grad.zero_()
    assert g.tolist() == [1.0, 1.0] and a.grad.tolist() == [2.0, 2.0]


# --- retain_grad and hooks ---------------------------------------------------------------------


def test_retain_grad_for_non_leaves():
    x = leaf([1.0, 2.0])
    y = x * 3
    y.retain_grad()
    z = y * y
    assert y.retains_grad
    z.sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), [6.0, 12.0])
    np.testing.assert_allclose(x.grad.numpy(), [18.0, 36.0])


def test_hooks_on_leaves_and_non_leaves():
    x = leaf([1.0, 2.0])
    seen = []
    h1 = x.register_hook(lambda g: g * 10)
    y = x * 2
    h2 = y.register_hook(lambda g: seen.append(g.tolist()))
    y.sum().backward()
    assert seen == [[1.0, 1.0]] and x.grad.tolist() == [20.0, 20.0]
    h1.remove()
    h2.remove()
    x.grad = None
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]
    y = x * 1
    y.register_hook(lambda g: g * 0)
    x.grad = None
    (y * 5).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0]
    with pytest.raises(RuntimeError, match="must return None or a Tensor"):
        z = x * 1
        z.register_hook(lambda g: mg.zeros(3, dtype=mg.float64))
        z.sum().backward()
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        mg.zeros(1).register_hook(lambda g: g)


# --- autograd.grad and higher order -------------------------------------------------------------


def test_autograd_grad_options():
    x, w = leaf([1.0, 2.0]), leaf([3.0])
    y = (x * x).sum()
    (gx,) = mg.autograd.grad(y, x, retain_graph=True)
    np.testing.assert_allclose(gx.numpy(), [2.0, 4.0])
    assert x.grad is None  # grad() does not accumulate
    (gx,) = mg.autograd.grad(y, [x], grad_outputs=mg.tensor(3.0, dtype=mg.float64))
    np.testing.assert_allclose(gx.numpy(), [6.0, 12.0])
    with pytest.raises(RuntimeError, match="not have been used"):
        mg.autograd.grad((x * 2).sum(), [x, w])
    gx, gw = mg.autograd.grad((x * 2).sum(), [x, w], allow_unused=True)
    assert gw is None and gx.tolist() == [2.0, 2.0]
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.autograd.grad((x * 2).sum(), mg.ones(1))


def test_grad_of_intermediate_tensor():
    x = leaf([1.0, 2.0])
    h = x * 3
    y = (h * h).sum()
    (gh,) = mg.autograd.grad(y, h)
    np.testing.assert_allclose(gh.numpy(), [6.0, 12.0])


@given(st.lists(st.floats(-2, 2), min_size=1, max_size=5), st.integers(0, 4))
def test_hessian_vector_product_matches_analytic(values, k):
    # f(x) = sum(x^3 + sin(x) * x): H = diag(6x + 2cos x - x sin x)
    x = leaf(values)
    v = np.zeros(len(values))
    v[k % len(values)] = 1.0
    y = (x**3 + x.sin() * x).sum()
    (g,) = mg.autograd.grad(y, x, create_graph=True)
    assert g.requires_grad
    (hv,) = mg.autograd.grad(g, x, grad_outputs=mg.tensor(v))
    xs = np.array(values)
    np.testing.assert_allclose(hv.numpy(), (6 * xs + 2 * np.cos(xs) - xs * np.sin(xs)) * v)


def test_gradient_penalty_double_backward():
    # loss = ||d/dx sum(tanh(w x))||^2; check d loss / dw against finite differences
    x = mg.tensor([0.3, -0.7, 1.1], dtype=mg.float64)

    def loss_of(w_value):
        w = leaf([w_value])
        xr = x.detach().requires_grad_()
        out = (w * xr).tanh().sum()
        (gx,) = mg.autograd.grad(out, xr, create_graph=True)
        return (gx * gx).sum(), w

    loss, w = loss_of(0.8)
    loss.backward()
    eps = 1e-6
    numeric = (loss_of(0.8 + eps)[0].item() - loss_of(0.8 - eps)[0].item()) / (2 * eps)
    np.testing.assert_allclose(w.grad.item(), numeric, rtol=1e-6)


def test_backward_create_graph_accumulates_differentiable_grad():
    x = leaf([2.0])
    (x**3).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    (g2,) = mg.autograd.grad(x.grad.sum(), x)
    assert g2.tolist() == [12.0]


# --- in-place ops -------------------------------------------------------------------------------


def test_inplace_on_leaves_under_no_grad():
    p = leaf([1.0, 2.0])
    with mg.no_grad():
        p.add_(1.0).mul_(2.0).sub_(1.0).div_(5.0)
        p.add_(mg.ones(2, dtype=mg.float64), alpha=2)
        np.testing.assert_allclose(p.numpy(force=True), [2.6, 3.0])
        p.clamp_(0.0, 2.1)
        p[0] = 7.0
        p.copy_(mg.tensor([3.0, 4.0]))
        p.fill_(1.5)
        p.zero_()
        p += 1
        p *= 3
        p -= 1
        p /= 4
    assert p.is_leaf and p.requires_grad and p.tolist() == [0.5, 0.5]


def test_inplace_on_leaf_requiring_grad_raises():
    p = leaf([1.0])
    for op in (
        lambda: p.add_(1),
        lambda: p.mul_(2),
        lambda: p.zero_(),
        lambda: p.__setitem__(0, 1.0),
    ):
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            op()
    with pytest.raises(RuntimeError, match="view of a leaf Variable"):
        p[0:1].mul_(2)


def test_inplace_on_non_leaf_is_differentiable():
    a, c = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    b = a * 1
    b.mul_(c)  # the old b is needed for c's gradient: it must be kept
    b.add_(1.0)
    b[0] = b[0] * 10
    assert b.grad_fn is not None
    b.sum().backward()
    assert a.grad.tolist() == [30.0, 4.0] and c.grad.tolist() == [10.0, 2.0]
    d = a * 2
    d.zero_()  # gradient 0 to the old values
    (d + a).sum().backward()
    assert a.grad.tolist() == [31.0, 5.0]


def test_modifying_a_saved_tensor_raises_version_error():
    a = leaf([1.0, 2.0])
    b = a * 1
    y = b.sin()  # saves b
    b.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    x = mg.tensor([1.0, 2.0], dtype=mg.float64)
    y = a * x  # saves x for a's gradient
    x.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    x2 = mg.tensor([1.0, 2.0], dtype=mg.float64)
    y = a * 2
    x2.mul_(2)  # x2 was never used: fine


@pytest.mark.parametrize(
    "make_view",
    [
        lambda t: t.view(2, 2),
        lambda t: t.reshape(4),
        lambda t: t.transpose(0, 1),
        lambda t: t[0],
        lambda t: t[:, 1:],
        lambda t: t.t()[1],
    ],
)
def test_modifying_a_saved_tensor_through_a_view_raises(make_view):
    base = mg.tensor(np.ones((2, 2)), dtype=mg.float64)
    w = leaf(np.ones((2, 2)))
    y = w * base  # saves base
    with mg.no_grad():
        make_view(base).mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_saved_view_invalidated_by_base_change():
    w = leaf(np.ones((2, 2)))
    base = mg.tensor(np.ones((2, 2)), dtype=mg.float64)
    y = w * base.t()  # saves a view of base
    base.add_(1)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_inplace_through_a_view_in_a_graph_raises_clearly():
    a = leaf([1.0, 2.0])
    b = a * 1
    with pytest.raises(RuntimeError, match="in-place operation on a view"):
        b[0:1].mul_(2)


# --- custom Function ----------------------------------------------------------------------------


class Cube(mg.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale):
        ctx.save_for_backward(x)
        ctx.scale = scale
        return x**3 * scale

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x**2 * ctx.scale, None  # d/dx s x^3 = 3 s x^2


class MulPair(mg.autograd.Function):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        ga = grad * b if ctx.needs_input_grad[0] else None
        gb = grad * a if ctx.needs_input_grad[1] else None
        return ga, gb


def test_function_forward_backward_and_double_backward():
    x = leaf([2.0, -1.0])
    y = Cube.apply(x, mg.tensor(2.0, dtype=mg.float64))
    assert y.grad_fn.name() == "CubeBackward"
    (g,) = mg.autograd.grad(y.sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), [24.0, 6.0])
    (g2,) = mg.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(g2.numpy(), [24.0, -12.0])  # 6 s x


def test_function_needs_input_grad_and_errors():
    a, b = leaf([1.0, 2.0]), mg.tensor([3.0, 4.0], dtype=mg.float64)
    y = MulPair.apply(a, b)
    y.sum().backward()
    assert a.grad.tolist() == [3.0, 4.0]
    y2 = MulPair.apply(a, b)
    y2.sum().backward()
    with pytest.raises(RuntimeError, match="second time"):
        y2.sum().backward()
    assert not MulPair.apply(b, b).requires_grad
    a2 = leaf([1.0])
    y3 = MulPair.apply(a2, a2 * 1)
    a3 = a2 * 1
    y4 = MulPair.apply(a3, a2)
    a3.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y4.sum().backward()
    y3.sum().backward()
    assert a2.grad.tolist() == [2.0]


# --- saved values are released ------------------------------------------------------------------


def test_saved_values_released_after_backward():
    x = leaf(np.ones(1000))
    h = x.exp()
    y = (h * 2).sin().sum()
    node = h.grad_fn
    probe = weakref.ref(y.grad_fn)
    y.backward()
    assert node.saved is None
    del y
    assert probe() is None  # freed by reference counting alone


def test_backward_and_grad_take_torchs_deprecated_positional_slots():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    with pytest.warns(FutureWarning, match="grad_variables"):
        mg.autograd.backward([y], None, True, False, [mg.tensor([1.0, 10.0])])
    assert x.grad.tolist() == [2.0, 40.0]
    with pytest.warns(FutureWarning), pytest.raises(RuntimeError, match="both passed"):
        mg.autograd.backward(y, mg.ones(2), None, False, mg.ones(2))
    with pytest.raises(RuntimeError, match="cannot be empty"):
        mg.autograd.backward(y.sum(), inputs=[])
    with pytest.warns(FutureWarning, match="only_inputs"):
        (g,) = mg.autograd.grad(y.sum(), x, None, None, False, False)
    assert g.tolist() == [2.0, 4.0]


def test_grad_materialize_dict_and_batched_like_torch():
    torch = pytest.importorskip("torch")
    a = np.array([1.0, -2.0, 3.0])
    x, tx = mg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    u, tu = mg.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (gx, gu) = mg.autograd.grad((x * x).sum(), [x, u], materialize_grads=True)
    assert gu.tolist() == [0.0, 0.0, 0.0] and gx.tolist() == [2.0, -4.0, 6.0]
    with pytest.raises(RuntimeError, match="appears to not have been used"):
        mg.autograd.grad((x * x).sum(), [x, u])  # allow_unused defaults to materialize_grads
    with pytest.raises(ValueError, match="allow_unused=False"):
        mg.autograd.grad((x * x).sum(), [x], allow_unused=False, materialize_grads=True)
    grads = mg.autograd.grad((x * u).sum(), {"x": x, "u": u})
    assert list(grads) == ["x", "u"] and grads["x"].tolist() == a.tolist()
    eye = np.eye(3)
    jac = mg.autograd.grad(x.exp() * u, x, mg.tensor(eye), is_grads_batched=True)[0]
    (tjac,) = torch.autograd.grad(tx.exp() * tu, tx, torch.tensor(eye), is_grads_batched=True)
    np.testing.assert_allclose(jac.numpy(), tjac.numpy(), rtol=1e-12)

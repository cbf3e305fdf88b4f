"""mg.autograd.trace(): steps recorded in exactly the engine's execution order, with shapes,
gradient norms, intermediate grads/values, a printable table, and proper nesting/restoring."""

import numpy as np

import minigrad as mg
from minigrad import autograd


class EngineOrder:
    """A tracer that only remembers the order the engine calls it in (the reference)."""

    def __init__(self):
        self.calls = []

    def _start(self, node, g):
        self.calls.append(("start", node))

    def _end(self, node, input_grads):
        self.calls.append(("end", node))

    def _leaf(self, leaf, g):
        self.calls.append(("leaf", leaf))


def diamond():
    x = mg.tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)
    w = mg.tensor(np.ones(3) * 0.5, requires_grad=True)
    h = (x * w).tanh()
    y = (h.exp() + h.sin() * x).sum()
    return x, w, y


def test_trace_order_equals_engine_order():
    x, w, y = diamond()
    ref = EngineOrder()
    previous, autograd.mode.tracer = autograd.mode.tracer, ref
    try:
        y.backward(retain_graph=True)
    finally:
        autograd.mode.tracer = previous
    expected = [n for kind, n in ref.calls if kind in ("start", "leaf")]
    x.grad = w.grad = None
    with mg.autograd.trace() as tr:
        y.backward()
    assert [s.node for s in tr.steps] == expected
    assert [s.index for s in tr] == list(range(1, len(expected) + 1))
    # every consumer runs before what it consumes (topological order)
    position = {id(s.node): s.index for s in tr}
    for s in tr:
        if s.op != "AccumulateGrad":
            for source in s.node.next:
                if source is not None:
                    assert position[id(source)] > s.index
    assert tr.steps[0].op == "SumBackward0"
    assert {s.node for s in tr if s.op == "AccumulateGrad"} == {x, w}


def test_step_contents_and_intermediate_grads():
    x, w, y = diamond()
    with mg.autograd.trace() as tr:
        y.backward()
    first = tr[0]
    assert first.out_shape == () and first.in_shapes == ((2, 3),) and first.grad_out_norm == 1.0
    assert first.grad_in_norms[0] == np.sqrt(6)
    tanh = next(s for s in tr if s.op == "TanhBackward0")
    h = np.tanh(np.linspace(-1, 1, 6).reshape(2, 3) * 0.5)
    g_h = np.exp(h) + np.cos(h) * np.linspace(-1, 1, 6).reshape(2, 3)
    np.testing.assert_allclose(tr.grads[tanh.node], g_h)
    np.testing.assert_allclose(tr.values[tanh.node], h)
    assert tanh.grad_out_norm == np.linalg.norm(g_h)
    assert all(s.seconds >= 0 for s in tr)
    leaf = next(s for s in tr if s.node is w)
    np.testing.assert_allclose(leaf.grad_out_norm, np.linalg.norm(w.grad.numpy()))


def test_step_count():
    x, w, y = diamond()
    with mg.autograd.trace() as tr:
        y.backward()
    names = sorted(s.op for s in tr)
    assert names == sorted(
        ["SumBackward0", "AddBackward0", "ExpBackward0", "SinBackward0", "TanhBackward0"]
        + ["MulBackward0"] * 2
        + ["AccumulateGrad"] * 2
    )


def test_table_prints_every_step():
    x, w, y = diamond()
    with mg.autograd.trace() as tr:
        y.backward()
    text = str(tr)
    lines = text.splitlines()
    assert lines[0].split()[:2] == ["#", "op"] and set(lines[1]) == {"-"}
    assert len(lines) == 2 + len(tr)
    assert lines[2].split()[:3] == ["1", "SumBackward0", "()"]
    assert "(2, 3)" in text and "AccumulateGrad" in text and " us" in text
    assert repr(tr) == f"<Trace: {len(tr)} backward steps>"


def test_trace_restores_and_nests():
    assert autograd.mode.tracer is None
    a = mg.tensor(2.0, requires_grad=True)
    with mg.autograd.trace() as outer:
        (a * a).backward()
        with mg.autograd.trace(keep_values=False) as inner:
            (a * 3).backward()
        assert autograd.mode.tracer is outer
    assert autograd.mode.tracer is None
    assert [s.op for s in outer] == ["MulBackward0", "AccumulateGrad"]
    assert [s.op for s in inner] == ["MulBackward0", "AccumulateGrad"] and not inner.grads
    assert a.grad.item() == 7.0  # tracing changes nothing


def test_trace_with_create_graph_and_autograd_grad():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with mg.autograd.trace() as tr:
        (g,) = mg.autograd.grad((x**3).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), [3.0, 12.0])
    assert [s.op for s in tr][:2] == ["SumBackward0", "PowBackward0"]
    assert tr.order(tr[0].node) == 1

"""The rule contract of minigrad/autograd.py: what `defop` checks at definition time, the one-rule
`backward=` form, every rule's formula, and the namespace rules see under create_graph."""

from __future__ import annotations

import dis
import importlib
import inspect
import pathlib
import pkgutil
import types

import numpy as np
import pytest

import minigrad as mg
from minigrad import autograd
from minigrad.autograd import apply, defop
from minigrad.ops import elementwise, graph_namespace


def _load_every_module():
    for info in pkgutil.walk_packages(mg.__path__, "minigrad."):
        if not info.name.startswith(("minigrad.testing", "minigrad.cuda")):
            importlib.import_module(info.name)


def _all_ops():
    _load_every_module()
    from minigrad.viz import all_ops

    return all_ops()


# --- definition-time checks --------------------------------------------------------------------


def test_a_rule_reading_a_name_the_engine_cannot_supply_fails_at_definition():
    with pytest.raises(TypeError, match=r"op 'bad'.*rule for 'x' reads 'y'"):
        defop("bad", lambda xp, x: x, x=lambda g, y: g)


def test_a_rule_for_an_unknown_input_fails_at_definition():
    with pytest.raises(TypeError, match=r"unknown inputs \['z'\]"):
        defop("bad", lambda xp, x: x, z=lambda g: g)


def test_a_rule_without_named_parameters_fails_at_definition():
    with pytest.raises(TypeError, match="named parameters"):
        defop("bad", lambda xp, x: x, x=lambda *args: args[0])


def test_per_input_rules_and_one_backward_rule_do_not_mix():
    with pytest.raises(TypeError, match="not both"):
        defop("bad", lambda xp, a, b: a * b, a=lambda g: g, backward=lambda g: (g, g))


def test_the_rule_contract_names_are_accepted():
    op = defop(
        "fine",
        lambda xp, x, *, scale: (x * scale, x > 0),
        residuals=("positive",),
        x=lambda xp, g, x, out, x_shape, x_dtype, x_device, scale, positive: g * scale,
    )
    assert op.reads[0][-1] == "positive"


# --- one rule returning every input's gradient ----------------------------------------------------

# f(a, b) = a * b + a: one rule that shares the work of both gradients
AXB = defop(
    "a_times_b_plus_a",
    lambda xp, a, b: a * b + a,
    backward=lambda g, a, b, needs_input_grad: (
        g * (b + 1) if needs_input_grad[0] else None,
        g * a if needs_input_grad[1] else None,
    ),
    formula={"a": "b + 1", "b": "a"},
)


def test_one_backward_rule_gives_every_input_its_gradient():
    a = mg.tensor([1.0, 2.0, 3.0], dtype=mg.float64, requires_grad=True)
    b = mg.tensor([[4.0, 5.0, 6.0], [7.0, 8.0, 9.0]], dtype=mg.float64, requires_grad=True)
    apply(AXB, (a, b), {}).sum().backward()
    a_, b_ = a.detach().numpy(), b.detach().numpy()
    np.testing.assert_array_equal(
        a.grad.numpy(), (b_ + 1).sum(0)
    )  # unbroadcast once, by the engine
    np.testing.assert_array_equal(b.grad.numpy(), np.broadcast_to(a_, (2, 3)))
    assert AXB.formula("a") == "b + 1" and AXB.formula("b") == "a"


def test_needs_input_grad_tells_the_rule_which_inputs_want_one():
    seen = []
    op = defop(
        "spy",
        lambda xp, a, b: a * b,
        backward=lambda g, a, b, needs_input_grad: seen.append(needs_input_grad) or (g * b, g * a),
        formula={"a": "b", "b": "a"},
    )
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0, 4.0])
    apply(op, (a, b), {}).sum().backward()
    assert seen == [(True, False)] and b.grad is None
    np.testing.assert_array_equal(a.grad.numpy(), [3.0, 4.0])


def test_one_backward_rule_is_differentiable_twice():
    a = mg.tensor([1.5, -2.0], dtype=mg.float64, requires_grad=True)
    b = mg.tensor([0.5, 3.0], dtype=mg.float64, requires_grad=True)
    (ga,) = mg.autograd.grad(apply(AXB, (a, b), {}).sum(), [a], create_graph=True)
    ga.sum().backward()  # d/db sum(b + 1) = 1
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0])


def test_a_backward_rule_returning_the_wrong_count_is_named():
    op = defop("short", lambda xp, a, b: a * b, backward=lambda g: (g,), formula={"a": "", "b": ""})
    a = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="'short' returned 1 gradients for 2 inputs"):
        apply(op, (a, a), {}).sum().backward()


# --- formulas ------------------------------------------------------------------------------------


def test_every_differentiable_input_of_every_op_has_its_formula():
    missing = [
        f"{op.name}.{name}"
        for op in _all_ops()
        for name in op.differentiable
        if not op.formula(name).strip()
    ]
    assert not missing, f"rules without a formula (trailing comment or formula=): {missing}"


def test_formula_reads_the_comment_on_the_rule_line():
    assert elementwise.MUL.formula("a") == "d(ab)/da = b"
    assert elementwise.EXP.formula("x") == "e^x"
    from minigrad.viz import rule_text

    assert rule_text(elementwise.MUL)[0].comment == elementwise.MUL.formula("a")


# --- the namespace of double backward -----------------------------------------------------------


def _xp_names(code: types.CodeType, namespace: dict, seen: set) -> set:
    """Every `xp.<name>` that `code` uses, following helpers it passes `xp` to."""
    if code in seen:
        return set()
    seen.add(code)
    names = set()
    instructions = list(dis.get_instructions(code))
    for ins, following in zip(instructions, instructions[1:]):
        if ins.argval == "xp" and ins.opname in ("LOAD_FAST", "LOAD_DEREF"):
            if following.opname in ("LOAD_ATTR", "LOAD_METHOD"):
                names.add(following.argval)
        if ins.opname == "LOAD_GLOBAL":
            helper = namespace.get(ins.argval)
            if isinstance(helper, types.FunctionType) and "xp" in helper.__code__.co_varnames[:1]:
                names |= _xp_names(helper.__code__, helper.__globals__, seen)
    for const in code.co_consts:  # nested functions and lambdas
        if isinstance(const, types.CodeType):
            names |= _xp_names(const, namespace, seen)
    return names


# Names used only on the array side of a rule that switches on `isinstance(x, Tensor)` (its
# Tensor side is written with minigrad ops); the scan above cannot tell the two sides apart.
_ARRAY_SIDE_ONLY = {
    "prod": {"concatenate", "cumprod", "moveaxis", "ones"},  # reduce._prod_others
    "logcumsumexp": {"concatenate", "logaddexp", "moveaxis"},  # mathfns._logcumsumexp_grad
    "nll_loss": {"zeros"},  # functional._nll_grad
    "cumprod": {"take", "zeros_like"},  # mathfns._cumprod_grad
    # nn.rnn's fused layers: under create_graph their rules differentiate the composed cell
    "lstm_layer": {"concatenate", "empty", "full", "zeros_like"},
    "gru_layer": {"concatenate", "empty"},
    "rnn_layer": {"concatenate", "empty"},
}


def test_every_name_a_rule_calls_is_in_the_graph_namespace():
    lacking = {}
    for op in _all_ops():
        if not op.double_backward:
            continue
        for rule in (*op.rules, op.backward):
            if rule is not None:
                used = _xp_names(rule.__code__, rule.__globals__, set())
                absent = {n for n in used if n not in vars(graph_namespace)}
                absent -= {"fused"} | _ARRAY_SIDE_ONLY.get(op.name, set())
                if absent:
                    lacking[op.name] = sorted(absent)
    assert not lacking, (
        f"rules call xp names the graph namespace lacks (add them, built from minigrad ops, or "
        f"mark the op double_backward=False and list it in docs/double-backward.md): {lacking}"
    )


def test_a_missing_graph_namespace_name_fails_clearly():
    with pytest.raises(NotImplementedError, match=r"xp\.logaddexp"):
        graph_namespace.logaddexp  # noqa: B018


def test_ops_that_refuse_double_backward_are_listed_and_raise():
    page = (pathlib.Path(__file__).parents[1] / "docs" / "double-backward.md").read_text()
    refusing = sorted({op.name for op in _all_ops() if not op.double_backward})
    assert refusing, "conv2d and max_pool2d have no double backward"
    for name in refusing:
        assert f"`{name}`" in page, f"{name} is not listed in docs/double-backward.md"
    op = defop("once", lambda xp, x: x * 2, x=lambda g: g * 2, double_backward=False)  # 2
    x = mg.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="OnceBackward0 is not differentiable twice"):
        mg.autograd.grad(apply(op, (x,), {}).sum(), [x], create_graph=True)


# --- reading path ------------------------------------------------------------------------------


def test_the_engine_is_plain_python():
    source = inspect.getsource(autograd)
    assert "exec(" not in source and "compile(" not in source


def test_tensor_methods_are_defined_in_the_tensor_class():
    from minigrad.tensor import Tensor

    for name in ("exp", "sum", "reshape", "__add__", "__radd__", "matmul", "__getitem__"):
        method = Tensor.__dict__[name]
        assert inspect.getsourcefile(method).endswith("tensor.py"), name

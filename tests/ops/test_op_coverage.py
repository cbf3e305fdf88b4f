"""Every differentiable primitive must have a gradient test.

Collects each `Op` defined in minigrad.ops and minigrad.nn's functional, attention and conv, and
checks that its name is listed in some test module's `COVERED = {...}` set under tests/. The sets
are read from the source with `ast`, so this test does not depend on which other tests ran.
"""

import ast
import importlib
import pkgutil
from pathlib import Path

import minigrad.ops
from minigrad.autograd import Op

HERE = Path(__file__).parent
EXTRA_MODULES = [
    "minigrad.tensor",  # Tensor.contiguous's op
    "minigrad.nn.functional",
    "minigrad.nn.attention",
    "minigrad.nn.conv",
    "minigrad.nn.activation",
    "minigrad.nn.convtranspose",
    "minigrad.nn.upsampling",
    "minigrad.nn.pooling",
    "minigrad.nn.fold",
    "minigrad.nn.ctc",
    "minigrad.nn.embedding_bag",
    "minigrad.nn.normalization",
    "minigrad.nn.rnn",
]


def _ops() -> dict[str, str]:
    """op name -> the module defining it."""
    modules = [minigrad.ops]
    for info in pkgutil.iter_modules(minigrad.ops.__path__, "minigrad.ops."):
        modules.append(importlib.import_module(info.name))
    for name in EXTRA_MODULES:
        modules.append(importlib.import_module(name))
    found = {}
    for module in modules:
        for value in vars(module).values():
            if isinstance(value, Op):
                found.setdefault(value.name, module.__name__)
    return found


def _covered() -> dict[str, str]:
    """op name -> the test file that claims it."""
    covered = {}
    for path in sorted(HERE.parent.rglob("test_*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "COVERED" for t in node.targets
            ):
                for name in ast.literal_eval(node.value):
                    covered[name] = path.name
    return covered


def test_every_op_has_a_gradient_test():
    ops = _ops()
    assert len(ops) > 40, f"found only {len(ops)} ops: {sorted(ops)}"
    missing = {name: module for name, module in ops.items() if name not in _covered()}
    assert not missing, (
        "ops without a gradient test (add a check_op test and list the name in the test "
        f"module's COVERED set): {missing}"
    )


def test_covered_names_are_real_ops():
    ops = _ops()
    stale = {name: f for name, f in _covered().items() if name not in ops}
    assert not stale, f"COVERED lists names that are not ops: {stale}"

"""Every public name of minigrad is called by some entry of the differential table.

Counts what runs: each entry is run on one example with minigrad behind a recording proxy (and
recording wrappers around the Tensor methods it names); a name is covered only if a run really
called it. `minigrad.sum` and `Tensor.sum` are different names, so one cannot hide the other.
"""

import inspect

import pytest
from hypothesis.errors import HypothesisException

import minigrad
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.tensor import Tensor
from tests.differential.opinfo import entry_test, load_tables

# Public names that are not tensor API torch could be compared on, with the reason.
NOT_TORCH_API = {
    # leaked into `minigrad` / `F` by `from ... import *` of the op modules (no __all__ there)
    "minigrad.namedtuple": "stdlib helper leaked by a star import",
    "minigrad.SimpleNamespace": "stdlib helper leaked by a star import",
    "minigrad.MinMax": "the (values, indices) result type of max/min, checked through them",
    "minigrad.promote": "internal dtype-promotion helper leaked by a star import",
    "minigrad.cast": "internal helper leaked by a star import",
    "minigrad.as_tensor_like": "internal helper leaked by a star import",
    "minigrad.to_device": "internal helper leaked by a star import",
    "minigrad.getitem": "the op behind Tensor.__getitem__ (test_indexing.py)",
    "minigrad.nn.functional.promote": "internal helper leaked by a star import",
    # minigrad's own extension points: no torch counterpart to compare with
    "minigrad.defop": "minigrad's op-definition API (tests/test_autograd.py)",
    "minigrad.apply": "minigrad's op-application API (tests/test_autograd.py)",
    "minigrad.nn.functional.defop": "minigrad's op-definition API",
    "minigrad.nn.functional.apply": "minigrad's op-application API",
    "minigrad.Tensor": "the class; its methods are covered one by one",
    "minigrad.device": "a class (torch.device); covered by Tensor.device entries",
    "minigrad.Device": "the same class as minigrad.device",
    "minigrad.nn.Module": "the base class; every concrete module has entries",
    "minigrad.nn.Parameter": "covered through every module's parameters",
    "Tensor.backend": "minigrad-only: the array namespace of the tensor",
    "Tensor.register_hook": "hooks: tests/test_autograd.py (not a value to compare)",
}

# Tensor dunders that are public API (operators and protocols); the rest is object machinery.
TENSOR_DUNDERS = [
    "__abs__", "__add__", "__and__", "__bool__", "__eq__", "__float__", "__floordiv__",
    "__ge__", "__getitem__", "__gt__", "__iadd__", "__imul__", "__index__", "__int__",
    "__invert__", "__isub__", "__iter__", "__itruediv__", "__le__", "__len__", "__lt__",
    "__matmul__", "__mod__", "__mul__", "__ne__", "__neg__", "__or__", "__pos__", "__pow__",
    "__radd__", "__rfloordiv__", "__rmatmul__", "__rmod__", "__rmul__", "__rpow__", "__rsub__",
    "__rtruediv__", "__setitem__", "__sub__", "__truediv__", "__xor__",
    "__rand__", "__ror__", "__rxor__", "__lshift__", "__rshift__",
]  # fmt: skip


def public_names() -> list[str]:
    names = []
    for n in dir(minigrad):
        v = getattr(minigrad, n)
        if not n.startswith("_") and callable(v) and not inspect.ismodule(v):
            names.append(f"minigrad.{n}")
    for n in dir(F):
        v = getattr(F, n)
        if not n.startswith("_") and callable(v) and not inspect.ismodule(v):
            if not inspect.isclass(v):
                names.append(f"minigrad.nn.functional.{n}")
    for n in nn.__all__:
        if inspect.isclass(getattr(nn, n)):
            names.append(f"minigrad.nn.{n}")
    for n in dir(Tensor):
        if not n.startswith("_"):
            names.append(f"Tensor.{n}")
    # vars(), not hasattr: hasattr(Tensor, "__ror__") finds type.__ror__ (class unions)
    names += [
        f"Tensor.{n}" for n in TENSOR_DUNDERS if any(n in vars(k) for k in Tensor.__mro__[:-1])
    ]
    return sorted(set(names) - set(NOT_TORCH_API))


def test_every_public_name_is_called_by_an_entry():
    entries = load_tables()
    called: dict[str, list[str]] = {}
    for name, entry in sorted(entries.items()):
        log: set = set()
        try:
            entry_test(entry, max_examples=1, log=log)()
        except HypothesisException:  # a broken strategy: the entry did not run at all
            raise
        except Exception:  # noqa: BLE001 - a failing entry is test_entry's report; it still ran
            pass
        for c in log & set(entry.covers):
            called.setdefault(c, []).append(name)
    missing = [n for n in public_names() if n not in called]
    assert not missing, (
        f"{len(missing)} public names are called by no differential entry (add entries in "
        f"tests/differential/table_*.py; see its README): {missing}"
    )


def test_covers_names_are_public():
    public = set(public_names()) | set(NOT_TORCH_API)
    stale = {(e.name, c) for e in load_tables().values() for c in e.covers if c not in public}
    assert not stale, f"entries cover names that are not public: {sorted(stale)}"


@pytest.mark.parametrize("name", sorted(NOT_TORCH_API))
def test_exclusions_exist(name):
    module, _, attr = name.rpartition(".")
    owner = {"minigrad": minigrad, "minigrad.nn": nn, "minigrad.nn.functional": F}.get(
        module, Tensor
    )
    assert hasattr(owner, attr), f"{name} is excluded from coverage but no longer exists"

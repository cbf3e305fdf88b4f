"""The engine's optional fast path: recording and rule calling generated per op and input mask.

`autograd._record` and `Node.input_grads` are the reference: a loop over what the op's rules
read, and a loop over the rules. For an op with a fixed number of inputs and per-input rules,
this module writes both steps once per (op, which inputs need a gradient) as straight-line Python
(the saved dict as one literal, each rule called with its arguments read by name), which halves
the engine's own cost per op on small tensors (benchmarks/RESULTS.md). Everything else (variadic
ops, one-rule `backward=` ops, create_graph, custom Functions) takes the plain path.

`install()` swaps the fast recorder into autograd (minigrad does this at import unless the
environment sets MINIGRAD_PLAIN_ENGINE=1). Under MINIGRAD_CHECK_FAST=1 every node is recorded
both ways and every rule call is run both ways, and any difference raises: tests/test_fast.py
runs the op suite like that, so the two paths stay equal, node for node and bit for bit.
"""

from __future__ import annotations

import os

import numpy as np

from minigrad import _gc, autograd
from minigrad.autograd import Node, Op
from minigrad.backend import _BACKENDS, MULTI_DEVICE_TYPES, to_host

_plain_record = autograd._record
_plain_apply = autograd._apply
_until_gc_sample = _gc.SAMPLE
_new = object.__new__


class FastNode(Node):
    """A Node whose rules are called by a generated function (`caller`)."""

    __slots__ = ("caller",)

    def input_grads(self, g, create_graph: bool) -> list:
        if create_graph:
            return Node.input_grads(self, g, True)
        if self.saved is None or self.versions:
            self.check_saved()
        grads = self.caller(g, _BACKENDS[type(g)].xp, self.saved, self.params)
        if CHECK:
            _same_grads(self, grads, Node.input_grads(self, g, False))
        return grads


def _source(op: Op, mask: int) -> tuple[str, dict]:
    """The text of `record(inputs, arrays, params, out, residuals)` and `caller(g, xp, s, p)`
    for `op` when the inputs in bit `mask` need a gradient, and their globals."""
    n = len(op.input_names)
    env = {"_new": _new, "_FastNode": FastNode, "_BACKENDS": _BACKENDS, "_op": op}
    saved, versions = [], []
    for name, kind, k in op.plan(mask):
        if kind == "input":
            saved.append(f"{name!r}: arrays[{k}]")
            versions.append(f"({name!r}, inputs[{k}]._vc, inputs[{k}]._vc[0])")
        elif kind == "out":
            saved.append(f"{name!r}: out._data")
            versions.append(f"({name!r}, out._vc, out._vc[0])")
        elif kind == "shape":
            saved.append(f"{name!r}: arrays[{k}].shape")
        elif kind == "dtype":
            saved.append(f"{name!r}: arrays[{k}].dtype")
        elif kind == "device":
            saved.append(f"{name!r}: _BACKENDS[type(arrays[{k}])].device_of(arrays[{k}])")
        else:  # a residual
            saved.append(f"{name!r}: residuals[{k}]")
    saved_names = {name for name, _, _ in op.plan(mask)}
    calls = []
    for k, (rule, reads) in enumerate(zip(op.rules, op.reads)):
        if rule is None or not mask >> k & 1:
            calls.append("None")
            continue
        env[f"rule{k}"] = rule
        fixed = {"g": "g", "xp": "xp", "i": str(k)}
        args = [fixed.get(a) or (f"s[{a!r}]" if a in saved_names else f"p[{a!r}]") for a in reads]
        calls.append(f"rule{k}({', '.join(args)})")
    # an input in the mask requires grad: its edge is its grad_fn, or itself (a leaf)
    edges = [f"inputs[{k}].grad_fn or inputs[{k}]" if mask >> k & 1 else "None" for k in range(n)]
    text = f"""
def caller(g, xp, s, p):
    return [{", ".join(calls)}]

def record(inputs, arrays, params, out, residuals):
    node = _new(_FastNode)
    node.op = _op
    node.next = ({"".join(e + ", " for e in edges)})
    node.params = params
    node.saved = {{{", ".join(saved)}}}
    node.shapes = ({"".join(f"arrays[{k}].shape, " for k in range(n))})
    node.versions = ({"".join(v + ", " for v in versions)})
    node.hooks = None
    node.retained = None
    node.where = None
    node.caller = caller
    return node
"""
    return text, env


def _compiled(op: Op, mask: int):
    try:
        return op._fast_records[mask]
    except (AttributeError, KeyError):  # the first use of this op, or of this mask
        text, env = _source(op, mask)
        exec(compile(text, f"<minigrad._fast {op.name} mask {mask}>", "exec"), env)
        records = op.__dict__.setdefault("_fast_records", {})
        records[mask] = env["record"]
        return records[mask]


def _apply_source(op: Op) -> str:
    """The text of `apply(inputs, params)` for `op`: autograd._apply's steps for its number of
    inputs, written out (no loop over the inputs, no list); anything unusual (another number
    of inputs, mixed array types, a multi-device backend) goes to autograd._apply itself."""
    n = len(op.input_names)
    ts = [f"t{k}" for k in range(n)]
    ds = [f"d{k}" for k in range(n)]
    same = "".join(f"type({d}) is not array_type or " for d in ds[1:])
    mask = " | ".join(
        f"{t}.requires_grad << {k}" if k else t + ".requires_grad" for k, t in enumerate(ts)
    )
    lines = [
        "def apply(inputs, params):",
        f"    if len(inputs) != {n}:",
        "        return _plain_apply(_op, inputs, params)",
        f"    {''.join(t + ', ' for t in ts)}= inputs",
        *[f"    {d} = {t}._data" for t, d in zip(ts, ds)],
        "    array_type = type(d0)",
        f"    if {same}array_type in _MULTI_DEVICE_TYPES:",
        "        return _plain_apply(_op, inputs, params)",
        f"    result = _forward(_BACKENDS[array_type].xp, {', '.join(ds)}, **params)",
        "    result, *residuals = result" if op.residuals else "    residuals = ()",
        f"    mask = {mask}",
        "    record = mask != 0 and _mode.grad_enabled",
        "    out = _make(result, record)",
    ]
    if op.view:
        lines += [
            "    out._vc = t0._vc",
            '    root = getattr(t0, "_base", None)',
            "    out._base = t0 if root is None else root",
        ]
    lines += [
        "    if record:",
        f"        arrays = [{', '.join(ds)}]",
        "        out.grad_fn = _record(_op, inputs, arrays, params, out, residuals, mask)",
        "    return out",
    ]
    return "\n".join(lines) + "\n"


def _compile_apply(op: Op, inputs, params):
    """Op.fast_apply until an op has its own: make it (or mark the op plain), then apply."""
    fast = None
    if not op.variadic and op.backward is None and 0 < len(op.input_names) <= 8:
        env = {
            "_op": op,
            "_forward": op.forward,
            "_plain_apply": _plain_apply,
            "_MULTI_DEVICE_TYPES": MULTI_DEVICE_TYPES,
            "_BACKENDS": _BACKENDS,
            "_mode": autograd.mode,
            "_make": autograd.Tensor._make,
            "_record": record,
        }
        exec(compile(_apply_source(op), f"<minigrad._fast {op.name} apply>", "exec"), env)
        fast = env["apply"]
    op.fast_apply = fast  # on the instance: from now on autograd.apply calls it directly
    _compiled_ops.append(op)
    return _plain_apply(op, inputs, params) if fast is None else fast(inputs, params)


_compiled_ops: list = []  # ops given their own fast_apply (uninstall takes it away again)


def record(op: Op, inputs, arrays, params, out, residuals, mask: int) -> Node:
    """`autograd._record`, with the Node built by the generated function where one applies."""
    if op.variadic or op.backward is not None or len(inputs) > 64:
        return _plain_record(op, inputs, arrays, params, out, residuals, mask)
    if autograd._inference_used:
        autograd._refuse_inference_tensors(inputs, op)
    node = _compiled(op, mask)(inputs, arrays, params, out, residuals)
    if CHECK:
        _same_node(node, _plain_record(op, inputs, arrays, params, out, residuals, mask))
    if autograd._anomaly_contexts and autograd.mode.anomaly:
        node.where = autograd._forward_site()
    global _until_gc_sample  # autograd._count_for_gc, inlined
    _until_gc_sample -= 1
    if _until_gc_sample <= 0:
        _until_gc_sample = _gc.SAMPLE
        _gc.sample(node)
    for observer in autograd.record_observers:
        observer(node)
    return node


def _same_node(fast: Node, plain: Node) -> None:
    same = (
        fast.op is plain.op
        and len(fast.next) == len(plain.next)
        and all(a is b for a, b in zip(fast.next, plain.next))
        and fast.params is plain.params
        and fast.saved.keys() == plain.saved.keys()
        and all(_same_value(fast.saved[k], plain.saved[k]) for k in plain.saved)
        and fast.shapes == plain.shapes
        and [(n, c, v) for n, c, v in fast.versions] == [(n, c, v) for n, c, v in plain.versions]
    )
    if not same:
        raise AssertionError(f"minigrad._fast recorded {fast.op.name} differently from autograd")


def _same_value(a, b) -> bool:
    return a is b or (type(a) not in _BACKENDS and a == b)  # arrays: the very same object


def _same_grads(node: Node, fast: list, plain: list) -> None:
    for k, (a, b) in enumerate(zip(fast, plain)):
        if (a is None) != (b is None) or (
            a is not None and not np.array_equal(to_host(a), to_host(b), equal_nan=True)
        ):
            raise AssertionError(
                f"minigrad._fast: {node.name()}'s gradient {k} differs from autograd's"
            )


CHECK = os.environ.get("MINIGRAD_CHECK_FAST") == "1"


def install() -> None:
    autograd._record = record
    Op.fast_apply = _compile_apply  # a method until each op has its own (see _compile_apply)


def uninstall() -> None:
    autograd._record = _plain_record
    Op.fast_apply = None
    while _compiled_ops:
        vars(_compiled_ops.pop()).pop("fast_apply", None)

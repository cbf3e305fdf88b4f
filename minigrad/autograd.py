"""Reverse-mode automatic differentiation: recording the graph and running backward (read first).

The whole algorithm:

1. An `Op` is a primitive: a forward function and one gradient rule per input, written side by
   side like PyTorch's derivatives.yaml (see `minigrad/ops/`). A rule's parameter names say what
   it reads (`g` the output gradient, `out`, an input by name, `x_shape`, a param), so recording
   saves exactly those values and nothing else.
2. `apply(op, inputs, params)` runs the forward on raw arrays and, when grad mode is on and some
   input requires grad, records a `Node`: the op, the saved values, and per input where its
   gradient goes next (the input's own Node, the leaf Tensor itself, or None). Nodes point only
   to their inputs, never to their output tensor, so the graph has no reference cycles and is
   freed by reference counting the moment the last tensor using it goes away.
3. `backward` counts, for every node reachable from the roots, how many consumers feed it a
   gradient; a node runs once all of them have (Kahn's algorithm, no recursion). Each rule's
   result is summed down to its input's shape (unbroadcasting, done once here and never in a
   rule), accumulated per node, and finally added into the leaves' `.grad`.
4. Rules are written against a namespace `xp`. Normally that is NumPy/CuPy and the rules see raw
   arrays; under `create_graph=True` it is minigrad itself and the rules see Tensors, so the
   backward pass is recorded like any forward pass and can be differentiated again.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from typing import Any
from weakref import ref as _weakref

from minigrad.backend import _BACKENDS, MULTI_DEVICE_TYPES
from minigrad.backend import writeable as _writeable

Tensor: Any = None  # minigrad.tensor sets this (tensor.py imports this module, not the reverse)
_make: Any = None  # and this: Tensor._make, the no-checks constructor
graph_namespace: Any = None  # minigrad.ops sets this: the xp rules see under create_graph=True


# --- grad mode --------------------------------------------------------------------------------


class _Mode(threading.local):
    grad_enabled = True
    anomaly = False
    tracer = None


mode = _Mode()


def is_grad_enabled() -> bool:
    return mode.grad_enabled


class set_grad_enabled(contextlib.ContextDecorator):
    """Turn graph recording on or off: a context manager, a decorator, or a plain call."""

    def __init__(self, enabled: bool = True):
        self.enabled = bool(enabled)
        self._previous: list[bool] = []
        self._previous_now = mode.grad_enabled
        mode.grad_enabled = self.enabled  # a plain call takes effect at once, as in PyTorch

    def __enter__(self):
        self._previous.append(self._previous_now)
        mode.grad_enabled = self.enabled
        return self

    def __exit__(self, *exc):
        mode.grad_enabled = self._previous.pop()
        return False

    def __call__(self, fn):
        mode.grad_enabled = self._previous_now  # used as a decorator: undo the eager switch
        return super().__call__(fn)


class no_grad(set_grad_enabled):
    """Disable graph recording (inference, optimizer updates). Context manager or decorator."""

    def __init__(self):
        self.enabled = False
        self._previous = []

    def __enter__(self):
        self._previous.append(mode.grad_enabled)
        mode.grad_enabled = False
        return self

    def __call__(self, fn):
        return contextlib.ContextDecorator.__call__(self, fn)


class enable_grad(no_grad):
    """Re-enable graph recording inside `no_grad`. Context manager or decorator."""

    def __enter__(self):
        self._previous.append(mode.grad_enabled)
        mode.grad_enabled = True
        return self


# --- ops and nodes ----------------------------------------------------------------------------


class Op:
    """A differentiable primitive: `forward(xp, *inputs, **params)` and one rule per input.

    `rules[i]` is None for an input without a gradient (an index, a mask). `arg_names[i]` lists
    what rule i reads; `saves` is their union over inputs, `out` and residuals: what a Node keeps.
    `residuals` names extra arrays the forward returns after its output (indices, masks): they are
    saved for the rules and treated as constants under double backward.
    """

    __slots__ = (
        "name",
        "forward",
        "input_names",
        "variadic",
        "rules",
        "arg_names",
        "saves",
        "residuals",
        "view",
        "formulas",
        "backward_name",
        "params",
        "_plans",
        "_compiled",
    )

    def __init__(self, name, forward, rules, *, residuals=(), view=False, formulas=None):
        # forward(xp, *inputs, *, params): positional names are inputs, keyword-only are params
        code = forward.__code__
        names = code.co_varnames[1 : code.co_argcount]
        self.variadic = bool(code.co_flags & 0x04)  # forward(xp, *xs, *, params)
        if self.variadic:
            names = (code.co_varnames[code.co_argcount + code.co_kwonlyargcount],)
        unknown = set(rules) - set(names)
        if unknown:
            raise TypeError(
                f"op {name!r}: rules for unknown inputs {sorted(unknown)}; inputs: {names}"
            )
        self.name = name
        self.forward = forward
        self.input_names = tuple(names)
        self.rules = tuple(rules.get(n) for n in names)
        self.arg_names = tuple(
            () if r is None else r.__code__.co_varnames[: r.__code__.co_argcount]
            for r in self.rules
        )
        plain = {"xp", "g", "i"}
        self.saves = tuple(sorted({a for args in self.arg_names for a in args} - plain))
        self.residuals = tuple(residuals)
        self.view = view
        self.formulas = formulas or {}
        self.backward_name = "".join(p.capitalize() for p in name.split("_")) + "Backward0"
        kwonly = code.co_varnames[code.co_argcount : code.co_argcount + code.co_kwonlyargcount]
        self.params = frozenset(kwonly)
        self._plans: dict = {}  # which inputs need grad (bit mask) -> what to save, see plan()
        self._compiled: dict = {}  # the same mask -> (saver, grads function), see compile()

    def plan(self, mask: int) -> tuple:
        """What a Node saves when the inputs in bit `mask` need a gradient: ((name, kind, k)).

        Only the rules that will run decide, as in PyTorch: `x * c` with a constant `c` keeps
        `c` only, so modifying `x` in place afterwards is allowed and `x` can be freed.
        """
        plan = self._plans.get(mask)
        if plan is not None:
            return plan
        if self.variadic:
            reads = {a for args in self.arg_names for a in args}
        else:
            reads = {a for k, args in enumerate(self.arg_names) if mask >> k & 1 for a in args}
        names = self.input_names
        plan = []
        for name in sorted(reads - {"xp", "g", "i"}):
            if name == "out":
                plan.append((name, _OUT, 0))
            elif name in names:
                plan.append((name, _VARIADIC if self.variadic else _INPUT, names.index(name)))
            elif name.endswith("_shape") and name[:-6] in names:
                plan.append((name, _SHAPE, names.index(name[:-6])))
            elif name.endswith("_dtype") and name[:-6] in names:
                plan.append((name, _DTYPE, names.index(name[:-6])))
            elif name.endswith("_device") and name[:-7] in names:
                plan.append((name, _DEVICE, names.index(name[:-7])))
            elif name.endswith("_shapes"):
                plan.append((name, _SHAPES, 0))
            elif name in self.residuals:
                plan.append((name, _RESIDUAL, self.residuals.index(name)))
            elif name not in self.params:
                raise TypeError(
                    f"op {self.name!r}: a rule reads {name!r}, which the op does not provide"
                )
        plan = tuple(plan)
        self._plans[mask] = plan
        return plan

    def compile(self, mask: int) -> Callable:
        """`record(inputs, arrays, params, result, residuals, out) -> Node` for the inputs in
        bit `mask` (which need a gradient): generated once per op and mask.

        `record` builds the Node with `next`, `shapes` and what it saves (per `plan(mask)`)
        written out as literal expressions; its `grads(g, xp, saved, params)` calls each
        needed rule with its arguments read straight from `saved`/`params` (no environment
        dict per node) and returns one gradient (or None) per input. Variadic ops get a generic
        `record` and no `grads` (`Node.input_grads` then runs their rules). Both functions are
        the hot path of every recorded op.
        """
        entry = self._compiled.get(mask)
        if entry is not None:
            return entry
        if self.variadic and mask != -1:  # what is saved does not depend on the mask here
            entry = self._compiled[mask] = self.compile(-1)
            return entry
        plan = self.plan(mask)
        fixed = not self.variadic and mask >= 0
        values, versions = [], []
        for name, kind, k in plan:
            if kind == _INPUT:
                values.append(f"{name!r}: arrays[{k}]")
                versions.append(f"({name!r}, inputs[{k}]._vc, inputs[{k}]._vc[0])")
            elif kind == _OUT:
                values.append(f"{name!r}: result")
                versions.append(f"({name!r}, out._vc, out._vc[0])")
            elif kind == _SHAPE:
                values.append(f"{name!r}: arrays[{k}].shape")
            elif kind == _DTYPE:
                values.append(f"{name!r}: arrays[{k}].dtype")
            elif kind == _VARIADIC:
                values.append(f"{name!r}: tuple(arrays)")
                versions.append(f"*[({name!r}, t._vc, t._vc[0]) for t in inputs]")
            elif kind == _DEVICE:
                values.append(f"{name!r}: _BACKENDS[type(arrays[{k}])].device_of(arrays[{k}])")
            elif kind == _SHAPES:
                values.append(f"{name!r}: tuple([a.shape for a in arrays])")
            else:
                values.append(f"{name!r}: residuals[{k}]")
        env: dict = {"_BACKENDS": _BACKENDS, "_NOTHING": _NOTHING, "_new": _new, "_Node": Node}
        env["_op"] = self
        source = "grads = None\n"
        if fixed:
            saved_names = {name for name, _, _ in plan}
            calls = []
            for k, (rule, args) in enumerate(zip(self.rules, self.arg_names)):
                if rule is None or not mask >> k & 1:
                    calls.append("None")
                    continue
                env[f"rule{k}"] = rule
                read = {"g": "g", "xp": "xp", "i": str(k)}
                actual = [
                    read.get(a) or (f"s[{a!r}]" if a in saved_names else f"p[{a!r}]") for a in args
                ]
                calls.append(f"rule{k}({', '.join(actual)})")
            source += f"def grads(g, xp, s, p):\n    return ({_items(calls)})\n"
            n = len(self.input_names)
            # an input in the mask requires grad: its edge is its grad_fn, or itself (a leaf)
            next = [
                f"inputs[{k}].grad_fn or inputs[{k}]" if mask >> k & 1 else "None" for k in range(n)
            ]
            next = f"({_items(next)})"
            shapes = f"({_items([f'arrays[{k}].shape' for k in range(n)])})"
        else:
            next = (
                "tuple([t.grad_fn if t.grad_fn is not None else (t if t.requires_grad else None)"
                " for t in inputs])"
            )
            shapes = "tuple([a.shape for a in arrays])"
        saved = f"{{{', '.join(values)}}}" if plan else "_NOTHING"
        source += f"""
def record(inputs, arrays, params, result, residuals, out):
    node = _new(_Node)
    node.op = _op
    node.next = {next}
    node.params = params
    node.saved = {saved}
    node.shapes = {shapes}
    node.versions = ({_items(versions)})
    node.grads = grads
    node.hooks = None
    node.retained = None
    node.where = None
    return node
"""
        exec(compile(source, f"<minigrad op {self.name} mask {mask}>", "exec"), env)
        entry = self._compiled[mask] = env["record"]
        return entry

    def __repr__(self) -> str:
        return f"<Op {self.name}>"


_OUT, _INPUT, _VARIADIC, _SHAPE, _DTYPE, _DEVICE, _SHAPES, _RESIDUAL = range(8)
_new = object.__new__


def _items(expressions: list) -> str:
    """Source text of a tuple's items: `a, b, ` (a trailing comma keeps 1-tuples tuples)."""
    return "".join(e + ", " for e in expressions)


def defop(name: str, forward: Callable, *, residuals=(), view=False, formulas=None, **rules) -> Op:
    """Define a primitive. Example (the whole definition of multiplication)::

    mul = defop("mul", lambda xp, a, b: a * b,
                a=lambda g, b: g * b,   # d(a*b)/da = b
                b=lambda g, a: g * a)   # d(a*b)/db = a
    """
    return Op(name, forward, rules, residuals=residuals, view=view, formulas=formulas)


_NOTHING: dict = {}


class Node:
    """One recorded op application: where gradients go next, and what its rules read."""

    __slots__ = (
        "op",
        "next",
        "params",
        "saved",
        "shapes",
        "versions",
        "hooks",
        "retained",
        "where",
        "grads",
        "__weakref__",
    )
    _is_node = True  # an edge to another node, not to a leaf Tensor (see Tensor._is_node)

    def __init__(self, op, next, params, saved, shapes, versions, grads=None):
        self.op = op
        self.next = next  # per input: Node, leaf Tensor, or None (no gradient needed)
        self.params = params
        self.saved = saved
        self.shapes = shapes
        self.versions = versions  # [(name, version counter, value at save time)]
        self.grads = grads  # Op.compile's rule caller for this node's mask (None: general path)
        self.hooks = None  # tensor hooks of the output (a non-leaf's register_hook)
        self.retained = None  # weakref to the output tensor that called retain_grad()
        self.where = None  # forward's stack frame summary, under detect_anomaly()

    def name(self) -> str:
        return self.op.backward_name

    @property
    def next_functions(self):
        """PyTorch-compatible view of the graph edges: ((node_or_leaf, 0), ...)."""
        return tuple((n, 0) for n in self.next)

    def __repr__(self) -> str:
        return f"<{self.name()}>"

    # -- backward --

    def check_saved(self) -> None:
        if self.saved is None:
            raise RuntimeError(
                f"Trying to backward through the graph a second time (or directly access saved "
                f"tensors after they have already been freed): {self.name()} released its saved "
                f"values when you called .backward() or autograd.grad(). Specify "
                f"retain_graph=True on the first call if you need to backward through the graph "
                f"a second time."
            )
        for name, counter, expected in self.versions:
            if counter[0] != expected:
                raise _modified_error(self, name, counter[0], expected)

    def env(self, g, create_graph: bool) -> dict:
        """The values a rule may read, as arrays (or as Tensors when recording backward)."""
        env = dict(self.params)
        if not create_graph:
            env.update(self.saved)
            backend = _BACKENDS.get(type(g))
            if backend is None:  # NumPy turns 0-d arithmetic (g / b) into a scalar: re-wrap it
                import numpy

                g = numpy.asarray(g)
                backend = _BACKENDS[type(g)]
            env["xp"] = backend.xp
        else:
            for name, value in self.saved.items():
                env[name] = self._saved_tensor(name, value)
            env["xp"] = graph_namespace
        env["g"] = g
        return env

    def _saved_tensor(self, name: str, value):
        """Rebuild a saved array as a Tensor that carries its place in the graph."""
        op = self.op
        if name == "out":
            return Tensor._make(value, True, self)
        if name in op.input_names:
            if op.variadic:
                return tuple(self._input_tensor(i, v) for i, v in enumerate(value))
            return self._input_tensor(op.input_names.index(name), value)
        return Tensor._make(value) if type(value) in _BACKENDS else value  # residual, shape, dtype

    def _input_tensor(self, i: int, value):
        source = self.next[i]
        if source is None:
            return Tensor._make(value)
        if isinstance(source, Node):
            return Tensor._make(value, True, source)
        return source  # a leaf: the very tensor, so second-order grads reach its .grad

    def input_grads(self, g, create_graph: bool) -> list:
        """Apply each needed rule to the output gradient `g`; None where no grad flows."""
        saved = self.saved
        if saved is None or self.versions:
            self.check_saved()
        op = self.op
        if create_graph:
            env = self.env(g, True)
        else:  # the common case, inlined: it runs once per node of every backward
            backend = _BACKENDS.get(type(g))
            if backend is None:  # NumPy turns 0-d arithmetic (g / b) into a scalar: re-wrap it
                env = self.env(g, False)
            else:
                env = {**self.params, **saved, "xp": backend.xp, "g": g}
        rules = op.rules
        arg_names = op.arg_names
        variadic = op.variadic
        grads = []
        i = 0
        for source in self.next:
            k = 0 if variadic else i
            rule = rules[k]
            if source is None or rule is None:
                grads.append(None)
            else:
                env["i"] = i
                grads.append(rule(*[env[a] for a in arg_names[k]]))
            i += 1
        return grads

    def release(self) -> None:
        if self.saved:
            self.saved = None


def _modified_error(node, name: str, now: int, expected: int) -> RuntimeError:
    return RuntimeError(
        f"one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: '{name}', saved by {node.name()}, is at version {now}; expected version "
        f"{expected} instead. Hint: use an out-of-place op (x = x * 2 rather than x *= 2), or "
        f"clone() the tensor before modifying it."
    )


class FunctionNode(Node):
    """A Node for a user-defined `Function`: its backward returns all input grads at once."""

    __slots__ = ("function", "ctx")

    def input_grads(self, g, create_graph: bool) -> list:
        ctx = self.ctx
        if ctx.released:
            self.saved = None
            self.check_saved()
        for name, counter, expected in self.versions:
            if counter[0] != expected:
                raise _modified_error(self, f"saved tensor {name}", counter[0], expected)
        grad = g if create_graph else Tensor._make(g)
        with set_grad_enabled(create_graph):
            result = self.function.backward(ctx, grad)
        if not isinstance(result, tuple):
            result = (result,)
        if len(result) != len(self.next):
            raise RuntimeError(
                f"function {self.function.__name__}.backward returned {len(result)} gradients, "
                f"but forward took {len(self.next)} tensor inputs"
            )
        grads = []
        for r, source in zip(result, self.next):
            if r is None or source is None:
                grads.append(None)
            else:
                grads.append(r if create_graph else r._data)
        return grads

    def release(self) -> None:
        self.ctx.released = True

    def name(self) -> str:
        return f"{self.function.__name__}Backward"


def apply(op: Op, inputs: Sequence, params: dict) -> Any:
    """Run `op` on Tensors and record it when some input needs a gradient."""
    # The hot path of every op: one pass over the inputs, no generators, the output Tensor
    # built inline (Tensor._make without the call), and the Node's contents made by functions
    # generated per op and mask (Op.compile).
    n = len(inputs)
    if n == 1:
        t = inputs[0]
        first = t._data
        array_type = type(first)
        arrays = (first,)
        mask = 1 if t.requires_grad else 0
    elif n == 2:
        t, u = inputs
        first = t._data
        second = u._data
        array_type = type(first)
        if type(second) is not array_type:
            raise RuntimeError(
                f"Expected all tensors to be on the same device, but found at least two "
                f"devices, {t.device} and {u.device}! (in {op.name})"
            )
        arrays = (first, second)
        mask = (1 if t.requires_grad else 0) | (2 if u.requires_grad else 0)
    else:
        first = inputs[0]._data
        array_type = type(first)
        mask = 0
        arrays = []
        for k, t in enumerate(inputs):
            a = t._data
            if type(a) is not array_type:
                raise RuntimeError(
                    f"Expected all tensors to be on the same device, but found at least two "
                    f"devices, {inputs[0].device} and {t.device}! (in {op.name})"
                )
            if t.requires_grad:
                mask |= 1 << k
            arrays.append(a)
    if n > 1 and array_type in MULTI_DEVICE_TYPES:
        _BACKENDS[array_type].check_devices(arrays, op.name)
    if params:
        result = op.forward(_BACKENDS[array_type].xp, *arrays, **params)
    elif n == 2:  # a call without *args/**kwargs building is ~0.2 us cheaper
        result = op.forward(_BACKENDS[array_type].xp, first, second)
    else:
        result = op.forward(_BACKENDS[array_type].xp, *arrays)
    residuals = ()
    if op.residuals:
        result, *residuals = result
    if type(result) not in _BACKENDS:  # NumPy returns scalars from full reductions
        result = _BACKENDS[array_type].xp.asarray(result)
    needs_grad = mask != 0 and mode.grad_enabled
    out = _new(Tensor)  # Tensor._make, inlined
    out._data = result
    out.requires_grad = needs_grad
    out.grad = None
    out._vc = [0]
    out._hooks = None
    out.name = None
    if op.view:
        base = inputs[0]
        out._vc = base._vc  # a view shares its base's version counter, as in PyTorch
        root = getattr(base, "_base", None)
        out._base = base if root is None else root
    if needs_grad:
        record = op._compiled.get(mask)
        if record is None:
            record = op.compile(mask if len(inputs) <= 64 else -1)
        out.grad_fn = node = record(inputs, arrays, params, result, residuals, out)
        if _anomaly_contexts and mode.anomaly:
            node.where = _forward_site()
        if record_observers:
            for observer in record_observers:
                observer(node)
    else:
        out.grad_fn = None
    return out


# Callables `observer(node)` run after each Node is recorded (viz.record_modules uses this to
# tell which module call created which node). Empty, it costs one list truth test per op.
record_observers: list = []


def _forward_site() -> str:
    import traceback

    frames = [
        f
        for f in traceback.extract_stack()[:-2]
        if "/minigrad/" not in f.filename.replace("\\", "/")
    ]
    frame = frames[-1] if frames else traceback.extract_stack()[-3]
    return f'File "{frame.filename}", line {frame.lineno}, in {frame.name}\n    {frame.line}'


# --- backward ---------------------------------------------------------------------------------


def sum_to(xp, grad, shape: tuple):
    """Undo broadcasting: sum `grad` down to `shape` (works on arrays and on Tensors)."""
    if grad.shape == shape:
        return grad
    lead = len(grad.shape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1
    )
    if axes:
        grad = xp.sum(grad, axis=axes, keepdims=True)
    return xp.reshape(grad, shape) if grad.shape != shape else grad


def _run_hooks(hooks, grad, create_graph: bool):
    for hook in hooks:
        wrapped = grad if create_graph else Tensor._make(grad)
        result = hook(wrapped)
        if result is not None:
            if not isinstance(result, Tensor) or result.shape != wrapped.shape:
                raise RuntimeError(
                    f"hook {getattr(hook, '__name__', hook)!r} returned {result!r}; a tensor hook "
                    f"must return None or a Tensor of the gradient's shape {tuple(wrapped.shape)}"
                )
            grad = result if create_graph else result._data
    return grad


def _add(a, b):
    return b if a is None else a + b


def run_backward(
    roots: Sequence,
    root_grads: Sequence,
    *,
    retain_graph: bool,
    create_graph: bool,
    inputs: Sequence | None = None,
    allow_unused: bool = False,
) -> list | None:
    """The engine behind `Tensor.backward` (inputs=None: accumulate into leaves' .grad) and
    `autograd.grad` (return the gradients of `inputs` and leave .grad alone)."""
    # 1. Count each node's consumers: a node runs once all of them have sent their gradient.
    # state[node] = [consumers still to send, gradient summed so far]: one dict entry per node
    # (list items are cheaper to update than a second dict).
    state: dict = {}
    leaf_grads: dict = {}
    stack = []
    for root, g in zip(roots, root_grads):
        node = root.grad_fn
        if node is None:
            leaf_grads[root] = _add(leaf_grads.get(root), g)
            continue
        entry = state.get(node)
        if entry is None:
            state[node] = [0, g]
            stack.append(node)
        else:
            entry[1] = _add(entry[1], g)
    while stack:
        for source in stack.pop().next:
            if source is None or not source._is_node:  # a leaf (Parameter too)
                continue
            entry = state.get(source)
            if entry is None:
                state[source] = [1, None]
                stack.append(source)
            else:
                entry[0] += 1

    # Arrays the engine does not own (the caller's gradient, and anything passed through
    # unchanged by add/expand/...): a leaf's .grad must never share memory with them.
    borrowed: dict = {}
    for g in root_grads:
        _borrow(borrowed, g)
    capture = None
    if inputs is not None:
        capture = {(t.grad_fn if t.grad_fn is not None else t): None for t in inputs}

    tracer = mode.tracer
    anomaly = mode.anomaly
    ready = [n for n, entry in state.items() if entry[0] == 0]
    previous_mode = mode.grad_enabled
    mode.grad_enabled = create_graph
    try:
        # 2. Run the nodes in dependency order. One pass over each node's edges both hands on
        # its input gradients and releases its consumers' counts (the hot loop of backward).
        watch = capture is not None or tracer is not None
        g_type = xp = None
        while ready:
            node = ready.pop()
            g = state.pop(node)[1]  # every consumer has run: nothing will add to it again
            if g is None:  # nothing flowed into this node: just release its inputs' counts
                for source in node.next:
                    if source is not None and source._is_node:
                        entry = state[source]
                        entry[0] -= 1
                        if entry[0] == 0:
                            ready.append(source)
                if not retain_graph:
                    node.release()
                continue
            if node.hooks:
                g = _run_hooks(node.hooks, g, create_graph)
            if node.retained is not None:
                _retain(node.retained(), g, create_graph)
            if watch:
                if capture is not None and node in capture:
                    capture[node] = g
                if tracer is not None:
                    tracer._start(node, g)
            rules = node.grads
            if rules is not None and not create_graph:  # Node.input_grads, inlined
                saved = node.saved
                if saved is None:
                    node.check_saved()  # raises: freed by an earlier backward
                for _, counter, expected in node.versions:
                    if counter[0] != expected:
                        node.check_saved()  # raises: modified in place since saved
                if type(g) is not g_type:  # the namespace of the previous node's g, usually
                    backend = _BACKENDS.get(type(g))
                    if backend is None:  # NumPy turns 0-d arithmetic (g / b) into a scalar
                        g = _asarray(g)
                        backend = _BACKENDS[type(g)]
                    g_type = type(g)
                    xp = backend.xp
                input_grads = rules(g, xp, saved, node.params)
            else:
                input_grads = node.input_grads(g, create_graph)
            if anomaly:
                _check_finite(node, input_grads)
            lent = False
            for source, gi, shape in zip(node.next, input_grads, node.shapes):
                if source is None:
                    continue
                if gi is not None:
                    if gi is g and not lent:  # passed through unchanged: shared upstream
                        lent = True
                        if create_graph or g.base is not None or g.nbytes > 65536:
                            _borrow(borrowed, g)
                        else:
                            borrowed[id(g)] = g  # _borrow's common case, inlined
                    if gi.shape != shape:
                        gi = sum_to(
                            graph_namespace if create_graph else _BACKENDS[type(gi)].xp, gi, shape
                        )
                    if not source._is_node:  # a leaf (Parameter too)
                        previous = leaf_grads.get(source)
                        leaf_grads[source] = gi if previous is None else previous + gi
                        continue
                    entry = state[source]
                    previous = entry[1]
                    entry[1] = gi if previous is None else previous + gi
                elif not source._is_node:
                    continue
                else:
                    entry = state[source]
                entry[0] -= 1
                if entry[0] == 0:
                    ready.append(source)
            if tracer is not None:
                tracer._end(node, input_grads)
            if not retain_graph:
                if type(node) is Node:
                    if node.saved:
                        node.saved = None
                else:
                    node.release()

        # 3. Leaves: run their hooks on the summed gradient, then accumulate or capture.
        for leaf, g in leaf_grads.items():
            if leaf._hooks:
                g = _run_hooks(leaf._hooks, g, create_graph)
            if tracer is not None:
                tracer._leaf(leaf, g)
            if capture is not None:
                if leaf in capture:
                    capture[leaf] = g if create_graph else _owned(g, borrowed)
            else:
                _accumulate(leaf, g, create_graph, borrowed)
                if getattr(leaf, "_post_accumulate_hooks", None):
                    _run_post_accumulate_hooks(leaf)
    finally:
        mode.grad_enabled = previous_mode

    if capture is None:
        return None
    results = []
    for k, t in enumerate(inputs):
        g = capture[t.grad_fn if t.grad_fn is not None else t]
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    f"One of the differentiated Tensors (input {k}, shape {tuple(t.shape)}) "
                    f"appears to not have been used in the graph. Set allow_unused=True if this "
                    f"is the desired behavior."
                )
            results.append(None)
        else:
            results.append(g if create_graph else Tensor._make(g))
    return results


def _asarray(g):
    import numpy

    return numpy.asarray(g)


def _borrow(borrowed: dict, g) -> None:
    """Remember `g` and the array it views (NumPy/CuPy `.base`) as not the engine's to keep.

    By identity rather than by id(): once a borrowed array is freed, a fresh result can get its
    id and would be copied for nothing (it happened to a 512x784 weight gradient every mlp
    step). Small arrays are simply held until backward ends; large ones by weak reference, so
    holding them never raises peak memory.
    """
    for a in (g, getattr(g, "base", None)):
        if a is None:
            continue
        held = a
        if getattr(a, "nbytes", 0) > 65536:  # (the same limit is inlined in run_backward)
            try:
                held = _weakref(a)
            except TypeError:  # an array type without weak references: hold it
                pass
        borrowed[id(a)] = held


def _is_borrowed(a, borrowed: dict) -> bool:
    held = borrowed.get(id(a))
    return held is not None and (held is a or (type(held) is _weakref and held() is a))


def _owned(g, borrowed: dict):
    """`g`, copied when the engine may not keep it: it (or the array it views) is borrowed, or
    it is read-only (a broadcast view). Fresh rule results, such as a matmul's, pass as they are."""
    if type(g) is not Tensor:
        base = g.base
        if (
            _is_borrowed(g, borrowed)
            or (base is not None and _is_borrowed(base, borrowed))
            or not _writeable(g)
        ):
            return g.copy()
    return g


def _accumulate(leaf, g, create_graph: bool, borrowed=_NOTHING) -> None:
    if create_graph:
        leaf.grad = g if leaf.grad is None else leaf.grad + g
    elif leaf.grad is None:
        leaf.grad = Tensor._make(_owned(g, borrowed))
    else:
        data = leaf.grad._data
        if _writeable(data) and data.shape == g.shape and data.dtype == g.dtype:
            data += g  # in place, as PyTorch: no new buffer per accumulation
            leaf.grad._vc[0] += 1
        else:
            leaf.grad._data = data + g


def _run_post_accumulate_hooks(leaf) -> None:
    for hook in tuple(leaf._post_accumulate_hooks):  # a hook may remove itself
        result = hook(leaf)
        if result is not None:
            raise TypeError(
                f"post accumulate grad hook {getattr(hook, '__name__', hook)!r} returned "
                f"{type(result).__name__!r}; it must return None (it may change .grad in place)"
            )


def _retain(tensor, g, create_graph: bool) -> None:
    if tensor is None:
        return
    if create_graph:
        tensor.grad = g if tensor.grad is None else tensor.grad + g
    else:
        g = g.copy()
        tensor.grad = (
            Tensor._make(g) if tensor.grad is None else Tensor._make(tensor.grad._data + g)
        )


def _check_finite(node, input_grads) -> None:
    for k, gi in enumerate(input_grads):
        if gi is None:
            continue
        data = gi._data if isinstance(gi, Tensor) else gi
        xp = _BACKENDS[type(data)].xp
        if not bool(xp.all(xp.isfinite(data))):
            where = f"\nThe op was created in forward at:\n  {node.where}" if node.where else ""
            raise RuntimeError(
                f"Function '{node.name()}' returned nan or inf values in its {k}th output "
                f"(the gradient of input '{node.op.input_names[0 if node.op.variadic else k]}')."
                f"{where}"
            )


# --- public API: grad, anomaly mode, Function -------------------------------------------------


def _as_list(x) -> list:
    if x is None:
        return []
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


def _root_grads(outputs: list, grad_outputs: list, create_graph: bool) -> list:
    if grad_outputs and len(grad_outputs) != len(outputs):
        raise RuntimeError(
            f"grad_outputs has {len(grad_outputs)} tensors but outputs has {len(outputs)}"
        )
    roots = []
    for k, out in enumerate(outputs):
        if not out.requires_grad:
            raise RuntimeError(
                f"element {k} of tensors does not require grad and does not have a grad_fn"
            )
        g = grad_outputs[k] if grad_outputs else None
        data = out._data
        if g is None:
            if data.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs; output {k} has "
                    f"shape {tuple(data.shape)}: pass gradient= (or grad_outputs=) of that shape"
                )
            g = Tensor._make(_BACKENDS[type(data)].xp.ones_like(data))  # on data's device
        elif not isinstance(g, Tensor):
            g = Tensor._make(_BACKENDS[type(data)].xp.asarray(g, dtype=data.dtype))
        if g._data.shape != data.shape:
            raise RuntimeError(
                f"Mismatch in shape: grad_output[{k}] has a shape of {tuple(g.shape)} and "
                f"output[{k}] has a shape of {tuple(data.shape)}."
            )
        if type(g._data) is not type(data) or (
            _BACKENDS[type(data)].name != "numpy" and g.device != out.device
        ):
            raise RuntimeError(
                f"grad_output[{k}] is on {g.device} but output[{k}] is on {out.device}"
            )
        if g._data.dtype != data.dtype:
            if data.dtype.kind not in "fc" or g._data.dtype.kind not in "fc":
                raise RuntimeError(
                    f"grad_output[{k}] has dtype {g.dtype} but output[{k}] has dtype {out.dtype}"
                )
            g = g.to(data.dtype)  # as PyTorch: the gradient takes the output's dtype
        roots.append(g if create_graph else g._data)
    return roots


def backward(
    tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None
) -> None:
    """`mg.autograd.backward`: accumulate d(tensors)/d(leaves) into the leaves' `.grad`."""
    outputs = _as_list(tensors)
    roots = _root_grads(outputs, _as_list(grad_tensors), create_graph)
    if retain_graph is None:
        retain_graph = create_graph
    if inputs is not None:
        wanted = _as_list(inputs)
        grads = run_backward(
            outputs,
            roots,
            retain_graph=retain_graph,
            create_graph=create_graph,
            inputs=wanted,
            allow_unused=True,
        )
        for t, g in zip(wanted, grads):
            if g is not None:
                _accumulate(t, g if create_graph else g._data, create_graph)
                if getattr(t, "_post_accumulate_hooks", None):
                    _run_post_accumulate_hooks(t)
        return
    run_backward(outputs, roots, retain_graph=retain_graph, create_graph=create_graph)


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple:
    """Gradients of `outputs` with respect to `inputs`, returned rather than stored in `.grad`.

    With `create_graph=True` the results are part of a graph themselves (gradient penalties,
    Hessian-vector products).
    """
    outs = _as_list(outputs)
    ins = _as_list(inputs)
    for k, t in enumerate(ins):
        if not t.requires_grad:
            raise RuntimeError(
                f"One of the differentiated Tensors (input {k}) does not require grad"
            )
    roots = _root_grads(outs, _as_list(grad_outputs), create_graph)
    if retain_graph is None:
        retain_graph = create_graph
    return tuple(
        run_backward(
            outs,
            roots,
            retain_graph=retain_graph,
            create_graph=create_graph,
            inputs=ins,
            allow_unused=allow_unused,
        )
    )


class detect_anomaly(contextlib.ContextDecorator):
    """Record where each op was created; backward then names the first op whose gradient is
    NaN/inf and that forward line (PyTorch's anomaly mode). Slows every op: debugging only."""

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan
        self._previous: list[bool] = []

    def __enter__(self):
        global _anomaly_contexts
        with _anomaly_lock:
            _anomaly_contexts += 1
        self._previous.append(mode.anomaly)
        mode.anomaly = self.check_nan
        return self

    def __exit__(self, *exc):
        global _anomaly_contexts
        mode.anomaly = self._previous.pop()
        with _anomaly_lock:
            _anomaly_contexts -= 1
        return False


# Open detect_anomaly contexts in any thread: while 0, apply skips the (thread-local, so
# slower) mode.anomaly lookup on every op.
_anomaly_contexts = 0
_anomaly_lock = threading.Lock()


class FunctionCtx:
    """The `ctx` of a custom Function: what forward leaves for backward."""

    def __init__(self):
        self._saved: tuple = ()
        self.needs_input_grad: tuple = ()
        self.released = False

    def save_for_backward(self, *tensors) -> None:
        self._saved = tensors

    @property
    def saved_tensors(self) -> tuple:
        if self.released:
            raise RuntimeError(
                "Trying to backward through the graph a second time: this Function's saved "
                "tensors were freed by the first .backward(). Specify retain_graph=True."
            )
        return self._saved


class Function:
    """Define a differentiable op by hand, as with `torch.autograd.Function`::

        class Cube(mg.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 3

            @staticmethod
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return grad * 3 * x ** 2       # d/dx x^3 = 3x^2

        y = Cube.apply(x)

    `forward` runs without recording; `backward` gets and returns Tensors (one per tensor input,
    None for inputs without a gradient). Under `create_graph=True` backward is recorded too, so
    a backward written with minigrad ops is differentiable again.
    """

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("subclasses of Function implement forward(ctx, ...)")

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError("subclasses of Function implement backward(ctx, grad)")

    @classmethod
    def apply(cls, *args, **kwargs):
        tensors = [a for a in args if isinstance(a, Tensor)]
        ctx = FunctionCtx()
        ctx.needs_input_grad = tuple(t.requires_grad for t in tensors)
        with no_grad():
            out = cls.forward(ctx, *args, **kwargs)
        if not isinstance(out, Tensor):
            raise TypeError(
                f"{cls.__name__}.forward must return a single Tensor, got {type(out).__name__}"
            )
        if not (mode.grad_enabled and any(ctx.needs_input_grad)):
            return out
        out = Tensor._make(out._data, True)
        node = FunctionNode.__new__(FunctionNode)
        Node.__init__(
            node,
            None,
            tuple(
                t.grad_fn if t.grad_fn is not None else (t if t.requires_grad else None)
                for t in tensors
            ),
            _NOTHING,
            {},
            tuple(t.shape for t in tensors),
            tuple((str(k), t._vc, t._vc[0]) for k, t in enumerate(ctx._saved)),
        )
        node.function = cls
        node.ctx = ctx
        out.grad_fn = node
        return out


from minigrad._trace import trace  # noqa: E402, F401  (mg.autograd.trace(): records backward steps)

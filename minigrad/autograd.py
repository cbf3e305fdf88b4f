"""Reverse-mode automatic differentiation: recording the graph and running backward (read first).

The whole algorithm, in the order of this file:

1. Grad mode: whether ops are recorded at all (`no_grad`, `enable_grad`, `inference_mode`).
2. An `Op` is a primitive: a forward function and its gradient rules, written side by side like
   PyTorch's derivatives.yaml (see `minigrad/ops/`). Usually one rule per input; a fused op may
   give one `backward` rule returning the gradients of all its inputs. A rule's parameter names
   say what it reads (`g` the output gradient, `out`, an input by name, `x_shape`, a param), so
   recording saves exactly those values and nothing else. `defop` checks those names at once.
3. `apply(op, inputs, params)` runs the forward on raw arrays and, when grad mode is on and some
   input requires grad, records a `Node`: the op, the saved values, and per input where its
   gradient goes next (the input's own Node, the leaf Tensor itself, or None). Nodes point only
   to their inputs, never to their output tensor, so the graph has no reference cycles and is
   freed by reference counting the moment the last tensor using it goes away.
4. `run_backward` counts, for every node reachable from the roots, how many consumers feed it a
   gradient; a node runs once all of them have (Kahn's algorithm, no recursion). Each rule's
   result is summed down to its input's shape (unbroadcasting, done once here and never in a
   rule), accumulated per node, and finally added into the leaves' `.grad`, after their hooks.
5. `grad` returns gradients instead of storing them; `Function` lets a user write an op by hand.

Rules are written against a namespace `xp`. Normally that is NumPy/CuPy and the rules see raw
arrays; under `create_graph=True` it is `graph_namespace`, the same function names implemented by
minigrad ops, and the rules see Tensors: the backward pass is recorded like any forward pass and
can be differentiated again.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from weakref import ref as _weakref

import numpy as np

from minigrad import _gc
from minigrad.backend import _BACKENDS, MULTI_DEVICE_TYPES
from minigrad.backend import writeable as _writeable

# The one import cycle of the core: a Tensor's methods run ops, and ops return Tensors.
# minigrad.tensor imports this module and then fills these two names in.
Tensor: Any = None
graph_namespace: Any = None  # minigrad.ops: the `xp` that rules see under create_graph=True


# --- 1. grad mode -----------------------------------------------------------------------------


class _Mode(threading.local):
    """Per-thread state: each thread has its own grad mode, as in PyTorch."""

    grad_enabled = True
    inference = False
    anomaly = False
    tracer = None

    def __init__(self):
        self.stack: list = []  # what each open grad-mode context will restore, innermost last


mode = _Mode()
_thread_mode = mode  # the same object, for classes whose `mode` argument (PyTorch's name) hides it


def is_grad_enabled() -> bool:
    return mode.grad_enabled


def is_inference_mode_enabled() -> bool:
    return mode.inference


class _GradModeContext:
    """Base of the grad-mode switches: a context manager and a decorator.

    What a context restores lives on the thread's own stack (`mode.stack`), never on the
    instance, so one decorated function called from two threads cannot swap their modes.
    As in PyTorch, `@no_grad` works with and without parentheses.
    """

    grad_enabled: bool | None = None  # what entering sets (None: leave as it is)
    inference: bool | None = None

    def __new__(cls, *args, **kwargs):
        if len(args) == 1 and not kwargs and callable(args[0]) and not isinstance(args[0], bool):
            return cls()(args[0])  # used as a decorator without parentheses
        return super().__new__(cls)

    def __enter__(self):
        mode.stack.append((mode.grad_enabled, mode.inference))
        if self.grad_enabled is not None:
            mode.grad_enabled = self.grad_enabled
        if self.inference is not None:
            mode.inference = self.inference
        return self

    def __exit__(self, *exc) -> bool:
        mode.grad_enabled, mode.inference = mode.stack.pop()
        return False

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def run_in_mode(*args, **kwargs):
            with self:
                return fn(*args, **kwargs)

        return run_in_mode


class no_grad(_GradModeContext):
    """Disable graph recording (inference, optimizer updates). Context manager or decorator."""

    grad_enabled = False


class enable_grad(_GradModeContext):
    """Re-enable graph recording inside `no_grad`. Context manager or decorator."""

    grad_enabled = True


class set_grad_enabled(_GradModeContext):
    """Turn graph recording on or off: a context manager, a decorator, or a plain call (which,
    as in PyTorch, takes effect at once)."""

    def __new__(cls, mode: bool = True):
        return object.__new__(cls)

    def __init__(self, mode: bool = True):
        self.grad_enabled = bool(mode)
        self._before_call = _thread_mode.grad_enabled
        _thread_mode.grad_enabled = self.grad_enabled

    def __enter__(self):
        entered = super().__enter__()
        if self._before_call is not None:  # undo the plain call's switch on exit, not before
            mode.stack[-1] = (self._before_call, mode.stack[-1][1])
            self._before_call = None
        return entered

    def __call__(self, fn: Callable) -> Callable:
        if self._before_call is not None:  # a decorator: the switch belongs to each call only
            mode.grad_enabled = self._before_call
            self._before_call = None
        return super().__call__(fn)


class inference_mode(_GradModeContext):
    """`no_grad` that also marks the tensors it creates as inference tensors (`is_inference()`),
    which can never join a graph later. `inference_mode(False)` turns it off inside."""

    def __init__(self, mode: bool = True):
        self.inference = bool(mode)
        self.grad_enabled = not mode

    def __enter__(self):
        global _inference_used
        _inference_used = True
        return super().__enter__()


# Set once inference mode was ever entered: until then, recording skips the inference check.
_inference_used = False


# --- 2. ops and their rules -------------------------------------------------------------------

# The names a rule may read besides the op's inputs, params and residuals.
OUTPUT_GRAD, NAMESPACE, INPUT_INDEX, OUTPUT, NEEDS = "g", "xp", "i", "out", "needs_input_grad"
_METADATA_SUFFIXES = ("_shape", "_dtype", "_device")


class Op:
    """A differentiable primitive: `forward(xp, *inputs, **params)` and its gradient rules.

    `rules[k]` is input k's rule (None: no gradient, e.g. an index or a mask), or `backward` is
    one rule returning every input's gradient. `reads[k]` (`backward_reads`) lists the names a
    rule takes, checked here against what the engine can supply. `residuals` names extra arrays
    the forward returns after its output (indices, masks): saved for the rules and treated as
    constants under double backward. `formulas[input]` is the math, where given as text.
    """

    # minigrad._fast's generated version of `apply` for this op, when installed (None: none).
    fast_apply: Callable | None = None

    def __init__(
        self,
        name: str,
        forward: Callable,
        rules: dict,
        *,
        residuals: Sequence[str] = (),
        view: bool = False,
        backward: Callable | None = None,
        formula: str | dict | None = None,
        double_backward: bool = True,
    ):
        signature = forward.__code__
        positional = signature.co_varnames[1 : signature.co_argcount]
        keyword_only = signature.co_varnames[
            signature.co_argcount : signature.co_argcount + signature.co_kwonlyargcount
        ]
        # forward(xp, *xs, *, params): one input name standing for any number of tensors
        has_star_args = signature.co_flags & _CO_VARARGS
        if has_star_args:
            positional = (signature.co_varnames[len(positional) + 1 + len(keyword_only)],)
        self.name = name
        self.forward = forward
        self.input_names = tuple(positional)
        self.variadic = bool(has_star_args)
        self.params = frozenset(keyword_only)
        self.residuals = tuple(residuals)
        self.view = view
        self.double_backward = double_backward
        self.backward_name = "".join(p.capitalize() for p in name.split("_")) + "Backward0"
        unknown = set(rules) - set(self.input_names)
        if unknown:
            raise TypeError(
                f"op {name!r}: rules for unknown inputs {sorted(unknown)}; its inputs are "
                f"{list(self.input_names)}"
            )
        if backward is not None and rules:
            raise TypeError(
                f"op {name!r}: give either one rule per input or one `backward` rule, not both"
            )
        self.rules = tuple(rules.get(n) for n in self.input_names)
        self.backward = backward
        self.reads = tuple(self._check_rule(r, n) for r, n in zip(self.rules, self.input_names))
        self.backward_reads = self._check_rule(backward, "backward")
        self.metadata = frozenset(  # what rules read that is no array: kept by Node.release
            name
            for name in (*self.backward_reads, *(n for names in self.reads for n in names))
            if self._source_of(name, multi=True)[0] in ("shape", "dtype", "device", "shapes")
        )
        self.differentiable = tuple(
            n for n, r in zip(self.input_names, self.rules) if r is not None or backward
        )
        if isinstance(formula, str):
            if len(self.differentiable) != 1:
                raise TypeError(
                    f"op {name!r}: formula= as one string fits an op with one differentiable "
                    f"input; give a dict {{input: formula}} for {list(self.differentiable)}"
                )
            formula = {self.differentiable[0]: formula}
        self.formulas = dict(formula or {})
        self._plans: dict = {}  # inputs needing grad (bit mask) -> what to save, see plan()

    def _check_rule(self, rule: Callable | None, what: str) -> tuple:
        """The names `rule` reads, after checking that the engine can supply each one."""
        if rule is None:
            return ()
        code = getattr(rule, "__code__", None)
        if code is None or code.co_flags & (_CO_VARARGS | _CO_VARKEYWORDS):
            raise TypeError(
                f"op {self.name!r}: the rule for {what!r} must be a function with named "
                f"parameters (they say what it reads)"
            )
        names = code.co_varnames[: code.co_argcount + code.co_kwonlyargcount]
        for name in names:
            if self._source_of(name, multi=what == "backward") is None:
                raise TypeError(
                    f"op {self.name!r}: the rule for {what!r} reads {name!r}, which the engine "
                    f"cannot supply. A rule may read: g (output gradient), xp, out, i (input "
                    f"index, variadic ops), an input {list(self.input_names)} or its _shape/"
                    f"_dtype/_device, a param {sorted(self.params)}, a residual "
                    f"{list(self.residuals)}" + (", needs_input_grad" if what == "backward" else "")
                )
        return names

    def _source_of(self, name: str, multi: bool = False):
        """(kind, index) of what the engine passes for a rule parameter `name`, or None."""
        inputs = self.input_names
        if name in (OUTPUT_GRAD, NAMESPACE, INPUT_INDEX) or (multi and name == NEEDS):
            return ("engine", 0)
        if name == OUTPUT:
            return ("out", 0)
        if name in inputs:
            return ("inputs" if self.variadic else "input", inputs.index(name))
        for suffix in _METADATA_SUFFIXES:
            if name.endswith(suffix) and name[: -len(suffix)] in inputs:
                return (suffix[1:], inputs.index(name[: -len(suffix)]))
        if self.variadic and name == inputs[0] + "_shapes":
            return ("shapes", 0)
        if name in self.residuals:
            return ("residual", self.residuals.index(name))
        if name in self.params:
            return ("param", 0)
        return None

    def plan(self, mask: int) -> tuple:
        """What a Node saves when the inputs in bit `mask` need a gradient: ((name, kind, k)).

        Only the rules that will run decide, as in PyTorch: `x * c` with a constant `c` keeps
        `c` only, so modifying `x` in place afterwards is allowed and `x` can be freed.
        """
        if self.variadic or self.backward is not None:
            mask = -1  # every rule runs (or each input's does): the mask does not matter
        plan = self._plans.get(mask)
        if plan is None:
            if self.backward is not None:
                reads = set(self.backward_reads)
            elif self.variadic:
                reads = set(self.reads[0])
            else:
                reads = {a for k, names in enumerate(self.reads) if mask >> k & 1 for a in names}
            plan = []
            for name in sorted(reads):
                kind, k = self._source_of(name, multi=True)
                if kind not in ("engine", "param"):
                    plan.append((name, kind, k))
            plan = self._plans[mask] = tuple(plan)
        return plan

    def formula(self, input_name: str) -> str:
        """The math of `input_name`'s gradient: the `formula=` text, else the comment on the
        rule's line in the `defop(...)` call (see minigrad/_rule_source.py); "" if none."""
        if input_name in self.formulas:
            return self.formulas[input_name]
        from minigrad._rule_source import rule_comment  # reads source files: only when asked

        return rule_comment(self, input_name)

    def __repr__(self) -> str:
        return f"<Op {self.name}>"


_CO_VARARGS, _CO_VARKEYWORDS = 0x04, 0x08  # code-object flags of `*args`, `**kwargs`


def defop(
    name: str,
    forward: Callable,
    *,
    residuals: Sequence[str] = (),
    view: bool = False,
    backward: Callable | None = None,
    formula: str | dict | None = None,
    double_backward: bool = True,
    **rules: Callable,
) -> Op:
    """Define a primitive. One rule per input (the whole definition of multiplication)::

        mul = defop("mul", lambda xp, a, b: a * b,
                    a=lambda g, b: g * b,   # d(a*b)/da = b
                    b=lambda g, a: g * a)   # d(a*b)/db = a

    or, for a fused op whose inputs' gradients share work, one `backward` rule that returns a
    tuple with every input's gradient (None where not needed; `needs_input_grad` says which
    are) and `formula={input: text}`. `double_backward=False` marks an op whose rules only run
    on arrays (listed in docs/double-backward.md): create_graph through it raises.
    """
    return Op(
        name,
        forward,
        rules,
        residuals=residuals,
        view=view,
        backward=backward,
        formula=formula,
        double_backward=double_backward,
    )


# --- 3. nodes and recording -------------------------------------------------------------------


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
        "__weakref__",
    )
    _is_node = True  # an edge to another node, not to a leaf Tensor (see Tensor._is_node)

    def __init__(self, op, next, params, saved, shapes, versions):
        self.op = op
        self.next = next  # per input: Node, leaf Tensor, or None (no gradient needed)
        self.params = params
        self.saved = saved  # name -> saved value; None once released by backward
        self.shapes = shapes  # per input: its shape, to sum its gradient down to
        self.versions = versions  # ((name, version counter, value at save time), ...)
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

    def check_saved(self) -> None:
        """Raise PyTorch's errors when what the rules read was freed or modified in place."""
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

    def input_grads(self, g, create_graph: bool) -> list:
        """Apply the op's rules to the output gradient `g`: one gradient (or None) per input."""
        if self.saved is None or self.versions:
            self.check_saved()
        op = self.op
        if create_graph and not op.double_backward:
            raise RuntimeError(
                f"{self.name()} is not differentiable twice (no double backward): {op.name}'s "
                f"backward works on arrays only (see docs/double-backward.md), so "
                f"create_graph=True cannot pass it"
            )
        values = self._rule_values(g, create_graph)
        if op.backward is not None:  # one rule for all inputs
            values[NEEDS] = tuple(source is not None for source in self.next)
            grads = op.backward(*[values[name] for name in op.backward_reads])
            if len(grads) != len(self.next):
                raise RuntimeError(
                    f"the backward rule of {op.name!r} returned {len(grads)} gradients for "
                    f"{len(self.next)} inputs"
                )
            return [None if source is None else gi for source, gi in zip(self.next, grads)]
        grads = []
        for i, source in enumerate(self.next):
            k = 0 if op.variadic else i
            rule = op.rules[k]
            if source is None or rule is None:
                grads.append(None)
            else:
                values[INPUT_INDEX] = i
                grads.append(rule(*[values[name] for name in op.reads[k]]))
        return grads

    def _rule_values(self, g, create_graph: bool) -> dict:
        """Everything a rule may read, by name: arrays, or Tensors when recording backward."""
        if not create_graph:
            return {**self.params, **self.saved, NAMESPACE: _BACKENDS[type(g)].xp, OUTPUT_GRAD: g}
        values = {name: self._saved_tensor(name, value) for name, value in self.saved.items()}
        return {**self.params, **values, NAMESPACE: graph_namespace, OUTPUT_GRAD: g}

    def _saved_tensor(self, name: str, value):
        """A saved array as a Tensor that carries its place in the graph (for double backward)."""
        op = self.op
        if name == OUTPUT:
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
        if source._is_node:
            return Tensor._make(value, True, source)
        return source  # a leaf: the very tensor, so second-order grads reach its .grad

    def release(self) -> None:
        """Free the saved arrays after backward ran this node (kept under retain_graph).

        A node that saved only metadata (shapes, dtypes) keeps it: as in PyTorch, running
        backward through `sum` twice is allowed, through `mul` it is not."""
        saved = self.saved
        if saved and not saved.keys() <= self.op.metadata:
            self.saved = None


def _modified_error(node, name: str, now: int, expected: int) -> RuntimeError:
    return RuntimeError(
        f"one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: '{name}', saved by {node.name()}, is at version {now}; expected version "
        f"{expected} instead. Hint: use an out-of-place op (x = x * 2 rather than x *= 2), or "
        f"clone() the tensor before modifying it."
    )


def apply(op: Op, inputs: Sequence, params: dict) -> Any:
    """Run `op` on Tensors; record a Node when grad mode is on and some input needs a gradient."""
    if op.fast_apply is not None:  # the steps of _apply, generated for this op (minigrad/_fast.py)
        return op.fast_apply(inputs, params)
    return _apply(op, inputs, params)


def _apply(op: Op, inputs: Sequence, params: dict) -> Any:
    arrays = []
    mask = 0  # bit k set: input k requires grad
    array_type = type(inputs[0]._data)
    for k, t in enumerate(inputs):
        if type(t._data) is not array_type:
            raise RuntimeError(
                f"Expected all tensors to be on the same device, but found at least two "
                f"devices, {inputs[0].device} and {t.device}! (in {op.name})"
            )
        arrays.append(t._data)
        if t.requires_grad:
            mask |= 1 << k
    backend = _BACKENDS[array_type]
    if len(arrays) > 1 and array_type in MULTI_DEVICE_TYPES:
        backend.check_devices(arrays, op.name)
    result = op.forward(backend.xp, *arrays, **params)
    residuals = ()
    if op.residuals:
        result, *residuals = result
    record = mask != 0 and mode.grad_enabled
    out = Tensor._make(result, record)
    if op.view:
        base = inputs[0]
        out._vc = base._vc  # a view shares its base's version counter, as in PyTorch
        root = getattr(base, "_base", None)
        out._base = base if root is None else root
    if record:
        out.grad_fn = _record(op, inputs, arrays, params, out, residuals, mask)
    return out


def _record(op: Op, inputs, arrays, params, out, residuals, mask: int) -> Node:
    """The Node of one op application: what its rules will read, and where gradients go."""
    saved = {}
    versions = []  # saved tensors' version counters: an in-place change later is an error
    for name, kind, k in op.plan(mask):
        if kind == "input":
            saved[name] = arrays[k]
            versions.append((name, inputs[k]._vc, inputs[k]._vc[0]))
        elif kind == "inputs":
            saved[name] = tuple(arrays)
            versions.extend((name, t._vc, t._vc[0]) for t in inputs)
        elif kind == "out":
            saved[name] = out._data
            versions.append((name, out._vc, out._vc[0]))
        elif kind == "shape":
            saved[name] = arrays[k].shape
        elif kind == "dtype":
            saved[name] = arrays[k].dtype
        elif kind == "device":
            saved[name] = _BACKENDS[type(arrays[k])].device_of(arrays[k])
        elif kind == "shapes":
            saved[name] = tuple(a.shape for a in arrays)
        else:  # a residual of the forward
            saved[name] = residuals[k]
    if _inference_used:
        _refuse_inference_tensors(inputs, op)
    # where each input's gradient goes: its own Node, the leaf itself, or nowhere (see _edge)
    next = tuple(
        [t.grad_fn if t.grad_fn is not None else (t if t.requires_grad else None) for t in inputs]
    )
    shapes = tuple([a.shape for a in arrays])
    node = Node(op, next, params, saved, shapes, tuple(versions))
    if _anomaly_contexts and mode.anomaly:
        node.where = _forward_site()
    _count_for_gc(node)
    for observer in record_observers:
        observer(node)
    return node


# Every SAMPLE-th recorded node goes to minigrad._gc, which spaces out the cyclic garbage
# collector's full collections while a large graph is alive (why: see that module).
_until_gc_sample = _gc.SAMPLE


def _count_for_gc(node) -> None:
    global _until_gc_sample
    _until_gc_sample -= 1
    if _until_gc_sample <= 0:  # a race between threads only moves the next sample
        _until_gc_sample = _gc.SAMPLE
        _gc.sample(node)


def _edge(t):
    """Where input `t`'s gradient goes: its own Node, the leaf itself, or nowhere."""
    if t.grad_fn is not None:
        return t.grad_fn
    return t if t.requires_grad else None


def _refuse_inference_tensors(inputs, op: Op) -> None:
    if any(getattr(t, "_inference", False) for t in inputs):
        raise RuntimeError(
            f"Inference tensors cannot be saved for backward (in {op.name}). Please do not use "
            f"Tensors created in inference mode in computation tracked by autograd. To work "
            f"around this, you can make a clone to get a normal tensor and use it in autograd, "
            f"or use `minigrad.no_grad()` instead of `minigrad.inference_mode()`."
        )


# Callables `observer(node)` run after each Node is recorded (viz.record_modules uses this to
# tell which module call created which node).
record_observers: list = []


def _forward_site() -> str:
    import traceback

    # Skip minigrad's own files and the op code _fast.py generates ("<minigrad._fast ...>").
    frames = [
        f
        for f in traceback.extract_stack()[:-3]
        if "/minigrad/" not in f.filename.replace("\\", "/")
        and not f.filename.startswith("<minigrad")
    ]
    frame = frames[-1] if frames else traceback.extract_stack()[-4]
    return f'File "{frame.filename}", line {frame.lineno}, in {frame.name}\n    {frame.line}'


# --- 4. backward ------------------------------------------------------------------------------


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


def _as_array(g):
    """NumPy turns 0-d arithmetic (`g / b`) into a scalar: make it an array again."""
    return g if type(g) in _BACKENDS else np.asarray(g)


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
    # 4a. Count each node's consumers: a node runs once all of them have sent their gradient.
    pending: dict = {}  # node -> consumers that have not sent their gradient yet
    grads: dict = {}  # node -> gradient of its output, summed so far
    leaf_grads: dict = {}  # leaf Tensor -> gradient summed so far
    stack = []
    for root, g in zip(roots, root_grads):
        node = root.grad_fn
        if node is None:
            leaf_grads[root] = _add(leaf_grads.get(root), g)
        elif node in pending:
            grads[node] = _add(grads[node], g)
        else:
            pending[node] = 0
            grads[node] = g
            stack.append(node)
    while stack:
        for source in stack.pop().next:
            if source is None or not source._is_node:  # a leaf (Parameter too)
                continue
            if source in pending:
                pending[source] += 1
            else:
                pending[source] = 1
                stack.append(source)

    # Arrays the engine does not own (the caller's gradient, and anything passed through
    # unchanged by add/expand/...): a leaf's .grad must never share memory with them.
    borrowed: dict = {}
    for g in root_grads:
        _borrow(borrowed, g)
    capture = None
    if inputs is not None:
        capture = {_graph_key(t): None for t in inputs}
    tracer = mode.tracer
    anomaly = mode.anomaly
    ready = [node for node, count in pending.items() if count == 0]
    previous_mode = mode.grad_enabled
    mode.grad_enabled = create_graph  # under create_graph the backward pass is recorded
    try:
        # 4b. Run the nodes in dependency order (Kahn's algorithm).
        while ready:
            node = ready.pop()
            del pending[node]
            g = grads.pop(node, None)  # every consumer has run: nothing will add to it again
            input_grads = [None] * len(node.next)
            if g is not None:
                if not create_graph:
                    g = _as_array(g)
                if node.hooks:
                    g = _run_hooks(node.hooks, g, create_graph)
                if node.retained is not None:
                    _retain(node.retained(), g, create_graph)
                if capture is not None and node in capture:
                    capture[node] = g
                if tracer is not None:
                    tracer._start(node, g)
                input_grads = node.input_grads(g, create_graph)
                if anomaly:
                    _check_finite(node, input_grads)
            # 4c. Hand each input gradient on, summed to the input's shape; release consumers.
            passed_through = False
            for source, gi, shape in zip(node.next, input_grads, node.shapes):
                if source is None:
                    continue
                if gi is not None:
                    if gi is g and not passed_through:  # the rule passed g on unchanged
                        passed_through = True
                        _borrow(borrowed, g, create_graph)
                    if gi.shape != shape:
                        xp = graph_namespace if create_graph else _BACKENDS[type(gi)].xp
                        gi = sum_to(xp, gi, shape)
                    if not source._is_node:
                        leaf_grads[source] = _add(leaf_grads.get(source), gi)
                        continue
                    grads[source] = _add(grads.get(source), gi)
                elif not source._is_node:
                    continue
                pending[source] -= 1
                if pending[source] == 0:
                    ready.append(source)
            if tracer is not None and g is not None:
                tracer._end(node, input_grads)
            if not retain_graph:
                node.release()

        # 4d. Leaves: run their hooks on the summed gradient, then accumulate or capture.
        for leaf, g in leaf_grads.items():
            if not create_graph:
                g = _as_array(g)
            if leaf._hooks:
                g = _run_hooks(leaf._hooks, g, create_graph)
            if tracer is not None:
                tracer._leaf(leaf, g)
            if capture is not None:
                if leaf in capture:
                    capture[leaf] = g if create_graph else _owned(g, borrowed)
            else:
                _accumulate(leaf, g, create_graph, borrowed)
    finally:
        mode.grad_enabled = previous_mode

    if capture is None:
        return None
    results = []
    for k, t in enumerate(inputs):
        g = capture[_graph_key(t)]
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


def _graph_key(t):
    """The place of tensor `t` in the graph, where its gradient is captured."""
    return t.grad_fn if t.grad_fn is not None else t


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


_SMALL = 65536  # bytes: a borrowed array up to this size is held until backward ends


def _borrow(borrowed: dict, g, create_graph: bool = False) -> None:
    """Remember `g` and the array it views (NumPy/CuPy `.base`) as not the engine's to keep.

    By identity rather than by id(): once a borrowed array is freed, a fresh result could get
    its id and would be copied for nothing. Small arrays are simply held until backward ends;
    large ones by weak reference, so holding them never raises peak memory.
    """
    if create_graph:  # Tensors are never written in place by the engine
        return
    for a in (g, getattr(g, "base", None)):
        if a is None:
            continue
        held = a
        if getattr(a, "nbytes", 0) > _SMALL:
            with contextlib.suppress(TypeError):  # an array type without weak references
                held = _weakref(a)
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


# Several threads may run backward on their own graphs into one shared parameter: adding into
# a leaf's .grad is a read-modify-write, so it holds this lock (one per process: it is short).
_accumulate_lock = threading.Lock()


def _accumulate(leaf, g, create_graph: bool, borrowed: dict | None = None) -> None:
    """Add `g` into `leaf.grad` (in place, as PyTorch, when the buffer allows), then run the
    leaf's post-accumulate-grad hooks."""
    with _accumulate_lock:
        if create_graph:
            leaf.grad = g if leaf.grad is None else leaf.grad + g
        elif leaf.grad is None:
            leaf.grad = Tensor._make(_owned(g, borrowed or {}))
        else:
            data = leaf.grad._data
            if _writeable(data) and data.shape == g.shape and data.dtype == g.dtype:
                data += g
                leaf.grad._vc[0] += 1
            else:
                leaf.grad._data = data + g
    for hook in getattr(leaf, "_post_accumulate_hooks", None) or ():
        if hook(leaf) is not None:  # as torch: these hooks observe, they cannot replace .grad
            raise TypeError(
                f"post accumulate grad hooks cannot return anything, but hook {hook!r} returned "
                f"a value"
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
        data = gi._data if isinstance(gi, Tensor) else _as_array(gi)
        xp = _BACKENDS[type(data)].xp
        if not bool(xp.all(xp.isfinite(data))):
            op = node.op
            if op is None:  # a custom Function: its inputs have no names
                which = f"input {k}"
            else:
                which = f"input '{op.input_names[0 if op.variadic else k]}'"
            where = f"\nThe op was created in forward at:\n  {node.where}" if node.where else ""
            raise RuntimeError(
                f"Function '{node.name()}' returned nan or inf values in its {k}th output "
                f"(the gradient of {which}).{where}"
            )


# --- 5. public API: backward, grad, anomaly mode, Function ------------------------------------


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


def _inputs_list(inputs, caller: str) -> list:
    """`inputs` as a list: one tensor, a sequence, or a dict (its values, as torch)."""
    if type(inputs) is dict:
        return list(inputs.values())
    if isinstance(inputs, Mapping):
        raise TypeError(
            f"`inputs` argument to `{caller}()` must be a dict, not {type(inputs).__name__}. "
            "Other Mapping types are not supported."
        )
    wanted = _as_list(inputs)
    if not wanted:
        raise RuntimeError(f"`inputs` argument to `{caller}()` cannot be empty.")
    return wanted


def backward(
    tensors,
    grad_tensors=None,
    retain_graph=None,
    create_graph=False,
    grad_variables=None,
    inputs=None,
) -> None:
    """`mg.autograd.backward`: accumulate d(tensors)/d(leaves) into the leaves' `.grad`
    (`grad_variables`: torch's deprecated name of `grad_tensors`)."""
    if grad_variables is not None:
        warnings.warn("`grad_variables` is deprecated. Use `grad_tensors` instead.",
                      FutureWarning, stacklevel=2)  # fmt: skip
        if grad_tensors is not None:
            raise RuntimeError(
                "`grad_tensors` and `grad_variables` (deprecated) arguments both passed to "
                "`backward()`. Please only use `grad_tensors`."
            )
        grad_tensors = grad_variables
    wanted = None if inputs is None else _inputs_list(inputs, "backward")
    outputs = _as_list(tensors)
    roots = _root_grads(outputs, _as_list(grad_tensors), create_graph)
    if retain_graph is None:
        retain_graph = create_graph
    if wanted is None:
        run_backward(outputs, roots, retain_graph=retain_graph, create_graph=create_graph)
        return
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


def grad(
    outputs,
    inputs,
    grad_outputs=None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    only_inputs: bool = True,
    allow_unused: bool | None = None,
    is_grads_batched: bool = False,
    materialize_grads: bool = False,
):
    """Gradients of `outputs` with respect to `inputs`, returned rather than stored in `.grad`
    (a dict of them when `inputs` is a dict).

    With `create_graph=True` the results are part of a graph themselves (gradient penalties,
    Hessian-vector products). `is_grads_batched`: each grad_output has a leading batch dim and
    the gradients come back stacked along it (one vector-Jacobian product per row, as torch's
    vmap gives). `materialize_grads`: zeros rather than None for unused inputs. `only_inputs`
    is torch's deprecated, ignored flag.
    """
    if materialize_grads and allow_unused is False:
        raise ValueError(
            "Expected allow_unused to be True or not passed when materialize_grads=True, "
            "but got: allow_unused=False."
        )
    if allow_unused is None:
        allow_unused = materialize_grads
    if not only_inputs:
        warnings.warn(
            "only_inputs argument is deprecated and is ignored now (defaults to True). To "
            "accumulate gradient for other parts of the graph, please use "
            "torch.autograd.backward.",
            FutureWarning,
            stacklevel=2,
        )
    outs = _as_list(outputs)
    ins = _inputs_list(inputs, "grad")
    for k, t in enumerate(ins):
        if not t.requires_grad:
            raise RuntimeError(
                f"One of the differentiated Tensors (input {k}) does not require grad"
            )
    if retain_graph is None:
        retain_graph = create_graph
    upstream = _as_list(grad_outputs)
    if is_grads_batched:
        grads = _batched_grads(outs, ins, upstream, retain_graph, create_graph, allow_unused)
    else:
        roots = _root_grads(outs, upstream, create_graph)
        grads = run_backward(
            outs,
            roots,
            retain_graph=retain_graph,
            create_graph=create_graph,
            inputs=ins,
            allow_unused=allow_unused,
        )
    if materialize_grads:
        from minigrad.creation import zeros_like

        grads = [zeros_like(t) if g is None else g for t, g in zip(ins, grads)]
    if type(inputs) is dict:
        return dict(zip(inputs.keys(), grads))
    return tuple(grads)


def _batched_grads(outs, ins, upstream, retain_graph, create_graph, allow_unused) -> list:
    """grad(is_grads_batched=True): one backward per row of the grad_outputs, stacked."""
    from minigrad.ops.shape import stack

    if len(upstream) != len(outs) or any(u is None for u in upstream):
        raise RuntimeError("autograd.grad(is_grads_batched=True) needs a grad_output per output")
    sizes = {u.shape[0] if u.ndim else None for u in upstream}
    if len(sizes) != 1 or None in sizes:
        raise RuntimeError(
            f"If `is_grads_batched=True`, every grad_output must have one leading batch "
            f"dimension of one size, got shapes {[list(u.shape) for u in upstream]}"
        )
    (batch,) = sizes
    rows = []
    for i in range(batch):
        roots = _root_grads(outs, [u[i] for u in upstream], create_graph)
        rows.append(
            run_backward(
                outs,
                roots,
                retain_graph=retain_graph or i < batch - 1,
                create_graph=create_graph,
                inputs=ins,
                allow_unused=allow_unused,
            )
        )
    stacked = []
    for k, t in enumerate(ins):
        column = [row[k] for row in rows]
        if any(g is None for g in column):
            stacked.append(None)
        else:
            stacked.append(stack(column) if column else t.new_zeros((0, *t.shape)))
    return stacked


class detect_anomaly(contextlib.ContextDecorator):
    """Record where each op was created; backward then names the first op whose gradient is
    NaN/inf and that forward line (PyTorch's anomaly mode). Slows every op: debugging only."""

    def __init__(self, check_nan: bool = True):
        self.check_nan = check_nan

    def __enter__(self):
        global _anomaly_contexts
        with _anomaly_lock:
            _anomaly_contexts += 1
        mode.stack.append(mode.anomaly)
        mode.anomaly = self.check_nan
        return self

    def __exit__(self, *exc):
        global _anomaly_contexts
        mode.anomaly = mode.stack.pop()
        with _anomaly_lock:
            _anomaly_contexts -= 1
        return False


# Open detect_anomaly contexts in any thread: while 0, recording skips the thread-local
# mode.anomaly lookup.
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
        node = FunctionNode(
            None,
            next=tuple(_edge(t) for t in tensors),
            params={},
            saved={},
            shapes=tuple(t.shape for t in tensors),
            versions=tuple((str(k), t._vc, t._vc[0]) for k, t in enumerate(ctx._saved)),
        )
        node.function = cls
        node.ctx = ctx
        if _anomaly_contexts and mode.anomaly:
            node.where = _forward_site()
        _count_for_gc(node)
        out.grad_fn = node
        return out


from minigrad._trace import trace  # noqa: E402, F401  (mg.autograd.trace(): records backward steps)

"""Drawing the computation graph: `draw` (a graphviz.Digraph), `to_dot` (DOT text, no graphviz
needed), `record_modules` (which nn.Module call made which op), and the gradient-rule text shown
on op nodes and in docs/rules.md, read from the rule definitions themselves.

The picture has two kinds of nodes, as in a textbook graph: data nodes (boxes: leaves,
intermediate results, the output) and op nodes (ellipses: the primitive and its local gradient
rule). Edges point forward, input -> op -> output; gradients flow against them.

What a data node can show depends on what the graph still holds, because a recorded `Node` keeps
only what its rules read (see minigrad/autograd.py):

- leaves and the output tensor: always their value, and `.grad` once backward has run;
- an intermediate's value: from the rule that saved it (`out`, or a consumer's saved input) while
  the graph is alive, from a `retain_grad()` tensor, or from a `trace` of the backward pass
  (the tracer copies references to saved values before the engine frees them);
- an intermediate's gradient: from `retain_grad()` or from `trace=` (every node's output grad).

    with mg.autograd.trace() as tr:
        loss.backward()
    mg.viz.draw(loss, trace=tr).render("graph", format="svg")   # numbers = backward order
"""

from __future__ import annotations

import contextlib
import itertools
import sys
import warnings
import weakref
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from minigrad import autograd
from minigrad._rule_source import _short_path, rule_parts
from minigrad.autograd import FunctionNode, Node, Op
from minigrad.backend import to_host
from minigrad.tensor import Tensor

__all__ = [
    "backprop",
    "to_html",
    "draw",
    "to_dot",
    "record_modules",
    "rule_text",
    "rules_markdown",
    "GraphvizNotFound",
    "MAX_NODES",
]

SMALL = 8  # tensors with at most this many elements are shown in full
MAX_NODES = 2000  # above this many drawn nodes: warn and drop values (dot layout gets slow)
AUTO_VALUES_NODES = 300  # show_values="auto" shows values on graphs up to this many data nodes

# Roles: fill colours (colour-blind safe-ish pastel pairs) and the legend's words.
COLORS = {
    "input": "#cfe2f3",  # leaves that are not parameters (data, user tensors)
    "param": "#d9ead3",  # named / nn.Parameter leaves
    "const": "#eeeeee",  # inputs that need no gradient (targets, masks)
    "inter": "#ffffff",  # intermediate results
    "output": "#ffe599",  # the tensor drawn (the loss)
    "op": "#e4dcf1",
    "module": "#fce5cd",
}
BAD = "#cc0000"  # NaN/inf
HIGHLIGHT = "#d6336c"


class GraphvizNotFound(RuntimeError):
    """Raised by `render` when the graphviz `dot` program is missing (the .dot file is written)."""


# --- gradient rules as text, from their definitions ------------------------------------------


@dataclass
class RuleText:
    """One input's gradient rule: `math` (the rule's expression, tidied), `comment` (the formula
    comment on its line in the source), `where` (file:line)."""

    input: str
    math: str
    comment: str = ""
    where: str = ""


def rule_text(op: Op) -> list[RuleText]:
    """The gradient rule of every differentiable input of `op`: the rule's expression read from
    the very `defop(...)` call that defines it (so a picture or a doc can never disagree with
    the code) and its formula, `op.formula(input)`."""
    parts = rule_parts(op)
    out = []
    for name in op.differentiable:
        if op.backward is not None:  # one rule returns every input's gradient
            math_text, _, where = parts.get("backward", ("", "", ""))
            math_text = math_text or f"{op.backward.__name__}(…)"
        else:
            math_text, _, where = parts[name]
        if not math_text:  # defined in a way we cannot read: name what the rule reads
            reads = op.reads[op.input_names.index(name)]
            math_text = f"f({', '.join(a for a in reads if a != 'xp')})"
        out.append(RuleText(name, math_text, op.formula(name), where))
    return out


def _rule_lines(op: Op, limit: int = 44) -> list[str]:
    lines = []
    for r in rule_text(op):
        text = r.math if len(r.math) <= limit or not r.comment else r.comment
        if len(text) > limit:
            text = text[: limit - 1] + "…"
        lines.append(f"∂{r.input} = {text}")
    return lines


def all_ops() -> list[Op]:
    """Every Op defined in a loaded minigrad module, in definition order."""
    found, seen = [], set()
    for modname, module in sorted(sys.modules.items()):
        if not (modname == "minigrad" or modname.startswith("minigrad.")) or module is None:
            continue
        for value in list(vars(module).values()):
            if isinstance(value, Op) and id(value) not in seen:
                seen.add(id(value))
                found.append((modname, value))
    return [op for _, op in found]


def rules_markdown() -> str:
    """docs/rules.md: every primitive's gradient rules, generated from their definitions."""
    import importlib
    import pkgutil

    import minigrad

    # Load every minigrad module, so the page does not depend on what happens to be imported.
    for info in pkgutil.walk_packages(minigrad.__path__, "minigrad."):
        if info.name.startswith(("minigrad.testing", "minigrad.cuda")):
            continue
        with contextlib.suppress(Exception):
            importlib.import_module(info.name)
    groups: dict = {}
    for op in all_ops():
        code = getattr(op.forward, "__code__", None)
        groups.setdefault(_short_path(code.co_filename) if code else "?", []).append(op)
    out = [
        "# Gradient rules of every primitive",
        "",
        "Generated by `minigrad.viz.rules_markdown()` from the `defop(...)` definitions",
        "(the same text the graph drawings show on op nodes); `tests/test_docs.py` fails if",
        "this page is stale. `g` is the gradient of the op's output, `out` its output; the",
        "engine sums each result down to its input's shape (broadcasting's backward), so rules",
        "never do.",
        "",
        "The rule contract (checked by `defop` when the op is defined): a rule's parameters say",
        "what it reads, from `g`, `xp` (the array namespace), `out`, an input by name or its",
        "`_shape`/`_dtype`/`_device`, `i` (the input's index, for variadic ops), a param of the",
        "forward, a residual. A fused op may give one `backward=` rule that returns every input's",
        "gradient (it may also read `needs_input_grad`). The formula column is",
        "`Op.formula(input)`: the `formula=` text or the comment on the rule's line.",
        "",
    ]
    for path in sorted(groups):
        out += [
            f"## `{path}`",
            "",
            "| op | input | rule | formula | defined at |",
            "|---|---|---|---|---|",
        ]
        for op in groups[path]:
            rules = rule_text(op)
            if not rules:
                out.append(f"| `{op.name}` | – | no gradient | | |")
            for r in rules:
                math_text = r.math.replace("|", "\\|")
                comment = r.comment.replace("|", "\\|")
                out.append(f"| `{op.name}` | `{r.input}` | `{math_text}` | {comment} | {r.where} |")
        out.append("")
    return "\n".join(out)


# --- module recording --------------------------------------------------------------------------


@dataclass
class _Call:
    index: int
    name: str  # dotted path from the outermost module ("layers.0.attn"), or the class name
    type: str
    depth: int
    parent: _Call | None = None


class _ModuleRecorder:
    def __init__(self):
        self.node_calls: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # Node -> _Call
        self.param_names: dict = {}  # id(param) -> (weakref, name)
        self.calls: list[_Call] = []
        self.stack: list[_Call] = []
        self._names: dict = {}


_recorder: _ModuleRecorder | None = None


@contextlib.contextmanager
def record_modules():
    """Remember which `nn.Module` call created each op (and the parameters' dotted names), so
    `draw(..., collapse_modules=True)` can box each module call. Wrap the forward pass::

        with mg.viz.record_modules():
            loss = loss_fn(model(x), y)
        mg.viz.draw(loss, collapse_modules=True)

    Works through global module hooks (`nn.module.register_module_forward_pre_hook` and
    `register_module_forward_hook`) and an observer of the engine's recording, for the duration.
    """
    global _recorder
    from minigrad.nn.module import register_module_forward_hook, register_module_forward_pre_hook

    rec = _ModuleRecorder()
    previous, _recorder = _recorder, rec
    entered: list = []  # the modules whose calls are on rec.stack, innermost last

    def before(module, args):
        if not rec.stack:  # outermost call: name everything below it by its dotted path
            with contextlib.suppress(Exception):
                rec._names = {id(m): n for n, m in module.named_modules()}
                for n, p in module.named_parameters():
                    rec.param_names[id(p)] = (weakref.ref(p), n)
        parent = rec.stack[-1] if rec.stack else None
        name = rec._names.get(id(module)) or type(module).__name__
        entry = _Call(len(rec.calls), name, type(module).__name__, len(rec.stack), parent)
        rec.calls.append(entry)
        rec.stack.append(entry)
        entered.append(module)

    def after(module, args, output):  # also when the call raised (always_call)
        if entered and entered[-1] is module:
            entered.pop()
            rec.stack.pop()

    def observe(node):
        if rec.stack:
            rec.node_calls[node] = rec.stack[-1]

    handles = [register_module_forward_pre_hook(before)]
    handles.append(register_module_forward_hook(after, always_call=True))
    autograd.record_observers.append(observe)
    try:
        yield rec
    finally:
        for handle in handles:
            handle.remove()
        autograd.record_observers.remove(observe)
        _recorder = previous
        _last_recorders.append(rec)
        del _last_recorders[:-4]


_last_recorders: list[_ModuleRecorder] = []  # recent recordings, looked up by the nodes drawn


def _call_of(node) -> _Call | None:
    for rec in reversed(_last_recorders):
        call = rec.node_calls.get(node)
        if call is not None:
            return call
    return None


def _recorded_param_name(t) -> str | None:
    for rec in reversed(_last_recorders):
        entry = rec.param_names.get(id(t))
        if entry is not None and entry[0]() is t:
            return entry[1]
    return None


# --- walking the graph -------------------------------------------------------------------------


@dataclass
class _Item:
    """One drawn node."""

    id: str
    kind: str  # "op", "data", "leaf", "const", "module"
    role: str  # a COLORS key
    node: Any = None  # the Node (op/data), the leaf Tensor, or the consumer Node (const)
    shape: tuple | None = None
    value: Any = None
    grad: Any = None
    dtype: Any = None
    name: str = ""
    order: int | None = None
    grad_state: str = "none yet"
    extra: list = field(default_factory=list)


class _Graph:
    def __init__(self, roots: list, params: dict | None, trace):
        self.items: dict[str, _Item] = {}
        self.edges: list[tuple[str, str, str]] = []  # (from, to, label), forward direction
        self.trace = trace
        names: dict = {}
        for n, t in (params or {}).items():
            names[id(t)] = n
            if isinstance(t, Tensor) and t.grad_fn is not None:
                names[id(t.grad_fn)] = n
        self.names = names
        self.node_ids: dict = {}  # Node -> k
        counter = itertools.count()
        order = {}
        self.steps: dict = {}  # id(Node or leaf) -> its (last) trace Step
        if trace is not None:
            order = {id(s.node): s.index for s in trace.steps}
            self.steps = {id(s.node): s for s in trace.steps}
        self.order = order
        producer_of: dict = {}  # data id -> Node
        out_shapes: dict = {}  # Node -> output shape (from a consumer's record of its input shapes)
        saved_values: dict = {}  # Node -> value a consumer saved
        stack = []
        for root in roots:
            if root.grad_fn is None:
                k = next(counter)
                self._leaf_item(f"t{k}", root, role="output")
                self.node_ids[id(root)] = f"t{k}"
                continue
            node = root.grad_fn
            if node not in self.node_ids:
                self.node_ids[node] = next(counter)
                stack.append(node)
            out_shapes[node] = tuple(root.shape)
        self.leaf_ids: dict = {}
        # Iterative depth-first walk: a 10,000-deep chain must not recurse.
        visit_order = []
        while stack:
            node = stack.pop()
            visit_order.append(node)
            k = self.node_ids[node]
            op = node.op
            saved = node.saved or {}
            for i, source in enumerate(node.next):
                if op is not None:
                    input_name = op.input_names[0 if op.variadic else i]
                else:
                    input_name = f"{i}"
                if isinstance(source, Node):
                    if source not in self.node_ids:
                        self.node_ids[source] = next(counter)
                        stack.append(source)
                    out_shapes.setdefault(source, tuple(node.shapes[i]))
                    if op is not None and input_name in saved and source not in saved_values:
                        value = saved[input_name]
                        saved_values[source] = value[i] if op.variadic else value
                    src = f"v{self.node_ids[source]}"
                elif isinstance(source, Tensor):
                    src = self.leaf_ids.get(id(source))
                    if src is None:
                        src = f"t{next(counter)}"
                        self.leaf_ids[id(source)] = src
                        self._leaf_item(src, source, role=None)
                else:  # an input that needs no gradient: a constant for this graph
                    src = f"c{k}_{i}"
                    value = saved.get(input_name) if op is not None else None
                    if op is not None and op.variadic and value is not None:
                        value = value[i]
                    self.items[src] = _Item(
                        src,
                        "const",
                        "const",
                        node,
                        tuple(node.shapes[i]),
                        value=value,
                        dtype=getattr(value, "dtype", None),
                        name="constant",
                    )
                multi = len(node.next) > 1
                self.edges.append((src, f"op{k}", input_name if multi else ""))
        # Has a backward pass been through here? (a leaf got .grad, or a node freed its values)
        self.backward_ran = (
            trace is not None
            or any(n.saved is None for n in visit_order)
            or any(i.kind == "leaf" and i.grad is not None for i in self.items.values())
        )
        # Op and data items, now that every output shape is known.
        root_nodes = {id(r.grad_fn): r for r in roots if r.grad_fn is not None}
        for node in visit_order:
            k = self.node_ids[node]
            self.items[f"op{k}"] = _Item(f"op{k}", "op", "op", node, order=order.get(id(node)))
            root = root_nodes.get(id(node))
            data = _Item(f"v{k}", "data", "output" if root is not None else "inter", node)
            data.shape = out_shapes.get(node)
            producer_of[data.id] = node
            self._fill_data(data, node, root, saved_values.get(node))
            self.items[data.id] = data
            self.edges.append((f"op{k}", data.id, ""))
        self._infer_dtypes(visit_order)

    def _leaf_item(self, item_id: str, t: Tensor, role: str | None) -> None:
        name = self.names.get(id(t)) or _recorded_param_name(t) or t.name or ""
        if role is None:
            named = id(t) in self.names or _recorded_param_name(t) is not None
            role = "param" if named or type(t).__name__ == "Parameter" else "input"
        item = _Item(
            item_id, "leaf", role, t, tuple(t.shape), value=t._data, dtype=t.dtype, name=name
        )
        if t.grad is not None:
            item.grad, item.grad_state = t.grad, "set"
        elif self.trace is not None and id(t) in self.trace.leaf_grads:
            item.grad, item.grad_state = self.trace.leaf_grads[id(t)], "set"
        item.order = self.order.get(id(t))
        self.items[item_id] = item

    def _fill_data(self, data: _Item, node, root, saved_value) -> None:
        retained = node.retained() if node.retained is not None else None
        tensor = root if root is not None else retained
        data.name = (
            self.names.get(id(node))
            or (tensor.name if tensor is not None else None)
            or (retained.name if retained is not None else None)
            or ""
        )
        trace = self.trace
        if tensor is not None:
            data.value = tensor._data
        elif trace is not None and node in trace.values:
            data.value = trace.values[node]
        elif node.saved and "out" in node.saved:
            data.value = node.saved["out"]
        elif saved_value is not None:
            data.value = saved_value
        if tensor is not None and tensor.grad is not None:
            data.grad, data.grad_state = tensor.grad, "set"
        elif trace is not None and node in trace.grads:
            data.grad, data.grad_state = trace.grads[node], "set"
        elif self.backward_ran:
            data.grad_state = "not kept (retain_grad() or trace=)"
        if data.value is not None:
            data.dtype = data.value.dtype
        elif data.grad is not None:
            data.dtype = getattr(data.grad, "dtype", None)

    def _infer_dtypes(self, visit_order: list) -> None:
        # Outputs of ops whose value is gone: the dtype of their inputs (ops keep dtypes; a cast
        # says its own). Producers come later in the visit order, so go from the end.
        for node in reversed(visit_order):
            data = self.items[f"v{self.node_ids[node]}"]
            if data.dtype is not None:
                continue
            if node.op is not None and "dtype" in node.params:
                data.dtype = np.dtype(node.params["dtype"]) if node.params["dtype"] else None
                continue
            for source in node.next:
                if isinstance(source, Node):
                    dt = self.items[f"v{self.node_ids[source]}"].dtype
                elif isinstance(source, Tensor):
                    dt = source.dtype
                else:
                    dt = None
                if dt is not None:
                    data.dtype = dt
                    break


# --- labels -----------------------------------------------------------------------------------


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def _describe(array, show_value: bool) -> tuple[list[str], bool]:
    """Lines describing an array (full when small, else a summary), and whether it has NaN/inf."""
    a = to_host(array)
    if a.dtype.kind not in "fciub":
        return ([f"{a.dtype}"], False)
    bad = False
    lines = []
    if a.dtype.kind in "fc":
        nan = int(np.isnan(a).sum())
        inf = int(np.isinf(a).sum())
        if nan or inf:
            bad = True
            lines.append(
                "⚠ "
                + ", ".join(
                    p for p in (f"{nan} NaN" if nan else "", f"{inf} inf" if inf else "") if p
                )
            )
    if not show_value:
        return lines, bad
    if a.size <= SMALL:
        if a.ndim == 0:
            lines.insert(0, _fmt(a.item()) if a.dtype.kind in "fc" else str(a.item()))
        else:
            lines[:0] = _nested(a.tolist(), a.dtype.kind in "fc").split("\n")
        return lines, bad
    finite = a[np.isfinite(a)] if a.dtype.kind in "fc" else a
    if finite.size == 0:
        return lines, bad
    f = finite.astype(np.float64, copy=False)
    lines[:0] = [
        f"mean {_fmt(f.mean())}  std {_fmt(f.std())}",
        f"min {_fmt(f.min())}  max {_fmt(f.max())}  ‖·‖ {_fmt(float(np.sqrt((f * f).sum())))}",
    ]
    return lines, bad


def _nested(x, is_float: bool) -> str:
    """[[1, 2], [3, 4]] with 4 significant digits, one row per line (no NumPy padding)."""
    if not isinstance(x, list):
        return _fmt(x) if is_float else str(x)
    if x and isinstance(x[0], list):
        return "[" + ",\n ".join(_nested(row, is_float) for row in x) + "]"
    return "[" + ", ".join(_nested(v, is_float) for v in x) + "]"


def _shape_text(shape, dtype) -> str:
    s = (
        "?"
        if shape is None
        else "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"
    )
    dt = "" if dtype is None else " " + str(np.dtype(dtype))
    return s + dt


def _data_label(item: _Item, show_values: bool, show_grads: bool) -> tuple[list[str], bool]:
    lines = [item.name] if item.name else []
    lines.append(_shape_text(item.shape, item.dtype))
    bad = False
    if item.value is not None:
        vlines, vbad = _describe(item.value, show_values)
        bad |= vbad
        if vlines:
            vlines[0] = (
                "value " if len(vlines) == 1 or "mean" not in vlines[0] else "value: "
            ) + vlines[0]
            lines += vlines
    elif show_values and item.kind == "data":
        lines.append("value not saved")
    if show_grads and item.kind != "const":
        if item.grad is not None:
            glines, gbad = _describe(item.grad, show_values)
            bad |= gbad
            if glines:
                glines[0] = "grad " + glines[0]
                lines += glines
            else:
                lines.append("grad ✓")
        else:
            lines.append(f"grad: {item.grad_state}")
    return lines, bad


def _op_label(item: _Item, show_saved: bool, compact: bool) -> list[str]:
    node = item.node
    if isinstance(node, FunctionNode):
        lines = [f"{node.function.__name__} (Function)", "custom backward"]
    else:
        lines = [node.op.name]
        if not compact:
            lines += _rule_lines(node.op)
    if item.order is not None:
        lines[0] = f"#{item.order}  {lines[0]}"
    if show_saved and not isinstance(node, FunctionNode):
        if node.saved is None:
            lines.append("saved: freed")
        elif node.saved:
            parts = []
            for name, value in node.saved.items():
                shape = getattr(value, "shape", None)
                parts.append(
                    f"{name} {_shape_text(tuple(shape), None)}" if shape is not None else name
                )
            lines.append("saved: " + ", ".join(parts))
        else:
            lines.append("saved: nothing")
    return lines


def _small(array) -> str | None:
    """A small array's numbers on one line ("[3, -1]"), or None when it has more than SMALL."""
    if array is None:
        return None
    a = to_host(array)
    if a.size > SMALL or a.dtype.kind not in "fciub":
        return None
    if a.ndim == 0:
        return _fmt(a.item()) if a.dtype.kind in "fc" else str(a.item())
    return _nested(a.tolist(), a.dtype.kind in "fc").replace("\n", "")


def _flow_lines(graph: _Graph, item: _Item) -> list[str]:
    """What flowed through an op in backward: the gradient arriving and the one sent to each
    input, where the tensors are small (from the trace's keep_values record)."""
    step = graph.steps.get(id(item.node))
    if step is None or not step.grads_in:
        return []
    lines = []
    g = _small(graph.trace.grads.get(item.node))
    if g is not None:
        lines.append(f"g = {g}")
    node = item.node
    names = _input_names(node)
    for name, gi in zip(names, step.grads_in):
        text = _small(gi)
        if text is not None:
            lines.append(f"→ ∂{name} = {text}")
    return lines


def _input_names(node) -> list[str]:
    """One name per input edge of `node`, as its rules call them (cat's inputs: xs[0], xs[1])."""
    op = getattr(node, "op", None)
    if op is None:
        return [str(i) for i in range(len(node.next))]
    if op.variadic:
        return [f"{op.input_names[0]}[{i}]" for i in range(len(node.next))]
    return list(op.input_names[: len(node.next)])


def _param_line(item: _Item, module_name: str) -> str:
    """A parameter inside a module box: its name (relative to the box), shape and grad norm."""
    name = item.name or "parameter"
    prefix = module_name + "."
    if name.startswith(prefix):
        name = name[len(prefix) :]
    line = f"{name} {_shape_text(item.shape, None)}"
    if item.grad is not None:
        g = to_host(item.grad).astype(np.float64, copy=False)
        line += f"  ‖grad‖ {_fmt(float(np.sqrt((g * g).sum())))}"
    return line


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _attrs(**attrs) -> str:
    return " ".join(f"{k}={_quote(str(v))}" for k, v in attrs.items() if v is not None and v != "")


# --- DOT ---------------------------------------------------------------------------------------


def _collapse(graph: _Graph, depth) -> None:
    """Replace the ops of each module call at `depth` by one box (its inner data and the
    parameters used only inside it disappear into the box)."""
    calls = {}
    for item in graph.items.values():
        if item.kind == "op":
            call = _call_of(item.node)
            if call is not None:
                calls[item.id] = call
    if not calls:
        warnings.warn(
            "collapse_modules=True: no module calls were recorded for this graph; run the "
            "forward pass inside `with mg.viz.record_modules():` to box each module",
            stacklevel=4,
        )
        return
    if depth is True:
        depth = 1 if any(c.depth >= 1 for c in calls.values()) else 0

    def group_of(call):
        while call is not None and call.depth > depth:
            call = call.parent
        return call if call is not None and call.depth == depth else None

    owner = {}  # drawn item id -> module item id
    boxes: dict = {}
    for op_id, call in calls.items():
        group = group_of(call)
        if group is None:
            continue
        box_id = f"m{group.index}"
        box = boxes.get(box_id)
        if box is None:
            box = boxes[box_id] = _Item(box_id, "module", "module", group, name=group.name)
            box.extra = [0, set()]  # op count, parameters inside
        box.extra[0] += 1
        owner[op_id] = box_id
        owner["v" + op_id[2:]] = box_id  # the op's output, unless used outside (below)
    # A data node stays visible when something outside its box uses it (or it is the output).
    users: dict = {}
    for a, b, _ in graph.edges:
        users.setdefault(a, set()).add(owner.get(b, b))
    for item_id in [i for i in owner if i.startswith("v")]:
        box_id = owner[item_id]
        outside = users.get(item_id, set()) - {box_id}
        if outside or graph.items[item_id].role == "output":
            del owner[item_id]
    for item_id, item in graph.items.items():  # leaves and constants used only inside one box
        if item.kind in ("leaf", "const") and item.role != "output":
            inside = users.get(item_id, set())
            if len(inside) == 1 and next(iter(inside)) in boxes:
                box_id = next(iter(inside))
                owner[item_id] = box_id
                if item.kind == "leaf":
                    boxes[box_id].extra[1].add(item_id)
    edges, seen = [], set()
    for a, b, label in graph.edges:
        a2, b2 = owner.get(a, a), owner.get(b, b)
        if a2 == b2:
            continue
        key = (a2, b2)
        if key in seen:
            continue
        seen.add(key)
        edges.append((a2, b2, label if (a2, b2) == (a, b) else ""))
    removed = {item_id: graph.items.pop(item_id) for item_id in owner}
    for box_id, box in boxes.items():
        parameters = sorted((removed[i] for i in box.extra[1]), key=lambda p: p.name)
        box.extra = [box.extra[0], parameters]  # op count, the parameters inside (_Items)
        graph.items[box_id] = box
    graph.edges = edges


def to_dot(
    tensor,
    *,
    show_values: bool | str = "auto",
    show_grads: bool = True,
    show_saved: bool = False,
    params: dict | None = None,
    collapse_modules: bool | int = False,
    rankdir: str = "LR",
    highlight=None,
    trace=None,
    max_nodes: int = MAX_NODES,
    show_flow: bool = False,
) -> str:
    """The graph that produced `tensor` as DOT text (no graphviz package or binary needed).
    Arguments as for `draw`."""
    return (
        "digraph minigrad {\n"
        + "".join(
            _dot_body(
                tensor,
                show_values,
                show_grads,
                show_saved,
                params,
                collapse_modules,
                rankdir,
                highlight,
                trace,
                max_nodes,
                show_flow,
            )
        )
        + "}\n"
    )


def _dot_body(
    tensor,
    show_values,
    show_grads,
    show_saved,
    params,
    collapse_modules,
    rankdir,
    highlight,
    trace,
    max_nodes,
    show_flow=False,
) -> list[str]:
    roots = list(tensor) if isinstance(tensor, (list, tuple)) else [tensor]
    for r in roots:
        if not isinstance(r, Tensor):
            raise TypeError(f"draw() expects a Tensor (or a list of them), got {type(r).__name__}")
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"rankdir must be one of LR, RL, TB, BT; got {rankdir!r}")
    if show_values not in (True, False, "auto"):
        raise ValueError(f"show_values must be True, False or 'auto'; got {show_values!r}")
    graph = _build_graph(roots, params, trace, collapse_modules)
    return _graph_lines(
        graph, show_values, show_grads, show_saved, highlight, max_nodes, show_flow, rankdir
    )


def _build_graph(roots: list, params, trace, collapse_modules) -> _Graph:
    if params is not None and not isinstance(params, dict):
        params = dict(params)  # e.g. model.named_parameters()
    graph = _Graph(roots, params, trace)
    if collapse_modules:
        _collapse(graph, collapse_modules)
    return graph


def _graph_lines(
    graph, show_values, show_grads, show_saved, highlight, max_nodes, show_flow, rankdir
) -> list[str]:
    trace = graph.trace
    n_data = sum(1 for i in graph.items.values() if i.kind != "op")
    if show_values == "auto":
        show_values = n_data <= AUTO_VALUES_NODES
    compact = len(graph.items) > max_nodes
    if compact:
        warnings.warn(
            f"the graph has {len(graph.items)} nodes (more than max_nodes={max_nodes}): drawing "
            f"without values or rules; graphviz may still take long to lay it out. Draw a "
            f"smaller part, or record the forward pass with mg.viz.record_modules() and pass "
            f"collapse_modules=True.",
            stacklevel=3,
        )
        show_values = False
    marked = _highlighted(graph, highlight)

    lines = [
        f"\tgraph [{_attrs(rankdir=rankdir, fontname='Helvetica', nodesep='0.25')}]\n",
        f"\tnode [{_attrs(fontname='Helvetica', fontsize='10', style='filled', penwidth='1')}]\n",
        f"\tedge [{_attrs(fontname='Helvetica', fontsize='9', arrowsize='0.7')}]\n",
    ]
    for item in graph.items.values():
        attrs: dict = {}
        if item.kind == "op":
            text = _op_label(item, show_saved, compact)
            if show_flow and not compact:
                text += _flow_lines(graph, item)
            attrs.update(shape="ellipse", fillcolor=COLORS["op"])
        elif item.kind == "module":
            call = item.node
            inside = item.extra[1]
            text = [
                f"{call.name}: {call.type}" if call.name != call.type else call.type,
                f"{item.extra[0]} ops, {len(inside)} parameters inside",
            ]
            text += [_param_line(p, call.name) for p in inside]
            attrs.update(shape="box3d", fillcolor=COLORS["module"])
        else:
            text, bad = _data_label(item, show_values and not compact, show_grads)
            attrs.update(shape="box", fillcolor=COLORS[item.role])
            if item.kind == "const":
                attrs.update(fontcolor="#555555", color="#999999")
            if bad:
                attrs.update(color=BAD, fontcolor=BAD, penwidth="2")
        if item.id in marked:
            attrs.update(color=HIGHLIGHT, penwidth="2.5")
        attrs["label"] = "\n".join(text)
        attrs["tooltip"] = item.role
        lines.append(f"\t{item.id} [{_attrs(**attrs)}]\n")
    for a, b, label in graph.edges:
        attrs = {}
        if label:
            attrs["label"] = label
        if trace is not None:
            step = graph.items[b].order if b in graph.items else None
            if step is not None:  # the consumer's backward step sends the gradient down this edge
                attrs["label"] = f"{label} #{step}".strip()
                attrs["fontcolor"] = "#1c5aa6"
        if a in marked and b in marked:
            attrs.update(color=HIGHLIGHT, penwidth="2.5")
        lines.append(f"\t{a} -> {b}" + (f" [{_attrs(**attrs)}]" if attrs else "") + "\n")
    return lines


def _highlighted(graph: _Graph, highlight) -> set:
    """Items on some path from the highlighted tensor(s) to the output."""
    if highlight is None:
        return set()
    targets = highlight if isinstance(highlight, (list, tuple)) else [highlight]
    starts = []
    for t in targets:
        if not isinstance(t, Tensor):
            raise TypeError(f"highlight= expects Tensors, got {type(t).__name__}")
        if t.grad_fn is not None and t.grad_fn in graph.node_ids:
            starts.append(f"v{graph.node_ids[t.grad_fn]}")
        elif id(t) in graph.leaf_ids:
            starts.append(graph.leaf_ids[id(t)])
        elif id(t) in graph.node_ids:
            starts.append(graph.node_ids[id(t)])
    forward: dict = {}
    for a, b, _ in graph.edges:
        forward.setdefault(a, []).append(b)
    marked, stack = set(starts), list(starts)
    while stack:  # everything drawn leads to the output, so reachable from t == on a t->out path
        for b in forward.get(stack.pop(), ()):
            if b not in marked:
                marked.add(b)
                stack.append(b)
    return marked


# --- graphviz --------------------------------------------------------------------------------


_INSTALL = (
    "the graphviz 'dot' program was not found on PATH, so no picture was made. The DOT text was "
    "written to {path}. Install graphviz (Debian/Ubuntu: sudo apt install graphviz; macOS: brew "
    "install graphviz; conda: conda install graphviz; Windows: winget install graphviz) or paste "
    "the DOT text into an online viewer."
)


def _digraph_class():
    try:
        import graphviz
    except ImportError as e:
        raise ImportError(
            "minigrad.viz.draw needs the graphviz Python package: pip install graphviz (or pip "
            "install minigrad[viz]). minigrad.viz.to_dot(tensor) gives the DOT text without it."
        ) from e

    class Drawing(graphviz.Digraph):
        """A graphviz.Digraph whose render() explains how to install graphviz when `dot` is
        missing (after writing the DOT text)."""

        def render(
            self, filename=None, directory=None, view=False, cleanup=False, format=None, **kwargs
        ):
            if filename is not None and directory is None:
                import os

                os.makedirs(os.path.dirname(os.fspath(filename)) or ".", exist_ok=True)
            try:
                return super().render(
                    filename,
                    directory=directory,
                    view=view,
                    cleanup=cleanup,
                    format=format,
                    **kwargs,
                )
            except graphviz.ExecutableNotFound:
                path = self.save(filename, directory=directory)
                raise GraphvizNotFound(_INSTALL.format(path=path)) from None

        def _repr_svg_(self):
            try:
                return self.pipe(format="svg", encoding="utf-8")
            except graphviz.ExecutableNotFound:
                warnings.warn(_INSTALL.format(path="(not saved)"), stacklevel=2)
                return None

        def _repr_mimebundle_(self, include=None, exclude=None, **_):
            svg = self._repr_svg_()
            return {"image/svg+xml": svg} if svg is not None else {"text/plain": self.source}

    return Drawing


def draw(
    tensor,
    *,
    show_values: bool | str = "auto",
    show_grads: bool = True,
    show_saved: bool = False,
    params: dict | None = None,
    collapse_modules: bool | int = False,
    rankdir: str = "LR",
    highlight=None,
    trace=None,
    max_nodes: int = MAX_NODES,
    show_flow: bool = False,
):
    """Draw the graph that produced `tensor` (usually the loss) as a `graphviz.Digraph`.

    - `show_values`: values (and gradients) in full when ≤ 8 elements, else mean/std/min/max/norm;
      "auto" shows them on graphs of up to 300 tensors.
    - `show_grads`: each tensor's gradient, or "grad: none yet" before backward.
    - `show_saved`: what each op node keeps for backward.
    - `params`: {name: tensor} naming leaves (e.g. `dict(model.named_parameters())`); tensors with
      a grad_fn in it name intermediates.
    - `collapse_modules`: one box per module call (forward recorded in `record_modules()`); an
      int picks the nesting depth (0 = outermost calls).
    - `highlight`: a tensor (or list) whose paths to the output are marked.
    - `trace`: a `mg.autograd.trace()` record of backward: gradients of every intermediate, and
      op nodes/edges numbered by backward order.
    - `show_flow`: with `trace`, each op also shows the numbers that flowed through it in
      backward (the gradient arriving, `g`, and what it sent to each input) for small tensors.

    `backprop(loss)` does all of this in one call (runs backward with a trace, keeps every value).

    `.render("out/graph", format="svg")` writes out/graph.svg (and the DOT text out/graph);
    Jupyter shows it inline.
    """
    body = _dot_body(
        tensor,
        show_values,
        show_grads,
        show_saved,
        params,
        collapse_modules,
        rankdir,
        highlight,
        trace,
        max_nodes,
        show_flow,
    )
    return _digraph_class()(name="minigrad", body=body)


# --- the whole story in one call ----------------------------------------------------------------


def backprop(
    loss,
    *,
    gradient=None,
    retain_graph: bool = False,
    params: dict | None = None,
    collapse_modules: bool | int = False,
    rankdir: str = "LR",
    show_saved: bool = False,
    max_nodes: int = MAX_NODES,
):
    """Run `loss.backward()` and draw everything it did: every tensor with its value and
    gradient, every op with its rule and the numbers that flowed through it (small tensors), ops
    and edges numbered in the order backward ran them. Returns the drawing (a graphviz.Digraph;
    `.trace` holds the backward record, `.render("out/graph", format="svg")` writes a picture)::

        loss = ((a * b).tanh() - 0.5).square().sum()
        mg.viz.backprop(loss).render("out/backprop", format="svg")

    Values of intermediates that no rule saves are recomputed from their inputs before backward
    frees the graph, so nothing needs `retain_grad()` or a trace to be seen.
    """
    roots = list(loss) if isinstance(loss, (list, tuple)) else [loss]
    for r in roots:
        if not isinstance(r, Tensor):
            raise TypeError(f"backprop() expects a Tensor, got {type(r).__name__}")
    if len(roots) != 1:
        raise ValueError(f"backprop() draws one output's backward pass, got {len(roots)} tensors")
    root = roots[0]
    if not root.requires_grad:
        raise RuntimeError(
            "element 0 of tensors does not require grad and does not have a grad_fn: nothing to "
            "backpropagate (make a leaf with requires_grad=True)"
        )
    from minigrad._trace import trace as _trace

    values = _forward_values(roots)
    with _trace() as record:
        record.values.update(values)
        root.backward(gradient, retain_graph=retain_graph)
    graph = _build_graph(roots, params, record, collapse_modules)
    if rankdir not in ("LR", "RL", "TB", "BT"):
        raise ValueError(f"rankdir must be one of LR, RL, TB, BT; got {rankdir!r}")
    lines = _graph_lines(graph, True, True, show_saved, None, max_nodes, True, rankdir)
    drawing = _digraph_class()(name="minigrad", body=lines)
    drawing.trace = record
    drawing.graph = graph
    return drawing


def _forward_values(roots: list) -> dict:
    """Node -> its output value (on the host), for every node whose value can still be had before
    backward frees the graph: what a rule saved as `out`, else the op's forward run again on its
    inputs' values (leaves, recovered intermediates, saved constants). Ops with residuals (random
    masks, indices) and custom Functions are not rerun: their value shows only where saved."""
    order, seen = [], set()
    stack = [(r.grad_fn, False) for r in roots if r.grad_fn is not None]
    while stack:  # iterative post-order: producers before consumers
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        if node in seen:
            continue
        seen.add(node)
        stack.append((node, True))
        stack.extend((s, False) for s in node.next if isinstance(s, Node) and s not in seen)
    raw: dict = {}
    for node in order:  # values some consumer's rule saved (its input = a producer's output)
        op, saved = getattr(node, "op", None), node.saved or {}
        if op is None:
            continue
        for i, source in enumerate(node.next):
            name = op.input_names[0 if op.variadic else i]
            if isinstance(source, Node) and name in saved:
                raw.setdefault(source, saved[name][i] if op.variadic else saved[name])
    for node in order:
        saved = node.saved or {}
        if node in raw:
            continue
        if "out" in saved:
            raw[node] = saved["out"]
            continue
        op = getattr(node, "op", None)
        if op is None or op.residuals:
            continue
        arrays = []
        for name, source in zip(_input_names(node), node.next):
            if isinstance(source, Node):
                arrays.append(raw.get(source))
            elif isinstance(source, Tensor):
                arrays.append(source._data)
            elif op.variadic:
                kept = saved.get(op.input_names[0])
                arrays.append(kept[len(arrays)] if kept is not None else None)
            else:
                arrays.append(saved.get(name))
        if any(a is None for a in arrays):
            continue
        backend = autograd._BACKENDS.get(type(arrays[0]))
        if backend is None:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                value = op.forward(backend.xp, *arrays, **(node.params or {}))
        except Exception:  # noqa: BLE001 - a value we cannot recompute is shown as not saved
            continue
        if type(value) not in autograd._BACKENDS:
            value = backend.xp.asarray(value)
        raw[node] = value
    return {node: to_host(value) for node, value in raw.items()}


def to_html(loss, path, **options) -> str:
    """Write a self-contained page (the drawing inlined as SVG, a small script, no network) that
    steps through `loss`'s backward pass one op at a time. Runs backward, as `backprop` does
    (same options). Returns the path written. See minigrad/viz_html.py."""
    from minigrad import viz_html

    return viz_html.write(loss, path, **options)

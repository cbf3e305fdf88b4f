"""`mg.autograd.trace()`: record every step of a backward pass, in the order the engine runs it.

The engine (`autograd.run_backward`) calls three methods on `mode.tracer` when one is set:
`_start(node, g)` just before a node's gradient rules run (its saved values are still alive),
`_end(node, input_grads)` once its input gradients have been passed on, and `_leaf(leaf, g)` as
each leaf receives its summed gradient. A `Trace` turns those calls into `Step`s (op, shapes,
gradient norms, time) that print as a table, and remembers each node's output gradient and, where
some rule saved it, its output value, so `minigrad.viz.draw(..., trace=tr)` can show gradients
of intermediates and number the edges in backward order.

    with mg.autograd.trace() as tr:
        loss.backward()
    print(tr)
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from minigrad import autograd
from minigrad.autograd import Node
from minigrad.backend import to_host

__all__ = ["Step", "Trace", "trace"]


def _norm(x) -> float | None:
    a = to_host(x)
    if a is None:
        return None
    if a.dtype.kind not in "fc":
        return None
    return float(np.sqrt(np.sum(np.abs(a.astype(np.float64, copy=False)) ** 2)))


@dataclass
class Step:
    """One backward step: a node running its rules, or a leaf receiving its gradient."""

    index: int  # 1-based position in backward order
    op: str  # "MulBackward0", or "AccumulateGrad" for a leaf
    node: Any  # the Node, or the leaf Tensor
    out_shape: tuple  # shape of the gradient arriving (the op output's shape)
    in_shapes: tuple  # shapes of the op's inputs (where the gradients go)
    grad_out_norm: float | None
    grad_in_norms: tuple = ()  # one per input; None where no gradient flows
    grads_in: tuple = ()  # keep_values: per input, the gradient sent (host array, input's shape)
    seconds: float = 0.0
    _t0: float = field(default=0.0, repr=False)


class Trace:
    """The record of one or more backward passes: `steps` in execution order."""

    def __init__(self, *, keep_values: bool = True):
        self.steps: list[Step] = []
        self.keep_values = keep_values
        self.grads: dict = {}  # Node -> gradient of its output (raw array), as it arrived
        self.values: dict = {}  # Node -> its output value (on the host), where a rule saved it
        self.leaf_grads: dict = {}  # id(leaf Tensor) -> summed gradient this pass delivered
        self._open: dict = {}

    # -- called by the engine --

    def _start(self, node, g) -> None:
        step = Step(
            index=len(self.steps) + 1,
            op=node.name(),
            node=node,
            out_shape=tuple(g.shape),
            in_shapes=tuple(node.shapes),
            grad_out_norm=_norm(g),
        )
        self.steps.append(step)
        self._open[node] = step
        if self.keep_values:
            self.grads[node] = to_host(g)
            self._remember_values(node)
        step._t0 = time.perf_counter()

    def _end(self, node, input_grads) -> None:
        step = self._open.pop(node, None)
        if step is None:
            return
        step.seconds = time.perf_counter() - step._t0
        step.grad_in_norms = tuple(_norm(gi) for gi in input_grads)
        if self.keep_values:
            step.grads_in = tuple(
                None if gi is None or source is None else _summed_to(to_host(gi), shape)
                for gi, source, shape in zip(input_grads, node.next, node.shapes)
            )

    def _leaf(self, leaf, g) -> None:
        self.steps.append(
            Step(
                index=len(self.steps) + 1,
                op="AccumulateGrad",
                node=leaf,
                out_shape=tuple(g.shape),
                in_shapes=(),
                grad_out_norm=_norm(g),
            )
        )
        if self.keep_values:
            self.leaf_grads[id(leaf)] = to_host(g)

    def _remember_values(self, node) -> None:
        # A node's saved inputs are the outputs of the nodes feeding it: record those values now,
        # before the engine releases them (consumers always run before their producers).
        saved = node.saved
        if not saved:
            return
        if "out" in saved and node not in self.values:
            self.values[node] = to_host(saved["out"])
        op = node.op
        if op is None:  # a custom Function: its saved tensors are not tied to inputs
            return
        for i, source in enumerate(node.next):
            if not isinstance(source, Node) or source in self.values:
                continue
            name = op.input_names[0 if op.variadic else i]
            if name in saved:
                value = saved[name][i] if op.variadic else saved[name]
                self.values[source] = to_host(value)

    # -- reading --

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self):
        return iter(self.steps)

    def __getitem__(self, k):
        return self.steps[k]

    def order(self, node) -> int | None:
        """The 1-based backward step at which `node` (a Node or leaf Tensor) ran, or None."""
        for step in self.steps:
            if step.node is node:
                return step.index
        return None

    def table(self) -> str:
        """The steps as a fixed-width text table."""
        rows = [("#", "op", "grad in (shape)", "|grad|", "-> input shapes", "-> |grads|", "time")]
        for s in self.steps:
            rows.append(
                (
                    str(s.index),
                    s.op,
                    _shape(s.out_shape),
                    _num(s.grad_out_norm),
                    ", ".join(_shape(x) for x in s.in_shapes) or "-",
                    ", ".join(_num(x) for x in s.grad_in_norms) or "-",
                    f"{s.seconds * 1e6:.0f} us" if s.op != "AccumulateGrad" else "-",
                )
            )
        widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
        lines = ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in rows]
        lines.insert(1, "-" * len(lines[0]))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        return f"<Trace: {len(self.steps)} backward steps>"


def _summed_to(a, shape) -> np.ndarray:
    """A rule's result summed down to its input's shape, as the engine does before passing it on."""
    shape = tuple(shape)
    if a.shape == shape:
        return a
    lead = a.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + k for k, n in enumerate(shape) if n == 1 and a.shape[lead + k] != 1
    )
    return a.sum(axis=axes, keepdims=False).reshape(shape)


def _shape(shape) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def _num(x) -> str:
    if x is None:
        return "-"
    if math.isnan(x) or math.isinf(x):
        return str(x)
    return f"{x:.4g}"


class trace:
    """Context manager recording every backward step run inside it; `as` gives the `Trace`.

    `keep_values=False` records only the table (op, shapes, norms, time), not the gradient and
    value arrays the drawing uses (less memory on big models).
    """

    def __init__(self, *, keep_values: bool = True):
        self.trace = Trace(keep_values=keep_values)
        self._previous: list = []

    def __enter__(self) -> Trace:
        self._previous.append(autograd.mode.tracer)
        autograd.mode.tracer = self.trace
        return self.trace

    def __exit__(self, *exc) -> bool:
        autograd.mode.tracer = self._previous.pop()
        return False

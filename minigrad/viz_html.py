"""The backward step-through page: one self-contained HTML file (the graph inlined as SVG, a small
script, no network) in which the reader presses *next* / *previous* (or the arrow keys) and
watches backward run one op at a time.

Each step shows the op that runs (highlighted in the drawing, with the edges its gradients take),
the gradient arriving at it, and each input's rule twice: as written (`∂a = g·b`) and with the
actual numbers put in (`∂a = [1, 1]·[3, -1] = [3, -1]`). Where a tensor feeds several ops, the
step that finally uses its gradient shows it as the sum of what each consumer sent. The numbers
come from the engine's own record of the pass (`mg.autograd.trace`), so the page cannot disagree
with what backward did.

    mg.viz.to_html(loss, "out/backprop.html")   # runs loss.backward()
"""

from __future__ import annotations

import html
import json
import os
import re
import tempfile

import numpy as np

from minigrad.autograd import Node
from minigrad.backend import to_host
from minigrad.tensor import Tensor
from minigrad.viz import SMALL, _fmt, _input_names, _nested, backprop, rule_text

__all__ = ["write", "page_steps"]


def _text(array) -> str:
    """An array's numbers for the page: in full up to SMALL elements, else a summary."""
    if array is None:
        return "?"
    a = to_host(array)
    if a.dtype.kind not in "fciub":
        return str(a.dtype)
    if a.size <= SMALL:
        if a.ndim == 0:
            return _fmt(a.item()) if a.dtype.kind in "fc" else str(a.item())
        return _nested(a.tolist(), a.dtype.kind in "fc").replace("\n", "")
    f = a.astype(np.float64, copy=False)
    shape = "×".join(str(n) for n in a.shape)
    return f"[{shape}: mean {_fmt(f.mean())}, ‖·‖ {_fmt(float(np.sqrt((f * f).sum())))}]"


def _substitute(math_text: str, values: dict) -> str | None:
    """The rule with each name it reads replaced by its numbers, or None when a name is unknown
    or its tensor too big to write out."""
    names = sorted(values, key=len, reverse=True)
    if not names:
        return None
    pattern = re.compile(r"(?<![\w.])(" + "|".join(re.escape(n) for n in names) + r")(?![\w(])")
    used = set(pattern.findall(math_text))
    if not used or any(values[n] is None for n in used):
        return None

    def number(m) -> str:
        text = values[m.group(1)]
        return f"({text})" if text.startswith("-") else text  # g·(-0.5), not g·-0.5

    return pattern.sub(number, math_text)


def page_steps(drawing) -> list[dict]:
    """What the page shows at each backward step, from a `backprop` drawing: the drawn item that
    runs, the gradient arriving (as a sum where several consumers sent one), and per input the
    rule, the rule with numbers, the gradient sent and the edge it travels."""
    graph, record = drawing.graph, drawing.trace
    item_of: dict = {}  # id(Node or leaf) -> drawn item id
    for key, k in graph.node_ids.items():
        if isinstance(key, Node):
            item_of[id(key)] = f"op{k}"
        else:  # a root that is a leaf: keyed by id(tensor) already
            item_of[key] = k
    item_of.update(graph.leaf_ids)
    sent: dict = {}  # id(target) -> [(step index, gradient)] as consumers sent them
    for step in record.steps:
        if step.op == "AccumulateGrad":
            continue
        for source, gi in zip(step.node.next, step.grads_in):
            if source is not None and gi is not None:
                sent.setdefault(id(source), []).append((step.index, gi))
    steps = []
    for step in record.steps:
        node = step.node
        is_leaf = step.op == "AccumulateGrad"
        item = item_of.get(id(node))
        arriving = record.leaf_grads.get(id(node)) if is_leaf else record.grads.get(node)
        parts = sent.get(id(node), [])
        entry = {
            "index": step.index,
            "op": step.op,
            "item": item,
            "output": None if is_leaf or item is None else "v" + item[2:],
            "title": f"#{step.index}  "
            + (
                f"AccumulateGrad → {graph.items[item].name or 'leaf'}.grad"
                if is_leaf and item in graph.items
                else _op_title(node)
            ),
            "g": _text(arriving),
            "sum": [[i, _text(gi)] for i, gi in parts] if len(parts) > 1 else [],
            "seed": not parts and not is_leaf,
            "rules": [],
        }
        if not is_leaf:
            entry["rules"] = _rules(graph, record, node, step, item_of, arriving)
        steps.append(entry)
    return steps


def _op_title(node) -> str:
    op = getattr(node, "op", None)
    return f"{op.name}  ({node.name()})" if op is not None else node.name()


def _rules(graph, record, node, step, item_of, arriving) -> list[dict]:
    op = getattr(node, "op", None)
    texts = {r.input: r for r in rule_text(op)} if op is not None else {}
    names = _input_names(node)
    k = item_of[id(node)][2:]
    values = {"g": _small_text(arriving), "out": _small_text(record.values.get(node))}
    for i, (name, source) in enumerate(zip(names, node.next)):
        values[name] = _small_text(_input_value(graph, record, node, i, source))
    for name, p in (node.params or {}).items():
        if isinstance(p, (int, float, bool)) or p is None:
            values.setdefault(name, repr(p))
    rules = []
    for i, (name, source, gi) in enumerate(zip(names, node.next, step.grads_in)):
        if source is None:
            continue  # needs no gradient (a constant input)
        rule = texts.get(op.input_names[0] if op is not None and op.variadic else name)
        math_text = rule.math if rule is not None else "custom backward"
        rules.append(
            {
                "input": name,
                "rule": f"∂{name} = {math_text}",
                "formula": rule.comment if rule is not None else "",
                "numbers": _substitute(math_text, values) if rule is not None else None,
                "grad": _text(gi),
                "edge": [_source_item(graph, item_of, node, i, source, k), f"op{k}"],
            }
        )
    return rules


def _small_text(array) -> str | None:
    if array is None:
        return None
    a = to_host(array)
    return _text(a) if a.size <= SMALL else None


def _input_value(graph, record, node, i, source):
    if isinstance(source, Tensor):
        return source._data
    if isinstance(source, Node):
        return record.values.get(source)
    item = graph.items.get(f"c{graph.node_ids[node]}_{i}")
    return item.value if item is not None else None


def _source_item(graph, item_of, node, i, source, k) -> str:
    if isinstance(source, Node):
        return "v" + item_of[id(source)][2:]
    if isinstance(source, Tensor):
        return graph.leaf_ids[id(source)]
    return f"c{k}_{i}"


def write(loss, path, *, title: str = "minigrad: backward, step by step", **options) -> str:
    """Run backward on `loss` (as `mg.viz.backprop`, same options) and write the step-through
    page to `path`. Needs graphviz's `dot` to lay the graph out (raises GraphvizNotFound
    otherwise)."""
    options.setdefault("rankdir", "TB")  # tall: the page scrolls down the graph as backward runs
    drawing = backprop(loss, **options)
    svg = _svg(drawing)
    steps = page_steps(drawing)
    page = _PAGE.format(
        title=html.escape(title),
        svg=svg,
        steps=json.dumps(steps, ensure_ascii=False).replace("</", "<\\/"),
        n=len(steps),
    )
    path = os.fspath(path)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix=".backprop-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(page)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes it private; a page is an ordinary file
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path


def _svg(drawing) -> str:
    import graphviz

    from minigrad.viz import _INSTALL, GraphvizNotFound

    try:
        svg = drawing.pipe(format="svg", encoding="utf-8")
    except graphviz.ExecutableNotFound:
        raise GraphvizNotFound(_INSTALL.format(path="(not saved)")) from None
    return svg[svg.index("<svg") :]  # drop the XML prolog and doctype: inlined in HTML


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
  body {{ font-family: Helvetica, Arial, sans-serif; margin: 0; display: flex; height: 100vh; }}
  #graph {{ flex: 3; overflow: auto; border-right: 1px solid #ccc; padding: 8px; }}
  #graph svg {{ height: auto; }}
  #panel {{ flex: 2; padding: 12px 16px; overflow: auto; min-width: 320px; }}
  #controls button {{ font-size: 15px; padding: 4px 14px; margin-right: 6px; }}
  #step-counter {{ color: #555; margin-left: 8px; }}
  h2 {{ font-size: 17px; margin: 14px 0 6px; }}
  .math {{ font-family: "DejaVu Sans Mono", monospace; font-size: 13px; white-space: pre-wrap; }}
  .rule {{ border-left: 3px solid #7b5ea7; padding: 4px 8px; margin: 8px 0; background: #f7f4fb; }}
  .muted {{ color: #666; font-size: 12px; }}
  g.node.current ellipse, g.node.current polygon {{ stroke: #d6336c; stroke-width: 4px; }}
  g.node.output polygon {{ stroke: #1c5aa6; stroke-width: 3px; }}
  g.edge.flow path {{ stroke: #d6336c; stroke-width: 3px; }}
  g.edge.flow polygon {{ stroke: #d6336c; fill: #d6336c; }}
  g.node.done ellipse {{ fill: #c9bde0; }}
</style>
</head>
<body>
<div id="graph">{svg}</div>
<div id="panel">
  <div id="controls">
    <button id="prev" title="previous step (←)">◀ previous</button>
    <button id="next" title="next step (→)">next ▶</button>
    <span id="step-counter">step 0 / {n}</span>
  </div>
  <h2 id="step-title">Forward pass done: press next (→) to run backward</h2>
  <div id="step-g" class="math"></div>
  <div id="step-sum" class="math"></div>
  <div id="step-rules"></div>
  <p class="muted">Boxes are tensors (value, gradient), ellipses are ops with their gradient
  rules; numbers #k give the backward order. Each step is one op's rules running: the gradient
  g arriving at its output is turned into one gradient per input and sent along the red edges.</p>
</div>
<script type="application/json" id="steps">{steps}</script>
<script>
(function () {{
  const steps = JSON.parse(document.getElementById("steps").textContent);
  const nodes = {{}}, edges = {{}};
  document.querySelectorAll("#graph g.node").forEach(function (g) {{
    nodes[g.querySelector("title").textContent] = g;
  }});
  document.querySelectorAll("#graph g.edge").forEach(function (g) {{
    const key = g.querySelector("title").textContent;
    (edges[key] = edges[key] || []).push(g);  // x * x: two edges with one title
  }});
  let at = 0;
  function el(tag, cls, text) {{
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }}
  function show(k) {{
    at = Math.max(0, Math.min(steps.length, k));
    document.querySelectorAll("#graph .current, #graph .flow, #graph .output, #graph .done")
      .forEach(function (e) {{ e.classList.remove("current", "flow", "output", "done"); }});
    document.getElementById("step-counter").textContent = "step " + at + " / " + steps.length;
    const title = document.getElementById("step-title");
    const g = document.getElementById("step-g");
    const sum = document.getElementById("step-sum");
    const rules = document.getElementById("step-rules");
    g.textContent = ""; sum.textContent = ""; rules.textContent = "";
    document.getElementById("prev").disabled = at === 0;
    document.getElementById("next").disabled = at === steps.length;
    for (let i = 0; i < at - 1; i++) {{
      const done = nodes[steps[i].item];
      if (done) done.classList.add("done");
    }}
    if (at === 0) {{
      title.textContent = "Forward pass done: press next (→) to run backward";
      return;
    }}
    const s = steps[at - 1];
    title.textContent = s.title;
    if (nodes[s.item]) {{
      nodes[s.item].classList.add("current");
      nodes[s.item].scrollIntoView({{ block: "center", inline: "center" }});
    }}
    if (s.output && nodes[s.output]) nodes[s.output].classList.add("output");
    g.textContent = (s.op === "AccumulateGrad" ? "gradient arriving: " : "g = ") + s.g +
      (s.seed ? "   (the seed: ∂loss/∂loss)" : "");
    if (s.sum.length) {{
      sum.textContent = "accumulated: g = " +
        s.sum.map(function (p) {{ return p[1] + " (from #" + p[0] + ")"; }}).join(" + ");
    }}
    s.rules.forEach(function (r) {{
      const box = el("div", "rule");
      box.dataset.input = r.input;
      const formula = r.formula ? "    # " + r.formula : "";
      box.appendChild(el("div", "math rule-text", r.rule + formula));
      if (r.numbers) box.appendChild(el("div", "math rule-numbers", "   = " + r.numbers));
      box.appendChild(el("div", "math rule-grad", "   = " + r.grad + "  → sent to " + r.input));
      rules.appendChild(box);
      const parallel = edges[r.edge[0] + "->" + r.edge[1]] || [];
      const e = parallel.find(function (x) {{ return !x.classList.contains("flow"); }});
      if (e) e.classList.add("flow");
    }});
  }}
  document.getElementById("next").addEventListener("click", function () {{ show(at + 1); }});
  document.getElementById("prev").addEventListener("click", function () {{ show(at - 1); }});
  document.addEventListener("keydown", function (e) {{
    if (e.key === "ArrowRight") {{ show(at + 1); e.preventDefault(); }}
    if (e.key === "ArrowLeft") {{ show(at - 1); e.preventDefault(); }}
  }});
  window.backpropPage = {{ steps: steps, show: show, at: function () {{ return at; }} }};
  show(0);
}})();
</script>
</body>
</html>
"""

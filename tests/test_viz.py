"""minigrad.viz: the DOT structure of small graphs (golden structure, not golden text), the real
`dot` binary rendering SVG, a 10,000-node graph, module boxes, and rule text from definitions."""

import re
import shutil
import subprocess
import warnings

import numpy as np
import pytest

import minigrad as mg
import minigrad.viz as viz


def parse(dot: str):
    """DOT text -> ({id: {attr: value}}, [(from, to, {attr: value})])."""
    nodes, edges = {}, []
    attr = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
    for line in dot.splitlines():
        line = line.strip()
        m = re.match(r"^(\w+) -> (\w+)(?: \[(.*)\])?$", line)
        if m:
            edges.append((m[1], m[2], dict(attr.findall(m[3] or ""))))
            continue
        m = re.match(r"^(\w+) \[(.*)\]$", line)
        if m and m[1] not in ("graph", "node", "edge"):
            nodes[m[1]] = dict(attr.findall(m[2]))
    return nodes, edges


def by_label(nodes, text):
    found = [k for k, a in nodes.items() if text in a["label"]]
    assert len(found) == 1, (text, found)
    return found[0]


def small():
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0, 4.0], requires_grad=True)
    a.name, b.name = "a", "b"
    out = (a * b).sum()
    return a, b, out


def test_structure_of_a_small_graph():
    a, b, out = small()
    nodes, edges = parse(viz.to_dot(out))
    # 2 leaves, 2 ops (mul, sum), 2 op outputs (the mul result and the output)
    assert len(nodes) == 6
    assert len(edges) == 5
    ops = {k: v for k, v in nodes.items() if v["shape"] == "ellipse"}
    data = {k: v for k, v in nodes.items() if v["shape"] == "box"}
    assert len(ops) == 2 and len(data) == 4
    mul, total = by_label(nodes, "mul"), by_label(nodes, "sum")
    assert "∂a = g·b" in nodes[mul]["label"] and "∂b = g·a" in nodes[mul]["label"]
    na, nb = by_label(nodes, "a\\n(2,) float32"), by_label(nodes, "b\\n(2,) float32")
    # edges point forward and carry the input's name
    assert (na, mul, {"label": "a"}) in edges and (nb, mul, {"label": "b"}) in edges
    outputs = [k for k, v in nodes.items() if v["fillcolor"] == viz.COLORS["output"]]
    assert len(outputs) == 1
    assert any(e[:2] == (total, outputs[0]) for e in edges)
    assert "value 11" in nodes[outputs[0]]["label"]
    assert nodes[na]["fillcolor"] == viz.COLORS["input"]
    assert "value [1, 2]" in nodes[na]["label"] and "grad: none yet" in nodes[na]["label"]


def test_grads_appear_after_backward_and_params_name_leaves():
    a, b, out = small()
    out.backward()
    nodes, _ = parse(viz.to_dot(out, params={"weight": b}))
    nb = by_label(nodes, "weight\\n")
    assert nodes[nb]["fillcolor"] == viz.COLORS["param"]
    assert "grad [1, 2]" in nodes[nb]["label"]
    assert "grad [3, 4]" in nodes[by_label(nodes, "a\\n")]["label"]


def test_large_tensors_are_summarised_and_nan_is_red():
    x = mg.tensor(np.arange(12.0).reshape(3, 4), requires_grad=True)
    y = mg.tensor([0.0, 1.0], requires_grad=True)
    with np.errstate(all="ignore"):
        out = (x * 2).sum() + mg.log(y - 1).sum()  # log(-1) = nan, log(0) = -inf
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nodes, _ = parse(viz.to_dot(out))
    nx = by_label(nodes, "(3, 4) float64\\nvalue: mean 5.5")
    assert "min 0  max 11" in nodes[nx]["label"]
    bad = [k for k, v in nodes.items() if v.get("color") == viz.BAD]
    assert bad and all("NaN" in nodes[k]["label"] or "inf" in nodes[k]["label"] for k in bad)


def test_constants_intermediate_values_and_names():
    x = mg.tensor([0.5, -0.5], requires_grad=True)
    h = x.tanh()
    h.retain_grad()
    h.name = "h"
    target = mg.tensor([1.0, 0.0])
    loss = ((h - target) ** 2).sum()
    loss.name = "loss"
    loss.backward()
    nodes, edges = parse(viz.to_dot(loss))
    nh = by_label(nodes, "h\\n(2,)")
    assert f"value [{np.tanh(0.5):.4g}, {np.tanh(-0.5):.4g}]" in nodes[nh]["label"]
    g = 2 * (np.tanh([0.5, -0.5]) - [1.0, 0.0])
    assert f"grad [{g[0]:.4g}, {g[1]:.4g}]" in nodes[nh]["label"]
    consts = [k for k, v in nodes.items() if v["fillcolor"] == viz.COLORS["const"]]
    assert len(consts) == 2  # the target and the exponent 2
    assert "loss\\n() float32" in nodes[by_label(nodes, "loss")]["label"]


def test_trace_numbers_ops_in_backward_order():
    a, b, out = small()
    with mg.autograd.trace() as tr:
        out.backward()
    nodes, edges = parse(viz.to_dot(out, trace=tr))
    assert nodes[by_label(nodes, "sum")]["label"].startswith("#1  sum")
    mul = by_label(nodes, "mul")
    assert nodes[mul]["label"].startswith("#2  mul")
    assert {e[2]["label"] for e in edges if e[1] == mul} == {"a #2", "b #2"}
    # the trace gives the gradient of the intermediate a*b
    inter = [k for k, v in nodes.items() if v["fillcolor"] == viz.COLORS["inter"]]
    assert len(inter) == 1 and "grad [1, 1]" in nodes[inter[0]]["label"]


def test_highlight_marks_paths_to_the_output_only():
    a = mg.tensor(1.0, requires_grad=True)
    b = mg.tensor(2.0, requires_grad=True)
    a.name, b.name = "a", "b"
    out = a.exp() + b.sin()
    nodes, edges = parse(viz.to_dot(out, highlight=a))
    marked = {k for k, v in nodes.items() if v.get("color") == viz.HIGHLIGHT}
    assert by_label(nodes, "a\\n") in marked and by_label(nodes, "exp") in marked
    assert by_label(nodes, "add") in marked
    assert by_label(nodes, "b\\n") not in marked and by_label(nodes, "sin") not in marked
    assert all((e[0] in marked and e[1] in marked) == ("color" in e[2]) for e in edges)


def test_show_saved_and_rankdir():
    a, b, out = small()
    dot = viz.to_dot(out, show_saved=True, rankdir="TB")
    assert 'rankdir="TB"' in dot and "saved: a (2,), b (2,)" in dot
    with pytest.raises(ValueError, match="rankdir"):
        viz.to_dot(out, rankdir="XY")
    with pytest.raises(TypeError, match="Tensor"):
        viz.to_dot([1.0])


def test_draw_returns_a_digraph_with_the_same_source():
    graphviz = pytest.importorskip("graphviz")
    a, b, out = small()
    d = viz.draw(out)
    assert isinstance(d, graphviz.Digraph)
    assert d.source == viz.to_dot(out)


def test_ten_thousand_node_graph_is_iterative():
    x = mg.tensor([1.0], requires_grad=True)
    y = x
    for i in range(3400):  # 3 items per op: op, its output, plus leaves/constants
        y = y * 1.0001 if i % 2 else y + 0.5
    with pytest.warns(UserWarning, match="more than max_nodes"):
        dot = viz.to_dot(y)
    nodes, edges = parse(dot)
    assert len(nodes) >= 10_000
    assert len(edges) == 3 * 3400  # previous result -> op, constant -> op, op -> result


@pytest.mark.skipif(
    shutil.which("dot") is None, reason="graphviz 'dot' binary not installed (apt install graphviz)"
)
def test_render_svg_with_the_dot_binary(tmp_path):
    pytest.importorskip("graphviz")
    a, b, out = small()
    out.backward()
    path = viz.draw(out).render(str(tmp_path / "sub" / "graph"), format="svg")
    svg = open(path, encoding="utf-8").read()
    assert path.endswith(".svg") and svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert svg.count('class="node"') == 6 and svg.count('class="edge"') == 5
    assert "∂a = g·b" in svg and "<ellipse" in svg and "<polygon" in svg
    assert viz.draw(out)._repr_svg_().count('class="node"') == 6
    # the plain dot binary agrees with to_dot's text
    res = subprocess.run(
        ["dot", "-Tsvg"], input=viz.to_dot(out).encode(), capture_output=True, check=True
    )
    assert res.stdout.decode().count('class="node"') == 6


def test_missing_dot_binary_writes_dot_and_says_how_to_install(tmp_path, monkeypatch):
    pytest.importorskip("graphviz")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    a, b, out = small()
    with pytest.raises(viz.GraphvizNotFound, match="apt install graphviz"):
        viz.draw(out).render(str(tmp_path / "g"), format="svg")
    assert (tmp_path / "g").read_text(encoding="utf-8") == viz.to_dot(out)


def test_rule_text_comes_from_the_definitions():
    from minigrad.ops import elementwise as ew

    rules = {r.input: r for r in viz.rule_text(ew.MUL)}
    assert rules["a"].math == "g·b" and rules["b"].math == "g·a"
    assert rules["a"].comment == "d(ab)/da = b"
    assert rules["a"].where.startswith("minigrad/ops/elementwise.py:")
    tanh = viz.rule_text(ew.TANH)
    assert [(r.input, r.math, r.comment) for r in tanh] == [("x", "g·(1 - out·out)", "1 - tanh^2")]
    # a rule's text changes with its code: an op defined here reads its own lambda
    op = mg.autograd.defop("twice", lambda xp, x: 2 * x, x=lambda g: 2 * g)  # 2
    assert [(r.input, r.math, r.comment) for r in viz.rule_text(op)] == [("x", "2·g", "2")]
    assert "twice" in viz._op_label(viz._Item("op0", "op", "op", _fake_node(op)), False, False)[0]


def _fake_node(op):
    return mg.autograd.Node(op, (None,), {}, {}, ((1,),), ())


def test_collapse_modules_boxes_each_call():
    nn = mg.nn
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1))
    x = mg.randn(5, 3)
    with viz.record_modules():
        loss = model(x).pow(2).mean()
    loss.backward()
    nodes, edges = parse(viz.to_dot(loss, collapse_modules=True))
    boxes = {k: v for k, v in nodes.items() if v["shape"] == "box3d"}
    labels = sorted(v["label"].split("\\n")[0] for v in boxes.values())
    assert labels == ["0: Linear", "1: Tanh", "2: Linear"]
    assert not any(v["fillcolor"] == viz.COLORS["param"] for v in nodes.values())  # inside boxes
    first, act = by_label(nodes, "0: Linear"), by_label(nodes, "1: Tanh")
    between = [e[1] for e in edges if e[0] == first]
    assert len(between) == 1 and (between[0], act) in [e[:2] for e in edges]
    # without collapsing, parameter names come from the recording
    nodes, _ = parse(viz.to_dot(loss))
    assert by_label(nodes, "0.weight\\n(4, 3)")
    assert nodes[by_label(nodes, "2.bias\\n")]["fillcolor"] == viz.COLORS["param"]


def test_collapse_without_recording_warns():
    a, b, out = small()
    with pytest.warns(UserWarning, match="record_modules"):
        viz.to_dot(out, collapse_modules=True)


def test_demo_call_shape(tmp_path):
    nn = mg.nn
    pytest.importorskip("graphviz")
    if shutil.which("dot") is None:
        pytest.skip("graphviz 'dot' binary not installed (apt install graphviz)")
    model = nn.Linear(2, 1)
    loss = model(mg.randn(4, 2)).sum()
    loss.backward()
    path = viz.draw(loss, params=dict(model.named_parameters())).render(
        str(tmp_path / "out" / "graph"), format="svg"
    )
    svg = open(path, encoding="utf-8").read()
    assert "weight" in svg and "bias" in svg and "grad" in svg

"""`mg.viz.backprop` and the step-through page (`mg.viz.to_html`), the page driven in a real
headless Chromium: at every step what it shows is checked against the engine's own trace."""

from __future__ import annotations

import os
import re
import shutil

import numpy as np
import pytest

import minigrad as mg
from minigrad import viz_html


def _graph():
    """A graph where backward accumulates: h feeds two ops, a feeds two ops."""
    a = mg.tensor([1.0, 2.0], requires_grad=True)
    b = mg.tensor([3.0, -1.0], requires_grad=True)
    h = a * b
    loss = (h.tanh() - 0.5).square().sum() + (h * a).sum()
    return a, b, loss


def test_backprop_shows_every_value_and_gradient():
    a, b, loss = _graph()
    drawing = mg.viz.backprop(loss, params={"a": a, "b": b})
    dot = drawing.source
    assert "not saved" not in dot and "not kept" not in dot and "none yet" not in dot
    assert "a\\n(2,) float32\\nvalue [1, 2]\\ngrad [6.029, -3.793]" in dot
    assert "∂a = g·b" in dot and "→ ∂a = [3.029, -1.793]" in dot  # rule and the numbers
    steps = drawing.trace.steps
    assert [s.index for s in steps] == list(range(1, len(steps) + 1))
    assert f"#{len(steps) - 1}" in dot or "#1" in dot
    np.testing.assert_allclose(a.grad.numpy(), [6.0292997, -3.7931247], rtol=1e-5)


def test_backprop_recomputes_values_no_rule_saved():
    x = mg.tensor([1.0, -2.0], requires_grad=True)
    loss = ((x * 3.0) * 2.0).sum()  # no rule saves x * 3 or (x * 3) * 2: both are recomputed
    dot = mg.viz.backprop(loss).source
    assert "value [3, -6]" in dot and "value [6, -12]" in dot and "not saved" not in dot


def test_backprop_refuses_what_torch_refuses():
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.viz.backprop(mg.tensor([1.0]).sum())
    with pytest.raises(TypeError):
        mg.viz.backprop([1.0])


def test_page_is_self_contained(tmp_path):
    pytest.importorskip("graphviz")
    if shutil.which("dot") is None:
        pytest.skip("graphviz's dot program is not installed")
    _, _, loss = _graph()
    path = mg.viz.to_html(loss, tmp_path / "page.html")
    text = open(path, encoding="utf-8").read()
    assert "<svg" in text and "<script" in text
    assert not re.search(r"""(src|href)=["']https?:""", text)  # nothing fetched from a network
    assert not list(tmp_path.glob(".backprop-*"))  # the atomic write left no temporary file


def test_page_steps_follow_the_trace():
    a, b, loss = _graph()
    drawing = mg.viz.backprop(loss, params={"a": a, "b": b})
    steps = viz_html.page_steps(drawing)
    assert [s["op"] for s in steps] == [s.op for s in drawing.trace.steps]
    leaf_a = next(s for s in steps if s["title"].endswith("a.grad"))
    assert len(leaf_a["sum"]) == 2  # a is used by two muls: its gradient is a sum of two parts
    tanh = next(s for s in steps if s["op"] == "TanhBackward0")
    (rule,) = tanh["rules"]
    assert rule["rule"] == "∂x = g·(1 - out·out)"
    assert rule["numbers"] == "[0.9901, -2.928]·(1 - [0.9951, -0.964]·[0.9951, -0.964])"


# --- in a real browser --------------------------------------------------------------------------

CHROME_FLAGS = (
    "--headless=new --no-sandbox --disable-gpu --disable-quic --no-first-run "
    "--disable-background-networking --disable-component-update --disable-sync "
    "--disable-dev-shm-usage --window-size=1400,800"
).split()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless Chromium driven through chromedriver (Debian's packages, which `make test`
    installs). Skips where none can be had, except in CI, where it fails."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    problems = []
    if chromium is None or driver is None:
        problems.append(
            "chromium and chromedriver are not installed (apt install chromium "
            "chromium-driver; `make test` does it as root)"
        )
    if shutil.which("dot") is None:
        problems.append("graphviz's dot program is not installed")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        problems.append("the selenium package is not installed (pip install selenium)")
    if problems:
        if os.environ.get("CI"):
            pytest.fail("the browser test cannot run in CI: " + "; ".join(problems))
        pytest.skip("; ".join(problems))
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium')}")
    session = webdriver.Chrome(service=Service(driver), options=options)
    session.set_page_load_timeout(30)
    session.set_script_timeout(30)
    yield session
    session.quit()


NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?|nan|-?inf")


def _numbers(text: str) -> np.ndarray:
    return np.array([float(v) for v in NUMBER.findall(text)])


def test_page_steps_through_backward_in_a_browser(browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    a, b, loss = _graph()
    path = tmp_path / "backprop.html"
    # The same pass run and recorded by the page's own call: compare with its trace.
    drawing_steps = []

    original = viz_html.page_steps

    def spy(drawing):
        drawing_steps.append(drawing)
        return original(drawing)

    viz_html.page_steps = spy
    try:
        mg.viz.to_html(loss, path, params={"a": a, "b": b})
    finally:
        viz_html.page_steps = original
    (drawing,) = drawing_steps
    trace = drawing.trace
    browser.get(path.as_uri())
    page = browser.find_element(By.TAG_NAME, "body")
    counter = browser.find_element(By.ID, "step-counter")
    assert counter.text == f"step 0 / {len(trace.steps)}"
    for step in trace.steps:
        page.send_keys(Keys.ARROW_RIGHT)
        assert counter.text == f"step {step.index} / {len(trace.steps)}"
        title = browser.find_element(By.ID, "step-title").text
        assert title.startswith(f"#{step.index}")
        current = browser.execute_script(
            "return Array.from(document.querySelectorAll('#graph g.node.current'))"
            ".map(e => e.querySelector('title').textContent)"
        )
        assert len(current) == 1
        if step.op == "AccumulateGrad":
            assert "AccumulateGrad" in title
            assert current[0] == drawing.graph.leaf_ids[id(step.node)]
            shown = browser.find_element(By.ID, "step-g").text
            np.testing.assert_allclose(
                _numbers(shown), trace.leaf_grads[id(step.node)].ravel(), rtol=1e-3
            )
            continue
        assert step.node.op.name in title and step.op in title
        assert current[0] == f"op{drawing.graph.node_ids[step.node]}"
        arriving = _numbers(browser.find_element(By.ID, "step-g").text)
        np.testing.assert_allclose(arriving, trace.grads[step.node].ravel(), rtol=1e-3)
        parts = browser.find_element(By.ID, "step-sum").text
        if parts:  # the arriving gradient is the sum of what each consumer sent
            terms = [_numbers(t.split("(from")[0]) for t in parts.split(":", 1)[1].split(" + ")]
            np.testing.assert_allclose(sum(terms), arriving, rtol=2e-3, atol=1e-3)
        boxes = browser.find_elements(By.CSS_SELECTOR, "#step-rules .rule")
        sent = [gi for gi in step.grads_in if gi is not None]
        assert len(boxes) == len(sent)
        for box, gi in zip(boxes, sent):
            result = box.find_element(By.CSS_SELECTOR, ".rule-grad").text.split("→")[0]
            np.testing.assert_allclose(_numbers(result), gi.ravel(), rtol=1e-3)
        flows = browser.execute_script(
            "return document.querySelectorAll('#graph g.edge.flow').length"
        )
        assert flows == len(sent)
    page.send_keys(Keys.ARROW_RIGHT)  # past the end: stays at the last step
    assert counter.text == f"step {len(trace.steps)} / {len(trace.steps)}"
    browser.save_screenshot(str(tmp_path / "backprop.png"))
    page.send_keys(Keys.ARROW_LEFT)
    assert counter.text == f"step {len(trace.steps) - 1} / {len(trace.steps)}"
    browser.find_element(By.ID, "prev").click()
    assert counter.text == f"step {len(trace.steps) - 2} / {len(trace.steps)}"
    browser.find_element(By.ID, "next").click()
    assert counter.text == f"step {len(trace.steps) - 1} / {len(trace.steps)}"

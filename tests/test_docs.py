"""Every ```python snippet in docs/*.md runs (one namespace per page, in order); docs/rules.md
equals what `minigrad.viz.rules_markdown()` generates from the rule definitions today."""

import linecache
import pathlib
import re

import pytest

import minigrad.viz as viz

DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs"
FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```", re.M | re.S)


def snippets(page: pathlib.Path) -> list[str]:
    """The page's runnable snippets: fences whose info string is exactly `python`."""
    return [
        code
        for info, code in FENCE.findall(page.read_text(encoding="utf-8"))
        if info.strip() == "python"
    ]


PAGES = sorted(p for p in DOCS.glob("*.md") if snippets(p)) + [DOCS.parent / "README.md"]


def test_docs_exist_and_have_snippets():
    names = {p.name for p in DOCS.glob("*.md")}
    for page in [
        "index.md",
        "graph-and-tape.md",
        "topological-order.md",
        "gradient-accumulation.md",
        "broadcasting-backward.md",
        "no-grad-detach.md",
        "retain-graph.md",
        "double-backward.md",
        "in-place-versions.md",
        "custom-function.md",
        "visualizing.md",
        "backprop-walkthrough.md",
        "rules.md",
    ]:
        assert page in names
    assert len(PAGES) >= 12


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_snippets_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # snippets that write files write them here
    namespace = {"__name__": f"docs_{page.stem}"}
    for k, code in enumerate(snippets(page)):
        filename = f"{page.relative_to(DOCS.parent)}[snippet {k + 1}]"
        # let tracebacks (and anomaly mode's forward-site lines) show the snippet's source
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
        try:
            exec(compile(code, filename, "exec"), namespace)
        except Exception as e:
            raise AssertionError(f"{page.name}, snippet {k + 1} failed: {e!r}\n{code}") from e


def test_rules_page_is_generated_from_the_definitions():
    page = (DOCS / "rules.md").read_text(encoding="utf-8")
    assert page == viz.rules_markdown(), (
        "docs/rules.md is stale: regenerate it with\n"
        "  python -c \"import minigrad.viz as v; open('docs/rules.md','w').write(v.rules_markdown())\""
    )


def test_readme_graph_svg_is_committed():
    svg = (DOCS / "graph.svg").read_text(encoding="utf-8")
    assert "<svg" in svg and "tanh" in svg

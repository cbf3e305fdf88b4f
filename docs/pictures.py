"""Regenerates the pictures the docs and the README show (run from the project root):

    python docs/pictures.py

- docs/graph.svg: `mg.viz.backprop` of L = ((a*b + c).tanh() - y)^2, every value and gradient;
- docs/backprop.html: the step-through page of the same backward pass (open it in a browser);
- docs/backprop-page.png: a screenshot of that page at step 3, taken in headless Chromium
  (needs chromium, chromium-driver and the selenium package, as the browser test does).
"""

from __future__ import annotations

import os
import shutil
import sys

import minigrad as mg

DOCS = os.path.dirname(os.path.abspath(__file__))


def expression():
    a = mg.tensor(0.5, dtype=mg.float64, requires_grad=True)
    b = mg.tensor(-1.5, dtype=mg.float64, requires_grad=True)
    c = mg.tensor(0.25, dtype=mg.float64, requires_grad=True)
    y = mg.tensor(0.1, dtype=mg.float64)
    L = ((a * b + c).tanh() - y) ** 2
    return L, {"a": a, "b": b, "c": c, "y": y}


def screenshot(page: str, png: str, step: int) -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--window-size=1300,720",
    ):
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        browser.get("file://" + os.path.abspath(page))
        browser.execute_script(f"window.backpropPage.show({step})")
        browser.save_screenshot(png)
    finally:
        browser.quit()


def main() -> None:
    L, names = expression()
    mg.viz.backprop(L, params=names).render(os.path.join(DOCS, "graph"), format="svg", cleanup=True)
    L, names = expression()
    page = mg.viz.to_html(L, os.path.join(DOCS, "backprop.html"), params=names)
    screenshot(page, os.path.join(DOCS, "backprop-page.png"), step=3)
    print("wrote docs/graph.svg, docs/backprop.html, docs/backprop-page.png", file=sys.stderr)


if __name__ == "__main__":
    main()

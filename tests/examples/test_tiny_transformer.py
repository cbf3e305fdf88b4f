"""Smoke test for examples/tiny_transformer.py: a few training steps of each task, loss falls."""

from __future__ import annotations

import os
import sys

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples")
sys.path.insert(0, os.path.abspath(EXAMPLES))


def test_tiny_transformer_learns_a_little(tmp_path):
    from tiny_transformer import main

    text = tmp_path / "t.txt"
    text.write_text("the quick brown fox jumps over the lazy dog. " * 40)
    common = ["--quiet", "--d-model", "32", "--layers", "1", "--heads", "2", "--batch", "16"]
    r = main(["--task", "lm", "--text", str(text), "--steps", "40", "--ctx", "32", *common])["lm"]
    assert r["last"] < r["first"] - 0.5  # from ~ln(vocab) towards the text's structure
    assert r["val"] < r["first"]
    assert len(r["sample"]) == 201
    rev = main(["--task", "reverse", "--rev-steps", "30", "--digits", "4", *common])["reverse"]
    for pos in ("rope", "none"):
        losses = rev[pos]["losses"]
        assert sum(losses[-5:]) < sum(losses[:5])
        assert 0.0 <= rev[pos]["accuracy"] <= 1.0

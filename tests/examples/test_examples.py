"""Smoke tests for the examples: each runs for a few epochs and must visibly learn."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples")
sys.path.insert(0, os.path.abspath(EXAMPLES))

pytest.importorskip("matplotlib")


def run(module: str, tmp_path, *flags: str) -> dict:
    main = __import__(module).main
    return main([*flags, "--quiet", "--out", str(tmp_path), "--seed", "0"])


def test_linear_regression_recovers_slope(tmp_path):
    r = run("linear_regression", tmp_path, "--epochs", "100")
    closed = r["normal equation"]
    for method in ("SGD", "Adam"):
        assert r[method]["w"] == pytest.approx(closed["w"], abs=0.05)  # both reach the optimum
        assert r[method]["b"] == pytest.approx(closed["b"], abs=0.5)
        assert r[method]["train_mse"] <= closed["train_mse"] * 1.01
        train_curve = r["curves"][method][0]
        assert train_curve[-1] < 0.5 * train_curve[0]
    assert abs(closed["w"] - 3.5) < 0.5  # 50 noisy points: near the true slope
    assert os.path.exists(r["plot"])


def test_logistic_regression_separates_blobs(tmp_path):
    r = run("logistic_regression", tmp_path, "--epochs", "30")
    assert r["losses"][-1] < 0.6 * r["losses"][0]
    assert r["train_acc"] > 0.9 and r["test_acc"] > 0.85
    assert os.path.exists(r["plot"])


def test_softmax_classification_learns_four_classes(tmp_path):
    r = run("softmax_classification", tmp_path, "--epochs", "5")
    assert r["losses"][-1] < 0.5 * r["losses"][0]
    assert r["test_acc"] > 0.85
    assert os.path.exists(r["plot"])


def test_mlp_beats_linear_on_spirals(tmp_path):
    r = run("mlp_classification", tmp_path, "--epochs", "200")
    acc = r["accuracy"]
    assert acc["linear (Adam)"] < 0.65  # a linear model cannot follow the arms
    assert acc["MLP (Adam)"] > 0.85
    assert acc["MLP (Adam)"] > acc["linear (Adam)"] + 0.2
    for name, losses in r["losses"].items():
        assert losses[-1] < losses[0], name
    assert os.path.exists(r["plot"])


def test_housing_regression_recovers_weights(tmp_path):
    housing = __import__("housing_regression")
    r = run("housing_regression", tmp_path, "--epochs", "8")
    # compare per standard deviation of each feature: the raw population weight is tiny
    effect_err = np.abs((r["weights"] - housing.true_weights()) * r["std"])
    assert effect_err.max() < 0.05, effect_err
    assert r["bias"] == pytest.approx(housing.TRUE_BIAS, abs=1.0)
    assert r["test_mse"] < 1.5 * housing.NOISE**2
    assert os.path.exists(r["plot"])


def test_demo_writes_plot_and_graph(tmp_path):
    r = run("demo", tmp_path, "--epochs", "60")
    assert r["losses"][-1] < r["losses"][0]
    assert os.path.exists(r["plot"])
    dot = open(r["graph"]["dot"]).read()
    assert dot.startswith("digraph") and "Linear" in dot
    assert "weight (64, 2)  ‖grad‖" in dot  # module boxes list their parameters
    assert "not saved" not in dot and "not kept" not in dot  # viz.backprop: every value, grad
    if "png" in r["graph"]:
        assert os.path.getsize(r["graph"]["png"]) > 1000
        assert open(r["graph"]["svg"]).read().count("<svg") == 1
        page = open(r["graph"]["html"], encoding="utf-8").read()
        assert "<svg" in page and "backpropPage" in page


def test_adam_lesson_hand_update_equals_optim_adam(tmp_path):
    r = run("adam", tmp_path, "--epochs", "40")
    assert r["hand_vs_optim"] < 1e-12  # the paper's update, by hand, is optim.Adam
    corrected, uncorrected = r["first_steps"]["with bias correction"], r["first_steps"]["without"]
    assert corrected[0] == pytest.approx([0.3, 0.3], rel=1e-6)  # lr * sign(g) at t = 1
    assert uncorrected[0] == pytest.approx([0.3 * 0.1 / 0.001**0.5] * 2, rel=1e-5)
    loss = r["final_loss"]
    assert loss["Adam (lr 0.3)"] < loss["SGD (lr 0.035)"]  # per-parameter step sizes win here
    assert os.path.exists(r["plot"])


def test_positional_encoding_lesson_agrees_with_the_modules(tmp_path):
    r = run("positional_encoding", tmp_path)
    assert r["table_diff"] < 1e-12 and r["rope_diff"] < 1e-12
    assert r["norms_kept"] < 1e-12  # a rotation keeps lengths
    assert r["spread"] < 1e-10  # q_m . k_n depends only on m - n
    assert os.path.exists(r["plot"])

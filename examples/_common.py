"""Helpers the examples share: command line, progress bars, data sets, batching and plots.

Everything here is plumbing; the learning itself stays in each example, written as PyTorch code.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator, Sequence

import numpy as np

# Run as `python examples/x.py` from a checkout without installing: make minigrad importable.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import minigrad  # noqa: E402


def parse_args(
    description: str, argv: Sequence[str] | None, *, epochs: int, lr: float | None = None
) -> argparse.Namespace:
    """The flags every example takes: --epochs, --quiet, --out, --seed (and --lr if it has one)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--epochs", type=int, default=epochs, help=f"default {epochs}")
    if lr is not None:
        parser.add_argument("--lr", type=float, default=lr, help=f"learning rate (default {lr})")
    parser.add_argument("--quiet", action="store_true", help="no progress bars or messages")
    parser.add_argument("--out", default="out", help="folder for the plots (default: out/)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-plot", action="store_true", help="skip writing the PNG")
    return parser.parse_args(argv)


def progress(iterable, *, quiet: bool, desc: str):
    """A tqdm progress bar, or the bare iterable when quiet (or when tqdm is missing)."""
    if quiet:
        return iterable
    try:
        from tqdm import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, desc=desc, leave=False, dynamic_ncols=True)


def say(args: argparse.Namespace, *lines: str) -> None:
    if not args.quiet:
        for line in lines:
            print(line)


def set_postfix(bar, **values: float) -> None:
    """Show the latest loss/accuracy on the progress bar (no-op when quiet)."""
    if hasattr(bar, "set_postfix"):
        bar.set_postfix({k: f"{v:.4g}" for k, v in values.items()}, refresh=False)


# --- data ------------------------------------------------------------------------------------


def split(n: int, fractions: Sequence[float], rng: np.random.Generator) -> list[np.ndarray]:
    """Shuffled index arrays for consecutive parts of sizes `fractions` (last: the rest)."""
    order = rng.permutation(n)
    cuts = np.cumsum([round(f * n) for f in fractions[:-1]])
    return np.split(order, cuts)


class Standardiser:
    """Zero mean, unit variance per column, with statistics from the training split only."""

    def __init__(self, train: np.ndarray):
        self.mean = train.mean(axis=0)
        self.std = train.std(axis=0)
        self.std[self.std == 0] = 1.0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.std).astype(np.float32)

    def inverse(self, z: np.ndarray) -> np.ndarray:
        return z * self.std + self.mean


def spirals(n_per_class: int, classes: int, rng: np.random.Generator, noise: float = 0.2):
    """Interleaved spiral arms in 2-D, one per class (the classic non-linear toy problem)."""
    xs, ys = [], []
    for c in range(classes):
        r = np.linspace(0.0, 1.0, n_per_class)
        theta = (
            np.linspace(c * 4.0, (c + 1) * 4.0, n_per_class)
            + rng.standard_normal(n_per_class) * noise
        )
        xs.append(np.stack([r * np.sin(theta), r * np.cos(theta)], axis=1))
        ys.append(np.full(n_per_class, c))
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys).astype(np.int64)


def blobs(
    n_per_class: int, centres: Sequence[Sequence[float]], rng: np.random.Generator, spread: float
):
    """Gaussian clouds around `centres`, labelled 0, 1, ... in order."""
    xs = [rng.standard_normal((n_per_class, len(c))) * spread + np.asarray(c) for c in centres]
    ys = [np.full(n_per_class, k) for k in range(len(centres))]
    return np.concatenate(xs).astype(np.float32), np.concatenate(ys).astype(np.int64)


def batches(
    x: minigrad.Tensor, y: minigrad.Tensor, batch_size: int, *, shuffle: bool, seed: int
) -> Iterator[tuple[minigrad.Tensor, minigrad.Tensor]]:
    """Mini-batches of (x, y), through minigrad.data's DataLoader when that module exists."""
    try:
        from minigrad.data import DataLoader, TensorDataset
    except ImportError:
        order = np.random.default_rng(seed).permutation(len(x)) if shuffle else np.arange(len(x))
        for start in range(0, len(x), batch_size):
            idx = minigrad.tensor(order[start : start + batch_size])
            yield x[idx], y[idx]
        return
    minigrad.manual_seed(seed)
    yield from DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=shuffle)


def accuracy(logits: minigrad.Tensor, y: minigrad.Tensor) -> float:
    return float((logits.argmax(-1) == y).float().mean())


# --- plots -----------------------------------------------------------------------------------


def pyplot():
    """matplotlib.pyplot on the file-only Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig, out: str, name: str) -> str:
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, name)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    pyplot().close(fig)
    return path


def decision_regions(ax, predict, x: np.ndarray, y: np.ndarray, *, steps: int = 200) -> None:
    """Colour the plane by `predict(points) -> class ids` and scatter the data on top."""
    pad = 0.3
    (x0, y0), (x1, y1) = x.min(axis=0) - pad, x.max(axis=0) + pad
    gx, gy = np.meshgrid(np.linspace(x0, x1, steps), np.linspace(y0, y1, steps))
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
    with minigrad.no_grad():
        zz = np.asarray(predict(grid)).reshape(gx.shape)
    ax.contourf(gx, gy, zz, alpha=0.3, cmap="brg", levels=np.arange(zz.max() + 2) - 0.5)
    ax.scatter(x[:, 0], x[:, 1], c=y, cmap="brg", s=12, edgecolors="k", linewidths=0.3)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)

"""Linear regression, the first lesson: fit y = w·x + b to noisy points with gradient descent.

The data are y = 3.5·x + noise, noise uniform in [-10, 20] (so the intercept is about 5), 50
points split into train/val/test. Inputs and targets are standardised (statistics from the
training split), a `nn.Linear(1, 1)` is fitted with MSE, first by SGD and then, from a fresh
start, by Adam; the learned weight is mapped back to the original units and printed beside the
closed-form least-squares answer (the normal equation). Writes out/linear_regression.png.

    python examples/linear_regression.py [--epochs 200] [--quiet] [--out out]
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np
from _common import Standardiser, parse_args, progress, pyplot, save, say, set_postfix, split

import minigrad
import minigrad.nn.functional as F
from minigrad import nn, optim

TRUE_W = 3.5


def make_data(rng: np.random.Generator, n: int = 50) -> tuple[np.ndarray, np.ndarray]:
    x = rng.uniform(0, 25, (n, 1))
    y = TRUE_W * x + rng.uniform(-10, 20, (n, 1))
    return x, y


def fit(model: nn.Module, opt: optim.Optimizer, x, y, x_val, y_val, epochs: int, args, name: str):
    """Full-batch training; returns the train and validation loss per epoch."""
    train_losses, val_losses = [], []
    bar = progress(range(epochs), quiet=args.quiet, desc=name)
    for _ in bar:
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        loss.backward()
        opt.step()
        with minigrad.no_grad():
            val = F.mse_loss(model(x_val), y_val)
        train_losses.append(loss.item())
        val_losses.append(val.item())
        set_postfix(bar, loss=loss.item(), val=val.item())
    return train_losses, val_losses


def main(argv: Sequence[str] | None = None) -> dict:
    args = parse_args(__doc__.splitlines()[0], argv, epochs=200)
    rng = np.random.default_rng(args.seed)
    minigrad.manual_seed(args.seed)
    x, y = make_data(rng)
    train, val, test = split(len(x), (0.6, 0.2, 0.2), rng)
    sx, sy = Standardiser(x[train]), Standardiser(y[train])
    t = {
        k: (minigrad.tensor(sx(x[i])), minigrad.tensor(sy(y[i])))
        for k, i in (("train", train), ("val", val), ("test", test))
    }

    # The closed form: solve [x 1]^T [x 1] theta = [x 1]^T y on the training split.
    design = np.hstack([x[train], np.ones((len(train), 1))])
    w_closed, b_closed = np.linalg.solve(design.T @ design, design.T @ y[train]).ravel()

    def unstandardise(model: nn.Linear) -> tuple[float, float]:
        # y = sy (ws (x - mx)/sx + bs) + my  =>  w = ws sy/sx,  b = my + sy bs - w mx
        ws, bs = model.weight.item(), model.bias.item()
        w = ws * sy.std[0] / sx.std[0]
        return w, sy.mean[0] + sy.std[0] * bs - w * sx.mean[0]

    def mse(model: nn.Linear, part: str) -> float:
        # in the original units of y, so the numbers compare with the closed form's
        xs, ys = t[part]
        with minigrad.no_grad():
            pred = sy.inverse(model(xs).numpy())
        return float(np.mean((pred - sy.inverse(ys.numpy())) ** 2))

    results, curves = {}, {}
    for name, make_opt in (
        ("SGD", lambda p: optim.SGD(p, lr=0.1)),
        ("Adam", lambda p: optim.Adam(p, lr=0.05)),
    ):
        model = nn.Linear(1, 1)
        curves[name] = fit(
            model, make_opt(model.parameters()), *t["train"], *t["val"], args.epochs, args, name
        )
        w, b = unstandardise(model)
        results[name] = dict(
            w=w,
            b=b,
            train_mse=mse(model, "train"),
            val_mse=mse(model, "val"),
            test_mse=mse(model, "test"),
        )

    def closed_mse(idx) -> float:
        return float(np.mean((w_closed * x[idx] + b_closed - y[idx]) ** 2))

    results["normal equation"] = dict(
        w=w_closed,
        b=b_closed,
        train_mse=closed_mse(train),
        val_mse=closed_mse(val),
        test_mse=closed_mse(test),
    )
    say(
        args,
        f"true weight {TRUE_W}; fits in the original units:",
        f"{'method':>16} {'weight':>8} {'bias':>8} {'train MSE':>10} {'test MSE':>10}",
    )
    for name, r in results.items():
        say(
            args,
            f"{name:>16} {r['w']:8.3f} {r['b']:8.3f} {r['train_mse']:10.2f} {r['test_mse']:10.2f}",
        )

    if not args.no_plot:
        plt = pyplot()
        fig, (ax, ax_loss) = plt.subplots(1, 2, figsize=(11, 4))
        for part, idx, marker in (("train", train, "o"), ("val", val, "s"), ("test", test, "^")):
            ax.scatter(x[idx], y[idx], marker=marker, s=18, label=part)
        grid = np.linspace(x.min(), x.max(), 2)
        for name, r in results.items():
            ax.plot(grid, r["w"] * grid + r["b"], label=f"{name}: w={r['w']:.2f}")
        ax.set(xlabel="x", ylabel="y", title="y = 3.5 x + U(-10, 20)")
        ax.legend(fontsize=8)
        for name, (tr, va) in curves.items():
            ax_loss.plot(tr, label=f"{name} train")
            ax_loss.plot(va, "--", label=f"{name} val")
        ax_loss.set(xlabel="epoch", ylabel="MSE (standardised)", yscale="log", title="loss")
        ax_loss.legend(fontsize=8)
        results["plot"] = save(fig, args.out, "linear_regression.png")
        say(args, f"wrote {results['plot']}")
    results["curves"] = curves
    return results


if __name__ == "__main__":
    main(sys.argv[1:])

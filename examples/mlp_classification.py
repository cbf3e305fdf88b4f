"""An MLP on spirals: where a linear classifier fails and a hidden layer succeeds.

Three interleaved spiral arms in 2-D (generated here, nothing downloaded). A linear softmax
classifier can only cut the plane into wedges and stays near chance; an MLP 2-64-64-3 with ReLU
separates the arms. The MLP is trained twice from the same initial weights, with Adam and with
SGD, and both loss curves are drawn on one plot. Writes out/mlp_classification.png.

    python examples/mlp_classification.py [--epochs 400] [--quiet] [--out out]
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

import numpy as np
from _common import (
    accuracy,
    decision_regions,
    parse_args,
    progress,
    pyplot,
    save,
    say,
    set_postfix,
    spirals,
)

import minigrad
import minigrad.nn.functional as F
from minigrad import nn, optim

CLASSES = 3


def make_mlp(hidden: int = 64, seed: int = 0) -> nn.Module:
    minigrad.manual_seed(seed)  # the same seed gives the same initial weights
    return nn.Sequential(
        nn.Linear(2, hidden),
        nn.ReLU(),
        nn.Linear(hidden, hidden),
        nn.ReLU(),
        nn.Linear(hidden, CLASSES),
    )


def make_data(seed: int) -> tuple[minigrad.Tensor, minigrad.Tensor]:
    x, y = spirals(100, CLASSES, np.random.default_rng(seed))
    return minigrad.tensor(x), minigrad.tensor(y)


def train(
    model: nn.Module,
    opt: optim.Optimizer,
    x,
    y,
    epochs: int,
    *,
    quiet: bool,
    desc: str,
    callback: Callable | None = None,
) -> list[float]:
    """Full-batch training with cross-entropy; returns the loss per epoch."""
    losses = []
    bar = progress(range(epochs), quiet=quiet, desc=desc)
    for epoch in bar:
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        if callback is not None:
            callback(epoch, loss)
        opt.step()
        losses.append(loss.item())
        set_postfix(bar, loss=losses[-1])
    return losses


def main(argv: Sequence[str] | None = None) -> dict:
    args = parse_args(__doc__.splitlines()[0], argv, epochs=400)
    x, y = make_data(args.seed)

    runs = {}
    minigrad.manual_seed(args.seed)
    linear = nn.Linear(2, CLASSES)
    runs["linear (Adam)"] = (linear, optim.Adam(linear.parameters(), lr=0.01))
    mlp_adam = make_mlp(seed=args.seed)
    runs["MLP (Adam)"] = (mlp_adam, optim.Adam(mlp_adam.parameters(), lr=0.01))
    mlp_sgd = make_mlp(seed=args.seed)
    runs["MLP (SGD)"] = (mlp_sgd, optim.SGD(mlp_sgd.parameters(), lr=0.3, momentum=0.9))

    result: dict = {"losses": {}, "accuracy": {}}
    for name, (model, opt) in runs.items():
        result["losses"][name] = train(model, opt, x, y, args.epochs, quiet=args.quiet, desc=name)
        with minigrad.no_grad():
            result["accuracy"][name] = accuracy(model(x), y)
        say(
            args,
            f"{name:>14}: loss {result['losses'][name][-1]:.3f}, "
            f"accuracy {result['accuracy'][name]:.1%}",
        )

    if not args.no_plot:
        plt = pyplot()
        fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
        xs, ys = x.numpy(), y.numpy()
        for ax, name in zip(axes[:2], ("linear (Adam)", "MLP (Adam)")):
            model = runs[name][0]
            decision_regions(ax, lambda p, m=model: m(minigrad.tensor(p)).argmax(-1), xs, ys)
            ax.set(title=f"{name}: accuracy {result['accuracy'][name]:.1%}")
        for name, losses in result["losses"].items():
            axes[2].plot(losses, label=name)
        axes[2].set(xlabel="epoch", ylabel="cross-entropy", yscale="log", title="training loss")
        axes[2].legend()
        result["plot"] = save(fig, args.out, "mlp_classification.png")
        say(args, f"wrote {result['plot']}")
    return result


if __name__ == "__main__":
    main(sys.argv[1:])

"""Logistic regression: a linear decision boundary between two classes.

Two Gaussian clouds in 2-D; the model is `nn.Linear(2, 1)` producing a logit, trained with
binary cross-entropy on logits (`F.binary_cross_entropy_with_logits`, which folds the sigmoid
in stably). Prints train/test accuracy; writes out/logistic_regression.png with the decision
boundary (where sigmoid(logit) = 0.5) and the loss curve.

    python examples/logistic_regression.py [--epochs 100] [--lr 0.5] [--quiet] [--out out]
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np
from _common import blobs, parse_args, progress, pyplot, save, say, set_postfix, split

import minigrad
import minigrad.nn.functional as F
from minigrad import nn, optim


def main(argv: Sequence[str] | None = None) -> dict:
    args = parse_args(__doc__.splitlines()[0], argv, epochs=100, lr=0.5)
    rng = np.random.default_rng(args.seed)
    minigrad.manual_seed(args.seed)
    x, y = blobs(150, [(-1.0, -0.5), (1.0, 1.0)], rng, spread=0.7)
    train, test = split(len(x), (0.75, 0.25), rng)
    x_train, y_train = minigrad.tensor(x[train]), minigrad.tensor(y[train], dtype=minigrad.float32)
    x_test, y_test = minigrad.tensor(x[test]), minigrad.tensor(y[test], dtype=minigrad.float32)

    model = nn.Linear(2, 1)
    opt = optim.SGD(model.parameters(), lr=args.lr)
    losses = []
    bar = progress(range(args.epochs), quiet=args.quiet, desc="logistic")
    for _ in bar:
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(model(x_train).squeeze(-1), y_train)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        set_postfix(bar, loss=losses[-1])

    def accuracy(xs, ys) -> float:
        with minigrad.no_grad():
            predicted = model(xs).squeeze(-1).sigmoid() > 0.5
        return float((predicted == (ys > 0.5)).float().mean())

    result = dict(
        losses=losses, train_acc=accuracy(x_train, y_train), test_acc=accuracy(x_test, y_test)
    )
    say(
        args,
        f"loss {losses[0]:.3f} -> {losses[-1]:.3f}; "
        f"accuracy train {result['train_acc']:.1%}, test {result['test_acc']:.1%}",
    )

    if not args.no_plot:
        plt = pyplot()
        fig, (ax, ax_loss) = plt.subplots(1, 2, figsize=(11, 4))
        from _common import decision_regions

        def predict(points):
            return (model(minigrad.tensor(points)).squeeze(-1) > 0).long()

        decision_regions(ax, predict, x, y)
        # the boundary itself: w0 x0 + w1 x1 + b = 0
        (w0, w1), b = model.weight.detach().numpy()[0], model.bias.item()
        xs = np.array([x[:, 0].min(), x[:, 0].max()])
        ax.plot(xs, -(w0 * xs + b) / w1, "k-", lw=1.5, label="sigmoid(w·x + b) = 0.5")
        ax.set(title=f"test accuracy {result['test_acc']:.1%}")
        ax.legend(fontsize=8)
        ax_loss.plot(losses)
        ax_loss.set(xlabel="epoch", ylabel="BCE", title="training loss")
        result["plot"] = save(fig, args.out, "logistic_regression.png")
        say(args, f"wrote {result['plot']}")
    return result


if __name__ == "__main__":
    main(sys.argv[1:])

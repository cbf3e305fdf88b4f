"""Softmax regression: a multi-class linear classifier trained with cross-entropy.

Four Gaussian clouds in 2-D; `nn.Linear(2, 4)` gives one logit per class and
`F.cross_entropy` (log-softmax + negative log-likelihood) trains it on mini-batches with SGD
with momentum. Prints train/test accuracy; writes out/softmax_classification.png with the
(piecewise linear) decision regions and the loss curve.

    python examples/softmax_classification.py [--epochs 30] [--lr 0.1] [--quiet] [--out out]
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np
from _common import (
    accuracy,
    batches,
    blobs,
    decision_regions,
    parse_args,
    progress,
    pyplot,
    save,
    say,
    set_postfix,
    split,
)

import minigrad
import minigrad.nn.functional as F
from minigrad import nn, optim

CENTRES = [(-2.0, 0.0), (2.0, 0.0), (0.0, 2.0), (0.0, -2.0)]


def main(argv: Sequence[str] | None = None) -> dict:
    args = parse_args(__doc__.splitlines()[0], argv, epochs=30, lr=0.1)
    rng = np.random.default_rng(args.seed)
    minigrad.manual_seed(args.seed)
    x, y = blobs(150, CENTRES, rng, spread=0.8)
    train, test = split(len(x), (0.8, 0.2), rng)
    x_train, y_train = minigrad.tensor(x[train]), minigrad.tensor(y[train])
    x_test, y_test = minigrad.tensor(x[test]), minigrad.tensor(y[test])

    model = nn.Linear(2, len(CENTRES))
    opt = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    losses = []
    bar = progress(range(args.epochs), quiet=args.quiet, desc="softmax")
    for epoch in bar:
        total, seen = 0.0, 0
        for xb, yb in batches(x_train, y_train, 32, shuffle=True, seed=args.seed + epoch):
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
            seen += len(xb)
        losses.append(total / seen)
        set_postfix(bar, loss=losses[-1])

    with minigrad.no_grad():
        result = dict(
            losses=losses,
            train_acc=accuracy(model(x_train), y_train),
            test_acc=accuracy(model(x_test), y_test),
        )
    say(
        args,
        f"loss {losses[0]:.3f} -> {losses[-1]:.3f}; "
        f"accuracy train {result['train_acc']:.1%}, test {result['test_acc']:.1%}",
    )

    if not args.no_plot:
        plt = pyplot()
        fig, (ax, ax_loss) = plt.subplots(1, 2, figsize=(11, 4))
        decision_regions(ax, lambda p: model(minigrad.tensor(p)).argmax(-1), x, y)
        ax.set(title=f"{len(CENTRES)} classes, test accuracy {result['test_acc']:.1%}")
        ax_loss.plot(losses)
        ax_loss.set(xlabel="epoch", ylabel="cross-entropy", title="training loss")
        result["plot"] = save(fig, args.out, "softmax_classification.png")
        say(args, f"wrote {result['plot']}")
    return result


if __name__ == "__main__":
    main(sys.argv[1:])

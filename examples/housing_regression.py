"""Multi-feature linear regression with feature standardisation (California-housing style).

The data are generated here with known weights, shaped like the California-housing table:
eight features with very different scales (median income in $10k, house age in years,
population in people, latitude/longitude in degrees, ...) and the median house value in $100k
as target. Features are standardised with training-split statistics, `nn.Linear(8, 1)` is
trained on mini-batches with SGD, and the learned weights are mapped back to the raw feature
units and printed beside the true ones and the least-squares answer. Without standardisation
the same learning rate diverges: the population column alone is ~1000x the income column.
Writes out/housing_regression.png.

    python examples/housing_regression.py [--epochs 20] [--lr 0.05] [--quiet] [--out out]
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import numpy as np
from _common import (
    Standardiser,
    batches,
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

# name, mean, spread, true weight (target units per feature unit)
FEATURES = [
    ("MedInc", 3.9, 1.9, 0.44),
    ("HouseAge", 28.6, 12.6, 0.0095),
    ("AveRooms", 5.4, 2.5, -0.11),
    ("AveBedrms", 1.1, 0.47, 0.65),
    ("Population", 1425.0, 1132.0, -2.0e-5),
    ("AveOccup", 3.1, 1.0, -0.035),
    ("Latitude", 35.6, 2.1, -0.42),
    ("Longitude", -119.6, 2.0, -0.43),
]
TRUE_BIAS = -36.9
NOISE = 0.5


def make_data(rng: np.random.Generator, n: int = 2000) -> tuple[np.ndarray, np.ndarray]:
    means = np.array([f[1] for f in FEATURES])
    spreads = np.array([f[2] for f in FEATURES])
    x = means + spreads * rng.standard_normal((n, len(FEATURES)))
    y = x @ true_weights() + TRUE_BIAS + NOISE * rng.standard_normal(n)
    return x, y[:, None]


def true_weights() -> np.ndarray:
    return np.array([f[3] for f in FEATURES])


def main(argv: Sequence[str] | None = None) -> dict:
    args = parse_args(__doc__.splitlines()[0], argv, epochs=20, lr=0.05)
    rng = np.random.default_rng(args.seed)
    minigrad.manual_seed(args.seed)
    x, y = make_data(rng)
    train, test = split(len(x), (0.8, 0.2), rng)
    scale = Standardiser(x[train])
    x_train, y_train = (
        minigrad.tensor(scale(x[train])),
        minigrad.tensor(y[train], dtype=minigrad.float32),
    )
    x_test, y_test = (
        minigrad.tensor(scale(x[test])),
        minigrad.tensor(y[test], dtype=minigrad.float32),
    )

    model = nn.Linear(len(FEATURES), 1)
    opt = optim.SGD(model.parameters(), lr=args.lr)
    losses = []
    bar = progress(range(args.epochs), quiet=args.quiet, desc="housing")
    for epoch in bar:
        total = 0.0
        for xb, yb in batches(x_train, y_train, 64, shuffle=True, seed=args.seed + epoch):
            opt.zero_grad()
            loss = F.mse_loss(model(xb), yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
        losses.append(total / len(train))
        set_postfix(bar, mse=losses[-1])

    # back to raw units: y = sum_j ws_j (x_j - m_j)/s_j + bs
    #   =>  w_j = ws_j / s_j,  b = bs - sum_j w_j m_j
    w = model.weight.detach().numpy()[0].astype(np.float64) / scale.std
    b = model.bias.item() - float(w @ scale.mean)
    design = np.hstack([x[train], np.ones((len(train), 1))])
    closed = np.linalg.lstsq(design, y[train], rcond=None)[0].ravel()
    with minigrad.no_grad():
        test_mse = F.mse_loss(model(x_test), y_test).item()

    say(args, f"{'feature':>11} {'true':>10} {'learned':>10} {'least sq.':>10}")
    for (name, *_), wt, wl, wc in zip(FEATURES, true_weights(), w, closed):
        say(args, f"{name:>11} {wt:10.4g} {wl:10.4g} {wc:10.4g}")
    say(
        args,
        f"{'bias':>11} {TRUE_BIAS:10.4g} {b:10.4g} {closed[-1]:10.4g}",
        f"MSE train {losses[-1]:.3f}, test {test_mse:.3f} (noise variance {NOISE**2:.3f})",
    )

    result = dict(losses=losses, weights=w, bias=b, closed=closed, test_mse=test_mse, std=scale.std)
    if not args.no_plot:
        plt = pyplot()
        fig, (ax_w, ax_fit) = plt.subplots(1, 2, figsize=(12, 4.2))
        # compare effects per standard deviation of each feature, so all bars are visible
        pos = np.arange(len(FEATURES))
        ax_w.bar(pos - 0.2, true_weights() * scale.std, 0.4, label="true")
        ax_w.bar(pos + 0.2, w * scale.std, 0.4, label="learned")
        ax_w.set_xticks(pos, [f[0] for f in FEATURES], rotation=45)
        ax_w.set(ylabel="effect of +1 std ($100k)", title="weights (standardised units)")
        ax_w.legend()
        with minigrad.no_grad():
            pred = model(x_test).numpy()[:, 0]
        ax_fit.scatter(y[test][:, 0], pred, s=6, alpha=0.6)
        lims = [y.min(), y.max()]
        ax_fit.plot(lims, lims, "k--", lw=1)
        ax_fit.set(xlabel="true value", ylabel="predicted", title=f"test MSE {test_mse:.3f}")
        result["plot"] = save(fig, args.out, "housing_regression.png")
        say(args, f"wrote {result['plot']}")
    return result


if __name__ == "__main__":
    main(sys.argv[1:])

"""minigrad in one minute: train an MLP on spirals, then look at its graph and gradients.

Trains the MLP of examples/mlp_classification.py (2-64-64-3, ReLU, Adam, cross-entropy) on three
spiral arms for a short run with a progress bar, then

- writes out/demo_spirals.png: the learned decision regions and the loss curve;
- runs one more forward/backward with `minigrad.viz.backprop` and draws that graph: one box per
  layer listing its parameters and their gradient norms, each tensor's value and gradient, op
  nodes numbered in backward order (out/demo_graph.svg and .png, the DOT text as .dot; only the
  DOT text when Graphviz's `dot` is not installed);
- writes out/demo_backprop.html: backward on four points, one op at a time (open it in a
  browser, press the right arrow).

    python examples/demo.py [--epochs 300] [--quiet] [--out out]
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Sequence

from _common import accuracy, decision_regions, parse_args, pyplot, save, say
from mlp_classification import make_data, make_mlp, train

import minigrad
import minigrad.nn.functional as F
from minigrad import optim, viz


def draw_graph(model, x, y, out: str) -> dict[str, str]:
    """One recorded forward/backward of `model`, drawn by `viz.backprop`: one box per layer with
    its parameters' gradient norms, every tensor's value and gradient, ops numbered in backward
    order (out/demo_graph.{svg,png,dot}); and the step-through page of backward on four points
    (out/demo_backprop.html). Without graphviz's `dot` only the DOT text is written."""
    params = dict(model.named_parameters())
    with viz.record_modules():
        loss = F.cross_entropy(model(x), y)
    drawing = viz.backprop(loss, params=params, collapse_modules=True, rankdir="TB")
    os.makedirs(out, exist_ok=True)
    paths = {"dot": os.path.join(out, "demo_graph.dot")}
    with open(paths["dot"], "w") as f:
        f.write(drawing.source)
    if not shutil.which("dot"):
        print(
            "note: graphviz's `dot` program is not installed, so only the DOT text was written "
            "(Debian/Ubuntu: sudo apt install graphviz; macOS: brew install graphviz; or run "
            "`make demo` as root, which installs it)",
            file=sys.stderr,
        )
        return paths
    stem = os.path.join(out, "demo_graph")
    for fmt in ("svg", "png"):
        paths[fmt] = str(drawing.render(stem, format=fmt, cleanup=False))
    os.replace(stem, paths["dot"])  # render() saved the DOT text under the bare stem
    model.zero_grad()
    few = F.cross_entropy(model(x[:4]), y[:4])
    paths["html"] = viz.to_html(few, os.path.join(out, "demo_backprop.html"), params=params)
    return paths


def main(argv: Sequence[str] | None = None) -> dict:
    args = parse_args(__doc__.splitlines()[0], argv, epochs=300, lr=0.01)
    x, y = make_data(args.seed)
    model = make_mlp(seed=args.seed)
    opt = optim.Adam(model.parameters(), lr=args.lr)
    say(args, f"training {model.__class__.__name__} on {len(x)} spiral points")
    losses = train(model, opt, x, y, args.epochs, quiet=args.quiet, desc="spirals (Adam)")
    with minigrad.no_grad():
        acc = accuracy(model(x), y)
    say(args, f"loss {losses[0]:.3f} -> {losses[-1]:.3f}, accuracy {acc:.1%}")
    result: dict = dict(losses=losses, accuracy=acc)
    if args.no_plot:
        return result

    plt = pyplot()
    fig, (ax, ax_loss) = plt.subplots(1, 2, figsize=(11, 4.2))
    decision_regions(ax, lambda p: model(minigrad.tensor(p)).argmax(-1), x.numpy(), y.numpy())
    ax.set(title=f"MLP 2-64-64-3 on spirals: accuracy {acc:.1%}")
    ax_loss.plot(losses)
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy", yscale="log", title="training loss")
    result["plot"] = save(fig, args.out, "demo_spirals.png")
    result["graph"] = draw_graph(model, x, y, args.out)
    say(args, f"wrote {result['plot']}", *(f"wrote {p}" for p in result["graph"].values()))
    return result


if __name__ == "__main__":
    main(sys.argv[1:])

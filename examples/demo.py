"""minigrad in one minute: train an MLP on spirals, then look at its graph and gradients.

Trains the MLP of examples/mlp_classification.py (2-64-64-3, ReLU, Adam, cross-entropy) on three
spiral arms for a short run with a progress bar, then

- writes out/demo_spirals.png: the learned decision regions and the loss curve;
- runs one more forward/backward while recording which module made each op and tracing the
  backward pass, and draws that graph with `minigrad.viz`: one box per layer, each tensor's
  value and gradient, op nodes numbered in backward order (out/demo_graph.png, plus the DOT
  text as out/demo_graph.dot; only the DOT text when Graphviz's `dot` is not installed).

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


def _trace():
    """`minigrad.autograd.trace` (records the backward pass so the drawing can number it)."""
    trace = getattr(minigrad.autograd, "trace", None)
    if trace is None:  # TODO(lead): autograd.py lost its `trace` re-export in 1b71af4
        from minigrad._trace import trace
    return trace


def draw_graph(model, x, y, out: str) -> dict[str, str]:
    """One recorded forward/backward of `model` drawn as out/demo_graph.{dot,png}."""
    with viz.record_modules():
        loss = F.cross_entropy(model(x), y)
    with _trace()() as tr:
        loss.backward()
    kwargs = dict(
        params=dict(model.named_parameters()), collapse_modules=True, trace=tr, rankdir="TB"
    )
    os.makedirs(out, exist_ok=True)
    paths = {"dot": os.path.join(out, "demo_graph.dot")}
    with open(paths["dot"], "w") as f:
        f.write(viz.to_dot(loss, **kwargs))
    if shutil.which("dot"):
        stem = os.path.join(out, "demo_graph")
        rendered = viz.draw(loss, **kwargs).render(stem, format="png", cleanup=True)
        paths["png"] = str(rendered)
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

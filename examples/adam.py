"""The Adam lesson: why per-parameter step sizes and bias correction matter, computed by hand
next to minigrad's optimizers on an ill-conditioned 2-D loss.

    loss(x, y) = 0.5 * (x^2 + 50 y^2)      curvature 1 along x, 50 along y

- SGD, SGD with momentum, RMSprop and Adam start from the same point; their trajectories are
  drawn over the loss's contour plot (out/adam_trajectories.png). SGD's learning rate must stay
  below 2/50 or it diverges along y, so it crawls along x; Adam divides each coordinate's step
  by the root of its own squared-gradient average, so both coordinates move at about lr a step.
- Adam without bias correction: its averages start at 0, so at t = 1 m = (1 - b1) g and
  sqrt(v) = sqrt(1 - b2) |g|, and the step is lr * 0.1 / 0.0316 = 3.16 lr: the first steps are
  mis-scaled (too long here, shrinking only as v warms up over ~1/(1 - b2) steps). With the
  correction m / (1 - b1^t), v / (1 - b2^t) the first step is lr * sign(g) exactly.
- The update written out by hand (m, v, bias correction, step) equals `optim.Adam` to float
  tolerance, step for step.

    python examples/adam.py [--epochs 60] [--out out]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from _common import parse_args, pyplot, save, say

import minigrad as mg
from minigrad import optim

CURVATURE = np.array([1.0, 50.0])
START = (-4.0, 1.0)


def loss_fn(p: mg.Tensor) -> mg.Tensor:
    return 0.5 * (mg.tensor(CURVATURE, dtype=p.dtype) * p * p).sum()


def run(make_optimizer, steps: int) -> np.ndarray:
    """The path of one optimizer from START: [steps + 1, 2]."""
    p = mg.tensor(START, dtype=mg.float64, requires_grad=True)
    opt = make_optimizer([p])
    path = [p.detach().numpy().copy()]
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(p).backward()
        opt.step()
        path.append(p.detach().numpy().copy())
    return np.array(path)


def adam_by_hand(steps: int, lr: float, b1=0.9, b2=0.999, eps=1e-8, bias_correction=True):
    """Adam, one line of the paper per line of code (Kingma & Ba, Algorithm 1)."""
    p = np.array(START)
    m = np.zeros(2)  # first moment: a running mean of the gradient
    v = np.zeros(2)  # second moment: a running mean of its square
    path = [p.copy()]
    for t in range(1, steps + 1):
        g = CURVATURE * p  # the gradient of 0.5 * sum(c p^2)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        if bias_correction:  # m and v started at 0: divide out the weight they are missing
            m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        else:
            m_hat, v_hat = m, v
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)  # each coordinate: its own step size
        path.append(p.copy())
    return np.array(path)


def main(argv: Sequence[str] | None = None) -> dict:
    args = parse_args(__doc__.splitlines()[0], argv, epochs=60, lr=0.3)
    steps, lr = args.epochs, args.lr
    optimizers = {
        "SGD (lr 0.035)": lambda ps: optim.SGD(ps, lr=0.035),
        "SGD + momentum 0.9": lambda ps: optim.SGD(ps, lr=0.035, momentum=0.9),
        f"RMSprop (lr {lr / 3:.2g})": lambda ps: optim.RMSprop(ps, lr=lr / 3),
        f"Adam (lr {lr})": lambda ps: optim.Adam(ps, lr=lr),
    }
    paths = {name: run(make, steps) for name, make in optimizers.items()}
    final = {name: float(0.5 * (CURVATURE * path[-1] ** 2).sum()) for name, path in paths.items()}

    by_hand = adam_by_hand(steps, lr)
    adam_path = paths[f"Adam (lr {lr})"]
    hand_vs_optim = float(np.abs(by_hand - adam_path).max())
    no_correction = adam_by_hand(steps, lr, bias_correction=False)
    first_steps = {
        "with bias correction": np.abs(np.diff(by_hand[:6], axis=0)),
        "without": np.abs(np.diff(no_correction[:6], axis=0)),
    }
    # The first corrected step is lr * sign(g) in every coordinate, whatever the curvature:
    # m_hat / sqrt(v_hat) = g / |g| at t = 1 (up to eps).
    first_corrected = first_steps["with bias correction"][0]
    say(args, *(f"{name:22s} loss after {steps} steps: {v:.3g}" for name, v in final.items()))
    say(
        args,
        f"hand-written Adam vs optim.Adam: max difference {hand_vs_optim:.2e}",
        f"first step with bias correction {first_corrected}, without {first_steps['without'][0]}",
    )
    result = dict(
        final_loss=final,
        hand_vs_optim=hand_vs_optim,
        first_steps={k: v.tolist() for k, v in first_steps.items()},
        paths={k: v.tolist() for k, v in paths.items()},
    )
    if args.no_plot:
        return result

    plt = pyplot()
    fig, (ax, ax_steps) = plt.subplots(1, 2, figsize=(12, 4.6))
    xs, ys = np.meshgrid(np.linspace(-4.5, 4.5, 200), np.linspace(-1.5, 1.5, 200))
    ax.contour(xs, ys, 0.5 * (xs**2 + 50 * ys**2), levels=np.geomspace(0.02, 60, 14), cmap="Greys")
    for name, path in paths.items():
        ax.plot(path[:, 0], path[:, 1], ".-", ms=3, lw=1, label=name)
    ax.plot(*START, "k*", ms=10)
    ax.set(title="0.5 (x² + 50 y²): per-parameter step sizes", xlabel="x", ylabel="y")
    ax.legend(fontsize=8, loc="lower right")
    t = np.arange(1, 6)
    for label, style in (("with bias correction", "-o"), ("without", "--s")):
        d = first_steps[label]
        ax_steps.plot(t, d[:, 0], style, label=f"|Δx|, {label}")
        ax_steps.plot(t, d[:, 1], style, label=f"|Δy|, {label}", alpha=0.6)
    ax_steps.axhline(lr, color="grey", lw=0.8)
    ax_steps.set(
        title=f"Adam's first steps (lr = {lr}: the grey line)",
        xlabel="step t",
        ylabel="step length",
        yscale="log",
    )
    ax_steps.legend(fontsize=8)
    result["plot"] = save(fig, args.out, "adam_trajectories.png")
    say(args, f"wrote {result['plot']}")
    return result


if __name__ == "__main__":
    main()

"""Backprop by hand, checked by minigrad: L = ((a*b + c).tanh() - y)^2.

Runs the forward pass printing every intermediate, then the backward pass one chain-rule step at
a time, compares each hand-computed gradient with minigrad's `.grad` and with finite differences
(`minigrad.testing.gradcheck`), prints the engine's own record of the backward steps
(`mg.autograd.trace()`), and draws the graph numbered in backward order.

    python examples/backprop_walkthrough.py [out_dir]      # writes out_dir/walkthrough.svg
"""

from __future__ import annotations

import math
import sys

import minigrad as mg


def leaves():
    f64 = mg.float64
    a = mg.tensor(0.5, dtype=f64, requires_grad=True)
    b = mg.tensor(-1.5, dtype=f64, requires_grad=True)
    c = mg.tensor(0.25, dtype=f64, requires_grad=True)
    y = mg.tensor(0.1, dtype=f64)  # the target: a constant, no gradient
    for t, name in ((a, "a"), (b, "b"), (c, "c"), (y, "y")):
        t.name = name
    return a, b, c, y


def forward(a, b, c, y):
    """The expression, keeping each intermediate (retain_grad: so the drawing shows its grad)."""
    d = a * b
    e = d + c
    t = e.tanh()
    r = t - y
    L = r**2
    for x, name in ((d, "d = a*b"), (e, "e = d + c"), (t, "t = tanh(e)"), (r, "r = t - y")):
        x.name = name
        x.retain_grad()
    L.name = "L = r^2"
    return d, e, t, r, L


def main(out_dir: str | None = "out") -> dict:
    a, b, c, y = leaves()
    d, e, t, r, L = forward(a, b, c, y)
    print("forward")
    for x in (a, b, c, y, d, e, t, r, L):
        print(f"  {x.name:12s} = {x.item(): .6f}")

    with mg.autograd.trace() as tr:
        L.backward()

    # The chain rule, from the output back, each step "upstream grad x local derivative".
    print("\nbackward (chain rule by hand)")
    dL = 1.0
    dr = dL * 2 * r.item()  # d(r^2)/dr = 2r
    print(f"  dL/dr = 2r                = {dr: .6f}")
    dt = dr * 1.0  # d(t - y)/dt = 1
    print(f"  dL/dt = dL/dr * 1         = {dt: .6f}")
    de = dt * (1 - t.item() ** 2)  # d tanh(e)/de = 1 - tanh(e)^2
    print(f"  dL/de = dL/dt * (1 - t^2) = {de: .6f}")
    dd, dc = de * 1.0, de * 1.0  # d(d + c)/dd = d(d + c)/dc = 1
    print(f"  dL/dd = dL/de * 1         = {dd: .6f}")
    print(f"  dL/dc = dL/de * 1         = {dc: .6f}")
    da, db = dd * b.item(), dd * a.item()  # d(ab)/da = b, d(ab)/db = a
    print(f"  dL/da = dL/dd * b         = {da: .6f}")
    print(f"  dL/db = dL/dd * a         = {db: .6f}")

    hand = {"a": da, "b": db, "c": dc, "d": dd, "e": de, "t": dt, "r": dr}
    got = {"a": a, "b": b, "c": c, "d": d, "e": e, "t": t, "r": r}
    print("\nminigrad's .grad")
    for k, x in got.items():
        ok = math.isclose(x.grad.item(), hand[k], rel_tol=1e-12, abs_tol=1e-15)
        print(f"  {k}: {x.grad.item(): .6f}  {'matches' if ok else 'DIFFERS'}")
        assert ok, (k, x.grad.item(), hand[k])

    try:
        from minigrad.testing import gradcheck
    except ImportError:
        gradcheck = None
    if gradcheck is not None:
        fn = lambda a, b, c: ((a * b + c).tanh() - y) ** 2
        assert gradcheck(
            fn,
            (a.detach().requires_grad_(), b.detach().requires_grad_(), c.detach().requires_grad_()),
        )
        print("\ngradcheck (central finite differences, float64): passed")

    print("\nthe engine's backward steps (mg.autograd.trace)")
    print(tr)

    if out_dir is not None:
        import minigrad.viz as viz

        graph = viz.draw(L, trace=tr)
        try:
            path = graph.render(f"{out_dir}/walkthrough", format="svg")
            print(f"\ndrew the graph (numbers = backward order): {path}")
        except (viz.GraphvizNotFound, ImportError) as err:
            print(f"\n(no picture: {err})")
    return {"hand": hand, "trace": tr, "L": L}


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "out")

"""End to end: an MLP trained for 20 steps from the same initial weights in minigrad and in
PyTorch gives the same losses (float32, 1e-4 relative)."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn, optim

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("opt", ["SGD", "Adam"])
def test_mlp_matches_torch_for_20_steps(opt):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 4)).astype(np.float32)
    y = rng.integers(0, 3, 64)
    ours = nn.MLP([4, 16, 16, 3], activation="gelu")
    theirs = torch.nn.Sequential(
        torch.nn.Linear(4, 16), torch.nn.GELU(), torch.nn.Linear(16, 16), torch.nn.GELU(),
        torch.nn.Linear(16, 3),
    )  # fmt: skip
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    kw = {"lr": 0.05, "momentum": 0.9} if opt == "SGD" else {"lr": 1e-2}
    o = getattr(optim, opt)(ours.parameters(), **kw)
    t = getattr(torch.optim, opt)(theirs.parameters(), **kw)
    Xm, ym, Xt, yt = mg.tensor(X), mg.tensor(y), torch.tensor(X), torch.tensor(y)
    losses, tlosses = [], []
    for _ in range(20):
        o.zero_grad()
        loss = F.cross_entropy(ours(Xm), ym, label_smoothing=0.05)
        loss.backward()
        o.step()
        t.zero_grad()
        tloss = torch.nn.functional.cross_entropy(theirs(Xt), yt, label_smoothing=0.05)
        tloss.backward()
        t.step()
        losses.append(loss.item())
        tlosses.append(tloss.item())
    np.testing.assert_allclose(losses, tlosses, rtol=1e-4)
    assert losses[-1] < losses[0]

"""minigrad runs PyTorch code: a training script written for torch, with only imports changed.

And, where torch is installed, the same MLP from the same initial weights trains identically in
both (Adam + cross-entropy, 20 steps, losses within 1e-4 relative).
"""

from __future__ import annotations

import numpy as np
import pytest

# Written exactly as for PyTorch. Only the import block is rewritten for minigrad.
TORCH_SCRIPT = """
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

torch.manual_seed(0)
n, d, classes = 256, 10, 3
x = torch.randn(n, d)
w_true = torch.randn(d, classes)
y = (x @ w_true).argmax(dim=1)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(d, 32)
        self.fc2 = nn.Linear(32, classes)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


model = Net()
optimizer = optim.Adam(model.parameters(), lr=1e-2)
loss_fn = nn.CrossEntropyLoss()
losses = []
for epoch in range(60):
    optimizer.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())

with torch.no_grad():
    accuracy = (model(x).argmax(dim=1) == y).float().mean().item()
"""

MINIGRAD_IMPORTS = {
    "import torch\n": "import minigrad as torch\n",
    "import torch.nn as nn\n": "import minigrad.nn as nn\n",
    "import torch.nn.functional as F\n": "import minigrad.nn.functional as F\n",
    "import torch.optim as optim\n": "import minigrad.optim as optim\n",
}


def _with_minigrad_imports(script: str) -> str:
    header, body = script.split("\ntorch.manual_seed", 1)
    for old, new in MINIGRAD_IMPORTS.items():
        assert old in header
        header = header.replace(old, new)
    assert "torch" not in header.replace(
        "minigrad as torch", ""
    )  # nothing else still imports torch
    return header + "\ntorch.manual_seed" + body


def test_pytorch_script_trains_with_only_imports_changed():
    env: dict = {}
    exec(compile(_with_minigrad_imports(TORCH_SCRIPT), "<pytorch script>", "exec"), env)
    losses = env["losses"]
    assert losses[-1] < 0.3 * losses[0]
    assert env["accuracy"] > 0.9
    assert isinstance(env["accuracy"], float)


def test_same_script_runs_under_torch():
    # The script really is PyTorch code (guards against drifting into minigrad-only API).
    pytest.importorskip("torch")
    env: dict = {}
    exec(compile(TORCH_SCRIPT, "<pytorch script>", "exec"), env)
    assert env["losses"][-1] < 0.3 * env["losses"][0]


def test_mlp_training_matches_torch_step_for_step():
    torch = pytest.importorskip("torch")
    import minigrad as mg
    import minigrad.nn.functional as F
    from minigrad import nn, optim

    rng = np.random.default_rng(0)
    sizes = (20, 32, 32, 5)
    x = rng.standard_normal((64, sizes[0])).astype(np.float32)
    y = rng.integers(0, sizes[-1], 64)
    weights = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        bound = 1 / np.sqrt(n_in)
        weights.append(rng.uniform(-bound, bound, (n_out, n_in)).astype(np.float32))
        weights.append(rng.uniform(-bound, bound, n_out).astype(np.float32))

    def layers(lib_nn):
        mods = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            mods += [lib_nn.Linear(n_in, n_out), lib_nn.ReLU()]
        return lib_nn.Sequential(*mods[:-1])

    t_model = layers(torch.nn)
    m_model = layers(nn)
    with torch.no_grad(), mg.no_grad():
        for tp, mp, w in zip(t_model.parameters(), m_model.parameters(), weights):
            assert tuple(tp.shape) == tuple(mp.shape) == w.shape
            tp.copy_(torch.from_numpy(w))
            mp.copy_(mg.tensor(w))
    t_opt = torch.optim.Adam(t_model.parameters(), lr=1e-3)
    m_opt = optim.Adam(m_model.parameters(), lr=1e-3)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    mx, my = mg.tensor(x), mg.tensor(y)

    t_losses, m_losses = [], []
    for _ in range(20):
        t_opt.zero_grad()
        t_loss = torch.nn.functional.cross_entropy(t_model(tx), ty)
        t_loss.backward()
        t_opt.step()
        t_losses.append(t_loss.item())

        m_opt.zero_grad()
        m_loss = F.cross_entropy(m_model(mx), my)
        m_loss.backward()
        m_opt.step()
        m_losses.append(m_loss.item())
        assert m_loss.dtype == mg.float32

    np.testing.assert_allclose(m_losses, t_losses, rtol=1e-4)
    assert t_losses[-1] < t_losses[0]  # it trained, so the agreement is not trivial
    for tp, mp in zip(t_model.parameters(), m_model.parameters()):
        np.testing.assert_allclose(mp.detach().numpy(), tp.detach().numpy(), rtol=1e-3, atol=1e-5)

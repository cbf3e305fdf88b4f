"""A training script in the idioms PyTorch programs use around the model, run once with torch and
once with minigrad posing as torch (only imports changed): `Generator`-seeded `random_split` and
`DataLoader(generator=)`, `torch.backends` flags, `torch.compile`, `GradScaler(enabled=False)` and
`autocast`, evaluation under `torch.no_grad()`, and a whole-model checkpoint saved with
`torch.save(model, path)` and reloaded both with `weights_only=False` and, the torch >= 2.6 way,
with `weights_only=True` inside `torch.serialization.safe_globals([...])`.

(Evaluation uses `torch.no_grad()`: `inference_mode` is another helper's work in progress.)
"""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

SCRIPT = """
import os
import tempfile

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset, random_split

torch.manual_seed(0)
torch.backends.cuda.matmul.allow_tf32 = True
torch.backends.cudnn.allow_tf32 = True
torch.backends.cudnn.benchmark = True
device = "cuda" if torch.cuda.is_available() else "cpu"

n, d, classes = 400, 8, 3
x = torch.randn(n, d)
y = (x @ torch.randn(d, classes)).argmax(dim=1)
g = torch.Generator().manual_seed(42)
train_set, val_set = random_split(TensorDataset(x, y), [0.8, 0.2], generator=g)
loader = DataLoader(train_set, batch_size=32, shuffle=True, generator=torch.Generator().manual_seed(1))
val_loader = DataLoader(val_set, batch_size=64)


class Classifier(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d, hidden), nn.ReLU(), nn.Linear(hidden, classes))
        self.temperature = 1.0

    def forward(self, x):
        return self.net(x) / self.temperature


model = Classifier()
compiled = torch.compile(model, backend="eager")
optimizer = optim.AdamW(model.parameters(), lr=1e-2)
scaler = torch.amp.GradScaler("cpu", enabled=False)

for epoch in range(8):
    model.train()
    for xb, yb in loader:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device_type="cpu", dtype=torch.float16, enabled=False):
            loss = F.cross_entropy(compiled(xb), yb)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()


def evaluate(m):
    m.eval()
    correct = 0
    with torch.no_grad():
        for xb, yb in val_loader:
            correct += (m(xb).argmax(dim=1) == yb).sum().item()
    return correct / len(val_set)


accuracy = evaluate(model)
order_a = [b[1].tolist() for b in DataLoader(train_set, batch_size=50, shuffle=True,
                                             generator=torch.Generator().manual_seed(7))]
order_b = [b[1].tolist() for b in DataLoader(train_set, batch_size=50, shuffle=True,
                                             generator=torch.Generator().manual_seed(7))]

with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "model.pt")
    torch.save(model, path)
    trusted = torch.load(path, weights_only=False)
    try:
        torch.load(path)  # weights_only=True by default: Classifier is not allowlisted
        refused = False
    except Exception as e:
        refused = "add_safe_globals" in str(e)
    with torch.serialization.safe_globals([Classifier, nn.Sequential, nn.Linear, nn.ReLU]):
        allowed = torch.load(path, weights_only=True)
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 8},
               path)
    checkpoint = torch.load(path, map_location="cpu")

reloaded_accuracy = [evaluate(trusted), evaluate(allowed)]
"""

MINIGRAD_IMPORTS = {
    "import torch\n": "import minigrad as torch\n",
    "import torch.nn as nn\n": "import minigrad.nn as nn\n",
    "import torch.nn.functional as F\n": "import minigrad.nn.functional as F\n",
    "import torch.optim as optim\n": "import minigrad.optim as optim\n",
    "from torch.utils.data import": "from minigrad.utils.data import",
}


def _run(minigrad: bool) -> dict:
    code = SCRIPT
    if minigrad:
        header, body = code.split("\ntorch.manual_seed", 1)
        for old, new in MINIGRAD_IMPORTS.items():
            header = header.replace(old, new)
        assert "torch" not in header.replace("minigrad as torch", "")
        code = header + "\ntorch.manual_seed" + body
    # a real module, so that pickle (torch) and mg.load find the script's class by name
    name = f"compat_script_{'minigrad' if minigrad else 'torch'}"
    module = types.ModuleType(name)
    sys.modules[name] = module
    try:
        exec(compile(code, f"<{name}>", "exec"), module.__dict__)
    finally:
        del sys.modules[name]
    return module.__dict__


@pytest.mark.parametrize("framework", ["minigrad", "torch"])
def test_compat_script_runs_and_learns(framework):
    if framework == "torch":
        pytest.importorskip("torch")
    env = _run(framework == "minigrad")
    assert env["accuracy"] > 0.85
    assert env["order_a"] == env["order_b"]  # the Generator makes shuffles reproducible
    assert env["refused"] is True
    assert env["reloaded_accuracy"] == [env["accuracy"]] * 2
    assert env["checkpoint"]["epoch"] == 8
    assert len(env["train_set"]) == 320 and len(env["val_set"]) == 80
    np.testing.assert_array_equal(
        env["allowed"].net[0].weight.detach().numpy(), env["model"].net[0].weight.detach().numpy()
    )

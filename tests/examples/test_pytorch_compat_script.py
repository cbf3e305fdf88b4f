"""A training script in the idioms PyTorch programs use around the model, run once with torch and
once with minigrad posing as torch (only imports changed): data and initial weights loaded from
files (`np.load`, `torch.from_numpy`, `model.load_state_dict(torch.load(...))`), `Generator`-seeded
`random_split` and `DataLoader(generator=)`, `torch.backends` flags, `torch.compile`,
`model.to(device)`, `GradScaler(enabled=False)` and `autocast`, `clip_grad_norm_`, a `StepLR`
schedule, `running_loss += loss.item() * xb.size(0)`, evaluation under `torch.inference_mode()`
(as a context manager and as a decorator) with `_, predicted = torch.max(outputs.data, 1)`, the
best model's state_dict kept with `copy.deepcopy`, and a whole-model checkpoint saved with
`torch.save(model, path)` and reloaded both with `weights_only=False` and, the torch >= 2.6 way,
with `weights_only=True` inside `torch.serialization.safe_globals([...])`.

The training itself runs on a fixed split without shuffling, so both frameworks see the same
batches from the same initial weights: their losses, accuracies and weights must agree (the
seeded shuffles and splits are checked for reproducibility within each framework; their random
streams differ from torch's).
"""

from __future__ import annotations

import os
import sys
import types

import numpy as np
import pytest

SCRIPT = """
import copy
import os
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, Subset, TensorDataset, random_split

torch.manual_seed(0)
torch.backends.cuda.matmul.allow_tf32 = True
torch.backends.cudnn.allow_tf32 = True
torch.backends.cudnn.benchmark = True
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

data_dir = os.environ["COMPAT_SCRIPT_DATA"]
arrays = np.load(os.path.join(data_dir, "data.npz"))
x, y = torch.from_numpy(arrays["x"]).float(), torch.from_numpy(arrays["y"]).long()
dataset = TensorDataset(x, y)
d, classes = x.shape[1], int(y.max()) + 1

# the seeded idioms: a random split and shuffled loaders, reproducible from their Generators
g = torch.Generator().manual_seed(42)
random_train, random_val = random_split(dataset, [0.8, 0.2], generator=g)
order_a = [b[1].tolist() for b in DataLoader(random_train, batch_size=50, shuffle=True,
                                             generator=torch.Generator().manual_seed(7))]
order_b = [b[1].tolist() for b in DataLoader(random_train, batch_size=50, shuffle=True,
                                             generator=torch.Generator().manual_seed(7))]

# the training: a fixed split, batches in order
train_set = Subset(dataset, list(range(320)))
val_set = Subset(dataset, list(range(320, len(dataset))))
loader = DataLoader(train_set, batch_size=32, shuffle=False)
val_loader = DataLoader(val_set, batch_size=64)


class Classifier(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d, hidden), nn.ReLU(), nn.Linear(hidden, classes))
        self.temperature = 1.0

    def forward(self, x):
        return self.net(x) / self.temperature


model = Classifier()
model.load_state_dict(torch.load(os.path.join(data_dir, "init.pt"), map_location="cpu"))
model = model.to(device)
compiled = torch.compile(model, backend="eager")
criterion = nn.CrossEntropyLoss()
optimizer = optim.AdamW(model.parameters(), lr=1e-2, weight_decay=1e-2)
scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.5)
scaler = torch.amp.GradScaler("cpu", enabled=False)


@torch.inference_mode()
def evaluate(m):
    m.eval()
    correct, total, loss_sum = 0, 0, 0.0
    for xb, yb in val_loader:
        xb, yb = xb.to(device), yb.to(device)
        outputs = m(xb)
        loss_sum += F.cross_entropy(outputs, yb, reduction="sum").item()
        _, predicted = torch.max(outputs.data, 1)
        total += yb.size(0)
        correct += (predicted == yb).sum().item()
    return correct / total, loss_sum / total


history, best_accuracy, best_state = [], 0.0, None
for epoch in range(8):
    model.train()
    running_loss = 0.0
    for xb, yb in loader:
        xb, yb = xb.to(device), yb.to(device)
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device_type="cpu", dtype=torch.float16, enabled=False):
            loss = criterion(compiled(xb), yb)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=5.0)
        scaler.step(optimizer)
        scaler.update()
        running_loss += loss.item() * xb.size(0)
    scheduler.step()
    val_accuracy, val_loss = evaluate(model)
    history.append((running_loss / len(train_set), val_accuracy, val_loss, scheduler.get_last_lr()[0]))
    if val_accuracy >= best_accuracy:
        best_accuracy, best_state = val_accuracy, copy.deepcopy(model.state_dict())

accuracy = evaluate(model)[0]
with torch.inference_mode():
    probabilities = F.softmax(model(x[:5]), dim=-1)
    predictions = probabilities.argmax(dim=-1).tolist()
inference_tensor = probabilities.is_inference()

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
    torch.save({"model": best_state, "optimizer": optimizer.state_dict(), "epoch": 8}, path)
    checkpoint = torch.load(path, map_location="cpu")

best = Classifier()
best.load_state_dict(checkpoint["model"])
reloaded_accuracy = [evaluate(trusted)[0], evaluate(allowed)[0]]
best_accuracy_reloaded = evaluate(best)[0]
"""

MINIGRAD_IMPORTS = {
    "import torch\n": "import minigrad as torch\n",
    "import torch.nn as nn\n": "import minigrad.nn as nn\n",
    "import torch.nn.functional as F\n": "import minigrad.nn.functional as F\n",
    "import torch.optim as optim\n": "import minigrad.optim as optim\n",
    "from torch.utils.data import": "from minigrad.utils.data import",
}


def _write_inputs(folder, minigrad: bool) -> None:
    """The data file and the initial weights (the same numbers, in each framework's format)."""
    r = np.random.default_rng(0)
    x = r.standard_normal((400, 8)).astype(np.float32)
    y = (x @ r.standard_normal((8, 3))).argmax(axis=1)
    np.savez(os.path.join(folder, "data.npz"), x=x, y=y)
    shapes = {"net.0.weight": (32, 8), "net.0.bias": (32,), "net.2.weight": (3, 32),
              "net.2.bias": (3,)}  # fmt: skip
    init = {k: (r.uniform(-1, 1, s) / np.sqrt(s[-1])).astype(np.float32) for k, s in shapes.items()}
    if minigrad:
        import minigrad

        minigrad.save(
            {k: minigrad.tensor(v) for k, v in init.items()}, os.path.join(folder, "init.pt")
        )
    else:
        import torch

        torch.save(
            {k: torch.from_numpy(v) for k, v in init.items()}, os.path.join(folder, "init.pt")
        )


def _run(minigrad: bool, folder, monkeypatch) -> dict:
    _write_inputs(folder, minigrad)
    monkeypatch.setenv("COMPAT_SCRIPT_DATA", str(folder))
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


def _check(env) -> None:
    assert env["accuracy"] > 0.85
    assert env["order_a"] == env["order_b"]  # the Generator makes shuffles reproducible
    assert len(env["random_train"]) == 320 and len(env["random_val"]) == 80
    assert env["refused"] is True
    assert env["reloaded_accuracy"] == [env["accuracy"]] * 2
    assert env["best_accuracy_reloaded"] == env["best_accuracy"]
    assert env["checkpoint"]["epoch"] == 8
    assert env["inference_tensor"] is True
    np.testing.assert_array_equal(
        env["allowed"].net[0].weight.detach().numpy(), env["model"].net[0].weight.detach().numpy()
    )


@pytest.mark.parametrize("framework", ["minigrad", "torch"])
def test_compat_script_runs_and_learns(framework, tmp_path, monkeypatch):
    if framework == "torch":
        pytest.importorskip("torch")
    _check(_run(framework == "minigrad", tmp_path, monkeypatch))


def test_compat_script_gives_torchs_numbers(tmp_path, monkeypatch):
    pytest.importorskip("torch")
    (tmp_path / "torch").mkdir()
    (tmp_path / "minigrad").mkdir()
    theirs = _run(False, tmp_path / "torch", monkeypatch)
    ours = _run(True, tmp_path / "minigrad", monkeypatch)
    np.testing.assert_allclose(np.array(ours["history"]), np.array(theirs["history"]), rtol=1e-5)
    assert ours["predictions"] == theirs["predictions"]
    np.testing.assert_allclose(
        ours["probabilities"].numpy(), theirs["probabilities"].numpy(), rtol=1e-4, atol=1e-6
    )
    for name, value in theirs["model"].state_dict().items():
        np.testing.assert_allclose(
            ours["model"].state_dict()[name].numpy(), value.numpy(), rtol=1e-4, atol=1e-5
        )

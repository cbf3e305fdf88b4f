"""minigrad runs PyTorch code: training scripts written for torch, with only imports changed (an
MLP, a small CNN as in the MNIST tutorial, and a small GPT in the style of nanoGPT with AdamW param
groups, warm-up + cosine schedules, gradient clipping and a DataLoader).

And, where torch is installed, the same MLP from the same initial weights trains identically in
both (Adam + cross-entropy, 20 steps, losses within 1e-4 relative), and the GPT and CNN scripts
build the same parameters (state_dict keys and shapes) and learn by the same bar under both.
"""

from __future__ import annotations

import functools

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

# A GPT on a copy task (the second half of each row repeats the first), as a PyTorch user writes
# one: attention by hand with a registered causal-mask buffer, nn.ModuleList, module.apply init.
GPT_SCRIPT = """import math

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
vocab, block, n_embd, n_head = 8, 12, 32, 4

# copy-the-sequence task: the second half repeats the first
first = torch.randint(1, vocab, (256, block // 2))
data = torch.cat([first, first], dim=1)
loader = DataLoader(TensorDataset(data[:, :-1], data[:, 1:]), batch_size=32, shuffle=True)


class CausalSelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = nn.Linear(n_embd, 3 * n_embd)
        self.proj = nn.Linear(n_embd, n_embd)
        self.register_buffer("mask", torch.tril(torch.ones(block, block, dtype=torch.bool)))

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.qkv(x).split(n_embd, dim=2)
        q = q.view(B, T, n_head, C // n_head).transpose(1, 2)
        k = k.view(B, T, n_head, C // n_head).transpose(1, 2)
        v = v.view(B, T, n_head, C // n_head).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(~self.mask[:T, :T], float("-inf"))
        att = F.softmax(att, dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.proj(y)


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(n_embd), nn.LayerNorm(n_embd)
        self.attn = CausalSelfAttention()
        self.mlp = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.GELU(), nn.Linear(4 * n_embd, n_embd), nn.Dropout(0.0))

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class TinyGPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(vocab, n_embd)
        self.pos = nn.Parameter(torch.zeros(1, block, n_embd))
        self.blocks = nn.ModuleList([Block() for _ in range(2)])
        self.ln_f = nn.LayerNorm(n_embd)
        self.head = nn.Linear(n_embd, vocab, bias=False)
        self.apply(self._init)

    def _init(self, module):
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)

    def forward(self, idx, targets=None):
        T = idx.shape[1]
        x = self.tok(idx) + self.pos[:, :T, :]
        for blk in self.blocks:
            x = blk(x)
        logits = self.head(self.ln_f(x))
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
        return logits, loss


model = TinyGPT()
n_params = sum(p.numel() for p in model.parameters())
decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
optimizer = optim.AdamW(
    [{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
    lr=1e-2, betas=(0.9, 0.95),
)
epochs = 15
warmup = optim.lr_scheduler.LinearLR(optimizer, start_factor=0.1, total_iters=len(loader))
cosine = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=(epochs - 1) * len(loader))
scheduler = optim.lr_scheduler.SequentialLR(optimizer, [warmup, cosine], milestones=[len(loader)])

losses = []
model.train()
for epoch in range(epochs):
    for xb, yb in loader:
        _, loss = model(xb, yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())

model.eval()
with torch.no_grad():
    logits, _ = model(data[:64, :-1])
    pred = logits.argmax(dim=-1)
    # accuracy on the copied half (positions whose answer is in the context)
    second = slice(block // 2 - 1, block - 1)
    accuracy = (pred[:, second] == data[:64, 1:][:, second]).float().mean().item()
state = model.state_dict()
"""

# A small CNN, MNIST-tutorial style: Conv2d, BatchNorm2d, max_pool2d, Dropout, log_softmax +
# nll_loss, SGD with momentum, StepLR; on images whose class is the quadrant of a bright blob.
CNN_SCRIPT = """import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
# 12x12 images with a bright 3x3 blob in one of four quadrants: the class is the quadrant
n = 512
labels = torch.randint(0, 4, (n,))
images = 0.3 * torch.randn(n, 1, 12, 12)
rows = (labels // 2) * 6 + torch.randint(0, 4, (n,))
cols = (labels % 2) * 6 + torch.randint(0, 4, (n,))
for i in range(n):
    images[i, 0, rows[i] : rows[i] + 3, cols[i] : cols[i] + 3] += 1.0
train = DataLoader(TensorDataset(images[:384], labels[:384]), batch_size=32, shuffle=True)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3)
        self.dropout = nn.Dropout(0.25)
        self.fc = nn.Linear(16 * 2 * 2, 4)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = self.dropout(torch.flatten(x, 1))
        return F.log_softmax(self.fc(x), dim=1)


model = Net()
optimizer = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.5)
losses = []
for epoch in range(6):
    model.train()
    for data, target in train:
        optimizer.zero_grad()
        loss = F.nll_loss(model(data), target)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    scheduler.step()

model.eval()
with torch.no_grad():
    output = model(images[384:])
    pred = output.argmax(dim=1, keepdim=True)
    accuracy = pred.eq(labels[384:].view_as(pred)).sum().item() / 128
"""

MINIGRAD_IMPORTS = {
    "import torch\n": "import minigrad as torch\n",
    "import torch.nn as nn\n": "import minigrad.nn as nn\n",
    "import torch.nn.functional as F\n": "import minigrad.nn.functional as F\n",
    "import torch.optim as optim\n": "import minigrad.optim as optim\n",
    "from torch.utils.data import": "from minigrad.utils.data import",
}


def _with_minigrad_imports(script: str) -> str:
    header, body = script.split("\ntorch.manual_seed", 1)
    for old, new in MINIGRAD_IMPORTS.items():
        header = header.replace(old, new)
    assert "torch" not in header.replace(
        "minigrad as torch", ""
    )  # nothing else still imports torch
    return header + "\ntorch.manual_seed" + body


@functools.cache
def _run(script: str, minigrad: bool) -> dict:
    """The script's globals after running it under minigrad (imports changed) or torch; each
    script runs once per framework and process."""
    env: dict = {}
    code = _with_minigrad_imports(script) if minigrad else script
    exec(compile(code, "<pytorch script>", "exec"), env)
    return env


def test_pytorch_script_trains_with_only_imports_changed():
    env = _run(TORCH_SCRIPT, minigrad=True)
    losses = env["losses"]
    assert losses[-1] < 0.3 * losses[0]
    assert env["accuracy"] > 0.9
    assert isinstance(env["accuracy"], float)


def test_same_script_runs_under_torch():
    # The script really is PyTorch code (guards against drifting into minigrad-only API).
    pytest.importorskip("torch")
    env = _run(TORCH_SCRIPT, minigrad=False)
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


def _gpt_learned(env: dict) -> bool:
    losses = env["losses"]  # chance on the copied half is 1/7
    return np.mean(losses[-8:]) < 0.92 * np.mean(losses[:8]) and env["accuracy"] > 0.25


def _cnn_learned(env: dict) -> bool:
    losses = env["losses"]  # held-out images; chance is 1/4
    return np.mean(losses[-5:]) < 0.2 * np.mean(losses[:5]) and env["accuracy"] > 0.9


SCRIPTS = {"gpt": (GPT_SCRIPT, _gpt_learned), "cnn": (CNN_SCRIPT, _cnn_learned)}


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_trains_with_only_imports_changed(name):
    script, learned = SCRIPTS[name]
    env = _run(script, minigrad=True)
    assert learned(env), (env["losses"][:5], env["losses"][-5:], env["accuracy"])


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_builds_the_same_parameters_and_learns_under_torch(name):
    pytest.importorskip("torch")
    script, learned = SCRIPTS[name]
    ours, theirs = _run(script, minigrad=True), _run(script, minigrad=False)
    shapes = lambda env: [(k, tuple(v.shape)) for k, v in env["model"].state_dict().items()]
    assert shapes(ours) == shapes(theirs)
    assert learned(theirs)

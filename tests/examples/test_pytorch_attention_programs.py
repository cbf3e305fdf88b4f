"""PyTorch programs built on torch's attention modules and L-BFGS, written for torch and run
once with torch and once with minigrad posing as torch (only the imports change):

- a `nn.TransformerEncoder` sequence classifier: token embedding with padding_idx, sinusoidal
  positional encoding in a registered buffer, a CLS token, `src_key_padding_mask`, AdamW,
  gradient clipping, DataLoader batches, eval under no_grad (torch's nested-tensor path);
- a `nn.MultiheadAttention` set model: self-attention and learned-query pooling over padded
  sets with `key_padding_mask`, (seq, batch, feature) layout, the returned attention weights;
- an L-BFGS curve fit: a four-parameter damped oscillation in a Module, closure,
  `line_search_fn="strong_wolfe"`.

Each must learn by its bar under both frameworks, build the same parameters, and land near
torch's figures.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.examples.test_pytorch_script import _run

ENCODER_CLASSIFIER = """import math

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader, TensorDataset

torch.manual_seed(0)
PAD, CLS, vocab, max_len = 0, 1, 8, 12

# Sequences of tokens 2..7 of varying length, padded with PAD; the label says whether token 2
# occurs more often than token 3 in the sequence.
n = 576
lengths = torch.randint(4, max_len + 1, (n,))
tokens = torch.randint(2, vocab, (n, max_len))
positions = torch.arange(max_len).unsqueeze(0)
tokens = tokens.masked_fill(positions >= lengths.unsqueeze(1), PAD)
labels = ((tokens == 2).sum(dim=1) > (tokens == 3).sum(dim=1)).long()
train_loader = DataLoader(TensorDataset(tokens[:448], labels[:448]), batch_size=32, shuffle=True)


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, max_len=64):
        super().__init__()
        position = torch.arange(max_len).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, d_model, 2) * (-math.log(10000.0) / d_model))
        pe = torch.zeros(1, max_len, d_model)
        pe[0, :, 0::2] = torch.sin(position * div_term)
        pe[0, :, 1::2] = torch.cos(position * div_term)
        self.register_buffer("pe", pe)

    def forward(self, x):
        return x + self.pe[:, : x.size(1)]


class TransformerClassifier(nn.Module):
    def __init__(self, d_model=32, nhead=4, num_layers=2, num_classes=2):
        super().__init__()
        self.embedding = nn.Embedding(vocab, d_model, padding_idx=PAD)
        self.pos_encoder = PositionalEncoding(d_model)
        encoder_layer = nn.TransformerEncoderLayer(
            d_model, nhead, dim_feedforward=64, dropout=0.1, batch_first=True
        )
        self.encoder = nn.TransformerEncoder(encoder_layer, num_layers)
        self.classifier = nn.Linear(d_model, num_classes)
        self.d_model = d_model

    def forward(self, src):
        # prepend a CLS token; its final state summarises the sequence
        cls = torch.full((src.size(0), 1), CLS, dtype=src.dtype)
        src = torch.cat([cls, src], dim=1)
        padding_mask = src == PAD
        x = self.embedding(src) * math.sqrt(self.d_model)
        x = self.pos_encoder(x)
        x = self.encoder(x, src_key_padding_mask=padding_mask)
        return self.classifier(x[:, 0])


model = TransformerClassifier()
optimizer = optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
criterion = nn.CrossEntropyLoss()
losses = []
for epoch in range(6):
    model.train()
    for batch, target in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(batch), target)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())

model.eval()
with torch.no_grad():
    logits = model(tokens[448:])
    accuracy = (logits.argmax(dim=-1) == labels[448:]).float().mean().item()
"""

ATTENTION_POOLING = """import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

torch.manual_seed(0)
# Sets of 2..10 points (x, w) padded to 10 rows; the target is the w-weighted mean of x over
# the real points. A self-attention layer and a learned-query pooling must ignore the padding.
n, max_set, d_model = 512, 10, 32
sizes = torch.randint(2, max_set + 1, (n,))
points = torch.randn(n, max_set, 2)
padding_mask = torch.arange(max_set).expand(n, max_set) >= sizes.unsqueeze(1)
points[padding_mask] = 0.0
weights = points[..., 1].abs().masked_fill(padding_mask, 0.0) + 0.1 * (~padding_mask).float()
targets = (weights * points[..., 0]).sum(dim=1) / weights.sum(dim=1)


class AttentionPool(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Sequential(nn.Linear(2, d_model), nn.ReLU(), nn.Linear(d_model, d_model))
        self.self_attn = nn.MultiheadAttention(d_model, num_heads=4)
        self.norm = nn.LayerNorm(d_model)
        self.query = nn.Parameter(torch.randn(1, 1, d_model) * 0.1)
        self.pool = nn.MultiheadAttention(d_model, num_heads=4)
        self.head = nn.Linear(d_model, 1)

    def forward(self, x, key_padding_mask):
        h = self.embed(x).transpose(0, 1)  # (set, batch, feature): the default layout
        attended, _ = self.self_attn(h, h, h, key_padding_mask=key_padding_mask, need_weights=False)
        h = self.norm(h + attended)
        query = self.query.expand(1, x.size(0), -1)
        pooled, attn_weights = self.pool(query, h, h, key_padding_mask=key_padding_mask)
        return self.head(pooled.squeeze(0)).squeeze(-1), attn_weights


model = AttentionPool()
optimizer = optim.Adam(model.parameters(), lr=3e-3)
losses = []
for step in range(150):
    idx = torch.randint(0, 448, (64,))
    prediction, _ = model(points[idx], padding_mask[idx])
    loss = F.mse_loss(prediction, targets[idx])
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())

model.eval()
with torch.no_grad():
    prediction, attn_weights = model(points[448:], padding_mask[448:])
    test_mse = F.mse_loss(prediction, targets[448:]).item()
    baseline = targets[448:].var().item()
    weight_on_padding = attn_weights.squeeze(1).masked_select(padding_mask[448:]).abs().max().item()
"""

LBFGS_FIT = """import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim

torch.manual_seed(0)
# Noisy samples of a damped oscillation; recover its four parameters with L-BFGS.
t = torch.linspace(0, 10, 200)
true = {"amplitude": 2.0, "decay": 0.3, "frequency": 1.5, "phase": 0.5}
y = true["amplitude"] * torch.exp(-true["decay"] * t) * torch.sin(true["frequency"] * t + true["phase"])
y = y + 0.05 * torch.randn_like(y)


class DampedOscillation(nn.Module):
    def __init__(self):
        super().__init__()
        self.amplitude = nn.Parameter(torch.tensor(1.0))
        self.decay = nn.Parameter(torch.tensor(0.1))
        self.frequency = nn.Parameter(torch.tensor(1.4))
        self.phase = nn.Parameter(torch.tensor(0.0))

    def forward(self, t):
        return self.amplitude * torch.exp(-self.decay * t) * torch.sin(self.frequency * t + self.phase)


model = DampedOscillation()
optimizer = optim.LBFGS(model.parameters(), lr=1, max_iter=20, history_size=10, line_search_fn="strong_wolfe")
losses = []


def closure():
    optimizer.zero_grad()
    loss = F.mse_loss(model(t), y)
    loss.backward()
    return loss


for step in range(10):
    loss = optimizer.step(closure)
    losses.append(loss.item())

fitted = {name: p.item() for name, p in model.named_parameters()}
final_loss = F.mse_loss(model(t), y).item()
"""


def _classifier_learned(env) -> bool:
    losses = env["losses"]  # held-out sequences; about half of each class
    return np.mean(losses[-20:]) < 0.6 * np.mean(losses[:20]) and env["accuracy"] > 0.9


def _pooling_learned(env) -> bool:
    losses = env["losses"]
    return (
        np.mean(losses[-10:]) < 0.2 * np.mean(losses[:10])
        and env["test_mse"] < 0.25 * env["baseline"]
        and env["weight_on_padding"] == 0.0  # padded set members get no attention at all
    )


def _fit_learned(env) -> bool:
    fitted, true = env["fitted"], env["true"]
    return env["final_loss"] < 0.004 and all(abs(fitted[k] - true[k]) < 0.05 for k in true)


PROGRAMS = {
    "encoder_classifier": (ENCODER_CLASSIFIER, _classifier_learned),
    "attention_pooling": (ATTENTION_POOLING, _pooling_learned),
    "lbfgs_fit": (LBFGS_FIT, _fit_learned),
}


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
@pytest.mark.parametrize("name", PROGRAMS)
def test_program_learns_with_only_imports_changed(name):
    script, learned = PROGRAMS[name]
    env = _run(script, minigrad=True)
    assert learned(env), {k: env[k] for k in ("losses",) if k in env}


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
@pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors")
@pytest.mark.parametrize("name", PROGRAMS)
def test_program_matches_torch(name):
    torch = pytest.importorskip("torch")
    script, learned = PROGRAMS[name]
    ours = _run(script, minigrad=True)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # these models are tiny: threads only add overhead on shared CPUs
    try:
        theirs = _run(script, minigrad=False)
    finally:
        torch.set_num_threads(threads)
    assert learned(theirs)
    shapes = lambda env: [(k, tuple(v.shape)) for k, v in env["model"].state_dict().items()]
    assert shapes(ours) == shapes(theirs)
    if name == "encoder_classifier":
        assert abs(ours["accuracy"] - theirs["accuracy"]) < 0.05
    elif name == "attention_pooling":
        assert ours["test_mse"] < 2 * theirs["test_mse"] + 0.01
    else:
        for key, value in theirs["fitted"].items():
            assert abs(ours["fitted"][key] - value) < 0.05

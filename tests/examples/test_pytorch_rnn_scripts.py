"""PyTorch programs with recurrent nets run with only their imports changed (issue 11): each is
written for torch in the idioms public programs use, runs once under torch and once under
minigrad posing as torch, and both runs must learn by the same bar.

- LSTM_LM_SCRIPT: a character language model (Embedding -> 2-layer LSTM with dropout -> Linear)
  trained with truncated backpropagation through time (`hidden = tuple(h.detach() ...)`),
  clip_grad_norm_ and Adam, then greedy generation from a 1x1 input with carried state.
- GRU_NAMES_SCRIPT: name classification (the tutorial idiom): letters embedded, a batch_first GRU
  over left-padded `pad_sequence` batches, log_softmax + NLLLoss, SGD with momentum; then one
  name fed letter by letter through a GRUCell holding the GRU's weights (must agree).
- SEQ2SEQ_SCRIPT: an encoder-decoder that reverses sequences: a bidirectional LSTM encoder over
  `pack_padded_sequence(enforce_sorted=False)` / `pad_packed_sequence`, its final states bridged
  into an LSTM decoder run step by step with teacher forcing, CrossEntropyLoss(ignore_index).
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

LSTM_LM_SCRIPT = """import torch
import torch.nn as nn
import torch.optim as optim

torch.manual_seed(0)
text = "the quick brown fox jumps over the lazy dog. " * 12
chars = sorted(set(text))
stoi = {c: i for i, c in enumerate(chars)}
data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
batch_size, bptt = 8, 16
n = data.size(0) // batch_size
data = data[: n * batch_size].view(batch_size, -1).t().contiguous()  # [time, batch]


class CharLM(nn.Module):
    def __init__(self, vocab, emb=16, hidden=48, layers=2, dropout=0.1):
        super().__init__()
        self.encoder = nn.Embedding(vocab, emb)
        self.rnn = nn.LSTM(emb, hidden, layers, dropout=dropout)
        self.drop = nn.Dropout(dropout)
        self.decoder = nn.Linear(hidden, vocab)
        self.hidden_size, self.layers = hidden, layers

    def forward(self, input, hidden):
        output, hidden = self.rnn(self.drop(self.encoder(input)), hidden)
        return self.decoder(self.drop(output)), hidden

    def init_hidden(self, bsz):
        return (torch.zeros(self.layers, bsz, self.hidden_size),
                torch.zeros(self.layers, bsz, self.hidden_size))


model = CharLM(len(chars))
criterion = nn.CrossEntropyLoss()
optimizer = optim.Adam(model.parameters(), lr=0.01)
losses = []
for epoch in range(6):
    model.train()
    hidden = model.init_hidden(batch_size)
    for i in range(0, data.size(0) - 1, bptt):
        seq_len = min(bptt, data.size(0) - 1 - i)
        inputs, targets = data[i : i + seq_len], data[i + 1 : i + 1 + seq_len].reshape(-1)
        hidden = tuple(h.detach() for h in hidden)  # truncated backpropagation through time
        optimizer.zero_grad()
        output, hidden = model(inputs, hidden)
        loss = criterion(output.view(-1, len(chars)), targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        optimizer.step()
        losses.append(loss.item())

model.eval()
with torch.no_grad():
    hidden = model.init_hidden(1)
    idx = torch.tensor([[stoi["t"]]])
    generated = "t"
    for _ in range(40):
        output, hidden = model(idx, hidden)
        idx = output[-1].argmax(dim=-1).view(1, 1)
        generated += chars[idx.item()]
"""

GRU_NAMES_SCRIPT = """import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.nn.utils.rnn import pad_sequence

torch.manual_seed(0)
letters = "abcdefghijklmnopqrstuvwxyz"
# three made-up "languages": names drawn from different letter pools
pools = ["aeioulmn", "kztxrgb", "shwyvcf"]
names, labels = [], []
for label, pool in enumerate(pools):
    for _ in range(60):
        length = int(torch.randint(3, 8, (1,)))
        picks = torch.randint(0, len(pool), (length,))
        names.append("".join(pool[int(i)] for i in picks))
        labels.append(label)
labels = torch.tensor(labels)


def name_to_tensor(name):
    return torch.tensor([letters.index(c) + 1 for c in name])  # 0 is padding


class NameClassifier(nn.Module):
    def __init__(self, hidden=32, classes=3):
        super().__init__()
        self.embed = nn.Embedding(len(letters) + 1, 16, padding_idx=0)
        self.rnn = nn.GRU(16, hidden, batch_first=True)
        self.out = nn.Linear(hidden, classes)

    def forward(self, x):
        _, h_n = self.rnn(self.embed(x))
        return F.log_softmax(self.out(h_n[-1]), dim=1)


model = NameClassifier()
optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
criterion = nn.NLLLoss()
order = torch.randperm(len(names))
losses = []
for epoch in range(8):
    for start in range(0, len(names), 30):
        idx = order[start : start + 30]
        # left padding, so the last step of every row is a real letter
        batch = pad_sequence([name_to_tensor(names[i]) for i in idx], batch_first=True,
                             padding_side="left")
        optimizer.zero_grad()
        loss = criterion(model(batch), labels[idx])
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())

model.eval()
with torch.no_grad():
    batch = pad_sequence([name_to_tensor(n) for n in names], batch_first=True, padding_side="left")
    accuracy = (model(batch).argmax(1) == labels).float().mean().item()
    # a single name, one letter at a time through a GRUCell with the GRU's weights
    cell = nn.GRUCell(16, 32)
    cell.weight_ih.copy_(model.rnn.weight_ih_l0)
    cell.weight_hh.copy_(model.rnn.weight_hh_l0)
    cell.bias_ih.copy_(model.rnn.bias_ih_l0)
    cell.bias_hh.copy_(model.rnn.bias_hh_l0)
    h = torch.zeros(1, 32)
    for letter in name_to_tensor(names[0]):
        h = cell(model.embed(letter.view(1)), h)
    stepwise_matches = torch.allclose(h, model.rnn(model.embed(name_to_tensor(names[0]).view(1, -1)))[1][0], atol=1e-5)
"""

SEQ2SEQ_SCRIPT = """import random

import torch
import torch.nn as nn
import torch.optim as optim
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

torch.manual_seed(0)
random.seed(0)
PAD, SOS, EOS = 0, 1, 2
vocab = 10  # tokens 3..9 are the "words"
pairs = []
for _ in range(180):
    src = [random.randint(3, vocab - 1) for _ in range(random.randint(2, 6))]
    pairs.append((src, src[::-1] + [EOS]))  # learn to reverse the sequence


class Encoder(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.embedding = nn.Embedding(vocab, hidden, padding_idx=PAD)
        self.rnn = nn.LSTM(hidden, hidden, bidirectional=True)
        self.bridge = nn.Linear(2 * hidden, hidden)

    def forward(self, src, lengths):
        packed = pack_padded_sequence(self.embedding(src), lengths, enforce_sorted=False)
        outputs, (h, c) = self.rnn(packed)
        outputs, _ = pad_packed_sequence(outputs)
        h = torch.tanh(self.bridge(torch.cat([h[0], h[1]], dim=1))).unsqueeze(0)
        c = torch.tanh(self.bridge(torch.cat([c[0], c[1]], dim=1))).unsqueeze(0)
        return outputs, (h, c)


class Decoder(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.embedding = nn.Embedding(vocab, hidden, padding_idx=PAD)
        self.rnn = nn.LSTM(hidden, hidden)
        self.out = nn.Linear(hidden, vocab)

    def forward(self, token, hidden):
        output, hidden = self.rnn(self.embedding(token).unsqueeze(0), hidden)
        return self.out(output.squeeze(0)), hidden


hidden = 32
encoder, decoder = Encoder(hidden), Decoder(hidden)
params = list(encoder.parameters()) + list(decoder.parameters())
optimizer = optim.Adam(params, lr=0.01)
criterion = nn.CrossEntropyLoss(ignore_index=PAD)


def batchify(batch):
    src = pad_sequence([torch.tensor(s) for s, _ in batch], padding_value=PAD)
    tgt = pad_sequence([torch.tensor(t) for _, t in batch], padding_value=PAD)
    lengths = torch.tensor([len(s) for s, _ in batch])
    return src, lengths, tgt


def run(src, lengths, tgt, teacher_forcing):
    _, state = encoder(src, lengths)
    token = torch.full((src.size(1),), SOS, dtype=torch.long)
    logits = []
    for t in range(tgt.size(0)):
        step, state = decoder(token, state)
        logits.append(step)
        use_truth = random.random() < teacher_forcing
        token = tgt[t] if use_truth else step.argmax(1)
    return torch.stack(logits)


losses = []
for epoch in range(8):
    random.shuffle(pairs)
    for start in range(0, len(pairs), 45):
        src, lengths, tgt = batchify(pairs[start : start + 45])
        optimizer.zero_grad()
        logits = run(src, lengths, tgt, teacher_forcing=0.5)
        loss = criterion(logits.view(-1, vocab), tgt.view(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        losses.append(loss.item())

encoder.eval()
decoder.eval()
with torch.no_grad():
    src, lengths, tgt = batchify(pairs[:80])
    pred = run(src, lengths, tgt, teacher_forcing=0.0).argmax(2)
    mask = tgt != PAD
    token_accuracy = ((pred == tgt) & mask).sum().item() / mask.sum().item()
"""

MINIGRAD_IMPORTS = {
    "import torch\n": "import minigrad as torch\n",
    "import torch.nn as nn\n": "import minigrad.nn as nn\n",
    "import torch.nn.functional as F\n": "import minigrad.nn.functional as F\n",
    "import torch.optim as optim\n": "import minigrad.optim as optim\n",
    "from torch.nn.utils.rnn import": "from minigrad.nn.utils.rnn import",
}


def _with_minigrad_imports(script: str) -> str:
    header, body = script.split("\ntorch.manual_seed", 1)
    for old, new in MINIGRAD_IMPORTS.items():
        header = header.replace(old, new)
    assert "torch" not in header.replace("minigrad as torch", "")  # only imports changed
    return header + "\ntorch.manual_seed" + body


@functools.cache
def _run(script: str, minigrad: bool) -> dict:
    """The script's globals after one run under minigrad (imports changed) or torch."""
    env: dict = {}
    code = _with_minigrad_imports(script) if minigrad else script
    exec(compile(code, "<pytorch script>", "exec"), env)
    return env


def _lm_learned(env: dict) -> bool:
    losses = env["losses"]  # ln(vocab of 28) = 3.3 at the start
    return np.mean(losses[-5:]) < 0.6 * np.mean(losses[:5]) and len(env["generated"]) == 41


def _names_learned(env: dict) -> bool:
    return env["accuracy"] > 0.9 and bool(env["stepwise_matches"])


def _seq2seq_learned(env: dict) -> bool:
    losses = env["losses"]  # chance on a token is 1/8
    return np.mean(losses[-4:]) < 0.7 * np.mean(losses[:4]) and env["token_accuracy"] > 0.35


SCRIPTS = {
    "lstm_lm": (LSTM_LM_SCRIPT, _lm_learned),
    "gru_names": (GRU_NAMES_SCRIPT, _names_learned),
    "seq2seq": (SEQ2SEQ_SCRIPT, _seq2seq_learned),
}


@pytest.mark.parametrize("name", SCRIPTS)
def test_rnn_script_trains_with_only_imports_changed(name):
    script, learned = SCRIPTS[name]
    env = _run(script, minigrad=True)
    assert learned(env), (env["losses"][:4], env["losses"][-4:])


@pytest.mark.parametrize("name", SCRIPTS)
def test_rnn_script_builds_the_same_parameters_and_learns_under_torch(name):
    pytest.importorskip("torch")
    script, learned = SCRIPTS[name]
    ours, theirs = _run(script, minigrad=True), _run(script, minigrad=False)
    assert learned(theirs)
    modules = [k for k in ("model", "encoder", "decoder") if k in theirs]
    for key in modules:
        shapes = lambda env: [(k, tuple(v.shape)) for k, v in env[key].state_dict().items()]
        assert shapes(ours) == shapes(theirs)
    # near each other's figures: the final losses within a factor of 2
    assert np.mean(ours["losses"][-4:]) < 2 * np.mean(theirs["losses"][-4:]) + 0.05

"""A GPT-style decoder-only language model: token embedding, N pre-norm transformer blocks,
a final norm and a (tied or untied) LM head, with cached autoregressive `generate`.

Position information comes from RoPE inside attention by default; "sinusoidal" and "learned"
add an encoding to the token embeddings instead, and "none" leaves the model order-blind
(causal masking alone then tells it only how many tokens came before, not which).
"""

from __future__ import annotations

import math

import numpy as np

import minigrad as mg
from minigrad.nn import functional as F
from minigrad.nn import init
from minigrad.nn.attention import KVCache, SinusoidalPositionalEncoding
from minigrad.nn.layers import Embedding, LayerNorm, Linear, RMSNorm
from minigrad.nn.module import Module, ModuleList
from minigrad.nn.transformer import TransformerBlock
from minigrad.tensor import Tensor

_POSITIONS = ("rope", "sinusoidal", "learned", "none")


class GPT(Module):
    """Decoder-only transformer LM. `forward(idx, caches=None)` maps token ids [B, T] to logits
    [B, T, vocab_size]; `caches` (from `new_caches()`) makes it incremental."""

    def __init__(
        self,
        vocab_size: int,
        d_model: int = 128,
        n_layers: int = 4,
        n_heads: int = 4,
        max_seq_len: int = 256,
        n_kv_heads: int | None = None,
        pos_encoding: str = "rope",
        norm: str = "layer",
        mlp: str = "gelu",
        mlp_ratio: float = 4.0,
        tie_weights: bool = True,
        dropout: float = 0.0,
        bias: bool = False,
        device=None,
        dtype=None,
    ):
        super().__init__()
        if pos_encoding not in _POSITIONS:
            raise ValueError(f"pos_encoding must be one of {_POSITIONS}, got {pos_encoding!r}")
        kw = {"device": device, "dtype": dtype}
        self.vocab_size, self.d_model, self.max_seq_len = vocab_size, d_model, max_seq_len
        self.pos_encoding = pos_encoding
        self.tok_emb = Embedding(vocab_size, d_model, **kw)
        if pos_encoding == "learned":
            self.pos_emb = Embedding(max_seq_len, d_model, **kw)
        elif pos_encoding == "sinusoidal":
            self.pos_emb = SinusoidalPositionalEncoding(d_model)
        self.blocks = ModuleList(
            TransformerBlock(
                d_model, n_heads, mlp_ratio, norm, mlp, rope=pos_encoding == "rope", causal=True,
                bias=bias, dropout=dropout, n_kv_heads=n_kv_heads, **kw,
            )
            for _ in range(n_layers)
        )  # fmt: skip
        self.norm = (
            LayerNorm(d_model, **kw) if norm == "layer" else RMSNorm(d_model, eps=1e-6, **kw)
        )
        self.tie_weights = tie_weights
        if not tie_weights:
            self.head = Linear(d_model, vocab_size, bias=False, **kw)
        self._init_weights(n_layers)

    def _init_weights(self, n_layers: int) -> None:
        # GPT-2: N(0, 0.02) everywhere; residual-branch outputs shrunk by 1/sqrt(2 n_layers) so the
        # residual stream's variance does not grow with depth
        for name, p in self.named_parameters():
            if p.ndim == 2:
                std = 0.02 / math.sqrt(2 * n_layers) if name.endswith("proj.weight") else 0.02
                init.normal_(p, 0.0, std)
            elif name.endswith("bias"):
                init.zeros_(p)

    def new_caches(self) -> list[KVCache]:
        """One empty key/value cache per block, for `forward(idx, caches)`."""
        return [KVCache() for _ in self.blocks]

    def forward(self, idx: Tensor, caches: list[KVCache] | None = None) -> Tensor:
        if idx.ndim != 2:
            raise RuntimeError(f"GPT: expected token ids [B, T], got shape {list(idx.shape)}")
        if idx.dtype.kind not in "iu":
            raise RuntimeError(f"GPT: token ids must be integers, got {idx.dtype}")
        past = len(caches[0]) if caches else 0
        t = idx.shape[1]
        if self.pos_encoding != "rope" and past + t > self.max_seq_len:
            raise RuntimeError(
                f"GPT: sequence of {past + t} tokens exceeds max_seq_len={self.max_seq_len}"
            )
        x = self.tok_emb(idx)
        if self.pos_encoding == "learned":
            x = x + self.pos_emb(mg.arange(past, past + t, device=idx.device))
        elif self.pos_encoding == "sinusoidal":
            x = self.pos_emb(x, past)
        if caches is not None and len(caches) != len(self.blocks):
            raise ValueError(f"GPT: got {len(caches)} caches for {len(self.blocks)} blocks")
        for k, block in enumerate(self.blocks):
            x = block(x, cache=caches[k] if caches is not None else None)
        x = self.norm(x)
        weight = self.tok_emb.weight if self.tie_weights else self.head.weight
        return F.linear(x, weight)

    @mg.no_grad()
    def generate(
        self, idx: Tensor, max_new_tokens: int, temperature: float = 1.0, top_k: int | None = None
    ) -> Tensor:
        """Append `max_new_tokens` sampled tokens to idx [B, T] and return [B, T + new].

        Sampling is from softmax(logits / temperature), restricted to the `top_k` most likely
        tokens when given; `temperature=0` picks the most likely token (greedy). Keys and values
        are cached, so each new token costs one position of work; when the context reaches
        `max_seq_len`, the cache is rebuilt from the last `max_seq_len - 1` tokens.
        """
        if temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {temperature}")
        if top_k is not None and top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {top_k}")
        was_training = self.training
        self.eval()
        try:
            caches = self.new_caches()
            window = idx[:, -(self.max_seq_len - 1) :] if idx.shape[1] >= self.max_seq_len else idx
            logits = self(window, caches)[:, -1, :]
            for step in range(max_new_tokens):
                nxt = _sample(logits, temperature, top_k)
                idx = mg.cat([idx, nxt], dim=1)
                if step == max_new_tokens - 1:
                    break
                if len(caches[0]) + 1 > self.max_seq_len:
                    caches = self.new_caches()
                    logits = self(idx[:, -(self.max_seq_len - 1) :], caches)[:, -1, :]
                else:
                    logits = self(nxt, caches)[:, -1, :]
            return idx
        finally:
            self.train(was_training)


def _sample(logits: Tensor, temperature: float, top_k: int | None) -> Tensor:
    """Next token ids [B, 1] from last-position logits [B, V]."""
    if temperature == 0:
        return logits.argmax(-1, keepdim=True)
    logits = logits / temperature
    if top_k is not None and top_k < logits.shape[-1]:
        data = logits._host()
        kth = np.partition(data, -top_k, axis=-1)[:, -top_k][:, None]
        logits = logits.masked_fill(mg.tensor(data < kth, device=logits.device), -math.inf)
    return mg.multinomial(logits.softmax(-1), 1)

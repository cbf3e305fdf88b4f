"""Transformer building blocks: the position-wise MLPs (GELU `FeedForward`, gated `SwiGLU`) and
the pre-norm decoder `TransformerBlock` built on `MultiHeadAttention`.

    x = x + attn(norm1(x))      # tokens exchange information
    x = x + mlp(norm2(x))       # each token is transformed on its own

Pre-norm (normalise the input of each branch, not the residual stream) keeps the residual path
an identity, which is what lets deep stacks train without warm-up tricks.
"""

from __future__ import annotations

from minigrad.nn import functional as F
from minigrad.nn.attention import KVCache, MultiHeadAttention
from minigrad.nn.layers import Dropout, LayerNorm, Linear, RMSNorm
from minigrad.nn.module import Module
from minigrad.tensor import Tensor


class FeedForward(Module):
    """Linear(d, hidden) -> GELU -> Linear(hidden, d), the MLP of GPT-2."""

    def __init__(
        self,
        d_model: int,
        hidden: int,
        bias: bool = False,
        approximate: str = "none",
        device=None,
        dtype=None,
    ):
        super().__init__()
        self.fc = Linear(d_model, hidden, bias, device=device, dtype=dtype)
        self.proj = Linear(hidden, d_model, bias, device=device, dtype=dtype)
        self.approximate = approximate

    def forward(self, x: Tensor) -> Tensor:
        return self.proj(F.gelu(self.fc(x), approximate=self.approximate))


class SwiGLU(Module):
    """proj(silu(gate(x)) * up(x)), the gated MLP of PaLM and Llama."""

    def __init__(self, d_model: int, hidden: int, bias: bool = False, device=None, dtype=None):
        super().__init__()
        self.gate = Linear(d_model, hidden, bias, device=device, dtype=dtype)
        self.up = Linear(d_model, hidden, bias, device=device, dtype=dtype)
        self.proj = Linear(hidden, d_model, bias, device=device, dtype=dtype)

    def forward(self, x: Tensor) -> Tensor:
        return self.proj(F.silu(self.gate(x)) * self.up(x))


def _norm(kind: str, d_model: int, device, dtype) -> Module:
    if kind == "layer":
        return LayerNorm(d_model, device=device, dtype=dtype)
    if kind == "rms":
        return RMSNorm(d_model, eps=1e-6, device=device, dtype=dtype)
    raise ValueError(f"norm must be 'layer' or 'rms', got {kind!r}")


class TransformerBlock(Module):
    """A pre-norm decoder block: `x + attn(norm(x))`, then `x + mlp(norm(x))`.

    `norm` is "layer" (LayerNorm) or "rms" (RMSNorm); `mlp` is "gelu" (hidden = mlp_ratio *
    d_model) or "swiglu" (hidden = 2/3 of that, rounded up to a multiple of 8, so both have about
    the same parameter count). `dropout` applies to attention probabilities and both branch
    outputs. `forward(x, attn_mask=None, cache=None)` as `MultiHeadAttention`.
    """

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        mlp_ratio: float = 4.0,
        norm: str = "layer",
        mlp: str = "gelu",
        rope: bool = True,
        causal: bool = True,
        bias: bool = False,
        dropout: float = 0.0,
        n_kv_heads: int | None = None,
        device=None,
        dtype=None,
    ):
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        self.norm1 = _norm(norm, d_model, **kw)
        self.attn = MultiHeadAttention(
            d_model,
            n_heads,
            rope=rope,
            causal=causal,
            bias=bias,
            dropout=dropout,
            n_kv_heads=n_kv_heads,
            **kw,
        )
        self.norm2 = _norm(norm, d_model, **kw)
        hidden = int(mlp_ratio * d_model)
        if mlp == "gelu":
            self.mlp = FeedForward(d_model, hidden, bias, **kw)
        elif mlp == "swiglu":
            hidden = -(-int(2 * hidden / 3) // 8) * 8
            self.mlp = SwiGLU(d_model, hidden, bias, **kw)
        else:
            raise ValueError(f"mlp must be 'gelu' or 'swiglu', got {mlp!r}")
        self.drop = Dropout(dropout)

    def forward(
        self, x: Tensor, attn_mask: Tensor | None = None, cache: KVCache | None = None
    ) -> Tensor:
        h = self.attn(self.norm1(x), attn_mask, cache)
        x = x + (self.drop(h) if self.drop.p > 0 else h)
        h = self.mlp(self.norm2(x))
        return x + (self.drop(h) if self.drop.p > 0 else h)

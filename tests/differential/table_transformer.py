"""Differential entries for minigrad's own building blocks that torch has no module for
(FeedForward, SwiGLU, apply_rope): compared with small torch references written here from the
documented math, holding the same parameters under the same names."""

import torch
from hypothesis import strategies as st

from tests.differential.opinfo import FLOATS, Entry, Sample, is_torch, register, shapes, tensors


class TorchFeedForward(torch.nn.Module):
    """Linear(d, hidden) -> GELU -> Linear(hidden, d)."""

    def __init__(self, d, hidden, bias=False, approximate="none"):
        super().__init__()
        self.fc = torch.nn.Linear(d, hidden, bias)
        self.proj = torch.nn.Linear(hidden, d, bias)
        self.approximate = approximate

    def forward(self, x):
        return self.proj(torch.nn.functional.gelu(self.fc(x), approximate=self.approximate))


class TorchSwiGLU(torch.nn.Module):
    """proj(silu(gate(x)) * up(x))."""

    def __init__(self, d, hidden, bias=False):
        super().__init__()
        self.gate = torch.nn.Linear(d, hidden, bias)
        self.up = torch.nn.Linear(d, hidden, bias)
        self.proj = torch.nn.Linear(hidden, d, bias)

    def forward(self, x):
        return self.proj(torch.nn.functional.silu(self.gate(x)) * self.up(x))


def torch_rope(x, base=10000.0, interleaved=False):
    """Rotate pairs of the last dim by position * base^(-2i/d); positions 0..T-1 along dim -2."""
    t, d = x.shape[-2], x.shape[-1]
    theta = base ** (-torch.arange(0, d // 2, dtype=torch.float64) * 2 / d)
    angle = torch.arange(t, dtype=torch.float64)[:, None] * theta[None, :]
    cos, sin = angle.cos().to(x.dtype), angle.sin().to(x.dtype)
    if interleaved:
        x1, x2 = x[..., 0::2], x[..., 1::2]
        return torch.stack([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1).flatten(-2)
    x1, x2 = x[..., : d // 2], x[..., d // 2 :]
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


def _x_lead(last):
    return lambda draw, dtype: Sample(
        draw(tensors(dtype, draw(shapes(0, 2, 0, 3)) + last, edges=False))
    )


for _bias in (False, True):
    register(
        Entry(f"nn.FeedForward.bias={_bias}", ("minigrad.nn.FeedForward",),
              lambda lib, m, x: m(x), _x_lead((4,)), ("float32",),
              module=lambda lib, _b=_bias: TorchFeedForward(4, 6, _b) if is_torch(lib)
              else lib.nn.FeedForward(4, 6, _b)),
        Entry(f"nn.SwiGLU.bias={_bias}", ("minigrad.nn.SwiGLU",), lambda lib, m, x: m(x),
              _x_lead((4,)), ("float32",),
              module=lambda lib, _b=_bias: TorchSwiGLU(4, 6, _b) if is_torch(lib)
              else lib.nn.SwiGLU(4, 6, _b)),
    )  # fmt: skip


def _rope_sample(draw, dtype):
    shape = draw(shapes(0, 2, 1, 3)) + (draw(st.integers(1, 5)), 2 * draw(st.integers(1, 3)))
    return Sample(
        draw(tensors(dtype, shape, edges=False)),
        interleaved=draw(st.booleans()),
        base=draw(st.sampled_from([10000.0, 100.0])),
    )


register(
    Entry("nn.functional.apply_rope", ("minigrad.nn.functional.apply_rope",),
          lambda lib, x, **k: torch_rope(x, **k) if is_torch(lib)
          else lib.nn.functional.apply_rope(x, **k), _rope_sample, FLOATS),
)  # fmt: skip


register(
    Entry("nn.MLP", ("minigrad.nn.MLP",), lambda lib, m, x: m(x), _x_lead((3,)), ("float32",),
          module=lambda lib: torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.ReLU(),
                                                 torch.nn.Linear(5, 2)) if is_torch(lib)
          else lib.nn.MLP([3, 5, 2])),
    Entry("nn.MLP.gelu", ("minigrad.nn.MLP",), lambda lib, m, x: m(x), _x_lead((3,)),
          ("float32",),
          module=lambda lib: torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.GELU(),
                                                 torch.nn.Linear(4, 4), torch.nn.GELU(),
                                                 torch.nn.Linear(4, 1)) if is_torch(lib)
          else lib.nn.MLP([3, 4, 4, 1], activation="gelu")),
)  # fmt: skip


class TorchSinusoidal(torch.nn.Module):
    """x + PE, PE[p, 2i] = sin(p / base^(2i/d)), PE[p, 2i+1] = cos(p / base^(2i/d))."""

    def __init__(self, d, base=10000.0):
        super().__init__()
        self.d, self.base = d, base

    def forward(self, x):
        t = x.shape[-2]
        pos = torch.arange(t, dtype=torch.float64)[:, None]
        rate = self.base ** (-torch.arange(0, self.d, 2, dtype=torch.float64) / self.d)
        pe = torch.zeros(t, self.d, dtype=torch.float64)
        pe[:, 0::2] = torch.sin(pos * rate)
        pe[:, 1::2] = torch.cos(pos * rate)[:, : self.d // 2]
        return x + pe.to(x.dtype)


register(
    Entry("nn.SinusoidalPositionalEncoding", ("minigrad.nn.SinusoidalPositionalEncoding",),
          lambda lib, m, x: m(x), _x_lead((5, 6)), FLOATS,
          module=lambda lib: TorchSinusoidal(6) if is_torch(lib)
          else lib.nn.SinusoidalPositionalEncoding(6)),
)  # fmt: skip


class TorchRotary(torch.nn.Module):
    def __init__(self, head_dim, base=10000.0, interleaved=False):
        super().__init__()
        self.base, self.interleaved = base, interleaved

    def forward(self, x):
        return torch_rope(x, self.base, self.interleaved)


for _interleaved in (False, True):
    register(
        Entry(f"nn.RotaryEmbedding.interleaved={_interleaved}", ("minigrad.nn.RotaryEmbedding",),
              lambda lib, m, x: m(x), _x_lead((4, 6)), FLOATS,
              module=lambda lib, _i=_interleaved: TorchRotary(6, interleaved=_i) if is_torch(lib)
              else lib.nn.RotaryEmbedding(6, interleaved=_i)),
    )  # fmt: skip


def _kv_cache(lib, k1, v1, k2, v2):
    """Two appends: the cache holds the concatenation along the sequence dim (-2)."""
    if is_torch(lib):
        return torch.cat([k1, k2], -2), torch.cat([v1, v2], -2), k1.shape[-2] + k2.shape[-2]
    cache = lib.nn.KVCache()
    cache.append(k1, v1)
    k, v = cache.append(k2, v2)
    return k, v, len(cache)


def _kv_sample(draw, dtype):
    b, h, d = (draw(st.integers(1, 2)) for _ in range(3))
    s1, s2 = draw(st.integers(0, 3)), draw(st.integers(1, 3))
    return Sample(*[draw(tensors(dtype, (b, h, s, d))) for s in (s1, s1, s2, s2)])


register(Entry("nn.KVCache", ("minigrad.nn.KVCache",), _kv_cache, _kv_sample, FLOATS))


class TorchMHA(torch.nn.Module):
    """q/k/v/out projections, RoPE on queries and keys (positions 0..T-1), causal attention."""

    def __init__(self, d, heads, rope=True, causal=True):
        super().__init__()
        self.heads, self.rope, self.causal = heads, rope, causal
        self.q_proj = torch.nn.Linear(d, d, bias=False)
        self.k_proj = torch.nn.Linear(d, d, bias=False)
        self.v_proj = torch.nn.Linear(d, d, bias=False)
        self.out_proj = torch.nn.Linear(d, d, bias=False)

    def forward(self, x):
        b, t, d = x.shape
        split = lambda y: y.reshape(b, t, self.heads, d // self.heads).transpose(1, 2)  # noqa: E731
        q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
        if self.rope:
            q, k = torch_rope(q), torch_rope(k)
        out = torch.nn.functional.scaled_dot_product_attention(
            q, k, v, is_causal=self.causal and t > 1
        )
        return self.out_proj(out.transpose(1, 2).reshape(b, t, d))


def _mha_sample(draw, dtype):
    # |x| <= 3: at |x| ~ 10 the scores reach ~50 and a sharp softmax scales the float32 rounding
    # of the scores into gradient errors of 2e-5 whose size is luck: over 20 seeds, 4 runs had
    # minigrad beyond both of torch's float32 paths' errors in one element (the paths beat each
    # other as often); on 300 random problems minigrad's mean error was below both paths'
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 4)), 4)
    return Sample(draw(tensors(dtype, shape, edges=False, low=-3.0, high=3.0)))


for _rope, _causal in [(True, True), (False, False)]:
    register(
        Entry(f"nn.MultiHeadAttention.rope={_rope}.causal={_causal}",
              ("minigrad.nn.MultiHeadAttention",), lambda lib, m, x: m(x),
              _mha_sample, ("float32",),
              module=lambda lib, _r=_rope, _c=_causal: TorchMHA(4, 2, _r, _c) if is_torch(lib)
              else lib.nn.MultiHeadAttention(4, 2, rope=_r, causal=_c)),
    )  # fmt: skip

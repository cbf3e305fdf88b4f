"""Attention: the fused scaled-dot-product attention op, rotary and sinusoidal positional
encodings, and the multi-head attention module built on them.

Owns `scaled_dot_product_attention` and `apply_rope` (re-exported as `F.*`), and the modules
`MultiHeadAttention`, `RotaryEmbedding` and `SinusoidalPositionalEncoding`.

Attention is one primitive with a hand-written backward (not a chain of matmul/softmax nodes):
forward keeps only the attention probabilities P, and the backward is

    dV = P^T g        dP = g V^T        dS = P * (dP - rowsum(dP * P))
    dQ = scale dS K   dK = scale dS^T Q  d(additive mask) = dS

A fully masked row (every key blocked) has no well-defined softmax. PyTorch returns NaN there; we
define its output as 0 and its gradients as 0, so padding rows never poison a batch with NaNs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from minigrad.autograd import apply, defop
from minigrad.backend import _BACKENDS
from minigrad.nn.layers import Linear
from minigrad.nn.module import Module
from minigrad.tensor import Tensor

# --- scaled dot-product attention ----------------------------------------------------------


class _Spec:
    """Per-call settings of one attention op (a param of the node; never a saved tensor)."""

    __slots__ = ("scale", "groups", "blocked", "dropout_p")

    def __init__(self, scale: float, groups: int, blocked, dropout_p: float):
        self.scale = scale
        self.groups = groups  # query heads per key/value head (grouped-query attention)
        self.blocked = blocked  # bool [G*L, S]: True above the causal diagonal, or None
        self.dropout_p = dropout_p


def _group(xp, x, groups: int):
    """[..., Hq, L, X] -> [..., Hq/G, G*L, X]: the G query heads sharing one key/value head
    become one taller matrix, so grouped-query attention is the same GEMMs as plain attention."""
    if groups == 1:
        return x
    *lead, h, n, d = x.shape
    return xp.reshape(x, (*lead, h // groups, groups * n, d))


def _ungroup(xp, x, groups: int, rows: int):
    if groups == 1:
        return x
    *lead, h, n, d = x.shape
    return xp.reshape(x, (*lead, h * groups, rows, d))


def _group_mask(xp, mask, groups: int, heads: int, rows: int):
    """A mask broadcastable to [..., Hq, L, S], laid out like `_group` (rows of G heads): the
    head and query dims are materialised, since G*L rows interleave heads and queries."""
    if groups == 1:
        return mask
    shape = tuple(mask.shape)
    if len(shape) < 3:
        shape = (1,) * (3 - len(shape)) + shape
    mask = xp.broadcast_to(xp.reshape(mask, shape), (*shape[:-3], heads, rows, shape[-1]))
    return _group(xp, mask, groups)


def _sdpa_forward(xp, q, k, v, mask, spec: _Spec):
    """Output, and the residuals the backward reads: P (the softmax) and the dropout multiplier
    (0 or 1/(1-p) per element; None without dropout)."""
    groups = spec.groups
    rows = q.shape[-2]
    qg = _group(xp, q, groups)
    s = xp.matmul(qg * spec.scale if spec.scale != 1.0 else qg, xp.swapaxes(k, -1, -2))
    if mask is not None:
        mask = _group_mask(xp, mask, groups, q.shape[-3], rows)
        full = np.broadcast_shapes(s.shape, mask.shape)
        if full != s.shape:
            s = xp.broadcast_to(s, full).copy()
        if mask.dtype == bool:
            xp.copyto(s, -math.inf, where=~mask)
        else:
            s += mask
    if spec.blocked is not None:  # adding 0 / -inf: cheaper than a masked copy
        s += _causal_mask(xp, rows, s.shape[-1], groups, s.dtype)
    # stable softmax in place; a row with every key blocked has max -inf: keep it at 0 (not NaN)
    m = xp.max(s, axis=-1, keepdims=True)
    masked = mask is not None or spec.blocked is not None
    if masked:
        m[~xp.isfinite(m)] = 0
    s -= m
    xp.exp(s, out=s)
    total = xp.sum(s, axis=-1, keepdims=True)
    if masked:
        total[total == 0] = 1
    s /= total
    probs, keep = s, None
    if spec.dropout_p > 0:
        draw_dtype = s.dtype if s.dtype in (np.float32, np.float64) else np.float32
        kept = xp.rng().random(s.shape, dtype=draw_dtype) >= spec.dropout_p
        keep = kept.astype(s.dtype) * s.dtype.type(1.0 / (1.0 - spec.dropout_p))
        probs = s * keep
    out = _ungroup(xp, xp.matmul(probs, v), groups, rows)
    return out, s, keep


def _softmax_grad(xp, p, dp, rowsum):
    return p * (dp - rowsum)


def _sdpa_backward(xp, g, q, k, v, mask, out, probs, keep, spec: _Spec, needs_input_grad):
    """All input gradients of attention at once (they share dS), given the output gradient g:

        dV = P'^T g    dP = (g V^T) D    dS = P (dP - rowsum(dP P))    (softmax's Jacobian)
        dQ = scale dS K    dK = scale dS^T Q    d(additive mask) = dS

    where D is the dropout multiplier and P' = P D. rowsum(dP P) equals rowsum(g O) (O = P' V,
    a product of [L, Ev] rather than [L, S], as fused kernels use), but in float32 that one
    carries O's rounding into every dS of a nearly one-hot row: weight gradients then differed
    from torch's by 2% (tests/differential, nn.MultiHeadAttention). On arrays and, under
    create_graph, on Tensors (then P is recomputed from q and k, so the second-order path
    through P is kept).
    """
    if isinstance(g, Tensor):
        probs = _sdpa_probs_graph(xp, q, k, mask, spec)
    groups = spec.groups
    rows = q.shape[-2]
    gg = _group(xp, g, groups)
    need_q, need_k, need_v, need_mask = (*needs_input_grad, False)[:4]
    dq = dk = dv = dmask = None
    if need_v:
        dropped = probs if keep is None else probs * keep
        dv = xp.matmul(xp.swapaxes(dropped, -1, -2), gg)
    if need_q or need_k or need_mask:
        dp = xp.matmul(gg, xp.swapaxes(v, -1, -2))
        if keep is not None:
            dp = dp * keep
        rowsum = xp.sum(dp * probs, axis=-1, keepdims=True)
        ds = xp.fused(_softmax_grad)(probs, dp, rowsum)
        if need_q:
            dq = _ungroup(xp, xp.matmul(ds, k) * spec.scale, groups, rows)
        if need_k:
            dk = xp.matmul(xp.swapaxes(ds, -1, -2), _group(xp, q, groups)) * spec.scale
        if need_mask:
            dmask = _ungroup(xp, ds, groups, rows)
    return (dq, dk, dv, dmask)[: len(needs_input_grad)]


def _sdpa_probs_graph(xp, q, k, mask, spec: _Spec):
    """P = softmax(scale Q K^T + mask) written with minigrad ops (for double backward)."""
    from minigrad.ops import elementwise, linalg, reduce, shape

    groups = spec.groups
    rows = q.shape[-2]
    s = linalg.matmul(_group(xp, q, groups) * spec.scale, shape.transpose(k, -1, -2))
    if mask is not None:
        grouped = _group_mask(xp, mask, groups, q.shape[-3], rows)
        if grouped.dtype == bool:
            s = elementwise.masked_fill(s, elementwise.logical_not(grouped), -math.inf)
        else:
            s = s + grouped
    if spec.blocked is not None:
        s = elementwise.masked_fill(s, Tensor._make(spec.blocked), -math.inf)
    m = reduce.amax(s.detach(), -1, keepdim=True)
    m = elementwise.where(elementwise.isfinite(m), m, 0.0)
    e = elementwise.exp(s - m)
    total = reduce.sum(e, -1, keepdim=True)
    return e / elementwise.where(total == 0, 1.0, total)


_SDPA_FORMULAS = {
    "q": "scale dS K,  dS = P (dP - rowsum(dP P)),  dP = g V^T",
    "k": "scale dS^T Q",
    "v": "P^T g  (P after dropout)",
}
# fmt: off
SDPA = defop(
    "scaled_dot_product_attention",
    lambda xp, q, k, v, *, spec: _sdpa_forward(xp, q, k, v, None, spec),
    residuals=("probs", "keep"),
    backward=lambda xp, g, q, k, v, out, probs, keep, spec, needs_input_grad:
        _sdpa_backward(xp, g, q, k, v, None, out, probs, keep, spec, needs_input_grad),
    formula=_SDPA_FORMULAS,
)
SDPA_MASKED = defop(
    "scaled_dot_product_attention_masked",
    lambda xp, q, k, v, attn_mask, *, spec: _sdpa_forward(xp, q, k, v, attn_mask, spec),
    residuals=("probs", "keep"),
    backward=lambda xp, g, q, k, v, attn_mask, out, probs, keep, spec, needs_input_grad:
        _sdpa_backward(xp, g, q, k, v, attn_mask, out, probs, keep, spec, needs_input_grad),
    formula={**_SDPA_FORMULAS, "attn_mask": "dS  (float masks only)"},
)
# fmt: on

_CAUSAL_CACHE: dict = {}
_SDPA = "scaled_dot_product_attention()"


def _causal_mask(xp, rows: int, cols: int, groups: int, dtype=bool):
    """[G*rows, cols] marking the keys above the diagonal (PyTorch's top-left alignment: query
    i sees keys 0..i): True there as a bool mask, or -inf there and 0 elsewhere as an additive
    one of a float `dtype`. Cached: a training loop asks for the same one every step."""
    key = (id(xp), rows, cols, groups, np.dtype(dtype).str)
    mask = _CAUSAL_CACHE.get(key)
    if mask is None:
        mask = xp.triu(xp.ones((rows, cols), dtype=bool), 1)
        if groups > 1:
            mask = xp.tile(mask, (groups, 1))
        if np.dtype(dtype) != np.bool_:
            mask = xp.where(mask, -math.inf, 0.0).astype(dtype)
        if len(_CAUSAL_CACHE) > 64:
            _CAUSAL_CACHE.clear()
        _CAUSAL_CACHE[key] = mask
    return mask


def _shape_str(x: Tensor) -> str:
    return str(list(x.shape))


def scaled_dot_product_attention(
    query: Tensor,
    key: Tensor,
    value: Tensor,
    attn_mask: Tensor | None = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    *,
    scale: float | None = None,
    enable_gqa: bool = False,
) -> Tensor:
    """softmax(Q K^T * scale + mask) V as one fused op, with PyTorch's semantics.

    Shapes: query [..., Hq, L, E], key [..., H, S, E], value [..., H, S, Ev] -> [..., Hq, L, Ev];
    batch dims broadcast. `attn_mask` broadcasts to [..., Hq, L, S]: a bool mask marks the keys
    that take part (True = attend), a float mask is added to the scores (and gets a gradient).
    `is_causal` lets query i see keys 0..i (top-left aligned, as in PyTorch). `scale` defaults to
    1/sqrt(E). `dropout_p` drops attention probabilities (always, as `F.` does in PyTorch: pass 0
    in eval). `enable_gqa` lets Hq be a multiple of H (grouped-query attention).

    Fully masked rows give output 0 and zero gradients (PyTorch gives NaN).
    """
    for name, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{_SDPA}: {name} must be a Tensor, got {type(t).__name__}")
        if t.ndim < 2:
            raise RuntimeError(f"{_SDPA}: {name} must be at least 2-D, got shape {_shape_str(t)}")
    if not (query.dtype == key.dtype == value.dtype):
        raise RuntimeError(
            f"Expected query, key, and value to have the same dtype, but got query.dtype: "
            f"{query.dtype} key.dtype: {key.dtype} and value.dtype: {value.dtype} instead."
        )
    if query.dtype.kind != "f":
        raise RuntimeError(f"{_SDPA}: expected floating point inputs, got {query.dtype}")
    if query.shape[-1] != key.shape[-1]:
        raise RuntimeError(
            f"{_SDPA}: query and key must have the same embedding dim E, "
            f"got query {_shape_str(query)} and key {_shape_str(key)}"
        )
    if key.shape[-2] != value.shape[-2]:
        raise RuntimeError(
            f"{_SDPA}: key and value must have the same sequence length S, "
            f"got key {_shape_str(key)} and value {_shape_str(value)}"
        )
    groups = 1
    if enable_gqa:
        if query.ndim < 3 or key.ndim < 3 or value.ndim < 3:
            raise RuntimeError(f"{_SDPA}: enable_gqa needs a head dim (-3) on query, key and value")
        hq, hk = query.shape[-3], key.shape[-3]
        if hk != value.shape[-3] or hq % hk:
            raise RuntimeError(
                f"{_SDPA}: with enable_gqa the number of query heads ({hq}) "
                f"must be a multiple of the key/value heads (key {hk}, value {value.shape[-3]})"
            )
        groups = hq // hk
    lead_q = _group(np, np.empty(query.shape[:-2] + (0, 0)), groups).shape[:-2]
    try:
        lead = np.broadcast_shapes(lead_q, key.shape[:-2], value.shape[:-2])
    except ValueError:
        hint = (
            " (different head counts: pass enable_gqa=True for grouped-query attention)"
            if query.ndim >= 3
            else ""
        )
        raise RuntimeError(
            f"{_SDPA}: the batch/head dims of query {_shape_str(query)}, key "
            f"{_shape_str(key)} and value {_shape_str(value)} do not broadcast{hint}"
        ) from None
    if not 0.0 <= dropout_p < 1.0:
        raise ValueError(f"dropout probability has to be in [0, 1), but got {dropout_p}")
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1])
    xp = _BACKENDS[type(query._data)].xp
    L, S = query.shape[-2], key.shape[-2]
    blocked = None
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError(f"{_SDPA}: Explicit attn_mask should not be set when is_causal=True")
        blocked = _causal_mask(xp, L, S, groups)
    spec = _Spec(float(scale), groups, blocked, float(dropout_p))
    if attn_mask is None:
        return apply(SDPA, (query, key, value), {"spec": spec})
    if not isinstance(attn_mask, Tensor):
        raise TypeError(f"{_SDPA}: attn_mask must be a Tensor, got {type(attn_mask).__name__}")
    if attn_mask.dtype != bool and attn_mask.dtype != query.dtype:
        raise RuntimeError(
            f"Expected attn_mask dtype to be bool or to match query dtype, but got "
            f"attn_mask.dtype: "
            f"{attn_mask.dtype} and query.dtype: {query.dtype} instead."
        )
    if groups > 1:
        lead = (*lead[:-1], lead[-1] * groups)
    target = (*lead, L, S)
    try:
        if np.broadcast_shapes(attn_mask.shape, target) != target:
            raise ValueError
    except ValueError:
        raise RuntimeError(
            f"{_SDPA}: attn_mask of shape {_shape_str(attn_mask)} does not "
            f"broadcast to the attention scores' shape {list(target)}"
        ) from None
    return apply(SDPA_MASKED, (query, key, value, attn_mask), {"spec": spec})


# --- rotary positional embedding (RoPE) ----------------------------------------------------


def _swap_pairs(xp, x, interleaved: bool):
    """x with the two members of every pair of the last dim exchanged: (x1, x2) -> (x2, x1)
    (a copy, or a view where strides allow). Pairs are (2i, 2i+1) when interleaved, else
    (i, i + d/2)."""
    d = x.shape[-1]
    if interleaved:
        swapped = xp.reshape(x, (*x.shape[:-1], d // 2, 2))[..., ::-1]
    else:
        swapped = xp.reshape(x, (*x.shape[:-1], 2, d // 2))[..., ::-1, :]
    return xp.reshape(swapped, x.shape)


def _turn(xp, x, swapped, cos, sin):
    return x * cos + swapped * sin


def _turn_back(xp, x, swapped, cos, sin):
    return x * cos - swapped * sin


def _rotate(xp, x, cos, sin, interleaved: bool, inverse: bool):
    """Rotate each pair (x1, x2) of the last dim by theta: (x1 cos - x2 sin, x2 cos + x1 sin),
    computed as x * cos + swap_pairs(x) * sin with full-width tables (cos on both members of a
    pair, sin signed -/+), so every pass is one long contiguous loop instead of one per half
    (and one fused kernel on CuPy). `inverse` rotates by -theta (the transpose)."""
    swapped = _swap_pairs(xp, x, interleaved)
    return xp.fused(_turn_back if inverse else _turn)(x, swapped, cos, sin)


def _rope_grad(xp, g, cos, sin, interleaved, inverse):
    # a rotation's adjoint is its inverse: rotate g by -theta
    if isinstance(g, Tensor):
        params = {"cos": cos, "sin": sin, "interleaved": interleaved, "inverse": not inverse}
        return apply(ROPE, (g,), params)
    return _rotate(xp, g, cos, sin, interleaved, not inverse)


ROPE = defop(
    "rope",
    lambda xp, x, *, cos, sin, interleaved, inverse: _rotate(xp, x, cos, sin, interleaved, inverse),
    x=_rope_grad,  # R(-theta) g
)

_ROPE_CACHE: dict = {}


def _inv_freq(half: int, base: float) -> np.ndarray:
    # theta_i = base^(-2i/d), i = 0 .. d/2-1, in float64 (cast once per table)
    return base ** (-np.arange(half, dtype=np.float64) * 2.0 / (2 * half))


def _full_width(xp, cos, sin, interleaved: bool):
    """[..., d/2] cos/sin of each pair's angle -> the [..., d] tables `_rotate` multiplies by:
    cos on both members of a pair, -sin on the first and +sin on the second."""
    if interleaved:
        full = (*cos.shape[:-1], 2 * cos.shape[-1])
        return (
            xp.reshape(xp.stack([cos, cos], axis=-1), full),
            xp.reshape(xp.stack([-sin, sin], axis=-1), full),
        )
    return xp.concatenate([cos, cos], axis=-1), xp.concatenate([-sin, sin], axis=-1)


def rope_tables(
    xp, head_dim: int, n: int, base: float, dtype, interleaved: bool = False
) -> tuple[Any, Any]:
    """The full-width tables of `_rotate` for positions m = 0..n-1, shape [n, head_dim]: cos and
    signed sin of m * theta_i laid out for the pairing convention. Cached per (backend,
    head_dim, base, dtype, convention) and grown by doubling; callers slice the first n rows."""
    key = (id(xp), head_dim, float(base), np.dtype(dtype).str, interleaved)
    cached = _ROPE_CACHE.get(key)
    if cached is None or cached[0].shape[0] < n:
        size = max(n, 2 * cached[0].shape[0] if cached is not None else 64)
        angles = np.outer(np.arange(size, dtype=np.float64), _inv_freq(head_dim // 2, base))
        cos, sin = _full_width(np, np.cos(angles), np.sin(angles), interleaved)
        cached = (xp.asarray(cos.astype(dtype)), xp.asarray(sin.astype(dtype)))
        _ROPE_CACHE[key] = cached
    return cached[0][:n], cached[1][:n]


def _rope_cos_sin(xp, positions, seq_len: int, head_dim: int, base: float, dtype, interleaved):
    if positions is None:
        positions = 0
    if isinstance(positions, (int, np.integer)):  # an offset: positions offset .. offset+T-1
        start = int(positions)
        if start < 0:
            raise ValueError(f"apply_rope(): a position offset must be >= 0, got {start}")
        cos, sin = rope_tables(xp, head_dim, start + seq_len, base, dtype, interleaved)
        return cos[start:], sin[start:]
    pos = positions._data if isinstance(positions, Tensor) else xp.asarray(positions)
    if pos.ndim == 0:
        raise ValueError(
            "apply_rope(): positions must be an int offset or a 1-D (or broadcastable) array"
        )
    if pos.shape[-1] not in (seq_len, 1):
        raise RuntimeError(
            f"apply_rope(): positions of shape {list(pos.shape)} do not match the sequence "
            f"length {seq_len} (dim -2 of x)"
        )
    if pos.dtype.kind in "iu" and pos.size and int(pos.min()) >= 0:
        cos, sin = rope_tables(xp, head_dim, int(pos.max()) + 1, base, dtype, interleaved)
        return cos[pos], sin[pos]
    angles = xp.asarray(pos, dtype=np.float64)[..., None] * xp.asarray(
        _inv_freq(head_dim // 2, base)
    )
    cos, sin = _full_width(xp, xp.cos(angles), xp.sin(angles), interleaved)
    return cos.astype(dtype), sin.astype(dtype)


def apply_rope(
    x: Tensor,
    positions: Tensor | int | Any | None = None,
    base: float = 10000.0,
    interleaved: bool = False,
    seq_dim: int = -2,
) -> Tensor:
    """Rotary positional embedding: rotate each pair of x's last dim by m * theta_i, where m is
    the token's position and theta_i = base^(-2i/d).

    x is [..., T, d] (d even; e.g. [B, H, T, head_dim]). `positions` is None (0..T-1), an int
    offset (offset..offset+T-1, for decoding with a key/value cache), or integer (or float)
    positions broadcastable to x.shape[:-1] with last dim T ([T], or [B, 1, T] for [B, H, T, d]).
    `interleaved=True` pairs (x_{2i}, x_{2i+1}) as in the RoFormer paper; the default pairs
    (x_i, x_{i+d/2}) as GPT-NeoX and Llama do. One fused op; its backward is the inverse rotation.
    `seq_dim` names the position dim when it is not -2 (e.g. -3 for [B, T, H, head_dim], which
    rotates the projections before the head transpose, on contiguous memory).
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"apply_rope(): x must be a Tensor, got {type(x).__name__}")
    if x.ndim < 2:
        raise RuntimeError(f"apply_rope(): x must be [..., T, d], got shape {list(x.shape)}")
    if x.dtype.kind != "f":
        raise RuntimeError(f"apply_rope(): expected a floating point tensor, got {x.dtype}")
    d = x.shape[-1]
    if d % 2:
        raise RuntimeError(
            f"apply_rope(): the last dim (head_dim) must be even to form pairs, got {d}"
        )
    xp = _BACKENDS[type(x._data)].xp
    if not -x.ndim <= seq_dim < -1 and not 0 <= seq_dim < x.ndim - 1:
        raise RuntimeError(
            f"apply_rope(): seq_dim {seq_dim} is not a dim of x (other than the last)"
        )
    seq_dim = seq_dim - x.ndim if seq_dim >= 0 else seq_dim
    interleaved = bool(interleaved)
    cos, sin = _rope_cos_sin(xp, positions, x.shape[seq_dim], d, base, x.dtype, interleaved)
    if seq_dim != -2:  # [..., T, d] -> [..., T, 1, .., 1, d]
        shape = (*cos.shape[:-1], *(1,) * (-seq_dim - 2), d)
        cos, sin = xp.reshape(cos, shape), xp.reshape(sin, shape)
    try:
        full = np.broadcast_shapes(x.shape, cos.shape)
    except ValueError:
        raise RuntimeError(
            f"apply_rope(): positions of shape {list(cos.shape[:-1])} do not broadcast against x "
            f"{list(x.shape)} (without its last dim)"
        ) from None
    tail = full[-cos.ndim :]
    if cos.shape != tail:  # spell the tables out over the dims they cover (e.g. the heads), so
        # that x * cos runs as one long loop over contiguous memory
        cos = xp.ascontiguousarray(xp.broadcast_to(cos, tail))
        sin = xp.ascontiguousarray(xp.broadcast_to(sin, tail))
    params = {"cos": cos, "sin": sin, "interleaved": interleaved, "inverse": False}
    return apply(ROPE, (x,), params)


# --- sinusoidal positional encoding ----------------------------------------------------------

_SIN_CACHE: dict = {}


def sinusoidal_table(xp, n: int, d_model: int, base: float, dtype):
    """[n, d_model]: PE(m, 2i) = sin(m / base^(2i/d)), PE(m, 2i+1) = cos(m / base^(2i/d)).
    Cached per (backend, d_model, base, dtype), grown by doubling; callers slice rows."""
    key = (id(xp), d_model, float(base), np.dtype(dtype).str)
    cached = _SIN_CACHE.get(key)
    if cached is None or cached.shape[0] < n:
        size = max(n, 2 * cached.shape[0] if cached is not None else 64)
        freq = base ** (-np.arange(0, d_model, 2, dtype=np.float64) / d_model)
        angles = np.outer(np.arange(size, dtype=np.float64), freq)
        table = np.empty((size, d_model))
        table[:, 0::2] = np.sin(angles)
        table[:, 1::2] = np.cos(angles[:, : d_model // 2])
        cached = xp.asarray(table.astype(dtype))
        _SIN_CACHE[key] = cached
    return cached[:n]


# --- modules ---------------------------------------------------------------------------------


class SinusoidalPositionalEncoding(Module):
    """Adds the fixed sin/cos encoding of "Attention Is All You Need" to x [..., T, d_model].

    `forward(x, positions=None)`: positions are None (0..T-1), an int offset, or integer
    positions of shape [T] (or broadcastable to x.shape[:-1]). No parameters.
    """

    def __init__(self, d_model: int, base: float = 10000.0):
        super().__init__()
        if d_model <= 0:
            raise ValueError(
                f"SinusoidalPositionalEncoding: d_model must be positive, got {d_model}"
            )
        self.d_model = d_model
        self.base = base

    def encoding(self, positions, seq_len: int, like: Tensor) -> Tensor:
        """The [T, d_model] (or positions-shaped) table, in like's dtype and device."""
        xp = _BACKENDS[type(like._data)].xp
        if positions is None or isinstance(positions, (int, np.integer)):
            start = int(positions or 0)
            if start < 0:
                raise ValueError(f"position offset must be >= 0, got {start}")
            return Tensor._make(
                sinusoidal_table(xp, start + seq_len, self.d_model, self.base, like.dtype)[start:]
            )
        pos = positions._data if isinstance(positions, Tensor) else xp.asarray(positions)
        if pos.dtype.kind not in "iu" or (pos.size and int(pos.min()) < 0):
            raise ValueError(
                "SinusoidalPositionalEncoding: positions must be non-negative integers"
            )
        n = int(pos.max()) + 1 if pos.size else 0
        return Tensor._make(sinusoidal_table(xp, n, self.d_model, self.base, like.dtype)[pos])

    def forward(self, x: Tensor, positions=None) -> Tensor:
        if x.ndim < 2 or x.shape[-1] != self.d_model:
            raise RuntimeError(
                f"SinusoidalPositionalEncoding(d_model={self.d_model}): expected x of shape "
                f"[..., T, {self.d_model}], got {list(x.shape)}"
            )
        return x + self.encoding(positions, x.shape[-2], x)

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, base={self.base}"


class RotaryEmbedding(Module):
    """RoPE as a module: `forward(x, positions=None)` rotates x [..., T, head_dim] (see
    `apply_rope`). The cos/sin tables are computed once per dtype/device and cached."""

    def __init__(self, head_dim: int, base: float = 10000.0, interleaved: bool = False):
        super().__init__()
        if head_dim <= 0 or head_dim % 2:
            raise ValueError(
                f"RotaryEmbedding: head_dim must be a positive even number, got {head_dim}"
            )
        self.head_dim = head_dim
        self.base = base
        self.interleaved = interleaved

    def forward(self, x: Tensor, positions=None, seq_dim: int = -2) -> Tensor:
        if x.shape[-1] != self.head_dim:
            raise RuntimeError(
                f"RotaryEmbedding(head_dim={self.head_dim}): x has last dim {x.shape[-1]} "
                f"(shape {list(x.shape)})"
            )
        return apply_rope(x, positions, self.base, self.interleaved, seq_dim)

    def extra_repr(self) -> str:
        return f"head_dim={self.head_dim}, base={self.base}, interleaved={self.interleaved}"


class KVCache:
    """Keys and values seen so far by one attention layer, for incremental decoding.

    Keys are stored after RoPE, so a cached step costs one new row of projections. Pass the same
    cache to successive `MultiHeadAttention` calls; `len(cache)` is the number of past tokens.
    """

    def __init__(self):
        self.k: Tensor | None = None  # [B, n_kv_heads, S, head_dim]
        self.v: Tensor | None = None

    def __len__(self) -> int:
        return 0 if self.k is None else self.k.shape[-2]

    def append(self, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        from minigrad.ops.shape import cat

        if self.k is not None:
            if self.k.shape[:-2] != k.shape[:-2] or self.k.shape[-1] != k.shape[-1]:
                raise RuntimeError(
                    f"KVCache: new keys {list(k.shape)} do not match the cached "
                    f"{list(self.k.shape)} (batch, heads and head_dim must agree)"
                )
            k, v = cat([self.k, k], dim=-2), cat([self.v, v], dim=-2)
        self.k, self.v = k, v
        return k, v

    def reset(self) -> None:
        self.k = self.v = None


class MultiHeadAttention(Module):
    """Multi-head self-attention for decoder models: q/k/v projections, RoPE on q and k, the
    fused attention op, and an output projection.

    `n_kv_heads < n_heads` gives grouped-query attention (each key/value head serves
    n_heads / n_kv_heads query heads; 1 is multi-query attention). `forward(x, attn_mask=None,
    cache=None)` takes x [B, T, d_model] (or [T, d_model]); `attn_mask` follows
    `scaled_dot_product_attention` (combined with the causal mask when `causal`); with a
    `KVCache` the new tokens attend to the cached ones and are appended to it.

    This is the package's modern decoder attention; torch's own module is
    `nn.MultiheadAttention` (minigrad/nn/multihead.py). They differ: this one is
    self-attention on batch-first [B, T, d_model] input, with RoPE, causal masking by default, a
    KV cache, grouped-query heads, separate `q_proj`/`k_proj`/`v_proj` Linears without biases by
    default, sdpa's bool-mask convention (True = attend) and returns one tensor. Torch's takes
    separate query/key/value (cross-attention, `kdim`/`vdim`), sequence-first input unless
    `batch_first`, a packed `in_proj_weight`, key padding masks with True = blocked,
    `add_bias_kv`/`add_zero_attn`, and returns `(output, attention weights)`.
    """

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        rope: bool = True,
        causal: bool = True,
        bias: bool = False,
        dropout: float = 0.0,
        n_kv_heads: int | None = None,
        rope_base: float = 10000.0,
        rope_interleaved: bool = False,
        device=None,
        dtype=None,
    ):
        super().__init__()
        if d_model <= 0 or n_heads <= 0:
            raise ValueError(
                f"MultiHeadAttention: d_model ({d_model}) and n_heads ({n_heads}) must be positive"
            )
        if d_model % n_heads:
            raise ValueError(
                f"MultiHeadAttention: d_model ({d_model}) must be divisible by n_heads ({n_heads})"
            )
        n_kv_heads = n_heads if n_kv_heads is None else n_kv_heads
        if n_kv_heads <= 0 or n_heads % n_kv_heads:
            raise ValueError(
                f"MultiHeadAttention: n_heads ({n_heads}) must be a multiple of n_kv_heads "
                f"({n_kv_heads})"
            )
        head_dim = d_model // n_heads
        if rope and head_dim % 2:
            raise ValueError(
                f"MultiHeadAttention: RoPE rotates pairs, so head_dim = d_model / n_heads must "
                f"be even; "
                f"got {d_model} / {n_heads} = {head_dim}"
            )
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout probability has to be in [0, 1), but got {dropout}")
        self.d_model, self.n_heads, self.n_kv_heads, self.head_dim = (
            d_model,
            n_heads,
            n_kv_heads,
            head_dim,
        )
        self.causal = causal
        self.dropout = dropout
        kw = {"device": device, "dtype": dtype}
        self.q_proj = Linear(d_model, d_model, bias, **kw)
        self.k_proj = Linear(d_model, n_kv_heads * head_dim, bias, **kw)
        self.v_proj = Linear(d_model, n_kv_heads * head_dim, bias, **kw)
        self.out_proj = Linear(d_model, d_model, bias, **kw)
        self.rotary = RotaryEmbedding(head_dim, rope_base, rope_interleaved) if rope else None

    def _heads(self, x: Tensor, n: int, rotate: bool, past: int) -> Tensor:
        b, t, _ = x.shape
        x = x.reshape(b, t, n, self.head_dim)
        if rotate and self.rotary is not None:  # rotate while contiguous, before the transpose
            x = self.rotary(x, past, seq_dim=-3)
        return x.transpose(1, 2)  # [B, n, T, head_dim]

    def forward(
        self, x: Tensor, attn_mask: Tensor | None = None, cache: KVCache | None = None
    ) -> Tensor:
        if x.ndim == 2:
            return self.forward(x.unsqueeze(0), attn_mask, cache).squeeze(0)
        if x.ndim != 3 or x.shape[-1] != self.d_model:
            raise RuntimeError(
                f"MultiHeadAttention(d_model={self.d_model}): expected input "
                f"[B, T, {self.d_model}] "
                f"or [T, {self.d_model}], got {list(x.shape)}"
            )
        b, t, _ = x.shape
        past = len(cache) if cache is not None else 0
        q = self._heads(self.q_proj(x), self.n_heads, True, past)
        k = self._heads(self.k_proj(x), self.n_kv_heads, True, past)
        v = self._heads(self.v_proj(x), self.n_kv_heads, False, past)
        if cache is not None:
            k, v = cache.append(k, v)
        is_causal = False
        if self.causal and t > 1:
            if past == 0 and attn_mask is None:
                is_causal = True
            else:  # query i (absolute position past + i) sees keys 0 .. past + i
                xp = _BACKENDS[type(x._data)].xp
                allowed = Tensor._make(xp.tril(xp.ones((t, past + t), dtype=bool), past))
                if attn_mask is None:
                    attn_mask = allowed
                elif attn_mask.dtype == bool:
                    attn_mask = attn_mask & allowed
                else:
                    attn_mask = attn_mask.masked_fill(~allowed, -math.inf)
        out = scaled_dot_product_attention(
            q,
            k,
            v,
            attn_mask=attn_mask,
            dropout_p=self.dropout if self.training else 0.0,
            is_causal=is_causal,
            enable_gqa=self.n_kv_heads != self.n_heads,
        )
        return self.out_proj(out.transpose(1, 2).reshape(b, t, self.d_model))

    def extra_repr(self) -> str:
        return (
            f"d_model={self.d_model}, n_heads={self.n_heads}, n_kv_heads={self.n_kv_heads}, "
            f"rope={self.rotary is not None}, causal={self.causal}, dropout={self.dropout}"
        )

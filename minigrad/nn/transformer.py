"""Transformer building blocks.

This package's own blocks: the position-wise MLPs (GELU `FeedForward`, gated `SwiGLU`) and the
pre-norm decoder `TransformerBlock` built on `MultiHeadAttention`.

    x = x + attn(norm1(x))      # tokens exchange information
    x = x + mlp(norm2(x))       # each token is transformed on its own

Pre-norm (normalise the input of each branch, not the residual stream) keeps the residual path
an identity, which is what lets deep stacks train without warm-up tricks.

And torch's modules with torch's signatures, defaults, parameter names and masks, built on
`nn.MultiheadAttention`: `TransformerEncoderLayer`, `TransformerEncoder`,
`TransformerDecoderLayer`, `TransformerDecoder` and `Transformer` (post-norm by default,
`norm_first=True` for pre-norm; (S, N, E) inputs unless `batch_first`).
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from typing import Any

from minigrad import autograd, creation
from minigrad.nn import functional as F
from minigrad.nn import init
from minigrad.nn.attention import KVCache, MultiHeadAttention
from minigrad.nn.layers import GELU, Dropout, LayerNorm, Linear, ReLU, RMSNorm
from minigrad.nn.module import Module, ModuleList
from minigrad.nn.multihead import MultiheadAttention, canonical_mask
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


# --- torch's transformer modules -------------------------------------------------------------


def _generate_square_subsequent_mask(sz: int, device=None, dtype=None) -> Tensor:
    """[sz, sz] float mask: 0 on and below the diagonal, -inf above (position i sees 0..i)."""
    return creation.full((sz, sz), float("-inf"), dtype=dtype, device=device).triu(diagonal=1)


def _get_activation_fn(activation: str) -> Callable[[Tensor], Tensor]:
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    raise RuntimeError(f"activation should be relu/gelu, not {activation}")


def _get_clones(module: Module, n: int) -> ModuleList:
    return ModuleList([copy.deepcopy(module) for _ in range(n)])


def _get_seq_len(src: Tensor, batch_first: bool) -> int:
    if src.dim() == 2:
        return src.shape[0]
    return src.shape[1 if batch_first else 0]


def _detect_is_causal_mask(
    mask: Tensor | None, is_causal: bool | None = None, size: int | None = None
) -> bool:
    """`is_causal` if given; when it is None, whether `mask` equals the square causal mask."""
    if is_causal is not None or mask is None:
        return is_causal is True
    sz = size if size is not None else mask.shape[-2]
    causal = _generate_square_subsequent_mask(sz, device=mask.device, dtype=mask.dtype)
    if tuple(mask.shape) != tuple(causal.shape):
        return False
    return bool((mask == causal).all())


def _left_aligned(valid: Tensor) -> bool:
    """Whether each row of a [N, S] bool mask of valid tokens is a run of Trues then Falses."""
    v = valid._data
    return bool((v[:, 1:] <= v[:, :-1]).all()) if v.shape[-1] > 1 else True


class TransformerEncoderLayer(Module):
    """torch's encoder layer: self-attention then a feed-forward net (Linear, activation,
    dropout, Linear), each in a residual branch with dropout and LayerNorm: post-norm
    (`norm(x + branch(x))`) by default, pre-norm (`x + branch(norm(x))`) with `norm_first`.

    `forward(src, src_mask=None, src_key_padding_mask=None, is_causal=False)`; masks as in
    `MultiheadAttention` (True = blocked). `activation` is "relu", "gelu" or a callable.
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Callable[[Tensor], Tensor] = F.relu,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        self.self_attn = MultiheadAttention(
            d_model, nhead, dropout=dropout, bias=bias, batch_first=batch_first, **kw
        )
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        if isinstance(activation, str):
            activation = _get_activation_fn(activation)
        # torch's flag for its fused path (1 relu, 2 gelu, 0 other); kept for programs reading it
        if activation is F.relu or isinstance(activation, ReLU):
            self.activation_relu_or_gelu = 1
        elif activation is F.gelu or isinstance(activation, GELU):
            self.activation_relu_or_gelu = 2
        else:
            self.activation_relu_or_gelu = 0
        self.activation = activation

    def forward(
        self,
        src: Tensor,
        src_mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        is_causal: bool = False,
    ) -> Tensor:
        src_key_padding_mask = canonical_mask(
            src_key_padding_mask,
            "src_key_padding_mask",
            None if src_mask is None else src_mask.dtype,
            "src_mask",
            src.dtype,
        )
        src_mask = canonical_mask(src_mask, "src_mask", None, "", src.dtype, False)
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal: bool = False) -> Tensor:
        x = self.self_attn(
            x,
            x,
            x,
            attn_mask=attn_mask,
            key_padding_mask=key_padding_mask,
            need_weights=False,
            is_causal=is_causal,
        )[0]
        return self.dropout1(x)

    def _ff_block(self, x: Tensor) -> Tensor:
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))


def _nested_tensor_blocker(layer: Module) -> str:
    """Why torch's TransformerEncoder could not use nested tensors with this layer ('' if it
    could): torch decides it at construction and warns; it changes what padded positions hold."""
    name = "encoder_layer"
    if not isinstance(layer, TransformerEncoderLayer):
        return f"{name} was not TransformerEncoderLayer"
    if layer.norm_first:
        return f"{name}.norm_first was True"
    if not layer.self_attn.batch_first:
        return (
            f"{name}.self_attn.batch_first was not True(use batch_first for better inference "
            "performance)"
        )
    if not layer.self_attn._qkv_same_embed_dim:
        return f"{name}.self_attn._qkv_same_embed_dim was not True"
    if layer.self_attn.in_proj_bias is None:
        return f"{name}.self_attn was passed bias=False"
    if not layer.activation_relu_or_gelu:
        return f"{name}.activation_relu_or_gelu was not True"
    if layer.norm1.eps != layer.norm2.eps:
        return f"{name}.norm1.eps was not equal to {name}.norm2.eps"
    if layer.self_attn.num_heads % 2 == 1:
        return f"{name}.self_attn.num_heads is odd"
    return ""


class TransformerEncoder(Module):
    """torch's stack of `num_layers` deep copies of `encoder_layer` (`layers.0.`, ...), then
    `norm` if given. `forward(src, mask=None, src_key_padding_mask=None, is_causal=None)`.

    Where torch runs the stack on nested tensors (inference: eval mode and no gradient needed,
    a left-aligned `src_key_padding_mask`, no `mask`, a layer the fast path takes), the padded
    positions of its output are 0 before `norm`: they are here too, so results agree.
    """

    def __init__(
        self,
        encoder_layer: TransformerEncoderLayer,
        num_layers: int,
        norm: Module | None = None,
        enable_nested_tensor: bool = True,
        mask_check: bool = True,
    ) -> None:
        super().__init__()
        self.layers = _get_clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = enable_nested_tensor
        self.mask_check = mask_check
        why_not = _nested_tensor_blocker(encoder_layer)
        if enable_nested_tensor and why_not:
            warnings.warn(
                "enable_nested_tensor is True, but self.use_nested_tensor is False because "
                f"{why_not}",
                stacklevel=2,
            )
            self.use_nested_tensor = False

    def _pads_like_nested(self, src: Tensor, mask, padding_mask) -> bool:
        first = self.layers[0]
        if not self.use_nested_tensor or first.training or src.dim() != 3:
            return False
        if padding_mask is None or mask is not None:
            return False
        if self.mask_check and not _left_aligned(padding_mask == 0):
            return False
        attn = first.self_attn
        args = (
            src, attn.in_proj_weight, attn.in_proj_bias, attn.out_proj.weight, attn.out_proj.bias,
            first.norm1.weight, first.norm1.bias, first.norm2.weight, first.norm2.bias,
            first.linear1.weight, first.linear1.bias, first.linear2.weight, first.linear2.bias,
        )  # fmt: skip
        return not (autograd.is_grad_enabled() and any(t.requires_grad for t in args))

    def forward(
        self,
        src: Tensor,
        mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        is_causal: bool | None = None,
    ) -> Tensor:
        src_key_padding_mask = canonical_mask(
            src_key_padding_mask,
            "src_key_padding_mask",
            None if mask is None else mask.dtype,
            "mask",
            src.dtype,
        )
        mask = canonical_mask(mask, "mask", None, "", src.dtype, False)
        zero_padded = self._pads_like_nested(src, mask, src_key_padding_mask)
        batch_first = self.layers[0].self_attn.batch_first
        is_causal = _detect_is_causal_mask(mask, is_causal, _get_seq_len(src, batch_first))
        output = src
        for layer in self.layers:
            output = layer(
                output,
                src_mask=mask,
                is_causal=is_causal,
                src_key_padding_mask=src_key_padding_mask,
            )
        if zero_padded:  # [N, S] True at padding -> [N, S, 1]
            output = output.masked_fill((src_key_padding_mask != 0).unsqueeze(-1), 0.0)
        if self.norm is not None:
            output = self.norm(output)
        return output


class TransformerDecoderLayer(Module):
    """torch's decoder layer: self-attention, cross-attention over `memory`, feed-forward; each
    a residual branch with dropout and LayerNorm (post-norm, or pre-norm with `norm_first`).

    `forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False)`.
    """

    def __init__(
        self,
        d_model: int,
        nhead: int,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Callable[[Tensor], Tensor] = F.relu,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        self.self_attn = MultiheadAttention(
            d_model, nhead, dropout=dropout, batch_first=batch_first, bias=bias, **kw
        )
        self.multihead_attn = MultiheadAttention(
            d_model, nhead, dropout=dropout, batch_first=batch_first, bias=bias, **kw
        )
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **kw)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **kw)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        if isinstance(activation, str):
            activation = _get_activation_fn(activation)
        self.activation = activation

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        tgt_is_causal: bool = False,
        memory_is_causal: bool = False,
    ) -> Tensor:
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(
                self.norm2(x), memory, memory_mask, memory_key_padding_mask, memory_is_causal
            )
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(
                x
                + self._mha_block(x, memory, memory_mask, memory_key_padding_mask, memory_is_causal)
            )
            x = self.norm3(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal: bool = False) -> Tensor:
        x = self.self_attn(
            x,
            x,
            x,
            attn_mask=attn_mask,
            key_padding_mask=key_padding_mask,
            is_causal=is_causal,
            need_weights=False,
        )[0]
        return self.dropout1(x)

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal: bool = False) -> Tensor:
        x = self.multihead_attn(
            x,
            mem,
            mem,
            attn_mask=attn_mask,
            key_padding_mask=key_padding_mask,
            is_causal=is_causal,
            need_weights=False,
        )[0]
        return self.dropout2(x)

    def _ff_block(self, x: Tensor) -> Tensor:
        return self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerDecoder(Module):
    """torch's stack of `num_layers` deep copies of `decoder_layer`, then `norm` if given.
    `forward(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False)`."""

    def __init__(
        self, decoder_layer: TransformerDecoderLayer, num_layers: int, norm: Module | None = None
    ) -> None:
        super().__init__()
        self.layers = _get_clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> Tensor:
        seq_len = _get_seq_len(tgt, self.layers[0].self_attn.batch_first)
        tgt_is_causal = _detect_is_causal_mask(tgt_mask, tgt_is_causal, seq_len)
        output = tgt
        for layer in self.layers:
            output = layer(
                output,
                memory,
                tgt_mask=tgt_mask,
                memory_mask=memory_mask,
                tgt_key_padding_mask=tgt_key_padding_mask,
                memory_key_padding_mask=memory_key_padding_mask,
                tgt_is_causal=tgt_is_causal,
                memory_is_causal=memory_is_causal,
            )
        if self.norm is not None:
            output = self.norm(output)
        return output


class Transformer(Module):
    """torch's encoder-decoder Transformer ("Attention Is All You Need"): `encoder` and
    `decoder` stacks with a final LayerNorm each (or `custom_encoder` / `custom_decoder`);
    every weight matrix Xavier-uniform initialised.

    `forward(src, tgt, src_mask=None, tgt_mask=None, memory_mask=None, src_key_padding_mask=None,
    tgt_key_padding_mask=None, memory_key_padding_mask=None, src_is_causal=None,
    tgt_is_causal=None, memory_is_causal=False)`; `generate_square_subsequent_mask(sz)` makes
    the causal float mask for `tgt_mask`.
    """

    def __init__(
        self,
        d_model: int = 512,
        nhead: int = 8,
        num_encoder_layers: int = 6,
        num_decoder_layers: int = 6,
        dim_feedforward: int = 2048,
        dropout: float = 0.1,
        activation: str | Callable[[Tensor], Tensor] = F.relu,
        custom_encoder: Any | None = None,
        custom_decoder: Any | None = None,
        layer_norm_eps: float = 1e-5,
        batch_first: bool = False,
        norm_first: bool = False,
        bias: bool = True,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        kw = {"device": device, "dtype": dtype}
        layer_args = (
            d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps, batch_first,
            norm_first, bias,
        )  # fmt: skip
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            self.encoder = TransformerEncoder(
                TransformerEncoderLayer(*layer_args, **kw),
                num_encoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw),
            )
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            self.decoder = TransformerDecoder(
                TransformerDecoderLayer(*layer_args, **kw),
                num_decoder_layers,
                LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **kw),
            )
        self._reset_parameters()
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first

    def forward(
        self,
        src: Tensor,
        tgt: Tensor,
        src_mask: Tensor | None = None,
        tgt_mask: Tensor | None = None,
        memory_mask: Tensor | None = None,
        src_key_padding_mask: Tensor | None = None,
        tgt_key_padding_mask: Tensor | None = None,
        memory_key_padding_mask: Tensor | None = None,
        src_is_causal: bool | None = None,
        tgt_is_causal: bool | None = None,
        memory_is_causal: bool = False,
    ) -> Tensor:
        is_batched = src.dim() == 3
        batch_dim = 0 if self.batch_first else 1
        if is_batched and src.shape[batch_dim] != tgt.shape[batch_dim]:
            raise RuntimeError("the batch number of src and tgt must be equal")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise RuntimeError("the feature number of src and tgt must be equal to d_model")
        memory = self.encoder(
            src, mask=src_mask, src_key_padding_mask=src_key_padding_mask, is_causal=src_is_causal
        )
        return self.decoder(
            tgt,
            memory,
            tgt_mask=tgt_mask,
            memory_mask=memory_mask,
            tgt_key_padding_mask=tgt_key_padding_mask,
            memory_key_padding_mask=memory_key_padding_mask,
            tgt_is_causal=tgt_is_causal,
            memory_is_causal=memory_is_causal,
        )

    @staticmethod
    def generate_square_subsequent_mask(sz: int, device=None, dtype=None) -> Tensor:
        """[sz, sz] float mask, -inf above the diagonal and 0 elsewhere (torch's)."""
        return _generate_square_subsequent_mask(sz, device=device, dtype=dtype)

    def _reset_parameters(self) -> None:
        for p in self.parameters():
            if p.dim() > 1:
                init.xavier_uniform_(p)

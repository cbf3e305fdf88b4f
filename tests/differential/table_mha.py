"""Differential entries: torch's attention modules (nn.MultiheadAttention, the Transformer
encoder/decoder layers and stacks, nn.Transformer) and F.multi_head_attention_forward, in eval
mode with torch's weights copied in, in float64 (in float32 these chains of GEMMs, softmax and
LayerNorm round differently in the two libraries beyond float32's comparison tolerance); bool
and float masks are drawn so that no query is fully blocked."""

import numpy as np  # noqa: I001 (first-party tests.differential once merged with the suite)
from hypothesis import strategies as st

from tests.differential.opinfo import Entry, Sample, T, register, tensors

E, H = 4, 2


def _kpm(draw, batch, length):
    """A key padding mask (True = padding) that keeps key 0 of every sequence."""
    mask = np.array(draw(st.lists(st.booleans(), min_size=batch * length, max_size=batch * length)))
    mask = mask.reshape(batch, length)
    mask[:, 0] = False
    return T(mask, grad=False)


def _attn_mask(draw, rows, cols, dtype):
    if draw(st.booleans()):
        mask = np.array(draw(st.lists(st.booleans(), min_size=rows * cols, max_size=rows * cols)))
        mask = mask.reshape(rows, cols)
        mask[:, 0] = False
        return T(mask, grad=False)
    return draw(tensors(dtype, (rows, cols), edges=False, grad=False, low=-2, high=2))


def _mha_sample(kdim, vdim, batch_first):
    def sample(draw, dtype):
        n, length, src = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
        seq = (lambda s, d: (n, s, d)) if batch_first else (lambda s, d: (s, n, d))
        q = draw(tensors(dtype, seq(length, E), edges=False, low=-3, high=3))
        k = draw(tensors(dtype, seq(src, kdim), edges=False, low=-3, high=3))
        v = draw(tensors(dtype, seq(src, vdim), edges=False, low=-3, high=3))
        kwargs = {
            "need_weights": draw(st.booleans()),
            "average_attn_weights": draw(st.booleans()),
        }
        if draw(st.booleans()):
            kwargs["key_padding_mask"] = _kpm(draw, n, src)
        if draw(st.booleans()):
            kwargs["attn_mask"] = _attn_mask(draw, length, src, dtype)
        return Sample(q, k, v, **kwargs)

    return sample


def _mha(name, ctor, sample):
    register(
        Entry(
            f"nn.MultiheadAttention.{name}",
            ("minigrad.nn.MultiheadAttention",),
            lambda lib, m, *a, **k: m(*a, **k),
            sample,
            ("float64",),
            module=ctor,
            note="masks mixing bool and float warn in both (torch's deprecation warning)",
        )
    )


_mha(
    "default", lambda lib: lib.nn.MultiheadAttention(E, H).double().eval(), _mha_sample(E, E, False)
)
_mha(
    "kdim_vdim_bias_kv_zero_attn",
    lambda lib: (
        lib.nn.MultiheadAttention(E, H, add_bias_kv=True, add_zero_attn=True, kdim=3, vdim=5)
        .double()
        .eval()
    ),
    _mha_sample(3, 5, False),
)
_mha(
    "batch_first_no_bias",
    lambda lib: lib.nn.MultiheadAttention(E, H, bias=False, batch_first=True).double().eval(),
    _mha_sample(E, E, True),
)


def _src_sample(draw, dtype):
    n, length = draw(st.integers(1, 2)), draw(st.integers(1, 4))
    src = draw(tensors(dtype, (n, length, E), edges=False, low=-3, high=3))
    kwargs = {}
    if draw(st.booleans()):
        kwargs["src_key_padding_mask"] = _kpm(draw, n, length)
    return Sample(src, **kwargs)


def _layer_kw():
    return dict(dim_feedforward=6, batch_first=True)


register(
    Entry(
        "nn.TransformerEncoderLayer",
        ("minigrad.nn.TransformerEncoderLayer",),
        lambda lib, m, *a, **k: m(*a, **k),
        _src_sample,
        ("float64",),
        module=lambda lib: lib.nn.TransformerEncoderLayer(E, H, **_layer_kw()).double().eval(),
    ),
    Entry(
        "nn.TransformerEncoderLayer.norm_first_gelu",
        ("minigrad.nn.TransformerEncoderLayer",),
        lambda lib, m, *a, **k: m(*a, **k),
        _src_sample,
        ("float64",),
        module=lambda lib: (
            lib.nn.TransformerEncoderLayer(E, H, activation="gelu", norm_first=True, **_layer_kw())
            .double()
            .eval()
        ),
    ),
    Entry(
        "nn.TransformerEncoder",
        ("minigrad.nn.TransformerEncoder",),
        lambda lib, m, *a, **k: m(*a, **k),
        _src_sample,
        ("float64",),
        module=lambda lib: (
            lib.nn.TransformerEncoder(
                lib.nn.TransformerEncoderLayer(E, H, **_layer_kw()), 2, lib.nn.LayerNorm(E)
            )
            .double()
            .eval()
        ),
    ),
)


def _tgt_memory_sample(draw, dtype):
    n, t, s = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    tgt = draw(tensors(dtype, (n, t, E), edges=False, low=-3, high=3))
    memory = draw(tensors(dtype, (n, s, E), edges=False, low=-3, high=3))
    kwargs = {}
    if draw(st.booleans()):
        kwargs["tgt_mask"] = T(np.triu(np.full((t, t), -np.inf, np.float64), 1), grad=False)
    if draw(st.booleans()):
        kwargs["memory_key_padding_mask"] = _kpm(draw, n, s)
    return Sample(tgt, memory, **kwargs)


register(
    Entry(
        "nn.TransformerDecoderLayer",
        ("minigrad.nn.TransformerDecoderLayer",),
        lambda lib, m, *a, **k: m(*a, **k),
        _tgt_memory_sample,
        ("float64",),
        module=lambda lib: lib.nn.TransformerDecoderLayer(E, H, **_layer_kw()).double().eval(),
    ),
    Entry(
        "nn.TransformerDecoder",
        ("minigrad.nn.TransformerDecoder",),
        lambda lib, m, *a, **k: m(*a, **k),
        _tgt_memory_sample,
        ("float64",),
        module=lambda lib: (
            lib.nn.TransformerDecoder(
                lib.nn.TransformerDecoderLayer(E, H, norm_first=True, **_layer_kw()), 2
            )
            .double()
            .eval()
        ),
    ),
    Entry(
        "nn.Transformer",
        ("minigrad.nn.Transformer",),
        lambda lib, m, src, tgt, **k: m(
            src, tgt, tgt_mask=m.generate_square_subsequent_mask(tgt.shape[1]), **k
        ),
        lambda draw, dtype: Sample(
            draw(tensors(dtype, (2, draw(st.integers(1, 3)), E), edges=False, low=-3, high=3)),
            draw(tensors(dtype, (2, draw(st.integers(1, 3)), E), edges=False, low=-3, high=3)),
        ),
        ("float64",),
        module=lambda lib: lib.nn.Transformer(E, H, 1, 1, 6, batch_first=True).double().eval(),
    ),
)


def _functional_sample(draw, dtype):
    n, length, src = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    t = lambda *shape: draw(tensors(dtype, shape, edges=False, low=-2, high=2))
    return Sample(
        t(length, n, E),
        t(src, n, E),
        t(src, n, E),
        E,
        H,
        t(3 * E, E),
        t(3 * E),
        None,
        None,
        draw(st.booleans()),
        0.0,
        t(E, E),
        t(E),
        training=False,
        key_padding_mask=_kpm(draw, n, src),
        need_weights=draw(st.booleans()),
    )


register(
    Entry(
        "nn.functional.multi_head_attention_forward",
        ("minigrad.nn.functional.multi_head_attention_forward",),
        lambda lib, *a, **k: lib.nn.functional.multi_head_attention_forward(*a, **k),
        _functional_sample,
        ("float32", "float64"),
    )
)

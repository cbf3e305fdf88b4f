"""torch's transformer modules (TransformerEncoderLayer, TransformerEncoder,
TransformerDecoderLayer, TransformerDecoder, Transformer) against torch with copied weights:
outputs and the gradients of the inputs and of every parameter (eval mode, float64), for
norm_first, relu / gelu / callable activations, batch_first, bias, every mask argument and the
causal flags; state_dict keys, deep-copied layers, generate_square_subsequent_mask, the nested
tensor inference path's zeroed padding, train-mode dropout. Also the package's own blocks."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn

torch = pytest.importorskip("torch")

D, H, FF, S, T, N = 8, 2, 16, 5, 4, 3
pytestmark = [
    pytest.mark.filterwarnings("ignore:enable_nested_tensor is True"),
    pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors"),
    # a float causal tgt_mask with bool padding masks, as programs write it (torch warns too)
    pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask"),
]


def _mg(t, requires_grad=False):
    return mg.tensor(t.detach().numpy().copy(), requires_grad=requires_grad)


def _activation(name, lib):
    if name == "callable":
        return lib.nn.Tanh() if lib is torch else nn.Tanh()
    return name


def _copy(ours, theirs):
    state = theirs.state_dict()
    assert list(ours.state_dict()) == list(state)
    for name, value in state.items():
        assert tuple(ours.state_dict()[name].shape) == tuple(value.shape), name
    with torch.no_grad():
        for p in theirs.parameters():  # biases and norms start at 0 / 1: make them count
            p.add_(0.05 * torch.randn_like(p))
    ours.load_state_dict({k: mg.tensor(v.numpy().copy()) for k, v in theirs.state_dict().items()})


def _x(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def _check(ours, theirs, t_inputs, m_inputs, t_kwargs, m_kwargs, tol=1e-10):
    """Forward, a weighted-sum backward, and compare output and all gradients."""
    t_out = theirs(*t_inputs, **t_kwargs)
    m_out = ours(*m_inputs, **m_kwargs)
    g = _x(*t_out.shape, seed=9)
    (t_out * g).sum().backward()
    (m_out * _mg(g)).sum().backward()
    pairs = [(m_out, t_out)] + [(m.grad, t.grad) for m, t in zip(m_inputs, t_inputs)]
    t_params = dict(theirs.named_parameters())
    names = [n for n, _ in ours.named_parameters()]
    assert names == list(t_params)
    pairs += [(p.grad, t_params[n].grad) for n, p in ours.named_parameters()]
    for m, t in pairs:
        assert m is not None and t is not None
        np.testing.assert_allclose(m.detach().numpy(), t.detach().numpy(), rtol=tol, atol=tol)


def _seq(batch_first, length, seed):
    shape = (N, length, D) if batch_first else (length, N, D)
    return _x(*shape, seed=seed).requires_grad_()


def _padding(length, float_mask=False, seed=3):
    kpm = torch.rand(N, length, generator=torch.Generator().manual_seed(seed)) < 0.4
    kpm[:, 0] = False
    if float_mask:
        return torch.zeros(N, length, dtype=torch.float64).masked_fill(kpm, float("-inf"))
    return kpm


def _attn_mask(rows, cols, kind):
    if kind == "causal":
        return torch.nn.Transformer.generate_square_subsequent_mask(rows, dtype=torch.float64)
    m = torch.rand(rows, cols, generator=torch.Generator().manual_seed(4)) < 0.3
    m[:, 0] = False
    return m if kind == "bool" else torch.randn(rows, cols, dtype=torch.float64)


def _m(mask):
    return None if mask is None else _mg(mask)


ENCODER_MASKS = ["none", "kpm", "kpm-float", "mask-bool", "mask-float", "causal", "causal-kpm"]


@pytest.mark.parametrize("mask", ENCODER_MASKS)
@pytest.mark.parametrize(
    "norm_first,activation,batch_first,bias",
    [
        (False, "relu", False, True),
        (True, "gelu", True, True),
        (False, "gelu", True, False),
        (True, "callable", False, True),
    ],
)
def test_encoder_layer_matches_torch(mask, norm_first, activation, batch_first, bias):
    kw = dict(batch_first=batch_first, norm_first=norm_first, bias=bias, dropout=0.1)
    torch.manual_seed(0)
    theirs = torch.nn.TransformerEncoderLayer(
        D, H, FF, activation=_activation(activation, torch), **kw
    )
    theirs = theirs.double().eval()
    ours = nn.TransformerEncoderLayer(
        D, H, FF, activation=_activation(activation, mg), dtype=mg.float64, **kw
    ).eval()
    _copy(ours, theirs)
    src = _seq(batch_first, S, 1)
    kpm = _padding(S, "float" in mask) if "kpm" in mask else None
    attn = None
    if mask.startswith("mask") or mask.startswith("causal"):
        attn = _attn_mask(S, S, mask.split("-")[-1] if mask.startswith("mask") else "causal")
    if "kpm" in mask and attn is not None and attn.dtype != kpm.dtype:
        kpm = _padding(S, True)
    is_causal = mask.startswith("causal")
    t_kw = dict(src_mask=attn, src_key_padding_mask=kpm, is_causal=is_causal)
    m_kw = dict(src_mask=_m(attn), src_key_padding_mask=_m(kpm), is_causal=is_causal)
    _check(ours, theirs, (src,), (_mg(src, True),), t_kw, m_kw)


@pytest.mark.parametrize("mask", ["none", "kpm", "mask-bool", "causal-hint", "causal-detected"])
@pytest.mark.parametrize("batch_first,norm_first", [(False, False), (True, True), (True, False)])
def test_encoder_matches_torch(mask, batch_first, norm_first):
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # enable_nested_tensor notes, checked below
        layer = torch.nn.TransformerEncoderLayer(
            D, H, FF, batch_first=batch_first, norm_first=norm_first
        )
        theirs = torch.nn.TransformerEncoder(layer, 2, torch.nn.LayerNorm(D)).double().eval()
        ours = nn.TransformerEncoder(
            nn.TransformerEncoderLayer(
                D, H, FF, batch_first=batch_first, norm_first=norm_first, dtype=mg.float64
            ),
            2,
            nn.LayerNorm(D, dtype=mg.float64),
        ).eval()
    _copy(ours, theirs)
    src = _seq(batch_first, S, 1)
    kpm = _padding(S) if mask == "kpm" else None
    attn = _attn_mask(S, S, "bool") if mask == "mask-bool" else None
    if mask.startswith("causal"):
        attn = _attn_mask(S, S, "causal")
    is_causal = True if mask == "causal-hint" else None
    t_kw = dict(mask=attn, src_key_padding_mask=kpm, is_causal=is_causal)
    m_kw = dict(mask=_m(attn), src_key_padding_mask=_m(kpm), is_causal=is_causal)
    _check(ours, theirs, (src,), (_mg(src, True),), t_kw, m_kw)


def test_encoder_layers_are_independent_deep_copies():
    layer = nn.TransformerEncoderLayer(D, H, FF)
    enc = nn.TransformerEncoder(layer, 3, enable_nested_tensor=False)
    assert len(enc.layers) == 3 and enc.num_layers == 3
    weights = [m.self_attn.in_proj_weight for m in enc.layers] + [layer.self_attn.in_proj_weight]
    assert len({id(w) for w in weights}) == 4
    for w in weights[1:]:
        np.testing.assert_array_equal(w.detach().numpy(), weights[0].detach().numpy())
    torch_keys = list(
        torch.nn.TransformerEncoder(
            torch.nn.TransformerEncoderLayer(D, H, FF), 3, enable_nested_tensor=False
        ).state_dict()
    )
    assert list(enc.state_dict()) == torch_keys


def test_enable_nested_tensor_warns_as_torch():
    for batch_first, expect in ((False, True), (True, False)):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            enc = nn.TransformerEncoder(
                nn.TransformerEncoderLayer(D, H, batch_first=batch_first), 1
            )
        with warnings.catch_warnings(record=True) as theirs:
            warnings.simplefilter("always")
            t_enc = torch.nn.TransformerEncoder(
                torch.nn.TransformerEncoderLayer(D, H, batch_first=batch_first), 1
            )
        assert [str(w.message) for w in seen] == [str(w.message) for w in theirs]
        assert bool(seen) == expect
        assert enc.use_nested_tensor == t_enc.use_nested_tensor


@pytest.mark.parametrize("grad", [False, True])
def test_inference_zeroes_padding_as_torch_nested_path(grad):
    torch.manual_seed(0)
    layer = torch.nn.TransformerEncoderLayer(D, H, FF, batch_first=True)
    theirs = torch.nn.TransformerEncoder(layer, 2, torch.nn.LayerNorm(D)).double().eval()
    ours = nn.TransformerEncoder(
        nn.TransformerEncoderLayer(D, H, FF, batch_first=True, dtype=mg.float64),
        2,
        nn.LayerNorm(D, dtype=mg.float64),
    ).eval()
    _copy(ours, theirs)
    src = _x(N, S, D, seed=1)
    lengths = torch.tensor([5, 3, 2])
    kpm = torch.arange(S)[None, :] >= lengths[:, None]  # left aligned: the nested path applies
    if grad:
        t_out = theirs(src, src_key_padding_mask=kpm)
        m_out = ours(_mg(src), src_key_padding_mask=_mg(kpm))
    else:
        with torch.no_grad(), mg.no_grad():
            t_out = theirs(src, src_key_padding_mask=kpm)
            m_out = ours(_mg(src), src_key_padding_mask=_mg(kpm))
    np.testing.assert_allclose(m_out.detach().numpy(), t_out.detach().numpy(), atol=1e-10)


DECODER_MASKS = ["none", "tgt-causal", "tgt-causal-hint", "all-bool", "all-float"]


def _decoder_masks(kind):
    tgt_mask = memory_mask = tgt_kpm = mem_kpm = None
    tgt_is_causal = None
    if kind.startswith("tgt-causal"):
        tgt_mask = _attn_mask(T, T, "causal")
        tgt_is_causal = True if kind.endswith("hint") else None
    if kind.startswith("all"):
        float_mask = kind.endswith("float")
        tgt_mask = _attn_mask(T, T, "float" if float_mask else "bool")
        memory_mask = _attn_mask(T, S, "float" if float_mask else "bool")
        tgt_kpm, mem_kpm = _padding(T, float_mask, 5), _padding(S, float_mask, 6)
    return dict(
        tgt_mask=tgt_mask,
        memory_mask=memory_mask,
        tgt_key_padding_mask=tgt_kpm,
        memory_key_padding_mask=mem_kpm,
        tgt_is_causal=tgt_is_causal,
    )


def _to_mg(kwargs):
    return {
        k: (_m(v) if isinstance(v, torch.Tensor) or v is None else v) for k, v in kwargs.items()
    }


@pytest.mark.parametrize("mask", DECODER_MASKS)
@pytest.mark.parametrize(
    "batch_first,norm_first,activation", [(False, False, "relu"), (True, True, "gelu")]
)
def test_decoder_layer_and_decoder_match_torch(mask, batch_first, norm_first, activation):
    kw = dict(batch_first=batch_first, norm_first=norm_first, activation=activation)
    torch.manual_seed(0)
    t_layer = torch.nn.TransformerDecoderLayer(D, H, FF, **kw).double().eval()
    m_layer = nn.TransformerDecoderLayer(D, H, FF, dtype=mg.float64, **kw).eval()
    _copy(m_layer, t_layer)
    tgt, memory = _seq(batch_first, T, 1), _seq(batch_first, S, 2)
    t_kw = _decoder_masks(mask)
    t_kw["tgt_is_causal"] = bool(t_kw["tgt_is_causal"])  # the layer takes a bool
    inputs = (tgt, memory), (_mg(tgt, True), _mg(memory, True))
    _check(m_layer, t_layer, *inputs, t_kw, _to_mg(t_kw))

    theirs = torch.nn.TransformerDecoder(t_layer, 2, torch.nn.LayerNorm(D)).double().eval()
    ours = nn.TransformerDecoder(m_layer, 2, nn.LayerNorm(D, dtype=mg.float64)).eval()
    _copy(ours, theirs)
    tgt, memory = _seq(batch_first, T, 1), _seq(batch_first, S, 2)
    t_kw = _decoder_masks(mask)
    _check(ours, theirs, (tgt, memory), (_mg(tgt, True), _mg(memory, True)), t_kw, _to_mg(t_kw))


@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_matches_torch(batch_first):
    kw = dict(
        num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=FF, batch_first=batch_first
    )
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.nn.Transformer(D, H, **kw).double().eval()
        ours = nn.Transformer(D, H, dtype=mg.float64, **kw).eval()
    _copy(ours, theirs)
    src, tgt = _seq(batch_first, S, 1), _seq(batch_first, T, 2)
    tgt_mask = torch.nn.Transformer.generate_square_subsequent_mask(T, dtype=torch.float64)
    t_kw = dict(
        tgt_mask=tgt_mask,
        src_key_padding_mask=_padding(S),
        tgt_key_padding_mask=_padding(T, seed=7),
        memory_key_padding_mask=_padding(S),
    )
    m_kw = {k: _mg(v) for k, v in t_kw.items()}
    _check(ours, theirs, (src, tgt), (_mg(src, True), _mg(tgt, True)), t_kw, m_kw)


def test_transformer_defaults_parameters_and_init_as_torch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.nn.Transformer(16, 2, 1, 1, 32)
        ours = nn.Transformer(16, 2, 1, 1, 32)
    t_state, m_state = theirs.state_dict(), ours.state_dict()
    assert list(m_state) == list(t_state)
    assert all(tuple(m_state[k].shape) == tuple(v.shape) for k, v in t_state.items())
    assert (ours.d_model, ours.nhead, ours.batch_first) == (16, 2, False)
    for name, p in ours.named_parameters():
        if p.dim() > 1:  # Xavier-uniform, as torch re-initialises every matrix
            assert np.abs(p.detach().numpy()).max() <= np.sqrt(6 / sum(p.shape)), name
    layer = ours.encoder.layers[0]
    assert layer.linear1.out_features == 32 and layer.dropout.p == 0.1
    assert layer.norm1.eps == 1e-5 and layer.activation_relu_or_gelu == 1
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        nn.TransformerEncoderLayer(16, 2, activation="tanh")


@pytest.mark.parametrize("dtype", [None, "float64"])
def test_generate_square_subsequent_mask_as_torch(dtype):
    t = torch.nn.Transformer.generate_square_subsequent_mask(
        4, dtype=getattr(torch, dtype or "float32")
    )
    m = nn.Transformer.generate_square_subsequent_mask(
        4, dtype=getattr(mg, dtype) if dtype else None
    )
    assert m.dtype == (mg.float64 if dtype else mg.float32)
    np.testing.assert_array_equal(m.numpy(), t.numpy())


def test_transformer_errors_as_torch():
    model = nn.Transformer(8, 2, 1, 1, 16)
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        model(mg.randn(5, 2, 8), mg.randn(4, 3, 8))
    with pytest.raises(RuntimeError, match="the feature number of src and tgt must be equal"):
        model(mg.randn(5, 2, 8), mg.randn(4, 2, 6))


def test_train_mode_dropout_shapes_and_grads():
    mg.manual_seed(0)
    model = nn.Transformer(8, 2, 1, 1, 16, dropout=0.5, batch_first=True)
    src, tgt = mg.randn(3, 5, 8), mg.randn(3, 4, 8)
    mask = nn.Transformer.generate_square_subsequent_mask(4)
    a = model(src, tgt, tgt_mask=mask)
    b = model(src, tgt, tgt_mask=mask)
    assert a.shape == (3, 4, 8)
    assert not np.allclose(a.detach().numpy(), b.detach().numpy())  # dropout is on
    a.sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.eval()
    c = model(src, tgt, tgt_mask=mask)
    np.testing.assert_array_equal(
        c.detach().numpy(), model(src, tgt, tgt_mask=mask).detach().numpy()
    )


def test_unbatched_encoder_layer_matches_torch():
    torch.manual_seed(0)
    theirs = torch.nn.TransformerEncoderLayer(D, H, FF).double().eval()
    ours = nn.TransformerEncoderLayer(D, H, FF, dtype=mg.float64).eval()
    _copy(ours, theirs)
    src = _x(S, D, seed=1).requires_grad_()
    kpm = torch.tensor([False, False, True, False, True])
    _check(ours, theirs, (src,), (_mg(src, True),), {"src_key_padding_mask": kpm},
           {"src_key_padding_mask": _mg(kpm)})  # fmt: skip

"""nn.MultiheadAttention and F.multi_head_attention_forward against torch, with torch's weights
copied in: outputs, attention weights and the gradients of the inputs and of every parameter,
for each mask kind (bool / float, key padding, 2-D / 3-D attn_mask, causal), batch_first,
kdim/vdim, add_bias_kv, add_zero_attn, bias, need_weights and average_attn_weights; unbatched
inputs; train-mode dropout; state_dict keys, init and errors."""

from __future__ import annotations

import copy
import itertools
import warnings

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn

torch = pytest.importorskip("torch")

E, H, L, S, N = 8, 2, 4, 5, 3


def _mg(t: torch.Tensor, requires_grad: bool = False) -> mg.Tensor:
    return mg.tensor(t.detach().numpy().copy(), requires_grad=requires_grad)


def _copy_weights(ours: nn.Module, theirs: torch.nn.Module) -> None:
    state = theirs.state_dict()
    assert list(ours.state_dict()) == list(state)
    ours.load_state_dict({k: mg.tensor(v.numpy().copy()) for k, v in state.items()})


def _pair(dtype=torch.float64, **kw):
    torch.manual_seed(0)
    theirs = torch.nn.MultiheadAttention(E, H, **kw).to(dtype)
    ours = nn.MultiheadAttention(E, H, dtype=getattr(mg, str(dtype).split(".")[1]), **kw)
    _copy_weights(ours, theirs)
    for p in theirs.parameters():  # bias init is zero; make the biases count in the check
        with torch.no_grad():
            p.add_(0.1 * torch.randn_like(p))
    _copy_weights(ours, theirs)
    return ours.eval(), theirs.eval()


def _inputs(kdim, vdim, batch_first, self_attn, dtype=torch.float64, batched=True):
    g = torch.Generator().manual_seed(1)
    shape = lambda n, d: ((N, n, d) if batch_first else (n, N, d)) if batched else (n, d)
    q = torch.randn(shape(L, E), generator=g, dtype=dtype)
    if self_attn:
        return q, q, q
    k = torch.randn(shape(S, kdim or E), generator=g, dtype=dtype)
    v = torch.randn(shape(S, vdim or E), generator=g, dtype=dtype)
    return q, k, v


def _masks(kind: str, tgt: int, src: int, batched: bool = True):
    """(key_padding_mask, attn_mask) of one kind; no row is fully blocked."""
    g = torch.Generator().manual_seed(2)
    kpm = attn = None
    if "kpm" in kind:
        kpm = torch.rand(N, src, generator=g) < 0.4
        kpm[:, 0] = False
        if not batched:
            kpm = kpm[0]
    if "attn2" in kind:
        attn = torch.rand(tgt, src, generator=g) < 0.3
        attn[:, 0] = False
    if "attn3" in kind:
        attn = torch.rand((N * H if batched else H), tgt, src, generator=g) < 0.3
        attn[..., 0] = False
    if "float" in kind:
        if kpm is not None:
            kpm = torch.randn(kpm.shape, generator=g, dtype=torch.float64).masked_fill(kpm, -1e9)
        if attn is not None:
            attn = torch.randn(attn.shape, generator=g, dtype=torch.float64)
    return kpm, attn


def _run_both(ours, theirs, q, k, v, kpm, attn, **kw):
    """Forward and backward of both; returns [(ours, theirs)] for outputs, weights and the
    gradients of the inputs and every parameter."""
    tq, tk, tv = (t.clone().requires_grad_() for t in (q, k, v))
    if q is k is v:
        tk = tv = tq
    mq, mk, mv = (_mg(t, True) for t in (q, k, v))
    if q is k is v:
        mk = mv = mq
    t_out, t_w = theirs(tq, tk, tv, key_padding_mask=kpm, attn_mask=attn, **kw)
    m_out, m_w = ours(
        mq,
        mk,
        mv,
        key_padding_mask=None if kpm is None else _mg(kpm),
        attn_mask=None if attn is None else _mg(attn),
        **kw,
    )
    assert (t_w is None) == (m_w is None)
    g = torch.randn(t_out.shape, generator=torch.Generator().manual_seed(3), dtype=t_out.dtype)
    loss = (t_out * g).sum() + (0 if t_w is None else (t_w * t_w).sum())
    loss.backward()
    m_loss = (m_out * _mg(g)).sum()
    if m_w is not None:
        m_loss = m_loss + (m_w * m_w).sum()
    m_loss.backward()
    pairs = [(m_out, t_out)] + ([] if t_w is None else [(m_w, t_w)])
    inputs = [(mq, tq)] if q is k is v else [(mq, tq), (mk, tk), (mv, tv)]
    pairs += [(m.grad, t.grad) for m, t in inputs]
    t_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        pairs.append((p.grad, t_params[name].grad))
    return pairs


def _close(pairs, tol=1e-10):
    for m, t in pairs:
        assert tuple(m.shape) == tuple(t.shape)
        assert m.dtype == getattr(mg, str(t.dtype).split(".")[1])
        np.testing.assert_allclose(m.detach().numpy(), t.detach().numpy(), rtol=tol, atol=tol)


MASKS = ["none", "kpm", "kpm-float", "attn2", "attn2-float", "attn3", "attn3-float", "kpm-attn2"]
LAYOUTS = [  # (kdim, vdim, add_bias_kv, add_zero_attn, bias)
    (None, None, False, False, True),
    (6, 7, False, False, True),
    (None, None, True, False, True),
    (None, None, False, True, False),
    (6, 7, True, True, True),
]


@pytest.mark.parametrize("need_weights,average", [(True, True), (True, False), (False, True)])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda x: "-".join(map(str, x)))
@pytest.mark.parametrize("mask", MASKS)
def test_matches_torch(mask, layout, batch_first, need_weights, average):
    kdim, vdim, add_bias_kv, add_zero_attn, bias = layout
    kw = dict(kdim=kdim, vdim=vdim, add_bias_kv=add_bias_kv, add_zero_attn=add_zero_attn)
    ours, theirs = _pair(bias=bias, batch_first=batch_first, **kw)
    q, k, v = _inputs(kdim, vdim, batch_first, self_attn=False)
    kpm, attn = _masks(mask, L, S)
    pairs = _run_both(
        ours, theirs, q, k, v, kpm, attn, need_weights=need_weights, average_attn_weights=average
    )
    _close(pairs)


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("mask", ["none", "kpm", "attn2", "kpm-attn2-float"])
def test_self_attention_matches_torch(mask, batch_first, need_weights):
    ours, theirs = _pair(batch_first=batch_first)
    q, k, v = _inputs(None, None, batch_first, self_attn=True)
    kpm, attn = _masks(mask, L, L)
    _close(_run_both(ours, theirs, q, k, v, kpm, attn, need_weights=need_weights))


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("mask", ["none", "kpm", "attn2", "attn3-float", "kpm-attn3"])
@pytest.mark.parametrize("layout", LAYOUTS[:3], ids=lambda x: "-".join(map(str, x)))
def test_unbatched_matches_torch(mask, layout, need_weights):
    kdim, vdim, add_bias_kv, add_zero_attn, bias = layout
    kw = dict(kdim=kdim, vdim=vdim, add_bias_kv=add_bias_kv, add_zero_attn=add_zero_attn)
    ours, theirs = _pair(bias=bias, **kw)
    q, k, v = _inputs(kdim, vdim, False, self_attn=False, batched=False)
    kpm, attn = _masks(mask, L, S, batched=False)
    _close(_run_both(ours, theirs, q, k, v, kpm, attn, need_weights=need_weights))


@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")
@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("kpm", [False, True])
def test_is_causal_with_its_mask_matches_torch(kpm, need_weights):
    ours, theirs = _pair(batch_first=True)
    q, k, v = _inputs(None, None, True, self_attn=True)
    causal = torch.nn.Transformer.generate_square_subsequent_mask(L, dtype=torch.float64)
    padding = _masks("kpm", L, L)[0] if kpm else None
    pairs = _run_both(
        ours, theirs, q, k, v, padding, causal, need_weights=need_weights, is_causal=True
    )
    _close(pairs)


def test_is_causal_needs_the_mask():
    ours, _ = _pair()
    x = mg.randn(L, N, E, dtype=mg.float64)
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        ours(x, x, x, is_causal=True)


def test_float32_matches_torch():
    ours, theirs = _pair(dtype=torch.float32, kdim=6, vdim=7, add_bias_kv=True)
    q, k, v = _inputs(6, 7, False, self_attn=False, dtype=torch.float32)
    kpm, attn = _masks("kpm-attn2", L, S)
    _close(_run_both(ours, theirs, q, k, v, kpm, attn), tol=1e-5)


def test_fully_masked_row_as_torch():
    # torch's sdpa path gives 0 for a query that sees no key, its need_weights path NaN
    ours, theirs = _pair()
    q, k, v = _inputs(None, None, False, self_attn=False)
    kpm = torch.ones(N, S, dtype=torch.bool)
    kpm[1:, 0] = False
    for need_weights in (False, True):
        t_out, _ = theirs(q, k, v, key_padding_mask=kpm, need_weights=need_weights)
        m_out, _ = ours(
            _mg(q), _mg(k), _mg(v), key_padding_mask=_mg(kpm), need_weights=need_weights
        )
        np.testing.assert_allclose(m_out.detach().numpy(), t_out.detach().numpy(), atol=1e-12)


def test_mixed_mask_types_warn_as_torch():
    ours, _ = _pair()
    x = mg.randn(L, N, E, dtype=mg.float64)
    kpm = mg.zeros(N, L, dtype=mg.bool)
    with pytest.warns(UserWarning, match="mismatched key_padding_mask and attn_mask"):
        ours(x, x, x, key_padding_mask=kpm, attn_mask=mg.zeros(L, L, dtype=mg.float64))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours(x, x, x, key_padding_mask=kpm, attn_mask=mg.zeros(L, L, dtype=mg.bool))


def test_train_mode_dropout():
    mg.manual_seed(0)
    m = nn.MultiheadAttention(E, H, dropout=0.5, batch_first=True)
    x = mg.randn(N, L, E)
    out, w = m(x, x, x, average_attn_weights=False)
    assert out.shape == (N, L, E) and w.shape == (N, H, L, L)
    kept = w.detach().numpy()
    assert (kept == 0).any()  # dropped probabilities
    out2, none = m(x, x, x, need_weights=False)
    assert none is None and out2.shape == (N, L, E)
    (out.sum() + out2.sum()).backward()
    assert all(p.grad is not None for p in m.parameters())
    m.eval()
    a, _ = m(x, x, x)
    b, _ = m(x, x, x, need_weights=False)
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"bias": False},
        {"kdim": 3, "vdim": 5},
        {"add_bias_kv": True},
        {"kdim": 3, "add_bias_kv": True, "bias": False},
    ],
)
def test_parameters_and_init_as_torch(kw):
    theirs = torch.nn.MultiheadAttention(E, H, **kw)
    ours = nn.MultiheadAttention(E, H, **kw)
    t_state = theirs.state_dict()
    m_state = ours.state_dict()
    assert list(m_state) == list(t_state)
    for name, value in t_state.items():
        assert tuple(m_state[name].shape) == tuple(value.shape), name
        assert m_state[name].dtype == mg.float32
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert repr(ours) == repr(theirs)
    if kw.get("bias", True):
        assert (ours.in_proj_bias == 0).all() and (ours.out_proj.bias == 0).all()
    w = ours.in_proj_weight if ours.in_proj_weight is not None else ours.q_proj_weight
    bound = np.sqrt(6 / sum(w.shape))  # Xavier-uniform
    assert np.abs(w.detach().numpy()).max() <= bound
    for attr in ("embed_dim", "kdim", "vdim", "num_heads", "head_dim", "batch_first", "dropout"):
        assert getattr(ours, attr) == getattr(theirs, attr)
    assert ours._qkv_same_embed_dim == theirs._qkv_same_embed_dim


def test_deepcopy_is_independent():
    m = nn.MultiheadAttention(E, H, add_bias_kv=True)
    c = copy.deepcopy(m)
    for a, b in zip(m.parameters(), c.parameters()):
        assert a is not b and type(b) is type(a)
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    with mg.no_grad():
        c.in_proj_weight.zero_()
    assert not (m.in_proj_weight == 0).all()


def test_errors_as_torch():
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        nn.MultiheadAttention(6, 4)
    with pytest.raises(ValueError, match="embed_dim and num_heads must be greater than 0"):
        nn.MultiheadAttention(0, 1)
    m = nn.MultiheadAttention(E, H)
    x = mg.randn(L, N, E)
    with pytest.raises(AssertionError, match="expected `key` and `value` to be 3-D"):
        m(x, x[0], x[0])
    with pytest.raises(AssertionError, match="only bool and floating types of key_padding_mask"):
        m(x, x, x, key_padding_mask=mg.zeros(N, L, dtype=mg.int64))
    with pytest.raises(RuntimeError, match=r"The shape of the 2D attn_mask is \(3, 4\)"):
        m(x, x, x, attn_mask=mg.zeros(3, 4, dtype=mg.bool))
    with pytest.raises(RuntimeError, match="The shape of the 3D attn_mask"):
        m(x, x, x, attn_mask=mg.zeros(2, L, L, dtype=mg.bool))
    with pytest.raises(AssertionError, match="Expected key_padded_mask.shape"):
        m(x, x, x, key_padding_mask=mg.zeros(N, L + 1, dtype=mg.bool))
    with pytest.raises(AssertionError, match="was expecting embedding dimension of 8"):
        y = mg.randn(L, N, 4)
        m(y, y, y)


def test_functional_matches_torch():
    g = torch.Generator().manual_seed(5)
    t = lambda *s: torch.randn(*s, generator=g, dtype=torch.float64)
    q, k, v = t(L, N, E), t(S, N, E), t(S, N, E)
    w_in, b_in, w_out, b_out = t(3 * E, E), t(3 * E), t(E, E), t(E)
    bias_k, bias_v = t(1, 1, E), t(1, 1, E)
    kpm = torch.zeros(N, S, dtype=torch.bool)
    kpm[:, -2:] = True
    for need_weights, zero_attn in itertools.product((True, False), (True, False)):
        args = (E, H, w_in, b_in, bias_k, bias_v, zero_attn, 0.0, w_out, b_out)
        t_out, t_w = torch.nn.functional.multi_head_attention_forward(
            q, k, v, *args, training=False, key_padding_mask=kpm, need_weights=need_weights
        )
        m_args = tuple(_mg(a) if isinstance(a, torch.Tensor) else a for a in args)
        m_out, m_w = F.multi_head_attention_forward(
            _mg(q),
            _mg(k),
            _mg(v),
            *m_args,
            training=False,
            key_padding_mask=_mg(kpm),
            need_weights=need_weights,
        )
        np.testing.assert_allclose(m_out.numpy(), t_out.numpy(), rtol=1e-10, atol=1e-12)
        if need_weights:
            np.testing.assert_allclose(m_w.numpy(), t_w.numpy(), rtol=1e-10, atol=1e-12)

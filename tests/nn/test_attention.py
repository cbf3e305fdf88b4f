"""Tests for the fused scaled_dot_product_attention op and MultiHeadAttention
(minigrad/nn/attention.py): composed-reference and PyTorch agreement, finite-difference
gradients (Hypothesis), masks, GQA, dropout, fully masked rows, KV-cache decoding, errors."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.nn.attention import KVCache, MultiHeadAttention, scaled_dot_product_attention
from minigrad.testing import gradcheck, gradgradcheck

COVERED = {"scaled_dot_product_attention", "scaled_dot_product_attention_masked"}

sdpa = scaled_dot_product_attention


def leaf(a, dtype=np.float64):
    return mg.tensor(np.asarray(a, dtype=dtype), requires_grad=True)


def composed(q, k, v, mask=None, is_causal=False, scale=None, groups=1):
    """softmax(q k^T * scale + mask) v from primitive ops (the reference)."""
    if groups > 1:
        k = k.repeat_interleave(groups, dim=-3)
        v = v.repeat_interleave(groups, dim=-3)
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    s = (q @ k.transpose(-1, -2)) * scale
    L, S = q.shape[-2], k.shape[-2]
    if is_causal:
        mask = mg.tensor(np.tril(np.ones((L, S), dtype=bool)))
    if mask is not None:
        s = s.masked_fill(~mask, -math.inf) if mask.dtype == bool else s + mask
    return s.softmax(-1) @ v


@st.composite
def attention_case(draw):
    """Shapes for q/k/v (with broadcast batch dims and GQA) plus a mask kind."""
    b = draw(st.integers(1, 2))
    hkv = draw(st.integers(1, 2))
    groups = draw(st.integers(1, 2))
    L, S = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    E, Ev = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    mask = draw(st.sampled_from(["none", "causal", "float", "bool", "float_head"]))
    seed = draw(st.integers(0, 2**16))
    return b, hkv, groups, L, S, E, Ev, mask, seed


def make_case(case):
    b, hkv, groups, L, S, E, Ev, kind, seed = case
    rng = np.random.default_rng(seed)
    q = leaf(rng.standard_normal((b, hkv * groups, L, E)))
    k = leaf(rng.standard_normal((b, hkv, S, E)))
    v = leaf(rng.standard_normal((1, hkv, S, Ev)))  # batch dim broadcasts
    mask = None
    if kind == "float":
        mask = leaf(rng.standard_normal((L, S)))
    elif kind == "float_head":
        mask = leaf(rng.standard_normal((hkv * groups, 1, S)))
    elif kind == "bool":
        allowed = rng.random((b, 1, L, S)) < 0.7
        allowed[..., 0] = True  # no fully masked rows here (tested separately)
        mask = mg.tensor(allowed)
    return q, k, v, mask, kind == "causal", groups


@given(attention_case())
def test_matches_composed_forward_and_backward(case):
    q, k, v, mask, causal, groups = make_case(case)
    out = sdpa(q, k, v, attn_mask=mask, is_causal=causal, enable_gqa=groups > 1)
    ref = composed(q, k, v, mask, causal, groups=groups)
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = mg.tensor(np.random.default_rng(1).standard_normal(out.shape))
    inputs = [q, k, v] + ([mask] if mask is not None and mask.requires_grad else [])
    got = mg.autograd.grad(out, inputs, g)
    want = mg.autograd.grad(ref, inputs, g)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)


@given(attention_case())
def test_gradcheck_finite_differences(case):
    q, k, v, mask, causal, groups = make_case(case)
    fn = lambda q, k, v, m: sdpa(q, k, v, attn_mask=m, is_causal=causal, enable_gqa=groups > 1)
    assert gradcheck(fn, (q, k, v, mask))


@given(attention_case())
def test_gradgradcheck(case):
    q, k, v, mask, causal, groups = make_case(case)
    fn = lambda q, k, v, m: sdpa(q, k, v, attn_mask=m, is_causal=causal, enable_gqa=groups > 1)
    assert gradgradcheck(fn, (q, k, v, mask))


@pytest.mark.parametrize("kind", ["none", "causal", "float", "bool", "gqa", "scale"])
def test_matches_torch(kind):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    hk = 2 if kind == "gqa" else 4
    arrays = [rng.standard_normal(s) for s in [(2, 4, 5, 8), (2, hk, 7, 8), (2, hk, 7, 6)]]
    mask = None
    if kind == "float":
        mask = rng.standard_normal((2, 1, 5, 7))
    elif kind == "bool":
        mask = rng.random((5, 7)) < 0.6
        mask[:, 0] = True
    kw = dict(
        is_causal=kind == "causal", enable_gqa=kind == "gqa", scale=0.3 if kind == "scale" else None
    )
    ours = [leaf(a) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = sdpa(*ours, attn_mask=None if mask is None else mg.tensor(mask), **kw)
    ref = torch.nn.functional.scaled_dot_product_attention(
        *theirs, attn_mask=None if mask is None else torch.tensor(mask), **kw
    )
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-10, atol=1e-12)
    g = rng.standard_normal(ref.shape)
    out.backward(mg.tensor(g))
    ref.backward(torch.tensor(g))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_float32_stays_float32_and_is_stable():
    rng = np.random.default_rng(0)
    q, k, v = (
        mg.tensor(rng.standard_normal((2, 3, 4, 8)).astype(np.float32) * 100, requires_grad=True)
        for _ in range(3)
    )
    out = sdpa(q, k, v, is_causal=True)
    assert out.dtype == mg.float32
    assert np.isfinite(out.detach().numpy()).all()  # huge scores: the stable softmax holds
    out.sum().backward()
    assert q.grad.dtype == k.grad.dtype == v.grad.dtype == mg.float32
    m = mg.tensor(rng.standard_normal((4, 4)).astype(np.float32), requires_grad=True)
    out = sdpa(q, k, v, attn_mask=m, scale=0.5)
    out.sum().backward()
    assert out.dtype == m.grad.dtype == mg.float32


def test_fully_masked_rows_give_zero_output_and_zero_grads():
    rng = np.random.default_rng(0)
    q, k, v = (
        leaf(rng.standard_normal((2, 3, 4))),
        leaf(rng.standard_normal((2, 5, 4))),
        leaf(rng.standard_normal((2, 5, 4))),
    )
    allowed = rng.random((3, 5)) < 0.6
    allowed[:, 0] = True
    allowed[1] = False  # query 1 may see nothing
    out = sdpa(q, k, v, attn_mask=mg.tensor(allowed))
    assert np.all(out.detach().numpy()[:, 1] == 0)
    assert np.isfinite(out.detach().numpy()).all()
    out.backward(mg.ones_like(out))
    assert np.all(q.grad.numpy()[:, 1] == 0)
    for t in (q, k, v):
        assert np.isfinite(t.grad.numpy()).all()
    # the same with an additive -inf mask, which also gets a (zero) gradient on that row
    bias = leaf(np.where(allowed, 0.0, -np.inf))
    out2 = sdpa(q, k, v, attn_mask=bias)
    np.testing.assert_allclose(out2.detach().numpy(), out.detach().numpy())
    out2.sum().backward()
    assert np.all(bias.grad.numpy()[1] == 0)
    # other rows still match the composed reference
    with np.errstate(invalid="ignore"):  # the composed reference gives NaN on row 1
        ref = composed(q, k, v, mg.tensor(allowed))
    np.testing.assert_allclose(
        out.detach().numpy()[:, [0, 2]], ref.detach().numpy()[:, [0, 2]], atol=1e-12
    )


def test_causal_is_top_left_aligned_for_rectangular_scores():
    rng = np.random.default_rng(0)
    q, k, v = (mg.tensor(rng.standard_normal(s)) for s in [(3, 4), (5, 4), (5, 2)])
    out = sdpa(q, k, v, is_causal=True)
    ref = composed(q, k, v, mg.tensor(np.tril(np.ones((3, 5), dtype=bool))))
    np.testing.assert_allclose(out.numpy(), ref.numpy(), atol=1e-12)


def test_dropout_matches_composed_with_same_keep_mask():
    rng = np.random.default_rng(0)
    q, k, v = (leaf(rng.standard_normal((2, 6, 4))) for _ in range(3))
    mg.manual_seed(3)
    out = sdpa(q, k, v, dropout_p=0.4)
    # The multiplier the forward drew (a residual): 0 or 1/(1-p); a raw array, wrapped.
    keep = mg.Tensor._make(out.grad_fn.saved["keep"])
    assert set(np.unique(keep.cpu().numpy()).tolist()) <= {0.0, 1 / 0.6}
    p = composed(q, k, mg.eye(6, dtype=mg.float64).unsqueeze(0))  # attention probabilities
    ref = (p * mg.tensor(keep)) @ v
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), atol=1e-12)
    got = mg.autograd.grad(out.sum(), [q, k, v])
    want = mg.autograd.grad(ref.sum(), [q, k, v])
    for a, b in zip(got, want):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-12)
    mg.manual_seed(3)
    again = sdpa(q, k, v, dropout_p=0.4)
    np.testing.assert_array_equal(again.detach().numpy(), out.detach().numpy())


def test_backward_twice_with_retain_graph():
    rng = np.random.default_rng(0)
    q, k, v = (leaf(rng.standard_normal((2, 3, 4))) for _ in range(3))
    out = sdpa(q, k, v)
    out.sum().backward(retain_graph=True)
    first = [t.grad.numpy().copy() for t in (q, k, v)]
    (out * 2).sum().backward()
    for t, f in zip((q, k, v), first):
        np.testing.assert_allclose(t.grad.numpy(), 3 * f, atol=1e-12)


@pytest.mark.parametrize(
    "shapes, kw, message",
    [
        ([(2, 4, 3), (2, 5, 4), (2, 5, 4)], {}, "same embedding dim"),
        ([(2, 4, 4), (2, 5, 4), (2, 6, 4)], {}, "same sequence length"),
        ([(2, 4, 3, 4), (2, 3, 5, 4), (2, 3, 5, 4)], {}, "enable_gqa"),
        ([(2, 4, 3, 4), (2, 3, 5, 4), (2, 3, 5, 4)], {"enable_gqa": True}, "multiple"),
        (
            [(3, 4), (5, 4), (5, 4)],
            {"attn_mask": mg.ones(3, 4, dtype=mg.bool)},
            "does not broadcast",
        ),
        (
            [(3, 4), (5, 4), (5, 4)],
            {"attn_mask": mg.ones(3, 5, dtype=mg.bool), "is_causal": True},
            "is_causal",
        ),
        ([(3, 4), (5, 4), (5, 4)], {"attn_mask": mg.ones(3, 5, dtype=mg.float64)}, "dtype"),
    ],
)
def test_clear_errors(shapes, kw, message):
    q, k, v = (mg.zeros(*s) for s in shapes)
    with pytest.raises(RuntimeError, match=message):
        sdpa(q, k, v, **kw)


def test_dtype_and_dropout_errors():
    q = mg.zeros(3, 4)
    with pytest.raises(RuntimeError, match="same dtype"):
        sdpa(q, q.double(), q)
    with pytest.raises(ValueError, match="dropout"):
        sdpa(q, q, q, dropout_p=1.0)


# --- MultiHeadAttention ----------------------------------------------------------------------


@pytest.mark.parametrize("n_kv_heads", [None, 2, 1])
@pytest.mark.parametrize("rope", [True, False])
def test_kv_cache_decoding_matches_full_forward(n_kv_heads, rope):
    mg.manual_seed(0)
    m = MultiHeadAttention(16, 4, rope=rope, n_kv_heads=n_kv_heads).double()
    x = mg.randn(2, 9, 16, dtype=mg.float64)
    with mg.no_grad():
        full = m(x)
        cache = KVCache()
        pieces = [m(x[:, :4], cache=cache)]  # prefill, then one token at a time, then a chunk
        pieces += [m(x[:, t : t + 1], cache=cache) for t in range(4, 7)]
        pieces.append(m(x[:, 7:], cache=cache))
    assert len(cache) == 9
    np.testing.assert_allclose(mg.cat(pieces, dim=1).numpy(), full.numpy(), atol=1e-12)


def test_mha_matches_manual_heads_and_is_causal():
    mg.manual_seed(0)
    m = MultiHeadAttention(8, 2, rope=False).double()
    x = mg.randn(1, 5, 8, dtype=mg.float64)
    q, k, v = m.q_proj(x), m.k_proj(x), m.v_proj(x)
    heads = []
    for h in range(2):
        sl = slice(4 * h, 4 * h + 4)
        heads.append(composed(q[..., sl], k[..., sl], v[..., sl], is_causal=True))
    ref = m.out_proj(mg.cat(heads, dim=-1))
    np.testing.assert_allclose(m(x).detach().numpy(), ref.detach().numpy(), atol=1e-12)
    # causal: changing a later token leaves earlier outputs alone
    x2 = x.detach().clone()
    x2[:, 3:] = 5.0
    np.testing.assert_allclose(
        m(x2).detach().numpy()[:, :3], m(x).detach().numpy()[:, :3], atol=1e-12
    )


def test_mha_gradients_and_unbatched_input():
    mg.manual_seed(0)
    m = MultiHeadAttention(8, 2, n_kv_heads=1).double()
    x = mg.randn(5, 8, dtype=mg.float64, requires_grad=True)
    assert m(x).shape == (5, 8)
    assert gradcheck(lambda x: m(x), (x,))
    params = list(m.parameters())
    m(x).sum().backward()
    assert all(p.grad is not None and p.grad.shape == p.shape for p in params)


def test_mha_mask_combines_with_causal():
    mg.manual_seed(0)
    m = MultiHeadAttention(8, 2).double()
    x = mg.randn(2, 4, 8, dtype=mg.float64)
    pad = np.ones((2, 1, 1, 4), dtype=bool)
    pad[1, ..., 3] = False  # the last token of sample 1 is padding
    out = m(x, attn_mask=mg.tensor(pad))
    np.testing.assert_allclose(out.detach().numpy()[0], m(x[:1]).detach().numpy()[0], atol=1e-12)
    np.testing.assert_allclose(
        out.detach().numpy()[1, :3], m(x[1:, :3]).detach().numpy()[0], atol=1e-12
    )


def test_mha_errors():
    with pytest.raises(ValueError, match="divisible"):
        MultiHeadAttention(10, 3)
    with pytest.raises(ValueError, match="even"):
        MultiHeadAttention(12, 4, rope=True)  # head_dim 3
    MultiHeadAttention(12, 4, rope=False)  # fine without RoPE
    with pytest.raises(ValueError, match="multiple of n_kv_heads"):
        MultiHeadAttention(16, 4, n_kv_heads=3)
    m = MultiHeadAttention(16, 4)
    with pytest.raises(RuntimeError, match=r"\[B, T, 16\]"):
        m(mg.zeros(2, 3, 12))
    cache = KVCache()
    m(mg.zeros(2, 3, 16), cache=cache)
    with pytest.raises(RuntimeError, match="KVCache"):
        m(mg.zeros(3, 1, 16), cache=cache)


def test_mha_dropout_only_in_training():
    mg.manual_seed(0)
    m = MultiHeadAttention(8, 2, dropout=0.5).double()
    x = mg.randn(2, 6, 8, dtype=mg.float64)
    m.eval()
    a, b = m(x), m(x)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    m.train()
    assert not np.allclose(m(x).detach().numpy(), a.detach().numpy())

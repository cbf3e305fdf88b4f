"""Tests for rotary and sinusoidal positional encodings (minigrad/nn/attention.py): gradients
(Hypothesis finite differences), rotation properties, matrix form == efficient form, both pairing
conventions, position offsets, and errors."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.nn.attention import RotaryEmbedding, SinusoidalPositionalEncoding, apply_rope
from minigrad.testing import gradcheck, gradgradcheck

COVERED = {"rope"}

BASES = st.sampled_from([10000.0, 100.0, 10.0])


@st.composite
def rope_case(draw):
    lead = draw(st.lists(st.integers(1, 3), min_size=0, max_size=2))
    T = draw(st.integers(1, 5))
    d = 2 * draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**16))
    x = np.random.default_rng(seed).standard_normal((*lead, T, d))
    positions = draw(
        st.one_of(
            st.none(), st.integers(0, 50), st.lists(st.integers(0, 60), min_size=T, max_size=T)
        )
    )
    return x, positions, draw(BASES), draw(st.booleans())


def rotation_matrix(positions, d, base, interleaved):
    """The explicit d x d block-rotation matrix for each position (what RoPE avoids building)."""
    theta = base ** (-np.arange(d // 2) * 2.0 / d)
    mats = np.zeros((len(positions), d, d))
    for t, m in enumerate(positions):
        for i, th in enumerate(theta):
            a, b = (2 * i, 2 * i + 1) if interleaved else (i, i + d // 2)
            c, s = math.cos(m * th), math.sin(m * th)
            mats[t, a, a], mats[t, a, b], mats[t, b, a], mats[t, b, b] = c, -s, s, c
    return mats


def pairs(x, interleaved):
    d = x.shape[-1]
    return (x[..., 0::2], x[..., 1::2]) if interleaved else (x[..., : d // 2], x[..., d // 2 :])


def resolve(positions, T):
    if positions is None:
        return list(range(T))
    if isinstance(positions, int):
        return list(range(positions, positions + T))
    return positions


@given(rope_case())
def test_gradcheck_and_gradgradcheck(case):
    x, positions, base, interleaved = case
    xt = mg.tensor(x, requires_grad=True)
    fn = lambda x: apply_rope(x, positions, base, interleaved)
    assert gradcheck(fn, (xt,))
    assert gradgradcheck(fn, (xt,))


@given(rope_case())
def test_matrix_form_equals_efficient_form(case):
    x, positions, base, interleaved = case
    T, d = x.shape[-2:]
    R = rotation_matrix(resolve(positions, T), d, base, interleaved)
    expected = np.einsum("tij,...tj->...ti", R, x)
    got = apply_rope(mg.tensor(x), positions, base, interleaved).numpy()
    np.testing.assert_allclose(got, expected, atol=1e-12)


@given(rope_case())
def test_backward_is_the_inverse_rotation(case):
    x, positions, base, interleaved = case
    T, d = x.shape[-2:]
    xt = mg.tensor(x, requires_grad=True)
    g = np.random.default_rng(0).standard_normal(x.shape)
    apply_rope(xt, positions, base, interleaved).backward(mg.tensor(g))
    R = rotation_matrix(resolve(positions, T), d, base, interleaved)
    np.testing.assert_allclose(xt.grad.numpy(), np.einsum("tji,...tj->...ti", R, g), atol=1e-12)


@given(rope_case())
def test_every_pair_keeps_its_norm(case):
    x, positions, base, interleaved = case
    out = apply_rope(mg.tensor(x), positions, base, interleaved).numpy()
    (a, b), (c, e) = pairs(x, interleaved), pairs(out, interleaved)
    np.testing.assert_allclose(c**2 + e**2, a**2 + b**2, rtol=1e-12, atol=1e-12)


@given(
    st.integers(0, 40),
    st.integers(0, 40),
    st.integers(0, 100),
    st.integers(1, 4),
    BASES,
    st.booleans(),
    st.integers(0, 999),
)
def test_scores_depend_only_on_relative_position(m, n, shift, half, base, interleaved, seed):
    rng = np.random.default_rng(seed)
    q, k = (mg.tensor(rng.standard_normal((1, 2 * half))) for _ in range(2))
    score = lambda i, j: float(
        (apply_rope(q, [i], base, interleaved) * apply_rope(k, [j], base, interleaved)).sum()
    )
    assert score(m, n) == pytest.approx(score(m + shift, n + shift), rel=1e-9, abs=1e-9)


def test_conventions_are_a_permutation_of_each_other():
    # split halves on x == interleaved on x with its dims permuted to pairs (i, i + d/2)
    x = np.random.default_rng(0).standard_normal((2, 5, 8))
    perm = np.array([0, 4, 1, 5, 2, 6, 3, 7])  # interleaved slot -> split-halves dim
    split = apply_rope(mg.tensor(x), interleaved=False).numpy()
    inter = apply_rope(mg.tensor(x[..., perm]), interleaved=True).numpy()
    np.testing.assert_allclose(inter, split[..., perm], atol=1e-12)


def test_offset_matches_slice_of_longer_sequence():
    x = np.random.default_rng(0).standard_normal((2, 3, 9, 6)).astype(np.float32)
    full = apply_rope(mg.tensor(x)).numpy()
    tail = apply_rope(mg.tensor(x[..., 4:, :]), 4).numpy()
    explicit = apply_rope(mg.tensor(x[..., 4:, :]), mg.arange(4, 9)).numpy()
    np.testing.assert_allclose(tail, full[..., 4:, :], atol=1e-6)
    np.testing.assert_array_equal(tail, explicit)
    assert tail.dtype == np.float32  # tables are cast once, never upcast x


def test_per_batch_positions_broadcast():
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 6))
    pos = np.array([[[0, 1, 2, 3]], [[5, 6, 7, 8]]])  # [B, 1, T]
    out = apply_rope(mg.tensor(x), mg.tensor(pos)).numpy()
    np.testing.assert_allclose(out[0], apply_rope(mg.tensor(x[0])).numpy(), atol=1e-12)
    np.testing.assert_allclose(out[1], apply_rope(mg.tensor(x[1]), 5).numpy(), atol=1e-12)


def test_position_zero_is_identity_and_module_matches_function():
    x = mg.randn(2, 1, 8, dtype=mg.float64)
    np.testing.assert_allclose(apply_rope(x).numpy(), x.numpy())
    rot = RotaryEmbedding(8, base=500.0, interleaved=True)
    y = mg.randn(3, 7, 8)
    np.testing.assert_array_equal(rot(y, 2).numpy(), apply_rope(y, 2, 500.0, True).numpy())
    assert list(rot.parameters()) == []


def test_rope_errors():
    with pytest.raises(RuntimeError, match="even"):
        apply_rope(mg.zeros(3, 5))
    with pytest.raises(RuntimeError, match="floating point"):
        apply_rope(mg.zeros(3, 4, dtype=mg.int64))
    with pytest.raises(RuntimeError, match="sequence length"):
        apply_rope(mg.zeros(3, 4), [0, 1])
    with pytest.raises(ValueError, match="even"):
        RotaryEmbedding(7)
    with pytest.raises(RuntimeError, match="head_dim=8"):
        RotaryEmbedding(8)(mg.zeros(2, 6))


# --- sinusoidal --------------------------------------------------------------------------------


@pytest.mark.parametrize("d", [6, 7])
def test_sinusoidal_formula(d):
    pe = SinusoidalPositionalEncoding(d)
    x = mg.zeros(2, 5, d)
    out = pe(x, 3).numpy()
    pos = np.arange(3, 8)[:, None]
    i = np.arange(d)[None, :]
    angle = pos / 10000 ** ((i - i % 2) / d)
    expected = np.where(i % 2 == 0, np.sin(angle), np.cos(angle))
    np.testing.assert_allclose(out[0], expected, atol=1e-6)
    assert out.dtype == np.float32
    np.testing.assert_allclose(pe(x, mg.arange(3, 8)).numpy(), out)


def test_sinusoidal_gradient_passes_through():
    pe = SinusoidalPositionalEncoding(4)
    x = mg.randn(2, 3, 4, dtype=mg.float64, requires_grad=True)
    assert gradcheck(lambda x: pe(x), (x,))
    with pytest.raises(RuntimeError, match="d_model=4"):
        pe(mg.zeros(3, 5))


@pytest.mark.parametrize("positions", [None, 3, [4, 0, 2, 9]])
def test_seq_dim_rotates_another_layout(positions):
    x = mg.randn(2, 4, 3, 6, dtype=mg.float64, requires_grad=True)  # [B, T, H, d]
    got = apply_rope(x, positions, seq_dim=-3)
    want = apply_rope(x.transpose(1, 2), positions).transpose(1, 2)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), atol=1e-12)
    assert gradcheck(lambda x: apply_rope(x, positions, seq_dim=1), (x,))
    with pytest.raises(RuntimeError, match="seq_dim"):
        apply_rope(x, seq_dim=-1)


@pytest.mark.parametrize("interleaved", [False, True])
def test_fractional_positions_match_the_matrix_form(interleaved):
    # positions that are not table rows: the angles are computed, not looked up
    x = np.random.default_rng(1).standard_normal((2, 3, 8))
    positions = [0.5, 1.25, 7.75]
    R = rotation_matrix(positions, 8, 100.0, interleaved)
    got = apply_rope(mg.tensor(x), mg.tensor(positions), 100.0, interleaved).numpy()
    np.testing.assert_allclose(got, np.einsum("tij,...tj->...ti", R, x), atol=1e-12)
    xt = mg.tensor(x, requires_grad=True)
    assert gradcheck(lambda x: apply_rope(x, mg.tensor(positions), 100.0, interleaved), (xt,))

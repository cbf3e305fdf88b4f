"""Tests for minigrad.models.GPT and nn.transformer blocks: shapes, cached decoding == full
forward, weight tying, generate (greedy, top-k, context cropping), gradients, errors."""

import numpy as np
import pytest

import minigrad as mg
from minigrad.models import GPT
from minigrad.nn.transformer import FeedForward, SwiGLU, TransformerBlock
from minigrad.testing import gradcheck


@pytest.mark.parametrize("pos", ["rope", "sinusoidal", "learned", "none"])
@pytest.mark.parametrize("norm, mlp, kv", [("layer", "gelu", None), ("rms", "swiglu", 2)])
def test_cached_decoding_matches_full_forward(pos, norm, mlp, kv):
    mg.manual_seed(0)
    model = GPT(
        13, 16, 2, 4, max_seq_len=16, pos_encoding=pos, norm=norm, mlp=mlp, n_kv_heads=kv
    ).double()
    idx = mg.randint(0, 13, (2, 10))
    with mg.no_grad():
        full = model(idx)
        caches = model.new_caches()
        steps = [model(idx[:, :4], caches)] + [
            model(idx[:, t : t + 1], caches) for t in range(4, 10)
        ]
    assert full.shape == (2, 10, 13)
    np.testing.assert_allclose(mg.cat(steps, dim=1).numpy(), full.numpy(), atol=1e-12)


def test_tied_and_untied_heads():
    tied = GPT(11, 8, 1, 2)
    untied = GPT(11, 8, 1, 2, tie_weights=False)
    n_tied = sum(p.numel() for p in tied.parameters())
    assert sum(p.numel() for p in untied.parameters()) == n_tied + 11 * 8
    idx = mg.randint(0, 11, (1, 5))
    tied(idx).sum().backward()
    assert tied.tok_emb.weight.grad is not None  # reached through both embedding and head


def test_generate_greedy_is_deterministic_and_crops_context():
    mg.manual_seed(0)
    model = GPT(7, 16, 1, 2, max_seq_len=6)
    idx = mg.randint(0, 7, (3, 4))
    a = model.generate(idx, 9, temperature=0)
    b = model.generate(idx, 9, temperature=0)
    assert a.shape == (3, 13)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_array_equal(a.numpy()[:, :4], idx.numpy())
    # the first greedy token is the argmax of the full forward's last logits
    np.testing.assert_array_equal(a.numpy()[:, 4], model(idx).detach().numpy()[:, -1].argmax(-1))
    assert model.training  # generate restores the mode


def test_generate_top_k_only_picks_top_tokens():
    mg.manual_seed(1)
    model = GPT(20, 16, 1, 2, max_seq_len=32)
    idx = mg.randint(0, 20, (64, 3))
    out = model.generate(idx, 1, temperature=1.0, top_k=2).numpy()[:, -1]
    top2 = np.argsort(model(idx).detach().numpy()[:, -1], axis=-1)[:, -2:]
    assert all(o in t for o, t in zip(out, top2))
    with pytest.raises(ValueError, match="top_k"):
        model.generate(idx, 1, top_k=0)


def test_block_gradients_and_mlps():
    mg.manual_seed(0)
    for mlp in ("gelu", "swiglu"):
        block = TransformerBlock(8, 2, mlp_ratio=2, mlp=mlp, norm="rms").double()
        x = mg.randn(2, 3, 8, dtype=mg.float64, requires_grad=True)
        assert gradcheck(lambda x: block(x), (x,))
    assert isinstance(TransformerBlock(8, 2, mlp="swiglu").mlp, SwiGLU)
    assert isinstance(TransformerBlock(8, 2).mlp, FeedForward)
    assert TransformerBlock(24, 2, mlp="swiglu").mlp.gate.out_features == 64  # 2/3 * 96


def test_gpt_trains_on_a_repeated_pattern():
    mg.manual_seed(0)
    from minigrad import optim
    from minigrad.nn import functional as F

    model = GPT(5, 16, 1, 2, max_seq_len=16)
    opt = optim.Adam(model.parameters(), lr=1e-2)
    data = mg.tensor(np.tile(np.arange(5), (4, 3))[:, :13])
    losses = []
    for _ in range(30):
        logits = model(data[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, 5), data[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.3 * losses[0]


def test_gpt_errors():
    with pytest.raises(ValueError, match="pos_encoding"):
        GPT(5, 8, 1, 2, pos_encoding="alibi")
    with pytest.raises(ValueError, match="norm"):
        GPT(5, 8, 1, 2, norm="batch")
    model = GPT(5, 8, 1, 2, max_seq_len=4, pos_encoding="learned")
    with pytest.raises(RuntimeError, match="max_seq_len"):
        model(mg.zeros(1, 5, dtype=mg.int64))
    with pytest.raises(RuntimeError, match=r"\[B, T\]"):
        model(mg.zeros(5, dtype=mg.int64))

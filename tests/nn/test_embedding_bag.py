"""minigrad.nn.embedding_bag against torch: values and gradients (weight and per_sample_weights)
over modes, offsets with empty bags, include_last_offset, padding_idx, 2-D bags, dtypes and
max_norm; float64 gradchecks; the module, from_pretrained and reprs; torch's errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.testing import gradcheck

torch = pytest.importorskip("torch")

COVERED = {"embedding_bag"}

INDICES = np.array([1, 2, 4, 5, 4, 3, 2, 9, 4, 4, 0, 7])


def _both(weight, indices, offsets, weights=None, index_dtype=np.int64, **kw):
    """(output, weight grad, per_sample_weights grad) from torch and from minigrad."""
    results = []
    for lib in (torch, mg):
        w = lib.tensor(weight, requires_grad=True)
        psw = None if weights is None else lib.tensor(weights, requires_grad=True)
        off = None if offsets is None else lib.tensor(np.asarray(offsets, dtype=index_dtype))
        fn = torch.nn.functional.embedding_bag if lib is torch else F.embedding_bag
        out = fn(lib.tensor(indices.astype(index_dtype)), w, off, per_sample_weights=psw, **kw)
        upstream = np.linspace(-1, 2, out.numel()).reshape(tuple(out.shape)).astype(weight.dtype)
        (out * lib.tensor(upstream)).sum().backward()
        results.append((out.detach().numpy(), w.grad.numpy(),
                        None if psw is None else psw.grad.numpy()))  # fmt: skip
    return results


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("offsets", [[0, 4], [0, 4, 4, 8], [0, 0, 12], [0, 3, 5, 6, 11]])
@pytest.mark.parametrize("include_last_offset", [False, True])
@pytest.mark.parametrize("padding_idx", [None, 4, -1])
def test_embedding_bag_matches_torch(mode, offsets, include_last_offset, padding_idx):
    weight = np.random.default_rng(0).standard_normal((10, 3))
    kw = dict(mode=mode, include_last_offset=include_last_offset, padding_idx=padding_idx)
    if include_last_offset:  # CSR offsets: the last one is the input's length
        offsets = offsets + [len(INDICES)] if offsets[-1] != len(INDICES) else offsets
    theirs, ours = _both(weight, INDICES % 10, offsets, **kw)
    assert ours[0].dtype == np.float64 and ours[0].shape == theirs[0].shape
    for mine, reference in zip(ours[:2], theirs[:2]):
        np.testing.assert_allclose(mine, reference, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("padding_idx", [None, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_per_sample_weights_and_2d_bags_match_torch(padding_idx, dtype):
    rng = np.random.default_rng(1)
    weight = rng.standard_normal((10, 4)).astype(dtype)
    indices = INDICES % 10
    weights = rng.uniform(0.5, 2, size=indices.shape).astype(dtype)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)
    for index_dtype in (np.int64, np.int32):
        cases = [
            (indices, [0, 2, 7], weights),
            (indices.reshape(3, 4), None, weights.reshape(3, 4)),
        ]
        for idx, offsets, w in cases:
            theirs, ours = _both(weight, idx, offsets, w, index_dtype, mode="sum",
                                 padding_idx=padding_idx)  # fmt: skip
            assert ours[0].dtype == dtype
            for mine, reference in zip(ours, theirs):
                np.testing.assert_allclose(mine, reference, **tol)
    for mode in ("mean", "max"):  # fixed-length bags, without weights
        theirs, ours = _both(weight, indices.reshape(4, 3), None, mode=mode)
        for mine, reference in zip(ours[:2], theirs[:2]):
            np.testing.assert_allclose(mine, reference, **tol)


def test_a_last_offset_before_the_end_closes_the_last_bag():
    # torch is not consistent here: its float32 sum reads no entry past the last offset, its
    # float64 kernel runs the last bag to the input's end, its float32 mean divides by the
    # count to the end and its float32 max reads past the offset too. minigrad keeps to the
    # CSR meaning in every dtype and mode (torch's gradient here reads uninitialised memory:
    # only its output is compared)
    weight = np.random.default_rng(5).standard_normal((10, 3)).astype(np.float32)
    theirs, ours = _both(weight, INDICES % 10, [0, 3, 6], mode="sum", include_last_offset=True)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6, atol=1e-7)
    expected = np.zeros_like(weight)  # the upstream gradient of _both, bag by bag
    upstream = np.linspace(-1, 2, 6).reshape(2, 3).astype(np.float32)
    for bag, entries in enumerate((INDICES[0:3], INDICES[3:6])):
        np.add.at(expected, entries % 10, upstream[bag])
    np.testing.assert_allclose(ours[1], expected, rtol=1e-6)
    ours64 = F.embedding_bag(mg.tensor(INDICES % 10), mg.tensor(weight.astype(np.float64)),
                             mg.tensor([0, 3, 6]), mode="sum", include_last_offset=True)  # fmt: skip
    np.testing.assert_allclose(ours64.numpy()[1], weight[INDICES[3:6] % 10].sum(0), rtol=1e-6)
    mean = F.embedding_bag(mg.tensor(INDICES % 10), mg.tensor(weight), mg.tensor([0, 3, 6]),
                           mode="mean", include_last_offset=True)  # fmt: skip
    np.testing.assert_allclose(mean.numpy()[1], weight[INDICES[3:6] % 10].mean(0), rtol=1e-6)
    top = F.embedding_bag(mg.tensor(INDICES % 10), mg.tensor(weight), mg.tensor([0, 3, 6]),
                          mode="max", include_last_offset=True)  # fmt: skip
    np.testing.assert_allclose(top.numpy()[1], weight[INDICES[3:6] % 10].max(0), rtol=1e-6)


def test_max_norm_renormalises_the_rows_used_as_torch():
    weight = np.random.default_rng(2).standard_normal((10, 3)) * 3
    tw, mw = torch.tensor(weight), mg.tensor(weight)
    offsets = np.array([0, 5])
    t_out = torch.nn.functional.embedding_bag(torch.tensor(INDICES % 10), tw,
                                              torch.tensor(offsets), max_norm=1.5, norm_type=1.0)  # fmt: skip
    m_out = F.embedding_bag(mg.tensor(INDICES % 10), mw, mg.tensor(offsets), max_norm=1.5,
                            norm_type=1.0)  # fmt: skip
    np.testing.assert_allclose(m_out.numpy(), t_out.numpy(), rtol=1e-12)
    np.testing.assert_allclose(mw.numpy(), tw.numpy(), rtol=1e-12)  # changed in place


def test_scale_grad_by_freq_divides_each_rows_gradient_by_its_count():
    # the documented meaning, as torch's F.embedding has it (torch's embedding_bag CPU kernel
    # scales by other counts): a row's gradient divided by how often the batch uses it
    weight = np.random.default_rng(3).standard_normal((10, 3))
    offsets = [0, 2, 7]
    bag_of = np.repeat(np.arange(3), np.diff(offsets + [12]))
    for mode in ("sum", "mean"):
        w = mg.tensor(weight, requires_grad=True)
        out = F.embedding_bag(mg.tensor(INDICES % 10), w, mg.tensor(offsets), mode=mode,
                              scale_grad_by_freq=True)  # fmt: skip
        out.sum().backward()
        tw = torch.tensor(weight, requires_grad=True)
        rows = torch.nn.functional.embedding(torch.tensor(INDICES % 10), tw,
                                             scale_grad_by_freq=True)  # fmt: skip
        sizes = torch.tensor(np.bincount(bag_of).astype(np.float64))
        share = 1 / sizes[bag_of] if mode == "mean" else torch.ones(12, dtype=torch.float64)
        expected = torch.zeros(3, 3, dtype=torch.float64).index_add(
            0, torch.tensor(bag_of), rows * share[:, None]
        )
        expected.sum().backward()
        np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(w.grad.numpy(), tw.grad.numpy(), rtol=1e-12)


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(["sum", "mean", "max"]), st.integers(0, 2**16), st.booleans())
def test_embedding_bag_gradcheck(mode, seed, with_padding):
    rng = np.random.default_rng(seed)
    # distinct values: no ties, so each maximum is differentiable
    weight = mg.tensor(rng.permutation(18).reshape(6, 3) * 0.1, requires_grad=True)
    indices = mg.tensor(rng.integers(0, 6, size=7))
    offsets = mg.tensor(np.sort(rng.integers(0, 8, size=3)) * np.array([0, 1, 1]))
    padding_idx = 1 if with_padding else None
    if mode == "sum":
        psw = mg.tensor(rng.uniform(0.5, 2, size=7), requires_grad=True)
        fn = lambda w, p: F.embedding_bag(indices, w, offsets, mode="sum", per_sample_weights=p,
                                          padding_idx=padding_idx)  # fmt: skip
        assert gradcheck(fn, (weight, psw))
    else:
        fn = lambda w: F.embedding_bag(indices, w, offsets, mode=mode, padding_idx=padding_idx)
        assert gradcheck(fn, (weight,))


def test_module_from_pretrained_and_repr_match_torch():
    weight = np.random.default_rng(4).standard_normal((10, 3)).astype(np.float32)
    for kw in (dict(), dict(mode="max", padding_idx=2), dict(mode="sum", max_norm=2.0,
               norm_type=1.0, include_last_offset=True)):  # fmt: skip
        ours = nn.EmbeddingBag.from_pretrained(mg.tensor(weight), **kw)
        theirs = torch.nn.EmbeddingBag.from_pretrained(torch.tensor(weight), **kw)
        assert repr(ours) == repr(theirs) and not ours.weight.requires_grad
        offsets = np.array([0, 3, 6])
        np.testing.assert_allclose(
            ours(mg.tensor(INDICES % 10), mg.tensor(offsets)).numpy(),
            theirs(torch.tensor(INDICES % 10), torch.tensor(offsets)).numpy(),
            rtol=1e-6,
        )
    bag = nn.EmbeddingBag(10, 3, mode="sum", padding_idx=-2, scale_grad_by_freq=True)
    reference = torch.nn.EmbeddingBag(10, 3, mode="sum", padding_idx=-2, scale_grad_by_freq=True)
    assert repr(bag) == repr(reference) and bag.padding_idx == 8
    assert bag.weight.shape == (10, 3) and not bag.weight.detach().numpy()[8].any()
    assert list(bag.state_dict()) == list(reference.state_dict())
    out = bag(mg.tensor(INDICES.reshape(3, 4) % 10), None, mg.ones(3, 4))
    assert out.shape == (3, 3)


def test_errors_are_torchs():
    w = mg.randn(10, 3)
    i, o = mg.tensor(INDICES % 10), mg.tensor([0, 4])
    with pytest.raises(NotImplementedError, match="only supported for mode='sum'"):
        F.embedding_bag(i, w, o, mode="mean", per_sample_weights=mg.ones(12))
    with pytest.raises(ValueError, match="same shape as the input"):
        F.embedding_bag(i, w, o, mode="sum", per_sample_weights=mg.ones(11))
    with pytest.raises(RuntimeError, match="dtype of weight"):
        F.embedding_bag(i, w, o, mode="sum", per_sample_weights=mg.ones(12, dtype=mg.float64))
    with pytest.raises(ValueError, match="offsets has to be None"):
        F.embedding_bag(i.reshape(3, 4), w, o)
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor but got None"):
        F.embedding_bag(i, w)
    with pytest.raises(ValueError, match="offsets has to be a 1D Tensor"):
        F.embedding_bag(i, w, o.reshape(1, 2))
    with pytest.raises(RuntimeError, match=r"offsets\[0\] has to be 0"):
        F.embedding_bag(i, w, mg.tensor([1, 4]))
    with pytest.raises(RuntimeError, match=r"offsets\[-1\] can not be greater"):
        F.embedding_bag(i, w, mg.tensor([0, 13]))
    with pytest.raises(RuntimeError, match="non-decreasing"):
        F.embedding_bag(i, w, mg.tensor([0, 5, 4]))
    with pytest.raises(ValueError, match="mode has to be one of sum, mean or max"):
        F.embedding_bag(i, w, o, mode="min")
    with pytest.raises(ValueError, match="max mode does not support scaling"):
        F.embedding_bag(i, w, o, mode="max", scale_grad_by_freq=True)
    with pytest.raises(RuntimeError, match="'indices' to have one of the following scalar"):
        F.embedding_bag(i.float(), w, o)
    with pytest.raises(RuntimeError, match=r"not in the valid range \[0, 10\)"):
        F.embedding_bag(i + 5, w, o)
    with pytest.raises(ValueError, match="input has to be 1D or 2D"):
        F.embedding_bag(i.reshape(1, 3, 4), w)
    with pytest.raises(RuntimeError, match="padding_idx must be within the number of embeddings"):
        F.embedding_bag(i, w, o, padding_idx=10)
    with pytest.raises(AssertionError, match="padding_idx must be within num_embeddings"):
        nn.EmbeddingBag(10, 3, padding_idx=10)
    with pytest.raises(RuntimeError, match="double backward"):
        wg = mg.randn(10, 3, requires_grad=True)
        mg.autograd.grad(F.embedding_bag(i, wg, o).sum(), wg, create_graph=True)

"""Gradient checks (Hypothesis, float64 central differences) for the fused ops that
minigrad.nn.functional defines, plus their first/second-order and dtype behaviour."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.testing import gradcheck, gradgradcheck

# Op names of minigrad.nn.functional that these tests gradient-check (read by the op-coverage test).
COVERED = {"layer_norm", "rms_norm", "embedding", "nll_loss", "cross_entropy"}


def leaf(a):
    return mg.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


@st.composite
def norm_case(draw):
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)))
    k = draw(st.integers(1, ndim))
    seed = draw(st.integers(0, 2**16))
    affine = draw(st.sampled_from(["none", "w", "wb", "b"]))
    return shape, shape[ndim - k :], seed, affine


@given(norm_case())
def test_layer_norm_gradcheck(case):
    shape, norm_shape, seed, affine = case
    rng = np.random.default_rng(seed)
    x = leaf(rng.standard_normal(shape) * 2)
    w = leaf(rng.standard_normal(norm_shape)) if affine in ("w", "wb") else None
    b = leaf(rng.standard_normal(norm_shape)) if affine in ("b", "wb") else None
    args = [t for t in (x, w, b) if t is not None]

    def fn(*ts):
        it = iter(ts)
        xx = next(it)
        ww = next(it) if w is not None else None
        bb = next(it) if b is not None else None
        return F.layer_norm(xx, norm_shape, ww, bb, eps=1e-5)

    assert gradcheck(fn, tuple(args), atol=1e-6, rtol=1e-5)


@given(norm_case())
def test_layer_norm_gradgradcheck(case):
    shape, norm_shape, seed, affine = case
    rng = np.random.default_rng(seed)
    x = leaf(rng.standard_normal(shape))
    w = leaf(rng.standard_normal(norm_shape))
    b = leaf(rng.standard_normal(norm_shape))
    assert gradgradcheck(lambda x, w, b: F.layer_norm(x, norm_shape, w, b), (x, w, b), atol=1e-5)


@given(norm_case(), st.sampled_from([None, 1e-3]))
def test_rms_norm_gradcheck_and_gradgradcheck(case, eps):
    shape, norm_shape, seed, affine = case
    rng = np.random.default_rng(seed)
    x = leaf(rng.standard_normal(shape) + 0.5)
    if affine in ("w", "wb"):
        w = leaf(rng.standard_normal(norm_shape))
        fn = lambda x, w: F.rms_norm(x, norm_shape, w, eps)
        args = (x, w)
    else:
        fn = lambda x: F.rms_norm(x, norm_shape, None, eps)
        args = (x,)
    assert gradcheck(fn, args, atol=1e-6, rtol=1e-5)
    assert gradgradcheck(fn, args, atol=1e-5)


@given(st.integers(0, 2**16), st.sampled_from([None, 0, 2, -1]))
def test_embedding_gradcheck(seed, padding_idx):
    rng = np.random.default_rng(seed)
    w = leaf(rng.standard_normal((5, 3)))
    idx = mg.tensor(rng.integers(0, 5, size=(2, 4)))  # repeats are likely: scatter-add
    # padding_idx's row gets no gradient by definition, so first order is checked without it
    assert gradcheck(lambda w: F.embedding(idx, w), (w,))
    assert gradgradcheck(lambda w: F.embedding(idx, w, padding_idx) ** 2, (w,))


def test_embedding_repeated_indices_and_padding():
    w = leaf(np.arange(12.0).reshape(4, 3))
    out = F.embedding(mg.tensor([1, 1, 2, 0, 1]), w, padding_idx=2)
    out.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy()[:, 0], [1, 3, 0, 0])
    np.testing.assert_array_equal(out.detach().numpy()[2], [6, 7, 8])  # forward still reads it


@st.composite
def nll_case(draw):
    n = draw(st.integers(1, 4))
    c = draw(st.integers(2, 5))
    extra = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    return n, c, extra, draw(st.integers(0, 2**16)), draw(st.sampled_from(["none", "mean", "sum"]))


@given(nll_case(), st.booleans(), st.booleans())
def test_nll_and_cross_entropy_gradcheck(case, weighted, ignore):
    n, c, extra, seed, reduction = case
    rng = np.random.default_rng(seed)
    x = leaf(rng.standard_normal((n, c, *extra)))
    t = rng.integers(0, c, size=(n, *extra))
    if ignore:
        t.reshape(-1)[0] = -100
        if reduction == "mean" and t.size == 1:
            t.reshape(-1)[0] = 0  # an all-ignored mean is 0/0
    target = mg.tensor(t)
    weight = mg.tensor(rng.uniform(0.5, 2, size=c)) if weighted else None
    assert gradcheck(lambda x: F.nll_loss(x, target, weight, reduction=reduction), (x,))
    assert gradcheck(lambda x: F.cross_entropy(x, target, weight, reduction=reduction), (x,))
    assert gradgradcheck(lambda x: F.cross_entropy(x, target, weight, reduction=reduction), (x,))
    assert gradcheck(
        lambda x: F.cross_entropy(x, target, weight, reduction=reduction, label_smoothing=0.2), (x,)
    )


@pytest.mark.parametrize("dtype", [mg.float32, mg.float64])
def test_fused_ops_keep_dtype(dtype):
    x = mg.randn(3, 4, dtype=dtype, requires_grad=True)
    w = mg.ones(4, dtype=dtype, requires_grad=True)
    outs = [
        F.layer_norm(x, (4,), w, mg.zeros(4, dtype=dtype)),
        F.rms_norm(x, 4, w),
        F.cross_entropy(x, mg.tensor([0, 1, 3])),
        F.embedding(mg.tensor([0, 2]), x),
        F.dropout(x, 0.3),
        F.mse_loss(x, mg.zeros(3, 4, dtype=dtype)),
        F.binary_cross_entropy_with_logits(x, mg.ones(3, 4, dtype=dtype)),
    ]
    for out in outs:
        assert out.dtype == dtype
        out.sum().backward()
        assert x.grad.dtype == dtype


def test_layer_norm_shape_errors():
    with pytest.raises(RuntimeError, match=r"normalized_shape=\[5\]"):
        F.layer_norm(mg.randn(2, 4), (5,))
    with pytest.raises(RuntimeError, match="weight"):
        F.layer_norm(mg.randn(2, 4), (4,), mg.ones(3))


def test_dropout_statistics_and_modes():
    mg.manual_seed(0)
    x = mg.ones(200, 100)
    y = F.dropout(x, 0.25)
    kept = (y.numpy() != 0).mean()
    assert abs(kept - 0.75) < 0.02
    np.testing.assert_allclose(np.unique(y.numpy()), [0, 1 / 0.75], rtol=1e-6)
    assert F.dropout(x, 0.25, training=False) is x
    assert (F.dropout(x, 1.0).numpy() == 0).all()
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(x, 1.5)


def test_one_hot_normalize_softmax_implicit_dim():
    np.testing.assert_array_equal(F.one_hot(mg.tensor([0, 2]), 3).numpy(), [[1, 0, 0], [0, 0, 1]])
    v = F.normalize(mg.tensor([[3.0, 4.0], [0.0, 0.0]]))
    np.testing.assert_allclose(v.numpy(), [[0.6, 0.8], [0, 0]])
    x = mg.randn(2, 3)
    np.testing.assert_allclose(F.softmax(x).numpy().sum(1), 1, rtol=1e-6)  # dim 1 for 2-D


@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_losses_of_an_empty_batch_as_torch(name, reduction):
    import torch

    results = []
    for lib in (torch, mg):
        x = lib.zeros(0, 3, requires_grad=True)
        loss = getattr(lib.nn.functional, name)(
            x, lib.zeros(0, dtype=lib.int64), reduction=reduction
        )
        loss.sum().backward()
        results.append((loss.detach().numpy().tolist(), tuple(x.grad.shape)))
    assert str(results[0]) == str(results[1])


def test_nll_loss_with_every_target_ignored_as_torch():
    import torch

    results = []
    for lib in (torch, mg):
        x = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        loss = lib.nn.functional.nll_loss(x, lib.tensor([0, 0]), ignore_index=0)
        loss.backward()
        results.append((str(loss.item()), x.grad.tolist()))
    assert results[0] == results[1]


@given(st.integers(0, 2**16), st.sampled_from([None, 0]))
def test_embedding_scale_grad_by_freq_gradcheck(seed, padding_idx):
    r = np.random.default_rng(seed)
    w = leaf(r.standard_normal((4, 3)))
    idx = mg.tensor(r.integers(0, 4, (2, 5)))
    f = lambda w, pad=None: F.embedding(idx, w, pad, scale_grad_by_freq=True)
    counts = np.bincount(idx.numpy().reshape(-1), minlength=4)[idx.numpy()]
    # the rule divides by the counts, which gradcheck cannot see: check it against f / counts
    (g,) = mg.autograd.grad(f(w).sum(), w)
    (plain,) = mg.autograd.grad((F.embedding(idx, w) / mg.tensor(counts[..., None])).sum(), w)
    np.testing.assert_allclose(g.numpy(), plain.numpy(), rtol=1e-12)
    # second order (the rule under create_graph) against torch's
    torch = pytest.importorskip("torch")
    tw = torch.tensor(w.detach().numpy(), requires_grad=True)
    tidx = torch.tensor(idx.numpy())
    tf = lambda w: torch.nn.functional.embedding(tidx, w, padding_idx, scale_grad_by_freq=True)
    (tg,) = torch.autograd.grad((tf(tw) ** 3).sum(), tw, create_graph=True)
    (tgg,) = torch.autograd.grad((tg**2).sum(), tw)
    (g,) = mg.autograd.grad((f(w, padding_idx) ** 3).sum(), w, create_graph=True)
    (gg,) = mg.autograd.grad((g**2).sum(), w)
    np.testing.assert_allclose(gg.numpy(), tgg.numpy(), rtol=1e-10, atol=1e-12)


# --- distances: cosine_similarity, pairwise_distance, normalize ----------------------------------

_DIST_SHAPES = st.sampled_from(
    [((3, 4), (4,)), ((2, 3), (2, 3)), ((2, 1, 3), (4, 3)), ((4,), (4,))]
)


@given(shapes=_DIST_SHAPES, seed=st.integers(0, 2**16), dim=st.sampled_from([0, -1]))
def test_cosine_similarity_gradcheck(shapes, seed, dim):
    rng = np.random.default_rng(seed)
    a, b = leaf(rng.standard_normal(shapes[0])), leaf(rng.standard_normal(shapes[1]))
    fn = lambda x, y: F.cosine_similarity(x, y, dim)  # noqa: E731
    assert gradcheck(fn, [a, b], atol=1e-5, rtol=1e-3)
    assert gradgradcheck(fn, [a, b], atol=1e-5, rtol=1e-3)


@given(shapes=_DIST_SHAPES, seed=st.integers(0, 2**16), p=st.sampled_from([1.0, 2.0, 3.0, -1.0]))
def test_pairwise_distance_gradcheck(shapes, seed, p):
    rng = np.random.default_rng(seed)
    a, b = leaf(rng.standard_normal(shapes[0])), leaf(rng.standard_normal(shapes[1]))
    fn = lambda x, y: F.pairwise_distance(x, y, p, keepdim=True)  # noqa: E731
    assert gradcheck(fn, [a, b], atol=1e-5, rtol=1e-3)


def _r(m, *shape):
    """The same float32 normal samples as a minigrad or torch tensor."""
    data = np.random.default_rng(len(shape) * 10 + sum(shape)).standard_normal(shape)
    return m.tensor(data.astype(np.float32))


DISTANCE_CASES = [
    lambda F, m: F.cosine_similarity(_r(m, 3, 4), _r(m, 4)),
    lambda F, m: F.cosine_similarity(_r(m, 3, 4), _r(m, 4), dim=0),
    lambda F, m: F.cosine_similarity(_r(m, 2, 3, 4), _r(m, 3, 1), -1, 0.5),
    lambda F, m: F.cosine_similarity(m.zeros(3, 4), _r(m, 3, 4)),
    lambda F, m: F.cosine_similarity(_r(m, 4), _r(m, 4).double(), 0),
    lambda F, m: F.cosine_similarity(_r(m, 3, 0), _r(m, 3, 0)),
    lambda F, m: F.pairwise_distance(_r(m, 3, 4), _r(m, 4)),
    lambda F, m: F.pairwise_distance(_r(m, 3, 4), _r(m, 4), keepdim=True),
    lambda F, m: F.pairwise_distance(_r(m, 4), _r(m, 4)),
    lambda F, m: F.pairwise_distance(m.tensor(1.0), m.tensor(3.0)),
    lambda F, m: F.pairwise_distance(_r(m, 2, 4), _r(m, 2, 4), p=0),
    lambda F, m: F.pairwise_distance(_r(m, 2, 4), _r(m, 2, 4), p=float("inf")),
    lambda F, m: F.pairwise_distance(_r(m, 2, 4), _r(m, 2, 4), p=-1),
    lambda F, m: F.pairwise_distance(_r(m, 2, 4), _r(m, 2, 4), 3, 0.1),
    lambda F, m: F.pairwise_distance(m.tensor([[1, 2]]), m.tensor([[3, 5]])),
    lambda F, m: m.pairwise_distance(_r(m, 2, 3, 4), _r(m, 2, 3, 4)),
    lambda F, m: m.cosine_similarity(_r(m, 2, 3, 4), _r(m, 2, 3, 4)),
    lambda F, m: F.normalize(m.tensor([[3.0, 4]]), p=float("inf")),
    lambda F, m: F.normalize(m.tensor([[3.0, 4]]), p=0),
    lambda F, m: F.normalize(_r(m, 2, 3, 4), 1.5, -1),
    lambda F, m: F.normalize(m.zeros(2, 3)),
]
DISTANCE_ERRORS = [
    lambda F, m: F.cosine_similarity(_r(m, 3, 4), _r(m, 2, 4)),
    lambda F, m: F.cosine_similarity(_r(m, 4), _r(m, 4)),
    lambda F, m: F.cosine_similarity(m.tensor([1, 2]), m.tensor([3, 4]), 0),
    lambda F, m: F.pairwise_distance(_r(m, 3, 4), _r(m, 2, 4)),
    lambda F, m: F.normalize(m.tensor([1.0, 2])),
    lambda F, m: F.normalize(m.tensor([1, 2]), dim=0),
]


@pytest.mark.parametrize("case", range(len(DISTANCE_CASES)))
def test_distances_match_torch(case):
    torch = pytest.importorskip("torch")
    results = []
    for lib, functional in ((torch, torch.nn.functional), (mg, F)):
        results.append(DISTANCE_CASES[case](functional, lib))
    ours, theirs = results[1], results[0]
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("case", range(len(DISTANCE_ERRORS)))
def test_distance_errors_match_torch(case):
    torch = pytest.importorskip("torch")
    with pytest.raises(Exception) as theirs:
        DISTANCE_ERRORS[case](torch.nn.functional, torch)
    with pytest.raises(theirs.type):
        DISTANCE_ERRORS[case](F, mg)


@pytest.mark.parametrize("name", ["cosine_similarity", "pairwise_distance"])
def test_distance_values_and_gradients_match_torch(name):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    data = [rng.standard_normal((4, 5)), rng.standard_normal((1, 5))]
    data[1][0, :2] = 0.0
    results = []
    for lib, functional in ((torch, torch.nn.functional), (mg, F)):
        a, b = (lib.tensor(d, requires_grad=True) for d in data)
        out = getattr(functional, name)(a, b)
        (out * lib.tensor(np.arange(4.0))).sum().backward()
        results.append([out.detach().numpy(), a.grad.numpy(), b.grad.numpy()])
    for ours, theirs in zip(results[1], results[0]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)


def test_distance_modules_match_torch():
    torch = pytest.importorskip("torch")
    data = [np.random.default_rng(5).standard_normal((3, 4)) for _ in range(2)]
    for ours, theirs in [
        (mg.nn.CosineSimilarity(0, 0.5), torch.nn.CosineSimilarity(0, 0.5)),
        (mg.nn.PairwiseDistance(3.0, 1e-3, True), torch.nn.PairwiseDistance(3.0, 1e-3, True)),
        (mg.nn.PairwiseDistance(), torch.nn.PairwiseDistance()),
    ]:
        got = ours(*(mg.tensor(d) for d in data)).numpy()
        np.testing.assert_allclose(got, theirs(*(torch.tensor(d) for d in data)).numpy())
        assert repr(ours) == repr(theirs)

"""Layers against PyTorch (same weights, float64: outputs and all gradients to 1e-6), default
initialisation ranges, MLP structure."""

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn import functional as F

torch = pytest.importorskip("torch")


def copy_weights(ours: nn.Module, theirs) -> None:
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


def compare(ours, theirs, x, tol=1e-6, integer=False):
    ours.double()
    theirs.double()
    copy_weights(ours, theirs)
    if integer:
        xm, xt = mg.tensor(x), torch.tensor(x)
    else:
        xm, xt = mg.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ym, yt = ours(xm), theirs(xt)
    np.testing.assert_allclose(ym.detach().numpy(), yt.detach().numpy(), rtol=tol, atol=tol)
    g = np.random.default_rng(3).standard_normal(tuple(yt.shape))
    ym.backward(mg.tensor(g))
    yt.backward(torch.tensor(g))
    if not integer:
        np.testing.assert_allclose(xm.grad.numpy(), xt.grad.numpy(), rtol=tol, atol=tol)
    tp = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tp[name].grad.numpy(), rtol=tol, atol=tol)


rng = np.random.default_rng(0)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("shape", [(5, 3), (2, 4, 3), (3,)])
def test_linear(bias, shape):
    compare(
        nn.Linear(3, 4, bias=bias), torch.nn.Linear(3, 4, bias=bias), rng.standard_normal(shape)
    )


@pytest.mark.parametrize("affine,bias", [(True, True), (True, False), (False, False)])
@pytest.mark.parametrize("norm_shape", [(4,), (3, 4)])
def test_layer_norm(affine, bias, norm_shape):
    ours = nn.LayerNorm(norm_shape, eps=1e-4, elementwise_affine=affine, bias=bias)
    theirs = torch.nn.LayerNorm(norm_shape, eps=1e-4, elementwise_affine=affine, bias=bias)
    if affine:  # non-trivial affine parameters
        with torch.no_grad():
            theirs.weight.normal_()
            if bias:
                theirs.bias.normal_()
    compare(ours, theirs, rng.standard_normal((2, 3, 4)) * 3 + 1)
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("eps", [None, 1e-3])
def test_rms_norm(affine, eps):
    ours = nn.RMSNorm(4, eps=eps, elementwise_affine=affine)
    theirs = torch.nn.RMSNorm(4, eps=eps, elementwise_affine=affine)
    if affine:
        with torch.no_grad():
            theirs.weight.normal_()
    compare(ours, theirs, rng.standard_normal((2, 3, 4)))
    assert repr(ours) == repr(theirs)


@pytest.mark.parametrize("padding_idx", [None, 1, -1])
def test_embedding(padding_idx):
    ours = nn.Embedding(6, 3, padding_idx=padding_idx)
    theirs = torch.nn.Embedding(6, 3, padding_idx=padding_idx)
    compare(ours, theirs, np.array([[1, 2, 1], [5, 0, 1]]), integer=True)
    assert repr(ours) == repr(theirs)
    if padding_idx is not None:
        fresh = nn.Embedding(6, 3, padding_idx=padding_idx)
        assert float(fresh.weight[padding_idx].abs().sum()) == 0


@pytest.mark.parametrize(
    "max_norm,norm_type", [(None, 2.0), (1.0, 2.0), (0.5, 1.0), (0.3, math.inf)]
)
@pytest.mark.parametrize("scale_grad_by_freq", [False, True])
@pytest.mark.parametrize("padding_idx", [None, 1])
def test_embedding_max_norm_and_scale_grad_by_freq(
    max_norm, norm_type, scale_grad_by_freq, padding_idx
):
    # torch's positional order; max_norm renormalises the looked-up rows of the weight in place
    args = (6, 3, padding_idx, max_norm, norm_type, scale_grad_by_freq, False)
    ours, theirs = nn.Embedding(*args), torch.nn.Embedding(*args)
    compare(ours, theirs, np.array([[1, 2, 1], [5, 0, 1]]), integer=True)
    np.testing.assert_allclose(
        ours.weight.detach().numpy(), theirs.weight.detach().numpy(), rtol=1e-12
    )
    assert repr(ours) == repr(theirs)


def test_embedding_renorm_is_in_place_and_sparse_is_dense_values():
    w = mg.tensor([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0]], requires_grad=True)
    version = w._version
    out = F.embedding(mg.tensor([0, 1]), w, None, 1.0)
    assert w._version > version
    np.testing.assert_allclose(w.detach().numpy()[:, 0], [3 / (5 + 1e-7), 0.3, 6.0], rtol=1e-6)
    np.testing.assert_allclose(out.detach().numpy(), w.detach().numpy()[:2])
    e = nn.Embedding.from_pretrained(
        mg.ones(4, 2), freeze=False, sparse=True, scale_grad_by_freq=True
    )
    e(mg.tensor([1, 1, 2])).sum().backward()
    assert e.weight.grad.tolist() == [[0, 0], [1, 1], [1, 1], [0, 0]]


@pytest.mark.parametrize(
    "make",
    [
        lambda m: m.ReLU(), lambda m: m.GELU(), lambda m: m.GELU(approximate="tanh"),
        lambda m: m.Tanh(), lambda m: m.Sigmoid(), lambda m: m.SiLU(),
        lambda m: m.LeakyReLU(0.2), lambda m: m.Softmax(dim=1), lambda m: m.LogSoftmax(dim=-1),
        lambda m: m.Softplus(beta=2.0, threshold=5.0), lambda m: m.Identity(),
        lambda m: m.Flatten(), lambda m: m.Flatten(0, 1),
    ],
)  # fmt: skip
def test_activation_modules(make):
    ours, theirs = make(nn), make(torch.nn)
    compare(ours, theirs, rng.standard_normal((3, 4, 2)) * 3)
    assert repr(ours) == repr(theirs)


def test_inplace_relu_module():
    x = mg.randn(3, 4, requires_grad=True)
    y = x * 1
    out = nn.ReLU(inplace=True)(y)
    assert out is y and float(y.min()) >= 0
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), (x.detach().numpy() > 0).astype(np.float32))


def test_default_inits_match_torch_ranges():
    mg.manual_seed(0)
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w, b = lin.weight.detach().numpy(), lin.bias.detach().numpy()
    assert w.shape == (300, 400) and w.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert np.abs(b).max() <= bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.01 * bound  # U(-b, b) has std b/sqrt(3)
    emb = nn.Embedding(1000, 50)
    assert abs(emb.weight.detach().numpy().std() - 1) < 0.02
    ln = nn.LayerNorm(5)
    assert (ln.weight.detach().numpy() == 1).all() and (ln.bias.detach().numpy() == 0).all()
    assert nn.Linear(2, 3, dtype=mg.float64).weight.dtype == mg.float64


def test_mlp():
    mlp = nn.MLP([3, 8, 8, 2], activation="tanh", dropout=0.1)
    kinds = [type(m).__name__ for m in mlp]
    assert kinds == ["Linear", "Tanh", "Dropout", "Linear", "Tanh", "Dropout", "Linear"]
    assert mlp(mg.randn(4, 3)).shape == (4, 2)
    assert list(mlp.state_dict())[:2] == ["0.weight", "0.bias"]
    assert [type(m).__name__ for m in nn.MLP([2, 2], activation=nn.GELU)] == ["Linear"]
    assert type(nn.MLP([2, 4, 1], activation=nn.GELU)[1]) is nn.GELU
    with pytest.raises(ValueError, match="unknown activation"):
        nn.MLP([2, 2, 2], activation="swish2")
    with pytest.raises(ValueError, match="at least"):
        nn.MLP([2])
    # the same network as a torch Sequential gives the same outputs
    tmlp = torch.nn.Sequential(
        torch.nn.Linear(3, 5), torch.nn.ReLU(), torch.nn.Linear(5, 2)
    ).double()
    compare(nn.MLP([3, 5, 2]), tmlp, rng.standard_normal((4, 3)))

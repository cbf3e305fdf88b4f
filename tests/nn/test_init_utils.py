"""nn.init (gains, fans, distributions) and nn.utils (clipping, vectors) against PyTorch."""

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn import init

torch = pytest.importorskip("torch")


@pytest.mark.parametrize(
    "args", [("linear",), ("sigmoid",), ("tanh",), ("relu",), ("leaky_relu",),
             ("leaky_relu", 0.2), ("selu",), ("conv2d",)]
)  # fmt: skip
def test_calculate_gain(args):
    assert init.calculate_gain(*args) == pytest.approx(torch.nn.init.calculate_gain(*args))


@pytest.mark.parametrize("shape", [(30, 20), (8, 4, 3, 3)])
def test_fans(shape):
    t = torch.empty(shape)
    assert init._calculate_fan_in_and_fan_out(mg.empty(*shape)) == (
        torch.nn.init._calculate_fan_in_and_fan_out(t)
    )


def _std_bound(fn, shape, **kw):
    mg.manual_seed(0)
    t = mg.empty(*shape, dtype=mg.float64)
    assert fn(t, **kw) is t
    return t.numpy()


def test_uniform_and_normal_families():
    shape = (200, 300)  # fan_in 300, fan_out 200
    x = _std_bound(init.xavier_uniform_, shape, gain=2.0)
    a = 2.0 * math.sqrt(6 / 500)
    assert np.abs(x).max() <= a and np.abs(x).max() > 0.99 * a
    x = _std_bound(init.xavier_normal_, shape)
    assert abs(x.std() - math.sqrt(2 / 500)) < 0.02 * math.sqrt(2 / 500)
    x = _std_bound(init.kaiming_uniform_, shape, nonlinearity="relu")
    b = math.sqrt(2) * math.sqrt(3 / 300)
    assert np.abs(x).max() <= b and np.abs(x).max() > 0.99 * b
    x = _std_bound(init.kaiming_normal_, shape, mode="fan_out", nonlinearity="relu")
    assert abs(x.std() - math.sqrt(2 / 200)) < 0.02 * math.sqrt(2 / 200)
    x = _std_bound(init.trunc_normal_, shape, mean=1.0, std=2.0, a=0.0, b=3.0)
    assert x.min() >= 0 and x.max() <= 3 and 1.0 < x.mean() < 1.6
    x = _std_bound(init.uniform_, shape, a=-3, b=-1)
    assert x.min() >= -3 and x.max() < -1
    x = _std_bound(init.normal_, shape, mean=5, std=0.1)
    assert abs(x.mean() - 5) < 0.01
    for fn, v in ((init.zeros_, 0), (init.ones_, 1)):
        assert (fn(mg.empty(3)).numpy() == v).all()
    assert (init.constant_(mg.empty(2, 2), 0.5).numpy() == 0.5).all()
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(mg.empty(3))


def test_init_on_parameter_keeps_graph_free():
    lin = nn.Linear(3, 3)
    init.normal_(lin.weight)
    assert lin.weight.is_leaf and lin.weight.requires_grad


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf, 3.0])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm(norm_type, max_norm):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    ours = [nn.Parameter(mg.zeros(*g.shape, dtype=mg.float64)) for g in grads]
    theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for p, t, g in zip(ours, theirs, grads):
        p.grad = mg.tensor(g)
        t.grad = torch.tensor(g)
    total = nn.utils.clip_grad_norm_(ours, max_norm, norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert float(total) == pytest.approx(float(ttotal), rel=1e-12)
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), t.grad.numpy(), rtol=1e-12)


def test_clip_grad_value_and_vectors():
    p = nn.Parameter(mg.zeros(4))
    p.grad = mg.tensor([-3.0, -0.5, 0.5, 3.0])
    nn.utils.clip_grad_value_([p], 1.0)
    np.testing.assert_array_equal(p.grad.numpy(), [-1, -0.5, 0.5, 1])
    lin = nn.Linear(3, 2)
    v = nn.utils.parameters_to_vector(lin.parameters())
    assert v.shape == (8,)
    nn.utils.vector_to_parameters(v * 0 + 1, lin.parameters())
    assert float(lin.weight.sum()) == 6 and float(lin.bias.sum()) == 2

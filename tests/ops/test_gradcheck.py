"""Tests for minigrad.testing itself: gradcheck must catch wrong gradients, say where, and pass
right ones; gradgradcheck must catch wrong second derivatives; the strategies draw valid cases."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import GradcheckError, gradcheck, gradgradcheck, numerical_grad
from minigrad.testing import strategies as S


class WrongCube(mg.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x * x + (x > 1.0).double() * 0.5  # wrong where x > 1


class GoodCubeBadSecond(mg.autograd.Function):
    """Right first derivative, but computed from a detached x: the second derivative is lost."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x.detach() ** 2


def _x(data):
    return mg.tensor(data, dtype=mg.float64, requires_grad=True)


def test_passes_on_correct_gradients():
    x, y = _x([[0.5, -1.0], [2.0, 0.3]]), _x([1.5, -0.5])
    assert gradcheck(lambda a, b: (a * b).tanh(), (x, y))
    assert gradgradcheck(lambda a, b: (a * b).tanh(), (x, y))


def test_reports_input_and_worst_element():
    x = _x([0.5, 2.0, -1.0])
    with pytest.raises(GradcheckError, match=r"input 0 .* worst element \(1,\)") as info:
        gradcheck(WrongCube.apply, x)
    assert isinstance(info.value, RuntimeError)
    assert "analytical" in str(info.value) and "numerical" in str(info.value)
    assert gradcheck(WrongCube.apply, x, raise_exception=False) is False


def test_gradgradcheck_catches_a_lost_second_derivative():
    x = _x([0.5, 2.0, -1.0])
    assert gradcheck(GoodCubeBadSecond.apply, x)
    with pytest.raises(GradcheckError):
        gradgradcheck(GoodCubeBadSecond.apply, x)


def test_second_input_named():
    x, y = _x([1.0, 2.0]), _x([0.5, 3.0])
    with pytest.raises(GradcheckError, match="input 1"):
        gradcheck(lambda a, b: a + WrongCube.apply(b), (x, y))


def test_non_tensor_arguments_and_tuple_outputs():
    x = _x([[1.0, -2.0, 0.5], [0.1, 0.2, 0.3]])
    assert gradcheck(lambda x, k: tuple(x.split(k, 1)), (x, 2))
    assert gradcheck(lambda x: x.max(1), x)  # (values, integer indices): indices are skipped


def test_large_outputs_use_random_projections():
    x = _x(np.random.default_rng(0).standard_normal((3, 50)))
    assert gradcheck(lambda x: x.sin().repeat(1, 2), x)  # 300 outputs > FULL_JACOBIAN_LIMIT
    with pytest.raises(GradcheckError, match="random projection"):
        gradcheck(lambda x: WrongCube.apply(x.abs() + 1.5).repeat(1, 2), x)


def test_rejects_float32_and_no_grad_inputs():
    with pytest.raises(TypeError, match="float64"):
        gradcheck(mg.tanh, mg.ones(3, requires_grad=True))
    with pytest.raises(ValueError, match="requires_grad"):
        gradcheck(mg.tanh, mg.ones(3, dtype=mg.float64))


def test_numerical_grad_matches_known_jacobian():
    x = _x([1.0, 2.0])
    (jac,) = numerical_grad(lambda x: x * x, x)
    np.testing.assert_allclose(jac, np.diag([2.0, 4.0]), atol=1e-8)
    assert x.tolist() == [1.0, 2.0]  # restored after perturbation


def test_gradcheck_works_under_no_grad():
    x = _x([0.3, -0.2])
    with mg.no_grad():
        assert gradgradcheck(mg.sigmoid, x)


@given(pair=S.broadcastable_pair(requires_grad=True))
def test_broadcastable_pair_broadcasts(pair):
    a, b = pair
    assert a.dtype == b.dtype == mg.float64 and a.requires_grad
    np.broadcast_shapes(a.shape, b.shape)


@given(shapes=S.matmul_shapes(max_dims=2))
def test_matmul_shapes_are_valid(shapes):
    a, b = shapes
    np.matmul(np.zeros(a), np.zeros(b))


@given(x=S.tensors(), data=st.data())
def test_dims_and_keepdim_are_valid(x, data):
    dim, keepdim = data.draw(S.dims_and_keepdim(x.ndim))
    x.sum(dim, keepdim)
    np.sum(np.zeros(x.shape), axis=dim if x.ndim else None, keepdims=keepdim)


def test_import_minigrad_does_not_import_hypothesis():
    import subprocess
    import sys

    code = "import sys, minigrad, minigrad.testing; assert 'hypothesis' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)

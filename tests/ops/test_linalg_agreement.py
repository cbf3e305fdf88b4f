"""Products against PyTorch 2.13 (issue 10): mixed dtypes raise instead of computing in the
wider one."""

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn.functional as MF

torch = pytest.importorskip("torch")
TF = torch.nn.functional

MIXED_CASES = [
    lambda m, F, a, b, i: a @ b,
    lambda m, F, a, b, i: b @ a,
    lambda m, F, a, b, i: m.matmul(a[0], b[0]),
    lambda m, F, a, b, i: m.matmul(a[None], b),
    lambda m, F, a, b, i: m.mm(a, b),
    lambda m, F, a, b, i: m.bmm(a[None], b[None]),
    lambda m, F, a, b, i: m.mv(a, b[0]),
    lambda m, F, a, b, i: m.dot(a[0], b[0]),
    lambda m, F, a, b, i: F.linear(a, b),
    lambda m, F, a, b, i: F.linear(a, a, b[0]),
    lambda m, F, a, b, i: a @ i,
    lambda m, F, a, b, i: i @ a,
]


@pytest.mark.parametrize("case", range(len(MIXED_CASES)))
def test_products_of_mixed_dtypes_raise_as_torch(case):
    def args(lib):
        return (
            lib.ones(2, 2),
            lib.ones(2, 2, dtype=lib.float64),
            lib.ones(2, 2, dtype=lib.int64),
        )

    with pytest.raises(RuntimeError):
        MIXED_CASES[case](torch, TF, *args(torch))
    with pytest.raises(RuntimeError, match="float32|float64|int64"):
        MIXED_CASES[case](mg, MF, *args(mg))


def test_nn_linear_with_a_float64_input_raises():
    layer = mg.nn.Linear(3, 2)
    with pytest.raises(RuntimeError, match="float32 and float64|float64 and float32"):
        layer(mg.ones(4, 3, dtype=mg.float64))
    assert layer(mg.ones(4, 3)).dtype == mg.float32


def test_integer_matmul_still_works():
    a = [[1, 2], [3, 4]]
    assert (mg.tensor(a) @ mg.tensor(a)).tolist() == (torch.tensor(a) @ torch.tensor(a)).tolist()


@pytest.mark.parametrize(
    "shapes", [((3,), (3,)), ((2, 3), (4, 3)), ((2, 3), (4, 1, 3)), ((0, 3), (4, 3)), ((2, 3), ())]
)
def test_inner_over_any_dims_matches_torch(shapes):
    r = np.random.default_rng(0)
    a, b = (r.standard_normal(s) for s in shapes)
    x, y = mg.tensor(a, requires_grad=True), mg.tensor(b, requires_grad=True)
    tx, ty = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    out, tout = mg.inner(input=x, other=y), torch.inner(input=tx, other=ty)
    assert out.shape == tuple(tout.shape)
    np.testing.assert_allclose(out.detach().numpy(), tout.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = r.standard_normal(tuple(tout.shape))
    out.backward(mg.tensor(g))
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(y.grad.numpy(), ty.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_inner_shape_error_as_torch():
    with pytest.raises(RuntimeError, match=r"last dimension must match.*\[2, 3\] and \[4, 5\]"):
        mg.inner(mg.zeros(2, 3), mg.zeros(4, 5))

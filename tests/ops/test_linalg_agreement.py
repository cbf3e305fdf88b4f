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


# --- cdist ---------------------------------------------------------------------------------------

CDIST_MODES = ["use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
               "donot_use_mm_for_euclid_dist"]  # fmt: skip
CDIST_SHAPES = [((3, 4), (5, 4)), ((2, 3, 4), (5, 4)), ((3, 1, 3, 4), (2, 30, 4)),
                ((0, 3), (2, 3)), ((2, 0), (3, 0)), ((27, 3), (4, 3))]  # fmt: skip


@pytest.mark.parametrize("shapes", CDIST_SHAPES, ids=str)
@pytest.mark.parametrize("p", [0.0, 0.5, 1.0, 2.0, 3.0, float("inf")])
def test_cdist_values_and_gradients_match_torch(shapes, p):
    import numpy as np

    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    for mode in CDIST_MODES:
        results = []
        for lib in (torch, mg):
            x1, x2 = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
            out = lib.cdist(x1, x2, p, mode)
            weight = np.random.default_rng(1).standard_normal(tuple(out.shape))
            (out * lib.tensor(weight)).sum().backward()
            results.append([out.detach().numpy(), x1.grad.numpy(), x2.grad.numpy()])
        for ours, theirs in zip(results[1], results[0]):
            np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


CDIST_ERRORS = [
    lambda m: m.cdist(m.ones(3, 4), m.ones(5, 4, dtype=m.int64)),
    lambda m: m.cdist(m.ones(3, 4, dtype=m.int64), m.ones(5, 4)),
    lambda m: m.cdist(m.ones(3, 4), m.ones(5, 4, dtype=m.float64)),
    lambda m: m.cdist(m.ones(3, 4), m.ones(5, 3)),
    lambda m: m.cdist(m.ones(4), m.ones(5, 4)),
    lambda m: m.cdist(m.ones(3, 4), m.ones(4)),
    lambda m: m.cdist(m.ones(3, 4), m.ones(5, 4), p=-1),
    lambda m: m.cdist(m.ones(3, 4), m.ones(5, 4), compute_mode="fast"),
    lambda m: m.cdist(m.ones(3, 4, dtype=m.float16), m.ones(5, 4, dtype=m.float16)),
    lambda m: m.cdist(m.ones(2, 3, 4), m.ones(3, 5, 4)),
]


@pytest.mark.parametrize("case", range(len(CDIST_ERRORS)))
def test_cdist_errors_match_torch(case):
    with pytest.raises(Exception) as theirs:
        CDIST_ERRORS[case](torch)
    with pytest.raises(theirs.type):
        CDIST_ERRORS[case](mg)


def test_cdist_float32_stays_float32():
    out = mg.cdist(mg.randn(2, 3), mg.randn(4, 3))
    assert out.dtype == mg.float32 and out.shape == (2, 4)

"""Gradient and forward tests for matrix products (minigrad/ops/linalg.py): matmul in every
1-D/2-D/batched combination, linear, and einsum (ellipsis, summed-away indices, 3 operands)."""

import numpy as np
import pytest
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import strategies as S
from minigrad.testing.opcheck import check_op

COVERED = {"matmul", "linear", "einsum", "cdist"}

test_matmul = check_op(
    lambda a, b: a @ b, S.matmul_shapes(max_dims=2), reference=np.matmul, gradgrad=True
)
test_matmul_batched = check_op(
    lambda a, b: mg.matmul(a, b),
    S.matmul_shapes(min_dims=1, max_dims=3).filter(lambda s: len(s[0]) > 2 or len(s[1]) > 2),
    reference=np.matmul,
    gradgrad=True,
)
test_mm = check_op(
    mg.mm,
    S.matmul_shapes(max_dims=0).filter(lambda s: len(s[0]) == len(s[1]) == 2),
    reference=np.matmul,
)
test_bmm = check_op(
    mg.bmm,
    st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)).map(
        lambda n: ((n[0], n[1], n[2]), (n[0], n[2], n[3]))
    ),
    reference=np.matmul,
)
test_mv = check_op(
    mg.mv,
    st.tuples(st.integers(1, 4), st.integers(1, 4)).map(lambda n: ((n[0], n[1]), (n[1],))),
    reference=np.matmul,
)
test_dot = check_op(
    mg.dot, st.integers(1, 5).map(lambda n: ((n,), (n,))), reference=np.dot, gradgrad=True
)
test_outer = check_op(
    mg.outer,
    st.tuples(st.integers(1, 4), st.integers(1, 4)).map(lambda n: ((n[0],), (n[1],))),
    reference=np.outer,
)


@st.composite
def _linear_shapes(draw, bias):
    lead = draw(S.shapes(min_dims=0, max_dims=2))
    n_in, n_out = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    shapes = (lead + (n_in,), (n_out, n_in))
    return shapes + ((n_out,),) if bias else shapes


test_linear = check_op(
    mg.linear if hasattr(mg, "linear") else None,
    _linear_shapes(False),
    reference=lambda x, w: x @ w.T,
    gradgrad=True,
)
test_linear_bias = check_op(
    mg.linear, _linear_shapes(True), reference=lambda x, w, b: x @ w.T + b, gradgrad=True
)


def test_matmul_shape_errors():
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        mg.ones(2, 3) @ mg.ones(2, 3)
    with pytest.raises(RuntimeError, match="1D"):
        mg.matmul(mg.tensor(1.0), mg.ones(2))
    with pytest.raises(RuntimeError, match="linear"):
        mg.linear(mg.ones(2, 3), mg.ones(4, 2))


# --- einsum -----------------------------------------------------------------------------------

EQUATIONS = [
    "ij,jk->ik",
    "ij,jk",  # implicit output
    "ij->",
    "ij->j",
    "ij->ji",
    "i,i->",
    "i,j->ij",
    "bij,bjk->bik",
    "ij,k->i",  # j summed within operand 0, k only in operand 1: summed away
    "ijk->ik",
    "...ij,...jk->...ik",  # batch dims broadcast through the ellipsis
    "...i->...",
    "i...->...",
    "b...,b->...",
    "ij,jk,kl->il",  # three operands
    "ik,jk->",
    "ii->i",  # diagonal
    "ii->",  # trace
    "iij,j->i",  # a repeated letter next to a contracted one
    "ij,jj->i",
]


@st.composite
def _einsum_shapes(draw, equation):
    """Operand shapes for `equation`: a size per letter, broadcastable batch dims per '...'."""
    lhs = equation.split("->")[0].split(",")
    sizes = {c: draw(st.integers(1, 3)) for c in sorted(set("".join(lhs).replace(".", "")))}
    n_ell = sum("..." in t for t in lhs)
    ells = list(draw(S.broadcastable_shapes(n_ell, max_dims=2, max_side=3))) if n_ell else []
    shapes = []
    for t in lhs:
        head, _, tail = t.partition("...")
        middle = ells.pop(0) if "..." in t else ()
        shapes.append(tuple(sizes[c] for c in head) + middle + tuple(sizes[c] for c in tail))
    return tuple(shapes)


def _einsum_test(equation):
    return check_op(
        lambda *xs: mg.einsum(equation, *xs),
        _einsum_shapes(equation),
        reference=lambda *xs: np.einsum(equation, *xs),
        gradgrad=True,
        key=f"einsum {equation}",
    )


for _k, _eq in enumerate(EQUATIONS):
    globals()[
        f"test_einsum_{_k}_" + _eq.replace(",", "_").replace("->", "_to_").replace(".", "E")
    ] = _einsum_test(_eq)


def test_einsum_list_operands_and_spaces():
    a, b = mg.ones(2, 3), mg.ones(3, 4)
    assert mg.einsum("ij, jk -> ik", [a, b]).shape == (2, 4)


# --- cdist --------------------------------------------------------------------------------------

_CDIST_SHAPES = st.tuples(
    st.sampled_from([(), (2,), (1, 2)]), st.sampled_from([(), (2,)]),
    st.integers(1, 4), st.integers(1, 4), st.integers(1, 3),
).map(lambda s: (s[0] + (s[2], s[4]), s[1] + (s[3], s[4])))  # fmt: skip


def _cdist_reference(x1, x2, p, compute_mode):
    diff = np.abs(x1[..., :, None, :] - x2[..., None, :, :])
    if p == np.inf:
        return diff.max(-1)
    return (diff**p).sum(-1) ** (1 / p)


def _cdist_smooth(x1, x2, p, compute_mode):
    """Away from the kinks: no two coordinates (nor, for inf, two |differences|) too close."""
    diff = np.abs(x1[..., :, None, :] - x2[..., None, :, :])
    if diff.min(initial=1.0) < 0.1:
        return False
    if p == np.inf and diff.shape[-1] > 1:
        top = np.sort(diff, axis=-1)
        return bool(np.all(top[..., -1] - top[..., -2] > 0.1))
    return True


test_cdist = check_op(
    mg.cdist,
    _CDIST_SHAPES,
    params=lambda *shapes: st.fixed_dictionaries(
        {
            "p": st.sampled_from([0.5, 1.0, 2.0, 3.0, np.inf]),
            "compute_mode": st.sampled_from(
                [
                    "use_mm_for_euclid_dist_if_necessary",
                    "use_mm_for_euclid_dist",
                    "donot_use_mm_for_euclid_dist",
                ]
            ),
        }
    ),  # fmt: skip
    valid=_cdist_smooth,
    reference=_cdist_reference,
    gradgrad=True,
)


def test_cdist_at_zero_distance_has_zero_gradient():
    x = mg.tensor([[1.0, 2.0], [0.5, -1.0]], requires_grad=True)
    for p in (0.5, 1.0, 2.0, 3.0):
        for mode in ("use_mm_for_euclid_dist", "donot_use_mm_for_euclid_dist"):
            x.grad = None
            mg.cdist(x, x.detach(), p, mode).diagonal().sum().backward()
            assert np.all(np.isfinite(x.grad.numpy())) and np.all(x.grad.numpy() == 0)


def test_linear_with_an_empty_inner_dim_and_its_gradient():
    x, w = mg.zeros(0, requires_grad=True), mg.zeros(0, 0, requires_grad=True)
    mg.nn.functional.linear(x, w).sum().backward()
    assert x.grad.shape == (0,) and w.grad.shape == (0, 0)
    x, w, b = mg.zeros(2, 3, 0), mg.zeros(1, 0, requires_grad=True), mg.ones(1)
    out = mg.nn.functional.linear(x, w, b)  # the [B*T, in] fast path, in = 0
    assert out.shape == (2, 3, 1) and out.tolist() == [[[1.0]] * 3] * 2


def test_cdist_nan_and_inf_follow_torch():
    import torch

    a = np.array([[np.nan, 2.0, 1.0], [5.0, np.nan, 1.0], [np.nan, np.nan, np.nan]])
    b = np.array([[-1.0, -1.0, -1.0]])
    for p in (0.0, float("inf")):  # p=0 propagates NaN, p=inf skips NaN differences
        got = mg.cdist(mg.tensor(a), mg.tensor(b), p=p).numpy()
        want = torch.cdist(torch.tensor(a), torch.tensor(b), p=p).numpy()
        np.testing.assert_array_equal(got, want)
    # p=2 gradients: an infinite input gives NaN (inf / inf), no rows of x1 give 0
    x1 = mg.tensor([[-1.0]], requires_grad=True)
    x2 = mg.tensor([[np.inf], [2.0]], requires_grad=True)
    mg.cdist(x1, x2).sum().backward()
    assert np.isnan(x2.grad.numpy()[0, 0]) and x2.grad.numpy()[1, 0] == 1.0
    e1 = mg.zeros((0, 3), requires_grad=True)
    e2 = mg.tensor([[1.0, np.inf, 0.0]], requires_grad=True)
    mg.cdist(e1, e2).sum().backward()
    np.testing.assert_array_equal(e2.grad.numpy(), np.zeros((1, 3)))

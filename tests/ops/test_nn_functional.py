"""Gradient tests for the fused ops in minigrad.nn.functional (layer_norm, rms_norm, embedding,
nll_loss, cross_entropy), so the op-coverage check finds them tested."""

import numpy as np
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad.testing import strategies as S
from minigrad.testing.opcheck import check_op

COVERED = {"layer_norm", "rms_norm", "embedding", "nll_loss", "cross_entropy"}

ROWS = S.shapes(min_dims=1, max_dims=3, min_side=2)


def _ln_ref(x, k, eps=1e-5):
    axes = tuple(range(x.ndim - k, x.ndim))
    xc = x - x.mean(axes, keepdims=True)
    return xc / np.sqrt((xc * xc).mean(axes, keepdims=True) + eps)


def _k(shape):
    return st.integers(1, len(shape)).map(lambda k: {"k": k})


def _spread(x, *_, **__):
    return bool(np.all(np.std(x.reshape(-1, x.shape[-1]), axis=-1) > 0.1))


test_layer_norm = check_op(
    lambda x, k: F.layer_norm(x, x.shape[x.ndim - k :]),
    ROWS,
    params=_k,
    valid=_spread,
    reference=_ln_ref,
    gradgrad=True,
)


def _affine_shapes(n_params):
    return ROWS.map(lambda s: (s,) + (s[-1:],) * n_params)


test_layer_norm_affine = check_op(
    lambda x, w, b: F.layer_norm(x, x.shape[-1:], w, b),
    _affine_shapes(2),
    valid=_spread,
    reference=lambda x, w, b: _ln_ref(x, 1) * w + b,
    gradgrad=True,
)
test_layer_norm_weight = check_op(
    lambda x, w: F.layer_norm(x, x.shape[-1:], w),
    _affine_shapes(1),
    valid=_spread,
    reference=lambda x, w: _ln_ref(x, 1) * w,
    gradgrad=True,
)


def _rms_ref(x, w=None, eps=1e-6):
    out = x / np.sqrt((x * x).mean(-1, keepdims=True) + eps)
    return out if w is None else out * w


test_rms_norm = check_op(
    lambda x: F.rms_norm(x, x.shape[-1:], eps=1e-6),
    ROWS,
    valid=_spread,
    reference=_rms_ref,
    gradgrad=True,
)
test_rms_norm_weight = check_op(
    lambda x, w: F.rms_norm(x, x.shape[-1:], w, eps=1e-6),
    _affine_shapes(1),
    valid=_spread,
    reference=_rms_ref,
    gradgrad=True,
)


def _embedding_params(shape):
    n = shape[0]
    return st.fixed_dictionaries(
        {
            "idx": S.arrays(
                S.shapes(min_dims=1, max_dims=2), np.int64, elements=st.integers(0, n - 1)
            ),
        }
    )


test_embedding = check_op(
    lambda w, idx: F.embedding(mg.tensor(idx), w),
    S.shapes(2, 2),
    params=_embedding_params,
    reference=lambda w, idx: w[idx],
    gradgrad=True,
)


def test_embedding_padding_row_gets_no_gradient():
    # By design (as PyTorch): the padding row is read in forward but never updated.
    w = mg.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    F.embedding(mg.tensor([[0, 2, 2], [1, 0, 2]]), w, padding_idx=2).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[2, 2], [1, 1], [0, 0]])


@st.composite
def _class_targets(draw, shape):
    n, c = shape[0], shape[1]
    target = draw(S.arrays((n,) + shape[2:], np.int64, elements=st.integers(0, c - 1)))
    return {
        "target": target,
        "weight": draw(st.one_of(st.none(), S.arrays((c,), np.float64, elements=S.floats(0.1, 2)))),
        "reduction": draw(st.sampled_from(["mean", "sum", "none"])),
    }


def _nll_ref(logp, target, weight, reduction):
    c = logp.shape[1]
    w = np.ones(c) if weight is None else weight
    picked = -np.take_along_axis(logp, target[:, None], 1)[:, 0] * w[target]
    if reduction == "none":
        return picked
    return picked.sum() if reduction == "sum" else picked.sum() / w[target].sum()


def _log_softmax(x):
    m = x.max(1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(1, keepdims=True))


LOGITS = S.shapes(min_dims=2, max_dims=3, min_side=2)
test_nll_loss = check_op(
    lambda x, target, weight, reduction: F.nll_loss(
        x,
        mg.tensor(target),
        None if weight is None else mg.tensor(weight, dtype=x.dtype),
        reduction=reduction,
    ),
    LOGITS,
    params=_class_targets,
    reference=_nll_ref,
    gradgrad=True,
)
test_cross_entropy = check_op(
    lambda x, target, weight, reduction: F.cross_entropy(
        x,
        mg.tensor(target),
        None if weight is None else mg.tensor(weight, dtype=x.dtype),
        reduction=reduction,
    ),
    LOGITS,
    params=_class_targets,
    reference=lambda x, target, weight, reduction: _nll_ref(
        _log_softmax(x), target, weight, reduction
    ),
    gradgrad=True,
)

"""Shape ops against PyTorch 2.13 (issue 10): view() of a non-contiguous tensor views where
the strides allow it and raises (pointing to reshape) where they do not - never a copy."""

import numpy as np
import pytest

import minigrad as mg

torch = pytest.importorskip("torch")

VIEW_CASES = [
    (lambda t: t.transpose(0, 1), (-1,)),
    (lambda t: t.transpose(0, 1), (4, 6)),
    (lambda t: t.transpose(0, 1), (4, 3, 2)),  # splits the (now leading) dim of size 4: fine
    (lambda t: t.transpose(1, 2), (2, 12)),
    (lambda t: t.transpose(1, 2), (4, 2, 3)),
    (lambda t: t.transpose(1, 2), (2, 4, 3, 1)),
    (lambda t: t[:, ::2], (2, 8)),
    (lambda t: t[:, ::2], (4, 4)),
    (lambda t: t[:, :, 1:3], (6, 2)),
    (lambda t: t[:, :, 1:3], (12,)),
    (lambda t: t[:1], (3, 4)),
    (lambda t: t.permute(2, 0, 1), (4, 6)),
    (lambda t: t.permute(2, 0, 1), (2, 2, 6)),
    (lambda t: t[:, :1].expand(2, 5, 4), (10, 4)),
    (lambda t: t[:, :1].expand(2, 5, 4), (2, 20)),
    (lambda t: t[:, 1], (8,)),
    (lambda t: t[:, 1], (2, 2, 2)),
]


@pytest.mark.parametrize("case", range(len(VIEW_CASES)))
def test_view_of_non_contiguous_tensors_matches_torch(case):
    make, shape = VIEW_CASES[case]
    base_ours = mg.arange(24.0).reshape(2, 3, 4)
    base_theirs = torch.arange(24.0).reshape(2, 3, 4)
    ours, theirs = make(base_ours), make(base_theirs)
    try:
        expected = theirs.view(shape)
    except RuntimeError:
        with pytest.raises(RuntimeError, match=r"reshape\(\.\.\.\)"):
            ours.view(shape)
        return
    got = ours.view(shape)
    np.testing.assert_array_equal(got.numpy(), expected.numpy())
    # a view: a write through it reaches the base (skipped for expanded, read-only memory)
    if theirs.stride().count(0) == 0:
        with mg.no_grad():
            got[(0,) * got.ndim] = -1.0
        assert float(ours[(0,) * ours.ndim]) == -1.0


def test_view_gradient_flows_like_reshape():
    x = mg.arange(6.0).reshape(2, 3).requires_grad_()
    x.t().view(3, 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((2, 3)))

"""minigrad.nn.ctc against torch: losses and gradients over random cases (padded and concatenated
targets, tensor and tuple lengths, every reduction, other blanks, repeated labels, impossible
alignments with and without zero_infinity, unbatched input), float64 gradchecks through
log_softmax, the module, and torch's errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.testing import gradcheck

torch = pytest.importorskip("torch")

COVERED = {"ctc_loss"}


def _case(seed: int, steps=9, n=4, classes=5, longest=4, blank=0):
    """Random logits [T, N, C], padded targets without the blank, and lengths (some samples
    with too short an input for their target: an infinite loss)."""
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal((steps, n, classes)) * 2
    labels = [c for c in range(classes) if c != blank]
    targets = rng.choice(labels, size=(n, longest))
    targets[0, 1] = targets[0, 0]  # a repeat: needs a blank between
    target_lengths = rng.integers(0, longest + 1, size=n)
    target_lengths[0] = max(target_lengths[0], 2)
    input_lengths = rng.integers(0, steps + 1, size=n)
    input_lengths[-1] = steps
    return logits, targets, input_lengths, target_lengths


def _both(logits, targets, input_lengths, target_lengths, concatenated, as_tensors, **kw):
    """(loss, grad of the logits, grad of the log_probs) from torch and from minigrad."""
    results = []
    for lib in (torch, mg):
        x = lib.tensor(logits, requires_grad=True)
        log_probs = x.log_softmax(-1)
        log_probs.retain_grad()
        if concatenated:
            t = np.concatenate([row[:k] for row, k in zip(targets, target_lengths)])
        else:
            t = targets
        if as_tensors:
            lengths = lib.tensor(input_lengths), lib.tensor(target_lengths.astype(np.int32))
        else:
            lengths = tuple(int(v) for v in input_lengths), tuple(int(v) for v in target_lengths)
        fn = torch.nn.functional.ctc_loss if lib is torch else F.ctc_loss
        loss = fn(log_probs, lib.tensor(t), *lengths, **kw)
        weights = np.linspace(0.5, 1.5, loss.numel()).reshape(tuple(loss.shape))
        (loss * lib.tensor(weights)).sum().backward()
        results.append((loss.detach().numpy(), x.grad.numpy(), log_probs.grad.numpy()))
    return results


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("zero_infinity", [False, True])
def test_ctc_loss_matches_torch(seed, reduction, zero_infinity):
    case = _case(seed, blank=seed % 3)
    theirs, ours = _both(*case, concatenated=seed % 2 == 1, as_tensors=seed >= 3,
                         blank=seed % 3, reduction=reduction, zero_infinity=zero_infinity)  # fmt: skip
    assert ours[0].dtype == np.float64 and ours[0].shape == theirs[0].shape
    for mine, reference in zip(ours, theirs):  # inf and nan where torch has them
        np.testing.assert_allclose(mine, reference, rtol=1e-10, atol=1e-12)


def test_impossible_alignments_are_infinite_and_zero_infinity_clears_them():
    logits = np.zeros((3, 2, 4))
    targets = np.array([[1, 1, 2], [1, 2, 3]])
    lengths = ((3, 3), (2, 3))  # 1, 1 needs 3 steps (a blank between): possible; 1 2 3 needs 3
    theirs, ours = _both(logits, targets, *lengths, False, False, reduction="none")
    assert np.isfinite(ours[0]).all()
    short = ((3, 2), (3, 3))  # two steps for three labels: no alignment
    for zero_infinity in (False, True):
        theirs, ours = _both(logits, targets, *short, False, False, reduction="none",
                             zero_infinity=zero_infinity)  # fmt: skip
        assert np.isinf(ours[0][1]) != zero_infinity
        for mine, reference in zip(ours, theirs):
            np.testing.assert_allclose(mine, reference, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unbatched_float32_and_empty_targets_match_torch(dtype):
    rng = np.random.default_rng(7)
    log_probs = torch.tensor(rng.standard_normal((6, 4)).astype(dtype)).log_softmax(-1)
    mine = mg.tensor(log_probs.numpy())
    for lengths in ((torch.tensor(6), torch.tensor(3)), ((6,), (3,)), ((6,), (0,)), ((0,), (0,))):
        targets = torch.tensor([1, 3, 3][: int(lengths[1][0] if isinstance(lengths[1], tuple)
                                               else lengths[1])])  # fmt: skip
        for reduction in ("none", "mean", "sum"):
            theirs = torch.nn.functional.ctc_loss(log_probs, targets, *lengths,
                                                  reduction=reduction)  # fmt: skip
            ours_lengths = [mg.tensor(v.numpy()) if isinstance(v, torch.Tensor) else v
                            for v in lengths]  # fmt: skip
            ours = F.ctc_loss(mine, mg.tensor(targets.numpy()), *ours_lengths,
                              reduction=reduction)  # fmt: skip
            assert ours.shape == tuple(theirs.shape) and ours.dtype == dtype
            np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**16), st.sampled_from(["none", "mean", "sum"]), st.booleans())
def test_ctc_loss_gradcheck_through_log_softmax(seed, reduction, concatenated):
    # the gradient is PyTorch's (exact through the log_softmax that makes the log_probs)
    logits, targets, input_lengths, target_lengths = _case(seed, steps=5, n=2, classes=3,
                                                           longest=2)  # fmt: skip
    input_lengths = np.maximum(input_lengths, 2 * target_lengths)  # finite losses
    input_lengths = np.minimum(input_lengths, 5)
    if concatenated:
        targets = np.concatenate([row[:k] for row, k in zip(targets, target_lengths)])
    x = mg.tensor(logits, requires_grad=True)
    fn = lambda x: F.ctc_loss(F.log_softmax(x, -1), mg.tensor(targets), tuple(input_lengths),
                              tuple(target_lengths), reduction=reduction)  # fmt: skip
    assert gradcheck(fn, (x,))


def test_module_matches_torch():
    logits, targets, input_lengths, target_lengths = _case(3)
    ours, theirs = nn.CTCLoss(blank=2, zero_infinity=True), torch.nn.CTCLoss(2, "mean", True)
    assert repr(ours) == repr(theirs)
    log_probs = torch.tensor(logits).log_softmax(-1)
    expected = theirs(log_probs, torch.tensor(targets), tuple(input_lengths),
                      tuple(target_lengths))  # fmt: skip
    got = ours(mg.tensor(log_probs.numpy()), mg.tensor(targets), tuple(input_lengths),
               tuple(target_lengths))  # fmt: skip
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-12)


def test_errors_are_torchs():
    log_probs = mg.randn(6, 2, 4).log_softmax(-1)
    targets = mg.tensor([[1, 2, 2], [3, 1, 0]])
    with pytest.raises(RuntimeError, match="input_lengths to have value at most 6"):
        F.ctc_loss(log_probs, targets, (7, 5), (3, 2))
    with pytest.raises(RuntimeError, match="at least 0"):
        F.ctc_loss(log_probs, targets, (6, -1), (3, 2))
    with pytest.raises(RuntimeError, match="target_lengths must be of size batch_size"):
        F.ctc_loss(log_probs, targets, (6, 5), (3,))
    with pytest.raises(RuntimeError, match="S >= 4"):
        F.ctc_loss(log_probs, targets, (6, 5), (4, 2))
    with pytest.raises(RuntimeError, match="sum.target_lengths. = 5"):
        F.ctc_loss(log_probs, mg.tensor([1, 2, 3]), (6, 5), (3, 2))
    with pytest.raises(RuntimeError, match="blank must be in label range"):
        F.ctc_loss(log_probs, targets, (6, 5), (3, 2), blank=4)
    with pytest.raises(RuntimeError, match=r"target labels must be in \[0, 4\)"):
        F.ctc_loss(log_probs, mg.tensor([[1, 5, 2], [3, 1, 0]]), (6, 5), (3, 2))
    with pytest.raises(ValueError, match="foo is not a valid value for reduction"):
        F.ctc_loss(log_probs, targets, (6, 5), (3, 2), reduction="foo")
    with pytest.raises(TypeError, match="both be tensors"):
        F.ctc_loss(log_probs, targets, mg.tensor([6, 5]), (3, 2))
    with pytest.raises(TypeError, match="tuple of ints"):
        F.ctc_loss(log_probs, targets, (6.0, 5.0), (3, 2))
    with pytest.raises(TypeError, match="tuple of ints"):  # as torch: no bare ints
        F.ctc_loss(log_probs[:, 0], targets[0], 6, 3)
    with pytest.raises(NotImplementedError, match="ctc_loss"):
        F.ctc_loss(log_probs.half(), targets, (6, 5), (3, 2))
    with pytest.raises(RuntimeError, match="log_probs"):
        F.ctc_loss(log_probs[None], targets, (6, 5), (3, 2))
    with pytest.raises(RuntimeError, match="double backward"):
        x = mg.randn(6, 2, 4, requires_grad=True)
        loss = F.ctc_loss(x.log_softmax(-1), targets, (6, 5), (3, 2))
        mg.autograd.grad(loss, x, create_graph=True)

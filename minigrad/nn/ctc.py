"""Connectionist temporal classification: `F.ctc_loss` as one fused op (the forward-backward
algorithm in log space, one backward rule) and the module `CTCLoss`, with PyTorch's arguments.

Each target l (length S) is extended with blanks, l' = (b, l1, b, l2, .., lS, b), 2S+1 states.
With y_t = log_probs[t] and logsumexp written lse:

    alpha_0(s) = y_0(l'_s) for s < 2
    alpha_t(s) = y_t(l'_s) + lse(alpha_{t-1}(s), alpha_{t-1}(s-1), [alpha_{t-1}(s-2)])
    beta_{T-1}(s) = y_{T-1}(l'_s) for s in (2S - 1, 2S)
    beta_t(s) = y_t(l'_s) + lse(beta_{t+1}(s), beta_{t+1}(s+1), [beta_{t+1}(s+2)])
    loss = -lse(alpha_{T-1}(2S), alpha_{T-1}(2S-1))

where the bracketed skip exists for a label state (odd s) whose label differs from the one two
states back. alpha and beta both hold y_t(l'_s), so alpha_t(s) + beta_t(s) - y_t(l'_s) is the log
probability of all alignments through state s at time t. The gradient is PyTorch's:

    d loss / d y_t(c) = exp(y_t(c)) - exp(lse_{s: l'_s = c}(alpha_t(s) + beta_t(s)) + loss - y_t(c))

for t < T (0 after each input's length). The exp(y_t(c)) term makes it the gradient through a
log_softmax that produced y (the difference to d loss / d y is constant per row, which
log_softmax's backward removes), so it is exact for normalised log_probs, as PyTorch's.
"""

from __future__ import annotations

import numpy as np

from minigrad.autograd import apply, defop
from minigrad.nn.module import Module
from minigrad.ops import elementwise as _ew
from minigrad.ops import reduce as _red
from minigrad.tensor import Tensor

__all__ = ["ctc_loss", "CTCLoss"]


def _shift(xp, a, k: int):
    """a [.., S] moved k states right (k > 0) or left (k < 0) along the last axis, -inf in."""
    out = xp.full_like(a, -np.inf)
    if k > 0:
        out[..., k:] = a[..., :-k]
    else:
        out[..., :k] = a[..., -k:]
    return out


def _lse3(xp, a, b, c):
    return xp.logaddexp(xp.logaddexp(a, b), c)


def _emissions(xp, log_probs, labels):
    """y_t(l'_s) for every t, sample n and state s: [T, N, S']."""
    n = log_probs.shape[1]
    return log_probs[:, xp.reshape(xp.arange(n), (n, 1)), labels]


def _ctc_forward(xp, log_probs, *, labels, skip, input_lengths, target_lengths, zero_infinity):
    # alpha over time, all samples and states at once; each sample reads its own last step
    emit = _emissions(xp, log_probs, labels)
    steps, n, states = emit.shape
    alpha = xp.full_like(emit, -np.inf)
    if steps:
        alpha[0] = xp.where(xp.arange(states) < 2, emit[0], -np.inf)
    for t in range(1, steps):
        prev = alpha[t - 1]
        skipped = xp.where(skip, _shift(xp, prev, 2), -np.inf)
        alpha[t] = emit[t] + _lse3(xp, prev, _shift(xp, prev, 1), skipped)
    rows = xp.arange(n)
    final = alpha[xp.maximum(input_lengths - 1, 0), rows] if steps else emit[0:0].sum(0)
    if steps:
        end = final[rows, 2 * target_lengths]
        before = final[rows, xp.maximum(2 * target_lengths - 1, 0)]
        log_likelihood = xp.where(target_lengths > 0, xp.logaddexp(end, before), end)
    else:
        log_likelihood = xp.full(n, -np.inf, dtype=log_probs.dtype)
    # an empty input explains only an empty target
    empty = xp.where(target_lengths == 0, 0.0, -np.inf).astype(log_probs.dtype)
    nll = -xp.where(input_lengths > 0, log_likelihood, empty)
    loss = xp.where(xp.isinf(nll), 0.0, nll).astype(nll.dtype) if zero_infinity else nll
    return loss, alpha, nll


def _ctc_grad(xp, g, log_probs, alpha, nll, labels, skip, input_lengths, target_lengths,
              zero_infinity):  # fmt: skip
    emit = _emissions(xp, log_probs, labels)
    steps, n, states = emit.shape
    state = xp.arange(states)
    last_states = 2 * target_lengths[:, None]  # beta starts in the final blank or last label
    ends = (state == last_states) | ((state == last_states - 1) & (last_states > 0))
    skip_ahead = xp.zeros_like(skip)  # state s may jump to s + 2
    skip_ahead[:, :-2] = skip[:, 2:]
    beta = xp.full_like(emit, -np.inf)
    for t in range(steps - 1, -1, -1):
        if t + 1 < steps:
            after = beta[t + 1]
            skipped = xp.where(skip_ahead, _shift(xp, after, -2), -np.inf)
            beta[t] = emit[t] + _lse3(xp, after, _shift(xp, after, -1), skipped)
        starts = (input_lengths == t + 1)[:, None]  # each sample's last step starts its beta
        beta[t] = xp.where(starts, xp.where(ends, emit[t], -np.inf), beta[t])
    through = alpha + beta  # log of all alignments through (t, s), y_t counted twice
    per_class = xp.full_like(log_probs, -np.inf)  # lse over the states of each class
    rows = xp.arange(n)
    for s in range(states):
        column = labels[:, s]
        per_class[:, rows, column] = xp.logaddexp(per_class[:, rows, column], through[:, :, s])
    finite = xp.reshape(~xp.isinf(nll), (1, n, 1))
    nll_finite = xp.reshape(xp.where(finite.ravel(), nll, 0.0), (1, n, 1))
    with np.errstate(invalid="ignore"):  # a log_prob of -inf gives nan, as in PyTorch
        grad = xp.exp(log_probs) - xp.exp(per_class + nll_finite - log_probs)
    # an impossible alignment (infinite loss): nan, as PyTorch, or 0 with zero_infinity
    grad = xp.where(finite, grad, 0.0 if zero_infinity else np.nan)
    inside = xp.reshape(xp.arange(steps), (steps, 1, 1)) < xp.reshape(input_lengths, (1, n, 1))
    return xp.where(inside, grad * xp.reshape(g, (1, n, 1)), 0.0).astype(log_probs.dtype)


# fmt: off
CTC_LOSS = defop("ctc_loss", _ctc_forward, residuals=("alpha", "nll"), double_backward=False,
                 log_probs=_ctc_grad)   # exp(y) - exp(lse_{l'_s=c}(alpha + beta) + loss - y)
# fmt: on


def _lengths(name: str, value, n: int) -> list[int]:
    """input_lengths / target_lengths (a tensor or a sequence of ints) as N host ints."""
    if isinstance(value, Tensor):
        if value.dtype.kind not in "iu":
            raise TypeError(f"ctc_loss(): {name} must be a tensor of integers, got {value.dtype}")
        items = np.ravel(value.detach()._host()).tolist()
    else:
        items = list(value) if isinstance(value, (list, tuple)) else [None]  # no bare ints
        if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in items):
            raise TypeError(f"ctc_loss(): {name} must be a tuple of ints, got {value!r}")
    if len(items) != n:
        raise RuntimeError(f"{name} must be of size batch_size ({n}), got {len(items)}")
    return [int(v) for v in items]


def _padded_targets(xp, targets: Tensor, lengths: list[int], n: int):
    """targets (padded [N, S] or concatenated 1-D) as int64 [N, max length], blank-free of
    meaning past each length (callers mask it)."""
    longest = max(lengths, default=0)
    flat = xp.asarray(targets._data).astype(np.int64)
    if targets.ndim == 2:
        if targets.shape[0] != n or targets.shape[1] < longest:
            raise RuntimeError(
                f"ctc_loss(): padded targets must be [N={n}, S >= {longest}] (the longest "
                f"target length), got {list(targets.shape)}"
            )
        return flat[:, :longest]
    if targets.ndim != 1:
        raise RuntimeError(
            f"ctc_loss(): targets must be 1-D (concatenated) or 2-D (padded), got "
            f"{list(targets.shape)}"
        )
    if targets.shape[0] != sum(lengths):
        raise RuntimeError(
            f"ctc_loss(): concatenated targets must hold sum(target_lengths) = {sum(lengths)} "
            f"labels, got {targets.shape[0]}"
        )
    if not flat.shape[0]:
        return xp.zeros((n, longest), dtype=np.int64)
    starts = xp.asarray(np.cumsum([0] + lengths[:-1]).astype(np.int64))
    positions = xp.reshape(starts, (n, 1)) + xp.arange(longest)
    return flat[xp.minimum(positions, flat.shape[0] - 1)]


def ctc_loss(
    log_probs: Tensor,
    targets: Tensor,
    input_lengths,
    target_lengths,
    blank: int = 0,
    reduction: str = "mean",
    zero_infinity: bool = False,
) -> Tensor:
    """The CTC loss of log_probs [T, N, C] (or [T, C]; log_softmax outputs) against targets,
    padded [N, S] or concatenated 1-D; lengths as tensors or tuples of ints. 'mean' divides each
    loss by its target length (at least 1), then averages over the batch, as PyTorch."""
    if not isinstance(log_probs, Tensor) or not isinstance(targets, Tensor):
        raise TypeError("ctc_loss(): log_probs and targets must be Tensors")
    if isinstance(input_lengths, Tensor) != isinstance(target_lengths, Tensor):
        raise TypeError(
            "ctc_loss(): input_lengths and target_lengths must both be tensors or both be "
            f"tuples of ints, got {type(input_lengths).__name__} and "
            f"{type(target_lengths).__name__}"
        )
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    if log_probs.ndim == 2:  # unbatched: [T, C], targets [S] (as concatenated), one length each
        if targets.ndim != 1:
            raise RuntimeError(
                f"ctc_loss(): an unbatched log_probs [T, C] takes 1-D targets, got "
                f"{list(targets.shape)}"
            )
        one = lambda v: v.reshape(1) if isinstance(v, Tensor) else v
        loss = ctc_loss(log_probs.unsqueeze(1), targets, one(input_lengths),
                        one(target_lengths), blank, reduction, zero_infinity)  # fmt: skip
        return loss[0] if reduction == "none" else loss
    if log_probs.ndim != 3:
        raise RuntimeError(
            f"ctc_loss(): expected log_probs [T, N, C] or [T, C], got {list(log_probs.shape)}"
        )
    if log_probs.dtype not in (np.float32, np.float64):
        raise NotImplementedError(f'"ctc_loss" not implemented for {log_probs.dtype} log_probs')
    if targets.dtype.kind not in "iuf":
        raise RuntimeError(f"ctc_loss(): targets must be integers, got {targets.dtype}")
    steps, n, classes = log_probs.shape
    if not 0 <= blank < classes:
        raise RuntimeError(f"blank must be in label range [0, {classes}), got {blank}")
    inputs = _lengths("input_lengths", input_lengths, n)
    lengths = _lengths("target_lengths", target_lengths, n)
    for name, values in (("input_lengths", inputs), ("target_lengths", lengths)):
        if values and min(values) < 0:
            raise RuntimeError(f"Expected {name} to have value at least 0, but got {min(values)}")
    if inputs and max(inputs) > steps:
        raise RuntimeError(
            f"Expected input_lengths to have value at most {steps}, but got {max(inputs)}"
        )
    xp = log_probs._backend_xp()
    padded = _padded_targets(xp, targets, lengths, n)
    target_lengths_array = xp.asarray(np.asarray(lengths, dtype=np.int64))
    valid = xp.arange(padded.shape[1]) < xp.reshape(target_lengths_array, (n, 1))
    if bool(xp.any(valid & ((padded < 0) | (padded >= classes)))):
        raise RuntimeError(f"ctc_loss(): target labels must be in [0, {classes}) (C classes)")
    # the extended labels l' (blanks between and around), and where the two-state skip exists
    labels = xp.full((n, 2 * padded.shape[1] + 1), blank, dtype=np.int64)
    labels[:, 1::2] = xp.where(valid, padded, blank)
    skip = xp.zeros(labels.shape, dtype=bool)
    skip[:, 3::2] = labels[:, 3::2] != labels[:, 1:-2:2]
    params = {
        "labels": labels,
        "skip": skip,
        "input_lengths": xp.asarray(np.asarray(inputs, dtype=np.int64)),
        "target_lengths": target_lengths_array,
        "zero_infinity": bool(zero_infinity),
    }
    losses = apply(CTC_LOSS, (log_probs,), params)
    if reduction == "none":
        return losses
    if reduction == "sum":
        return _red.sum(losses)
    divisors = Tensor._make(xp.maximum(target_lengths_array, 1).astype(log_probs.dtype))
    return _red.mean(_ew.div(losses, divisors))


class CTCLoss(Module):
    """The CTC loss as a module (PyTorch's nn.CTCLoss)."""

    def __init__(self, blank: int = 0, reduction: str = "mean", zero_infinity: bool = False):
        super().__init__()
        self.blank, self.reduction, self.zero_infinity = blank, reduction, zero_infinity

    def forward(self, log_probs: Tensor, targets: Tensor, input_lengths, target_lengths) -> Tensor:
        return ctc_loss(log_probs, targets, input_lengths, target_lengths, self.blank,
                        self.reduction, self.zero_infinity)  # fmt: skip

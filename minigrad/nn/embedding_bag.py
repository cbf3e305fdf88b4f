"""Bags of embeddings: `F.embedding_bag` as one fused op and the module `EmbeddingBag`, with
PyTorch's arguments (mode sum/mean/max, offsets or fixed-length 2-D bags, include_last_offset,
per_sample_weights, padding_idx, max_norm, scale_grad_by_freq).

Sum and mean are one weighted sum per bag b over its entries i (each a row idx_i of W):

    out[b] = sum_{i in b} w_i W[idx_i]

with w_i the per-sample weights (sum), 1/|b| (mean, |b| counting entries that are not
padding_idx), 0 for padding entries. Its gradients accumulate like index_add:

    dW[r]  = sum_{i: idx_i = r} w_i g[bag(i)]        (a scatter-add of the entries' rows)
    dw_i   = g[bag(i)] . W[idx_i]

Max takes each dim's first maximum over the bag's (non-padding) entries and sends the gradient
to the row that held it; an empty bag gives zeros, as in PyTorch. Gradients are dense (minigrad
has no sparse layout): `sparse=True` gives the same values as a dense tensor.
"""

from __future__ import annotations

import numpy as np

from minigrad import creation
from minigrad.autograd import apply, defop, no_grad
from minigrad.nn import init
from minigrad.nn.module import Module, Parameter
from minigrad.tensor import Tensor

__all__ = ["embedding_bag", "EmbeddingBag"]


def _bag_forward(xp, weight, sample_weights, *, indices, bag_of, bags, mode, grid, row_scale):
    if mode == "max":
        return _bag_max(xp, weight, indices, grid)
    rows = weight[indices] * sample_weights[:, None]  # [M, D], one per entry
    return xp.unindex(rows, (bags, weight.shape[1]), (bag_of,)), None


def _bag_max(xp, weight, indices, grid):
    """Each bag's per-dim maximum over its entries, and (as a residual) the entry holding it
    (-1 for an empty bag). `grid` [B, L] lists each bag's entries, -1 past its end and for
    padding entries."""
    bags, dim = grid.shape[0], weight.shape[1]
    if grid.shape[1] == 0:  # no bag has an entry
        return xp.zeros_like(weight, shape=(bags, dim)), xp.full_like(grid, -1, shape=(bags, dim))
    valid = grid >= 0
    rows = xp.where(valid[..., None], weight[indices[xp.maximum(grid, 0)]], -np.inf)
    best = xp.argmax(rows, axis=1)  # [B, D]: the first maximum, as PyTorch
    out = xp.take_along_axis(rows, best[:, None, :], axis=1)[:, 0]
    entry = xp.take_along_axis(grid, best, axis=1)
    return xp.where(entry >= 0, out, 0).astype(weight.dtype), entry


def _bag_grad_weight(xp, g, weight_shape, sample_weights, indices, bag_of, mode, argmax,
                     row_scale):  # fmt: skip
    if mode == "max":  # g[b, d] to the row of the entry that held bag b's maximum in dim d
        held = argmax >= 0
        rows = indices[xp.maximum(argmax, 0)]
        dims = xp.broadcast_to(xp.arange(weight_shape[1]), rows.shape)
        return xp.unindex(xp.where(held, g, 0.0), weight_shape, (rows, dims))
    grad = xp.unindex(g[bag_of] * sample_weights[:, None], weight_shape, (indices,))
    return grad if row_scale is None else grad * row_scale[:, None]


# fmt: off
EMBEDDING_BAG = defop(
    "embedding_bag", _bag_forward, residuals=("argmax",), double_backward=False,
    weight=_bag_grad_weight,                                 # Σ_{idx_i = r} w_i g[bag(i)]
    sample_weights=lambda xp, g, weight, indices, bag_of:    # g[bag(i)] · W[idx_i]
        (g[bag_of] * weight[indices]).sum(-1),
)
# fmt: on


def _check_padding_idx(padding_idx, n: int) -> int | None:
    if padding_idx is None:
        return None
    if not -n <= padding_idx < n:
        raise RuntimeError(
            f"padding_idx must be within the number of embeddings, {-n} through {n - 1}, but "
            f"got {padding_idx}"
        )
    return padding_idx % n


def _renorm_(weight: Tensor, indices, max_norm: float, norm_type: float) -> None:
    """PyTorch's embedding_renorm_: the rows `indices` names, scaled in place to norm max_norm
    where larger (no gradient flows through the rescale)."""
    xp = weight._backend_xp()
    rows = xp.unique(indices)
    picked = weight._data[rows]
    norms = xp.sum(xp.abs(picked) ** norm_type, axis=1) ** (1.0 / norm_type)
    scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0).astype(picked.dtype)
    with no_grad():
        weight[Tensor._make(rows)] = Tensor._make(picked * scale[:, None])


def embedding_bag(
    input: Tensor,
    weight: Tensor,
    offsets: Tensor | None = None,
    max_norm: float | None = None,
    norm_type: float = 2,
    scale_grad_by_freq: bool = False,
    mode: str = "mean",
    sparse: bool = False,
    per_sample_weights: Tensor | None = None,
    include_last_offset: bool = False,
    padding_idx: int | None = None,
) -> Tensor:
    """Sums, means or maxima of bags of rows of `weight` [num_embeddings, dim]: `input` is 1-D
    with `offsets` (each bag's start; with include_last_offset also the end of the last) or 2-D
    [B, L] (B bags of L entries). Output [B, dim] in weight's dtype."""
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError("embedding_bag(): input and weight must be Tensors")
    if input.dtype.kind not in "iu":
        raise RuntimeError(
            f"Expected tensor for argument #1 'indices' to have one of the following scalar "
            f"types: Long, Int; but got {input.dtype} instead (while checking arguments for "
            f"embedding_bag)"
        )
    if weight.ndim != 2 or weight.dtype.kind != "f":
        raise RuntimeError(
            f"embedding_bag(): weight must be a 2-D floating tensor, got {list(weight.shape)} "
            f"{weight.dtype}"
        )
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if scale_grad_by_freq and mode == "max":
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if per_sample_weights is not None:
        if mode != "sum":
            raise NotImplementedError(
                f"embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                f"supported for mode='sum' (got mode={mode!r})"
            )
        if tuple(per_sample_weights.shape) != tuple(input.shape):
            raise ValueError(
                f"embedding_bag: If per_sample_weights ({list(per_sample_weights.shape)}) is not "
                f"None, then it must have the same shape as the input ({list(input.shape)})"
            )
        if per_sample_weights.dtype != weight.dtype:
            raise RuntimeError(
                f"embedding_bag(): per_sample_weights ({per_sample_weights.dtype}) must have the "
                f"dtype of weight ({weight.dtype})"
            )
    n, _ = weight.shape
    padding_idx = _check_padding_idx(padding_idx, n)
    xp = weight._backend_xp()
    idx = xp.asarray(input._data).astype(np.int64)
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError(
                "if input is 2D, then offsets has to be None, as input is treated is a mini-batch "
                f"of fixed length sequences. However, found offsets of type {type(offsets)}"
            )
        bags, length = input.shape
        starts = list(range(0, bags * length, length)) + [bags * length]
        idx = xp.reshape(idx, (-1,))
    elif input.ndim == 1:
        if not isinstance(offsets, Tensor) or offsets.ndim != 1:
            raise ValueError(
                "offsets has to be a 1D Tensor"
                + (" but got None" if offsets is None else f", got {list(offsets.shape)}")
            )
        if offsets.dtype.kind not in "iu":
            raise RuntimeError(f"embedding_bag(): offsets must be integers, got {offsets.dtype}")
        starts = [int(v) for v in np.ravel(offsets.detach()._host()).tolist()]
        if starts and starts[0] != 0:
            raise RuntimeError(
                f"offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start "
                f"from position 0. However, got {starts[0]}"
            )
        if starts and starts[-1] > idx.shape[0]:
            raise RuntimeError(
                f"offsets[-1] can not be greater than input's length {idx.shape[0]} but got "
                f"offsets[-1] of {starts[-1]}"
            )
        if any(b < a for a, b in zip(starts, starts[1:])):
            raise RuntimeError(f"embedding_bag(): offsets must be non-decreasing, got {starts}")
        # with include_last_offset the last offset closes the last bag (CSR): entries after
        # it belong to no bag (PyTorch's float32 kernel; its float64 one runs the last bag to
        # the input's end instead)
        if not include_last_offset:
            starts = starts + [idx.shape[0]]
        elif not starts:
            starts = [0]
    else:
        raise ValueError(
            f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.ndim}"
        )
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= n):
        bad = int(idx.max()) if int(idx.max()) >= n else int(idx.min())
        raise RuntimeError(f"embedding_bag(): an index takes value {bad}, which is not in the "
                           f"valid range [0, {n})")  # fmt: skip
    bags = len(starts) - 1
    used = starts[-1]  # entries past the last offset (include_last_offset) belong to no bag
    idx = idx[:used]
    sizes = np.diff(np.asarray(starts, dtype=np.int64))
    bag_of = xp.asarray(np.repeat(np.arange(bags, dtype=np.int64), sizes))
    keep = idx != padding_idx if padding_idx is not None else xp.ones(idx.shape, dtype=bool)
    if max_norm is not None:
        _renorm_(weight, idx, float(max_norm), float(norm_type))
    if mode == "sum" and per_sample_weights is not None:
        sample_weights = per_sample_weights.reshape(-1)[:used]
        if padding_idx is not None:  # padding entries add nothing (and get no gradient)
            mask = Tensor._make(keep.astype(weight.dtype))
            sample_weights = sample_weights * mask
    else:
        counts = xp.zeros(bags, dtype=weight.dtype)
        if mode == "mean" and idx.shape[0]:
            counts = xp.unindex(keep.astype(weight.dtype), (bags,), (bag_of,))
        share = 1.0 / xp.maximum(counts, 1)[bag_of] if mode == "mean" else 1.0
        sample_weights = Tensor._make((keep * share).astype(weight.dtype))
    grid = None
    if mode == "max":  # each bag's entries, -1 past its end and for padding entries
        longest = int(sizes.max()) if bags else 0
        positions = np.asarray(starts[:-1], dtype=np.int64)[:, None] + np.arange(longest)
        inside = np.arange(longest) < sizes[:, None]
        grid = xp.where(xp.asarray(inside), xp.asarray(positions), -1)
        if padding_idx is not None and idx.shape[0]:
            grid = xp.where((grid >= 0) & keep[xp.maximum(grid, 0)], grid, -1)
    row_scale = None
    if scale_grad_by_freq and idx.shape[0]:
        frequency = xp.bincount(idx, minlength=n)
        row_scale = (1.0 / xp.maximum(frequency, 1)).astype(weight.dtype)
    params = {"indices": idx, "bag_of": bag_of, "bags": bags, "mode": "max" if mode == "max"
              else "sum", "grid": grid, "row_scale": row_scale}  # fmt: skip
    return apply(EMBEDDING_BAG, (weight, sample_weights), params)


class EmbeddingBag(Module):
    """Bags of embeddings (PyTorch's nn.EmbeddingBag): a table [num_embeddings, embedding_dim]
    initialised N(0, 1), the padding_idx row zero."""

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        mode: str = "mean",
        sparse: bool = False,
        _weight: Tensor | None = None,
        include_last_offset: bool = False,
        padding_idx: int | None = None,
        device=None,
        dtype=None,
    ):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.max_norm, self.norm_type = max_norm, norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise AssertionError("padding_idx must be within num_embeddings")
            padding_idx = padding_idx % num_embeddings
        self.padding_idx = padding_idx
        if _weight is None:
            shape = (num_embeddings, embedding_dim)
            self.weight = Parameter(creation.empty(*shape, dtype=dtype, device=device))
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise AssertionError(
                    "Shape of weight does not match num_embeddings and embedding_dim"
                )
            self.weight = Parameter(_weight.detach())
        self.mode, self.sparse, self.include_last_offset = mode, sparse, include_last_offset

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx].fill_(0)

    def forward(
        self, input: Tensor, offsets: Tensor | None = None, per_sample_weights: Tensor | None = None
    ) -> Tensor:
        return embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                             self.scale_grad_by_freq, self.mode, self.sparse, per_sample_weights,
                             self.include_last_offset, self.padding_idx)  # fmt: skip

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm!r}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type!r}"
        if self.scale_grad_by_freq is not False:
            text += f", scale_grad_by_freq={self.scale_grad_by_freq!r}"
        text += f", mode={self.mode!r}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx!r}"
        return text

    @classmethod
    def from_pretrained(
        cls,
        embeddings: Tensor,
        freeze: bool = True,
        max_norm: float | None = None,
        norm_type: float = 2.0,
        scale_grad_by_freq: bool = False,
        mode: str = "mean",
        sparse: bool = False,
        include_last_offset: bool = False,
        padding_idx: int | None = None,
    ) -> EmbeddingBag:
        if embeddings.ndim != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        bag = cls(rows, cols, max_norm, norm_type, scale_grad_by_freq, mode, sparse, embeddings,
                  include_last_offset, padding_idx)  # fmt: skip
        bag.weight.requires_grad = not freeze
        return bag

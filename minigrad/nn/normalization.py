"""Group, instance and local response normalisation: `F.group_norm`, `F.instance_norm`,
`F.local_response_norm` and the modules `GroupNorm`, `InstanceNorm1d/2d/3d`,
`LocalResponseNorm`.

Group norm normalises each sample's channels in groups. For float32/float64 it is one fused op
over the view [N, G, C/G, S] (S the positions) with one backward, the statistics per (n, g) over
C/G * S elements, xhat = (x - mean) rstd, y = xhat w_c + b_c:

    db_c = sum_{n,s} g          dw_c = sum_{n,s} g xhat
    dx   = rstd (w_c g - mean_g(w g) - xhat mean_g(w g xhat))

written, as PyTorch's kernel, from the per-channel sums sum_s g and sum_s g x, so dx is
A g + B x + C with per-(n, c) and per-(n, g) coefficients: a few passes over the data.
`_group_norm_composite` (layer norm over [N, G, C/G * S], then the affine map) is the plain
version beside it (other float dtypes), pinned equal by the tests. Instance norm is group norm
with one channel per group, plus optional running statistics as in batch norm.
"""

from __future__ import annotations

import numpy as np

from minigrad import creation
from minigrad.autograd import apply, defop, no_grad
from minigrad.nn.functional import layer_norm
from minigrad.nn.module import Module, Parameter
from minigrad.ops import elementwise as _ew
from minigrad.ops import shape as _shape
from minigrad.tensor import Tensor

__all__ = [
    "group_norm", "instance_norm", "local_response_norm", "GroupNorm", "InstanceNorm1d",
    "InstanceNorm2d", "InstanceNorm3d", "LocalResponseNorm",
]  # fmt: skip


def _per_channel(t: Tensor, ndim: int) -> Tensor:
    return _shape.reshape(t, (1, t.shape[0]) + (1,) * (ndim - 2))


def _check_channels(name: str, input: Tensor, what: str, t: Tensor | None) -> None:
    c = input.shape[1]
    if t is not None and (t.ndim != 1 or t.shape[0] != c):
        raise RuntimeError(
            f"{name}: expected {what} of shape [{c}] (one per channel of input "
            f"{list(input.shape)}), but got {list(t.shape)}"
        )


def _grouped(xp, a, groups):
    """[N, C, *S] as [N, G, C/G, prod(S)] (a view)."""
    return xp.reshape(a, (a.shape[0], groups, a.shape[1] // groups, -1))


def _dot_last(xp, a, b):
    """sum over the last axis of a * b, as one batched GEMV (no [.., S] temporary)."""
    return xp.matmul(a[..., None, :], b[..., :, None])[..., 0, 0]


def _gn_stats(xp, x4, eps):
    """mean and rstd [N, G] of x [N, G, C/G, S], and x - mean."""
    count = x4.shape[2] * x4.shape[3]
    mean = xp.sum(x4, axis=(2, 3)) / count
    centred = x4 - mean[..., None, None]  # two passes for the variance, as stable as torch's
    var = xp.sum(_dot_last(xp, centred, centred), axis=2) / count
    return mean, 1 / xp.sqrt(var + eps), centred


def _gn_forward(xp, x, weight, bias, *, groups, eps):
    x4 = _grouped(xp, x, groups)
    mean, rstd, centred = _gn_stats(xp, x4, eps)
    scale = rstd[..., None] * xp.reshape(weight, x4.shape[1:3])  # [N, G, C/G]
    centred *= scale[..., None]  # the output, in the buffer of the centred input
    centred += xp.reshape(bias, x4.shape[1:3])[..., None]
    return xp.reshape(centred, x.shape), mean, rstd


def _gn_backward(xp, g, x, weight, mean, rstd, groups, eps, needs_input_grad):
    g4, x4 = _grouped(xp, g, groups), _grouped(xp, x, groups)
    count = x4.shape[2] * x4.shape[3]
    if isinstance(x, Tensor):  # create_graph: the statistics are functions of x, not constants
        mean, rstd, _ = _gn_stats(xp, x4, eps)
    w = xp.reshape(weight, x4.shape[1:3])
    sum_g = xp.sum(g4, axis=3)  # [N, G, C/G]: sum_s g
    sum_g_xhat = rstd[..., None] * (_dot_last(xp, g4, x4) - mean[..., None] * sum_g)
    dx = dw = db = None
    if needs_input_grad[0]:
        mean_wg = xp.sum(w * sum_g, axis=2) / count  # [N, G]
        mean_wg_xhat = xp.sum(w * sum_g_xhat, axis=2) / count
        a = rstd[..., None] * w  # dx = a g + b x + c
        b = -rstd * rstd * mean_wg_xhat
        c = -rstd * mean_wg - b * mean
        dx = xp.reshape(g4 * a[..., None] + (x4 * b[..., None, None] + c[..., None, None]),
                        x.shape)  # fmt: skip
    if needs_input_grad[1]:
        dw = xp.reshape(xp.sum(sum_g_xhat, axis=0), weight.shape)
    if needs_input_grad[2]:
        db = xp.reshape(xp.sum(sum_g, axis=0), weight.shape)
    return dx, dw, db


# fmt: off
GROUP_NORM = defop(
    "group_norm", _gn_forward, residuals=("mean", "rstd"),
    backward=lambda xp, g, x, weight, mean, rstd, groups, eps, needs_input_grad:
        _gn_backward(xp, g, x, weight, mean, rstd, groups, eps, needs_input_grad),
    formula={
        "x": "rstd (w g - mean_g(w g) - xhat mean_g(w g xhat))",
        "weight": "sum_{n,s} g xhat",
        "bias": "sum_{n,s} g",
    },
)
# fmt: on


def group_norm(
    input: Tensor,
    num_groups: int,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise [N, C, *] over each group of C/num_groups channels (and all positions)."""
    if input.ndim < 2:
        raise RuntimeError(
            f"Expected at least 2 dimensions for input tensor but received {input.ndim}"
        )
    n, c = input.shape[:2]
    # torch's _verify_batch_size over [N C // G, G, *] comes first: one value per group of the
    # reshaped batch is an error
    if num_groups > 0:
        size_prods = n * c // num_groups * int(np.prod(input.shape[2:], dtype=np.int64))
        if size_prods == 1:
            raise ValueError(
                f"Expected more than 1 value per channel when training, got input size "
                f"{[n * c // num_groups, num_groups] + list(input.shape[2:])}"
            )
    if num_groups <= 0 or c % num_groups:
        raise RuntimeError(
            f"Expected number of channels in input to be divisible by num_groups, but got input "
            f"of shape {list(input.shape)} and num_groups={num_groups}"
        )
    _check_channels("group_norm", input, "weight", weight)
    _check_channels("group_norm", input, "bias", bias)
    fused = input.dtype in (np.float32, np.float64) and all(
        t is None or t.dtype == input.dtype for t in (weight, bias)
    )
    if not fused or input.numel() == 0:
        return _group_norm_composite(input, num_groups, weight, bias, eps)
    xp = input._backend_xp()
    if weight is None:  # constants: no gradient asked of them
        weight = Tensor._make(xp.ones_like(input._data, shape=(c,)))
    if bias is None:
        bias = Tensor._make(xp.zeros_like(input._data, shape=(c,)))
    return apply(GROUP_NORM, (input, weight, bias), {"groups": num_groups, "eps": float(eps)})


def _group_norm_composite(input, num_groups, weight, bias, eps) -> Tensor:
    """group_norm from ops: layer norm over [N, G, C/G * S], then the per-channel affine map."""
    n = input.shape[0]
    grouped = _shape.reshape(input, (n, num_groups, -1))
    out = _shape.reshape(layer_norm(grouped, (grouped.shape[-1],), eps=eps), input.shape)
    if weight is not None:
        out = _ew.mul(out, _per_channel(weight, input.ndim))
    if bias is not None:
        out = _ew.add(out, _per_channel(bias, input.ndim))
    return out


def instance_norm(
    input: Tensor,
    running_mean: Tensor | None = None,
    running_var: Tensor | None = None,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    use_input_stats: bool = True,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise each sample's channels separately over their positions; with running stats,
    they move towards each batch's mean (over samples) in place, or normalise instead when
    `use_input_stats=False`."""
    if input.ndim < 3:
        raise ValueError(
            f"instance_norm(): expected an input [N, C, *] with at least one spatial dim, got "
            f"{list(input.shape)}"
        )
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):  # fmt: skip
        _check_channels("instance_norm", input, name, t)
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError("Expected running_mean and running_var to be defined when "
                             "use_input_stats is false")  # fmt: skip
        shape = (1, input.shape[1]) + (1,) * (input.ndim - 2)
        out = (input - running_mean.reshape(shape)) / (running_var.reshape(shape) + eps).sqrt()
    else:
        count = input[0, 0].numel()
        if count <= 1:
            raise ValueError(
                f"Expected more than 1 spatial element when training, got input size "
                f"{list(input.shape)}"
            )
        if running_mean is not None and running_var is not None:
            with no_grad():
                axes = tuple(range(2, input.ndim))
                mean = input.mean(axes)
                var = input.var(axes, correction=1)
                running_mean.mul_(1 - momentum).add_(mean.mean(0) * momentum)
                running_var.mul_(1 - momentum).add_(var.mean(0) * momentum)
        out = group_norm(input, input.shape[1], None, None, eps)
    if weight is not None:
        out = _ew.mul(out, _per_channel(weight, input.ndim))
    if bias is not None:
        out = _ew.add(out, _per_channel(bias, input.ndim))
    return out


def local_response_norm(
    input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0
) -> Tensor:
    """b_c = a_c / (k + alpha/size * sum of a^2 over the `size` channels around c)^beta."""
    if input.ndim < 3:
        raise ValueError(
            f"Expected 3D or higher dimensionality input (got {input.ndim} dimensions)"
        )
    if input.numel() == 0:
        return input
    c = input.shape[1]
    squares = _ew.mul(input, input)
    widths = [0, 0] * (input.ndim - 2) + [size // 2, (size - 1) // 2]
    padded = _shape.pad(squares, widths)  # zero channels on both sides of dim 1
    window = None
    for offset in range(size):
        part = padded[:, offset : offset + c]
        window = part if window is None else _ew.add(window, part)
    scale = _ew.add(_ew.mul(window, alpha / size), k)
    return _ew.div(input, _ew.pow(scale, beta))


def _affine(affine: bool, bias: bool, n: int, dtype, device):
    """The learnt scale (ones) and shift (zeros) of an affine norm layer, or None."""
    if not affine:
        return None, None
    weight = Parameter(creation.ones(n, dtype=dtype, device=device))
    return weight, Parameter(creation.zeros(n, dtype=dtype, device=device)) if bias else None


class GroupNorm(Module):
    def __init__(
        self,
        num_groups: int,
        num_channels: int,
        eps: float = 1e-5,
        affine: bool = True,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ):
        super().__init__()
        if num_channels % num_groups:
            raise ValueError("num_channels must be divisible by num_groups")
        self.num_groups, self.num_channels, self.eps, self.affine = (
            num_groups, num_channels, eps, affine,
        )  # fmt: skip
        self.weight, self.bias = _affine(affine, bias, num_channels, dtype, device)

    def reset_parameters(self) -> None:
        with no_grad():
            if self.weight is not None:
                self.weight.fill_(1.0)
            if self.bias is not None:
                self.bias.zero_()

    def forward(self, input: Tensor) -> Tensor:
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
            f"bias={self.bias is not None}"
        )


class _InstanceNorm(Module):
    _dims = 2

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = False,
        track_running_stats: bool = False,
        device=None,
        dtype=None,
        *,
        bias: bool = True,
    ):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        kw = {"dtype": dtype, "device": device}
        self.weight, self.bias = _affine(affine, bias, num_features, dtype, device)
        # num_batches_tracked exists (state_dict keys as torch) but, as in torch, never moves
        if track_running_stats:
            self.register_buffer("running_mean", creation.zeros(num_features, **kw))
            self.register_buffer("running_var", creation.ones(num_features, **kw))
            self.register_buffer("num_batches_tracked", creation.tensor(0, device=device))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def forward(self, input: Tensor) -> Tensor:
        if input.ndim not in (self._dims + 1, self._dims + 2):
            raise ValueError(
                f"expected {self._dims + 1}D or {self._dims + 2}D input (got {input.ndim}D input)"
            )
        unbatched = input.ndim == self._dims + 1
        if unbatched:
            input = input.unsqueeze(0)
        momentum = 0.0 if self.momentum is None else self.momentum  # torch's: no cumulative
        out = instance_norm(
            input,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            self.training or not self.track_running_stats,
            momentum,
            self.eps,
        )
        return out.squeeze(0) if unbatched else out

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class InstanceNorm1d(_InstanceNorm):
    _dims = 1


class InstanceNorm2d(_InstanceNorm):
    _dims = 2


class InstanceNorm3d(_InstanceNorm):
    _dims = 3


class LocalResponseNorm(Module):
    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input: Tensor) -> Tensor:
        return local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"

"""Transposed convolutions ("deconvolutions"): `conv_transpose2d`/`conv_transpose3d` as fused ops
and `conv_transpose1d` on the 2-D one, and the modules `ConvTranspose1d`/`2d`/`3d`.

A transposed convolution is the backward of a convolution with respect to its input: each
input pixel scatters its value, weighted by the kernel, into a window of the output. So its
forward is conv2d's input gradient (col2im(W^T x)), and its own gradients are convolutions:

    d/dx  = conv2d(g, W)                 (the transpose of a transpose)
    d/dW  = x im2col(g)^T                (conv2d's weight gradient, with x and g swapped)

Both gradients read the columns im2col(g): one backward rule computes them once.
Weight layout is PyTorch's: [C_in, C_out/groups, *K].
"""

from __future__ import annotations

from minigrad import creation
from minigrad.autograd import apply, defop
from minigrad.nn import init
from minigrad.nn.conv import (
    _add_bias,
    _check_batched,
    _conv_grad_x,
    _conv_of_columns,
    _im2col,
    _per_dim,
    _single,
    _weight_grad_of_columns,
)
from minigrad.nn.module import Module, Parameter
from minigrad.tensor import Tensor

__all__ = [
    "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "ConvTranspose1d",
    "ConvTranspose2d", "ConvTranspose3d",
]  # fmt: skip


def _forward(xp, x, weight, *, out_size, stride, padding, dilation, groups):
    n = x.shape[0]
    shape = (n, weight.shape[1] * groups, *out_size)
    return xp.ascontiguousarray(
        _conv_grad_x(xp, x, weight, shape, stride, padding, dilation, groups)
    )


def _backward(xp, g, x, weight, stride, padding, dilation, groups, needs_input_grad):
    # both gradients read the columns of g: im2col once
    cols, out_size = _im2col(xp, g, weight.shape[2:], stride, padding, dilation, groups)
    dx = dw = None
    if needs_input_grad[0]:
        dx = _conv_of_columns(xp, cols, out_size, weight, g.shape[0], groups)
    if needs_input_grad[1]:
        dw = _weight_grad_of_columns(xp, x, cols, weight.shape, groups)
    return dx, dw


_FORMULAS = {"x": "conv(g, W): W im2col(g)", "weight": "x im2col(g)^T"}
# fmt: off
CONV_TRANSPOSE2D = defop("conv_transpose2d", _forward, double_backward=False,
                         backward=_backward, formula=_FORMULAS)
CONV_TRANSPOSE3D = defop("conv_transpose3d", _forward, double_backward=False,
                         backward=_backward, formula=_FORMULAS)
# fmt: on


def _conv_transposend(name, k, op, input, weight, bias, stride, padding, output_padding, groups,
                      dilation) -> Tensor:  # fmt: skip
    """conv_transpose{k}d: checks, the unbatched form, the fused op, the bias."""
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{name}(): input and weight must be Tensors")
    if input.ndim == k + 1 and weight.ndim == k + 2:
        out = _conv_transposend(name, k, op, input.unsqueeze(0), weight, bias, stride, padding,
                                output_padding, groups, dilation)  # fmt: skip
        return out[0]
    _check_batched(name, k, input, weight)
    stride, dilation = _per_dim("stride", stride, 1, k), _per_dim("dilation", dilation, 1, k)
    padding = _per_dim("padding", padding, 0, k)
    output_padding = _per_dim("output_padding", output_padding, 0, k)
    if not isinstance(groups, int) or groups < 1:
        raise RuntimeError(f"{name}(): non-positive groups is not supported, got {groups!r}")
    c_in, cg, *kernel = weight.shape
    if input.shape[1] != c_in or c_in % groups:
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(weight.shape)}, expected input"
            f"{list(input.shape)} to have {c_in} channels, but got {input.shape[1]} channels "
            f"instead"
        )
    for op_, s, d in zip(output_padding, stride, dilation):
        if op_ >= s and op_ >= d:
            raise RuntimeError(
                f"output padding must be smaller than either stride or dilation, but got "
                f"output_padding={output_padding}, stride={stride}, dilation={dilation}"
            )
    out_size = tuple(
        (size - 1) * s - 2 * p + d * (kk - 1) + op_ + 1
        for size, s, p, d, kk, op_ in zip(
            input.shape[2:], stride, padding, dilation, kernel, output_padding
        )
    )
    if any(n <= 0 for n in out_size):
        raise RuntimeError(
            f"{name}(): the output size {out_size} is too small (input {list(input.shape)}, "
            f"kernel {tuple(kernel)}, stride {stride}, padding {padding})"
        )
    params = dict(out_size=out_size, stride=stride, padding=padding, dilation=dilation,
                  groups=groups)  # fmt: skip
    return _add_bias(name, apply(op, (input, weight), params), bias)


def conv_transpose2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    output_padding=0,
    groups: int = 1,
    dilation=1,
) -> Tensor:
    """The transpose of conv2d: input [N, C_in, H, W] (or [C_in, H, W]), weight
    [C_in, C_out/groups, KH, KW]; output size (H - 1) s - 2 p + d (KH - 1) + output_padding + 1."""
    return _conv_transposend("conv_transpose2d", 2, CONV_TRANSPOSE2D, input, weight, bias,
                             stride, padding, output_padding, groups, dilation)  # fmt: skip


def conv_transpose3d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    output_padding=0,
    groups: int = 1,
    dilation=1,
) -> Tensor:
    """The transpose of conv3d: input [N, C_in, D, H, W] (or [C_in, D, H, W]), weight
    [C_in, C_out/groups, KD, KH, KW]; each output size as conv_transpose2d's."""
    return _conv_transposend("conv_transpose3d", 3, CONV_TRANSPOSE3D, input, weight, bias,
                             stride, padding, output_padding, groups, dilation)  # fmt: skip


def conv_transpose1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride=1,
    padding=0,
    output_padding=0,
    groups: int = 1,
    dilation=1,
) -> Tensor:
    """The transpose of conv1d: input [N, C_in, L] (or [C_in, L]), weight [C_in, C_out/g, K],
    as a conv_transpose2d over a height of 1."""
    if input.ndim not in (2, 3) or weight.ndim != 3:
        raise RuntimeError(
            f"conv_transpose1d(): expected a 2-D or 3-D input [N, C, L] and a 3-D weight, got "
            f"input {list(input.shape)} and weight {list(weight.shape)}"
        )
    out = conv_transpose2d(
        input.unsqueeze(-2),
        weight.unsqueeze(-2),
        bias,
        (1, _single("stride", stride)),
        (0, _single("padding", padding)),
        (0, _single("output_padding", output_padding)),
        groups,
        (1, _single("dilation", dilation)),
    )
    return out.squeeze(-2)


class _ConvTransposeNd(Module):
    _dims = 2

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        output_padding=0,
        groups: int = 1,
        bias: bool = True,
        dilation=1,
        padding_mode: str = "zeros",
        device=None,
        dtype=None,
    ):
        super().__init__()
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"in_channels ({in_channels}) and out_channels ({out_channels}) must be "
                f"divisible by groups ({groups})"
            )
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        per_dim = self._per_dim
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride = per_dim(kernel_size), per_dim(stride)
        self.padding, self.output_padding = per_dim(padding), per_dim(output_padding)
        self.dilation, self.groups, self.padding_mode = per_dim(dilation), groups, padding_mode
        shape = (in_channels, out_channels // groups, *self.kernel_size)
        self.weight = Parameter(creation.empty(*shape, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(creation.empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def _per_dim(self, value) -> tuple:
        return (value,) * self._dims if isinstance(value, int) else tuple(value)

    def reset_parameters(self) -> None:
        init.default_layer_init_(self.weight, self.bias)  # fan_in = C_out/groups * KH * KW

    def _output_padding(self, input: Tensor, output_size) -> tuple:
        """The output_padding that gives `output_size` (torch's forward(input, output_size))."""
        if output_size is None:
            return self.output_padding
        size = list(output_size)[-self._dims :]
        if len(size) != self._dims:
            raise ValueError(
                f"output_size must have {self._dims} or {self._dims + 2} elements, got "
                f"{list(output_size)}"
            )
        padding = []
        for k in range(self._dims):
            smallest = (
                (input.shape[k - self._dims] - 1) * self.stride[k]
                - 2 * self.padding[k]
                + self.dilation[k] * (self.kernel_size[k] - 1)
                + 1
            )
            if not smallest <= size[k] < smallest + self.stride[k]:
                raise ValueError(
                    f"requested an output size of {size}, but valid sizes range from "
                    f"{smallest} to {smallest + self.stride[k] - 1} (for an input of "
                    f"{list(input.shape[-self._dims :])})"
                )
            padding.append(size[k] - smallest)
        return tuple(padding)

    def forward(self, input: Tensor, output_size=None) -> Tensor:
        output_padding = self._output_padding(input, output_size)
        if self._dims == 1:  # conv_transpose1d takes ints or 1-tuples
            return conv_transpose1d(input, self.weight, self.bias, self.stride, self.padding,
                                    output_padding, self.groups, self.dilation)  # fmt: skip
        return _conv_transposend(
            f"conv_transpose{self._dims}d", self._dims,
            CONV_TRANSPOSE2D if self._dims == 2 else CONV_TRANSPOSE3D, input, self.weight,
            self.bias, self.stride, self.padding, output_padding, self.groups, self.dilation,
        )  # fmt: skip

    def extra_repr(self) -> str:
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0,) * self._dims:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * self._dims:
            text += f", dilation={self.dilation}"
        if self.output_padding != (0,) * self._dims:
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution over [N, C, H, W] (PyTorch's nn.ConvTranspose2d)."""

    _dims = 2


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution over [N, C, L] (PyTorch's nn.ConvTranspose1d)."""

    _dims = 1


class ConvTranspose3d(_ConvTransposeNd):
    """3-D transposed convolution over [N, C, D, H, W] (PyTorch's nn.ConvTranspose3d)."""

    _dims = 3

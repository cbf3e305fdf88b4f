"""Transposed convolutions ("deconvolutions"): `conv_transpose2d` as one fused op and
`conv_transpose1d` on it, and the modules `ConvTranspose1d`/`ConvTranspose2d`.

A transposed convolution is the backward of a convolution with respect to its input: each
input pixel scatters its value, weighted by the kernel, into a window of the output. So its
forward is conv2d's input gradient (col2im(W^T x)), and its own gradients are convolutions:

    d/dx  = conv2d(g, W)                 (the transpose of a transpose)
    d/dW  = x im2col(g)^T                (conv2d's weight gradient, with x and g swapped)

Weight layout is PyTorch's: [C_in, C_out/groups, KH, KW].
"""

from __future__ import annotations

from minigrad import creation
from minigrad.autograd import apply, defop
from minigrad.nn import init
from minigrad.nn.conv import _conv_forward, _conv_grad_w, _conv_grad_x, _single, _tuple2
from minigrad.nn.module import Module, Parameter
from minigrad.tensor import Tensor

__all__ = ["conv_transpose1d", "conv_transpose2d", "ConvTranspose1d", "ConvTranspose2d"]


def _forward(xp, x, weight, *, out_hw, stride, padding, dilation, groups):
    n = x.shape[0]
    shape = (n, weight.shape[1] * groups, *out_hw)
    return xp.ascontiguousarray(
        _conv_grad_x(xp, x, weight, shape, stride, padding, dilation, groups)
    )


def _grad_x(xp, g, weight, stride, padding, dilation, groups):
    return _conv_forward(
        xp, g, weight, stride=stride, padding=padding, dilation=dilation, groups=groups
    )


def _grad_w(xp, g, x, weight_shape, stride, padding, dilation, groups):
    return _conv_grad_w(xp, x, g, weight_shape, stride, padding, dilation, groups)


# fmt: off
CONV_TRANSPOSE2D = defop("conv_transpose2d", _forward, double_backward=False,
                         x=_grad_x,                              # conv2d(g, W)
                         weight=_grad_w)                         # x im2col(g)^T
# fmt: on


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
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise TypeError("conv_transpose2d(): input and weight must be Tensors")
    if input.ndim == 3:
        out = conv_transpose2d(
            input.unsqueeze(0), weight, bias, stride, padding, output_padding, groups, dilation
        )
        return out[0]
    if input.ndim != 4 or weight.ndim != 4:
        raise RuntimeError(
            f"conv_transpose2d(): expected a 3-D or 4-D input [N, C, H, W] and a 4-D weight, "
            f"got input {list(input.shape)} and weight {list(weight.shape)}"
        )
    if input.dtype.kind != "f" or input.dtype != weight.dtype:
        raise RuntimeError(
            f"conv_transpose2d(): expected floating point input and weight of one dtype, got "
            f"{input.dtype} and {weight.dtype}"
        )
    stride, dilation = _tuple2("stride", stride, 1), _tuple2("dilation", dilation, 1)
    padding = _tuple2("padding", padding, 0)
    output_padding = _tuple2("output_padding", output_padding, 0)
    if not isinstance(groups, int) or groups < 1:
        raise ValueError(f"conv_transpose2d(): groups must be a positive int, got {groups!r}")
    c_in, cg, kh, kw = weight.shape
    if input.shape[1] != c_in or c_in % groups:
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(weight.shape)}, expected input"
            f"{list(input.shape)} to have {c_in} channels, but got {input.shape[1]} channels "
            f"instead"
        )
    for op, s, d in zip(output_padding, stride, dilation):
        if op >= s and op >= d:
            raise RuntimeError(
                f"output padding must be smaller than either stride or dilation, but got "
                f"output_padding={output_padding}, stride={stride}, dilation={dilation}"
            )
    out_hw = tuple(
        (size - 1) * s - 2 * p + d * (k - 1) + op + 1
        for size, s, p, d, k, op in zip(
            input.shape[2:], stride, padding, dilation, (kh, kw), output_padding
        )
    )
    if any(n <= 0 for n in out_hw):
        raise RuntimeError(
            f"conv_transpose2d(): the output size {out_hw} is too small (input "
            f"{list(input.shape)}, kernel {(kh, kw)}, stride {stride}, padding {padding})"
        )
    params = dict(out_hw=out_hw, stride=stride, padding=padding, dilation=dilation, groups=groups)
    out = apply(CONV_TRANSPOSE2D, (input, weight), params)
    if bias is not None:
        o = cg * groups
        if bias.shape != (o,) or bias.dtype != input.dtype:
            raise RuntimeError(
                f"conv_transpose2d(): bias must be of shape [{o}] and dtype {input.dtype}, got "
                f"{list(bias.shape)} and {bias.dtype}"
            )
        out = out + bias.reshape(1, o, 1, 1)
    return out


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
        fn = conv_transpose2d if self._dims == 2 else conv_transpose1d
        output_padding = self._output_padding(input, output_size)
        if self._dims == 1:
            output_padding = output_padding[0]
        return fn(
            input, self.weight, self.bias, self.stride if self._dims == 2 else self.stride[0],
            self.padding if self._dims == 2 else self.padding[0], output_padding, self.groups,
            self.dilation if self._dims == 2 else self.dilation[0],
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

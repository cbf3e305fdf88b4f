"""Sliding blocks and two-input layers: `F.unfold` (im2col: every kernel-sized block of an
image as a column) and `F.fold` (col2im: columns summed back into an image), each the other's
adjoint, so each one's backward is the other; `F.bilinear`; the modules `Unfold`, `Fold` and
`Bilinear`.

    unfold: [N, C, H, W] -> [N, C*KH*KW, L]        L = number of block positions
    fold:   [N, C*KH*KW, L] -> [N, C, H, W]        overlapping blocks add up
"""

from __future__ import annotations

import math

from minigrad import creation
from minigrad.autograd import apply, defop
from minigrad.nn import init
from minigrad.nn.conv import _im2col, _tuple2
from minigrad.nn.module import Module, Parameter
from minigrad.ops import linalg as _linalg
from minigrad.tensor import Tensor

__all__ = ["unfold", "fold", "bilinear", "Unfold", "Fold", "Bilinear"]


def _blocks(xp, x, *, kernel, dilation, padding, stride):
    cols, _ = _im2col(xp, x, kernel, stride, padding, dilation, 1)  # [1, C*K, N*L]
    n = x.shape[0]
    ck, nl = cols.shape[1:]
    return xp.ascontiguousarray(xp.transpose(xp.reshape(cols, (ck, n, nl // n)), (1, 0, 2)))


def _image(xp, x, *, output_size, kernel, dilation, padding, stride):
    n, ck, _ = x.shape
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = kernel, dilation, padding, stride
    c = ck // (kh * kw)
    h, w = output_size
    oh = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    ow = (w + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    blocks = xp.reshape(x, (n, c, kh, kw, oh, ow))
    out = xp.zeros_like(x, shape=(n, c, h + 2 * ph, w + 2 * pw))
    for i in range(kh):
        for j in range(kw):
            rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
            columns = slice(j * dw, j * dw + sw * (ow - 1) + 1, sw)
            out[:, :, rows, columns] += blocks[:, :, i, j]
    return xp.ascontiguousarray(out[:, :, ph : ph + h, pw : pw + w])


def _no_double_backward(g) -> None:
    if isinstance(g, Tensor):
        raise RuntimeError("unfold/fold: double backward (create_graph=True) is not supported")


def _unfold_grad(xp, g, x_shape, kernel, dilation, padding, stride):
    _no_double_backward(g)
    return _image(xp, g, output_size=x_shape[2:], kernel=kernel, dilation=dilation,
                  padding=padding, stride=stride)  # fmt: skip


def _fold_grad(xp, g, kernel, dilation, padding, stride):
    _no_double_backward(g)
    return _blocks(xp, g, kernel=kernel, dilation=dilation, padding=padding, stride=stride)


# fmt: off
UNFOLD = defop("unfold", _blocks, double_backward=False,
               x=_unfold_grad)                       # fold(g): blocks' gradients added back
FOLD = defop("fold", _image, double_backward=False,
             x=_fold_grad)                           # unfold(g): each block reads its gradient
# fmt: on


def _args(kernel_size, dilation, padding, stride) -> dict:
    return {
        "kernel": _tuple2("kernel_size", kernel_size, 1),
        "dilation": _tuple2("dilation", dilation, 1),
        "padding": _tuple2("padding", padding, 0),
        "stride": _tuple2("stride", stride, 1),
    }


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Every kernel-sized block of input [N, C, H, W] (or [C, H, W]) as a column."""
    if input.ndim == 3:
        return unfold(input.unsqueeze(0), kernel_size, dilation, padding, stride)[0]
    if input.ndim != 4:
        raise NotImplementedError(
            f"Input Error: Only 3D or 4D input Tensors are supported (got {input.ndim}D)"
        )
    params = _args(kernel_size, dilation, padding, stride)
    (kh, kw), (dh, dw), (ph, pw) = params["kernel"], params["dilation"], params["padding"]
    h, w = input.shape[2] + 2 * ph, input.shape[3] + 2 * pw
    if h < dh * (kh - 1) + 1 or w < dw * (kw - 1) + 1:
        raise RuntimeError(
            f"Given input with spatial size ({input.shape[2]}, {input.shape[3]}), "
            f"kernel_size={params['kernel']}, dilation={params['dilation']}, padding="
            f"{params['padding']}, calculated shape of the array of sliding blocks is "
            f"non-positive"
        )
    return apply(UNFOLD, (input,), params)


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Sum columns [N, C*KH*KW, L] (or [C*KH*KW, L]) back into an image [N, C, *output_size]."""
    if input.ndim == 2:
        return fold(input.unsqueeze(0), output_size, kernel_size, dilation, padding, stride)[0]
    if input.ndim != 3:
        raise NotImplementedError(
            f"Input Error: Only unbatched (2D) or batched (3D) input Tensors are supported "
            f"(got {input.ndim}D)"
        )
    params = _args(kernel_size, dilation, padding, stride)
    size = _tuple2("output_size", output_size, 1)
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = (
        params["kernel"], params["dilation"], params["padding"], params["stride"],
    )  # fmt: skip
    if input.shape[1] % (kh * kw):
        raise RuntimeError(
            f"Expected size of input's dimension 1 to be divisible by the product of "
            f"kernel_size, but got input.size(1)={input.shape[1]} and kernel_size={(kh, kw)}"
        )
    blocks = math.prod(
        (n + 2 * p - d * (k - 1) - 1) // s + 1
        for n, p, d, k, s in zip(size, (ph, pw), (dh, dw), (kh, kw), (sh, sw))
    )
    if input.shape[2] != blocks:
        raise RuntimeError(
            f"Given output_size={size}, kernel_size={(kh, kw)}, dilation={(dh, dw)}, padding="
            f"{(ph, pw)}, stride={(sh, sw)}, expected size of input's dimension 2 to match the "
            f"calculated number of sliding blocks {blocks}, but got input.size(2)="
            f"{input.shape[2]}."
        )
    return apply(FOLD, (input,), {"output_size": size, **params})


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None):
    """y_o = x1^T A_o x2 + b_o, weight A [out, in1, in2], over any leading dims."""
    if weight.ndim != 3:
        raise RuntimeError(f"bilinear(): weight must be 3-D [out, in1, in2], got "
                           f"{list(weight.shape)}")  # fmt: skip
    if input1.shape[-1] != weight.shape[1] or input2.shape[-1] != weight.shape[2]:
        raise RuntimeError(
            f"bilinear(): input1 {list(input1.shape)} and input2 {list(input2.shape)} do not "
            f"match weight {list(weight.shape)} (expected last dims {weight.shape[1]} and "
            f"{weight.shape[2]})"
        )
    if tuple(input1.shape[:-1]) != tuple(input2.shape[:-1]):
        raise RuntimeError(
            f"bilinear(): input1 and input2 must have the same leading dims, got "
            f"{list(input1.shape)} and {list(input2.shape)}"
        )
    out = _linalg.einsum("...i,oij,...j->...o", input1, weight, input2)
    return out if bias is None else out + bias


class Unfold(Module):
    def __init__(self, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.kernel_size, self.dilation = kernel_size, dilation
        self.padding, self.stride = padding, stride

    def forward(self, input: Tensor) -> Tensor:
        return unfold(input, self.kernel_size, self.dilation, self.padding, self.stride)

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, dilation={self.dilation}, padding={self.padding}, "
            f"stride={self.stride}"
        )


class Fold(Module):
    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1):
        super().__init__()
        self.output_size, self.kernel_size, self.dilation = output_size, kernel_size, dilation
        self.padding, self.stride = padding, stride

    def forward(self, input: Tensor) -> Tensor:
        return fold(input, self.output_size, self.kernel_size, self.dilation, self.padding,
                    self.stride)  # fmt: skip

    def extra_repr(self) -> str:
        return (
            f"output_size={self.output_size}, kernel_size={self.kernel_size}, "
            f"dilation={self.dilation}, padding={self.padding}, stride={self.stride}"
        )


class Bilinear(Module):
    """y = x1^T A x2 + b (PyTorch's nn.Bilinear: weight [out, in1, in2], U(+-1/sqrt(in1)))."""

    def __init__(self, in1_features: int, in2_features: int, out_features: int,
                 bias: bool = True, device=None, dtype=None):  # fmt: skip
        super().__init__()
        self.in1_features, self.in2_features = in1_features, in2_features
        self.out_features = out_features
        kw = {"dtype": dtype, "device": device}
        self.weight = Parameter(creation.empty(out_features, in1_features, in2_features, **kw))
        if bias:
            self.bias = Parameter(creation.empty(out_features, **kw))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
            f"out_features={self.out_features}, bias={self.bias is not None}"
        )

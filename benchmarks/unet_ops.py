"""Single U-Net layers, forward + backward, float32: the decoder's transposed convolutions,
group norm and 2x upsampling, each against PyTorch's CPU kernel.

Each workload runs one op on fixed inputs and back-propagates a fixed output gradient into
every input (`out.backward(g)`), so the figure is the op's own forward and backward. They are
named `unet_ops:<variant>` (see WORKLOADS below; `python benchmarks/run.py unet_ops` runs all).
"""

from __future__ import annotations

if __package__ in (None, ""):
    import common
else:
    from benchmarks import common


def _arrays(*shapes):
    import numpy as np

    rng = np.random.default_rng(0)
    return [rng.standard_normal(s).astype(np.float32) * 0.1 for s in shapes]


def _step(lib, op, arrays, upstream_shape):
    """One forward + backward of op(*inputs) in `lib` (minigrad or torch)."""
    inputs = [lib.tensor(a, requires_grad=True) for a in arrays]
    (upstream,) = _arrays(upstream_shape)
    g = lib.tensor(upstream)

    def step():
        for t in inputs:
            t.grad = None
        op(*inputs).backward(g)

    return step


def _functional(lib):
    if lib.__name__ == "torch":
        import torch.nn.functional as F
    else:
        import minigrad.nn.functional as F
    return F


# variant -> (description, input shapes, output shape, op(F, *inputs))
CASES = {
    "conv_transpose_k2": (
        "conv_transpose2d [8,128,32,32] -> 64 ch, k=2 s=2 (U-Net up), fwd+bwd",
        [(8, 128, 32, 32), (128, 64, 2, 2), (64,)],
        (8, 64, 64, 64),
        lambda F, x, w, b: F.conv_transpose2d(x, w, b, stride=2),
    ),
    "conv_transpose_k4": (
        "conv_transpose2d [8,128,32,32] -> 64 ch, k=4 s=2 p=1, fwd+bwd",
        [(8, 128, 32, 32), (128, 64, 4, 4), (64,)],
        (8, 64, 64, 64),
        lambda F, x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1),
    ),
    "group_norm": (
        "group_norm [16,64,64,64], 32 groups, affine, fwd+bwd",
        [(16, 64, 64, 64), (64,), (64,)],
        (16, 64, 64, 64),
        lambda F, x, w, b: F.group_norm(x, 32, w, b),
    ),
    "nearest_2x": (
        "interpolate nearest 2x of [16,64,64,64], fwd+bwd",
        [(16, 64, 64, 64)],
        (16, 64, 128, 128),
        lambda F, x: F.interpolate(x, scale_factor=2, mode="nearest"),
    ),
    "bilinear_2x": (
        "interpolate bilinear 2x of [16,64,64,64] (align_corners=False), fwd+bwd",
        [(16, 64, 64, 64)],
        (16, 64, 128, 128),
        lambda F, x: F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False),
    ),
}


def _workload(variant: str) -> common.Workload:
    description, shapes, out_shape, op = CASES[variant]

    def build(lib_name):
        def builder():
            import importlib

            lib = importlib.import_module(lib_name)
            F = _functional(lib)
            return _step(lib, lambda *t: op(F, *t), _arrays(*shapes), out_shape)

        return builder

    return common.Workload(
        name=f"unet_ops:{variant}",
        description=description,
        unit="ms/step",
        unit_scale=1e3,
        build_minigrad=build("minigrad"),
        build_torch=build("torch"),
        warmup=2,
        block=3,
        blocks=4,
        target=1.5,
    )


WORKLOADS = {variant: _workload(variant) for variant in CASES}

if __name__ == "__main__":
    import sys

    common.main(WORKLOADS[sys.argv.pop(1) if len(sys.argv) > 1 else "conv_transpose_k2"])

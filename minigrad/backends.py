"""`mg.backends`: PyTorch's `torch.backends` switches, so programs that set them run unchanged.

minigrad has no cuDNN, TF32 or MPS paths to switch: every flag here is a plain settable
attribute that changes nothing (matmuls run in the tensor's own dtype, convolutions always the
same way, so runs are deterministic on the CPU whatever `cudnn.deterministic` says).
"""

from __future__ import annotations

from types import SimpleNamespace

from minigrad import backend as _backend


class _Flags(SimpleNamespace):
    """A namespace of settable flags (PyTorch's flag modules)."""


cuda = _Flags(
    matmul=_Flags(
        allow_tf32=False,
        allow_fp16_reduced_precision_reduction=True,
        allow_bf16_reduced_precision_reduction=True,
    ),  # fmt: skip
    is_built=lambda: _backend.cuda_is_available(),
    flash_sdp_enabled=lambda: False,
    mem_efficient_sdp_enabled=lambda: False,
    math_sdp_enabled=lambda: True,
    enable_flash_sdp=lambda enabled: None,
    enable_mem_efficient_sdp=lambda enabled: None,
    enable_math_sdp=lambda enabled: None,
)
cudnn = _Flags(
    enabled=True, benchmark=False, deterministic=False, allow_tf32=True,
    is_available=lambda: False, version=lambda: None,
)  # fmt: skip
mps = _Flags(is_available=lambda: False, is_built=lambda: False)
mkldnn = _Flags(enabled=True, is_available=lambda: False)
openmp = _Flags(is_available=lambda: False)

"""`mg.cuda`: PyTorch's `torch.cuda` essentials over CuPy (availability, seeding, syncing).

Nothing here imports CuPy until called, and every function works (answers "no") without it.
"""

from __future__ import annotations

import contextlib

from minigrad import backend as _backend
from minigrad.backend import Device


def is_available() -> bool:
    """True when CuPy imports and sees at least one NVIDIA GPU."""
    return _backend.cuda_is_available()


def device_count() -> int:
    """Number of visible GPUs (0 without CuPy or a GPU)."""
    return _backend.cuda_device_count()


def current_device() -> int:
    """Index of the GPU CuPy allocates on by default."""
    _backend.cuda_backend()
    import cupy

    return cupy.cuda.runtime.getDevice()


@contextlib.contextmanager
def device(index: int | str | Device):
    """Make GPU `index` current inside the block (`torch.cuda.device`). Ops on `cuda:N` tensors
    with N > 0 should run inside it: CuPy launches kernels and creates constants on the current
    GPU."""
    _backend.cuda_backend()
    import cupy

    if not isinstance(index, int):
        index = Device(index).index or 0
    with cupy.cuda.Device(index):
        yield


def manual_seed(seed: int) -> None:
    """Seed the generators of every GPU (a no-op without CUDA, as in PyTorch)."""
    backend = _backend._load_cupy()
    if backend is not None:
        backend.manual_seed(int(seed))


manual_seed_all = manual_seed  # one seed serves all GPUs, as PyTorch's manual_seed_all


def synchronize(device: int | str | Device | None = None) -> None:
    """Wait for all work queued on `device` (default: the current GPU) to finish."""
    backend = _backend.cuda_backend()
    if isinstance(device, int):
        device = Device("cuda", device)
    elif device is not None and not isinstance(device, Device):
        device = Device(device)
    backend.synchronize(device)

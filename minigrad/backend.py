"""Array backends: the only module that knows NumPy from CuPy.

Every op's forward and every gradient rule receives `xp`, an `ArrayNamespace`: the array module
(NumPy or CuPy) plus the few helpers their APIs lack in common (`unindex`, `erf`). One code path
serves both libraries, as in Chainer. A tensor's backend and device follow from its array's type,
so nothing is stored per tensor, and mixing devices is caught in one place (`backend_of`).
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np


class Device:
    """A place where arrays live: `cpu` or `cuda:N` (PyTorch's `torch.device`)."""

    __slots__ = ("type", "index")

    def __init__(self, type: str | Device = "cpu", index: int | None = None):
        if isinstance(type, Device):
            type, index = type.type, type.index if index is None else index
        if not isinstance(type, str):
            raise TypeError(f"device must be a string like 'cpu' or 'cuda:0', got {type!r}")
        kind, _, number = type.partition(":")
        if number:
            if index is not None:
                raise ValueError(f"device {type!r} already names an index; got index={index} too")
            if not number.isdigit():
                raise ValueError(f"invalid device string {type!r}: expected 'cpu', 'cuda' or 'cuda:N'")
            index = int(number)
        if kind not in ("cpu", "cuda"):
            raise ValueError(f"unknown device type {kind!r}: expected 'cpu' or 'cuda'")
        if kind == "cpu" and index not in (None, 0):
            raise ValueError(f"cpu device has no index {index}")
        self.type = kind
        self.index = None if kind == "cpu" else index

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            try:
                other = Device(other)
            except ValueError:
                return False
        return isinstance(other, Device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        if self.index is None:
            return f"device(type='{self.type}')"
        return f"device(type='{self.type}', index={self.index})"


CPU = Device("cpu")


class ArrayNamespace:
    """`xp`: an array module plus minigrad's helpers; attributes are cached on first use."""

    def __init__(self, module: Any, **helpers: Any):
        self.module = module
        self.__dict__.update(helpers)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.module, name)
        setattr(self, name, value)  # next lookup is a plain instance-dict hit
        return value


def _has_array_index(index: tuple) -> bool:
    return any(not isinstance(i, (int, slice, type(None), type(Ellipsis))) for i in index)


def _make_unindex(xp_module: Any, scatter_add: Any):
    def unindex(grad, shape: tuple, index: tuple):
        """Adjoint of `x[index]`: zeros of `shape` with `grad` added at `index`.

        Integer-array indices may repeat a position, so they scatter-add; everything else
        (ints, slices, None, Ellipsis, boolean masks) selects each element at most once.
        """
        out = xp_module.zeros(shape, dtype=grad.dtype)
        if _has_array_index(index) and any(
            getattr(i, "dtype", None) is not None and i.dtype.kind in "iu" for i in index
        ):
            scatter_add(out, index, grad)
        else:
            out[index] = grad
        return out

    return unindex


class Backend:
    """What minigrad needs from an array library: its namespace, devices and random numbers."""

    def __init__(self, name: str, xp: ArrayNamespace, array_type: type, device_of, seed_fn):
        self.name = name
        self.xp = xp
        self.array_type = array_type
        self.device_of = device_of
        self._seed_fn = seed_fn

    def manual_seed(self, seed: int) -> None:
        self._seed_fn(seed)


# --- NumPy -------------------------------------------------------------------------------------

_np_rng = np.random.default_rng(0)


def _np_seed(seed: int) -> None:
    global _np_rng
    _np_rng = np.random.default_rng(seed)


def numpy_rng() -> np.random.Generator:
    return _np_rng


def _erf_numpy(x):
    from minigrad._erf import erf

    return erf(x)


numpy_backend = Backend(
    "numpy",
    ArrayNamespace(np, unindex=_make_unindex(np, np.add.at), erf=_erf_numpy, rng=numpy_rng),
    np.ndarray,
    lambda array: CPU,
    _np_seed,
)

_BACKENDS: dict[type, Backend] = {np.ndarray: numpy_backend}
_lock = threading.Lock()


def _load_cupy() -> Backend | None:
    """Register the CuPy backend on first use; None when CuPy or a GPU is missing."""
    with _lock:
        for backend in _BACKENDS.values():
            if backend.name == "cupy":
                return backend
        try:
            import cupy
            import cupyx
            import cupyx.scipy.special

            cupy.cuda.runtime.getDeviceCount()
        except Exception:  # ImportError, or CUDA driver/runtime errors without a GPU
            return None

        state = {"rng": cupy.random.default_rng(0)}

        def seed(s: int) -> None:
            state["rng"] = cupy.random.default_rng(s)

        backend = Backend(
            "cupy",
            ArrayNamespace(
                cupy,
                unindex=_make_unindex(cupy, cupyx.scatter_add),
                erf=cupyx.scipy.special.erf,
                rng=lambda: state["rng"],
            ),
            cupy.ndarray,
            lambda array: Device("cuda", array.device.id),
            seed,
        )
        _BACKENDS[cupy.ndarray] = backend
        if _pending_seed is not None:
            backend.manual_seed(_pending_seed)
        return backend


def cuda_backend() -> Backend:
    backend = _load_cupy()
    if backend is None:
        raise RuntimeError(
            "CUDA is not available: minigrad's CUDA tensors need CuPy and an NVIDIA GPU "
            "(pip install 'minigrad[cuda]'). mg.cuda.is_available() tells whether both are present."
        )
    return backend


def backend_for_device(device: Device) -> Backend:
    return numpy_backend if device.type == "cpu" else cuda_backend()


def backend_of(array: Any) -> Backend:
    try:
        return _BACKENDS[type(array)]
    except KeyError:
        raise TypeError(f"minigrad has no backend for arrays of type {type(array).__name__}") from None


def manual_seed(seed: int) -> None:
    """Seed the random generators of every loaded backend (and CuPy's, once it loads)."""
    global _pending_seed
    _pending_seed = seed  # a backend loaded later starts from the same seed
    for backend in list(_BACKENDS.values()):
        backend.manual_seed(seed)


_pending_seed: int | None = None


def cuda_is_available() -> bool:
    return _load_cupy() is not None


def cuda_device_count() -> int:
    if not cuda_is_available():
        return 0
    import cupy

    return cupy.cuda.runtime.getDeviceCount()


def to_device(array: Any, device: Device) -> Any:
    """Copy `array` to `device` (no copy when it is already there)."""
    source = backend_of(array)
    if source.device_of(array) == device:
        return array
    if device.type == "cpu":
        return array.get()  # CuPy -> NumPy
    backend = cuda_backend()
    import cupy

    with cupy.cuda.Device(device.index or 0):
        return backend.xp.asarray(array)


# Python float used by rules that need pi: a NumPy float64 scalar would upcast float32 arrays.
PI = math.pi

"""Pytest plugin: a stand-in `cupy` (and `cupyx`) made of guard arrays, so that minigrad's real
CuPy backend code (`backend._load_cupy`, `_OnCudaDevice`, `_CupyGenerator`, `mg.cuda`, the
`cuda:N` device paths) runs in CI without a GPU:

    python -m pytest -p tests._fake_cupy tests/test_devices.py -k cuda     (make test-cuda-standin)

Arrays are `GuardArray`s (minigrad/guard.py), which refuse what CuPy refuses; `guard:N` becomes
`cuda:N`, with two fake GPUs. `cupy.fuse` records the kernel names it compiles and runs the
function as written. This checks minigrad's glue around CuPy, not CuPy itself: only a GPU run
(benchmarks/gpu_check.sh) does that. Installed into sys.modules when the plugin is imported,
before minigrad looks for CuPy; never use it together with the guard device.
"""

from __future__ import annotations

import sys
import types

from minigrad import guard

DEVICE_COUNT = 2
fused_kernels: list[str] = []  # names passed to cupy.fuse, in order
synchronized: list[int] = []  # devices synchronized, in order


class _Device:
    """`cupy.cuda.Device(i)`: a context manager making fake GPU i current."""

    def __init__(self, index: int = 0):
        self.id = index
        self._previous: list[int] = []

    def __enter__(self):
        self._previous.append(guard.current_device())
        guard._current.index = self.id
        return self

    def __exit__(self, *exc):
        guard._current.index = self._previous.pop()

    def synchronize(self) -> None:
        synchronized.append(self.id)


def _fuse(*args, kernel_name: str | None = None):
    def decorate(fn):
        fused_kernels.append(kernel_name or fn.__name__)
        return fn

    return decorate(args[0]) if args and callable(args[0]) else decorate


class _Module(types.ModuleType):
    """A module whose missing attributes come from the guard namespace (CuPy's NumPy API)."""

    def __init__(self, name: str, fallback=None):
        super().__init__(name)
        self._fallback = fallback

    def __getattr__(self, name: str):
        if self._fallback is None or name.startswith("__"):
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        return getattr(self._fallback, name)


def install() -> None:
    xp = guard.guard_backend.xp
    cupy = _Module("cupy", xp.module)
    cupy.__version__ = "0.0-fake"
    cupy.ndarray = guard.GuardArray
    cupy.fuse = _fuse
    cupy.asnumpy = guard._asnumpy
    runtime = types.SimpleNamespace(
        getDeviceCount=lambda: DEVICE_COUNT, getDevice=guard.current_device
    )
    cupy.cuda = types.SimpleNamespace(Device=_Device, runtime=runtime)
    cupy.random = types.SimpleNamespace(
        default_rng=lambda seed=None: guard.GuardGenerator(seed, None),
        seed=lambda seed=None: None,
    )
    cupyx = _Module("cupyx")
    cupyx.scatter_add = guard._scatter_add
    special = _Module("cupyx.scipy.special")
    special.erf = guard._erf
    cupyx.scipy = _Module("cupyx.scipy")
    cupyx.scipy.special = special
    sys.modules.update(
        {"cupy": cupy, "cupyx": cupyx, "cupyx.scipy": cupyx.scipy, "cupyx.scipy.special": special}
    )


if "cupy" in sys.modules and not isinstance(sys.modules["cupy"], _Module):
    raise RuntimeError("tests._fake_cupy: a real CuPy is already imported")
install()  # on import, before any plugin or test asks minigrad whether CUDA is there


def pytest_configure(config) -> None:
    import minigrad as mg

    assert mg.cuda.is_available() and mg.cuda.device_count() == DEVICE_COUNT

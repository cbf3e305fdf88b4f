"""Array backends: the only module that knows NumPy from CuPy (and from the guard stand-in).

Every op's forward and every gradient rule receives `xp`, an `ArrayNamespace`: the array module
(NumPy or CuPy) plus the few helpers their APIs lack in common (`unindex`, `erf`, `rng`). One code
path serves both libraries, as in Chainer. A tensor's backend and device follow from its array's
type (and, for CuPy, the array's own device), so nothing is stored per tensor.

Backends: `numpy` (device `cpu`), `cupy` (devices `cuda:N`, loaded on first use; importing
minigrad never imports CuPy) and `guard` (devices `guard:N`, `minigrad.guard`: a strict CPU
stand-in for CuPy that only the test suite uses). The default device of factory functions is
`set_default_device`'s, as in PyTorch.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

# Device types minigrad knows; "guard" is the testing stand-in for "cuda" (see minigrad/guard.py).
DEVICE_TYPES = ("cpu", "cuda", "guard")


class Device:
    """A place where arrays live: `cpu`, `cuda:N` or `guard:N` (PyTorch's `torch.device`)."""

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
                raise ValueError(
                    f"invalid device string {type!r}: expected 'cpu', 'cuda' or 'cuda:N'"
                )
            index = int(number)
        if kind not in DEVICE_TYPES:
            raise ValueError(
                f"unknown device type {kind!r}: expected one of {', '.join(DEVICE_TYPES)}"
            )
        if index is not None and (not isinstance(index, int) or index < 0):
            raise ValueError(f"device index must be a non-negative int, got {index!r}")
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


def _concrete(device: Device) -> Device:
    """`cuda` means `cuda:0` (the same for `guard`): arrays always live on a numbered device."""
    return Device(device.type, 0) if device.type != "cpu" and device.index is None else device


class ArrayNamespace:
    """`xp`: an array module plus minigrad's helpers; attributes are cached on first use.

    `fuse(fn, name)`, where the library has one (CuPy's `cupy.fuse`), compiles a function of
    arrays made of elementwise operations into one kernel; see `fused`.
    """

    def __init__(self, module: Any, *, fuse: Callable | None = None, **helpers: Any):
        self.module = module
        self._fuse = fuse
        self._fused: dict = {}
        self.__dict__.update(helpers)

    def fused(self, body: Callable) -> Callable:
        """`body(xp, *arrays)`, a chain of elementwise operations, as a function of the arrays
        alone: on CuPy one fused kernel (one pass over memory instead of one per operation),
        elsewhere the chain as written. The same text serves every backend."""
        fn = self._fused.get(body)
        if fn is None:
            fn = lambda *arrays: body(self, *arrays)  # noqa: E731
            if self._fuse is not None:
                fn = self._fuse(fn, body.__name__.strip("_"))
            self._fused[body] = fn
        return fn

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
        # zeros_like(grad, shape=...) rather than zeros(shape): the result lands on grad's own
        # device (CuPy's zeros() would use the *current* device, wrong for cuda:1 tensors).
        out = xp_module.zeros_like(grad, shape=shape)
        if _has_array_index(index) and any(
            getattr(i, "dtype", None) is not None and i.dtype.kind in "iu" for i in index
        ):
            scatter_add(out, index, grad)
        else:
            out[index] = grad
        return out

    return unindex


def _same_device(array: Any) -> Any:
    return array


class Backend:
    """What minigrad needs from an array library: its namespace, devices, transfers and random
    numbers.

    `to_host(array)` gives a NumPy array (a copy), `from_host(array, device)` the reverse, and
    `move(array, device)` copies between two devices of this backend. `namespace(device)` is an
    `xp` whose factory functions and generator create arrays on `device` (`xp` itself creates
    on the backend's current device). `multi_device` says whether arrays of this backend's type
    can live on different devices, so that `check_devices` is worth calling.
    """

    def __init__(
        self,
        name: str,
        xp: ArrayNamespace,
        array_type: type,
        device_of: Callable[[Any], Device],
        seed_fn: Callable[[int], None],
        *,
        device_type: str = "cpu",
        to_host: Callable[[Any], np.ndarray] = _same_device,
        from_host: Callable[[np.ndarray, Device], Any] | None = None,
        move: Callable[[Any, Device], Any] | None = None,
        namespace: Callable[[Device], ArrayNamespace] | None = None,
        synchronize: Callable[[Device | None], None] | None = None,
        multi_device: bool = False,
    ):
        self.name = name
        self.xp = xp
        self.array_type = array_type
        self.device_of = device_of
        self.device_type = device_type
        self.to_host = to_host
        self.from_host = from_host or (lambda array, device: array)
        self.move = move or (lambda array, device: array)
        self._namespace = namespace
        self._synchronize = synchronize
        self.multi_device = multi_device
        self._seed_fn = seed_fn
        self._on: dict[Device, Backend] = {}

    def manual_seed(self, seed: int) -> None:
        self._seed_fn(seed)

    def namespace(self, device: Device) -> ArrayNamespace:
        return self.xp if self._namespace is None else self._namespace(_concrete(device))

    def on(self, device: Device) -> Backend:
        """This backend with `xp` bound to `device` (what factory functions use)."""
        if self._namespace is None:
            return self
        device = _concrete(device)
        bound = self._on.get(device)
        if bound is None:
            bound = object.__new__(Backend)
            bound.__dict__.update(self.__dict__)
            bound.xp = self._namespace(device)
            bound._on = {}
            self._on[device] = bound
        return bound

    def check_devices(self, arrays, what: str = "") -> None:
        """Raise PyTorch's error when `arrays` (all of this backend's type) span two devices."""
        first = self.device_of(arrays[0])
        for a in arrays[1:]:
            other = self.device_of(a)
            if other != first:
                raise RuntimeError(
                    f"Expected all tensors to be on the same device, but found at least two "
                    f"devices, {first} and {other}!" + (f" (in {what})" if what else "")
                )

    def synchronize(self, device: Device | None = None) -> None:
        if self._synchronize is not None:
            self._synchronize(device)


# --- NumPy -------------------------------------------------------------------------------------


def keep_freed_host_memory(mmap_threshold: int = 32 << 20, trim_threshold: int = 64 << 20) -> bool:
    """Ask glibc's malloc to reuse freed array memory instead of handing it back to the OS.

    By default glibc serves blocks of a few MB with fresh `mmap`s (or trims them off the heap
    when freed), so every step of a training loop faults its temporaries in again, page by page:
    measured on attention_step, ~2,400-3,200 page faults and ~10 ms of kernel time per step of
    ~27 ms. Serving blocks below `mmap_threshold` from the heap and trimming it only past
    `trim_threshold` of free memory at its top makes those faults vanish (peak RSS unchanged
    there). Called once when minigrad is imported, unless the environment sets
    MINIGRAD_MALLOC_TUNING=0. Returns whether glibc took the settings (False elsewhere).
    """
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return False
    # glibc only: musl's mallopt ignores these numbers
    if not hasattr(libc, "gnu_get_libc_version") or not hasattr(libc, "mallopt"):
        return False
    mallopt = libc.mallopt
    m_trim_threshold, m_mmap_threshold = -1, -3  # <malloc.h>
    return bool(mallopt(m_mmap_threshold, mmap_threshold)) and bool(
        mallopt(m_trim_threshold, trim_threshold)
    )


if os.environ.get("MINIGRAD_MALLOC_TUNING", "1") != "0":
    keep_freed_host_memory()


# Like PyTorch, an unseeded process starts from fresh entropy (so two runs differ); every backend
# loaded later starts from the same seed until `manual_seed` picks another.
_initial_seed = int.from_bytes(os.urandom(8), "little")
_np_rng = np.random.default_rng(_initial_seed)


def _np_seed(seed: int) -> None:
    # in place, so everything holding the generator (mg.default_generator) follows the new seed
    _np_rng.bit_generator.state = np.random.PCG64(seed).state


def initial_seed() -> int:
    """The seed the backends last started from (entropy at import, else `manual_seed`'s)."""
    return _initial_seed if _pending_seed is None else _pending_seed


def new_generator(device: Device, seed: int):
    """A fresh generator for `device`, with the API `xp.rng()` gives there (`mg.Generator`)."""
    device = _concrete(device)
    if device.type == "cpu":
        return np.random.default_rng(seed)
    backend = backend_for_device(device)
    if device.type == "guard":
        from minigrad.guard import GuardGenerator

        return GuardGenerator(seed, device.index)
    return backend.make_generator(seed, device)


def numpy_rng() -> np.random.Generator:
    return _np_rng


def _erf_numpy(x):
    from minigrad._erf import erf

    return erf(x)


# np.sum/np.max/np.min are Python wrappers (~2 us per call) around ufunc.reduce (~1 us): the
# namespace calls the ufunc directly, with the same results (np.sum does exactly this for an
# ndarray). They run in every reduction, softmax and unbroadcast, forward and backward.
def _np_sum(a, axis=None, dtype=None, out=None, keepdims=False):
    return np.add.reduce(a, axis, dtype, out, keepdims)


def _np_max(a, axis=None, out=None, keepdims=False):
    return np.maximum.reduce(a, axis, None, out, keepdims)


def _np_min(a, axis=None, out=None, keepdims=False):
    return np.minimum.reduce(a, axis, None, out, keepdims)


numpy_backend = Backend(
    "numpy",
    ArrayNamespace(
        np,
        unindex=_make_unindex(np, np.add.at),
        erf=_erf_numpy,
        rng=numpy_rng,
        sum=_np_sum,
        max=_np_max,
        min=_np_min,
    ),
    np.ndarray,
    lambda array: CPU,
    _np_seed,
    to_host=_same_device,
)

_BACKENDS: dict[type, Backend] = {np.ndarray: numpy_backend}
_BY_DEVICE_TYPE: dict[str, Backend] = {"cpu": numpy_backend}
# Array types whose arrays can sit on different devices: an op on several of them checks that
# they share one (CuPy runs a kernel on two GPUs' arrays when peer access is on, silently).
MULTI_DEVICE_TYPES: set[type] = set()
_lock = threading.RLock()


def register_backend(backend: Backend) -> Backend:
    """Make `backend` known: its array type maps to it, and so does its device type."""
    with _lock:
        _BACKENDS[backend.array_type] = backend
        _BY_DEVICE_TYPE[backend.device_type] = backend
        if backend.multi_device:
            MULTI_DEVICE_TYPES.add(backend.array_type)
        if _pending_seed is not None:
            backend.manual_seed(_pending_seed)
    return backend


# --- CuPy --------------------------------------------------------------------------------------


class _CupyGenerator:
    """A `cupy.random.Generator` with `permutation`, which CuPy's Generator lacks.

    CuPy's Generator has `random(size, dtype)`, `standard_normal(size, dtype)`, `uniform` and
    `integers(low, high, size, dtype)` but no `permutation`/`choice`; a permutation is the
    argsort of i.i.d. uniforms (ties have probability ~0 in float64).
    """

    def __init__(self, generator: Any, cupy: Any):
        self._generator = generator
        self._cupy = cupy

    def permutation(self, n: int):
        return self._cupy.argsort(self._generator.random(int(n)))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._generator, name)


class _OnCudaDevice:
    """`xp` bound to one GPU: each call runs with that GPU current (where CuPy allocates)."""

    def __init__(self, xp: ArrayNamespace, cupy: Any, index: int):
        self._xp = xp
        self._cupy = cupy
        self._index = index

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._xp, name)
        if not callable(value) or isinstance(value, type):
            return value
        cupy, index = self._cupy, self._index

        def call(*args, **kwargs):
            with cupy.cuda.Device(index):
                result = value(*args, **kwargs)
            if name == "rng":  # the generator of this GPU; its draws run with it current too
                return _OnCudaDevice(result, cupy, index)
            return result

        return call


def _load_cupy() -> Backend | None:
    """Register the CuPy backend on first use; None when CuPy or a GPU is missing."""
    with _lock:
        backend = _BY_DEVICE_TYPE.get("cuda")
        if backend is not None:
            return backend
        try:
            import cupy
            import cupyx
            import cupyx.scipy.special

            if cupy.cuda.runtime.getDeviceCount() < 1:
                return None
        except Exception:  # ImportError, or CUDA driver/runtime errors without a GPU
            return None

        # One generator per GPU: a CuPy generator's state lives on the device it was made on.
        generators: dict[int, _CupyGenerator] = {}
        seed_box = {"seed": 0}

        def rng() -> _CupyGenerator:
            index = cupy.cuda.runtime.getDevice()
            generator = generators.get(index)
            if generator is None:
                with cupy.cuda.Device(index):
                    generator = _CupyGenerator(cupy.random.default_rng(seed_box["seed"]), cupy)
                generators[index] = generator
            return generator

        def seed(s: int) -> None:
            seed_box["seed"] = s
            generators.clear()  # recreated lazily, per device, from the new seed
            for index in range(cupy.cuda.runtime.getDeviceCount()):
                with cupy.cuda.Device(index):
                    cupy.random.seed(s)  # CuPy's legacy global RandomState, for direct users

        def device_of(array) -> Device:
            return Device("cuda", array.device.id)

        def from_host(array: np.ndarray, device: Device):
            with cupy.cuda.Device(device.index):
                return cupy.asarray(array)

        def move(array, device: Device):
            # ndarray.copy() copies onto the *current* device, wherever the source lives
            with cupy.cuda.Device(device.index):
                return array.copy()

        def synchronize(device: Device | None) -> None:
            index = cupy.cuda.runtime.getDevice() if device is None else _concrete(device).index
            cupy.cuda.Device(index).synchronize()

        xp = ArrayNamespace(
            cupy,
            fuse=lambda fn, name: cupy.fuse(kernel_name=name)(fn),
            unindex=_make_unindex(cupy, cupyx.scatter_add),
            erf=cupyx.scipy.special.erf,
            rng=rng,
        )
        namespaces: dict[Device, Any] = {}

        def namespace(device: Device):
            bound = namespaces.get(device)
            if bound is None:
                bound = namespaces[device] = _OnCudaDevice(xp, cupy, device.index)
            return bound

        def make_generator(s: int, device: Device):  # an mg.Generator's own stream on a GPU
            with cupy.cuda.Device(device.index):
                generator = _CupyGenerator(cupy.random.default_rng(s), cupy)
            return _OnCudaDevice(generator, cupy, device.index)

        backend = Backend(
            "cupy",
            xp,
            cupy.ndarray,
            device_of,
            seed,
            device_type="cuda",
            to_host=lambda array: array.get(),
            from_host=from_host,
            move=move,
            namespace=namespace,
            synchronize=synchronize,
            multi_device=True,
        )
        backend.make_generator = make_generator
        return register_backend(backend)


def cuda_backend() -> Backend:
    backend = _load_cupy()
    if backend is None:
        raise RuntimeError(
            "CUDA is not available: minigrad's CUDA tensors need CuPy and an NVIDIA GPU "
            "(pip install 'minigrad[cuda]'). mg.cuda.is_available() tells whether both are present."
        )
    return backend


def _load_guard() -> Backend:
    import minigrad.guard  # noqa: F401  (registers itself)

    return _BY_DEVICE_TYPE["guard"]


def backend_for_device(device: Device) -> Backend:
    """The backend whose arrays live on `device`, with `xp` creating arrays there."""
    if device.type == "cpu":
        return numpy_backend
    backend = _BY_DEVICE_TYPE.get(device.type)
    if backend is None:
        backend = cuda_backend() if device.type == "cuda" else _load_guard()
    _check_index(backend, device)
    return backend.on(device)


def _check_index(backend: Backend, device: Device) -> None:
    if device.type == "cuda" and device.index:  # cuda:0 exists whenever the backend loaded
        count = cuda_device_count()
        if device.index >= count:
            raise RuntimeError(
                f"CUDA error: invalid device ordinal: {device} requested, but only {count} "
                f"CUDA device(s) are visible"
            )


def backend_of(array: Any) -> Backend:
    try:
        return _BACKENDS[type(array)]
    except KeyError:
        raise TypeError(
            f"minigrad has no backend for arrays of type {type(array).__name__}"
        ) from None


def manual_seed(seed: int) -> None:
    """Seed the random generators of every loaded backend (and CuPy's, once it loads)."""
    global _pending_seed
    seed = int(seed)
    _pending_seed = seed  # a backend loaded later starts from the same seed
    for backend in list(_BY_DEVICE_TYPE.values()):
        backend.manual_seed(seed)


_pending_seed: int | None = _initial_seed


def cuda_is_available() -> bool:
    return _load_cupy() is not None


def cuda_device_count() -> int:
    if not cuda_is_available():
        return 0
    import cupy

    return cupy.cuda.runtime.getDeviceCount()


def to_device(array: Any, device: Device) -> Any:
    """Copy `array` to `device` (no copy when it is already there). Transfers between backends go
    through host memory explicitly; nothing else in minigrad moves data between devices."""
    device = _concrete(device)
    source = backend_of(array)
    if source.device_of(array) == device:
        return array
    if source.device_type == device.type:
        return source.move(array, device)
    host = source.to_host(array)
    if device.type == "cpu":
        return host
    return backend_for_device(device).from_host(host, device)


def to_host(value: Any) -> np.ndarray | None:
    """An array (or a Tensor's array) as a NumPy array: itself on the CPU, else an explicit copy
    from its device; None stays None. What tools that show values read (the graph drawing, the
    backward trace)."""
    if value is None:
        return None
    array = getattr(value, "_data", value)
    backend = _BACKENDS.get(type(array))
    return np.asarray(array) if backend is None else backend.to_host(array)


def writeable(array: Any) -> bool:
    """Whether writing into `array` in place is safe, on every backend.

    NumPy says so in `flags.writeable` (False for broadcast views). CuPy has no read-only arrays
    and no such flag, so a broadcast view (a zero stride over a dimension longer than 1) is
    treated as read-only there: writing into it would write one element many times.
    """
    flag = getattr(array.flags, "writeable", None)
    if flag is not None:
        return flag
    return not any(s == 0 and n > 1 for s, n in zip(array.strides, array.shape))


# --- the default device (PyTorch's torch.set_default_device) ----------------------------------

_default_device = CPU


def set_default_device(device: str | Device | None) -> None:
    """Where factory functions (`mg.zeros`, `mg.randn`, `mg.tensor`, ...) put tensors when no
    `device=` is given. `None` restores `cpu`. Fails at once if the device is unavailable."""
    global _default_device
    device = CPU if device is None else Device(device) if not isinstance(device, Device) else device
    device = _concrete(device)
    backend_for_device(device)  # raises clearly when CUDA is missing
    _default_device = device


def get_default_device() -> Device:
    return _default_device

"""The guard backend: a strict CPU stand-in for CuPy, so CI without a GPU catches NumPy-only code.

Devices `guard:0`, `guard:1`, ... are testing devices (`mg.randn(3, device="guard")`); their
arrays are `GuardArray`s: NumPy arrays in a wrapper that refuses what CuPy refuses.

- Mixing with a NumPy array (other than a 0-d one) in an operator, ufunc or NumPy function
  raises TypeError, as CuPy refuses implicit host/device mixing.
- Implicit conversion to NumPy (`np.asarray(g)`, `np.array([g])`) raises TypeError; the only
  ways to the host are the explicit ones, `g.get()` and `xp.asnumpy(g)` (what
  `minigrad.backend.to_device` uses). `xp.asarray(host_array)` is the explicit way back.
- Arrays on `guard:0` and `guard:1` refuse to mix (ValueError, as CuPy without peer access).
- Reductions and indexing give 0-d arrays, never NumPy scalars; NumPy-only attributes CuPy lacks
  (`flags.writeable`, `ctypes`, `tobytes`, `setflags`, ...) are absent; `xp.rng()` has only the
  methods of CuPy's Generator (plus minigrad's `permutation`).
- Factory functions (`xp.zeros`, ...) create on the *current* guard device (`guard.device(i)`
  sets it, like `cupy.cuda.Device(i)`); everything else follows its array arguments.

- `xp.<name>` exists only where CuPy has it too (`cupy`, `cupy.linalg`, `cupy.random`,
  `cupy.fft`, `cupy.lib.stride_tricks`, and the methods of CuPy's ufuncs), checked against a
  snapshot of CuPy's namespaces in `minigrad/_cupy_api.py` (regenerate it with
  `python -m minigrad.guard` where CuPy is installed; importing CuPy needs no GPU).

It is not a model of CuPy's numerics, nor of every keyword argument CuPy's functions accept. The
wrapper costs a few microseconds per call, which only the tests pay.
"""

from __future__ import annotations

import contextlib
import threading
import types
import weakref
from typing import Any

import numpy as np

from minigrad._cupy_api import CUPY_NAMES, CUPY_VERSION
from minigrad.backend import (
    ArrayNamespace,
    Backend,
    Device,
    _make_unindex,
    register_backend,
)

# --- the current device -----------------------------------------------------------------------


class _Current(threading.local):
    index = 0


_current = _Current()


@contextlib.contextmanager
def device(index: int | str | Device):
    """Make guard device `index` current (where factory functions allocate), like
    `cupy.cuda.Device(index)` used as a context manager."""
    if not isinstance(index, int):
        index = Device(index).index or 0
    previous = _current.index
    _current.index = index
    try:
        yield
    finally:
        _current.index = previous


def current_device() -> int:
    return _current.index


# --- mixing rules -----------------------------------------------------------------------------


class _Call:
    """What one call has seen: the guard device of its array arguments."""

    __slots__ = ("name", "device", "allow_host")

    def __init__(self, name: str, device: int | None = None, allow_host: bool = False):
        self.name = name
        self.device = device
        self.allow_host = allow_host


def _unwrap(obj: Any, call: _Call) -> Any:
    """`obj` with GuardArrays replaced by their NumPy arrays; refuses host arrays and mixing."""
    t = type(obj)
    if t is GuardArray:
        if call.device is None:
            call.device = obj._dev
        elif call.device != obj._dev:
            raise ValueError(
                f"{call.name}: arrays on different devices, guard:{call.device} and "
                f"guard:{obj._dev} (CuPy refuses this without peer access; minigrad expects "
                f"all tensors of an op on the same device)"
            )
        return obj._a
    if t is list or t is tuple:
        return t(_unwrap(o, call) for o in obj)
    if isinstance(obj, np.ndarray):
        if obj.ndim == 0 or call.allow_host:
            return obj
        raise TypeError(
            f"{call.name}: a NumPy array of shape {obj.shape} met a guard (device) array. "
            f"CuPy refuses implicit host/device mixing: create the array with xp (the op's "
            f"namespace), or move it explicitly (xp.asarray / Tensor.to)"
        )
    return obj


def _unwrap_kwargs(kwargs: dict, call: _Call) -> dict:
    return {k: _unwrap(v, call) for k, v in kwargs.items()} if kwargs else kwargs


def _wrap(result: Any, dev: int) -> Any:
    """NumPy results back to GuardArrays on `dev`; scalars become 0-d arrays, as in CuPy."""
    t = type(result)
    if t is np.ndarray:
        return GuardArray._new(result, dev)
    if isinstance(result, np.generic):
        return GuardArray._new(np.asarray(result), dev)
    if isinstance(result, tuple):
        items = [_wrap(r, dev) for r in result]
        return t(*items) if hasattr(result, "_fields") else t(items)
    if t is list:
        return [_wrap(r, dev) for r in result]
    return result


def _host_only(name: str) -> AttributeError:
    return AttributeError(
        f"'{name}' is a NumPy-only ndarray attribute that CuPy arrays lack; minigrad code must "
        f"not rely on it (guard backend)"
    )


# --- the array --------------------------------------------------------------------------------


class _GuardDevice:
    """`array.device` of a GuardArray, shaped like `cupy.cuda.Device` (`.id`)."""

    __slots__ = ("id",)

    def __init__(self, id: int):
        self.id = id

    def __repr__(self) -> str:
        return f"<guard Device {self.id}>"


class _Flags:
    """CuPy's `ndarray.flags`: only these three (no `writeable`, `aligned`, ...)."""

    __slots__ = ("c_contiguous", "f_contiguous", "owndata")

    def __init__(self, flags):
        self.c_contiguous = flags.c_contiguous
        self.f_contiguous = flags.f_contiguous
        self.owndata = flags.owndata

    def __getitem__(self, name: str) -> bool:
        return getattr(
            self,
            {"C_CONTIGUOUS": "c_contiguous", "F_CONTIGUOUS": "f_contiguous", "OWNDATA": "owndata"}[
                name
            ],
        )


# ndarray methods CuPy's ndarray has too; they run on the wrapped array and give GuardArrays.
_METHODS = frozenset(
    "all any argmax argmin argpartition argsort astype choose clip compress conj conjugate copy "
    "cumprod cumsum diagonal dot fill flatten max mean min nonzero partition prod ptp put ravel "
    "repeat reshape round sort squeeze std sum swapaxes take trace transpose var view".split()
)
# plain values, returned as they are
_VALUES = frozenset("shape dtype ndim size itemsize nbytes strides".split())
# views, returned as GuardArrays
_VIEWS = frozenset("T mT real imag".split())

_OPERAND_TYPES = (int, float, complex, bool, np.generic, np.ndarray)

# id(NumPy array owning memory) -> the GuardArray wrapping it (weakly: dies with the wrapper)
_owners: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


class GuardArray:
    """A NumPy array that behaves like a CuPy array where NumPy-only code would break."""

    __slots__ = ("_a", "_dev", "__weakref__")
    __array_priority__ = 100  # below Tensor's 1000, so `array op tensor` defers to the Tensor

    @staticmethod
    def _new(array: np.ndarray, dev: int) -> GuardArray:
        g = object.__new__(GuardArray)
        g._a = array
        g._dev = dev
        if array.base is None:  # owns its memory: views' `.base` must name this very object
            _owners.setdefault(id(array), g)
        return g

    def __init__(self, *args, **kwargs):
        raise TypeError("create guard arrays with the guard namespace (xp.asarray, xp.zeros, ...)")

    # -- attributes --

    def __getattr__(self, name: str) -> Any:
        if name in _VALUES:
            return getattr(self._a, name)
        if name in _VIEWS:
            return GuardArray._new(getattr(self._a, name), self._dev)
        if name in _METHODS:
            method = getattr(self._a, name)
            dev = self._dev

            def call(*args, **kwargs):
                c = _Call(f"ndarray.{name}", dev)
                return _wrap(method(*_unwrap(args, c), **_unwrap_kwargs(kwargs, c)), dev)

            return call
        if hasattr(np.ndarray, name):
            raise _host_only(name)
        raise AttributeError(f"'GuardArray' object has no attribute '{name}'")

    @property
    def device(self) -> _GuardDevice:
        return _GuardDevice(self._dev)

    @property
    def flags(self) -> _Flags:
        return _Flags(self._a.flags)

    @property
    def base(self) -> GuardArray | None:
        """The array owning this view's memory: one stable object, as CuPy's (the engine
        compares identities to know which gradients it may write into)."""
        base = self._a.base
        if not isinstance(base, np.ndarray):
            return None
        owner = _owners.get(id(base))
        if owner is None or owner._a is not base:
            owner = GuardArray._new(base, self._dev)
            _owners[id(base)] = owner
        return owner

    def item(self, *args):
        return self._a.item(*args)

    def tolist(self):
        return self._a.tolist()

    def get(self, stream=None, order: str = "C", out=None, blocking: bool = True) -> np.ndarray:
        """The explicit copy to host memory (CuPy's `ndarray.get`)."""
        if out is not None:
            out[...] = self._a
            return out
        return np.array(self._a, order=order, copy=True)

    # -- conversions: explicit host copies only --

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            "Implicit conversion of a guard (device) array to a NumPy array is not allowed, as "
            "with CuPy: use .get() or move the tensor with .cpu() first"
        )

    def __bool__(self) -> bool:
        return bool(self._a)

    def __float__(self) -> float:
        return float(self._a)

    def __int__(self) -> int:
        return int(self._a)

    def __complex__(self) -> complex:
        return complex(self._a)

    def __index__(self) -> int:
        return self._a.__index__()

    def __len__(self) -> int:
        return len(self._a)

    def __iter__(self):
        dev = self._dev
        return (_wrap(row, dev) for row in self._a)

    def __format__(self, spec: str) -> str:
        return format(self._a, spec) if self._a.ndim == 0 else format(repr(self), spec)

    def __repr__(self) -> str:
        body = np.array2string(self._a, separator=", ", prefix="guard_array(")
        return f"guard_array({body}, device='guard:{self._dev}')"

    __hash__ = None  # elementwise __eq__, like any ndarray

    def __copy__(self) -> GuardArray:
        return GuardArray._new(self._a.copy(), self._dev)

    def __deepcopy__(self, memo) -> GuardArray:
        return GuardArray._new(self._a.copy(), self._dev)

    def __reduce__(self):
        return (_rebuild, (self._a.copy(), self._dev))

    # -- indexing --

    def __getitem__(self, index):
        c = _Call("__getitem__", self._dev, allow_host=True)  # CuPy accepts host index arrays
        return _wrap(self._a[_unwrap(index, c)], self._dev)

    def __setitem__(self, index, value) -> None:
        c = _Call("__setitem__", self._dev, allow_host=True)
        index = _unwrap(index, c)
        self._a[index] = _unwrap(value, _Call("__setitem__ (value)", self._dev))

    # -- NumPy protocols: ufuncs and array functions run on the wrapped arrays --

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        for x in inputs:
            if not isinstance(x, (GuardArray, *_OPERAND_TYPES)):
                return NotImplemented  # e.g. a Tensor: let it handle the operation
        name = ufunc.__name__ if method == "__call__" else f"{ufunc.__name__}.{method}"
        c = _Call(name)
        args = _unwrap(inputs, c)
        out = kwargs.get("out")
        kwargs = _unwrap_kwargs(kwargs, c)
        result = getattr(ufunc, method)(*args, **kwargs)
        dev = self._dev if c.device is None else c.device
        if out is not None:  # in place: hand back the caller's own arrays
            return out[0] if len(out) == 1 else out
        return _wrap(result, dev)

    def __array_function__(self, func, types_, args, kwargs):
        for t in types_:
            if not issubclass(t, (GuardArray, np.ndarray)):
                return NotImplemented
        c = _Call(f"numpy.{func.__name__}")
        result = func(*_unwrap(args, c), **_unwrap_kwargs(kwargs, c))
        return _wrap(result, self._dev if c.device is None else c.device)


def _rebuild(array: np.ndarray, dev: int) -> GuardArray:
    return GuardArray._new(array, dev)


def _binary(ufunc, reflected: bool = False):
    def method(self, other):
        if not isinstance(other, (GuardArray, *_OPERAND_TYPES)):
            return NotImplemented
        args = (other, self) if reflected else (self, other)
        return self.__array_ufunc__(ufunc, "__call__", *args)

    return method


def _inplace(ufunc):
    def method(self, other):
        if not isinstance(other, (GuardArray, *_OPERAND_TYPES)):
            return NotImplemented
        self.__array_ufunc__(ufunc, "__call__", self, other, out=(self,))
        return self

    return method


def _unary(ufunc):
    return lambda self: self.__array_ufunc__(ufunc, "__call__", self)


for _name, _uf in dict(
    add=np.add, sub=np.subtract, mul=np.multiply, truediv=np.true_divide,
    floordiv=np.floor_divide, mod=np.remainder, pow=np.power, matmul=np.matmul,
    and_=np.bitwise_and, or_=np.bitwise_or, xor=np.bitwise_xor, lshift=np.left_shift,
    rshift=np.right_shift,
).items():  # fmt: skip
    _name = _name.rstrip("_")
    setattr(GuardArray, f"__{_name}__", _binary(_uf))
    setattr(GuardArray, f"__r{_name}__", _binary(_uf, reflected=True))
    setattr(GuardArray, f"__i{_name}__", _inplace(_uf))
for _name, _uf in dict(
    eq=np.equal, ne=np.not_equal, lt=np.less, le=np.less_equal, gt=np.greater,
    ge=np.greater_equal,
).items():  # fmt: skip
    setattr(GuardArray, f"__{_name}__", _binary(_uf))
for _name, _uf in dict(neg=np.negative, pos=np.positive, abs=np.absolute, invert=np.invert).items():
    setattr(GuardArray, f"__{_name}__", _unary(_uf))


# --- the namespace ----------------------------------------------------------------------------

# The explicit host -> device transfers: the only functions that accept NumPy arrays.
_TRANSFERS = frozenset({"asarray", "array"})


class _GuardUfunc:
    """A NumPy ufunc whose calls and methods (`at`, `reduce`, ...) give guard arrays."""

    def __init__(self, ufunc: np.ufunc, module: _GuardModule):
        self._ufunc = ufunc
        self._module = module

    def __call__(self, *args, **kwargs):
        return self._module._call(self._ufunc, self._ufunc.__name__, args, kwargs)

    def __getattr__(self, name: str) -> Any:
        if name not in CUPY_NAMES["ufunc"] and not name.startswith("__"):
            raise AttributeError(_not_in_cupy("cupy.ufunc", name, f"numpy.ufunc.{name}"))
        value = getattr(self._ufunc, name)
        if not callable(value):
            return value
        return lambda *args, **kwargs: self._module._call(
            value, f"{self._ufunc.__name__}.{name}", args, kwargs
        )


class _GuardModule:
    """NumPy (or one of its submodules) as CuPy would be: functions take and give guard arrays.

    `device` None: factory functions create on the current guard device; an int binds them.
    """

    def __init__(self, module: types.ModuleType, device: int | None = None):
        self._module = module
        self._device = device

    def _call(self, fn, name: str, args, kwargs):
        c = _Call(f"xp.{name}", allow_host=name in _TRANSFERS)
        result = fn(*_unwrap(args, c), **_unwrap_kwargs(kwargs, c))
        if c.device is None:
            c.device = _current.index if self._device is None else self._device
        if name in _TRANSFERS:  # a host array becomes a guard array (a copy, as to a GPU)
            if isinstance(result, np.ndarray) and any(r is result for r in _host_arrays(args)):
                result = result.copy()
        return _wrap(result, c.device)

    def __getattr__(self, name: str) -> Any:
        if name == "ndarray":
            return GuardArray
        if name == "asnumpy":
            return _asnumpy
        where = "cupy" + self._module.__name__.removeprefix("numpy")
        allowed = CUPY_NAMES.get(where)
        if allowed is None:
            raise AttributeError(
                f"{where}.{name}: the guard backend's snapshot of CuPy's API "
                f"(minigrad/_cupy_api.py) does not cover {where}; add it there if CuPy has it"
            )
        if name not in allowed and not name.startswith("__"):
            raise AttributeError(_not_in_cupy(where, name, f"{self._module.__name__}.{name}"))
        value = getattr(self._module, name)
        if isinstance(value, types.ModuleType):
            value = _GuardModule(value, self._device)
        elif isinstance(value, np.ufunc):
            value = _GuardUfunc(value, self)
        elif callable(value) and not isinstance(value, type):
            fn = value
            value = lambda *args, **kwargs: self._call(fn, name, args, kwargs)  # noqa: E731
        setattr(self, name, value)
        return value


def _not_in_cupy(where: str, name: str, numpy_name: str) -> str:
    return (
        f"module '{where}' has no attribute '{name}': {numpy_name} is NumPy-only (CuPy "
        f"{CUPY_VERSION} lacks it), so code that runs on CUDA tensors must not use it (guard "
        f"backend)"
    )


def _host_arrays(args) -> list:
    return [a for a in args if isinstance(a, np.ndarray)]


def _asnumpy(a, stream=None, order: str = "C", out=None) -> np.ndarray:
    """The explicit device -> host copy (`cupy.asnumpy`)."""
    if isinstance(a, GuardArray):
        return a.get(order=order, out=out)
    return np.asarray(a, order=order)


class GuardGenerator:
    """The generator `xp.rng()` gives: CuPy's Generator API, guard arrays out.

    Backed by NumPy's PCG64 so that, seeded alike, cpu and guard draw the same numbers (CPU/guard
    agreement tests rely on it).
    """

    def __init__(self, seed: int, device: int | None):
        self._rng = np.random.default_rng(seed)
        self._device = device

    def _dev(self) -> int:
        return _current.index if self._device is None else self._device

    def random(self, size=None, dtype=np.float64, out=None):
        return _wrap(np.asarray(self._rng.random(size, dtype=dtype)), self._dev())

    def uniform(self, low=0.0, high=1.0, size=None, dtype=np.float64):
        return _wrap(np.asarray(self._rng.uniform(low, high, size)).astype(dtype), self._dev())

    def standard_normal(self, size=None, dtype=np.float64, out=None):
        return _wrap(np.asarray(self._rng.standard_normal(size, dtype=dtype)), self._dev())

    def integers(self, low, high=None, size=None, dtype=np.int64, endpoint=False):
        draw = self._rng.integers(low, high, size=size, dtype=dtype, endpoint=endpoint)
        return _wrap(np.asarray(draw), self._dev())

    def permutation(self, n: int):
        return _wrap(self._rng.permutation(int(n)), self._dev())


# --- the backend ------------------------------------------------------------------------------

_seed = {"seed": 0}
_generators: dict[int | None, GuardGenerator] = {}


def _rng_for(device: int | None):
    def rng() -> GuardGenerator:
        index = _current.index if device is None else device
        generator = _generators.get(index)
        if generator is None:
            generator = _generators[index] = GuardGenerator(_seed["seed"], index)
        return generator

    return rng


def _manual_seed(seed: int) -> None:
    _seed["seed"] = seed
    _generators.clear()


def _scatter_add(out: GuardArray, index: tuple, values: GuardArray) -> None:
    index = _unwrap(index, _Call("scatter_add (index)", out._dev, allow_host=True))
    np.add.at(out._a, index, _unwrap(values, _Call("scatter_add", out._dev)))


def _erf(x: GuardArray) -> GuardArray:
    from minigrad._erf import erf

    return _wrap(erf(_unwrap(x, _Call("erf"))), x._dev)


def _namespace(dev: int | None) -> ArrayNamespace:
    module = _GuardModule(np, dev)
    return ArrayNamespace(
        module, unindex=_make_unindex(module, _scatter_add), erf=_erf, rng=_rng_for(dev)
    )


_namespaces: dict[Device, ArrayNamespace] = {}


def _namespace_on(device: Device) -> ArrayNamespace:
    ns = _namespaces.get(device)
    if ns is None:
        ns = _namespaces[device] = _namespace(device.index)
    return ns


def _from_host(array: np.ndarray, device: Device) -> GuardArray:
    return GuardArray._new(np.array(array, copy=True), device.index)


def _move(array: GuardArray, device: Device) -> GuardArray:
    return GuardArray._new(array._a.copy(), device.index)


guard_backend = register_backend(
    Backend(
        "guard",
        _namespace(None),
        GuardArray,
        lambda array: Device("guard", array._dev),
        _manual_seed,
        device_type="guard",
        to_host=lambda array: array.get(),
        from_host=_from_host,
        move=_move,
        namespace=_namespace_on,
        multi_device=True,
    )
)


# --- the CuPy API snapshot ------------------------------------------------------------------

_SNAPSHOT_MODULES = (
    "cupy",
    "cupy.linalg",
    "cupy.random",
    "cupy.fft",
    "cupy.lib",
    "cupy.lib.stride_tricks",
)


def write_cupy_api(path: str) -> None:
    """Write the public names of CuPy's namespaces (the installed CuPy's) as a Python module."""
    import importlib
    import textwrap

    import cupy

    names = {m: sorted(n for n in dir(importlib.import_module(m)) if not n.startswith("_"))
             for m in _SNAPSHOT_MODULES}  # fmt: skip
    names["ufunc"] = sorted(n for n in dir(cupy.add) if not n.startswith("_"))
    lines = [
        f'"""Public names of CuPy {cupy.__version__}\'s namespaces, for the guard backend '
        '(generated by\n`python -m minigrad.guard` where CuPy is installed; do not edit)."""',
        "",
        f'CUPY_VERSION = "{cupy.__version__}"',
        "",
        "CUPY_NAMES = {",
    ]
    for module, module_names in names.items():
        lines.append(f'    "{module}": frozenset(')
        lines.append('        """')
        lines += textwrap.wrap(" ".join(module_names), 90, initial_indent=" " * 8,
                               subsequent_indent=" " * 8, break_on_hyphens=False)  # fmt: skip
        lines += ['        """.split()', "    ),"]
    lines += ["}", ""]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    import os

    write_cupy_api(os.path.join(os.path.dirname(os.path.abspath(__file__)), "_cupy_api.py"))

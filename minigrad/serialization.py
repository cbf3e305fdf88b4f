"""`save` / `load`: state dicts (and nested Python structures holding tensors) in the
safetensors format. Never pickle: loading parses JSON and raw array bytes, so a file cannot
run code.

A flat `{str: Tensor}` dict (a module's `state_dict()`) is written as plain safetensors, keys and
layouts unchanged, so files written by `safetensors.torch.save_file(model.state_dict(), path)`
load with `mg.load` and the other way round. Anything else (an optimizer's state dict: ints,
floats, bools, None, strings, lists, tuples, nested dicts, tensors) is flattened: each tensor is
stored under a dotted key (`state.0.exp_avg`), and a JSON description of the structure goes into
the safetensors metadata under `minigrad.structure`, so that ints stay ints, tuples stay tuples and
every tensor keeps its dtype.

Whole objects (`mg.save(model, f)`, as PyTorch programs write) are stored the same way: the
object's class by qualified name and its `__dict__` as data (parameters, buffers, submodules,
plain attributes). Loading follows torch >= 2.6's rules: with `weights_only=True` (the default)
only classes the user allowlisted (`add_safe_globals`, `safe_globals`) are rebuilt, anything else
raises `pickle.UnpicklingError` naming the class and how to allow it. `weights_only=False` also
rebuilds classes whose module is already imported (no import runs). In both cases rebuilding an
object is `object.__new__(cls)` plus its saved `__dict__`: no `__init__`, `__setstate__` or
other code of the class runs, and nothing is unpickled, so a file cannot run code. Objects holding
functions (hooks, lambdas) cannot be saved: save their state_dict instead.

Writing a path is atomic: the bytes go to a unique temporary file in the same directory
(`tempfile`, so concurrent saves never share one), are fsynced, renamed over the target, and the
directory is fsynced; a failed save removes its temporary file.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import pickle
import sys
import tempfile
import threading
import types
from collections import OrderedDict
from typing import Any

import numpy as np

from minigrad.backend import Device
from minigrad.tensor import Tensor

STRUCTURE_KEY = "minigrad.structure"
ORDER_KEY = "minigrad.order"  # key order of a flat state dict (safetensors sorts its header)
_FORMAT_VERSION = 1
_SCALARS = (bool, int, float, str, type(None))


def _safetensors_numpy():
    try:
        import safetensors.numpy as st
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "mg.save / mg.load use the safetensors format: pip install safetensors "
            "(or pip install 'minigrad[io]')"
        ) from None
    return st


# --- saving ------------------------------------------------------------------------------------


def save(obj: Any, f: str | os.PathLike | io.IOBase) -> None:
    """Write `obj` (a state dict, or nested dicts/lists/tuples of tensors and plain values) to
    `f` (a path or a binary file object) in safetensors format."""
    st = _safetensors_numpy()
    tensors: dict[str, np.ndarray] = {}
    if _is_flat_state_dict(obj):
        for key, t in obj.items():
            tensors[key] = _host_array(t)
        metadata = {ORDER_KEY: json.dumps(list(obj))}
    else:
        structure = _encode(obj, "", tensors)
        metadata = {
            STRUCTURE_KEY: json.dumps({"version": _FORMAT_VERSION, "root": structure}),
        }
    data = st.save(tensors, metadata=metadata)
    if hasattr(f, "write"):
        f.write(data)
        return
    _write_atomically(os.fspath(f), data)


def _write_atomically(path: str, data: bytes) -> None:
    """Write to a unique temporary file beside `path`, fsync it, rename it over `path`, fsync the
    directory: readers see the old file or the new one, never a partial or empty one."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # platforms that cannot open a directory (Windows)
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _is_flat_state_dict(obj: Any) -> bool:
    return (
        isinstance(obj, dict)  # OrderedDict from Module.state_dict() too
        and len(obj) > 0
        and all(type(k) is str and isinstance(v, Tensor) for k, v in obj.items())
    )


def _host_array(t: Tensor) -> np.ndarray:
    return np.asarray(t.detach()._host(), order="C")  # keeps 0-d shapes


def _tensor_key(path: str, tensors: dict) -> str:
    key = path or "tensor"
    n = 1
    while key in tensors:  # a dict key containing dots could collide with a nested path
        key = f"{path}#{n}"
        n += 1
    return key


def _encode(obj: Any, path: str, tensors: dict[str, np.ndarray]) -> Any:
    """A JSON-able description of `obj`; tensors go into `tensors` under dotted keys."""
    if obj is None:
        return None
    if isinstance(obj, bool):  # before int: bool is an int subclass
        return {"bool": obj}
    if isinstance(obj, int):
        return {"int": str(obj)}
    if isinstance(obj, float):
        return {"float": repr(obj)}  # repr round-trips exactly, including inf and nan
    if isinstance(obj, str):
        return {"str": obj}
    if isinstance(obj, Tensor):
        key = _tensor_key(path, tensors)
        tensors[key] = _host_array(obj)
        if _is_parameter(obj):
            return {"parameter": key, "requires_grad": obj.requires_grad}
        node = {"tensor": key}
        if obj.requires_grad:
            node["requires_grad"] = True
        return node
    if isinstance(obj, np.ndarray):
        key = _tensor_key(path, tensors)
        tensors[key] = np.asarray(obj, order="C")
        return {"ndarray": key}
    if isinstance(obj, np.generic):
        key = _tensor_key(path, tensors)
        tensors[key] = np.asarray(obj)
        return {"numpy_scalar": key}
    prefix = f"{path}." if path else ""
    if isinstance(obj, (list, tuple)):
        items = [_encode(v, f"{prefix}{i}", tensors) for i, v in enumerate(obj)]
        return {"tuple" if isinstance(obj, tuple) else "list": items}
    if isinstance(obj, (set, frozenset)):
        return {"set": [_encode(v, "", {}) for v in sorted(obj, key=repr)]}
    if isinstance(obj, np.dtype):
        return {"dtype": obj.str}
    if isinstance(obj, Device):
        return {"device": str(obj)}
    if type(obj) in (dict, OrderedDict):
        pairs = []
        for k, v in obj.items():
            if not isinstance(k, _SCALARS) and not isinstance(k, tuple):
                raise TypeError(
                    f"mg.save: dict keys must be str, int, float, bool, None or tuples of them; "
                    f"got a {type(k).__name__} key at {path or '<root>'!r}"
                )
            pairs.append([_encode(k, "", {}), _encode(v, f"{prefix}{k}", tensors)])
        return {"odict" if type(obj) is OrderedDict else "dict": pairs}
    if _savable_object(obj):
        cls = type(obj)
        return {"object": _qualified_name(cls), "state": _encode(dict(obj.__dict__), path, tensors)}
    raise TypeError(
        f"mg.save cannot store a {type(obj).__name__} (at {path or '<root>'!r}): only tensors, "
        "NumPy arrays, numbers, strings, None, lists, tuples, sets, dicts and objects of classes "
        "whose __dict__ holds those (nothing is pickled: functions, hooks and lambdas cannot "
        "be stored; save a state_dict instead)"
    )


def _is_parameter(t: Tensor) -> bool:
    from minigrad.nn.module import Parameter

    return isinstance(t, Parameter)


def _qualified_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _savable_object(obj: Any) -> bool:
    """An instance of a class importable by name whose state is its `__dict__`."""
    cls = type(obj)
    return (
        hasattr(obj, "__dict__")
        and not isinstance(
            obj,
            (
                type,
                types.FunctionType,
                types.MethodType,
                types.ModuleType,
                types.BuiltinFunctionType,
                io.IOBase,
            ),
        )  # fmt: skip
        and "<locals>" not in cls.__qualname__
    )


def _is_module(obj: Any) -> bool:
    from minigrad.nn.module import Module

    return isinstance(obj, Module)


# --- the allowlist (torch.serialization's safe globals) ----------------------------------------

_safe_globals: list = []
_safe_lock = threading.Lock()


def add_safe_globals(safe_globals: list) -> None:
    """Allow `load(weights_only=True)` to rebuild objects of these classes."""
    with _safe_lock:
        for g in safe_globals:
            if isinstance(g, tuple):  # torch's (obj, "module.name") form
                g = g[0]
            if g not in _safe_globals:
                _safe_globals.append(g)


def get_safe_globals() -> list:
    with _safe_lock:
        return list(_safe_globals)


def clear_safe_globals() -> None:
    with _safe_lock:
        _safe_globals.clear()


class safe_globals:
    """Allow these classes for the loads inside the block (torch.serialization.safe_globals)."""

    def __init__(self, safe_globals: list):
        self.safe_globals = safe_globals
        self._saved: list | None = None

    def __enter__(self):
        self._saved = get_safe_globals()
        add_safe_globals(self.safe_globals)

    def __exit__(self, *exc) -> None:
        with _safe_lock:
            _safe_globals[:] = self._saved or []


def _resolve_class(name: str, weights_only: bool, where: str) -> type:
    for g in get_safe_globals():
        if isinstance(g, type) and _qualified_name(g) == name:
            return g
    if not weights_only:
        module_name, _, qualname = name.rpartition(".")
        while module_name and module_name not in sys.modules:  # nested classes: a.B.C
            module_name, _, head = module_name.rpartition(".")
            qualname = f"{head}.{qualname}"
        obj = sys.modules.get(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part, None)
        if isinstance(obj, type):
            return obj
        raise pickle.UnpicklingError(
            f"Can't get attribute {name!r} (at {where}): load(weights_only=False) rebuilds "
            f"classes of modules that are already imported, and no imported module defines it; "
            f"import the module that defines it first"
        )
    short = name.rpartition(".")[2]
    raise pickle.UnpicklingError(
        "Weights only load failed. In PyTorch 2.6 (and minigrad), the default value of the "
        "`weights_only` argument in `load` is True: only allowlisted classes are rebuilt.\n"
        f"WeightsUnpickler error: Unsupported global: GLOBAL {name} was not an allowed global "
        f"by default. Please use `mg.serialization.add_safe_globals([{short}])` or the "
        f"`mg.serialization.safe_globals([{short}])` context manager to allowlist this global "
        f"if you trust this class/function; or load with weights_only=False (which, in "
        f"minigrad, still runs no code of the file's)."
    )


# --- loading -----------------------------------------------------------------------------------


def load(
    f: str | os.PathLike | io.IOBase,
    map_location: str | Device | None = None,
    pickle_module: Any = None,
    *,
    weights_only: bool | None = None,
    mmap: bool | None = None,
    **pickle_load_args: Any,
) -> Any:
    """Read what `save` wrote (or any safetensors file: a dict of tensors).

    `map_location` (`None`, `"cpu"`, `"cuda"`, `"cuda:1"`, or a device) says where the tensors go.
    Corrupt or inconsistent files raise `ValueError` naming the file and the problem. Objects
    other than tensors and plain data are rebuilt only from allowlisted classes unless
    `weights_only=False` (see the module docstring); `pickle_module`, `mmap` and extra keyword
    arguments are accepted for compatibility (nothing is unpickled).
    """
    weights_only = True if weights_only is None else bool(weights_only)
    st = _safetensors_numpy()
    if hasattr(f, "read"):
        name, data = getattr(f, "name", "<file object>"), f.read()
    else:
        name = os.fspath(f)
        with open(name, "rb") as fh:
            data = fh.read()
    device = _target_device(map_location)
    header, metadata = _read_header(data, name)
    try:
        arrays = st.load(data)
    except Exception as e:  # SafetensorError: offsets, dtypes, sizes
        raise ValueError(f"{name}: corrupt safetensors file: {e}") from None

    def to_tensor(array: np.ndarray, requires_grad: bool = False) -> Tensor:
        if not array.flags.writeable or not array.flags.c_contiguous:
            array = np.array(array, copy=True)
        t = Tensor._make(array)
        if device is not None and device.type != "cpu":
            t = t.to(device)
        if requires_grad:
            t.requires_grad_(True)
        return t

    text = metadata.get(STRUCTURE_KEY)
    if text is None:
        return {key: to_tensor(arrays[key]) for key in _flat_order(header, metadata, arrays, name)}
    try:
        described = json.loads(text)
    except (json.JSONDecodeError, TypeError) as e:
        raise ValueError(
            f"{name}: the '{STRUCTURE_KEY}' metadata is not valid JSON ({e})"
        ) from None
    if not isinstance(described, dict) or set(described) != {"version", "root"}:
        raise ValueError(f"{name}: the '{STRUCTURE_KEY}' metadata has an unknown layout")
    if described["version"] != _FORMAT_VERSION:
        raise ValueError(
            f"{name}: structure format version {described['version']!r} is not supported "
            f"(this minigrad reads version {_FORMAT_VERSION})"
        )
    used: set[str] = set()
    decoder = _Decoder(name, arrays, used, to_tensor)
    decoder.weights_only = weights_only
    result = decoder.decode(described["root"], "<root>")
    unused = set(arrays) - used
    if unused:
        raise ValueError(
            f"{name}: the file holds tensors its structure metadata does not mention: "
            f"{sorted(unused)[:5]}"
        )
    return result


def _target_device(map_location) -> Device | None:
    if map_location is None:
        return None
    if isinstance(map_location, (str, Device)):
        device = Device(map_location)
        return Device("cuda", 0) if device.type == "cuda" and device.index is None else device
    raise TypeError(
        f"map_location must be None, a device string like 'cpu' or 'cuda:0', or a device; "
        f"got {type(map_location).__name__}"
    )


def _read_header(data: bytes, name: str) -> tuple[dict, dict[str, str]]:
    """Check the header's framing and JSON; return it and its `__metadata__` (str -> str)."""
    if len(data) < 8:
        raise ValueError(f"{name}: not a safetensors file (only {len(data)} bytes; truncated?)")
    n = int.from_bytes(data[:8], "little")
    if n > len(data) - 8:
        raise ValueError(
            f"{name}: not a safetensors file or truncated: the header claims {n} bytes but only "
            f"{len(data) - 8} follow"
        )
    try:
        header = json.loads(data[8 : 8 + n])
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{name}: corrupt safetensors header (invalid JSON: {e})") from None
    if not isinstance(header, dict):
        raise ValueError(f"{name}: corrupt safetensors header (expected a JSON object)")
    metadata = header.get("__metadata__") or {}
    if not isinstance(metadata, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()
    ):
        raise ValueError(f"{name}: corrupt safetensors header (__metadata__ must map str to str)")
    return header, metadata


def _flat_order(header: dict, metadata: dict, arrays: dict, name: str) -> list[str]:
    """The keys in the order they were saved (else in the order the header lists them)."""
    text = metadata.get(ORDER_KEY)
    if text is None:
        return [k for k in header if k != "__metadata__" and k in arrays]
    try:
        order = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"{name}: the '{ORDER_KEY}' metadata is not valid JSON ({e})") from None
    if not isinstance(order, list) or sorted(map(str, order)) != sorted(arrays):
        raise ValueError(f"{name}: the '{ORDER_KEY}' metadata does not list the file's tensors")
    return order


class _Decoder:
    """Rebuild the object from its JSON description, validating every node (no eval, no pickle)."""

    def __init__(self, name: str, arrays: dict, used: set, to_tensor):
        self.name = name
        self.arrays = arrays
        self.used = used
        self.to_tensor = to_tensor

    def fail(self, where: str, problem: str) -> ValueError:
        return ValueError(f"{self.name}: corrupt structure metadata at {where}: {problem}")

    def array(self, key: Any, where: str) -> np.ndarray:
        if not isinstance(key, str):
            raise self.fail(where, f"tensor key must be a string, got {key!r}")
        if key not in self.arrays:
            raise self.fail(where, f"refers to tensor {key!r}, which the file does not contain")
        self.used.add(key)
        return self.arrays[key]

    def decode(self, node: Any, where: str) -> Any:
        if node is None:
            return None
        if not isinstance(node, dict) or not node:
            raise self.fail(where, f"expected an object with one tag, got {node!r:.80}")
        tag = next(iter(node))
        value = node[tag]
        extra = set(node) - {tag, "requires_grad", "state"}
        if (
            extra
            or ("requires_grad" in node and tag not in ("tensor", "parameter"))
            or (("state" in node) != (tag == "object"))
        ):
            raise self.fail(where, f"unexpected fields {sorted(set(node) - {tag})}")
        if tag == "bool":
            if not isinstance(value, bool):
                raise self.fail(where, f"bool expected, got {value!r:.80}")
            return value
        if tag in ("int", "float", "str"):
            if not isinstance(value, str):
                raise self.fail(where, f"{tag} must be stored as a string, got {value!r:.80}")
            try:
                return int(value) if tag == "int" else float(value) if tag == "float" else value
            except ValueError:
                raise self.fail(where, f"{value!r:.80} is not a valid {tag}") from None
        if tag == "tensor":
            requires_grad = node.get("requires_grad", False)
            if not isinstance(requires_grad, bool):
                raise self.fail(where, "requires_grad must be true or false")
            return self.to_tensor(self.array(value, where), requires_grad)
        if tag == "parameter":
            from minigrad.nn.module import Parameter

            requires_grad = node.get("requires_grad", True)
            if not isinstance(requires_grad, bool):
                raise self.fail(where, "requires_grad must be true or false")
            return Parameter(self.to_tensor(self.array(value, where)), requires_grad)
        if tag == "set":
            if not isinstance(value, list):
                raise self.fail(where, "set items must be a JSON array")
            items = [self.decode(v, f"{where}{{{i}}}") for i, v in enumerate(value)]
            try:
                return set(items)
            except TypeError:
                raise self.fail(where, "set items must be hashable") from None
        if tag == "dtype":
            try:
                return np.dtype(str(value))
            except TypeError:
                raise self.fail(where, f"{value!r:.80} is not a dtype") from None
        if tag == "device":
            try:
                return Device(str(value))
            except ValueError as e:
                raise self.fail(where, str(e)) from None
        if tag == "object":
            if not isinstance(value, str):
                raise self.fail(where, "an object's class must be a string")
            cls = _resolve_class(value, self.weights_only, where)
            state = self.decode(node["state"], f"{where}.__dict__")
            if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
                raise self.fail(where, "an object's state must be a dict with str keys")
            obj = object.__new__(cls)
            obj.__dict__.update(state)  # no __init__ / __setstate__: no code of the class runs
            return obj
        if tag == "ndarray":
            return np.array(self.array(value, where), copy=True)
        if tag == "numpy_scalar":
            array = self.array(value, where)
            if array.ndim != 0:
                raise self.fail(where, f"a NumPy scalar must be 0-d, got shape {array.shape}")
            return array[()]
        if tag in ("list", "tuple"):
            if not isinstance(value, list):
                raise self.fail(where, f"{tag} items must be a JSON array")
            items = [self.decode(v, f"{where}[{i}]") for i, v in enumerate(value)]
            return tuple(items) if tag == "tuple" else items
        if tag in ("dict", "odict"):
            if not isinstance(value, list):
                raise self.fail(where, "dict items must be a JSON array of [key, value] pairs")
            out = {}
            for i, pair in enumerate(value):
                if not isinstance(pair, list) or len(pair) != 2:
                    raise self.fail(where, f"dict item {i} is not a [key, value] pair")
                key = self.decode(pair[0], f"{where} key {i}")
                try:
                    hash(key)
                except TypeError:
                    raise self.fail(where, f"dict key {key!r:.80} is not hashable") from None
                out[key] = self.decode(pair[1], f"{where}[{key!r}]")
            return OrderedDict(out) if tag == "odict" else out
        raise self.fail(where, f"unknown tag {tag!r:.80}")

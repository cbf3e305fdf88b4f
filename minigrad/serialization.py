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
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from typing import Any

import numpy as np

from minigrad.backend import Device
from minigrad.tensor import Tensor

STRUCTURE_KEY = "minigrad.structure"
# SHA-256 over the tensors (names, dtypes, shapes, bytes) and the other metadata: safetensors has
# no checksum of its own, so without it a flipped bit loads as a silently wrong value
CHECKSUM_KEY = "minigrad.sha256"
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
    metadata[CHECKSUM_KEY] = _checksum(tensors, metadata)
    data = st.save(tensors, metadata=metadata)
    if hasattr(f, "write"):
        f.write(data)
        return
    path = os.fspath(f)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as fh:  # write then rename: a crash never leaves a half-written file
        fh.write(data)
    os.replace(tmp, path)


def _checksum(arrays: dict[str, np.ndarray], metadata: dict[str, str]) -> str:
    digest = hashlib.sha256()
    for key in sorted(arrays):
        a = np.ascontiguousarray(arrays[key])
        digest.update(json.dumps([key, a.dtype.str, list(a.shape)]).encode())
        digest.update(a.tobytes())
    others = {k: v for k, v in metadata.items() if k != CHECKSUM_KEY}
    digest.update(json.dumps(others, sort_keys=True).encode())
    return digest.hexdigest()


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
    if isinstance(obj, dict):
        pairs = []
        for k, v in obj.items():
            if not isinstance(k, _SCALARS) and not isinstance(k, tuple):
                raise TypeError(
                    f"mg.save: dict keys must be str, int, float, bool, None or tuples of them; "
                    f"got a {type(k).__name__} key at {path or '<root>'!r}"
                )
            pairs.append([_encode(k, "", {}), _encode(v, f"{prefix}{k}", tensors)])
        return {"dict": pairs}
    raise TypeError(
        f"mg.save cannot store a {type(obj).__name__} (at {path or '<root>'!r}): only tensors, "
        "NumPy arrays, numbers, strings, None, lists, tuples and dicts (nothing is pickled)"
    )


# --- loading -----------------------------------------------------------------------------------


def load(f: str | os.PathLike | io.IOBase, map_location: str | Device | None = None) -> Any:
    """Read what `save` wrote (or any safetensors file: a dict of tensors).

    `map_location` (`None`, `"cpu"`, `"cuda"`, `"cuda:1"`, or a device) says where the tensors go.
    Corrupt or inconsistent files raise `ValueError` naming the file and the problem.
    """
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
    expected = metadata.get(CHECKSUM_KEY)
    if expected is not None and _checksum(arrays, metadata) != expected:
        raise ValueError(
            f"{name}: corrupt file: its contents do not match the checksum saved with them"
        )

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
    result = _Decoder(name, arrays, used, to_tensor).decode(described["root"], "<root>")
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
        extra = set(node) - {tag, "requires_grad"}
        if extra or ("requires_grad" in node and tag != "tensor"):
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
        if tag == "dict":
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
            return out
        raise self.fail(where, f"unknown tag {tag!r:.80}")

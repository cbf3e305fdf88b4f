"""`nn.Module`, `nn.Parameter` and the containers (`Sequential`, `ModuleList`, `ModuleDict`).

A Module keeps three ordered registries, filled by plain attribute assignment as in PyTorch:
`_parameters`, `_buffers` and `_modules`. Everything else (parameter iteration with dotted names,
`state_dict`, `to()`, `train()`, hooks, repr) walks those registries. Loading a state dict
validates every key and shape first and assigns only when all of them fit, so a failed load
leaves the module unchanged (PyTorch half-loads; we don't).
"""

from __future__ import annotations

import copy
import itertools
import warnings
from collections import OrderedDict, namedtuple
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from minigrad import autograd, dtypes
from minigrad.autograd import apply, defop
from minigrad.backend import _BACKENDS, Device
from minigrad.tensor import Tensor


class Parameter(Tensor):
    """A Tensor that a Module registers as a parameter when assigned as an attribute.

    It shares storage with the tensor it wraps and requires grad by default. Ops treat it like any
    Tensor (their outputs are plain Tensors).
    """

    __slots__ = ()

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True):
        if data is None:
            data = Tensor._make(_empty_default())
        array = data._data if isinstance(data, Tensor) else data
        if type(array) not in _BACKENDS:
            raise TypeError(f"Parameter expects a Tensor, got {type(data).__name__}")
        self._init(array, requires_grad)
        if isinstance(data, Tensor):
            self._vc = data._vc  # same storage, same version counter

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __reduce__(self):  # same policy as Tensor: no pickle
        return Tensor.__reduce__(self)


def _empty_default():
    import numpy as np

    return np.empty((0,), dtype=dtypes.get_default_dtype())


class RemovableHandle:
    """Returned by `register_*_hook`: `handle.remove()` unregisters the hook (also a context
    manager that removes it on exit)."""

    _ids = itertools.count()

    def __init__(self, registry: dict):
        self._registry = registry
        self._flags: list[set] = []  # sets that mark this hook (with_kwargs, always_call)
        self.id = next(self._ids)

    def remove(self) -> None:
        self._registry.pop(self.id, None)
        for flags in self._flags:
            flags.discard(self.id)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def _add_hook(registry: dict, hook: Callable, prepend: bool) -> RemovableHandle:
    handle = RemovableHandle(registry)
    registry[handle.id] = hook
    if prepend:
        registry.move_to_end(handle.id, last=False)
    return handle


# Hooks on every module's call, run before each module's own (PyTorch's
# torch.nn.modules.module.register_module_forward_pre_hook / _forward_hook): tools such as
# viz.record_modules watch module calls through them instead of patching Module.__call__.
_global_forward_pre_hooks: OrderedDict = OrderedDict()
_global_forward_hooks: OrderedDict = OrderedDict()
_global_forward_hooks_always_called: set = set()


def register_module_forward_pre_hook(hook: Callable) -> RemovableHandle:
    """`hook(module, args)` runs before every module's forward (before the module's own
    pre-hooks); returning a value replaces `args` (a non-tuple becomes `(value,)`)."""
    return _add_hook(_global_forward_pre_hooks, hook, False)


def register_module_forward_hook(hook: Callable, *, always_call: bool = False) -> RemovableHandle:
    """`hook(module, args, output)` runs after every module's forward (before the module's own
    forward hooks); returning a value replaces the output. With `always_call=True` it also runs
    when the call raises, with output None, and the error then propagates."""
    handle = _add_hook(_global_forward_hooks, hook, False)
    if always_call:
        _global_forward_hooks_always_called.add(handle.id)
        handle._flags.append(_global_forward_hooks_always_called)
    return handle


_IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])

# An identity op whose node marks a module boundary for full backward hooks.
_BOUNDARY = defop("backward_hook", lambda xp, x: x, x=lambda g: g)  # d/dx x = 1


class Module:
    """Base class of every layer and model: subclass it, assign Parameters / Modules / buffers
    as attributes in `__init__`, and write `forward`. Call the module, not `forward`, so hooks
    run."""

    training: bool

    def __init__(self, *args, **kwargs) -> None:
        if args or kwargs:
            raise TypeError(
                f"Module.__init__() takes no arguments, got {len(args)} positional and "
                f"{sorted(kwargs)} keyword"
            )
        d = self.__dict__
        d["training"] = True
        d["_parameters"] = OrderedDict()
        d["_buffers"] = OrderedDict()
        d["_non_persistent_buffers_set"] = set()
        d["_modules"] = OrderedDict()
        d["_forward_hooks"] = OrderedDict()
        d["_forward_hooks_with_kwargs"] = set()
        d["_forward_pre_hooks"] = OrderedDict()
        d["_forward_pre_hooks_with_kwargs"] = set()
        d["_backward_hooks"] = OrderedDict()

    forward: Callable[..., Any]

    def forward(self, *args, **kwargs):  # noqa: F811
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    # --- attribute registration ---

    def _check_init(self) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign to a {type(self).__name__} before Module.__init__() call "
                f"(call super().__init__() first)"
            )

    def __setattr__(self, name: str, value: Any) -> None:
        params = self.__dict__.get("_parameters")
        if isinstance(value, Parameter):
            self._check_init()
            self._forget(name)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                    f"(nn.Parameter or None expected)"
                )
            params[name] = None
        elif isinstance(value, Module):
            self._check_init()
            self._forget(name)
            self._modules[name] = value
        elif "_modules" in self.__dict__ and name in self._modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as child module '{name}' "
                    f"(nn.Module or None expected)"
                )
            self._modules[name] = None
        elif "_buffers" in self.__dict__ and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                    f"(Tensor or None expected)"
                )
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str) -> None:
        """Drop `name` from every registry and the instance dict (before re-registering it)."""
        d = self.__dict__
        d.pop(name, None)
        for registry in ("_parameters", "_buffers", "_modules"):
            d[registry].pop(name, None)
        d["_non_persistent_buffers_set"].discard(name)

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: look in the registries.
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry in d and name in d[registry]:
                return d[registry][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        for registry in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(registry, ()):
                del self.__dict__[registry][name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        keys = list(super().__dir__())
        return sorted(set(keys) | set(self._parameters) | set(self._buffers) | set(self._modules))

    @staticmethod
    def _check_name(name: Any, kind: str, owner: Module) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')
        if "." in name:
            raise KeyError(f'{kind} name can\'t contain ".", got: {name}')

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        self._check_init()
        self._check_name(name, "parameter", self)
        if hasattr(type(self), name) or (name in self.__dict__ and name not in self._parameters):
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                f"(nn.Parameter or None required)"
            )
        if param is not None and param.grad_fn is not None:
            raise ValueError(
                f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be "
                f"created explicitly (wrap a detached tensor: nn.Parameter(t.detach()))."
            )
        self._buffers.pop(name, None)
        self._modules.pop(name, None)
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """A tensor that is state but not a parameter (running statistics, masks). Persistent
        buffers are part of `state_dict`."""
        self._check_init()
        self._check_name(name, "buffer", self)
        if hasattr(type(self), name) or (name in self.__dict__ and name not in self._buffers):
            raise KeyError(f"attribute '{name}' already exists")
        if name in self._parameters or name in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                f"(Tensor or None required)"
            )
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        self._check_init()
        self._check_name(name, "module", self)
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        if hasattr(type(self), name) or (name in self.__dict__ and name not in self._modules):
            raise KeyError(f"attribute '{name}' already exists")
        self._parameters.pop(name, None)
        self._buffers.pop(name, None)
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target: str) -> Module:
        module = self
        if target == "":
            return module
        for item in target.split("."):
            if item not in module._modules or module._modules[item] is None:
                raise AttributeError(f"{type(module).__name__} has no submodule `{item}`")
            module = module._modules[item]
        return module

    def get_parameter(self, target: str) -> Parameter:
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if name not in module._parameters:
            raise AttributeError(f"{type(module).__name__} has no parameter `{name}`")
        return module._parameters[name]

    # --- iteration ---

    def named_modules(
        self, memo: set | None = None, prefix: str = "", remove_duplicate: bool = True
    ):
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            yield from module.named_modules(
                memo, prefix + ("." if prefix else "") + name, remove_duplicate
            )

    def modules(self) -> Iterator[Module]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[tuple[str, Module]]:
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, m in self.named_children():
            yield m

    def _named_members(
        self, registry: str, prefix: str, recurse: bool, remove_duplicate: bool = True
    ):
        seen = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in module.__dict__[registry].items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ):
        """(dotted name, Parameter) pairs; a parameter shared by two modules appears once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # --- modes and gradients ---

    def train(self, mode: bool = True) -> Module:
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        for m in self.modules():
            m.__dict__["training"] = mode
        return self

    def eval(self) -> Module:
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                if p.grad.grad_fn is not None:
                    p.grad = p.grad.detach()
                p.grad.zero_()

    def apply(self, fn: Callable[[Module], None]) -> Module:
        """Call `fn` on every submodule (children first) and then on this module."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # --- dtype and device ---

    def _apply_to_tensors(self, convert: Callable[[Tensor], Tensor]) -> Module:
        """Replace every parameter's and buffer's storage (and gradients) by `convert`'s result.

        Parameters keep their identity (an optimizer built before `.to()` still holds them), as
        PyTorch does by assigning `param.data`.
        """
        with autograd.no_grad():
            for module in self.modules():
                for param in module._parameters.values():
                    if param is None:
                        continue
                    new = convert(param)
                    if new is not param:
                        param._data = new._data
                        param._vc[0] += 1
                    if param.grad is not None:
                        grad = convert(param.grad)
                        if grad is not param.grad:
                            param.grad = grad.detach()
                for name, buf in module._buffers.items():
                    if buf is not None:
                        module._buffers[name] = convert(buf)
        return self

    def to(self, *args, dtype=None, device=None, non_blocking: bool = False) -> Module:
        """`m.to(dtype)`, `m.to(device)`, `m.to(device, dtype)` or `m.to(tensor)`. Only floating
        point parameters and buffers change dtype (integer buffers keep theirs), as in PyTorch."""
        for a in args:
            if isinstance(a, Tensor):
                dtype, device = a.dtype, a.device
            elif isinstance(a, (str, Device)):
                device = a
            else:
                dtype = a
        if dtype is not None:
            dtype = dtypes.as_dtype(dtype)
            if dtype.kind not in "fc":
                raise TypeError(
                    f"nn.Module.to only accepts floating point or complex dtypes, but got "
                    f"desired dtype={dtype}"
                )

        def convert(t: Tensor) -> Tensor:
            out = t
            if device is not None:
                out = out.to(device)
            if dtype is not None and out.dtype.kind in "fc":
                out = out.to(dtype)
            return out

        return self._apply_to_tensors(convert)

    def float(self) -> Module:
        return self.to(dtypes.float32)

    def double(self) -> Module:
        return self.to(dtypes.float64)

    def half(self) -> Module:
        return self.to(dtypes.float16)

    def cpu(self) -> Module:
        return self.to("cpu")

    def cuda(self, device: int | str | None = None) -> Module:
        if device is None:
            return self.to("cuda:0")
        return self.to(device if isinstance(device, str) else f"cuda:{device}")

    # --- state dict ---

    def state_dict(self, *, destination=None, prefix: str = "", keep_vars: bool = False):
        """Parameters and persistent buffers by dotted name (detached, sharing storage)."""
        if destination is None:
            destination = OrderedDict()
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars else b.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(
                    destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars
                )
        return destination

    def _state_slots(self) -> dict[str, tuple[Module, str, bool]]:
        """Every state_dict key -> (owning module, attribute name, is_parameter)."""
        slots: dict = {}
        for mod_prefix, module in self.named_modules(remove_duplicate=False):
            p = mod_prefix + "." if mod_prefix else ""
            for name, value in module._parameters.items():
                if value is not None:
                    slots[p + name] = (module, name, True)
            for name, value in module._buffers.items():
                if value is not None and name not in module._non_persistent_buffers_set:
                    slots[p + name] = (module, name, False)
        return slots

    def load_state_dict(
        self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False
    ):
        """Copy `state_dict` into this module's parameters and persistent buffers.

        Every key and shape is checked before anything is written: on any error (missing or
        unexpected keys under `strict`, a shape mismatch always) a RuntimeError names all of them
        and the module is left exactly as it was. Returns `(missing_keys, unexpected_keys)`.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(
                f"Expected state_dict to be dict-like, got {type(state_dict).__name__}."
            )
        slots = self._state_slots()
        missing = [k for k in slots if k not in state_dict]
        unexpected = [k for k in state_dict if k not in slots]
        errors = []
        values: dict[str, Tensor] = {}
        for key, (module, name, _) in slots.items():
            if key not in state_dict:
                continue
            target = (module._parameters if _ else module._buffers)[name]
            value = state_dict[key]
            if not isinstance(value, Tensor):
                try:
                    value = Tensor._make(target._backend_xp().asarray(value))
                except Exception:
                    errors.append(
                        f'While copying the parameter named "{key}", expected a Tensor, got '
                        f"{type(value).__name__}."
                    )
                    continue
            if tuple(value.shape) != tuple(target.shape):
                errors.append(
                    f"size mismatch for {key}: copying a param with shape {_size(value.shape)} "
                    f"from checkpoint, the shape in current model is {_size(target.shape)}."
                )
                continue
            if value.dtype.kind not in "fciub":
                errors.append(f"cannot copy {key} of dtype {value.dtype} into {target.dtype}")
                continue
            values[key] = value
        if strict:
            if unexpected:
                errors.insert(
                    0,
                    "Unexpected key(s) in state_dict: "
                    + ", ".join(f'"{k}"' for k in unexpected)
                    + ". ",
                )
            if missing:
                errors.insert(
                    0,
                    "Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ". ",
                )
        if errors:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                + "\n\t".join(errors)
            )
        # Everything fits: now assign.
        with autograd.no_grad():
            for key, value in values.items():
                module, name, is_param = slots[key]
                target = (module._parameters if is_param else module._buffers)[name]
                if assign:
                    if is_param:
                        module._parameters[name] = Parameter(value.detach(), target.requires_grad)
                    else:
                        module._buffers[name] = value.detach()
                    continue
                array = value._data
                if value.device != target.device:
                    array = value.to(target.device)._data
                if array.dtype != target.dtype:
                    array = array.astype(target.dtype)
                if getattr(target._data.flags, "writeable", True):  # CuPy: no such flag
                    target._data[...] = array
                else:
                    target._data = array.copy()
                target._vc[0] += 1
        return _IncompatibleKeys(missing, unexpected)

    # --- calling and hooks ---

    def register_forward_pre_hook(
        self, hook: Callable, *, prepend: bool = False, with_kwargs: bool = False
    ):
        """`hook(module, args)` (or `hook(module, args, kwargs)` with `with_kwargs=True`) runs
        before `forward`; returning a value replaces `args` (a non-tuple becomes `(value,)`)."""
        handle = _add_hook(self._forward_pre_hooks, hook, prepend)
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs.add(handle.id)
            handle._flags.append(self._forward_pre_hooks_with_kwargs)
        return handle

    def register_forward_hook(
        self, hook: Callable, *, prepend: bool = False, with_kwargs: bool = False
    ):
        """`hook(module, args, output)` (or `hook(module, args, kwargs, output)`) runs after
        `forward`; returning a value replaces the output."""
        handle = _add_hook(self._forward_hooks, hook, prepend)
        if with_kwargs:
            self._forward_hooks_with_kwargs.add(handle.id)
            handle._flags.append(self._forward_hooks_with_kwargs)
        return handle

    def register_full_backward_hook(self, hook: Callable, prepend: bool = False):
        """`hook(module, grad_input, grad_output)` runs once the gradients with respect to the
        module's tensor inputs are computed; returning a tuple replaces `grad_input`.

        Implemented with identity nodes around the call: inputs that require grad pass through one
        each, and so does every tensor output. Limitations: only positional Tensor arguments and
        Tensor / tuple-of-Tensor outputs are seen; with several tensor inputs the hook runs when
        the last of their gradients arrives and may not replace `grad_input` (it may with one);
        an input that receives no gradient at all is reported as None only if some other input
        receives one.
        """
        return _add_hook(self._backward_hooks, hook, prepend)

    def register_backward_hook(self, hook: Callable):
        return self.register_full_backward_hook(hook)

    def __call__(self, *args, **kwargs):
        d = self.__dict__
        if not (
            d["_forward_pre_hooks"]
            or d["_forward_hooks"]
            or d["_backward_hooks"]
            or _global_forward_pre_hooks
            or _global_forward_hooks
        ):
            return self.forward(*args, **kwargs)
        if not _global_forward_hooks_always_called:
            return self._call_with_hooks(args, kwargs, set())
        called: set = set()  # the global always-call hooks that have run
        try:
            return self._call_with_hooks(args, kwargs, called)
        except Exception:
            for hid, hook in list(_global_forward_hooks.items()):
                if hid in _global_forward_hooks_always_called and hid not in called:
                    try:
                        hook(self, args, None)
                    except Exception as e:  # the first error is the one to report
                        warnings.warn(
                            f"a module forward hook with always_call=True raised {e!r} while "
                            f"{type(self).__name__}'s call was failing; it was silenced",
                            stacklevel=2,
                        )
            raise

    def _call_with_hooks(self, args: tuple, kwargs: dict, called: set):
        for hook in list(_global_forward_pre_hooks.values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        for hid, hook in list(self._forward_pre_hooks.items()):
            if hid in self._forward_pre_hooks_with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(
                            "forward pre-hook must return None or a tuple of (new_args, "
                            f"new_kwargs), but got {result}."
                        )
                    args, kwargs = result
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        state = None
        if self._backward_hooks and autograd.is_grad_enabled():
            args, state = self._wrap_inputs(args)
        output = self.forward(*args, **kwargs)
        for hid, hook in list(_global_forward_hooks.items()):
            called.add(hid)
            result = hook(self, args, output)
            if result is not None:
                output = result
        for hid, hook in list(self._forward_hooks.items()):
            if hid in self._forward_hooks_with_kwargs:
                result = hook(self, args, kwargs, output)
            else:
                result = hook(self, args, output)
            if result is not None:
                output = result
        if state is not None:
            output = self._wrap_outputs(output, state)
        return output

    def _wrap_inputs(self, args: tuple):
        state = {"grad_input": [None] * len(args), "grad_output": None, "waiting": 0, "seen": 0}
        wrapped = list(args)
        for k, a in enumerate(args):
            if isinstance(a, Tensor) and a.requires_grad:
                b = apply(_BOUNDARY, (a,), {})
                state["waiting"] += 1
                b.register_hook(self._input_hook(state, k))
                wrapped[k] = b
        return tuple(wrapped), state

    def _input_hook(self, state: dict, k: int):
        def hook(grad):
            state["grad_input"][k] = grad
            state["seen"] += 1
            if state["seen"] < state["waiting"]:
                return None
            replaced = self._run_backward_hooks(tuple(state["grad_input"]), state)
            if replaced is None:
                return None
            if state["waiting"] > 1:
                raise RuntimeError(
                    f"a full backward hook of {type(self).__name__} returned new grad_input, "
                    f"which minigrad supports only for modules with one tensor input that "
                    f"requires grad"
                )
            return replaced[k]

        return hook

    def _run_backward_hooks(self, grad_input: tuple, state: dict):
        grad_output = state["grad_output"] or ()
        replaced = None
        for hook in list(self._backward_hooks.values()):
            result = hook(self, grad_input if replaced is None else replaced, grad_output)
            if result is not None:
                replaced = tuple(result) if isinstance(result, (tuple, list)) else (result,)
                if len(replaced) != len(grad_input):
                    raise RuntimeError(
                        f"backward hook returned {len(replaced)} gradients, expected "
                        f"{len(grad_input)}"
                    )
        return replaced

    def _wrap_outputs(self, output, state: dict):
        single = isinstance(output, Tensor)
        outs = [output] if single else list(output) if isinstance(output, (tuple, list)) else None
        if outs is None:
            return output
        state["grad_output"] = [None] * len(outs)
        for k, o in enumerate(outs):
            if isinstance(o, Tensor) and o.requires_grad:
                w = apply(_BOUNDARY, (o,), {})

                def hook(grad, k=k):
                    state["grad_output"][k] = grad
                    if state["waiting"] == 0 and all(
                        g is not None or not (isinstance(x, Tensor) and x.requires_grad)
                        for g, x in zip(state["grad_output"], outs)
                    ):
                        # no input needs grad: PyTorch calls the hook with grad_input = (None,)
                        self._run_backward_hooks((None,) * len(state["grad_input"]), state)

                w.register_hook(hook)
                outs[k] = w
        if single:
            return outs[0]
        if isinstance(output, tuple):
            return type(output)(*outs) if hasattr(output, "_fields") else tuple(outs)
        return outs

    # --- repr ---

    def extra_repr(self) -> str:
        """One line of this module's settings, shown inside its repr (override in layers)."""
        return ""

    def _get_name(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        for name, module in self._modules.items():
            text = repr(module).replace("\n", "\n  ")
            lines.append(f"({name}): {text}")
        if not self._modules and "\n" not in extra:
            return f"{self._get_name()}({extra})"
        return f"{self._get_name()}(\n  " + "\n  ".join(lines) + "\n)"

    def __deepcopy__(self, memo: dict) -> Module:
        """`copy.deepcopy(module)`: the same module tree with its own copies of every parameter
        and buffer, as in PyTorch (torch's TransformerEncoder clones its layer this way,
        and training scripts keep a best-so-far model so). Pickling stays refused; tensors are
        copied here directly, array to array."""
        for module in self.modules():
            for value in module.__dict__.values():
                items = value.values() if isinstance(value, dict) else (value,)
                for item in items:
                    if isinstance(item, Tensor) and id(item) not in memo:
                        memo[id(item)] = _copy_tensor(item)
        new = object.__new__(type(self))
        memo[id(self)] = new
        for name, value in self.__dict__.items():
            new.__dict__[name] = copy.deepcopy(value, memo)
        return new

    def __getstate__(self):
        raise TypeError(
            "minigrad modules are not picklable by design: save module.state_dict() with mg.save"
        )


def _copy_tensor(t: Tensor) -> Tensor:
    """A leaf copy of a module's tensor with its own storage and requires_grad; as in torch, a
    plain tensor keeps a copy of its .grad and a Parameter starts without one."""
    if not t.is_leaf:
        raise RuntimeError(
            "Only Tensors created explicitly by the user (graph leaves) support the deepcopy "
            f"protocol; a tensor of shape {list(t.shape)} held by the module has grad_fn="
            f"{t.grad_fn.name()}"
        )
    data = Tensor._make(t._data.copy())
    if isinstance(t, Parameter):
        return Parameter(data, requires_grad=t.requires_grad)
    new = data.requires_grad_(t.requires_grad)
    if t.grad is not None:
        new.grad = Tensor._make(t.grad._data.copy())
    return new


def _size(shape) -> str:
    return f"minigrad.Size({list(shape)})"


# --- containers --------------------------------------------------------------------------------


class Sequential(Module):
    """Modules applied in order: `Sequential(a, b, c)` or `Sequential(OrderedDict(name=a, ...))`."""

    def __init__(self, *args: Module):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], (OrderedDict, dict)):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for k, module in enumerate(args):
                self.add_module(str(k), module)

    def _index(self, idx: int) -> str:
        n = len(self._modules)
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range")
        return list(self._modules)[idx % n]

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        return self._modules[self._index(idx)]

    def __setitem__(self, idx: int, module: Module) -> None:
        setattr(self, self._index(idx), module)

    def __delitem__(self, idx) -> None:
        if isinstance(idx, slice):
            for key in list(self._modules)[idx]:
                delattr(self, key)
        else:
            delattr(self, self._index(idx))
        # PyTorch re-numbers so indices stay contiguous
        items = list(self._modules.items())
        self._modules.clear()
        for k, (name, m) in enumerate(items):
            self._modules[str(k) if name.isdigit() else name] = m

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> Sequential:
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> Sequential:
        items = list(self._modules.values())
        n = len(items)
        if not -n <= index <= n:
            raise IndexError(f"Index out of range: {index}")
        items.insert(index % (n + 1) if index < 0 else index, module)
        self._modules.clear()
        for k, m in enumerate(items):
            self.add_module(str(k), m)
        return self

    def forward(self, input):
        for module in self._modules.values():
            input = module(input)
        return input


class ModuleList(Module):
    """A list of modules, registered so their parameters are found (indexing like a list)."""

    def __init__(self, modules: Iterable[Module] | None = None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _key(self, idx: int) -> str:
        n = len(self._modules)
        if not -n <= idx < n:
            raise IndexError(f"index {idx} is out of range")
        return str(idx % n)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ModuleList(list(self._modules.values())[idx])
        return self._modules[self._key(idx)]

    def __setitem__(self, idx: int, module: Module) -> None:
        self.add_module(self._key(idx), module)

    def __delitem__(self, idx) -> None:
        items = list(self._modules.values())
        del items[idx]
        self._modules.clear()
        for k, m in enumerate(items):
            self._modules[str(k)] = m

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def __iadd__(self, modules: Iterable[Module]) -> ModuleList:
        return self.extend(modules)

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> None:
        items = list(self._modules.values())
        items.insert(index, module)
        self._modules.clear()
        for k, m in enumerate(items):
            self.add_module(str(k), m)

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleList has no forward: iterate over it and call its modules")


class ModuleDict(Module):
    """A dict of modules (string keys, insertion order), registered as submodules."""

    def __init__(self, modules: Mapping[str, Module] | Iterable | None = None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __contains__(self, key: str) -> bool:
        return key in self._modules

    def clear(self) -> None:
        self._modules.clear()

    def pop(self, key: str) -> Module:
        return self._modules.pop(key)

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def update(self, modules) -> None:
        items = modules.items() if isinstance(modules, Mapping) else modules
        for key, module in items:
            self[key] = module

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleDict has no forward: look up its modules and call them")


def _as_parameter(value: Any) -> Any:
    """What a parameter container stores: Tensors become Parameters (as in torch); Parameters
    and other values are kept as they are."""
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value)
    return value


def _parameter_line(key: str, value: Any) -> str:
    if isinstance(value, Tensor):
        size = "x".join(str(n) for n in value.shape)
        device = "" if value.device.type == "cpu" else f" ({value.device})"
        kind = "Parameter containing" if isinstance(value, Parameter) else "Tensor"
        return f"({key}): {kind}: [minigrad.{value.dtype} of size {size}{device}]"
    return f"({key}): Object of type: {type(value).__name__}"


def _container_repr(container: Module, lines: list[str]) -> str:
    """One line per entry, as torch prints its parameter containers (even with one entry)."""
    return f"{type(container).__name__}(" + "".join(f"\n  {line}" for line in lines) + "\n)"


class ParameterList(Module):
    """A list of parameters, registered under "0", "1", ... (Tensors are wrapped as
    Parameters on the way in)."""

    def __init__(self, values: Iterable[Any] | None = None):
        super().__init__()
        self._size = 0
        if values is not None:
            self.extend(values)

    def _index(self, idx: int) -> int:
        if not -self._size <= idx < self._size:
            raise IndexError(f"index {idx} is out of range")
        return idx % self._size

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ParameterList([self[k] for k in range(self._size)[idx]])
        return getattr(self, str(self._index(idx)))

    def __setitem__(self, idx: int, param: Any) -> None:
        self._set(str(self._index(idx)), _as_parameter(param))

    def _set(self, key: str, value: Any) -> None:
        if isinstance(value, Parameter):
            self.register_parameter(key, value)
        else:
            self._parameters.pop(key, None)
            setattr(self, key, value)

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[Any]:
        return (self[k] for k in range(self._size))

    def __iadd__(self, parameters: Iterable[Any]) -> ParameterList:
        return self.extend(parameters)

    def __dir__(self):
        return [k for k in super().__dir__() if not k.isdigit()]

    def append(self, value: Any) -> ParameterList:
        self._size += 1
        self._set(str(self._size - 1), _as_parameter(value))
        return self

    def extend(self, values: Iterable[Any]) -> ParameterList:
        if isinstance(values, Tensor) or not isinstance(values, Iterable):
            raise TypeError(
                f"ParameterList.extend should be called with an iterable, but got "
                f"{type(values).__name__}"
            )
        for value in values:
            self.append(value)
        return self

    def __repr__(self) -> str:
        return _container_repr(self, [_parameter_line(str(k), v) for k, v in enumerate(self)])

    def __call__(self, *args, **kwargs):
        raise RuntimeError("ParameterList should not be called.")


class ParameterDict(Module):
    """A dict of parameters (string keys, insertion order), registered under their keys."""

    def __init__(self, parameters: Any = None):
        super().__init__()
        self._keys: dict[str, None] = {}
        if parameters is not None:
            self.update(parameters)

    def _key(self, key: Any) -> str:
        if not isinstance(key, str):
            raise TypeError(
                f"ParameterDict keys must be strings, got {type(key).__name__} ({key!r})"
            )
        return key

    def __getitem__(self, key: str) -> Any:
        if key not in self._keys:
            raise KeyError(key)
        return getattr(self, key)

    def __setitem__(self, key: str, value: Any) -> None:
        key = self._key(key)
        self._keys[key] = None
        value = _as_parameter(value)
        if isinstance(value, Parameter):
            self.register_parameter(key, value)
        else:
            self._parameters.pop(key, None)
            setattr(self, key, value)

    def __delitem__(self, key: str) -> None:
        del self._keys[key]
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys)

    def __reversed__(self) -> Iterator[str]:
        return reversed(list(self._keys))

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __or__(self, other: ParameterDict) -> ParameterDict:
        merged = self.copy()
        merged.update(other)
        return merged

    def __ior__(self, other: ParameterDict) -> ParameterDict:
        self.update(other)
        return self

    def copy(self) -> ParameterDict:
        return ParameterDict({k: self[k] for k in self._keys})

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self else default

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def fromkeys(self, keys: Iterable[str], default: Any = None) -> ParameterDict:
        return ParameterDict((k, default) for k in keys)

    def pop(self, key: str) -> Any:
        value = self[key]
        del self[key]
        return value

    def popitem(self) -> tuple[str, Any]:
        key = next(reversed(self))
        return key, self.pop(key)

    def clear(self) -> None:
        for key in list(self._keys):
            del self[key]

    def keys(self):
        return self._keys.keys()

    def items(self):
        return [(k, self[k]) for k in self._keys]

    def values(self):
        return [self[k] for k in self._keys]

    def update(self, parameters: Any) -> None:
        if isinstance(parameters, (Mapping, ParameterDict)):
            items = list(parameters.items())
        elif isinstance(parameters, Iterable):
            items = []
            for j, pair in enumerate(parameters):
                if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                    raise ValueError(
                        f"ParameterDict update sequence element #{j} should be a pair of "
                        f"(key, value), got {pair!r}"
                    )
                items.append(tuple(pair))
        else:
            raise TypeError(
                f"ParametersDict.update should be called with an iterable of key/value pairs, "
                f"but got {type(parameters).__name__}"
            )
        for key, value in items:
            self[key] = value

    def __repr__(self) -> str:
        return _container_repr(self, [_parameter_line(k, v) for k, v in self.items()])

    def __call__(self, input):
        raise RuntimeError("ParameterDict should not be called.")

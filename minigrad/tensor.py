"""`Tensor`: an array, its gradient, and its place in the graph.

The class holds state and the PyTorch-facing conveniences (repr, conversion, in-place ops,
`backward`). Every differentiable computation is a function in `minigrad.ops`; the math methods
and operators at the end of the class call them (`x.exp()` is `mg.exp(x)`).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from minigrad import autograd, dtypes
from minigrad.backend import _BACKENDS, Device, backend_for_device, backend_of, to_device
from minigrad.backend import writeable as _writeable

# A row-major copy (`Tensor.contiguous`). Its own name, apart from ops.shape's "clone" (an
# exact copy in any layout), but PyTorch names the backward of both CloneBackward0.
_CONTIGUOUS = autograd.defop(
    "contiguous",
    lambda xp, x: xp.ascontiguousarray(x),
    x=lambda g: g,  # d(copy)/dx = 1
)
_CONTIGUOUS.backward_name = "CloneBackward0"


class Tensor:
    """A multi-dimensional array that records the operations applied to it.

    `mg.Tensor(data)` is PyTorch's legacy constructor (always float32, or the default dtype);
    prefer `mg.tensor(data, dtype=..., requires_grad=...)`.
    """

    # `_base` is set only on views (see autograd.apply), `_inference` only on tensors made in
    # inference mode, `_post_accumulate_hooks` only on leaves that have some: read them with
    # getattr(t, name, default), so the hot path (`_make`) does not pay for them.
    __slots__ = (
        "_data",
        "requires_grad",
        "grad",
        "grad_fn",
        "_vc",
        "_hooks",
        "name",
        "_base",
        "_inference",
        "_post_accumulate_hooks",
        "__weakref__",
    )
    __array_priority__ = 1000  # ndarray (op) Tensor defers to Tensor's reflected operator
    _is_node = False  # as a graph edge, a leaf (autograd.Node says True): cheaper than isinstance

    def __init__(self, *args, requires_grad: bool = False):
        if not args:  # Tensor(): an empty 1-d tensor, as in PyTorch
            args = (0,)
        if len(args) == 1 and not isinstance(args[0], int):
            data = args[0]
            if isinstance(data, Tensor):
                data = data._data
            array = np.asarray(data) if not hasattr(data, "__cuda_array_interface__") else data
            array = array.astype(dtypes.get_default_dtype(), copy=False)
        else:  # Tensor(2, 3): uninitialised storage of that size
            array = np.empty(tuple(args), dtype=dtypes.get_default_dtype())
        self._init(array, requires_grad)

    def _init(self, array, requires_grad: bool = False, grad_fn=None) -> None:
        if isinstance(array, np.generic):
            array = np.asarray(array)
        if requires_grad and array.dtype.kind not in "fc":
            raise RuntimeError(
                f"only Tensors of floating point dtype can require gradients, got {array.dtype}"
            )
        self._data = array
        self.requires_grad = requires_grad
        self.grad = None
        self.grad_fn = grad_fn
        self._vc = [0]
        self._hooks = None
        self.name = None
        if autograd._inference_used and autograd.mode.inference:
            self._inference = True

    @staticmethod
    def _make(array, requires_grad: bool = False, grad_fn=None) -> Tensor:
        """Wrap an array without copying or validating it (the hot path of every op)."""
        t = object.__new__(Tensor)
        if type(array) not in _BACKENDS:
            array = np.asarray(array)  # NumPy returns scalars from full reductions
        t._data = array
        t.requires_grad = requires_grad
        t.grad = None
        t.grad_fn = grad_fn
        t._vc = [0]
        t._hooks = None
        t.name = None
        if autograd._inference_used and autograd.mode.inference:
            t._inference = True
        return t

    # --- metadata ---

    @property
    def shape(self) -> tuple:
        return self._data.shape

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def device(self) -> Device:
        return backend_of(self._data).device_of(self._data)

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    def size(self, dim: int | None = None):
        if dim is None:
            return self._data.shape
        return self._data.shape[_dim(dim, self.ndim)]

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    def element_size(self) -> int:
        return self._data.dtype.itemsize

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_complex(self) -> bool:
        return self._data.dtype.kind == "c"

    @property
    def _version(self) -> int:
        return self._vc[0]

    def _backend_xp(self):
        return _BACKENDS[type(self._data)].xp

    @property
    def backend(self) -> str:
        return backend_of(self._data).name

    # --- data access and conversion ---

    @property
    def data(self) -> Tensor:
        """The same storage without history (PyTorch's `.data`); assigning replaces the storage."""
        t = Tensor._make(self._data)
        t._vc = self._vc
        return t

    @data.setter
    def data(self, value: Tensor) -> None:
        array = value._data if isinstance(value, Tensor) else value
        if type(array) not in _BACKENDS:
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        self._data = array

    def item(self) -> float | int | bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar"
            )
        return self._data.item()

    def numpy(self, *, force: bool = False) -> np.ndarray:
        if self.requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead."
            )
        if backend_of(self._data).name != "numpy":
            if not force:
                raise TypeError(
                    f"can't convert {self.device} device type tensor to numpy. Use Tensor.cpu() to "
                    f"copy the tensor to host memory first."
                )
            return to_device(self._data, Device("cpu"))
        return self._data

    def tolist(self):
        return self._host().tolist()

    def _host(self) -> np.ndarray:
        return to_device(self._data, Device("cpu"))

    def __array__(self, dtype=None, copy=None):
        array = self._host()
        return array if dtype is None else array.astype(dtype, copy=False)

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with {self._data.size} values is ambiguous"
            )
        return bool(self._data.item())

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0 or (spec and self._data.size == 1):
            return format(self.item(), spec)
        return format(repr(self), spec)

    def __repr__(self) -> str:
        return _repr(self)

    __hash__ = object.__hash__  # by identity (defining __eq__ below would unset it)

    def __deepcopy__(self, memo: dict) -> Tensor:
        """`copy.deepcopy(t)` (of a leaf, as torch): its own storage, requires_grad and a copy
        of .grad; `copy.deepcopy(model.state_dict())` keeps a best-so-far model so."""
        from minigrad.nn.module import _copy_tensor

        if id(self) not in memo:
            memo[id(self)] = _copy_tensor(self)
        return memo[id(self)]

    def __reduce__(self):
        raise TypeError(
            "minigrad tensors are not picklable by design: use mg.save(obj, path), which writes "
            "safetensors and never executes code on load"
        )

    # --- graph ---

    def detach(self) -> Tensor:
        t = Tensor._make(self._data)
        t._vc = self._vc  # shares storage: in-place changes are seen by both
        return t

    def detach_(self) -> Tensor:
        self.grad_fn = None
        self.requires_grad = False
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if self.grad_fn is not None and not requires_grad:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use a "
                "computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        if requires_grad and self._data.dtype.kind not in "fc":
            raise RuntimeError(
                f"only Tensors of floating point dtype can require gradients, got {self.dtype}"
            )
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> None:
        """Keep `.grad` of this non-leaf tensor after backward (leaves always keep theirs)."""
        if self.grad_fn is None:
            if not self.requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        self.grad_fn.retained = weakref.ref(self)

    @property
    def retains_grad(self) -> bool:
        return self.grad_fn is not None and self.grad_fn.retained is not None

    def register_hook(self, hook: Callable) -> Any:
        """Call `hook(grad)` when this tensor's gradient is computed; a returned Tensor replaces
        the gradient. Returns a handle whose `remove()` unregisters the hook."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            if self.grad_fn.hooks is None:
                self.grad_fn.hooks = []
            hooks = self.grad_fn.hooks
        else:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook: Callable) -> Any:
        """Call `hook(tensor)` after backward has added into this leaf's `.grad` (PyTorch 2.1's
        API, used to overlap optimizer steps or gradient all-reduces with backward). Returns a
        handle whose `remove()` unregisters the hook."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError(
                "post accumulate grad hooks cannot be registered on non-leaf tensors"
            )
        hooks = getattr(self, "_post_accumulate_hooks", None)
        if hooks is None:
            hooks = self._post_accumulate_hooks = []
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    def is_inference(self) -> bool:
        """Whether this tensor was created in `inference_mode` (it can never join a graph)."""
        return getattr(self, "_inference", False)

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None) -> None:
        """Accumulate the gradient of this tensor into `.grad` of the leaves it depends on."""
        autograd.backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    # --- copies, dtype and device ---

    def clone(self) -> Tensor:
        return shape_ops.clone(self)

    def contiguous(self) -> Tensor:
        """This tensor if it is row-major contiguous, else a differentiable copy that is."""
        if self._data.flags.c_contiguous:
            return self
        return autograd.apply(_CONTIGUOUS, (self,), {})

    def to(self, *args, dtype=None, device=None, copy: bool = False, non_blocking: bool = False):
        """`t.to(dtype)`, `t.to(device)`, `t.to(device, dtype)` or `t.to(other_tensor)`."""
        for a in args:
            if isinstance(a, Tensor):
                dtype, device = a.dtype, a.device
            elif isinstance(a, (str, Device)):
                device = a
            else:
                dtype = a
        out = self
        if device is not None:
            device = Device(device) if not isinstance(device, Device) else device
            if device.type == "cuda" and device.index is None:
                device = Device("cuda", 0)
            if out.device != device:
                backend_for_device(device)  # raises clearly when CUDA is missing
                out = shape_ops.to_device(out, device)
        if dtype is not None:
            dtype = dtypes.as_dtype(dtype)
            if dtype != out.dtype:
                out = elementwise.cast(out, dtype)
        if copy and out is self:
            out = self.clone()
        return out

    def type(self, dtype=None):
        if dtype is None:
            return f"minigrad.{self.dtype}"
        return self.to(dtype)

    def type_as(self, other: Tensor) -> Tensor:
        return self.to(other.dtype)

    def float(self) -> Tensor:
        return self.to(dtypes.float32)

    def double(self) -> Tensor:
        return self.to(dtypes.float64)

    def half(self) -> Tensor:
        return self.to(dtypes.float16)

    def long(self) -> Tensor:
        return self.to(dtypes.int64)

    def int(self) -> Tensor:
        return self.to(dtypes.int32)

    def bool(self) -> Tensor:
        return self.to(dtypes.bool)

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self, device: int | str | None = None) -> Tensor:
        if device is None:
            return self.to("cuda:0")
        return self.to(device if isinstance(device, str) else f"cuda:{device}")

    # --- in-place ops (optimizers, initialisation) ---

    def _check_inplace(self, differentiable: bool) -> None:
        """PyTorch's rules for writing into a tensor while recording a graph."""
        if not autograd.mode.grad_enabled:
            return
        if self.requires_grad and self.grad_fn is None:
            raise RuntimeError(
                "a leaf Variable that requires grad is being used in an in-place operation. "
                "Wrap the update in `with mg.no_grad():` (as optimizers do)."
            )
        base = getattr(self, "_base", None)
        if base is None or not (differentiable or base.requires_grad):
            return
        if base.requires_grad and base.grad_fn is None:
            raise RuntimeError(
                "a view of a leaf Variable that requires grad is being used in an in-place "
                "operation. Wrap the update in `with mg.no_grad():`."
            )
        # PyTorch rebases the base's history here (CopySlices); minigrad does not, and writing
        # anyway would leave the base with a silently wrong gradient.
        raise RuntimeError(
            f"in-place operation on a view (shape {list(self.shape)}) of a tensor (shape "
            f"{list(base.shape)}) that is part of a graph is not supported: minigrad cannot "
            f"rewrite the base's history. Write into the base instead (base[index] = value), or "
            f"use an out-of-place op."
        )

    def _inplace(self, result: Tensor) -> Tensor:
        """Write `result` into this tensor's storage and take over its history."""
        node = result.grad_fn
        self._check_inplace(node is not None)
        array = result._data
        if array.dtype != self._data.dtype:
            if not np.can_cast(array.dtype, self._data.dtype, "same_kind"):
                raise RuntimeError(
                    f"result type {array.dtype} can't be cast to the desired output type "
                    f"{self._data.dtype}"
                )
            array = array.astype(self._data.dtype)
        if array.shape != self._data.shape:
            raise RuntimeError(
                f"output with shape {list(self._data.shape)} doesn't match the broadcast shape "
                f"{list(array.shape)}"
            )
        if node is not None and node.saved:
            _keep_old_value(node, self)
        if _writeable(self._data):
            self._data[...] = array
        else:
            self._data = array.copy()
        self._vc[0] += 1
        if node is not None:
            self.grad_fn = node
            self.requires_grad = True
        return self

    def add_(self, other, *, alpha=1) -> Tensor:
        return self._inplace(self + (other * alpha if alpha != 1 else other))

    def sub_(self, other, *, alpha=1) -> Tensor:
        return self._inplace(self - (other * alpha if alpha != 1 else other))

    def mul_(self, other) -> Tensor:
        return self._inplace(self * other)

    def div_(self, other) -> Tensor:
        return self._inplace(self / other)

    def pow_(self, exponent) -> Tensor:
        return self._inplace(self**exponent)

    def clamp_(self, min=None, max=None) -> Tensor:
        return self._inplace(self.clamp(min, max))

    clip_ = clamp_

    def copy_(self, src) -> Tensor:
        src = (
            src if isinstance(src, Tensor) else Tensor._make(backend_of(self._data).xp.asarray(src))
        )
        if src.device != self.device:
            src = src.to(self.device)
        return self._overwrite(shape_ops.expand(src.to(self.dtype), self.shape))

    def zero_(self) -> Tensor:
        return self.fill_(0)

    def fill_(self, value) -> Tensor:
        if autograd.mode.grad_enabled and (
            self.requires_grad or (isinstance(value, Tensor) and value.requires_grad)
        ):
            value = value if isinstance(value, Tensor) else elementwise.as_tensor_like(value, self)
            return self._overwrite(value.to(self.dtype))
        if isinstance(value, Tensor):
            value = value.item()
        self._data[...] = dtypes.fill_scalar(value, self.dtype)
        self._vc[0] += 1
        return self

    def _overwrite(self, value: Tensor) -> Tensor:
        """Replace every element by `value` (broadcast), differentiably as in PyTorch: the old
        values get gradient 0, `value` the (summed) gradient."""
        if autograd.mode.grad_enabled and (self.requires_grad or value.requires_grad):
            keep = Tensor._make(self._backend_xp().zeros(self.shape, dtype=bool))
            value = elementwise.where(keep, self, value)
        return self._inplace(value)

    def __setitem__(self, index, value) -> None:
        self._inplace(indexing.index_put(self, index, value))

    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    # --- math: each method is a function of minigrad.ops (the functions own the docs) ---

    # elementwise
    def add(self, other, *, alpha=1) -> Tensor:
        return elementwise.add(self, other, alpha=alpha)

    def sub(self, other, *, alpha=1) -> Tensor:
        return elementwise.sub(self, other, alpha=alpha)

    def subtract(self, other, *, alpha=1) -> Tensor:
        return elementwise.sub(self, other, alpha=alpha)

    def mul(self, other) -> Tensor:
        return elementwise.mul(self, other)

    def multiply(self, other) -> Tensor:
        return elementwise.mul(self, other)

    def div(self, other, *, rounding_mode: str | None = None) -> Tensor:
        return elementwise.div(self, other, rounding_mode=rounding_mode)

    def divide(self, other, *, rounding_mode: str | None = None) -> Tensor:
        return elementwise.div(self, other, rounding_mode=rounding_mode)

    def true_divide(self, other) -> Tensor:
        return elementwise.true_divide(self, other)

    def floor_divide(self, other) -> Tensor:
        return elementwise.floor_divide(self, other)

    def remainder(self, other) -> Tensor:
        return elementwise.remainder(self, other)

    def fmod(self, divisor) -> Tensor:
        return elementwise.fmod(self, divisor)

    def pow(self, exponent) -> Tensor:
        return elementwise.pow(self, exponent)

    def neg(self) -> Tensor:
        return elementwise.neg(self)

    def negative(self) -> Tensor:
        return elementwise.neg(self)

    def exp(self) -> Tensor:
        return elementwise.exp(self)

    def log(self) -> Tensor:
        return elementwise.log(self)

    def log1p(self) -> Tensor:
        return elementwise.log1p(self)

    def log2(self) -> Tensor:
        return elementwise.log2(self)

    def log10(self) -> Tensor:
        return elementwise.log10(self)

    def expm1(self) -> Tensor:
        return elementwise.expm1(self)

    def sqrt(self) -> Tensor:
        return elementwise.sqrt(self)

    def rsqrt(self) -> Tensor:
        return elementwise.rsqrt(self)

    def abs(self) -> Tensor:
        return elementwise.abs(self)

    def sign(self) -> Tensor:
        return elementwise.sign(self)

    def sin(self) -> Tensor:
        return elementwise.sin(self)

    def cos(self) -> Tensor:
        return elementwise.cos(self)

    def tan(self) -> Tensor:
        return elementwise.tan(self)

    def tanh(self) -> Tensor:
        return elementwise.tanh(self)

    def sigmoid(self) -> Tensor:
        return elementwise.sigmoid(self)

    def relu(self) -> Tensor:
        return elementwise.relu(self)

    def erf(self) -> Tensor:
        return elementwise.erf(self)

    def square(self) -> Tensor:
        return elementwise.square(self)

    def reciprocal(self) -> Tensor:
        return elementwise.reciprocal(self)

    def clamp(self, min=None, max=None) -> Tensor:
        return elementwise.clamp(self, min, max)

    def clip(self, min=None, max=None) -> Tensor:
        return elementwise.clamp(self, min, max)

    def maximum(self, other) -> Tensor:
        return elementwise.maximum(self, other)

    def minimum(self, other) -> Tensor:
        return elementwise.minimum(self, other)

    def where(self, condition, other) -> Tensor:
        return elementwise.where(condition, self, other)

    def masked_fill(self, mask, value) -> Tensor:
        return elementwise.masked_fill(self, mask, value)

    def eq(self, other) -> Tensor:
        return elementwise.eq(self, other)

    def ne(self, other) -> Tensor:
        return elementwise.ne(self, other)

    def lt(self, other) -> Tensor:
        return elementwise.lt(self, other)

    def le(self, other) -> Tensor:
        return elementwise.le(self, other)

    def gt(self, other) -> Tensor:
        return elementwise.gt(self, other)

    def ge(self, other) -> Tensor:
        return elementwise.ge(self, other)

    def logical_and(self, other) -> Tensor:
        return elementwise.logical_and(self, other)

    def logical_or(self, other) -> Tensor:
        return elementwise.logical_or(self, other)

    def logical_not(self) -> Tensor:
        return elementwise.logical_not(self)

    def logical_xor(self, other) -> Tensor:
        return elementwise.logical_xor(self, other)

    def bitwise_and(self, other) -> Tensor:
        return elementwise.bitwise_and(self, other)

    def bitwise_or(self, other) -> Tensor:
        return elementwise.bitwise_or(self, other)

    def bitwise_xor(self, other) -> Tensor:
        return elementwise.bitwise_xor(self, other)

    def bitwise_not(self) -> Tensor:
        return elementwise.bitwise_not(self)

    def bitwise_left_shift(self, other) -> Tensor:
        return elementwise.bitwise_left_shift(self, other)

    def bitwise_right_shift(self, other) -> Tensor:
        return elementwise.bitwise_right_shift(self, other)

    def bitwise_and_(self, other) -> Tensor:
        return self._inplace(elementwise.bitwise_and(self, other))

    def bitwise_or_(self, other) -> Tensor:
        return self._inplace(elementwise.bitwise_or(self, other))

    def bitwise_xor_(self, other) -> Tensor:
        return self._inplace(elementwise.bitwise_xor(self, other))

    def bitwise_not_(self) -> Tensor:
        return self._inplace(elementwise.bitwise_not(self))

    def bitwise_left_shift_(self, other) -> Tensor:
        return self._inplace(elementwise.bitwise_left_shift(self, other))

    def bitwise_right_shift_(self, other) -> Tensor:
        return self._inplace(elementwise.bitwise_right_shift(self, other))

    def floor(self) -> Tensor:
        return elementwise.floor(self)

    def ceil(self) -> Tensor:
        return elementwise.ceil(self)

    def round(self) -> Tensor:
        return elementwise.round(self)

    def trunc(self) -> Tensor:
        return elementwise.trunc(self)

    def isnan(self) -> Tensor:
        return elementwise.isnan(self)

    def isinf(self) -> Tensor:
        return elementwise.isinf(self)

    def isfinite(self) -> Tensor:
        return elementwise.isfinite(self)

    def equal(self, other: Tensor) -> bool:
        return elementwise.equal(self, other)

    def allclose(
        self, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
    ) -> bool:
        return elementwise.allclose(self, other, rtol, atol, equal_nan)

    def isclose(
        self, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
    ) -> Tensor:
        return elementwise.isclose(self, other, rtol, atol, equal_nan)

    def astype(self, dtype) -> Tensor:
        return self.to(dtype)

    # reductions
    def sum(
        self, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None
    ) -> Tensor:
        return reduce.sum(self, dim, keepdim, dtype=dtype, axis=axis, keepdims=keepdims)

    def mean(
        self, dim=None, keepdim: bool = False, *, dtype=None, axis=None, keepdims=None
    ) -> Tensor:
        return reduce.mean(self, dim, keepdim, dtype=dtype, axis=axis, keepdims=keepdims)

    def var(
        self,
        dim=None,
        *,
        correction=1,
        keepdim: bool = False,
        unbiased=None,
        axis=None,
        keepdims=None,
    ) -> Tensor:
        return reduce.var(
            self,
            dim,
            correction=correction,
            keepdim=keepdim,
            unbiased=unbiased,
            axis=axis,
            keepdims=keepdims,
        )

    def std(
        self,
        dim=None,
        *,
        correction=1,
        keepdim: bool = False,
        unbiased=None,
        axis=None,
        keepdims=None,
    ) -> Tensor:
        return reduce.std(
            self,
            dim,
            correction=correction,
            keepdim=keepdim,
            unbiased=unbiased,
            axis=axis,
            keepdims=keepdims,
        )

    def max(self, dim=None, keepdim: bool = False, *, other=None, axis=None):
        return reduce.max(self, dim, keepdim, other=other, axis=axis)

    def min(self, dim=None, keepdim: bool = False, *, other=None, axis=None):
        return reduce.min(self, dim, keepdim, other=other, axis=axis)

    def amax(self, dim=(), keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
        return reduce.amax(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def amin(self, dim=(), keepdim: bool = False, *, axis=None, keepdims=None) -> Tensor:
        return reduce.amin(self, dim, keepdim, axis=axis, keepdims=keepdims)

    def argmax(self, dim=None, keepdim: bool = False, *, axis=None) -> Tensor:
        return reduce.argmax(self, dim, keepdim, axis=axis)

    def argmin(self, dim=None, keepdim: bool = False, *, axis=None) -> Tensor:
        return reduce.argmin(self, dim, keepdim, axis=axis)

    def logsumexp(self, dim=None, keepdim: bool = False, *, axis=None) -> Tensor:
        return reduce.logsumexp(self, dim, keepdim, axis=axis)

    def prod(self, dim=None, keepdim: bool = False, *, dtype=None, axis=None) -> Tensor:
        return reduce.prod(self, dim, keepdim, dtype=dtype, axis=axis)

    def cumsum(self, dim: int | None = None, *, dtype=None, axis=None) -> Tensor:
        return reduce.cumsum(self, dim, dtype=dtype, axis=axis)

    def norm(self, p="fro", dim=None, keepdim: bool = False, dtype=None) -> Tensor:
        return reduce.norm(self, p, dim, keepdim, dtype=dtype)

    def softmax(self, dim: int = -1, dtype=None, *, axis=None) -> Tensor:
        return reduce.softmax(self, dim, dtype, axis=axis)

    def log_softmax(self, dim: int = -1, dtype=None, *, axis=None) -> Tensor:
        return reduce.log_softmax(self, dim, dtype, axis=axis)

    def nonzero(self, *, as_tuple: bool = False):
        return reduce.nonzero(self, as_tuple=as_tuple)

    def all(self, dim=None, keepdim: bool = False, *, axis=None) -> Tensor:
        return reduce.all(self, dim, keepdim, axis=axis)

    def any(self, dim=None, keepdim: bool = False, *, axis=None) -> Tensor:
        return reduce.any(self, dim, keepdim, axis=axis)

    def count_nonzero(self, dim=None, *, axis=None) -> Tensor:
        return reduce.count_nonzero(self, dim, axis=axis)

    # shape
    def reshape(self, *shape) -> Tensor:
        return shape_ops.reshape(self, shape_ops._shape_arg(shape))

    def view(self, *shape) -> Tensor:
        return shape_ops.view(self, *shape)

    def view_as(self, other: Tensor) -> Tensor:
        return shape_ops.view_as(self, other)

    def reshape_as(self, other: Tensor) -> Tensor:
        return shape_ops.reshape_as(self, other)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        return shape_ops.flatten(self, start_dim, end_dim)

    def unflatten(self, dim: int, sizes) -> Tensor:
        return shape_ops.unflatten(self, dim, sizes)

    def permute(self, *dims) -> Tensor:
        shape_ops._require_args(dims, "permute", "dims")
        return shape_ops.permute(self, shape_ops._shape_arg(dims))

    def transpose(self, dim0: int, dim1: int) -> Tensor:
        return shape_ops.transpose(self, dim0, dim1)

    def swapaxes(self, axis0: int, axis1: int) -> Tensor:
        return shape_ops.transpose(self, axis0, axis1)

    def swapdims(self, dim0: int, dim1: int) -> Tensor:
        return shape_ops.transpose(self, dim0, dim1)

    def t(self) -> Tensor:
        return shape_ops.t(self)

    def movedim(self, source: int, destination: int) -> Tensor:
        return shape_ops.movedim(self, source, destination)

    def moveaxis(self, source: int, destination: int) -> Tensor:
        return shape_ops.movedim(self, source, destination)

    def expand(self, *shape) -> Tensor:
        return shape_ops.expand(self, *shape)

    def expand_as(self, other: Tensor) -> Tensor:
        return shape_ops.expand_as(self, other)

    def broadcast_to(self, shape) -> Tensor:
        return shape_ops.broadcast_to(self, shape)

    def squeeze(self, dim=None, *, axis=None) -> Tensor:
        return shape_ops.squeeze(self, dim, axis=axis)

    def unsqueeze(self, dim: int) -> Tensor:
        return shape_ops.unsqueeze(self, dim)

    def split(self, split_size, dim: int = 0) -> tuple:
        return shape_ops.split(self, split_size, dim)

    def chunk(self, chunks: int, dim: int = 0) -> tuple:
        return shape_ops.chunk(self, chunks, dim)

    def unbind(self, dim: int = 0) -> tuple:
        return shape_ops.unbind(self, dim)

    def flip(self, dims) -> Tensor:
        return shape_ops.flip(self, dims)

    def roll(self, shifts, dims=None) -> Tensor:
        return shape_ops.roll(self, shifts, dims)

    def tril(self, diagonal: int = 0) -> Tensor:
        return shape_ops.tril(self, diagonal)

    def triu(self, diagonal: int = 0) -> Tensor:
        return shape_ops.triu(self, diagonal)

    def repeat(self, *sizes) -> Tensor:
        return shape_ops.repeat(self, *sizes)

    def repeat_interleave(
        self, repeats, dim: int | None = None, *, output_size: int | None = None
    ) -> Tensor:
        return shape_ops.repeat_interleave(self, repeats, dim, output_size=output_size)

    # long tail: structure
    def diag(self, diagonal: int = 0) -> Tensor:
        return shape_ops.diag(self, diagonal)

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
        return shape_ops.diagonal(self, offset, dim1, dim2)

    def diag_embed(self, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
        return shape_ops.diag_embed(self, offset, dim1, dim2)

    def trace(self) -> Tensor:
        return shape_ops.trace(self)

    def rot90(self, k: int = 1, dims=(0, 1)) -> Tensor:
        return shape_ops.rot90(self, k, dims)

    def unfold(self, dimension: int, size: int, step: int) -> Tensor:
        return shape_ops.unfold(self, dimension, size, step)

    def histc(self, bins: int = 100, min=0, max=0) -> Tensor:
        return searching.histc(self, bins, min, max)

    def unique(
        self,
        sorted: bool = True,
        return_inverse: bool = False,
        return_counts: bool = False,
        dim: int | None = None,
    ):
        return searching.unique(self, sorted, return_inverse, return_counts, dim)

    def unique_consecutive(
        self, return_inverse: bool = False, return_counts: bool = False, dim: int | None = None
    ):
        return searching.unique_consecutive(self, return_inverse, return_counts, dim)

    # indexing and products
    def gather(self, dim: int, index: Tensor) -> Tensor:
        return indexing.gather(self, dim, index)

    def index_select(self, dim: int, index: Tensor) -> Tensor:
        return indexing.index_select(self, dim, index)

    def take(self, index: Tensor) -> Tensor:
        return indexing.take(self, index)

    def masked_select(self, mask: Tensor) -> Tensor:
        return indexing.masked_select(self, mask)

    def take_along_dim(self, indices: Tensor, dim: int | None = None) -> Tensor:
        return indexing.take_along_dim(self, indices, dim)

    # long tail: scattering (minigrad/ops/scattering.py); the `_` forms write in place
    def scatter(self, dim: int, index: Tensor, src=None, *, value=None, reduce=None) -> Tensor:
        return scattering.scatter(self, dim, index, src, value=value, reduce=reduce)

    def scatter_(self, dim: int, index: Tensor, src=None, *, value=None, reduce=None) -> Tensor:
        return self._inplace(scattering.scatter(self, dim, index, src, value=value, reduce=reduce))

    def scatter_add(self, dim: int, index: Tensor, src: Tensor) -> Tensor:
        return scattering.scatter_add(self, dim, index, src)

    def scatter_add_(self, dim: int, index: Tensor, src: Tensor) -> Tensor:
        return self._inplace(scattering.scatter_add(self, dim, index, src))

    def scatter_reduce(
        self, dim: int, index: Tensor, src: Tensor, reduce: str, *, include_self: bool = True
    ) -> Tensor:
        return scattering.scatter_reduce(self, dim, index, src, reduce, include_self=include_self)

    def scatter_reduce_(
        self, dim: int, index: Tensor, src: Tensor, reduce: str, *, include_self: bool = True
    ) -> Tensor:
        return self._inplace(
            scattering.scatter_reduce(self, dim, index, src, reduce, include_self=include_self)
        )

    def index_add(self, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
        return scattering.index_add(self, dim, index, source, alpha=alpha)

    def index_add_(self, dim: int, index: Tensor, source: Tensor, *, alpha=1) -> Tensor:
        return self._inplace(scattering.index_add(self, dim, index, source, alpha=alpha))

    def index_copy(self, dim: int, index: Tensor, source: Tensor) -> Tensor:
        return scattering.index_copy(self, dim, index, source)

    def index_copy_(self, dim: int, index: Tensor, source: Tensor) -> Tensor:
        return self._inplace(scattering.index_copy(self, dim, index, source))

    def index_fill(self, dim: int, index: Tensor, value) -> Tensor:
        return scattering.index_fill(self, dim, index, value)

    def index_fill_(self, dim: int, index: Tensor, value) -> Tensor:
        return self._inplace(scattering.index_fill(self, dim, index, value))

    def masked_scatter(self, mask: Tensor, source: Tensor) -> Tensor:
        return scattering.masked_scatter(self, mask, source)

    def masked_scatter_(self, mask: Tensor, source: Tensor) -> Tensor:
        return self._inplace(scattering._masked_scatter(self, mask, source, True))

    def index_put(self, indices, values, accumulate: bool = False) -> Tensor:
        return scattering.index_put(self, indices, values, accumulate)

    def index_put_(self, indices, values, accumulate: bool = False) -> Tensor:
        return self._inplace(scattering.index_put(self, indices, values, accumulate))

    # long tail: order statistics (minigrad/ops/sorting.py); results are (values, indices)
    def sort(self, dim: int = -1, descending: bool = False, *, stable: bool = False):
        return sorting.sort(self, dim, descending, stable=stable)

    def argsort(self, dim: int = -1, descending: bool = False, *, stable: bool = False) -> Tensor:
        return sorting.argsort(self, dim, descending, stable=stable)

    def msort(self) -> Tensor:
        return sorting.msort(self)

    def topk(self, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):
        return sorting.topk(self, k, dim, largest, sorted)

    def kthvalue(self, k: int, dim: int = -1, keepdim: bool = False):
        return sorting.kthvalue(self, k, dim, keepdim)

    def median(self, dim: int | None = None, keepdim: bool = False):
        return sorting.median(self, dim, keepdim)

    def nanmedian(self, dim: int | None = None, keepdim: bool = False):
        return sorting.nanmedian(self, dim, keepdim)

    def mode(self, dim: int = -1, keepdim: bool = False):
        return sorting.mode(self, dim, keepdim)

    # long tail: math (minigrad/ops/mathfns.py)
    def asin(self) -> Tensor:
        return mathfns.asin(self)

    def arcsin(self) -> Tensor:
        return mathfns.asin(self)

    def acos(self) -> Tensor:
        return mathfns.acos(self)

    def arccos(self) -> Tensor:
        return mathfns.acos(self)

    def atan(self) -> Tensor:
        return mathfns.atan(self)

    def arctan(self) -> Tensor:
        return mathfns.atan(self)

    def sinh(self) -> Tensor:
        return mathfns.sinh(self)

    def cosh(self) -> Tensor:
        return mathfns.cosh(self)

    def asinh(self) -> Tensor:
        return mathfns.asinh(self)

    def arcsinh(self) -> Tensor:
        return mathfns.asinh(self)

    def acosh(self) -> Tensor:
        return mathfns.acosh(self)

    def arccosh(self) -> Tensor:
        return mathfns.acosh(self)

    def atanh(self) -> Tensor:
        return mathfns.atanh(self)

    def arctanh(self) -> Tensor:
        return mathfns.atanh(self)

    def exp2(self) -> Tensor:
        return mathfns.exp2(self)

    def atan2(self, other: Tensor) -> Tensor:
        return mathfns.atan2(self, other)

    def arctan2(self, other: Tensor) -> Tensor:
        return mathfns.atan2(self, other)

    def logaddexp(self, other: Tensor) -> Tensor:
        return mathfns.logaddexp(self, other)

    def logaddexp2(self, other: Tensor) -> Tensor:
        return mathfns.logaddexp2(self, other)

    def hypot(self, other: Tensor) -> Tensor:
        return mathfns.hypot(self, other)

    def copysign(self, other) -> Tensor:
        return mathfns.copysign(self, other)

    def xlogy(self, other) -> Tensor:
        return mathfns.xlogy(self, other)

    def lerp(self, end: Tensor, weight) -> Tensor:
        return mathfns.lerp(self, end, weight)

    def cumprod(self, dim: int | None = None, *, dtype=None, axis=None) -> Tensor:
        return mathfns.cumprod(self, dim, dtype=dtype, axis=axis)

    def cummax(self, dim: int | None = None, *, axis=None):
        return mathfns.cummax(self, dim, axis=axis)

    def cummin(self, dim: int | None = None, *, axis=None):
        return mathfns.cummin(self, dim, axis=axis)

    def logcumsumexp(self, dim: int | None = None, *, axis=None) -> Tensor:
        return mathfns.logcumsumexp(self, dim, axis=axis)

    # random sampling in place (minigrad/creation.py; generator= as PyTorch)
    def normal_(self, mean: float = 0.0, std: float = 1.0, *, generator=None) -> Tensor:
        return creation.normal_(self, mean, std, generator=generator)

    def uniform_(self, *args, generator=None, **kwargs) -> Tensor:
        return creation.uniform_(self, *args, generator=generator, **kwargs)

    def random_(self, *args, generator=None, **kwargs) -> Tensor:
        return creation.random_(self, *args, generator=generator, **kwargs)

    def bernoulli_(self, p=0.5, *, generator=None) -> Tensor:
        return creation.bernoulli_(self, p, generator=generator)

    def exponential_(self, lambd: float = 1.0, *, generator=None) -> Tensor:
        return creation.exponential_(self, lambd, generator=generator)

    def bernoulli(self, *args, **kwargs) -> Tensor:
        return creation.tensor_bernoulli(self, *args, **kwargs)

    def multinomial(self, *args, **kwargs) -> Tensor:
        return creation.tensor_multinomial(self, *args, **kwargs)

    def matmul(self, other: Tensor) -> Tensor:
        return linalg.matmul(self, other)

    def mm(self, mat2: Tensor) -> Tensor:
        return linalg.mm(self, mat2)

    def bmm(self, mat2: Tensor) -> Tensor:
        return linalg.bmm(self, mat2)

    def mv(self, vec: Tensor) -> Tensor:
        return linalg.mv(self, vec)

    def dot(self, tensor: Tensor) -> Tensor:
        return linalg.dot(self, tensor)

    def outer(self, vec2: Tensor) -> Tensor:
        return linalg.outer(self, vec2)

    # operators
    def __add__(self, b, *, alpha=1) -> Tensor:
        return elementwise.add(self, b, alpha=alpha)

    def __radd__(self, other):
        return elementwise.add(other, self)

    def __sub__(self, b, *, alpha=1) -> Tensor:
        return elementwise.sub(self, b, alpha=alpha)

    def __rsub__(self, other):
        return elementwise.sub(other, self)

    def __mul__(self, b) -> Tensor:
        return elementwise.mul(self, b)

    def __rmul__(self, other):
        return elementwise.mul(other, self)

    def __truediv__(self, b, *, rounding_mode: str | None = None) -> Tensor:
        return elementwise.div(self, b, rounding_mode=rounding_mode)

    def __rtruediv__(self, other):
        return elementwise.div(other, self)

    def __floordiv__(self, b) -> Tensor:
        return elementwise.floor_divide(self, b)

    def __rfloordiv__(self, other):
        return elementwise.floor_divide(other, self)

    def __mod__(self, b) -> Tensor:
        return elementwise.remainder(self, b)

    def __rmod__(self, other):
        return elementwise.remainder(other, self)

    def __pow__(self, b) -> Tensor:
        return elementwise.pow(self, b)

    def __rpow__(self, other):
        return elementwise.pow(other, self)

    def __matmul__(self, b: Tensor) -> Tensor:
        return linalg.matmul(self, b)

    def __rmatmul__(self, other):
        return linalg.matmul(other, self)

    def __neg__(self) -> Tensor:
        return elementwise.neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return elementwise.abs(self)

    def __eq__(self, b) -> Tensor:
        return elementwise.eq(self, b)

    def __ne__(self, b) -> Tensor:
        return elementwise.ne(self, b)

    def __lt__(self, b) -> Tensor:
        return elementwise.lt(self, b)

    def __le__(self, b) -> Tensor:
        return elementwise.le(self, b)

    def __gt__(self, b) -> Tensor:
        return elementwise.gt(self, b)

    def __ge__(self, b) -> Tensor:
        return elementwise.ge(self, b)

    def __and__(self, b) -> Tensor:
        return elementwise.bitwise_and(self, b)

    def __rand__(self, other):
        return elementwise.bitwise_and(other, self)

    def __or__(self, b) -> Tensor:
        return elementwise.bitwise_or(self, b)

    def __ror__(self, other):
        return elementwise.bitwise_or(other, self)

    def __xor__(self, b) -> Tensor:
        return elementwise.bitwise_xor(self, b)

    def __rxor__(self, other):
        return elementwise.bitwise_xor(other, self)

    def __lshift__(self, b) -> Tensor:
        return elementwise.bitwise_left_shift(self, b)

    def __rlshift__(self, other):
        return elementwise.bitwise_left_shift(other, self)

    def __rshift__(self, b) -> Tensor:
        return elementwise.bitwise_right_shift(self, b)

    def __rrshift__(self, other):
        return elementwise.bitwise_right_shift(other, self)

    def __iand__(self, b) -> Tensor:
        return self._inplace(elementwise.bitwise_and(self, b))

    def __ior__(self, b) -> Tensor:
        return self._inplace(elementwise.bitwise_or(self, b))

    def __ixor__(self, b) -> Tensor:
        return self._inplace(elementwise.bitwise_xor(self, b))

    def __ilshift__(self, b) -> Tensor:
        return self._inplace(elementwise.bitwise_left_shift(self, b))

    def __irshift__(self, b) -> Tensor:
        return self._inplace(elementwise.bitwise_right_shift(self, b))

    def __invert__(self) -> Tensor:
        return elementwise._invert(self)

    def __getitem__(self, index) -> Tensor:
        return indexing.getitem(self, index)

    @property
    def T(self) -> Tensor:
        return shape_ops.permute(self, tuple(reversed(range(self.ndim))))

    @property
    def mT(self) -> Tensor:
        if self.ndim == 0:  # torch: the identity on 0-d tensors (deprecated there)
            return shape_ops.view(self, ())
        if self.ndim == 1:
            raise RuntimeError(
                "tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor."
            )
        return shape_ops.transpose(self, -2, -1)


def _keep_old_value(node, tensor: Tensor) -> None:
    """`tensor` is about to be overwritten by the op recorded in `node`, which saved its current
    storage: give the node its own copy of what its rules read (PyTorch's `original_self`), and
    drop the rest, so the in-place op itself never trips the version check."""
    op = node.op
    needed = set()
    for k, source in enumerate(node.next):
        if source is not None:
            needed.update(op.backward_reads or op.reads[0 if op.variadic else k])
    storage = tensor._data
    saved = dict(node.saved)
    replaced = set()
    for name, value in saved.items():
        if value is storage:
            saved[name] = value.copy() if name in needed else None
            replaced.add(name)
        elif type(value) is tuple and any(v is storage for v in value):
            saved[name] = tuple(v.copy() if v is storage else v for v in value)
            replaced.add(name)
    if replaced:
        node.saved = saved
        node.versions = tuple(
            v for v in node.versions if not (v[0] in replaced and v[1] is tensor._vc)
        )


class _HookHandle:
    def __init__(self, hooks: list, hook: Callable):
        self._hooks = hooks
        self._hook = hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def _dim(dim: int, ndim: int) -> int:
    """Normalise a possibly negative dim, with PyTorch's error for one out of range."""
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-max(ndim, 1)}, "
            f"{max(ndim, 1) - 1}], but got {dim})"
        )
    return dim % max(ndim, 1)


_THRESHOLD, _EDGE, _LINEWIDTH = 1000, 3, 80  # PyTorch's print options


def _summarized(array: np.ndarray) -> np.ndarray:
    """The elements a summarized print shows (first and last 3 along every long dim)."""
    for axis, n in enumerate(array.shape):
        if n > 2 * _EDGE:
            keep = list(range(_EDGE)) + list(range(n - _EDGE, n))
            array = np.take(array, keep, axis=axis)
    return array


def _float_formatter(array: np.ndarray):
    """PyTorch's choice of float format: integers as `1.`, else 4 decimals, and scientific
    notation when magnitudes span more than 1000x, exceed 1e8 or fall below 1e-4."""
    values = array.astype(np.float64).ravel()
    finite = values[np.isfinite(values)]
    nonzero = np.abs(finite[finite != 0])
    int_mode = bool(np.all(nonzero == np.ceil(nonzero)))
    sci = False
    if nonzero.size:
        lo, hi = nonzero.min(), nonzero.max()
        sci = hi / lo > 1000.0 or hi > 1e8 or (not int_mode and lo < 1e-4)

    def fmt(v) -> str:
        v = float(v)
        if not np.isfinite(v):
            return str(v)
        if sci:
            return f"{v:.4e}"
        return f"{v:.0f}." if int_mode else f"{v:.4f}"

    # As PyTorch, the column width comes from the nonzero finite values only.
    width = max((len(fmt(v)) for v in (finite[finite != 0])), default=1)
    return lambda v: fmt(v).rjust(width)


def _repr(t: Tensor) -> str:
    array = t._host()
    options = dict(separator=", ", prefix="tensor(", max_line_width=_LINEWIDTH)
    options.update(threshold=_THRESHOLD, edgeitems=_EDGE)
    shown = _summarized(array) if array.size > _THRESHOLD else array
    if array.size == 0:
        body = "[]"
    elif array.dtype.kind == "f":
        body = np.array2string(array, formatter={"float_kind": _float_formatter(shown)}, **options)
    else:
        body = np.array2string(array, **options)
    if shown is not array:
        body = body.replace(", ...,", ",  ...,")  # PyTorch pads the ellipsis like an element
    extras = []
    if array.size == 0 and array.shape != (0,):
        extras.append(f"size={tuple(array.shape)}")
    default_dtypes = (dtypes.get_default_dtype(), dtypes.int64, dtypes.bool)
    if array.dtype not in default_dtypes:
        extras.append(f"dtype=minigrad.{array.dtype}")
    if t.device.type != "cpu":
        extras.append(f"device='{t.device}'")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    return "tensor(" + body + "".join(", " + e for e in extras) + ")"


autograd.Tensor = Tensor

# The one real import cycle: Tensor's math methods call minigrad.ops, whose functions build
# Tensors. The class is complete above, so importing the ops here (once) closes the loop.
from minigrad import creation  # noqa: E402
from minigrad.ops import (  # noqa: E402
    elementwise,
    indexing,
    linalg,
    mathfns,
    reduce,
    scattering,
    searching,
    sorting,
)
from minigrad.ops import shape as shape_ops  # noqa: E402  (`shape` is a Tensor property)

"""Tensor constructors: `tensor`, `zeros`, `ones`, `full`, `arange`, `linspace`, `eye`, random
ones, `*_like`, `from_numpy`. Each takes PyTorch's `dtype`, `device` and `requires_grad`."""

from __future__ import annotations

import numpy as np

from minigrad import dtypes
from minigrad.backend import (
    _BACKENDS,
    Device,
    backend_for_device,
    backend_of,
    get_default_device,
    to_device,
)
from minigrad.random import draws
from minigrad.tensor import Tensor


def _device(device) -> Device:
    if device is None:
        return get_default_device()
    device = device if isinstance(device, Device) else Device(device)
    return Device(device.type, 0) if device.type != "cpu" and device.index is None else device


def _xp(device: Device):
    return backend_for_device(device).xp


def _on(array, device: Device):
    return to_device(array, device) if device.type != "cpu" else array


def _shape(size, name: str = "") -> tuple:
    if name and not size:  # zeros(): torch's message
        raise TypeError(f'{name}() missing 1 required positional arguments: "size"')
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    return tuple(int(s) for s in size)


def _finish(array, requires_grad: bool) -> Tensor:
    t = Tensor._make(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _infer_dtype(array: np.ndarray, data) -> np.dtype:
    """PyTorch's inference: Python floats become the default dtype, ints int64, bools bool."""
    kind = array.dtype.kind
    if kind == "f" and not isinstance(data, np.ndarray) and not isinstance(data, np.generic):
        return dtypes.get_default_dtype()
    if kind in "iu" and not isinstance(data, np.ndarray):
        return dtypes.int64
    _check_numeric(array, data)
    return array.dtype


def _check_numeric(array: np.ndarray, data) -> None:
    """PyTorch's errors for data that holds no numbers (NumPy would make a str/object array)."""
    kind = array.dtype.kind
    if kind in "US":
        leaves = np.asarray(data, dtype=object).reshape(-1) if array.ndim else []
        if array.ndim and all(isinstance(v, str) for v in leaves):
            raise ValueError(f"too many dimensions 'str' (data {array.dtype}: {leaves[:3]})")
        raise TypeError("new(): invalid data type 'str'")
    if kind == "O":
        bad = next(
            (v for v in array.reshape(-1) if not isinstance(v, (int, float, bool, complex))),
            array.reshape(-1)[0] if array.size else data,
        )
        raise RuntimeError(f"Could not infer dtype of {type(bad).__name__}")
    if kind not in "biufc":
        raise TypeError(f"can't convert data of dtype {array.dtype} to a tensor")


def tensor(data, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of `data` (nested lists, scalars, arrays or Tensors)."""
    if isinstance(data, Tensor):
        array = data._data
        source_device = data.device
    else:
        if isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in data):
            data = [d.detach() if isinstance(d, Tensor) else d for d in data]
            data = [np.asarray(d) for d in data]
        if type(data) in _BACKENDS and type(data) is not np.ndarray:  # a CuPy or guard array
            array, source_device = data, backend_of(data).device_of(data)
        else:
            try:
                array, source_device = np.asarray(data), None
            except ValueError:  # ragged nested lists
                raise ValueError(
                    f"expected a sequence of equal-length sequences (a rectangular array), got "
                    f"{type(data).__name__} of ragged lengths"
                ) from None
            _check_numeric(array, data)
    dt = (
        dtypes.as_dtype(dtype)
        if dtype is not None
        else (array.dtype if isinstance(data, Tensor) else _infer_dtype(array, data))
    )
    target = _device(device) if device is not None else (source_device or _device(None))
    array = to_device(array, target) if (source_device or Device("cpu")) != target else array
    xp = _xp(target)
    return _finish(xp.array(array, dtype=dt, copy=True), requires_grad)


def as_tensor(data, *, dtype=None, device=None) -> Tensor:
    if (
        isinstance(data, Tensor)
        and (dtype is None or data.dtype == dtypes.as_dtype(dtype))
        and (device is None or data.device == _device(device))
    ):
        return data
    return tensor(data, dtype=dtype, device=device)


def from_numpy(ndarray: np.ndarray, /) -> Tensor:
    """A tensor sharing memory with `ndarray` (changes to one show in the other)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    return Tensor._make(ndarray)


def _filled(fill, size, dtype, device, requires_grad, value=None) -> Tensor:
    dev = _device(device)
    dt = dtypes.as_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    shape = _shape(size, fill)
    xp = _xp(dev)
    if fill == "full":
        array = xp.full(shape, dtypes.fill_scalar(value, dt), dtype=dt)
    else:
        array = getattr(xp, fill)(shape, dtype=dt)
    return _finish(array, requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _filled("zeros", size, dtype, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _filled("ones", size, dtype, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return _filled("empty", size, dtype, device, requires_grad)


def full(size, fill_value, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    if dtype is None:
        dtype = dtypes.result_type([], [], [fill_value])
    return _filled("full", (size,), dtype, device, requires_grad, fill_value)


def _like(x: Tensor, dtype, device):
    return (x.dtype if dtype is None else dtype), (x.device if device is None else device)


def zeros_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    x = input
    return zeros(
        x.shape,
        dtype=_like(x, dtype, device)[0],
        device=_like(x, dtype, device)[1],
        requires_grad=requires_grad,
    )


def ones_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    x = input
    return ones(
        x.shape,
        dtype=_like(x, dtype, device)[0],
        device=_like(x, dtype, device)[1],
        requires_grad=requires_grad,
    )


def empty_like(input: Tensor, *, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    x = input
    return empty(
        x.shape,
        dtype=_like(x, dtype, device)[0],
        device=_like(x, dtype, device)[1],
        requires_grad=requires_grad,
    )


def full_like(
    input: Tensor, fill_value, *, dtype=None, device=None, requires_grad: bool = False
) -> Tensor:
    x = input
    dt, dev = _like(x, dtype, device)
    return full(x.shape, fill_value, dtype=dt, device=dev, requires_grad=requires_grad)


def arange(
    start, end=None, step=1, *, dtype=None, device=None, requires_grad: bool = False
) -> Tensor:
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * (1 if step > 0 else -1) < 0:
        raise RuntimeError(
            f"upper bound and lower bound inconsistent with step sign (arange({start}, {end}, "
            f"{step}))"
        )
    if dtype is None:
        dtype = dtypes.result_type([], [], [start, end, step])
    xp = _xp(_device(device))
    return _finish(xp.arange(start, end, step, dtype=dtypes.as_dtype(dtype)), requires_grad)


def linspace(
    start, end, steps: int, *, dtype=None, device=None, requires_grad: bool = False
) -> Tensor:
    """`steps` points from start to end, computed as PyTorch does (bit for bit): the first half
    counts up from start, the second half down from end; integer dtypes cast start and end to
    the dtype, step in float64, and truncate each point toward zero."""
    dt = dtypes.as_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    if dt.kind == "b":
        raise NotImplementedError("\"linspace_cpu\" not implemented for 'Bool'")
    steps = int(steps)
    if steps < 0:
        raise RuntimeError(f"linspace(): number of steps must be non-negative, got {steps}")
    if dt.kind == "f":  # start, end and step in the dtype
        first, last = (np.float64(np.asarray(v, dtype=dt)) for v in (start, end))
        gap = np.asarray(last, dt) - np.asarray(first, dt)
        step = np.float64(np.asarray(gap / max(steps - 1, 1), dtype=dt))
    else:  # start and end cast to the dtype, the step in float64
        first, last = (np.float64(np.asarray(v).astype(dt)) for v in (start, end))
        step = (last - first) / max(steps - 1, 1)
    idx = np.arange(steps, dtype=np.float64)
    up = _fused_multiply_add(step, idx, first)
    down = _fused_multiply_add(-step, (steps - 1) - idx, last)
    points = np.where(np.arange(steps) < steps // 2, up, down) if steps > 1 else up
    points = points.astype(dt) if dt.kind == "f" else np.trunc(points).astype(dt)
    return _finish(_on(points, _device(device)), requires_grad)


def _fused_multiply_add(a, b, c):
    """a * b + c rounded once (C's fma, which PyTorch's linspace kernel compiles to), in
    float64: the product's rounding error recovered exactly (Dekker), the sum's by TwoSum."""
    product = a * b
    split = 134217729.0  # 2^27 + 1
    a_hi = split * a - (split * a - a)
    b_hi = split * b - (split * b - b)
    a_lo, b_lo = a - a_hi, b - b_hi
    product_error = ((a_hi * b_hi - product) + a_hi * b_lo + a_lo * b_hi) + a_lo * b_lo
    total = c + product
    b_virtual = total - c
    sum_error = (c - (total - b_virtual)) + (product - b_virtual)
    return total + (sum_error + product_error)


def eye(
    n: int, m: int | None = None, *, dtype=None, device=None, requires_grad: bool = False
) -> Tensor:
    dt = dtypes.as_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    xp = _xp(_device(device))
    return _finish(xp.eye(n, m, dtype=dt), requires_grad)


def _triangle_indices(kind: str, row: int, col: int, offset: int, dtype, device) -> Tensor:
    dt = dtypes.as_dtype(dtype) if dtype is not None else dtypes.int64
    if dt.kind not in "iu":
        raise NotImplementedError(f"\"{kind}\" not implemented for '{dtypes.torch_name(dt)}'")
    if row < 0:
        raise RuntimeError(f"row must be non-negative, got{row}")
    if col < 0:
        raise RuntimeError(f"col must be non-negative, got{col}")
    xp = _xp(_device(device))
    triangle = xp.tril_indices if kind == "tril_indices" else xp.triu_indices
    rows, cols = triangle(row, offset, col)
    return _finish(xp.stack([rows, cols]).astype(dt), False)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None) -> Tensor:
    """The (row, col) coordinates of the lower triangle (on and below diagonal `offset`) of a
    row x col matrix, row by row: a 2 x N int64 tensor."""
    return _triangle_indices("tril_indices", row, col, offset, dtype, device)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None) -> Tensor:
    """The (row, col) coordinates of the upper triangle (on and above diagonal `offset`) of a
    row x col matrix, row by row: a 2 x N int64 tensor."""
    return _triangle_indices("triu_indices", row, col, offset, dtype, device)


# --- random ------------------------------------------------------------------------------------
# Every sampler draws from `generator` (an mg.Generator on the output's device) or, when None, from
# that device's default stream (mg.default_generator on the CPU). See minigrad/random.py.


def _float_dtype(dtype):
    dt = dtypes.as_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    if dt.kind != "f":
        raise RuntimeError(f"expected a floating point dtype for random floats, got {dt}")
    return dt


def _sample_dtype(dt):
    return dt if dt != dtypes.float16 else dtypes.float32  # NumPy draws no float16 directly


def rand(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1)."""
    dev, dt = _device(device), _float_dtype(dtype)
    rng = draws(generator, dev)
    return _finish(
        rng.random(_shape(size, "rand"), dtype=_sample_dtype(dt)).astype(dt, copy=False),
        requires_grad,
    )


def randn(*size, generator=None, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """Standard normal samples."""
    dev, dt = _device(device), _float_dtype(dtype)
    rng = draws(generator, dev)
    return _finish(
        rng.standard_normal(_shape(size, "randn"), dtype=_sample_dtype(dt)).astype(dt, copy=False),
        requires_grad,
    )


def randint(
    low, high=None, size=None, *, generator=None, dtype=None, device=None,
    requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    """Integers in [low, high) (PyTorch: `randint(high, size)` or `randint(low, high, size)`)."""
    if size is None:
        low, high, size = 0, low, high
    if size is None:
        raise TypeError("randint() missing required argument 'size'")
    if high is None:
        raise TypeError("randint() missing required argument 'high'")
    if int(low) >= int(high):
        raise RuntimeError(
            f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}"
        )
    dev = _device(device)
    rng = draws(generator, dev)
    dt = dtypes.as_dtype(dtype) if dtype is not None else dtypes.int64
    if requires_grad and dt.kind != "f":
        raise RuntimeError("Only Tensors of floating point dtype can require gradients")
    draw = rng.integers(int(low), int(high), size=_shape((size,)), dtype=np.int64)
    return _finish(draw.astype(dt, copy=False), requires_grad)


def randperm(
    n: int, *, generator=None, dtype=None, device=None, requires_grad: bool = False
) -> Tensor:
    if n < 0:
        raise RuntimeError(f"n must be non-negative, got {n}")
    dev = _device(device)
    rng = draws(generator, dev)
    dt = dtypes.as_dtype(dtype) if dtype is not None else dtypes.int64
    return _finish(rng.permutation(int(n)).astype(dt, copy=False), requires_grad)


def rand_like(
    input: Tensor, *, generator=None, dtype=None, device=None, requires_grad: bool = False
) -> Tensor:
    dt, dev = _like(input, dtype, device)
    return rand(input.shape, generator=generator, dtype=dt, device=dev, requires_grad=requires_grad)


def randn_like(
    input: Tensor, *, generator=None, dtype=None, device=None, requires_grad: bool = False
) -> Tensor:
    dt, dev = _like(input, dtype, device)
    return randn(
        input.shape, generator=generator, dtype=dt, device=dev, requires_grad=requires_grad
    )


def randint_like(
    input: Tensor, low=0, high=None, *, generator=None, dtype=None, device=None,
    requires_grad: bool = False,
) -> Tensor:  # fmt: skip
    dt, dev = _like(input, dtype, device)
    if high is None:
        low, high = 0, low
    return randint(
        low, high, input.shape, generator=generator, dtype=dt, device=dev,
        requires_grad=requires_grad,
    )  # fmt: skip


def multinomial(
    input: Tensor, num_samples: int, replacement: bool = False, *, generator=None
) -> Tensor:
    """Draw category indices from each row of (unnormalised) probabilities.

    With replacement each draw inverts the row's CDF at a uniform; without, the categories race
    with exponential clocks scaled by 1/p and the first `num_samples` to finish win (the same law
    as drawing one at a time and removing the winner).
    """
    p = input.detach()._host().astype(np.float64)
    if p.ndim not in (1, 2):
        raise RuntimeError(f"prob_dist must be 1 or 2 dim, got {p.ndim}")
    n_categories = p.shape[-1]
    if not isinstance(num_samples, (int, np.integer)) or num_samples <= 0:
        raise RuntimeError(f"cannot sample n_sample <= 0 samples (got {num_samples})")
    if not replacement and num_samples > n_categories:
        raise RuntimeError(
            f"cannot sample n_sample > prob_dist.size(-1) samples without replacement "
            f"({num_samples} > {n_categories})"
        )
    rows = p.reshape(-1, n_categories)
    if (rows < 0).any() or not np.isfinite(rows).all() or (rows.sum(-1) <= 0).any():
        raise RuntimeError(
            "invalid multinomial distribution (sum of probabilities <= 0, or negative/inf/nan)"
        )
    if not replacement and ((rows > 0).sum(-1) < num_samples).any():
        raise RuntimeError(
            "invalid multinomial distribution (with replacement=False, not enough non-negative "
            "category to sample)"
        )
    rng = draws(generator, input.device)
    u = backend_of_host(rng.random((rows.shape[0], num_samples if replacement else n_categories)))
    if replacement:
        cdf = np.cumsum(rows, axis=-1)
        cdf /= cdf[:, -1:]
        out = np.stack([np.searchsorted(c, row_u, side="right") for c, row_u in zip(cdf, u)])
        out = np.minimum(out, n_categories - 1)
    else:
        with np.errstate(divide="ignore"):
            clocks = -np.log1p(-u) / rows  # Exp(1) / p: p == 0 never finishes
        out = np.argsort(clocks, axis=-1, kind="stable")[:, :num_samples]
    out = out.reshape(p.shape[:-1] + (num_samples,)).astype(np.int64)
    return Tensor._make(to_device(out, input.device))


def backend_of_host(array) -> np.ndarray:
    return backend_of(array).to_host(array)


def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, device=None) -> Tensor:
    """Samples of N(mean, std): tensors broadcast (differentiable in both, as mean + std * eps),
    or floats with `size`."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        if size is not None:
            raise RuntimeError("normal: size is only accepted when mean and std are numbers")
        like = mean if isinstance(mean, Tensor) else std
        shape = np.broadcast_shapes(
            tuple(getattr(mean, "shape", ())), tuple(getattr(std, "shape", ()))
        )
        if isinstance(std, Tensor) and (std.detach()._host() < 0).any():
            raise RuntimeError("normal expects all elements of std >= 0.0")
        eps = randn(shape, generator=generator, dtype=like.dtype, device=like.device)
        return mean + std * eps
    if size is None:
        raise TypeError("normal() with float mean and std needs size")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    out = randn(size, generator=generator, dtype=dtype, device=device)
    out._data = out._data * std + mean if std != 1 or mean != 0 else out._data
    out._data = out._data.astype(out.dtype, copy=False)
    return out


def bernoulli(input: Tensor, p=None, *, generator=None) -> Tensor:
    """0/1 samples with probabilities `input` (or `p`), in input's dtype."""
    probs = input._data if p is None else p
    rng = draws(generator, input.device)
    u = rng.random(input.shape, dtype=_sample_dtype(input.dtype) if input.dtype.kind == "f"
                   else np.float64)  # fmt: skip
    return Tensor._make((u < probs).astype(input.dtype))


# --- in-place samplers (Tensor.normal_, uniform_, ...) -------------------------------------------


def _fill(tensor: Tensor, array) -> Tensor:
    tensor._check_inplace(False)
    tensor._data[...] = array
    tensor._vc[0] += 1
    return tensor


def _float_tensor(tensor: Tensor, what: str):
    if tensor.dtype.kind != "f":
        raise RuntimeError(f"{what} expects a floating point tensor, got {tensor.dtype}")
    return _sample_dtype(tensor.dtype)


def normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *, generator=None) -> Tensor:
    dt = _float_tensor(self, "normal_")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    z = draws(generator, self.device).standard_normal(self.shape, dtype=dt)
    return _fill(self, z * std + mean)


def uniform_(self: Tensor, *args, generator=None, **kwargs) -> Tensor:
    """`uniform_(from=0, to=1, *, generator=None)`: `from` is a Python keyword, so the bounds
    are read from `*args` / `**kwargs` by hand."""
    low, high = _from_to(args, kwargs, "uniform_", 0.0, 1.0)
    dt = _float_tensor(self, "uniform_")
    if low > high:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={low} "
                           f"> to={high}")  # fmt: skip
    u = draws(generator, self.device).random(self.shape, dtype=dt)
    return _fill(self, u * (high - low) + low)


def _from_to(args, kwargs, name, default_from, default_to):
    if len(args) > 2:
        raise TypeError(f"{name}() takes at most 2 positional arguments ({len(args)} given)")
    unknown = set(kwargs) - {"from", "to"}
    if unknown:
        raise TypeError(f"{name}() got an unexpected keyword argument {sorted(unknown)[0]!r}")
    values = dict(zip(("from", "to"), args))
    for key in kwargs:
        if key in values:
            raise TypeError(f"{name}() got multiple values for argument {key!r}")
        values[key] = kwargs[key]
    return values.get("from", default_from), values.get("to", default_to)


def random_(self: Tensor, *args, generator=None, **kwargs) -> Tensor:
    """`random_(from=0, to=None, *, generator=None)`: integers in [from, to); `random_(to)` is
    [0, to); with no bounds, [0, 2**mantissa] for floats (as PyTorch) or the dtype's range."""
    if len(args) == 1 and not kwargs:
        low, high = 0, args[0]
    else:
        low, high = _from_to(args, kwargs, "random_", 0, None)
    dt = self.dtype
    if high is None:
        if dt.kind == "f":
            high = 2 ** (np.finfo(dt).nmant + 1) + 1
        elif dt.kind == "b":
            high = 2
        else:
            high = int(np.iinfo(dt).max) + 1
    if low >= high:
        raise RuntimeError(
            f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}"
        )
    draw = draws(generator, self.device).integers(int(low), int(high), size=self.shape,
                                                  dtype=np.int64)  # fmt: skip
    return _fill(self, draw.astype(dt))


def bernoulli_(self: Tensor, p=0.5, *, generator=None) -> Tensor:
    probs = p._data if isinstance(p, Tensor) else p
    u = draws(generator, self.device).random(self.shape, dtype=np.float64)
    return _fill(self, (u < probs).astype(self.dtype))


def exponential_(self: Tensor, lambd: float = 1.0, *, generator=None) -> Tensor:
    dt = _float_tensor(self, "exponential_")
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd}")
    u = draws(generator, self.device).random(self.shape, dtype=dt)
    xp = backend_of(u).xp
    return _fill(self, -xp.log1p(-u) / lambd)


def tensor_bernoulli(self: Tensor, p=None, *, generator=None) -> Tensor:
    return bernoulli(self, p, generator=generator)


def tensor_multinomial(
    self: Tensor, num_samples: int, replacement: bool = False, *, generator=None
) -> Tensor:
    return multinomial(self, num_samples, replacement, generator=generator)

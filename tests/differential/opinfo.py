"""The differential suite's core: the `Entry` table, input strategies, and the runner that
compares minigrad with PyTorch (the oracle) on what Hypothesis draws.

An entry says how to call one public name and how to draw its inputs:

    register(Entry(
        "sum.dim",                                   # unique id (the test id)
        covers=("minigrad.sum",),                    # the public names this entry calls
        op=lambda lib, x, dim: lib.sum(x, dim=dim),  # written once, run with lib=minigrad, torch
        sample=lambda draw, dtype: Sample(T(draw(arrays(dtype))), dim=draw(dims(...))),
    ))

`op` receives the library as `lib` (minigrad, behind a recording proxy, or torch) and the sample's
arguments with every `T` (a NumPy array standing for a tensor) turned into that library's tensor.
The runner compares outputs (value, dtype, shape), the gradients of a random weighted sum of the
float outputs with respect to every float input marked differentiable, and exception types where
torch raises. See README.md in this folder.
"""

from __future__ import annotations

import contextlib
import importlib
import math
import os
import warnings
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from hypothesis import Phase, given, seed, settings
from hypothesis import strategies as st
from torch.nn.attention import SDPBackend, sdpa_kernel

import minigrad
from minigrad.backend import get_default_device, to_device
from minigrad.tensor import Tensor

# ----------------------------------------------------------------------------------------------
# configuration

#: examples drawn per entry (CI default); MINIGRAD_DIFF_EXAMPLES raises it for deeper local runs
DEFAULT_EXAMPLES = 10
#: MINIGRAD_DIFF_SEED varies the (otherwise fixed, reproducible) per-entry seeds
SEED_SALT = os.environ.get("MINIGRAD_DIFF_SEED", "")


def examples_for(entry: Entry) -> int:
    wanted = os.environ.get("MINIGRAD_DIFF_EXAMPLES")
    n = entry.max_examples if entry.max_examples is not None else DEFAULT_EXAMPLES
    return int(wanted) if wanted else n


# Shrinking a failure to its minimal example costs ~100 runs: on for local hunting only.
PHASES = (Phase.explicit, Phase.generate) + (
    (Phase.shrink,) if os.environ.get("MINIGRAD_DIFF_SHRINK") else ()
)

# torch.testing.assert_close defaults, per dtype (rtol, atol). Never loosened per entry.
TOLERANCES = {
    "float16": (1e-3, 1e-5),
    "bfloat16": (1.6e-2, 1e-5),
    "float32": (1.3e-6, 1e-5),
    "float64": (1e-7, 1e-7),
}

FLOATS = ("float32", "float64")
INTS = ("int64", "int32", "int16", "int8", "uint8")
ALL = FLOATS + INTS + ("bool",)

# ----------------------------------------------------------------------------------------------
# the table


@dataclass(frozen=True)
class T:
    """A tensor argument: the values, whether to differentiate it, and its memory layout.

    layout: "contiguous", "transposed" (a transposed view of a contiguous buffer; ndim >= 2) or
    "sliced" (every second element of a buffer twice as long in the last dim; ndim >= 1).
    grad: differentiate it when its dtype is floating (ignored for int/bool).
    """

    array: np.ndarray
    grad: bool = True
    layout: str = "contiguous"


@dataclass(frozen=True)
class D:
    """A dtype argument by name ("float64"): each library gets its own dtype object."""

    name: str


@dataclass
class Sample:
    """Positional and keyword arguments for an entry's `op`; `T`s anywhere inside become tensors."""

    args: tuple
    kwargs: dict

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args
        self.kwargs = kwargs

    def __repr__(self) -> str:
        return f"Sample(*{self.args!r}, **{self.kwargs!r})"


@dataclass
class Entry:
    """One row of the table.

    name: unique id, e.g. "sum", "Tensor.sum", "sum.keepdim".
    covers: qualified public names this entry calls: "minigrad.X", "minigrad.nn.functional.X",
        "minigrad.nn.X" (a module class), "Tensor.X" (a method, property or operator dunder).
        The coverage test checks each one is really called when the entry runs.
    op: op(lib, *args, **kwargs) -> output; lib is minigrad (a recording proxy) or torch.
    sample: sample(draw, dtype) -> Sample; `draw` is Hypothesis' draw function.
    dtypes: dtype names the runner draws from (passed to `sample`).
    grad: compare gradients of float inputs whose `T.grad` is True.
    compare: "values" (value, dtype, shape), "meta" (dtype and shape only: random ops, empty()),
        or a callable compare(mg_out, torch_out) raising AssertionError on a mismatch.
    module: for nn modules: module(lib) -> a Module; the runner builds torch's, copies its
        state_dict into minigrad's, passes it to op as the first argument, and compares the
        parameter gradients and the state after the call too.
    max_examples: examples per run (None: DEFAULT_EXAMPLES).
    note: why the entry deviates from plain comparison (documented torch quirks).
    """

    name: str
    covers: tuple[str, ...]
    op: Callable
    sample: Callable
    dtypes: tuple[str, ...] = FLOATS
    grad: bool = True
    compare: str | Callable = "values"
    module: Callable | None = None
    max_examples: int | None = None
    note: str = ""
    source: str = field(default="", repr=False)


REGISTRY: dict[str, Entry] = {}


def register(*entries: Entry) -> None:
    """Add entries to the table; ids must be unique across all table_*.py files."""
    import inspect

    # the table file that registered it (the first caller outside this module)
    caller = next(
        Path(f.filename).name for f in inspect.stack()[1:] if Path(f.filename).name != "opinfo.py"
    )
    for e in entries:
        if e.name in REGISTRY:
            raise ValueError(
                f"duplicate differential entry {e.name!r} ({caller}; first in "
                f"{REGISTRY[e.name].source})"
            )
        for c in e.covers:
            if not c.startswith(("minigrad.", "Tensor.")):
                raise ValueError(f"entry {e.name!r}: covers name {c!r} is not qualified")
        e.source = caller
        REGISTRY[e.name] = e


def load_tables() -> dict[str, Entry]:
    """Import every tests/differential/table_*.py (each registers its entries) once."""
    here = Path(__file__).parent
    for path in sorted(here.glob("table_*.py")):
        importlib.import_module(f"tests.differential.{path.stem}")
    return REGISTRY


# ----------------------------------------------------------------------------------------------
# strategies (all take Hypothesis' `draw` or are strategies)


def values(dtype: str, *, edges: bool = True, low: float = -10.0, high: float = 10.0):
    """Element strategy: moderate values plus (floats, `edges`) 0, -0, +-inf and NaN."""
    if dtype == "bool":
        return st.booleans()
    if dtype in INTS:
        info = np.iinfo(dtype)
        lo, hi = max(int(low), int(info.min)), min(int(high), int(info.max))
        return st.integers(lo, hi)
    width = 32 if dtype == "float32" else 64
    plain = st.floats(low, high, width=width, allow_subnormal=False)
    if not edges:
        return plain
    special = st.sampled_from([0.0, -0.0, 1.0, -1.0, math.inf, -math.inf, math.nan])
    return st.one_of(plain, plain, plain, special)


@st.composite
def shapes(draw, min_dims: int = 0, max_dims: int = 4, min_side: int = 0, max_side: int = 4):
    """Shapes with 0-d, empty and size-1 dims."""
    nd = draw(st.integers(min_dims, max_dims))
    return tuple(draw(st.integers(min_side, max_side)) for _ in range(nd))


@st.composite
def broadcast_shapes(draw, n: int = 2, min_dims: int = 0, max_dims: int = 4, max_side: int = 4):
    """n shapes that broadcast together (some dims 1 or missing)."""
    base = draw(shapes(min_dims, max_dims, 0, max_side))
    out = []
    for _ in range(n):
        drop = draw(st.integers(0, len(base) - min_dims)) if len(base) > min_dims else 0
        s = list(base[drop:])
        for k in range(len(s)):
            if draw(st.integers(0, 3)) == 0:
                s[k] = 1
        out.append(tuple(s))
    return tuple(out)


def layouts(ndim: int):
    options = ["contiguous", "contiguous"]
    if ndim >= 1:
        options.append("sliced")
    if ndim >= 2:
        options.append("transposed")
    return st.sampled_from(options)


@st.composite
def arrays(draw, dtype: str, shape=None, *, edges: bool = True, low=-10.0, high=10.0):
    """A NumPy array of `dtype` (drawn shape unless given)."""
    from hypothesis.extra import numpy as hnp

    shape = draw(shapes()) if shape is None else shape
    return draw(
        hnp.arrays(np.dtype(dtype), shape, elements=values(dtype, edges=edges, low=low, high=high))
    )


@st.composite
def tensors(
    draw, dtype: str, shape=None, *, grad: bool = True, edges: bool = True, low=-10.0, high=10.0
):
    """A `T`: drawn values and a drawn layout (contiguous, transposed or sliced)."""
    a = draw(arrays(dtype, shape, edges=edges, low=low, high=high))
    return T(a, grad=grad, layout=draw(layouts(a.ndim)))


def dims(ndim: int, *, allow_none: bool = False):
    """A dim in [-ndim, ndim) (0-d tensors take -1 and 0), or None."""
    n = max(ndim, 1)
    s = st.integers(-n, n - 1)
    return st.one_of(st.none(), s) if allow_none else s


def dim_tuples(ndim: int):
    """Distinct dims as a tuple, mixing negative and positive spellings."""
    if ndim == 0:
        return st.just(())
    return st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim).flatmap(
        lambda ds: st.tuples(*[st.sampled_from([d, d - ndim]) for d in ds])
    )


def unary(draw, dtype, *, edges=True, low=-10.0, high=10.0) -> Sample:
    """A sample of one tensor of any drawn shape."""
    return Sample(draw(tensors(dtype, edges=edges, low=low, high=high)))


def binary(draw, dtype, *, edges=True, low=-10.0, high=10.0) -> Sample:
    """Two broadcastable tensors of one dtype."""
    s1, s2 = draw(broadcast_shapes(2))
    return Sample(
        draw(tensors(dtype, s1, edges=edges, low=low, high=high)),
        draw(tensors(dtype, s2, edges=edges, low=low, high=high)),
    )


# ----------------------------------------------------------------------------------------------
# building tensors of both libraries


def _layout_buffer(array: np.ndarray, layout: str):
    """(contiguous buffer, function turning a library tensor of it into the wanted view)."""
    if layout == "transposed" and array.ndim >= 2:
        return np.ascontiguousarray(array.swapaxes(-1, -2)), lambda t: t.transpose(-1, -2)
    if layout == "sliced" and array.ndim >= 1:
        buf = np.zeros(array.shape[:-1] + (2 * array.shape[-1],), dtype=array.dtype)
        buf[..., ::2] = array
        return buf, lambda t: t[..., ::2]
    return np.ascontiguousarray(array), lambda t: t


def _make_mg(arg: T, differentiate: bool) -> Tensor:
    buf, view = _layout_buffer(arg.array, arg.layout)
    if arg.layout == "transposed" and arg.array.ndim >= 2:
        data = to_device(buf, get_default_device()).swapaxes(-1, -2)
    elif arg.layout == "sliced" and arg.array.ndim >= 1:
        data = to_device(buf, get_default_device())[..., ::2]
    else:
        data = to_device(buf.copy(), get_default_device())
    t = Tensor._make(data)
    if differentiate:
        t.requires_grad_(True)
    return t


def _make_torch(arg: T, differentiate: bool) -> torch.Tensor:
    buf, view = _layout_buffer(arg.array, arg.layout)
    t = view(torch.from_numpy(buf.copy()))
    if differentiate:
        t.requires_grad_(True)
    return t


def _differentiable(arg: T, grad: bool) -> bool:
    return grad and arg.grad and arg.array.dtype.kind == "f"


def _convert(obj, make, leaves: list, lib=None):
    if isinstance(obj, D):
        return getattr(torch if make.__name__ == "make_t" else minigrad, obj.name)
    if isinstance(obj, T):
        t = make(obj)
        leaves.append((obj, t))
        return t
    if isinstance(obj, tuple):
        return tuple(_convert(o, make, leaves) for o in obj)
    if isinstance(obj, list):
        return [_convert(o, make, leaves) for o in obj]
    if isinstance(obj, dict):
        return {k: _convert(v, make, leaves) for k, v in obj.items()}
    return obj


# ----------------------------------------------------------------------------------------------
# recording what minigrad code an entry really calls


class Recorder:
    """Wraps a module (minigrad, minigrad.nn, ...): calls through it are logged by qualified
    name. Submodules are wrapped too; dtypes and other values pass through."""

    def __init__(self, module, prefix: str, log: set) -> None:
        self._module, self._prefix, self._log = module, prefix, log

    def __getattr__(self, name: str):
        value = getattr(self._module, name)
        qual = f"{self._prefix}.{name}"
        if isinstance(value, type(minigrad)):
            return Recorder(value, qual, self._log)
        if isinstance(value, type):
            self._log.add(qual)
            return value
        if callable(value) and not isinstance(value, np.dtype):

            def recorded(*args, **kwargs):
                self._log.add(qual)
                return value(*args, **kwargs)

            return recorded
        return value


def _lookup(cls, name):
    for klass in cls.__mro__:
        if name in klass.__dict__:
            return klass.__dict__[name]
    raise AttributeError(name)


@contextlib.contextmanager
def recording_tensor_methods(names: Sequence[str], log: set):
    """While active, calling/reading each `Tensor.<name>` in `names` logs it."""
    saved = {}
    for qual in names:
        name = qual.split(".", 1)[1]
        original = _lookup(Tensor, name)
        saved[name] = Tensor.__dict__.get(name, _MISSING)
        if hasattr(original, "__get__") and not callable(original):
            # a property or slot: record reads and writes
            def fget(self, _o=original, _q=qual):
                log.add(_q)
                return _o.__get__(self, Tensor)

            def fset(self, value, _o=original, _q=qual):
                log.add(_q)
                if not hasattr(_o, "__set__"):
                    raise AttributeError("read-only")
                _o.__set__(self, value)

            setattr(Tensor, name, property(fget, fset))
        else:
            if isinstance(original, staticmethod):
                continue

            def method(*args, _o=original, _q=qual, **kwargs):
                log.add(_q)
                return _o(*args, **kwargs)

            setattr(Tensor, name, method)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is _MISSING:
                delattr(Tensor, name)
            else:
                setattr(Tensor, name, value)


_MISSING = object()

# ----------------------------------------------------------------------------------------------
# comparison


def _builtin_base(exc_type: type) -> type:
    for klass in exc_type.__mro__:
        if klass.__module__ == "builtins":
            return klass
    return Exception


def _dtype_name(dtype) -> str:
    return str(dtype).replace("torch.", "")


def _flatten_out(out) -> list:
    if isinstance(out, (tuple, list)):
        items = []
        for o in out:
            items.extend(_flatten_out(o))
        return items
    return [out]


def _host_mg(t: Tensor) -> np.ndarray:
    return np.asarray(to_device(t._data, minigrad.backend.CPU))


# While run_one compares a float32 sample, finite float32 value differences are collected here
# instead of raised; it then asks torch in float64 which side rounded (`_judge_in_float64`).
_referee: list | None = None


@contextlib.contextmanager
def _deferring_float32_differences(found: list):
    global _referee
    _referee = found
    try:
        yield
    finally:
        _referee = None


def assert_close(got: np.ndarray, expected: np.ndarray, dtype: str, what: str) -> None:
    """torch.testing.assert_close's rule: |got - expected| <= atol + rtol * |expected|, NaN
    positions equal, infinities equal; exact for integers and bools."""
    assert got.shape == expected.shape, f"{what}: shape {got.shape}, torch {expected.shape}"
    if dtype not in TOLERANCES:
        if not np.array_equal(got, expected):
            bad = np.argwhere(got != expected)[:3].tolist()
            raise AssertionError(f"{what}: values differ at {bad}:\n{got}\ntorch:\n{expected}")
        return
    rtol, atol = TOLERANCES[dtype]
    g, e = got.astype(np.float64), expected.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        nan_ok = np.isnan(g) == np.isnan(e)
        inf_ok = np.where(np.isinf(e) | np.isinf(g), g == e, True)
        finite = np.isfinite(g) & np.isfinite(e)
        close = np.where(finite, np.abs(g - e) <= atol + rtol * np.abs(e), True)
    ok = nan_ok & inf_ok & (close | np.isnan(e))
    if _referee is not None and dtype == "float32" and (nan_ok & inf_ok).all():
        if not ok.all():
            _referee.append((what, g, e))
        return
    if not ok.all():
        idx = tuple(np.argwhere(~ok)[0])
        raise AssertionError(
            f"{what}: {int((~ok).sum())} of {ok.size} values differ (rtol={rtol}, atol={atol});"
            f" first at {idx}: minigrad {g[idx]!r}, torch {e[idx]!r}\nminigrad:\n{got}\n"
            f"torch:\n{expected}"
        )


def compare_outputs(mg_out, t_out, mode: str = "values", what: str = "output") -> None:
    mg_items, t_items = _flatten_out(mg_out), _flatten_out(t_out)
    assert len(mg_items) == len(t_items), (
        f"{what}: minigrad returned {len(mg_items)} items, torch {len(t_items)}"
    )
    for k, (m, t) in enumerate(zip(mg_items, t_items)):
        w = f"{what}[{k}]" if len(mg_items) > 1 else what
        if isinstance(t, torch.Tensor):
            assert isinstance(m, Tensor), f"{w}: minigrad gave {type(m).__name__}, torch a Tensor"
            assert _dtype_name(m.dtype) == _dtype_name(t.dtype), (
                f"{w}: dtype {m.dtype}, torch {_dtype_name(t.dtype)}"
            )
            assert tuple(m.shape) == tuple(t.shape), (
                f"{w}: shape {tuple(m.shape)}, torch {tuple(t.shape)}"
            )
            if mode == "values":
                assert_close(_host_mg(m), t.detach().numpy(), _dtype_name(t.dtype), w)
        elif isinstance(t, torch.Size):
            assert tuple(m) == tuple(t), f"{w}: {m}, torch {t}"
        elif isinstance(t, torch.dtype):
            assert _dtype_name(m) == _dtype_name(t), f"{w}: {m}, torch {t}"
        elif isinstance(t, np.ndarray):
            assert isinstance(m, np.ndarray), f"{w}: minigrad gave {type(m).__name__}"
            assert m.dtype == t.dtype, f"{w}: dtype {m.dtype}, torch {t.dtype}"
            assert_close(m, t, str(t.dtype), w)
        elif isinstance(t, (bool, int, float)) or t is None:
            assert type(m) is type(t), (
                f"{w}: {type(m).__name__} {m!r}, torch {type(t).__name__} {t!r}"
            )
            if mode == "values":
                if isinstance(t, float):
                    assert_close(np.array(m), np.array(t), "float64", w)
                else:
                    assert m == t, f"{w}: {m!r}, torch {t!r}"
        else:
            assert m == t, f"{w}: {m!r}, torch {t!r}"


# ----------------------------------------------------------------------------------------------
# the runner


class TorchRaised(Exception):
    pass


def _weights(outputs: list, rng: np.random.Generator) -> list:
    return [rng.uniform(-2.0, 2.0, size=tuple(o.shape)) for o in outputs]


def _float_tensors(out, kind) -> list:
    return [o for o in _flatten_out(out) if isinstance(o, kind) and _dtype_name(o.dtype) in FLOATS]


def _torch_state(t_module: torch.nn.Module) -> dict:
    """A copy of torch's parameters and buffers as NumPy arrays (before the call mutates them)."""
    return {k: v.detach().numpy().copy() for k, v in t_module.state_dict().items()}


def _sync_module(t_state: dict, mg_module) -> None:
    """Load torch's parameters and buffers (as before torch's call) into minigrad's module."""
    mg_module.load_state_dict({k: minigrad.tensor(v.copy()) for k, v in t_state.items()})


def run_one(entry: Entry, sample: Sample, weight_seed: int, log: set | None = None) -> None:
    """Run one sample through torch and minigrad and compare everything."""

    def make_t(a):
        return _make_torch(a, _differentiable(a, entry.grad))

    def make_m(a):
        return _make_mg(a, _differentiable(a, entry.grad))

    t_leaves: list = []
    t_args = _convert(sample.args, make_t, t_leaves)
    t_kwargs = _convert(sample.kwargs, make_t, t_leaves)
    t_module = None
    if entry.module is not None:
        torch.manual_seed(0)
        t_module = entry.module(torch)
        # the state minigrad's module starts from: torch's call updates buffers (running stats,
        # num_batches_tracked) in place
        t_state = _torch_state(t_module)
        t_args = (t_module,) + t_args
    t_out = t_error = None
    try:
        t_out = entry.op(torch, *t_args, **t_kwargs)
    except Exception as exc:  # noqa: BLE001 - any torch error is the oracle's answer
        t_error = exc

    log = set() if log is None else log
    lib = Recorder(minigrad, "minigrad", log)
    tensor_names = [c for c in entry.covers if c.startswith("Tensor.")]
    # NumPy's RuntimeWarnings must never reach a minigrad user: collected and checked last, so
    # that a wrong value or gradient is reported first
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        # what a user has after `import minigrad` (pytest restores the filters that existed
        # before collection, dropping the one minigrad installs when first imported)
        minigrad._ignore_own_numpy_warnings()
        with recording_tensor_methods(tensor_names, log):
            m_leaves: list = []
            m_args = _convert(sample.args, make_m, m_leaves)
            m_kwargs = _convert(sample.kwargs, make_m, m_leaves)
            m_module = None
            if entry.module is not None:
                m_module = entry.module(lib)
                _sync_module(t_state, m_module)
                m_args = (m_module,) + m_args
            if t_error is not None:
                _expect_raise(entry, lib, m_args, m_kwargs, t_error)
            else:
                try:
                    m_out = entry.op(lib, *m_args, **m_kwargs)
                except Exception as exc:
                    raise AssertionError(
                        f"minigrad raised {type(exc).__name__}: {exc}; torch returned {t_out!r}"[
                            :2000
                        ]
                    ) from exc
                differences: list = []
                with _deferring_float32_differences(differences):
                    _compare_call(entry, m_out, t_out, m_module, t_module)
                    # A NaN input makes the weighted loss NaN, and which entries of its
                    # gradient are 0 rather than NaN is a kernel detail, not semantics:
                    # gradients are compared for NaN-free inputs (infinities included).
                    nan_free = not any(_has_nan(a) for a, _ in m_leaves)
                    compare_grads = entry.grad and entry.compare != "meta" and nan_free
                    if compare_grads:
                        _compare_grads(
                            m_out, t_out, m_leaves, t_leaves, m_module, t_module, weight_seed
                        )
                if differences:
                    state = t_state if t_module is not None else None
                    reference = _torch_rerun(entry, sample, state, weight_seed, compare_grads, True)
                    math_path = _torch_rerun(
                        entry, sample, state, weight_seed, compare_grads, False
                    )
                    _judge_in_float64(differences, reference, math_path)
    leaked = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert not leaked, f"a NumPy RuntimeWarning reached the user: {leaked[0].message}"


def _torch_rerun(entry: Entry, sample: Sample, t_state, weight_seed, grads, wide: bool) -> dict:
    """torch's outputs, module state and gradients for the sample again, by the names the
    comparisons use ({} if torch fails). `wide`: with its float32 arrays (and the module's
    float32 state, and the gradient weights as rounded to float32) raised exactly to float64,
    the referee's reference; otherwise in float32 on torch's math attention path, a second
    float32 kernel whose rounding is as legitimate as the default (flash) one."""
    try:
        if wide:
            return _torch_answers(entry, sample, t_state, weight_seed, grads, wide)
        with sdpa_kernel(SDPBackend.MATH):
            return _torch_answers(entry, sample, t_state, weight_seed, grads, wide)
    except Exception:  # noqa: BLE001 - no second answer: the differences stand
        return {}


def _torch_answers(entry: Entry, sample: Sample, t_state, weight_seed, grads, wide: bool):
    def make_t(a):  # the name _convert reads to pick torch's dtypes
        widened = a.array.astype(np.float64) if wide and a.array.dtype == np.float32 else a.array
        return _make_torch(T(widened, a.grad, a.layout), _differentiable(a, entry.grad))

    leaves: list = []
    args = _convert(sample.args, make_t, leaves)
    kwargs = _convert(sample.kwargs, make_t, leaves)
    module = None
    if entry.module is not None:
        torch.manual_seed(0)
        module = entry.module(torch)
        module = module.double() if wide else module
        module.load_state_dict({k: torch.from_numpy(v.copy()).to(
            torch.float64 if wide and v.dtype == np.float32 else None)
            for k, v in t_state.items()})  # fmt: skip
        args = (module,) + args
    out = entry.op(torch, *args, **kwargs)
    items = _flatten_out(out)
    ref = {
        f"output[{k}]" if len(items) > 1 else "output": t.detach().numpy()
        for k, t in enumerate(items)
        if isinstance(t, torch.Tensor)
    }
    if module is not None:
        ref.update(
            {f"state {k!r} after the call": v.numpy() for k, v in module.state_dict().items()}
        )
    t_float = _float_tensors(out, torch.Tensor)
    tracked = [k for k, o in enumerate(t_float) if o.requires_grad]
    params = list(module.named_parameters()) if module is not None else []
    inputs = [t for _, t in leaves if t.requires_grad] + [p for _, p in params]
    if grads and inputs and tracked:
        ws = _weights(t_float, np.random.default_rng(weight_seed))
        t_grads = _torch_grads(t_float, tracked, ws, inputs, ws_dtype=torch.float32)
        for name, g, leaf in zip(_grad_names(len(inputs), params), t_grads or (), inputs):
            ref[f"gradient of {name}"] = (
                np.zeros(tuple(leaf.shape)) if g is None else g.detach().numpy()
            )
    return ref


def _judge_in_float64(differences: list, reference: dict, math_path: dict | None = None) -> None:
    """A float32 difference from torch passes only if minigrad is as close to the float64
    answer as torch's own float32 results are at their worst in that tensor:
    |minigrad - ref| <= max|torch - ref| + atol + rtol |ref| at every element, torch's being
    its default answer and, where given, its math attention path's (`math_path`). Then both
    roundings are float32 noise: torch's kernels differ among themselves (its flash and math
    attention paths' errors differ by 2x either way on a sample); anywhere else the difference
    is reported as usual."""
    math_path = math_path or {}
    rtol, atol = TOLERANCES["float32"]
    for what, got, expected in differences:
        ref = reference.get(what)
        ref = None if ref is None or ref.shape != got.shape else ref.astype(np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            differ = ~(np.abs(got - expected) <= atol + rtol * np.abs(expected))
            differ &= np.isfinite(got) & np.isfinite(expected)
            ok = ~differ
            if ref is not None:
                torch_answers = [expected]
                if math_path.get(what) is not None and math_path[what].shape == got.shape:
                    torch_answers.append(math_path[what].astype(np.float64))
                noise = max(
                    np.max(np.abs(a - ref), where=np.isfinite(a) & np.isfinite(ref), initial=0.0)
                    for a in torch_answers
                )
                ok |= np.abs(got - ref) <= noise + atol + rtol * np.abs(ref)
        if not ok.all():
            idx = tuple(np.argwhere(~ok)[0])
            ref_at = "none" if ref is None else repr(ref[idx])
            raise AssertionError(
                f"{what}: {int((~ok).sum())} of {ok.size} float32 values differ from torch "
                f"beyond torch's own rounding; first at {idx}: minigrad {got[idx]!r}, torch "
                f"{expected[idx]!r}, torch in float64 {ref_at}\nminigrad:\n{got}\n"
                f"torch:\n{expected}\nfloat64:\n{ref}"
            )


def _has_nan(arg: T) -> bool:
    return arg.array.dtype.kind == "f" and bool(np.isnan(arg.array).any())


def _expect_raise(entry: Entry, lib, m_args, m_kwargs, t_error: Exception) -> None:
    expected = _builtin_base(type(t_error))
    try:
        m_out = entry.op(lib, *m_args, **m_kwargs)
    except Exception as exc:  # noqa: BLE001
        if not isinstance(exc, expected):
            raise AssertionError(
                f"torch raised {type(t_error).__name__} ({str(t_error)[:300]}); minigrad raised "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        return
    raise AssertionError(
        f"torch raised {type(t_error).__name__}: {str(t_error)[:300]}\nminigrad returned "
        f"{_flatten_out(m_out)!r}"[:2000]
    )


def _compare_call(entry: Entry, m_out, t_out, m_module, t_module) -> None:
    if callable(entry.compare):
        entry.compare(m_out, t_out)
    else:
        compare_outputs(m_out, t_out, entry.compare)
    if t_module is not None:
        t_state = t_module.state_dict()
        m_state = m_module.state_dict()
        assert sorted(m_state) == sorted(t_state), (
            f"state_dict keys {sorted(m_state)}, torch {sorted(t_state)}"
        )
        for k in sorted(t_state):
            compare_outputs(m_state[k], t_state[k], "values", f"state {k!r} after the call")


def _torch_grads(t_float: list, tracked: list, ws: list, t_inputs: list, ws_dtype=None):
    """torch's gradients of sum(w_k * out_k) (w cast to ws_dtype, else to each output's
    dtype); None where torch has no derivative (floor_divide): nothing to compare against."""
    t_loss = sum(
        (
            t_float[k]
            * torch.from_numpy(ws[k]).to(ws_dtype or t_float[k].dtype).to(t_float[k].dtype)
        ).sum()
        for k in tracked
    )
    try:
        return torch.autograd.grad(t_loss, t_inputs, allow_unused=True)
    except RuntimeError as exc:
        if "not implemented" in str(exc):
            return None
        raise


def _grad_names(n_inputs: int, t_params: list) -> list:
    return [f"input {k}" for k in range(n_inputs - len(t_params))] + [
        f"parameter {n}" for n, _ in t_params
    ]


def _compare_grads(m_out, t_out, m_leaves, t_leaves, m_module, t_module, weight_seed) -> None:
    """Gradients of sum(w_k * out_k) over float outputs, w random, for every float input (and
    every parameter of a module)."""
    t_float = _float_tensors(t_out, torch.Tensor)
    m_float = _float_tensors(m_out, Tensor)
    t_params = list(t_module.named_parameters()) if t_module is not None else []
    m_params = dict(m_module.named_parameters()) if m_module is not None else {}
    t_inputs = [t for _, t in t_leaves if t.requires_grad] + [p for _, p in t_params]
    m_inputs = [t for _, t in m_leaves if t.requires_grad] + [m_params[n] for n, _ in t_params]
    tracked = [k for k, o in enumerate(t_float) if o.requires_grad]
    if not t_inputs or not tracked:
        return
    ws = _weights(t_float, np.random.default_rng(weight_seed))
    t_grads = _torch_grads(t_float, tracked, ws, t_inputs)
    if t_grads is None:
        return
    m_loss = None
    for k in tracked:
        o = m_float[k]
        assert o.requires_grad, (
            f"output {k} does not require grad in minigrad; torch tracks it ({t_float[k].grad_fn})"
        )
        term = (o * minigrad.tensor(ws[k], dtype=o.dtype)).sum()
        m_loss = term if m_loss is None else m_loss + term
    m_grads = minigrad.autograd.grad(m_loss, m_inputs, allow_unused=True)
    names = _grad_names(len(t_inputs), t_params)
    for name, m, t, leaf in zip(names, m_grads, t_grads, t_inputs):
        t_arr = (
            np.zeros(tuple(leaf.shape), _dtype_name(leaf.dtype))
            if t is None
            else t.detach().numpy()
        )
        if m is None:
            m_arr = np.zeros(t_arr.shape, t_arr.dtype)
        else:
            assert _dtype_name(m.dtype) == str(t_arr.dtype), (
                f"gradient of {name}: dtype {m.dtype}, torch {t_arr.dtype}"
            )
            m_arr = _host_mg(m)
        assert_close(m_arr, t_arr, str(t_arr.dtype), f"gradient of {name}")


def entry_test(entry: Entry, max_examples: int | None = None, log: set | None = None):
    """The Hypothesis test of one entry (a callable without arguments)."""
    n = examples_for(entry) if max_examples is None else max_examples

    @seed(zlib.crc32(f"{entry.name}{SEED_SALT}".encode()))
    @settings(max_examples=n, database=None, phases=PHASES)
    @given(data=st.data())
    def test(data) -> None:
        dtype = data.draw(st.sampled_from(entry.dtypes), label="dtype")
        sample = data.draw(st.composite(lambda draw: entry.sample(draw, dtype))(), label="sample")
        weight_seed = data.draw(st.integers(0, 2**32 - 1), label="weight seed")
        run_one(entry, sample, weight_seed, log)

    return test


def function_and_method(
    name: str,
    sample: Callable,
    dtypes: tuple[str, ...] = FLOATS,
    *,
    function: str | None = "",
    method: str | None = "",
    namespace: str = "minigrad",
    **fields: Any,
) -> None:
    """Register `<namespace>.<name>(x, *args, **kwargs)` and `x.<name>(*args, **kwargs)` as two
    entries (ids `name` and `Tensor.name`). Pass function=None or method=None to skip one,
    or another string to use another name for that form."""
    fn_name = name if function == "" else function
    m_name = name if method == "" else method
    if fn_name is not None:
        parts = namespace.split(".")[1:] + [fn_name]

        def call(lib, *args, _parts=tuple(parts), **kwargs):
            target = lib
            for p in _parts:
                target = getattr(target, p)
            return target(*args, **kwargs)

        prefix = "" if namespace == "minigrad" else namespace.replace("minigrad.", "") + "."
        register(
            Entry(f"{prefix}{fn_name}", (f"{namespace}.{fn_name}",), call, sample, dtypes, **fields)
        )
    if m_name is not None:
        register(
            Entry(
                f"Tensor.{m_name}",
                (f"Tensor.{m_name}",),
                lambda lib, x, *args, _m=m_name, **kwargs: getattr(x, _m)(*args, **kwargs),
                sample,
                dtypes,
                **fields,
            )
        )


def scalar(dtype: str, *, edges: bool = True):
    """A Python number of the kind matching `dtype` (bool, int or float)."""
    if dtype == "bool":
        return st.booleans()
    if dtype in INTS:
        return st.integers(-5, 5)
    options = [st.integers(-5, 5), st.floats(-5, 5)]
    if edges:
        options.append(st.sampled_from([math.inf, -math.inf, math.nan]))
    return st.one_of(*options)


def is_torch(lib) -> bool:
    """True when an entry's op runs on torch (for names minigrad spells differently)."""
    return lib is torch

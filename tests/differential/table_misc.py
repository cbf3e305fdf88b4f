"""Differential entries: grad mode, defaults, seeding, save/load and small predicates."""

import io

from hypothesis import strategies as st

from minigrad.tensor import Tensor
from tests.differential.opinfo import ALL, FLOATS, INTS, Entry, Sample, binary, register, tensors


def _x(draw, dtype):
    return Sample(draw(tensors(dtype)))


def entry(name, op, sample=_x, dtypes=FLOATS, **kw):
    # float inputs require grad (so grad mode matters); the outputs are flags: nothing to
    # differentiate
    register(Entry(name, (f"minigrad.{name.split('.')[0]}",), op, sample, dtypes, **kw))


def _no_grad(lib, x):
    with lib.no_grad():
        y = x * 2
        inside = lib.is_grad_enabled()
    return y.requires_grad, inside, lib.is_grad_enabled()


def _no_grad_decorator(lib, x):
    @lib.no_grad()
    def f(t):
        return t * 2

    return f(x).requires_grad


def _enable_grad(lib, x):
    with lib.no_grad():
        with lib.enable_grad():
            y = x * 2
    return y.requires_grad


def _set_grad_enabled(lib, x, mode):
    with lib.set_grad_enabled(mode):
        y = x * 2
    return y.requires_grad, lib.is_grad_enabled()


def _set_grad_enabled_call(lib, x):
    lib.set_grad_enabled(False)
    try:
        y = x * 2
    finally:
        lib.set_grad_enabled(True)
    return y.requires_grad


entry("no_grad", _no_grad)
entry("no_grad.decorator", _no_grad_decorator)
entry("enable_grad", _enable_grad)
entry("is_grad_enabled", _no_grad)
entry(
    "set_grad_enabled",
    _set_grad_enabled,
    lambda draw, dtype: Sample(draw(tensors(dtype)), draw(st.booleans())),
)
entry("set_grad_enabled.call", _set_grad_enabled_call)


def _default_dtype(lib, name):
    before = lib.get_default_dtype()
    lib.set_default_dtype(getattr(lib, name))
    try:
        return lib.tensor([1.0, 2.0]).dtype, lib.get_default_dtype(), lib.arange(0.0, 2.0).dtype
    finally:
        lib.set_default_dtype(before)


entry(
    "set_default_dtype",
    _default_dtype,
    lambda draw, dtype: Sample(draw(st.sampled_from(["float32", "float64", "int64"]))),
)
entry("get_default_dtype", lambda lib: lib.get_default_dtype(), lambda draw, dtype: Sample())


def _default_device(lib):
    before = lib.get_default_device()
    lib.set_default_device("cpu")
    try:
        return str(lib.get_default_device()), str(lib.zeros(2).device)
    finally:
        # torch.set_default_device(any device, cpu included) installs a global function mode that
        # later torch calls see (F.l1_loss then drops weight=); None removes it.
        lib.set_default_device(None if str(before) == "cpu" else before)


entry("set_default_device", _default_device, lambda draw, dtype: Sample())
entry("get_default_device", lambda lib: str(lib.get_default_device()), lambda draw, dtype: Sample())


def _manual_seed(lib, seed):
    lib.manual_seed(seed)
    a = lib.rand(5)
    lib.manual_seed(seed)
    b = lib.rand(5)
    return bool((a == b).all())


entry("manual_seed", _manual_seed, lambda draw, dtype: Sample(draw(st.integers(0, 2**31))))
entry("numel", lambda lib, x: lib.numel(x), dtypes=ALL)
entry(
    "is_tensor", lambda lib, x: (lib.is_tensor(x), lib.is_tensor(3), lib.is_tensor([x])), dtypes=ALL
)


def _save_load(lib, x, y):
    buffer = io.BytesIO()
    lib.save({"x": x.detach(), "nested": {"y": y.detach()}}, buffer)
    buffer.seek(0)
    got = lib.load(buffer)
    return got["x"], got["nested"]["y"]


def _two(draw, dtype):
    return Sample(draw(tensors(dtype)), draw(tensors(draw(st.sampled_from(ALL)))))


register(Entry("save", ("minigrad.save", "minigrad.load"), _save_load, _two, ALL, grad=False))

# Python-scalar-on-the-left bitwise operators, where Tensor has them
for _name, _fn in [("__rand__", lambda a, b: b & a), ("__ror__", lambda a, b: b | a),
                   ("__rxor__", lambda a, b: b ^ a)]:  # fmt: skip
    if _name in vars(Tensor):  # (hasattr would find type.__ror__, the class-union operator)
        register(
            Entry(
                f"Tensor.{_name}",
                (f"Tensor.{_name}",),
                lambda lib, a, b, _f=_fn: _f(a, b),
                lambda draw, dtype: Sample(draw(tensors(dtype)), draw(st.integers(0, 5))),
                INTS + ("bool",),
                grad=False,
            )
        )
_ = binary

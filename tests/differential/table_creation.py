"""Differential entries: tensor creation (minigrad.creation). Random results are compared by
dtype and shape only (`compare="meta"`); so is `empty` (uninitialised values)."""

import numpy as np
from hypothesis import strategies as st

from tests.differential.opinfo import (
    ALL,
    FLOATS,
    INTS,
    D,
    Entry,
    Sample,
    arrays,
    register,
    shapes,
    tensors,
)

DTYPE_NAMES = ALL


def _maybe_dtype(draw, names=DTYPE_NAMES):
    return {} if draw(st.booleans()) else {"dtype": D(draw(st.sampled_from(names)))}


def _nested(draw, dtype):
    kind = {"bool": st.booleans(), "float32": st.floats(-5, 5), "float64": st.floats(-5, 5)}.get(
        dtype, st.integers(-5, 5)
    )
    shape = draw(shapes(0, 3, 0, 3))
    flat = [draw(kind) for _ in range(int(np.prod(shape, dtype=int)))]
    data = np.array(flat, dtype=object).reshape(shape).tolist() if shape else flat[0]
    if draw(st.integers(0, 9)) == 0 and isinstance(data, list) and data:
        data = data + [[1, 2, 3, 4, 5]]  # ragged: torch raises
    return data


def _tensor_sample(draw, dtype):
    return Sample(_nested(draw, dtype), **_maybe_dtype(draw))


register(
    Entry(
        "tensor",
        ("minigrad.tensor",),
        lambda lib, d, **k: lib.tensor(d, **k),
        _tensor_sample,
        ALL,
        grad=False,
    ),
    Entry(
        "tensor.requires_grad",
        ("minigrad.tensor",),
        lambda lib, d: lib.tensor(d, dtype=lib.float64, requires_grad=True) * 2,
        lambda draw, dtype: Sample(_nested(draw, "float64")),
        ("float64",),
        grad=False,
    ),
    Entry(
        "as_tensor",
        ("minigrad.as_tensor",),
        lambda lib, d, **k: lib.as_tensor(d, **k),
        _tensor_sample,
        ALL,
        grad=False,
    ),
    Entry(
        "from_numpy",
        ("minigrad.from_numpy",),
        lambda lib, a: lib.from_numpy(a),
        lambda draw, dtype: Sample(draw(arrays(dtype))),
        ALL,
        grad=False,
    ),
)


def _size_sample(draw, dtype):
    shape = draw(shapes(0, 3))
    kwargs = _maybe_dtype(draw)
    return Sample(*shape, **kwargs) if draw(st.booleans()) else Sample(shape, **kwargs)


for _name in ["zeros", "ones"]:
    register(
        Entry(
            _name,
            (f"minigrad.{_name}",),
            lambda lib, *s, _n=_name, **k: getattr(lib, _n)(*s, **k),
            _size_sample,
            ("float32",),
            grad=False,
        )
    )
register(
    Entry(
        "empty",
        ("minigrad.empty",),
        lambda lib, *s, **k: lib.empty(*s, **k),
        _size_sample,
        ("float32",),
        grad=False,
        compare="meta",
    )
)


def _full_sample(draw, dtype):
    fill = draw(st.one_of(st.integers(-3, 3), st.floats(-3, 3), st.booleans()))
    return Sample(draw(shapes(0, 3)), fill, **_maybe_dtype(draw))


register(
    Entry(
        "full",
        ("minigrad.full",),
        lambda lib, s, v, **k: lib.full(s, v, **k),
        _full_sample,
        ("float32",),
        grad=False,
    )
)


def _eye_sample(draw, dtype):
    n = draw(st.integers(0, 4))
    if draw(st.booleans()):
        return Sample(n, **_maybe_dtype(draw))
    return Sample(n, draw(st.integers(0, 4)), **_maybe_dtype(draw))


register(
    Entry(
        "eye",
        ("minigrad.eye",),
        lambda lib, *a, **k: lib.eye(*a, **k),
        _eye_sample,
        ("float32",),
        grad=False,
    )
)


def _arange_sample(draw, dtype):
    num = st.one_of(st.integers(-6, 6), st.floats(-6, 6).map(lambda v: round(v, 1)))
    n_args = draw(st.integers(1, 3))
    args = [draw(num) for _ in range(n_args)]
    return Sample(*args, **_maybe_dtype(draw, FLOATS + ("int64", "int32")))


def _linspace_sample(draw, dtype):
    num = st.one_of(st.integers(-6, 6), st.floats(-6, 6).map(lambda v: round(v, 2)))
    return Sample(draw(num), draw(num), draw(st.integers(0, 20)), **_maybe_dtype(draw))


register(
    Entry(
        "arange",
        ("minigrad.arange",),
        lambda lib, *a, **k: lib.arange(*a, **k),
        _arange_sample,
        ("float32",),
        grad=False,
    ),
    Entry(
        "linspace",
        ("minigrad.linspace",),
        lambda lib, *a, **k: lib.linspace(*a, **k),
        _linspace_sample,
        ("float32",),
        grad=False,
    ),
)


def _like_sample(draw, dtype):
    return Sample(draw(tensors(dtype)), **_maybe_dtype(draw))


for _name in ["zeros_like", "ones_like"]:
    register(
        Entry(
            _name,
            (f"minigrad.{_name}",),
            lambda lib, x, _n=_name, **k: getattr(lib, _n)(x, **k),
            _like_sample,
            ALL,
            grad=False,
        )
    )
register(
    Entry(
        "empty_like",
        ("minigrad.empty_like",),
        lambda lib, x, **k: lib.empty_like(x, **k),
        _like_sample,
        ALL,
        grad=False,
        compare="meta",
    ),
    Entry(
        "full_like",
        ("minigrad.full_like",),
        lambda lib, x, v, **k: lib.full_like(x, v, **k),
        lambda draw, dtype: Sample(
            draw(tensors(dtype)), draw(st.integers(-3, 3)), **_maybe_dtype(draw)
        ),
        ALL,
        grad=False,
    ),
)


def _float_size_sample(draw, dtype):
    return Sample(*draw(shapes(0, 3)), **_maybe_dtype(draw, FLOATS))


for _name in ["rand", "randn"]:
    register(
        Entry(
            _name,
            (f"minigrad.{_name}",),
            lambda lib, *s, _n=_name, **k: getattr(lib, _n)(*s, **k),
            _float_size_sample,
            ("float32",),
            grad=False,
            compare="meta",
        ),
        Entry(
            f"{_name}_like",
            (f"minigrad.{_name}_like",),
            lambda lib, x, _n=_name, **k: getattr(lib, f"{_n}_like")(x, **k),
            lambda draw, dtype: Sample(draw(tensors(dtype)), **_maybe_dtype(draw, FLOATS)),
            FLOATS,
            grad=False,
            compare="meta",
        ),
    )


def _randint_sample(draw, dtype):
    lo = draw(st.integers(-5, 5))
    hi = lo + draw(st.integers(-1, 5))
    return Sample(lo, hi, draw(shapes(0, 3)), **_maybe_dtype(draw, INTS + FLOATS))


register(
    Entry(
        "randint",
        ("minigrad.randint",),
        lambda lib, *a, **k: lib.randint(*a, **k),
        _randint_sample,
        ("int64",),
        grad=False,
        compare="meta",
    ),
    Entry(
        "randint_like",
        ("minigrad.randint_like",),
        lambda lib, x, lo, hi: lib.randint_like(x, lo, hi),
        lambda draw, dtype: Sample(draw(tensors(dtype)), 0, draw(st.integers(1, 5))),
        INTS + FLOATS,
        grad=False,
        compare="meta",
    ),
    Entry(
        "randperm",
        ("minigrad.randperm",),
        lambda lib, n, **k: lib.randperm(n, **k),
        lambda draw, dtype: Sample(draw(st.integers(0, 6)), **_maybe_dtype(draw, INTS + FLOATS)),
        ("int64",),
        grad=False,
        compare="meta",
    ),
)


def _multinomial_sample(draw, dtype):
    shape = draw(shapes(1, 2, 1, 4))
    probs = draw(tensors(dtype, shape, edges=False, low=0, high=3))
    n = draw(st.integers(1, 4))
    return Sample(probs, n, replacement=draw(st.booleans()))


register(
    Entry(
        "multinomial",
        ("minigrad.multinomial",),
        lambda lib, p, n, **k: lib.multinomial(p, n, **k),
        _multinomial_sample,
        FLOATS,
        grad=False,
        compare="meta",
    )
)

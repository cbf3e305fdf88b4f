"""Differential entries: views, reshapes, joins and splits (minigrad.ops.shape)."""

import math

from hypothesis import strategies as st

from tests.differential.opinfo import (
    ALL,
    Entry,
    Sample,
    dims,
    function_and_method,
    is_torch,
    register,
    shapes,
    tensors,
)


def _factor_shape(draw, n: int) -> tuple:
    """A shape with n elements (with one -1 sometimes), or a wrong one sometimes."""
    if draw(st.integers(0, 9)) == 0:
        return (n + 1,)
    out, left = [], n
    for _ in range(draw(st.integers(0, 3))):
        divisors = [d for d in range(1, left + 1) if left % d == 0] if left else [0, 1, 2]
        d = draw(st.sampled_from(divisors))
        out.append(d)
        left = left // d if d else left
    out.append(left if n else 0)
    if draw(st.booleans()) and n:
        out[draw(st.integers(0, len(out) - 1))] = -1
    return tuple(out)


def _reshape_sample(draw, dtype):
    x = draw(tensors(dtype))
    shape = _factor_shape(draw, x.array.size)
    return Sample(x, *shape) if draw(st.booleans()) else Sample(x, shape)


def _reshape_tuple_sample(draw, dtype):
    x = draw(tensors(dtype))
    return Sample(x, _factor_shape(draw, x.array.size))


# torch.reshape takes the shape as one tuple; Tensor.reshape also as separate ints
function_and_method("reshape", _reshape_tuple_sample, ALL, method=None)
function_and_method("reshape", _reshape_sample, ALL, function=None)
function_and_method("view", _reshape_sample, ALL, function=None)
register(
    Entry(
        "reshape_as",
        ("minigrad.reshape_as",),
        lambda lib, x, y: x.reshape_as(y) if is_torch(lib) else lib.reshape_as(x, y),
        lambda draw, dtype: _as_sample(draw, dtype),
        ALL,
    ),
    Entry(
        "Tensor.reshape_as",
        ("Tensor.reshape_as",),
        lambda lib, x, y: x.reshape_as(y),
        lambda draw, dtype: _as_sample(draw, dtype),
        ALL,
    ),
    Entry(
        "view_minigrad",
        ("minigrad.view",),
        lambda lib, x, *s: x.view(*s) if is_torch(lib) else lib.view(x, *s),
        _reshape_sample,
        ALL,
    ),
    Entry(
        "view_as",
        ("minigrad.view_as",),
        lambda lib, x, y: x.view_as(y) if is_torch(lib) else lib.view_as(x, y),
        lambda draw, dtype: _as_sample(draw, dtype),
        ALL,
    ),
    Entry(
        "Tensor.view_as",
        ("Tensor.view_as",),
        lambda lib, x, y: x.view_as(y),
        lambda draw, dtype: _as_sample(draw, dtype),
        ALL,
    ),
)


def _as_sample(draw, dtype):
    x = draw(tensors(dtype))
    shape = _factor_shape(draw, x.array.size)
    shape = tuple(x.array.size if s == -1 else s for s in shape)
    if math.prod(shape) != x.array.size:
        shape = (x.array.size,)
    return Sample(x, draw(tensors("float32", shape, grad=False)))


def _flatten_sample(draw, dtype):
    x = draw(tensors(dtype))
    nd = x.array.ndim
    return Sample(x, draw(dims(nd)), draw(dims(nd)))


function_and_method("flatten", _flatten_sample, ALL)


def _unflatten_sample(draw, dtype):
    x = draw(tensors(dtype, draw(shapes(min_dims=1))))
    d = draw(dims(x.array.ndim))
    n = x.array.shape[d]
    sizes = _factor_shape(draw, n)
    return Sample(x, d, sizes)


function_and_method("unflatten", _unflatten_sample, ALL)


def _permute_sample(draw, dtype):
    x = draw(tensors(dtype))
    nd = x.array.ndim
    perm = draw(st.permutations(list(range(nd))))
    perm = [p - nd if draw(st.booleans()) else p for p in perm]
    if draw(st.integers(0, 9)) == 0 and nd:
        perm[0] = perm[-1]  # a repeated dim: torch raises
    return Sample(x, *perm) if draw(st.booleans()) else Sample(x, tuple(perm))


def _permute_tuple_sample(draw, dtype):
    s = _permute_sample(draw, dtype)
    return Sample(s.args[0], s.args[1] if len(s.args) == 2 and isinstance(s.args[1], tuple)
                  else tuple(s.args[1:]))  # fmt: skip


# torch.permute takes the dims as one tuple; Tensor.permute also as separate ints
function_and_method("permute", _permute_tuple_sample, ALL, method=None)
function_and_method("permute", _permute_sample, ALL, function=None)


def _two_dims(draw, dtype):
    x = draw(tensors(dtype))
    nd = x.array.ndim
    return Sample(x, draw(dims(nd)), draw(dims(nd)))


for _name in ["transpose", "swapaxes", "swapdims", "movedim", "moveaxis"]:
    function_and_method(_name, _two_dims, ALL)
function_and_method("t", lambda draw, dtype: Sample(draw(tensors(dtype, draw(shapes(0, 2))))), ALL)
register(
    Entry(
        "Tensor.T",
        ("Tensor.T",),
        lambda lib, x: x.T,
        lambda draw, dtype: Sample(draw(tensors(dtype, draw(shapes(0, 2))))),
        ALL,
        note="torch deprecates .T beyond 2-d; drawn 0-2 d",
    ),
    Entry(
        "Tensor.mT",
        ("Tensor.mT",),
        lambda lib, x: x.mT,
        lambda draw, dtype: Sample(draw(tensors(dtype))),
        ALL,
    ),
)


def _expand_sample(draw, dtype):
    x = draw(tensors(dtype, draw(shapes(0, 3, 0, 3))))
    shape = list(x.array.shape)
    shape = [
        draw(st.sampled_from([s, -1, 3])) if s == 1 else draw(st.sampled_from([s, -1]))
        for s in shape
    ]
    lead = [draw(st.integers(0, 3)) for _ in range(draw(st.integers(0, 2)))]
    full = tuple(lead + shape)
    return Sample(x, *full) if draw(st.booleans()) else Sample(x, full)


function_and_method("expand", _expand_sample, ALL, function=None)
register(
    Entry(
        "expand_minigrad",
        ("minigrad.expand",),
        lambda lib, x, *s: x.expand(*s) if is_torch(lib) else lib.expand(x, *s),
        _expand_sample,
        ALL,
    ),
)


def _broadcast_to_sample(draw, dtype):
    s = _expand_sample(draw, dtype)
    shape = s.args[1] if len(s.args) == 2 and isinstance(s.args[1], tuple) else s.args[1:]
    shape = tuple(3 if d == -1 else d for d in shape) if draw(st.integers(0, 4)) == 0 else shape
    return Sample(s.args[0], tuple(shape))


function_and_method("broadcast_to", _broadcast_to_sample, ALL)


def _expand_as_sample(draw, dtype):
    s = _broadcast_to_sample(draw, dtype)
    target = tuple(abs(d) if d != -1 else 1 for d in s.args[1])
    return Sample(s.args[0], draw(tensors("float32", target, grad=False)))


register(
    Entry(
        "expand_as",
        ("minigrad.expand_as",),
        lambda lib, x, y: x.expand_as(y) if is_torch(lib) else lib.expand_as(x, y),
        _expand_as_sample,
        ALL,
    ),
    Entry(
        "Tensor.expand_as",
        ("Tensor.expand_as",),
        lambda lib, x, y: x.expand_as(y),
        _expand_as_sample,
        ALL,
    ),
)


def _squeeze_sample(draw, dtype):
    x = draw(tensors(dtype, draw(shapes(0, 4, 0, 2))))
    nd = x.array.ndim
    kind = draw(st.integers(0, 3))
    if kind == 0:
        return Sample(x)
    if kind == 1:
        return Sample(x, tuple(draw(st.lists(dims(nd), unique=True, max_size=3))))
    if kind == 2:
        return Sample(x, draw(st.integers(-nd - 2, nd + 1)))  # out of range too
    return Sample(x, draw(dims(nd)))


function_and_method("squeeze", _squeeze_sample, ALL)


def _unsqueeze_sample(draw, dtype):
    x = draw(tensors(dtype))
    nd = x.array.ndim
    return Sample(x, draw(st.integers(-nd - 2, nd + 1)))


function_and_method("unsqueeze", _unsqueeze_sample, ALL)


def _split_sample(draw, dtype):
    x = draw(tensors(dtype, draw(shapes(1, 3))))
    d = draw(dims(x.array.ndim))
    n = x.array.shape[d]
    if draw(st.booleans()):
        size = draw(st.integers(1, 4))
    else:
        parts = draw(st.lists(st.integers(0, 3), max_size=3))
        size = parts + [max(n - sum(parts), 0)] if draw(st.integers(0, 5)) else parts
    return Sample(x, size, draw(st.just(d)))


function_and_method("split", _split_sample, ALL)


def _chunk_sample(draw, dtype):
    x = draw(tensors(dtype, draw(shapes(1, 3, 0, 6))))
    return Sample(x, draw(st.integers(1, 5)), draw(dims(x.array.ndim)))


function_and_method("chunk", _chunk_sample, ALL)


def _unbind_sample(draw, dtype):
    x = draw(tensors(dtype, draw(shapes(1, 3))))
    return Sample(x, draw(dims(x.array.ndim)))


function_and_method("unbind", _unbind_sample, ALL)


def _flip_sample(draw, dtype):
    x = draw(tensors(dtype))
    nd = x.array.ndim
    ds = draw(st.lists(dims(nd), max_size=nd + 1))  # a repeated dim sometimes: torch raises
    return Sample(x, tuple(ds))


function_and_method("flip", _flip_sample, ALL)


def _roll_sample(draw, dtype):
    x = draw(tensors(dtype))
    nd = x.array.ndim
    if draw(st.booleans()) or nd == 0:
        return Sample(x, draw(st.integers(-5, 5)))
    k = draw(st.integers(1, nd))
    shifts = tuple(draw(st.integers(-5, 5)) for _ in range(k))
    ds = tuple(draw(dims(nd)) for _ in range(k))
    return Sample(x, shifts, ds)


function_and_method("roll", _roll_sample, ALL)


def _tri_sample(draw, dtype):
    x = draw(tensors(dtype, draw(shapes(1, 4))))
    return Sample(x, draw(st.integers(-3, 3)))


function_and_method("tril", _tri_sample, ALL)
function_and_method("triu", _tri_sample, ALL)


def _repeat_sample(draw, dtype):
    x = draw(tensors(dtype, draw(shapes(0, 3, 0, 3))))
    nd = x.array.ndim
    reps = tuple(draw(st.integers(0, 3)) for _ in range(nd + draw(st.integers(0, 2))))
    if draw(st.integers(0, 9)) == 0:
        reps = reps[:-1]  # fewer than ndim: torch raises
    return Sample(x, *reps)


function_and_method("repeat", _repeat_sample, ALL, function=None)
register(
    Entry(
        "repeat_minigrad",
        ("minigrad.repeat",),
        lambda lib, x, *r: x.repeat(*r) if is_torch(lib) else lib.repeat(x, *r),
        _repeat_sample,
        ALL,
    )
)


def _repeat_interleave_sample(draw, dtype):
    x = draw(tensors(dtype))
    reps = draw(st.integers(0, 3))
    if draw(st.booleans()):
        return Sample(x, reps)
    return Sample(x, reps, draw(dims(x.array.ndim)))


function_and_method("repeat_interleave", _repeat_interleave_sample, ALL)


def _join_sample(draw, dtype, *, same_shape=False):
    base = list(draw(shapes(1, 3)))
    nd = len(base)
    d = draw(dims(nd))
    n = draw(st.integers(1, 3))
    xs = []
    for _ in range(n):
        s = list(base)
        if not same_shape:
            s[d] = draw(st.integers(0, 3))
        xs.append(draw(tensors(dtype, tuple(s))))
    if draw(st.integers(0, 9)) == 0:
        xs.append(draw(tensors(dtype, tuple(base) + (2,))))  # mismatched ndim: torch raises
    return Sample(xs, d)


for _name in ["cat", "concat", "concatenate"]:
    register(
        Entry(
            _name,
            (f"minigrad.{_name}",),
            lambda lib, xs, d, _n=_name: getattr(lib, _n)(xs, d),
            _join_sample,
            ALL,
        )
    )
register(
    Entry(
        "stack",
        ("minigrad.stack",),
        lambda lib, xs, d: lib.stack(xs, d),
        lambda draw, dtype: _stack_sample(draw, dtype),
        ALL,
    ),
    Entry(
        "hstack",
        ("minigrad.hstack",),
        lambda lib, xs, d: lib.hstack(xs),
        lambda draw, dtype: _join_sample(draw, dtype),
        ALL,
    ),
    Entry(
        "vstack",
        ("minigrad.vstack",),
        lambda lib, xs, d: lib.vstack(xs),
        lambda draw, dtype: _join_sample(draw, dtype),
        ALL,
    ),
)


def _stack_sample(draw, dtype):
    shape = draw(shapes(0, 3))
    xs = [draw(tensors(dtype, shape)) for _ in range(draw(st.integers(1, 3)))]
    return Sample(xs, draw(st.integers(-len(shape) - 1, len(shape))))


def _broadcast_tensors_sample(draw, dtype):
    from tests.differential.opinfo import broadcast_shapes

    ss = draw(broadcast_shapes(draw(st.integers(1, 3))))
    return Sample(*[draw(tensors(dtype, s)) for s in ss])


register(
    Entry(
        "broadcast_tensors",
        ("minigrad.broadcast_tensors",),
        lambda lib, *xs: lib.broadcast_tensors(*xs),
        _broadcast_tensors_sample,
        ALL,
    )
)
function_and_method("clone", lambda draw, dtype: Sample(draw(tensors(dtype))), ALL)

"""Differential entries: order statistics, scans, scatter/index ops, searching, diagonals and
the distance functions (minigrad.ops.sorting, .scattering, .searching, parts of .shape,
.mathfns and .linalg).

Ties. Where torch defines which index wins a tie (sort/argsort with stable=True, the scans),
indices are compared exactly. Where it does not (sort with stable=False, topk, kthvalue,
median, nanmedian, mode: "indices are not necessarily the first occurrence"), the entry
returns (values, indices, input.gather(dim, indices)) and `_gathered` compares the values and
the gathered values exactly, the indices by dtype and shape only. Which of several tied
positions receives the gradient is the same unspecified choice, so an input with tied values
is passed without grad (values still compared); tie-free inputs are differentiated.
"""

import numpy as np
from hypothesis import strategies as st

from tests.differential.opinfo import (
    ALL,
    FLOATS,
    INTS,
    D,
    Entry,
    Sample,
    T,
    arrays,
    broadcast_shapes,
    compare_outputs,
    dim_tuples,
    dims,
    function_and_method,
    is_torch,
    register,
    shapes,
    tensors,
)

NUMERIC = FLOATS + INTS


def _has_ties(a: np.ndarray) -> bool:
    """Any two equal elements (NaNs equal to each other, 0 equal to -0)."""
    if a.size < 2:
        return False
    flat = np.where(a.ravel() == 0, 0, a.ravel())
    return len(np.unique(flat)) < a.size


def _tie_guard(x: T) -> T:
    """x without grad when its values tie (the gradient's position is then unspecified)."""
    if _has_ties(x.array):
        return T(x.array, grad=False, layout=x.layout)
    return x


def _gathered(mg_out, t_out) -> None:
    """(values, indices, gathered): values and gathered exactly, indices by dtype/shape."""
    compare_outputs(mg_out[0], t_out[0], "values", "values")
    compare_outputs(mg_out[1], t_out[1], "meta", "indices")
    compare_outputs(mg_out[2], t_out[2], "values", "input.gather(dim, indices)")


def _gather_out(x, out, dim):
    values, indices = out
    if x.ndim == 0:
        return values, indices, x.reshape(()) + 0 * values
    idx = indices if indices.ndim == x.ndim else indices.unsqueeze(dim)
    g = x.gather(dim, idx)
    return values, indices, (g if indices.ndim == x.ndim else g.squeeze(dim))


def _unspecified_ties_note(what: str) -> str:
    return (
        f"{what}: torch leaves which tied index is returned unspecified; values and "
        "input.gather(dim, indices) are compared exactly, indices by dtype/shape (_gathered); "
        "inputs with ties are not differentiated (the gradient goes to that unspecified index)"
    )


# ----------------------------------------------------------------------------------------------
# sort, argsort, msort, topk, kthvalue, median, nanmedian, mode


def _sort_sample(draw, dtype):
    x = draw(tensors(dtype))
    # torch's stable= overload takes dim and descending as keywords only
    kwargs = {"stable": True, "dim": draw(dims(x.array.ndim))}
    if draw(st.booleans()):
        kwargs["descending"] = draw(st.booleans())
    return Sample(x, **kwargs)


function_and_method("sort", _sort_sample, ALL)
function_and_method("argsort", _sort_sample, ALL, grad=False)


def _sort_unstable_sample(draw, dtype):
    x = _tie_guard(draw(tensors(dtype)))
    return Sample(x, draw(dims(x.array.ndim)), descending=draw(st.booleans()))


register(
    Entry(
        "sort.unstable",
        ("minigrad.sort",),
        lambda lib, x, dim, **kw: _gather_out(x, lib.sort(x, dim, **kw), dim),
        _sort_unstable_sample,
        ALL,
        compare=_gathered,
        note=_unspecified_ties_note("sort(stable=False)"),
    ),
    Entry(
        "Tensor.sort.unstable",
        ("Tensor.sort",),
        lambda lib, x, dim, **kw: _gather_out(x, x.sort(dim, **kw), dim),
        _sort_unstable_sample,
        ALL,
        compare=_gathered,
        note=_unspecified_ties_note("sort(stable=False)"),
    ),
)
function_and_method("msort", lambda draw, dtype: Sample(draw(tensors(dtype))), ALL)


def _topk_sample(draw, dtype):
    x = _tie_guard(draw(tensors(dtype)))
    nd = x.array.ndim
    dim = draw(dims(nd))
    size = x.array.shape[dim] if nd else 1
    k = draw(st.integers(0, size + 1)) if draw(st.integers(0, 5)) else -1
    kwargs = {}
    if draw(st.booleans()):
        kwargs["largest"] = draw(st.booleans())
    return Sample(x, k, dim, **kwargs)


register(
    Entry(
        "topk",
        ("minigrad.topk",),
        lambda lib, x, k, dim, **kw: _gather_out(x, lib.topk(x, k, dim, **kw), dim),
        _topk_sample,
        NUMERIC,
        compare=_gathered,
        note=_unspecified_ties_note("topk"),
    ),
    Entry(
        "Tensor.topk",
        ("Tensor.topk",),
        lambda lib, x, k, dim, **kw: _gather_out(x, x.topk(k, dim, **kw), dim),
        _topk_sample,
        NUMERIC,
        compare=_gathered,
        note=_unspecified_ties_note("topk"),
    ),
)


def _topk_unsorted_op(lib, x, k, dim, method):
    out = x.topk(k, dim, sorted=False) if method else lib.topk(x, k, dim, sorted=False)
    # the order of sorted=False's result is unspecified: compared after sorting
    return out.values.sort(dim=dim if x.ndim else 0, stable=True).values


register(
    Entry(
        "topk.unsorted",
        ("minigrad.topk",),
        lambda lib, x, k, dim, **kw: _topk_unsorted_op(lib, x, k, dim, False),
        _topk_sample,
        NUMERIC,
        note="sorted=False leaves the order unspecified: the values are compared sorted",
    ),
)


def _kth_sample(draw, dtype):
    x = _tie_guard(draw(tensors(dtype)))
    nd = x.array.ndim
    dim = draw(dims(nd))
    size = x.array.shape[dim] if nd else 1
    k = draw(st.integers(0, size + 1))
    return Sample(x, k, dim, keepdim=draw(st.booleans()))


def _dim_op(name, method):
    def op(lib, x, *args, **kw):
        fn = getattr(x, name) if method else getattr(lib, name)
        out = fn(*args, **kw) if method else fn(x, *args, **kw)
        dim = args[-1] if args else -1
        if kw.get("keepdim") or x.ndim == 0:
            v, i = out
            return v, i, x.gather(dim, i) if x.ndim else x + 0 * v
        return _gather_out(x, out, dim)

    return op


for _name, _method in [("kthvalue", False), ("kthvalue", True)]:
    register(
        Entry(
            f"Tensor.{_name}" if _method else _name,
            (f"Tensor.{_name}" if _method else f"minigrad.{_name}",),
            _dim_op(_name, _method),
            _kth_sample,
            NUMERIC,
            compare=_gathered,
            note=_unspecified_ties_note(_name),
        )
    )


def _median_all_sample(draw, dtype):
    return Sample(_tie_guard(draw(tensors(dtype))))


def _median_dim_sample(draw, dtype):
    x = _tie_guard(draw(tensors(dtype)))
    return Sample(x, draw(dims(x.array.ndim)), keepdim=draw(st.booleans()))


for _name in ["median", "nanmedian"]:
    function_and_method(
        _name,
        _median_all_sample,
        NUMERIC,
        note="no dim: the value only; inputs with ties are not differentiated (torch's "
        "gradient goes to one unspecified tied position)",
    )
    for _method in (False, True):
        register(
            Entry(
                f"Tensor.{_name}.dim" if _method else f"{_name}.dim",
                (f"Tensor.{_name}" if _method else f"minigrad.{_name}",),
                _dim_op(_name, _method),
                _median_dim_sample,
                NUMERIC,
                compare=_gathered,
                note=_unspecified_ties_note(_name),
            )
        )


def _mode_sample(draw, dtype):
    # few distinct values, so that modes are not all singletons
    x = draw(tensors(dtype, low=-3, high=3))
    if dtype in FLOATS:
        # not followed: torch's mode sorts with std::sort and `<`, which NaN breaks (a leading
        # NaN stays first and wins: mode([nan, 1]) is nan, mode([1, nan]) is 1); minigrad
        # sorts NaN last. Infinities, 0 and -0 stay in the draws.
        x.array[np.isnan(x.array)] = 2.5
        if draw(st.booleans()):
            x.array[...] = np.round(x.array)
    x = _tie_guard(x)
    kwargs = {"keepdim": draw(st.booleans())} if draw(st.booleans()) else {}
    return Sample(x, draw(dims(x.array.ndim)), **kwargs)


for _method in (False, True):
    register(
        Entry(
            "Tensor.mode" if _method else "mode",
            ("Tensor.mode" if _method else "minigrad.mode",),
            _dim_op("mode", _method),
            _mode_sample,
            ALL,
            compare=_gathered,
            note=_unspecified_ties_note("mode (the index of the mode value)")
            + "; NaN not drawn: torch's std::sort-based mode is order-dependent with NaN",
        )
    )

# ----------------------------------------------------------------------------------------------
# scans


def _scan_sample(draw, dtype):
    x = draw(tensors(dtype))
    return Sample(x, draw(dims(x.array.ndim)))


def _cumprod_sample(draw, dtype):
    s = _scan_sample(draw, dtype)
    if draw(st.integers(0, 3)) == 0:
        s.kwargs["dtype"] = D(draw(st.sampled_from(["float64", "int64"])))
    return s


function_and_method("cumprod", _cumprod_sample, NUMERIC + ("bool",))
function_and_method("cummax", _scan_sample, ALL)
function_and_method("cummin", _scan_sample, ALL)
function_and_method("logcumsumexp", _scan_sample, FLOATS + ("int64",))

# ----------------------------------------------------------------------------------------------
# scatter, index_*, masked_scatter, take_along_dim


def _bad_index(draw, idx: np.ndarray, size: int) -> np.ndarray:
    """Sometimes one entry out of range or negative (torch rejects or wraps it)."""
    if idx.size and draw(st.integers(0, 4)) == 0:
        idx = idx.copy()
        pos = draw(st.integers(0, idx.size - 1))
        idx.flat[pos] = draw(st.sampled_from([size, size + 3, -1, -size, -size - 1]))
    return idx


def _index_dtype(draw) -> str:
    return "int64" if draw(st.integers(0, 5)) else "int32"


def _scatter_parts(draw, dtype, *, unique: bool):
    """(x, dim, index, src) for scatter: index no larger than x (off dim) and src."""
    x = draw(tensors(dtype))
    s = x.array.shape
    nd = len(s)
    dim = draw(dims(nd))
    s1 = s if nd else (1,)
    d = dim % len(s1)
    ishape = [draw(st.integers(0, n)) for n in s1] if nd else [1]
    if unique:
        ishape[d] = min(ishape[d], s1[d])
        keys = draw(arrays("float64", tuple(ishape[:d]) + (s1[d],) + tuple(ishape[d + 1 :])))
        idx = np.argsort(keys, axis=d, kind="stable")
        idx = np.take(idx, range(ishape[d]), axis=d)
    else:
        ishape[d] = draw(st.integers(0, s1[d] + 2)) if nd else 1
        idx = draw(arrays("int64", tuple(ishape), low=0, high=max(s1[d] - 1, 0)))
    idx = _bad_index(draw, idx.astype(np.int64), s1[d])
    sshape = tuple(n + draw(st.integers(0, 1)) for n in ishape)
    # torch 2.13 bug: the scatter ops' backward fails for a src larger than index ("returned
    # an invalid gradient"): such a src is not differentiated (values still compared)
    src = draw(tensors(dtype, sshape if nd else (), grad=sshape == tuple(ishape)))
    if not nd:
        idx = idx.reshape(())
    return x, dim, T(idx.astype(_index_dtype(draw))), src


def _scatter_sample(draw, dtype):
    x, dim, idx, src = _scatter_parts(draw, dtype, unique=True)
    if draw(st.integers(0, 3)) == 0:
        return Sample(x, dim, idx, draw(st.integers(-3, 3)))
    return Sample(x, dim, idx, src)


def _scatter_add_sample(draw, dtype):
    x, dim, idx, src = _scatter_parts(draw, dtype, unique=False)
    return Sample(x, dim, idx, src)


def _scatter_reduce_sample(draw, dtype):
    x, dim, idx, src = _scatter_parts(draw, dtype, unique=False)
    reduce = draw(st.sampled_from(["sum", "prod", "mean", "amax", "amin"]))
    kw = {"include_self": draw(st.booleans())} if draw(st.booleans()) else {}
    if src.array.shape != idx.array.shape:  # torch's backward for self reads src too (bug)
        x = T(x.array, grad=False, layout=x.layout)
    if reduce in ("amax", "amin"):
        # the gradient is shared among tied maxima; ties between x and src: values only
        if _has_ties(np.concatenate([x.array.ravel(), src.array.ravel()])):
            x = T(x.array, grad=False, layout=x.layout)
            src = T(src.array, grad=False, layout=src.layout)
    return Sample(x, dim, idx, src, reduce, **kw)


def _scatter_op(name, form):
    def op(lib, x, *args, **kw):
        if form == "function":
            return getattr(lib, name)(x, *args, **kw)
        if form == "method":
            return getattr(x, name)(*args, **kw)
        return getattr(x.clone(), name + "_")(*args, **kw)

    return op


_SCATTERS = [
    ("scatter", _scatter_sample, ALL),
    ("scatter_add", _scatter_add_sample, NUMERIC),
    ("scatter_reduce", _scatter_reduce_sample, NUMERIC),
]
for _name, _sample, _dtypes in _SCATTERS:
    for _form, _label, _cover in [
        ("function", _name, f"minigrad.{_name}"),
        ("method", f"Tensor.{_name}", f"Tensor.{_name}"),
        ("inplace", f"Tensor.{_name}_", f"Tensor.{_name}_"),
    ]:
        register(Entry(_label, (_cover,), _scatter_op(_name, _form), _sample, _dtypes))


def _scatter_reduce_kw_sample(draw, dtype):
    x, dim, idx, src = _scatter_parts(draw, dtype, unique=False)
    return Sample(x, dim, idx, src, reduce=draw(st.sampled_from(["add", "multiply"])))


register(
    Entry(
        "Tensor.scatter_.reduce",
        ("Tensor.scatter_",),
        lambda lib, x, *a, **kw: x.clone().scatter_(*a, **kw),
        _scatter_reduce_kw_sample,
        NUMERIC,
    )
)


def _index_parts(draw, dtype, *, unique: bool):
    """(x, dim, index, source) for index_add/index_copy: index 1-d into dim."""
    x = draw(tensors(dtype))
    s = x.array.shape
    nd = len(s)
    dim = draw(dims(nd))
    size = s[dim] if nd else 1
    if unique:
        n = draw(st.integers(0, size))
        idx = np.array(draw(st.permutations(range(size)))[:n], dtype=np.int64)
    else:
        n = draw(st.integers(0, size + 2))
        idx = np.array(draw(st.lists(st.integers(0, max(size - 1, 0)), min_size=n, max_size=n)))
    idx = _bad_index(draw, idx.astype(np.int64), size)
    if draw(st.integers(0, 5)) == 0 and n == 1:
        idx = idx.reshape(())
    sshape = list(s)
    if nd:
        sshape[dim] = n
    if draw(st.integers(0, 9)) == 0 and nd:  # a mismatched source
        sshape[draw(st.integers(0, nd - 1))] += 1
    src = draw(tensors(dtype, tuple(sshape)))
    return x, dim, T(idx.astype(_index_dtype(draw))), src


def _index_add_sample(draw, dtype):
    x, dim, idx, src = _index_parts(draw, dtype, unique=False)
    size = (x.array.shape or (1,))[dim]
    bad = ((idx.array < 0) | (idx.array >= size)).any()
    if x.array.size == 0 and bad:
        # an empty self checks no index, but torch's backward (index_select of the gradient)
        # then fails on the bad one: source not differentiated
        src = T(src.array, grad=False, layout=src.layout)
    kw = {"alpha": draw(st.sampled_from([2, -1] if dtype != "bool" else [True]))}
    return Sample(x, dim, idx, src, **(kw if draw(st.booleans()) else {}))


def _index_copy_sample(draw, dtype):
    x, dim, idx, src = _index_parts(draw, dtype, unique=True)
    size = (x.array.shape or (1,))[dim]
    if x.array.size == 0 and ((idx.array < 0) | (idx.array >= size)).any():
        # an empty self checks no index, but torch's backward (index_select) then fails on the
        # bad one ("INDICES element is out of DATA bounds"): source not differentiated
        src = T(src.array, grad=False, layout=src.layout)
    return Sample(x, dim, idx, src)


def _index_fill_sample(draw, dtype):
    x, dim, idx, _ = _index_parts(draw, dtype, unique=False)
    if dtype == "bool":
        value = draw(st.booleans())
    else:
        value = draw(st.integers(-3, 3)) if dtype in INTS else draw(st.floats(-3, 3))
    return Sample(x, dim, idx, value)


def _index_put_sample(draw, dtype):
    x = draw(tensors(dtype))
    s = x.array.shape
    nd = len(s)
    k = draw(st.integers(1, max(nd, 1)))
    lead = s[:k] if nd else (1,)
    accumulate = draw(st.booleans())
    total = int(np.prod(lead))
    if accumulate:
        n = draw(st.integers(0, total + 2))
        flat = np.array(draw(st.lists(st.integers(0, max(total - 1, 0)), min_size=n, max_size=n)))
    else:
        n = draw(st.integers(0, total))
        flat = np.array(draw(st.permutations(range(total)))[:n], dtype=np.int64)
    if total == 0:
        flat = np.zeros(n, np.int64)
    parts = np.unravel_index(flat.astype(np.int64), lead) if total else [flat] * len(lead)
    parts = [np.asarray(p, np.int64) for p in parts]
    parts[0] = _bad_index(draw, parts[0], lead[0])
    indices = tuple(T(p) for p in parts)
    tail = s[k:]
    vshape = draw(st.sampled_from([(n,) + tuple(tail), tuple(tail), ()]))
    values = draw(tensors(dtype, vshape))
    return Sample(x, indices, values, accumulate=accumulate)


_INDEX_OPS = [
    ("index_add", _index_add_sample, NUMERIC),
    ("index_copy", _index_copy_sample, ALL),
    ("index_fill", _index_fill_sample, ALL),
    ("index_put", _index_put_sample, ALL),
]
for _name, _sample, _dtypes in _INDEX_OPS:
    for _form, _label, _cover in [
        ("function", _name, f"minigrad.{_name}"),
        ("method", f"Tensor.{_name}", f"Tensor.{_name}"),
        ("inplace", f"Tensor.{_name}_", f"Tensor.{_name}_"),
    ]:
        register(Entry(_label, (_cover,), _scatter_op(_name, _form), _sample, _dtypes))


def _masked_scatter_sample(draw, dtype, *, inplace=False):
    sx, sm = draw(broadcast_shapes(2))
    if inplace and np.broadcast_shapes(sx, sm) != sx:
        sm = sx
    x = draw(tensors(dtype, sx))
    mask = draw(arrays("bool", sm))
    count = int(np.broadcast_to(mask, np.broadcast_shapes(sx, sm)).sum())
    n = max(count + draw(st.integers(-1, 2)), 0)
    src_shape = draw(st.sampled_from([(n,), (1, n)] if n else [(0,), (0, 3)]))
    return Sample(x, T(mask), draw(tensors(dtype, src_shape)))


register(
    Entry(
        "masked_scatter",
        ("minigrad.masked_scatter",),
        lambda lib, x, m, s: lib.masked_scatter(x, m, s),
        _masked_scatter_sample,
        ALL,
    ),
    Entry(
        "Tensor.masked_scatter",
        ("Tensor.masked_scatter",),
        lambda lib, x, m, s: x.masked_scatter(m, s),
        _masked_scatter_sample,
        ALL,
    ),
    Entry(
        "Tensor.masked_scatter_",
        ("Tensor.masked_scatter_",),
        lambda lib, x, m, s: x.clone().masked_scatter_(m, s),
        lambda draw, dtype: _masked_scatter_sample(draw, dtype, inplace=True),
        ALL,
    ),
)


def _take_along_dim_sample(draw, dtype):
    x = draw(tensors(dtype))
    s = x.array.shape
    nd = len(s)
    if draw(st.integers(0, 3)) == 0:
        n = draw(st.integers(0, 5))
        size = x.array.size
        idx = np.array(draw(st.lists(st.integers(0, max(size - 1, 0)), min_size=n, max_size=n)))
        # not followed: torch's dim=None form views a non-contiguous input as 1-d and raises
        # ("view size is not compatible"); minigrad flattens it. Contiguous here.
        x = T(x.array, layout="contiguous")
        return Sample(x, T(_bad_index(draw, idx.astype(np.int64), size)))
    dim = draw(dims(nd))
    if not nd:
        return Sample(x, T(np.array(_bad_index(draw, np.zeros(1, np.int64), 1)[0])), dim)
    ishape = [draw(st.sampled_from([n, 1])) for n in s]
    ishape[dim] = draw(st.integers(0, 4))
    idx = draw(arrays("int64", tuple(ishape), low=0, high=max(s[dim] - 1, 0)))
    return Sample(x, T(_bad_index(draw, idx, s[dim])), dim)


register(
    Entry(
        "take_along_dim",
        ("minigrad.take_along_dim",),
        lambda lib, x, i, *d: lib.take_along_dim(x, i, *d),
        _take_along_dim_sample,
        ALL,
        note="dim=None on a non-contiguous input: torch raises (it views the input as 1-d), "
        "minigrad flattens; drawn contiguous",
    )
)

# ----------------------------------------------------------------------------------------------
# unique, searching, histc


def _unique_sample(draw, dtype):
    x = draw(tensors(dtype, low=-3, high=3))
    kw = {}
    for k in ("return_inverse", "return_counts"):
        if draw(st.booleans()):
            kw[k] = draw(st.booleans())
    if draw(st.booleans()):
        kw["dim"] = draw(dims(x.array.ndim))
    return Sample(x, **kw)


def _unique_sorted_sample(draw, dtype):
    s = _unique_sample(draw, dtype)
    if draw(st.booleans()):
        s.kwargs["sorted"] = True
    return s


function_and_method("unique", _unique_sorted_sample, ALL, grad=False)
function_and_method("unique_consecutive", _unique_sample, ALL, grad=False)


def _sorted_1d(draw, dtype, n_max=5):
    a = draw(arrays(dtype, (draw(st.integers(0, n_max)),)))
    return np.sort(a, kind="stable")


def _bucketize_sample(draw, dtype):
    x = draw(tensors(dtype, grad=False))
    b = T(_sorted_1d(draw, dtype))
    kw = {}
    if draw(st.booleans()):
        kw["right"] = draw(st.booleans())
    if draw(st.integers(0, 3)) == 0:
        kw["out_int32"] = True
    if draw(st.integers(0, 5)) == 0:
        return Sample(draw(st.integers(-5, 5)), b, **kw)
    return Sample(x, b, **kw)


register(
    Entry(
        "bucketize",
        ("minigrad.bucketize",),
        lambda lib, x, b, **kw: lib.bucketize(x, b, **kw),
        _bucketize_sample,
        NUMERIC,
        grad=False,
    )
)


def _searchsorted_sample(draw, dtype):
    kind = draw(st.integers(0, 2))
    if kind == 0:
        seq = T(_sorted_1d(draw, dtype))
        vals = draw(tensors(dtype))
    else:
        batch = draw(shapes(0, 2, 0, 3))
        n = draw(st.integers(0, 4))
        seq = T(np.sort(draw(arrays(dtype, batch + (n,))), axis=-1, kind="stable"))
        vals = draw(tensors(dtype, batch + (draw(st.integers(0, 3)),)))
    kw = {}
    which = draw(st.integers(0, 3))
    if which == 1:
        kw["right"] = draw(st.booleans())
    elif which == 2:
        kw["side"] = draw(st.sampled_from(["left", "right"]))
    if draw(st.integers(0, 3)) == 0:
        kw["out_int32"] = True
    if draw(st.integers(0, 4)) == 0 and seq.array.ndim:
        # an unsorted sequence with its sorter
        raw = draw(arrays(dtype, seq.array.shape))
        kw["sorter"] = T(np.argsort(raw, axis=-1, kind="stable").astype(np.int64))
        seq = T(raw)
    if draw(st.integers(0, 6)) == 0:
        return Sample(seq, draw(st.integers(-5, 5)), **kw)
    return Sample(seq, vals, **kw)


register(
    Entry(
        "searchsorted",
        ("minigrad.searchsorted",),
        lambda lib, s, v, **kw: lib.searchsorted(s, v, **kw),
        _searchsorted_sample,
        NUMERIC,
        grad=False,
    )
)


def _histc_sample(draw, dtype):
    x = draw(tensors(dtype, grad=False))
    args = [draw(st.integers(1, 6)) if draw(st.integers(0, 6)) else draw(st.integers(-1, 0))]
    if draw(st.booleans()):
        lo = draw(st.sampled_from([0, -5, -2.5, 1]))
        hi = draw(st.sampled_from([0, 5, 2.5, 1, -3]))
        args += [lo, hi]
    return Sample(x, *args)


function_and_method("histc", _histc_sample, FLOATS + ("int64",), grad=False)

# ----------------------------------------------------------------------------------------------
# diagonals, trace, rot90, unfold, tril/triu_indices


def _diag_sample(draw, dtype):
    x = draw(tensors(dtype, draw(shapes(0, 3, 0, 4)) if draw(st.integers(0, 5)) == 0 else None))
    if x.array.ndim not in (1, 2) and draw(st.integers(0, 3)):
        x = draw(tensors(dtype, draw(shapes(1, 2, 0, 4))))
    if draw(st.booleans()):
        return Sample(x)
    return Sample(x, draw(st.integers(-4, 4)))


function_and_method("diag", _diag_sample, ALL)


def _diagonal_sample(draw, dtype):
    x = draw(tensors(dtype, draw(shapes(1, 4, 0, 4))))
    nd = x.array.ndim
    kw = {}
    if draw(st.booleans()):
        kw["offset"] = draw(st.integers(-4, 4))
    if draw(st.booleans()):
        kw["dim1"] = draw(dims(nd))
        kw["dim2"] = draw(dims(nd))
    return Sample(x, **kw)


function_and_method("diagonal", _diagonal_sample, ALL)


def _diag_embed_sample(draw, dtype):
    x = draw(tensors(dtype, draw(shapes(0, 3, 0, 3))))
    nd = x.array.ndim + 1
    kw = {}
    if draw(st.booleans()):
        kw["offset"] = draw(st.integers(-3, 3))
    if draw(st.booleans()):
        kw["dim1"] = draw(dims(nd))
        kw["dim2"] = draw(dims(nd))
    return Sample(x, **kw)


function_and_method("diag_embed", _diag_embed_sample, ALL)


def _trace_sample(draw, dtype):
    nd = draw(st.sampled_from([2, 2, 2, 1, 0, 3]))
    return Sample(draw(tensors(dtype, draw(shapes(nd, nd, 0, 4)))))


function_and_method("trace", _trace_sample, ALL)


def _rot90_sample(draw, dtype):
    x = draw(tensors(dtype))
    nd = x.array.ndim
    args = []
    if draw(st.booleans()):
        args.append(draw(st.integers(-5, 5)))
        if draw(st.booleans()):
            if nd >= 2 and draw(st.integers(0, 4)):
                a, b = draw(st.lists(st.integers(-nd, nd - 1), min_size=2, max_size=2))
            else:
                a, b = draw(st.lists(st.integers(-3, 3), min_size=1, max_size=3)), None
                args.append(a)
                return Sample(x, *args)
            args.append([a, b])
    return Sample(x, *args)


function_and_method("rot90", _rot90_sample, ALL)


def _unfold_sample(draw, dtype):
    x = draw(tensors(dtype))
    nd = x.array.ndim
    dim = draw(dims(nd))
    size_d = x.array.shape[dim] if nd else 1
    size = draw(st.integers(0, size_d + 1)) if draw(st.integers(0, 5)) else -1
    step = draw(st.integers(1, 3)) if draw(st.integers(0, 5)) else 0
    return Sample(x, dim, size, step)


register(
    Entry(
        "Tensor.unfold",
        ("Tensor.unfold",),
        lambda lib, x, *a: x.unfold(*a),
        _unfold_sample,
        ALL,
    ),
    Entry(
        "unfold",
        ("minigrad.unfold",),
        lambda lib, x, *a: x.unfold(*a) if is_torch(lib) else lib.unfold(x, *a),
        _unfold_sample,
        ALL,
        note="torch has no torch.unfold: minigrad.unfold is compared with Tensor.unfold",
    ),
)


def _tri_indices_sample(draw, dtype):
    args = [draw(st.integers(0, 5)), draw(st.integers(0, 5))]
    if draw(st.integers(0, 9)) == 0:
        args[draw(st.integers(0, 1))] = -1
    if draw(st.booleans()):
        args.append(draw(st.integers(-6, 6)))
    kw = {"dtype": D(draw(st.sampled_from(["int32", "int64", "float32"])))}
    return Sample(*args, **(kw if draw(st.integers(0, 3)) == 0 else {}))


for _name in ["tril_indices", "triu_indices"]:
    register(
        Entry(
            _name,
            (f"minigrad.{_name}",),
            lambda lib, *a, _n=_name, **kw: getattr(lib, _n)(*a, **kw),
            _tri_indices_sample,
            ("int64",),
            grad=False,
        )
    )

# ----------------------------------------------------------------------------------------------
# std_mean, var_mean, meshgrid, cdist, cosine_similarity, pairwise_distance


def _var_mean_sample(draw, dtype):
    x = draw(tensors(dtype))
    if dtype in FLOATS:
        # not followed: torch computes var_mean's mean by Welford's running update, which
        # turns an infinity into NaN or inf depending on its position (torch.mean gives inf);
        # minigrad's mean is torch.mean's. NaN, 0 and -0 stay in the draws.
        x.array[np.isinf(x.array)] = 7.5
    nd = x.array.ndim
    kwargs = {}
    if draw(st.booleans()):
        kwargs["dim"] = draw(st.one_of(dims(nd), dim_tuples(nd)))
        if kwargs["dim"] == () and nd:
            # torch 2.13 bug (as table_reduce's var): dim=() backward takes no reduction
            kwargs["dim"] = tuple(range(nd))
    which = draw(st.integers(0, 2))
    if which == 1:
        kwargs["correction"] = draw(st.sampled_from([0, 1, 2]))
    elif which == 2:
        kwargs["unbiased"] = draw(st.booleans())
    if "dim" in kwargs or "unbiased" not in kwargs:
        kwargs["keepdim"] = draw(st.booleans())
    return Sample(x, **kwargs)


for _name in ["var_mean", "std_mean"]:
    register(
        Entry(
            _name,
            (f"minigrad.{_name}",),
            lambda lib, x, _n=_name, **kw: getattr(lib, _n)(x, **kw),
            _var_mean_sample,
            FLOATS + ("int64",),
        )
    )


def _meshgrid_sample(draw, dtype):
    n = draw(st.integers(0, 3))
    ts = [draw(tensors(dtype, draw(shapes(0 if draw(st.integers(0, 5)) == 0 else 1, 1))))
          for _ in range(n)]  # fmt: skip
    kw = {}
    if draw(st.booleans()):
        kw["indexing"] = draw(st.sampled_from(["ij", "xy"]))
    if draw(st.booleans()):
        return Sample(ts, **kw)
    return Sample(*ts, **kw)


register(
    Entry(
        "meshgrid",
        ("minigrad.meshgrid",),
        lambda lib, *ts, **kw: lib.meshgrid(*ts, **kw),
        _meshgrid_sample,
        ALL,
    )
)


def _cdist_sample(draw, dtype):
    b1, b2 = draw(st.sampled_from([((), ()), ((2,), (2,)), ((1,), (3,)), ((2, 1), (3,))]))
    m = draw(st.integers(0, 3))
    p1, p2 = draw(st.integers(0, 4)), draw(st.integers(0, 4))
    m2 = m if draw(st.integers(0, 9)) else m + 1
    x1 = draw(tensors(dtype, b1 + (p1, m)))
    x2 = draw(tensors(dtype, b2 + (p2, m2)))
    kw = {}
    if draw(st.booleans()):
        kw["p"] = draw(st.sampled_from([0.0, 1.0, 2.0, 3.0, 0.5, float("inf")]))
    return Sample(x1, x2, **kw)


register(
    Entry(
        "cdist",
        ("minigrad.cdist",),
        lambda lib, a, b, **kw: lib.cdist(a, b, **kw),
        _cdist_sample,
        FLOATS,
    )
)


def _cosine_sample(draw, dtype):
    s1, s2 = draw(broadcast_shapes(2, min_dims=1))
    x1, x2 = draw(tensors(dtype, s1)), draw(tensors(dtype, s2))
    nd = max(len(s1), len(s2))
    kw = {}
    if draw(st.booleans()):
        kw["dim"] = draw(dims(nd))
    if draw(st.integers(0, 3)) == 0:
        kw["eps"] = draw(st.sampled_from([1e-3, 0.5]))
    return Sample(x1, x2, **kw)


register(
    Entry(
        "cosine_similarity",
        ("minigrad.cosine_similarity",),
        lambda lib, a, b, **kw: lib.cosine_similarity(a, b, **kw),
        _cosine_sample,
        FLOATS,
    )
)


def _pairwise_sample(draw, dtype):
    s1, s2 = draw(broadcast_shapes(2, max_dims=3))
    x1, x2 = draw(tensors(dtype, s1)), draw(tensors(dtype, s2))
    kw = {}
    if draw(st.booleans()):
        kw["p"] = draw(st.sampled_from([1.0, 2.0, 3.0, 0.5, float("inf")]))
    if draw(st.integers(0, 3)) == 0:
        kw["eps"] = draw(st.sampled_from([0.0, 1e-3]))
    if draw(st.booleans()):
        kw["keepdim"] = draw(st.booleans())
    return Sample(x1, x2, **kw)


register(
    Entry(
        "pairwise_distance",
        ("minigrad.pairwise_distance",),
        lambda lib, a, b, **kw: lib.pairwise_distance(a, b, **kw),
        _pairwise_sample,
        FLOATS,
    )
)

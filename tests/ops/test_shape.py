"""Gradient and forward tests for shape ops (minigrad/ops/shape.py): views, joins, splits, pads."""

import math

import numpy as np
import pytest
from hypothesis import strategies as st

import minigrad as mg
from minigrad.backend import CPU
from minigrad.ops import shape as shape_ops
from minigrad.testing import gradcheck
from minigrad.testing import strategies as S
from minigrad.testing.opcheck import check_op

COVERED = {
    "reshape",
    "permute",
    "expand",
    "cat",
    "pad",
    "flip",
    "roll",
    "tril",
    "triu",
    "clone",
    "contiguous",  # Tensor.contiguous's op (minigrad/tensor.py): test_contiguous
    "to_copy",
    "diagonal",
    "unfold",
}

ANY = S.shapes()
NONEMPTY = S.shapes(min_dims=1)
MATRIX = S.shapes(min_dims=2)


def fixed(**strategies):
    return lambda *shapes: st.fixed_dictionaries(strategies)


# --- reshape / view / flatten -----------------------------------------------------------------


@st.composite
def _target_shape(draw, shape):
    n = math.prod(shape)
    kind = draw(st.sampled_from(["flat", "reversed", "split", "infer"]))
    if kind == "flat":
        target = (n,)
    elif kind == "reversed":
        target = tuple(reversed(shape))
    elif kind == "split":
        target = tuple(v for d in shape for v in ((1, d) if draw(st.booleans()) else (d,)))
    else:
        target = tuple(shape) or (1,)
        k = draw(st.integers(0, len(target) - 1))
        target = target[:k] + (-1,) + target[k + 1 :]
    return {"shape": target}


test_reshape = check_op(
    lambda x, shape: x.reshape(shape),
    ANY,
    params=_target_shape,
    gradgrad=True,
    reference=lambda x, shape: np.reshape(x, shape),
)
test_view = check_op(
    lambda x, shape: x.view(*shape),
    ANY,
    params=_target_shape,
    reference=lambda x, shape: np.reshape(x, shape),
    noncontiguous=False,  # torch refuses most views of those: see test_shape_agreement.py
)


def _flatten_params(shape):
    n = max(len(shape), 1)
    return (
        st.tuples(st.integers(-n, n - 1), st.integers(-n, n - 1))
        .filter(lambda p: (p[0] % n) <= (p[1] % n))
        .map(lambda p: {"start_dim": p[0], "end_dim": p[1]})
    )


def _flatten_ref(x, start_dim, end_dim):
    if x.ndim == 0:
        return x.reshape(1)
    s, e = start_dim % x.ndim, end_dim % x.ndim
    return x.reshape(x.shape[:s] + (-1,) + x.shape[e + 1 :])


test_flatten = check_op(
    lambda x, start_dim, end_dim: x.flatten(start_dim, end_dim),
    ANY,
    params=_flatten_params,
    reference=_flatten_ref,
)

# --- permute / transpose / movedim -------------------------------------------------------------


@st.composite
def _perm(draw, shape):
    n = len(shape)
    p = draw(st.permutations(range(n)))
    return {"dims": tuple(d - n if draw(st.booleans()) else d for d in p)}


test_permute = check_op(
    lambda x, dims: x.permute(dims),  # one tuple: () for a 0-d tensor (none: TypeError)
    ANY,
    params=_perm,
    gradgrad=True,
    reference=lambda x, dims: np.transpose(x, dims),
)
_two_dims = lambda s: st.fixed_dictionaries(
    {"d0": S.valid_dims(len(s)), "d1": S.valid_dims(len(s))}
)
test_transpose = check_op(
    lambda x, d0, d1: x.transpose(d0, d1),
    NONEMPTY,
    params=_two_dims,
    reference=lambda x, d0, d1: np.swapaxes(x, d0, d1),
)
test_swapaxes = check_op(
    lambda x, d0, d1: mg.swapaxes(x, d0, d1),
    NONEMPTY,
    params=_two_dims,
    reference=lambda x, d0, d1: np.swapaxes(x, d0, d1),
)
test_movedim = check_op(
    lambda x, d0, d1: x.movedim(d0, d1),
    NONEMPTY,
    params=_two_dims,
    reference=lambda x, d0, d1: np.moveaxis(x, d0, d1),
)
test_T = check_op(lambda x: x.T, ANY, reference=lambda x: x.T)
test_mT = check_op(lambda x: x.mT, MATRIX, reference=lambda x: np.swapaxes(x, -1, -2))

# --- expand / broadcast_to / repeat -------------------------------------------------------------


@st.composite
def _expand_target(draw, shape):
    lead = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    body = tuple(
        draw(st.integers(1, 3)) if n == 1 else (n if draw(st.booleans()) else -1) for n in shape
    )
    return {"size": lead + body}


def _expand_ref(x, size):
    lead = len(size) - x.ndim
    full = tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(size))
    return np.broadcast_to(x, full)


test_expand = check_op(
    lambda x, size: x.expand(size),  # one tuple (torch takes () for a 0-d tensor)
    ANY,
    params=_expand_target,
    gradgrad=True,
    reference=_expand_ref,
)
test_broadcast_to = check_op(
    lambda x, size: mg.broadcast_to(x, _expand_ref(np.zeros(x.shape), size).shape),
    ANY,
    params=_expand_target,
    reference=_expand_ref,
)
test_repeat = check_op(
    lambda x, sizes: x.repeat(*sizes),
    ANY,
    params=lambda s: st.lists(st.integers(1, 3), min_size=len(s), max_size=len(s) + 1).map(
        lambda r: {"sizes": tuple(r) or (2,)}
    ),
    reference=lambda x, sizes: np.tile(x, sizes),
)
test_repeat_interleave = check_op(
    lambda x, repeats, dim: x.repeat_interleave(repeats, dim),
    NONEMPTY,
    params=lambda s: st.fixed_dictionaries(
        {"repeats": st.integers(1, 3), "dim": st.one_of(st.none(), S.valid_dims(len(s)))}
    ),
    reference=lambda x, repeats, dim: np.repeat(x, repeats, dim),
)

# --- squeeze / unsqueeze --------------------------------------------------------------------

WITH_ONES = S.shapes(min_side=1, max_side=2)


def _squeeze_params(shape):
    n = max(len(shape), 1)
    dims = st.one_of(
        st.none(),
        st.integers(-n, n - 1),
        st.lists(st.integers(0, n - 1), unique=True, max_size=n).map(tuple),
    )
    return st.fixed_dictionaries({"dim": dims})


def _squeeze_ref(x, dim):
    if dim is None:
        return np.squeeze(x)
    dims = (dim,) if isinstance(dim, int) else dim
    if x.ndim == 0:
        return x
    return np.squeeze(x, tuple(d for d in dims if x.shape[d] == 1))


test_squeeze = check_op(
    lambda x, dim: x.squeeze(dim), WITH_ONES, params=_squeeze_params, reference=_squeeze_ref
)
test_unsqueeze = check_op(
    lambda x, dim: x.unsqueeze(dim),
    ANY,
    params=lambda s: st.fixed_dictionaries({"dim": st.integers(-len(s) - 1, len(s))}),
    reference=lambda x, dim: np.expand_dims(x, dim),
)

# --- cat / stack / split / chunk / unbind ----------------------------------------------------


@st.composite
def _cat_shapes(draw):
    base = draw(NONEMPTY)
    d = draw(st.integers(0, len(base) - 1))
    sizes = draw(st.lists(st.integers(1, 3), min_size=2, max_size=3))
    shapes = tuple(base[:d] + (n,) + base[d + 1 :] for n in sizes)
    return shapes


def _cat_dim(*shapes):
    s0 = shapes[0]
    differ = [d for d in range(len(s0)) if any(s[d] != s0[d] for s in shapes)]
    cands = differ or list(range(len(s0)))  # all equal: any dim works
    return (
        st.sampled_from(cands)
        .flatmap(lambda d: st.sampled_from([d, d - len(s0)]))
        .map(lambda d: {"dim": d})
    )


test_cat = check_op(
    lambda *xs, dim: mg.cat(xs, dim),
    _cat_shapes(),
    params=_cat_dim,
    gradgrad=True,
    reference=lambda *xs, dim: np.concatenate(xs, dim),
)


@st.composite
def _same_shapes(draw):
    s = draw(ANY)
    return (s,) * draw(st.integers(1, 3))


test_stack = check_op(
    lambda *xs, dim: mg.stack(xs, dim),
    _same_shapes(),
    params=lambda *s: st.fixed_dictionaries({"dim": st.integers(-len(s[0]) - 1, len(s[0]))}),
    reference=lambda *xs, dim: np.stack(xs, dim),
)


@st.composite
def _split_params(draw, shape):
    d = draw(S.valid_dims(len(shape)))
    n = shape[d]
    if draw(st.booleans()):
        return {"split": draw(st.integers(1, n + 1)), "dim": d}
    cuts = sorted(draw(st.lists(st.integers(0, n), max_size=3)))
    sizes = [b - a for a, b in zip([0] + cuts, cuts + [n])]
    return {"split": sizes, "dim": d}


def _split_ref(x, split, dim):
    n = x.shape[dim]
    if isinstance(split, int):
        edges = list(range(split, n, split))
    else:
        edges = list(np.cumsum(split)[:-1])
    return tuple(np.split(x, edges, dim))


test_split = check_op(
    lambda x, split, dim: x.split(split, dim), NONEMPTY, params=_split_params, reference=_split_ref
)
test_chunk = check_op(
    lambda x, chunks, dim: x.chunk(chunks, dim),
    NONEMPTY,
    params=lambda s: st.fixed_dictionaries(
        {"chunks": st.integers(1, 4), "dim": S.valid_dims(len(s))}
    ),
    reference=lambda x, chunks, dim: _split_ref(x, max(1, -(-x.shape[dim] // chunks)), dim),
)
test_unbind = check_op(
    lambda x, dim: x.unbind(dim),
    NONEMPTY,
    params=lambda s: st.fixed_dictionaries({"dim": S.valid_dims(len(s))}),
    reference=lambda x, dim: tuple(np.moveaxis(x, dim, 0)),
)

# --- pad ------------------------------------------------------------------------------------


@st.composite
def _pad_params(draw, shape, mode):
    """Widths for the last k dims; reflect/replicate/circular pad 1-3 dims of an input with one
    or two more (PyTorch's rule). Circular widths may be negative: it crops, then wraps."""
    if mode == "constant":
        k = draw(st.integers(1, len(shape)))
    else:
        k = draw(st.sampled_from([j for j in (len(shape) - 1, len(shape) - 2) if 1 <= j <= 3]))
    pad = []
    for d in range(len(shape) - 1, len(shape) - 1 - k, -1):
        n = shape[d]
        if mode == "constant":
            lo = draw(st.integers(-(n - 1), 3))
            hi = draw(st.integers(-(n - 1 + min(lo, 0)), 3))
        elif mode == "reflect":
            lo, hi = draw(st.integers(0, n - 1)), draw(st.integers(0, n - 1))
        elif mode == "circular":  # crop to m >= 1 elements, then wrap at most m on each side
            lo = draw(st.integers(-(n - 1), min(n, 3)))
            hi = draw(st.integers(-(n - 1 + min(lo, 0)), min(n, 3)))
            m = n + min(lo, 0) + min(hi, 0)
            lo, hi = min(lo, m), min(hi, m)
        else:
            lo, hi = draw(st.integers(0, min(n, 3))), draw(st.integers(0, min(n, 3)))
        pad += [lo, hi]
    params = {"pad": tuple(pad), "mode": mode}
    if mode == "constant":
        params["value"] = draw(st.sampled_from([None, 0.0, -1.5]))
    return params


def _pad_ref(x, pad, mode, value=None):
    widths = [(0, 0)] * x.ndim
    for k in range(len(pad) // 2):
        widths[x.ndim - 1 - k] = (pad[2 * k], pad[2 * k + 1])
    # negative widths crop first (constant and circular modes)
    crop = tuple(slice(max(-lo, 0), n - max(-hi, 0)) for (lo, hi), n in zip(widths, x.shape))
    x = x[crop]
    widths = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
    np_mode = {"replicate": "edge", "circular": "wrap"}.get(mode, mode)
    if mode == "constant":
        return np.pad(x, widths, constant_values=0.0 if value is None else value)
    return np.pad(x, widths, mode=np_mode)


def _pad_test(mode):
    return check_op(
        lambda x, **p: mg.pad(x, **p) if hasattr(mg, "pad") else shape_ops.pad(x, **p),
        NONEMPTY if mode == "constant" else S.shapes(min_dims=2, max_dims=4),
        params=lambda s: _pad_params(s, mode),
        reference=_pad_ref,
        gradgrad=mode == "constant",
    )


test_pad_constant = _pad_test("constant")
test_pad_reflect = _pad_test("reflect")
test_pad_replicate = _pad_test("replicate")
test_pad_circular = _pad_test("circular")


def test_pad_negative_widths_crop():
    x = mg.arange(12, dtype=mg.float64).reshape(3, 4).requires_grad_()
    y = shape_ops.pad(x, (-1, 2, 1, -2))
    np.testing.assert_array_equal(
        y.detach().numpy(), _pad_ref(x.detach().numpy(), (-1, 2, 1, -2), "constant")
    )
    assert y.shape == (2, 5)
    assert gradcheck(lambda x: shape_ops.pad(x, (-1, 2, 1, -2), value=0.5), x)


def test_pad_reflect_too_wide_raises():
    with pytest.raises(RuntimeError, match="Padding size"):
        shape_ops.pad(mg.zeros(2, 3), (3, 0), mode="reflect")


# --- flip / roll / tril / triu / clone / device copy ---------------------------------------------


def _dims_tuple(shape):
    n = max(len(shape), 1)
    return (
        st.lists(st.integers(0, n - 1), unique=True, max_size=n)
        .flatmap(lambda ds: st.tuples(*[st.sampled_from([d, d - n]) for d in ds]))
        .map(lambda d: {"dims": d})
    )


test_flip = check_op(
    lambda x, dims: x.flip(dims),
    NONEMPTY,
    params=_dims_tuple,
    gradgrad=True,
    reference=lambda x, dims: np.flip(x, dims) if dims else x,
)


@st.composite
def _roll_params(draw, shape):
    if draw(st.booleans()):
        return {"shifts": draw(st.integers(-5, 5)), "dims": None}
    dims = draw(_dims_tuple(shape))["dims"]
    if not dims:  # torch: roll(x, (), ()) raises "`shifts` required"
        return {"shifts": draw(st.integers(-5, 5)), "dims": None}
    return {"shifts": tuple(draw(st.integers(-5, 5)) for _ in dims), "dims": dims}


test_roll = check_op(
    lambda x, shifts, dims: x.roll(shifts, dims),
    NONEMPTY,
    params=_roll_params,
    gradgrad=True,
    reference=lambda x, shifts, dims: np.roll(x, shifts, dims),
)
_diag = fixed(diagonal=st.integers(-3, 3))
test_tril = check_op(
    lambda x, diagonal: x.tril(diagonal),
    MATRIX,
    params=_diag,
    gradgrad=True,
    reference=lambda x, diagonal: np.tril(x, diagonal),
)
test_triu = check_op(
    lambda x, diagonal: x.triu(diagonal),
    MATRIX,
    params=_diag,
    gradgrad=True,
    reference=lambda x, diagonal: np.triu(x, diagonal),
)
test_clone = check_op(lambda x: x.clone(), ANY, reference=lambda x: x, gradgrad=True)
test_contiguous = check_op(lambda x: x.contiguous() * 1.0, ANY, reference=lambda x: x)
test_to_copy = check_op(
    lambda x: shape_ops.to_device(x, CPU), ANY, reference=lambda x: x, gradgrad=True
)


def test_clone_owns_its_memory():
    x = mg.tensor([1.0, 2.0])
    y = x.clone()
    y.add_(1.0)
    assert x.tolist() == [1.0, 2.0]


def test_permute_expand_repeat_need_their_sizes_and_mT_as_torch():
    x = mg.tensor(2.0)
    for call in (lambda: x.permute(), lambda: x.expand(), lambda: x.repeat()):
        with pytest.raises(TypeError, match="missing 1 required positional"):
            call()
    assert x.permute(()).shape == x.expand(()).shape == x.repeat(()).shape == ()
    assert x.mT.item() == 2.0  # the identity on 0-d tensors
    with pytest.raises(RuntimeError, match="1-D"):
        _ = mg.zeros(3).mT


def test_reshape_and_permute_functions_take_one_sequence_as_torch():
    x = mg.arange(12).reshape(3, 4)  # the methods also take *ints
    assert mg.reshape(x, (4, 3)).shape == (4, 3)
    assert mg.reshape(x, shape=[2, -1]).shape == (2, 6)
    assert mg.permute(x, dims=(1, 0)).shape == (4, 3)
    assert x.permute(1, 0).shape == x.permute((1, 0)).shape == (4, 3)
    with pytest.raises(TypeError, match="takes 2 positional arguments"):
        mg.reshape(x, 4, 3)
    with pytest.raises(TypeError, match="must be tuple of ints, not int"):
        mg.reshape(x, 12)
    with pytest.raises(TypeError, match="must be tuple of ints, not int"):
        mg.permute(mg.arange(3), 0)


def test_true_divide_has_no_rounding_mode():
    a, b = mg.tensor([5, 7]), mg.tensor([2, 2])
    assert mg.true_divide(a, b).tolist() == a.true_divide(b).tolist() == [2.5, 3.5]
    assert mg.true_divide(dividend=a, divisor=b).tolist() == [2.5, 3.5]
    with pytest.raises(TypeError):
        mg.true_divide(a, b, rounding_mode="floor")


# --- long tail: diagonals, rotations, grids, sliding windows ------------------------------------


@st.composite
def _diagonal_params(draw, shape):
    n = len(shape)
    dim1, dim2 = draw(st.lists(st.integers(-n, n - 1), min_size=2, max_size=2).filter(
        lambda d: d[0] % n != d[1] % n))  # fmt: skip
    return {"offset": draw(st.integers(-3, 3)), "dim1": dim1, "dim2": dim2}


test_diagonal = check_op(
    lambda x, offset, dim1, dim2: x.diagonal(offset, dim1, dim2),
    MATRIX,
    params=_diagonal_params,
    gradgrad=True,
    reference=lambda x, offset, dim1, dim2: np.diagonal(x, offset, dim1, dim2),
)


def _diag_embed_reference(x, offset, dim1, dim2):
    ndim = x.ndim + 1
    d1, d2 = dim1 % ndim, dim2 % ndim
    n = x.shape[-1] + abs(offset)
    rest = iter(x.shape[:-1])
    out = np.zeros(tuple(n if d in (d1, d2) else next(rest) for d in range(ndim)))
    planes = np.moveaxis(out, (d1, d2), (-2, -1))  # a view: writes land in out
    for k in range(x.shape[-1]):
        planes[..., k + max(0, -offset), k + max(0, offset)] = x[..., k]
    return out


@st.composite
def _diag_embed_params(draw, shape):
    return draw(_diagonal_params(shape + (1,)))


test_diag_embed = check_op(
    lambda x, offset, dim1, dim2: x.diag_embed(offset, dim1, dim2),
    NONEMPTY,
    params=_diag_embed_params,
    gradgrad=True,
    reference=_diag_embed_reference,
)
test_diag = check_op(
    lambda x, diagonal: mg.diag(x, diagonal),
    S.shapes(min_dims=1, max_dims=2),
    params=fixed(diagonal=st.integers(-3, 3)),
    gradgrad=True,
    reference=lambda x, diagonal: np.diag(x, diagonal),
)
test_trace = check_op(
    lambda x: x.trace(), S.shapes(min_dims=2, max_dims=2), reference=np.trace, gradgrad=True
)


@st.composite
def _rot90_params(draw, shape):
    return {"k": draw(st.integers(-5, 5)), **_named(draw(_diagonal_params(shape)))}


def _named(p):
    return {"dims": (p["dim1"], p["dim2"])}


test_rot90 = check_op(
    lambda x, k, dims: x.rot90(k, dims),
    MATRIX,
    params=_rot90_params,
    reference=lambda x, k, dims: np.rot90(x, k, dims),
)
test_meshgrid = check_op(
    lambda a, b, c, indexing: mg.meshgrid(a, b, c, indexing=indexing),
    st.tuples(S.shapes(1, 1), S.shapes(0, 0), S.shapes(1, 1)),
    params=fixed(indexing=st.sampled_from(["ij", "xy"])),
    reference=lambda a, b, c, indexing: np.meshgrid(a, b, c, indexing=indexing),
)


@st.composite
def _unfold_params(draw, shape):
    d = draw(st.integers(-len(shape), len(shape) - 1))
    size = draw(st.integers(1, shape[d]))
    return {"dimension": d, "size": size, "step": draw(st.integers(1, 3))}


def _unfold_reference(x, dimension, size, step):
    d = dimension % x.ndim
    windows = np.lib.stride_tricks.sliding_window_view(x, size, axis=d)
    return windows[(slice(None),) * d + (slice(None, None, step),)]


test_unfold = check_op(
    lambda x, dimension, size, step: x.unfold(dimension, size, step),
    NONEMPTY,
    params=_unfold_params,
    gradgrad=True,
    reference=_unfold_reference,
)
test_repeat_interleave_counts = check_op(
    lambda x, counts, dim: x.repeat_interleave(mg.tensor(counts), dim),
    S.shapes(min_dims=1, max_dims=1),
    params=lambda shape: st.fixed_dictionaries(
        {
            "counts": st.lists(st.integers(0, 3), min_size=shape[0], max_size=shape[0]),
            "dim": st.sampled_from([0, -1, None]),
        }
    ),  # fmt: skip
    reference=lambda x, counts, dim: np.repeat(x, counts),
)


def test_diagonal_and_unfold_are_views_that_writes_reach():
    base = mg.zeros(3, 4)
    base.diagonal(1).add_(mg.tensor([1.0, 2.0, 3.0]))
    assert base.numpy()[[0, 1, 2], [1, 2, 3]].tolist() == [1.0, 2.0, 3.0]
    base.t().diagonal().fill_(7.0)  # through a transposed view too
    assert base.numpy()[[0, 1, 2], [0, 1, 2]].tolist() == [7.0, 7.0, 7.0]
    windows = base.unfold(1, 2, 2)
    windows[0, 1, 0] = -1.0
    assert float(base[0, 2]) == -1.0
    assert base.diagonal()._base is base and windows._base is base


def test_view_of_a_graph_tensor_refuses_in_place_writes():
    x = mg.ones(3, 3, requires_grad=True) * 1.0
    with pytest.raises(RuntimeError, match="in-place operation on a view"):
        x.diagonal().mul_(2)


def test_cat_skips_legacy_empty_tensors_but_keeps_them_in_the_graph_and_promotion():
    empty = mg.zeros(0, dtype=mg.float64, requires_grad=True)
    x = mg.ones(2, 3, requires_grad=True)
    out = mg.cat([empty, x, empty], 1)
    assert out.shape == (2, 3) and out.dtype == mg.float64
    out.sum().backward()
    assert empty.grad.shape == (0,) and x.grad.numpy().tolist() == [[1.0] * 3] * 2
    assert mg.cat([mg.zeros(0), mg.zeros(0)], dim=7).shape == (0,)  # no dim check: all legacy
    with pytest.raises(RuntimeError, match="zero-dimensional tensor .at position 1"):
        mg.cat([mg.zeros(2), mg.tensor(1.0)])


def test_cat_of_one_tensor_is_a_copy():
    a = mg.ones(2)
    mg.cat([a]).add_(1)
    assert a.numpy().tolist() == [1.0, 1.0]


def test_unflatten_infers_minus_one_from_the_dim_alone():
    assert mg.zeros(2, 3, 0).unflatten(-2, (1, 3, -1)).shape == (2, 1, 3, 1, 0)
    for x, sizes in [(mg.zeros(0, 2, 1, 0), (2,)), (mg.zeros(2, 6), (4, -1)),
                     (mg.zeros(2, 6), (-1, -1)), (mg.zeros(2, 0), (0, -1)), (mg.zeros(2, 6), ())]:  # fmt: skip
        with pytest.raises(RuntimeError, match="unflatten"):
            x.unflatten(-1 if len(x.shape) == 2 else -2, sizes)


def test_view_as_refuses_what_view_refuses():
    x = mg.zeros(2, 3).t()
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        x.view_as(mg.zeros(6))
    assert x.reshape_as(mg.zeros(6)).shape == (6,)


def test_trace_of_bool_is_not_implemented_whatever_its_dims():
    for shape in ((2, 2), (3,)):
        with pytest.raises(NotImplementedError):
            mg.trace(mg.zeros(shape, dtype=mg.bool))

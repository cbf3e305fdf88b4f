"""`x[index]` and `x[index] = v` against PyTorch 2.13 for random index tuples mixing every kind
PyTorch takes (issue 10): ints and 0-d integer tensors (basic selects, applied first), slices
with steps, None, Ellipsis, Python and 0-d bool flags, bool masks, integer tensors and lists in
any position. Shapes, values and gradients must agree, including where the advanced indices'
dims land (in place when adjacent, first when a slice separates them)."""

import numpy as np
import pytest
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad.testing import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")
# a list holding lists is read as a tuple of indices, with a deprecation warning (as in PyTorch)
pytestmark = pytest.mark.filterwarnings("ignore:Using a non-tuple sequence")

KINDS_READING_A_DIM = ["int", "int0d", "slice", "ints", "list", "mask"]
KINDS_READING_NONE = ["none", "flag", "flag0d", "ellipsis"]


@st.composite
def shapes_and_indices(draw):
    """A shape and one index for it, as a pair (minigrad's index, PyTorch's index)."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=0, max_size=4)))
    ndim = len(shape)
    # 1. the kinds, in order, and how many dims of x each reads (Ellipsis: whatever is left)
    plan, used = [], 0
    for _ in range(draw(st.integers(0, 5))):
        kinds = list(KINDS_READING_NONE)
        if used < ndim:
            kinds += KINDS_READING_A_DIM
        if any(kind == "ellipsis" for kind, _ in plan):
            kinds.remove("ellipsis")
        if any(kind == "mask" for kind, _ in plan) and "mask" in kinds:
            kinds.remove("mask")  # one mask: its count of Trues sets the arrays' length
        kind = draw(st.sampled_from(kinds))
        reads = draw(st.integers(1, ndim - used)) if kind == "mask" else 0
        reads = 1 if kind in KINDS_READING_A_DIM and kind != "mask" else reads
        plan.append((kind, reads))
        used += reads
    # 2. the sizes each entry reads (Ellipsis spans ndim - used dims)
    sizes, d = [], 0
    for kind, reads in plan:
        reads = ndim - used if kind == "ellipsis" else reads
        sizes.append(shape[d : d + reads])
        d += reads
    # 3. the contents; integer arrays broadcast to one shape (the mask's count when there is one)
    mask = None
    for (kind, _), size in zip(plan, sizes):
        if kind == "mask":
            mask = draw(st.lists(st.booleans(), min_size=int(np.prod(size)),
                                 max_size=int(np.prod(size))))  # fmt: skip
            mask = np.array(mask, dtype=bool).reshape(size)
    if mask is not None:
        batch = (int(mask.sum()),)
    else:
        batch = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=2)))
    ours, theirs = [], []
    for (kind, _), size in zip(plan, sizes):
        n = size[0] if size else 0
        if kind in ("int", "int0d"):
            k = draw(st.integers(-n, n - 1))
            ours.append(k if kind == "int" else mg.tensor(k))
            theirs.append(k if kind == "int" else torch.tensor(k))
        elif kind == "slice":
            bound = st.none() | st.integers(-n - 1, n + 1)
            s = slice(draw(bound), draw(bound), draw(st.sampled_from([None, 1, 2, 3])))
            ours.append(s)
            theirs.append(s)
        elif kind in ("none", "ellipsis"):
            ours.append(None if kind == "none" else Ellipsis)
            theirs.append(None if kind == "none" else Ellipsis)
        elif kind in ("flag", "flag0d"):
            b = draw(st.booleans())
            ours.append(b if kind == "flag" else mg.tensor(b))
            theirs.append(b if kind == "flag" else torch.tensor(b))
        elif kind in ("ints", "list"):
            ashape = tuple(draw(st.sampled_from([1, b])) for b in batch)
            ashape = ashape[draw(st.integers(0, len(ashape) - 1)) :]
            values = draw(st.lists(st.integers(-n, n - 1), min_size=int(np.prod(ashape)),
                                   max_size=int(np.prod(ashape))))  # fmt: skip
            arr = np.array(values, dtype=np.int64).reshape(ashape)
            ours.append(mg.tensor(arr) if kind == "ints" else arr.tolist())
            theirs.append(torch.tensor(arr) if kind == "ints" else arr.tolist())
        else:
            ours.append(mg.tensor(mask))
            theirs.append(torch.tensor(mask))
    if len(ours) == 1 and draw(st.booleans()):  # a bare index, not a 1-tuple
        return shape, ours[0], theirs[0]
    return shape, tuple(ours), tuple(theirs)


def _pair(shape, seed=0):
    data = np.random.default_rng(seed).standard_normal(shape)
    return mg.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)


def _torch_result(fn):
    """fn()'s result, or the exception PyTorch raised (the same type must come from minigrad)."""
    try:
        return fn(), None
    except Exception as e:  # noqa: BLE001 - any PyTorch error is the oracle's answer
        return None, e


@settings(max_examples=150)
@given(case=shapes_and_indices())
def test_getitem_matches_torch(case):
    shape, ours, theirs = case
    x, xt = _pair(shape)
    yt, error = _torch_result(lambda: xt[theirs])
    if error is not None:
        event(f"PyTorch raised {type(error).__name__}")
        with pytest.raises(type(error)):
            x[ours]
        return
    y = x[ours]
    assert tuple(y.shape) == tuple(yt.shape), (ours, y.shape, yt.shape)
    np.testing.assert_array_equal(y.detach().numpy(), yt.detach().numpy())
    w = np.random.default_rng(1).standard_normal(tuple(yt.shape))
    (y * mg.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=0)


def _no_repeated_positions(shape, theirs) -> bool:
    """Whether x[index] reads each element at most once (PyTorch leaves the result of writing
    one position twice unspecified)."""
    positions = torch.arange(int(np.prod(shape))).reshape(shape)[theirs]
    return positions.unique().numel() == positions.numel()


@settings(max_examples=150)
@given(case=shapes_and_indices(), value_kind=st.sampled_from(["full", "broadcast", "scalar"]))
def test_setitem_matches_torch(case, value_kind):
    shape, ours, theirs = case
    x, xt = _pair(shape)
    target, error = _torch_result(lambda: xt.detach()[theirs])
    assume(error is None and _no_repeated_positions(shape, theirs))
    vshape = tuple(target.shape)
    if value_kind == "broadcast":  # fewer dims, some of size 1, and a leading 1 PyTorch drops
        vshape = (1,) + tuple(1 if k % 2 else n for k, n in enumerate(vshape[1:]))
    elif value_kind == "scalar":
        vshape = ()
    v, vt = _pair(vshape, seed=2)
    y, yt = x.clone(), xt.clone()
    y[ours] = v
    yt[theirs] = vt
    np.testing.assert_array_equal(y.detach().numpy(), yt.detach().numpy())
    w = np.random.default_rng(1).standard_normal(shape)
    (y * mg.tensor(w)).sum().backward()
    (yt * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=0)
    if vt.grad is None:  # a bare False: PyTorch never looks at the value
        assert v.grad is None
    else:
        np.testing.assert_allclose(v.grad.numpy(), vt.grad.numpy(), rtol=1e-12, atol=0)


@settings(max_examples=30)
@given(case=shapes_and_indices())
def test_getitem_and_setitem_gradchecks(case):
    """First and second derivatives by finite differences, in float64 (get and set)."""
    shape, ours, theirs = case
    _, error = _torch_result(lambda: torch.zeros(shape)[theirs])
    assume(error is None and _no_repeated_positions(shape, theirs))
    x, _ = _pair(shape)
    assert gradcheck(lambda x: x[ours], x) and gradgradcheck(lambda x: x[ours], x)
    v = mg.tensor(np.random.default_rng(3).standard_normal(x[ours].shape), requires_grad=True)

    def put(x, v):
        y = x * 1.0
        y[ours] = v * v
        return y

    assert gradcheck(put, (x, v)) and gradgradcheck(put, (x, v))


# --- the cases of issue 10, spelled out ---------------------------------------------------------


def _both(fn):
    return fn(mg), fn(torch)


def _x(lib):
    return lib.arange(60.0).reshape(2, 5, 6)


ORDER_CASES = [
    lambda m: _x(m)[1, :, m.tensor([0, 2, 1])],  # the int is a basic select: (5, 3), not (3, 5)
    lambda m: _x(m)[m.tensor(1), :, m.tensor([0, 2, 1])],  # a 0-d integer tensor is an int
    lambda m: _x(m)[m.tensor([0, 1]), :, m.tensor([0, 2])],  # separated: first
    lambda m: _x(m)[:, m.tensor([0, 1]), m.tensor([0, 2])],  # adjacent: in place
    lambda m: _x(m)[m.tensor([1, 0]), 2],  # int after the array: (2, 6)
    lambda m: _x(m)[True, :, m.tensor([0, 2, 1])],  # a bool is an advanced index on a new dim
    lambda m: _x(m)[m.tensor(True), m.tensor([0, 1])],
    lambda m: _x(m)[m.tensor([[0], [1]]), None, m.tensor([1, 2, 3])],
    lambda m: _x(m)[m.tensor([True, False]), ..., m.tensor([5, 4])],
    lambda m: _x(m)[[[0, 1], [1, 0]]],  # a list holding lists is a tuple, as in PyTorch
    lambda m: _x(m)[[]],  # an empty list indexes with int64
]


@pytest.mark.parametrize("case", range(len(ORDER_CASES)))
def test_advanced_index_dims_land_where_torch_puts_them(case):
    ours, theirs = _both(ORDER_CASES[case])
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_byte_tensor_is_a_mask_with_torchs_warning():
    index = [1, 0, 1, 0, 1]
    with pytest.warns(UserWarning, match="uint8"):
        y = mg.arange(5.0)[mg.tensor(index, dtype=mg.uint8)]
    assert y.tolist() == [0.0, 2.0, 4.0]


def test_setitem_int_then_array_writes_torchs_positions():
    def put(m):
        x = m.zeros(2, 5, 6)
        x[1, :, m.tensor([0, 2, 1])] = m.arange(15.0).reshape(5, 3)
        return x

    ours, theirs = _both(put)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


ERROR_CASES = [
    lambda m: _x(m)[2],
    lambda m: _x(m)[:, -6],
    lambda m: _x(m)[0, 0, 0, 0],
    lambda m: _x(m)[:, m.tensor([True, False])],
    lambda m: _x(m)[m.tensor([0, 1]), m.tensor([0, 1, 2])],
    lambda m: _x(m)[m.tensor([0, 2])],
    lambda m: _x(m)[m.tensor([0.0])],
    lambda m: _x(m)[1.5],
    lambda m: m.tensor(3.0)[0],
    lambda m: _x(m)[False, m.tensor([0, 1])],
]


@pytest.mark.parametrize("case", range(len(ERROR_CASES)))
def test_bad_indices_raise_torchs_exception_type(case):
    with pytest.raises(Exception) as theirs:
        ERROR_CASES[case](torch)
    with pytest.raises(theirs.type):
        ERROR_CASES[case](mg)

"""Elementwise ops against PyTorch 2.13 where minigrad once gave silently different results
(issue 10): bitwise operators, pow's gradients, fmod, integer division by zero."""

import numpy as np
import pytest

import minigrad as mg
from minigrad.testing import strategies as S
from minigrad.testing.opcheck import check_op

COVERED = {"fmod", "remainder"}

torch = pytest.importorskip("torch")


def _same(ours, theirs):
    assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


A, B = [5, 3, -2, 0, 127], [3, 1, 7, -1, 2]
BINARY_INT_CASES = [
    lambda m, a, b: a & b,
    lambda m, a, b: a | b,
    lambda m, a, b: a ^ b,
    lambda m, a, b: a & 6,
    lambda m, a, b: 6 & a,
    lambda m, a, b: 6 | a,
    lambda m, a, b: 6 ^ a,
    lambda m, a, b: a << 2,
    lambda m, a, b: 2 << b.abs(),
    lambda m, a, b: a >> 1,
    lambda m, a, b: 64 >> b.abs(),
    lambda m, a, b: a << b,  # b holds -1: torch gives 0
    lambda m, a, b: a >> b,  # and the sign fill for a right shift
    lambda m, a, b: a << 64,
    lambda m, a, b: a >> 70,
    lambda m, a, b: ~a,
    lambda m, a, b: m.bitwise_and(a, b),
    lambda m, a, b: m.bitwise_or(a, 1),
    lambda m, a, b: m.bitwise_xor(a, b),
    lambda m, a, b: m.bitwise_not(a),
    lambda m, a, b: a.bitwise_not(),
    lambda m, a, b: a.bitwise_and(b),
    lambda m, a, b: m.bitwise_left_shift(a, 3),
    lambda m, a, b: m.bitwise_right_shift(a, b.abs()),
    lambda m, a, b: a.to(m.int8) & b,
    lambda m, a, b: a.to(m.uint8) & -1,  # -1 wraps to 255 in uint8, as in PyTorch
    lambda m, a, b: a.to(m.uint8) + 300,
    lambda m, a, b: a.to(m.int16) << 15,
]


@pytest.mark.parametrize("case", range(len(BINARY_INT_CASES)))
def test_bitwise_ops_on_integers_match_torch(case):
    fn = BINARY_INT_CASES[case]
    ours = fn(mg, mg.tensor(A), mg.tensor(B, dtype=mg.int32))
    theirs = fn(torch, torch.tensor(A), torch.tensor(B, dtype=torch.int32))
    _same(ours, theirs)


BOOL_CASES = [
    lambda a, b: a & b,
    lambda a, b: a | b,
    lambda a, b: a ^ b,
    lambda a, b: ~a,
    lambda a, b: a & True,
    lambda a, b: True ^ a,
    lambda a, b: a & 3,  # bool and int: int64
]


@pytest.mark.parametrize("case", range(len(BOOL_CASES)))
def test_bitwise_ops_on_bools_stay_logical(case):
    fn = BOOL_CASES[case]
    a, b = [True, False, True], [True, True, False]
    _same(fn(mg.tensor(a), mg.tensor(b)), fn(torch.tensor(a), torch.tensor(b)))


@pytest.mark.parametrize(
    "op",
    ["__iand__", "__ior__", "__ixor__", "__ilshift__", "__irshift__", "bitwise_and_"],
)
def test_in_place_bitwise_writes_into_the_same_tensor(op):
    ours, theirs = mg.tensor([5, 12, -7]), torch.tensor([5, 12, -7])
    alias_ours, alias_theirs = ours, theirs
    getattr(ours, op)(2)
    getattr(theirs, op)(2)
    _same(alias_ours, alias_theirs)


FLOAT_CASES = [
    lambda m: m.tensor([1.0]) & m.tensor([1.0]),
    lambda m: m.tensor([1]) | 1.5,
    lambda m: m.tensor([1.0]) << 1,
    lambda m: m.tensor([True]) << m.tensor([True]),
    lambda m: ~m.tensor([1.0]),
    lambda m: m.bitwise_not(m.tensor(1.0)),
]


@pytest.mark.parametrize("case", range(len(FLOAT_CASES)))
def test_bitwise_ops_refuse_floats_as_torch(case):
    with pytest.raises(Exception) as theirs:
        FLOAT_CASES[case](torch)
    with pytest.raises(theirs.type):
        FLOAT_CASES[case](mg)


# --- pow's gradients at the edges (torch's pow_backward_self / pow_backward_exponent) ---------

EDGE_BASES = [0.0, 0.0, 0.0, -2.0, -2.0, float("inf"), 2.0, 0.0, -0.0]
EDGE_EXPONENTS = [0.0, -1.0, 1.5, 0.5, 2.0, 1.0, 0.0, 2.0, 3.0]
POW_CASES = [
    lambda a, b: a**b,
    lambda a, b: a**0,
    lambda a, b: a**0.0,
    lambda a, b: a**2,
    lambda a, b: a**-1,
    lambda a, b: 0**b,
    lambda a, b: 0.0 ** (b - 1),
    lambda a, b: (-2.0) ** b,
    lambda a, b: a.pow(b),
]


def _grads(lib, fn):
    a = lib.tensor(EDGE_BASES, dtype=lib.float64, requires_grad=True)
    b = lib.tensor(EDGE_EXPONENTS, dtype=lib.float64, requires_grad=True)
    out = fn(a, b)
    out.backward(lib.ones_like(out))
    return [t.grad for t in (a, b)]


@pytest.mark.parametrize("case", range(len(POW_CASES)))
def test_pow_gradients_at_zero_negative_and_infinite_bases_match_torch(case):
    for ours, theirs in zip(_grads(mg, POW_CASES[case]), _grads(torch, POW_CASES[case])):
        if theirs is None:
            assert ours is None
        else:
            np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_pow_double_backward_at_zero_exponent_is_finite():
    x = mg.tensor([0.0, 2.0], dtype=mg.float64, requires_grad=True)
    (g,) = mg.autograd.grad((x**0).sum(), x, create_graph=True)
    (gg,) = mg.autograd.grad(g.sum(), x, allow_unused=True)
    np.testing.assert_array_equal(g.detach().numpy(), [0.0, 0.0])
    assert gg is None or not np.isnan(gg.numpy()).any()


# --- fmod (C's fmod, the dividend's sign) versus remainder (Python's %, the divisor's) ---------

FMOD_CASES = [
    lambda m: m.fmod(m.tensor([-1, -7, 7, 7]), m.tensor([2, -3, 3, -3])),
    lambda m: m.remainder(m.tensor([-1, -7, 7, 7]), m.tensor([2, -3, 3, -3])),
    lambda m: m.fmod(m.tensor([-1.5, 7.0, -0.0, 5.5]), 2),
    lambda m: m.tensor([-1.5, 7.0]).fmod(-2.0),
    lambda m: m.fmod(m.tensor([-5.0, 5.0]), 0.0),
    lambda m: m.tensor([-1.5, 7.0]) % -2.0,
    # infinities and signed zeros: 5 % inf is 5 and -3 % inf is inf (Python's too); a zero
    # result keeps the dividend's sign
    lambda m: (
        m.tensor([5.0, -3.0, 0.0, -0.0, -4.0, m.inf])
        % m.tensor([m.inf, m.inf, -3.0, 2.0, 2.0, 2.0])
    ),
    lambda m: m.remainder(m.tensor([-3.0, 5.0, 0.0], dtype=m.float32), -m.inf),
    # an integer zero divisor raises only when something is computed
    lambda m: m.zeros(0, 1, dtype=m.int16) % m.tensor([0, 3], dtype=m.int16),
    lambda m: m.fmod(m.zeros(2, 0, dtype=m.int32), m.tensor(0, dtype=m.int32)),
]


@pytest.mark.parametrize("case", range(len(FMOD_CASES)))
def test_fmod_and_remainder_values_match_torch(case):
    _same(FMOD_CASES[case](mg), FMOD_CASES[case](torch))


def test_fmod_gradients_match_torch():
    def grads(lib):
        a = lib.tensor([-7.0, 5.5, 3.0, -2.5], dtype=lib.float64, requires_grad=True)
        b = lib.tensor([2.0, -2.0, 0.5, 4.0], dtype=lib.float64, requires_grad=True)
        lib.fmod(a, b).backward(lib.tensor([1.0, 2.0, 3.0, 4.0], dtype=lib.float64))
        return a.grad.numpy(), b.grad.numpy()

    for ours, theirs in zip(grads(mg), grads(torch)):
        np.testing.assert_array_equal(ours, theirs)


def test_remainder_gradients_match_torch():
    # d/db = -floor_divide(a, b): -1 at -3 % inf (the floor of -0 is taken as torch's divmod)
    def grads(lib):
        a = lib.tensor([-7.0, 5.5, 3.0, -2.5, 5.0, -3.0], dtype=lib.float64, requires_grad=True)
        b = lib.tensor(
            [2.0, -2.0, 0.5, 4.0, lib.inf, lib.inf], dtype=lib.float64, requires_grad=True
        )
        lib.remainder(a, b).backward(lib.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0], dtype=lib.float64))
        return a.grad.numpy(), b.grad.numpy()

    for ours, theirs in zip(grads(mg), grads(torch)):
        np.testing.assert_array_equal(ours, theirs)


test_remainder = check_op(
    mg.remainder,
    S.broadcastable_shapes(2),
    elements=[S.floats(-3, 3), S.floats(-2, 2).filter(lambda v: abs(v) > 0.5)],
    valid=lambda a, b: bool(np.all(np.abs(a / b - np.round(a / b)) > 1e-3)),
    reference=np.remainder,
    gradgrad=True,
)


test_fmod = check_op(
    mg.fmod,
    S.broadcastable_shapes(2),
    elements=[S.floats(-3, 3), S.floats(0.5, 2)],
    valid=lambda a, b: bool(np.all(np.abs(a / b - np.round(a / b)) > 1e-3)),
    reference=np.fmod,
    gradgrad=True,
)


# --- integer division by zero raises, as in PyTorch (NumPy gives 0 and a warning) -------------

ZERO_DIVISION_CASES = [
    lambda m: m.tensor([5, 1]) // m.tensor([1, 0]),
    lambda m: m.tensor([5]) // 0,
    lambda m: 5 // m.tensor([0]),
    lambda m: m.tensor([5]) % 0,
    lambda m: m.remainder(m.tensor([5], dtype=m.int32), m.tensor([0], dtype=m.int32)),
    lambda m: m.fmod(m.tensor([5]), 0),
    lambda m: m.div(m.tensor([5]), 0, rounding_mode="trunc"),
    lambda m: m.div(m.tensor([5]), 0, rounding_mode="floor"),
    lambda m: m.tensor([5], dtype=m.uint8) // m.tensor([0], dtype=m.uint8),
]


@pytest.mark.parametrize("case", range(len(ZERO_DIVISION_CASES)))
def test_integer_division_by_zero_raises_as_torch(case):
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        ZERO_DIVISION_CASES[case](torch)
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        ZERO_DIVISION_CASES[case](mg)


def test_float_division_by_zero_stays_ieee():
    for fn in (lambda m: m.tensor([5.0, -1.0]) // 0, lambda m: m.tensor([5.0, 0.0]) % 0):
        np.testing.assert_array_equal(fn(mg).numpy(), fn(torch).numpy())


# --- found by the differential suite (tests/differential) ---------------------------------------
DIFFERENTIAL_CASES = [
    lambda m: (
        m.tensor([-2, 10, 1, -1, 0], dtype=m.int8) ** m.tensor([-4, -1, -1, -3, -1], dtype=m.int8)
    ),
    lambda m: 2 ** m.tensor([-2, 10, 1, -1]),
    lambda m: -3 / m.tensor([9, 1, 5], dtype=m.uint8),
    lambda m: m.clamp(m.tensor([3, -9], dtype=m.int16), None, -4),
    lambda m: m.clamp(m.tensor([3, 1], dtype=m.uint8), 2),
    lambda m: m.clamp(m.tensor([3, 1], dtype=m.uint8), -3),
    lambda m: m.clamp(m.tensor([3, 1], dtype=m.int32), 0.5),
    lambda m: m.clamp(m.tensor([float("nan"), 2.0]), m.tensor([1.0, 3.0]), m.tensor(0.5)),
    lambda m: m.clamp(m.tensor([1.0, 5.0]), min=m.tensor([float("nan"), 0.0])),
]


@pytest.mark.parametrize("case", range(len(DIFFERENTIAL_CASES)))
def test_integer_pow_scalar_division_and_clamp_dtypes_match_torch(case):
    _same(DIFFERENTIAL_CASES[case](mg), DIFFERENTIAL_CASES[case](torch))


def test_clamp_by_tensors_gradients_as_torch():
    grads = []
    for lib in (torch, mg):
        x = lib.tensor([0.0, -1.0, 2.0, 0.5, 0.0], requires_grad=True)
        lo = lib.tensor([0.0, 0.0, 0.0, 1.0, 1.0], requires_grad=True)
        hi = lib.tensor([0.0, 1.0, 1.0, 0.0, 1.0], requires_grad=True)
        lib.clamp(x, lo, hi).backward(lib.tensor([1.0, 2.0, 3.0, 4.0, 5.0]))
        grads.append([t.grad.tolist() for t in (x, lo, hi)])
    assert grads[0] == grads[1]

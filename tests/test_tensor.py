"""Tensor attributes, conversions, repr, operators and PyTorch's type promotion."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg


def test_attributes():
    x = mg.zeros(2, 3, 4)
    assert x.shape == (2, 3, 4) and x.ndim == 3 and x.dim() == 3
    assert x.size() == (2, 3, 4) and x.size(-1) == 4 and x.size(0) == 2
    assert x.numel() == 24 and mg.numel(x) == 24
    assert x.dtype == mg.float32 and str(x.device) == "cpu"
    assert x.T.shape == (4, 3, 2) and x.mT.shape == (2, 4, 3)
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.size(3)
    assert x.is_floating_point() is True
    assert mg.zeros(2, dtype=mg.int64).is_floating_point() is False


def test_legacy_constructor():
    assert mg.Tensor([1, 2]).dtype == mg.float32
    assert mg.Tensor(np.zeros(2)).dtype == mg.float32
    assert mg.Tensor(2, 3).shape == (2, 3)
    assert mg.Tensor().shape == (0,)


def test_python_conversions():
    x = mg.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert x.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert len(x) == 2
    assert [r.tolist() for r in x] == [[1.0, 2.0], [3.0, 4.0]]
    assert mg.tensor([3.5]).item() == 3.5 and isinstance(mg.tensor(2).item(), int)
    assert bool(mg.tensor([1.0])) and not bool(mg.tensor(0.0))
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(x)
    with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
        x.item()
    with pytest.raises(TypeError, match="0-d"):
        len(mg.tensor(1.0))
    assert f"{mg.tensor(3.14159):.2f}" == "3.14"
    assert float(mg.tensor(2.5)) == 2.5 and int(mg.tensor(7)) == 7
    np.testing.assert_array_equal(np.asarray(x), [[1, 2], [3, 4]])
    assert np.asarray(x, dtype=np.float64).dtype == np.float64


def test_numpy_requires_grad_error_and_sharing():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="detach"):
        x.numpy()
    a = x.detach().numpy()
    a[0] = 5.0  # numpy() shares memory, as in PyTorch
    assert x.tolist() == [5.0, 2.0]


def test_data_detach_clone():
    x = mg.tensor([1.0, 2.0], requires_grad=True)
    d = x.data
    assert not d.requires_grad and d.grad_fn is None
    d.mul_(2)  # shares storage
    assert x.tolist() == [2.0, 4.0]
    x.data = mg.tensor([7.0, 8.0, 9.0])
    assert x.shape == (3,) and x.requires_grad
    det = x.detach()
    assert det.is_leaf and not det.requires_grad
    c = (x * 1).clone()
    assert c.grad_fn.name() == "CloneBackward0"
    c.sum().backward()
    assert x.grad.tolist() == [1.0, 1.0, 1.0]
    y = mg.arange(6.0).reshape(2, 3).t()
    z = y.contiguous()
    assert z._data.flags.c_contiguous and z.tolist() == y.tolist()
    assert z.contiguous() is z


def test_to_and_casts():
    x = mg.tensor([1.5, -2.5])
    assert x.to(mg.float64).dtype == mg.float64
    assert x.to("cpu") is x
    assert x.to(mg.zeros(1, dtype=mg.int32)).dtype == mg.int32
    assert x.double().dtype == mg.float64 and x.half().dtype == mg.float16
    assert x.long().tolist() == [1, -2] and x.int().dtype == mg.int32
    assert x.bool().tolist() == [True, True] and x.float().dtype == mg.float32
    assert x.to(mg.float32, copy=True) is not x
    w = mg.tensor([1.0, 2.0], requires_grad=True)
    w.double().sum().backward()
    assert w.grad.dtype == mg.float32  # the cast's gradient goes back to the source dtype


def test_requires_grad_rules():
    with pytest.raises(RuntimeError, match="floating point"):
        mg.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="floating point"):
        mg.tensor([True]).requires_grad_()
    x = mg.tensor([1.0])
    assert x.requires_grad_() is x and x.requires_grad and x.is_leaf
    y = x * 2
    assert not y.is_leaf and y.grad_fn.name() == "MulBackward0"
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad_(False)
    with mg.no_grad():
        assert not (x * 2).requires_grad
    assert not (mg.tensor([1.0]) * 2).requires_grad


def test_operators_and_broadcasting():
    a = mg.tensor([[1.0], [2.0]])
    b = mg.tensor([10.0, 20.0, 30.0])
    assert (a + b).shape == (2, 3)
    assert (a * b).tolist() == [[10, 20, 30], [20, 40, 60]]
    assert (1 - b).tolist() == [-9, -19, -29] and (b - 1).tolist() == [9, 19, 29]
    assert (2 / mg.tensor([4.0])).tolist() == [0.5] and (2 ** b[:1]).tolist() == [1024.0]
    assert (-b).tolist() == [-10, -20, -30] and abs(-b).tolist() == [10, 20, 30]
    assert (mg.tensor([7, -7]) // 2).tolist() == [3, -4]
    assert (mg.tensor([7, -7]) % 3).tolist() == [1, 2]
    lt = b < 25
    assert lt.dtype == mg.bool and lt.tolist() == [True, True, False]
    for r in (b == 20, b != 20, b <= 20, b > 20, b >= 20, 20 < b):
        assert r.dtype == mg.bool
    assert (np.float32(2.0) * b).dtype == mg.float32  # NumPy scalars defer to Tensor


def _torch():
    return pytest.importorskip("torch")


_DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64"]
_SCALARS = [True, 2, 2.5]


def _pairs():
    for a in _DTYPES:
        for b in _DTYPES:
            for a_dims in (0, 1):
                for b_dims in (0, 1):
                    yield a, b, a_dims, b_dims


@pytest.mark.parametrize("op", ["add", "mul", "truediv"])
def test_promotion_table_matches_torch(op):
    torch = _torch()
    fn = {"add": lambda x, y: x + y, "mul": lambda x, y: x * y, "truediv": lambda x, y: x / y}[op]
    for a, b, a_dims, b_dims in _pairs():
        if op == "add" and a == b == "bool":
            continue
        ta = torch.ones((2,) * a_dims, dtype=getattr(torch, a))
        tb = torch.ones((2,) * b_dims, dtype=getattr(torch, b))
        ma = mg.ones((2,) * a_dims, dtype=getattr(mg, a))
        mb = mg.ones((2,) * b_dims, dtype=getattr(mg, b))
        expected = str(fn(ta, tb).dtype).replace("torch.", "")
        assert str(fn(ma, mb).dtype) == expected, (op, a, b, a_dims, b_dims)
        for s in _SCALARS:
            expected = str(fn(ta, s).dtype).replace("torch.", "")
            assert str(fn(ma, s).dtype) == expected, (op, a, s)
            expected = str(fn(s, ta).dtype).replace("torch.", "")
            assert str(fn(s, ma).dtype) == expected, (op, s, a)


def test_promotion_examples():
    f32 = mg.ones(2)
    assert (f32 * 2.5).dtype == mg.float32  # Python floats never widen
    assert (mg.ones(2, dtype=mg.int64) * 1.5).dtype == mg.float32
    assert (mg.tensor([1, 2]) / mg.tensor([2, 2])).dtype == mg.float32
    assert (f32 * mg.ones(2, dtype=mg.float64)).dtype == mg.float64
    assert (f32 * mg.tensor(2.0, dtype=mg.float64)).dtype == mg.float32  # 0-d loses to dims
    assert (mg.tensor(2, dtype=mg.int64) * mg.tensor(2.0, dtype=mg.float16)).dtype == mg.float16


# --- repr: compared with PyTorch's text, modulo the module name -------------------------------

_REPR_CASES = [
    ("tensor", ([1.0, 2.0],), {}),
    ("tensor", ([1.0, 2.0],), {"dtype": "float64"}),
    ("tensor", ([1, 2],), {}),
    ("tensor", ([1, 2],), {"dtype": "int32"}),
    ("tensor", ([True, False],), {}),
    ("tensor", (3.5,), {}),
    ("tensor", ([[1.5, -2.25]],), {}),
    ("tensor", ([0.0, 0.25, 0.5, 0.75, 1.0],), {}),
    ("tensor", ([1e-5, 1.0],), {}),
    ("tensor", ([1e9, 1.0],), {}),
    ("tensor", ([123456789.0],), {}),
    ("tensor", ([float("nan"), 1.5, float("inf")],), {}),
    ("tensor", ([float("nan"), 1.0, -float("inf")],), {}),
    ("tensor", ([-0.4680, -0.1263],), {"dtype": "float16"}),
    ("tensor", ([],), {}),
    ("tensor", ([1.0, 2.0],), {"requires_grad": True}),
    ("arange", (12.0,), {}),
]


@pytest.mark.parametrize("fn,args,kwargs", _REPR_CASES)
def test_repr_matches_torch(fn, args, kwargs):
    torch = _torch()
    tk = dict(kwargs)
    mk = dict(kwargs)
    if "dtype" in kwargs:
        tk["dtype"] = getattr(torch, kwargs["dtype"])
        mk["dtype"] = getattr(mg, kwargs["dtype"])
    expected = repr(getattr(torch, fn)(*args, **tk)).replace("torch.", "minigrad.")
    assert repr(getattr(mg, fn)(*args, **mk)) == expected


def test_repr_matches_torch_shapes_and_grad_fn():
    torch = _torch()
    data = (np.arange(24, dtype=np.float32).reshape(2, 3, 4) - 7) / 3
    assert repr(mg.tensor(data)) == repr(torch.tensor(data))
    long = np.linspace(-3, 3, 40, dtype=np.float32)
    assert repr(mg.tensor(long)) == repr(torch.tensor(long))
    big = np.arange(2000, dtype=np.float32).reshape(40, 50) / 7
    assert repr(mg.tensor(big)) == repr(torch.tensor(big))
    x, tx = mg.tensor([1.0, 2.0], requires_grad=True), torch.tensor([1.0, 2.0], requires_grad=True)
    assert repr(x.sum()) == repr(tx.sum()) == "tensor(3., grad_fn=<SumBackward0>)"
    assert repr(x * 2) == repr(tx * 2)


def test_deepcopy_of_tensors_and_state_dicts_as_torch():
    import copy

    w = mg.tensor([1.0, 2.0], requires_grad=True)
    w.grad = mg.tensor([0.5, 0.5])
    state = {"w": w, "again": w, "plain": mg.tensor([3])}
    copied = copy.deepcopy(state)
    assert copied["w"] is copied["again"] and copied["w"] is not w  # the memo keeps sharing
    assert copied["w"].requires_grad and copied["w"].grad.tolist() == [0.5, 0.5]
    w.detach().mul_(0)
    assert copied["w"].tolist() == [1.0, 2.0]
    with pytest.raises(RuntimeError, match="graph leaves"):
        copy.deepcopy(w * 2)


def test_copy_into_a_graph_tensor_gives_the_old_values_gradient_zero():
    x = mg.ones(3, requires_grad=True)
    src = mg.ones(1, requires_grad=True)
    y = x * 2
    y.copy_(src)
    (y * mg.tensor([1.0, 2.0, 3.0])).sum().backward()
    assert x.grad.numpy().tolist() == [0.0, 0.0, 0.0] and src.grad.numpy().tolist() == [6.0]

"""Bad input raises PyTorch 2.13's exception type (issue 10), never NumPy's own exception, and
minigrad's ops print no NumPy RuntimeWarning where PyTorch is silent."""

import subprocess
import sys

import pytest

import minigrad as mg
import minigrad.nn.functional as MF

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _a(m):
    return m.ones(2, 3)


def _b(m):
    return m.ones(4)


# (name, fn(lib, F)): each raises in torch; minigrad must raise the same type
BAD_INPUTS = [
    ("add", lambda m, F: _a(m) + _b(m)),
    ("sub", lambda m, F: _a(m) - _b(m)),
    ("mul", lambda m, F: _a(m) * _b(m)),
    ("div", lambda m, F: _a(m) / _b(m)),
    ("pow", lambda m, F: _a(m) ** _b(m)),
    ("fmod", lambda m, F: m.fmod(_a(m), _b(m))),
    ("remainder", lambda m, F: _a(m) % _b(m)),
    ("floor_divide", lambda m, F: _a(m) // _b(m)),
    ("maximum", lambda m, F: m.maximum(_a(m), _b(m))),
    ("minimum", lambda m, F: m.minimum(_a(m), _b(m))),
    ("eq", lambda m, F: _a(m) == _b(m)),
    ("lt", lambda m, F: _a(m) < _b(m)),
    ("where", lambda m, F: m.where(_a(m) > 0, _b(m), 0.0)),
    ("bitwise_and", lambda m, F: _a(m).long() & _b(m).long()),
    ("logical_and", lambda m, F: m.logical_and(_a(m), _b(m))),
    ("broadcast_3d", lambda m, F: m.ones(2, 1, 3) * m.ones(5, 4, 1)[:, :3]),
    ("matmul_shapes", lambda m, F: m.ones(2, 3) @ m.ones(2, 3)),
    ("cumsum_0d", lambda m, F: m.tensor(1.0).cumsum(dim=1)),
    ("cumsum_dim", lambda m, F: _a(m).cumsum(dim=2)),
    ("squeeze_0d", lambda m, F: m.tensor(1.0).squeeze(10)),
    ("squeeze_dim", lambda m, F: _a(m).squeeze(3)),
    ("unsqueeze_dim", lambda m, F: _a(m).unsqueeze(4)),
    ("sum_dim", lambda m, F: _a(m).sum(dim=3)),
    ("sum_0d_dim", lambda m, F: m.tensor(1.0).sum(dim=1)),
    ("mean_dim", lambda m, F: _a(m).mean(dim=-3)),
    ("softmax_dim", lambda m, F: m.softmax(_a(m), dim=2)),
    ("log_softmax_0d", lambda m, F: m.log_softmax(m.tensor(1.0), dim=1)),
    ("argmax_dim", lambda m, F: _a(m).argmax(dim=2)),
    ("max_dim", lambda m, F: _a(m).max(dim=2)),
    ("transpose_dim", lambda m, F: _a(m).transpose(0, 2)),
    ("flip_repeated", lambda m, F: m.flip(_a(m), (0, 0))),
    ("flip_dim", lambda m, F: m.flip(_a(m), (2,))),
    ("einsum_sizes", lambda m, F: m.einsum("ij,jk->ik", m.ones(2, 3), m.ones(4, 5))),
    ("einsum_operands", lambda m, F: m.einsum("ij,jk->ik", m.ones(2, 3))),
    ("pad_odd_length", lambda m, F: F.pad(_a(m), (1, 2, 3))),
    ("pad_too_long", lambda m, F: F.pad(_a(m), (1, 1, 1, 1, 1, 1))),
    ("reshape_size", lambda m, F: _a(m).reshape(4, 2)),
    ("view_size", lambda m, F: _a(m).view(5)),
    ("expand", lambda m, F: _a(m).expand(4, 3)),
    ("cat_shapes", lambda m, F: m.cat([m.ones(2, 3), m.ones(2, 4)])),
    ("stack_shapes", lambda m, F: m.stack([m.ones(2, 3), m.ones(3, 2)])),
    ("index_out_of_range", lambda m, F: _a(m)[5]),
    ("index_tensor_out_of_range", lambda m, F: _a(m)[m.tensor([0, 7])]),
    ("index_too_many", lambda m, F: _a(m)[0, 0, 0]),
    ("index_float", lambda m, F: _a(m)[m.tensor([0.5])]),
    ("setitem_shape", lambda m, F: _a(m).__setitem__(0, m.ones(4))),
    ("gather_dim", lambda m, F: m.gather(_a(m), 2, m.zeros(2, 3, dtype=m.int64))),
    ("linear_shapes", lambda m, F: F.linear(m.ones(2, 3), m.ones(4, 2))),
    ("linear_dtypes", lambda m, F: F.linear(m.ones(2, 3), m.ones(4, 3, dtype=m.float64))),
    ("embedding_float", lambda m, F: F.embedding(m.tensor([0.0]), m.ones(3, 2))),
    ("cross_entropy_target", lambda m, F: F.cross_entropy(_a(m), m.tensor([0, 5]))),
    ("item_many", lambda m, F: _a(m).item()),
    ("bool_many", lambda m, F: bool(_a(m))),
    ("int_div_zero", lambda m, F: m.tensor([1]) // 0),
    ("tensor_str", lambda m, F: m.tensor(["a"])),
    ("tensor_none", lambda m, F: m.tensor([None])),
    ("arange_zero_step", lambda m, F: m.arange(0, 5, 0)),
    ("linspace_bool", lambda m, F: m.linspace(0, 1, 3, dtype=m.bool)),
    ("requires_grad_int", lambda m, F: m.ones(2, dtype=m.int64).requires_grad_()),
    ("invert_float", lambda m, F: ~_a(m)),
    ("shift_float", lambda m, F: _a(m) << 1),
    ("sub_bool", lambda m, F: m.tensor([True]) - m.tensor([False])),
]


@pytest.mark.parametrize("fn", [f for _, f in BAD_INPUTS], ids=[n for n, _ in BAD_INPUTS])
def test_bad_input_raises_torch_exception_type(fn):
    with pytest.raises(Exception) as theirs:
        fn(torch, TF)
    with pytest.raises(Exception) as ours:
        fn(mg, MF)
    assert ours.type is theirs.type or issubclass(ours.type, theirs.type), (
        f"torch raises {theirs.type.__name__}: {theirs.value}; minigrad raises "
        f"{ours.type.__name__}: {ours.value}"
    )
    assert not type(ours.value).__module__.startswith("numpy"), ours.value


def test_broadcast_error_names_both_shapes_as_torch():
    with pytest.raises(RuntimeError, match=r"size of tensor a \(3\) must match the size of "
                       r"tensor b \(4\) at non-singleton dimension 1"):  # fmt: skip
        mg.ones(2, 3) + mg.ones(4)


WARNING_PROBE = """
import numpy as np
import minigrad as mg
x = mg.tensor([1000.0, 0.0, -1.0], requires_grad=True)
y = mg.exp(x) + mg.log(x) + x / mg.zeros(3) + mg.sqrt(x) + x ** -1.0 + 0.0 ** x
y.sum().backward()
(mg.tensor([0.0]) / mg.tensor([0.0])).sum()
mg.log_softmax(mg.tensor([-float("inf"), -float("inf")]), 0)
print("user")
np.log(np.zeros(1))  # the user's own NumPy call keeps its warning
"""


def test_no_numpy_runtime_warnings_from_minigrad_ops_but_user_code_still_warns():
    result = subprocess.run(
        [sys.executable, "-W", "default", "-c", WARNING_PROBE],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "user"
    lines = [line for line in result.stderr.splitlines() if "RuntimeWarning" in line]
    assert len(lines) == 1 and "<string>" in lines[0], result.stderr

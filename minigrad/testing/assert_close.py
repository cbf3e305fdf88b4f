"""`mg.testing.assert_close`: PyTorch's `torch.testing.assert_close` for minigrad tensors."""

from __future__ import annotations

from typing import Any

import numpy as np

# PyTorch's default tolerances by dtype (rtol, atol); exact for integers and bools
_TOLERANCES = {
    np.dtype(np.float16): (1e-3, 1e-5),
    np.dtype(np.float32): (1.3e-6, 1e-5),
    np.dtype(np.float64): (1e-7, 1e-7),
}


def _as_array(value: Any) -> tuple[np.ndarray, Any]:
    from minigrad.tensor import Tensor

    if isinstance(value, Tensor):
        return value.detach()._host(), value
    return np.asarray(value), value


def assert_close(
    actual: Any,
    expected: Any,
    *,
    allow_subclasses: bool = True,
    rtol: float | None = None,
    atol: float | None = None,
    equal_nan: bool = False,
    check_device: bool = True,
    check_dtype: bool = True,
    check_layout: bool = True,
    check_stride: bool = False,
    msg: str | None = None,
) -> None:
    """Raise AssertionError unless `actual` and `expected` (tensors, numbers, or sequences and
    mappings of them) agree: same shape, dtype and device, and |a - e| <= atol + rtol * |e|."""
    from minigrad.tensor import Tensor

    if (rtol is None) != (atol is None):
        raise ValueError(
            f"Both 'rtol' and 'atol' must be either specified or omitted, but got no "
            f"{'rtol' if rtol is None else 'atol'}."
        )
    if isinstance(actual, dict) and isinstance(expected, dict):
        if set(actual) != set(expected):
            raise AssertionError(
                f"The keys of the mappings do not match: {sorted(map(str, actual))} != "
                f"{sorted(map(str, expected))}"
            )
        for key in actual:
            assert_close(actual[key], expected[key], rtol=rtol, atol=atol, equal_nan=equal_nan,
                         check_device=check_device, check_dtype=check_dtype, msg=msg)  # fmt: skip
        return
    if (
        isinstance(actual, (list, tuple))
        and isinstance(expected, (list, tuple))
        and not (all(isinstance(v, (int, float, bool)) for v in (*actual, *expected)))
    ):
        if len(actual) != len(expected):
            raise AssertionError(
                f"The length of the sequences mismatch: {len(actual)} != {len(expected)}"
            )
        for a, e in zip(actual, expected):
            assert_close(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan,
                         check_device=check_device, check_dtype=check_dtype, msg=msg)  # fmt: skip
        return
    a, a_obj = _as_array(actual)
    e, e_obj = _as_array(expected)
    what = "Tensor-likes" if isinstance(a_obj, Tensor) else "Scalars"

    def fail(text: str):
        raise AssertionError(msg if msg is not None else text)

    if isinstance(a_obj, Tensor) != isinstance(e_obj, Tensor):
        fail(
            f"Expected both inputs to be tensors or both non-tensors, got "
            f"{type(actual).__name__} and {type(expected).__name__}"
        )
    if a.shape != e.shape:
        fail(f"The values for attribute 'shape' do not match: {_shape(a)} != {_shape(e)}.")
    if check_device and isinstance(a_obj, Tensor) and a_obj.device != e_obj.device:
        fail(f"The values for attribute 'device' do not match: {a_obj.device} != {e_obj.device}.")
    if check_dtype and isinstance(a_obj, Tensor) and a.dtype != e.dtype:
        fail(
            f"The values for attribute 'dtype' do not match: minigrad.{a.dtype} != "
            f"minigrad.{e.dtype}."
        )
    if rtol is None:
        rtol, atol = max(_TOLERANCES.get(a.dtype, (0.0, 0.0)), _TOLERANCES.get(e.dtype, (0.0, 0.0)))
    if a.dtype.kind == "b":
        a, e = a.astype(np.int64), e.astype(np.int64)
    af, ef = a.astype(np.float64), e.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(af - ef)
        close = (diff <= atol + rtol * np.abs(ef)) | (af == ef)
        if equal_nan:
            close |= np.isnan(af) & np.isnan(ef)
    if close.all():
        return
    if what == "Scalars":
        rel_diff = (diff / np.abs(ef)).item() if ef.item() != 0 else float("inf")
        fail(f"Scalars are not close!\n\nExpected {e.item()} but got {a.item()}.\n"
             f"Absolute difference: {diff.item()} (up to {atol} allowed)\n"
             f"Relative difference: {rel_diff} (up to {rtol} allowed)")  # fmt: skip
    bad = ~close
    total = close.size
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(bad, diff / np.abs(ef), 0)
    absd = np.where(bad, np.nan_to_num(diff, nan=np.inf), 0)
    ia = np.unravel_index(int(np.argmax(absd)), a.shape) if a.ndim else ()
    worst_rel = int(np.argmax(np.nan_to_num(rel, nan=np.inf)))
    ir = np.unravel_index(worst_rel, a.shape) if a.ndim else ()
    fail(
        f"{what} are not close!\n\nMismatched elements: {int(bad.sum())} / {total} "
        f"({100 * bad.sum() / total:.1f}%)\n"
        f"Greatest absolute difference: {absd[ia] if a.ndim else absd.item()} at index "
        f"{tuple(int(i) for i in ia)} (up to {atol} allowed)\n"
        f"Greatest relative difference: {rel[ir] if a.ndim else rel.item()} at index "
        f"{tuple(int(i) for i in ir)} (up to {rtol} allowed)"
    )


def _shape(a: np.ndarray) -> str:
    return f"minigrad.Size({list(a.shape)})"

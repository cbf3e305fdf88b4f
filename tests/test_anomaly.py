"""mg.autograd.detect_anomaly(): backward names the first op whose gradient is NaN/inf and the
forward line (file:line) that created it; outside anomaly mode nothing is checked or recorded."""

import numpy as np
import pytest

import minigrad as mg


def _line_of(marker: str) -> int:
    """The 1-based line of this file whose code carries `# marker`."""
    with open(__file__, encoding="utf-8") as f:
        lines = f.readlines()
    return 1 + next(k for k, line in enumerate(lines) if f"# {marker}" in line)


def test_names_the_op_and_the_forward_line():
    x = mg.tensor([0.0, 4.0], requires_grad=True)
    with mg.autograd.detect_anomaly():
        r = x.sqrt()  # MARK-sqrt
        loss = (r * 2.0).sum()
        with np.errstate(all="ignore"), pytest.raises(RuntimeError) as info:
            loss.backward()
    message = str(info.value)
    assert "Function 'SqrtBackward0' returned nan or inf values" in message
    assert "input 'x'" in message
    assert f'{__file__}", line {_line_of("MARK-sqrt")}' in message
    assert "x.sqrt()" in message


def test_names_the_first_bad_op_not_a_later_one():
    # log(0) = -inf forward; d/dx log = 1/x = inf at 0: LogBackward0 is the first bad gradient,
    # and the later mul (which only passes it on) must not be blamed.
    x = mg.tensor([0.0, 1.0], requires_grad=True)
    w = mg.tensor([1.0, 1.0], requires_grad=True)
    with mg.autograd.detect_anomaly():
        with np.errstate(all="ignore"):
            h = x.log()  # MARK-log
            y = (h.exp() * w).sum()
            with pytest.raises(RuntimeError, match="LogBackward0") as info:
                y.backward()
    assert f"line {_line_of('MARK-log')}" in str(info.value)


def test_which_input_of_a_binary_op():
    a = mg.tensor([1.0], requires_grad=True)
    b = mg.tensor([0.0], requires_grad=True)
    with mg.autograd.detect_anomaly():
        with np.errstate(all="ignore"):
            q = a / b  # MARK-div
        with np.errstate(all="ignore"), pytest.raises(RuntimeError) as info:
            q.sum().backward()
    message = str(info.value)
    assert "DivBackward0" in message and "input 'a'" in message  # g / b is the first bad grad
    assert f"line {_line_of('MARK-div')}" in message


def test_off_by_default_and_restored():
    x = mg.tensor([0.0], requires_grad=True)
    with np.errstate(all="ignore"):
        x.sqrt().sum().backward()  # no anomaly mode: inf gradient, no error
    assert np.isinf(x.grad.numpy()).all()
    assert x.sqrt().grad_fn.where is None
    with mg.autograd.detect_anomaly():
        assert x.sqrt().grad_fn.where is not None
        with mg.autograd.detect_anomaly(check_nan=False):
            pass
        assert mg.autograd.mode.anomaly
    assert not mg.autograd.mode.anomaly


def test_finite_gradients_pass_and_match():
    x = mg.tensor([1.0, 4.0], requires_grad=True)
    with mg.autograd.detect_anomaly():
        x.sqrt().sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.5, 0.25])


def test_a_custom_function_returning_nan_is_named():
    class NanBackward(mg.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            return grad * float("nan")

    x = mg.tensor([1.0, 2.0], requires_grad=True)
    with mg.autograd.detect_anomaly():
        y = NanBackward.apply(x)
        with pytest.raises(RuntimeError, match=r"Function 'NanBackwardBackward' returned nan"):
            y.sum().backward()

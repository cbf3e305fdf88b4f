"""torch's side namespaces: backends, amp/autocast/GradScaler, compile, onnx, nn.modules paths,
autograd.gradcheck, testing.assert_close, bfloat16."""

import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

import minigrad as mg


def test_backends_flags_are_settable():
    mg.backends.cuda.matmul.allow_tf32 = True
    mg.backends.cudnn.allow_tf32 = True
    mg.backends.cudnn.benchmark = True
    mg.backends.cudnn.deterministic = True
    assert mg.backends.mps.is_available() is False
    assert mg.backends.cuda.is_built() == mg.cuda.is_available()


def test_nn_modules_paths_resolve_lazily():
    from minigrad.nn.modules.container import Sequential
    from minigrad.nn.modules.conv import Conv2d
    from minigrad.nn.modules.linear import Linear
    from minigrad.nn.modules.loss import CrossEntropyLoss
    from minigrad.nn.modules.module import Module

    assert (Linear, Conv2d, CrossEntropyLoss, Module, Sequential) == (
        mg.nn.Linear, mg.nn.Conv2d, mg.nn.CrossEntropyLoss, mg.nn.Module, mg.nn.Sequential
    )  # fmt: skip
    with pytest.raises(ImportError):
        from minigrad.nn.modules.linear import NoSuchLayer  # noqa: F401


def test_compile_returns_its_argument_and_notes_once():
    model = mg.nn.Linear(2, 2)
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        assert mg.compile(model) is model

        @mg.compile
        def f(x):
            return x + 1

        @mg.compile(mode="max-autotune")
        def g(x):
            return x * 2

    assert f(mg.ones(1)).item() == 2 and g(mg.ones(1)).item() == 2


def test_onnx_export_refuses_clearly():
    with pytest.raises(NotImplementedError, match="ONNX"):
        mg.onnx.export(mg.nn.Linear(1, 1), mg.ones(1, 1), "m.onnx")


def test_bfloat16_is_a_clear_error():
    with pytest.raises(TypeError, match="bfloat16"):
        mg.bfloat16  # noqa: B018


def test_autocast_is_a_checked_no_op_and_a_decorator():
    x = mg.ones(2, 2)
    with mg.autocast("cpu", dtype=mg.float16):
        assert (x @ x).dtype == mg.float32
    with mg.amp.autocast(device_type="cuda", enabled=False):
        pass

    @mg.autocast("cpu")
    def f(t):
        return t * 2

    assert f(x).dtype == mg.float32
    with pytest.raises(RuntimeError, match="unsupported autocast"):
        mg.autocast("tpu")


def _fit_step(framework, scaler_cls, enabled, poison=False):
    framework.manual_seed(0)
    w = framework.nn.Parameter(framework.tensor([1.0, -2.0]))
    opt = framework.optim.SGD([w], lr=0.1)
    scaler = scaler_cls("cpu", init_scale=8.0, growth_interval=1, enabled=enabled)
    loss = (w * w).sum() * (float("inf") if poison else 1.0)
    scaled = scaler.scale(loss)
    scaled.backward()
    scaler.step(opt)
    scaler.update()
    return w.detach().numpy().copy(), scaler.get_scale(), scaled.item()


@pytest.mark.parametrize("enabled", [False, True])
@pytest.mark.parametrize("poison", [False, True])
def test_grad_scaler_matches_torch(enabled, poison):
    ours = _fit_step(mg, mg.amp.GradScaler, enabled, poison)
    theirs = _fit_step(torch, torch.amp.GradScaler, enabled, poison)
    np.testing.assert_allclose(ours[0], theirs[0])
    assert ours[1:] == theirs[1:]
    assert mg.cuda.amp.GradScaler is mg.amp.GradScaler
    s = mg.amp.GradScaler(enabled=False)
    assert s.state_dict() == {} and s.scale(3.0) == 3.0


def test_gradcheck_under_autograd_and_assert_close():
    x = mg.randn(3, dtype=mg.float64, requires_grad=True)
    assert mg.autograd.gradcheck(lambda t: (t * t).sum(), (x,))
    assert mg.autograd.gradgradcheck(lambda t: (t * t * t).sum(), (x,))
    mg.testing.assert_close(mg.ones(3), mg.ones(3) + 1e-7)
    with pytest.raises(AssertionError, match="Tensor-likes are not close") as err:
        mg.testing.assert_close(mg.tensor([1.0, 2.0]), mg.tensor([1.0, 2.1]))
    with pytest.raises(AssertionError) as theirs:
        torch.testing.assert_close(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.1]))
    assert str(err.value).splitlines()[:3] == str(theirs.value).splitlines()[:3]
    with pytest.raises(AssertionError, match="dtype"):
        mg.testing.assert_close(mg.ones(2), mg.ones(2, dtype=mg.float64))


def test_testing_and_utils_data_after_bare_import():
    code = "import minigrad; minigrad.testing.assert_close(1.0, 1.0); minigrad.backends.cudnn"
    subprocess.run([sys.executable, "-c", code], check=True)

"""Pytest plugin: run the suite on the device named by MINIGRAD_TEST_DEVICE.

    MINIGRAD_TEST_DEVICE=cpu    (default) NumPy
    MINIGRAD_TEST_DEVICE=guard  the strict CPU stand-in for CuPy (minigrad/guard.py): catches
                                NumPy-only code without a GPU
    MINIGRAD_TEST_DEVICE=cuda   CuPy on an NVIDIA GPU; without one every test is skipped, with
                                the reason

The device becomes minigrad's default device (`mg.set_default_device`) for the whole session, so
tests that build tensors with factory functions run on it unchanged. Tests that are inherently
host-only (they check NumPy interop, `from_numpy` memory sharing, ...) carry
`@pytest.mark.cpu_only("why")` and are skipped on other devices with that reason. Tests marked
`@pytest.mark.gpu` need CuPy and a GPU whatever the setting, and are skipped without them.

Reading results: on a device, `Tensor.numpy()` raises (as PyTorch's does for CUDA tensors). Test
*files* compare results on the host with `.numpy()` all the time, so on a non-cpu device the
plugin lets `.numpy()` copy to the host when, and only when, it is called directly from a file
under tests/ (other than the device tests, which check the error). Library code calling
`.numpy()` on a device tensor still fails, which is what the device run is for.
"""

from __future__ import annotations

import os
import sys

import pytest

import minigrad as mg

GPU_REASON = "CuPy and an NVIDIA GPU are required"


def test_device_name() -> str:
    name = os.environ.get("MINIGRAD_TEST_DEVICE", "cpu").strip() or "cpu"
    if name not in ("cpu", "guard", "cuda") and mg.device(name).type not in (
        "cpu",
        "guard",
        "cuda",
    ):
        raise pytest.UsageError(f"MINIGRAD_TEST_DEVICE={name!r}: expected cpu, guard or cuda")
    return name


test_device_name.__test__ = False  # not a test, despite its name

_state: dict = {"device": "cpu", "skip_all": None}


def pytest_configure(config) -> None:
    config.addinivalue_line(
        "markers", "cpu_only(reason): host-only test, skipped when MINIGRAD_TEST_DEVICE is not cpu"
    )
    config.addinivalue_line("markers", "gpu: needs CuPy and an NVIDIA GPU")
    name = test_device_name()
    _state["device"] = name
    if mg.device(name).type == "cuda" and not mg.cuda.is_available():
        _state["skip_all"] = f"{GPU_REASON} (MINIGRAD_TEST_DEVICE={name})"
        return
    mg.set_default_device(name)
    if mg.device(name).type != "cpu":
        _allow_host_reads_from_tests()


_TESTS_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_STRICT_FILES = {
    os.path.join(_TESTS_DIR, f) for f in ("test_devices.py", "test_guard.py", "test_backend.py")
}


def _allow_host_reads_from_tests() -> None:
    """`.numpy()` on a device tensor copies to the host when a test file calls it (see above)."""
    original = mg.Tensor.numpy
    if getattr(original, "_host_reads", False):
        return

    def numpy(self, *, force: bool = False):
        caller = sys._getframe(1).f_code.co_filename
        if not force and caller.startswith(_TESTS_DIR) and caller not in _STRICT_FILES:
            if self.requires_grad:
                return original(self)  # PyTorch's error: detach() first
            return original(self, force=True)
        return original(self, force=force)

    numpy._host_reads = True
    numpy.__doc__ = original.__doc__
    mg.Tensor.numpy = numpy


def pytest_report_header(config) -> str:
    return f"minigrad test device: {_state['device']}"


def pytest_collection_modifyitems(config, items) -> None:
    skip_all = _state["skip_all"]
    on_host = mg.device(_state["device"]).type == "cpu"
    have_gpu = None
    for item in items:
        if skip_all is not None:
            item.add_marker(pytest.mark.skip(reason=skip_all))
            continue
        marker = item.get_closest_marker("cpu_only")
        if marker is not None and not on_host:
            why = marker.args[0] if marker.args else marker.kwargs.get("reason", "host-only")
            item.add_marker(pytest.mark.skip(reason=f"host-only on {_state['device']}: {why}"))
        if item.get_closest_marker("gpu") is not None:
            if have_gpu is None:
                have_gpu = mg.cuda.is_available()
            if not have_gpu:
                item.add_marker(pytest.mark.skip(reason=GPU_REASON))


@pytest.fixture
def test_device() -> mg.device:
    """The device this session tests (also minigrad's default device)."""
    return mg.device(_state["device"]) if _state["skip_all"] is None else mg.device("cpu")


@pytest.fixture(autouse=True)
def _restore_default_device():
    """A test that changes the default device must not leak it into the next test."""
    before = mg.get_default_device()
    yield
    if mg.get_default_device() != before:
        mg.set_default_device(before)

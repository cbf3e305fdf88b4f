"""Shared test configuration: Hypothesis profiles and common fixtures.

Profiles (choose with the HYPOTHESIS_PROFILE environment variable):
  ci        default; 25 examples, derandomized so every run draws the same cases
  dev       10 examples, for a quick edit-test loop
  thorough  500 examples, for hunting bugs before a release
"""

import os
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

pytest_plugins = ["tests._backend_plugin"]

_COMMON = dict(
    deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
settings.register_profile("ci", max_examples=25, derandomize=True, print_blob=True, **_COMMON)
settings.register_profile("dev", max_examples=10, **_COMMON)
settings.register_profile("thorough", max_examples=500, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def rng() -> np.random.Generator:
    """A NumPy generator with a fixed seed, fresh for each test."""
    return np.random.default_rng(0)


@pytest.fixture(autouse=True)
def _seeded_default_generators():
    """Each test starts from the same random state (an unseeded process, like PyTorch's, seeds
    itself from entropy), so its draws do not depend on the tests run before it."""
    import minigrad

    minigrad.manual_seed(0)


@pytest.fixture(autouse=True)
def _no_leaked_torch_function_mode():
    """A test must not leave a torch function mode on (torch.set_default_device installs one):
    the tests after it would then run torch's slow or fallback paths and compare against those."""
    yield
    torch = sys.modules.get("torch")
    if torch is None:
        return
    from torch.overrides import _get_current_function_mode_stack

    if _get_current_function_mode_stack():
        torch.set_default_device(None)
        pytest.fail("the test left a torch function mode on (torch.set_default_device?)")

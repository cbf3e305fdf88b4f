"""The float32 referee of the runner: torch in float64 decides who rounded."""

import numpy as np
import pytest

from tests.differential.opinfo import Entry, Sample, T, _judge_in_float64, is_torch, run_one

REF = np.array([0.0316732, -1.2781276, 4.0])


def test_a_difference_within_torchs_own_float32_noise_passes():
    torch_f32 = REF + np.array([3e-5, 0.0, 0.0])  # torch's worst element is 3e-5 off
    _judge_in_float64([("output", REF + 2e-5, torch_f32)], {"output": REF})


def test_torchs_math_attention_path_is_a_second_float32_answer():
    torch_default = REF + np.array([1e-5, 0.0, 0.0])
    torch_math = REF + np.array([0.0, 0.0, 3e-5])  # its worst element is 3e-5 off
    minigrad = REF + np.array([0.0, 4e-5, 0.0])
    _judge_in_float64(
        [("output", minigrad, torch_default)], {"output": REF}, {"output": torch_math}
    )
    with pytest.raises(AssertionError, match="beyond torch's own rounding"):
        _judge_in_float64([("output", minigrad, torch_default)], {"output": REF})


def test_a_difference_beyond_torchs_noise_fails_and_names_the_tensor():
    with pytest.raises(AssertionError, match="gradient of input 0: 1 of 3 float32 values"):
        _judge_in_float64(
            [("gradient of input 0", REF * np.array([1.02, 1, 1]), REF)],
            {"gradient of input 0": REF},
        )
    with pytest.raises(AssertionError, match="torch in float64 none"):  # no reference
        _judge_in_float64([("output", REF + 1, REF)], {})


def test_the_runner_still_reports_a_wrong_float32_value():
    def op(lib, x):
        return x * 3 if is_torch(lib) else x * 3.0001  # 3e-5 relative: no rounding noise

    entry = Entry("times3", (), op, None, ("float32",))
    sample = Sample(T(np.array([1.5, -2.25, 4.0], np.float32)))
    with pytest.raises(AssertionError, match="beyond torch's own rounding"):
        run_one(entry, sample, weight_seed=0)

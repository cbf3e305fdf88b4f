"""The differential entries that fail today, each with the disagreement it found.

test_differential.py runs these as `xfail(strict=True)`: an entry that starts passing (its bug
fixed) fails the suite until it is removed from here. Keys are entry names (`Entry.name`).
Each reason names the smallest input the runner found and what differs.
"""

KNOWN_FAILURES: dict[str, str] = {
    # elementwise
    "Tensor.__mod__": "5 % inf: minigrad's a - floor(a/b) * b is NaN, torch (fmod, then add b "
    "where the signs differ) gives 5, and inf for -3 % inf",
    "Tensor.__rpow__": "-3e-215 ** x: the exponent's gradient; torch takes the log of the "
    "Python scalar in double (NaN), minigrad of the scalar rounded to float32 (-0: -inf)",
    "Tensor.__itruediv__": "x /= y with y = -2.2e-308 (float64 subnormal-adjacent) or -inf: "
    "the divisor's gradient is NaN in minigrad, 0 in torch",
    # indexing and linalg
    "inner": "inner of [1, 3, 1] and [3, 1] holding -inf and -2.2e-308 in float64: one "
    "gradient entry of the second input is NaN in minigrad, 0 in torch (not yet diagnosed)",
    # nn
    "nn.BCELoss": "binary_cross_entropy(0, 0): the input's gradient at the log clamp (-100); "
    "minigrad NaN, torch 0",
    "nn.functional.binary_cross_entropy": "as nn.BCELoss: input 0, target 0",
    "nn.HuberLoss": "huber_loss with an infinite difference (-inf - -7.8): minigrad's gradient "
    "NaN, torch -delta (its linear branch does not multiply the other branch's inf by 0)",
    "nn.SmoothL1Loss": "as nn.HuberLoss: smooth_l1_loss(0, inf) gradient NaN, torch -1",
    "nn.functional.smooth_l1_loss": "as nn.HuberLoss: a target of -inf",
    "nn.KLDivLoss": "kl_div(0, target 0): the target's gradient; torch NaN (log 0 in "
    "xlogy's derivative), minigrad 0",
    "nn.functional.kl_div": "as nn.KLDivLoss",
    # sort/scatter/index ops (table_sortscatter)
    "Tensor.index_put": "index_put((tensor([0, 6, 1]),), values) on a [3, 0] tensor: torch "
    "returns the empty tensor (its kernel checks bounds per written element, and none is), "
    "minigrad's split_index raises IndexError for 6; getitem shares the rule",
}

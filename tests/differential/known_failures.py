"""The differential entries that fail today, each with the disagreement it found.

test_differential.py runs these as `xfail(strict=True)`: an entry that starts passing (its bug
fixed) fails the suite until it is removed from here. Keys are entry names (`Entry.name`).
Each reason names the smallest input the runner found and what differs.
"""

KNOWN_FAILURES: dict[str, str] = {
    # elementwise
    "Tensor.__rpow__": "-3e-215 ** x: the exponent's gradient; torch takes the log of the "
    "Python scalar in double (NaN), minigrad of the scalar rounded to float32 (-0: -inf)",
    "Tensor.__itruediv__": "x /= y with y = -2.2e-308 (float64 subnormal-adjacent) or -inf: "
    "the divisor's gradient is NaN in minigrad, 0 in torch",
    # indexing and linalg
    "inner": "inner of [1, 3, 1] and [3, 1] holding -inf and -2.2e-308 in float64: one "
    "gradient entry of the second input is NaN in minigrad, 0 in torch (not yet diagnosed)",
    # sort/scatter/index ops (table_sortscatter)
    "Tensor.index_put": "index_put((tensor([0, 6, 1]),), values) on a [3, 0] tensor: torch "
    "returns the empty tensor (its kernel checks bounds per written element, and none is), "
    "minigrad's split_index raises IndexError for 6; getitem shares the rule",
}

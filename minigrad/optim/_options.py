"""The execution options torch's optimizers take besides the algorithm's own (`foreach`,
`capturable`, `differentiable`): accepted with torch's defaults and kept in the param groups,
as torch keeps them, so signatures and state_dicts match."""

from __future__ import annotations

from typing import Any


def execution_options(
    name: str, foreach: bool | None, capturable: bool, differentiable: bool
) -> dict[str, Any]:
    """`foreach` (torch's multi-tensor kernels) and `capturable` (CUDA-graph capture) change
    how torch runs a step, not its result: accepted and ignored here. `differentiable=True`
    (a step recorded by autograd) is refused: minigrad's steps update the arrays in place."""
    if differentiable:
        raise NotImplementedError(
            f"{name}(differentiable=True) is not supported: minigrad optimizers update the "
            "parameters in place, outside autograd"
        )
    return {"foreach": foreach, "capturable": capturable, "differentiable": differentiable}


def torch_options(name: str, **options) -> dict[str, Any]:
    """The execution options of one optimizer (each takes its own subset of `foreach`,
    `capturable`, `differentiable`, `fused`), checked as `execution_options` does; `fused`
    (torch's fused kernels) changes how torch runs a step, not its result: ignored too."""
    if options.get("differentiable"):
        execution_options(name, None, False, True)  # raises
    return options


def check_betas(betas) -> None:
    if len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    for i, b in enumerate(betas):
        if not 0.0 <= float(b) < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {b}")

"""Optimizer state follows its parameters: after `module.to(device)` the next `step()` moves the
state tensors to the parameters' new device (guard:0, guard:1 and back to cpu), and training goes
on with exactly the numbers it would have given on the CPU throughout."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim

CASES = [
    (optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True)),
    (optim.Adam, dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    (optim.AdamW, dict(lr=0.01)),
    (optim.RMSprop, dict(lr=0.01, centered=True, momentum=0.5)),
    (optim.Adagrad, dict(lr=0.1, lr_decay=0.01)),
]


def _train(model: nn.Module, opt: optim.Optimizer, x: mg.Tensor, steps: int) -> None:
    device = next(model.parameters()).device
    for _ in range(steps):
        opt.zero_grad()
        model(x.to(device)).tanh().sum().backward()
        opt.step()


@pytest.mark.parametrize("cls,kwargs", CASES, ids=[c.__name__ for c, _ in CASES])
def test_state_follows_module_to_device(cls, kwargs):
    mg.manual_seed(0)
    moved = nn.Linear(3, 2, device="cpu", dtype=mg.float64)
    reference = nn.Linear(3, 2, device="cpu", dtype=mg.float64)
    reference.load_state_dict(moved.state_dict())
    x = mg.randn(4, 3, dtype=mg.float64, device="cpu")
    opt, ref_opt = cls(moved.parameters(), **kwargs), cls(reference.parameters(), **kwargs)
    for device in ["guard:0", "guard:1", "cpu"]:
        _train(moved, opt, x, 2)
        _train(reference, ref_opt, x, 2)
        moved.to(device)
        _train(moved, opt, x, 1)  # the step after the move moves the state
        _train(reference, ref_opt, x, 1)
        for p in moved.parameters():
            assert p.device == mg.device(device)
            for name, value in opt.state[p].items():
                if isinstance(value, mg.Tensor):
                    assert value.device == p.device, f"state {name!r} on {value.device}"
                    assert value.dtype == p.dtype
    for p, q in zip(moved.parameters(), reference.parameters()):
        np.testing.assert_array_equal(p.detach().cpu().numpy(), q.detach().cpu().numpy())

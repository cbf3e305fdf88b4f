"""Optimizers, their state dicts, mg.save/mg.load and the DataLoader on a non-NumPy backend:
the guard device (a strict CuPy stand-in) must give the CPU's numbers, with state on the device."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim
from minigrad.data import DataLoader, TensorDataset
from minigrad.serialization import load, save


@pytest.fixture(scope="module")
def device():
    return "guard"  # the CPU stand-in for CuPy: always available


CASES = [
    (optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1)),
    (optim.SGD, dict(lr=0.1, momentum=0.9, dampening=0.5, maximize=True)),
    (optim.Adam, dict(lr=0.01, amsgrad=True, weight_decay=0.1, maximize=True)),
    (optim.AdamW, dict(lr=0.01)),
    (optim.RMSprop, dict(lr=0.01, centered=True, momentum=0.5, weight_decay=0.1)),
    (optim.Adagrad, dict(lr=0.1, weight_decay=0.1, lr_decay=0.01)),
]


@pytest.mark.parametrize(
    "cls,kwargs", CASES, ids=[f"{c.__name__}-{i}" for i, (c, _) in enumerate(CASES)]
)
def test_device_matches_cpu_and_state_stays_on_device(device, cls, kwargs, tmp_path):
    rng = np.random.default_rng(0)
    init = rng.standard_normal((3, 4)).astype(np.float32)
    grads = [rng.standard_normal((3, 4)).astype(np.float32) for _ in range(4)]
    results = {}
    for dev in ("cpu", device):
        p = mg.tensor(init, device=dev, requires_grad=True)
        opt = cls([p], **kwargs)
        for g in grads:
            p.grad = mg.tensor(g, device=dev)
            opt.step()
        results[dev] = p.detach().cpu().numpy()
        assert p.device == mg.device(dev) if dev == "cpu" else p.device.type == dev
        for value in opt.state[p].values():
            if isinstance(value, mg.Tensor):
                assert value.device == p.device and value.dtype == mg.float32
    np.testing.assert_array_equal(results["cpu"], results[device])

    # checkpoint from the device, resume on the device
    save(opt.state_dict(), tmp_path / "opt.st")
    q = mg.tensor(results[device], device=device, requires_grad=True)
    opt2 = cls([q], **kwargs)
    opt2.load_state_dict(load(tmp_path / "opt.st", map_location=device))
    for value in opt2.state[q].values():
        if isinstance(value, mg.Tensor):
            assert value.device == q.device
    q.grad = mg.tensor(grads[0], device=device)
    p.grad = mg.tensor(grads[0], device=device)
    opt2.step()
    opt.step()
    np.testing.assert_array_equal(q.detach().cpu().numpy(), p.detach().cpu().numpy())


def test_loading_cpu_state_into_device_optimizer(device):
    p = mg.ones(3, requires_grad=True)
    opt = optim.Adam([p])
    p.grad = mg.ones(3)
    opt.step()
    q = mg.ones(3, device=device, requires_grad=True)
    opt2 = optim.Adam([q])
    opt2.load_state_dict(opt.state_dict())  # state moves to the parameter's device
    assert opt2.state[q]["exp_avg"].device == q.device
    q.grad = mg.ones(3, device=device)
    opt2.step()


def test_dataloader_on_device(device):
    x = mg.randn(10, 3, device=device)
    y = mg.arange(10, device=device)
    batches = list(
        DataLoader(
            TensorDataset(x, y), batch_size=4, shuffle=True, generator=mg.Generator().manual_seed(0)
        )
    )
    assert all(xb.device == x.device and yb.device == y.device for xb, yb in batches)
    labels = sorted(v for _, yb in batches for v in yb.tolist())
    assert labels == list(range(10))

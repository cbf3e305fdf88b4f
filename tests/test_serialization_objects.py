"""Whole-object checkpoints with torch >= 2.6's allowlist, and atomic, collision-free saving."""

import io
import os
import pickle
import threading

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.serialization import (
    add_safe_globals,
    clear_safe_globals,
    get_safe_globals,
    safe_globals,
)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
        self.scale = 0.5
        self.register_buffer("offset", mg.ones(2))

    def forward(self, x):
        return self.body(x) * self.scale + self.offset


@pytest.fixture(autouse=True)
def _empty_allowlist():
    clear_safe_globals()
    yield
    clear_safe_globals()


def _whole_model_bytes(model) -> io.BytesIO:
    buf = io.BytesIO()
    mg.save(model, buf)
    buf.seek(0)
    return buf


def test_whole_module_round_trips_with_allowlisted_classes():
    model = Net()
    x = mg.randn(5, 3)
    buf = _whole_model_bytes(model)
    classes = [Net, nn.Sequential, nn.Linear, nn.ReLU]
    with safe_globals(classes):
        assert set(classes) <= set(get_safe_globals())
        loaded = mg.load(buf)
    assert get_safe_globals() == []  # the context restored the list
    assert type(loaded) is Net and isinstance(loaded.body[0].weight, nn.Parameter)
    np.testing.assert_array_equal(loaded(x).detach().numpy(), model(x).detach().numpy())
    assert loaded.scale == 0.5 and list(loaded.state_dict()) == list(model.state_dict())
    loaded(x).sum().backward()  # parameters require grad again
    assert loaded.body[0].weight.grad is not None


def test_default_weights_only_refuses_unlisted_classes_with_torchs_advice():
    buf = _whole_model_bytes(Net())
    with pytest.raises(pickle.UnpicklingError, match="Unsupported global") as err:
        mg.load(buf)
    assert "add_safe_globals" in str(err.value) and "Net" in str(err.value)
    buf.seek(0)
    add_safe_globals([Net])
    with pytest.raises(pickle.UnpicklingError, match="Sequential"):
        mg.load(buf)  # the next class down is refused too


def test_weights_only_false_rebuilds_imported_classes_without_running_their_code():
    calls = []

    class Probe:
        def __init__(self):
            calls.append("init")

        def __setstate__(self, state):  # never called by mg.load
            calls.append("setstate")

    model = Net()
    buf = _whole_model_bytes(model)
    loaded = mg.load(buf, weights_only=False)
    assert type(loaded) is Net and not calls
    # classes defined inside a function cannot be found by name again: refused at save time
    with pytest.raises(TypeError, match="cannot store"):
        mg.save(Probe(), io.BytesIO())


def test_plain_structures_and_optimizer_state_load_under_weights_only():
    model = Net()
    opt = mg.optim.Adam(model.parameters(), lr=1e-3)
    model(mg.randn(2, 3)).sum().backward()
    opt.step()
    checkpoint = {
        "epoch": 3, "loss": 0.25, "name": "run", "none": None, "flags": (True, False),
        "model": model.state_dict(), "optim": opt.state_dict(), "dtype": mg.float32,
        "tags": {"a", "b"},
    }  # fmt: skip
    buf = io.BytesIO()
    mg.save(checkpoint, buf)
    buf.seek(0)
    back = mg.load(buf, map_location="cpu", weights_only=True)
    assert back["epoch"] == 3 and back["flags"] == (True, False) and back["tags"] == {"a", "b"}
    assert back["dtype"] == mg.float32
    opt2 = mg.optim.Adam(Net().parameters(), lr=1e-3)
    opt2.load_state_dict(back["optim"])


def test_functions_cannot_be_saved():
    model = Net()
    model.register_forward_hook(lambda m, i, o: o)
    with pytest.raises(TypeError, match="cannot store"):
        mg.save(model, io.BytesIO())


def test_concurrent_saves_to_one_path_do_not_collide(tmp_path):
    path = tmp_path / "ckpt.st"
    errors = []

    def worker(k):
        try:
            for i in range(8):
                mg.save({"w": mg.full((64,), float(k * 100 + i))}, path)
        except Exception as e:  # noqa: BLE001 - collected for the assertion
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    w = mg.load(path)["w"].numpy()
    assert (w == w[0]).all()  # one whole save won
    assert os.listdir(tmp_path) == ["ckpt.st"]  # no temporary files left


def test_failed_save_leaves_no_temporary_file_and_keeps_the_old_one(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.st"
    mg.save({"w": mg.ones(3)}, path)

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        mg.save({"w": mg.zeros(3)}, path)
    monkeypatch.undo()
    assert os.listdir(tmp_path) == ["ckpt.st"]
    assert mg.load(path)["w"].tolist() == [1.0, 1.0, 1.0]


def test_save_fsyncs_the_file_and_its_directory(tmp_path, monkeypatch):
    synced = []
    real = os.fsync

    def spy(fd):
        synced.append(os.path.isdir(f"/proc/self/fd/{fd}") if os.path.exists("/proc") else None)
        real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    mg.save({"w": mg.ones(2)}, tmp_path / "a.st")
    assert len(synced) == 2  # the temporary file before the rename, the directory after it
    if synced[0] is not None:
        assert synced == [False, True]

"""mg.save / mg.load: safetensors files, round trips (modules, optimizers: training resumes
bit-for-bit), files written by torch, corrupt files, and loading never running code."""

import io
import json
import os
import pickle

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim
from minigrad.serialization import ORDER_KEY, STRUCTURE_KEY, load, save

st = pytest.importorskip("safetensors.numpy")


def _nn():
    import minigrad.nn as nn

    return nn


def test_flat_state_dict_round_trip_keeps_dtypes_order_and_values(tmp_path):
    sd = {
        "w": mg.randn(3, 4),
        "b": mg.tensor([1.0, 2.0], dtype=mg.float64),
        "steps": mg.tensor(7),
        "mask": mg.tensor([True, False]),
        "half": mg.ones(2, dtype=mg.float16),
        "scalar": mg.tensor(2.5),
    }
    path = tmp_path / "m.safetensors"
    save(sd, path)
    out = load(path)
    assert list(out) == list(sd)
    for k in sd:
        assert out[k].dtype == sd[k].dtype and out[k].shape == sd[k].shape
        np.testing.assert_array_equal(out[k].numpy(), sd[k].numpy())
    # written as plain safetensors: readable by the reference reader with the same keys
    raw = st.load_file(str(path))
    assert set(raw) == set(sd)


def test_flat_file_is_plain_safetensors_for_torch(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file

    sd = {"0.weight": mg.randn(2, 3), "0.bias": mg.randn(2)}
    save(sd, tmp_path / "m.safetensors")
    theirs = load_file(str(tmp_path / "m.safetensors"))
    for k, v in sd.items():
        assert theirs[k].dtype == torch.float32
        np.testing.assert_array_equal(theirs[k].numpy(), v.numpy())


def test_nested_structures_restore_exactly(tmp_path):
    obj = {
        "ints": [1, -2, 10**30],
        "floats": (0.1, float("inf"), -0.0, 1e-300),
        "flags": [True, False, None],
        "text": "héllo . dots",
        "nested": {0: {"t": mg.arange(5)}, "k.with.dots": mg.ones(2), ("a", 1): 3},
        "k": {"with": {"dots": mg.zeros(3)}},  # same dotted path as "k.with.dots" above
        "array": np.arange(4, dtype=np.int16),
        "np_scalar": np.float32(1.5),
        "grad": mg.ones(2, requires_grad=True),
    }
    save(obj, tmp_path / "x.st")
    out = load(tmp_path / "x.st")
    assert out["ints"] == [1, -2, 10**30] and all(type(i) is int for i in out["ints"])
    assert type(out["floats"]) is tuple and out["floats"][:2] == (0.1, float("inf"))
    assert str(out["floats"][2]) == "-0.0" and out["floats"][3] == 1e-300
    assert out["flags"] == [True, False, None] and type(out["flags"][0]) is bool
    assert out["text"] == "héllo . dots"
    assert set(out["nested"]) == {0, "k.with.dots", ("a", 1)}
    assert out["nested"][("a", 1)] == 3
    assert out["nested"][0]["t"].dtype == mg.int64
    np.testing.assert_array_equal(out["nested"][0]["t"].numpy(), np.arange(5))
    np.testing.assert_array_equal(out["nested"]["k.with.dots"].numpy(), np.ones(2))
    np.testing.assert_array_equal(out["k"]["with"]["dots"].numpy(), np.zeros(3))
    assert isinstance(out["array"], np.ndarray) and out["array"].dtype == np.int16
    assert type(out["np_scalar"]) is np.float32 and out["np_scalar"] == 1.5
    assert out["grad"].requires_grad and out["grad"].is_leaf
    nan = load_roundtrip({"x": float("nan")}, tmp_path)
    assert np.isnan(nan["x"])


def load_roundtrip(obj, tmp_path):
    save(obj, tmp_path / "r.st")
    return load(tmp_path / "r.st")


def test_file_objects_and_empty_dict(tmp_path):
    buf = io.BytesIO()
    save({"a": [1, 2]}, buf)
    buf.seek(0)
    assert load(buf) == {"a": [1, 2]}
    assert load_roundtrip({}, tmp_path) == {}


def test_unsupported_values_raise(tmp_path):
    with pytest.raises(TypeError, match="cannot store a object"):
        save({"x": object()}, tmp_path / "bad.st")
    with pytest.raises(TypeError, match="dict keys"):
        save({mg.ones(1): 1}, tmp_path / "bad.st")
    assert not (tmp_path / "bad.st").exists()


def test_map_location(tmp_path):
    save({"w": mg.ones(2)}, tmp_path / "m.st")
    assert load(tmp_path / "m.st", map_location="cpu")["w"].device == mg.device("cpu")
    with pytest.raises(TypeError, match="map_location"):
        load(tmp_path / "m.st", map_location=lambda s, l: s)


# --- optimizer and module round trips ---------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: optim.Adam(ps, lr=0.01, amsgrad=True),
        lambda ps: optim.SGD(
            [{"params": ps[:1]}, {"params": ps[1:], "lr": 0.02}], lr=0.05, momentum=0.9
        ),
        lambda ps: optim.RMSprop(ps, lr=0.01, centered=True, momentum=0.3),
        lambda ps: optim.Adagrad(ps, lr=0.05),
        lambda ps: optim.AdamW(ps, lr=0.01),
    ],
    ids=["Adam", "SGD", "RMSprop", "Adagrad", "AdamW"],
)
def test_model_and_optimizer_resume_bit_for_bit(tmp_path, make):
    nn = _nn()

    def build():
        mg.manual_seed(0)
        return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))

    rng = np.random.default_rng(0)
    x = mg.tensor(rng.standard_normal((16, 4)), dtype=mg.float32)
    y = mg.tensor(rng.standard_normal((16, 2)), dtype=mg.float32)

    def train(model, opt, steps):
        for _ in range(steps):
            opt.zero_grad()
            loss = ((model(x) - y) ** 2).mean()
            loss.backward()
            opt.step()

    model = build()
    opt = make(list(model.parameters()))
    train(model, opt, 5)
    save(model.state_dict(), tmp_path / "model.safetensors")
    save(opt.state_dict(), tmp_path / "optim.safetensors")
    train(model, opt, 5)

    model2 = build()
    with mg.no_grad():
        for p in model2.parameters():
            p.mul_(0.0)  # make sure the weights really come from the file
    opt2 = make(list(model2.parameters()))
    model2.load_state_dict(load(tmp_path / "model.safetensors"))
    opt2.load_state_dict(load(tmp_path / "optim.safetensors"))
    train(model2, opt2, 5)
    for a, b in zip(model.parameters(), model2.parameters()):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
        assert b.dtype == mg.float32


def test_scheduler_state_round_trips(tmp_path):
    opt = optim.SGD([mg.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=20)
    for _ in range(5):
        opt.step()
        sched.step()
    sd = sched.state_dict()
    assert load_roundtrip(sd, tmp_path) == sd
    ms = optim.lr_scheduler.MultiStepLR(opt, milestones=[2, 4, 4])
    back = load_roundtrip(ms.state_dict(), tmp_path)
    ms2 = optim.lr_scheduler.MultiStepLR(opt, milestones=[1])
    ms2.load_state_dict(back)
    assert ms2.milestones == ms.milestones


def test_torch_written_file_loads_into_minigrad_model(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file

    nn = _nn()
    torch.manual_seed(0)
    tmodel = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.ReLU(), torch.nn.Linear(7, 3))
    save_file(tmodel.state_dict(), str(tmp_path / "torch.safetensors"))
    model = nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 3))
    model.load_state_dict(load(tmp_path / "torch.safetensors"))
    x = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    ours = model(mg.tensor(x)).detach().numpy()
    theirs = tmodel(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    # and the other way round: torch reads what minigrad writes
    save(model.state_dict(), tmp_path / "mg.safetensors")
    from safetensors.torch import load_file

    tmodel2 = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.ReLU(), torch.nn.Linear(7, 3))
    tmodel2.load_state_dict(load_file(str(tmp_path / "mg.safetensors")))
    np.testing.assert_allclose(tmodel2(torch.tensor(x)).detach().numpy(), theirs, rtol=1e-6)


def test_mismatched_file_leaves_module_unchanged(tmp_path):
    nn = _nn()
    save({"weight": mg.ones(3, 3), "bias": mg.ones(3)}, tmp_path / "m.st")
    layer = nn.Linear(2, 3)
    before = {k: v.numpy().copy() for k, v in layer.state_dict().items()}
    with pytest.raises(RuntimeError, match="size mismatch for weight"):
        layer.load_state_dict(load(tmp_path / "m.st"))
    for k, v in layer.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])


# --- corrupt files and safety -------------------------------------------------------------------


def _write_raw(path, header: dict, payload: bytes = b""):
    text = json.dumps(header).encode()
    path.write_bytes(len(text).to_bytes(8, "little") + text + payload)


def test_corrupt_files_raise_clear_errors(tmp_path):
    good = tmp_path / "good.st"
    save({"state": {0: {"m": mg.ones(4)}}, "lr": 0.1}, good)
    data = good.read_bytes()

    cases = {
        "short.st": (data[:5], "not a safetensors file"),
        "truncated.st": (data[:-3], "corrupt safetensors file"),
        "header.st": (data[:8] + b"x" + data[9:], "invalid JSON"),
        "huge.st": ((10**9).to_bytes(8, "little") + data[8:], "header claims"),
        "text.st": (b"PK\x03\x04 this is a zip, not safetensors", "header claims"),
    }
    for name, (content, message) in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(ValueError, match=message) as info:
            load(path)
        assert name in str(info.value)  # the error names the file


def _structured(tmp_path, root, tensors=None, name="s.st"):
    tensors = tensors or {}
    path = tmp_path / name
    meta = {STRUCTURE_KEY: json.dumps({"version": 1, "root": root})}
    path.write_bytes(st.save({k: np.asarray(v) for k, v in tensors.items()}, metadata=meta))
    return path


def test_inconsistent_metadata_raises(tmp_path):
    missing = _structured(tmp_path, {"dict": [[{"str": "w"}, {"tensor": "w"}]]})
    with pytest.raises(ValueError, match="refers to tensor 'w', which the file does not contain"):
        load(missing)
    extra = _structured(tmp_path, {"int": "1"}, {"w": np.ones(2)}, "extra.st")
    with pytest.raises(ValueError, match="does not mention"):
        load(extra)
    for root, message in [
        ({"int": "1.5"}, "not a valid int"),
        ({"int": 1}, "stored as a string"),
        ({"eval": "1+1"}, "unknown tag 'eval'"),
        ({"list": {"a": 1}}, "JSON array"),
        ([1, 2], "expected an object"),
        ({"dict": [[{"list": []}, None]]}, "not hashable"),
    ]:
        with pytest.raises(ValueError, match=message):
            load(_structured(tmp_path, root, name="bad.st"))
    path = tmp_path / "badjson.st"
    path.write_bytes(st.save({}, metadata={STRUCTURE_KEY: "{not json"}))
    with pytest.raises(ValueError, match="not valid JSON"):
        load(path)
    path.write_bytes(st.save({"a": np.ones(1)}, metadata={ORDER_KEY: '["b"]'}))
    with pytest.raises(ValueError, match="does not list"):
        load(path)
    path.write_bytes(
        st.save({}, metadata={STRUCTURE_KEY: json.dumps({"version": 99, "root": None})})
    )
    with pytest.raises(ValueError, match="version 99"):
        load(path)


class _Boom:
    """Unpickling this would create a file: proof that loading ran code."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_loading_never_executes_code(tmp_path):
    marker = tmp_path / "pwned"
    payload = pickle.dumps(_Boom(str(marker)), protocol=0).decode("latin-1")
    # a pickle payload where the structure should be
    path = tmp_path / "pickle.st"
    path.write_bytes(st.save({}, metadata={STRUCTURE_KEY: payload}))
    with pytest.raises(ValueError):
        load(path)
    # pickle payloads and Python source as ordinary strings stay strings
    code = f"__import__('os').system('touch {marker}')"
    path = _structured(tmp_path, {"list": [{"str": payload}, {"str": code}]}, name="strings.st")
    assert load(path) == [payload, code]
    # unknown metadata keys are ignored, and a raw header with a payload in it is just data
    path = tmp_path / "raw.st"
    _write_raw(path, {"__metadata__": {"__reduce__": payload, "exec": code}})
    assert load(path) == {}
    assert not marker.exists()
    assert not os.path.exists("pwned")


def test_a_flipped_data_bit_is_caught_by_the_checksum(tmp_path):
    # safetensors has no checksum: minigrad stores one, so a corrupted value is not loaded silently
    import struct

    path = tmp_path / "w.safetensors"
    mg.save({"w": mg.arange(4, dtype=mg.float32)}, path)
    raw = bytearray(path.read_bytes())
    header_end = 8 + struct.unpack("<Q", bytes(raw[:8]))[0]
    raw[header_end + 1] ^= 0x10
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="checksum"):
        mg.load(path)

"""nn.Module: registration, iteration, modes, dtype moves, state_dict (strict errors, unchanged
on failure), hooks, containers, Parameter."""

import re
from collections import OrderedDict

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 4)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(4, 2)
        self.scale = nn.Parameter(mg.ones(1))
        self.register_buffer("steps", mg.zeros(1, dtype=mg.int64))
        self.register_buffer("cache", mg.zeros(2), persistent=False)
        self.plain = 3

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x))) * self.scale


def test_registration_and_names():
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["scale", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
    assert [n for n, _ in net.named_buffers()] == ["steps", "cache"]
    assert [n for n, _ in net.named_children()] == ["fc1", "act", "fc2"]
    assert [n for n, _ in net.named_modules()] == ["", "fc1", "act", "fc2"]
    assert len(list(net.parameters(recurse=False))) == 1
    assert net.plain == 3 and "plain" not in net._parameters
    assert list(net.state_dict()) == [
        "scale", "steps", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"
    ]  # fmt: skip
    del net.fc2
    assert "fc2" not in dict(net.named_children())
    with pytest.raises(AttributeError, match="has no attribute 'fc2'"):
        net.fc2  # noqa: B018
    with pytest.raises(TypeError, match="cannot assign"):
        net.scale = mg.ones(1)
    with pytest.raises(KeyError, match="contain"):
        net.register_buffer("a.b", mg.ones(1))


def test_shared_parameters_listed_once_and_grads_accumulate():
    a = nn.Linear(2, 2)
    net = nn.Sequential(a, nn.Tanh(), a)
    assert len(list(net.parameters())) == 2
    assert [n for n, _ in net.named_parameters()] == ["0.weight", "0.bias"]
    assert list(net.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    net(mg.randn(5, 2)).sum().backward()
    assert a.weight.grad is not None


def test_parameter_is_a_tensor():
    t = mg.randn(2, 3)
    p = nn.Parameter(t)
    assert isinstance(p, mg.Tensor) and p.requires_grad and p.is_leaf
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert nn.Parameter(t, requires_grad=False).requires_grad is False
    y = (p * 2 + mg.matmul(p, mg.ones(3, 1)).sum()).sum()
    assert type(y) is mg.Tensor
    y.backward()
    assert p.grad.shape == (2, 3)
    g = mg.autograd.grad((p**2).sum(), p)[0]
    np.testing.assert_allclose(g.numpy(), 2 * t.numpy(), rtol=1e-6)
    p.data = mg.zeros(2, 3)  # storage swap keeps the Parameter
    assert float(p.sum()) == 0


def test_train_eval_and_dropout():
    net = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5))
    assert net.training and net[1].training
    x = mg.ones(64, 4)
    net.eval()
    assert not net[1].training
    np.testing.assert_array_equal(net(x).detach().numpy(), net[0](x).detach().numpy())
    net.train()
    out = net[1](mg.ones(64, 4)).numpy()
    assert (out == 0).any() and (out == 2).any()


def test_zero_grad_apply_requires_grad():
    net = Net()
    net(mg.randn(2, 3)).sum().backward()
    net.zero_grad(set_to_none=False)
    assert all(float(p.grad.abs().sum()) == 0 for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    seen = []
    net.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Linear", "ReLU", "Linear", "Net"]
    net.requires_grad_(False)
    assert not any(p.requires_grad for p in net.parameters())


def test_to_dtype_keeps_parameter_identity():
    net = Net()
    w = net.fc1.weight
    net.double()
    assert net.fc1.weight is w and w.dtype == mg.float64
    assert net.steps.dtype == mg.int64  # integer buffers keep their dtype
    assert net.cache.dtype == mg.float64
    assert net(mg.randn(2, 3, dtype=mg.float64)).dtype == mg.float64
    net.to(mg.float32)
    assert w.dtype == mg.float32
    assert net.cpu() is net
    with pytest.raises(TypeError, match="floating point"):
        net.to(mg.int64)


def test_state_dict_round_trip_and_detached():
    a, b = Net(), Net()
    sd = a.state_dict()
    assert all(not v.requires_grad for v in sd.values())
    result = b.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == []
    x = mg.randn(3, 3)
    np.testing.assert_array_equal(a(x).detach().numpy(), b(x).detach().numpy())
    assert b.fc1.weight._data is not a.fc1.weight._data  # copied, not aliased


def test_load_state_dict_errors_by_name_and_unchanged():
    net = Net()
    before = {k: v.numpy().copy() for k, v in net.state_dict().items()}
    bad = {k: mg.zeros(*v.shape) for k, v in net.state_dict().items()}
    del bad["fc1.bias"]
    bad["extra.weight"] = mg.zeros(1)
    bad["fc2.weight"] = mg.zeros(5, 5)
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(bad)
    msg = str(info.value)
    assert "Error(s) in loading state_dict for Net" in msg
    assert 'Missing key(s) in state_dict: "fc1.bias"' in msg
    assert 'Unexpected key(s) in state_dict: "extra.weight"' in msg
    assert re.search(r"size mismatch for fc2\.weight: .*\[5, 5\].*\[2, 4\]", msg)
    for k, v in net.state_dict().items():  # nothing was written
        np.testing.assert_array_equal(v.numpy(), before[k])
    # non-strict: missing/unexpected are returned, but a shape mismatch still fails whole
    with pytest.raises(RuntimeError, match="size mismatch"):
        net.load_state_dict(bad, strict=False)
    del bad["fc2.weight"]
    result = net.load_state_dict(bad, strict=False)
    assert result.missing_keys == ["fc1.bias", "fc2.weight"]
    assert result.unexpected_keys == ["extra.weight"]
    assert float(net.fc1.weight.abs().sum()) == 0
    np.testing.assert_array_equal(net.fc1.bias.detach().numpy(), before["fc1.bias"])


def test_load_state_dict_from_torch_layout():
    torch = pytest.importorskip("torch")
    tnet = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    net.load_state_dict({k: v.detach().numpy() for k, v in tnet.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    np.testing.assert_allclose(
        net(mg.tensor(x)).detach().numpy(), tnet(torch.tensor(x)).detach().numpy(), rtol=1e-5
    )


def test_repr_matches_torch():
    torch = pytest.importorskip("torch")
    ours = nn.Sequential(
        nn.Linear(2, 3), nn.ReLU(), nn.Dropout(0.1), nn.LayerNorm(3), nn.Linear(3, 1, bias=False)
    )
    theirs = torch.nn.Sequential(
        torch.nn.Linear(2, 3),
        torch.nn.ReLU(),
        torch.nn.Dropout(0.1),
        torch.nn.LayerNorm(3),
        torch.nn.Linear(3, 1, bias=False),
    )
    assert repr(ours) == repr(theirs)
    nested = nn.ModuleDict({"enc": nn.ModuleList([nn.Embedding(10, 4, padding_idx=0)])})
    tnested = torch.nn.ModuleDict(
        {"enc": torch.nn.ModuleList([torch.nn.Embedding(10, 4, padding_idx=0)])}
    )
    assert repr(nested) == repr(tnested)
    assert repr(Net()).startswith("Net(\n  (fc1): Linear(in_features=3, out_features=4, bias=True)")


def test_containers():
    seq = nn.Sequential(OrderedDict(a=nn.Linear(2, 2), b=nn.ReLU()))
    assert isinstance(seq.a, nn.Linear) and seq[-1] is seq.b and len(seq) == 2
    assert isinstance(seq[:1], nn.Sequential) and len(seq[:1]) == 1
    seq.append(nn.Tanh())
    assert [n for n, _ in seq.named_children()] == ["a", "b", "2"]
    ml = nn.ModuleList([nn.Linear(1, 1) for _ in range(3)])
    ml.append(nn.Linear(1, 1))
    assert len(ml) == 4 and len(list(ml.parameters())) == 8
    del ml[0]
    assert [n for n, _ in ml.named_children()] == ["0", "1", "2"]
    md = nn.ModuleDict({"x": nn.Linear(1, 2)})
    md["y"] = nn.ReLU()
    assert list(md.keys()) == ["x", "y"] and "x" in md
    assert [n for n, _ in md.named_parameters()] == ["x.weight", "x.bias"]


def test_forward_hooks():
    lin = nn.Linear(2, 2)
    calls = []
    h1 = lin.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    h2 = lin.register_forward_hook(lambda m, args, out: calls.append(out.shape) or out + 1)
    out = lin(mg.randn(3, 2))
    np.testing.assert_allclose(
        out.detach().numpy(), (lin.bias.detach().numpy() + 1)[None].repeat(3, 0)
    )
    assert calls == [(3, 2)]
    h1.remove()
    h2.remove()
    x = mg.randn(3, 2)
    np.testing.assert_allclose(
        lin(x).detach().numpy(), mg.linear(x, lin.weight, lin.bias).detach().numpy()
    )


def test_global_module_hooks_see_every_call_in_order():
    from minigrad.nn.module import register_module_forward_hook, register_module_forward_pre_hook

    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
    model[0].register_forward_hook(lambda m, args, out: calls.append("own") or None)
    calls = []
    pre = register_module_forward_pre_hook(lambda m, args: calls.append(("pre", type(m).__name__)))
    post = register_module_forward_hook(
        lambda m, args, out: calls.append(("post", type(m).__name__)) or None
    )
    with pre, post:
        model(mg.ones(1, 3))
    assert calls == [
        ("pre", "Sequential"), ("pre", "Linear"), ("post", "Linear"), "own",
        ("pre", "ReLU"), ("post", "ReLU"), ("post", "Sequential"),
    ]  # fmt: skip
    calls.clear()
    model(mg.ones(1, 3))  # removed: only the module's own hook is left
    assert calls == ["own"]


def test_global_hooks_replace_args_and_output():
    from minigrad.nn.module import register_module_forward_hook, register_module_forward_pre_hook

    lin = nn.Linear(2, 2)
    with register_module_forward_pre_hook(lambda m, args: args[0] * 0):
        np.testing.assert_allclose(
            lin(mg.ones(1, 2)).detach().numpy(), lin.bias.detach()[None].numpy()
        )
    with register_module_forward_hook(lambda m, args, out: out * 0 + 7):
        assert lin(mg.ones(1, 2)).tolist() == [[7.0, 7.0]]


def test_always_call_hook_runs_when_forward_raises():
    from minigrad.nn import module as module_mod

    class Broken(nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    seen = []
    plain = module_mod.register_module_forward_hook(lambda m, a, out: seen.append("plain"))
    always = module_mod.register_module_forward_hook(
        lambda m, a, out: seen.append(("always", out)), always_call=True
    )
    with plain, always, pytest.raises(ValueError, match="boom"):
        Broken()(mg.ones(1))
    assert seen == [("always", None)]
    assert not module_mod._global_forward_hooks_always_called  # removing clears the mark too


def test_record_modules_unwinds_a_call_that_raises():
    class Broken(nn.Module):
        def forward(self, x):
            raise ValueError("boom")

    lin = nn.Linear(2, 2)
    with mg.viz.record_modules() as rec:
        with pytest.raises(ValueError):
            Broken()(mg.ones(1, 2))
        assert rec.stack == []
        y = lin(mg.ones(1, 2, requires_grad=True))
    assert rec.node_calls[y.grad_fn].type == "Linear" and rec.node_calls[y.grad_fn].depth == 0


def test_full_backward_hook_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    w = rng.standard_normal((3, 2))
    x = rng.standard_normal((4, 2))
    lin = nn.Linear(2, 3).double()
    lin.load_state_dict({"weight": w, "bias": np.zeros(3)})
    tlin = torch.nn.Linear(2, 3).double()
    tlin.load_state_dict({"weight": torch.tensor(w), "bias": torch.zeros(3, dtype=torch.float64)})
    got, tgot = [], []
    lin.register_full_backward_hook(lambda m, gi, go: got.append((gi[0].numpy(), go[0].numpy())))
    tlin.register_full_backward_hook(lambda m, gi, go: tgot.append((gi[0].numpy(), go[0].numpy())))
    xm = mg.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    (lin(xm) ** 2).sum().backward()
    (tlin(xt) ** 2).sum().backward()
    assert len(got) == 1
    np.testing.assert_allclose(got[0][0], tgot[0][0], rtol=1e-12)
    np.testing.assert_allclose(got[0][1], tgot[0][1], rtol=1e-12)
    # a hook may replace grad_input
    lin2 = nn.Linear(2, 3).double()
    lin2.register_full_backward_hook(lambda m, gi, go: (gi[0] * 0,))
    xm2 = mg.tensor(x, requires_grad=True)
    lin2(xm2).sum().backward()
    assert float(xm2.grad.abs().sum()) == 0
    assert lin2.weight.grad is not None


def test_module_errors():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(mg.ones(1))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(1)


def test_parameter_list_as_torch():
    import torch

    values = [nn.Parameter(mg.ones(2)), mg.zeros(3)]
    pl = nn.ParameterList(values)
    assert len(pl) == 2 and isinstance(pl[1], nn.Parameter) and pl[0] is values[0]
    assert [n for n, _ in pl.named_parameters()] == ["0", "1"]
    pl.append(mg.ones(1, 2))
    pl += [mg.ones(4)]
    pl[0] = mg.full((2,), 3.0)
    assert [tuple(p.shape) for p in pl] == [(2,), (3,), (1, 2), (4,)]
    assert pl[-1] is pl[3] and len(pl[1:3]) == 2
    host = nn.Module()
    host.params = pl
    assert list(host.state_dict()) == ["params.0", "params.1", "params.2", "params.3"]
    with pytest.raises(IndexError):
        pl[4]
    with pytest.raises(TypeError):
        pl.extend(mg.ones(2))
    theirs = torch.nn.ParameterList([torch.nn.Parameter(torch.ones(2)), torch.zeros(3)])
    assert [n for n, _ in theirs.named_parameters()] == ["0", "1"]
    assert (
        str(nn.ParameterList([mg.ones(2)]))
        .splitlines()[1]
        .strip()
        .startswith("(0): Parameter containing: [")
    )


def test_parameter_dict_as_torch():
    pd = nn.ParameterDict({"b": nn.Parameter(mg.ones(2)), "a": mg.zeros(3)})
    assert list(pd) == ["b", "a"] and isinstance(pd["a"], nn.Parameter)
    assert [n for n, _ in pd.named_parameters()] == ["b", "a"]
    pd["c"] = mg.ones(1)
    pd.update([("d", mg.ones(4))])
    assert "c" in pd and len(pd) == 4 and pd.get("zz") is None
    assert pd.pop("b").shape == (2,)
    assert list(pd.keys()) == ["a", "c", "d"]
    merged = pd | nn.ParameterDict({"e": mg.ones(1)})
    assert list(merged) == ["a", "c", "d", "e"] and list(pd) == ["a", "c", "d"]
    host = nn.Module()
    host.table = pd
    assert list(host.state_dict()) == ["table.a", "table.c", "table.d"]
    with pytest.raises(KeyError):
        pd["nope"]
    with pytest.raises(TypeError):
        pd[1] = mg.ones(1)
    with pytest.raises(ValueError):
        pd.update([("x",)])
    pd.clear()
    assert len(pd) == 0 and list(pd.parameters()) == []

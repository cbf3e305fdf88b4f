"""nn.RNN / LSTM / GRU and their cells (minigrad/nn/rnn.py) against PyTorch with copied weights:
outputs, final states and the gradients of inputs, initial states and every parameter, over
layers, directions, batch_first, bias, packed and unbatched input; gradchecks of the fused layer
ops; the fused ops pinned to the composed reference cells."""

import itertools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import nn
from minigrad.nn import rnn as R
from minigrad.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from minigrad.testing import gradcheck, gradgradcheck

torch = pytest.importorskip("torch")

COVERED = {"lstm_layer", "gru_layer", "rnn_layer"}

KINDS = ["LSTM", "GRU", "RNN_tanh", "RNN_relu"]


def _make(kind: str, lib, *args, **kwargs):
    if kind.startswith("RNN"):
        return lib.RNN(*args, nonlinearity=kind.split("_")[1], **kwargs)
    return getattr(lib, kind)(*args, **kwargs)


def _pair(kind, *args, **kwargs):
    """The same module in torch and minigrad (float64), minigrad loading torch's state_dict."""
    t = _make(kind, torch.nn, *args, dtype=torch.float64, **kwargs)
    m = _make(kind, nn, *args, dtype=mg.float64, **kwargs)
    m.load_state_dict({k: mg.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    return t, m


def _close(a, b, what=""):
    np.testing.assert_allclose(
        a.detach().numpy() if isinstance(a, mg.Tensor) else a,
        b.detach().numpy(),
        rtol=1e-9,
        atol=1e-11,
        err_msg=what,
    )


def _states(kind, hidden):
    return hidden if kind == "LSTM" else (hidden,)


def _loss(lib, output, hidden, weights):
    """A loss reading every output and state with distinct weights."""
    total = (output * weights[0]).sum()
    for h, w in zip(hidden, weights[1:]):
        total = total + (h * w).sum()
    return total


def _check_backward(kind, t, m, t_out, t_hidden, m_out, m_hidden, t_leaves, m_leaves, rng):
    t_states, m_states = _states(kind, t_hidden), _states(kind, m_hidden)
    shapes = [tuple(t_out.shape)] + [tuple(h.shape) for h in t_states]
    weights = [rng.standard_normal(s) for s in shapes]
    _loss(torch, t_out, t_states, [torch.tensor(w) for w in weights]).backward()
    _loss(mg, m_out, m_states, [mg.tensor(w) for w in weights]).backward()
    for k, (a, b) in enumerate(zip(m_leaves, t_leaves)):
        _close(a.grad, b.grad, f"input gradient {k}")
    for (name, p), (name2, q) in zip(t.named_parameters(), m.named_parameters()):
        assert name == name2
        _close(q.grad, p.grad, f"gradient of {name}")


@pytest.mark.parametrize(
    "kind,layers,bidirectional,batch_first,bias",
    list(itertools.product(KINDS, (1, 2), (False, True), (False, True), (True, False))),
)
def test_padded_input_matches_torch(kind, layers, bidirectional, batch_first, bias, rng):
    t, m = _pair(
        kind, 3, 4, layers, bias=bias, batch_first=batch_first, bidirectional=bidirectional
    )
    shape = (2, 5, 3) if batch_first else (5, 2, 3)
    x = rng.standard_normal(shape)
    directions = 2 if bidirectional else 1
    h0 = rng.standard_normal((layers * directions, 2, 4))
    c0 = rng.standard_normal((layers * directions, 2, 4))
    tx, th, tc = (torch.tensor(a, requires_grad=True) for a in (x, h0, c0))
    mx, mh, mc = (mg.tensor(a, requires_grad=True) for a in (x, h0, c0))
    if kind == "LSTM":
        t_out, t_hidden = t(tx, (th, tc))
        m_out, m_hidden = m(mx, (mh, mc))
        leaves = ([tx, th, tc], [mx, mh, mc])
        assert isinstance(m_hidden, tuple) and len(m_hidden) == 2
    else:
        t_out, t_hidden = t(tx, th)
        m_out, m_hidden = m(mx, mh)
        leaves = ([tx, th], [mx, mh])
    assert m_out.shape == tuple(t_out.shape) and m_out.dtype == mg.float64
    _close(m_out, t_out, "output")
    for a, b in zip(_states(kind, m_hidden), _states(kind, t_hidden)):
        _close(a, b, "final state")
    _check_backward(kind, t, m, t_out, t_hidden, m_out, m_hidden, *leaves, rng)


@pytest.mark.parametrize(
    "kind,layers,bidirectional,enforce_sorted",
    list(itertools.product(KINDS, (1, 2), (False, True), (True, False))),
)
def test_packed_input_matches_torch(kind, layers, bidirectional, enforce_sorted, rng):
    t, m = _pair(kind, 3, 4, layers, bidirectional=bidirectional)
    lengths = [5, 3, 3, 1] if enforce_sorted else [3, 5, 1, 3]
    x = rng.standard_normal((5, 4, 3))
    directions = 2 if bidirectional else 1
    h0 = rng.standard_normal((layers * directions, 4, 4))
    c0 = rng.standard_normal((layers * directions, 4, 4))
    tx, th, tc = (torch.tensor(a, requires_grad=True) for a in (x, h0, c0))
    mx, mh, mc = (mg.tensor(a, requires_grad=True) for a in (x, h0, c0))
    tp = torch.nn.utils.rnn.pack_padded_sequence(tx, lengths, enforce_sorted=enforce_sorted)
    mp = pack_padded_sequence(mx, lengths, enforce_sorted=enforce_sorted)
    t_hx, m_hx = ((th, tc), (mh, mc)) if kind == "LSTM" else (th, mh)
    t_out, t_hidden = t(tp, t_hx)
    m_out, m_hidden = m(mp, m_hx)
    assert isinstance(m_out, nn.utils.rnn.PackedSequence)
    assert m_out.batch_sizes.tolist() == t_out.batch_sizes.tolist()
    _close(m_out.data, t_out.data, "packed output")
    for a, b in zip(_states(kind, m_hidden), _states(kind, t_hidden)):
        _close(a, b, "final state")
    t_pad, t_len = torch.nn.utils.rnn.pad_packed_sequence(t_out)
    m_pad, m_len = pad_packed_sequence(m_out)
    assert m_len.tolist() == t_len.tolist()
    leaves = ([tx, th, tc], [mx, mh, mc]) if kind == "LSTM" else ([tx, th], [mx, mh])
    _check_backward(kind, t, m, t_pad, t_hidden, m_pad, m_hidden, *leaves, rng)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("with_hx", [False, True])
def test_unbatched_input_matches_torch(kind, with_hx, rng):
    t, m = _pair(kind, 3, 4, 2, bidirectional=True)
    x = rng.standard_normal((6, 3))
    h0, c0 = rng.standard_normal((4, 4)), rng.standard_normal((4, 4))
    tx, mx = torch.tensor(x, requires_grad=True), mg.tensor(x, requires_grad=True)
    if not with_hx:
        t_out, t_hidden = t(tx)
        m_out, m_hidden = m(mx)
    elif kind == "LSTM":
        t_out, t_hidden = t(tx, (torch.tensor(h0), torch.tensor(c0)))
        m_out, m_hidden = m(mx, (mg.tensor(h0), mg.tensor(c0)))
    else:
        t_out, t_hidden = t(tx, torch.tensor(h0))
        m_out, m_hidden = m(mx, mg.tensor(h0))
    assert m_out.shape == tuple(t_out.shape) == (6, 8)
    _close(m_out, t_out)
    for a, b in zip(_states(kind, m_hidden), _states(kind, t_hidden)):
        assert a.shape == tuple(b.shape) == (4, 4)
        _close(a, b)
    _check_backward(kind, t, m, t_out, t_hidden, m_out, m_hidden, [tx], [mx], rng)


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("packed", [False, True])
def test_lstm_projection_matches_torch(bidirectional, packed, rng):
    t, m = _pair("LSTM", 3, 5, 2, proj_size=2, bidirectional=bidirectional)
    assert [n for n, _ in m.named_parameters()] == [n for n, _ in t.named_parameters()]
    x = rng.standard_normal((4, 3, 3))
    tx, mx = torch.tensor(x, requires_grad=True), mg.tensor(x, requires_grad=True)
    t_in, m_in = tx, mx
    if packed:
        t_in = torch.nn.utils.rnn.pack_padded_sequence(tx, [4, 2, 1])
        m_in = pack_padded_sequence(mx, [4, 2, 1])
    t_out, t_hidden = t(t_in)
    m_out, m_hidden = m(m_in)
    if packed:
        t_out, m_out = t_out.data, m_out.data
    _close(m_out, t_out)
    assert m_hidden[0].shape == tuple(t_hidden[0].shape) and m_hidden[1].shape[-1] == 5
    for a, b in zip(m_hidden, t_hidden):
        _close(a, b)
    _check_backward("LSTM", t, m, t_out, t_hidden, m_out, m_hidden, [tx], [mx], rng)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN_tanh", "RNN_relu"])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_hx", [True, False])
@pytest.mark.parametrize("bias", [True, False])
def test_cells_match_torch(kind, batched, with_hx, bias, rng):
    name = {"LSTM": "LSTMCell", "GRU": "GRUCell"}.get(kind, "RNNCell")
    extra = {"nonlinearity": kind.split("_")[1]} if name == "RNNCell" else {}
    t = getattr(torch.nn, name)(3, 4, bias=bias, dtype=torch.float64, **extra)
    m = getattr(nn, name)(3, 4, bias=bias, dtype=mg.float64, **extra)
    m.load_state_dict({k: mg.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    shape = (2, 3) if batched else (3,)
    hshape = (2, 4) if batched else (4,)
    x, h, c = rng.standard_normal(shape), rng.standard_normal(hshape), rng.standard_normal(hshape)
    tx, th, tc = (torch.tensor(a, requires_grad=True) for a in (x, h, c))
    mx, mh, mc = (mg.tensor(a, requires_grad=True) for a in (x, h, c))
    if name == "LSTMCell":
        t_out = t(tx, (th, tc) if with_hx else None)
        m_out = m(mx, (mh, mc) if with_hx else None)
    else:
        t_out = (t(tx, th if with_hx else None),)
        m_out = (m(mx, mh if with_hx else None),)
    weights = [rng.standard_normal(tuple(o.shape)) for o in t_out]
    sum(((o * torch.tensor(w)).sum() for o, w in zip(t_out, weights))).backward()
    sum(((o * mg.tensor(w)).sum() for o, w in zip(m_out, weights))).backward()
    for a, b in zip(m_out, t_out):
        assert a.shape == tuple(b.shape)
        _close(a, b)
    leaves = [(mx, tx)] + (
        [(mh, th)] + ([(mc, tc)] if name == "LSTMCell" else []) if with_hx else []
    )
    for a, b in leaves:
        _close(a.grad, b.grad)
    for (n1, p), (n2, q) in zip(t.named_parameters(), m.named_parameters()):
        assert n1 == n2
        _close(q.grad, p.grad, n1)


def test_state_dict_from_torch_loads_and_names_match():
    t = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    m = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    assert list(m.state_dict()) == list(t.state_dict())
    for k, v in t.state_dict().items():
        assert m.state_dict()[k].shape == tuple(v.shape)
    m.load_state_dict({k: mg.tensor(v.numpy()) for k, v in t.state_dict().items()})
    np.testing.assert_array_equal(
        m.weight_hh_l1_reverse.detach().numpy(), t.weight_hh_l1_reverse.detach().numpy()
    )
    assert [[tuple(p.shape) for p in ws] for ws in m.all_weights] == [
        [tuple(p.shape) for p in ws] for ws in t.all_weights
    ]
    assert m.flatten_parameters() is None
    for bias in (True, False):
        t = torch.nn.GRU(3, 4, bias=bias)
        assert list(nn.GRU(3, 4, bias=bias).state_dict()) == list(t.state_dict())


def test_init_is_uniform_in_torchs_range():
    m = nn.LSTM(7, 16, num_layers=2)
    bound = 1 / 4
    values = np.concatenate([p.detach().numpy().ravel() for p in m.parameters()])
    assert values.min() >= -bound and values.max() <= bound
    assert values.min() < -0.9 * bound and values.max() > 0.9 * bound
    cell = nn.GRUCell(3, 25)
    assert all(np.abs(p.detach().numpy()).max() <= 0.2 for p in cell.parameters())


def test_reprs_match_torch():
    for args, kwargs in [
        ((3, 4), {}),
        ((3, 4, 2), {"bias": False, "batch_first": True, "dropout": 0.5, "bidirectional": True}),
    ]:
        for kind in ("LSTM", "GRU"):
            assert repr(getattr(nn, kind)(*args, **kwargs)) == repr(
                getattr(torch.nn, kind)(*args, **kwargs)
            )
    assert repr(nn.RNN(3, 4, nonlinearity="relu")) == repr(torch.nn.RNN(3, 4, nonlinearity="relu"))
    assert repr(nn.LSTM(3, 4, proj_size=2)) == repr(torch.nn.LSTM(3, 4, proj_size=2))
    assert repr(nn.RNN(3, 4, 2, "relu")) == repr(torch.nn.RNN(3, 4, 2, "relu"))
    for name in ("LSTMCell", "GRUCell", "RNNCell"):
        assert repr(getattr(nn, name)(3, 4, bias=False)) == repr(
            getattr(torch.nn, name)(3, 4, bias=False)
        )
    assert repr(nn.RNNCell(3, 4, nonlinearity="relu")) == repr(
        torch.nn.RNNCell(3, 4, nonlinearity="relu")
    )


@pytest.mark.parametrize(
    "kwargs,error",
    [
        ({"dropout": 1.5}, ValueError),
        ({"dropout": True}, ValueError),
        ({"num_layers": 0}, ValueError),
        ({"bias": 1}, TypeError),
        ({"batch_first": 1}, TypeError),
        ({"proj_size": -1}, ValueError),
        ({"proj_size": 4}, ValueError),
    ],
)
def test_constructor_errors_match_torch(kwargs, error):
    with pytest.raises(error) as theirs:
        torch.nn.LSTM(3, 4, **kwargs)
    with pytest.raises(error) as ours:
        nn.LSTM(3, 4, **kwargs)
    assert str(ours.value) == str(theirs.value)


def test_more_constructor_errors_match_torch():
    for make in (
        lambda lib: lib.RNN(3, 4, nonlinearity="gelu"),
        lambda lib: lib.GRU(3, 4, proj_size=2),
        lambda lib: lib.RNN(3, 4, proj_size=2),
        lambda lib: lib.LSTM(3, 0),
        lambda lib: lib.LSTM(0, 3),
        lambda lib: lib.LSTM(3.0, 3),
    ):
        with pytest.raises(Exception) as theirs:
            make(torch.nn)
        with pytest.raises(type(theirs.value)) as ours:
            make(nn)
        assert str(ours.value) == str(theirs.value)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nn.GRU(3, 4, dropout=0.2)
    assert any("num_layers greater than 1" in str(w.message) for w in caught)


def test_forward_errors_match_torch():
    t, m = torch.nn.LSTM(3, 4), nn.LSTM(3, 4)
    cases = [
        lambda lib, mod: mod(lib.zeros(2, 2, 2, 3)),
        lambda lib, mod: mod(lib.zeros(5, 2, 2)),
        lambda lib, mod: mod(lib.zeros(5, 2, 3), (lib.zeros(1, 3, 4), lib.zeros(1, 3, 4))),
        lambda lib, mod: mod(lib.zeros(5, 2, 3), (lib.zeros(2, 4), lib.zeros(2, 4))),
        lambda lib, mod: mod(lib.zeros(5, 2, 3, dtype=lib.float64)),
        lambda lib, mod: mod(lib.zeros(0, 2, 3)),
    ]
    for case in cases:
        with pytest.raises(Exception) as theirs:
            case(torch, t)
        with pytest.raises(type(theirs.value)) as ours:
            case(mg, m)
        # dtypes print as NumPy's names here ("float32" for "torch.float32")
        assert str(ours.value) == str(theirs.value).replace("torch.", "")
    g, gm = torch.nn.GRU(3, 4), nn.GRU(3, 4)
    for case in [
        lambda lib, mod: mod(lib.zeros(5, 2, 3), lib.zeros(2, 4)),
        lambda lib, mod: mod(lib.zeros(5, 3), lib.zeros(1, 1, 4)),
        lambda lib, mod: mod(lib.zeros(5, 2, 3), lib.zeros(1, 3, 4)),
    ]:
        with pytest.raises(Exception) as theirs:
            case(torch, g)
        with pytest.raises(type(theirs.value)) as ours:
            case(mg, gm)
        assert str(ours.value) == str(theirs.value)
    with pytest.raises(ValueError, match="LSTMCell: Expected input to be 1D or 2D, got 3D"):
        nn.LSTMCell(3, 4)(mg.zeros(1, 1, 3))
    with pytest.raises(ValueError, match="GRUCell: Expected hidden to be 1D or 2D, got 3D"):
        nn.GRUCell(3, 4)(mg.zeros(1, 3), mg.zeros(1, 1, 4))


def test_dropout_between_layers_train_and_eval(rng):
    m = nn.LSTM(3, 4, num_layers=3, dropout=0.5, dtype=mg.float64)
    x = mg.tensor(rng.standard_normal((6, 2, 3)))
    mg.manual_seed(0)
    a, _ = m(x)
    b, _ = m(x)
    assert a.shape == b.shape == (6, 2, 4)
    assert not np.allclose(a.detach().numpy(), b.detach().numpy())  # different masks in training
    m.eval()
    with mg.no_grad():
        c, (h, cell) = m(x)
        d, _ = m(x)
        e = plain_copy(m)(x)[0]
    np.testing.assert_array_equal(c.numpy(), d.numpy())
    assert h.shape == cell.shape == (3, 2, 4)
    np.testing.assert_allclose(e.numpy(), c.numpy())  # eval equals a dropout-free copy


def plain_copy(m):
    plain = nn.LSTM(3, 4, num_layers=3, dtype=mg.float64)
    plain.load_state_dict(m.state_dict())
    return plain


def test_truncated_bptt_idiom_detaches_state(rng):
    m = nn.LSTM(3, 4)
    x = mg.tensor(rng.standard_normal((5, 2, 3)).astype(np.float32))
    out, hidden = m(x)
    hidden = tuple(h.detach() for h in hidden)
    out2, hidden2 = m(x, hidden)
    out2.sum().backward()
    assert m.weight_ih_l0.grad is not None and not hidden[0].requires_grad
    assert out2.dtype == mg.float32 and hidden2[0].dtype == mg.float32


def test_graph_is_freed_and_second_backward_refused(rng):
    m = nn.GRU(3, 4, dtype=mg.float64)
    out, h = m(mg.tensor(rng.standard_normal((4, 2, 3))))
    loss = out.sum() + h.sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        loss.backward()


# --- the fused layer ops: gradcheck, and equal to the composed reference ----------------------


def _layer_inputs(mode, data, lengths, batch, hidden, inputs, proj, bias, draw_rng):
    steps = R._Steps(mode, lengths, reverse=data["reverse"])
    gates = {"lstm": 4, "gru": 3}.get(mode, 1)
    out_size = proj or hidden
    rows = sum(lengths)
    arrays = {
        "x": draw_rng.standard_normal((rows, inputs)),
        "h0": draw_rng.standard_normal((batch, out_size)),
        "c0": draw_rng.standard_normal((batch, hidden)),
        "w_ih": draw_rng.uniform(-0.6, 0.6, (gates * hidden, inputs)),
        "w_hh": draw_rng.uniform(-0.6, 0.6, (gates * hidden, out_size)),
        "b_ih": draw_rng.uniform(-0.6, 0.6, gates * hidden),
        "b_hh": draw_rng.uniform(-0.6, 0.6, gates * hidden),
        "w_hr": draw_rng.uniform(-0.6, 0.6, (proj, hidden)),
    }
    names = R._LSTM_NAMES if mode == "lstm" else R._OTHER_NAMES
    needs_grad = {n: not (n.startswith("b_") and not bias) for n in names}
    needs_grad["w_hr"] = proj > 0
    tensors = tuple(mg.tensor(arrays[n], requires_grad=needs_grad[n]) for n in names)
    return steps, tensors


LAYER_CASES = st.fixed_dictionaries(
    {
        "mode": st.sampled_from(["lstm", "gru", "rnn_tanh", "rnn_relu"]),
        "lengths": st.lists(st.integers(1, 3), min_size=1, max_size=3).map(
            lambda ls: sorted(ls, reverse=True)
        ),
        "reverse": st.booleans(),
        "hidden": st.integers(1, 3),
        "inputs": st.integers(1, 3),
        "proj": st.integers(0, 2),
        "bias": st.booleans(),
        "seed": st.integers(0, 2**16),
    }
)


def _batch_sizes(lengths):
    return [sum(1 for n in lengths if n > t) for t in range(max(lengths))]


@settings(max_examples=20)
@given(case=LAYER_CASES)
def test_fused_layer_ops_gradcheck(case):
    mode = case["mode"]
    proj = case["proj"] if mode == "lstm" and case["proj"] < case["hidden"] else 0
    batch_sizes = _batch_sizes(case["lengths"])
    draw = np.random.default_rng(case["seed"])
    steps, tensors = _layer_inputs(
        mode, case, batch_sizes, batch_sizes[0], case["hidden"], case["inputs"], proj,
        case["bias"], draw,
    )  # fmt: skip
    if mode == "rnn_relu":  # keep pre-activations away from relu's kink
        valid = R.reference_layer(steps, tensors)
        if np.any(np.abs(valid.detach().numpy()) < 1e-4):
            return

    gradcheck(lambda *ts: apply_flat(steps, ts), tensors)


def apply_flat(steps, inputs):
    from minigrad.autograd import apply

    op = {"lstm": R.LSTM_LAYER, "gru": R.GRU_LAYER}.get(steps.mode, R.RNN_LAYER)
    return apply(op, inputs, {"spec": steps})


@settings(max_examples=20)
@given(case=LAYER_CASES)
def test_fused_layer_ops_equal_the_composed_cells(case):
    mode = case["mode"]
    proj = case["proj"] if mode == "lstm" and case["proj"] < case["hidden"] else 0
    batch_sizes = _batch_sizes(case["lengths"])
    draw = np.random.default_rng(case["seed"])
    steps, tensors = _layer_inputs(
        mode, case, batch_sizes, batch_sizes[0], case["hidden"], case["inputs"], proj,
        case["bias"], draw,
    )  # fmt: skip
    fused = apply_flat(steps, tensors)
    plain = R.reference_layer(steps, tensors)
    np.testing.assert_allclose(
        fused.detach().numpy(), plain.detach().numpy(), rtol=1e-12, atol=1e-13
    )
    weights = mg.tensor(draw.standard_normal(fused.shape))
    wanted = [t for t in tensors if t.requires_grad]
    ours = mg.autograd.grad((fused * weights).sum(), wanted)
    theirs = mg.autograd.grad((plain * weights).sum(), wanted)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)


def test_double_backward_through_a_fused_layer(rng):
    spec = R._Steps("gru", [2, 1], reverse=False)
    x = mg.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    h0 = mg.tensor(rng.standard_normal((2, 2)), requires_grad=True)
    w_ih = mg.tensor(rng.uniform(-0.5, 0.5, (6, 2)), requires_grad=True)
    w_hh = mg.tensor(rng.uniform(-0.5, 0.5, (6, 2)), requires_grad=True)
    b = mg.tensor(rng.uniform(-0.5, 0.5, 6))
    ts = (x, h0, w_ih, w_hh, b, b)
    gradgradcheck(lambda *a: apply_flat(spec, a + (b, b)), ts[:4])

"""Devices: parsing, moving tensors/modules/optimizer state, clear errors when devices mix or CUDA
is missing, and agreement of forward and gradients between cpu and another device.

The agreement tests run on `guard` (the strict CPU stand-in for CuPy) everywhere and on `cuda`
where CuPy and a GPU are present (`@pytest.mark.gpu`; skipped otherwise).
"""

import numpy as np
import pytest

import minigrad as mg
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad import optim
from minigrad.nn.attention import scaled_dot_product_attention as sdpa
from minigrad.nn.transformer import TransformerBlock

GPU = pytest.param("cuda", marks=pytest.mark.gpu)
DEVICES = ["guard", GPU]


# --- Device ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec, kind, index, text",
    [
        ("cpu", "cpu", None, "cpu"), ("cuda", "cuda", None, "cuda"), ("cuda:1", "cuda", 1, "cuda:1"),
        ("guard:0", "guard", 0, "guard:0"),
    ],
)  # fmt: skip
def test_device_parsing(spec, kind, index, text):
    d = mg.device(spec)
    assert (d.type, d.index, str(d)) == (kind, index, text)
    assert d == spec and d == mg.device(d) and hash(d) == hash(mg.device(spec))


def test_device_repr_eq_and_errors():
    assert repr(mg.device("cuda", 0)) == "device(type='cuda', index=0)"
    assert repr(mg.device("cpu")) == "device(type='cpu')"
    assert mg.device("cuda:0") != mg.device("cuda") and mg.device("cuda:0") != "cuda:1"
    assert mg.device("cpu") != "not a device"
    for bad, err in [("tpu", "unknown device type 'tpu'"), ("cuda:x", "invalid device string"),
                     ("cpu:1", "cpu device has no index 1")]:  # fmt: skip
        with pytest.raises(ValueError, match=err):
            mg.device(bad)
    with pytest.raises(ValueError, match="already names an index"):
        mg.device("cuda:0", 1)
    with pytest.raises(TypeError, match="device must be a string"):
        mg.device(3)


# --- moving and mixing -------------------------------------------------------------------------


@pytest.mark.skipif(mg.cuda.is_available(), reason="checks the errors without CUDA")
def test_cuda_moves_fail_clearly_without_cuda():
    x = mg.ones(2, device="cpu")
    for move in (lambda: x.cuda(), lambda: x.to("cuda:0"), lambda: mg.zeros(1, device="cuda"),
                 lambda: nn.Linear(2, 2).cuda()):  # fmt: skip
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            move()


def test_to_cpu_and_guard_keep_values_dtype_and_gradients_flow_back():
    x = mg.tensor([[1.0, -2.0], [3.0, 0.5]], device="cpu", requires_grad=True)
    y = x.to("guard:1")
    assert y.device == "guard:1" and y.dtype == mg.float32 and y.requires_grad
    z = (y * y).sum().cpu()
    z.backward()
    assert x.grad.device == "cpu"
    np.testing.assert_allclose(x.grad.numpy(), 2 * x.detach().numpy())
    assert x.to("cpu") is x and y.to("guard:1") is y


def test_numpy_on_a_device_tensor_raises_like_pytorch():
    x = mg.ones(2, device="guard")
    with pytest.raises(TypeError, match="can't convert guard:0 device type tensor to numpy"):
        x.numpy()
    assert x.cpu().numpy().tolist() == [1.0, 1.0]


@pytest.mark.parametrize(
    "a, b",
    [("guard:0", "cpu"), ("cpu", "guard:0"), ("guard:0", "guard:1")],
)
@pytest.mark.parametrize(
    "op",
    [lambda a, b: a + b, lambda a, b: a @ b, lambda a, b: mg.cat([a, b]),
     lambda a, b: mg.where(a > 0, a, b), lambda a, b: F.linear(a, b)],
)  # fmt: skip
def test_mixing_devices_in_one_op_names_both(a, b, op):
    # guard:0 with guard:1 is caught by the engine, not by the guard arrays: CuPy itself runs a
    # kernel on two GPUs' arrays when peer access is on
    x, y = mg.ones(2, 2, device=a), mg.ones(2, 2, device=b)
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device") as info:
        op(x, y)
    message = str(info.value)
    assert str(mg.device(a)) in message and str(mg.device(b)) in message


def test_module_to_moves_parameters_buffers_and_gradients_stay_there():
    model = nn.Sequential(nn.Linear(3, 4), nn.LayerNorm(4), nn.Linear(4, 2))
    model.to("guard:1")
    assert {p.device for p in model.parameters()} == {mg.device("guard:1")}
    model(mg.randn(5, 3, device="guard:1")).sum().backward()
    assert {p.grad.device for p in model.parameters()} == {mg.device("guard:1")}
    model.cpu()
    assert {p.device for p in model.parameters()} == {mg.device("cpu")}


def test_optimizer_state_follows_parameters_after_a_move():
    model = nn.Linear(3, 2, device="cpu")
    opt = optim.Adam(model.parameters(), lr=0.1)
    model(mg.randn(4, 3, device="cpu")).sum().backward()
    opt.step()
    model.to("guard")
    opt.zero_grad()
    model(mg.randn(4, 3, device="guard")).sum().backward()
    opt.step()  # Adam's moments must be (or move) where the parameters are
    for p in model.parameters():
        assert p.device == "guard:0"
        for value in opt.state[p].values():
            if isinstance(value, mg.Tensor) and value.ndim:
                assert value.device == "guard:0"


# --- agreement ---------------------------------------------------------------------------------

# (name, function, input shapes, input domain); every input gets a gradient.
POS = "positive"


def _seeded(cls, *args):
    """A module built from seed 0, so every device run starts from the same weights."""
    mg.manual_seed(0)
    return cls(*args)


OPS = [
    ("add", lambda a, b: a + b, [(3, 4), (4,)], None),
    ("sub", lambda a, b: a - b, [(3, 4), (3, 1)], None),
    ("mul", lambda a, b: a * b, [(2, 3), (2, 3)], None),
    ("div", lambda a, b: a / b, [(2, 3), (3,)], POS),
    ("fmod", lambda a, b: mg.fmod(a, b), [(2, 3), (3,)], POS),
    ("remainder", lambda a, b: mg.remainder(a, -b), [(2, 3), (3,)], POS),
    ("pow", lambda a, b: a**b, [(2, 3), (2, 3)], POS),
    ("scalar ops", lambda a: (2 - a) * 3 / (a + 4), [(5,)], POS),
    ("exp log", lambda a: mg.exp(a) + mg.log(a) + mg.log1p(a) + mg.expm1(a), [(4,)], POS),
    ("sqrt rsqrt", lambda a: mg.sqrt(a) + mg.rsqrt(a), [(4,)], POS),
    ("trig", lambda a: mg.sin(a) * mg.cos(a) + mg.tanh(a) + mg.sigmoid(a), [(2, 3)], None),
    (
        "activations",
        lambda a: (
            F.relu(a)
            + F.gelu(a)
            + F.gelu(a, approximate="tanh")
            + F.silu(a)
            + F.softplus(a)
            + F.leaky_relu(a, 0.1)
        ),
        [(3, 4)],
        None,
    ),  # fmt: skip
    ("erf abs clamp", lambda a: mg.erf(a) + mg.abs(a) + a.clamp(-0.5, 0.5), [(6,)], None),
    (
        "floor ceil round trunc",
        lambda a: a * (mg.floor(a * 3) + mg.ceil(a * 3) + mg.round(a * 3) + mg.trunc(a * 3)),
        [(6,)],
        None,
    ),
    ("max min", lambda a, b: mg.maximum(a, b) + mg.minimum(a, b), [(3, 2), (3, 2)], None),
    ("where", lambda a, b: mg.where(a > b, a, b), [(3, 3), (3, 3)], None),
    ("sum mean", lambda a: a.sum(0).mean() + a.mean(-1, keepdim=True), [(3, 4)], None),
    ("var std", lambda a: a.var(1) + a.std(0).sum(), [(4, 5)], None),
    ("max amax", lambda a: a.max(1).values + a.amax(0).sum() + a.min(), [(3, 4)], None),
    ("prod cumsum", lambda a: a.prod(1) + a.cumsum(1).sum(1), [(2, 3)], POS),
    (
        "logsumexp softmax",
        lambda a: a.logsumexp(-1) + a.softmax(-1).sum(-1) + a.log_softmax(0).sum(0),
        [(3, 3)],
        None,
    ),  # fmt: skip
    ("norm", lambda a: a.norm() + a.norm(dim=1).sum(), [(3, 4)], None),
    (
        "norm_inf",
        lambda a: a.norm(float("inf")) + a.norm(-float("inf"), dim=1).sum(),
        [(3, 4)],
        None,
    ),
    (
        "shape",
        lambda a: (
            a.reshape(4, 3)
            .t()
            .flip(0)
            .roll(1, 1)
            .permute(1, 0)
            .unsqueeze(0)
            .expand(2, 4, 3)
            .flatten()
        ),
        [(3, 4)],
        None,
    ),  # fmt: skip
    (
        "cat stack split",
        lambda a, b: mg.cat([a, b], 1).split(3, 1)[1] + mg.stack([a, b]).sum(0).chunk(1)[0],
        [(2, 3), (2, 3)],
        None,
    ),  # fmt: skip
    ("tril triu repeat", lambda a: a.tril() + a.triu(1) + a.repeat(1, 1), [(3, 3)], None),
    ("diagonal", lambda a: a.diagonal(1, 0, 2) * 2, [(3, 2, 4)], None),
    ("diag_embed trace", lambda a: a.diag_embed(-1).sum(0) + a.trace(), [(3, 3)], None),
    ("unfold", lambda a: a.t().unfold(0, 2, 1) * 2, [(3, 4)], None),
    (
        "rot90 meshgrid",
        lambda a: a.rot90() + mg.meshgrid(a[0], a[1], indexing="xy")[0],
        [(4, 4)],
        None,
    ),
    ("cdist", lambda a, b: mg.cdist(a, b), [(3, 4), (2, 5, 4)], None),
    (
        "cdist mm",
        lambda a, b: mg.cdist(a, b, compute_mode="use_mm_for_euclid_dist"),
        [(3, 4), (5, 4)],
        None,
    ),
    (
        "cdist p",
        lambda a, b: mg.cdist(a, b, 1.5) + mg.cdist(a, b, float("inf")),
        [(3, 4), (5, 4)],
        None,
    ),
    (
        "cosine pairwise",
        lambda a, b: F.cosine_similarity(a, b) + F.pairwise_distance(a, b),
        [(3, 4), (3, 4)],
        None,
    ),
    ("indexing", lambda a: a[1:, ::2] + a[mg.tensor([0, 0])][:, ::2], [(3, 4)], None),
    (
        "gather index_select",
        lambda a: (
            a.gather(1, mg.tensor([[0, 2], [1, 1], [3, 0]])) + a.index_select(1, mg.tensor([3, 3]))
        ),
        [(3, 4)],
        None,
    ),  # fmt: skip
    ("masked", lambda a: a.masked_fill(a > 0, 0.0) + a.masked_select(a > 0).sum(), [(3, 3)], None),
    ("matmul", lambda a, b: a @ b, [(2, 3, 4), (4, 5)], None),
    (
        "bmm einsum",
        lambda a, b: mg.bmm(a, b) + mg.einsum("bij,bjk->bik", a, b),
        [(2, 3, 4), (2, 4, 3)],
        None,
    ),
    ("linear", lambda x, w, b: F.linear(x, w, b), [(5, 3), (2, 3), (2,)], None),
    ("layer_norm", lambda x, w, b: F.layer_norm(x, (4,), w, b), [(3, 4), (4,), (4,)], None),
    ("rms_norm", lambda x, w: F.rms_norm(x, (4,), w), [(3, 4), (4,)], None),
    ("cross_entropy", lambda x: F.cross_entropy(x, mg.tensor([0, 2, 1])), [(3, 4)], None),
    ("mse", lambda x, y: F.mse_loss(x, y), [(3, 4), (3, 4)], None),
    (
        "binary_cross_entropy",
        lambda x, y: F.binary_cross_entropy(x.sigmoid(), y.sigmoid()),
        [(3, 4), (3, 4)],
        None,
    ),
    ("embedding", lambda w: F.embedding(mg.tensor([[0, 2], [2, 1]]), w), [(3, 4)], None),
    (
        "attention",
        lambda q, k, v: sdpa(q, k, v, is_causal=True),
        [(2, 2, 5, 4), (2, 2, 5, 4), (2, 2, 5, 4)],
        None,
    ),  # fmt: skip
    (
        "attention with a float mask",
        lambda q, k, v, m: sdpa(q, k, v, attn_mask=m),
        [(2, 2, 5, 4), (2, 2, 5, 4), (2, 2, 5, 4), (5, 5)],
        None,
    ),  # fmt: skip
    ("rope", lambda x: F.apply_rope(x, 3) + F.apply_rope(x, interleaved=True), [(2, 5, 4)], None),
    (
        "neg sign clone contiguous casts",
        lambda a: (
            -a
            + mg.sign(a) * a.clone()
            + a.double().float()
            + a.cpu().to(a.device)
            + a.t().contiguous().t()
        ),
        [(3, 4)],
        None,
    ),  # fmt: skip
    ("pad", lambda a: F.pad(a, (1, 2)) + F.pad(a, (0, 3), value=1.0), [(2, 3)], None),
    (
        "conv2d and pools",
        lambda x, w, b: (
            F.max_pool2d(F.conv2d(x, w, b, stride=1, padding=1, groups=2), 2, padding=1)
            + F.avg_pool2d(
                F.conv2d(x, w, b, dilation=(1, 2), padding=(1, 2), groups=2), 2, padding=1
            )
        ),
        [(2, 4, 5, 6), (6, 2, 3, 3), (6,)],
        None,
    ),  # fmt: skip
    (
        "batch_norm",
        lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
        [(4, 3, 2), (3,), (3,)],
        None,
    ),  # fmt: skip
    (
        "nll_loss",
        lambda x: F.nll_loss(F.log_softmax(x, -1), mg.tensor([0, 2, 1])),
        [(3, 4)],
        None,
    ),  # fmt: skip
    (
        "double backward through indexing",  # the adjoint of x[i] (unindex), differentiated
        lambda a: mg.autograd.grad((a[mg.tensor([0, 0, 2])] ** 3).sum(), a, create_graph=True)[0],
        [(3, 2)],
        None,
    ),  # fmt: skip
    # nn.activation, nn.convtranspose, nn.upsampling, nn.pooling, nn.fold, nn.rnn
    ("elu", lambda a: F.elu(a, 0.7), [(3, 4)], None),
    ("hardtanh", lambda a: F.hardtanh(a * 2), [(3, 4)], None),
    ("hardswish", lambda a: F.hardswish(a * 3), [(3, 4)], None),
    ("hardsigmoid", lambda a: F.hardsigmoid(a * 3), [(3, 4)], None),
    ("logsigmoid", F.logsigmoid, [(3, 4)], None),
    ("softsign", F.softsign, [(3, 4)], None),
    ("softshrink", F.softshrink, [(3, 4)], None),
    ("hardshrink", F.hardshrink, [(3, 4)], None),
    ("threshold", lambda a: F.threshold(a, 0.1, -2.0), [(3, 4)], None),
    (
        "conv_transpose2d",
        lambda x, w: F.conv_transpose2d(x, w, None, 2, 1, 1),
        [(2, 3, 4, 4), (3, 2, 3, 3)],
        None,
    ),
    (
        "conv3d and 3-d pools",
        lambda x, w: (
            F.max_pool3d(F.conv3d(x, w, None, 1, 1, 1, 2), 2, padding=1, ceil_mode=True)
            + F.avg_pool3d(F.conv3d(x, w, None, 1, (1, 1, 2), (1, 1, 2), 2), 2, 2, 1, True, False)
        ),
        [(2, 4, 3, 5, 4), (4, 2, 3, 2, 3)],
        None,
    ),
    (
        "conv_transpose3d",
        lambda x, w: F.conv_transpose3d(x, w, None, 2, 1, 1, 1, 1),
        [(1, 3, 2, 3, 2), (3, 2, 3, 2, 3)],
        None,
    ),
    (
        "ctc_loss",
        lambda a: F.ctc_loss(
            F.log_softmax(a, -1), mg.tensor([[1, 2], [2, 2]]), (4, 3), (2, 2), reduction="none"
        ),
        [(4, 2, 3)],
        None,
    ),  # fmt: skip
    (
        "embedding_bag",
        lambda w, p: (
            F.embedding_bag(
                mg.tensor([1, 0, 3, 3, 2]),
                w,
                mg.tensor([0, 2, 2]),
                mode="sum",
                per_sample_weights=p,
            )
            + F.embedding_bag(mg.tensor([[1, 0], [3, 3], [2, 1]]), w, mode="max")
            + F.embedding_bag(mg.tensor([1, 0, 3, 3, 2]), w, mg.tensor([0, 2, 2]), padding_idx=3)
        ),
        [(4, 3), (5,)],
        None,
    ),  # fmt: skip
    ("group_norm", lambda x, w, b: F.group_norm(x, 2, w, b), [(2, 4, 3, 2), (4,), (4,)], None),
    (
        "interpolate",
        lambda a: F.interpolate(a, scale_factor=2, mode="bilinear"),
        [(1, 2, 3, 4)],
        None,
    ),
    ("adaptive_avg_pool", lambda a: F.adaptive_avg_pool2d(a, (2, 3)), [(1, 2, 5, 7)], None),
    (
        "max_unpool",
        lambda a: F.max_unpool2d(*F.max_pool2d(a, 2, return_indices=True), 2),
        [(1, 2, 4, 6)],
        None,
    ),
    ("unfold", lambda a: F.unfold(a, 2, 1, 1, 2), [(1, 2, 4, 5)], None),
    ("fold", lambda a: F.fold(a, (3, 4), 2), [(1, 8, 6)], None),
    ("lstm_layer", lambda a: _seeded(mg.nn.LSTM, 4, 3)(a)[0], [(5, 2, 4)], None),
    ("gru_layer", lambda a: _seeded(mg.nn.GRU, 4, 3)(a)[0], [(5, 2, 4)], None),
    ("rnn_layer", lambda a: _seeded(mg.nn.RNN, 4, 3)(a)[0], [(5, 2, 4)], None),
    # ops/scattering (sort, topk, median, ... read their values with gather, covered above)
    (
        "scatter scatter_add",
        lambda a, b: (
            a.scatter(1, mg.tensor([[0, 2], [1, 3], [3, 0]]), b)
            + a.scatter_add(0, mg.tensor([[0, 0, 2, 1], [2, 0, 2, 1]]), b)
        ),
        [(3, 4), (3, 4)],
        None,
    ),  # fmt: skip
    (
        "scatter_reduce prod amax",
        lambda a, b: (
            a.scatter_reduce(1, mg.tensor([[0, 0, 2], [1, 3, 1], [3, 3, 3]]), b, "prod")
            + a.scatter_reduce(0, mg.tensor([[2, 0, 2, 1]]), b, "amax", include_self=False)
        ),
        [(3, 4), (3, 4)],
        None,
    ),  # fmt: skip
    (
        "index_add",
        lambda a, b: a.index_add(0, mg.tensor([2, 0, 2]), b, alpha=2),
        [(3, 4)] * 2,
        None,
    ),
    # ops/mathfns
    (
        "inverse trig",
        lambda a: mg.asin(a.tanh() * 0.9) + mg.acos(a.tanh() * 0.9) + mg.atan(a),
        [(3, 4)],
        None,
    ),  # fmt: skip
    (
        "hyperbolic",
        lambda a: (
            mg.sinh(a) + mg.cosh(a) + mg.asinh(a) + mg.acosh(a + 1) + mg.atanh(a.tanh() * 0.9)
        ),
        [(3, 4)],
        POS,
    ),  # fmt: skip
    ("exp2", lambda a: mg.exp2(a), [(3, 4)], None),
    ("atan2", lambda a, b: mg.atan2(a, b), [(3, 4), (4,)], POS),
    ("logaddexp", lambda a, b: mg.logaddexp(a, b) + mg.logaddexp2(a, b), [(3, 4), (3, 1)], None),
    ("copysign hypot", lambda a, b: mg.copysign(a, b) + mg.hypot(a, b), [(3, 4), (4,)], None),
    ("xlogy", lambda a, b: mg.xlogy(a, b), [(3, 4), (3, 4)], POS),
    ("lerp", lambda a, b, w: a.lerp(b, w) + a.lerp(b, 0.3), [(3, 4), (3, 4), (4,)], None),
    (
        "cumprod logcumsumexp",
        lambda a: a.cumprod(1) + a.logcumsumexp(0) + mg.cumprod(a * (a > 1), 1),
        [(3, 4)],
        POS,
    ),  # fmt: skip
    (
        "cummax std_mean",
        lambda a: a.cummax(1).values + a.cummin(0).values + sum(mg.std_mean(a, 0)),
        [(3, 4)],
        None,
    ),  # fmt: skip
]


def test_agreement_cases_run_every_op():
    from minigrad import autograd
    from tests.ops.test_op_coverage import _ops

    seen = set()
    autograd.record_observers.append(lambda node: seen.add(node.op.name))
    try:
        for _, fn, shapes, domain in OPS:  # on guard, where moving to the host is an op too
            _run(fn, _inputs(shapes, domain, 0), "guard")
    finally:
        autograd.record_observers.pop()
    missing = set(_ops()) - seen
    assert not missing, f"ops no cpu/device agreement case runs (add one to OPS): {missing}"


def _inputs(shapes, domain, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    if domain == POS:
        arrays = [np.abs(a) + 0.5 for a in arrays]
    return arrays


def _run(fn, arrays, device):
    """Forward and gradients on `device`; constants inside `fn` follow the default device."""
    before = mg.get_default_device()
    mg.set_default_device(device)
    try:
        leaves = [mg.tensor(a, device=device, requires_grad=True) for a in arrays]
        out = fn(*leaves)
        weights = mg.tensor(np.linspace(-1, 1, out.numel(), dtype=np.float32).reshape(out.shape))
        (out * weights).sum().backward()
        assert out.device == mg.device(device) or str(out.device).startswith(str(device))
        return out.detach().cpu().numpy(), [t.grad.cpu().numpy() for t in leaves]
    finally:
        mg.set_default_device(before)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name, fn, shapes, domain", OPS, ids=[o[0] for o in OPS])
def test_forward_and_gradients_agree_with_cpu(device, name, fn, shapes, domain):
    arrays = _inputs(shapes, domain, seed=len(name))
    out_cpu, grads_cpu = _run(fn, arrays, "cpu")
    out_dev, grads_dev = _run(fn, arrays, device)
    assert out_dev.dtype == out_cpu.dtype == np.float32
    np.testing.assert_allclose(out_dev, out_cpu, rtol=1e-5, atol=1e-5)
    for k, (gd, gc) in enumerate(zip(grads_dev, grads_cpu)):
        assert gd.dtype == np.float32, f"gradient {k}"
        np.testing.assert_allclose(gd, gc, rtol=1e-4, atol=1e-5, err_msg=f"gradient {k}")


@pytest.mark.gpu
def test_elementwise_chains_run_as_fused_kernels_on_cuda():
    from minigrad import backend
    from minigrad.nn import attention
    from minigrad.ops import elementwise

    xp = backend.cuda_backend().xp
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 8)).astype(np.float32)
    grads = []
    for device in ("cpu", "cuda"):
        t = mg.tensor(x, device=device, requires_grad=True)
        y = F.gelu(t, approximate="tanh") + F.gelu(t) + F.apply_rope(t)
        sdpa(y, y, y, is_causal=True).sum().backward()
        grads.append(t.grad.cpu().numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-4, atol=1e-5)
    bodies = [elementwise._gelu_tanh, elementwise._gelu_tanh_grad, elementwise._gelu_erf,
              elementwise._gelu_erf_grad, attention._turn, attention._turn_back,
              attention._softmax_grad]  # fmt: skip
    assert xp._fuse is not None and all(body in xp._fused for body in bodies)


def _train(device, model_fn, batch_fn, steps: int = 3) -> tuple[list[float], list[np.ndarray]]:
    mg.manual_seed(0)
    model = model_fn().to(device)
    opt = optim.AdamW(model.parameters(), lr=1e-2)
    losses = []
    for step in range(steps):
        x, y = batch_fn(step)
        loss = F.cross_entropy(model(x.to(device)), y.to(device))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, [p.detach().cpu().numpy() for p in model.parameters()]


def _mlp_batch(step):
    rng = np.random.default_rng(step)
    return mg.tensor(rng.standard_normal((16, 8)).astype(np.float32), device="cpu"), mg.tensor(
        rng.integers(0, 3, 16), device="cpu"
    )


@pytest.mark.parametrize("device", DEVICES)
def test_mlp_training_steps_agree_with_cpu(device):
    def model():
        return nn.Sequential(
            nn.Linear(8, 32, device="cpu"), nn.GELU(), nn.Linear(32, 3, device="cpu")
        )

    cpu = _train("cpu", model, _mlp_batch)
    dev = _train(device, model, _mlp_batch)
    np.testing.assert_allclose(dev[0], cpu[0], rtol=1e-5)
    for a, b in zip(dev[1], cpu[1]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


class _TinyLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(11, 16, device="cpu")
        self.block = TransformerBlock(16, 2, device="cpu")
        self.head = nn.Linear(16, 11, device="cpu")

    def forward(self, tokens):
        return self.head(self.block(self.embed(tokens))).reshape(-1, 11)


def _lm_batch(step):
    rng = np.random.default_rng(step)
    tokens = rng.integers(0, 11, (2, 6))
    return mg.tensor(tokens, device="cpu"), mg.tensor(
        np.roll(tokens, -1, 1).reshape(-1), device="cpu"
    )


@pytest.mark.parametrize("device", DEVICES)
def test_transformer_training_steps_agree_with_cpu(device):
    cpu = _train("cpu", _TinyLM, _lm_batch)
    dev = _train(device, _TinyLM, _lm_batch)
    np.testing.assert_allclose(dev[0], cpu[0], rtol=1e-4)
    for a, b in zip(dev[1], cpu[1]):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)

"""Differential entries: nn.functional layers and losses, and nn modules (weights copied from
torch's state_dict into minigrad's)."""

import numpy as np
from hypothesis import strategies as st

from tests.differential.opinfo import (
    FLOATS,
    Entry,
    Sample,
    T,
    register,
    shapes,
    tensors,
)

F = "minigrad.nn.functional"


def fn(name, op, sample, dtypes=FLOATS, **kw):
    register(
        Entry(f"nn.functional.{name}", (f"{F}.{name.split('.')[0]}",), op, sample, dtypes, **kw)
    )


def _pair(draw, dtype, *, low=-10.0, high=10.0, target_low=-10.0, target_high=10.0):
    shape = draw(shapes())
    return Sample(
        draw(tensors(dtype, shape, low=low, high=high)),
        draw(tensors(dtype, shape, low=target_low, high=target_high)),
    )


REDUCTIONS = st.sampled_from(["mean", "sum", "none"])


def _loss_sample(draw, dtype, **kw):
    s = _pair(draw, dtype, **kw)
    s.kwargs["reduction"] = draw(REDUCTIONS)
    return s


fn("mse_loss", lambda lib, x, y, **k: lib.nn.functional.mse_loss(x, y, **k), _loss_sample)
fn("l1_loss", lambda lib, x, y, **k: lib.nn.functional.l1_loss(x, y, **k), _loss_sample)
fn(
    "huber_loss",
    lambda lib, x, y, **k: lib.nn.functional.huber_loss(x, y, **k),
    lambda d, t: _with(_loss_sample(d, t), delta=d(st.sampled_from([1.0, 0.5, 2.0]))),
)
fn(
    "smooth_l1_loss",
    lambda lib, x, y, **k: lib.nn.functional.smooth_l1_loss(x, y, **k),
    lambda d, t: _with(_loss_sample(d, t), beta=d(st.sampled_from([1.0, 0.5, 0.0]))),
)
fn(
    "binary_cross_entropy",
    lambda lib, x, y, **k: lib.nn.functional.binary_cross_entropy(x, y, **k),
    lambda d, t: _loss_sample(d, t, low=0.0, high=1.0, target_low=0.0, target_high=1.0),
)
fn(
    "binary_cross_entropy_with_logits",
    lambda lib, x, y, **k: lib.nn.functional.binary_cross_entropy_with_logits(x, y, **k),
    lambda d, t: _loss_sample(d, t, target_low=0.0, target_high=1.0),
)
fn(
    "kl_div",
    lambda lib, x, y, **k: lib.nn.functional.kl_div(x, y, **k),
    lambda d, t: _with(
        _loss_sample(d, t, high=0.0, target_low=0.0, target_high=1.0),
        reduction=d(st.sampled_from(["mean", "sum", "none", "batchmean"])),
        log_target=d(st.booleans()),
    ),
)


def _with(sample, **kwargs):
    sample.kwargs.update(kwargs)
    return sample


def _class_sample(draw, dtype, *, log_probs=False):
    n, c = draw(st.integers(0, 4)), draw(st.integers(1, 4))
    extra = draw(shapes(0, 1, 0, 3))
    x = draw(tensors(dtype, (n, c) + extra, edges=False))
    hi = c - 1 if draw(st.integers(0, 9)) else c  # an out-of-range class sometimes
    target = np.array(
        draw(
            st.lists(
                st.integers(0, hi),
                min_size=n * int(np.prod(extra, dtype=int)),
                max_size=n * int(np.prod(extra, dtype=int)),
            )
        ),
        np.int64,
    )
    kwargs = {"reduction": draw(REDUCTIONS)}
    if draw(st.booleans()):
        kwargs["ignore_index"] = draw(st.integers(0, c - 1))
    if not log_probs and draw(st.booleans()):
        kwargs["label_smoothing"] = draw(st.sampled_from([0.1, 0.5]))
    return Sample(x, T(target.reshape((n,) + extra), grad=False), **kwargs)


def _cross_entropy_probs(draw, dtype):
    n, c = draw(st.integers(0, 4)), draw(st.integers(1, 4))
    x = draw(tensors(dtype, (n, c), edges=False))
    p = draw(tensors(dtype, (n, c), edges=False, low=0, high=1))
    return Sample(x, p, reduction=draw(REDUCTIONS))


fn(
    "cross_entropy",
    lambda lib, x, y, **k: lib.nn.functional.cross_entropy(x, y, **k),
    _class_sample,
)
fn(
    "cross_entropy.probabilities",
    lambda lib, x, y, **k: lib.nn.functional.cross_entropy(x, y, **k),
    _cross_entropy_probs,
)
fn(
    "nll_loss",
    lambda lib, x, y, **k: lib.nn.functional.nll_loss(x, y, **k),
    lambda d, t: _class_sample(d, t, log_probs=True),
)


def _norm_sample(draw, dtype, *, rms=False):
    shape = draw(shapes(1, 3, 0, 4))
    k = draw(st.integers(1, len(shape)))
    normalized = shape[-k:]
    x = draw(tensors(dtype, shape, edges=False))
    w = draw(st.one_of(st.none(), tensors(dtype, normalized, edges=False)))
    if rms:
        return Sample(x, normalized, w, eps=draw(st.sampled_from([None, 1e-5])))
    b = draw(st.one_of(st.none(), tensors(dtype, normalized, edges=False)))
    return Sample(x, normalized, w, b, eps=draw(st.sampled_from([1e-5, 1e-2])))


fn("layer_norm", lambda lib, *a, **k: lib.nn.functional.layer_norm(*a, **k), _norm_sample)
fn(
    "rms_norm",
    lambda lib, *a, **k: lib.nn.functional.rms_norm(*a, **k),
    lambda d, t: _norm_sample(d, t, rms=True),
)


def _normalize_sample(draw, dtype):
    x = draw(tensors(dtype, edges=False))
    nd = max(x.array.ndim, 1)
    return Sample(x, p=draw(st.sampled_from([2.0, 1.0, 3.0])), dim=draw(st.integers(-nd, nd - 1)))


fn("normalize", lambda lib, x, **k: lib.nn.functional.normalize(x, **k), _normalize_sample)


def _dropout(lib, x, p, training):
    return lib.nn.functional.dropout(x, p=p, training=training)


fn(
    "dropout",
    _dropout,
    lambda d, t: Sample(
        d(tensors(t)),
        d(st.sampled_from([0.0, 1.0, 0.5, 1.5])),
        False if d(st.integers(0, 2)) else True,
    ),
    compare=lambda m, t: (
        None if m.shape == t.shape else (_ for _ in ()).throw(AssertionError("shape"))
    ),
    note="random when training with 0 < p < 1: compared by shape then (values at p=0, p=1, eval)",
)
fn(
    "dropout.deterministic",
    lambda lib, x, p: lib.nn.functional.dropout(x, p=p, training=True),
    lambda d, t: Sample(d(tensors(t)), d(st.sampled_from([0.0, 1.0]))),
)
fn(
    "dropout.eval",
    lambda lib, x: lib.nn.functional.dropout(x, p=0.5, training=False),
    lambda d, t: Sample(d(tensors(t))),
)
fn("relu_", lambda lib, x: lib.nn.functional.relu_(x.clone()), lambda d, t: Sample(d(tensors(t))))


def _embedding_sample(draw, dtype):
    n, dim = draw(st.integers(1, 5)), draw(st.integers(0, 3))
    w = draw(tensors(dtype, (n, dim), edges=False))
    shape = draw(shapes(0, 2, 0, 3))
    hi = n - 1 if draw(st.integers(0, 9)) else n
    idx = np.array(
        draw(
            st.lists(
                st.integers(-1 if hi == n else 0, hi),
                min_size=int(np.prod(shape, dtype=int)),
                max_size=int(np.prod(shape, dtype=int)),
            )
        ),
        np.int64,
    ).reshape(shape)
    kwargs = {} if draw(st.booleans()) else {"padding_idx": draw(st.integers(0, n - 1))}
    return Sample(T(idx, grad=False), w, **kwargs)


fn("embedding", lambda lib, i, w, **k: lib.nn.functional.embedding(i, w, **k), _embedding_sample)


def _pad_sample(draw, dtype):
    x = draw(tensors(dtype, draw(shapes(1, 4, 0, 4))))
    mode = draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
    k = draw(st.integers(1, min(x.array.ndim, 3)))
    pad = tuple(draw(st.integers(-2, 3)) for _ in range(2 * k))
    kwargs = {"mode": mode}
    if mode == "constant" and draw(st.booleans()):
        kwargs["value"] = draw(st.sampled_from([0.0, 1.5, -2.0]))
    return Sample(x, pad, **kwargs)


fn("pad", lambda lib, x, p, **k: lib.nn.functional.pad(x, p, **k), _pad_sample)
register(
    Entry(
        "pad",
        ("minigrad.pad",),
        lambda lib, x, p, **k: (lib.nn.functional.pad if lib.__name__ == "torch" else lib.pad)(
            x, p, **k
        ),
        _pad_sample,
    )
)


def _conv_sample(draw, dtype, nd):
    n, cin, cout = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    groups = draw(st.sampled_from([g for g in (1, 2, 3) if cin % g == 0 and cout % g == 0]))
    k = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    size = tuple(draw(st.integers(1, 6)) for _ in range(nd))
    x = draw(tensors(dtype, (n, cin) + size, edges=False))
    w = draw(tensors(dtype, (cout, cin // groups) + k, edges=False))
    b = draw(st.one_of(st.none(), tensors(dtype, (cout,), edges=False)))
    kwargs = dict(
        stride=draw(st.integers(1, 2)),
        padding=draw(st.integers(0, 2)),
        dilation=draw(st.integers(1, 2)),
        groups=groups,
    )
    return Sample(x, w, b, **kwargs)


fn(
    "conv1d",
    lambda lib, *a, **k: lib.nn.functional.conv1d(*a, **k),
    lambda d, t: _conv_sample(d, t, 1),
)
fn(
    "conv2d",
    lambda lib, *a, **k: lib.nn.functional.conv2d(*a, **k),
    lambda d, t: _conv_sample(d, t, 2),
)


def _pool_sample(draw, dtype, kind):
    x = draw(
        tensors(
            dtype,
            (
                draw(st.integers(1, 2)),
                draw(st.integers(1, 2)),
                draw(st.integers(1, 6)),
                draw(st.integers(1, 6)),
            ),
            edges=False,
        )
    )
    k = draw(st.integers(1, 3))
    kwargs = dict(stride=draw(st.sampled_from([None, 1, 2])), padding=draw(st.integers(0, 1)))
    if kind == "max":
        kwargs["dilation"] = draw(st.integers(1, 2))
        if kwargs["dilation"] > 1:
            # torch 2.13's max_pool2d backward corrupts its heap (munmap_chunk abort) when a
            # dilated window over a padded size-1 dim holds only padding
            kwargs["padding"] = 0
    return Sample(x, k, **kwargs)


fn(
    "max_pool2d",
    lambda lib, x, k, **kw: lib.nn.functional.max_pool2d(x, k, **kw),
    lambda d, t: _pool_sample(d, t, "max"),
)
fn(
    "avg_pool2d",
    lambda lib, x, k, **kw: lib.nn.functional.avg_pool2d(x, k, **kw),
    lambda d, t: _pool_sample(d, t, "avg"),
)


def _batch_norm_sample(draw, dtype):
    c = draw(st.integers(1, 3))
    shape = (draw(st.integers(1, 3)), c) + draw(shapes(0, 2, 1, 3))
    x = draw(tensors(dtype, shape, edges=False))
    mean = T(np.zeros(c, dtype), grad=False)
    var = T(np.ones(c, dtype), grad=False)
    w = draw(st.one_of(st.none(), tensors(dtype, (c,), edges=False)))
    b = draw(st.one_of(st.none(), tensors(dtype, (c,), edges=False)))
    return Sample(x, mean, var, w, b, training=draw(st.booleans()), momentum=0.1, eps=1e-5)


fn(
    "batch_norm",
    lambda lib, x, m, v, w, b, **k: lib.nn.functional.batch_norm(x, m, v, w, b, **k),
    _batch_norm_sample,
)


def _sdpa_sample(draw, dtype):
    b, h, lq, lk, e = (draw(st.integers(1, 3)) for _ in range(5))
    q = draw(tensors(dtype, (b, h, lq, e), edges=False))
    k = draw(tensors(dtype, (b, h, lk, e), edges=False))
    v = draw(tensors(dtype, (b, h, lk, e), edges=False))
    kwargs = {}
    which = draw(st.integers(0, 2))
    if which == 1:
        kwargs["is_causal"] = True
    elif which == 2:
        kwargs["attn_mask"] = draw(tensors("bool", (lq, lk)))
    return Sample(q, k, v, **kwargs)


fn(
    "scaled_dot_product_attention",
    lambda lib, q, k, v, **kw: lib.nn.functional.scaled_dot_product_attention(q, k, v, **kw),
    _sdpa_sample,
)


# ---------------------------------------------------------------------------------------------
# modules


def module(name, ctor, sample, dtypes=FLOATS, call=None, **kw):
    """An entry for nn.<name>: ctor(lib) builds it (from torch, then copied into minigrad)."""
    op = call or (lambda lib, m, *a, **k: m(*a, **k))
    register(
        Entry(
            f"nn.{name}",
            (f"minigrad.nn.{name.split('.')[0]}",),
            op,
            sample,
            dtypes,
            module=ctor,
            **kw,
        )
    )


def _x(shape):
    return lambda draw, dtype: Sample(draw(tensors(dtype, shape, edges=False)))


def _x_lead(last):
    return lambda draw, dtype: Sample(
        draw(tensors(dtype, draw(shapes(0, 2, 0, 3)) + last, edges=False))
    )


def _f64(m, dtype_holder=None):
    return m


module("Linear", lambda lib: lib.nn.Linear(3, 4), _x_lead((3,)), dtypes=("float32",))
module(
    "Linear.no_bias",
    lambda lib: lib.nn.Linear(3, 2, bias=False),
    _x_lead((3,)),
    dtypes=("float32",),
)
module("Identity", lambda lib: lib.nn.Identity(), lambda d, t: Sample(d(tensors(t))))
module("Flatten", lambda lib: lib.nn.Flatten(), _x((2, 3, 2)))
module("Unflatten", lambda lib: lib.nn.Unflatten(1, (2, 3)), _x((2, 6)))
for _name in ["ReLU", "GELU", "Tanh", "Sigmoid", "SiLU", "LeakyReLU", "Softplus"]:
    module(_name, lambda lib, _n=_name: getattr(lib.nn, _n)(), lambda d, t: Sample(d(tensors(t))))
module("Softmax", lambda lib: lib.nn.Softmax(dim=-1), lambda d, t: Sample(d(tensors(t))))
module("LogSoftmax", lambda lib: lib.nn.LogSoftmax(dim=-1), lambda d, t: Sample(d(tensors(t))))
module("Dropout", lambda lib: lib.nn.Dropout(0.5).eval(), lambda d, t: Sample(d(tensors(t))))
module(
    "Embedding",
    lambda lib: lib.nn.Embedding(5, 3),
    lambda d, t: Sample(
        T(np.array(d(st.lists(st.integers(0, 4), max_size=6)), np.int64), grad=False)
    ),
    ("float32",),
)
module("LayerNorm", lambda lib: lib.nn.LayerNorm(4), _x_lead((4,)), ("float32",))
module("RMSNorm", lambda lib: lib.nn.RMSNorm(4), _x_lead((4,)), ("float32",))
module("Conv1d", lambda lib: lib.nn.Conv1d(2, 3, 3, padding=1), _x((2, 2, 5)), ("float32",))
module(
    "Conv2d",
    lambda lib: lib.nn.Conv2d(2, 3, 3, stride=2, padding=1),
    _x((1, 2, 5, 5)),
    ("float32",),
)
module("MaxPool2d", lambda lib: lib.nn.MaxPool2d(2), _x((1, 2, 4, 5)))
module("AvgPool2d", lambda lib: lib.nn.AvgPool2d(2), _x((1, 2, 4, 5)))
module("BatchNorm1d", lambda lib: lib.nn.BatchNorm1d(3), _x((4, 3)), ("float32",))
module("BatchNorm1d.eval", lambda lib: lib.nn.BatchNorm1d(3).eval(), _x((4, 3)), ("float32",))
module("BatchNorm2d", lambda lib: lib.nn.BatchNorm2d(2), _x((2, 2, 3, 3)), ("float32",))
module(
    "Sequential",
    lambda lib: lib.nn.Sequential(lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Linear(4, 2)),
    _x_lead((3,)),
    ("float32",),
)
module(
    "ModuleList",
    lambda lib: lib.nn.ModuleList([lib.nn.Linear(3, 3), lib.nn.Tanh()]),
    _x_lead((3,)),
    ("float32",),
    call=lambda lib, m, x: m[1](m[0](x)),
)
module(
    "ModuleDict",
    lambda lib: lib.nn.ModuleDict({"a": lib.nn.Linear(3, 2)}),
    _x_lead((3,)),
    ("float32",),
    call=lambda lib, m, x: m["a"](x),
)


def _loss_module_sample(draw, dtype, **kw):
    return _pair(draw, dtype, **kw)


for _name, _kw in [("MSELoss", {}), ("L1Loss", {}), ("HuberLoss", {}), ("SmoothL1Loss", {}),
                   ("BCELoss", dict(low=0.0, high=1.0, target_low=0.0, target_high=1.0)),
                   ("BCEWithLogitsLoss", dict(target_low=0.0, target_high=1.0)),
                   ("KLDivLoss", dict(high=0.0, target_low=0.0, target_high=1.0))]:  # fmt: skip
    module(
        _name,
        lambda lib, _n=_name: getattr(lib.nn, _n)(),
        lambda d, t, _k=_kw: _loss_module_sample(d, t, **_k),
    )
module(
    "CrossEntropyLoss",
    lambda lib: lib.nn.CrossEntropyLoss(),
    lambda d, t: Sample(*_class_sample(d, t).args),
)
module("NLLLoss", lambda lib: lib.nn.NLLLoss(), lambda d, t: Sample(*_class_sample(d, t).args))

"""Recurrent layers: RNN, LSTM and GRU, their cells, and the fused ops they run on.

Parameter names, shapes, initialisation, gate order (LSTM i, f, g, o; GRU r, z, n), inputs and
outputs are PyTorch's, so a torch state_dict loads and the same program runs.

Speed: a recurrent layer is one op per layer and direction (`lstm_layer`, `gru_layer`,
`rnn_layer`), not a dozen recorded ops per time step. Its forward projects the inputs of all
time steps in one GEMM, then loops over the steps with one GEMM (h @ W_hh^T) and one pass of
gate arithmetic each; its backward runs the time loop once in reverse (shared by the rules of
all inputs) and finishes the weight gradients with one GEMM each over all steps. The cells are
the same ops over a single step. `lstm_cell_reference` and friends are the plain composed
versions (minigrad ops, one recorded op per operation); tests pin the fused ops to them, and
the backward under `create_graph=True` is built from them.

Layout: every layer works on PyTorch's packed layout, rows [N, features] ordered time step by
time step, where step t holds `batch_sizes[t]` rows (the sequences still running, longest
first). A padded time-major [T, B, F] input is that layout with every batch size B, so both
kinds of input take the same path. Rows of sequences that have ended (or, in the reverse
direction, not begun) keep their state, which gives PyTorch's final states for packed input.
"""

from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from minigrad import autograd, creation
from minigrad.autograd import apply, defop
from minigrad.nn import functional as F
from minigrad.nn import init
from minigrad.nn.module import Module, Parameter
from minigrad.nn.utils.rnn import PackedSequence, _host_ints
from minigrad.ops import elementwise as _ew
from minigrad.ops import shape as _shape
from minigrad.tensor import Tensor

__all__ = [
    "RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell",
    "lstm_cell_reference", "gru_cell_reference", "rnn_cell_reference",
]  # fmt: skip


class _Steps:
    """Which rows each time step updates, in the order the layer visits them.

    `steps[k] = (start, n)`: the k-th step visited reads input rows start:start+n and updates
    the first n batch rows of the state. `mode` is "lstm", "gru", "rnn_tanh" or "rnn_relu".
    """

    __slots__ = ("mode", "steps", "batch")

    def __init__(self, mode: str, batch_sizes, reverse: bool):
        self.mode = mode
        starts = np.concatenate([[0], np.cumsum(batch_sizes)[:-1]]).astype(int)
        steps = tuple((int(s), int(n)) for s, n in zip(starts, batch_sizes))
        self.steps = steps[::-1] if reverse else steps
        self.batch = int(batch_sizes[0]) if len(batch_sizes) else 0


def _advance(xp, state, new, n: int):
    """The state after a step that updated its first n rows (all of them, usually)."""
    return new if n == state.shape[0] else xp.concatenate([new, state[n:]])


def _flat(xp, *arrays):
    """The op's one output: its arrays flattened end to end (the caller slices them back)."""
    return xp.concatenate([a.reshape(-1) for a in arrays])


# --- LSTM -------------------------------------------------------------------------------------
# gates = x W_ih^T + b_ih + h W_hh^T + b_hh, split as (i, f, g, o);
# c' = sigmoid(f) c + sigmoid(i) tanh(g);  h' = sigmoid(o) tanh(c')  (times W_hr^T if projected)
# sigmoid(z) = (1 + tanh(z / 2)) / 2, so one tanh over all four gates does: the sigmoid gates'
# columns are scaled by 1/2 before it (`scale`) and shifted after it (`shift`).


def _gate_columns(xp, hidden: int, dtype):
    half = xp.full((4 * hidden,), 0.5, dtype=dtype)
    half[2 * hidden : 3 * hidden] = 1.0  # g is a plain tanh
    shift = xp.full((4 * hidden,), 0.5, dtype=dtype)
    shift[2 * hidden : 3 * hidden] = 0.0
    return half, shift


def _lstm_forward(xp, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, *, spec):
    hidden = c0.shape[1]
    scale, shift = _gate_columns(xp, hidden, x.dtype)
    pre = (xp.matmul(x, w_ih.T) + (b_ih + b_hh)) * scale  # all steps' input projections at once
    w_hh_t = xp.ascontiguousarray((w_hh * scale[:, None]).T)  # ~1.3x faster GEMMs than a .T view
    projected = w_hr.shape[0] > 0
    rows, out_size = x.shape[0], h0.shape[1]
    gates = xp.empty((rows, 4 * hidden), dtype=x.dtype)  # activated i, f, g, o
    tanh_c = xp.empty((rows, hidden), dtype=x.dtype)
    h_prev = xp.empty((rows, out_size), dtype=x.dtype)
    c_prev = xp.empty((rows, hidden), dtype=x.dtype)
    ys = xp.empty((rows, out_size), dtype=x.dtype)
    h, c = h0, c0
    for start, n in spec.steps:
        r = slice(start, start + n)
        hp, cp = h[:n], c[:n]
        a = xp.tanh(pre[r] + xp.matmul(hp, w_hh_t)) * scale + shift
        c_new = a[:, hidden : 2 * hidden] * cp + a[:, :hidden] * a[:, 2 * hidden : 3 * hidden]
        tc = xp.tanh(c_new)
        h_new = a[:, 3 * hidden :] * tc
        if projected:
            h_new = xp.matmul(h_new, w_hr.T)
        gates[r], tanh_c[r], h_prev[r], c_prev[r], ys[r] = a, tc, hp, cp, h_new
        h, c = _advance(xp, h, h_new, n), _advance(xp, c, c_new, n)
    cache = (gates, tanh_c, h_prev, c_prev)
    return _flat(xp, ys, h, c), cache, []


def _lstm_backward(xp, g, x, h0, c0, w_hh, w_hr, cache, memo, spec):
    """The time loop of the LSTM backward, run once for all inputs' rules (kept in `memo`):
    d(gate pre-activations) for every row, d(h0), d(c0) and, when projected, d(h) per row."""
    if memo and memo[0] is g:
        return memo[1]
    gates, tanh_c, h_prev, c_prev = cache
    rows, hidden = tanh_c.shape
    batch, out_size = h0.shape
    projected = w_hr.shape[0] > 0
    g_y = g[: rows * out_size].reshape(rows, out_size)
    dh = g[rows * out_size : (rows + batch) * out_size].reshape(batch, out_size)
    dc = g[(rows + batch) * out_size :].reshape(batch, hidden)
    sigmoid_cols, _ = _gate_columns(xp, hidden, x.dtype)
    sigmoid_cols = 2 - 2 * sigmoid_cols  # 0 on g's columns, 1 elsewhere
    tanh_cols = 1 - sigmoid_cols
    d_pre = xp.empty((rows, 4 * hidden), dtype=x.dtype)
    d_out = xp.empty((rows, out_size), dtype=x.dtype) if projected else None
    for start, n in reversed(spec.steps):
        r = slice(start, start + n)
        dh_n = dh[:n] + g_y[r]
        if projected:
            d_out[r] = dh_n
            dh_n = xp.matmul(dh_n, w_hr)  # d(o * tanh(c))
        a, tc = gates[r], tanh_c[r]
        i, f, gg, o = (a[:, k * hidden : (k + 1) * hidden] for k in range(4))
        dc_n = dc[:n] + dh_n * o * (1 - tc * tc)
        da = xp.concatenate([dc_n * gg, dc_n * c_prev[r], dc_n * i, dh_n * tc], axis=1)
        d = da * (a * sigmoid_cols + tanh_cols - a * a)  # sigmoid' = a - a^2, tanh' = 1 - a^2
        d_pre[r] = d
        dh = _advance(xp, dh, xp.matmul(d, w_hh), n)
        dc = _advance(xp, dc, dc_n * f, n)
    result = (d_pre, dh, dc, d_out)
    memo[:] = [g, result]
    return result


def _lstm_grad(xp, which, g, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, cache, memo, spec):
    if isinstance(g, Tensor):  # create_graph=True: differentiate the composed version
        return _graph_grad(which, g, (x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr), spec)
    d_pre, dh0, dc0, d_out = _lstm_backward(xp, g, x, h0, c0, w_hh, w_hr, cache, memo, spec)
    if which == "x":
        return xp.matmul(d_pre, w_ih)
    if which == "h0":
        return dh0
    if which == "c0":
        return dc0
    if which == "w_ih":
        return xp.matmul(d_pre.T, x)
    if which == "w_hh":
        return xp.matmul(d_pre.T, cache[2])
    if which == "w_hr":  # d_out^T (o * tanh(c))
        if d_out is None:  # no projection: w_hr is [0, hidden]
            return xp.zeros_like(w_hr)
        hidden = cache[1].shape[1]
        return xp.matmul(d_out.T, cache[0][:, 3 * hidden :] * cache[1])
    return xp.sum(d_pre, axis=0)  # either bias


def _lstm_rule(which):
    return lambda xp, g, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, cache, memo, spec: _lstm_grad(
        xp, which, g, x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, cache, memo, spec
    )


# --- GRU --------------------------------------------------------------------------------------
# r = sigmoid(x W_ir^T + b_ir + h W_hr^T + b_hr), z likewise, n = tanh(x W_in^T + b_in +
# r (h W_hn^T + b_hn)), h' = (1 - z) n + z h. b_hr and b_hz fold into the input projection.


def _gru_forward(xp, x, h0, w_ih, w_hh, b_ih, b_hh, *, spec):
    hidden = h0.shape[1]
    rz = slice(0, 2 * hidden)
    pre = xp.matmul(x, w_ih.T) + b_ih
    pre[:, rz] += b_hh[rz]
    b_hn = b_hh[2 * hidden :]
    w_hh_t = xp.ascontiguousarray(w_hh.T)  # per-step GEMMs run faster on contiguous memory
    rows = x.shape[0]
    gates = xp.empty((rows, 3 * hidden), dtype=x.dtype)  # r, z, n
    hn_all = xp.empty((rows, hidden), dtype=x.dtype)  # h W_hn^T + b_hn
    h_prev = xp.empty((rows, hidden), dtype=x.dtype)
    ys = xp.empty((rows, hidden), dtype=x.dtype)
    h = h0
    for start, n in spec.steps:
        r = slice(start, start + n)
        hp = h[:n]
        p = pre[r]
        gh = xp.matmul(hp, w_hh_t)
        rz_act = 0.5 + 0.5 * xp.tanh(0.5 * (p[:, rz] + gh[:, rz]))
        hn = gh[:, 2 * hidden :] + b_hn
        new = xp.tanh(p[:, 2 * hidden :] + rz_act[:, :hidden] * hn)
        h_new = new + rz_act[:, hidden:] * (hp - new)
        gates[r, : 2 * hidden], gates[r, 2 * hidden :] = rz_act, new
        hn_all[r], h_prev[r], ys[r] = hn, hp, h_new
        h = _advance(xp, h, h_new, n)
    return _flat(xp, ys, h), (gates, hn_all, h_prev), []


def _gru_backward(xp, g, h0, w_hh, cache, memo, spec):
    """The GRU's reverse time loop, once for all rules: d(input projection) and d(hidden
    projection) per row (they differ on n's columns, where r multiplies), and d(h0)."""
    if memo and memo[0] is g:
        return memo[1]
    gates, hn_all, h_prev = cache
    rows, hidden = hn_all.shape
    batch = h0.shape[0]
    g_y = g[: rows * hidden].reshape(rows, hidden)
    dh = g[rows * hidden :].reshape(batch, hidden)
    d_in = xp.empty((rows, 3 * hidden), dtype=g.dtype)
    d_hid = xp.empty((rows, 3 * hidden), dtype=g.dtype)
    for start, n in reversed(spec.steps):
        r = slice(start, start + n)
        dh_n = dh[:n] + g_y[r]
        a = gates[r]
        rr, z, new = a[:, :hidden], a[:, hidden : 2 * hidden], a[:, 2 * hidden :]
        d_new = dh_n * (1 - z) * (1 - new * new)
        d_r = d_new * hn_all[r] * rr * (1 - rr)
        d_z = dh_n * (h_prev[r] - new) * z * (1 - z)
        d_in[r] = xp.concatenate([d_r, d_z, d_new], axis=1)
        d_hid[r] = xp.concatenate([d_r, d_z, d_new * rr], axis=1)
        dh = _advance(xp, dh, dh_n * z + xp.matmul(d_hid[r], w_hh), n)
    result = (d_in, d_hid, dh)
    memo[:] = [g, result]
    return result


def _gru_grad(xp, which, g, x, h0, w_ih, w_hh, b_ih, b_hh, cache, memo, spec):
    if isinstance(g, Tensor):
        return _graph_grad(which, g, (x, h0, w_ih, w_hh, b_ih, b_hh), spec)
    d_in, d_hid, dh0 = _gru_backward(xp, g, h0, w_hh, cache, memo, spec)
    if which == "x":
        return xp.matmul(d_in, w_ih)
    if which == "h0":
        return dh0
    if which == "w_ih":
        return xp.matmul(d_in.T, x)
    if which == "w_hh":
        return xp.matmul(d_hid.T, cache[2])
    if which == "b_ih":
        return xp.sum(d_in, axis=0)
    return xp.sum(d_hid, axis=0)  # b_hh


def _gru_rule(which):
    return lambda xp, g, x, h0, w_ih, w_hh, b_ih, b_hh, cache, memo, spec: _gru_grad(
        xp, which, g, x, h0, w_ih, w_hh, b_ih, b_hh, cache, memo, spec
    )


# --- Elman RNN --------------------------------------------------------------------------------
# h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh), act tanh or relu


def _rnn_forward(xp, x, h0, w_ih, w_hh, b_ih, b_hh, *, spec):
    pre = xp.matmul(x, w_ih.T) + (b_ih + b_hh)
    w_hh_t = xp.ascontiguousarray(w_hh.T)  # per-step GEMMs run faster on contiguous memory
    rows = x.shape[0]
    h_prev = xp.empty((rows, h0.shape[1]), dtype=x.dtype)
    ys = xp.empty((rows, h0.shape[1]), dtype=x.dtype)
    relu = spec.mode == "rnn_relu"
    h = h0
    for start, n in spec.steps:
        r = slice(start, start + n)
        hp = h[:n]
        z = pre[r] + xp.matmul(hp, w_hh_t)
        h_new = xp.maximum(z, 0) if relu else xp.tanh(z)
        h_prev[r], ys[r] = hp, h_new
        h = _advance(xp, h, h_new, n)
    return _flat(xp, ys, h), (ys, h_prev), []


def _rnn_backward(xp, g, h0, w_hh, cache, memo, spec):
    if memo and memo[0] is g:
        return memo[1]
    ys, _ = cache
    rows, hidden = ys.shape
    g_y = g[: rows * hidden].reshape(rows, hidden)
    dh = g[rows * hidden :].reshape(h0.shape)
    relu = spec.mode == "rnn_relu"
    d_pre = xp.empty((rows, hidden), dtype=g.dtype)
    for start, n in reversed(spec.steps):
        r = slice(start, start + n)
        y = ys[r]
        d = (dh[:n] + g_y[r]) * ((y > 0).astype(y.dtype) if relu else 1 - y * y)
        d_pre[r] = d
        dh = _advance(xp, dh, xp.matmul(d, w_hh), n)
    result = (d_pre, dh)
    memo[:] = [g, result]
    return result


def _rnn_grad(xp, which, g, x, h0, w_ih, w_hh, b_ih, b_hh, cache, memo, spec):
    if isinstance(g, Tensor):
        return _graph_grad(which, g, (x, h0, w_ih, w_hh, b_ih, b_hh), spec)
    d_pre, dh0 = _rnn_backward(xp, g, h0, w_hh, cache, memo, spec)
    if which == "x":
        return xp.matmul(d_pre, w_ih)
    if which == "h0":
        return dh0
    if which == "w_ih":
        return xp.matmul(d_pre.T, x)
    if which == "w_hh":
        return xp.matmul(d_pre.T, cache[1])
    return xp.sum(d_pre, axis=0)  # either bias


def _rnn_rule(which):
    return lambda xp, g, x, h0, w_ih, w_hh, b_ih, b_hh, cache, memo, spec: _rnn_grad(
        xp, which, g, x, h0, w_ih, w_hh, b_ih, b_hh, cache, memo, spec
    )


# fmt: off
LSTM_LAYER = defop("lstm_layer", _lstm_forward, residuals=("cache", "memo"),
                   x=_lstm_rule("x"),        # d_gates W_ih
                   h0=_lstm_rule("h0"),      # BPTT down to step 0
                   c0=_lstm_rule("c0"),      # BPTT down to step 0
                   w_ih=_lstm_rule("w_ih"),  # d_gates^T x
                   w_hh=_lstm_rule("w_hh"),  # d_gates^T h_prev
                   b_ih=_lstm_rule("b_ih"),  # sum of d_gates
                   b_hh=_lstm_rule("b_hh"),  # sum of d_gates
                   w_hr=_lstm_rule("w_hr"))  # d_h^T (o tanh(c))
GRU_LAYER = defop("gru_layer", _gru_forward, residuals=("cache", "memo"),
                  x=_gru_rule("x"),          # d_input_proj W_ih
                  h0=_gru_rule("h0"),        # BPTT down to step 0
                  w_ih=_gru_rule("w_ih"),    # d_input_proj^T x
                  w_hh=_gru_rule("w_hh"),    # d_hidden_proj^T h_prev
                  b_ih=_gru_rule("b_ih"),    # sum of d_input_proj
                  b_hh=_gru_rule("b_hh"))    # sum of d_hidden_proj
RNN_LAYER = defop("rnn_layer", _rnn_forward, residuals=("cache", "memo"),
                  x=_rnn_rule("x"),          # d_pre W_ih
                  h0=_rnn_rule("h0"),        # BPTT down to step 0
                  w_ih=_rnn_rule("w_ih"),    # d_pre^T x
                  w_hh=_rnn_rule("w_hh"),    # d_pre^T h_prev
                  b_ih=_rnn_rule("b_ih"),    # sum of d_pre
                  b_hh=_rnn_rule("b_hh"))    # sum of d_pre
# fmt: on


# --- the plain composed versions --------------------------------------------------------------


def lstm_cell_reference(x, h, c, w_ih, w_hh, b_ih=None, b_hh=None, w_hr=None):
    """One LSTM step from minigrad ops: (h', c'). What `lstm_layer` fuses."""
    gates = _ew.add(_shape_matmul(x, w_ih), _shape_matmul(h, w_hh))
    if b_ih is not None:
        gates = gates + b_ih + b_hh
    i, f, g, o = _shape.chunk(gates, 4, 1)
    c_new = _ew.sigmoid(f) * c + _ew.sigmoid(i) * _ew.tanh(g)
    h_new = _ew.sigmoid(o) * _ew.tanh(c_new)
    if w_hr is not None and w_hr.shape[0] > 0:
        h_new = _shape_matmul(h_new, w_hr)
    return h_new, c_new


def gru_cell_reference(x, h, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step from minigrad ops: h'. What `gru_layer` fuses."""
    gi, gh = _shape_matmul(x, w_ih), _shape_matmul(h, w_hh)
    if b_ih is not None:
        gi, gh = gi + b_ih, gh + b_hh
    i_r, i_z, i_n = _shape.chunk(gi, 3, 1)
    h_r, h_z, h_n = _shape.chunk(gh, 3, 1)
    r = _ew.sigmoid(i_r + h_r)
    z = _ew.sigmoid(i_z + h_z)
    n = _ew.tanh(i_n + r * h_n)
    return (1 - z) * n + z * h


def rnn_cell_reference(x, h, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh"):
    """One Elman RNN step from minigrad ops: h'. What `rnn_layer` fuses."""
    pre = _shape_matmul(x, w_ih) + _shape_matmul(h, w_hh)
    if b_ih is not None:
        pre = pre + b_ih + b_hh
    return _ew.relu(pre) if nonlinearity == "relu" else _ew.tanh(pre)


def _shape_matmul(a, w):
    return a @ _shape.t(w)


def reference_layer(spec: _Steps, inputs: tuple) -> Tensor:
    """A whole layer from the composed cells, with the fused op's flat output."""
    if spec.mode == "lstm":
        x, h, c, w_ih, w_hh, b_ih, b_hh, w_hr = inputs
    else:
        x, h, w_ih, w_hh, b_ih, b_hh = inputs
        c = None
    outputs = [None] * len(spec.steps)
    for k, (start, n) in enumerate(spec.steps):
        xs, hp = x[start : start + n], h[:n]
        if spec.mode == "lstm":
            h_new, c_new = lstm_cell_reference(xs, hp, c[:n], w_ih, w_hh, b_ih, b_hh, w_hr)
            c = c_new if n == c.shape[0] else _shape.cat([c_new, c[n:]])
        elif spec.mode == "gru":
            h_new = gru_cell_reference(xs, hp, w_ih, w_hh, b_ih, b_hh)
        else:
            nonlinearity = "relu" if spec.mode == "rnn_relu" else "tanh"
            h_new = rnn_cell_reference(xs, hp, w_ih, w_hh, b_ih, b_hh, nonlinearity)
        h = h_new if n == h.shape[0] else _shape.cat([h_new, h[n:]])
        outputs[k] = (start, h_new)
    ys = [y for _, y in sorted(outputs, key=lambda item: item[0])]  # back in row order
    parts = [_shape.cat(ys) if ys else x[:0, :0], h] + ([c] if c is not None else [])
    return _shape.cat([p.reshape(-1) for p in parts])


_LSTM_NAMES = ("x", "h0", "c0", "w_ih", "w_hh", "b_ih", "b_hh", "w_hr")
_OTHER_NAMES = ("x", "h0", "w_ih", "w_hh", "b_ih", "b_hh")


def _graph_grad(which: str, g: Tensor, inputs: tuple, spec: _Steps):
    """One input's gradient under create_graph=True: the composed layer, differentiated by the
    engine with its graph kept, so the gradient can be differentiated again."""
    names = _LSTM_NAMES if spec.mode == "lstm" else _OTHER_NAMES
    k = names.index(which)
    with autograd.enable_grad():
        target = inputs[k]
        if not target.requires_grad:
            target = target.detach().requires_grad_()
        inputs = inputs[:k] + (target,) + inputs[k + 1 :]
        out = reference_layer(spec, inputs)
        (grad,) = autograd.grad(out, [target], g, create_graph=True, allow_unused=True)
    return grad if grad is not None else creation.zeros_like(target)


def _run_layer(spec: _Steps, inputs: tuple) -> tuple:
    """Apply the fused layer op; (outputs [N, H_out], h_n [B, H_out], c_n or None)."""
    x, h0 = inputs[0], inputs[1]
    rows, batch, out_size = x.shape[0], h0.shape[0], h0.shape[1]
    if spec.mode == "lstm":
        flat = apply(LSTM_LAYER, inputs, {"spec": spec})
    elif spec.mode == "gru":
        flat = apply(GRU_LAYER, inputs, {"spec": spec})
    else:
        flat = apply(RNN_LAYER, inputs, {"spec": spec})
    ys_end = rows * out_size
    h_end = ys_end + batch * out_size
    ys = flat[:ys_end].reshape(rows, out_size)
    h_n = flat[ys_end:h_end].reshape(batch, out_size)
    c_n = flat[h_end:].reshape(batch, inputs[2].shape[1]) if spec.mode == "lstm" else None
    return ys, h_n, c_n


# --- modules ----------------------------------------------------------------------------------

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}
_OP_MODE = {"LSTM": "lstm", "GRU": "gru", "RNN_TANH": "rnn_tanh", "RNN_RELU": "rnn_relu"}


class RNNBase(Module):
    """What RNN, LSTM and GRU share: torch's constructor checks, parameters and forward.

    Parameters per layer l and direction (suffix "_reverse" for the backward direction):
    `weight_ih_l{l}` [gates * hidden, input], `weight_hh_l{l}` [gates * hidden, hidden],
    `bias_ih_l{l}`, `bias_hh_l{l}` [gates * hidden] and, for an LSTM with proj_size > 0,
    `weight_hr_l{l}` [proj_size, hidden]; all initialised U(-1/sqrt(hidden), 1/sqrt(hidden)).
    """

    def __init__(
        self,
        mode: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        if mode not in _GATES:
            raise ValueError("Unrecognized RNN mode: " + mode)
        if (
            not isinstance(dropout, numbers.Number)
            or isinstance(dropout, bool)
            or not 0 <= dropout <= 1
        ):
            raise ValueError(
                "dropout should be a number in range [0, 1] representing the probability of an "
                "element being zeroed"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout option adds dropout after all but last recurrent layer, so non-zero "
                f"dropout expects num_layers greater than 1, but got dropout={dropout} and "
                f"num_layers={num_layers}",
                stacklevel=3,
            )
        if not isinstance(bias, bool):
            raise TypeError(f"bias should be of type bool, got: {type(bias).__name__}")
        if not isinstance(batch_first, bool):
            raise TypeError(
                f"batch_first should be of type bool, got: {type(batch_first).__name__}"
            )
        if not isinstance(input_size, int):
            raise TypeError(f"input_size should be of type int, got: {type(input_size).__name__}")
        if input_size <= 0:
            raise ValueError("input_size must be greater than zero")
        if not isinstance(hidden_size, int):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError(
                "proj_size should be a positive integer or zero to disable projections"
            )
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        directions = 2 if bidirectional else 1
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        for layer in range(num_layers):
            for direction in range(directions):
                layer_input = input_size if layer == 0 else real_hidden * directions
                suffix = "_reverse" if direction == 1 else ""
                shapes = {
                    "weight_ih": (gate_size, layer_input),
                    "weight_hh": (gate_size, real_hidden),
                }
                if bias:
                    shapes["bias_ih"] = (gate_size,)
                    shapes["bias_hh"] = (gate_size,)
                if proj_size > 0:
                    shapes["weight_hr"] = (proj_size, hidden_size)
                names = []
                for kind, shape in shapes.items():
                    name = f"{kind}_l{layer}{suffix}"
                    empty = creation.empty(*shape, dtype=dtype, device=device)
                    setattr(self, name, Parameter(empty))
                    names.append(name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def flatten_parameters(self) -> None:
        """A no-op, kept for programs that call it: torch packs the weights into one buffer
        for cuDNN here; minigrad's fused ops read the parameters as they are."""

    @property
    def _flat_weights(self) -> list[Parameter]:
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """The parameters per layer and direction, in torch's order (w_ih, w_hh, b_ih, b_hh,
        w_hr)."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s

    # -- forward --

    def _state_sizes(self) -> tuple:
        """(h's last size, c's last size or None)."""
        out = self.proj_size if self.proj_size > 0 else self.hidden_size
        return out, (self.hidden_size if self.mode == "LSTM" else None)

    def _check_input(self, input: Tensor, packed: bool) -> None:
        weight = self.weight_ih_l0
        if input.dtype != weight.dtype:
            raise ValueError(
                f"RNN input dtype ({input.dtype}) does not match weight dtype ({weight.dtype}). "
                f"Convert input: input.to({weight.dtype}), or convert model: "
                f"model.to({input.dtype})"
            )
        expected = 2 if packed else 3
        if input.ndim != expected:
            raise RuntimeError(f"input must have {expected} dimensions, got {input.ndim}")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got "
                f"{input.shape[-1]}"
            )

    def _check_hidden(self, hx: Tensor, batch: int, size: int, what: str) -> None:
        expected = (self.num_layers * (2 if self.bidirectional else 1), batch, size)
        if tuple(hx.shape) != expected:
            raise RuntimeError(f"Expected {what} size {expected}, got {list(hx.shape)}")

    def forward(self, input, hx=None):
        name = type(self).__name__
        packed = isinstance(input, PackedSequence)
        h_size, c_size = self._state_sizes()
        lstm = c_size is not None
        directions = 2 if self.bidirectional else 1
        batched = True
        if packed:
            data, batch_sizes = input.data, input.batch_sizes
            sorted_indices, unsorted_indices = input.sorted_indices, input.unsorted_indices
            batch_sizes = [int(n) for n in batch_sizes.to("cpu").numpy()]
            batch = batch_sizes[0] if batch_sizes else 0
            self._check_input(data, packed=True)
        else:
            if not isinstance(input, Tensor):
                raise TypeError(
                    f"{name}: input must be a Tensor or a PackedSequence, got "
                    f"{type(input).__name__}"
                )
            if input.ndim not in (2, 3):
                space = " tensor" if self.mode.startswith("RNN") else ""
                raise ValueError(
                    f"{name if not self.mode.startswith('RNN') else 'RNN'}: Expected input to be "
                    f"2D or 3D, got {input.ndim}D{space} instead"
                )
            batched = input.ndim == 3
            if not batched:
                input = input.unsqueeze(0 if self.batch_first else 1)
            self._check_input(input, packed=False)
            sequence = _shape.transpose(input, 0, 1) if self.batch_first else input
            steps, batch = sequence.shape[0], sequence.shape[1]
            if steps == 0:
                raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
            data = sequence.reshape(steps * batch, self.input_size)
            batch_sizes = [batch] * steps
            sorted_indices = unsorted_indices = None
        h0, c0 = self._initial_states(hx, data, batch, batched, lstm, h_size, c_size)
        if sorted_indices is not None:  # (the permutations may live on the host)
            order = _host_ints(sorted_indices, "sorted_indices")
            h0 = h0[:, order]
            c0 = c0[:, order] if lstm else None
        layer_input = data
        h_n, c_n = [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                k = layer * directions + direction
                spec = _Steps(_OP_MODE[self.mode], batch_sizes, reverse=direction == 1)
                w_ih, w_hh, b_ih, b_hh, w_hr = self._layer_weights(k, data)
                if lstm:
                    inputs = (layer_input, h0[k], c0[k], w_ih, w_hh, b_ih, b_hh, w_hr)
                else:
                    inputs = (layer_input, h0[k], w_ih, w_hh, b_ih, b_hh)
                ys, h_last, c_last = _run_layer(spec, inputs)
                outputs.append(ys)
                h_n.append(h_last)
                c_n.append(c_last)
            layer_input = outputs[0] if directions == 1 else _shape.cat(outputs, 1)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True)
        h_n = _shape.stack(h_n)
        c_n = _shape.stack(c_n) if lstm else None
        if packed:
            if unsorted_indices is not None:
                order = _host_ints(unsorted_indices, "unsorted_indices")
                h_n = h_n[:, order]
                c_n = c_n[:, order] if lstm else None
            output = PackedSequence(
                layer_input, input.batch_sizes, sorted_indices, unsorted_indices
            )
        else:
            output = layer_input.reshape(steps, batch, layer_input.shape[1])
            if self.batch_first:
                output = _shape.transpose(output, 0, 1)
            if not batched:
                output = output.squeeze(0 if self.batch_first else 1)
                h_n = h_n.squeeze(1)
                c_n = c_n.squeeze(1) if lstm else None
        return output, ((h_n, c_n) if lstm else h_n)

    def _initial_states(self, hx, data, batch, batched, lstm, h_size, c_size):
        shape = (self.num_layers * (2 if self.bidirectional else 1), batch)
        if hx is None:
            h0 = creation.zeros(*shape, h_size, dtype=data.dtype, device=data.device)
            c0 = (
                creation.zeros(*shape, c_size, dtype=data.dtype, device=data.device)
                if lstm
                else None
            )
            return h0, c0
        if lstm:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(
                    f"LSTM: hx must be a tuple (h_0, c_0) of two tensors, got {type(hx).__name__}"
                )
            h0, c0 = hx
            want = 3 if batched else 2
            if h0.ndim != want or c0.ndim != want:
                kind = "batched 3-D" if batched else "unbatched 2-D"
                raise RuntimeError(
                    f"For {kind} input, hx and cx should also be {want}-D but got "
                    f"({h0.ndim}-D, {c0.ndim}-D) tensors"
                )
            if not batched:
                h0, c0 = h0.unsqueeze(1), c0.unsqueeze(1)
            self._check_hidden(h0, batch, h_size, "hidden[0]")
            self._check_hidden(c0, batch, c_size, "hidden[1]")
            return self._state_dtype(h0, data), self._state_dtype(c0, data)
        if not isinstance(hx, Tensor):
            raise TypeError(f"{type(self).__name__}: hx must be a Tensor, got {type(hx).__name__}")
        want = 3 if batched else 2
        if hx.ndim != want:
            kind = "batched 3-D" if batched else "unbatched 2-D"
            raise RuntimeError(
                f"For {kind} input, hx should also be {want}-D but got {hx.ndim}-D tensor"
            )
        if not batched:
            hx = hx.unsqueeze(1)
        self._check_hidden(hx, batch, h_size, "hidden")
        return self._state_dtype(hx, data), None

    @staticmethod
    def _state_dtype(state: Tensor, data: Tensor) -> Tensor:
        if state.dtype != data.dtype:
            raise RuntimeError(
                f"Expected the initial state to have dtype {data.dtype} (the input's), got "
                f"{state.dtype}"
            )
        return state

    def _layer_weights(self, k: int, data: Tensor) -> tuple:
        names = self._all_weights[k]
        w_ih, w_hh = getattr(self, names[0]), getattr(self, names[1])
        if self.bias:
            b_ih, b_hh = getattr(self, names[2]), getattr(self, names[3])
        else:
            b_ih = b_hh = creation.zeros(w_ih.shape[0], dtype=w_ih.dtype, device=w_ih.device)
        if self.proj_size > 0:
            w_hr = getattr(self, names[-1])
        else:
            w_hr = creation.zeros(0, self.hidden_size, dtype=w_ih.dtype, device=w_ih.device)
        return w_ih, w_hh, b_ih, b_hh, w_hr


class RNN(RNNBase):
    """Elman RNN: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act tanh or relu.

    `RNN(input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True,
    batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None)`; forward
    `(input, hx=None) -> (output, h_n)`.
    """

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(
                f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' or 'relu'."
            )
        super().__init__(mode, *args, **kwargs)


class LSTM(RNNBase):
    """Long short-term memory, torch's gate order (i, f, g, o), optional projection.

    `LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False, proj_size=0, device=None, dtype=None)`; forward
    `(input, hx=None) -> (output, (h_n, c_n))` where hx is `(h_0, c_0)`.
    """

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)


class GRU(RNNBase):
    """Gated recurrent unit, torch's gate order (r, z, n) and formulation (r multiplies
    h W_hn^T + b_hn).

    `GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False, device=None, dtype=None)`; forward `(input, hx=None) -> (output, h_n)`.
    """

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)


# --- cells ------------------------------------------------------------------------------------


class RNNCellBase(Module):
    """What the cells share: `weight_ih` [chunks * hidden, input], `weight_hh`
    [chunks * hidden, hidden], `bias_ih`, `bias_hh`, initialised U(+-1/sqrt(hidden))."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        gates = num_chunks * hidden_size
        empty = lambda *shape: creation.empty(*shape, dtype=dtype, device=device)  # noqa: E731
        self.weight_ih = Parameter(empty(gates, input_size))
        self.weight_hh = Parameter(empty(gates, hidden_size))
        if bias:
            self.bias_ih = Parameter(empty(gates))
            self.bias_hh = Parameter(empty(gates))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -bound, bound)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        nonlinearity = getattr(self, "nonlinearity", "tanh")
        if nonlinearity != "tanh":
            s += f", nonlinearity={nonlinearity}"
        return s

    def _biases(self) -> tuple:
        if self.bias_ih is not None:
            return self.bias_ih, self.bias_hh
        zeros = creation.zeros(
            self.weight_ih.shape[0], dtype=self.weight_ih.dtype, device=self.weight_ih.device
        )
        return zeros, zeros

    def _check(self, input: Tensor, states: tuple) -> bool:
        """Shape checks; True when the input is batched (2-D)."""
        name = type(self).__name__
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        for k, state in enumerate(states):
            if state is not None and state.ndim not in (1, 2):
                what = "hidden" if len(states) == 1 else f"hx[{k}]"
                raise ValueError(
                    f"{name}: Expected {what} to be 1D or 2D, got {state.ndim}D instead"
                )
        if input.shape[-1] != self.input_size:
            raise RuntimeError(
                f"input has inconsistent input_size: got {input.shape[-1]} expected "
                f"{self.input_size}"
            )
        return input.ndim == 2

    def _state(self, state, input: Tensor, batched: bool) -> Tensor:
        if state is None:
            return creation.zeros(
                input.shape[0], self.hidden_size, dtype=input.dtype, device=input.device
            )
        state = state if batched else state.unsqueeze(0)
        if tuple(state.shape) != (input.shape[0], self.hidden_size):
            raise RuntimeError(
                f"hidden state has shape {list(state.shape)}, expected "
                f"[{input.shape[0]}, {self.hidden_size}] (batch, hidden_size)"
            )
        if state.dtype != input.dtype:
            raise RuntimeError(
                f"Expected the hidden state to have dtype {input.dtype} (the input's), got "
                f"{state.dtype}"
            )
        return state

    def _step(self, mode: str, input: Tensor, states: tuple) -> tuple:
        if input.dtype != self.weight_ih.dtype:
            raise RuntimeError(
                f"expected input dtype {self.weight_ih.dtype} (the weights'), got {input.dtype}"
            )
        spec = _Steps(mode, [input.shape[0]], reverse=False)
        b_ih, b_hh = self._biases()
        if mode == "lstm":
            h, c = states
            w_hr = creation.zeros(0, self.hidden_size, dtype=input.dtype, device=input.device)
            inputs = (input, h, c, self.weight_ih, self.weight_hh, b_ih, b_hh, w_hr)
        else:
            inputs = (input, states[0], self.weight_ih, self.weight_hh, b_ih, b_hh)
        _, h_new, c_new = _run_layer(spec, inputs)
        return h_new, c_new


class RNNCell(RNNCellBase):
    """One Elman RNN step: `RNNCell(input_size, hidden_size, bias=True, nonlinearity='tanh',
    device=None, dtype=None)`; forward `(input, hx=None) -> h'`."""

    def __init__(
        self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None
    ):
        super().__init__(input_size, hidden_size, bias, 1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        batched = self._check(input, (hx,))
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        if not batched:
            input = input.unsqueeze(0)
        h = self._state(hx, input, batched)
        h_new, _ = self._step(f"rnn_{self.nonlinearity}", input, (h,))
        return h_new if batched else h_new.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step: `LSTMCell(input_size, hidden_size, bias=True, device=None, dtype=None)`;
    forward `(input, hx=None) -> (h', c')` where hx is `(h, c)`."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: tuple | None = None) -> tuple:
        states = (None, None) if hx is None else tuple(hx)
        batched = self._check(input, states)
        if not batched:
            input = input.unsqueeze(0)
        h, c = (self._state(s, input, batched) for s in states)
        h_new, c_new = self._step("lstm", input, (h, c))
        return (h_new, c_new) if batched else (h_new.squeeze(0), c_new.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step: `GRUCell(input_size, hidden_size, bias=True, device=None, dtype=None)`;
    forward `(input, hx=None) -> h'`."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device=device, dtype=dtype)

    def forward(self, input: Tensor, hx: Tensor | None = None) -> Tensor:
        batched = self._check(input, (hx,))
        if not batched:
            input = input.unsqueeze(0)
        h = self._state(hx, input, batched)
        h_new, _ = self._step("gru", input, (h,))
        return h_new if batched else h_new.squeeze(0)

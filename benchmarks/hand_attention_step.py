"""attention_step's layer written by hand the way tutorials do, one op at a time.

`q @ k.transpose(-2, -1) * scale`, `masked_fill` with a causal mask, `softmax`, dropout (p=0.1),
`@ v`, RoPE by slicing and `cat`; MSE loss, backward, Adam; B=8, T=128, d_model=128, 4 heads,
float32. The same code runs on both frameworks (only names they share), so this measures the
engine on an unfused graph rather than a fused kernel.
"""

from __future__ import annotations

if __package__ in (None, ""):
    import attention_step
    import common
else:
    from benchmarks import attention_step, common

B, T, D, H = attention_step.B, attention_step.T, attention_step.D, attention_step.H
HD = D // H
DROPOUT = 0.1


def _build(framework: str):
    import numpy as np

    if framework == "minigrad":
        import minigrad as fw
        import minigrad.nn.functional as F
        from minigrad import optim
    else:
        import torch as fw
        import torch.nn.functional as F
        from torch import optim
    x, weights = attention_step._data()
    ws = [fw.tensor(w.T.copy(), requires_grad=True) for w in weights]  # [in, out]
    inv_freq = 10000.0 ** (-np.arange(HD // 2) * 2.0 / HD)
    angles = np.outer(np.arange(T), inv_freq)
    cos = fw.tensor(np.cos(angles).astype(np.float32))
    sin = fw.tensor(np.sin(angles).astype(np.float32))
    causal = fw.tensor(np.triu(np.ones((T, T), dtype=bool), 1))
    xt = fw.tensor(x)
    opt = optim.Adam(ws, lr=attention_step.LR)
    scale = 1.0 / HD**0.5

    def rope(t):
        t1, t2 = t[..., : HD // 2], t[..., HD // 2 :]
        return fw.cat([t1 * cos - t2 * sin, t2 * cos + t1 * sin], dim=-1)

    def heads(t):
        return t.reshape(B, T, H, HD).transpose(1, 2)

    def step():
        opt.zero_grad()
        wq, wk, wv, wo = ws
        q, k, v = rope(heads(xt @ wq)), rope(heads(xt @ wk)), heads(xt @ wv)
        scores = (q @ k.transpose(-2, -1)) * scale
        scores = scores.masked_fill(causal, float("-inf"))
        probs = F.dropout(F.softmax(scores, dim=-1), p=DROPOUT, training=True)
        y = (probs @ v).transpose(1, 2).reshape(B, T, D) @ wo
        loss = (y * y).mean()
        loss.backward()
        opt.step()

    return step


WORKLOAD = common.Workload(
    name="hand_attention_step",
    description=(
        f"attention_step written op by op (matmul, masked_fill, softmax, dropout, RoPE by "
        f"slicing + cat), B={B} T={T} d_model={D} {H} heads, fwd+bwd+Adam"
    ),
    unit="ms/step",
    unit_scale=1e3,
    build_minigrad=lambda: _build("minigrad"),
    build_torch=lambda: _build("torch"),
    warmup=5,
    block=10,
    blocks=10,
    target=1.0,
)

if __name__ == "__main__":
    common.main(WORKLOAD)

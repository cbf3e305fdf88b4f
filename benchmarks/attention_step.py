"""One training step of a causal RoPE self-attention layer: B=8, T=128, d_model=128, 4 heads.

q/k/v projections, RoPE on q and k (split halves), causal scaled-dot-product attention, output
projection, mean-square loss, backward, Adam; float32. minigrad runs `nn.MultiHeadAttention`
(its fused attention and RoPE ops); PyTorch runs the same layer written with torch.nn.Linear,
cached cos/sin tables and `F.scaled_dot_product_attention` (its fused kernel). At `--size large`
(the default with `--device cuda`) the layer is B=32, T=512, d_model=512, 8 heads.
"""

from __future__ import annotations

if __package__ in (None, ""):
    import common
else:
    from benchmarks import common

SIZES = {"small": (8, 128, 128, 4), "large": (32, 512, 512, 8)}  # B, T, d_model, heads
B, T, D, H = SIZES[common.SIZE]
LR = 1e-3


def _data():
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.standard_normal((B, T, D)).astype(np.float32)
    bound = 1 / D**0.5
    weights = [rng.uniform(-bound, bound, (D, D)).astype(np.float32) for _ in range(4)]
    return x, weights  # q, k, v, out projection weights [out, in]


def build_minigrad():
    import minigrad as mg
    from minigrad import optim
    from minigrad.nn.attention import MultiHeadAttention

    x, weights = _data()
    layer = MultiHeadAttention(D, H, rope=True, causal=True, bias=False)
    with mg.no_grad():
        for lin, w in zip([layer.q_proj, layer.k_proj, layer.v_proj, layer.out_proj], weights):
            lin.weight.copy_(mg.tensor(w))
    layer.to(common.DEVICE)
    opt = optim.Adam(layer.parameters(), lr=LR)
    xt = mg.tensor(x, device=common.DEVICE)

    def step():
        opt.zero_grad()
        y = layer(xt)
        loss = (y * y).mean()
        loss.backward()
        opt.step()

    return step


def build_torch():
    import numpy as np
    import torch
    import torch.nn.functional as F

    x, weights = _data()
    hd = D // H
    inv_freq = 10000.0 ** (-np.arange(hd // 2) * 2.0 / hd)
    angles = np.outer(np.arange(T), inv_freq)
    cos = torch.from_numpy(np.cos(angles).astype(np.float32)).to(common.DEVICE)
    sin = torch.from_numpy(np.sin(angles).astype(np.float32)).to(common.DEVICE)

    def rope(t):  # split halves (GPT-NeoX/Llama), as minigrad's default
        t1, t2 = t[..., : hd // 2], t[..., hd // 2 :]
        return torch.cat([t1 * cos - t2 * sin, t2 * cos + t1 * sin], dim=-1)

    lins = [torch.nn.Linear(D, D, bias=False) for _ in range(4)]
    with torch.no_grad():
        for lin, w in zip(lins, weights):
            lin.weight.copy_(torch.from_numpy(w))
    for lin in lins:
        lin.to(common.DEVICE)
    params = [p for lin in lins for p in lin.parameters()]
    opt = torch.optim.Adam(params, lr=LR)
    xt = torch.from_numpy(x).to(common.DEVICE)
    q_proj, k_proj, v_proj, out_proj = lins

    def heads(t):
        return t.view(B, T, H, hd).transpose(1, 2)

    def step():
        opt.zero_grad()
        q, k, v = rope(heads(q_proj(xt))), rope(heads(k_proj(xt))), heads(v_proj(xt))
        o = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        y = out_proj(o.transpose(1, 2).reshape(B, T, D))
        loss = (y * y).mean()
        loss.backward()
        opt.step()

    return step


WORKLOAD = common.Workload(
    name="attention_step",
    description=(
        f"One training step of a causal RoPE self-attention layer: B={B}, T={T}, d_model={D}, "
        f"{H} heads."
    ),
    unit="ms/step",
    unit_scale=1e3,
    build_minigrad=build_minigrad,
    build_torch=build_torch,
    # the large layer on the CPU takes seconds a step: a few repeats are enough there
    **(
        dict(warmup=1, block=2, blocks=2)
        if common.SIZE == "large" and common.DEVICE == "cpu"
        else dict(warmup=10, block=10, blocks=10)
    ),
    target=2.0 if common.DEVICE == "cuda" else 1.5,
    notes=[
        f"B={B} T={T} d_model={D} heads={H}; minigrad: nn.MultiHeadAttention + optim.Adam; "
        "torch: Linear + RoPE + F.sdpa + Adam"
    ],
    devices=("cpu", "cuda"),
)

if __name__ == "__main__":
    common.main(WORKLOAD)

"""The position-encoding lesson: the sinusoidal table and RoPE, computed by hand next to
minigrad's modules, with the plots that explain them.

- The sinusoidal table of "Attention Is All You Need", PE(m, 2i) = sin(m / 10000^(2i/d)) and
  PE(m, 2i+1) = cos(m / 10000^(2i/d)), as a heat map: fast waves in the first dims, slow ones in
  the last, so every position gets a distinct pattern. It equals
  `nn.SinusoidalPositionalEncoding` added to zeros.
- RoPE rotates each pair (x_i, x_{i+d/2}) of a query or key by the angle m * theta_i, theta_i =
  10000^(-2i/d), at position m: the plot shows one query pair turned step by step, and the hand
  rotation [[cos, -sin], [sin, cos]] equals `nn.RotaryEmbedding`.
- Because a rotation by m theta then the inverse of n theta is a rotation by (m - n) theta, the
  score q_m . k_n after RoPE depends only on the offset m - n: the last plot draws it for many
  (m, n) pairs and every offset lands on one curve.

    python examples/positional_encoding.py [--out out]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from _common import parse_args, pyplot, save, say

import minigrad as mg
from minigrad import nn

D_MODEL = 64  # the sinusoidal table's width
HEAD_DIM = 16  # RoPE's head size
POSITIONS = 64


def sinusoidal_by_hand(n: int, d: int, base: float = 10000.0) -> np.ndarray:
    table = np.zeros((n, d))
    for m in range(n):
        for i in range(d // 2):
            angle = m / base ** (2 * i / d)
            table[m, 2 * i] = np.sin(angle)
            table[m, 2 * i + 1] = np.cos(angle)
    return table


def rope_by_hand(x: np.ndarray, m: float, base: float = 10000.0) -> np.ndarray:
    """Rotate each pair (x_i, x_{i+d/2}) of the vector x by m * theta_i (GPT-NeoX/Llama pairing)."""
    d = x.shape[-1]
    half = d // 2
    out = np.empty_like(x)
    for i in range(half):
        theta = base ** (-2 * i / d)
        c, s = np.cos(m * theta), np.sin(m * theta)
        rotation = np.array([[c, -s], [s, c]])
        out[i], out[i + half] = rotation @ np.array([x[i], x[i + half]])
    return out


def main(argv: Sequence[str] | None = None) -> dict:
    args = parse_args(__doc__.splitlines()[0], argv, epochs=1)
    rng = np.random.default_rng(args.seed)

    # 1. The sinusoidal table, by hand and by the module.
    table = sinusoidal_by_hand(POSITIONS, D_MODEL)
    module = nn.SinusoidalPositionalEncoding(D_MODEL)
    from_module = module(mg.zeros(POSITIONS, D_MODEL, dtype=mg.float64)).numpy()
    table_diff = float(np.abs(table - from_module).max())

    # 2. RoPE on one query, by hand and by the module, at positions 0..POSITIONS-1.
    rope = nn.RotaryEmbedding(HEAD_DIM)
    q = rng.standard_normal(HEAD_DIM)
    k = rng.standard_normal(HEAD_DIM)
    queries = np.tile(q, (POSITIONS, 1))  # the same vector at every position [T, d]
    keys = np.tile(k, (POSITIONS, 1))
    q_rot = rope(mg.tensor(queries)).numpy()
    k_rot = rope(mg.tensor(keys)).numpy()
    by_hand = np.array([rope_by_hand(q, m) for m in range(POSITIONS)])
    rope_diff = float(np.abs(q_rot - by_hand).max())
    norms_kept = float(np.abs(np.linalg.norm(q_rot, axis=1) - np.linalg.norm(q)).max())

    # 3. Scores q_m . k_n depend only on m - n.
    scores = q_rot @ k_rot.T  # [m, n]
    offsets = np.arange(-(POSITIONS - 1), POSITIONS)
    spread = max(float(np.ptp(np.diagonal(scores, offset=-o))) for o in offsets)
    say(
        args,
        f"sinusoidal table: by hand vs nn.SinusoidalPositionalEncoding, max diff {table_diff:.1e}",
        f"RoPE: by hand vs nn.RotaryEmbedding, max diff {rope_diff:.1e}; norms kept to "
        f"{norms_kept:.1e}",
        f"q_m . k_n for the same offset m - n varies by at most {spread:.1e} across positions",
    )
    result = dict(table_diff=table_diff, rope_diff=rope_diff, norms_kept=norms_kept, spread=spread)
    if args.no_plot:
        return result

    plt = pyplot()
    fig, (ax_pe, ax_rot, ax_score) = plt.subplots(1, 3, figsize=(16, 4.6), layout="constrained")
    image = ax_pe.imshow(table, aspect="auto", cmap="RdBu", vmin=-1, vmax=1)
    ax_pe.set(title="sinusoidal encoding PE(m, j)", xlabel="dimension j", ylabel="position m")
    fig.colorbar(image, ax=ax_pe, fraction=0.046)
    pair = (0, HEAD_DIM // 2)  # the fastest-turning pair: theta_0 = 1 radian per position
    for m in range(8):
        x, y = q_rot[m, pair[0]], q_rot[m, pair[1]]
        ax_rot.annotate(
            "",
            xy=(x, y),
            xytext=(0, 0),
            arrowprops=dict(arrowstyle="->", color=plt.cm.viridis(m / 8)),
        )
        ax_rot.text(1.08 * x, 1.08 * y, f"m={m}", fontsize=8, ha="center")
    r = 1.25 * np.hypot(q[pair[0]], q[pair[1]])
    ax_rot.set(
        xlim=(-r, r),
        ylim=(-r, r),
        aspect="equal",
        title="RoPE turns the query pair (q_0, q_8) by m·θ_0",
        xlabel="q_0",
        ylabel="q_8",
    )
    m_idx, n_idx = np.meshgrid(np.arange(POSITIONS), np.arange(POSITIONS), indexing="ij")
    ax_score.scatter((m_idx - n_idx).ravel(), scores.ravel(), s=2, alpha=0.4)
    ax_score.set(
        title="q_m · k_n after RoPE: one value per offset",
        xlabel="offset m − n",
        ylabel="score",
    )
    result["plot"] = save(fig, args.out, "positional_encoding.png")
    say(args, f"wrote {result['plot']}")
    return result


if __name__ == "__main__":
    main()

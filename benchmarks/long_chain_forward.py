"""The forward alone of long_chain's 100,000-op chain (graph recorded, then dropped).

long_chain minus this is the backward's cost per op.
"""

from __future__ import annotations

if __package__ in (None, ""):
    import common
    import long_chain
else:
    from benchmarks import common, long_chain

WORKLOAD = common.Workload(
    name="long_chain_forward",
    description=f"forward of long_chain's {long_chain.OPS:,}-op chain (recorded, no backward)",
    unit="µs/op",
    unit_scale=1e6,
    per=long_chain.OPS,
    build_minigrad=long_chain._builder("minigrad", backward=False),
    build_torch=long_chain._builder("torch", backward=False),
    warmup=1,
    block=long_chain.BLOCK,
    blocks=3,
    notes=["garbage collector on (see long_chain.py)"],
)

if __name__ == "__main__":
    common.main(WORKLOAD)

"""Every collective on 2 ranks, checked on each rank against the value it must have."""

import numpy as np
from _common import write_result

import minigrad as mg
import minigrad.distributed as dist

dist.init_process_group("mpi")
r, n = dist.get_rank(), dist.get_world_size()
failures = []


def check(name, got, want):
    if not np.array_equal(np.asarray(got), np.asarray(want)):
        failures.append(f"{name}: got {got}, want {want}")


values = [np.array([k + 1.5, -2.0 * (k + 1), 3.0]) for k in range(n)]
expected = {
    dist.ReduceOp.SUM: sum(values),
    dist.ReduceOp.AVG: sum(values) / n,
    dist.ReduceOp.PRODUCT: np.prod(values, axis=0),
    dist.ReduceOp.MAX: np.max(values, axis=0),
    dist.ReduceOp.MIN: np.min(values, axis=0),
}
for op, want in expected.items():
    for dtype in ("float32", "float64"):
        t = mg.tensor(values[r].astype(dtype))
        version = t._version
        dist.all_reduce(t, op=op)
        check(f"all_reduce {op} {dtype}", t.numpy(), want.astype(dtype))
        check("version bumped", t._version > version, True)
ints = [np.array([k + 1, -3 * (k + 1)]) for k in range(n)]
t = mg.tensor(ints[r])
dist.all_reduce(t, op=dist.ReduceOp.AVG)
check("all_reduce AVG int truncates", t.tolist(), np.trunc(sum(ints) / n).astype(int).tolist())
t = mg.tensor(ints[r])
work = dist.all_reduce(t, async_op=True)
check("async wait", work.wait(), True)
check("async all_reduce", t.tolist(), sum(ints).tolist())
b = mg.tensor([[float(r)] * 3] * 2).t()  # non-contiguous
dist.broadcast(b, src=n - 1)
check("broadcast", b.tolist(), [[n - 1.0] * 2] * 3)
outs = [mg.zeros(2) for _ in range(n)]
dist.all_gather(outs, mg.full((2,), float(r)))
check("all_gather", [o.tolist() for o in outs], [[float(k)] * 2 for k in range(n)])
big = mg.zeros(n, 2)
dist.all_gather_into_tensor(big, mg.full((2,), float(r)))
check("all_gather_into_tensor", big.tolist(), [[float(k)] * 2 for k in range(n)])
out = mg.zeros(2)
dist.reduce_scatter(out, [mg.full((2,), float(10 * r + k)) for k in range(n)])
check("reduce_scatter", out.tolist(), [float(sum(10 * q + r for q in range(n)))] * 2)
out = mg.zeros(2)
dist.reduce_scatter_tensor(out, mg.arange(2.0 * n) * (r + 1))
check(
    "reduce_scatter_tensor",
    out.tolist(),
    (np.arange(2.0 * n) * sum(range(1, n + 1)))[2 * r : 2 * r + 2].tolist(),
)
t = mg.full((2,), r + 1.0)
dist.reduce(t, dst=0)
check("reduce", t.tolist(), [float(sum(range(1, n + 1)))] * 2 if r == 0 else [r + 1.0] * 2)
dist.barrier()
objects = [None] * n
dist.all_gather_object(objects, {"rank": r})
check("all_gather_object", objects, [{"rank": k} for k in range(n)])
try:
    dist.all_reduce(mg.ones(2 + r))
    failures.append("mismatched shapes did not raise")
except RuntimeError as error:
    message = str(error)
    if "(2,)" not in message or "(3,)" not in message or "rank 1" not in message:
        failures.append(f"unclear mismatch message: {message}")
try:
    dist.all_reduce(mg.ones(2)) if r == 0 else dist.broadcast(mg.ones(2), src=0)
    failures.append("mismatched collectives did not raise")
except RuntimeError as error:
    if "broadcast" not in str(error) or "all_reduce" not in str(error):
        failures.append(f"unclear message: {error}")
import os  # noqa: E402

write_result(
    {
        "failures": failures,
        "env": [os.environ["RANK"], os.environ["WORLD_SIZE"], os.environ["LOCAL_RANK"]],
    }
)
dist.destroy_process_group()

"""DDP scenarios on 2 ranks; each rank checks its own numbers against a single-process run."""

import hashlib
import sys

import numpy as np
from _common import write_result

import minigrad as mg
import minigrad.distributed as dist
import minigrad.nn.functional as F
from minigrad import nn
from minigrad.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()
scenario = sys.argv[2]


class Net(nn.Module):
    def __init__(self, branch=False):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(20, 64), nn.Tanh(), nn.Linear(64, 32), nn.Tanh())
        self.head = nn.Linear(32, 4)
        self.extra = nn.Linear(32, 4)
        self.branch = branch

    def forward(self, x, use_extra=False):
        h = self.body(x)
        out = self.head(h)
        return out + self.extra(h) if use_extra else out


def data(seed, n=16):
    rng = np.random.default_rng(seed)
    return mg.tensor(rng.standard_normal((n, 20)).astype("float32")), mg.tensor(
        rng.integers(0, 4, n)
    )


def replica(**kwargs):
    """A DDP model; only rank 0's init (seed 0) counts, the others are overwritten."""
    mg.manual_seed(0 if rank == 0 else 7)
    return DDP(Net(), **kwargs)


def grads(model):
    return {
        n: (None if p.grad is None else p.grad.numpy().copy()) for n, p in model.named_parameters()
    }


def reference(x, y, use_extra_by_rank=None):  # noqa: D401
    """Single-process gradients of the mean loss over every rank's batch (same init)."""
    mg.manual_seed(0)
    plain = Net()
    if use_extra_by_rank is None:
        loss = F.cross_entropy(plain(x, True), y)
        loss.backward()
        return grads(plain)
    per = len(x) // world
    total = None
    for r in range(world):
        part = slice(r * per, (r + 1) * per)
        loss = F.cross_entropy(plain(x[part], use_extra_by_rank[r]), y[part]) / world
        total = loss if total is None else total + loss
    total.backward()
    return grads(plain)


def max_rel_error(got, want):
    scale = float(max(np.abs(g).max() for g in want.values() if g is not None))
    worst = 0.0
    for name, g in want.items():
        if g is None:
            if got[name] is not None:
                return float("inf")
            continue
        worst = max(worst, float(np.abs(got[name] - g).max()) / scale)
    return worst


def all_batches(seed, n=16):
    xs, ys = zip(*(data(seed * 100 + r, n) for r in range(world)))
    return mg.cat(list(xs)), mg.cat(list(ys))


result = {}
mg.manual_seed(rank + 1)  # replicas start different: DDP must broadcast rank 0's
if scenario == "grads":
    x, y = all_batches(1)
    want = reference(x, y)
    for cap in (25, 0.002):  # one bucket per dtype, and many small buckets
        model = replica(bucket_cap_mb=cap)
        result[f"buckets_{cap}"] = len(model._buckets)
        xl, yl = data(100 + rank)
        F.cross_entropy(model(xl, True), yl).backward()
        result[f"error_{cap}"] = max_rel_error(grads(model.module), want)
    result["keys"] = list(model.state_dict())[:2]
elif scenario == "adam":
    model = DDP(Net(), bucket_cap_mb=0.002)
    opt = mg.optim.Adam(model.parameters(), lr=1e-2)
    for step in range(20):
        xl, yl = data(1000 * step + rank)
        opt.zero_grad()
        F.cross_entropy(model(xl, True), yl).backward()
        opt.step()
    digest = hashlib.sha256()
    for p in model.parameters():
        digest.update(p.detach().numpy().tobytes())
    result["hash"] = digest.hexdigest()
elif scenario == "no_sync":
    (x1, y1), (x2, y2) = all_batches(3, 8), all_batches(4, 8)
    mg.manual_seed(0)
    plain = Net()
    (F.cross_entropy(plain(mg.cat([x1, x2]), True), mg.cat([y1, y2])) * 2).backward()
    want = grads(plain)
    model = replica()
    first, second = data(300 + rank, 8), data(400 + rank, 8)
    with model.no_sync():
        F.cross_entropy(model(first[0], True), first[1]).backward()
    result["after_no_sync_differs"] = bool(max_rel_error(grads(model.module), want) > 1e-3)
    F.cross_entropy(model(second[0], True), second[1]).backward()
    result["error"] = max_rel_error(grads(model.module), want)
elif scenario == "unused":
    model = DDP(Net())
    xl, yl = data(rank)
    F.cross_entropy(model(xl), yl).backward()
    try:
        model(xl)
        result["raised"] = None
    except RuntimeError as error:
        result["raised"] = str(error)
elif scenario == "find_unused":
    x, y = all_batches(5)
    use = [True, False]  # the extra branch is used on rank 0 only
    want = reference(x, y, use)
    model = replica(find_unused_parameters=True, bucket_cap_mb=0.002)
    xl, yl = data(500 + rank)
    F.cross_entropy(model(xl, use[rank]), yl).backward()
    result["error"] = max_rel_error(grads(model.module), want)
    # nobody uses the branch: its grad stays as it was (None)
    model2 = DDP(Net(), find_unused_parameters=True)
    for _ in range(2):
        F.cross_entropy(model2(xl), yl).backward()
    result["globally_unused_grad"] = None if model2.module.extra.weight.grad is None else 1
elif scenario == "mismatch":
    layer = nn.Linear(3, 4 if rank == 0 else 5)
    try:
        DDP(layer)
        result["raised"] = None
    except RuntimeError as error:
        result["raised"] = str(error)
write_result(result)
dist.destroy_process_group()

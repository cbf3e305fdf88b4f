"""DistributedDataParallel on the MLP step (784-512-512-10, Adam, cross-entropy).

Weak scaling: the batch per rank is fixed, so 2 ranks do twice the work of 1; efficiency =
T(1 process) / T(2 ranks) (1.0 = perfect). Gradient sync: DDP's reduction of the 2.55 MiB of
gradients (copy into buckets, all-reduce, divide, copy back; ranks lined up by a barrier first)
against a raw mpi4py Allreduce of the same bytes, measured in the same run. OMP_NUM_THREADS=1.

    python benchmarks/ddp_step.py [--batch 128] [--steps 30]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def worker(batch: int, steps: int) -> None:
    import numpy as np

    import minigrad as mg
    import minigrad.distributed as dist
    import minigrad.nn.functional as F
    from minigrad import nn
    from minigrad.nn.parallel import DistributedDataParallel as DDP

    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    mg.manual_seed(0)
    layers = [nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10)]
    model = DDP(nn.Sequential(*layers))
    opt = mg.optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(rank)
    x = mg.tensor(rng.standard_normal((batch, 784)).astype("float32"))
    y = mg.tensor(rng.integers(0, 10, batch))

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()

    for _ in range(3):
        step()
    times = []
    for _ in range(steps):
        dist.barrier()
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    result = {"step_best": min(times), "step_median": float(np.median(times))}
    if world > 1:
        from mpi4py import MPI

        params = list(model.parameters())
        flat = np.concatenate([p.grad.numpy().reshape(-1) for p in params])
        ddp_times, raw_times = [], []
        for _ in range(steps):
            model._reset(frozenset())
            model._sync_this_backward = True
            dist.barrier()
            t0 = time.perf_counter()
            for p in reversed(params):  # what the post-accumulate hooks do in backward
                model._grad_ready(p)
            ddp_times.append(time.perf_counter() - t0)
            dist.barrier()
            t0 = time.perf_counter()
            MPI.COMM_WORLD.Allreduce(MPI.IN_PLACE, flat, op=MPI.SUM)
            raw_times.append(time.perf_counter() - t0)
        result.update(
            grad_mib=flat.nbytes / 2**20,
            buckets=len(model._buckets),
            sync_best=min(ddp_times),
            raw_best=min(raw_times),
            sync_median=float(np.median(ddp_times)),
            raw_median=float(np.median(raw_times)),
        )
    if rank == 0:
        print(json.dumps(result))
    dist.destroy_process_group()


def launch(nproc: int, batch: int, steps: int) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(ROOT))
    command = [sys.executable, "-m", "minigrad.distributed.run", "--nproc-per-node", str(nproc)]
    command += [__file__, "--worker", "--batch", str(batch), "--steps", str(steps)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--worker", action="store_true")
    args = parser.parse_args()
    if args.worker:
        worker(args.batch, args.steps)
        return
    one, two = [], []
    for _ in range(args.rounds):  # interleaved: both see the same machine load
        one.append(launch(1, args.batch, args.steps))
        two.append(launch(2, args.batch, args.steps))
    t1 = min(r["step_best"] for r in one)
    t2 = min(r["step_best"] for r in two)
    sync = min(r["sync_best"] for r in two)
    raw = min(r["raw_best"] for r in two)
    print(
        f"MLP 784-512-512-10 step, batch {args.batch} per rank, OMP_NUM_THREADS=1, "
        f"best of {args.rounds}x{args.steps}"
    )
    print(
        f"  1 process: {t1 * 1e3:.1f} ms   2 ranks: {t2 * 1e3:.1f} ms   "
        f"weak-scaling efficiency {t1 / t2:.2f}"
    )
    print(
        f"  gradient sync ({two[0]['grad_mib']:.2f} MiB, {two[0]['buckets']} buckets): "
        f"DDP {sync * 1e3:.2f} ms, raw Allreduce {raw * 1e3:.2f} ms -> "
        f"{raw / sync:.2f} of raw bandwidth"
    )
    med1 = min(r["step_median"] for r in one)
    med2 = min(r["step_median"] for r in two)
    print(
        f"  medians: 1 process {med1 * 1e3:.1f} ms, 2 ranks {med2 * 1e3:.1f} ms "
        f"(efficiency {med1 / med2:.2f})"
    )


if __name__ == "__main__":
    main()

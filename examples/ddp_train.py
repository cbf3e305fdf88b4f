"""Data-parallel training, written as a PyTorch DDP script (swap `minigrad` for `torch`).

Run on 2 processes:  python -m minigrad.distributed.run --nproc-per-node 2 examples/ddp_train.py
(or: mpiexec -n 2 python -m mpi4py examples/ddp_train.py). One process works too.
"""

import argparse
import os

import numpy as np

import minigrad as torch
import minigrad.distributed as dist
import minigrad.nn as nn
import minigrad.nn.functional as F
from minigrad.nn.parallel import DistributedDataParallel as DDP
from minigrad.utils.data import DataLoader, TensorDataset
from minigrad.utils.data.distributed import DistributedSampler


def make_dataset(n=2048, seed=0):
    """Two interleaved spirals (the same on every rank: the sampler splits it)."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(0.5, 3.0, n)
    label = rng.integers(0, 2, n)
    angle = t * 2.5 + np.pi * label
    x = np.stack([t * np.cos(angle), t * np.sin(angle)], 1) + rng.normal(0, 0.05, (n, 2))
    return TensorDataset(torch.tensor(x.astype("float32")), torch.tensor(label))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=64)  # per process
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--out", default="ddp_checkpoint.mg")
    args = parser.parse_args()

    dist.init_process_group(backend="mpi")
    rank = dist.get_rank()
    world_size = dist.get_world_size()
    local_rank = int(os.environ["LOCAL_RANK"])  # set by init_process_group, as torchrun does

    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 2)
    )
    model = DDP(model)  # rank 0's weights are broadcast to every rank

    dataset = make_dataset()
    sampler = DistributedSampler(dataset, num_replicas=world_size, rank=rank, shuffle=True)
    loader = DataLoader(dataset, batch_size=args.batch_size, sampler=sampler)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)

    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on every rank
        model.train()
        total, correct, seen = torch.zeros(()), torch.zeros(()), torch.zeros(())
        for x, y in loader:
            optimizer.zero_grad()
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            loss.backward()  # gradients are averaged across ranks here
            optimizer.step()
            total += loss.detach() * len(y)
            correct += (logits.argmax(1) == y).sum()
            seen += len(y)
        scheduler.step()
        stats = torch.stack([total, correct.float(), seen])
        dist.all_reduce(stats, op=dist.ReduceOp.SUM)  # metrics over every rank's samples
        if rank == 0:
            print(
                f"epoch {epoch}: loss {stats[0].item() / stats[2].item():.4f} "
                f"accuracy {stats[1].item() / stats[2].item():.3f} "
                f"(world size {world_size}, local rank {local_rank})"
            )

    if rank == 0:  # save once, without the DDP wrapper's "module." prefix
        torch.save(model.module.state_dict(), args.out)
    dist.barrier()  # the others wait until the checkpoint exists before reading it
    model.module.load_state_dict(torch.load(args.out))
    dist.destroy_process_group()


if __name__ == "__main__":
    main()

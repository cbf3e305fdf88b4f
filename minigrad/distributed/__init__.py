"""`minigrad.distributed`: several processes training one model, PyTorch's `torch.distributed`.

    import minigrad.distributed as dist
    dist.init_process_group("mpi")          # or "nccl" for CUDA tensors
    t = mg.ones(3) * dist.get_rank()
    dist.all_reduce(t, op=dist.ReduceOp.SUM)

Processes are started by MPI: `python -m minigrad.distributed.run --nproc-per-node 2 train.py`
(or `mpiexec -n 2 python -m mpi4py train.py`). See docs/distributed.md.
"""

from minigrad.distributed.process_group import (
    Backend,
    DistBackendError,
    DistError,
    GroupMember,
    ReduceOp,
    Work,
    all_gather,
    all_gather_into_tensor,
    all_gather_object,
    all_reduce,
    barrier,
    broadcast,
    broadcast_object_list,
    destroy_process_group,
    get_backend,
    get_rank,
    get_world_size,
    group,
    init_process_group,
    is_available,
    is_initialized,
    is_mpi_available,
    is_nccl_available,
    reduce,
    reduce_scatter,
    reduce_scatter_tensor,
)

__all__ = [
    "Backend", "DistBackendError", "DistError", "GroupMember", "ReduceOp", "Work", "all_gather",
    "all_gather_into_tensor", "all_gather_object", "all_reduce", "barrier", "broadcast",
    "broadcast_object_list", "destroy_process_group", "get_backend", "get_rank",
    "get_world_size", "group", "init_process_group", "is_available", "is_initialized",
    "is_mpi_available", "is_nccl_available", "reduce", "reduce_scatter", "reduce_scatter_tensor",
]  # fmt: skip

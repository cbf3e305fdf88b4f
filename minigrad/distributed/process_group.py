"""The default process group and the collectives on it (PyTorch's `torch.distributed` calls).

Owns the public functions (`init_process_group`, `all_reduce`, `broadcast`, ...), `ReduceOp`,
`Work` and the checks every collective makes before it communicates: locally (types, shapes,
ranks in range) and across ranks (every rank called the same collective on the same shapes and
dtypes). The communication itself is a backend's (`mpi_backend`, `nccl_backend`); a backend sees
contiguous, writeable arrays only.

Why the cross-rank check: with MPI a mismatched call does not fail, it hangs or reduces garbage.
One small Allgather of a fixed-size signature per call (about 10 us here) turns that into the
same clear error on every rank. DistributedDataParallel's gradient buckets skip it (their
layout is checked once, at construction). `MINIGRAD_DISTRIBUTED_DEBUG=OFF` skips it everywhere.
"""

from __future__ import annotations

import datetime
import enum
import os
import pickle
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from minigrad.backend import backend_of, writeable
from minigrad.tensor import Tensor

DEFAULT_TIMEOUT = datetime.timedelta(minutes=30)  # PyTorch's default for CPU process groups
_BACKEND_NAMES = ("mpi", "nccl")


class DistError(RuntimeError):
    """A collective could not complete (PyTorch's `torch.distributed.DistError`)."""


class DistBackendError(DistError):
    """The communication library failed or timed out (PyTorch's `DistBackendError`)."""


class ReduceOp(enum.Enum):
    """How `all_reduce`, `reduce` and `reduce_scatter` combine the ranks' tensors."""

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    BAND = "band"
    BOR = "bor"
    BXOR = "bxor"

    def __repr__(self) -> str:
        return f"<ReduceOp.{self.name}>"


_OP_CODES = {op: k for k, op in enumerate(ReduceOp, start=1)}


class Backend(str):
    """A backend name as `get_backend()` returns it (a str, as in PyTorch): "mpi" or "nccl"."""

    MPI = "mpi"
    NCCL = "nccl"


class Work:
    """A collective in flight (`async_op=True`); `wait()` blocks until it is done.

    `requests` are the communication library's handles; `test()` says whether they are all done,
    `block()` waits for them; `finish()` runs once afterwards (an AVG's divide, copying a
    gathered buffer out, bumping version counters).
    """

    def __init__(
        self,
        name: str,
        test: Callable[[], bool],
        block: Callable[[float], None],
        finish: Callable[[], None] | None,
        result: Any = None,
    ):
        self._name = name
        self._test = test
        self._block = block
        self._finish = finish
        self._result = result
        self._done = False

    def is_completed(self) -> bool:
        if not self._done and self._test():
            self._complete()
        return self._done

    def wait(self, timeout: datetime.timedelta | None = None) -> bool:
        """Block until the collective has finished (or raise DistBackendError after `timeout`,
        by default the process group's). Returns True, as PyTorch's Work.wait."""
        if not self._done:
            seconds = _group().timeout.total_seconds() if timeout is None else _seconds(timeout)
            self._block(seconds)
            self._complete()
        return True

    def result(self) -> list:
        self.wait()
        return [] if self._result is None else list(self._result)

    def _complete(self) -> None:
        self._done = True
        if self._finish is not None:
            finish, self._finish = self._finish, None
            finish()

    def __repr__(self) -> str:
        return f"Work({self._name}, completed={self._done})"


def _seconds(timeout) -> float:
    if isinstance(timeout, datetime.timedelta):
        return timeout.total_seconds()
    return float(timeout)


def poll_until_done(test: Callable[[], bool], seconds: float, what: str, rank: int) -> None:
    """Wait for `test()` to say done, raising DistBackendError after `seconds`.

    MPI's own Wait cannot time out, so backends poll. The first few milliseconds spin (a
    collective between ranks in step finishes within them); after that the poll sleeps a little
    between tests, so a rank that waits long for a slower one (rank 0 writing a checkpoint)
    leaves the shared CPU cores to the ranks that work.
    """
    if test():
        return
    start = time.perf_counter()
    deadline = start + seconds
    pause = 0.0
    while not test():
        now = time.perf_counter()
        if now > deadline:
            raise DistBackendError(
                f"rank {rank}: {what} timed out after {seconds:g} s (a rank that never made the "
                f"matching call, or that died?). Set timeout= in init_process_group to wait longer."
            )
        if now - start > 0.005:
            pause = min(0.001, pause + 0.00005)
            time.sleep(pause)


# --- the default group ------------------------------------------------------------------------


class _World:
    """The default process group: rank, size and the backend that talks for it."""

    def __init__(self, backend_name: str, impl: Any, timeout: datetime.timedelta, name: str):
        self.backend_name = backend_name
        self.impl = impl
        self.rank = impl.rank
        self.size = impl.size
        self.timeout = timeout
        self.group_name = name

    def __repr__(self) -> str:
        return f"ProcessGroup(backend={self.backend_name!r}, rank={self.rank}, size={self.size})"


class _GroupMember:
    """`dist.group.WORLD`: the default group, the only group there is (no `new_group` yet)."""

    @property
    def WORLD(self) -> _World | None:  # noqa: N802 - PyTorch's name
        return _default

    def __repr__(self) -> str:
        return "minigrad.distributed.group"


group = _GroupMember()
GroupMember = group
_default: _World | None = None


def _group(group: Any = None) -> _World:
    if _default is None:
        raise ValueError(
            "Default process group has not been initialized, please make sure to call "
            "init_process_group."
        )
    if group is not None and group is not _default:
        raise ValueError(
            f"group={group!r} is not the default process group; minigrad has only the default "
            f"group (pass group=None or dist.group.WORLD)"
        )
    return _default


def is_available() -> bool:
    """Whether minigrad.distributed can run here: MPI for Python (mpi4py) imports."""
    try:
        from mpi4py import MPI  # noqa: F401
    except ImportError:
        return False
    return True


def is_mpi_available() -> bool:
    return is_available()


def is_nccl_available() -> bool:
    """Whether CuPy with a loadable NCCL library is installed (no GPU is touched)."""
    try:
        from cupy.cuda import nccl
    except Exception:
        return False
    return bool(getattr(nccl, "available", False))


def is_initialized() -> bool:
    return _default is not None


def init_process_group(
    backend: str | None = None,
    init_method: str | None = None,
    timeout: datetime.timedelta | None = None,
    world_size: int = -1,
    rank: int = -1,
    store: Any = None,
    group_name: str = "",
    pg_options: Any = None,
    device_id: Any = None,
) -> None:
    """Join the job's default process group, as `torch.distributed.init_process_group`.

    The processes find each other through MPI: start them with
    `python -m minigrad.distributed.run --nproc-per-node N script.py` or
    `mpiexec -n N python -m mpi4py script.py`. `backend` is "mpi" (CPU tensors; the default) or
    "nccl" (CUDA tensors through CuPy's NCCL; the NCCL id is shared over MPI). `rank` and
    `world_size` (and the RANK / WORLD_SIZE variables torchrun sets) are optional: when given
    they must agree with MPI's. Afterwards RANK, WORLD_SIZE, LOCAL_RANK and LOCAL_WORLD_SIZE are
    set in os.environ when they were not, so scripts written for torchrun find them.
    """
    global _default
    if _default is not None:
        raise ValueError("trying to initialize the default process group twice!")
    name = "mpi" if backend is None else str(backend).lower()
    if name not in _BACKEND_NAMES:
        raise ValueError(
            f"Invalid backend: {backend!r}; minigrad.distributed supports 'mpi' (CPU tensors) "
            f"and 'nccl' (CUDA tensors)"
        )
    if init_method not in (None, "env://") and not str(init_method).startswith("mpi://"):
        raise ValueError(
            f"init_method={init_method!r}: minigrad's processes rendezvous through MPI, which "
            f"needs no address; launch with `python -m minigrad.distributed.run` or `mpiexec` "
            f"and pass init_method=None (or 'env://')"
        )
    if store is not None:
        raise ValueError("store= is not supported: minigrad's processes rendezvous through MPI")
    if pg_options is not None:
        raise ValueError("pg_options= is not supported by minigrad's backends")
    if timeout is None:
        timeout = DEFAULT_TIMEOUT
    elif not isinstance(timeout, datetime.timedelta):
        raise TypeError(
            f"Expected timeout argument to be of type datetime.timedelta, got {timeout}"
        )

    from minigrad.distributed import mpi_backend

    comm = mpi_backend.world_comm()
    _check_launch(comm, int(world_size), int(rank))
    if name == "mpi":
        impl = mpi_backend.MPIBackend(comm)
    else:
        from minigrad.distributed import nccl_backend

        impl = nccl_backend.NCCLBackend(comm, device_id)
    _default = _World(name, impl, timeout, group_name)
    local_rank, local_size = impl.local_rank, impl.local_size
    for key, value in (
        ("RANK", impl.rank),
        ("WORLD_SIZE", impl.size),
        ("LOCAL_RANK", local_rank),
        ("LOCAL_WORLD_SIZE", local_size),
    ):
        os.environ.setdefault(key, str(value))
    mpi_backend.install_abort_on_exception()


def _check_launch(comm: Any, world_size: int, rank: int) -> None:
    """The rank and size asked for (arguments, else RANK / WORLD_SIZE) must be MPI's."""
    env_size, env_rank = os.environ.get("WORLD_SIZE"), os.environ.get("RANK")
    wanted_size = world_size if world_size != -1 else int(env_size) if env_size else -1
    wanted_rank = rank if rank != -1 else int(env_rank) if env_rank else -1
    if wanted_size not in (-1, comm.size):
        raise ValueError(
            f"world_size {wanted_size} was asked for but MPI started {comm.size} process(es). "
            f"Start the job with `python -m minigrad.distributed.run --nproc-per-node "
            f"{wanted_size} script.py` (or `mpiexec -n {wanted_size} python -m mpi4py script.py`);"
            f" another launcher (torchrun) does not start an MPI job."
        )
    if wanted_rank not in (-1, comm.rank):
        raise ValueError(
            f"rank {wanted_rank} was asked for but MPI gave this process rank {comm.rank}; "
            f"leave rank= unset (MPI numbers the processes)"
        )


def destroy_process_group(group: Any = None) -> None:
    """Leave the default group (after which `init_process_group` may be called again)."""
    global _default
    world = _group(group)
    _default = None
    world.impl.close()


def get_rank(group: Any = None) -> int:
    return _group(group).rank


def get_world_size(group: Any = None) -> int:
    return _group(group).size


def get_backend(group: Any = None) -> str:
    return Backend(_group(group).backend_name)


# --- the collectives ---------------------------------------------------------------------------

_CODES = {
    name: k
    for k, name in enumerate(
        (
            "all_reduce",
            "broadcast",
            "all_gather",
            "all_gather_into_tensor",
            "reduce_scatter",
            "reduce_scatter_tensor",
            "reduce",
            "barrier",
        ),
        start=1,
    )
}
_NAMES = {k: name for name, k in _CODES.items()}
_DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64")
_MAX_DIMS = 9


def _check_tensor(tensor: Any, what: str, arg: str = "tensor") -> None:
    if not isinstance(tensor, Tensor):
        raise TypeError(
            f"{what}: expected parameter `{arg}` of type minigrad.Tensor but got "
            f"{type(tensor).__name__} instead"
        )
    if str(tensor.dtype) not in _DTYPES:
        raise TypeError(f"{what}: {arg} has dtype {tensor.dtype}, which cannot be communicated")


def _check_op(op: Any, tensor: Tensor, what: str) -> ReduceOp:
    if not isinstance(op, ReduceOp):
        raise TypeError(f"{what}: op must be a dist.ReduceOp, got {op!r}")
    kind = tensor.dtype.kind
    if op in (ReduceOp.BAND, ReduceOp.BOR, ReduceOp.BXOR) and kind == "f":
        raise TypeError(
            f"{what}: ReduceOp.{op.name} needs an integer or bool tensor, got {tensor.dtype}"
        )
    if op is ReduceOp.AVG and kind == "b":
        raise TypeError(f"{what}: Cannot use ReduceOp.AVG with boolean inputs")
    return op


def _check_rank(root: Any, size: int, what: str, arg: str) -> int:
    if isinstance(root, bool) or not isinstance(root, (int, np.integer)):
        raise TypeError(f"{what}: {arg} must be an int rank, got {root!r}")
    if not 0 <= root < size:
        raise ValueError(f"{what}: invalid {arg} rank {root} (the world has ranks 0..{size - 1})")
    return int(root)


def _signature(code: int, op: ReduceOp | None, root: int, tensor: Tensor | None) -> np.ndarray:
    """A fixed-size int64 description of one call, compared across ranks."""
    row = np.full(5 + _MAX_DIMS, -1, dtype=np.int64)
    row[0] = code
    row[1] = 0 if op is None else _OP_CODES[op]
    row[2] = root
    if tensor is not None:
        shape = tensor.shape
        row[3] = _DTYPES.index(str(tensor.dtype))
        row[4] = len(shape)
        dims = list(shape[: _MAX_DIMS - 1]) + [int(np.prod(shape[_MAX_DIMS - 1 :], dtype=np.int64))]
        row[5 : 5 + len(dims[: len(shape)])] = dims[: len(shape)]
    return row


def _describe(row: np.ndarray) -> str:
    name = _NAMES.get(int(row[0]), f"collective #{int(row[0])}")
    parts = [name]
    if row[3] >= 0:
        ndim = int(row[4])
        dims = [int(d) for d in row[5 : 5 + min(ndim, _MAX_DIMS)]]
        shape = tuple(dims) if ndim <= _MAX_DIMS else (*dims[:-1], "...")
        parts.append(f"on a {_DTYPES[int(row[3])]} tensor of shape {shape}")
    if row[1] > 0:
        parts.append(f"with op={list(ReduceOp)[int(row[1]) - 1]!r}")
    if row[2] >= 0:
        parts.append(f"from/to rank {int(row[2])}")
    return " ".join(parts)


def _check_same_call(world: _World, row: np.ndarray, what: str) -> None:
    if world.size == 1 or os.environ.get("MINIGRAD_DISTRIBUTED_DEBUG", "").upper() == "OFF":
        return
    rows = world.impl.allgather_signature(row, world.timeout.total_seconds())
    for r, other in enumerate(rows):
        if not np.array_equal(other, rows[0]):
            raise RuntimeError(
                f"{what}: the ranks' calls do not match (a hang without this check): rank 0 "
                f"called {_describe(rows[0])} but rank {r} called {_describe(other)} "
                f"(this is rank {world.rank})"
            )


class _Staged:
    """A tensor's array as a backend may use it: contiguous, writeable, on the backend's device
    type. `commit()` writes a staged copy back into the tensor and bumps its version."""

    def __init__(self, tensor: Tensor, world: _World, writes: bool, what: str):
        self.tensor = tensor
        self.writes = writes
        data = tensor._data
        if writes and not writeable(data):
            raise RuntimeError(
                f"{what}: the tensor of shape {tuple(tensor.shape)} is a read-only view (an "
                f"expand or broadcast); pass a tensor that owns its memory (.clone())"
            )
        self.array, self.copied = world.impl.stage(data)

    def commit(self) -> None:
        if not self.writes:
            return
        if self.copied:
            self.tensor._data[...] = _to_tensor_device(self.array, self.tensor._data)
        self.tensor._vc[0] += 1


def _to_tensor_device(array, like):
    """`array` (staged on the host or contiguous) in `like`'s array type, for writing back."""
    if type(array) is type(like):
        return array
    return backend_of(like).from_host(np.asarray(array), _device_of(like))


def _device_of(array):
    return Tensor._make(array).device


def _run(world: _World, what: str, start: Callable, finish: Callable | None, async_op: bool):
    work = world.impl.start(what, start, finish)
    if async_op:
        return work
    work.wait()
    return None


def all_reduce(
    tensor: Tensor, op: ReduceOp = ReduceOp.SUM, group: Any = None, async_op: bool = False
):
    """Combine `tensor` across ranks with `op`, in place on every rank."""
    what = "all_reduce"
    _check_tensor(tensor, what)
    world = _group(group)
    _check_op(op, tensor, what)
    _check_same_call(world, _signature(_CODES[what], op, -1, tensor), what)
    staged = _Staged(tensor, world, True, what)

    def start():
        return world.impl.all_reduce(staged.array, op)

    def finish():
        world.impl.finish_reduce(staged.array, op, world.size)
        staged.commit()

    return _run(world, what, start, finish, async_op)


def reduce(
    tensor: Tensor,
    dst: int | None = None,
    op: ReduceOp = ReduceOp.SUM,
    group: Any = None,
    async_op: bool = False,
    group_dst: int | None = None,
):
    """Combine `tensor` across ranks with `op` into rank `dst`'s tensor (the others keep theirs)."""
    what = "reduce"
    _check_tensor(tensor, what)
    world = _group(group)
    dst = _check_rank(dst if group_dst is None else group_dst, world.size, what, "dst")
    _check_op(op, tensor, what)
    _check_same_call(world, _signature(_CODES[what], op, dst, tensor), what)
    staged = _Staged(tensor, world, world.rank == dst, what)

    def start():
        return world.impl.reduce(staged.array, op, dst)

    def finish():
        if world.rank == dst:
            world.impl.finish_reduce(staged.array, op, world.size)
            staged.commit()

    return _run(world, what, start, finish, async_op)


def broadcast(
    tensor: Tensor,
    src: int | None = None,
    group: Any = None,
    async_op: bool = False,
    group_src: int | None = None,
):
    """Copy rank `src`'s tensor into every rank's `tensor`, in place."""
    what = "broadcast"
    _check_tensor(tensor, what)
    world = _group(group)
    src = _check_rank(src if group_src is None else group_src, world.size, what, "src")
    _check_same_call(world, _signature(_CODES[what], None, src, tensor), what)
    staged = _Staged(tensor, world, world.rank != src, what)

    def start():
        return world.impl.broadcast(staged.array, src)

    return _run(world, what, start, staged.commit, async_op)


def _check_list(tensors: Any, like: Tensor, size: int, what: str, arg: str) -> list:
    if not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{what}: {arg} must be a list of tensors, got {type(tensors).__name__}")
    if len(tensors) != size:
        raise RuntimeError(
            f"{what}: invalid {arg} (expected length {size}, the world size, got {len(tensors)})"
        )
    for k, t in enumerate(tensors):
        _check_tensor(t, what, f"{arg}[{k}]")
        if t.shape != like.shape or t.dtype != like.dtype:
            raise RuntimeError(
                f"{what}: invalid tensor at index {k} of {arg} (expected {like.dtype} of shape "
                f"{tuple(like.shape)}, got {t.dtype} of shape {tuple(t.shape)})"
            )
    return list(tensors)


def _check_flat_pair(big: Tensor, small: Tensor, size: int, what: str, names: tuple) -> None:
    """`big` must be `size` copies of `small` concatenated on dim 0, or stacked on a new dim 0."""
    concat = (small.shape[0] * size, *small.shape[1:]) if small.ndim else None
    stacked = (size, *small.shape)
    if big.dtype != small.dtype or big.shape not in (concat, stacked):
        raise RuntimeError(
            f"{what}: {names[0]} must have dtype {small.dtype} and shape {concat or stacked}"
            f"{' or ' + str(stacked) if concat else ''} ({size} x {names[1]} of shape "
            f"{tuple(small.shape)}), got {big.dtype} of shape {tuple(big.shape)}"
        )


def all_gather(tensor_list: list, tensor: Tensor, group: Any = None, async_op: bool = False):
    """Fill `tensor_list[r]` with rank r's `tensor`, on every rank."""
    what = "all_gather"
    _check_tensor(tensor, what)
    world = _group(group)
    outputs = _check_list(tensor_list, tensor, world.size, what, "tensor_list")
    _check_same_call(world, _signature(_CODES[what], None, -1, tensor), what)
    source = _Staged(tensor, world, False, what)
    gathered = world.impl.empty_like_stacked(source.array, world.size)

    def start():
        return world.impl.all_gather(source.array, gathered)

    def finish():
        for out, piece in zip(outputs, gathered):
            out._data[...] = _to_tensor_device(piece, out._data)
            out._vc[0] += 1

    return _run(world, what, start, finish, async_op)


def all_gather_into_tensor(
    output_tensor: Tensor, input_tensor: Tensor, group: Any = None, async_op: bool = False
):
    """Rank r's `input_tensor` lands in the r-th slice of `output_tensor` (concatenated on dim 0,
    or stacked on a new dim 0), on every rank."""
    what = "all_gather_into_tensor"
    _check_tensor(output_tensor, what, "output_tensor")
    _check_tensor(input_tensor, what, "input_tensor")
    world = _group(group)
    _check_flat_pair(
        output_tensor, input_tensor, world.size, what, ("output_tensor", "input_tensor")
    )
    _check_same_call(world, _signature(_CODES[what], None, -1, input_tensor), what)
    source = _Staged(input_tensor, world, False, what)
    target = _Staged(output_tensor, world, True, what)

    def start():
        return world.impl.all_gather(source.array, target.array.reshape(world.size, -1))

    return _run(world, what, start, target.commit, async_op)


def reduce_scatter(
    output: Tensor,
    input_list: list,
    op: ReduceOp = ReduceOp.SUM,
    group: Any = None,
    async_op: bool = False,
):
    """`output` on rank r becomes the `op`-combination over ranks of their `input_list[r]`."""
    what = "reduce_scatter"
    _check_tensor(output, what, "output")
    world = _group(group)
    inputs = _check_list(input_list, output, world.size, what, "input_list")
    _check_op(op, output, what)
    _check_same_call(world, _signature(_CODES[what], op, -1, output), what)
    target = _Staged(output, world, True, what)
    packed = world.impl.stack([world.impl.stage(t._data)[0] for t in inputs])

    def start():
        return world.impl.reduce_scatter(packed, target.array, op)

    def finish():
        world.impl.finish_reduce(target.array, op, world.size)
        target.commit()

    return _run(world, what, start, finish, async_op)


def reduce_scatter_tensor(
    output: Tensor,
    input: Tensor,
    op: ReduceOp = ReduceOp.SUM,
    group: Any = None,
    async_op: bool = False,
):
    """`input` is `world_size` equal slices on dim 0 (or stacked); rank r's `output` becomes the
    `op`-combination over ranks of their r-th slice."""
    what = "reduce_scatter_tensor"
    _check_tensor(output, what, "output")
    _check_tensor(input, what, "input")
    world = _group(group)
    _check_flat_pair(input, output, world.size, what, ("input", "output"))
    _check_op(op, output, what)
    _check_same_call(world, _signature(_CODES[what], op, -1, output), what)
    source = _Staged(input, world, False, what)
    target = _Staged(output, world, True, what)

    def start():
        return world.impl.reduce_scatter(source.array.reshape(world.size, -1), target.array, op)

    def finish():
        world.impl.finish_reduce(target.array, op, world.size)
        target.commit()

    return _run(world, what, start, finish, async_op)


def barrier(
    group: Any = None,
    async_op: bool = False,
    device_ids: Sequence[int] | None = None,
    timeout: datetime.timedelta | None = None,
):
    """Wait until every rank has called barrier."""
    what = "barrier"
    world = _group(group)
    _check_same_call(world, _signature(_CODES[what], None, -1, None), what)
    work = world.impl.start(what, world.impl.barrier, None)
    if async_op:
        return work
    work.wait(timeout)
    return None


def all_gather_object(object_list: list, obj: Any, group: Any = None) -> None:
    """Fill `object_list[r]` with rank r's picklable `obj`, on every rank."""
    world = _group(group)
    if not isinstance(object_list, list) or len(object_list) != world.size:
        raise RuntimeError(
            f"all_gather_object: object_list must be a list of length {world.size} (the world "
            f"size), got {object_list!r}"
        )
    object_list[:] = world.impl.all_gather_object(obj, world.timeout.total_seconds())


def broadcast_object_list(
    object_list: list,
    src: int | None = None,
    group: Any = None,
    device: Any = None,
    group_src: int | None = None,
) -> None:
    """Replace every rank's `object_list` items with rank `src`'s (picklable objects)."""
    world = _group(group)
    src = _check_rank(
        src if group_src is None else group_src, world.size, "broadcast_object_list", "src"
    )
    if not isinstance(object_list, list):
        raise TypeError(f"broadcast_object_list: object_list must be a list, got {object_list!r}")
    payload = pickle.dumps(object_list) if world.rank == src else None
    received = world.impl.broadcast_object(payload, src, world.timeout.total_seconds())
    items = pickle.loads(received)
    if len(items) != len(object_list):
        raise RuntimeError(
            f"broadcast_object_list: rank {src} sent {len(items)} objects but rank {world.rank}'s "
            f"object_list has {len(object_list)}"
        )
    object_list[:] = items

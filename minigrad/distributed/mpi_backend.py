"""The "mpi" backend: collectives on host arrays through MPI for Python (mpi4py).

Owns everything that touches mpi4py: the job's communicator (a duplicate of COMM_WORLD, so a
user's own mpi4py traffic cannot interleave with ours), the mapping of `ReduceOp` and dtypes to
MPI's, the non-blocking calls behind every collective (polled against the group's timeout), and
the hook that aborts the whole job when one rank dies of an exception.

Tensors on another device (CUDA, the guard device) are staged through host memory: the PyPI MPI
wheels are not CUDA-aware. Use the "nccl" backend to keep CUDA tensors on the GPU.
"""

from __future__ import annotations

import sys
import warnings
from typing import Any

import numpy as np

from minigrad.backend import backend_of, to_host
from minigrad.distributed.process_group import ReduceOp, Work, poll_until_done

_INSTALL_HINT = (
    "minigrad.distributed needs MPI for Python and an MPI library: "
    "pip install 'minigrad[distributed]' (that is: pip install mpi4py mpich)"
)


def mpi():
    """The mpi4py.MPI module (initialising MPI on first use), or a clear ImportError."""
    try:
        from mpi4py import MPI
    except ImportError as error:
        raise ImportError(f"{_INSTALL_HINT} ({error})") from error
    return MPI


def world_comm():
    return mpi().COMM_WORLD


def _mpi_op(op: ReduceOp, dtype: np.dtype):
    MPI = mpi()
    if dtype.kind == "b":  # MPI reduces C bools only logically: PyTorch's NCCL mapping
        return {
            ReduceOp.SUM: MPI.LOR,
            ReduceOp.MAX: MPI.LOR,
            ReduceOp.BOR: MPI.LOR,
            ReduceOp.PRODUCT: MPI.LAND,
            ReduceOp.MIN: MPI.LAND,
            ReduceOp.BAND: MPI.LAND,
            ReduceOp.BXOR: MPI.LXOR,
        }[op]
    return {
        ReduceOp.SUM: MPI.SUM,
        ReduceOp.AVG: MPI.SUM,  # then divided by the world size (finish_reduce)
        ReduceOp.PRODUCT: MPI.PROD,
        ReduceOp.MIN: MPI.MIN,
        ReduceOp.MAX: MPI.MAX,
        ReduceOp.BAND: MPI.BAND,
        ReduceOp.BOR: MPI.BOR,
        ReduceOp.BXOR: MPI.BXOR,
    }[op]


def divide_average(array: np.ndarray, size: int) -> None:
    """A summed buffer divided by the world size in place: floats exactly, integers truncated
    toward zero (C's integer division, as NCCL's average)."""
    if array.dtype.kind == "f":
        np.divide(array, size, out=array)
    else:
        quotient = np.abs(array) // size
        np.multiply(np.sign(array), quotient, out=array)


class MPIBackend:
    """The default process group's communication over one MPI communicator."""

    name = "mpi"

    def __init__(self, world):
        MPI = mpi()
        self.comm = world.Dup()
        self.rank = self.comm.rank
        self.size = self.comm.size
        local = self.comm.Split_type(MPI.COMM_TYPE_SHARED, key=self.rank)
        self.local_rank, self.local_size = local.rank, local.size
        local.Free()
        self._warned_staging = False

    # --- arrays ---

    def stage(self, data) -> tuple[np.ndarray, bool]:
        """`data` as a contiguous writeable host array, and whether that is a copy."""
        if type(data) is np.ndarray:
            if data.flags.c_contiguous and data.flags.writeable:
                return data, False
            return np.array(data, order="C", copy=True), True
        if not self._warned_staging and backend_of(data).name == "cupy":
            self._warned_staging = True
            warnings.warn(
                "minigrad.distributed: the 'mpi' backend copies CUDA tensors through host memory "
                "(the MPI wheels are not CUDA-aware); use backend='nccl' for CUDA tensors",
                stacklevel=4,
            )
        return np.ascontiguousarray(to_host(data)), True

    def empty_like_stacked(self, array: np.ndarray, size: int) -> np.ndarray:
        return np.empty((size, *array.shape), dtype=array.dtype)

    def stack(self, arrays: list) -> np.ndarray:
        return np.stack(arrays)

    # --- requests ---

    def start(self, what: str, start, finish) -> Work:
        MPI = mpi()
        requests = start()
        if not isinstance(requests, list):
            requests = [requests]

        def test() -> bool:
            return bool(MPI.Request.Testall(requests))

        def block(seconds: float) -> None:
            poll_until_done(test, seconds, what, self.rank)

        return Work(what, test, block, finish)

    def all_reduce(self, array: np.ndarray, op: ReduceOp):
        return self.comm.Iallreduce(mpi().IN_PLACE, array, op=_mpi_op(op, array.dtype))

    def finish_reduce(self, array: np.ndarray, op: ReduceOp, size: int) -> None:
        if op is ReduceOp.AVG:
            divide_average(array, size)

    def reduce(self, array: np.ndarray, op: ReduceOp, dst: int):
        MPI = mpi()
        if self.rank == dst:
            return self.comm.Ireduce(MPI.IN_PLACE, array, op=_mpi_op(op, array.dtype), root=dst)
        return self.comm.Ireduce(array, None, op=_mpi_op(op, array.dtype), root=dst)

    def broadcast(self, array: np.ndarray, src: int):
        return self.comm.Ibcast(array, root=src)

    def all_gather(self, send: np.ndarray, gathered: np.ndarray):
        return self.comm.Iallgather(send, gathered)

    def reduce_scatter(self, packed: np.ndarray, out: np.ndarray, op: ReduceOp):
        return self.comm.Ireduce_scatter_block(packed, out, op=_mpi_op(op, out.dtype))

    def barrier(self):
        return self.comm.Ibarrier()

    # --- small metadata and objects (blocking, polled against the timeout) ---

    def _wait(self, request, what: str, seconds: float) -> None:
        poll_until_done(request.Test, seconds, what, self.rank)

    def allgather_signature(self, row: np.ndarray, seconds: float) -> np.ndarray:
        rows = np.empty((self.size, row.size), dtype=row.dtype)
        self._wait(self.comm.Iallgather(row, rows), "the collective's signature check", seconds)
        return rows

    def all_gather_object(self, obj: Any, seconds: float) -> list:
        import pickle

        payload = np.frombuffer(pickle.dumps(obj), dtype=np.uint8)
        sizes = np.empty(self.size, dtype=np.int64)
        self._wait(
            self.comm.Iallgather(np.array([payload.size]), sizes), "all_gather_object", seconds
        )
        received = np.empty(int(sizes.sum()), dtype=np.uint8)
        request = self.comm.Iallgatherv(payload, (received, sizes))
        self._wait(request, "all_gather_object", seconds)
        ends = np.cumsum(sizes)
        return [pickle.loads(received[e - n : e].tobytes()) for e, n in zip(ends, sizes)]

    def broadcast_object(self, payload: bytes | None, src: int, seconds: float) -> bytes:
        size = np.array([0 if payload is None else len(payload)], dtype=np.int64)
        self._wait(self.comm.Ibcast(size, root=src), "broadcast_object_list", seconds)
        buffer = (
            np.frombuffer(payload, dtype=np.uint8).copy()
            if payload is not None
            else np.empty(int(size[0]), dtype=np.uint8)
        )
        self._wait(self.comm.Ibcast(buffer, root=src), "broadcast_object_list", seconds)
        return buffer.tobytes()

    def close(self) -> None:
        self.comm.Free()


_previous_excepthook = None


def install_abort_on_exception() -> None:
    """Make an unhandled exception in any rank abort the whole job (MPI_Abort), as
    `python -m mpi4py` does: otherwise the other ranks wait in their next collective forever."""
    global _previous_excepthook
    if _previous_excepthook is not None:
        return
    _previous_excepthook = sys.excepthook

    def abort_job(kind, value, traceback):
        _previous_excepthook(kind, value, traceback)
        comm = world_comm()
        if comm.size > 1:
            sys.stderr.write(f"minigrad.distributed: rank {comm.rank} failed; aborting the job\n")
            sys.stderr.flush()
            comm.Abort(1)

    sys.excepthook = abort_job

"""The "nccl" backend: collectives on CUDA tensors through CuPy's NCCL bindings.

Owns the NCCL communicator (`cupy.cuda.nccl.NcclCommunicator`, one GPU per process; rank 0
draws the NCCL unique id and MPI broadcasts it, so the job needs no address or port), the
mapping of dtypes and `ReduceOp` to NCCL's, and the CUDA stream the collectives run on.

Ordering: each collective runs on this backend's own stream, after an event recorded on the
stream the tensor was computed on (so it sees backward's results), and `Work` is done when an
event recorded after the collective has completed. Small metadata (the cross-rank signature
check, objects, barrier) goes over MPI. NCCL refuses two ranks on one GPU: a machine with one
GPU runs world size 1 only.
"""

from __future__ import annotations

import os
from typing import Any

from minigrad.distributed.mpi_backend import MPIBackend
from minigrad.distributed.process_group import ReduceOp, Work, poll_until_done

_INSTALL_HINT = (
    "backend='nccl' needs CuPy and the NCCL library: pip install cupy-cuda12x "
    "'nvidia-nccl-cu12>=2.18.1,<3' (or the cu13 pair)"
)


def _nccl():
    try:
        import cupy
        from cupy.cuda import nccl
    except ImportError as error:
        raise RuntimeError(f"{_INSTALL_HINT} ({error})") from error
    if not getattr(nccl, "available", False):
        raise RuntimeError(f"CuPy is installed but cannot load libnccl. {_INSTALL_HINT}")
    return cupy, nccl


class NCCLBackend(MPIBackend):
    """The default process group over NCCL; MPI (inherited) carries the small host messages."""

    name = "nccl"

    def __init__(self, world, device_id: Any = None):
        super().__init__(world)
        cupy, nccl = _nccl()
        self.cupy, self.nccl = cupy, nccl
        count = cupy.cuda.runtime.getDeviceCount()
        if count == 0:
            raise RuntimeError("backend='nccl' needs a CUDA GPU; none is visible")
        index = _device_index(device_id, self.local_rank, count)
        self.device = cupy.cuda.Device(index)
        self.device.use()
        unique_id = nccl.get_unique_id() if self.rank == 0 else None
        unique_id = self.comm.bcast(unique_id, root=0)
        self.nccl_comm = nccl.NcclCommunicator(self.size, unique_id, self.rank)
        self.stream = cupy.cuda.Stream(non_blocking=True)
        self._dtypes = {
            "float16": nccl.NCCL_FLOAT16,
            "float32": nccl.NCCL_FLOAT32,
            "float64": nccl.NCCL_FLOAT64,
            "int8": nccl.NCCL_INT8,
            "uint8": nccl.NCCL_UINT8,
            "int32": nccl.NCCL_INT32,
            "int64": nccl.NCCL_INT64,
            "bool": nccl.NCCL_UINT8,  # reduced with MAX / MIN below, as PyTorch's NCCL group
        }

    # --- arrays ---

    def stage(self, data):
        if not isinstance(data, self.cupy.ndarray):
            raise TypeError(
                f"backend='nccl' communicates CUDA tensors; got a tensor on the host "
                f"({type(data).__name__}). Move it with .to('cuda') or use backend='mpi'"
            )
        if data.flags.c_contiguous:
            return data, False
        return self.cupy.ascontiguousarray(data), True

    def empty_like_stacked(self, array, size: int):
        return self.cupy.empty((size, *array.shape), dtype=array.dtype)

    def stack(self, arrays: list):
        return self.cupy.stack(arrays)

    def _dtype(self, array) -> int:
        code = self._dtypes.get(str(array.dtype))
        if code is None:
            raise TypeError(f"NCCL cannot communicate {array.dtype} tensors")
        return code

    def _op(self, op: ReduceOp, array) -> int:
        nccl = self.nccl
        if array.dtype.kind == "b":
            table = {
                ReduceOp.SUM: nccl.NCCL_MAX,
                ReduceOp.MAX: nccl.NCCL_MAX,
                ReduceOp.PRODUCT: nccl.NCCL_MIN,
                ReduceOp.MIN: nccl.NCCL_MIN,
            }
        else:
            table = {
                ReduceOp.SUM: nccl.NCCL_SUM,
                # floats: NCCL averages; integers: summed, then truncated (finish_reduce)
                ReduceOp.AVG: nccl.NCCL_AVG if array.dtype.kind == "f" else nccl.NCCL_SUM,
                ReduceOp.PRODUCT: nccl.NCCL_PROD,
                ReduceOp.MIN: nccl.NCCL_MIN,
                ReduceOp.MAX: nccl.NCCL_MAX,
            }
        code = table.get(op)
        if code is None:
            raise TypeError(f"Cannot use ReduceOp.{op.name} with NCCL on {array.dtype} tensors")
        return code

    # --- collectives: enqueued on self.stream, ordered after the caller's stream ---

    def start(self, what: str, start, finish) -> Work:
        cupy = self.cupy
        ready = cupy.cuda.Event()
        ready.record(cupy.cuda.get_current_stream())
        self.stream.wait_event(ready)
        with self.device:
            start()
        done = cupy.cuda.Event()
        done.record(self.stream)

        def block(seconds: float) -> None:
            poll_until_done(lambda: done.done, seconds, what, self.rank)
            self.nccl_comm.check_async_error()
            # later kernels on the caller's stream must see the result
            cupy.cuda.get_current_stream().wait_event(done)

        return Work(what, lambda: done.done, block, finish)

    def all_reduce(self, array, op: ReduceOp):
        ptr = array.data.ptr
        self.nccl_comm.allReduce(
            ptr, ptr, array.size, self._dtype(array), self._op(op, array), self.stream.ptr
        )

    def finish_reduce(self, array, op: ReduceOp, size: int) -> None:
        if op is ReduceOp.AVG and array.dtype.kind != "f":
            cupy = self.cupy
            cupy.multiply(cupy.sign(array), cupy.abs(array) // size, out=array)

    def reduce(self, array, op: ReduceOp, dst: int):
        ptr = array.data.ptr
        self.nccl_comm.reduce(
            ptr, ptr, array.size, self._dtype(array), self._op(op, array), dst, self.stream.ptr
        )

    def broadcast(self, array, src: int):
        self.nccl_comm.bcast(array.data.ptr, array.size, self._dtype(array), src, self.stream.ptr)

    def all_gather(self, send, gathered):
        self.nccl_comm.allGather(
            send.data.ptr, gathered.data.ptr, send.size, self._dtype(send), self.stream.ptr
        )

    def reduce_scatter(self, packed, out, op: ReduceOp):
        self.nccl_comm.reduceScatter(
            packed.data.ptr,
            out.data.ptr,
            out.size,
            self._dtype(out),
            self._op(op, out),
            self.stream.ptr,
        )

    def barrier(self):
        # NCCL has no barrier: finish this rank's GPU work, then meet over MPI
        self.cupy.cuda.get_current_stream().synchronize()
        self._wait(self.comm.Ibarrier(), "barrier", float("inf"))

    def close(self) -> None:
        self.stream.synchronize()
        self.nccl_comm.destroy()
        super().close()


def _device_index(device_id: Any, local_rank: int, count: int) -> int:
    """The GPU of this process: device_id= if given, else LOCAL_RANK (one GPU per local rank)."""
    if device_id is None:
        local = int(os.environ.get("LOCAL_RANK", local_rank))
        return local % count
    index = getattr(device_id, "index", device_id)
    if index is None or not 0 <= int(index) < count:
        raise ValueError(f"device_id={device_id!r} is not one of the {count} visible GPUs")
    return int(index)

"""Rank 1 raises; rank 0 waits in a collective that can never complete."""

import time

from _common import write_result

import minigrad.distributed as dist

dist.init_process_group("mpi")
if dist.get_rank() == 1:
    time.sleep(0.2)
    raise ValueError("rank 1 fails on purpose")
write_result({"reached": True})
dist.barrier()
write_result({"passed_barrier": True})

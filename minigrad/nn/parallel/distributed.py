"""`DistributedDataParallel`: one model replica per process, gradients averaged across them.

How it works (PyTorch's design, on minigrad's public API only):
- At construction every rank's parameter names, shapes and dtypes are compared (a clear error
  naming the first mismatch, on every rank, instead of a hang), then rank 0's parameters and
  buffers are broadcast, so every replica starts identical.
- Parameters are grouped into buckets in reverse registration order (gradients appear roughly
  in that order during backward): the first bucket holds up to 1 MB, the others `bucket_cap_mb`.
  Each bucket is one flat buffer per dtype.
- A `register_post_accumulate_grad_hook` per parameter copies the finished `.grad` into its
  bucket slot. A full bucket starts a non-blocking all-reduce, always in bucket order (every
  rank must issue them in the same order). The hook that completes the last bucket waits for
  all of them, divides by the world size and writes the averages back into `.grad`: that is
  the end of backward, so `optimizer.step()` afterwards sees averaged gradients.
- `no_sync()`: forwards run inside it skip the reduction in their backward, so gradients only
  accumulate locally; the first backward after it reduces the accumulated sum.
- A parameter that gets no gradient leaves its bucket unfinished. Without
  `find_unused_parameters=True` the next forward raises PyTorch's error. With it, forward walks
  the output's graph and marks the parameters it cannot reach as ready (their slot holds zeros),
  and the ranks agree which parameters nobody used: those keep `.grad` as it was.
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np

from minigrad import distributed as dist
from minigrad.autograd import is_grad_enabled
from minigrad.backend import writeable
from minigrad.nn.module import Module
from minigrad.tensor import Tensor

_FIRST_BUCKET_BYTES = 1024 * 1024  # PyTorch's dist._DEFAULT_FIRST_BUCKET_BYTES

_UNFINISHED = (
    "Expected to have finished reduction in the prior iteration before starting a new one. "
    "This error indicates that your module has parameters that were not used in producing "
    "loss. You can enable unused parameter detection by passing the keyword argument "
    "`find_unused_parameters=True` to `minigrad.nn.parallel.DistributedDataParallel`, and by "
    "making sure all `forward` function outputs participate in calculating loss. If you already "
    "have done the above, then the distributed data parallel module wasn't able to locate the "
    "output tensors in the return value of your module's `forward` function.\n"
    "Parameters which did not receive grad for rank {rank}: {names}"
)


class _Bucket:
    """Parameters whose gradients are reduced together through one flat buffer."""

    def __init__(self, index: int, params: list, names: list, xp: Any):
        self.index = index
        self.params = params
        self.names = names
        self.xp = xp  # NumPy, or CuPy when NCCL reduces CUDA tensors in place on the GPU
        offsets = np.concatenate([[0], np.cumsum([p.numel() for p in params])]).astype(int)
        self.buffer = xp.zeros(int(offsets[-1]), dtype=params[0].dtype)
        # one view object per parameter: `.grad` may be set to it (gradient_as_bucket_view)
        self.views = [
            self.buffer[a:b].reshape(p.shape) for a, b, p in zip(offsets, offsets[1:], params)
        ]
        self.pending = len(params)
        self.ready: set = set()
        self.work = None


class DistributedDataParallel(Module):
    """Wrap `module` so that `backward()` leaves every rank with the gradients averaged over all
    ranks, as `torch.nn.parallel.DistributedDataParallel`. Call `init_process_group` first.
    """

    def __init__(
        self,
        module: Module,
        device_ids: list | None = None,
        output_device: Any = None,
        dim: int = 0,
        broadcast_buffers: bool = True,
        process_group: Any = None,
        bucket_cap_mb: float | None = None,
        find_unused_parameters: bool = False,
        check_reduction: bool = False,
        gradient_as_bucket_view: bool = False,
        static_graph: bool = False,
    ):
        super().__init__()
        if not dist.is_initialized():
            raise ValueError(
                "Default process group has not been initialized, please make sure to call "
                "init_process_group."
            )
        if dim != 0:
            raise ValueError(f"dim={dim}: DistributedDataParallel splits no inputs; keep dim=0")
        self.module = module
        self.process_group = dist.group.WORLD if process_group is None else process_group
        dist.get_rank(self.process_group)  # validates the group
        self.device_ids = device_ids
        self.output_device = output_device
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.bucket_cap_mb = 25 if bucket_cap_mb is None else bucket_cap_mb
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True

        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        if not named:
            raise RuntimeError(
                "DistributedDataParallel is not needed when a module doesn't have any parameter "
                "that requires a gradient."
            )
        _verify_same_parameters(named, self.process_group)
        _broadcast_state(module, self.process_group)
        self._world_size = dist.get_world_size(self.process_group)
        self._rank = dist.get_rank(self.process_group)
        self._impl = self.process_group.impl
        object.__setattr__(self, "_buckets", self._build_buckets(named))
        object.__setattr__(self, "_slot", {})  # id(param) -> (bucket, index in bucket)
        for bucket in self._buckets:
            for k, p in enumerate(bucket.params):
                self._slot[id(p)] = (bucket, k)
        self._sync_this_backward = False
        self._reducing = False
        self._unused_ids: frozenset = frozenset()
        self._next_launch = 0
        self._hook_handles = [
            p.register_post_accumulate_grad_hook(self._grad_ready) for _, p in named
        ]

    # --- buckets ---

    def _build_buckets(self, named: list) -> list:
        cap = int(self.bucket_cap_mb * 1024 * 1024)
        buckets: list = []
        open_params: dict = {}  # dtype -> (params, names, bytes)
        limit = min(_FIRST_BUCKET_BYTES, cap)  # a cap below 1 MB applies to the first too
        for name, p in reversed(named):
            params, names, size = open_params.get(p.dtype, ([], [], 0))
            if params and size + p._data.nbytes > limit:
                buckets.append(_Bucket(len(buckets), params, names, self._xp(params)))
                limit = cap
                params, names, size = [], [], 0
            params.append(p)
            names.append(name)
            open_params[p.dtype] = (params, names, size + p._data.nbytes)
        for params, names, _ in open_params.values():
            if params:
                buckets.append(_Bucket(len(buckets), params, names, self._xp(params)))
        return buckets

    def _xp(self, params: list) -> Any:
        if self._impl.name == "nccl":
            import cupy

            return cupy
        return np

    def _grad_ready(self, param: Tensor) -> None:
        """Post-accumulate hook: `param.grad` is final for this backward."""
        if not self._sync_this_backward:
            return
        bucket, k = self._slot[id(param)]
        if k in bucket.ready:
            raise RuntimeError(
                f"Expected to mark a variable ready only once. Parameter "
                f"{bucket.names[k]!r} got a gradient twice in one backward on rank "
                f"{self._rank} (reused in a way DistributedDataParallel cannot reduce once)"
            )
        self._reducing = True
        grad = param.grad._data
        view = bucket.views[k]
        if grad is not view:
            if type(grad) is not type(view):  # a CUDA gradient on the "mpi" backend
                grad = self._impl.stage(grad)[0]
            view[...] = grad
        self._mark(bucket, k)

    def _mark(self, bucket: _Bucket, k: int) -> None:
        bucket.ready.add(k)
        bucket.pending -= 1
        if bucket.pending == 0:
            self._launch_ready_buckets()

    def _launch_ready_buckets(self) -> None:
        buckets = self._buckets
        while self._next_launch < len(buckets) and buckets[self._next_launch].pending == 0:
            bucket = buckets[self._next_launch]
            bucket.work = self._impl.start(
                "DistributedDataParallel gradient all_reduce",
                lambda b=bucket: self._impl.all_reduce(b.buffer, dist.ReduceOp.SUM),
                None,
            )
            self._next_launch += 1
        if self._next_launch == len(buckets):
            self._finish_reduction()

    def _finish_reduction(self) -> None:
        """All buckets launched: wait, average, write back (the end of a synced backward)."""
        seconds = self.process_group.timeout.total_seconds()
        globally_unused = self._globally_unused(seconds)
        for bucket in self._buckets:
            bucket.work._block(seconds)
            bucket.xp.divide(bucket.buffer, self._world_size, out=bucket.buffer)
            for k, p in enumerate(bucket.params):
                if id(p) in globally_unused:
                    continue
                self._write_grad(p, bucket.views[k])
        self._reducing = False
        self._reset(self._unused_ids)

    def _globally_unused(self, seconds: float) -> set:
        if not self.find_unused_parameters:
            return set()
        ordered = [p for b in self._buckets for p in b.params]
        xp = self._buckets[0].xp
        used = xp.asarray([id(p) not in self._unused_ids for p in ordered], dtype=np.int32)
        work = self._impl.start(
            "DistributedDataParallel unused-parameter map",
            lambda: self._impl.all_reduce(used, dist.ReduceOp.MAX),
            None,
        )
        work._block(seconds)
        return {id(p) for p, u in zip(ordered, used.tolist()) if not u}

    def _write_grad(self, p: Tensor, averaged: Any) -> None:
        grad = p.grad
        if self.gradient_as_bucket_view and type(p._data) is type(averaged):
            if grad is None:
                p.grad = Tensor._make(averaged)
            else:
                grad._data = averaged
                grad._vc[0] += 1
            return
        if grad is None:
            p.grad = Tensor._make(_like(averaged.copy(), p._data))
        elif type(grad._data) is type(averaged) and writeable(grad._data):
            grad._data[...] = averaged
            grad._vc[0] += 1
        else:
            grad._data = _like(averaged.copy(), p._data)
            grad._vc[0] += 1

    def _reset(self, unused_ids: frozenset) -> None:
        self._next_launch = 0
        for bucket in self._buckets:
            bucket.pending = len(bucket.params)
            bucket.ready = set()
            bucket.work = None
        for pid in unused_ids:  # a second backward through the same forward sees them again
            bucket, k = self._slot[pid]
            bucket.views[k][...] = 0
            bucket.ready.add(k)
            bucket.pending -= 1

    def _check_previous_finished(self) -> None:
        """A synced backward that started (a gradient arrived) must have finished reducing."""
        if self._reducing:
            missing = [
                b.names[k]
                for b in self._buckets
                for k in range(len(b.params))
                if k not in b.ready and id(b.params[k]) not in self._unused_ids
            ]
            if missing:
                raise RuntimeError(_UNFINISHED.format(rank=self._rank, names=", ".join(missing)))

    # --- forward ---

    def forward(self, *inputs, **kwargs):
        self._check_previous_finished()
        if self.broadcast_buffers and self.require_forward_param_sync:
            _broadcast_buffers(self.module, self.process_group)
        output = self.module(*inputs, **kwargs)
        sync = is_grad_enabled() and self.require_backward_grad_sync
        self._sync_this_backward = sync
        unused: frozenset = frozenset()
        if sync and self.find_unused_parameters:
            reached = _reachable_leaves(output)
            unused = frozenset(pid for pid in self._slot if pid not in reached)
        self._unused_ids = unused
        self._reset(unused if sync else frozenset())
        if sync and unused and self._buckets[0].pending == 0:
            self._launch_ready_buckets()  # leading buckets of unused parameters only
        return output

    @contextlib.contextmanager
    def no_sync(self):
        """Inside, forwards skip gradient averaging in their backward: gradients accumulate
        locally; the first synced backward afterwards averages the accumulated sum."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous

    def __repr__(self) -> str:
        return f"DistributedDataParallel(\n  (module): {self.module!r}\n)"


def _like(array: Any, like) -> Any:
    if type(like) is type(array):
        return array
    from minigrad.backend import backend_of

    return backend_of(like).from_host(array, Tensor._make(like).device)


def _reachable_leaves(output: Any) -> set:
    """ids of the leaves the autograd graph of `output` (tensors in any nesting) reaches."""
    stack, seen_nodes, leaves = [], set(), set()

    def collect(obj):
        if isinstance(obj, Tensor):
            if obj.grad_fn is not None:
                stack.append(obj.grad_fn)
            else:
                leaves.add(id(obj))
        elif isinstance(obj, (list, tuple)):
            for item in obj:
                collect(item)
        elif isinstance(obj, dict):
            for item in obj.values():
                collect(item)

    collect(output)
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        for source in node.next:
            if source is None:
                continue
            if source._is_node:
                stack.append(source)
            else:
                leaves.add(id(source))
    return leaves


def _verify_same_parameters(named: list, group: Any) -> None:
    """Every rank must hold the same parameters (name, shape, dtype), in the same order."""
    mine = [(n, tuple(p.shape), str(p.dtype)) for n, p in named]
    everyone = [None] * dist.get_world_size(group)
    dist.all_gather_object(everyone, mine, group=group)
    reference = everyone[0]
    for rank, theirs in enumerate(everyone):
        if len(theirs) != len(reference):
            raise RuntimeError(
                f"DDP expects same model across all ranks, but rank {rank} has {len(theirs)} "
                f"parameters while rank 0 has {len(reference)}"
            )
        for k, (a, b) in enumerate(zip(reference, theirs)):
            if a != b:
                raise RuntimeError(
                    f"DDP expects same model across all ranks: parameter {k} is {b[0]!r} of "
                    f"shape {b[1]} and dtype {b[2]} on rank {rank} but {a[0]!r} of shape {a[1]} "
                    f"and dtype {a[2]} on rank 0"
                )


def _broadcast_flat(tensors: list, group: Any) -> None:
    """Rank 0's values of `tensors` into every rank's, one broadcast per dtype."""
    by_dtype: dict = {}
    for t in tensors:
        by_dtype.setdefault(str(t.dtype), []).append(t)
    for same in by_dtype.values():
        if dist.get_backend(group) == "nccl":  # NCCL broadcasts on the GPU
            import cupy

            flat = Tensor._make(cupy.concatenate([t._data.reshape(-1) for t in same]))
        else:
            flat = Tensor._make(np.concatenate([_host(t).reshape(-1) for t in same]))
        dist.broadcast(flat, src=0, group=group)
        start = 0
        for t in same:
            n = t.numel()
            piece = flat._data[start : start + n].reshape(t.shape)
            t._data[...] = _like(piece, t._data)
            t._vc[0] += 1
            start += n


def _host(t: Tensor) -> np.ndarray:
    from minigrad.backend import to_host

    return to_host(t)


def _broadcast_state(module: Module, group: Any) -> None:
    tensors = [p for p in module.parameters()] + [b for b in module.buffers() if b is not None]
    if dist.get_world_size(group) > 1 and tensors:
        _broadcast_flat(tensors, group)


def _broadcast_buffers(module: Module, group: Any) -> None:
    buffers = [b for b in module.buffers() if b is not None]
    if dist.get_world_size(group) > 1 and buffers:
        _broadcast_flat(buffers, group)

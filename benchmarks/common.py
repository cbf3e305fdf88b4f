"""Shared timing harness for the benchmarks: one `Workload` per file, run side by side.

A workload module defines `WORKLOAD = Workload(...)` with two builders, one per framework. Each
builder sets up its model/data and returns a zero-argument `step()` that does one full unit of
work (forward, backward and, where the workload has one, the optimizer update). The harness
runs each framework in fresh processes that alternate (minigrad, torch, minigrad, torch), so
slow drift of this noisy machine hits both alike; each process warms its step up and times
blocks of repeats; it reports medians (and minimums) of all timed repeats.

Why not both in one process: each framework's idle worker threads (OpenMP's and OpenBLAS's
spin for a while after a parallel kernel) and the allocator state one leaves behind slow the
other; measured here, PyTorch's mlp and attention steps ran ~2x slower interleaved with NumPy
than alone. `python benchmarks/common.py --child MODULE FRAMEWORK BLOCKS BLOCK` is one such
process (it prints the times as JSON).
"""

from __future__ import annotations

import gc
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

# Run as `python benchmarks/x.py` from anywhere: make the repository importable.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

# Both frameworks get the same number of threads: PyTorch through torch.set_num_threads, NumPy's
# OpenBLAS through OPENBLAS_NUM_THREADS (read once, when NumPy loads it). Default: one per core
# (what each library does by itself on this machine). `set_threads` changes both.
THREADS = int(os.environ.get("MINIGRAD_BENCH_THREADS", os.cpu_count() or 1))


def set_threads(n: int) -> None:
    """Give both frameworks `n` threads; call it before anything imports NumPy."""
    global THREADS
    if "numpy" in sys.modules and os.environ.get("OPENBLAS_NUM_THREADS") != str(n):
        raise RuntimeError("set_threads must run before NumPy is imported (OpenBLAS reads it once)")
    THREADS = n
    os.environ["OPENBLAS_NUM_THREADS"] = str(n)
    os.environ["MINIGRAD_BENCH_THREADS"] = str(n)


if "numpy" not in sys.modules:
    set_threads(THREADS)  # explicit, so both frameworks' counts are known and equal

# Where both frameworks run: "cpu" (NumPy / PyTorch CPU) or "cuda" (CuPy / PyTorch CUDA, the same
# GPU). Like the thread count it travels to the child processes in the environment.
DEVICE = os.environ.get("MINIGRAD_BENCH_DEVICE", "cpu")
# Problem sizes: "small" (the CPU figures) or "large" (the GPU figures); default by device.
SIZE = os.environ.get("MINIGRAD_BENCH_SIZE", "large" if DEVICE == "cuda" else "small")


def set_device(device: str, size: str | None = None) -> None:
    """Run the workloads on `device` ("cpu" or "cuda") at `size` ("small" or "large")."""
    global DEVICE, SIZE
    if device not in ("cpu", "cuda"):
        raise ValueError(f"device must be 'cpu' or 'cuda', got {device!r}")
    DEVICE, SIZE = device, size or ("large" if device == "cuda" else "small")
    if SIZE not in ("small", "large"):
        raise ValueError(f"size must be 'small' or 'large', got {SIZE!r}")
    if DEVICE == "cuda":
        import minigrad as mg

        if not mg.cuda.is_available():
            raise SystemExit("--device cuda needs CuPy and an NVIDIA GPU (mg.cuda.is_available())")
    os.environ["MINIGRAD_BENCH_DEVICE"] = DEVICE
    os.environ["MINIGRAD_BENCH_SIZE"] = SIZE


def synchronize(framework: str) -> None:
    """Wait for the GPU's queued work (kernels run asynchronously), so a step's time is its own."""
    if DEVICE != "cuda":
        return
    if framework == "torch":
        import torch

        torch.cuda.synchronize()
    else:
        import minigrad as mg

        mg.cuda.synchronize()


Step = Callable[[], None]


def adam_cross_entropy_step(lib, model, weights: list, x, y, lr: float) -> Step:
    """The classifier step mlp_step and cnn_step time, written once for both frameworks: `lib`
    is minigrad or torch (their APIs agree here), `model` that framework's Module. Copies in the
    initial weights (NumPy arrays), moves everything to DEVICE, and steps Adam on cross-entropy."""
    with lib.no_grad():
        for p, w in zip(model.parameters(), weights):
            p.copy_(lib.from_numpy(w))
    model.to(DEVICE)
    opt = lib.optim.Adam(model.parameters(), lr=lr)
    xt, yt = lib.from_numpy(x).to(DEVICE), lib.from_numpy(y).to(DEVICE)
    cross_entropy = lib.nn.functional.cross_entropy

    def step():
        opt.zero_grad()
        loss = cross_entropy(model(xt), yt)
        loss.backward()
        opt.step()

    return step


@dataclass
class Workload:
    """One benchmark: how to build a step per framework and how to report its time.

    `per` divides the step time (e.g. by the number of ops, for a per-op cost); `unit_scale`
    converts seconds to the reported unit (1e3 for ms, 1e6 for µs).
    """

    name: str
    description: str
    unit: str
    unit_scale: float
    build_minigrad: Callable[[], Step]
    build_torch: Callable[[], Step] | None = None
    per: int = 1
    warmup: int = 20
    block: int = 20  # timed repeats per block
    blocks: int = 10  # blocks per framework, spread over `rounds` fresh processes
    rounds: int = 2  # processes per framework (alternating minigrad, torch, minigrad, ...)
    target: float | None = None  # the ratio (minigrad/torch) we aim at or below
    notes: list[str] = field(default_factory=list)
    devices: tuple[str, ...] = ("cpu",)  # where the workload means something


@dataclass
class Result:
    name: str
    unit: str
    minigrad: list[float]  # per-repeat times in `unit`
    torch: list[float] | None
    target: float | None
    notes: list[str]

    @property
    def mg_median(self) -> float:
        return statistics.median(self.minigrad)

    @property
    def torch_median(self) -> float | None:
        return statistics.median(self.torch) if self.torch else None

    @property
    def ratio(self) -> float | None:
        t = self.torch_median
        return self.mg_median / t if t else None


def torch_or_none():
    """PyTorch configured for the comparison, or None when it is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(THREADS)
    return torch


def _time_block(step: Step, n: int, sync: Callable[[], None]) -> list[float]:
    times = []
    clock = time.perf_counter
    for _ in range(n):
        t0 = clock()
        step()
        sync()
        times.append(clock() - t0)
    return times


def time_step(w: Workload, framework: str, blocks: int, block: int) -> list[float]:
    """Build one framework's step, warm it up, and time `blocks` blocks of `block` repeats
    (seconds per repeat). The garbage collector is paused inside a block and run between them,
    so no single step is charged for a whole collection."""
    step = w.build_torch() if framework == "torch" else w.build_minigrad()
    sync = lambda: synchronize(framework)  # noqa: E731
    for _ in range(w.warmup):
        step()
    sync()
    times: list[float] = []
    gc_was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        for _ in range(blocks):
            times.extend(_time_block(step, block, sync))
            gc.collect()
    finally:
        if gc_was_enabled:
            gc.enable()
    return times


def _torch_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("torch") is not None


def run_workload(w: Workload, *, with_torch: bool = True, scale_repeats: float = 1.0) -> Result:
    """Time both frameworks, each in fresh processes, alternating; per-repeat times in `w.unit`.

    Why separate processes: in one process each framework's idle worker threads (OpenMP's and
    OpenBLAS's spin for a while after a parallel kernel) and the allocator state the other
    left behind change the other's timings; PyTorch measured up to 2x slower interleaved with
    NumPy than alone. Why alternating: slow drift of a shared machine then hits both alike.
    """
    frameworks = ["minigrad"]
    if with_torch and w.build_torch is not None and _torch_installed():
        frameworks.append("torch")
    block = max(1, int(w.block * scale_repeats))
    per_round = max(1, round(w.blocks * scale_repeats / w.rounds))
    times: dict[str, list[float]] = {k: [] for k in frameworks}
    for _ in range(w.rounds):
        for name in frameworks:
            times[name].extend(_in_child(w.name, name, per_round, block))
    factor = w.unit_scale / w.per
    return Result(
        name=w.name,
        unit=w.unit,
        minigrad=[t * factor for t in times["minigrad"]],
        torch=[t * factor for t in times["torch"]] if "torch" in times else None,
        target=w.target,
        notes=list(w.notes),
    )


def _in_child(module: str, framework: str, blocks: int, block: int) -> list[float]:
    """`time_step` in a fresh interpreter (same environment: thread counts included)."""
    import json
    import subprocess

    out = subprocess.run(
        [
            sys.executable,
            os.path.abspath(__file__),
            "--child",
            module,
            framework,
            str(blocks),
            str(block),
        ],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{module} ({framework}) failed:\n{out.stderr.strip()[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _child_main(module: str, framework: str, blocks: str, block: str) -> None:
    import importlib
    import json

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    if framework == "torch":
        torch_or_none()  # thread count set before the step is built
    # "module:variant" names one of a module's several WORKLOADS (see unet_ops.py)
    module, _, variant = module.partition(":")
    loaded = importlib.import_module(module)
    w = loaded.WORKLOADS[variant] if variant else loaded.WORKLOAD
    print(json.dumps(time_step(w, framework, int(blocks), int(block))))


def format_table(results: list[Result]) -> str:
    """A Markdown table: medians (min), ratio minigrad/torch, and the target."""
    lines = [
        "| workload | unit | minigrad median (min) | torch median (min) | ratio mg/torch "
        "| target |",
        "|---|---|---:|---:|---:|---:|",
    ]

    def num(x: float) -> str:
        return f"{x:.0f}" if x >= 1000 else f"{x:.3g}"

    for r in results:
        mg = f"{num(r.mg_median)} ({num(min(r.minigrad))})"
        if r.torch:
            th = f"{num(r.torch_median)} ({num(min(r.torch))})"
            ratio = f"{r.ratio:.2f}x"
        else:
            th, ratio = "n/a", "n/a"
        target = f"≤ {r.target:.1f}x" if r.target else ""
        lines.append(f"| {r.name} | {r.unit} | {mg} | {th} | {ratio} | {target} |")
    return "\n".join(lines)


def versions() -> str:
    import platform

    import numpy as np

    import minigrad

    parts = [
        f"Python {platform.python_version()}",
        f"NumPy {np.__version__} (OpenBLAS threads: {os.environ.get('OPENBLAS_NUM_THREADS')})",
        f"minigrad {minigrad.__version__}",
    ]
    torch = torch_or_none()
    if torch is None:
        parts.append("no PyTorch")
    else:
        parts.append(f"PyTorch {torch.__version__} ({torch.get_num_threads()} threads)")
    if DEVICE == "cuda":
        import cupy

        name = cupy.cuda.runtime.getDeviceProperties(0)["name"]
        name = name.decode() if isinstance(name, bytes) else name
        parts.append(f"CuPy {cupy.__version__} on {name}")
        if torch is not None:
            parts.append(f"PyTorch CUDA {torch.version.cuda}")
    parts.append(f"device {DEVICE}, {SIZE} sizes")
    return ", ".join(parts)


def add_device_arguments(parser) -> None:
    parser.add_argument(
        "--device", choices=("cpu", "cuda"), default=DEVICE, help="where both frameworks run"
    )
    parser.add_argument(
        "--size",
        choices=("small", "large"),
        help="problem sizes (default: small on cpu, large on cuda)",
    )


def main(workload: Workload) -> None:
    """`python benchmarks/<name>.py [--quick] [--no-torch]`: run one workload alone."""
    import argparse

    parser = argparse.ArgumentParser(description=workload.description)
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    parser.add_argument("--no-torch", action="store_true", help="time minigrad only")
    parser.add_argument("--threads", type=int, help="threads for both frameworks (default: cores)")
    add_device_arguments(parser)
    args = parser.parse_args()
    if args.threads:
        set_threads(args.threads)
    set_device(args.device, args.size)
    result = run_workload(
        workload, with_torch=not args.no_torch, scale_repeats=0.2 if args.quick else 1.0
    )
    print(versions())
    print(format_table([result]))


if __name__ == "__main__" and len(sys.argv) == 6 and sys.argv[1] == "--child":
    _child_main(*sys.argv[2:])

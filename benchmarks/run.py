"""Run every benchmark, minigrad beside PyTorch CPU, and print one table of medians and ratios.

    python benchmarks/run.py               # all workloads (`make bench`)
    python benchmarks/run.py --quick       # fewer repeats, for a smoke run
    python benchmarks/run.py tiny_ops      # only the named workloads
    python benchmarks/run.py --no-torch    # minigrad alone (also automatic without torch)
    python benchmarks/run.py --device cuda # CuPy beside PyTorch CUDA (mlp and attention steps)

Workloads are the modules named in WORKLOADS that exist here; each defines `WORKLOAD` (see
common.py). They run one after another in this process, each framework in alternating blocks.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import os
import platform
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import common  # noqa: E402

WORKLOADS = (
    "tiny_ops",
    "mlp_step",
    "scalar_graph",
    "attention_step",
    "hand_attention_step",
    "cnn_step",
    "long_chain_forward",
    "long_chain",
    "lstm_step",
    "scatter_step",
    "unet_ops",
    "distances_step",
)


def load(name: str) -> list[common.Workload]:
    """The workloads module `name` defines: its WORKLOAD, or each of its WORKLOADS."""
    if not os.path.exists(os.path.join(HERE, f"{name}.py")):
        return []
    module = importlib.import_module(name)
    if hasattr(module, "WORKLOADS"):
        return list(module.WORKLOADS.values())
    workload = getattr(module, "WORKLOAD", None)
    if workload is None:  # a module with just the two builders
        workload = common.Workload(
            name=name,
            description=(module.__doc__ or name).strip().splitlines()[0],
            unit="ms/step",
            unit_scale=1e3,
            build_minigrad=module.build_minigrad,
            build_torch=getattr(module, "build_torch", None),
        )
    return [workload]


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {os.cpu_count()} logical CPUs, {platform.system()}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"workloads to run (default: all of {WORKLOADS})")
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    parser.add_argument("--no-torch", action="store_true", help="time minigrad only")
    parser.add_argument(
        "--threads", type=int, help="threads for both frameworks (default: one per core)"
    )
    common.add_device_arguments(parser)
    args = parser.parse_args(argv)
    if args.threads:
        common.set_threads(args.threads)
    common.set_device(args.device, args.size)
    unknown = set(args.names) - set(WORKLOADS)
    if unknown:
        parser.error(f"unknown workloads {sorted(unknown)}; choose from {WORKLOADS}")

    print(f"{datetime.date.today()} | {machine()} | load average {os.getloadavg()[0]:.2f}")
    print(common.versions())
    if not args.no_torch and common.torch_or_none() is None:
        print("PyTorch is not installed: timing minigrad alone")
    results, failed = [], []
    for name in args.names or WORKLOADS:
        for workload in load(name):
            if common.DEVICE not in workload.devices:
                if args.names:
                    print(f"{workload.name}: runs on {', '.join(workload.devices)} only, not "
                          f"{common.DEVICE}")  # fmt: skip
                continue
            print(f"running {workload.name}: {workload.description}", flush=True)
            try:
                result = common.run_workload(
                    workload, with_torch=not args.no_torch, scale_repeats=0.2 if args.quick else 1.0
                )
            except Exception as exc:  # one broken workload should not hide the others' figures
                failed.append(f"{workload.name}: {type(exc).__name__}: {exc}")
                print(f"  FAILED: {failed[-1]}", flush=True)
                continue
            results.append(result)
    print()
    print(common.format_table(results))
    for line in failed:
        print(f"- failed {line}")
    for r in results:
        for note in r.notes:
            print(f"- {r.name}: {note}")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()

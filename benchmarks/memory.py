"""Memory of the mlp_step workload: peak RSS and whether it stays flat over many steps.

    python benchmarks/memory.py              # minigrad and PyTorch, each in a fresh process
    python benchmarks/memory.py --steps 500  # a longer run

RSS is per process, so each framework runs in its own child process (`--child NAME`). A child
reports its RSS after the imports, after building the model, after the first steps and after the
last step, and the peak (ru_maxrss). A training loop that leaks grows between "after 10 steps"
and "after N steps"; one that does not stays flat.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import common  # noqa: E402  (sets the thread counts before NumPy loads)


def _rss_mb() -> float:
    """Current resident set size, from /proc (Linux); the peak where /proc is missing."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return _peak_mb()


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def child(name: str, steps: int) -> dict:
    import numpy  # noqa: F401  (counted in the import figure, as every run needs it)

    if name == "torch":
        torch = common.torch_or_none()
        if torch is None:
            return {}
    else:
        import minigrad  # noqa: F401
    after_import = _rss_mb()
    import mlp_step

    step = mlp_step.build_torch() if name == "torch" else mlp_step.build_minigrad()
    after_build = _rss_mb()
    for _ in range(10):
        step()
    after_10 = _rss_mb()
    for _ in range(steps - 10):
        step()
    return {
        "framework": name,
        "import": after_import,
        "build": after_build,
        "after 10 steps": after_10,
        f"after {steps} steps": _rss_mb(),
        "peak": _peak_mb(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="training steps per framework")
    parser.add_argument("--threads", type=int, help="threads for both frameworks")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.steps = max(args.steps, 11)
    if args.threads:
        common.set_threads(args.threads)
    if args.child:
        print(json.dumps(child(args.child, args.steps)))
        return
    rows = []
    for name in ("minigrad", "torch"):
        out = subprocess.run(
            [sys.executable, __file__, "--child", name, "--steps", str(args.steps)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        row = json.loads(out.strip().splitlines()[-1])
        if row:
            rows.append(row)
    keys = [k for k in rows[0] if k != "framework"]
    print(f"mlp_step resident memory, MB ({common.THREADS} threads)")
    print("| framework | " + " | ".join(keys) + " |")
    print("|---|" + "---:|" * len(keys))
    for row in rows:
        print(f"| {row['framework']} | " + " | ".join(f"{row[k]:.0f}" for k in keys) + " |")


if __name__ == "__main__":
    main()

"""The launcher, torchrun's counterpart: `python -m minigrad.distributed.run --nproc-per-node 2
train.py args...` starts the script on N processes as one MPI job.

It runs `mpiexec -n N python -m mpi4py train.py args...` with the `mpiexec` beside this Python
(the one `pip install mpich` puts in the venv), so that an unhandled exception in any rank
aborts the whole job at once with a non-zero exit instead of leaving the other ranks waiting.
Unless OMP_NUM_THREADS is set, each rank gets cores // N BLAS threads (at least 1), so the
ranks do not fight over the cores. Multi-machine jobs: `--hostfile FILE` with `--nnodes M`
(plain MPI; see docs/distributed.md).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys

_MISSING = (
    "minigrad.distributed.run: no MPI found (no mpiexec beside {python} or on PATH, or mpi4py "
    "is not installed).\nInstall it with: pip install 'minigrad[distributed]'  "
    "(that is: pip install mpi4py mpich)"
)


def find_mpiexec() -> str | None:
    """The venv's mpiexec (beside sys.executable), else the first on PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.access(beside, os.X_OK):
        return beside
    return shutil.which("mpiexec")


def _is_open_mpi(mpiexec: str) -> bool:
    try:
        out = subprocess.run([mpiexec, "--version"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "Open MPI" in out.stdout + out.stderr or "OpenRTE" in out.stdout + out.stderr


def _nproc(value: str) -> int:
    if value in ("auto", "cpu"):
        return os.cpu_count() or 1
    if value == "gpu":
        from minigrad.backend import cuda_device_count

        return max(1, cuda_device_count())
    n = int(value)
    if n < 1:
        raise argparse.ArgumentTypeError(f"--nproc-per-node must be at least 1, got {n}")
    return n


def build_command(args: argparse.Namespace, mpiexec: str, open_mpi: bool) -> list:
    total = args.nproc_per_node * args.nnodes
    command = [mpiexec, "-n", str(total)]
    if args.hostfile:
        if open_mpi:
            command += ["--hostfile", args.hostfile, "--map-by", f"ppr:{args.nproc_per_node}:node"]
        else:
            command += ["-f", args.hostfile, "-ppn", str(args.nproc_per_node)]
    if open_mpi and total > (os.cpu_count() or 1) and not args.hostfile:
        command.append("--oversubscribe")
    command += [sys.executable, "-m", "mpi4py"]
    if args.module:
        command.append("-m")
    command += [args.script, *args.script_args]
    return command


def parse_args(argv: list | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m minigrad.distributed.run",
        description="Run a training script on N processes as one MPI job (torchrun's spelling).",
    )
    parser.add_argument(
        "--nproc-per-node",
        "--nproc_per_node",
        dest="nproc_per_node",
        type=_nproc,
        default=1,
        help="processes per machine: a number, 'auto'/'cpu' (one per core) or 'gpu'",
    )
    parser.add_argument("--nnodes", type=int, default=1, help="machines (needs --hostfile)")
    parser.add_argument("--hostfile", default=None, help="MPI hostfile naming the machines")
    parser.add_argument("-m", "--module", action="store_true", help="run script as a module")
    parser.add_argument("script", help="the training script (or module with -m)")
    parser.add_argument("script_args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    if args.nnodes > 1 and not args.hostfile:
        parser.error("--nnodes > 1 needs --hostfile (the machines MPI starts the ranks on)")
    return args


def main(argv: list | None = None) -> int:
    args = parse_args(argv)
    mpiexec = find_mpiexec()
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        mpiexec = None
    if mpiexec is None:
        print(_MISSING.format(python=sys.executable), file=sys.stderr)
        return 1
    open_mpi = _is_open_mpi(mpiexec)
    env = dict(os.environ)
    if "OMP_NUM_THREADS" not in env:
        env["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // args.nproc_per_node))
    if open_mpi and hasattr(os, "geteuid") and os.geteuid() == 0:
        print(
            "minigrad.distributed.run: Open MPI refuses to run as root; set "
            "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 if you mean it",
            file=sys.stderr,
        )
    command = build_command(args, mpiexec, open_mpi)
    try:
        return subprocess.call(command, env=env)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

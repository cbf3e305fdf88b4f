"""Runs real multi-process MPI jobs for the tests in this folder.

Every job has a hard timeout (a hang costs seconds, never CI's budget), and each rank writes
its own result file: the exit code alone is not trusted (MPICH's timeout path once exited 0
after a rank had failed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from minigrad.distributed.run import find_mpiexec

ROOT = Path(__file__).resolve().parents[2]
WORKERS = Path(__file__).parent / "workers"


def _mpi_ready() -> str | None:
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return "mpi4py is not installed (pip install 'minigrad[distributed]')"
    if find_mpiexec() is None:
        return "no mpiexec beside the Python or on PATH (pip install mpich)"
    return None


# CI installs MPI through the dev extra: there a missing MPI is a failure, not a skip.
requires_mpi = pytest.mark.skipif(
    _mpi_ready() is not None and not os.environ.get("CI"), reason=str(_mpi_ready())
)


def job_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["OMP_NUM_THREADS"] = "1"
    env["MPIEXEC_TIMEOUT"] = "60"
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "LOCAL_WORLD_SIZE"):
        env.pop(key, None)
    return env


class Job:
    def __init__(self, rc: int, output: str, seconds: float, results: dict):
        self.rc, self.output, self.seconds, self.results = rc, output, seconds, results


def run_job(worker: str, tmp_path: Path, *args: str, nproc: int = 2, timeout: float = 60) -> Job:
    """`python -m minigrad.distributed.run --nproc-per-node nproc workers/<worker> OUT args`;
    results[rank] is what rank wrote to OUT/rank<r>.json (missing ranks are absent)."""
    command = [
        sys.executable,
        "-m",
        "minigrad.distributed.run",
        "--nproc-per-node",
        str(nproc),
        str(WORKERS / worker),
        str(tmp_path),
        *args,
    ]
    start = time.perf_counter()
    try:
        done = subprocess.run(
            command, env=job_env(), capture_output=True, text=True, timeout=timeout, cwd=ROOT
        )
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"{worker} hung: killed after {timeout} s\n{error.stdout}\n{error.stderr}")
    seconds = time.perf_counter() - start
    results = {}
    for rank in range(nproc):
        path = tmp_path / f"rank{rank}.json"
        if path.exists():
            results[rank] = json.loads(path.read_text())
    return Job(done.returncode, done.stdout + done.stderr, seconds, results)


def run_ok(worker: str, tmp_path: Path, *args: str, nproc: int = 2) -> dict:
    job = run_job(worker, tmp_path, *args, nproc=nproc)
    assert job.rc == 0, job.output
    assert sorted(job.results) == list(range(nproc)), job.output
    return job.results

"""Real 2-process MPI jobs: the collectives, DistributedDataParallel and failure handling."""

import subprocess
import sys

import pytest

from tests.distributed.conftest import ROOT, job_env, requires_mpi, run_job, run_ok

pytestmark = requires_mpi


def test_collectives_on_two_ranks(tmp_path):
    results = run_ok("collectives.py", tmp_path)
    for rank, result in results.items():
        assert result["failures"] == [], (rank, result["failures"])
        assert result["env"] == [str(rank), "2", str(rank)]  # RANK, WORLD_SIZE, LOCAL_RANK


def test_ddp_gradients_equal_full_batch_gradients(tmp_path):
    results = run_ok("ddp.py", tmp_path, "grads")
    for result in results.values():
        assert result["buckets_0.002"] > 1 and result["buckets_25"] == 1
        assert result["error_25"] <= 1e-6 and result["error_0.002"] <= 1e-6
        assert result["keys"][0].startswith("module.")


def test_parameters_bit_identical_after_20_adam_steps(tmp_path):
    results = run_ok("ddp.py", tmp_path, "adam")
    assert results[0]["hash"] == results[1]["hash"]


def test_no_sync_accumulation_equals_one_big_batch(tmp_path):
    for result in run_ok("ddp.py", tmp_path, "no_sync").values():
        assert result["after_no_sync_differs"]  # inside no_sync: local gradients only
        assert result["error"] <= 1e-6


def test_unused_parameter_raises_torchs_error(tmp_path):
    for rank, result in run_ok("ddp.py", tmp_path, "unused").items():
        assert result["raised"].startswith("Expected to have finished reduction in the prior")
        assert f"rank {rank}: extra.bias, extra.weight" in result["raised"]


def test_find_unused_parameters(tmp_path):
    for result in run_ok("ddp.py", tmp_path, "find_unused").values():
        assert result["error"] <= 1e-6  # a branch used on rank 0 only
        assert result["globally_unused_grad"] is None


def test_mismatched_models_raise_on_every_rank(tmp_path):
    for result in run_ok("ddp.py", tmp_path, "mismatch").values():
        assert "'weight' of shape (5, 3)" in result["raised"] and "rank 1" in result["raised"]


def test_a_failing_rank_ends_the_job_fast(tmp_path):
    job = run_job("failing.py", tmp_path)
    assert job.rc != 0, job.output
    assert job.seconds < 5, job.seconds
    assert job.results[0] == {"reached": True}  # rank 0 never got past the barrier
    assert "rank 1 fails on purpose" in job.output


def test_world_size_one_without_mpiexec():
    code = (
        "import minigrad as mg, minigrad.distributed as dist\n"
        "from minigrad.nn.parallel import DistributedDataParallel as DDP\n"
        "dist.init_process_group('mpi')\n"
        "t = mg.ones(3); dist.all_reduce(t, op=dist.ReduceOp.AVG)\n"
        "m = DDP(mg.nn.Linear(2, 1)); m(mg.ones(4, 2)).sum().backward()\n"
        "print(dist.get_rank(), dist.get_world_size(), t.tolist(), m.module.weight.grad.tolist())\n"
        "dist.destroy_process_group()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=job_env(),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[0] == "0 1 [1.0, 1.0, 1.0] [[4.0, 4.0]]"


def test_launcher_without_a_script_fails_clearly():
    done = subprocess.run(
        [sys.executable, "-m", "minigrad.distributed.run", "--nproc-per-node", "2"],
        env=job_env(),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode != 0 and "script" in done.stderr


@pytest.mark.parametrize("world", [2])
def test_example_script_on_two_processes(tmp_path, world):
    command = [
        sys.executable,
        "-m",
        "minigrad.distributed.run",
        "--nproc-per-node",
        str(world),
        "examples/ddp_train.py",
        "--epochs",
        "2",
        "--out",
        str(tmp_path / "ckpt.mg"),
    ]
    done = subprocess.run(
        command, env=job_env(), capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "ckpt.mg").exists()
    assert done.stdout.count("epoch") == 2  # logged by rank 0 only

"""In-process checks of minigrad.distributed that need no MPI job: errors before init, the
launcher's command line, and the NCCL backend where a GPU is present."""

import argparse

import pytest

import minigrad as mg
import minigrad.distributed as dist
from minigrad.distributed import run
from minigrad.nn.parallel import DistributedDataParallel


def test_calls_before_init_raise_torchs_error():
    assert not dist.is_initialized()
    for call in (dist.get_rank, dist.get_world_size, dist.get_backend, dist.barrier):
        with pytest.raises(ValueError, match="Default process group has not been initialized"):
            call()
    with pytest.raises(ValueError, match="has not been initialized"):
        dist.all_reduce(mg.ones(2))
    with pytest.raises(ValueError, match="has not been initialized"):
        DistributedDataParallel(mg.nn.Linear(2, 2))


def test_bad_arguments_raise_before_communicating():
    with pytest.raises(ValueError, match="Invalid backend: 'gloo'"):
        dist.init_process_group("gloo")
    with pytest.raises(ValueError, match="rendezvous through MPI"):
        dist.init_process_group("mpi", init_method="tcp://127.0.0.1:1234")
    assert not dist.is_initialized()


def _args(*argv):
    return run.parse_args(list(argv))


def test_launcher_command_lines():
    args = _args("--nproc_per_node", "3", "train.py", "--lr", "0.1")
    command = run.build_command(args, "/venv/bin/mpiexec", open_mpi=False)
    assert command[:3] == ["/venv/bin/mpiexec", "-n", "3"]
    assert command[-5:] == ["-m", "mpi4py", "train.py", "--lr", "0.1"]
    args = _args("--nproc-per-node", "2", "--nnodes", "2", "--hostfile", "hosts", "train.py")
    mpich = run.build_command(args, "mpiexec", open_mpi=False)
    assert mpich[:7] == ["mpiexec", "-n", "4", "-f", "hosts", "-ppn", "2"]
    ompi = run.build_command(args, "mpiexec", open_mpi=True)
    assert ompi[:7] == ["mpiexec", "-n", "4", "--hostfile", "hosts", "--map-by", "ppr:2:node"]
    assert run.build_command(_args("-m", "pkg.train"), "mpiexec", False)[-3:] == [
        "mpi4py",
        "-m",
        "pkg.train",
    ]
    with pytest.raises(SystemExit):
        _args("--nnodes", "2", "train.py")  # several machines need a hostfile
    with pytest.raises(argparse.ArgumentTypeError):
        run._nproc("0")


def test_launcher_without_mpi_says_how_to_install(monkeypatch, capsys):
    monkeypatch.setattr(run, "find_mpiexec", lambda: None)
    assert run.main(["train.py"]) == 1
    assert "pip install 'minigrad[distributed]'" in capsys.readouterr().err


@pytest.mark.skipif(
    not (dist.is_nccl_available() and mg.cuda.is_available()),
    reason="the nccl backend needs CuPy, libnccl and a CUDA GPU (none here); a 1-GPU machine "
    "can run only world size 1 (NCCL refuses two ranks on one GPU)",
)
def test_nccl_world_size_one_matches_cpu():
    dist.init_process_group("nccl")
    try:
        t = mg.tensor([1.0, -2.0, 3.0], device="cuda")
        dist.all_reduce(t, op=dist.ReduceOp.AVG)
        assert t.cpu().tolist() == [1.0, -2.0, 3.0]
        model = DistributedDataParallel(mg.nn.Linear(3, 2).to("cuda"))
        model(mg.ones(4, 3, device="cuda")).sum().backward()
        assert model.module.weight.grad.cpu().tolist() == [[4.0] * 3] * 2
    finally:
        dist.destroy_process_group()


@pytest.mark.skipif(
    not mg.cuda.is_available(), reason="needs CUDA (or the stand-in: -p tests._fake_cupy)"
)
def test_cuda_tensors_on_the_mpi_backend_are_staged_through_the_host():
    dist.init_process_group("mpi")
    try:
        t = mg.ones(3, device="cuda") * 2
        with pytest.warns(UserWarning, match="host memory"):
            dist.all_reduce(t, op=dist.ReduceOp.SUM)
        assert t.device.type == "cuda" and t.cpu().tolist() == [2.0] * 3
        model = DistributedDataParallel(mg.nn.Linear(3, 2).to("cuda"))
        model(mg.ones(4, 3, device="cuda")).sum().backward()
        grad = model.module.weight.grad
        assert grad.device.type == "cuda" and grad.cpu().tolist() == [[4.0] * 3] * 2
    finally:
        dist.destroy_process_group()

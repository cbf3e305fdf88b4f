#!/usr/bin/env bash
# The whole GPU check in one run, for a machine with an NVIDIA GPU, CuPy and PyTorch CUDA already
# installed (no network needed): the backend-independent suite and the GPU-only tests on CUDA,
# then the MLP and attention steps beside PyTorch CUDA on the same GPU, then the large attention
# step on NumPy for the CPU/GPU ratio. Logs go to $OUT (default: out/gpu) for RESULTS.md.
#
#     bash benchmarks/gpu_check.sh            # at most 8 minutes (its timeouts); run with a 9-10 min limit
#     PY=/path/to/python bash benchmarks/gpu_check.sh
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=${PY:-python3}
OUT=${OUT:-out/gpu}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
status=0

nvidia-smi -L | tee "$OUT/gpu.txt"
$PY -c "import cupy, torch, numpy; print('cupy', cupy.__version__, 'torch', torch.__version__,
'cuda', torch.version.cuda, 'numpy', numpy.__version__)" | tee -a "$OUT/gpu.txt" || exit 1

echo "== suite on cuda (op, nn, optim and device tests; the GPU-only tests)"
MINIGRAD_TEST_DEVICE=cuda timeout 240 $PY -m pytest -q -p xdist -n 8 -p no:cacheprovider \
    tests/ops tests/nn tests/optim tests/test_devices.py tests/test_backend.py \
    tests/test_autograd.py tests/test_anomaly.py tests/test_memory.py tests/test_trace.py \
    tests/test_viz.py tests/test_serialization.py tests/data tests/models 2>&1 \
    | tee "$OUT/suite_cuda.txt" | tail -n 30 || status=1

echo "== benchmarks on cuda (large attention step, MLP step)"
timeout 150 $PY benchmarks/run.py --device cuda mlp_step attention_step 2>&1 \
    | tee "$OUT/bench_cuda.txt" || status=1

echo "== the large attention step on NumPy (for the GPU/CPU speed-up)"
timeout 90 $PY benchmarks/attention_step.py --size large --no-torch 2>&1 \
    | tee "$OUT/bench_cpu_large.txt" || status=1
exit $status

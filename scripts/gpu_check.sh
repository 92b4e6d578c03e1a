#!/usr/bin/env bash
# The whole CUDA check in ONE device call (~8 minutes), logs under $OUT (docs/devices.md: the plan).
#
#   on the GPU machine (run tool, carry [".gpu"], timeout_s 590):
#     bash scripts/gpu_check.sh
#   here, the same plumbing on Vulkan (lavapipe) with small stages, logs in /tmp/gpu_check_dry:
#     scripts/gpu_check.sh --dry-run
#
# Stages (each time-boxed, and never past the overall budget, so one hang cannot eat the rest):
#   info         the GPU, its driver, irjax's device and CUDA target, JAX's devices
#   cuda_tests   pytest tests/test_cuda.py (residency, async dispatch, transfers, errors, MLP vs CPU)
#   portable     pytest -m cuda: the op table, tutorial, autodiff, vmap, control flow, random on CUDA
#   cuda_collectives  StableHLO all_reduce/all_gather/reduce_scatter/all_to_all/collective_permute
#                compiled for the GPU and run on the cuda driver, one participant: does IREE's
#                hal.channel (NCCL) come up? plain, then under `mpiexec -n 1` (IREE's MPI channel provider)
#   tutorial     examples/thinking_in_jax.py on CUDA vs on the CPU (numbers compared, timings ignored)
#   bench        benchmarks/run.py --platform cuda (JAX on the same GPU; ratios vs the issue's targets)
#   sm80         MLP step and 4096^2 matmul compiled for sm_80 PTX (the default on Hopper is sm_89)
#   jax_highest  the same against JAX at full f32 matmul precision (JAX's default allows TF32)
# Each stage writes $OUT/<stage>.log; $OUT/summary.txt lists exit codes and times (124: time-box hit).
set -u
DRY=0
[ "${1:-}" = "--dry-run" ] && DRY=1
cd "$(dirname "$0")/.."
if [ "$DRY" = 1 ]; then
  PLATFORM=vulkan
  OUT=${OUT:-/tmp/gpu_check_dry}
  PY=${PYTHON:-.venv/bin/python}
  BUDGET=${GPU_CHECK_BUDGET:-420}
else
  PLATFORM=cuda
  OUT=${OUT:-/tmp/gpu_check}
  PY=${PYTHON:-python3}
  BUDGET=${GPU_CHECK_BUDGET:-500}
  t0=$(date +%s)
  # shellcheck disable=SC1091
  source .gpu/unpack.sh || { echo "unpack failed" >&2; exit 1; }
  echo "unpack: $(($(date +%s) - t0)) s" >&2
fi
mkdir -p "$OUT"
START=$(date +%s)
DEADLINE=$((START + BUDGET))
SUMMARY=$OUT/summary.txt
: >"$SUMMARY"
export IRJAX_CACHE_DIR=${IRJAX_CACHE_DIR:-/tmp/irjax-gpu-check-cache}
export XLA_PYTHON_CLIENT_PREALLOCATE=false # JAX must leave GPU memory to IREE
export PYTHONUNBUFFERED=1
PYTEST_TIMEOUT=()
$PY -c "import pytest_timeout" 2>/dev/null && PYTEST_TIMEOUT=(--timeout=90)
# faulthandler dumps the stacks of a test running past 60 s (pytest-timeout may be missing there)
PYTEST=($PY -m pytest -p no:cacheprovider -o faulthandler_timeout=60 -rfE "${PYTEST_TIMEOUT[@]}")

stage() { # stage NAME SECONDS command...: run with min(SECONDS, time left) as its limit
  local name=$1 box=$2
  shift 2
  local left=$((DEADLINE - $(date +%s)))
  [ "$box" -gt "$left" ] && box=$left
  if [ "$box" -lt 5 ]; then
    echo "$name: skipped (budget spent)" | tee -a "$SUMMARY"
    return
  fi
  local s rc
  s=$(date +%s)
  echo "=== $name (limit ${box}s): $*" | tee -a "$OUT/$name.log" >&2
  timeout -k 5 "$box" "$@" >>"$OUT/$name.log" 2>&1
  rc=$?
  echo "$name: rc=$rc in $(($(date +%s) - s))s (limit ${box}s)" | tee -a "$SUMMARY" >&2
  tail -n 4 "$OUT/$name.log" | sed "s/^/  $name| /" >&2
}

# the CPU reference of the tutorial runs beside the GPU stages (the machine has 16 cores)
(IRJAX_PLATFORMS=cpu timeout 240 $PY examples/thinking_in_jax.py >"$OUT/tutorial_cpu.txt" 2>&1) &
CPU_TUTORIAL=$!

info() {
  nvidia-smi --query-gpu=name,driver_version,compute_cap,memory.total --format=csv 2>&1 || echo "(no nvidia-smi)"
  $PY - <<'EOF'
import os, irjax
d = irjax.devices()[0]
print("irjax:", irjax.default_backend(), d, d.device_kind, "async:", d.asynchronous, "flags:", d.compile_flags)
from irjax.runtime import targets
print("target flags:", targets.target_flags(d.target))
try:
    import jax
    print("jax:", jax.__version__, jax.devices())
except Exception as e:
    print("jax:", type(e).__name__, e)
EOF
}

export -f info
export PY
if [ "$DRY" = 1 ]; then
  export IRJAX_PLATFORMS=vulkan IRJAX_ASYNC_DISPATCH=1 # (Vulkan is synchronous by default)
  stage info 60 bash -c info
  stage cuda_tests 150 "${PYTEST[@]}" -q -m cuda tests/test_cuda.py -k "device or put_and_get or resident_calls"
  stage portable 120 env JAX_PLATFORMS=cpu "${PYTEST[@]}" -v -m cuda tests/test_vmap.py -k "matvec or scalar"
  BENCH=(--only tiny_jit)
  VARIANT=(--only tiny_jit)
else
  export IRJAX_PLATFORMS=cuda
  stage info 30 bash -c info
  stage cuda_tests 80 env JAX_PLATFORMS=cpu "${PYTEST[@]}" -v -m cuda tests/test_cuda.py
  # -v: one line per test, so a time-box hit still shows how far it got
  stage portable 130 env JAX_PLATFORMS=cpu "${PYTEST[@]}" -v -m cuda \
    tests/test_ops.py tests/test_autodiff.py tests/test_vmap.py tests/test_control_flow.py tests/test_random.py \
    tests/test_tutorial.py
  stage cuda_collectives 30 bash -c '$PY tests/mpi_programs/cuda_collectives.py --target "${IRJAX_CUDA_TARGET:-sm_80}"; rc=$?
    if command -v mpiexec >/dev/null; then echo "--- under mpiexec -n 1"; mpiexec -n 1 $PY tests/mpi_programs/cuda_collectives.py; fi
    exit $rc'
  BENCH=(--only tiny_jit,mlp,matmul,norm,eager_sin,vmap,scan)
  VARIANT=(--only mlp,matmul)
fi

stage tutorial 90 env IRJAX_PLATFORMS=$PLATFORM $PY examples/thinking_in_jax.py
wait $CPU_TUTORIAL
stage tutorial_compare 20 $PY - "$OUT/tutorial.log" "$OUT/tutorial_cpu.txt" <<'EOF'
"""Compare the tutorial's output on the device with the CPU's: text exactly, numbers to 1e-3
relative (1e-5 absolute), timing lines and device names ignored."""
import re, sys
NUM = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")
def lines(path):
    out = []
    for line in open(path):
        if line.startswith("=== ") or "per loop" in line or "plot written" in line:
            continue
        out.append(re.sub(r"(Cuda|Cpu|Vulkan|Rocm)Device", "Device", line.rstrip()))
    return out
dev, cpu = lines(sys.argv[1]), lines(sys.argv[2])
bad = 0
if len(dev) != len(cpu):
    print(f"line counts differ: device {len(dev)}, cpu {len(cpu)}")
    bad += 1
for i, (a, b) in enumerate(zip(dev, cpu)):
    if NUM.sub("#", a) != NUM.sub("#", b):
        print(f"line {i + 1} differs:\n  device: {a}\n  cpu:    {b}"); bad += 1; continue
    for x, y in zip(NUM.findall(a), NUM.findall(b)):
        x, y = float(x), float(y)
        if abs(x - y) > 1e-5 + 1e-3 * abs(y):
            print(f"line {i + 1}: {x} vs {y}:\n  device: {a}\n  cpu:    {b}"); bad += 1; break
print(f"{len(dev)} lines compared, {bad} differences")
sys.exit(1 if bad else 0)
EOF

stage bench 110 $PY benchmarks/run.py --platform "$PLATFORM" --quick --no-cold "${BENCH[@]}" --out "$OUT/bench.md"
stage sm80 50 env IRJAX_CUDA_TARGET=sm_80 $PY benchmarks/run.py --platform "$PLATFORM" --quick --no-cold \
  "${VARIANT[@]}" --out "$OUT/bench_sm80.md"
stage jax_highest 40 env JAX_DEFAULT_MATMUL_PRECISION=highest $PY benchmarks/run.py --platform "$PLATFORM" \
  --quick --no-cold "${VARIANT[@]}" --out "$OUT/bench_jax_highest.md"

echo "total: $(($(date +%s) - START)) s of a ${BUDGET} s budget" | tee -a "$SUMMARY"
for f in bench bench_sm80 bench_jax_highest; do
  [ -f "$OUT/$f.md" ] && { echo "--- $f"; grep -E '^\| (jit call|MLP|[0-9]+\^2|irjax device|jax backend)' "$OUT/$f.md"; }
done | tee -a "$SUMMARY"

#!/usr/bin/env bash
# irjax on an NVIDIA GPU: one prepared script, < 6 minutes, everything logged to $OUT/gpu_log.txt.
#
#   bash scripts/gpu_check.sh --prepare   # here (no GPU): fills build/gpu_prep/{cache,wheels}
#   bash scripts/gpu_check.sh             # on the GPU machine, with build/gpu_prep carried along
#
# The GPU machine needs only Python 3 and the IREE *runtime*: .vmfb files for CUDA (sm_89 and
# sm_80) and for a generic x86-64-v3 CPU come from the prepared compile cache; missing
# packages install from the carried wheels. Every step has a time limit; failures are logged
# and the script goes on.
set -u
cd "$(dirname "$0")/.." || exit 1
REPO=$PWD
PREP=$REPO/build/gpu_prep
PY=${PYTHON:-python3}
export IRJAX_CPU=x86-64-v3 # CPU code compiled here must run there: no -mcpu=host

if [ "${1:-}" = "--prepare" ]; then
  set -x
  mkdir -p "$PREP/cache" "$PREP/wheels"
  IRJAX_CACHE_DIR=$PREP/cache IRJAX_PLATFORMS=cpu timeout 1800 "$PY" scripts/gpu_check.py prepare
  # carry is limited to 64 MiB: ~32 MB of wheels per Python version (runtime 15, numpy 17)
  for v in ${WHEEL_PYTHONS:-$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')}; do
    "$PY" -m pip download -q --only-binary=:all: --python-version "$v" --platform manylinux_2_28_x86_64 \
      --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d "$PREP/wheels" \
      iree-base-runtime==3.13.0 numpy ml_dtypes || echo "wheel download for Python $v failed"
  done
  du -sh "$PREP/cache" "$PREP/wheels"
  exit 0
fi

OUT=${OUT:-/tmp/gpu_check_out}
mkdir -p "$OUT"
LOG=$OUT/gpu_log.txt
exec > >(tee -a "$LOG") 2>&1
set -x
START=$(date +%s)
BUDGET=${GPU_CHECK_BUDGET:-330} # seconds for all parts together (the whole script stays < 6 min)

date
timeout 30 nvidia-smi
timeout 30 nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total --format=csv
"$PY" --version
uname -m

# --- Python packages: numpy + iree runtime (from carried wheels if missing) -------------------
DEPS=$REPO/build/pydeps
if ! "$PY" -c "import numpy, iree.runtime" 2>/dev/null; then
  if [ -d "$PREP/wheels" ]; then
    timeout 120 "$PY" -m pip install -q --no-index --find-links "$PREP/wheels" --target "$DEPS" \
      iree-base-runtime==3.13.0 numpy ml_dtypes || echo "pip install from carried wheels failed"
  else
    echo "numpy/iree.runtime missing and no $PREP/wheels carried"
  fi
fi

# --- irjax from this tree, without pip: an overlay package made of symlinks ------------------------
OVL=$REPO/build/irjax_overlay
rm -rf "$OVL" && mkdir -p "$OVL/irjax"
for f in "$REPO"/frontend/*; do ln -s "$f" "$OVL/irjax/$(basename "$f")"; done
for d in dialects passes runtime tools; do ln -s "$REPO/$d" "$OVL/irjax/$d"; done
if ! PYTHONPATH=$DEPS "$PY" -c "import iree.compiler" 2>/dev/null; then
  # runtime only: the compile cache key names the compiler version, so declare it
  mkdir -p "$OVL/iree_base_compiler-3.13.0.dist-info"
  printf 'Metadata-Version: 2.1\nName: iree-base-compiler\nVersion: 3.13.0\n' >"$OVL/iree_base_compiler-3.13.0.dist-info/METADATA"
  echo "no iree.compiler here: relying on the prepared cache"
fi
export PYTHONPATH=$OVL:$DEPS${PYTHONPATH:+:$PYTHONPATH}
export IRJAX_CACHE_DIR=/tmp/irjax_gpu_cache
rm -rf "$IRJAX_CACHE_DIR" && mkdir -p "$IRJAX_CACHE_DIR"
[ -d "$PREP/cache" ] && cp -r "$PREP/cache/." "$IRJAX_CACHE_DIR/" && echo "prepared cache: $(find "$IRJAX_CACHE_DIR" -name '*.vmfb' | wc -l) modules"
export IRJAX_PLATFORMS=${GPU_CHECK_PLATFORM:-cuda} # GPU_CHECK_PLATFORM=vulkan: a dry run without a GPU
"$PY" -c "import irjax, iree.runtime as rt; print(irjax.__file__); print(rt.query_available_drivers()); print(irjax.devices(), irjax.default_backend())"

left() { echo $((BUDGET - ($(date +%s) - START))); }
part() { # part NAME LIMIT
  local lim=$2 rem
  rem=$(left)
  [ "$rem" -lt "$lim" ] && lim=$rem
  if [ "$lim" -le 5 ]; then
    echo "=== $1: skipped (time budget spent)"
    return 0
  fi
  echo "=== $1 (limit ${lim}s, IRJAX_CUDA_TARGET=$IRJAX_CUDA_TARGET)"
  local t0=$(date +%s)
  timeout -k 5 "$lim" "$PY" scripts/gpu_check.py "$1"
  local rc=$?
  echo "=== $1: exit $rc after $(($(date +%s) - t0))s"
  echo "$1 $rc" >>"$OUT/gpu_parts.txt"
}

# --- pick the CUDA target: sm_89 PTX (ISA 8.4, needs a CUDA 12.4+ driver), else sm_80 (ISA 7.6) ---
export IRJAX_CUDA_TARGET=sm_89
part probe 60
if ! grep -q "^probe 0$" "$OUT/gpu_parts.txt" 2>/dev/null; then
  export IRJAX_CUDA_TARGET=sm_80
  part probe 60
fi
part transforms 50
part ops 80
part mlp 70
part tutorial 90

set +x
echo "=== summary (part exit codes; 0 = ok, 124 = timed out)"
cat "$OUT/gpu_parts.txt" 2>/dev/null
echo "CUDA target used: $IRJAX_CUDA_TARGET; total $(($(date +%s) - START))s"
exit 0

#!/usr/bin/env bash
# Run data-apis/array-api-tests (../shared/peer/array-api-tests) from a temporary copy against
# one namespace, with the flags the project compares under. Usage:
#   scripts/array_api_run.sh irjax.numpy 2021.12 [test files or other pytest args]
# With no test file given it runs the whole suite (array_api_tests/).
# 64-bit dtypes are skipped unless ARRAY_API_TESTS_SKIP_DTYPES says otherwise (x64 is off in both
# irjax and JAX by default; set it to "" to test them).
# Prints pytest's summary line; the full log is left in $OUT_DIR (default: the temp copy).
set -euo pipefail
mod=${1:?module, e.g. irjax.numpy or jax.numpy}
ver=${2:-2023.12}
shift 2 || true
here=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-$here/.venv/bin/python}
src=${ARRAY_API_TESTS_SRC:-$here/../shared/peer/array-api-tests}
d=$(mktemp -d)
cp -r "$src" "$d/aat"
cd "$d/aat"
log=${OUT_DIR:-$d}/array_api_${mod//./_}_${ver}.log
targets=(array_api_tests)
for a in "$@"; do [[ $a == array_api_tests/* ]] && targets=() && break; done
ARRAY_API_TESTS_SKIP_DTYPES=${ARRAY_API_TESTS_SKIP_DTYPES-uint64,int64,float64,complex128} \
ARRAY_API_TESTS_MODULE=$mod ARRAY_API_TESTS_VERSION=$ver \
  "$py" -m pytest "${targets[@]}" -p no:cacheprovider --max-examples 20 \
  --hypothesis-disable-deadline --derandomize -q -rf "$@" >"$log" 2>&1 || true
tail -1 "$log"
echo "log: $log"

"""data-apis/array-api-tests (../shared/peer) on a subset of its files, irjax.numpy against
jax.numpy with the same flags: irjax must pass at least as many tests as JAX. The full suite
runs with scripts/array_api_run.sh (tens of minutes on 2 cores)."""

import os
import re
import shutil
import subprocess
import sys

import pytest
from conftest import REPO

pytestmark = pytest.mark.slow

FILES = ["test_set_functions.py", "test_has_names.py", "test_signatures.py", "test_sorting_functions.py"]
# complex128 and the 64-bit dtypes are not array dtypes with x64 off (in JAX either)
SKIP_DTYPES = "uint64,int64,float64,complex128"


def _run(module, tmp_path, shared_dir):
    src = shared_dir / "peer" / "array-api-tests"
    work = tmp_path / module.replace(".", "_")
    shutil.copytree(src, work)
    env = dict(os.environ, ARRAY_API_TESTS_MODULE=module, ARRAY_API_TESTS_VERSION="2021.12")
    env["ARRAY_API_TESTS_SKIP_DTYPES"] = SKIP_DTYPES
    env["PYTHONPATH"] = str(REPO)
    cmd = [sys.executable, "-m", "pytest", *[f"array_api_tests/{f}" for f in FILES], "-p", "no:cacheprovider"]
    cmd += ["-p", "no:xdist", "--max-examples", "5", "--hypothesis-disable-deadline", "--derandomize", "-q"]
    out = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=1500).stdout
    counts = {k: int(v) for v, k in re.findall(r"(\d+) (passed|failed|error|skipped)", out.splitlines()[-1])}
    assert counts.get("passed", 0) > 0, out[-3000:]
    return counts


def test_irjax_passes_at_least_as_many_as_jax(tmp_path, shared_dir):
    jax_counts = _run("jax.numpy", tmp_path, shared_dir)
    irjax_counts = _run("irjax.numpy", tmp_path, shared_dir)
    print("irjax", irjax_counts, "jax", jax_counts)
    assert irjax_counts.get("passed", 0) >= jax_counts.get("passed", 0), (irjax_counts, jax_counts)

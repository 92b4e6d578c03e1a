"""Global arrays from process-local data under mpiexec (marked `mpi`; pip install -e '.[mpi]';
pytest -p no:xdist -m mpi tests/test_mpi_arrays.py): tests/mpi_programs/process_local_arrays.py
at 2 and 3 processes of one device and 2 processes of two devices each."""

import importlib.util
import os
import signal
import subprocess
import sys

import pytest
from conftest import REPO
from irjax import distributed

PROGRAMS = REPO / "tests" / "mpi_programs"


def run_mpi(n: int, program: str, env: dict, timeout: float = 240) -> subprocess.CompletedProcess:
    """`mpiexec -n n python tests/mpi_programs/<program>`; a hang kills the process group and fails."""
    if importlib.util.find_spec("mpi4py") is None:
        pytest.fail("the mpi tests need mpi4py and an MPI: pip install -e '.[mpi]'")
    cmd = [distributed.mpiexec_path(), "-n", str(n), sys.executable, str(PROGRAMS / program)]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, **env},
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"{' '.join(cmd)} did not finish in {timeout} s (a process hung)\n{out}\n{err}")
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


@pytest.mark.mpi
@pytest.mark.parametrize("n,local", [(2, 1), (3, 1), (2, 2)])
def test_process_local_arrays_under_mpiexec(n, local):
    """host_local_array_to_global_array / global_array_to_host_local_array (1-d, (process, device)
    and replicated layouts, a pytree with prefix pspecs), make_array_from_process_local_data
    (inferred and explicit global shapes, interleaved processes), make_array_from_callback and
    make_array_from_single_device_arrays across processes: every shard and the global value
    against the definition; with one device per process, the result feeds a shard_map's psum."""
    r = run_mpi(n, "process_local_arrays.py", {"IRJAX_NUM_CPU_DEVICES": str(local)})
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("process-local arrays ok") == n, r.stdout

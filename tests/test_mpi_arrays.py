"""Global arrays from process-local data, and shard_map over several devices per process, under
mpiexec (marked `mpi`; pip install -e '.[mpi]'; pytest -p no:xdist -m mpi tests/test_mpi_arrays.py):
tests/mpi_programs/process_local_arrays.py and shard_map_devices_processes.py."""

import importlib.util
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
from conftest import REPO
from irjax import distributed

PROGRAMS = REPO / "tests" / "mpi_programs"


def run_mpi(n: int, program: str, env: dict, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    """`mpiexec -n n python tests/mpi_programs/<program>`; a hang kills the process group and fails."""
    if importlib.util.find_spec("mpi4py") is None:
        pytest.fail("the mpi tests need mpi4py and an MPI: pip install -e '.[mpi]'")
    cmd = [distributed.mpiexec_path(), "-n", str(n), sys.executable, str(PROGRAMS / program), *args]
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


def _jax_full_batch(steps: int = 5) -> dict:
    """train_mlp.py's problem trained on the full batch with JAX (the oracle)."""
    import jax
    import jax.numpy as jjnp

    spec = importlib.util.spec_from_file_location("train_mlp", PROGRAMS / "train_mlp.py")
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    x, y, params = train.make_problem()
    grad_fn = jax.jit(jax.grad(lambda p, a, b: train.loss(p, a, b, jjnp)))
    for _ in range(steps):
        params = jax.tree_util.tree_map(lambda p, g: p - train.LR * g, params, grad_fn(params, x, y))
    return {k: np.asarray(v) for k, v in params.items()}


@pytest.mark.mpi
@pytest.mark.parametrize("n,local", [(2, 2), (3, 2), (4, 1)])
def test_shard_map_several_devices_per_process(tmp_path, n, local):
    """shard_map over n processes x `local` devices (tests/mpi_programs/shard_map_devices_processes.py):
    every collective over the flattened mesh and over each axis of an (n, local) mesh and both,
    against its definition; check_vma's refusal and member-0 rule along one axis; a failing member;
    with one device per process a (2, 2) mesh of processes, where one axis is a sub-group of them.
    When the batch of 32 splits over the members, 5 data-parallel MLP steps over both axes:
    parameters bit-for-bit equal on every process and within 2e-5 of JAX's full-batch training."""
    pytest.importorskip("jax")
    r = run_mpi(n, "shard_map_devices_processes.py", {"IRJAX_NUM_CPU_DEVICES": str(local)}, str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("shard_map over devices and processes ok") == n, r.stdout
    if 32 % (n * local):  # the batch does not split over the members: collectives only
        assert not list(tmp_path.glob("params_*.npz"))
        return
    got = []
    for rank in range(n):
        with np.load(tmp_path / f"params_{rank}.npz") as z:
            got.append({k: z[k] for k in z.files})
    ref = _jax_full_batch()
    for k in ref:
        for rank in range(1, n):
            assert np.array_equal(got[0][k], got[rank][k]), (rank, k)
        np.testing.assert_allclose(got[0][k], ref[k], rtol=2e-5, atol=1e-6, err_msg=k)

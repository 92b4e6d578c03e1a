"""Collectives over process axes in traced code (jit/grad/vmap/scan/cond in a shard_map body over
processes, jit(shard_map(...))) as host calls, under mpiexec (marked `mpi`):
tests/mpi_programs/traced_collectives.py."""

import pytest
from test_mpi_arrays import run_mpi


@pytest.mark.mpi
@pytest.mark.parametrize("n,local", [(2, 1), (3, 1), (2, 2)])
def test_traced_collectives_under_mpiexec(n, local):
    """Every collective in jit in the body (and, one device per process, under jit(shard_map))
    against its definition (2 and 3 processes); grad through psum against JAX's vmap(axis_name); vmap, scan, cond;
    at 2 x 1 5 MLP steps jit(shard_map(grad + pmean)) bit-for-bit equal on every
    process and within 2e-5 of JAX's full-batch training; member threads refuse jit(shard_map)."""
    pytest.importorskip("jax")
    r = run_mpi(n, "traced_collectives.py", {"IRJAX_NUM_CPU_DEVICES": str(local)})
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count(f"traced collectives ok ({n} x {local})") == n, r.stdout

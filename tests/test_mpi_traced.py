"""Collectives over process axes in traced code (jit/grad/vmap/scan/cond in a shard_map body over
processes, jit(shard_map(...))) as host calls, under mpiexec (marked `mpi`):
tests/mpi_programs/traced_collectives.py."""

import pytest
from test_mpi_arrays import run_mpi


@pytest.mark.mpi
@pytest.mark.parametrize("n,local", [(2, 1), (3, 1), (2, 2)])
def test_traced_collectives_under_mpiexec(n, local):
    """Every collective in jit in the body and under jit(shard_map) (this process's members batched,
    one or two devices per process) against its definition; grad through psum against JAX's
    vmap(axis_name); vmap, scan, cond in the body; grad and vmap of the shard_map from outside
    against JAX's shard_map on forced CPU devices (2 processes); 5 MLP steps
    jit(shard_map(grad + pmean)) bit-for-bit equal on every process and within 2e-5 of JAX's
    full-batch training (2 x 1, and 2 x 2 over the flat and the (processes, devices) mesh)."""
    pytest.importorskip("jax")
    r = run_mpi(n, "traced_collectives.py", {"IRJAX_NUM_CPU_DEVICES": str(local)})
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count(f"traced collectives ok ({n} x {local})") == n, r.stdout

"""Run under mpiexec -n 2 without calling initialize(): every process is a job of its own, as
before, and the program may use mpi4py itself; then initialize() after a computation is
refused, as in JAX."""

import irjax
import irjax.numpy as jnp
import numpy as np

assert irjax.process_count() == 1 and irjax.process_index() == 0
assert [d.id for d in irjax.devices()] == list(range(irjax.local_device_count()))
np.testing.assert_allclose(np.asarray(jnp.sin(jnp.arange(3.0)) + 1), np.sin(np.arange(3.0)) + 1, rtol=1e-6)
# the program's own MPI, started after irjax made its devices, still sees the whole job
from mpi4py import MPI  # noqa: E402

assert MPI.COMM_WORLD.Get_size() == 2, MPI.COMM_WORLD.Get_size()
try:
    irjax.distributed.initialize()
except RuntimeError as e:
    assert "before any irjax computations" in str(e), e
else:
    raise AssertionError("initialize() after a computation did not raise")
print("no-initialize checks passed", flush=True)

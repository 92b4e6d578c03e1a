"""Run under mpiexec -n N: the last process raises while the others wait in a barrier. The
uncaught exception must abort the whole job (irjax.distributed installs MPI_Abort on it)."""

import irjax
from irjax.experimental import multihost_utils

irjax.distributed.initialize()
if irjax.process_index() == irjax.process_count() - 1:
    raise ValueError("rank_dies: deliberate failure in the last process")
multihost_utils.sync_global_devices("never reached by the last process")
print("unreachable: the barrier returned", flush=True)

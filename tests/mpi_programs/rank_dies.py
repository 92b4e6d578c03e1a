"""Run under mpiexec -n N: the last process dies (an uncaught exception, or SIGKILL) while the
others wait in a barrier. The whole job must end: irjax.distributed turns an uncaught exception
into MPI_Abort, and MPICH's launcher ends a job whose process was killed.

usage: rank_dies.py raise|kill"""

import os
import signal
import sys

import irjax
from irjax.experimental import multihost_utils

irjax.distributed.initialize()
if irjax.process_index() == irjax.process_count() - 1:
    if sys.argv[1] == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    raise ValueError("rank_dies: deliberate failure in the last process")
multihost_utils.sync_global_devices("never reached by the last process")
print("unreachable: the barrier returned", flush=True)

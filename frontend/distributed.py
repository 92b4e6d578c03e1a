"""irjax.distributed: one process per host, as jax.distributed, on MPI (mpi4py). Start every process
with `mpiexec -n N python script.py` and call initialize() first; rank and size come from MPI.
Cross-process collectives run on irjax.runtime.host_collectives.world()."""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Sequence

from irjax.runtime import device as _rt
from irjax.runtime import host_collectives as _hc

__all__ = ["initialize", "shutdown", "is_initialized", "mpiexec_path", "RemoteDevice"]


class RemoteDevice(_rt.Device):
    """A device of another process: it has a global id and a process index, but no buffers here."""

    def __init__(self, platform: str, id: int, process_index: int, device_kind: str):
        self.platform = platform
        self.driver = None
        self.id = id
        self.process_index = process_index
        self.info = {"name": device_kind}

    def _not_here(self, *args, **kwargs):
        raise RuntimeError(
            f"{self!r} belongs to process {self.process_index}, not this one ({_state.rank}); "
            "only irjax.local_devices() can hold this process's arrays"
        )

    put = get = copy = _not_here


class _State:
    def __init__(self):
        self.initialized = False
        self.rank = 0
        self.size = 1
        self.platform: str | None = None
        self.local: list = []
        self.global_devices: list = []
        self.coordinator_address: str | None = None
        self.prev_excepthook = None


_state = _State()

# environment variables that MPI launchers set in the processes they start: (rank, size)
_LAUNCHER_ENV = (
    ("PMI_RANK", "PMI_SIZE"),  # MPICH (Hydra), Intel MPI
    ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"),  # Open MPI
    ("PMIX_RANK", None),  # PMIx launchers (prterun, srun --mpi=pmix)
)


def launched_by_mpi() -> bool:
    """Whether an MPI launcher (mpiexec/mpirun) started this process."""
    return any(r in os.environ for r, _ in _LAUNCHER_ENV)


def mpiexec_path() -> str:
    """The mpiexec beside this Python (a virtual environment with irjax[mpi]) or on PATH."""
    for name in ("mpiexec", "mpirun"):
        here = os.path.join(os.path.dirname(sys.executable), name)
        if os.access(here, os.X_OK):
            return here
    for name in ("mpiexec", "mpirun"):
        found = shutil.which(name)
        if found:
            return found
    raise RuntimeError(
        "no mpiexec/mpirun found beside this Python or on PATH: pip install 'irjax[mpi]' "
        "(the mpich wheel ships mpiexec)"
    )


def _not_launched_error(num_processes: int) -> RuntimeError:
    try:
        how = f"`{mpiexec_path()} -n {num_processes} python script.py`"
    except RuntimeError as e:
        how = f"`mpiexec -n {num_processes} python script.py`, but {e}"
    return RuntimeError(
        f"irjax.distributed.initialize(num_processes={num_processes}): this process was not started by an MPI "
        f"launcher; irjax runs its processes on MPI: start all of them with {how}"
    )


def initialize(
    coordinator_address: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    local_device_ids: int | Sequence[int] | None = None,
    cluster_detection_method: str | None = None,
    initialization_timeout: int = 300,
    coordinator_bind_address: str | None = None,
) -> None:
    """Join this process to the job, as jax.distributed.initialize.

    Under an MPI launcher the rank and the number of processes come from MPI.COMM_WORLD;
    `num_processes` and `process_id`, when given, must agree with them. Without a launcher the
    job is this one process (num_processes must then be None or 1). The launcher does the
    rendezvous, so `coordinator_address` and the timeouts are accepted and not used.
    Must come before any computation when there are several processes, as in JAX.
    """
    if _state.initialized:
        raise RuntimeError("distributed.initialize should only be called once.")
    if cluster_detection_method not in (None, "mpi4py"):
        raise ValueError(
            f"cluster_detection_method must be None or 'mpi4py' (irjax runs on MPI), got {cluster_detection_method!r}"
        )
    if num_processes is not None and int(num_processes) < 1:
        raise ValueError(f"num_processes must be a positive integer, got {num_processes!r}")
    if process_id is not None and int(process_id) < 0:
        raise ValueError(f"process_id must be a non-negative integer, got {process_id!r}")
    if num_processes is not None and process_id is not None and int(process_id) >= int(num_processes):
        raise ValueError(f"process_id={process_id} must be less than num_processes={num_processes}")

    if launched_by_mpi():
        engine = _hc.mpi_world()
    else:
        if num_processes is not None and int(num_processes) > 1:
            raise _not_launched_error(int(num_processes))
        if process_id is not None and int(process_id) != 0:
            raise ValueError(
                f"process_id={process_id}, but this process was not started by an MPI launcher: it is process 0 of 1"
            )
        engine = _hc.LocalCollectives()
    rank, size = engine.rank, engine.size
    if num_processes is not None and int(num_processes) != size:
        raise ValueError(f"num_processes={num_processes}, but the MPI launcher started {size} processes")
    if process_id is not None and int(process_id) != rank:
        raise ValueError(f"process_id={process_id}, but MPI gives this process rank {rank}")
    if size > 1 and _rt.initialized_backends():
        raise RuntimeError("irjax.distributed.initialize() must be called before any irjax computations are executed.")

    platform = _rt.platform_default_device().platform
    local = _rt.backend_devices(platform)
    if local_device_ids is not None:
        ids = [int(local_device_ids)] if isinstance(local_device_ids, int) else [int(i) for i in local_device_ids]
        if any(not 0 <= i < len(local) for i in ids):
            raise ValueError(f"local_device_ids {ids} must index this process's {len(local)} {platform} devices")
        if sorted(ids) != list(range(len(local))):
            raise NotImplementedError(
                f"local_device_ids={ids}: irjax cannot hide some of a process's devices; choose the number of CPU "
                "devices with IRJAX_NUM_CPU_DEVICES instead (local_device_ids may list all of them)"
            )

    # every process learns every other's devices: (platform, count, kind)
    kind = local[0].device_kind if local else platform
    infos = engine.allgather_object((platform, len(local), kind))
    platforms = {p for p, _, _ in infos}
    if len(platforms) != 1:
        raise RuntimeError(f"irjax.distributed: the processes run different platforms: {[p for p, _, _ in infos]}")
    first_ids = [sum(n for _, n, _ in infos[:p]) for p in range(size)]
    _rt.set_process_layout(local, rank, first_ids[rank])
    global_devices = []
    for p, (_, n, k) in enumerate(infos):
        if p == rank:
            global_devices.extend(local)
        else:
            global_devices.extend(RemoteDevice(platform, first_ids[p] + i, p, k) for i in range(n))

    _state.rank, _state.size, _state.platform = rank, size, platform
    _state.local, _state.global_devices = list(local), global_devices
    _state.coordinator_address = coordinator_address
    _hc.set_world(engine)
    if size > 1:
        _install_abort_on_exception(engine)
    _state.initialized = True


_ABORT_GRACE_S = 0.5


def _install_abort_on_exception(engine) -> None:
    """An uncaught exception in one process aborts the whole job (MPI_Abort), as `python -m mpi4py`
    does: otherwise the others would wait in their next collective forever."""
    prev = sys.excepthook

    def hook(etype, value, tb):
        prev(etype, value, tb)
        sys.stdout.flush()
        sys.stderr.flush()
        # MPICH's launcher tears the job down at MPI_Abort and can drop what it has not yet
        # forwarded from this process's pipes: the traceback was cut after two lines in a loaded
        # CI run. A moment lets it read them (only on this fatal path).
        time.sleep(_ABORT_GRACE_S)
        engine.comm.Abort(1)

    _state.prev_excepthook = prev
    sys.excepthook = hook


def shutdown() -> None:
    """Leave the job: a last barrier, then single-process behaviour again (MPI itself stays up
    until the process exits, since MPI cannot be initialized twice)."""
    if not _state.initialized:
        return
    _hc.world().barrier()
    _rt.set_process_layout(_state.local, 0, 0)
    _hc.set_world(_hc.LocalCollectives())
    if _state.prev_excepthook is not None:
        sys.excepthook = _state.prev_excepthook
    _state.__init__()


def is_initialized() -> bool:
    return _state.initialized


# ---- queries for irjax.devices() and friends (device_api) --------------------------------------


def global_devices(platform: str) -> list | None:
    """All processes' devices of `platform` if the job spans them, else None (the local list applies)."""
    if _state.initialized and platform == _state.platform:
        return list(_state.global_devices)
    return None


def process_index() -> int:
    return _state.rank


def process_count() -> int:
    return _state.size

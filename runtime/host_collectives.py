"""Collectives over host (NumPy) buffers between the processes of one job: allreduce, allgather,
broadcast, alltoall, permute, send/recv, barrier. One engine per job: MPI (mpi4py) when the job
was started by an MPI launcher, else the one-process engine. No frontend imports.

Every method is collective: all ranks of the group call it, in the same order, with arrays of
the same shape and dtype (not checked here; the callers that take user data check it once).
Results are new arrays; inputs are never written. `world()` is the engine that
`irjax.distributed.initialize()` set up (the one-process engine until then).
"""

from __future__ import annotations

import contextlib
import functools
import os
import pickle
from collections import defaultdict, deque
from collections.abc import Sequence

import numpy as np

__all__ = [
    "HostCollectives",
    "LocalCollectives",
    "MpiCollectives",
    "REDUCE_OPS",
    "world",
    "set_world",
    "mpi_world",
    "hidden_from_iree",
]

REDUCE_OPS = ("sum", "max", "min")
_NP_REDUCE = {"sum": np.add, "max": np.maximum, "min": np.minimum}
# dtypes MPI reduces natively; others (float16, bfloat16, bool, complex) are gathered and reduced
# in rank order with NumPy, so every rank computes the same result in the same order.
_MPI_REDUCIBLE = frozenset(
    np.dtype(t)
    for t in (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64, np.float32, np.float64)
)
_PERMUTE_TAG = 0x1F0  # user send/recv tags must stay below this (MPI's guaranteed tag range is 32767)


def _as_array(x) -> np.ndarray:
    a = np.asarray(x)
    return a if a.flags.c_contiguous else np.ascontiguousarray(a)  # (which would make 0-d arrays 1-d)


def _check_op(op: str, dtype: np.dtype) -> None:
    if op not in _NP_REDUCE:
        raise ValueError(f"allreduce op must be one of {REDUCE_OPS}, got {op!r}")
    if op != "sum" and dtype.kind == "c":
        raise TypeError(f"allreduce {op!r} is not defined for complex dtype {dtype}")


def _check_pairs(pairs: Sequence[tuple[int, int]], size: int) -> list[tuple[int, int]]:
    """ppermute's rule: (source, destination) rank pairs, no rank twice as a source or a destination."""
    out = [(int(s), int(d)) for s, d in pairs]
    for s, d in out:
        if not (0 <= s < size and 0 <= d < size):
            raise ValueError(f"permute pairs must name ranks in [0, {size}), got {(s, d)}")
    srcs, dsts = [s for s, _ in out], [d for _, d in out]
    if len(set(srcs)) != len(srcs) or len(set(dsts)) != len(dsts):
        raise ValueError(f"permute pairs must not repeat a source or a destination, got {out}")
    return out


class HostCollectives:
    """A group of `size` processes; this one is `rank`. Subclasses move the bytes."""

    rank: int = 0
    size: int = 1

    def allreduce(self, x, op: str = "sum") -> np.ndarray:
        """Elementwise sum/max/min of `x` over all ranks; the same array on every rank."""
        raise NotImplementedError

    def allgather(self, x) -> np.ndarray:
        """Every rank's `x`, stacked: shape (size, *x.shape), row r from rank r."""
        raise NotImplementedError

    def broadcast(self, x, root: int = 0) -> np.ndarray:
        """Rank `root`'s `x` on every rank (the others pass an array of the same shape and dtype)."""
        raise NotImplementedError

    def alltoall(self, x) -> np.ndarray:
        """`x` has shape (size, ...): row j goes to rank j; the result's row i came from rank i."""
        raise NotImplementedError

    def permute(self, x, pairs: Sequence[tuple[int, int]]) -> np.ndarray:
        """ppermute: for each (source, destination), destination gets source's `x`; a rank that no pair
        sends to gets zeros."""
        raise NotImplementedError

    def send(self, x, dest: int, tag: int = 0) -> None:
        raise NotImplementedError

    def recv(self, shape, dtype, source: int, tag: int = 0) -> np.ndarray:
        raise NotImplementedError

    def barrier(self) -> None:
        raise NotImplementedError

    def allgather_object(self, obj) -> list:
        """Every rank's picklable `obj`, as a list indexed by rank (for small metadata)."""
        raise NotImplementedError

    def broadcast_object(self, obj, root: int = 0):
        raise NotImplementedError

    def _check_rank(self, r: int, what: str) -> int:
        r = int(r)
        if not 0 <= r < self.size:
            raise ValueError(f"{what} must be a rank in [0, {self.size}), got {r}")
        return r

    def _check_tag(self, tag: int) -> int:
        tag = int(tag)
        if not 0 <= tag < _PERMUTE_TAG:
            raise ValueError(f"tag must be in [0, {_PERMUTE_TAG}), got {tag}")
        return tag

    def __repr__(self):
        return f"{type(self).__name__}(rank={self.rank}, size={self.size})"


class LocalCollectives(HostCollectives):
    """The one-process group: every collective is a copy (or a reshape)."""

    def __init__(self):
        self.rank, self.size = 0, 1
        self._mailbox: dict[int, deque] = defaultdict(deque)

    def allreduce(self, x, op: str = "sum") -> np.ndarray:
        x = _as_array(x)
        _check_op(op, x.dtype)
        return x.copy()

    def allgather(self, x) -> np.ndarray:
        return _as_array(x)[None].copy()

    def broadcast(self, x, root: int = 0) -> np.ndarray:
        self._check_rank(root, "root")
        return _as_array(x).copy()

    def alltoall(self, x) -> np.ndarray:
        x = _as_array(x)
        if x.ndim == 0 or x.shape[0] != 1:
            raise ValueError(f"alltoall needs a leading axis of size {self.size} (one row per rank), got {x.shape}")
        return x.copy()

    def permute(self, x, pairs) -> np.ndarray:
        x = _as_array(x)
        pairs = _check_pairs(pairs, 1)
        return x.copy() if pairs else np.zeros_like(x)

    def send(self, x, dest: int, tag: int = 0) -> None:
        self._check_rank(dest, "dest")
        self._mailbox[self._check_tag(tag)].append(_as_array(x).copy())

    def recv(self, shape, dtype, source: int, tag: int = 0) -> np.ndarray:
        self._check_rank(source, "source")
        box = self._mailbox[self._check_tag(tag)]
        if not box:
            raise RuntimeError(f"recv(source=0, tag={tag}) in a one-process group: nothing was sent (would hang)")
        out = box.popleft()
        if out.shape != tuple(shape) or out.dtype != np.dtype(dtype):
            raise ValueError(
                f"recv expected {np.dtype(dtype)}{list(shape)}, the message is {out.dtype}{list(out.shape)}"
            )
        return out

    def barrier(self) -> None:
        pass

    def allgather_object(self, obj) -> list:
        return [pickle.loads(pickle.dumps(obj))]

    def broadcast_object(self, obj, root: int = 0):
        self._check_rank(root, "root")
        return pickle.loads(pickle.dumps(obj))


def _bytes(x: np.ndarray) -> np.ndarray:
    """A flat uint8 view of a contiguous array (any dtype, bfloat16 included, moves as bytes)."""
    return x.reshape(-1).view(np.uint8)


class MpiCollectives(HostCollectives):
    """A group over an mpi4py communicator (MPI.COMM_WORLD by default)."""

    def __init__(self, comm):
        self.comm = comm
        self.rank, self.size = comm.Get_rank(), comm.Get_size()
        self._MPI = _mpi()
        self._ops = {"sum": self._MPI.SUM, "max": self._MPI.MAX, "min": self._MPI.MIN}

    def allreduce(self, x, op: str = "sum") -> np.ndarray:
        x = _as_array(x)
        _check_op(op, x.dtype)
        if x.dtype in _MPI_REDUCIBLE:
            out = np.empty_like(x)
            self.comm.Allreduce(x.reshape(-1), out.reshape(-1), op=self._ops[op])
            return out
        rows = self.allgather(x)
        return functools.reduce(_NP_REDUCE[op], rows[1:], rows[0].copy())

    def allgather(self, x) -> np.ndarray:
        x = _as_array(x)
        out = np.empty((self.size, *x.shape), x.dtype)
        if x.nbytes:
            self.comm.Allgather(_bytes(x), _bytes(out))
        return out

    def broadcast(self, x, root: int = 0) -> np.ndarray:
        root = self._check_rank(root, "root")
        out = _as_array(x).copy()
        if out.nbytes:
            self.comm.Bcast(_bytes(out), root=root)
        return out

    def alltoall(self, x) -> np.ndarray:
        x = _as_array(x)
        if x.ndim == 0 or x.shape[0] != self.size:
            raise ValueError(f"alltoall needs a leading axis of size {self.size} (one row per rank), got {x.shape}")
        out = np.empty_like(x)
        if x.nbytes:
            self.comm.Alltoall(_bytes(x), _bytes(out))
        return out

    def permute(self, x, pairs) -> np.ndarray:
        x = _as_array(x)
        pairs = _check_pairs(pairs, self.size)
        out = np.zeros_like(x)
        reqs = []
        for s, d in pairs:
            if s == self.rank and d == self.rank:
                out[...] = x
            elif d == self.rank and x.nbytes:
                reqs.append(self.comm.Irecv(_bytes(out), source=s, tag=_PERMUTE_TAG))
            elif s == self.rank and x.nbytes:
                reqs.append(self.comm.Isend(_bytes(x), dest=d, tag=_PERMUTE_TAG))
        self._MPI.Request.Waitall(reqs)
        return out

    def send(self, x, dest: int, tag: int = 0) -> None:
        x = _as_array(x)
        self.comm.Send(_bytes(x), dest=self._check_rank(dest, "dest"), tag=self._check_tag(tag))

    def recv(self, shape, dtype, source: int, tag: int = 0) -> np.ndarray:
        out = np.empty(tuple(shape), np.dtype(dtype))
        status = self._MPI.Status()
        self.comm.Recv(_bytes(out), source=self._check_rank(source, "source"), tag=self._check_tag(tag), status=status)
        got = status.Get_count(self._MPI.BYTE)
        if got != out.nbytes:
            raise ValueError(f"recv expected {out.nbytes} bytes ({out.dtype}{list(out.shape)}), the message had {got}")
        return out

    def barrier(self) -> None:
        self.comm.Barrier()

    def allgather_object(self, obj) -> list:
        return self.comm.allgather(obj)

    def broadcast_object(self, obj, root: int = 0):
        return self.comm.bcast(obj, root=self._check_rank(root, "root"))


# IREE gives every HAL device it creates an MPI channel provider when it sees these variables: it
# dlopens libmpi.so (Open MPI's ABI assumed), calls MPI_Init, and MPI_Finalize when the device
# goes. irjax's collectives run on mpi4py instead, so IREE must not see them when it makes a
# device; MPI_Init (mpi4py's, irjax's or the user's) must, or MPICH crashes.
_IREE_MPI_ENV = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPIEXEC_HOSTNAME")


@contextlib.contextmanager
def hidden_from_iree():
    """Make IREE devices inside this block: the MPI launcher's variables are out of the
    environment while it runs, and back afterwards."""
    saved = {k: os.environ.pop(k) for k in _IREE_MPI_ENV if k in os.environ}
    try:
        yield
    finally:
        os.environ.update(saved)


def _mpi():
    """mpi4py's MPI module; imported only when a multi-process job asks for it (an optional dependency)."""
    try:
        from mpi4py import MPI
    except ImportError as e:
        raise ImportError(
            "multi-process irjax needs mpi4py and an MPI library: pip install 'irjax[mpi]' "
            f"(installs the mpich and mpi4py wheels) [{e}]"
        ) from e
    return MPI


def mpi_world() -> MpiCollectives:
    """The MPI engine over MPI.COMM_WORLD (initializes MPI on first use)."""
    return MpiCollectives(_mpi().COMM_WORLD)


_world: list[HostCollectives] = [LocalCollectives()]


def world() -> HostCollectives:
    """The engine of this job: set by irjax.distributed.initialize(), the one-process engine before."""
    return _world[0]


def set_world(engine: HostCollectives) -> HostCollectives:
    """Install `engine` as world(); returns the previous one."""
    prev, _world[0] = _world[0], engine
    return prev

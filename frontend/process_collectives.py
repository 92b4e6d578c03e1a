"""Collectives over mesh axes whose members live in several processes (a shard_map over a mesh
that spans processes): each runs at once, on concrete values, on the host collective engine (MPI
after irjax.distributed.initialize()), with JAX's member order and results (docs/distributed.md)."""

from __future__ import annotations

import threading

import numpy as np
from irjax.runtime import host_collectives as _hc

from .array import Array, from_numpy
from .axis_env import ProcessMesh
from .core import Tracer


def _host(x, fn: str) -> np.ndarray:
    if isinstance(x, Tracer) or (hasattr(x, "aval") and not isinstance(x, Array)):
        raise NotImplementedError(
            f"{fn} over a mesh axis that spans processes runs eagerly on MPI, between the body's other "
            "computations: it cannot be traced (inside jit, grad, vmap or a loop within the shard_map body). "
            "Call the collective on concrete values in the body, and jit/grad the pieces between collectives"
        )
    return np.asarray(x)


class MemberGroup:
    """This process's members of a mesh with several devices per process, each run in its own
    thread: gather() is their rendezvous; the first member moves the process's values through
    one MPI allgather, and every member gets the table of all members' values in mesh order."""

    def __init__(self, owners: np.ndarray, slots: np.ndarray, local: int):
        self.owners, self.slots = owners, slots  # per flat mesh position: owning rank, index among its positions
        self.barrier = threading.Barrier(local)
        self.values: list = [None] * local
        self.table = None

    def gather(self, slot: int, value: np.ndarray) -> np.ndarray:
        """(mesh size, *value.shape): row k is the value of the member at flat mesh position k."""
        self.values[slot] = value
        self.barrier.wait()
        if slot == 0:
            rows = _hc.world().allgather(np.stack(self.values))  # (processes, local members, ...)
            self.table = rows[self.owners, self.slots]
        self.barrier.wait()
        table = self.table
        self.barrier.wait()  # nobody starts the next gather before every member has its table
        return table

    def allreduce(self, slot: int, value: np.ndarray, op: str) -> np.ndarray:
        """The reduction over every member of the mesh: the process's members reduce here (NumPy,
        in slot order), then one MPI_Allreduce; every member gets the same array."""
        self.values[slot] = value
        self.barrier.wait()
        if slot == 0:
            local = {"sum": np.sum, "max": np.max, "min": np.min}[op](np.stack(self.values), axis=0)
            self.table = _hc.world().allreduce(local.astype(value.dtype), op)
        self.barrier.wait()
        out = self.table
        self.barrier.wait()
        return out

    def broadcast_first(self, slot: int, value: np.ndarray) -> np.ndarray:
        """The value of the member at flat mesh position 0, on every member (one MPI_Bcast)."""
        self.values[slot] = value
        self.barrier.wait()
        if slot == 0:
            root, at = int(self.owners[0]), int(self.slots[0])
            self.table = _hc.world().broadcast(self.values[at], root=root)
        self.barrier.wait()
        out = self.table
        self.barrier.wait()
        return out


class MemberMesh(ProcessMesh):
    """A member's view of a mesh whose processes hold several of its devices: ProcessMesh's
    (with positions where ranks would be) plus the member's flat position and its group."""

    def __init__(self, axis_names, shape, coords, group: MemberGroup, slot: int):
        super().__init__(tuple(axis_names), np.arange(int(np.prod(shape))).reshape(shape), coords)
        self.group, self.slot = group, slot

    def table(self, x, fn: str) -> np.ndarray:
        return self.group.gather(self.slot, _host(x, fn))


def _check_names(pm: ProcessMesh, names: tuple[str, ...], fn: str) -> None:
    unknown = [n for n in names if n not in pm.sizes]
    if unknown:
        raise NotImplementedError(
            f"{fn} over {names}: the axes {unknown} are not axes of the shard_map mesh that spans processes "
            "(a collective may not mix a vmap's axis with the process mesh's axes)"
        )


def _gathered(pm: ProcessMesh, names: tuple[str, ...], fn: str) -> bool:
    """Whether the collective runs on the table of every member's value (several members per
    process, or a group that does not reach every process) rather than on one MPI collective."""
    _check_names(pm, names, fn)
    return isinstance(pm, MemberMesh) or len(pm.member_ranks(names)) != _hc.world().size


def group_positions(pm: ProcessMesh, names: tuple[str, ...]) -> np.ndarray:
    """The flat mesh positions of this member's group along `names`, in member order."""
    if isinstance(pm, MemberMesh):
        return pm.member_ranks(names)  # its ranks array holds positions
    positions = np.arange(pm.ranks.size).reshape(pm.ranks.shape)
    return ProcessMesh(pm.axis_names, positions, pm.coords).member_ranks(names)


def member_table(pm: ProcessMesh, x, fn: str) -> np.ndarray:
    """(mesh size, *x.shape): row k is the value of the member at flat mesh position k."""
    if isinstance(pm, MemberMesh):
        return pm.table(x, fn)
    return _hc.world().allgather(_host(x, fn))[pm.ranks.reshape(-1)]  # one member per process


def _group_index(pm: ProcessMesh, pos: np.ndarray) -> int:
    me = int(np.ravel_multi_index(pm.coords, pm.ranks.shape))
    return int(np.flatnonzero(pos == me)[0])


def _members(pm: ProcessMesh, names: tuple[str, ...], fn: str) -> np.ndarray:
    """The ranks of the collective's members in member order (a group that reaches every process)."""
    _check_names(pm, names, fn)
    return pm.member_ranks(names)


def _out(value: np.ndarray, like) -> Array:
    weak = bool(getattr(getattr(like, "aval", None), "weak_type", False))
    return from_numpy(value, weak_type=weak)


def reduce(op: str, leaves: list, pm: ProcessMesh, names: tuple[str, ...]) -> list[Array]:
    """psum / pmax / pmin of a pytree's leaves: every member gets the elementwise reduction. Over
    every member of the mesh, leaves of one dtype travel in one buffer (one MPI_Allreduce per
    dtype, not per leaf; several members per process reduce in the process first); over a
    sub-group, from the table of every member's value."""
    fn = {"sum": "psum", "max": "pmax", "min": "pmin"}[op]
    everyone = False
    if _gathered(pm, names, fn):
        pos = group_positions(pm, names)
        everyone = isinstance(pm, MemberMesh) and len(pos) == pm.ranks.size
        if not everyone:  # a sub-group: from the table of every member's value
            red = {"sum": np.sum, "max": np.max, "min": np.min}[op]
            return [_out(red(member_table(pm, x, fn)[pos], axis=0).astype(np.asarray(x).dtype), x) for x in leaves]
    hosts = [_host(x, fn) for x in leaves]
    out: list = [None] * len(hosts)
    for dt in dict.fromkeys(h.dtype for h in hosts):
        idx = [i for i, h in enumerate(hosts) if h.dtype == dt]
        flat = np.concatenate([hosts[i].reshape(-1) for i in idx])
        red = pm.group.allreduce(pm.slot, flat, op) if everyone else _hc.world().allreduce(flat, op)
        at = 0
        for i in idx:
            n = hosts[i].size
            out[i] = _out(red[at : at + n].reshape(hosts[i].shape), leaves[i])
            at += n
    return out


def _gather_rows(h: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """(members, *h.shape): row k from the member k."""
    return _hc.world().allgather(h)[ranks]


def all_gather(x, pm: ProcessMesh, name: str, axis: int, tiled: bool) -> Array:
    if _gathered(pm, (name,), "all_gather"):
        rows = member_table(pm, x, "all_gather")[group_positions(pm, (name,))]
    else:
        rows = _gather_rows(_host(x, "all_gather"), _members(pm, (name,), "all_gather"))
    out = np.concatenate(list(rows), axis=axis) if tiled else np.moveaxis(rows, 0, axis)
    return _out(out, x)


def member_index(pm: ProcessMesh, names: tuple[str, ...]) -> int:
    """This process's index along `names` (row-major), as axis_index gives it."""
    idx = 0
    for n in names:
        idx = idx * pm.sizes[n] + pm.coords[pm.axis_names.index(n)]
    return idx


def psum_scatter(x, pm: ProcessMesh, name: str, scatter_dimension: int, tiled: bool) -> Array:
    if _gathered(pm, (name,), "psum_scatter"):
        pos = group_positions(pm, (name,))
        s = member_table(pm, x, "psum_scatter")[pos].sum(axis=0).astype(np.asarray(x).dtype)
    else:
        pos = _members(pm, (name,), "psum_scatter")
        s = _hc.world().allreduce(_host(x, "psum_scatter"), "sum")
    k, n = member_index(pm, (name,)), len(pos)
    block = np.split(s, n, axis=scatter_dimension)[k]
    return _out(block if tiled else np.squeeze(block, scatter_dimension), x)


def ppermute(x, pm: ProcessMesh, name: str, perm: tuple) -> Array:
    """Member dst gets member src's x; members nobody sends to get zeros (the engine's rule)."""
    if _gathered(pm, (name,), "ppermute"):
        pos = group_positions(pm, (name,))
        table = member_table(pm, x, "ppermute")
        k = _group_index(pm, pos)
        src = [a for a, b in perm if b == k]
        return _out(table[pos[src[0]]] if src else np.zeros_like(table[0]), x)
    ranks = _members(pm, (name,), "ppermute")
    pairs = [(int(ranks[src]), int(ranks[dst])) for src, dst in perm]
    return _out(_hc.world().permute(_host(x, "ppermute"), pairs), x)


def all_to_all(x, pm: ProcessMesh, name: str, split_axis: int, concat_axis: int, tiled: bool) -> Array:
    """Member i gets block i of every member's split_axis, stacked (tiled: concatenated) along
    concat_axis in member order."""
    if _gathered(pm, (name,), "all_to_all"):
        pos = group_positions(pm, (name,))
        table = member_table(pm, x, "all_to_all")
        k = _group_index(pm, pos)
        got = [np.split(table[p], len(pos), axis=split_axis)[k] for p in pos]  # block k of every member's
        if not tiled:
            got = [np.squeeze(b, split_axis) for b in got]
        out = np.concatenate(got, axis=concat_axis) if tiled else np.stack(got, axis=concat_axis)
        return _out(out, x)
    ranks = _members(pm, (name,), "all_to_all")
    h = _host(x, "all_to_all")
    n = len(ranks)
    blocks = np.split(h, n, axis=split_axis)  # block k goes to member k
    if not tiled:
        blocks = [np.squeeze(b, split_axis) for b in blocks]
    send = np.empty((n,) + blocks[0].shape, h.dtype)
    for k, r in enumerate(ranks):
        send[r] = blocks[k]  # the engine sends row j to rank j
    got = _hc.world().alltoall(send)[ranks]  # row k from member k
    out = np.concatenate(list(got), axis=concat_axis) if tiled else np.moveaxis(got, 0, concat_axis)
    return _out(out, x)


def axis_index(pm: ProcessMesh, names: tuple[str, ...]) -> Array:
    """This member's index along `names` (int32; over several names row-major)."""
    if any(n not in pm.sizes for n in names):
        raise NotImplementedError(f"axis_index over {names} mixes the process mesh's axes with others")
    return from_numpy(np.int32(member_index(pm, names)))

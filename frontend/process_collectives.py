"""Collectives over mesh axes whose members live in several processes (a shard_map over a mesh
that spans processes), on the host collective engine (MPI after irjax.distributed.initialize()),
with JAX's member order and results: on concrete values at once, under a trace as jx collectives
over the mesh's process axes, which run as host calls (collective_calls.py, docs/distributed.md)."""

from __future__ import annotations

import threading

import numpy as np
from irjax.dialects.host_calls import HostFunction, register_host_function
from irjax.dialects.registry import ShapedType
from irjax.runtime import host_collectives as _hc

from . import dispatch as _dispatch  # noqa: F401  (core.bind runs eager ops through it)
from .array import Array, from_numpy
from .axis_env import ProcessMesh, process_mesh_of
from .core import Tracer, bind, current_trace, jx


def _host(x, fn: str) -> np.ndarray:
    return np.asarray(x)  # (a concrete operand: traced ones become jx collectives, see _traced)


def _traced(leaves) -> bool:
    """Under a trace (jit, grad, vmap, scan, cond in the body) a collective becomes a jx op."""
    return current_trace() is not None or any(isinstance(x, Tracer) for x in leaves)


# ---- process axes in traced programs: `name@<mesh id>` -----------------------------------------
# A traced collective names its axes `p@3`: mesh 3's axis p. The host function that serves it
# (collective_calls.py) finds the member at run time: the process mesh of the calling thread (the
# body runs there, one thread per member), else the mesh this process traced (jit(shard_map)).

_mesh_ids: dict = {}
_meshes: list = []  # id -> this process's ProcessMesh (None for member meshes: per thread)
_mesh_lock = threading.Lock()  # (member threads trace at once)


def _layout(pm: ProcessMesh) -> tuple:
    if isinstance(pm, StackedMesh):
        return ("stacked", pm.axis_names, pm.ranks.shape, pm.owners.tobytes(), pm.slots.tobytes())
    if isinstance(pm, MemberMesh):
        g = pm.group
        return ("members", pm.axis_names, pm.ranks.shape, g.owners.tobytes(), g.slots.tobytes())
    return ("ranks", pm.axis_names, pm.ranks.shape, pm.ranks.tobytes())


def mesh_id(pm: ProcessMesh) -> int:
    key = _layout(pm)
    with _mesh_lock:
        if key not in _mesh_ids:
            _mesh_ids[key] = len(_meshes)
            _meshes.append(None if isinstance(pm, MemberMesh) else pm)  # (a StackedMesh is kept)
        return _mesh_ids[key]


def traced_names(pm: ProcessMesh, names: tuple[str, ...]) -> tuple[str, ...]:
    i = mesh_id(pm)
    return tuple(f"{n}@{i}" for n in names)


def split_names(names: tuple[str, ...]) -> tuple[tuple[str, ...], int] | None:
    """(the mesh's axis names, mesh id) of traced process axes `p@3`, else None."""
    parts = [n.rpartition("@") for n in names]
    if not parts or any(not sep or not i.isdigit() for _, sep, i in parts):
        return None
    ids = {int(i) for _, _, i in parts}
    if len(ids) != 1 or next(iter(ids)) >= len(_meshes):
        return None
    return tuple(n for n, _, _ in parts), ids.pop()


def running_mesh(names: tuple[str, ...], mid: int) -> ProcessMesh:
    """The process mesh a host call of a collective over `names` of mesh `mid` runs on."""
    if isinstance(_meshes[mid], StackedMesh):  # (a program batched over this process's members)
        return _meshes[mid]
    pm = process_mesh_of(names)
    if pm is None:
        pm = _meshes[mid]
    if pm is None:
        raise NameError(
            f"a collective over the process axes {names} ran outside the shard_map over processes that "
            "traced it (a program compiled inside a shard_map body with several devices per process must "
            "be called inside such a body)"
        )
    return pm


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


class StackedGroup(MemberGroup):
    """MemberGroup's collectives when one host call holds every member's value at once (a program
    batched over this process's members, StackedMesh): no threads; each member calls with its own
    value, the first call computes the result from all of them and the others read it."""

    def __init__(self, owners: np.ndarray, slots: np.ndarray, values: list):
        super().__init__(owners, slots, len(values))
        self.values = values  # this process's members' values, in slot order
        self._done: dict = {}

    def _once(self, key, compute):
        if key not in self._done:
            self._done[key] = compute()
        return self._done[key]

    def gather(self, slot: int, value: np.ndarray) -> np.ndarray:
        def table():
            rows = _hc.world().allgather(np.stack([np.reshape(v, value.shape) for v in self.values]))
            return rows[self.owners, self.slots]

        return self._once(("gather", value.shape, value.dtype), table)

    def allreduce(self, slot: int, value: np.ndarray, op: str) -> np.ndarray:
        def reduced():
            red = {"sum": np.sum, "max": np.max, "min": np.min}[op]
            local = red(np.stack([np.reshape(v, value.shape) for v in self.values]), axis=0)
            return _hc.world().allreduce(local.astype(value.dtype), op)

        return self._once(("allreduce", op, value.shape, value.dtype), reduced)

    def broadcast_first(self, slot: int, value: np.ndarray) -> np.ndarray:
        def first():
            at = int(self.slots[0])
            mine = np.reshape(self.values[at], value.shape) if _hc.world().rank == int(self.owners[0]) else value
            return _hc.world().broadcast(np.array(mine, order="C"), root=int(self.owners[0]))

        return self._once(("broadcast", value.shape, value.dtype), first)


class StackedMesh(ProcessMesh):
    """This process's members of a mesh over processes, traced together (jit of the shard_map):
    the body is traced once and batched over the members (a vmap over `member_axis`). A collective
    stacks the members' operands along a new last axis in the program, runs once on the host for
    all of them (one host call, one MPI collective: StackedGroup), and each member takes its own
    result (stacked_collective)."""

    def __init__(self, axis_names: tuple[str, ...], shape: tuple, owners: np.ndarray, slots: np.ndarray, mine):
        super().__init__(tuple(axis_names), np.arange(int(np.prod(shape))).reshape(shape), None)
        self.owners, self.slots, self.mine = owners, slots, [int(k) for k in mine]
        self.local = len(self.mine)
        self.member_axis = f"@members{mesh_id(self)}"  # (not a process axis name: no digits after @)

    def coords_of(self, slot: int) -> tuple[int, ...]:
        return tuple(int(c) for c in np.unravel_index(self.mine[slot], self.ranks.shape))

    def members(self, values: list) -> list[MemberMesh]:
        """One MemberMesh per local member, sharing one StackedGroup over `values` (slot order)."""
        group = StackedGroup(self.owners, self.slots, values)
        return [MemberMesh(self.axis_names, self.ranks.shape, self.coords_of(j), group, j) for j in range(self.local)]


def stacked_collective(sm: StackedMesh, name: str, x, **params):
    """jx.<name> over process axes for every member of a StackedMesh at once: the members'
    operands all-gathered over the member axis (the last axis: a vmap outside and transposes only
    add leading ones), one jx collective over the mesh's traced names (one host call, see
    collective_calls.py), then each member's slice of the result along the last axis."""
    x = x if isinstance(x, Tracer) or hasattr(x, "aval") else from_numpy(np.asarray(x))
    m = sm.member_axis
    stacked = jx.all_gather(x, axis_name=(m,), axis=len(x.shape), tiled=False, axis_size=sm.local)
    r = bind(name, stacked, **params)
    # each member's own entry of the last axis, by selects between static slices: exact for every
    # value (a sum of the entry and zeros loses -0.0; a dynamic index transposed to a scatter that
    # IREE 3.13 failed to compile here)
    last, shape = len(r.shape) - 1, tuple(r.shape[:-1])
    i = jx.axis_index(axis_name=(m,))

    def entry(j):
        start, limit = (0,) * last + (j,), shape + (j + 1,)
        return jx.slice(r, start_indices=start, limit_indices=limit, strides=None).reshape(shape)

    out = entry(sm.local - 1)
    for j in reversed(range(sm.local - 1)):
        pick = jx.broadcast_in_dim(i == np.int32(j), shape=shape, broadcast_dimensions=())
        out = jx.select(pick, entry(j), out)
    return out


def member_coords(sm: StackedMesh):
    """(local members, mesh rank) int32: this process's members' mesh coordinates, in slot order,
    from a host call: the program text is the same on every process (only the values differ), so
    jx cse treats every process's program alike."""
    coords = np.array([sm.coords_of(j) for j in range(sm.local)], np.int32).reshape(sm.local, len(sm.axis_names))
    result = ShapedType(coords.shape, np.dtype(np.int32))
    n = register_host_function(
        ("shard_map member coords", mesh_id(sm)),
        lambda: HostFunction(lambda arrays: [coords], (result,), "expand_dims"),
    )
    (c,) = jx.pure_callback(
        from_numpy(np.int32(0)), callback=n, result_shapes=(coords.shape,), result_dtypes=(np.dtype(np.int32),)
    )
    return c


def stacked_value(name: str, x: np.ndarray, sm: StackedMesh, names: tuple[str, ...], run_member) -> np.ndarray:
    """The host side of stacked_collective: x's last axis holds this process's members' operands
    (leading axes: vmaps outside); run_member(value, member mesh) gives one member's result."""
    values = [np.array(x[..., j], order="C") for j in range(sm.local)]
    return np.stack([run_member(v, pm) for v, pm in zip(values, sm.members(values))], axis=-1)


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
    _check_names(pm, names, fn)
    if isinstance(pm, StackedMesh):
        names = traced_names(pm, names)
        return _traced_reduce(fn, leaves, lambda x: stacked_collective(pm, fn, x, axis_name=names))
    if _traced(leaves):
        names = traced_names(pm, names)
        return _traced_reduce(fn, leaves, lambda x: bind(fn, x, axis_name=names))
    return [_out(r, x) for r, x in zip(reduce_values(op, [np.asarray(x) for x in leaves], pm, names), leaves)]


def _traced_reduce(fn: str, leaves: list, emit) -> list:
    """One jx collective per dtype (emit(operand)): the leaves flattened into one vector (one MPI
    call per call, as on the eager path), split again after."""
    out: list = [None] * len(leaves)
    leaves = [x if isinstance(x, Tracer) or hasattr(x, "aval") else from_numpy(np.asarray(x)) for x in leaves]
    for dt in dict.fromkeys(x.dtype for x in leaves):
        idx = [i for i, x in enumerate(leaves) if x.dtype == dt]
        if len(idx) == 1:
            out[idx[0]] = emit(leaves[idx[0]])
            continue
        flat = jx.concatenate(*[leaves[i].reshape(-1) for i in idx], dimension=0)
        red = emit(flat)
        at = 0
        for i in idx:
            n = int(np.prod(leaves[i].shape))
            out[i] = red[at : at + n].reshape(leaves[i].shape)
            at += n
    return out


def reduce_values(op: str, hosts: list[np.ndarray], pm: ProcessMesh, names: tuple[str, ...]) -> list[np.ndarray]:
    fn = {"sum": "psum", "max": "pmax", "min": "pmin"}[op]
    everyone = False
    if _gathered(pm, names, fn):
        pos = group_positions(pm, names)
        everyone = isinstance(pm, MemberMesh) and len(pos) == pm.ranks.size
        if not everyone:  # a sub-group: from the table of every member's value
            red = {"sum": np.sum, "max": np.max, "min": np.min}[op]
            return [red(member_table(pm, x, fn)[pos], axis=0).astype(x.dtype) for x in hosts]
    out: list = [None] * len(hosts)
    for dt in dict.fromkeys(h.dtype for h in hosts):
        idx = [i for i, h in enumerate(hosts) if h.dtype == dt]
        flat = np.concatenate([hosts[i].reshape(-1) for i in idx])
        red = pm.group.allreduce(pm.slot, flat, op) if everyone else _hc.world().allreduce(flat, op)
        at = 0
        for i in idx:
            n = hosts[i].size
            out[i] = red[at : at + n].reshape(hosts[i].shape)
            at += n
    return out


def _gather_rows(h: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """(members, *h.shape): row k from the member k."""
    return _hc.world().allgather(h)[ranks]


def _emit(pm: ProcessMesh, op: str, x, name: str, **params):
    """The traced collective jx.<op> over the process axis `name`."""
    names = traced_names(pm, (name,))
    if isinstance(pm, StackedMesh):
        return stacked_collective(pm, op, x, axis_name=names, **params)
    return bind(op, x, axis_name=names, **params)


def all_gather(x, pm: ProcessMesh, name: str, axis: int, tiled: bool) -> Array:
    if _traced([x]):
        return _emit(pm, "all_gather", x, name, axis=axis, tiled=tiled, axis_size=pm.sizes[name])
    return _out(all_gather_value(np.asarray(x), pm, name, axis, tiled), x)


def all_gather_value(x: np.ndarray, pm: ProcessMesh, name: str, axis: int, tiled: bool) -> np.ndarray:
    if _gathered(pm, (name,), "all_gather"):
        rows = member_table(pm, x, "all_gather")[group_positions(pm, (name,))]
    else:
        rows = _gather_rows(_host(x, "all_gather"), _members(pm, (name,), "all_gather"))
    return np.concatenate(list(rows), axis=axis) if tiled else np.moveaxis(rows, 0, axis)


def member_index(pm: ProcessMesh, names: tuple[str, ...]) -> int:
    """This process's index along `names` (row-major), as axis_index gives it."""
    idx = 0
    for n in names:
        idx = idx * pm.sizes[n] + pm.coords[pm.axis_names.index(n)]
    return idx


def psum_scatter(x, pm: ProcessMesh, name: str, scatter_dimension: int, tiled: bool) -> Array:
    if _traced([x]):
        return _emit(
            pm, "psum_scatter", x, name, scatter_dimension=scatter_dimension, tiled=tiled, axis_size=pm.sizes[name]
        )
    return _out(psum_scatter_value(np.asarray(x), pm, name, scatter_dimension, tiled), x)


def psum_scatter_value(x: np.ndarray, pm: ProcessMesh, name: str, scatter_dimension: int, tiled: bool) -> np.ndarray:
    if _gathered(pm, (name,), "psum_scatter"):
        pos = group_positions(pm, (name,))
        s = member_table(pm, x, "psum_scatter")[pos].sum(axis=0).astype(np.asarray(x).dtype)
    else:
        pos = _members(pm, (name,), "psum_scatter")
        s = _hc.world().allreduce(_host(x, "psum_scatter"), "sum")
    k, n = member_index(pm, (name,)), len(pos)
    block = np.split(s, n, axis=scatter_dimension)[k]
    return block if tiled else np.squeeze(block, scatter_dimension)


def ppermute(x, pm: ProcessMesh, name: str, perm: tuple) -> Array:
    """Member dst gets member src's x; members nobody sends to get zeros (the engine's rule)."""
    if _traced([x]):
        return _emit(pm, "ppermute", x, name, perm=perm)
    return _out(ppermute_value(np.asarray(x), pm, name, perm), x)


def ppermute_value(x: np.ndarray, pm: ProcessMesh, name: str, perm: tuple) -> np.ndarray:
    if _gathered(pm, (name,), "ppermute"):
        pos = group_positions(pm, (name,))
        table = member_table(pm, x, "ppermute")
        k = _group_index(pm, pos)
        src = [a for a, b in perm if b == k]
        return table[pos[src[0]]] if src else np.zeros_like(table[0])
    ranks = _members(pm, (name,), "ppermute")
    pairs = [(int(ranks[src]), int(ranks[dst])) for src, dst in perm]
    return _hc.world().permute(x, pairs)


def all_to_all(x, pm: ProcessMesh, name: str, split_axis: int, concat_axis: int, tiled: bool) -> Array:
    """Member i gets block i of every member's split_axis, stacked (tiled: concatenated) along
    concat_axis in member order."""
    if _traced([x]):
        params = dict(split_axis=split_axis, concat_axis=concat_axis, tiled=tiled, axis_size=pm.sizes[name])
        return _emit(pm, "all_to_all", x, name, **params)
    return _out(all_to_all_value(np.asarray(x), pm, name, split_axis, concat_axis, tiled), x)


def all_to_all_value(
    x: np.ndarray, pm: ProcessMesh, name: str, split_axis: int, concat_axis: int, tiled: bool
) -> np.ndarray:
    if _gathered(pm, (name,), "all_to_all"):
        pos = group_positions(pm, (name,))
        table = member_table(pm, x, "all_to_all")
        k = _group_index(pm, pos)
        got = [np.split(table[p], len(pos), axis=split_axis)[k] for p in pos]  # block k of every member's
        if not tiled:
            got = [np.squeeze(b, split_axis) for b in got]
        return np.concatenate(got, axis=concat_axis) if tiled else np.stack(got, axis=concat_axis)
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
    return np.concatenate(list(got), axis=concat_axis) if tiled else np.moveaxis(got, 0, concat_axis)


def axis_index(pm: ProcessMesh, names: tuple[str, ...]) -> Array:
    """This member's index along `names` (int32; over several names row-major)."""
    if any(n not in pm.sizes for n in names):
        raise NotImplementedError(f"axis_index over {names} mixes the process mesh's axes with others")
    if isinstance(pm, StackedMesh):  # from the members' coordinates (a host call), each its own row
        c = member_coords(pm)
        i = jx.axis_index(axis_name=(pm.member_axis,))
        zero = from_numpy(np.int32(0))
        row = jx.dynamic_slice(c, i, zero, slice_sizes=(1, len(pm.axis_names))).reshape(len(pm.axis_names))
        idx = None
        for n in names:
            k = pm.axis_names.index(n)
            ci = jx.slice(row, start_indices=(k,), limit_indices=(k + 1,), strides=None).reshape(())
            idx = ci if idx is None else idx * np.int32(pm.sizes[n]) + ci
        return idx
    if _traced([]):  # a host call: members that share a compiled program differ here
        idx = None
        for n, t in zip(names, traced_names(pm, names)):
            i = jx.axis_index(axis_name=(t,))
            idx = i if idx is None else idx * np.int32(pm.sizes[n]) + i
        return idx
    return from_numpy(np.int32(member_index(pm, names)))

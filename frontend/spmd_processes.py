"""shard_map over a mesh that spans processes (irjax.distributed): each process runs the body as
the members its devices are, eagerly (several members: one thread each) or, under jit/grad/vmap,
traced once for all of them (batched); collectives over the mesh axes run on MPI
(process_collectives.py), from compiled code through host calls (collective_calls.py)."""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Callable

import numpy as np
from irjax.dialects.host_calls import HostFunction, register_host_function
from irjax.dialects.registry import ShapedType
from irjax.runtime import host_collectives as _hc

from . import collective_calls as _collective_calls
from . import distributed, lax, tree_util
from . import numpy as jnp
from .api import vmap
from .array import Array, from_numpy
from .axis_env import ProcessMesh, process_mesh_frame
from .core import ShapedArray, Tracer, aval_of, current_trace, jx
from .custom_derivatives import custom_vjp
from .process_collectives import (
    MemberGroup,
    MemberMesh,
    StackedMesh,
    group_positions,
    member_coords,
    member_table,
    mesh_id,
)
from .sharded import ShardedArray, make_array_from_single_device_arrays, put
from .sharding import Mesh, NamedSharding, PartitionSpec, SingleDeviceSharding, is_local

assert _collective_calls  # imported for its effect: process collectives lower to host calls


def process_mesh(mesh: Mesh) -> tuple[ProcessMesh, object, int]:
    """(this process's view of the mesh, its device, the device's flat mesh position) for a mesh
    that holds exactly one device of every process."""
    flat = list(mesh.devices.flat)
    ranks = np.array([d.process_index for d in flat]).reshape(mesh.devices.shape)
    n = distributed.process_count()
    if sorted(ranks.flat) != list(range(n)):
        raise NotImplementedError(
            f"shard_map over a mesh that spans processes needs the same number of mesh devices in every process; "
            f"the mesh's devices belong to processes {sorted(ranks.flat)} (of {n}). Build the mesh over every "
            "process's devices (irjax.make_mesh over irjax.devices() does)"
        )
    k = next(i for i, d in enumerate(flat) if is_local(d))
    coords = tuple(int(c) for c in np.unravel_index(k, mesh.devices.shape))
    return ProcessMesh(tuple(mesh.axis_names), ranks, coords), flat[k], k


def _local_block(x, sharding: NamedSharding, device, k: int, fname: str) -> Array:
    """This member's block of an argument: its own shard of a global array laid out by the
    in_specs' sharding, or its slice of a global value that every process passes."""
    if isinstance(x, ShardedArray) and not x.is_fully_addressable:
        if x.sharding != sharding and not x.sharding.is_equivalent_to(sharding, x.ndim):
            raise ValueError(
                f"shard_map applied to the function {fname!r}: an argument laid out by {x.sharding} over processes "
                f"does not match its in_specs ({sharding.spec}); irjax does not reshard across processes"
            )
        return x._shard_arrays()[k]
    host = np.asarray(x)
    try:
        idx = sharding.devices_indices_map(host.shape)[device]
    except ValueError as e:
        raise ValueError(f"shard_map applied to the function {fname!r}: {e}") from None
    weak = isinstance(x, Array) and x.aval.weak_type
    return put(host[idx], SingleDeviceSharding(device), weak)


def _digests_agree(values: list[np.ndarray]) -> bool:
    h = hashlib.sha256()
    for v in values:
        h.update(np.ascontiguousarray(v).tobytes())
    ds = _hc.world().allgather_object(h.hexdigest())
    return all(d == ds[0] for d in ds)


def run(
    f: Callable,
    mesh: Mesh,
    leaves: list,
    in_tree,
    in_specs: list[PartitionSpec],
    out_specs_of: Callable,
    check: bool,
    fname: str,
    reverse_check: Callable | None,
):
    """The cross-process shard_map call: blocks in, the body run here, global arrays out."""
    if current_trace() is not None or any(isinstance(x, Tracer) for x in leaves):
        return _run_traced(f, mesh, leaves, in_tree, in_specs, out_specs_of, check, fname, reverse_check)
    if _several_per_process(mesh):
        return _run_members(f, mesh, leaves, in_tree, in_specs, out_specs_of, check, fname, reverse_check)
    pm, device, k = process_mesh(mesh)
    blocks = [_local_block(x, NamedSharding(mesh, s), device, k, fname) for x, s in zip(leaves, in_specs)]
    if reverse_check is not None:
        reverse_check([aval_of(b) for b in blocks])
    with process_mesh_frame(pm):
        out = f(*tree_util.tree_unflatten(in_tree, blocks))
    o_leaves, o_tree = tree_util.tree_flatten(out)
    o_specs = out_specs_of(out)
    o_leaves = [o if isinstance(o, Array) else from_numpy(np.asarray(o)) for o in o_leaves]
    sizes = dict(zip(mesh.axis_names, mesh.axis_sizes))

    # an output whose out_specs omit a mesh axis of size > 1 must be the same on those members
    big = [a for a in mesh.axis_names if sizes[a] > 1]
    omits = [all(a not in s.used_axes() for a in big) and bool(big) for s in o_specs]  # replicated everywhere
    partial = [any(a not in s.used_axes() for a in big) and not om for s, om in zip(o_specs, omits)]
    if any(partial):  # replicated along some axes only: compared (or taken) group by group
        o_leaves = [
            _settle(o, s, pm, check, fname) if p else o for o, s, p in zip(o_leaves, o_specs, partial, strict=True)
        ]
    if any(omits):
        kept = [np.asarray(o) for o, om in zip(o_leaves, omits) if om]
        if check:
            # irjax checks the values (one small collective), where JAX checks the types statically
            if not _digests_agree(kept):
                raise ValueError(_replication_error(fname, tuple(big)))
        else:  # member 0's value, as the in-process path takes
            root = int(pm.ranks.flat[0])
            got = iter([_hc.world().broadcast(v, root) for v in kept])
            o_leaves = [from_numpy(next(got)) if om else o for o, om in zip(o_leaves, omits)]

    results = []
    for o, s in zip(o_leaves, o_specs):
        block = o.shape
        shape = tuple(n * math.prod(sizes[a] for a in s.axes_of(d)) for d, n in enumerate(block))
        local = o if o._device == device else put(np.asarray(o), SingleDeviceSharding(device))
        local = Array(local._bv, ShapedArray(block, o.dtype, False), device, local._npy, True)
        results.append(make_array_from_single_device_arrays(shape, NamedSharding(mesh, s), [local]))
    return tree_util.tree_unflatten(o_tree, results)


# ---- under a trace (jit, grad or vmap of the shard_map): this process's members traced at once ----


def _run_traced(f, mesh, leaves, in_tree, in_specs, out_specs_of, check, fname, reverse_check):
    """The body traced once for all of this process's members: a vmap over them (the member axis of
    process_collectives.StackedMesh), whose collectives stack the members' operands and run as one
    host call (one MPI collective) each. Arguments are global values (the same on every process):
    each member's block is sliced in the program (_member_blocks); each output is assembled to its
    global value on every process by a host call (_assemble). Both have transposes that need what
    every process holds, so grad of the shard_map from outside works (docs/distributed.md)."""
    owners, slots, mine = _member_layout(mesh)
    sm = StackedMesh(mesh.axis_names, mesh.devices.shape, owners, slots, mine)
    coords = member_coords(sm)
    stacked = [_member_blocks(x, s, mesh, sm, coords, fname) for x, s in zip(leaves, in_specs)]
    if reverse_check is not None:
        reverse_check([ShapedArray(aval_of(b).shape[1:], aval_of(b).dtype, aval_of(b).weak_type) for b in stacked])
    state: dict = {}

    def member(*blocks):
        out = f(*tree_util.tree_unflatten(in_tree, blocks))
        o_leaves, state["tree"] = tree_util.tree_flatten(out)
        state["specs"] = out_specs_of(out)
        return [o if isinstance(o, Tracer) or hasattr(o, "aval") else from_numpy(np.asarray(o)) for o in o_leaves]

    with process_mesh_frame(sm):
        outs = vmap(member, axis_name=sm.member_axis, axis_size=sm.local)(*stacked)
    results = [_assemble(o, s, sm, coords, check, fname) for o, s in zip(outs, state["specs"])]
    return tree_util.tree_unflatten(state["tree"], results)


def _global_shape(block, s: PartitionSpec, sm: StackedMesh) -> tuple:
    return tuple(n * math.prod(sm.sizes[a] for a in s.axes_of(d)) for d, n in enumerate(block))


def _block_shape(shape, s: PartitionSpec, sm: StackedMesh, fname: str) -> tuple:
    block = []
    for d, n in enumerate(shape):
        k = math.prod(sm.sizes[a] for a in s.axes_of(d))
        if n % k:
            raise ValueError(
                f"shard_map applied to the function {fname!r} was given an argument of shape {tuple(shape)} whose "
                f"dimension {d} (size {n}) is not evenly divisible by the mesh axes {s.axes_of(d)} (total size {k})"
            )
        block.append(n // k)
    return tuple(block)


def _block_index(coords, s: PartitionSpec, names: tuple, sizes: dict, d: int):
    """The index of the block along dim d that the member at coords holds (row-major over the
    axes s gives dim d); coords: a tuple of ints, or per mesh axis a traced int32 scalar."""
    i = 0
    for a in s.axes_of(d):
        i = i * sizes[a] + coords[names.index(a)]
    return i


def _region(position: int, s: PartitionSpec, sm: StackedMesh, block) -> tuple:
    coords = tuple(int(c) for c in np.unravel_index(position, sm.ranks.shape))
    return tuple(
        slice(
            b * _block_index(coords, s, sm.axis_names, sm.sizes, d),
            b * (_block_index(coords, s, sm.axis_names, sm.sizes, d) + 1),
        )
        for d, b in enumerate(block)
    )


def _traced_coords(c, slot: int, sm: StackedMesh) -> list:
    """Member `slot`'s mesh coordinates as traced int32 scalars (c: member_coords' result)."""
    return [
        jx.slice(c, start_indices=(slot, a), limit_indices=(slot + 1, a + 1), strides=None).reshape(())
        for a in range(len(sm.axis_names))
    ]


def _starts(cj: list, s: PartitionSpec, sm: StackedMesh, block) -> list:
    """Where the block of the member at traced coordinates cj starts, per dim."""
    return [
        _block_index(cj, s, sm.axis_names, sm.sizes, d) * np.int32(b) if s.axes_of(d) else np.int32(0)
        for d, b in enumerate(block)
    ]


def _slices(x, c, s: PartitionSpec, sm: StackedMesh, block):
    """(local members, *block): each member's block of the global x, sliced in the program."""
    rows = [lax.dynamic_slice(x, _starts(_traced_coords(c, j, sm), s, sm, block), block)[None] for j in range(sm.local)]
    return jnp.concatenate(rows, axis=0)


def _member_blocks(x, s: PartitionSpec, mesh: Mesh, sm: StackedMesh, c, fname: str):
    """(local members, *block): this process's members' blocks of argument x. A global array laid
    out over processes by the in_specs' sharding gives its own shards (a constant); any other value
    is the global value, the same on every process, sliced in the program. The transpose: every
    member's cotangent block placed in the global shape and summed over the members that share a
    block (the psum over the axes s does not name, as JAX's shard_map transpose), on every process
    (one host call: an MPI_Allreduce, or an allgather when s splits x)."""
    if isinstance(x, ShardedArray) and not x.is_fully_addressable:
        sharding = NamedSharding(mesh, s)
        if x.sharding != sharding and not x.sharding.is_equivalent_to(sharding, x.ndim):
            raise ValueError(
                f"shard_map applied to the function {fname!r}: an argument laid out by {x.sharding} over processes "
                f"does not match its in_specs ({s}); irjax does not reshard across processes"
            )
        shards = x._shard_arrays()
        return from_numpy(np.stack([np.asarray(shards[k]) for k in sm.mine]))
    if not isinstance(x, Tracer) and not hasattr(x, "aval"):
        x = from_numpy(np.asarray(x))
    shape = tuple(aval_of(x).shape)
    block = _block_shape(shape, s, sm, fname)
    if block == shape:  # replicated: every member's block is x
        take = lambda v, cc: jnp.broadcast_to(v[None], (sm.local,) + shape)  # noqa: E731
    else:
        take = lambda v, cc: _slices(v, cc, s, sm, block)  # noqa: E731
    back = _blocks_to_global(s, sm, block, shape, np.dtype(aval_of(x).dtype), fname)

    @custom_vjp
    def member_blocks(v, cc):
        return take(v, cc)

    def fwd(v, cc):
        return take(v, cc), ()

    def bwd(res, ct):
        if not np.issubdtype(np.dtype(aval_of(ct).dtype), np.inexact):
            return None, None
        (g,) = jx.pure_callback(ct, callback=back, result_shapes=(shape,), result_dtypes=(np.dtype(aval_of(ct).dtype),))
        return g, None

    member_blocks.defvjp(fwd, bwd)
    return member_blocks(x, c)


def _blocks_to_global(s: PartitionSpec, sm: StackedMesh, block, shape, dtype, fname: str) -> int:
    """The host function of _member_blocks' transpose: (..., local members, *block) -> (..., *shape)."""
    big = [a for a in sm.axis_names if sm.sizes[a] > 1]
    replicated = not any(a in s.used_axes() for a in big)

    def run(arrays):
        ct = np.asarray(arrays[0])
        k = ct.ndim - len(block) - 1  # leading axes: vmaps outside the shard_map
        v = np.moveaxis(ct, k, 0)
        if replicated:  # every member's cotangent is for the whole x: summed here, then across processes
            return [_hc.world().allreduce(np.sum(v, axis=0).astype(v.dtype), "sum")]
        table = _hc.world().allgather(np.ascontiguousarray(v))[sm.owners, sm.slots]
        out = np.zeros(v.shape[1 : 1 + k] + tuple(shape), v.dtype)
        seen = set()
        for p in range(sm.ranks.size):  # mesh order: the same sums on every process
            r = (Ellipsis,) + _region(p, s, sm, block)
            key = tuple((q.start, q.stop) for q in r[1:])
            if key in seen:
                out[r] += table[p]
            else:
                out[r] = table[p]
                seen.add(key)
        return [out]

    key = ("shard_map argument transpose", mesh_id(sm), s, tuple(block), tuple(shape), dtype, fname)
    return register_host_function(key, lambda: HostFunction(run, (ShapedType(tuple(shape), dtype),), "expand_dims"))


def _assemble(o, s: PartitionSpec, sm: StackedMesh, c, check: bool, fname: str):
    """One output's global value on every process from the members' blocks o (local members,
    *block), by one host call: along the mesh axes s omits, check_vma's check that the members
    agree (check=True) or member 0's value (as the eager path); along those it names, the blocks
    gathered. Its transpose needs no communication: every process holds the same cotangent of
    the global value, and each member takes its own block of it (the member at index 0 along the
    omitted axes; zeros for the others, which contributed nothing)."""
    block = tuple(aval_of(o).shape[1:])
    dtype = np.dtype(aval_of(o).dtype)
    shape = _global_shape(block, s, sm)
    omitted = tuple(a for a in sm.axis_names if sm.sizes[a] > 1 and a not in s.used_axes())
    gathers = any(sm.sizes[a] > 1 for a in s.used_axes())
    if not omitted and not gathers:
        return o.reshape(block) if sm.local == 1 else o[0]
    host = _assembler(s, sm, block, shape, dtype, omitted, gathers, check, fname)
    first = [sm.axis_names.index(a) for a in omitted]

    def gather(v):
        (g,) = jx.pure_callback(v, callback=host, result_shapes=(shape,), result_dtypes=(dtype,))
        return g

    @custom_vjp
    def assemble(v, cc):
        return gather(v)

    def fwd(v, cc):
        return gather(v), cc

    def bwd(cc, ct):
        rows = []
        for j in range(sm.local):
            cj = _traced_coords(cc, j, sm)
            split = any(s.axes_of(d) for d in range(len(block)))  # (a 0-d dynamic_slice did not lower)
            mine = lax.dynamic_slice(ct, _starts(cj, s, sm, block), block) if split else ct
            if first:  # only the member at index 0 along the omitted axes gave the value
                lead = jnp.all(jnp.stack([cj[a] == 0 for a in first]))
                mine = jnp.where(lead, mine, jnp.zeros_like(mine))
            rows.append(mine[None])
        return jnp.concatenate(rows, axis=0), None

    assemble.defvjp(fwd, bwd)
    return assemble(o, c)


def _assembler(s, sm: StackedMesh, block, shape, dtype, omitted, gathers, check: bool, fname: str) -> int:
    """The host function of _assemble: (..., local members, *block) -> (..., *shape)."""
    positions = range(sm.ranks.size)
    coords = [tuple(int(c) for c in np.unravel_index(p, sm.ranks.shape)) for p in positions]
    along = [sm.axis_names.index(a) for a in omitted]
    # each position's group representative: its coordinates with the omitted axes at 0
    rep = [
        int(np.ravel_multi_index(tuple(0 if i in along else x for i, x in enumerate(cs)), sm.ranks.shape))
        for cs in coords
    ]

    def run(arrays):
        st = np.asarray(arrays[0])
        k = st.ndim - len(block) - 1  # leading axes: vmaps outside the shard_map
        v = np.ascontiguousarray(np.moveaxis(st, k, 0))
        w = _hc.world()
        if not gathers:  # replicated over the whole mesh: the eager path's digests or broadcast
            if check:
                digests = w.allgather_object([hashlib.sha256(m.tobytes()).hexdigest() for m in v])
                if len({d for ds in digests for d in ds}) != 1:
                    raise _replication_error(fname, omitted)
                return [v[0]]
            root = int(sm.owners[0])
            mine = v[int(sm.slots[0])] if w.rank == root else np.empty_like(v[0])
            return [w.broadcast(mine, root)]
        table = w.allgather(v)[sm.owners, sm.slots]  # (mesh positions, ..., *block)
        if check and omitted and any(table[p].tobytes() != table[rep[p]].tobytes() for p in positions):
            raise _replication_error(fname, omitted)
        out = np.empty(v.shape[1 : 1 + k] + tuple(shape), v.dtype)
        for p in positions:
            if rep[p] == p:
                out[(Ellipsis,) + _region(p, s, sm, block)] = table[p]
        return [out]

    key = ("shard_map output", mesh_id(sm), s, tuple(block), tuple(shape), dtype, bool(check), fname)
    return register_host_function(key, lambda: HostFunction(run, (ShapedType(tuple(shape), dtype),), "expand_dims"))


# ---- several devices of the mesh per process: one thread per member ---------------------------


def _several_per_process(mesh: Mesh) -> bool:
    return sum(1 for d in mesh.devices.flat if is_local(d)) > 1


def _member_layout(mesh: Mesh) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """(owning rank per flat position, index among its owner's positions, this process's positions);
    every process must hold the same number of the mesh's devices (one MPI allgather per gather)."""
    flat = list(mesh.devices.flat)
    owners = np.array([d.process_index for d in flat])
    counts = np.bincount(owners, minlength=distributed.process_count())
    if len(set(counts.tolist())) != 1:
        raise NotImplementedError(
            f"shard_map over a mesh that spans processes needs the same number of mesh devices in every process; "
            f"the processes hold {counts.tolist()}"
        )
    slots = np.zeros(len(flat), int)
    seen: dict = {}
    for k, r in enumerate(owners):
        slots[k] = seen.get(r, 0)
        seen[r] = slots[k] + 1
    return owners, slots, [k for k, d in enumerate(flat) if is_local(d)]


def _run_members(f, mesh, leaves, in_tree, in_specs, out_specs_of, check, fname, reverse_check):
    """Each of this process's members runs the body in its own thread (the first in this one, so
    that MPI is called from the thread that started it); collectives gather every member's value
    (process_collectives.MemberMesh); outputs go back as global arrays over the mesh."""
    owners, slots, mine = _member_layout(mesh)
    group = MemberGroup(owners, slots, len(mine))
    flat = list(mesh.devices.flat)
    shape = mesh.devices.shape
    outs: list = [None] * len(mine)
    errors: list = []

    def member(slot: int) -> None:
        k = mine[slot]
        try:
            coords = tuple(int(c) for c in np.unravel_index(k, shape))
            pm = MemberMesh(mesh.axis_names, shape, coords, group, slot)
            blocks = [_local_block(x, NamedSharding(mesh, s), flat[k], k, fname) for x, s in zip(leaves, in_specs)]
            if reverse_check is not None and slot == 0:  # (every member's blocks have the same avals)
                reverse_check([aval_of(b) for b in blocks])
            with process_mesh_frame(pm):
                out = f(*tree_util.tree_unflatten(in_tree, blocks))
            o_leaves, o_tree = tree_util.tree_flatten(out)
            o_leaves = [o if isinstance(o, Array) else from_numpy(np.asarray(o)) for o in o_leaves]
            specs = out_specs_of(out)
            outs[slot] = (o_leaves, o_tree, specs, [_settle(o, q, pm, check, fname) for o, q in zip(o_leaves, specs)])
        except BaseException as e:  # the other members must not wait for this one forever
            errors.append(e)
            group.barrier.abort()

    threads = [threading.Thread(target=member, args=(j,)) for j in range(1, len(mine))]
    for t in threads:
        t.start()
    member(0)
    for t in threads:
        t.join()
    if errors:
        first = next((e for e in errors if not isinstance(e, threading.BrokenBarrierError)), errors[0])
        raise first
    o_tree, o_specs = outs[0][1], outs[0][2]
    sizes = dict(zip(mesh.axis_names, mesh.axis_sizes))
    results = []
    for i, s in enumerate(o_specs):
        block = outs[0][3][i].shape
        gshape = tuple(n * math.prod(sizes[a] for a in s.axes_of(d)) for d, n in enumerate(block))
        locals_ = []
        for slot, k in enumerate(mine):
            o = outs[slot][3][i]
            local = o if o._device == flat[k] else put(np.asarray(o), SingleDeviceSharding(flat[k]))
            locals_.append(Array(local._bv, ShapedArray(block, o.dtype, False), flat[k], local._npy, True))
        results.append(make_array_from_single_device_arrays(gshape, NamedSharding(mesh, s), locals_))
    return tree_util.tree_unflatten(o_tree, results)


def _replication_error(fname: str, omitted: tuple) -> ValueError:
    return ValueError(
        f"shard_map applied to the function {fname!r} was given out_specs which require replication which can't "
        f"be statically inferred given the mesh: an output differs between the members of the mesh axes {omitted} "
        "its out_specs entry does not name. Reduce it over those axes (psum, pmean, all_gather) or name them in "
        "out_specs, or pass check_vma=False to take one member's value."
    )


def _settle(o: Array, s: PartitionSpec, pm: ProcessMesh, check: bool, fname: str) -> Array:
    """An output whose out_specs omit mesh axes must be the same on the members along them: with
    check_vma=True irjax compares the members' values (a gather of one digest per member; every
    group is checked on every member, so that all of them reach the same decision), with
    check_vma=False it takes the value of the member at index 0 along the omitted axes (a
    broadcast when that is every member, else a gather of the output)."""
    omitted = tuple(a for a in pm.axis_names if pm.sizes[a] > 1 and a not in s.used_axes())
    if not omitted:
        return o
    pos = group_positions(pm, omitted)  # this member's group along the omitted axes
    if check:
        digest = np.frombuffer(hashlib.sha256(np.ascontiguousarray(np.asarray(o)).tobytes()).digest(), np.uint8)
        table = member_table(pm, digest, "shard_map")
        order = [pm.axis_names.index(a) for a in pm.axis_names if a not in omitted]
        order += [pm.axis_names.index(a) for a in omitted]
        every = np.arange(pm.ranks.size).reshape(pm.ranks.shape)
        groups = np.transpose(every, order).reshape(-1, len(pos))
        if not all(np.array_equal(table[p], table[g[0]]) for g in groups for p in g):
            raise _replication_error(fname, omitted)
        return o
    me = int(np.ravel_multi_index(pm.coords, pm.ranks.shape))
    if isinstance(pm, MemberMesh) and len(pos) == pm.ranks.size:  # every member takes position 0's value
        first = pm.group.broadcast_first(pm.slot, np.asarray(o))
        return o if me == 0 else from_numpy(first)
    table = member_table(pm, o, "shard_map")
    return o if int(pos[0]) == me else from_numpy(table[pos[0]])

"""shard_map over a mesh that spans processes (irjax.distributed): each process runs the body
as the member its device is (with several devices of the mesh, one thread per member), eagerly or,
under jit, traced; collectives over the mesh axes run on MPI (process_collectives.py), from
compiled code through host calls (collective_calls.py)."""

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
from . import distributed, tree_util
from .array import Array, from_numpy
from .axis_env import ProcessMesh, process_mesh_frame
from .core import ShapedArray, Tracer, aval_of, current_trace, jx
from .process_collectives import (
    MemberGroup,
    MemberMesh,
    all_gather_value,
    group_positions,
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


# ---- under a trace (jit(shard_map(...))): this process's member traced into the program ------


def _run_traced(f, mesh, leaves, in_tree, in_specs, out_specs_of, check, fname, reverse_check):
    """The body traced as this process's member: its block of each (global) argument sliced in the
    program, collectives as host calls; each output gathered to its global value (every process
    gets the whole array), replication along omitted axes checked or taken from member 0 by a host
    call, as the eager path does."""
    if _several_per_process(mesh):
        raise NotImplementedError(
            f"shard_map applied to the function {fname!r} over a mesh with several devices per process cannot be "
            "traced (jit, grad or vmap of the shard_map): its members run in threads of their own. Call it outside "
            "them; jit, grad, vmap and scan inside its body work"
        )
    pm, device, k = process_mesh(mesh)
    blocks = []
    for x, s in zip(leaves, in_specs):
        sharding = NamedSharding(mesh, s)
        if isinstance(x, Tracer):
            blocks.append(x[sharding.devices_indices_map(aval_of(x).shape)[device]])
        else:
            blocks.append(_local_block(x, sharding, device, k, fname))
    if reverse_check is not None:
        reverse_check([aval_of(b) for b in blocks])
    with process_mesh_frame(pm):
        out = f(*tree_util.tree_unflatten(in_tree, blocks))
        o_leaves, o_tree = tree_util.tree_flatten(out)
        o_specs = out_specs_of(out)
        results = [_global_value(o, s, pm, check, fname) for o, s in zip(o_leaves, o_specs)]
    return tree_util.tree_unflatten(o_tree, results)


def _global_value(o, s: PartitionSpec, pm: ProcessMesh, check: bool, fname: str):
    """One output's global value on every process, by one ordered io host call: check_vma's
    digest check or member 0's value along omitted axes (as the eager path), then the blocks
    gathered along the axes s splits. An io call has no derivative, so grad of the shard_map from
    outside is JAX's ValueError, not the n-fold cotangents that all_gather's transpose would give
    outputs every process holds whole."""
    if not isinstance(o, Tracer) and not hasattr(o, "aval"):
        o = from_numpy(np.asarray(o))
    block = ShapedType(tuple(aval_of(o).shape), np.dtype(aval_of(o).dtype))
    omitted = tuple(a for a in pm.axis_names if pm.sizes[a] > 1 and a not in s.used_axes())
    gathers = [(d, a) for d in range(len(block.shape)) for a in reversed(s.axes_of(d)) if pm.sizes[a] > 1]
    if not omitted and not gathers:
        return o
    shape = tuple(n * math.prod(pm.sizes[a] for a in s.axes_of(d)) for d, n in enumerate(block.shape))
    whole = ShapedType(shape, block.dtype)

    def assemble(arrays):
        v = np.asarray(arrays[0])
        if omitted and not check and len(group_positions(pm, omitted)) == pm.ranks.size:
            v = _hc.world().broadcast(v, int(pm.ranks.flat[0]))  # member 0's value: one MPI_Bcast
        elif omitted:
            v = np.asarray(_settle(from_numpy(v), s, pm, check, fname))
        for d, a in gathers:  # row-major over a dim's axes: the minor one first
            v = all_gather_value(v, pm, a, d, True)
        return [v]

    key = ("shard_map output", mesh_id(pm), s, bool(check), fname, block)
    n = register_host_function(key, lambda: HostFunction(assemble, (whole,)))
    (o,) = jx.io_callback(o, callback=n, ordered=True, result_shapes=(shape,), result_dtypes=(whole.dtype,))
    return o


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
    if any(isinstance(x, Tracer) for x in leaves):
        raise NotImplementedError(
            f"shard_map applied to the function {fname!r} over a mesh that spans processes runs eagerly: it cannot "
            "be traced by jit, grad or vmap"
        )
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

"""Helpers across the processes of a job, as jax.experimental.multihost_utils: process_allgather,
broadcast_one_to_all, sync_global_devices, assert_equal (on the host collective engine: MPI after
irjax.distributed.initialize()), and the host-local <-> global array conversions."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from irjax.runtime import host_collectives as _hc

from .. import dtypes, tree_util
from ..array import Array
from ..core import ShapedArray
from ..sharded import ShardedArray, make_array_from_process_local_data
from ..sharding import Mesh, NamedSharding, PartitionSpec, is_local

__all__ = [
    "process_allgather",
    "broadcast_one_to_all",
    "sync_global_devices",
    "assert_equal",
    "host_local_array_to_global_array",
    "global_array_to_host_local_array",
]


def _host(x) -> np.ndarray:
    """A leaf as a host array; Python scalars get irjax's canonical dtype (float32 with x64 off), as
    JAX's several-process path gives (its one-process shortcut keeps NumPy's float64)."""
    if isinstance(x, (np.ndarray, np.generic, Array)):
        return np.asarray(x)
    a = np.asarray(x)
    return a.astype(dtypes.canonicalize_dtype(dtypes.dtype_of(x)))


def _pack(leaves: list[np.ndarray]) -> np.ndarray:
    """All leaves' bytes, one after another (one collective per call, not one per leaf)."""
    parts = [np.ascontiguousarray(a).reshape(-1).view(np.uint8) for a in leaves]
    return np.concatenate(parts) if parts else np.zeros(0, np.uint8)


def _unpack(buf: np.ndarray, like: list[np.ndarray]) -> list[np.ndarray]:
    out, at = [], 0
    for a in like:
        out.append(buf[at : at + a.nbytes].view(a.dtype).reshape(a.shape).copy())
        at += a.nbytes
    return out


def _gather_meta(engine, what: str, leaves: list[np.ndarray], treedef, extra=None) -> list:
    """Every process's (extra, tree structure, leaf shapes and dtypes); ValueError on all of them
    if the trees differ, before any data moves (a mismatch would otherwise garble or hang)."""
    mine = (str(treedef), [(a.shape, a.dtype.str) for a in leaves])
    metas = engine.allgather_object((extra, mine))
    for p, (_, theirs) in enumerate(metas):
        if theirs != mine:
            raise ValueError(
                f"{what}: every process must pass the same tree of shapes and dtypes; process "
                f"{engine.rank} has {mine}, process {p} has {theirs}"
            )
    return [e for e, _ in metas]


def _global_value(x: ShardedArray, engine) -> np.ndarray:
    """The global value of an array whose shards live on several processes' devices."""
    mine = [(s.index, np.asarray(s.data)) for s in x.addressable_shards]
    out = np.empty(x.shape, x.dtype)
    for shards in engine.allgather_object(mine):
        for index, data in shards:
            out[index] = data
    return out


def process_allgather(in_tree: Any, tiled: bool = False) -> Any:
    """Every process's values of `in_tree` (a pytree of arrays of the same shapes everywhere), as
    NumPy arrays: stacked on a new axis 0 (tiled=False) or concatenated along axis 0 (tiled=True;
    scalars are stacked either way, as JAX's several-process path does). An array laid out over
    several processes' devices (all processes pass their part of it) gives its global value, as
    JAX's."""
    engine = _hc.world()
    if isinstance(in_tree, ShardedArray) and not in_tree.is_fully_addressable:
        return _global_value(in_tree, engine)
    if any(isinstance(x, ShardedArray) and not x.is_fully_addressable for x in tree_util.tree_leaves(in_tree)):
        return tree_util.tree_map(lambda x: process_allgather(x, tiled), in_tree)
    leaves, treedef = tree_util.tree_flatten(in_tree)
    leaves = [_host(x) for x in leaves]
    _gather_meta(engine, "process_allgather", leaves, treedef)
    rows = engine.allgather(_pack(leaves))  # (processes, total bytes)
    per_process = [_unpack(rows[p], leaves) for p in range(engine.size)]
    out = []
    for i, a in enumerate(leaves):
        parts = [per_process[p][i] for p in range(engine.size)]
        out.append(np.concatenate(parts, axis=0) if tiled and a.ndim > 0 else np.stack(parts))
    return tree_util.tree_unflatten(treedef, out)


def broadcast_one_to_all(in_tree: Any, is_source: bool | None = None) -> Any:
    """The source process's values of `in_tree` on every process, as NumPy arrays. The source is
    process 0 unless `is_source` says otherwise; exactly one process may be the source, and the
    others pass a tree of the same shapes and dtypes."""
    engine = _hc.world()
    if is_source is None:
        is_source = engine.rank == 0
    leaves, treedef = tree_util.tree_flatten(in_tree)
    leaves = [_host(x) for x in leaves]
    flags = _gather_meta(engine, "broadcast_one_to_all", leaves, treedef, extra=bool(is_source))
    sources = [p for p, f in enumerate(flags) if f]
    if len(sources) != 1:
        raise ValueError(f"broadcast_one_to_all: exactly one process must be the source, got processes {sources}")
    data = _unpack(engine.broadcast(_pack(leaves), root=sources[0]), leaves)
    return tree_util.tree_unflatten(treedef, data)


def sync_global_devices(name: str) -> None:
    """A barrier across all processes; every process must pass the same `name` (AssertionError if not)."""
    engine = _hc.world()
    names = engine.allgather_object(str(name))
    if any(n != names[0] for n in names):
        raise AssertionError(f"sync_global_devices name mismatch ('{name}'): the processes passed {names}")
    engine.barrier()


def assert_equal(in_tree: Any, fail_message: str = "") -> None:
    """AssertionError (on every process) unless all processes hold the same values of `in_tree`."""
    gathered = process_allgather(in_tree)
    for x in tree_util.tree_leaves(gathered):
        for p in range(1, x.shape[0]):
            if not np.array_equal(x[0], x[p], equal_nan=x.dtype.kind in "fc"):
                raise AssertionError(
                    f"{fail_message} Expected all processes to hold the same values; process {p} differs from process 0".strip()
                )


def _pspec_leaves(pspecs, tree, fn: str) -> list[PartitionSpec]:
    """One PartitionSpec per leaf of `tree`; `pspecs` is a tree prefix of it (None is refused, as JAX)."""
    specs = tree_util.tree_leaves(
        tree_util.tree_broadcast(pspecs, tree, is_leaf=lambda s: s is None or isinstance(s, PartitionSpec)),
        is_leaf=lambda s: s is None or isinstance(s, PartitionSpec),
    )
    for s in specs:
        if s is None:
            raise ValueError(
                "`None` is not a valid input to the pspecs argument. Please use jax.sharding.PartitionSpec() if "
                "you wanted to replicate your input."
            )
        if not isinstance(s, PartitionSpec):
            raise TypeError(f"{fn}: pspecs must be PartitionSpecs (a tree prefix of the inputs), got {s!r}")
    return specs


def _local_shape(shape: tuple, mesh: Mesh, local: Mesh, spec: PartitionSpec, to_global: bool) -> tuple:
    """A dimension split over mesh axes grows (to_global) or shrinks by the ratio of the global
    mesh's to the local mesh's sizes of those axes, as JAX's mesh_local_to_global."""
    out = []
    for d, n in enumerate(shape):
        g = math.prod(mesh.shape[a] for a in spec.axes_of(d))
        lo = math.prod(local.shape[a] for a in spec.axes_of(d))
        if to_global:
            out.append(n * (g // lo))
        else:
            if n % (g // lo):
                raise ValueError(f"dimension {d} of size {n} does not split over the {g // lo} processes of {spec}")
            out.append(n // (g // lo))
    return tuple(out)


def _to_global(x, mesh: Mesh, spec: PartitionSpec) -> Array:
    if isinstance(x, ShardedArray) and not x.is_fully_addressable:
        return x  # already global, as JAX returns it
    local = mesh.local_mesh
    target = NamedSharding(mesh, spec)
    if isinstance(x, ShardedArray) and x.sharding.is_equivalent_to(NamedSharding(local, spec), x.ndim):
        shards = iter(x._shard_arrays())  # laid out as the local mesh: its shards go in without a copy
        shape = _local_shape(x.shape, mesh, local, spec, True)
        return ShardedArray(
            ShapedArray(shape, x.dtype, False),
            target,
            shards=[next(shards) if is_local(d) else None for d in mesh.devices.flat],
        )
    host = np.asarray(x)
    return make_array_from_process_local_data(target, host, _local_shape(host.shape, mesh, local, spec, True))


def host_local_array_to_global_array(local_inputs: Any, global_mesh: Mesh, pspecs: Any) -> Any:
    """A pytree of this process's values as global arrays over `global_mesh` laid out by `pspecs`
    (a tree prefix), as JAX's: a dimension split over mesh axes is this process's part of it
    (e.g. its rows of the batch), so it grows by the number of processes along those axes; a
    replicated dimension must hold the same values on every process. Each process's devices must
    form a sub-cube of the mesh."""
    leaves, treedef = tree_util.tree_flatten(local_inputs)
    specs = _pspec_leaves(pspecs, local_inputs, "host_local_array_to_global_array")
    return tree_util.tree_unflatten(treedef, [_to_global(x, global_mesh, s) for x, s in zip(leaves, specs)])


def _to_host_local(x, mesh: Mesh, spec: PartitionSpec) -> Array:
    if (
        isinstance(x, Array)
        and not isinstance(x, ShardedArray)
        or (isinstance(x, ShardedArray) and x.is_fully_addressable)
    ):
        return x  # already host-local, as JAX returns it
    local = mesh.local_mesh
    target = NamedSharding(mesh, spec)
    if isinstance(x, ShardedArray):
        if not x.sharding.is_equivalent_to(target, x.ndim):
            raise ValueError(
                f"global_array_to_host_local_array: the array is laid out by {x.sharding}, not by {target}; "
                "irjax does not reshard across processes"
            )
        shards = [s for s in x._shard_arrays() if s is not None]  # the local mesh's order is the mesh's
        shape = _local_shape(x.shape, mesh, local, spec, False)
        return ShardedArray(ShapedArray(shape, x.dtype, x.aval.weak_type), NamedSharding(local, spec), shards=shards)
    # a value that every process holds whole (a NumPy array): this process's part of it
    host = np.asarray(x)
    g = make_array_from_process_local_data(target, host, host.shape)
    return _to_host_local(g, mesh, spec)


def global_array_to_host_local_array(global_inputs: Any, global_mesh: Mesh, pspecs: Any) -> Any:
    """The inverse of host_local_array_to_global_array: each global array's part on this process's
    devices, as an array over the local mesh (`global_mesh.local_mesh`), its shards used without a
    copy. An array already local to this process is returned as is."""
    leaves, treedef = tree_util.tree_flatten(global_inputs)
    specs = _pspec_leaves(pspecs, global_inputs, "global_array_to_host_local_array")
    return tree_util.tree_unflatten(treedef, [_to_host_local(x, global_mesh, s) for x, s in zip(leaves, specs)])

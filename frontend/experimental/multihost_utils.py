"""Helpers across the processes of a job, as jax.experimental.multihost_utils: process_allgather,
broadcast_one_to_all, sync_global_devices, assert_equal. They run on the host collective engine
(MPI after irjax.distributed.initialize(), a copy in one process)."""

from __future__ import annotations

from typing import Any

import numpy as np
from irjax.runtime import host_collectives as _hc

from .. import dtypes, tree_util
from ..array import Array
from ..sharded import ShardedArray

__all__ = ["process_allgather", "broadcast_one_to_all", "sync_global_devices", "assert_equal"]


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

"""shard_map over a mesh that spans processes (irjax.distributed): each process runs the body
once, eagerly, as the member its device is; collectives over the mesh axes run on MPI as they
are called (process_collectives.py). One device of the mesh per process (docs/distributed.md)."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable

import numpy as np
from irjax.runtime import host_collectives as _hc

from . import distributed, tree_util
from .array import Array, from_numpy
from .axis_env import ProcessMesh, process_mesh_frame
from .core import ShapedArray, Tracer, aval_of
from .sharded import ShardedArray, make_array_from_single_device_arrays, put
from .sharding import Mesh, NamedSharding, PartitionSpec, SingleDeviceSharding, is_local


def process_mesh(mesh: Mesh) -> tuple[ProcessMesh, object, int]:
    """(this process's view of the mesh, its device, the device's flat mesh position); the mesh
    must hold exactly one device of every process."""
    flat = list(mesh.devices.flat)
    ranks = np.array([d.process_index for d in flat]).reshape(mesh.devices.shape)
    n = distributed.process_count()
    if sorted(ranks.flat) != list(range(n)):
        raise NotImplementedError(
            f"shard_map over a mesh that spans processes needs exactly one mesh device per process; the mesh's "
            f"devices belong to processes {sorted(ranks.flat)} (of {n}). Start one process per device "
            "(IRJAX_NUM_CPU_DEVICES=1) or build the mesh over one device of each process"
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
    if any(isinstance(x, Tracer) for x in leaves):
        raise NotImplementedError(
            f"shard_map applied to the function {fname!r} over a mesh that spans processes runs eagerly (its "
            "collectives go through MPI as they are called): it cannot be traced by jit, grad or vmap. Call it "
            "outside them and jit the pieces of its body instead"
        )
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
    omits = [any(sizes[a] > 1 and a not in s.used_axes() for a in mesh.axis_names) for s in o_specs]
    if any(omits):
        kept = [np.asarray(o) for o, om in zip(o_leaves, omits) if om]
        if check:
            # irjax checks the values (one small collective), where JAX checks the types statically
            if not _digests_agree(kept):
                raise ValueError(
                    f"shard_map applied to the function {fname!r} was given out_specs which require replication "
                    "which can't be statically inferred given the mesh: an output differs between the processes "
                    "of a mesh axis its out_specs entry does not name. Reduce it over that axis (psum, pmean, "
                    "all_gather) or name the axis in out_specs, or pass check_vma=False to take one member's value."
                )
        else:  # member 0's value, as the in-process path takes
            if not all(
                all(sizes[a] == 1 or a not in s.used_axes() for a in mesh.axis_names)
                for s, om in zip(o_specs, omits)
                if om
            ):
                raise NotImplementedError(
                    "shard_map over processes with check_vma=False: an output that names some mesh axes of size > 1 "
                    "in out_specs and omits others is not supported"
                )
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

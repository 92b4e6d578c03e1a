"""Arrays split over several devices (ShardedArray) and placing values by a Sharding: device_put's
work and the make_array_from_* constructors. Running computations over them is placement.py's
(docs/sharding.md)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import dtypes, tree_util
from .array import DELETED, Array
from .core import ShapedArray
from .sharding import NamedSharding, PartitionSpec, Shard, Sharding, SingleDeviceSharding, get_mesh, is_local

_NOT_ADDRESSABLE = (
    "Fetching value for `jax.Array` that spans non-addressable (non process local) devices is not possible. "
    "You can use `jax.experimental.multihost_utils.process_allgather` to print the global array or use "
    "`.addressable_shards` method of jax.Array to inspect the addressable (process local) shards."
)


class ShardedArray(Array):
    """A global array laid out by a NamedSharding. It holds the per-device shards, the global
    value on the mesh's first device (its "home", where computations on it run), or both;
    each is made from the other on first use. Over a mesh that spans processes
    (irjax.distributed) it holds this process's shards only (None for the others', in mesh
    order) and its home is this process's first device of the mesh; its global value exists
    only when it is fully replicated."""

    __slots__ = ("_sharding", "_shards", "_global")

    def __init__(self, aval: ShapedArray, sharding: NamedSharding, shards=None, global_=None):
        devs = [d for d in sharding.mesh.devices.flat if is_local(d)]
        if not devs:
            raise ValueError(f"{sharding} has no device of this process")
        super().__init__(None, aval, devs[0], None, committed=True)
        self._sharding = sharding
        self._shards = shards  # list of single-device Arrays in mesh order, or None
        self._global = global_  # a single-device Array on devs[0] (maybe pending), or None

    # -- the two representations --------------------------------------------------------------
    def _global_array(self) -> Array:
        if self._lazy is DELETED:
            raise RuntimeError(f"Array has been deleted with shape={self.aval.str_short()}.")
        g = self._global
        if g is None:
            if self._sharding.is_fully_replicated:
                g = next(a for a in self._shards if a is not None)  # the home device's own copy: no gather
            elif not self._sharding.is_fully_addressable:
                raise RuntimeError(_NOT_ADDRESSABLE)
            else:
                host = self._value
                g = Array(self._device.put(host), self.aval, self._device, host, True)
            self._global = g
        return g

    def _shard_arrays(self) -> list:
        if self._lazy is DELETED:
            raise RuntimeError(f"Array has been deleted with shape={self.aval.str_short()}.")
        if self._shards is None:
            g = self._global
            host = g._value
            idx = self._sharding.devices_indices_map(self.aval.shape)
            self._shards = [
                g
                if (d is self._device and self._sharding.is_fully_replicated)
                else (_put(host[i], d) if is_local(d) else None)
                for d, i in idx.items()
            ]
        return self._shards

    @property
    def _bv(self):
        return self._global_array()._bv

    @property
    def _value(self) -> np.ndarray:
        if self._npy is None:
            if self._global is not None:
                self._npy = self._global._value
            else:
                shards = self._shard_arrays()
                if self._sharding.is_fully_replicated:
                    self._npy = next(a for a in shards if a is not None)._value
                elif not self._sharding.is_fully_addressable:
                    raise RuntimeError(_NOT_ADDRESSABLE)
                else:
                    out = np.empty(self.aval.shape, self.aval.dtype)
                    for s, i in zip(shards, self._sharding.devices_indices_map(self.aval.shape).values()):
                        out[i] = s._value
                    out.flags.writeable = False
                    self._npy = out
        return self._npy

    def delete(self) -> None:
        if self._lazy is DELETED:
            return
        self._donated = self._global_array()._bv if self._global is not None else None
        for s in self._shards or ():
            if s is not None:
                s.delete()
        self._shards, self._global, self._npy, self._lazy = None, None, None, DELETED

    def block_until_ready(self):
        if self._global is not None:
            self._global.block_until_ready()
        for s in self._shards or ():
            if s is not None:
                s.block_until_ready()
        return self

    # -- JAX's Array attributes ------------------------------------------------------------
    @property
    def sharding(self) -> NamedSharding:
        return self._sharding

    @property
    def global_shards(self) -> list[Shard]:
        """Every device's shard in mesh order; another process's shard has data None (as JAX)."""
        out, seen = [], {}
        idx = self._sharding.devices_indices_map(self.aval.shape)
        for (d, i), data in zip(idx.items(), self._shard_arrays()):
            key = _index_key(i, self.aval.shape)
            r = seen[key] = seen.get(key, -1) + 1
            out.append(Shard(d, i, r, data))
        return out

    @property
    def addressable_shards(self) -> list[Shard]:
        return [s for s in self.global_shards if s.data is not None]

    @property
    def is_fully_replicated(self) -> bool:
        return self._sharding.is_fully_replicated

    @property
    def is_fully_addressable(self) -> bool:
        return self._sharding.is_fully_addressable

    def devices(self) -> set:
        return set(self._sharding.device_set)

    @property
    def device(self):
        if len(self._sharding.device_set) == 1:
            return self._device
        raise ValueError("Length of devices is greater than 1. Please use `.devices()`.")

    def __iter__(self):
        return iter(self._global_array())

    def __reduce__(self):
        return (_rebuild_sharded, (self._value, self.aval.weak_type, self._sharding))


def _rebuild_sharded(value, weak, sharding):
    return put(np.asarray(value), sharding, weak)


def _index_key(index, shape) -> tuple:
    return tuple(s.indices(n)[:2] for s, n in zip(index, shape))


def _put(host: np.ndarray, dev) -> Array:
    host = np.array(host, copy=True, order="C")
    host.flags.writeable = False
    return Array(dev.put(host), ShapedArray(host.shape, host.dtype, False), dev, host, True)


def device_list(sharding: Sharding) -> list:
    """The devices of a sharding in its order (a mesh's flat order)."""
    if isinstance(sharding, NamedSharding):
        return list(sharding.mesh.devices.flat)
    return list(sharding.device_set)


# ---- placing values -----------------------------------------------------------------------------


def _host_value(v) -> tuple[np.ndarray, bool]:
    """(canonical host value, weak_type) of an Array, NumPy value or Python scalar."""
    if isinstance(v, Array):
        return np.asarray(v), v.aval.weak_type
    arr = np.asarray(v)
    dt = dtypes.check_supported(arr.dtype)
    return (arr if arr.dtype == dt else arr.astype(dt)), False


def put(v, sharding: Sharding, weak_type: bool | None = None) -> Array:
    """`v` laid out by `sharding`, every shard copied onto its device now (device_put's work)."""
    if isinstance(sharding, SingleDeviceSharding):
        dev = next(iter(sharding.device_set))
        host, weak = _host_value(v)
        a = _put(host, dev)
        a.aval = ShapedArray(host.shape, host.dtype, weak if weak_type is None else weak_type)
        return a
    if not isinstance(sharding, NamedSharding):
        raise TypeError(f"device_put expects a Device, a SingleDeviceSharding or a NamedSharding; got {sharding!r}")
    if isinstance(v, ShardedArray):
        if v._sharding == sharding:
            v._shard_arrays()  # an explicit placement: the shards exist from now on
            return v
        if v._shards is not None and v._sharding.is_equivalent_to(sharding, v.ndim):
            return ShardedArray(v.aval, sharding, shards=v._shards)
    host, weak = _host_value(v)
    idx = sharding.devices_indices_map(host.shape)
    # over a mesh that spans processes each process passes the same global value and keeps its part
    shards = [_put(host[i], d) if is_local(d) else None for d, i in idx.items()]
    aval = ShapedArray(host.shape, host.dtype, weak if weak_type is None else weak_type)
    out = ShardedArray(aval, sharding, shards=shards)
    if (
        not sharding.is_fully_replicated and sharding.is_fully_addressable
    ):  # keep the host value, as from_numpy does: a later gather needs no read-back
        keep = np.array(host, copy=True, order="C")
        keep.flags.writeable = False
        out._npy = keep
    return out


def make_array_from_callback(shape, sharding: Sharding, data_callback, dtype=None) -> Array:
    """An array of global `shape` whose shard on each device is data_callback(index); over a mesh
    that spans processes it is called for this process's devices only."""
    shape = tuple(int(n) for n in shape)
    idx = sharding.devices_indices_map(shape)
    want = sharding.shard_shape(shape)
    shards, dt = [], None
    for d, i in idx.items():
        if not is_local(d):  # another process's device: that process calls data_callback for it, as JAX
            shards.append(None)
            continue
        host, _ = _host_value(data_callback(i))
        if dtype is not None:
            host = host.astype(dtypes.check_supported(dtype))
        if host.shape != want:
            raise ValueError(
                f"Expected shard shape {want} doesn't match the single device array shape {host.shape} "
                f"returned by data_callback for index {i} on {d}"
            )
        if dt is not None and host.dtype != dt:
            raise ValueError(f"data_callback returned shards of different dtypes: {dt.name} and {host.dtype.name}")
        dt = host.dtype
        shards.append(_put(host, d))
    if dt is None:
        raise ValueError("make_array_from_callback: the sharding has no devices")
    aval = ShapedArray(shape, dt, False)
    if isinstance(sharding, SingleDeviceSharding):
        return shards[0]
    return ShardedArray(aval, sharding, shards=shards)


def make_array_from_single_device_arrays(shape, sharding: Sharding, arrays, *, dtype=None) -> Array:
    """An array of global `shape` from one single-device Array per device of `sharding` of this
    process (any order; each is matched to its device's shard, and its buffer is used without a
    copy). Over a mesh that spans processes each process passes its own devices' arrays, as JAX."""
    shape = tuple(int(n) for n in shape)
    idx = sharding.devices_indices_map(shape)
    want = sharding.shard_shape(shape)
    by_dev = {}
    for a in arrays:
        if not isinstance(a, Array) or isinstance(a, ShardedArray):
            raise TypeError(f"make_array_from_single_device_arrays expects single-device irjax Arrays, got {a!r}")
        if a._device in by_dev:
            raise ValueError(f"two of the arrays are on one device, {a._device}")
        if a._device not in idx:
            raise ValueError(f"an array is on {a._device}, which is not a device of {sharding}")
        if a.shape != want:
            raise ValueError(
                f"Expected shard shape {want} doesn't match the single device array shape {a.shape} on {a._device}"
            )
        by_dev[a._device] = a
    missing = [d for d in idx if d not in by_dev and is_local(d)]
    if missing:
        raise ValueError(f"no array given for devices {missing} of {sharding}")
    dts = {a.dtype for a in by_dev.values()}
    if len(dts) != 1 or (dtype is not None and np.dtype(dtype) not in dts):
        raise ValueError(f"the arrays must all have one dtype{'' if dtype is None else f' ({dtype})'}, got {dts}")
    shards = [None if d not in by_dev else by_dev[d] if by_dev[d]._committed else _recommit(by_dev[d]) for d in idx]
    aval = ShapedArray(shape, dts.pop(), False)
    if isinstance(sharding, SingleDeviceSharding):
        return shards[0]
    return ShardedArray(aval, sharding, shards=shards)


def _recommit(a: Array) -> Array:
    return Array(a._bv, a.aval, a._device, a._npy, True)


# ---- process-local data (a mesh that spans processes) --------------------------------------------


def _blocks_per_dim(sharding: NamedSharding, ndim: int) -> tuple[list[int], dict]:
    """(number of blocks along each dimension, {device: its block number along each dimension})."""
    parts = [math.prod(sharding.mesh.shape[a] for a in sharding.spec.axes_of(d)) for d in range(ndim)]
    unit = sharding.devices_indices_map(tuple(parts))  # one element per block: slice i is block i
    return parts, {d: tuple(s.start or 0 for s in idx) for d, idx in unit.items()}


def _process_blocks(sharding: NamedSharding, ndim: int) -> tuple[list[int], list[list[int]], list[int | None]]:
    """(blocks along each dimension, this process's block numbers along each (sorted), and how
    many distinct process-local pieces each dimension has, or None where the processes' blocks
    overlap unevenly: JAX's "non-uniform" dimensions)."""
    parts, block_of = _blocks_per_dim(sharding, ndim)
    per_process: dict[int, list[set]] = {}
    for d, ks in block_of.items():
        sets = per_process.setdefault(d.process_index, [set() for _ in range(ndim)])
        for i, k in enumerate(ks):
            sets[i].add(k)
    me = next((d.process_index for d in block_of if is_local(d)), None)
    if me is None:
        raise ValueError(f"{sharding} has no device of this process: it holds no part of the array")
    mine = [sorted(s) for s in per_process[me]]
    counts: list[int | None] = []
    for i in range(ndim):
        groups = {frozenset(sets[i]) for sets in per_process.values()}
        sizes = {len(g) for g in groups}
        disjoint = sum(len(g) for g in groups) == len(set().union(*groups))
        counts.append(len(groups) if len(sizes) == 1 and disjoint and len(groups) * sizes.pop() == parts[i] else None)
    return parts, mine, counts


def make_array_from_process_local_data(sharding: Any, local_data: Any, global_shape: Any = None) -> Any:
    """A global array from the data this process holds, as jax.make_array_from_process_local_data:
    along each dimension `local_data` is either the whole global extent or the blocks this
    process's devices hold, in order (e.g. its rows of a batch split over processes). The global
    shape is inferred when None (each process holding only its own blocks). `sharding` may be a
    PartitionSpec (over the current mesh) and a tree prefix of `local_data`."""
    leaves, treedef = tree_util.tree_flatten(local_data)
    shardings = tree_util.tree_leaves(
        tree_util.tree_broadcast(sharding, local_data, is_leaf=lambda s: isinstance(s, (Sharding, PartitionSpec)))
    )
    if global_shape is None or (isinstance(global_shape, tuple) and all(isinstance(n, int) for n in global_shape)):
        shapes = [global_shape] * len(leaves)
    else:
        shapes = tree_util.tree_leaves(
            tree_util.tree_broadcast(global_shape, local_data, is_leaf=lambda s: s is None or isinstance(s, tuple)),
            is_leaf=lambda s: s is None or isinstance(s, tuple),
        )
    out = [_from_process_local(x, _as_sharding(s), g) for x, s, g in zip(leaves, shardings, shapes)]
    return tree_util.tree_unflatten(treedef, out)


def _as_sharding(s) -> Sharding:
    if isinstance(s, PartitionSpec):
        mesh = get_mesh()
        if mesh is None:
            raise ValueError(
                f"make_array_from_process_local_data was given the PartitionSpec {s} with no current mesh: pass "
                "a NamedSharding or use `with irjax.set_mesh(mesh):`"
            )
        return NamedSharding(mesh, s)
    if not isinstance(s, Sharding):
        raise TypeError(f"make_array_from_process_local_data expects a Sharding or a PartitionSpec, got {s!r}")
    return s


def _from_process_local(x, sharding: Sharding, global_shape) -> Array:
    host, _ = _host_value(x)
    if sharding.is_fully_addressable:  # one process: the local data is the global value
        if global_shape is not None and tuple(global_shape) != host.shape:
            raise ValueError(
                "When calling `make_array_from_process_local_data` on a single process, global_shape should be "
                f"None or equal to local_data.shape. Got global_shape={tuple(global_shape)} and "
                f"local_data.shape={host.shape}."
            )
        return put(host, sharding, False)
    if not isinstance(sharding, NamedSharding):
        raise TypeError(f"a sharding over several processes must be a NamedSharding, got {sharding!r}")
    parts, mine, counts = _process_blocks(sharding, host.ndim)
    if global_shape is None:
        if None in counts:
            raise ValueError(
                "Unable to compute global_shape due to non-uniform sharding. Specify global shape directly. "
                f"Dimensions {[i for i, c in enumerate(counts) if c is None]} of {sharding} are not uniform."
            )
        global_shape = tuple(n * c for n, c in zip(host.shape, counts))
    global_shape = tuple(int(n) for n in global_shape)
    if len(global_shape) != host.ndim:
        raise ValueError(f"global_shape {global_shape} and the local data's shape {host.shape} differ in rank")
    sharding._check_shape(global_shape)
    full = []
    for i, (n, g) in enumerate(zip(host.shape, global_shape)):
        here = len(mine[i]) * (g // parts[i])
        full.append(n == g)
        if n != g and n != here:
            raise ValueError(
                "Invalid host data, each dimension should match either global or process shape. In dimension "
                f"{i}, the process data has {n} elements. Process addresses {here} elements and "
                f"global_shape={global_shape}."
            )
    _, block_of = _blocks_per_dim(sharding, host.ndim)
    shards = []
    for d in sharding.mesh.devices.flat:
        if not is_local(d):
            shards.append(None)
            continue
        idx = []
        for i, k in enumerate(block_of[d]):
            b = global_shape[i] // parts[i]
            start = k * b if full[i] else mine[i].index(k) * b
            idx.append(slice(start, start + b))
        shards.append(_put(host[tuple(idx)], d))
    return ShardedArray(ShapedArray(global_shape, host.dtype, False), sharding, shards=shards)

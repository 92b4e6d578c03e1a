"""Sharding descriptions as JAX spells them: Mesh, PartitionSpec (P), NamedSharding,
SingleDeviceSharding. Pure data: which slice of a global array lives on which device.
Placing shards (device_put) and running on them live elsewhere (device_api, shard_map)."""

from __future__ import annotations

import contextlib
import enum
import math
import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np
from irjax.runtime import device as _rt
from irjax.runtime.lazy_names import lazy_attributes

from . import distributed as _dist

__all__ = [
    "AxisType",
    "Mesh",
    "PartitionSpec",
    "P",
    "Sharding",
    "NamedSharding",
    "SingleDeviceSharding",
    "Shard",
    "make_mesh",
    "get_mesh",
    "set_mesh",
]


# reshard places values (irjax.placement, which builds on this module): loaded on first use
_LAZY = {"reshard": "irjax.placement"}
__getattr__, __dir__ = lazy_attributes("irjax.sharding", globals(), _LAZY)


class _Unconstrained:
    def __repr__(self):
        return "UNCONSTRAINED"


class PartitionSpec:
    """How each array dimension splits over mesh axes: None (replicated), an axis name, or a
    tuple of axis names (split over their product, major to minor). Missing trailing entries
    mean None."""

    UNCONSTRAINED = _Unconstrained()

    __slots__ = ("_partitions",)

    def __init__(self, *partitions):
        parts = []
        for p in partitions:
            if isinstance(p, list):
                p = tuple(p)
            if isinstance(p, tuple):
                if not all(isinstance(a, str) for a in p):
                    raise TypeError(
                        f"PartitionSpec entries must be None, a mesh axis name or a tuple of names; got {p!r}"
                    )
                p = p if len(p) != 1 else p[0]
            elif p is not None and not isinstance(p, str) and p is not PartitionSpec.UNCONSTRAINED:
                raise TypeError(f"PartitionSpec entries must be None, a mesh axis name or a tuple of names; got {p!r}")
            parts.append(p)
        self._partitions = tuple(parts)

    def __iter__(self):
        return iter(self._partitions)

    def __len__(self):
        return len(self._partitions)

    def __getitem__(self, i):
        return self._partitions[i]

    def __eq__(self, other):
        return isinstance(other, PartitionSpec) and self._partitions == other._partitions

    def __hash__(self):
        return hash(("PartitionSpec", self._partitions))

    def __repr__(self):
        # JAX's short form: P('x',) for one entry (a tuple's repr), P('x', None), P()
        inner = ", ".join(repr(p) for p in self._partitions)
        return f"P({inner}{',' if len(self._partitions) == 1 else ''})"

    def axes_of(self, dim: int) -> tuple[str, ...]:
        """The mesh axes dimension `dim` is split over (major to minor); () if replicated."""
        if dim >= len(self._partitions):
            return ()
        p = self._partitions[dim]
        if p is None or p is PartitionSpec.UNCONSTRAINED:
            return ()
        return (p,) if isinstance(p, str) else tuple(p)

    def used_axes(self) -> tuple[str, ...]:
        return tuple(a for d in range(len(self._partitions)) for a in self.axes_of(d))


P = PartitionSpec

_mesh_stack = threading.local()


class AxisType(enum.Enum):
    """How a mesh axis is used, as JAX's: Auto (the compiler places), Explicit (shardings are part
    of the array's type; reshard moves them), Manual (inside shard_map). irjax records the type on
    the Mesh; placement follows one propagation rule for all three (docs/sharding.md)."""

    Auto = 1
    Explicit = 2
    Manual = 3

    def __repr__(self):
        return self.name


def _axis_types(axis_types, n: int) -> tuple[AxisType, ...]:
    if axis_types is None:
        return (AxisType.Auto,) * n
    if isinstance(axis_types, AxisType):
        axis_types = (axis_types,)
    if not isinstance(axis_types, tuple) or not all(isinstance(t, AxisType) for t in axis_types):
        wrapped = axis_types if isinstance(axis_types, tuple) else (axis_types,)
        raise TypeError(
            f"axis_types passed to Mesh must be of type `jax.sharding.AxisType`. Got {wrapped} of type "
            f"{tuple(type(t) for t in wrapped)}"
        )
    return axis_types


class Mesh(contextlib.ContextDecorator):
    """An n-d array of devices with a name per axis, e.g. Mesh(np.array(devs).reshape(2, 4), ('data', 'model'))."""

    def __init__(self, devices, axis_names, axis_types=None):
        arr = np.empty(np.shape(devices), dtype=object)
        flat = list(np.asarray(devices, dtype=object).flat)
        for i, d in enumerate(flat):
            if not isinstance(d, _rt.Device):
                raise TypeError(f"Mesh devices must be irjax devices, got {d!r}")
            arr.flat[i] = d
        if isinstance(axis_names, str):
            axis_names = (axis_names,)
        axis_names = tuple(axis_names)
        if not all(isinstance(a, str) for a in axis_names):
            raise TypeError(f"Mesh axis names must be strings, got {axis_names!r}")
        if len(set(axis_names)) != len(axis_names):
            raise ValueError(f"Mesh axis names must be unique, got {axis_names!r}")
        if arr.ndim != len(axis_names):
            raise ValueError(
                f"Mesh requires the ndim of its first argument (`devices`) to equal the length of its second "
                f"argument (`axis_names`), but got devices.ndim == {arr.ndim} and len(axis_names) == {len(axis_names)}."
            )
        if len(set(flat)) != len(flat):
            raise ValueError(f"Mesh devices must be distinct, got {flat!r}")
        types = _axis_types(axis_types, len(axis_names))
        if len(types) != len(axis_names):
            raise ValueError(
                f"Number of axis names should match the number of axis_types. Got axis_names={axis_names} "
                f"and axis_types={types}"
            )
        self.devices = arr
        self.axis_names = axis_names
        self.axis_types = types

    def _axes_of_type(self, t: AxisType) -> tuple[str, ...]:
        return tuple(n for n, k in zip(self.axis_names, self.axis_types) if k is t)

    @property
    def explicit_axes(self) -> tuple[str, ...]:
        return self._axes_of_type(AxisType.Explicit)

    @property
    def auto_axes(self) -> tuple[str, ...]:
        return self._axes_of_type(AxisType.Auto)

    @property
    def manual_axes(self) -> tuple[str, ...]:
        return self._axes_of_type(AxisType.Manual)

    @property
    def shape(self) -> OrderedDict:
        return OrderedDict(zip(self.axis_names, self.devices.shape))

    @property
    def axis_sizes(self) -> tuple[int, ...]:
        return tuple(self.devices.shape)

    @property
    def shape_tuple(self) -> tuple[tuple[str, int], ...]:
        return tuple(zip(self.axis_names, self.devices.shape))

    @property
    def size(self) -> int:
        return int(self.devices.size)

    @property
    def empty(self) -> bool:
        return self.size == 0

    @property
    def device_ids(self) -> np.ndarray:
        return np.vectorize(lambda d: d.id, otypes=[int])(self.devices)

    @property
    def local_devices(self) -> list:
        """This process's devices of the mesh, in mesh order (all of them in a one-process job)."""
        return [d for d in self.devices.flat if is_local(d)]

    @property
    def is_multi_process(self) -> bool:
        return not all(is_local(d) for d in self.devices.flat)

    @property
    def local_mesh(self) -> Mesh:
        """The sub-mesh of this process's devices, as JAX's: the smallest block of the mesh that
        holds them all, which must hold no other process's device (ValueError otherwise)."""
        if not self.is_multi_process:
            return self
        local = np.vectorize(is_local, otypes=[bool])(self.devices)
        if not local.any():
            raise ValueError(f"{self!r} has no device of this process")
        hull = []
        for i in range(local.ndim):
            at = np.flatnonzero(local.any(axis=tuple(j for j in range(local.ndim) if j != i)))
            hull.append(slice(int(at.min()), int(at.max()) + 1))
        if not local[tuple(hull)].all():
            raise ValueError(
                f"the devices of process {_dist.process_index()} must form a contiguous subcube of {self!r} (as "
                "irjax.make_mesh over irjax.devices() builds it); otherwise use make_array_from_process_local_data, "
                "make_array_from_callback or make_array_from_single_device_arrays"
            )
        sub = self.devices[tuple(hull)]
        return Mesh(sub, self.axis_names, axis_types=self.axis_types)

    def __eq__(self, other):
        return (
            isinstance(other, Mesh)
            and self.axis_names == other.axis_names
            and self.axis_types == other.axis_types
            and self.devices.shape == other.devices.shape
            and list(self.devices.flat) == list(other.devices.flat)
        )

    def __hash__(self):  # (hot: shardings key caches on every call over sharded inputs)
        h = self.__dict__.get("_hash")
        if h is None:
            h = self._hash = hash((self.axis_names, self.axis_types, self.devices.shape, tuple(self.devices.flat)))
        return h

    def __str__(self):
        return f"Mesh({', '.join(f'{n!r}: {s}' for n, s in self.shape.items())}, axis_types={self.axis_types})"

    def __repr__(self):
        return f"Mesh(axis_sizes={self.axis_sizes}, axis_names={self.axis_names}, axis_types={self.axis_types})"

    def __enter__(self):
        stack = getattr(_mesh_stack, "stack", None)
        if stack is None:
            stack = _mesh_stack.stack = []
        stack.append(self)
        return self

    def __exit__(self, *exc):
        _mesh_stack.stack.pop()
        return False


def get_mesh() -> Mesh | None:
    """The mesh of the innermost `with mesh:` / `with set_mesh(mesh):` block on this thread, else
    the one set_mesh(mesh) set for good, else None."""
    stack = getattr(_mesh_stack, "stack", None)
    return stack[-1] if stack else _mesh_stack.__dict__.get("base")


class set_mesh:  # noqa: N801 (JAX's name; a class so that it is both a call and a context manager)
    """JAX's set_mesh: `set_mesh(mesh)` makes `mesh` the current mesh of this thread (what a bare
    PartitionSpec in reshard, device_put, jit's shardings and shard_map refers to); used as
    `with set_mesh(mesh):` it is restored on exit."""

    def __init__(self, mesh: Mesh | None):
        if mesh is not None and not isinstance(mesh, Mesh):
            raise TypeError(f"set_mesh expects a Mesh (or None), got {type(mesh).__name__}")
        self._prev = _mesh_stack.__dict__.get("base")
        _mesh_stack.base = mesh

    def __enter__(self):
        return _mesh_stack.base

    def __exit__(self, *exc):
        _mesh_stack.base = self._prev
        return False


def make_mesh(axis_shapes: Sequence[int], axis_names: Sequence[str], *, devices=None, axis_types=None) -> Mesh:
    """A Mesh of `axis_shapes` over `devices` (default: all devices of the default backend), in
    order. Its axes are Explicit unless `axis_types` says otherwise, as JAX's make_mesh."""
    if devices is None:  # every process's devices after irjax.distributed.initialize(), as jax.devices()
        platform = _rt.platform_default_device().platform
        devices = _dist.global_devices(platform) or _rt.backend_devices(platform)
    devices = list(devices)
    axis_shapes = tuple(int(s) for s in axis_shapes)
    if math.prod(axis_shapes) != len(devices):
        raise ValueError(f"Number of devices {len(devices)} must equal the product of mesh_shape {axis_shapes}")
    if len(axis_shapes) != len(tuple(axis_names)):
        raise ValueError(f"axis_shapes {axis_shapes} and axis_names {tuple(axis_names)} differ in length")
    if axis_types is None:
        axis_types = (AxisType.Explicit,) * len(axis_shapes)
    return Mesh(np.array(devices, dtype=object).reshape(axis_shapes), tuple(axis_names), axis_types=axis_types)


def is_local(device) -> bool:
    """Whether `device` belongs to this process (not a RemoteDevice of another one)."""
    return not isinstance(device, _dist.RemoteDevice)


class Sharding:
    """Which index ranges of a global array each device holds."""

    def devices_indices_map(self, global_shape: tuple[int, ...]) -> dict:
        raise NotImplementedError

    @property
    def device_set(self) -> set:
        raise NotImplementedError

    @property
    def addressable_devices(self) -> set:
        """The devices of this process (a mesh may span processes: irjax.distributed)."""
        return {d for d in self.device_set if is_local(d)}

    @property
    def is_fully_addressable(self) -> bool:
        return all(is_local(d) for d in self.device_set)

    @property
    def memory_kind(self):
        return "device"  # JAX's default memory kind on CPU

    @property
    def num_devices(self) -> int:
        return len(self.device_set)

    def shard_shape(self, global_shape: tuple[int, ...]) -> tuple[int, ...]:
        idx = next(iter(self.devices_indices_map(tuple(global_shape)).values()))
        return tuple(len(range(*s.indices(n))) for s, n in zip(idx, global_shape))

    def is_equivalent_to(self, other: Sharding, ndim: int) -> bool:
        shape = (840,) * ndim  # divisible by every small mesh size
        try:
            return self.devices_indices_map(shape) == other.devices_indices_map(shape)
        except ValueError:
            return False


class SingleDeviceSharding(Sharding):
    """The whole array on one device."""

    def __init__(self, device, *, memory_kind=None):
        if not isinstance(device, _rt.Device):
            raise TypeError(f"SingleDeviceSharding needs an irjax device, got {device!r}")
        self._device = device

    @property
    def device_set(self) -> set:
        return {self._device}

    @property
    def is_fully_replicated(self) -> bool:
        return True

    def devices_indices_map(self, global_shape):
        return {self._device: tuple(slice(None) for _ in global_shape)}

    def __eq__(self, other):
        return isinstance(other, SingleDeviceSharding) and other._device == self._device

    def __hash__(self):
        return hash(("SingleDeviceSharding", self._device))

    def __repr__(self):
        return f"SingleDeviceSharding(device={self._device!r}, memory_kind=device)"


class NamedSharding(Sharding):
    """A PartitionSpec over a Mesh: dimension d is split over the mesh axes spec[d] names."""

    def __init__(self, mesh: Mesh, spec: PartitionSpec | None = None, *, memory_kind=None):
        if not isinstance(mesh, Mesh):
            raise TypeError(f"NamedSharding needs a Mesh, got {type(mesh).__name__}")
        spec = PartitionSpec() if spec is None else spec
        if not isinstance(spec, PartitionSpec):
            raise TypeError(f"NamedSharding's spec must be a PartitionSpec, got {spec!r}")
        used = spec.used_axes()
        for a in used:
            if a not in mesh.axis_names:
                raise ValueError(f"Resource axis: {a} of {spec} is not found in mesh: {tuple(mesh.axis_names)}.")
        if len(set(used)) != len(used):
            raise ValueError(
                f"A single NamedSharding spec specification can map every mesh axis to at most one "
                f"positional dimension, but {spec} has duplicate entries"
            )
        self.mesh = mesh
        self.spec = spec

    @property
    def device_set(self) -> frozenset:
        ds = self.__dict__.get("_device_set")  # (hot: checked on every call over sharded inputs)
        if ds is None:
            ds = self._device_set = frozenset(self.mesh.devices.flat)
        return ds

    @property
    def is_fully_replicated(self) -> bool:
        return all(self.mesh.shape[a] == 1 for a in self.spec.used_axes())

    def _check_shape(self, global_shape):
        if len(self.spec) > len(global_shape):
            raise ValueError(
                f"Sharding {self} is only valid for values of rank at least {len(self.spec)}, "
                f"but was applied to a value of rank {len(global_shape)}"
            )
        for d, n in enumerate(global_shape):
            parts = math.prod(self.mesh.shape[a] for a in self.spec.axes_of(d))
            if n % parts:
                raise ValueError(
                    f"{self} implies that the global size of dimension {d} should be divisible by {parts}, "
                    f"but it is equal to {n} (full shape: {tuple(global_shape)})"
                )

    def devices_indices_map(self, global_shape):
        global_shape = tuple(int(n) for n in global_shape)
        self._check_shape(global_shape)
        sizes = self.mesh.shape
        out = {}
        for pos in np.ndindex(*self.mesh.devices.shape):
            coord = dict(zip(self.mesh.axis_names, pos))
            idx = []
            for d, n in enumerate(global_shape):
                axes = self.spec.axes_of(d)
                k, parts = 0, 1
                for a in axes:  # mixed radix, the first axis most major
                    k = k * sizes[a] + coord[a]
                    parts *= sizes[a]
                if parts == 1:
                    idx.append(slice(None))
                else:
                    step = n // parts
                    idx.append(slice(k * step, (k + 1) * step))
            out[self.mesh.devices[pos]] = tuple(idx)
        return out

    def __eq__(self, other):
        return isinstance(other, NamedSharding) and self.mesh == other.mesh and self.spec == other.spec

    def __hash__(self):
        h = self.__dict__.get("_hash")
        if h is None:
            h = self._hash = hash(("NamedSharding", self.mesh, self.spec))
        return h

    def __repr__(self):
        return f"NamedSharding(mesh={self.mesh}, spec={self.spec!r}, memory_kind={self.memory_kind})"


class Shard:
    """One device's piece of an array: .device, .index (slices into the global array), .data
    (a single-device Array), .replica_id (which copy of that index this is, 0 first)."""

    __slots__ = ("device", "index", "replica_id", "data")

    def __init__(self, device, index, replica_id, data):
        self.device, self.index, self.replica_id, self.data = device, index, replica_id, data

    def __repr__(self):
        return f"Shard(device={self.device!r}, index={self.index}, replica_id={self.replica_id}, data={self.data})"

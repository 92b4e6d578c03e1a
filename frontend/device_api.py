"""Device queries, placement and transfers: devices(), default_backend(), default_device,
device_put, device_get, and the rule that picks the device a computation runs on.
(Not named devices.py: a submodule `irjax.devices` would shadow the function.)"""

from __future__ import annotations

import contextlib

import numpy as np
from irjax.runtime import device as _rt

from . import distributed, placement, sharded, tree_util
from .array import Array, from_numpy
from .sharding import Sharding, SingleDeviceSharding

Device = _rt.Device


def devices(backend: str | None = None) -> list:
    """The devices of `backend` ('cpu', 'cuda', 'rocm', 'vulkan', 'gpu'), else of the default backend;
    after irjax.distributed.initialize(), those of every process (ids are global)."""
    local = _local_backend_devices(backend)
    spanning = distributed.global_devices(local[0].platform) if local else None
    return local if spanning is None else spanning


def _local_backend_devices(backend: str | None) -> list:
    if backend is None:
        return _rt.backend_devices(_rt.platform_default_device().platform)
    return _rt.backend_devices(str(backend))


def local_devices(process_index: int | None = None, backend: str | None = None, host_id: int | None = None) -> list:
    """The devices of one process (default: this one), as jax.local_devices."""
    if process_index is None:
        process_index = host_id if host_id is not None else distributed.process_index()
    return [d for d in devices(backend) if d.process_index == process_index]


def device_count(backend: str | None = None) -> int:
    return len(devices(backend))


def local_device_count(backend: str | None = None) -> int:
    return len(local_devices(backend=backend))


def process_index() -> int:
    """This process's index in the job (0 without irjax.distributed)."""
    return distributed.process_index()


def process_count() -> int:
    """The number of processes in the job (1 without irjax.distributed)."""
    return distributed.process_count()


def default_backend() -> str:
    """The platform of the default device: the first available of $IRJAX_PLATFORMS, else cuda/rocm/cpu."""
    return _rt.platform_default_device().platform


def _as_device(device):
    if device is None or isinstance(device, _rt.Device):
        return device
    if isinstance(device, str):
        return _rt.backend_devices(device)[0]
    if isinstance(device, SingleDeviceSharding):
        return next(iter(device.device_set))
    sharding_dev = getattr(device, "device", None)
    if isinstance(sharding_dev, _rt.Device):
        return sharding_dev
    raise TypeError(f"expected a Device, a Sharding, a platform name or None, got {device!r}")


class default_device(contextlib.ContextDecorator):
    """`with irjax.default_device(dev):` uncommitted arrays and computations go to `dev`.

    `dev` may be a Device, a platform name ('cpu', 'vulkan', ...) or None (the platform default).
    """

    def __init__(self, device):
        self.device = _as_device(device)
        self._tokens: list = []

    def __enter__(self):
        self._tokens.append(_rt.set_default_device(self.device))
        return self.device

    def __exit__(self, *exc):
        _rt.reset_default_device(self._tokens.pop())
        return False


def set_default_device(device) -> None:
    """Process-wide default device (what `config.update('jax_default_device', dev)` sets)."""
    _rt._config_default[0] = _as_device(device)


def transfer(a, device):
    """`a` (an Array) copied to `device`; the same Array if it is there already."""
    if a._device is device or a._device == device:
        return a
    host = np.asarray(a)
    return Array(device.put(host), a.aval, device, a._npy, committed=a._committed)


def place(arrays, what: str = "computation"):
    """(device, arrays moved there, committed) for one computation over `arrays`.

    Like JAX: committed arrays (device_put to a device, or computed from such) fix the device
    and must agree; uncommitted ones follow them, else everything runs on the default device.
    With sharded arrays among them, `committed` is a placement.Placement (see placement.py).
    """
    dev = None
    first = None
    for i, a in enumerate(arrays):
        if a._committed:
            if isinstance(a, sharded.ShardedArray):
                return placement.place(arrays, what)
            if dev is None:
                dev, first = a._device, (i, a)
            elif a._device is not dev and a._device != dev:
                (j, b) = first
                raise ValueError(
                    f"Received incompatible devices for {what}. Got argument {j} with shape "
                    f"{b.aval.str_short()} and device ids [{b._device.id}] on platform {b._device.platform.upper()} "
                    f"and argument {i} with shape {a.aval.str_short()} and device ids [{a._device.id}] on platform "
                    f"{a._device.platform.upper()}: arrays committed to different devices ({b._device} and "
                    f"{a._device}); device_put them to one device first."
                )
    committed = dev is not None
    if dev is None:
        dev = _rt.default_device()
    for a in arrays:
        if a._device is not dev:
            return dev, [transfer(a, dev) for a in arrays], committed
    return dev, arrays, committed


def device_put(x, device=None, *, src=None, donate=False, may_alias=None):
    """Copy `x` (a pytree) to `device`; the result is committed to it. device=None: the default
    device, uncommitted (like JAX). `device` may be a Sharding (a NamedSharding puts each shard on
    its device), or a pytree prefix of `x` of them."""
    if device is not None and not isinstance(device, (Sharding, _rt.Device, str)):
        shardings = placement.broadcast_shardings(device, x, "device_put's device")
        leaves, tree = tree_util.tree_flatten(x)
        return tree_util.tree_unflatten(tree, [device_put(v, s) for v, s in zip(leaves, shardings)])
    if isinstance(device, Sharding) and not isinstance(device, SingleDeviceSharding):
        return placement.with_sharding_constraint(x, device)
    dev = _as_device(device)

    def put(v):
        if isinstance(v, Array):
            if dev is None:
                return v
            if isinstance(v, sharded.ShardedArray):
                return sharded.put(v, SingleDeviceSharding(dev))
            moved = transfer(v, dev)
            if moved is v and v._committed:
                return v
            return Array(moved._bv, moved.aval, dev, moved._npy, committed=True)
        if hasattr(v, "aval") and not isinstance(v, Array):
            return v  # a tracer: placement is decided when the traced function runs
        if dev is None:
            return from_numpy(np.asarray(v))
        a = from_numpy(np.asarray(v), device=dev)
        return Array(a._bv, a.aval, dev, a._npy, committed=True)

    return tree_util.tree_map(put, x)


def device_get(x):
    return tree_util.tree_map(lambda v: np.asarray(v) if hasattr(v, "_bv") else v, x)


def _to_device(self, device, /, *, stream=None):
    """This array on `device` (committed there; the same Array if it is there already)."""
    return device_put(self, device)


# Array.to_device is placement, which lives here; array.py sits below this module
placement.Array.to_device = _to_device

"""irjax.Array: an immutable array in an IREE device buffer."""

from __future__ import annotations

import numpy as np
from irjax.runtime.device import allow_views_past_exit, default_device

from . import basearray, dtypes
from .array_methods import ArrayMethods, _np
from .core import ShapedArray
from .sharding import Shard, SingleDeviceSharding

# DLPack's device type codes (dlpack.h DLDeviceType)
_DL_CPU = 1
_DL_TYPES = {"cpu": 1, "cuda": 2, "vulkan": 7, "rocm": 10}

DELETED = ("deleted",)  # Array._lazy of a deleted (donated) array; _buf is then None


_shared_buffers: set[int] = set()  # ids of buffers that Arrays share (eager's host scalars); kept alive


def share_buffer(bv):
    """Mark `bv` as shared by unrelated Arrays (its owner keeps it alive for the process): a
    DLPack export of it is a copy, so no consumer can write through it into other Arrays."""
    _shared_buffers.add(id(bv))
    return bv


class Array(ArrayMethods):
    """A concrete array. Holds an IREE buffer view; reads back to NumPy on demand."""

    __slots__ = ("_buf", "_lazy", "aval", "_device", "_npy", "_committed", "_donated", "__weakref__")
    __array_priority__ = 100

    def __init__(self, bv, aval: ShapedArray, device, npy=None, committed=False):
        self._buf = bv  # None while the value is a pending op (see lazy.py)
        self._lazy = None
        self.aval = aval
        self._device = device
        self._npy = npy
        self._committed = committed  # device_put to a device (JAX's committed arrays)

    @property
    def _bv(self):
        """The device buffer view, running pending eager ops first."""
        if self._buf is None:
            if self._lazy is DELETED:
                raise RuntimeError(f"Array has been deleted with shape={self.aval.str_short()}.")
            _materialize(self)
        return self._buf

    def delete(self) -> None:
        """Drop the buffer (as jit's donation does); any later use raises RuntimeError."""
        if self._lazy is DELETED:
            return
        # eager ops recorded before the deletion still read the value (JAX had already
        # dispatched them): lazy.py finds the buffer here; everything else sees it deleted
        self._donated = self._bv
        self._buf, self._npy, self._lazy = None, None, DELETED

    def is_deleted(self) -> bool:
        return self._lazy is DELETED

    # -- host access --------------------------------------------------------------------------
    @property
    def _value(self) -> np.ndarray:
        if self._npy is None:
            v = self._device.get(self._bv, self.aval.dtype)
            v.flags.writeable = False
            self._npy = v
        return self._npy

    def __array__(self, dtype=None, copy=None):
        v = self._value
        if dtype is not None and np.dtype(dtype) != v.dtype:
            return v.astype(dtype)
        return v.copy() if copy else v

    def __iter__(self):
        """Rows, like JAX's one-op unstack. On the CPU the rows come from one read-back, so a
        loop over them sees leaves of one shape: the tutorial's naive batching loop then
        compiles ONE matvec dispatch for its ten calls, not ten that each fold in a different
        row offset (1.2 s of compile down to ~0.4 s). Elsewhere rows stay lazy slices."""
        if not self.aval.shape:
            raise TypeError("iteration over a 0-d array")
        if not self._device._host_visible:
            return super().__iter__()
        rows = self._value
        aval = ShapedArray(rows.shape[1:], rows.dtype, self.aval.weak_type)
        dev, committed = self._device, self._committed
        return (Array(dev.put(r), aval, dev, r, committed) for r in (rows[i, ...] for i in range(len(rows))))

    def block_until_ready(self):
        self._bv  # noqa: B018  (runs pending ops; local-sync then has the result)
        self._device.synchronize()  # a GPU's queued work (runtime/device.py: the device timeline)
        return self

    def copy_to_host_async(self):
        return None

    def devices(self):
        return {self._device}

    @property
    def device(self):
        return self._device

    @property
    def sharding(self):
        return SingleDeviceSharding(self._device)

    @property
    def addressable_shards(self) -> list:
        return [Shard(self._device, tuple(slice(None) for _ in self.aval.shape), 0, self)]

    global_shards = addressable_shards

    def addressable_data(self, index: int) -> Array:
        """The data of addressable shard `index`: a single-device Array is its own one shard."""
        if index not in (0, -1):
            raise IndexError(f"shard index {index} out of range for an array with 1 addressable shard")
        return self

    @property
    def committed(self) -> bool:
        return self._committed

    @property
    def is_fully_addressable(self):
        return True

    @property
    def is_fully_replicated(self):
        return True

    def item(self, *args):
        return self._value.item(*args)

    def tolist(self):
        return self._value.tolist()

    def __repr__(self):
        v = self._value
        extra = ", weak_type=True" if self.aval.weak_type else ""
        if v.size == 0:
            return f"Array([], shape={v.shape}, dtype={v.dtype.name}{extra})"
        s = np.array2string(v, separator=", ", prefix="Array(")
        return f"Array({s}, dtype={v.dtype.name}{extra})"

    def __str__(self):
        return str(self._value)

    def __format__(self, spec):
        if self.ndim == 0:
            return format(self._value.item(), spec)
        return format(self._value, spec)

    def __bool__(self):
        return bool(self._value)

    def _scalar(self):
        if self.aval.shape:
            raise TypeError(
                f"Only scalar arrays can be converted to Python scalars; got arr.ndim={len(self.aval.shape)}"
            )
        return self._value

    def __int__(self):
        return int(self._scalar())

    def __float__(self):
        return float(self._scalar())

    def __complex__(self):
        return complex(self._scalar())

    def __index__(self):
        if self.aval.dtype.kind not in "iub" or self.aval.shape:
            raise TypeError(
                "Only integer scalar arrays can be converted to a scalar index "
                f"(got {self.aval.dtype.name}{list(self.aval.shape)})."
            )
        return int(self._value)

    def __hash__(self):
        raise TypeError("unhashable type: 'Array'. Use a tuple or a NumPy array as a static argument.")

    def __reduce__(self):
        return (_rebuild, (self._value, self.aval.weak_type))

    # -- DLPack and the array API's device methods (array API 2023.12) --------------------------
    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        """Export through NumPy's DLPack. On a host-visible (CPU) device without copy=True the
        capsule views the device buffer itself (zero-copy; a consumer that writes through it
        changes this Array, as with JAX's CPU export); elsewhere it exports a host copy."""
        if dl_device is not None and tuple(dl_device)[0] != _DL_CPU:
            raise BufferError(f"irjax exports DLPack on the CPU only; dl_device={dl_device} was requested")
        if copy is False and not self._device._host_visible:
            raise BufferError(f"exporting an array on {self._device} to the CPU needs a copy (copy=False given)")
        if self._device._host_visible and not copy and self.aval.size and id(self._bv) not in _shared_buffers:
            host = self._bv.map().asarray(list(self.aval.shape), self.aval.dtype)
            allow_views_past_exit()
        else:
            host = np.array(self._value, copy=True)
        kwargs = {} if max_version is None else {"max_version": max_version}
        return host.__dlpack__(**kwargs)

    def __dlpack_device__(self) -> tuple:
        return (
            (_DL_CPU, 0)
            if self._device._host_visible
            else (_DL_TYPES.get(self._device.platform, _DL_CPU), self._device.id)
        )

    def __array_namespace__(self, api_version=None):
        return _np()


def _rebuild(value, weak):
    return from_numpy(value, weak)


def from_numpy(value, weak_type=False, device=None, dtype=None) -> Array:
    """A new Array holding a copy of `value` (canonicalized: float64 -> float32 with x64 off)."""
    arr = np.asarray(value)
    dt = dtypes.check_supported(dtype if dtype is not None else arr.dtype)
    if arr.dtype != dt:
        arr = arr.astype(dt)
    dev = device or default_device()
    host = np.array(arr, copy=True, order="C")
    host.flags.writeable = False
    return Array(dev.put(host), ShapedArray(host.shape, host.dtype, weak_type), dev, host)


def _no_pending(a) -> None:
    raise RuntimeError("a pending Array without irjax.lazy loaded")


# lazy.materialize: irjax.lazy (above this module) registers it; only lazy makes pending arrays
_materialize = _no_pending


def set_materialize(fn) -> None:
    global _materialize
    _materialize = fn


basearray.Array.register(Array)  # (isinstance(x, irjax.Array); ShardedArray inherits it)

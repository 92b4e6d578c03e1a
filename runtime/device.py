"""Devices and buffers: the IREE runtime instance, the CPU device, host <-> device copies."""

from __future__ import annotations

import numpy as np
import iree.runtime as rt

_ET = {
    np.dtype(np.bool_): rt.HalElementType.BOOL_8,
    np.dtype(np.int8): rt.HalElementType.SINT_8,
    np.dtype(np.int16): rt.HalElementType.SINT_16,
    np.dtype(np.int32): rt.HalElementType.SINT_32,
    np.dtype(np.int64): rt.HalElementType.SINT_64,
    np.dtype(np.uint8): rt.HalElementType.UINT_8,
    np.dtype(np.uint16): rt.HalElementType.UINT_16,
    np.dtype(np.uint32): rt.HalElementType.UINT_32,
    np.dtype(np.uint64): rt.HalElementType.UINT_64,
    np.dtype(np.float16): rt.HalElementType.FLOAT_16,
    np.dtype(np.float32): rt.HalElementType.FLOAT_32,
    np.dtype(np.float64): rt.HalElementType.FLOAT_64,
}
try:
    from ml_dtypes import bfloat16 as _bf16

    _ET[np.dtype(_bf16)] = rt.HalElementType.BFLOAT_16
except ImportError:  # pragma: no cover
    pass


class Device:
    """One IREE device, e.g. CpuDevice(id=0) on the local-sync driver."""

    def __init__(self, platform: str, driver: str, id: int = 0):
        self.platform = platform
        self.driver = driver
        self.id = id
        self.instance = rt.VmInstance()
        self.hal = rt.get_device(driver)
        self.allocator = self.hal.allocator
        self.hal_module = rt.create_hal_module(self.instance, self.hal)
        self.target = {"local-sync": "llvm-cpu", "local-task": "llvm-cpu", "vulkan": "vulkan-spirv", "cuda": "cuda", "hip": "rocm"}.get(driver, "llvm-cpu")

    def __repr__(self):
        return f"{self.platform.capitalize() if self.platform != 'cpu' else 'Cpu'}Device(id={self.id})"

    def __hash__(self):
        return hash((self.platform, self.id))

    def __eq__(self, other):
        return isinstance(other, Device) and (self.platform, self.id) == (other.platform, other.id)

    @property
    def device_kind(self):
        return self.platform

    def put(self, arr: np.ndarray):
        """Copy a host array into a new device buffer view."""
        arr = np.asarray(arr)
        if not arr.flags.c_contiguous:
            arr = np.ascontiguousarray(arr)
        try:
            et = _ET[arr.dtype]
        except KeyError:
            raise TypeError(f"irjax arrays cannot hold dtype {arr.dtype}") from None
        return self.allocator.allocate_buffer_copy(
            memory_type=rt.MemoryType.DEVICE_LOCAL,
            allowed_usage=rt.BufferUsage.DEFAULT,
            device=self.hal,
            buffer=arr,
            element_type=et,
        )

    def copy(self, bv):
        """A new buffer view with the same contents."""
        host = bv.map().asarray(tuple(bv.shape), np.dtype(rt.HalElementType.map_to_dtype(bv.element_type)))
        return self.allocator.allocate_buffer_copy(
            memory_type=rt.MemoryType.DEVICE_LOCAL,
            allowed_usage=rt.BufferUsage.DEFAULT,
            device=self.hal,
            buffer=np.ascontiguousarray(host),
            element_type=bv.element_type,
        )

    def get(self, bv, dtype) -> np.ndarray:
        """Copy a buffer view back to a new host array."""
        shape = tuple(bv.shape)
        mapped = bv.map()
        host = mapped.asarray(shape, np.dtype(dtype))
        return np.array(host, copy=True)


_devices: dict = {}


def cpu_device() -> Device:
    d = _devices.get("cpu")
    if d is None:
        d = _devices["cpu"] = Device("cpu", "local-sync", 0)
    return d


def default_device() -> Device:
    return cpu_device()

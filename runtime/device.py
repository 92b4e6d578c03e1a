"""Devices and buffers: backends (cpu, vulkan, cuda, rocm), the default device, host <-> device copies.

A backend is an IREE HAL driver plus a compile target. Devices are created once and cached,
so `Device` objects compare (and hash) by (platform, id) and are shared by everything.
"""

from __future__ import annotations

import contextvars
import ctypes
import os
import subprocess
import threading

import iree.runtime as rt
import numpy as np

from .host_collectives import hidden_from_iree

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
    np.dtype(np.complex64): rt.HalElementType.COMPLEX_64,
    np.dtype(np.complex128): rt.HalElementType.COMPLEX_128,
}
try:
    from ml_dtypes import bfloat16 as _bf16

    _ET[np.dtype(_bf16)] = rt.HalElementType.BFLOAT_16
except ImportError:  # pragma: no cover
    pass

# platform -> (IREE HAL driver, IREE compile target, repr prefix)
BACKENDS = {
    "cpu": ("local-sync", "llvm-cpu", "Cpu"),
    "cuda": ("cuda", "cuda", "Cuda"),
    "rocm": ("hip", "rocm", "Rocm"),
    "vulkan": ("vulkan", "vulkan-spirv", "Vulkan"),
}
_DRIVER_TARGET = {
    "local-sync": "llvm-cpu",
    "local-task": "llvm-cpu",
    "vulkan": "vulkan-spirv",
    "cuda": "cuda",
    "hip": "rocm",
}
ALIASES = {"gpu": ("cuda", "rocm"), "hip": ("rocm",), "host": ("cpu",)}
# Without IRJAX_PLATFORMS, like JAX: a GPU if there is one, else the CPU. Vulkan is opt-in.
DEFAULT_ORDER = ("cuda", "rocm", "cpu")

# CUDA targets that IREE 3.13 compiles (checked: sm_90, sm_90a, sm_100..sm_110 are rejected),
# with the PTX ISA version each emits and the driver version (cuDriverGetVersion) it needs.
# PTX JITs forward, so a device gets the newest target not above its compute capability.
CUDA_TARGETS = [  # (capability as int, target, min driver)
    (121, "sm_121", 12080),
    (120, "sm_120", 12080),
    (89, "sm_89", 12040),
    (87, "sm_87", 11060),
    (86, "sm_86", 11060),
    (80, "sm_80", 11060),
    (75, "sm_75", 11060),
    (70, "sm_70", 11060),
    (60, "sm_60", 11060),
]


class Device:
    """One IREE device, e.g. CpuDevice(id=0) on the local-sync driver, VulkanDevice(id=0)."""

    def __init__(self, platform: str, driver: str, id: int = 0, info: dict | None = None):
        self.platform = platform
        self.driver = driver
        self.id = id
        self.info = info or {}
        self.instance = rt.VmInstance()
        if info is not None and driver != "local-sync":
            self.hal = rt.get_driver(driver).create_device(info)
        elif id == 0:
            self.hal = rt.get_device(driver)
        else:  # IRJAX_NUM_CPU_DEVICES: every further CPU device is its own IREE device
            self.hal = rt.get_device(driver, cache=False)
        self.allocator = self.hal.allocator
        self.hal_module = rt.create_hal_module(self.instance, self.hal)
        self.target = _DRIVER_TARGET.get(driver, "llvm-cpu")
        self.arch = _arch_for(platform, id) if platform in ("cuda", "rocm") else None
        # Flags appended after compiler.target_flags(target); a later flag wins in IREE.
        self.compile_flags = _arch_flags(platform, self.arch)
        self._host_visible = driver in ("local-sync", "local-task")
        self._parallel = None

    def parallel_hal_module(self):
        """A HAL module on the multi-threaded local-task driver (CPU only; else the device's own)."""
        if self.driver != "local-sync":
            return self.hal_module
        if self._parallel is None:
            with hidden_from_iree():  # (IREE would start MPI in the device under mpiexec)
                self._parallel = rt.create_hal_module(self.instance, rt.get_device("local-task"))
        return self._parallel

    def __repr__(self):
        prefix = BACKENDS.get(self.platform, (None, None, self.platform.capitalize()))[2]
        return f"{prefix}Device(id={self.id})"

    def __hash__(self):  # hot: executables are looked up per device on every jit call
        h = self.__dict__.get("_hash")
        if h is None:
            h = self._hash = hash((self.platform, self.id))
        return h

    def __eq__(self, other):
        return isinstance(other, Device) and (self.platform, self.id) == (other.platform, other.id)

    def __reduce__(self):  # pickled by name: unpickles to this process's device of that id
        return (device_by_id, (self.platform, self.id))

    @property
    def device_kind(self) -> str:
        return self.info.get("name") or self.platform

    # The process that owns this device: 0 unless irjax.distributed numbered it (set_process_layout).
    process_index: int = 0

    @property
    def host_id(self) -> int:
        return self.process_index

    # -- buffers ----------------------------------------------------------------------------
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
        """A new buffer view with the same contents (on the device, no host round trip off-CPU)."""
        if self._host_visible:
            host = bv.map().asarray(tuple(bv.shape), np.dtype(rt.HalElementType.map_to_dtype(bv.element_type)))
            return self.allocator.allocate_buffer_copy(
                memory_type=rt.MemoryType.DEVICE_LOCAL,
                allowed_usage=rt.BufferUsage.DEFAULT,
                device=self.hal,
                buffer=np.array(host, copy=True),  # (ascontiguousarray would make 0-d arrays 1-d)
                element_type=bv.element_type,
            )
        src = bv.get_buffer()
        dst = self.allocator.allocate_buffer(
            memory_type=rt.MemoryType.DEVICE_LOCAL,
            allowed_usage=rt.BufferUsage.DEFAULT,
            allocation_size=max(src.byte_length(), 1),
        )
        self._queue_copy(src, dst)
        return rt.HalBufferView(dst, list(bv.shape), bv.element_type)

    def get(self, bv, dtype) -> np.ndarray:
        """Copy a buffer view back to a new host array."""
        shape = tuple(bv.shape)
        if self._host_visible:
            host = bv.map().asarray(shape, np.dtype(dtype))
            return np.array(host, copy=True)
        # Device-local memory is not mappable off-CPU, and importing a host pointer needs
        # 4096-byte alignment on Vulkan: DMA into a HOST_LOCAL staging buffer, then map it.
        src = bv.get_buffer()
        n = src.byte_length()
        if n == 0 or 0 in shape:
            return np.zeros(shape, dtype)
        staging = self.allocator.allocate_buffer(
            memory_type=rt.MemoryType.HOST_LOCAL | rt.MemoryType.DEVICE_VISIBLE,
            allowed_usage=rt.BufferUsage.TRANSFER_TARGET | rt.BufferUsage.MAPPING_SCOPED,
            allocation_size=n,
        )
        self._queue_copy(src, staging)
        raw = np.dtype(rt.HalElementType.map_to_dtype(bv.element_type))
        host = staging.map().asarray(list(shape), raw)
        out = np.array(host, copy=True)
        return out if out.dtype == np.dtype(dtype) else out.astype(dtype)

    def _queue_copy(self, src, dst):
        sem = self.hal.create_semaphore(0)
        self.hal.queue_copy(
            src, dst, wait_semaphores=rt.HalFence.create_at(sem, 0), signal_semaphores=rt.HalFence.create_at(sem, 1)
        )
        rt.HalFence.create_at(sem, 1).wait()


def set_process_layout(devices: list[Device], process_index: int, first_id: int) -> None:
    """Multi-process (irjax.distributed): this process's `devices` take the global ids
    first_id, first_id + 1, ... and their owner's process index."""
    with _lock:
        for k, d in enumerate(devices):
            d.id = first_id + k
            d.process_index = process_index
            d.__dict__.pop("_hash", None)  # hash follows the id


def initialized_backends() -> list[str]:
    """The platforms whose devices have been created (or looked for) in this process."""
    return list(_backend_devices)


# ---- target architecture of a GPU -------------------------------------------------------------


def _cuda_query(ordinal: int) -> tuple[int | None, int | None]:
    """(compute capability as 10*major+minor, driver version) through libcuda, or (None, None)."""
    try:
        lib = ctypes.CDLL("libcuda.so.1")
    except OSError:
        try:
            lib = ctypes.CDLL("libcuda.so")
        except OSError:
            return None, None
    try:
        if lib.cuInit(0) != 0:
            return None, None
        ver = ctypes.c_int(0)
        lib.cuDriverGetVersion(ctypes.byref(ver))
        dev, major, minor = ctypes.c_int(0), ctypes.c_int(0), ctypes.c_int(0)
        if lib.cuDeviceGet(ctypes.byref(dev), ordinal) != 0:
            return None, ver.value or None
        lib.cuDeviceGetAttribute(ctypes.byref(major), 75, dev)  # COMPUTE_CAPABILITY_MAJOR
        lib.cuDeviceGetAttribute(ctypes.byref(minor), 76, dev)  # COMPUTE_CAPABILITY_MINOR
        return 10 * major.value + minor.value, ver.value or None
    except Exception:  # noqa: BLE001
        return None, None


def _smi_capability(ordinal: int) -> int | None:
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=compute_cap", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
        ).stdout.split()
        major, minor = out[ordinal].split(".")
        return 10 * int(major) + int(minor)
    except Exception:  # noqa: BLE001
        return None


def cuda_target_for(capability: int | None, driver_version: int | None = None) -> str:
    """The newest IREE-accepted CUDA target whose PTX this device (and driver) can JIT."""
    if capability is None:
        return "sm_80"
    for cap, target, need in CUDA_TARGETS:
        if cap <= capability and (driver_version is None or driver_version >= need):
            return target
    return "sm_60"


def _arch_for(platform: str, id: int) -> str:
    if platform == "cuda":
        env = os.environ.get("IRJAX_CUDA_TARGET")
        if env:
            return env
        cap, ver = _cuda_query(id)
        if cap is None:
            cap = _smi_capability(id)
        return cuda_target_for(cap, ver)
    env = os.environ.get("IRJAX_ROCM_TARGET")
    if env:
        return env
    try:  # rocm_agent_enumerator lists gfx names, gfx000 being the CPU agent
        out = subprocess.run(["rocm_agent_enumerator"], capture_output=True, text=True, timeout=20).stdout.split()
        gfx = [g for g in out if g.startswith("gfx") and g != "gfx000"]
        if len(gfx) > id:
            return gfx[id]
    except Exception:  # noqa: BLE001
        pass
    return "gfx942"


def _arch_flags(platform: str, arch: str | None) -> list[str]:
    if platform == "cuda" and arch:
        return [f"--iree-cuda-target={arch}"]
    if platform == "rocm" and arch:
        return [f"--iree-rocm-target={arch}"]
    return []


# ---- backends and the default device ------------------------------------------------------------

_lock = threading.RLock()
_backend_devices: dict[str, list[Device]] = {}
_backend_errors: dict[str, str] = {}


def _canonical(platform: str) -> tuple[str, ...]:
    p = platform.lower()
    if p in ALIASES:
        return ALIASES[p]
    if p not in BACKENDS:
        raise RuntimeError(f"Unknown backend: '{platform}'. Known backends: {', '.join(BACKENDS)} (and 'gpu').")
    return (p,)


def _init_backend(platform: str) -> list[Device]:
    devs = _backend_devices.get(platform)
    if devs is not None:
        return devs
    with _lock, hidden_from_iree():  # under mpiexec IREE would start MPI in each device; mpi4py owns it
        return _create_backend(platform)


def _create_backend(platform: str) -> list[Device]:
    with _lock:
        devs = _backend_devices.get(platform)
        if devs is not None:
            return devs
        driver = BACKENDS[platform][0]
        devs = []
        try:
            if platform == "cpu":
                devs = _cpu_devices(driver)
            else:
                infos = rt.get_driver(driver).query_available_devices()
                devs = [Device(platform, driver, i, info) for i, info in enumerate(infos)]
                if not devs:
                    _backend_errors[platform] = f"the IREE '{driver}' driver found no devices"
        except Exception as e:  # noqa: BLE001  (missing driver library, no device, ...)
            _backend_errors[platform] = str(e).strip().splitlines()[0] if str(e).strip() else repr(e)
            devs = []
        _backend_devices[platform] = devs
        return devs


_cpu_pool: list[Device] = []  # every CPU device made so far: ids are never reused by new objects


def num_cpu_devices() -> int:
    """$IRJAX_NUM_CPU_DEVICES (default 1), like XLA's --xla_force_host_platform_device_count."""
    env = os.environ.get("IRJAX_NUM_CPU_DEVICES", "").strip()
    if not env:
        return 1
    try:
        n = int(env)
    except ValueError:
        n = 0
    if n < 1:
        raise ValueError(f"IRJAX_NUM_CPU_DEVICES must be a positive integer, got {env!r}")
    return n


def _cpu_devices(driver: str) -> list[Device]:
    n = num_cpu_devices()
    while len(_cpu_pool) < n:
        _cpu_pool.append(Device("cpu", driver, len(_cpu_pool)))
    return _cpu_pool[:n]


def backend_devices(platform: str) -> list[Device]:
    """The devices of one backend ('cpu', 'cuda', 'rocm', 'vulkan' or 'gpu'); RuntimeError if none."""
    names = _canonical(platform)
    for p in names:
        devs = _init_backend(p)
        if devs:
            return list(devs)
    why = "; ".join(f"{p}: {_backend_errors.get(p, 'no devices')}" for p in names)
    raise RuntimeError(
        f"Unknown backend {platform}: no {'/'.join(names)} device is available on this machine ({why}). "
        f"Platforms present: {', '.join(available_platforms()) or 'none'}"
    )


def device_by_id(platform: str, id: int) -> Device:
    """The device `id` of `platform`; ValueError if this process has no such device."""
    for d in backend_devices(platform):
        if d.id == id:
            return d
    raise ValueError(f"no {platform} device with id {id} in this process (IRJAX_NUM_CPU_DEVICES for more CPU devices)")


def available_platforms(candidates=None) -> list[str]:
    return [p for p in (candidates or BACKENDS) if _init_backend(p)]


def backend_error(platform: str) -> str | None:
    _init_backend(platform)
    return _backend_errors.get(platform)


def platforms() -> list[str]:
    """The platforms named by $IRJAX_PLATFORMS (in order), else the default search order."""
    env = os.environ.get("IRJAX_PLATFORMS", "").strip()
    if not env:
        return list(DEFAULT_ORDER)
    out = []
    for name in env.split(","):
        name = name.strip()
        if name:
            for p in _canonical(name):
                if p not in out:
                    out.append(p)
    return out


_env_default: Device | None = None
_override: contextvars.ContextVar[Device | None] = contextvars.ContextVar("irjax_default_device", default=None)
_config_default: list = [None]  # set by irjax's config / default_device(...) outside a `with`


def platform_default_device() -> Device:
    """The first device of the first available platform in platforms()."""
    global _env_default
    if _env_default is None:
        names = platforms()
        for p in names:
            devs = _init_backend(p)
            if devs:
                _env_default = devs[0]
                break
        else:
            why = "; ".join(f"{p}: {_backend_errors.get(p, 'no devices')}" for p in names)
            raise RuntimeError(
                f"IRJAX_PLATFORMS={os.environ.get('IRJAX_PLATFORMS', '')!r}: none of these platforms is available ({why})"
            )
    return _env_default


def default_device() -> Device:
    d = _override.get()
    if d is not None:
        return d
    d = _config_default[0]
    if d is not None:
        return d
    return _env_default if _env_default is not None else platform_default_device()


def set_default_device(device: Device | None):
    """Push `device` as the default for this context; returns a token for reset_default_device."""
    return _override.set(device)


def reset_default_device(token) -> None:
    _override.reset(token)


def cpu_device() -> Device:
    return _init_backend("cpu")[0]


def _reset_for_tests() -> None:
    """Forget the cached default and the CPU device list (so a test can change IRJAX_PLATFORMS
    or IRJAX_NUM_CPU_DEVICES; CPU Device objects are kept and reused, never recreated)."""
    global _env_default
    _env_default = None
    with _lock:
        _backend_devices.pop("cpu", None)
        _backend_errors.pop("cpu", None)

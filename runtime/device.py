"""Devices and buffers: backends (cpu, vulkan, cuda, rocm), the default device, host <-> device copies.

A backend is an IREE HAL driver plus a compile target. Devices are created once and cached,
so `Device` objects compare (and hash) by (platform, id) and are shared by everything.
"""

from __future__ import annotations

import atexit
import collections
import contextvars
import ctypes
import os
import subprocess
import threading
import time
import weakref

import iree.runtime as rt
import numpy as np
from ml_dtypes import bfloat16 as _bf16

from .host_collectives import hidden_from_iree
from .targets import (
    ALIASES,
    BACKENDS,
    DEFAULT_ORDER,
    DRIVER_TARGET,
    HOST_DRIVERS,
    arch_flags,
    async_enabled,
    cuda_target_for,
)
from .targets import CUDA_TARGETS as CUDA_TARGETS  # noqa: F401  (re-exported: tests and scripts read it here)

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
_ET[np.dtype(_bf16)] = rt.HalElementType.BFLOAT_16

# Copies between the host and devices so far, by kind; each adds 1 (tests read these to check
# that a device-resident call path makes none): to_device (device_put, a host array or Python
# scalar given to a computation), to_host (np.asarray, printing, device_get), on_device (a
# buffer copied on the device, e.g. a private input copy; no host memory involved).
transfers = {"to_device": 0, "to_host": 0, "on_device": 0}


_timelines: weakref.WeakSet = weakref.WeakSet()  # devices holding a timeline semaphore


def reset_transfer_counts() -> None:
    for k in transfers:
        transfers[k] = 0


# IREE's local-task driver starts one worker per physical core, pinned to it, which is what irjax
# uses. Until 2026-12-07 it ran one worker more than cores on machines of up to 4 cores, against
# MLP steps that took 4-8 ms instead of 2.4 ms in 13-35% of the calls; the cause was the calling
# thread preempting the worker that woke it (runtime/cpu_wait.py), and with that mended IREE's
# default is as fast or faster (2 cores, 3 alternating pairs of run.py: MLP step 2.24-2.47 vs
# 2.25-2.37 ms, CNN NCHW 22.3-23.1 vs 23.6-32.4 ms, NHWC 19.7-20.1 vs 20.6-20.9 ms, 2048^2 matmul,
# batched matmuls and the scan RNN equal; steps over 4 ms 0.3-0.7% vs 1.5-2.1%).
# $IRJAX_CPU_WORKERS sets the count (0: IREE's default).


def task_workers() -> int:
    """Workers for the CPU's local-task driver (see above); 0 leaves IREE's default."""
    env = os.environ.get("IRJAX_CPU_WORKERS", "").strip()
    if not env:
        return 0
    if not env.isdigit():
        raise ValueError(f"IRJAX_CPU_WORKERS must be a non-negative integer, got {env!r}")
    return int(env)


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
        self.target = DRIVER_TARGET.get(driver, "llvm-cpu")
        self.arch = _arch_for(platform, id) if platform in ("cuda", "rocm") else None
        # Flags appended after compiler.target_flags(target); a later flag wins in IREE.
        self.compile_flags = arch_flags(platform, self.arch)
        self._host_visible = driver in HOST_DRIVERS
        self._parallel = None
        # One timeline per GPU device (like a JAX stream): every queued call and copy waits on
        # the timeline's last point and signals the next, so work runs in submission order
        # while Python goes on; a read waits for its own copy. The CPU stays synchronous.
        self.asynchronous = not self._host_visible and async_enabled(self.target)
        self.timeline = not self._host_visible  # (queued copies use it even when calls are synchronous)
        self._sem = self.hal.create_semaphore(0) if self.timeline else None
        self._tick = 0
        self._timeline_lock = threading.Lock()
        self._pending: collections.deque = collections.deque()  # (timeline point, buffers held)
        if self._sem is not None:
            _timelines.add(self)

    def parallel_hal_module(self):
        """A HAL module on the multi-threaded local-task driver (CPU only; else the device's own)."""
        if self.driver != "local-sync":
            return self.hal_module
        if self._parallel is None:
            with hidden_from_iree():  # (IREE would start MPI in the device under mpiexec)
                workers = task_workers()
                if workers:  # (read when IREE creates the driver: before the first local-task device)
                    rt.flags.parse_flags(f"--task_topology_group_count={workers}")
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
        transfers["to_device"] += 1
        return self.allocator.allocate_buffer_copy(
            memory_type=rt.MemoryType.DEVICE_LOCAL,
            allowed_usage=rt.BufferUsage.DEFAULT,
            device=self.hal,
            buffer=arr,
            element_type=et,
        )

    def copy(self, bv):
        """A new buffer view with the same contents (on the device, no host round trip off-CPU)."""
        transfers["on_device"] += 1
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
        # A result of a queued call may be a transient buffer that IREE backs only when its
        # queue_alloca runs; a copy submitted before that fails ("transient buffer has no staged
        # Vulkan backing") and poisons the timeline. So: wait for the queued work, then copy.
        self.synchronize()
        self._queue_copy(src, dst, wait=False)
        return rt.HalBufferView(dst, list(bv.shape), bv.element_type)

    def get(self, bv, dtype) -> np.ndarray:
        """Copy a buffer view back to a new host array (waits for the work that writes it)."""
        transfers["to_host"] += 1
        shape = tuple(bv.shape)
        if self._host_visible:
            host = bv.map().asarray(shape, np.dtype(dtype))
            return np.array(host, copy=True)
        # Device-local memory is not mappable off-CPU, and importing a host pointer needs
        # 4096-byte alignment on Vulkan: DMA into a HOST_LOCAL staging buffer, then map it.
        src = bv.get_buffer()
        n = src.byte_length()
        if n == 0 or 0 in shape:
            self.synchronize()  # (still surfaces an error of the work queued before)
            return np.zeros(shape, dtype)
        self.synchronize()  # (the source must be backed before the copy is submitted: see copy())
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

    def _queue_copy(self, src, dst, wait: bool = True):
        sem, t = self._advance()
        before, after = rt.HalFence.create_at(sem, t), rt.HalFence.create_at(sem, t + 1)
        try:
            self.hal.queue_copy(src, dst, wait_semaphores=before, signal_semaphores=after)
        except Exception as e:  # noqa: BLE001  (IREE raises plain errors)
            self.raise_if_failed(e)
            raise
        if not wait:
            self.keep_alive(t + 1, (src, dst))
        else:
            self._wait(sem, t + 1)  # (its own point; later work may be queued by then)

    # -- the device timeline (GPU devices) ----------------------------------------------------
    def fences(self):
        """(wait, signal, point) for the next queued operation: it waits for everything queued
        before it and signals `point`, a new point of this device's timeline."""
        sem, t = self._advance()
        return rt.HalFence.create_at(sem, t), rt.HalFence.create_at(sem, t + 1), t + 1

    def keep_alive(self, point: int, refs) -> None:
        """Hold `refs` (the buffers a queued call reads and writes) until the timeline reaches
        `point`, as JAX keeps a computation's buffers alive until it completes: an Array freed
        by Python while its work is still queued must not free the memory under it."""
        pending = self._pending
        pending.append((point, refs))
        if len(pending) > 1:
            try:
                done = self._sem.query()
            except Exception:  # noqa: BLE001  (a failed timeline: the next wait reports it)
                return
            while pending and pending[0][0] <= done:
                pending.popleft()

    def _advance(self):
        with self._timeline_lock:
            t = self._tick
            self._tick = t + 1
            return self._sem, t

    def synchronize(self) -> None:
        """Wait until everything queued on this device so far has finished (block_until_ready).
        A failure of queued work is raised here, or at the next read, as a RuntimeError."""
        if self._sem is None:
            return
        self._wait(self._sem, self._tick)
        self._pending.clear()

    def _wait(self, sem, value: int) -> None:
        """Wait for the timeline to reach `value` by polling the semaphore: a blocking fence wait took ~12 ms on
        lavapipe for work done in ~50 us (its wake-up granularity). Poll without sleeping for
        0.2 ms, then sleep between polls, at most 1 ms (about 10% of the time waited so far)."""
        start = time.perf_counter()
        try:
            while sem.query() < value:
                waited = time.perf_counter() - start
                if waited > 2e-4:
                    time.sleep(min(1e-3, max(5e-5, 0.1 * waited)))
        except Exception as e:  # noqa: BLE001  (IREE raises plain errors)
            self.raise_if_failed(e)
            raise

    def raise_if_failed(self, e: BaseException) -> None:
        """If queued work failed (the timeline is in a failed state), start a new timeline so
        later work can run and raise the failure as a RuntimeError; else return."""
        if self._sem is None:
            return
        try:
            self._sem.query()
            return
        except Exception:  # noqa: BLE001
            pass
        with self._timeline_lock:
            self._sem, self._tick = self.hal.create_semaphore(0), 0
            self._pending.clear()
        raise RuntimeError(f"{self}: a computation queued on the device failed: {e}") from None


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


_cpu_count_override: int | None = None  # jax_num_cpu_devices (set_num_cpu_devices)


def set_num_cpu_devices(n: int) -> None:
    """jax_num_cpu_devices: n CPU devices (-1: $IRJAX_NUM_CPU_DEVICES or 1), only before the CPU
    backend has made its devices, as JAX (a later change would orphan arrays on dropped devices)."""
    global _cpu_count_override
    with _lock:
        if "cpu" in _backend_devices:
            raise RuntimeError(
                "jax_num_cpu_devices config should be updated before backends are initialized i.e. "
                "before any JAX operation is executed. You should initialize this config immediately "
                "after `import jax`."
            )
        _cpu_count_override = None if n == -1 else n


def num_cpu_devices() -> int:
    """jax_num_cpu_devices, else $IRJAX_NUM_CPU_DEVICES (default 1), like XLA's
    --xla_force_host_platform_device_count."""
    if _cpu_count_override is not None:
        return _cpu_count_override
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


_views_past_exit = False


def allow_views_past_exit() -> None:
    """A zero-copy host view is exported (DLPack): NumPy's DLPack deleter does nothing once
    the interpreter is finalizing, so such a view alive at exit keeps its IREE mapping, buffer
    and device alive, and nanobind would print that as leaked IREE objects (some 70 lines on
    stderr at the end of an otherwise clean program). The OS reclaims the memory; say nothing."""
    global _views_past_exit
    if not _views_past_exit:
        _views_past_exit = True
        quiet = getattr(getattr(rt, "_binding", None), "disable_leak_checker", None)
        if quiet is not None:
            quiet()


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


@atexit.register
def _release_timelines() -> None:
    """Finish queued work and drop each device's semaphore before interpreter teardown: a HAL
    semaphore destroyed after its device (teardown order is arbitrary) crashed the process."""
    for d in list(_timelines):
        try:
            d.synchronize()
        except RuntimeError:
            pass
        d._sem = None


def _reset_for_tests() -> None:
    """Forget the cached default and the CPU device list (so a test can change IRJAX_PLATFORMS
    or IRJAX_NUM_CPU_DEVICES; CPU Device objects are kept and reused, never recreated)."""
    global _env_default
    _env_default = None
    with _lock:
        _backend_devices.pop("cpu", None)
        _backend_errors.pop("cpu", None)

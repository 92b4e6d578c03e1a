"""Platform, driver and compile-target facts in one place: which IREE driver and target each
platform uses, the CUDA target table, Vulkan features, and the flags and lowering options that
differ between the CPU and GPU targets (runtime/device.py, compiler.py, artifact.py read them).
"""

from __future__ import annotations

import os

# platform -> (IREE HAL driver, IREE compile target, repr prefix)
BACKENDS = {
    "cpu": ("local-sync", "llvm-cpu", "Cpu"),
    "cuda": ("cuda", "cuda", "Cuda"),
    "rocm": ("hip", "rocm", "Rocm"),
    "vulkan": ("vulkan", "vulkan-spirv", "Vulkan"),
}
DRIVER_TARGET = {
    "local-sync": "llvm-cpu",
    "local-task": "llvm-cpu",
    "vulkan": "vulkan-spirv",
    "cuda": "cuda",
    "hip": "rocm",
}
# compile target -> the driver that runs it (what an artifact's target needs on a machine)
TARGET_DRIVERS = {"llvm-cpu": "local-sync", "vulkan-spirv": "vulkan", "cuda": "cuda", "rocm": "hip"}
DRIVER_PLATFORM = {"local-sync": "cpu", "local-task": "cpu", "vulkan": "vulkan", "cuda": "cuda", "hip": "rocm"}
ALIASES = {"gpu": ("cuda", "rocm"), "hip": ("rocm",), "host": ("cpu",)}
# platform names an artifact may be loaded for, as compile targets ('gpu' = cuda)
PLATFORM_TARGET = {"cpu": "llvm-cpu", "gpu": "cuda", "vulkan": "vulkan-spirv", "hip": "rocm"}
# Without IRJAX_PLATFORMS, like JAX: a GPU if there is one, else the CPU. Vulkan is opt-in.
DEFAULT_ORDER = ("cuda", "rocm", "cpu")
HOST_DRIVERS = ("local-sync", "local-task")  # buffers are host memory: mappable, calls synchronous

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
# With no device to ask (artifacts, compile tests): sm_80's PTX (ISA 7.6) JITs on Ampere, Ada
# and Hopper with any CUDA 11.6+ driver. ROCm: MI300.
DEFAULT_CUDA_TARGET = "sm_80"
DEFAULT_ROCM_TARGET = "gfx942"


def cuda_target_for(capability: int | None, driver_version: int | None = None) -> str:
    """The newest IREE-accepted CUDA target whose PTX this device (and driver) can JIT."""
    if capability is None:
        return DEFAULT_CUDA_TARGET
    for cap, target, need in CUDA_TARGETS:
        if cap <= capability and (driver_version is None or driver_version >= need):
            return target
    return "sm_60"


# IREE's default Vulkan target (vp_android_baseline_2022) has 32-bit storage only, and its
# emulation of 8-bit storage gives wrong bools on Mesa's lavapipe; desktop Vulkan (lavapipe,
# NVIDIA, AMD, Intel) has 8/16/64-bit types and storage.
VULKAN_FEATURES = ",".join(
    [
        "spirv:v1.3",
        "cap:Shader",
        "cap:Int8",
        "cap:Int16",
        "cap:Int64",
        "cap:Float16",
        "cap:Float64",
        "cap:StorageBuffer8BitAccess",
        "cap:StorageBuffer16BitAccess",
        "ext:SPV_KHR_8bit_storage",
        "ext:SPV_KHR_16bit_storage",
    ]
)

# GPU targets turn off IREE's command-buffer memoization: on Vulkan a memoized command buffer
# replayed its buffer copies (a concatenate of arguments, a slice returned as is) into the
# first call's output buffer, so later calls returned zeros whenever the first result was
# still alive. CUDA and ROCm use the same compiler path, untested for it: off there too.
NO_MEMOIZATION = "--iree-hal-memoization=false"
# GPU targets export functions that take a wait and a signal fence and return as soon as the
# work is queued (IREE's coarse-fences ABI): irjax's asynchronous dispatch (runtime/executable.py).
ASYNC_EXTERNAL = "--iree-execution-model=async-external"
GPU_TARGETS = ("cuda", "rocm", "vulkan-spirv")


# IREE's const-eval JIT-compiles and runs a second module for hoisted constant expressions at
# compile time; hoisted constants are then computed once at load instead. Measured on the MLP
# value_and_grad module (data tiling on): compile CPU 3.2-3.5 s -> 2.5-2.9 s, step unchanged.
NO_CONST_EVAL = "--iree-opt-const-eval=false"


def usable_cores() -> int:
    """The cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def target_flags(target: str = "llvm-cpu") -> list[str]:
    """Default IREE flags per target. A device adds its own (e.g. the CUDA SM of the GPU found)
    after these, and IREE takes the last value of a repeated flag."""
    if target == "llvm-cpu":
        return [f"--iree-llvmcpu-target-cpu={os.environ.get('IRJAX_CPU', 'host')}", NO_CONST_EVAL]
    if target == "cuda":
        return [f"--iree-cuda-target={os.environ.get('IRJAX_CUDA_TARGET') or DEFAULT_CUDA_TARGET}", *_gpu_flags(target)]
    if target == "rocm":
        return [f"--iree-rocm-target={os.environ.get('IRJAX_ROCM_TARGET') or DEFAULT_ROCM_TARGET}", *_gpu_flags(target)]
    if target == "vulkan-spirv":
        features = os.environ.get("IRJAX_VULKAN_FEATURES") or VULKAN_FEATURES
        return [f"--iree-vulkan-target-features={features}", *_gpu_flags(target)]
    return []


# Asynchronous dispatch by default per GPU target. Off on Vulkan: on lavapipe, long test runs
# with async calls intermittently ended in VK_ERROR_DEVICE_LOST (each suite alone passed), so
# Vulkan stays synchronous unless IRJAX_ASYNC_DISPATCH=1 asks for it (docs/devices.md).
ASYNC_BY_DEFAULT = {"cuda": True, "rocm": True, "vulkan-spirv": False}


def async_enabled(target: str) -> bool:
    """Whether calls on `target` return before the device finishes: IRJAX_ASYNC_DISPATCH=1 / 0
    forces it on / off for every GPU target; unset, ASYNC_BY_DEFAULT decides."""
    env = os.environ.get("IRJAX_ASYNC_DISPATCH", "")
    if env in ("0", "false"):
        return False
    if env in ("1", "true"):
        return target in GPU_TARGETS
    return ASYNC_BY_DEFAULT.get(target, False)


def _gpu_flags(target: str) -> list[str]:
    return [NO_MEMOIZATION, ASYNC_EXTERNAL] if async_enabled(target) else [NO_MEMOIZATION]


def arch_flags(platform: str, arch: str | None) -> list[str]:
    """The flags naming one device's architecture (appended after target_flags)."""
    if platform == "cuda" and arch:
        return [f"--iree-cuda-target={arch}"]
    if platform == "rocm" and arch:
        return [f"--iree-rocm-target={arch}"]
    return []


def is_gpu_target(target: str) -> bool:
    return target in GPU_TARGETS


def lowering_options(gpu: bool) -> str:
    """lower-stablehlo's target-dependent options. GPU targets keep long scans as one loop
    (chunked nested loops lost the Vulkan device, see docs/devices.md) and split grouped
    convolutions into one per group, and FFTs as DFT matmuls. CPU targets stack scan outputs in
    place (dialects/control_flow.place_stacks; checked on IREE's llvm-cpu only), run convolutions
    channels-last (dialects/convolution.channels_last; measured on llvm-cpu only) and large f64
    batched matmuls as one 2-D matmul per batch element (dialects/reductions.split_f64_batches).
    GPU targets keep float32 math kernels (wide-math=false: no float64 log in Vulkan's SPIR-V)."""
    if gpu:
        return "chunk-scans=false split-conv-groups=true fft-as-dft=true wide-math=false"
    return (
        "chunk-scans=true place-stacks=true split-conv-groups=false fft-as-dft=false channels-last-convs=true "
        "split-f64-batched-dots=true"
    )

"""Compile StableHLO text to an IREE .vmfb, with an in-memory and on-disk cache.

The disk cache lives in $IRJAX_CACHE_DIR (default ~/.cache/irjax); the key hashes the
IR text, target, flags and IREE version. Entries carry a checksum and are written
atomically; a corrupt entry is recompiled, never fatal. The compiler import is lazy:
loading cached modules needs only the runtime.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import tempfile
import threading
import time

import numpy as np

_MAGIC = b"IRJAXVMFB1\n"
_mem: dict[str, bytes] = {}
_lock = threading.Lock()
stats = {"compiles": 0, "disk_hits": 0, "memory_hits": 0, "compile_s": 0.0}
# IRJAX_LOG_COMPILES=1: one stderr line per IREE compile (like jax_log_compiles)
_LOG_COMPILES = os.environ.get("IRJAX_LOG_COMPILES", "") not in ("", "0", "false")


def _log_compile(text: str, target: str, seconds: float) -> None:
    name = re.search(r"func\.func (?:public )?@([\w.$-]+)", text)
    n_ops = len(re.findall(r"= (?:stablehlo|\"stablehlo)\.", text))
    print(f"irjax: compiled @{name.group(1) if name else '?'} for {target} in {seconds * 1e3:.0f} ms "
          f"({n_ops} StableHLO ops)", file=sys.stderr, flush=True)


class CompileError(RuntimeError):
    """IREE rejected the module; the message holds its diagnostics."""


def cache_dir() -> str:
    d = os.environ.get("IRJAX_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "irjax")
    return d


def _iree_version() -> str:
    try:
        from importlib.metadata import version

        return version("iree-base-compiler")
    except Exception:  # noqa: BLE001
        return "unknown"


_VERSION = None


def target_flags(target: str = "llvm-cpu") -> list[str]:
    """Default IREE flags per target. A device adds its own (e.g. the CUDA SM of the GPU found)
    after these, and IREE takes the last value of a repeated flag.

    CUDA: IREE 3.13 rejects sm_90/sm_90a/sm_100; sm_80's PTX (ISA 7.6) JITs on Ampere, Ada and
    Hopper with any CUDA 11.6+ driver, so it is the portable default ($IRJAX_CUDA_TARGET overrides).
    ROCm: gfx942 (MI300) unless $IRJAX_ROCM_TARGET says otherwise.

    GPU targets turn off IREE's command-buffer memoization: on Vulkan a memoized command buffer
    replayed its buffer copies (a concatenate of arguments, a slice returned as is) into the
    first call's output buffer, so later calls returned zeros whenever the first result was
    still alive. CUDA and ROCm use the same compiler path, untested for it: off there too.
    """
    if target == "llvm-cpu":
        cpu = os.environ.get("IRJAX_CPU", "host")
        return [f"--iree-llvmcpu-target-cpu={cpu}"]
    if target == "cuda":
        return [f"--iree-cuda-target={os.environ.get('IRJAX_CUDA_TARGET') or 'sm_80'}", NO_MEMOIZATION]
    if target == "rocm":
        return [f"--iree-rocm-target={os.environ.get('IRJAX_ROCM_TARGET') or 'gfx942'}", NO_MEMOIZATION]
    if target == "vulkan-spirv":
        # IREE's default (vp_android_baseline_2022) has 32-bit storage only, and its emulation of
        # 8-bit storage gives wrong bools on Mesa's lavapipe; desktop Vulkan (lavapipe, NVIDIA,
        # AMD, Intel) has 8/16/64-bit types and storage.
        return [f"--iree-vulkan-target-features={os.environ.get('IRJAX_VULKAN_FEATURES') or VULKAN_FEATURES}", NO_MEMOIZATION]
    return []


NO_MEMOIZATION = "--iree-hal-memoization=false"
VULKAN_FEATURES = ",".join([
    "spirv:v1.3", "cap:Shader", "cap:Int8", "cap:Int16", "cap:Int64", "cap:Float16", "cap:Float64",
    "cap:StorageBuffer8BitAccess", "cap:StorageBuffer16BitAccess",
    "ext:SPV_KHR_8bit_storage", "ext:SPV_KHR_16bit_storage",
])


def cache_key(text: str, target: str, flags: list[str]) -> str:
    global _VERSION
    if _VERSION is None:
        _VERSION = _iree_version()
    h = hashlib.sha256()
    for part in (_VERSION, target, "\0".join(flags), text):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


def _read_entry(path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    if not data.startswith(_MAGIC) or len(data) < len(_MAGIC) + 64:
        return None
    digest = data[len(_MAGIC) : len(_MAGIC) + 64].decode("ascii", "replace")
    payload = data[len(_MAGIC) + 64 :]
    if hashlib.sha256(payload).hexdigest() != digest:
        return None  # corrupt: recompile
    return payload


def _write_entry(path: str, payload: bytes) -> None:
    d = os.path.dirname(path)
    tmp = None
    try:
        os.makedirs(d, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-")
        with os.fdopen(fd, "wb") as f:
            f.write(_MAGIC + hashlib.sha256(payload).hexdigest().encode() + payload)
        os.replace(tmp, path)  # atomic: readers see the old entry or the whole new one
    except OSError:
        # a read-only or full disk only costs a recompile next time; leave no partial file
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


DATA_TILING = "--iree-opt-data-tiling"
_DOT = re.compile(r"stablehlo\.dot_general[^\n]*:\s*\(tensor<([0-9x]+)x\w+>,\s*tensor<([0-9x]+)x\w+>\)\s*->\s*tensor<([0-9x]+)x\w+>")


def wants_data_tiling(text: str) -> bool:
    """Data tiling pays off for matmul-heavy modules only. Measured here (2 cores): a 1024^2
    f32 matmul 1.75x faster, the MLP 784-512-512-10 value_and_grad step 4.4 -> 3.5 ms; but a
    10000x10 matvec 14x slower, and it breaks some reduce+broadcast fusions in IREE 3.13
    (a failed compile retries without it). On at >= 20 MFLOP of dot_general."""
    return matmul_heavy(text)


def matmul_heavy(text: str) -> bool:
    """>= 20 MFLOP of dot_general: worth data tiling, and worth running on the CPU's
    multi-threaded local-task driver, which pays back its ~100 us wake-up there (measured:
    128x784x512 f32 931 -> 582 us on 2 cores)."""
    return matmul_flops(text) >= 2e7


_TIED_OPS = ("stablehlo.scatter", "stablehlo.dynamic_update_slice", "stablehlo.sort")


def needs_input_copies(text: str) -> bool:
    """IREE may write in place into an input buffer that feeds one of these ops, even when the
    input is also live elsewhere (iree-org/iree#16168): such modules get private input copies."""
    return any(op in text for op in _TIED_OPS)


def matmul_flops(text: str) -> float:
    """Rough FLOPs of the module's dot_generals, from their operand and result types
    (K estimated as sqrt(|lhs| |rhs| / |result|))."""
    total = 0.0
    for m in _DOT.finditer(text):
        lhs, rhs, res = (float(np.prod([int(d) for d in g.split("x")])) for g in m.groups())
        total += 2.0 * res * (lhs * rhs / max(res, 1.0)) ** 0.5
    return total


def compile_stablehlo(text: str, target: str = "llvm-cpu", extra_flags: list[str] | None = None) -> bytes:
    """The .vmfb for a StableHLO module (cached)."""
    flags = target_flags(target) + list(extra_flags or [])
    if target != "llvm-cpu":
        from irjax.passes.target_fixups import for_target  # (IREE bugs of one target)

        text = for_target(text, target)
    if target == "llvm-cpu" and DATA_TILING not in flags and wants_data_tiling(text):
        flags.append(DATA_TILING)
    key = cache_key(text, target, flags)
    with _lock:
        hit = _mem.get(key)
    if hit is not None:
        stats["memory_hits"] += 1
        return hit
    use_disk = os.environ.get("IRJAX_DISABLE_CACHE", "") not in ("1", "true")
    path = os.path.join(cache_dir(), key[:2], key + ".vmfb")
    payload = _read_entry(path) if use_disk else None
    if payload is not None:
        stats["disk_hits"] += 1
    else:
        t0 = time.perf_counter()
        payload = _compile(text, target, flags)
        stats["compiles"] += 1
        stats["compile_s"] += time.perf_counter() - t0
        if _LOG_COMPILES:
            _log_compile(text, target, time.perf_counter() - t0)
        if use_disk:
            _write_entry(path, payload)
    with _lock:
        _mem[key] = payload
    return payload


_sessions: dict = {}


def _compile(text: str, target: str, flags: list[str]) -> bytes:
    """In-process compile through IREE's embedding API (a reused Session: ~1.5x faster
    than spawning iree-compile); on failure, rerun the tool to get its diagnostics."""
    if target != "llvm-cpu":
        # GPU code generators can crash IREE itself (vulkan-spirv on some sort fusions in
        # 3.13): in a subprocess that is a CompileError, not a dead Python process
        return _compile_tool(text, target, flags)
    try:
        return _compile_in_process(text, target, flags)
    except _InProcessFailed:
        pass
    if "--iree-opt-data-tiling" in flags:
        # IREE 3.13's data tiling fails on some reduce + broadcast fusions ("'vector.store' op
        # write affecting operations on global resources ..."), e.g. jacfwd of a row-sum: retry without
        try:
            return _compile_in_process(text, target, [f for f in flags if f != "--iree-opt-data-tiling"])
        except _InProcessFailed:
            pass
    return _compile_tool(text, target, flags)


def _compile_tool(text: str, target: str, flags: list[str]) -> bytes:
    import iree.compiler as ic

    try:
        return ic.compile_str(text, target_backends=[target], input_type="stablehlo", extra_args=flags)
    except ic.CompilerToolError as e:
        raise CompileError(f"IREE failed to compile the module for {target}:\n{e}") from None


class _InProcessFailed(Exception):
    pass


def _compile_in_process(text: str, target: str, flags: list[str]) -> bytes:
    from iree.compiler.api import Output, Source, Session

    key = (target, tuple(flags))
    with _lock:
        session = _sessions.get(key)
        if session is None:
            session = Session()
            session.set_flags(f"--iree-hal-target-backends={target}", "--iree-input-type=stablehlo", *flags)
            _sessions[key] = session
        inv = session.invocation()
        out = Output.open_membuffer()
        try:
            source = Source.wrap_buffer(session, text.encode())
            if not inv.parse_source(source) or not inv.execute():
                raise _InProcessFailed()
            inv.output_vm_bytecode(out)
            return bytes(out.map_memory())
        finally:
            inv.close()
            out.close()


def forget_memory_cache() -> None:
    with _lock:
        _mem.clear()

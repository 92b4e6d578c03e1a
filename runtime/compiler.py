"""Compile StableHLO text to an IREE .vmfb, with an in-memory and on-disk cache.

The disk cache lives in $IRJAX_CACHE_DIR (default ~/.cache/irjax); the key hashes the
IR text, target, flags and IREE version. Entries carry their key and a checksum and are
written atomically; a corrupt or misplaced entry is recompiled, never fatal. The compiler
import is lazy: loading cached modules needs only the runtime. CPU compiles run in worker
processes (compile_worker.py), so an LLVM crash is a CompileError, not the end of the process.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from importlib.metadata import version

from irjax.passes.module_facts import facts_of_text

from . import compile_worker, host_cpu
from .targets import NO_MEMOIZATION, VULKAN_FEATURES, target_flags  # noqa: F401  (re-exported)

_MAGIC = b"IRJAXVMFB2\n"  # then the entry's key (64 hex), the payload's sha256 (64 hex), the payload
_mem: dict[str, bytes] = {}
_lock = threading.Lock()
stats = {"compiles": 0, "disk_hits": 0, "memory_hits": 0, "compile_s": 0.0}
# IRJAX_LOG_COMPILES=1: one stderr line per IREE compile (like jax_log_compiles)
_LOG_COMPILES = os.environ.get("IRJAX_LOG_COMPILES", "") not in ("", "0", "false")


def _what(text: str) -> tuple[str, str]:
    """'@entry ... (N StableHLO ops)' for the compile log line (reads the parsed module)."""
    facts = facts_of_text(text)
    n_ops = sum(n for name, n in facts.op_counts.items() if name.startswith("stablehlo."))
    return f"@{facts.entry or '?'}", f"({n_ops} StableHLO ops)"


def _log_compile(what: tuple, target: str, seconds: float) -> None:
    print(f"irjax: compiled {what[0]} for {target} in {seconds * 1e3:.0f} ms {what[1]}", file=sys.stderr, flush=True)


class CompileError(RuntimeError):
    """IREE rejected the module; the message holds its diagnostics."""


# JAX's persistent-cache flags (irjax.config): a directory that wins over $IRJAX_CACHE_DIR, the
# switch, and the thresholds below which a compile is not written (irjax's default writes all)
cache_dir_override: str | None = None
disk_cache_enabled = True
min_compile_seconds = 0.0
min_entry_bytes = 0


def cache_dir() -> str:
    if cache_dir_override is not None:
        return cache_dir_override
    d = os.environ.get("IRJAX_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "irjax")
    return d


def _iree_version() -> str:
    try:
        return version("iree-base-compiler")
    except Exception:  # noqa: BLE001
        return "unknown"


_VERSION = None
# How modules are compiled, where that can change what an entry holds: entries written while
# worker compiles skipped all verification (which let an IREE pass's invalid IR through) are
# not reused (compile_worker.VERIFIED_THROUGH)
_PIPELINE = "verified-through-" + compile_worker.VERIFIED_THROUGH


def cache_key(text: str, target: str, flags: list[str]) -> str:
    """The compile cache's key: IREE's version, how irjax runs its pipeline, the target and flags,
    the text and, for code built for `host`, which CPU that was (host_cpu.fingerprint: a cache
    shared between machines must not run one CPU's instructions on another)."""
    global _VERSION
    if _VERSION is None:
        _VERSION = _iree_version()
    cpu = host_cpu.fingerprint() if target == "llvm-cpu" and _last_flag(flags, _CPU_FLAG) == "host" else ""
    h = hashlib.sha256()
    for part in (_VERSION, _PIPELINE, target, "\0".join(flags), cpu, text):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


def _read_entry(path: str, key: str) -> bytes | None:
    """The payload of the entry at `path` if it is whole and was written for `key`, else None."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    head = len(_MAGIC) + 128
    if not data.startswith(_MAGIC) or len(data) < head:
        return None
    stored_key = data[len(_MAGIC) : len(_MAGIC) + 64].decode("ascii", "replace")
    digest = data[len(_MAGIC) + 64 : head].decode("ascii", "replace")
    payload = data[head:]
    if stored_key != key:
        return None  # another key's entry copied or renamed here: never run the wrong program
    if hashlib.sha256(payload).hexdigest() != digest:
        return None  # corrupt: recompile
    return payload


def _drop_entry(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _write_entry(path: str, key: str, payload: bytes) -> None:
    d = os.path.dirname(path)
    tmp = None
    try:
        os.makedirs(d, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-")
        with os.fdopen(fd, "wb") as f:
            f.write(_MAGIC + key.encode() + hashlib.sha256(payload).hexdigest().encode() + payload)
        os.replace(tmp, path)  # atomic: readers see the old entry or the whole new one
    except OSError:
        # a read-only or full disk only costs a recompile next time; leave no partial file
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


# IREE demotes f64 to f32 by default (i64 it keeps): a module that holds f64 (x64 mode) keeps them.
# Only such modules get the flag, so x64-off modules and their cache keys are unchanged.
NO_F64_DEMOTION = "--iree-input-demote-f64-to-f32=false"
# IREE 3.13 fuses a value with several users into its producer's dispatch as one more result; a
# long scalar computation's gradient became one dispatch with 38 results read by the next (40
# buffer bindings; the runtime refuses more than 32 at a call, 64 at load). Scalar-only modules
# (every value 0-d: nothing to save in memory traffic) compile without it, and a module the
# runtime refuses for its bindings is compiled again with it (frontend/dispatch.py).
NO_MULTI_USE_FUSION = "--iree-dispatch-creation-fuse-multi-use=false"
DATA_TILING = "--iree-opt-data-tiling"

# Every decision below reads the parsed module (passes/module_facts.py), never its printed text.


def wants_data_tiling(text: str) -> bool:
    """Data tiling pays off for modules with big matmuls only. Measured here (2 cores): a 1024^2
    f32 matmul 1.75x faster, the MLP 784-512-512-10 value_and_grad step 4.4 -> 3.5 ms; but a
    10000x10 matvec 14x slower, skinny matmuls 1.7-1.9x slower (32x36864 @ 36864x10 0.51 ->
    0.86 ms, its two gradients 0.94 -> 1.76 ms, 40 128x512 @ 512x10 1.64 -> 2.14 ms), and it breaks some
    reduce+broadcast fusions in IREE 3.13 (a failed compile retries without it). On at >= 20
    MFLOP of dot_generals whose M, N and K are all >= 16 (module_facts.TILEABLE_MIN), except
    small f32 matmuls on AMD CPUs with AVX-512 (untiled_below, below)."""
    f = facts_of_text(text)
    if f.tileable_dot_flops < 2e7:
        return False
    return not (host_cpu.host_cpu().amd_avx512 and untiled_below(f))


# f32 matmuls below inner_tiled's size (1 GFLOP) on AMD CPUs with AVX-512 (Zen 4, LLVM `znver4`):
# IREE's code without data tiling ran faster there, except for long contractions. Measured on
# a 2-core EPYC (iree-benchmark-module, local-task, 3 rounds each, `tanh(x @ w + b)`, ms,
# untiled / early data tiling): 256^3 0.41 / 0.46, 512^3 1.56 / 1.92, 32x1024x1024 0.80 / 0.90,
# 1024x256x64 0.40 / 0.48, 128x1024x512 0.98 / 1.16, 768^3 4.88 / 4.82; but K = 2048 and 4096
# (128xKx512) 2.78 / 1.72 and 4.33 / 3.88. The MLP 784-512-512-10 value_and_grad step in irjax,
# fresh processes alternating: 2.74-2.79 ms untiled against 3.26-3.61 ms tiled (CPU 4.7 vs 5.4
# ms a step), 22 executables instead of 38, first call equal. Other CPUs keep data tiling from
# 20 MFLOP on, as measured on Intel ones earlier (results.md).
UNTILED_MAX_K = 1024  # the longest contraction that still ran faster untiled


def untiled_below(facts) -> bool:
    """Whether a module's matmuls are f32, under inner_tiled's size and no longer than
    UNTILED_MAX_K in K: the ones that ran faster without data tiling on AMD AVX-512 CPUs.
    A module with batched dot_generals (which never take inner_tiled) counts per matmul: each
    under 1 GFLOP per batch element (jit einsum bij,bjk->bik, untiled / tiled: 64x128^3 2.50 /
    3.27 ms, 16x256^3 3.87 / 3.98, 8x512^3 10.8-11.3 / 12.0-12.2, 8x768^3 34.7 / 39.8; but
    4x1024^3 59-62 / 45 ms)."""
    if facts.dot_types != {"f32"} or facts.max_tileable_k > UNTILED_MAX_K:
        return False
    if facts.batched_dots:
        return facts.max_tileable_mnk < INNER_TILED_MIN_FLOPS
    return facts.tileable_dot_flops < INNER_TILED_MIN_FLOPS


# Channels-first (NCHW, lax.conv's default) f32 convolutions as im2col + matmul: IREE's direct
# NCHW convolution is slow on the CPU. Measured here (2 cores, quiet; direct / im2col, JAX):
# NCHW 8x64x32x32 3x3 SAME forward 208 / 15.1 ms (JAX 14.8); a small CNN's value_and_grad step
# (32x28x28, 3x3 convs to 32 and 64 features, dense to 10) in NCHW 156 / 97 ms (JAX ~58-70), but
# in NHWC 52 / 93 ms: channels-last modules stay direct (their forward convs gain less: NHWC
# 8x32x32x64 13.8 / 10.3 ms). Results bit-identical. f32 only: IREE 3.13's im2col fails to
# compile an i16 x i16 -> i32 convolution ('arith.addi' op requires the same type). Since irjax's
# own CPU lowering runs ungrouped convolutions channels-last (dialects/convolution.channels_last,
# faster again: the NCHW CNN step 66 -> 31 ms), this applies to grouped channels-first ones and
# to StableHLO from elsewhere.
IM2COL = "--iree-global-opt-use-im2col-for-convs"

# Data-tiled f32/f64 matmuls: IREE's generated mmt4d code instead of its mmt4d ukernel. Measured
# here (2 cores, quiet, A/B in one process): the MLP 784-512-512-10 value_and_grad step 4.47 ->
# 3.82 ms median (lower in 11 of 15 rounds), 2048^2 f32 128 -> 123 ms, 16x256^3 bmm, 4096^2
# matvec, f64 1024^2 equal within noise, and every such compile 25-35% less CPU (MLP 2.72 ->
# 2.04 s). bf16 and i8 keep the ukernels: without them 1024^2 ran 2.3x and 3.5x slower.
NO_UKERNELS = "--iree-llvmcpu-enable-ukernels=none"
_CODEGEN_MMT4D_TYPES = frozenset({"f32", "f64"})

# IREE 3.13's inner_tiled lowering of data-tiled matmuls: its mmt4d loops keep the K panels in
# cache where the default lowering streams a whole K per 16x16 tile. Same sums in the same order
# (results bit-identical in every case tried). Measured on this CPU (emeraldrapids, 2 cores):
# f32 2048^2 94-144 -> 64-102 ms in irjax (JAX 79-126: 0.81-0.98x of JAX instead of 1.14-1.49x),
# 1024^2 14.0-15.9 -> 8.8-11.5 ms; f64, whose default lowering is far slower, 2048^2 1425-1479 ->
# 191-193 ms (JAX 181), 512^2 14.1 -> 5.4 ms, the MLP 784-512-512-10 step in f64 21.3-22.1 -> 8.4
# ms. It costs compile time (+0.2-0.3 s CPU for one f32 matmul) and gains nothing on small f32
# matmuls (the f32 MLP step, one thread: equal), so f32 modules need >= 1 GFLOP of tileable dots;
# f64 ones get it with data tiling. 3.13 cannot lower every encoded dispatch that way: with the
# default (late) data tiling, a matmul fused with an elementwise op that broadcasts an array
# (x @ w + b) or with a column sum fails to compile ("failed to legalize operation
# 'linalg.generic'"). Such modules (module_facts.dot_epilogues) use the early data-tiling path
# (`--iree-global-opt-data-tiling`), where the bias add compiles (f32 2048^2 x @ w + b 86-111 ->
# 66-69 ms; the f32 MLP's compile CPU 1.9-2.4 -> 2.9-3.3 s, one reason for the f32 threshold).
# Batched dot_generals fail either way and go without inner_tiled. A compile that still fails retries
# without these flags, then without data tiling.
#
# Below inner_tiled's size data-tiled modules take the early path too: IREE 3.13's late path
# fails on a weight gradient fused with an optimizer update that returns two arrays (momentum's
# v and the parameter: "large vector sizes"), which every jitted training step of JAX's example
# programs holds, so each such compile failed and ran again without data tiling (mnist_vae
# 37.6 -> 29.9 s cold, differentially_private_sgd 35.0 -> 27.8 s, mnist_classifier 13.8 ->
# 12.4 s; no failed compile left in them). The MLP value_and_grad step, alternating fresh
# processes: 3.77-4.40 ms early against 4.19-5.13 ms late, first call equal (2.6-2.9 s). An early
# failure retries late, then without data tiling.
INNER_TILED = "--iree-llvmcpu-enable-inner-tiled"
INNER_TILED_MIN_FLOPS = 1e9  # tileable dot_general FLOPs of an f32 module that takes it
EARLY_DATA_TILING = "--iree-global-opt-data-tiling"

# Without it IREE's CPU code adds a reduction's floats strictly in order, one scalar chain: a
# 1M-float sum ran 875 us (JAX 91 us), np.dot of two 1M vectors 970 us, a 2048 matvec 728 us.
# Reassociated, the sum runs in vector lanes: 64, 111 and 431 us (2 cores, jit, medians), and the
# result is closer to the exact sum (1M normal floats: error 8.1e-3 -> 2.2e-3; XLA reassociates
# large reductions too). Modules whose reductions are all short keep the in-order sums, which is
# what XLA gives there as well (the seed tutorial's finite differences of a 3-element sum differed
# from JAX's by 6e-4 when reassociated). Max/min reductions are exact in any order.
REASSOCIATE = "--iree-llvmcpu-reassociate-fp-reductions"
REASSOCIATE_MIN = 128  # elements summed into one output, in some reduce or dot_general of the module


def inner_tiled_flags(text: str) -> list[str] | None:
    """The data-tiling flags that lower a data-tiled module's matmuls inner_tiled (see above), or
    None where the default lowering stays."""
    f = facts_of_text(text)
    if f.batched_dots or not f.dot_types or not f.dot_types <= _CODEGEN_MMT4D_TYPES:
        return None
    if "f64" not in f.dot_types and f.tileable_dot_flops < INNER_TILED_MIN_FLOPS:
        return None
    return [EARLY_DATA_TILING if f.dot_epilogues else DATA_TILING, INNER_TILED]


def matmul_heavy(text: str) -> bool:
    """>= 20 MFLOP of dot_general and convolution: worth running on the CPU's multi-threaded
    local-task driver, which pays back its ~100 us wake-up there (measured: 128x784x512 f32
    931 -> 582 us on 2 cores)."""
    f = facts_of_text(text)
    return f.dot_flops + f.conv_flops >= 2e7


# Transcendental elements from which a module runs on the multi-threaded driver (2 cores,
# median us a call, local-sync / local-task): exp of 2^18 floats 97 / 99-125, 2^19 183-222 / 132,
# 2^20 356 / 200-225; tanh 2^19 181 / 123, 2^20 356 / 231-235; log(sum(exp(x))) 2^20 260 /
# 214-242; sin of 2^20 (two transcendental ops an element) 3.6-3.7 ms / 1.6 ms. Below, the
# driver's ~50-90 us of wake-up costs more than the second core gives back.
TRANSCENDENTAL_PARALLEL_MIN = 1 << 19
# Bytes of results from which a module runs there too. local-sync allocates each result afresh
# from the C heap, and from 32 MiB (glibc's largest mmap threshold) every call maps new pages and
# faults on each of them (64 MiB: 16385 minor faults, 30 ms of system time a call); local-task's
# queue-ordered allocations reuse their memory, and two cores write. Median us, f32 x * 2 + 1,
# local-sync / local-task: 2^20 elements 146-148 / 158-166, 2^21 368-386 / 182-218, 2^22
# 1180-1348 / 581-666, 2^24 36.7-39.2 ms / 4.1-5.2 ms (JAX 25 ms); a 2^21 transpose 805-933 /
# 415-550.
RESULT_BYTES_PARALLEL_MIN = 8 << 20
# Sums of big inputs go there too: a reduce of >= 2^23 elements, or of >= 2^21 into >= 2^14
# results (the first stage of a wide column sum). Median ms, local-sync / local-task: x.sum(0)
# 2048x1024 0.355 / 0.245-0.265, 4096x1024 1.0-1.1 / 0.75-0.81, 1024x4096 1.67-2.0 / 1.09-1.14,
# 16384x1024 7.3 / 4.7; a full sum of 2^23 0.82-0.92 / 0.66-0.75, but of 2^21 0.107 / 0.136-0.185
# and of 2^22 0.27-0.30 / 0.22-0.33, row sums of 2048x1024 0.106 / 0.145-0.168 (so not those).
REDUCE_PARALLEL_MIN = 1 << 23
WIDE_REDUCE_PARALLEL_MIN = (1 << 21, 1 << 14)
# Not a reduce over leading axes into >= 2^14 results: the slab stages of a wide column sum
# (dialects/hlo.py _slab_factors, _leading_in_stages) ran no faster there (median us, local-sync / local-task:
# x.sum(0) 4096x1024 476-679 / 539-749, x.max(0) 447-543 / 456-942, 16384x1024 3621-4653 /
# 3762-4001, 1024x4096 461-626 / 500-684), and a single thread leaves the other core free.


def _parallel_reduce(n: int, m: int, leading: bool) -> bool:
    """Whether a reduce of n elements into m results (over leading axes only, or not) asks for local-task."""
    if leading and m >= WIDE_REDUCE_PARALLEL_MIN[1]:
        return False
    return n >= REDUCE_PARALLEL_MIN or (n >= WIDE_REDUCE_PARALLEL_MIN[0] and m >= WIDE_REDUCE_PARALLEL_MIN[1])


def multithreaded(text: str) -> bool:
    """Whether a CPU module runs on the multi-threaded local-task driver: matmul-heavy (above),
    >= TRANSCENDENTAL_PARALLEL_MIN elements of transcendental math (exp, tanh, sine, ...), or
    >= RESULT_BYTES_PARALLEL_MIN bytes of results, or a big sum (REDUCE_PARALLEL_MIN)."""
    f = facts_of_text(text)
    return (
        matmul_heavy(text)
        or f.transcendental_elements >= TRANSCENDENTAL_PARALLEL_MIN
        or f.result_bytes >= RESULT_BYTES_PARALLEL_MIN
        or any(_parallel_reduce(*r) for r in f.reduces)
    )


def parallel_from_elements(text: str) -> int:
    """For a shape-generic module (dims known at the call): the elements of its largest input from
    which a call holds TRANSCENDENTAL_PARALLEL_MIN transcendental elements, counting an input
    element per op of the inputs' rank (exp(x), not the log of a sum), or its results (taken the
    largest input's size) RESULT_BYTES_PARALLEL_MIN bytes; 0 for a static-shaped module (which
    multithreaded() decides once) or one without either."""
    f = facts_of_text(text)
    if not f.entry_dynamic:
        return 0
    by_math = -(-TRANSCENDENTAL_PARALLEL_MIN // f.transcendental_full_rank_ops) if f.transcendental_full_rank_ops else 0
    by_bytes = -(-RESULT_BYTES_PARALLEL_MIN // f.result_itemsizes) if f.result_itemsizes else 0
    return min(n for n in (by_math, by_bytes) if n) if by_math or by_bytes else 0


# StableHLO ops whose result IREE ties to an operand's buffer (it writes in place)
_TIED_OPS = ("stablehlo.scatter", "stablehlo.dynamic_update_slice", "stablehlo.sort")


def needs_input_copies(text: str) -> bool:
    """IREE may write in place into an input buffer that feeds one of these ops, even when the
    input is also live elsewhere (iree-org/iree#16168): such modules get private input copies."""
    return facts_of_text(text).count(*_TIED_OPS) > 0


def matmul_flops(text: str) -> float:
    """FLOPs of the module's static-shaped dot_generals: 2 * |result| * |contracted dims|."""
    return facts_of_text(text).dot_flops


def has_f64(text: str) -> bool:
    """A float64 value anywhere in the module (IREE would demote it to float32)."""
    return facts_of_text(text).has_f64


@dataclass(frozen=True)
class CompileJob:
    """A compile with every decision taken: what IREE gets (`source`: the text with binding
    barriers), its flags and cache key. Running it reads no IR, so any thread may run it."""

    text: str = field(repr=False)
    target: str
    flags: tuple
    key: str
    source: str = field(repr=False)
    log: tuple = field(default=("@?", ""), repr=False)  # (entry, op count): IRJAX_LOG_COMPILES, crash reports


def compile_job(text: str, target: str = "llvm-cpu", extra_flags: list[str] | None = None) -> CompileJob:
    """Decide how to compile a StableHLO module. This parses it in the shared MLIR context
    (module_facts): call it where the IR lock is held (jit's trace and compile paths are)."""
    flags = target_flags(target) + list(extra_flags or [])
    if target != "llvm-cpu":
        # lazy: passes load iree.compiler's MLIR bindings, absent where only the runtime is installed
        from irjax.passes.target_fixups import for_target  # (IREE bugs of one target)

        text = for_target(text, target)
    if NO_F64_DEMOTION not in flags and has_f64(text):
        flags.append(NO_F64_DEMOTION)
    facts = facts_of_text(text)
    if facts.parsed and facts.max_result_rank == 0 and NO_MULTI_USE_FUSION not in flags:
        flags.append(NO_MULTI_USE_FUSION)  # (every target: Vulkan's limit is 32 storage buffers too)
    if target == "llvm-cpu":
        check_target_cpu(flags)  # LLVM aborts the process on an unknown CPU name
        if IM2COL not in flags and facts.conv_types == {"f32"} and facts.conv_channels_first:
            flags.append(IM2COL)
        if facts.max_reduction >= REASSOCIATE_MIN and REASSOCIATE not in flags:
            flags.append(REASSOCIATE)
        if DATA_TILING not in flags and EARLY_DATA_TILING not in flags and wants_data_tiling(text):
            inner = inner_tiled_flags(text) if INNER_TILED not in flags else None
            flags += inner or [EARLY_DATA_TILING]
            if facts.dot_types <= _CODEGEN_MMT4D_TYPES:
                flags.append(NO_UKERNELS)
    # lazy: passes load iree.compiler's MLIR bindings, absent where only the runtime is installed
    from irjax.passes.limit_bindings import limit_text, may_exceed  # (IREE's runtime refuses > 32 bindings)

    source = limit_text(text) if may_exceed(text) else text
    log = _what(text)  # (facts already read above: cached)
    return CompileJob(text, target, tuple(flags), cache_key(text, target, flags), source, log)


def compile_stablehlo(
    text: str, target: str = "llvm-cpu", extra_flags: list[str] | None = None, fresh: bool = False
) -> bytes:
    """The .vmfb for a StableHLO module (cached). fresh=True skips both caches (used when a
    cached entry failed to load) and overwrites the disk entry."""
    return run_job(compile_job(text, target, extra_flags), fresh)


def cached(job: CompileJob, disk: bool = False) -> bytes | None:
    """The job's .vmfb if the memory cache (or with disk=True, the disk cache) holds it, else
    None; never compiles, never waits for a compile running in another thread."""
    with _lock:
        hit = _mem.get(job.key)
    if hit is None and disk and _use_disk():
        hit = _read_entry(_entry_path(job.key), job.key)
    return hit


def _use_disk() -> bool:
    return disk_cache_enabled and os.environ.get("IRJAX_DISABLE_CACHE", "") not in ("1", "true")


def _entry_path(key: str) -> str:
    return os.path.join(cache_dir(), key[:2], key + ".vmfb")


def run_job(job: CompileJob, fresh: bool = False) -> bytes:
    """The .vmfb of a prepared compile: memory cache, disk cache, else IREE. Thread-safe; compiles
    of different modules run in parallel (IREE releases the GIL), each in its own session."""
    key, flags = job.key, list(job.flags)
    if not fresh:
        hit = cached(job)
        if hit is not None:
            with _lock:
                stats["memory_hits"] += 1
            return hit
    use_disk = _use_disk()
    path = _entry_path(key)
    payload = _read_entry(path, key) if use_disk and not fresh else None
    if payload is not None:
        with _lock:
            stats["disk_hits"] += 1
    else:
        if use_disk and not fresh and os.path.exists(path):
            _drop_entry(path)  # corrupt or not this key's: recompile below
        t0 = time.perf_counter()
        payload = _compile(job.source, job.target, flags, " ".join(job.log))
        seconds = time.perf_counter() - t0
        with _lock:
            stats["compiles"] += 1
            stats["compile_s"] += seconds
        if _LOG_COMPILES:
            _log_compile(job.log, job.target, seconds)
        if use_disk and seconds >= min_compile_seconds and len(payload) >= min_entry_bytes:
            _write_entry(path, key, payload)
    with _lock:
        _mem[key] = payload
    return payload


# ---- checks before IREE runs in this process: LLVM calls exit()/abort() on these -----------------

_ALWAYS_KNOWN_CPUS = ("host", "generic")
_cpu_lists: dict = {}
_CPU_FLAG = "--iree-llvmcpu-target-cpu="
_TRIPLE_FLAG = "--iree-llvmcpu-target-triple="


def known_cpus(triple: str | None = None) -> list[str] | None:
    """The CPU names LLVM accepts for `triple` (default: this machine), as iree-compile lists
    them for `--iree-llvmcpu-target-cpu=help`; None if the tool cannot be asked."""
    if triple in _cpu_lists:
        return _cpu_lists[triple]
    names = None
    try:
        from iree.compiler.tools.binaries import find_tool  # lazy: optional where only the runtime is installed

        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, "probe.mlir")
            with open(src, "w") as f:
                f.write("func.func @f(%a: tensor<1xf32>) -> tensor<1xf32> { return %a : tensor<1xf32> }\n")
            cmd = [
                find_tool("iree-compile"),
                "--iree-hal-target-backends=llvm-cpu",
                _CPU_FLAG + "help",
                src,
                "-o",
                os.devnull,
            ]
            if triple:
                cmd.insert(2, _TRIPLE_FLAG + triple)
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        text = out.stdout + out.stderr
        m = re.search(r"List of accepted CPUs:([^\n]*)", text)  # (a tool's message: text, not IR)
        if m:
            names = [n.strip() for n in m.group(1).split(",") if n.strip()]
            # (only these: "Available CPUs" also lists 32-bit ones, which abort LLVM on x86-64)
    except Exception:  # noqa: BLE001  (no tool, timeout: the caller compiles out of process)
        names = None
    _cpu_lists[triple] = names
    return names


def _last_flag(flags: list[str], prefix: str) -> str | None:
    vals = [f[len(prefix) :] for f in flags if f.startswith(prefix)]
    return vals[-1] if vals else None  # IREE takes the last of a repeated flag


def check_target_cpu(flags: list[str], source: str | None = None) -> None:
    """ValueError naming the valid choices if the flags name a CPU that LLVM does not know."""
    cpu = _last_flag(flags, _CPU_FLAG)
    if cpu is None or cpu in _ALWAYS_KNOWN_CPUS:
        return
    triple = _last_flag(flags, _TRIPLE_FLAG)
    names = known_cpus(triple)
    if names is not None and cpu not in names:
        src = source or ("$IRJAX_CPU" if os.environ.get("IRJAX_CPU") == cpu else "target CPU")
        raise ValueError(
            f"unknown {src} {cpu!r} for {triple or 'this machine'}; expected 'host', 'generic' or one of: {', '.join(names)}"
        )


def llvm_temp_dir() -> str:
    """The directory LLVM writes its temporary object files to (its lookup order)."""
    for var in ("TMPDIR", "TMP", "TEMP", "TEMPDIR"):
        v = os.environ.get(var)
        if v:
            return v
    return "/tmp"


_PROBE_BYTES = 1 << 20  # an object file of a large module is ~1 MiB; LLVM crashes if its write fails


def check_temp_dir() -> None:
    """CompileError unless LLVM's temporary directory exists and can take a 1 MiB file."""
    d = llvm_temp_dir()
    var = next((v for v in ("TMPDIR", "TMP", "TEMP", "TEMPDIR") if os.environ.get(v)), None)
    where = f"{d!r} (from ${var})" if var else repr(d)
    try:
        with tempfile.TemporaryFile(dir=d, prefix=".irjax-probe-") as f:
            f.write(b"\0" * _PROBE_BYTES)
            f.flush()
    except OSError as e:
        raise CompileError(
            f"cannot compile: the temporary directory {where} cannot take IREE's temporary files "
            f"({e.strerror or e}); point TMPDIR at a writable directory with free space"
        ) from None


_sessions: dict = {}  # (target, flags) -> idle Sessions of this process: one compile at a time in each


def use_worker() -> bool:
    """Compile llvm-cpu modules in a worker process ($IRJAX_COMPILE_WORKER, default on), where an
    LLVM crash is a CompileError; =0 compiles in this process (a crash there ends it)."""
    return os.environ.get("IRJAX_COMPILE_WORKER", "1").strip().lower() not in ("0", "false", "no", "off")


def compile_timeout() -> float | None:
    """$IRJAX_COMPILE_TIMEOUT: seconds a worker compile may take before it is stopped (default: no limit)."""
    env = os.environ.get("IRJAX_COMPILE_TIMEOUT", "").strip()
    if not env:
        return None
    try:
        seconds = float(env)
    except ValueError:
        seconds = -1.0
    if not seconds > 0:
        raise ValueError(f"IRJAX_COMPILE_TIMEOUT must be a positive number of seconds, got {env!r}")
    return seconds


def _compile(text: str, target: str, flags: list[str], entry: str = "@?") -> bytes:
    """Compile through IREE's embedding API (a reused Session: ~1.5x faster than spawning
    iree-compile), in a worker process unless $IRJAX_COMPILE_WORKER=0; on failure, rerun the
    tool to get its diagnostics."""
    if target != "llvm-cpu":
        # GPU code generators can crash IREE itself (vulkan-spirv on some sort fusions in
        # 3.13): in a subprocess that is a CompileError, not a dead Python process
        return _compile_tool(text, target, flags)
    check_temp_dir()
    if (
        _last_flag(flags, _CPU_FLAG) not in (None, *_ALWAYS_KNOWN_CPUS)
        and known_cpus(_last_flag(flags, _TRIPLE_FLAG)) is None
    ):
        return _compile_tool(text, target, flags)  # an unchecked CPU name may abort LLVM: out of process
    if use_worker():
        # unverified unless asked: a crash there is rerun verified (_compile_in_worker)
        verify = compile_worker.verify_by_default()
        compile_once = functools.partial(_compile_in_worker, what=f"{entry} for {target}", verify=verify)
    else:
        compile_once = _compile_in_process  # verified: here a crash cannot be rerun
    try:
        return compile_once(text, target, flags)
    except _InProcessFailed:
        pass
    if INNER_TILED in flags or EARLY_DATA_TILING in flags:
        # a dispatch IREE 3.13's inner_tiled lowering or its early data tiling does not take:
        # late data tiling next
        flags = [f for f in flags if f not in (INNER_TILED, EARLY_DATA_TILING)]
        if DATA_TILING not in flags:
            flags.append(DATA_TILING)
        try:
            return compile_once(text, target, flags)
        except _InProcessFailed:
            pass
    if DATA_TILING in flags:
        # IREE 3.13's data tiling fails on some reduce + broadcast fusions ("'vector.store' op
        # write affecting operations on global resources ..."), e.g. jacfwd of a row-sum: retry without
        try:
            return compile_once(text, target, [f for f in flags if f != DATA_TILING])
        except _InProcessFailed:
            pass
    return _compile_tool(text, target, flags)


def _compile_tool(text: str, target: str, flags: list[str]) -> bytes:
    import iree.compiler as ic  # lazy: the compiler is needed on a cache miss only (runtime-only installs)

    try:
        return ic.compile_str(text, target_backends=[target], input_type="stablehlo", extra_args=flags)
    except ic.CompilerToolError as e:
        raise CompileError(f"IREE failed to compile the module for {target}:\n{e}") from None


class _InProcessFailed(Exception):
    """IREE's embedding API rejected the module (in this process or a worker): rerun the tool."""


def _compile_in_worker(text: str, target: str, flags: list[str], what: str, verify: bool = True) -> bytes:
    try:
        status, value = compile_worker.pool().compile(
            text.encode(), target, tuple(flags), compile_timeout(), what, verify
        )
    except compile_worker.WorkerDied as e:
        if verify or not isinstance(e, compile_worker.Crashed):
            raise CompileError(str(e)) from None
        # an IREE pass may have made IR its verifier would have refused, and a later pass crashed
        # on it: verified, that is a rejection (the caller's next flags) or the same crash
        return _compile_in_worker(text, target, flags, what, verify=True)
    if status != "ok":
        raise _InProcessFailed(value)
    return value


def _compile_in_process(text: str, target: str, flags: list[str]) -> bytes:
    key = (target, tuple(flags))
    with _lock:  # held only to take an idle session: compiles in other threads go on meanwhile
        idle = _sessions.setdefault(key, [])
        session = idle.pop() if idle else None
    try:
        if session is None:
            session = compile_worker.new_session(target, tuple(flags))
        vmfb = compile_worker.iree_compile(session, text.encode())
    except ValueError as e:  # a flag IREE refuses: the tool says which
        raise _InProcessFailed(str(e)) from None
    finally:
        if session is not None:
            with _lock:
                _sessions[key].append(session)
    if vmfb is None:
        raise _InProcessFailed()
    return vmfb


def forget_memory_cache() -> None:
    with _lock:
        _mem.clear()

"""The CPU this process runs on, as the CPU compile decisions and the compile cache see it.

`--iree-llvmcpu-target-cpu=host` compiles for this machine's CPU: LLVM picks the instruction set
extensions it finds. Two consequences live here:

- the compile cache key of a host-targeted module names the CPU (`fingerprint`), so a cache
  directory shared between machines (a network home directory, a copied ~/.cache) never hands
  one machine code built for another's extensions (an AVX-512 executable on an AVX2 CPU dies of
  SIGILL);
- the few compile decisions that measured differently on different CPUs read `host_cpu()`.

On Linux both come from /proc/cpuinfo (the first processor's vendor, model name and feature
flags); elsewhere from the platform module, which names less but is stable per machine.
"""

from __future__ import annotations

import functools
import hashlib
import platform
from dataclasses import dataclass

CPUINFO = "/proc/cpuinfo"


@dataclass(frozen=True)
class HostCPU:
    vendor: str  # e.g. "GenuineIntel", "AuthenticAMD"; "" where unknown
    model: str  # e.g. "AMD EPYC 9R14"
    features: frozenset  # /proc/cpuinfo flags, e.g. {"avx2", "avx512f", ...}; empty where unknown
    machine: str  # platform.machine(): "x86_64", "aarch64", ...

    @property
    def amd_avx512(self) -> bool:
        """An AMD CPU with AVX-512 (Zen 4 and later), where LLVM's 512-bit code runs as 256-bit halves."""
        return self.vendor == "AuthenticAMD" and "avx512f" in self.features


def parse_cpuinfo(text: str, machine: str = "") -> HostCPU:
    """HostCPU from /proc/cpuinfo's text: its first processor's fields (x86 and Arm spellings)."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            if fields:
                break  # the end of the first processor's block
            continue
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip().lower(), value.strip())
    vendor = fields.get("vendor_id") or fields.get("cpu implementer", "")
    model = fields.get("model name") or fields.get("cpu part", "")
    features = frozenset((fields.get("flags") or fields.get("features", "")).split())
    return HostCPU(vendor, model, features, machine)


@functools.lru_cache(maxsize=1)
def host_cpu() -> HostCPU:
    """This machine's CPU (read once per process)."""
    machine = platform.machine()
    try:
        with open(CPUINFO, encoding="utf-8", errors="replace") as f:
            return parse_cpuinfo(f.read(), machine)
    except OSError:
        return HostCPU("", platform.processor(), frozenset(), machine)


def fingerprint(cpu: HostCPU | None = None) -> str:
    """A short stable digest of the CPU's vendor, model and features, for cache keys."""
    cpu = cpu or host_cpu()
    text = "\0".join((cpu.machine, cpu.vendor, cpu.model, " ".join(sorted(cpu.features))))
    return hashlib.sha256(text.encode()).hexdigest()[:16]

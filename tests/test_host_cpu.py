"""The host CPU as compile decisions and the compile cache see it (runtime/host_cpu.py): read from
/proc/cpuinfo, and part of the cache key of every module compiled for `host`."""

from __future__ import annotations

from irjax.runtime import compiler, host_cpu

AMD = """processor\t: 0
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 9R14
flags\t\t: fpu sse2 avx2 avx512f avx512bw

processor\t: 1
vendor_id\t: AuthenticAMD
model name\t: AMD EPYC 9R14
flags\t\t: fpu sse2 avx2 avx512f avx512bw avx512_other_core
"""

ARM = """processor\t: 0
BogoMIPS\t: 50.00
Features\t: fp asimd evtstrm aes sve
CPU implementer\t: 0x41
CPU part\t: 0xd40
"""


def test_parse_reads_the_first_processor():
    cpu = host_cpu.parse_cpuinfo(AMD, "x86_64")
    assert (cpu.vendor, cpu.model) == ("AuthenticAMD", "AMD EPYC 9R14")
    assert cpu.features == {"fpu", "sse2", "avx2", "avx512f", "avx512bw"}  # the second block is not read
    assert cpu.amd_avx512
    arm = host_cpu.parse_cpuinfo(ARM, "aarch64")
    assert (arm.vendor, arm.model, "sve" in arm.features) == ("0x41", "0xd40", True)
    assert not arm.amd_avx512
    empty = host_cpu.parse_cpuinfo("", "x86_64")
    assert (empty.vendor, empty.features) == ("", frozenset())


def test_this_machine_is_read():
    cpu = host_cpu.host_cpu()
    assert cpu is host_cpu.host_cpu()  # read once
    assert len(host_cpu.fingerprint()) == 16


def test_fingerprint_follows_the_features():
    a = host_cpu.parse_cpuinfo(AMD, "x86_64")
    avx2_only = host_cpu.HostCPU(a.vendor, a.model, frozenset({"fpu", "sse2", "avx2"}), a.machine)
    assert host_cpu.fingerprint(a) == host_cpu.fingerprint(host_cpu.parse_cpuinfo(AMD, "x86_64"))
    assert host_cpu.fingerprint(a) != host_cpu.fingerprint(avx2_only)


def test_host_code_is_cached_per_cpu(monkeypatch):
    """A cache directory shared by two machines never hands one the other's host-CPU code; code
    for a named CPU is the same on both."""
    text = "func.func @main(%a: tensor<3xf32>) -> tensor<3xf32> { return %a : tensor<3xf32> }"
    host = ["--iree-llvmcpu-target-cpu=host"]
    named = ["--iree-llvmcpu-target-cpu=znver4"]
    keys = []
    for features in ({"avx2"}, {"avx2", "avx512f"}):
        cpu = host_cpu.HostCPU("AuthenticAMD", "AMD EPYC", frozenset(features), "x86_64")
        monkeypatch.setattr(host_cpu, "host_cpu", lambda cpu=cpu: cpu)
        keys.append((compiler.cache_key(text, "llvm-cpu", host), compiler.cache_key(text, "llvm-cpu", named)))
    assert keys[0][0] != keys[1][0]
    assert keys[0][1] == keys[1][1]
    assert compiler.cache_key(text, "vulkan-spirv", []) == compiler.cache_key(text, "vulkan-spirv", [])

"""Shared test helpers: where ../shared is (the seed tutorial and the acceptance harness), and
several CPU devices for the sharding tests."""

import contextlib
import os
import re
import sys
from pathlib import Path

import pytest
from irjax.runtime import device as _rt

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO / ".." / "shared"


def _cuda_run(config) -> bool:
    """-m selects the cuda marker (e.g. `-m cuda`, not the default `not cuda`)."""
    return re.search(r"(?<!not )\bcuda\b", config.getoption("markexpr") or "") is not None


def pytest_configure(config):
    # `-m cuda` runs on CUDA unless IRJAX_PLATFORMS names a platform (vulkan: a dry run)
    if _cuda_run(config):
        os.environ.setdefault("IRJAX_PLATFORMS", "cuda")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """`-m cuda` also selects the portable suites and test_random.py (they then run on CUDA)."""
    if _cuda_run(config):
        for item in items:
            if item.get_closest_marker("portable") or item.path.name == "test_random.py":
                item.add_marker(pytest.mark.cuda)


def pytest_report_header(config):
    """Which backend the tests run on (IRJAX_PLATFORMS picks it; CI runs -m portable on Vulkan)."""
    import irjax

    return (
        f"irjax default backend: {irjax.default_backend()} (IRJAX_PLATFORMS={os.environ.get('IRJAX_PLATFORMS', '')!r})"
    )


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """../shared beside the repository; tests that need it skip (with the reason) when it is absent."""
    if not (SHARED / "acceptance" / "run_docs.py").is_file():
        pytest.skip(f"../shared is not beside the repository (looked for {SHARED.resolve()}/acceptance/run_docs.py)")
    return SHARED.resolve()


@pytest.fixture
def intel_host_cpu(monkeypatch):
    """Compile decisions as on an Intel AVX-512 CPU (runtime/host_cpu.py): tests of the
    data-tiling paths pin it so that every machine tests the same path (AMD AVX-512 CPUs compile
    small f32 matmuls untiled, compiler.untiled_below)."""
    from irjax.runtime import host_cpu

    cpu = host_cpu.HostCPU("GenuineIntel", "test CPU", frozenset({"avx2", "avx512f"}), "x86_64")
    monkeypatch.setattr(host_cpu, "host_cpu", lambda: cpu)
    return cpu


@pytest.fixture
def fresh_cache(tmp_path):
    """An empty compile cache directory for a child process (tests/robustness)."""
    d = tmp_path / "cache"
    d.mkdir()
    return {"IRJAX_CACHE_DIR": str(d)}


@contextlib.contextmanager
def num_cpu_devices(n: int):
    """IRJAX_NUM_CPU_DEVICES=n for the block: irjax.devices('cpu') lists n devices; restored after."""
    old = os.environ.get("IRJAX_NUM_CPU_DEVICES")
    os.environ["IRJAX_NUM_CPU_DEVICES"] = str(n)
    _rt._reset_for_tests()
    try:
        yield _rt.backend_devices("cpu")
    finally:
        if old is None:
            os.environ.pop("IRJAX_NUM_CPU_DEVICES", None)
        else:
            os.environ["IRJAX_NUM_CPU_DEVICES"] = old
        _rt._reset_for_tests()


@pytest.fixture(scope="module")
def eight_cpu_devices() -> list:
    """8 CPU devices for the tests of one module (tests/test_sharding.py, test_shard_map_devices.py)."""
    with num_cpu_devices(8) as devs:
        assert len(devs) == 8
        yield devs


@pytest.fixture(scope="module", autouse=True)
def _drop_jax_caches_after_module():
    """JAX (the test oracle) keeps every compiled executable of the process: 2.5 of a worker's
    3.1 GB after the first 321 tests, past 4 GB after 1000, and its later calls slowed with it.
    Dropping them after each test module keeps a worker at ~1.8 GB (1017 tests in one process:
    444 -> 391 s, the last modules' tests about 2x faster); the oracle's compiles are rarely
    shared between modules. irjax's own caches held ~25 MB there (its compile cache is on disk)."""
    yield
    jax = sys.modules.get("jax")
    if jax is not None:
        jax.clear_caches()

"""irjax.config against jax.config: update/read/attribute access, absl hooks, and flags that
irjax cannot honour refused with a clear error instead of being ignored."""

import os
import subprocess
import sys

import irjax
import numpy as np
import pytest

jax = pytest.importorskip("jax")


def test_reads_match_jax_defaults():
    for name in (
        "jax_enable_x64",
        "jax_disable_jit",
        "jax_debug_nans",
        "jax_debug_infs",
        "jax_default_matmul_precision",
        "jax_numpy_rank_promotion",
        "jax_default_prng_impl",
    ):
        assert getattr(irjax.config, name) == getattr(jax.config, name), name
        assert irjax.config.read(name) == getattr(jax.config, name), name
    assert irjax.config.jax_enable_x64 is False
    from irjax.config import config

    assert config is irjax.config


def test_absl_hooks_are_callable_noops():
    assert irjax.config.config_with_absl() is None
    assert irjax.config.parse_flags_with_absl() is None


def test_unknown_names_raise_like_jax():
    for cfg in (jax.config, irjax.config):
        with pytest.raises(AttributeError, match="Unrecognized config option: jax_nope"):
            cfg.update("jax_nope", 1)
        with pytest.raises(AttributeError, match="Unrecognized config option: jax_nope"):
            cfg.read("jax_nope")
        with pytest.raises(AttributeError, match="jax_nope"):
            cfg.jax_nope  # noqa: B018


def test_disable_jit_flag_reads_back_and_restores():
    irjax.config.update("jax_disable_jit", True)
    try:
        assert irjax.config.read("jax_disable_jit") is True and irjax.config.jax_disable_jit is True
        with irjax.disable_jit(False):
            assert irjax.config.jax_disable_jit is False
        assert irjax.config.jax_disable_jit is True
    finally:
        irjax.config.update("jax_disable_jit", False)
    assert irjax.config.jax_disable_jit is False


def test_matmul_precision_and_validated_values():
    irjax.config.update("jax_default_matmul_precision", "highest")
    assert irjax.config.jax_default_matmul_precision == "highest"
    irjax.config.update("jax_default_matmul_precision", None)
    with pytest.raises(ValueError, match="jax_default_matmul_precision"):
        irjax.config.update("jax_default_matmul_precision", "ultra")
    irjax.config.update("jax_numpy_rank_promotion", "allow")
    with pytest.raises(NotImplementedError, match="rank_promotion='raise'"):
        irjax.config.update("jax_numpy_rank_promotion", "raise")
    with pytest.raises(NotImplementedError, match="threefry2x32"):
        irjax.config.update("jax_default_prng_impl", "rbg")


def test_default_device_flag():
    cpu = irjax.devices("cpu")[0]
    irjax.config.update("jax_default_device", cpu)
    try:
        assert irjax.config.jax_default_device is cpu
        assert irjax.numpy.ones(2).devices() == {cpu}
    finally:
        irjax.config.update("jax_default_device", None)


def _run(code):
    env = {k: v for k, v in os.environ.items() if k != "IRJAX_PLATFORMS"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env)


def test_platforms_before_and_after_first_computation():
    ok = _run(
        "import irjax, irjax.numpy as jnp\n"
        "irjax.config.update('jax_platforms', 'cpu')\n"
        "import os; print(os.environ['IRJAX_PLATFORMS'], irjax.config.jax_platforms, irjax.default_backend(),"
        " float(jnp.ones(2).sum()))"
    )
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.split() == ["cpu", "cpu", "cpu", "2.0"]
    late = _run(
        "import irjax, irjax.numpy as jnp\n"
        "float(jnp.ones(2).sum())\n"
        "irjax.config.update('jax_platforms', 'cpu')  # same as the chosen one? no: env was unset\n"
    )
    assert late.returncode != 0 and "must be set before the first computation" in late.stderr


def test_flags_user_code_sets_read_like_jax():
    for name in (
        "jax_compilation_cache_dir",
        "jax_enable_compilation_cache",
        "jax_persistent_cache_min_entry_size_bytes",
        "jax_num_cpu_devices",
        "jax_traceback_filtering",
        "jax_threefry_partitionable",
        "jax_random_seed_offset",
        "jax_enable_custom_prng",
        "jax_legacy_prng_key",
        "jax_numpy_dtype_promotion",
        "jax_transfer_guard",
    ):
        want = getattr(jax.config, name)
        assert irjax.config.read(name) == getattr(want, "value", want), name
    # irjax writes every compile to its cache; JAX skips those under a second
    assert irjax.config.jax_persistent_cache_min_compile_time_secs == 0.0


def test_persistent_cache_flags_steer_the_disk_cache(tmp_path):
    from irjax.runtime import compiler

    def entries(d):
        return sorted(p.name for p in d.rglob("*.vmfb"))

    def fresh_compile(c):  # a constant no other test compiles: a compile, not a cache hit
        return float(irjax.jit(lambda x: x * c)(np.float32(2.0)))

    on, off, slow = tmp_path / "on", tmp_path / "off", tmp_path / "slow"
    try:
        irjax.config.update("jax_compilation_cache_dir", str(on))
        assert compiler.cache_dir() == str(on)
        assert fresh_compile(1.234567) == np.float32(2.0) * np.float32(1.234567)
        assert len(entries(on)) == 1
        irjax.config.update("jax_compilation_cache_dir", off)
        irjax.config.update("jax_enable_compilation_cache", False)
        fresh_compile(2.345678)
        irjax.config.update("jax_enable_compilation_cache", True)
        irjax.config.update("jax_compilation_cache_dir", slow)
        irjax.config.update("jax_persistent_cache_min_compile_time_secs", 3600)
        fresh_compile(3.456789)
        assert not off.exists() and not slow.exists()
    finally:
        irjax.config.update("jax_compilation_cache_dir", None)
        irjax.config.update("jax_enable_compilation_cache", True)
        irjax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    assert compiler.cache_dir() != str(on)
    with pytest.raises(TypeError, match="jax_compilation_cache_dir"):
        irjax.config.update("jax_compilation_cache_dir", 3)


def test_flags_with_values_irjax_cannot_honour():
    for name, value in (
        ("jax_threefry_partitionable", False),
        ("jax_random_seed_offset", 1),
        ("jax_enable_custom_prng", True),
        ("jax_legacy_prng_key", "error"),
        ("jax_numpy_dtype_promotion", "strict"),
        ("jax_transfer_guard", "disallow"),
    ):
        with pytest.raises(NotImplementedError, match=f"{name}="):
            irjax.config.update(name, value)
        assert irjax.config.read(name) != value
    for name, value in (("jax_traceback_filtering", "bogus"), ("jax_legacy_prng_key", "sometimes")):
        with pytest.raises(ValueError, match=name):
            irjax.config.update(name, value)
    irjax.config.update("jax_traceback_filtering", "off")
    assert irjax.config.jax_traceback_filtering == "off"
    irjax.config.update("jax_traceback_filtering", "auto")


def test_num_cpu_devices_before_and_after_the_backend_starts():
    code = (
        "import irjax\n"
        "irjax.config.update('jax_num_cpu_devices', 3)\n"
        "print(len(irjax.devices()), float(irjax.numpy.ones(2).sum()))\n"
        "try:\n"
        "    irjax.config.update('jax_num_cpu_devices', 2)\n"
        "except RuntimeError as e:\n"
        "    print('refused:', e)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("IRJAX_NUM_CPU_DEVICES", "IRJAX_PLATFORMS")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "3 2.0"
    assert lines[1].startswith("refused: jax_num_cpu_devices config should be updated before backends are initialized")
    with pytest.raises(ValueError, match="jax_num_cpu_devices"):
        irjax.config.update("jax_num_cpu_devices", 0)

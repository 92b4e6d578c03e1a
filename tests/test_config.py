"""irjax.config against jax.config: update/read/attribute access, absl hooks, and flags that
irjax cannot honour refused with a clear error instead of being ignored."""

import os
import subprocess
import sys

import irjax
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

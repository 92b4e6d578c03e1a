"""JAX's remaining top-level names that programs use (Device, float0, typing, dlpack, version,
live_arrays, host_* aliases, the config contexts), each checked against JAX's behaviour."""

import gc
import logging
import typing
import warnings

import irjax
import irjax.numpy as jnp
import jax
import jax.numpy as jjnp
import numpy as np
import pytest

NAMES = (
    "Device float0 typing dlpack version live_arrays effects_barrier copy_to_host_async process_indices "
    "host_count host_id host_ids log_compiles explain_cache_misses check_tracer_leaks checking_leaks "
    "enable_checks no_tracing debug_key_reuse default_prng_impl stages custom_derivatives"
).split()


def test_names_exist_in_both():
    for name in NAMES:
        assert hasattr(jax, name), name
        assert hasattr(irjax, name), name
        assert name in dir(irjax)


def test_stages_and_custom_derivatives_modules():
    lowered = irjax.jit(lambda x: x * 2).lower(np.ones(2, np.float32))
    assert isinstance(lowered, irjax.stages.Lowered) and isinstance(lowered.compile(), irjax.stages.Compiled)
    jlowered = jax.jit(lambda x: x * 2).lower(np.ones(2, np.float32))
    assert isinstance(jlowered, jax.stages.Lowered) and isinstance(jlowered.compile(), jax.stages.Compiled)
    assert irjax.custom_derivatives.custom_jvp is irjax.custom_jvp
    assert irjax.custom_derivatives.custom_vjp is irjax.custom_vjp
    assert jax.custom_derivatives.custom_jvp is jax.custom_jvp


def test_device_class():
    assert all(isinstance(d, irjax.Device) for d in irjax.devices())
    assert all(isinstance(d, jax.Device) for d in jax.devices())
    assert isinstance(irjax.Device, type) and not isinstance(jnp.ones(2), irjax.Device)


def test_float0_is_the_tangent_dtype_of_integer_inputs():
    assert irjax.float0 == jax.float0 and irjax.float0 is irjax.dtypes.float0
    assert irjax.float0 == jax.dtypes.float0
    _, t = irjax.jvp(lambda n: n * 2, (np.int32(3),), (np.zeros((), irjax.float0),))
    _, jt = jax.jvp(lambda n: n * 2, (np.int32(3),), (np.zeros((), jax.float0),))
    assert t.dtype == jt.dtype == irjax.float0


def test_typing_and_version_and_dlpack():
    assert typing.get_origin(irjax.typing.ArrayLike) is typing.Union
    assert irjax.Array in typing.get_args(irjax.typing.ArrayLike)
    assert {float, int, complex, bool, np.ndarray} <= set(typing.get_args(irjax.typing.ArrayLike))
    assert {float, int, complex, bool, np.ndarray} <= set(typing.get_args(jax.typing.ArrayLike))
    assert str in typing.get_args(irjax.typing.DTypeLike) and np.dtype in typing.get_args(irjax.typing.DTypeLike)
    assert irjax.version.__version__ == irjax.__version__
    for dt in (np.bool_, np.int8, np.uint64, np.float16, np.float64, np.complex64, "float32", jnp.bfloat16, jnp.int4):
        jdt = {jnp.bfloat16: jjnp.bfloat16, jnp.int4: jjnp.int4}.get(dt, dt)
        assert irjax.dlpack.is_supported_dtype(dt) == jax.dlpack.is_supported_dtype(jdt), dt
    host = np.arange(6, dtype=np.float32).reshape(2, 3)
    got, want = irjax.dlpack.from_dlpack(host), jax.dlpack.from_dlpack(host)
    assert isinstance(got, irjax.Array) and got.dtype == want.dtype
    np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


def test_process_indices_and_renamed_host_aliases_warn():
    for mod in (irjax, jax):
        assert mod.process_indices() == [0]
        for name, want in (("host_count", 1), ("host_id", 0), ("host_ids", [0])):
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                assert getattr(mod, name)() == want
            assert len(w) == 1 and w[0].category is UserWarning and "renamed" in str(w[0].message)


def test_live_arrays_tracks_arrays_until_deleted():
    for mod in (irjax, jax):
        np_mod = jnp if mod is irjax else jjnp
        gc.collect()
        n = len(mod.live_arrays())
        a = np_mod.arange(5.0) * 2
        live = mod.live_arrays()
        assert len(live) == n + 1 and any(x is a for x in live)
        a.delete()
        assert len(mod.live_arrays()) == n
        b = np_mod.ones(3)
        del b
        gc.collect()
        assert len(mod.live_arrays()) == n
    assert any(isinstance(x, irjax.Array) for x in irjax.live_arrays("cpu") + [jnp.ones(1)])
    assert all(x.devices() for x in irjax.live_arrays(platform="cpu"))


def test_copy_to_host_async_and_effects_barrier():
    tree = {"a": jnp.arange(3.0) + 1, "b": [jnp.ones(2), 3]}
    assert irjax.copy_to_host_async(tree) is tree
    jtree = {"a": jjnp.arange(3.0) + 1, "b": [jjnp.ones(2), 3]}
    assert jax.copy_to_host_async(jtree) is jtree
    # irjax has no runtime effects yet (debug.print refuses tracers): the barrier waits for all
    # dispatched work, i.e. runs pending eager ops (lazy.py) and synchronizes their devices
    y = jnp.sin(jnp.arange(4.0)) * 2
    assert y._lazy is not None  # pending
    assert irjax.effects_barrier() is None and jax.effects_barrier() is None
    assert y._lazy is None and y._buf is not None
    np.testing.assert_allclose(np.asarray(y), 2 * np.sin(np.arange(4.0)), rtol=1e-6)


def _counted():
    calls = []

    def f(x):
        calls.append(1)
        return x * 3

    return f, calls


def test_no_tracing_raises_on_a_new_trace_only():
    for mod in (irjax, jax):
        f, calls = _counted()
        jf = mod.jit(f)
        jf(np.ones(3, np.float32))
        with mod.no_tracing(True):
            np.testing.assert_array_equal(np.asarray(jf(np.ones(3, np.float32))), 3 * np.ones(3))
            with pytest.raises(RuntimeError, match="no_tracing"):
                jf(np.ones(4, np.float32))
        jf(np.ones(4, np.float32))  # allowed again after the body
        assert len(calls) == 2


def test_explain_cache_misses_logs_why(caplog):
    for mod, logger in ((irjax, "irjax"), (jax, "jax")):
        f, _ = _counted()
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger=logger), mod.explain_cache_misses(True):
            jf = mod.jit(f)
            jf(np.ones(3, np.float32))
            jf(np.ones(3, np.float32))  # a hit: nothing logged
            jf(np.ones(4, np.float32))
        msgs = [r.getMessage() for r in caplog.records if "TRACING CACHE MISS" in r.getMessage()]
        assert len(msgs) == 2, msgs
        assert "never seen function" in msgs[0]
        assert "different input types" in msgs[1] and "at x" in msgs[1]
        assert "[4]" in msgs[1] and "[3]" in msgs[1]
        assert "test_top_level_names.py" in msgs[1].splitlines()[0]  # the call site, not irjax's code
    with caplog.at_level(logging.WARNING, logger="irjax"):
        caplog.clear()
        irjax.jit(_counted()[0])(np.ones(2, np.float32))  # off again: silent
    assert not caplog.records
    # a new static value (JAX words it as a pytree-metadata difference; both name old and new)
    with caplog.at_level(logging.WARNING, logger="irjax"), irjax.explain_cache_misses():
        jf = irjax.jit(lambda x, k: x * k, static_argnums=1)
        jf(np.ones(2, np.float32), 2)
        jf(np.ones(2, np.float32), 3)
    assert "different value of static args:\n  * now [3] and before [2]" in caplog.records[-1].getMessage()


def test_check_tracer_leaks():
    for mod, np_mod in ((irjax, jnp), (jax, jjnp)):
        leaked = []

        def g(x):
            leaked.append(x)
            return x + 1

        with mod.checking_leaks():
            with pytest.raises(Exception, match="Leaked"):
                mod.jit(g)(np.float32(1))
            # no leak: no error, right values
            out = mod.jit(lambda x: np_mod.sin(x) * 2)(np.ones(3, np.float32))
            np.testing.assert_allclose(np.asarray(out), 2 * np.sin(np.ones(3)), rtol=1e-6)
        leaked.clear()
        with mod.check_tracer_leaks(False):
            mod.jit(g)(np.float32(2))  # off: the leak goes unnoticed, as in JAX
        assert len(leaked) == 1


def test_enable_checks_verifies_new_traces(monkeypatch):
    from irjax import trace_checks

    verified = []
    real = trace_checks.verify_module
    monkeypatch.setattr(trace_checks, "verify_module", lambda m: verified.append(1) or real(m))
    f, _ = _counted()
    with irjax.enable_checks(True):
        assert irjax.config.jax_enable_checks
        irjax.jit(f)(np.ones(2, np.float32))
        irjax.jit(f)(np.ones(2, np.float32))  # a cache hit: no trace to check
    irjax.jit(f)(np.ones(5, np.float32))
    assert verified == [1]
    with jax.enable_checks(True):
        assert jax.config.jax_enable_checks


def test_log_compiles_prints_each_compile(capfd):
    with irjax.log_compiles():
        assert irjax.config.jax_log_compiles
        # a fresh constant each run, so the module is not in the on-disk compile cache
        c = float(np.random.default_rng().integers(1, 1 << 30))
        irjax.jit(lambda x: x * c)(np.ones(2, np.float32))
    irjax.jit(lambda x: x * (c + 1))(np.ones(2, np.float32))
    err = capfd.readouterr().err
    assert err.count("irjax: compiled") == 1
    with jax.log_compiles():
        assert jax.config.jax_log_compiles


def test_flag_contexts_restore_and_validate():
    for name in ("log_compiles", "explain_cache_misses", "check_tracer_leaks", "enable_checks", "no_tracing"):
        flag = f"jax_{name}"
        assert getattr(irjax.config, flag) is False is getattr(jax.config, flag)
        with getattr(irjax, name)():
            assert getattr(irjax.config, flag) is True
        assert getattr(irjax.config, flag) is False
        with pytest.raises(ValueError, match=flag):
            irjax.config.update(flag, "yes")
    with irjax.default_prng_impl("threefry2x32"):
        assert irjax.config.jax_default_prng_impl == jax.config.jax_default_prng_impl == "threefry2x32"
    with pytest.raises(NotImplementedError, match="rbg"):
        with irjax.default_prng_impl("rbg"):
            pass
    with irjax.debug_key_reuse(False):
        pass
    with pytest.raises(NotImplementedError, match="jax_debug_key_reuse"):
        with irjax.debug_key_reuse(True):
            pass

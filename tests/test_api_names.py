"""JAX's top-level names added for issue 14 (named_scope, pure_callback, custom_gradient,
linear_transpose, checkpoint_policies, config context managers, ...) against JAX."""

from __future__ import annotations

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest
from irjax import lazy

jax = pytest.importorskip("jax")
jjnp = jax.numpy

X = np.linspace(-1.0, 2.0, 5, dtype=np.float32)


def _same(got, want, tol=1e-6):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (got.shape, want.shape, got.dtype, want.dtype)
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def _f(np_):
    return lambda x: np_.sum(np_.sin(x) * x)


def test_named_scope_and_named_call_keep_semantics():
    def f(x):
        with irjax.named_scope("layer"):
            return _f(jnp)(x)

    _same(irjax.jit(irjax.grad(f))(X), jax.grad(_f(jjnp))(X))
    _same(irjax.grad(irjax.named_call(_f(jnp), name="g"))(X), jax.grad(jax.named_call(_f(jjnp), name="g"))(X))
    with pytest.raises(TypeError, match="string"):
        with irjax.named_scope(3):
            pass


def test_pure_callback_eager():
    spec = jax.ShapeDtypeStruct((5,), np.float32)
    got = irjax.pure_callback(lambda x: np.cumsum(x).astype(np.float32), spec, X)
    _same(got, jax.pure_callback(lambda x: np.cumsum(x).astype(np.float32), spec, X))
    # float64 for a float32 declaration is cast (JAX canonicalizes it); another dtype is refused
    _same(irjax.pure_callback(lambda x: np.cumsum(x).astype(np.float64), spec, X), got)
    with pytest.raises(TypeError, match="declares float32"):
        irjax.pure_callback(lambda x: np.cumsum(x).astype(np.int64), spec, X)


def test_custom_gradient_matches_jax():
    def make(np_, api):
        @api.custom_gradient
        def f(x):
            return np_.sin(x), lambda g: (g * 3.0 * np_.cos(x),)  # a deliberately different gradient

        return lambda x: np_.sum(f(x) * x)

    _same(make(jnp, irjax)(X), make(jjnp, jax)(X))
    _same(irjax.grad(make(jnp, irjax))(X), jax.grad(make(jjnp, jax))(X), 1e-5)
    _same(irjax.jit(irjax.grad(make(jnp, irjax)))(X), jax.grad(make(jjnp, jax))(X), 1e-5)


def test_linear_transpose_matches_jax():
    def lin(np_):
        return lambda x, y: 2.0 * x + np_.flip(x) - y[:5] * 0.5

    y = np.arange(6, dtype=np.float32)
    ct = np.array([1.0, -1.0, 0.5, 2.0, 3.0], np.float32)
    got = irjax.linear_transpose(lin(jnp), X, y)(ct)
    want = jax.linear_transpose(lin(jjnp), X, y)(ct)
    assert len(got) == len(want) == 2
    for g, w in zip(got, want):
        _same(g, w)


def test_closure_convert_identity():
    c = jnp.asarray(X)
    f = lambda x: x * c  # noqa: E731
    conv, consts = irjax.closure_convert(f, X)
    _same(conv(X, *consts), f(X))


def test_typeof_and_ensure_compile_time_eval():
    for x in (X, np.int32(3)):
        a, b = irjax.typeof(x), jax.typeof(x)
        assert (a.shape, a.dtype, a.weak_type) == (b.shape, b.dtype, b.weak_type)
    assert irjax.typeof(1.0).weak_type and jax.typeof(1.0).weak_type

    def g(np_, api):
        def f(x):
            with api.ensure_compile_time_eval():
                n = int(np_.sum(np_.arange(4)))
            return x * n if n > 5 else x

        return f

    _same(irjax.jit(g(jnp, irjax))(X), jax.jit(g(jjnp, jax))(X))


def test_checkpoint_policies_are_accepted():
    names = [n for n in dir(jax.checkpoint_policies) if n in irjax.checkpoint_policies.__all__]
    assert {"nothing_saveable", "everything_saveable", "dots_saveable"} <= set(names)

    def f(api, np_, policy):
        g = api.checkpoint(lambda x: np_.sin(np_.sin(x)), policy=policy)
        return lambda x: np_.sum(g(x) * x)

    for name in ("nothing_saveable", "everything_saveable", "dots_with_no_batch_dims_saveable"):
        got = irjax.grad(f(irjax, jnp, getattr(irjax.checkpoint_policies, name)))(X)
        _same(got, jax.grad(f(jax, jjnp, getattr(jax.checkpoint_policies, name)))(X), 1e-6)
    pol = irjax.checkpoint_policies.save_only_these_names("a")
    _same(
        irjax.grad(f(irjax, jnp, pol))(X), jax.grad(f(jax, jjnp, jax.checkpoint_policies.save_only_these_names("a")))(X)
    )


def test_config_contexts():
    with irjax.default_matmul_precision("float32"):
        assert irjax.config.read("jax_default_matmul_precision") == "float32"
        _same(jnp.dot(X, X), jjnp.dot(X, X), 1e-5)
    assert irjax.config.read("jax_default_matmul_precision") is None
    with irjax.numpy_rank_promotion("allow"), irjax.numpy_dtype_promotion("standard"), irjax.debug_nans(False):
        _same(jnp.add(X, 1), jjnp.add(X, 1))
    for refused in (
        lambda: irjax.numpy_rank_promotion("raise"),
        lambda: irjax.numpy_dtype_promotion("strict"),
        lambda: irjax.transfer_guard("disallow"),
        lambda: irjax.transfer_guard_host_to_device("log"),
    ):
        with pytest.raises(NotImplementedError, match="irjax does not support"):
            with refused():
                pass
    assert irjax.config.read("jax_numpy_rank_promotion") == "allow"
    with irjax.transfer_guard("allow"):
        _same(jnp.asarray(X) * 2, X * 2)
    with pytest.raises(ValueError):
        with irjax.transfer_guard("sometimes"):
            pass


def test_environment_info_and_clear_caches(capsys):
    text = irjax.print_environment_info(return_string=True)
    assert "irjax" in text and "iree-base-runtime" in text and "numpy" in text
    irjax.print_environment_info()
    assert "iree-base-compiler" in capsys.readouterr().out
    y = jnp.sin(jnp.asarray(X)) * 2  # an eager graph: its module is cached in irjax.lazy
    np.testing.assert_allclose(np.asarray(y), np.sin(X) * 2, rtol=1e-6)
    assert lazy._modules
    irjax.clear_caches()
    assert not lazy._modules
    _same(irjax.jit(_f(jnp))(X), jax.jit(_f(jjnp))(X), 1e-6)
    np.testing.assert_allclose(np.asarray(jnp.sin(jnp.asarray(X)) * 2), np.sin(X) * 2, rtol=1e-6)

"""Transformations and lax off the common path, checked against JAX on the same inputs: each case
was a difference a differential probe found (2026-12-07)."""

from __future__ import annotations

from functools import partial

import irjax
import irjax.numpy as inp
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax_diff import assert_matches_jax

jax.config.update("jax_platforms", "cpu")

X4 = np.arange(4.0, dtype=np.float32)
IDX = np.array([0, 2, 0])
V3 = np.array([5, 1, -2], np.float32)


def _lib(m):
    """(the transformations module, its lax) that go with numpy module m."""
    return (jax, jax.lax) if m is jnp else (irjax, irjax.lax)


CASES = {
    # vmap passes unmapped arguments in as they are: Python control flow and jit's static
    # arguments can use them
    "vmap_unmapped_python_int_branches": lambda m: _lib(m)[0].vmap(
        lambda x, n: x * (2.0 if n > 0 else 3.0), in_axes=(0, None)
    )(m.ones(2), 1),
    "vmap_of_jit_with_static_unmapped": lambda m: _lib(m)[0].vmap(
        _lib(m)[0].jit(lambda x, n: m.sum(x**n), static_argnums=1), in_axes=(0, None)
    )(m.ones((2, 3)) * 2, 2),
    "vmap_unmapped_numpy_and_dict": lambda m: _lib(m)[0].vmap(lambda p, x: p["w"] * x + p["b"], in_axes=(None, 0))(
        {"w": 2.0, "b": np.arange(3.0, dtype=np.float32)}, m.ones((4, 3))
    ),
    "vmap_all_unmapped_with_axis_size": lambda m: _lib(m)[0].vmap(lambda x: x + 1, in_axes=None, axis_size=3)(
        m.ones(2)
    ),
    "vmap_of_grad_unmapped_power": lambda m: _lib(m)[0].vmap(
        _lib(m)[0].grad(lambda x, n: (x**n).sum()), in_axes=(0, None)
    )(m.ones((2, 3)) * 3, 2),
    "jit_of_vmap_unmapped_traced": lambda m: _lib(m)[0].jit(
        lambda x, y: _lib(m)[0].vmap(lambda a, b: a * b, in_axes=(0, None))(x, y)
    )(m.ones((2, 3)), m.arange(3.0)),
    "vmap_axis_index_of_unmapped_call": lambda m: _lib(m)[0].vmap(
        lambda x, c: _lib(m)[0].jit(lambda c: c + _lib(m)[1].axis_index("i"))(c) * x, in_axes=(0, None), axis_name="i"
    )(np.ones(3, np.int32), np.int32(2)),
    # a scalar predicate selects a whole operand
    "select_scalar_predicate": lambda m: _lib(m)[1].select(True, m.ones(2), m.zeros(2)),
    "select_n_scalar_predicate": lambda m: _lib(m)[1].select_n(True, m.ones(2), m.zeros(2)),
    "select_n_scalar_index": lambda m: _lib(m)[1].select_n(np.int32(2), m.ones(2), m.zeros(2), m.full(2, 7.0)),
    "jit_select_traced_scalar_predicate": lambda m: _lib(m)[0].jit(lambda p, a: _lib(m)[1].select(p, a, -a))(
        False, m.ones(3)
    ),
    # jacfwd of an integer output: zeros of its dtype
    "jacfwd_int_and_float_outputs": lambda m: _lib(m)[0].jacfwd(lambda x: (m.round(x).astype(m.int32), x * 2))(
        np.array([1.2, 2.7], np.float32)
    ),
    # derivatives of .at[].max / .min / .mul (ties split evenly, dropped updates get none)
    "grad_scatter_max": lambda m: _lib(m)[0].grad(lambda x, v: m.sum(x.at[IDX].max(v) ** 2), argnums=(0, 1))(X4, V3),
    "grad_scatter_min": lambda m: _lib(m)[0].grad(lambda x, v: m.sum(x.at[IDX].min(v) ** 2), argnums=(0, 1))(X4, V3),
    "grad_scatter_max_ties": lambda m: _lib(m)[0].grad(
        lambda x, v: m.sum(x.at[np.array([0, 0, 1])].max(v) * np.arange(1.0, 5.0)), argnums=(0, 1)
    )(np.array([3, 1, 2, 3], np.float32), np.array([3, 3, 0], np.float32)),
    "grad_scatter_max_dropped": lambda m: _lib(m)[0].grad(
        lambda x, v: m.sum(x.at[np.array([0, 7])].max(v, mode="drop") ** 2), argnums=(0, 1)
    )(X4, np.array([5, 9], np.float32)),
    "grad_scatter_max_windows": lambda m: _lib(m)[0].grad(
        lambda x, v: m.sum(x.at[np.array([1, 1])].max(v) ** 2), argnums=(0, 1)
    )(np.arange(12.0, dtype=np.float32).reshape(3, 4), np.array([[5, 0, 9, 7], [6, 6, 1, 8]], np.float32)),
    "jvp_scatter_max": lambda m: _lib(m)[0].jvp(
        lambda x, v: x.at[IDX].max(v), (X4, V3), (np.ones(4, np.float32), np.arange(3.0, dtype=np.float32))
    ),
    "vmap_grad_scatter_max": lambda m: _lib(m)[0].vmap(_lib(m)[0].grad(lambda x: m.sum(x.at[IDX].max(V3) ** 2)))(
        np.stack([X4, X4[::-1]])
    ),
    "grad_scatter_mul_operand": lambda m: _lib(m)[0].grad(lambda x: m.sum(x.at[IDX].mul(2.0) ** 2))(X4),
    "grad_scatter_mul_unique": lambda m: _lib(m)[0].grad(
        lambda x, v: m.sum(x.at[np.array([0, 2])].mul(v, unique_indices=True) ** 2), argnums=(0, 1)
    )(X4 + 1, np.array([2, 3], np.float32)),
    # complex normals: the same bits as JAX's
    "random_normal_complex64": lambda m: _lib(m)[0].random.normal(_lib(m)[0].random.key(3), (50,), dtype=np.complex64),
    "jit_vmap_random_normal_complex64": lambda m: _lib(m)[0].jit(
        _lib(m)[0].vmap(lambda k: _lib(m)[0].random.normal(k, (4,), dtype=np.complex64))
    )(_lib(m)[0].random.split(_lib(m)[0].random.key(0), 3)),
    # bitcasts between widths: a trailing axis of pieces appears or is consumed
    "bitcast_to_narrower": lambda m: _lib(m)[1].bitcast_convert_type(np.array([1.0, -2.5, 3e38], np.float32), np.uint8),
    "bitcast_to_wider": lambda m: _lib(m)[1].bitcast_convert_type(
        np.arange(8, dtype=np.uint8).reshape(2, 4), np.float32
    ),
    "jit_vmap_bitcast_narrower": lambda m: _lib(m)[0].jit(
        _lib(m)[0].vmap(lambda x: _lib(m)[1].bitcast_convert_type(x, np.uint16))
    )(np.array([1.0, -2.5, 3e38], np.float32)),
    # reduce_window / reduce with a lambda that is one add / max of its arguments
    "reduce_window_lambda_add": lambda m: _lib(m)[1].reduce_window(
        np.arange(1.0, 9.0, dtype=np.float32), 0.0, lambda a, b: a + b, (2,), (1,), "VALID"
    ),
    "reduce_window_lambda_max_same": lambda m: _lib(m)[1].reduce_window(
        np.arange(1.0, 9.0, dtype=np.float32), -np.inf, lambda a, b: _lib(m)[1].max(b, a), (3,), (2,), "SAME"
    ),
    "reduce_lambda_not_a_monoid": lambda m: _lib(m)[1].reduce(
        np.arange(1.0, 4.0, dtype=np.float32), 0.0, lambda a, b: b + b, (0,)
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_jax(name):
    # JAX's PRNG: bit for bit
    assert_matches_jax(CASES[name](inp), CASES[name](jnp), exact=name.startswith(("random", "jit_vmap_random")))


def test_vmap_unmapped_python_value_is_not_traced():
    seen = []
    irjax.vmap(lambda x, n: seen.append(type(n)) or x, in_axes=(0, None))(inp.ones(2), 3)
    assert seen == [int]


@pytest.mark.parametrize("v", [[2.0, 5.0, 3.0], [0.0, 5.0, 3.0], [0.0, 0.0, 3.0]])
def test_scatter_mul_with_repeated_places_matches_finite_differences(v):
    """Updates multiplied into one place: each one's derivative is the product of the others (zero
    updates included; JAX refuses this gradient without unique_indices)."""
    x, v = X4 + 1, np.array(v, np.float32)
    w = np.arange(1.0, 5.0, dtype=np.float32)

    def loss(x, v):
        return inp.sum((inp.asarray(x).at[np.array([0, 0, 2])].mul(v) * w) ** 2)

    gx, gv = irjax.grad(loss, argnums=(0, 1))(x, v)
    eps = np.float32(1e-2)
    for got, at, n in ((gx, 0, 4), (gv, 1, 3)):
        for k in range(n):
            step = eps * np.eye(n, dtype=np.float32)[k]
            args_p, args_m = [x, v], [x, v]
            args_p[at], args_m[at] = args_p[at] + step, args_m[at] - step
            fd = (float(loss(*args_p)) - float(loss(*args_m))) / (2 * eps)
            np.testing.assert_allclose(float(np.asarray(got)[k]), fd, rtol=2e-3, atol=2e-2)


def test_jit_stages_trace_lower_compile_and_clear_cache():
    """jit(f).trace(x) is the traced stage (JAX's .trace().lower().compile() chain), make_jaxpr's
    result has .jaxpr, and a jitted function's cache can be cleared."""
    f = irjax.jit(lambda x: (inp.sin(x) * 2, x.sum()))
    x = np.ones(3, np.float32)
    traced = f.trace(x)
    info = traced.out_info
    assert [(i.shape, np.dtype(i.dtype)) for i in info] == [((3,), np.float32), ((), np.float32)]
    got = traced.lower().compile()(x)
    np.testing.assert_allclose(np.asarray(got[0]), 2 * np.sin(x), rtol=1e-6)
    assert "jx." in str(traced.jaxpr) and "jx." in str(irjax.make_jaxpr(lambda x: x * 2)(1.0).jaxpr)
    f(x)
    assert f._cache
    f.clear_cache()
    assert not f._cache
    np.testing.assert_allclose(np.asarray(f(x)[1]), 3.0)


class _Pair:
    """A custom pytree node (registered with each library below)."""

    def __init__(self, a, b):
        self.a, self.b = a, b


jax.tree_util.register_pytree_node(_Pair, lambda p: ((p.a, p.b), None), lambda aux, ch: _Pair(*ch))
irjax.tree_util.register_pytree_node(_Pair, lambda p: ((p.a, p.b), None), lambda aux, ch: _Pair(*ch))


def test_vmap_axes_prefix_with_a_custom_node():
    x = np.arange(6.0, dtype=np.float32).reshape(3, 2)
    for lib in (jax, irjax):
        out = lib.vmap(lambda p: _Pair(p.a * p.b, p.b), in_axes=(_Pair(1, None),), out_axes=_Pair(0, None))(
            _Pair(x, 2.0)
        )
        np.testing.assert_allclose(np.asarray(out.a), 2 * x.T)
        assert float(out.b) == 2.0


def test_custom_rules_closing_over_a_differentiated_value_are_refused():
    # the rule cannot see the closed-over value's derivative: irjax returned a silent 0.0 (JAX raises)
    def jvp_outer(y):
        f = irjax.custom_jvp(lambda x: x * y)
        f.defjvps(lambda t, a, x: t * y)
        return f(2.0)

    for run in (lambda: irjax.grad(jvp_outer)(3.0), lambda: irjax.jvp(jvp_outer, (3.0,), (1.0,))):
        with pytest.raises(TypeError, match="closes over a value that is being differentiated"):
            run()

    def constant_closure(y):  # closing over a constant, and differentiating through the argument, is fine
        c = np.float32(5.0)
        f = irjax.custom_jvp(lambda x: x * c)
        f.defjvps(lambda t, a, x: t * c)
        return f(y) * y

    assert float(irjax.grad(constant_closure)(3.0)) == 30.0


def _fixed_point(lib):
    """JAX's documentation example: implicit differentiation of a fixed point (custom_vjp whose bwd
    calls the function again with another nondiff function)."""

    @partial(lib.custom_vjp, nondiff_argnums=(0,))
    def fixed_point(f, a, x_guess):
        def body(carry):
            return carry[1], f(a, carry[1])

        return lib.lax.while_loop(lambda c: lib.numpy.abs(c[0] - c[1]) > 1e-6, body, (x_guess, f(a, x_guess)))[1]

    def fwd(f, a, x_init):
        x_star = fixed_point(f, a, x_init)
        return x_star, (a, x_star)

    def rev_iter(f, packed, u):
        a, x_star, x_star_bar = packed
        return x_star_bar + lib.vjp(lambda x: f(a, x), x_star)[1](u)[0]

    def rev(f, res, x_star_bar):
        a, x_star = res
        _, vjp_a = lib.vjp(lambda a: f(a, x_star), a)
        (a_bar,) = vjp_a(fixed_point(partial(rev_iter, f), (a, x_star, x_star_bar), x_star_bar))
        return a_bar, lib.numpy.zeros_like(x_star)

    fixed_point.defvjp(fwd, rev)
    return lambda a: fixed_point(lambda a, x: 0.5 * (x + a / x), a, a)


def test_custom_rules_that_call_their_own_function_with_other_arguments():
    # rules are traced with the call: a rule calling its function with a changed nondiff argument
    # recursed without end (the fixed_point example hung; a Bessel-style jv rule hit RecursionError)
    sqrt, jsqrt = _fixed_point(irjax), _fixed_point(jax)
    for run in (irjax.grad, lambda f: irjax.jit(irjax.grad(f))):
        np.testing.assert_allclose(
            float(run(sqrt)(np.float32(2.0))), float(jax.grad(jsqrt)(np.float32(2.0))), rtol=1e-5
        )
    xs = np.float32([3.0, 4.0])
    assert_matches_jax(irjax.vmap(irjax.grad(sqrt))(xs), jax.vmap(jax.grad(jsqrt))(xs), tol=1e-5)

    def bessel_like(lib):
        f = lib.custom_jvp(lambda v, z: lib.numpy.sin(z) * v, nondiff_argnums=(0,))

        @f.defjvp
        def f_jvp(v, primals, tangents):
            (z,), (zd,) = primals, tangents
            return f(v, z), zd * f(v - 1, z)

        return f

    f, jf = bessel_like(irjax), bessel_like(jax)
    assert_matches_jax(irjax.grad(f, argnums=1)(3.0, 2.0), jax.grad(jf, argnums=1)(3.0, 2.0), tol=1e-6)
    zs = np.float32([1.0, 2.0])
    assert_matches_jax(irjax.vmap(lambda z: f(3.0, z))(zs), jax.vmap(lambda z: jf(3.0, z))(zs), tol=1e-6)

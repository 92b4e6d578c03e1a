"""The irjax.lax names composed from primitives (lax_extra.py, lax_special.py) against jax.lax:
values and dtypes, grads, vmap against a loop."""

from __future__ import annotations

import operator
import subprocess
import sys

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest
from irjax import lax

jax = pytest.importorskip("jax")
jlax, jjnp = jax.lax, jax.numpy

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 7)).astype(np.float32)


def _same(got, want, what="", tol=1e-5):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape and got.dtype == want.dtype, (what, got.shape, want.shape, got.dtype, want.dtype)
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol, err_msg=what)


def _tree_same(got, want, what="", tol=1e-5):
    gl, wl = jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)
    assert len(gl) == len(wl), what
    for g, w in zip(gl, wl):
        _same(g, w, what, tol)


@pytest.mark.slow  # special-function modules compile slowly (~20 s cold)
def test_elementwise_and_special_match_jax():
    x = np.abs(X) + 0.5
    for name in ("erfc", "reciprocal", "bessel_i0e", "bessel_i1e"):
        _same(getattr(lax, name)(X), getattr(jlax, name)(X), name, 2e-5)
    _same(lax.igamma(x, x * 1.5), jlax.igamma(x, x * 1.5), "igamma", 1e-4)
    _same(lax.igammac(x, x * 0.5), jlax.igammac(x, x * 0.5), "igammac", 1e-4)
    _same(lax.nextafter(X, np.zeros_like(X)), jlax.nextafter(X, np.zeros_like(X)), "nextafter", 0)
    _tree_same(lax.optimization_barrier((X, 2 * X)), jlax.optimization_barrier((X, 2 * X)), "barrier")


def test_top_k_and_sort_key_val_match_jax():
    x = np.array([[3, 1, 3, 2, 5], [0, 0, 1, 0, -1]], np.int32)
    _tree_same(lax.top_k(x, 3), jlax.top_k(x, 3), "top_k ties")
    _tree_same(lax.top_k(X, 4), jlax.top_k(X, 4), "top_k")
    keys, vals = X, np.arange(21, dtype=np.int32).reshape(3, 7)
    _tree_same(lax.sort_key_val(keys, vals), jlax.sort_key_val(keys, vals), "sort_key_val")
    _tree_same(lax.sort_key_val(keys, vals, 0), jlax.sort_key_val(keys, vals, 0), "sort_key_val axis 0")
    g = irjax.grad(lambda x: lax.top_k(x, 2)[0].sum() * 3)(X)
    _same(g, jax.grad(lambda x: jlax.top_k(x, 2)[0].sum() * 3)(X), "grad top_k")
    batched = irjax.vmap(lambda r: lax.top_k(r, 2)[0])(X)
    _same(batched, np.stack([np.asarray(lax.top_k(r, 2)[0]) for r in X]), "vmap top_k")


@pytest.mark.parametrize(
    "comp, jcomp, init",
    [
        (lax.add, jlax.add, 0.0),
        (jnp.multiply, jjnp.multiply, 1.0),
        (lax.max, jlax.max, -np.inf),
        (operator.add, operator.add, 0.0),
        (lax.min, jlax.min, 10.0),
    ],
)
def test_reduce_matches_jax(comp, jcomp, init):
    _same(lax.reduce(X, np.float32(init), comp, (1,)), jlax.reduce(X, np.float32(init), jcomp, (1,)), str(comp))


def test_reduce_bool_and_any_computation():
    b = X > 0
    _same(lax.reduce(b, True, lax.bitwise_and, (0,)), jlax.reduce(b, True, jlax.bitwise_and, (0,)), "and")
    _same(lax.reduce(b, False, lax.bitwise_or, (0, 1)), jlax.reduce(b, False, jlax.bitwise_or, (0, 1)), "or")
    # not a monoid irjax knows: folded in order (as XLA's CPU reduce does here; the order is unspecified)
    _same(lax.reduce(X, 0.0, lambda a, b: a + 2 * b, (0,)), jlax.reduce(X, 0.0, lambda a, b: a + 2 * b, (0,)), "fold")
    # several operands: an argmax as a variadic reduce
    iota = np.broadcast_to(np.arange(X.shape[1], dtype=np.int32), X.shape)

    def argmax(lax_):
        def pick(a, b):
            return lax_.max(a[0], b[0]), lax_.select(a[0] >= b[0], a[1], b[1])

        return lax_.reduce((X, iota), (-np.inf, np.int32(0)), pick, (1,))

    for got, want in zip(argmax(lax), argmax(jlax)):
        _same(got, want, "argmax")


@pytest.mark.slow  # one module per length and direction (~25 s cold)
def test_associative_scan_matches_jax():
    for n in (1, 2, 7, 8):
        x = RNG.standard_normal((n, 3)).astype(np.float32)
        for rev in (False, True):
            _same(lax.associative_scan(lax.add, x, reverse=rev), jlax.associative_scan(jlax.add, x, reverse=rev), n)
    # a pytree monoid (affine maps compose: (a1, b1) then (a2, b2) = (a1 a2, a2 b1 + b2)), on axis 1
    a, b = RNG.uniform(0.5, 1.0, (2, 6)).astype(np.float32), RNG.standard_normal((2, 6)).astype(np.float32)

    def affine(np_):
        return lambda p, q: (p[0] * q[0], q[0] * p[1] + q[1])

    got = irjax.jit(lambda a, b: lax.associative_scan(affine(jnp), (a, b), axis=1))(a, b)
    _tree_same(got, jlax.associative_scan(affine(jjnp), (a, b), axis=1), "affine")
    g = irjax.grad(lambda x: lax.associative_scan(jnp.multiply, x).sum())(X[0])
    _same(g, jax.grad(lambda x: jlax.associative_scan(jjnp.multiply, x).sum())(X[0]), "grad scan", 1e-4)


def test_shape_helpers_match_jax():
    _same(lax.tile(X, (2, 1)), jlax.tile(X, (2, 1)), "tile")
    _tree_same(lax.split(X, (2, 0, 5), axis=1), jlax.split(X, (2, 0, 5), axis=1), "split")
    assert lax.broadcast_shapes((3, 1), (1, 4), (4,)) == jlax.broadcast_shapes((3, 1), (1, 4), (4,))
    with pytest.raises(ValueError):
        lax.broadcast_shapes((3,), (4,))
    _same(lax.broadcast_to_rank(X, 4), jlax.broadcast_to_rank(X, 4), "broadcast_to_rank")
    y = np.arange(24.0, dtype=np.float32).reshape(2, 3, 4)
    _same(lax.collapse(y, 1), jlax.collapse(y, 1), "collapse")
    _same(lax.collapse(y, 0, 2), jlax.collapse(y, 0, 2), "collapse 0 2")
    idx = (np.array([0, 1, 1], np.int32), np.array([2, 0, 3], np.int32))
    _same(lax.index_take(y, idx, (0, 2)), jlax.index_take(y, idx, (0, 2)), "index_take")
    upd = np.full((2, 4), 7.0, np.float32)
    _same(lax.dynamic_update_index_in_dim(y, upd, 1, 1), jlax.dynamic_update_index_in_dim(y, upd, 1, 1), "dui")
    with pytest.raises(ValueError, match="sum to"):
        lax.split(X, (2, 2), axis=1)


A = np.array([[4.0, 1.0, 0.0], [1.0, 3.0, 0.5], [0.0, 0.5, 2.0]], np.float32)
B = np.array([1.0, 2.0, 3.0], np.float32)


def _solve_fn(np_, lx):
    def f(a, b):
        def matvec(x):
            return a @ x

        def solve(mv, rhs):
            return np_.linalg.solve(a, rhs)

        return lx.custom_linear_solve(matvec, b, solve, symmetric=True).sum()

    return f


def test_custom_linear_solve_value_and_grad_match_jax():
    _same(_solve_fn(jnp, lax)(A, B), _solve_fn(jjnp, jlax)(A, B), "value")
    got = irjax.grad(_solve_fn(jnp, lax), argnums=(0, 1))(A, B)
    want = jax.grad(_solve_fn(jjnp, jlax), argnums=(0, 1))(A, B)
    _tree_same(got, want, "grad", 1e-4)


def _root_fn(np_, lx):
    def sqrt_by_newton(c):
        f = lambda x: x * x - c  # noqa: E731

        def solve(f, x0):
            x = x0
            for _ in range(30):  # Newton, unrolled
                x = x - f(x) / (2 * x)
            return x

        return lx.custom_root(f, np_.ones_like(c), solve, lambda g, y: y / g(np_.ones_like(y)))

    return sqrt_by_newton


def test_custom_root_value_and_grad_match_jax():
    c = np.array([2.0, 9.0, 0.25], np.float32)
    _same(_root_fn(jnp, lax)(c), _root_fn(jjnp, jlax)(c), "root")
    got = irjax.grad(lambda c: _root_fn(jnp, lax)(c).sum())(c)
    want = jax.grad(lambda c: _root_fn(jjnp, jlax)(c).sum())(c)
    _same(got, want, "grad root", 1e-5)
    _same(got, 0.5 / np.sqrt(c), "d sqrt", 1e-5)


@pytest.mark.parametrize("first", ["irjax.lax_extra", "irjax.lax_fft", "irjax.lax_special", "irjax.numpy.fft"])
def test_new_lax_names_whatever_is_imported_first(first):
    """lax loads these modules on first use, so importing one of them first leaves lax whole."""
    code = (
        f"import {first}; import irjax.lax as lax, irjax.numpy as jnp; from irjax.lax import top_k, FftType; "
        "assert callable(lax.fft) and callable(lax.erfc) and callable(jnp.fft.rfft) and 'top_k' in dir(lax)"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]

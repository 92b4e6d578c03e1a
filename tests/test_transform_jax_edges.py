"""Transformations and lax off the common path, checked against JAX on the same inputs: each case
was a difference a differential probe found (2026-12-07)."""

from __future__ import annotations

import irjax
import irjax.numpy as inp
import jax
import jax.numpy as jnp
import numpy as np
import pytest

jax.config.update("jax_platforms", "cpu")


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
}


def _leaves(x):
    return [np.asarray(v) for v in jax.tree_util.tree_leaves(x)]


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_jax(name):
    want, got = _leaves(CASES[name](jnp)), _leaves(CASES[name](inp))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape, (g.dtype, g.shape, w.dtype, w.shape)
        np.testing.assert_allclose(g, w, rtol=2e-6, atol=1e-6)


def test_vmap_unmapped_python_value_is_not_traced():
    seen = []
    irjax.vmap(lambda x, n: seen.append(type(n)) or x, in_axes=(0, None))(inp.ones(2), 3)
    assert seen == [int]

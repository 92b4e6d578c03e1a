"""jnp.roots, jnp.sort_complex and the ml_dtypes narrow type names against JAX."""

from __future__ import annotations

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest
from irjax.errors import ConcretizationTypeError

jax = pytest.importorskip("jax")
jjnp = jax.numpy

POLYS = [[1, -6, 11, -6], [1, 0, 1], [0, 0, 2, 3, 1], [2, -3, 0, 5, 1, -1], [3, 1], [1, 2, 3, 4, 5, 6, 7]]


def _same_roots(got, want, tol, what):
    """Same multiset of roots (order differs: JAX's comes from LAPACK's eig), dtype included."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype and got.shape == want.shape, (what, got.dtype, want.dtype, got.shape, want.shape)
    assert np.isnan(got).sum() == np.isnan(want).sum(), (what, got, want)
    g, w = list(got[~np.isnan(got)]), list(want[~np.isnan(want)])
    for r in w:  # greedy matching: each of JAX's roots takes the nearest of ours
        i = int(np.argmin([abs(r - x) for x in g]))
        assert abs(r - g[i]) <= tol * max(1.0, abs(r)), (what, r, g)
        g.pop(i)


@pytest.mark.slow  # one Aberth module per degree (~3 s each on the shared machine)
@pytest.mark.parametrize("p", POLYS, ids=[str(len(p)) + "_" + str(i) for i, p in enumerate(POLYS)])
def test_roots_match_jax(p):
    p = np.array(p, np.float32)
    _same_roots(jnp.roots(p), jjnp.roots(p), 1e-4, p)


def test_roots_double_root_and_degenerate():
    _same_roots(jnp.roots(np.array([1.0, -2.0, 1.0], np.float32)), jjnp.roots(np.array([1.0, -2.0, 1.0])), 2e-3, "x^2")
    for p in ([2.0], [0.0, 0.0], []):
        got, want = jnp.roots(np.array(p, np.float32)), jjnp.roots(np.array(p, np.float32))
        assert got.shape == want.shape == (0,) and got.dtype == want.dtype
    got = jnp.roots(np.array([1, -3, 2], np.int32))
    _same_roots(got, jjnp.roots(np.array([1, -3, 2], np.int32)), 1e-5, "int")


@pytest.mark.slow
def test_roots_under_jit_and_vmap():
    f = irjax.jit(lambda p: jnp.roots(p, strip_zeros=False))
    for p in ([0, 0, 2, 3, 1], [1, -6, 11, -6]):
        p = np.array(p, np.float32)
        _same_roots(f(p), jax.jit(lambda p: jjnp.roots(p, strip_zeros=False))(p), 1e-4, p)
    ps = np.array([[1, -6, 11, -6], [1, 0, 0, -1], [2, 1, 1, 1]], np.float32)
    batched = np.asarray(irjax.jit(irjax.vmap(lambda p: jnp.roots(p, strip_zeros=False)))(ps))
    for i, p in enumerate(ps):
        np.testing.assert_allclose(batched[i], np.asarray(f(p)), rtol=1e-5, atol=1e-5)
    with pytest.raises(ConcretizationTypeError, match="strip_zeros=False"):
        irjax.jit(jnp.roots)(ps[0])


def test_sort_complex_matches_jax():
    rng = np.random.default_rng(0)
    cases = [
        np.array([3, 1, 2, 1], np.int32),
        rng.standard_normal((2, 5)).astype(np.float32),
        np.array([1 + 2j, 1 - 1j, 0 + 5j, -1 + 0j], np.complex64),
    ]
    for x in cases:
        got, want = jnp.sort_complex(x), jjnp.sort_complex(x)
        assert got.dtype == want.dtype, (got.dtype, want.dtype)
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
    got = irjax.jit(jnp.sort_complex)(cases[2])
    np.testing.assert_array_equal(np.asarray(got), np.asarray(jjnp.sort_complex(cases[2])))


NARROW = [
    n for n in ("int2", "uint2", "int4", "uint4", "float8_e4m3fn", "float8_e5m2", "float4_e2m1fn") if hasattr(jjnp, n)
]


@pytest.mark.parametrize("name", NARROW)
def test_narrow_dtype_names_are_jax_dtypes_and_refuse_storage(name):
    t = getattr(jnp, name)
    assert np.dtype(t) == jjnp.dtype(getattr(jjnp, name))
    for make in (
        lambda: jnp.zeros(3, t),
        lambda: jnp.arange(3.0).astype(t),
        lambda: jnp.asarray(np.zeros(3, t)),
        lambda: irjax.jit(lambda x: x.astype(t))(np.ones(3, np.float32)),
    ):
        with pytest.raises(TypeError, match=name):
            np.asarray(make())  # (np.asarray: eager results may be computed lazily)

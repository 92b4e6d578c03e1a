"""Valid programs that once failed to compile or run (IREE 3.13 bugs avoided in irjax's emission,
a JAX rule irjax lacked), each checked against JAX on the same inputs: values and dtypes."""

from __future__ import annotations

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest
from irjax import lax
from irjax.scipy import linalg as ilinalg
from irjax.scipy.sparse.linalg import gmres
from irjax.sharding import PartitionSpec as P

jax = pytest.importorskip("jax")
from jax.scipy import linalg as jlinalg  # noqa: E402
from jax.scipy.sparse.linalg import gmres as jgmres  # noqa: E402

rng = np.random.default_rng(0)


def _close(got, want, tol=1e-5):
    got, want = jax.tree_util.tree_leaves(got), jax.tree_util.tree_leaves(want)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert np.asarray(g).dtype == np.asarray(w).dtype
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=tol, atol=tol)


def _solves(la, a, b):
    # b's double feeds the solves and is read again after them: IREE 3.13 put its producer and
    # that later consumer in one partition and failed ("cyclic dependencies")
    d = b * 2
    r_up = la.cho_solve(la.cho_factor(a), d)
    r_lo = la.cho_solve(la.cho_factor(a, lower=True), d)
    low = la.cholesky(a, lower=True)
    t = la.solve_triangular(low, la.solve_triangular(low, d, lower=True), lower=True)
    return r_up, r_lo, (d * r_lo).sum(0), d * t


def test_cho_factor_then_cho_solve_in_one_jit():
    m = rng.standard_normal((4, 4)).astype(np.float32)
    a = m @ m.T + 4 * np.eye(4, dtype=np.float32)
    b = rng.standard_normal((4, 5)).astype(np.float32)
    got = irjax.jit(lambda a, b: _solves(ilinalg, a, b))(a, b)
    _close(got, jax.jit(lambda a, b: _solves(jlinalg, a, b))(a, b), 1e-4)


def _flag_loop(lx, x, y):
    # the flag carry is written by the body but read only by the cond: IREE 3.13 dropped it from
    # the do-while it made of the loop, then crashed compiling (or left a null buffer at run time)
    def body(s):
        x, y, i, _ = s
        return x * 2, y + 1, i + 1, i > 5

    return lx.while_loop(lambda s: (s[2] < 3) & ~s[3], body, (x, y, 0, False))


def test_while_carry_read_only_by_the_cond():
    x, y = np.arange(3, dtype=np.float32), np.ones(2, np.float32)
    _close(irjax.jit(lambda x, y: _flag_loop(lax, x, y))(x, y), jax.jit(lambda x, y: _flag_loop(jax.lax, x, y))(x, y))


def test_gmres_on_a_two_leaf_tree_eager():
    m3 = (0.1 * rng.standard_normal((3, 3)) + 3 * np.eye(3)).astype(np.float32)
    m2 = (0.1 * rng.standard_normal((2, 2)) + 2 * np.eye(2)).astype(np.float32)
    b = {"a": np.ones(3, np.float32), "b": np.arange(2, dtype=np.float32)}
    got, _ = gmres(lambda v: {"a": jnp.asarray(m3) @ v["a"], "b": jnp.asarray(m2) @ v["b"]}, b)
    want, _ = jgmres(lambda v: {"a": m3 @ v["a"], "b": m2 @ v["b"]}, b)
    assert set(got) == {"a", "b"}
    _close(got, want, 1e-4)


def _reductions(lx, v):
    return lx.psum(v, "x"), lx.pmax(v, "x"), lx.pmin(v, "x")


class _AbstractMesh:
    """Axis names and sizes only: all shard_map needs in one process with one device."""

    axis_sizes, axis_names = (4,), ("x",)


@pytest.mark.parametrize("dtype", [np.bool_, np.int32])
def test_psum_pmax_pmin_of_bools_and_ints(dtype):
    # JAX: psum counts the Trues in int32; pmax / pmin of bools are any / all, still bool
    x = (np.arange(8) % 3 == 0) if dtype == np.bool_ else np.arange(8, dtype=dtype)
    f = irjax.shard_map(lambda v: _reductions(lax, v), mesh=_AbstractMesh(), in_specs=P("x"), out_specs=P())
    got = irjax.jit(f)(x)
    # JAX's named-axis reductions under vmap (its shard_map needs forced host devices): one
    # member per row of x.reshape(4, 2), every member holding the result
    want = jax.vmap(lambda v: _reductions(jax.lax, v), axis_name="x")(x.reshape(4, 2))
    _close(got, [w[0] for w in want])

"""Differential tests of irjax.vmap against jax.vmap (the test-only oracle)."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.portable  # CI runs this file on Vulkan too (-m portable)

jax = pytest.importorskip("jax")
import irjax  # noqa: E402
import irjax.numpy as jnp  # noqa: E402
import jax.numpy as jjnp  # noqa: E402
from tree_compare import tree_close  # noqa: E402

rng = np.random.RandomState(1)


def randn(*shape):
    return rng.randn(*shape).astype(np.float32)


def close(a, b, rtol=2e-5, atol=2e-5):
    tree_close(a, b, rtol, atol)


def both(fn):
    return (lambda *a: fn(jnp, *a)), (lambda *a: fn(jjnp, *a))


def f2(m, x, y):
    return m.sin(x) * y.sum() + x @ m.ones((x.shape[-1], 2)).sum(-1)


@pytest.mark.parametrize(
    "in_axes, shapes",
    [
        (0, [(4, 3), (4, 2)]),
        (1, [(3, 4), (2, 4)]),
        (-1, [(3, 4), (2, 4)]),
        ((0, None), [(4, 3), (2,)]),
        ((None, 1), [(3,), (2, 5)]),
        ([1, -2], [(3, 4), (4, 2)]),
    ],
)
def test_in_axes(in_axes, shapes):
    fi, fj = both(f2)
    args = [randn(*s) for s in shapes]
    close(irjax.vmap(fi, in_axes=in_axes)(*args), jax.vmap(fj, in_axes=in_axes)(*args))


@pytest.mark.parametrize("out_axes", [0, 1, -1, None])
def test_out_axes(out_axes):
    def f(m, x, c):
        return m.outer(x, c) if out_axes is not None else m.sum(c) * 2.0

    fi, fj = both(f)
    x, c = randn(5, 3), randn(2)
    close(
        irjax.vmap(fi, in_axes=(0, None), out_axes=out_axes)(x, c),
        jax.vmap(fj, in_axes=(0, None), out_axes=out_axes)(x, c),
    )


def test_pytree_in_out_axes():
    def f(m, p, x):
        return {"y": m.tanh(x @ p["w"] + p["b"]), "n": (m.sum(x), x * 2.0)}

    fi, fj = both(f)
    p = {"w": randn(3, 2), "b": randn(4, 2)}
    x = randn(3, 4)
    in_axes = ({"w": None, "b": 0}, 1)
    out_axes = {"y": 1, "n": (0, -1)}
    close(
        irjax.vmap(fi, in_axes=in_axes, out_axes=out_axes)(p, x), jax.vmap(fj, in_axes=in_axes, out_axes=out_axes)(p, x)
    )


def test_pytree_args_and_results():
    def f(m, pair, lst):
        a, b = pair
        return [a + lst[0], (b * lst[1], m.max(a))]

    fi, fj = both(f)
    pair, lst = (randn(4, 3), randn(4)), [randn(4, 3), randn(4)]
    close(irjax.vmap(fi)(pair, lst), jax.vmap(fj)(pair, lst))


def test_axis_size_all_none():
    def f(m, x):
        return x * 2.0

    fi, fj = both(f)
    x = randn(3)
    close(irjax.vmap(fi, in_axes=None, axis_size=4)(x), jax.vmap(fj, in_axes=None, axis_size=4)(x))
    with pytest.raises(ValueError):
        irjax.vmap(fi, in_axes=None)(x)


def test_nested_vmap():
    def f(m, x, y):
        return m.dot(x, y) + m.sum(x)

    fi, fj = both(f)
    xs, ys = randn(4, 3), randn(5, 3)
    inner_i = irjax.vmap(fi, in_axes=(None, 0))
    inner_j = jax.vmap(fj, in_axes=(None, 0))
    close(irjax.vmap(inner_i, in_axes=(0, None))(xs, ys), jax.vmap(inner_j, in_axes=(0, None))(xs, ys))
    a, b = randn(4, 2, 3), randn(4, 2, 3)
    close(irjax.vmap(irjax.vmap(fi), in_axes=(1, 1))(a, b), jax.vmap(jax.vmap(fj), in_axes=(1, 1))(a, b))


def test_vmap_of_jit_and_jit_of_vmap():
    def f(m, x):
        return m.sort(m.cos(x))[::-1] * m.arange(x.shape[0])

    fi, fj = both(f)
    xs = randn(3, 5)
    want = jax.vmap(fj)(xs)
    close(irjax.vmap(irjax.jit(fi))(xs), want)
    close(irjax.jit(irjax.vmap(fi))(xs), want)


# ---- per-example gradients, batched matvec, jacobians ---------------------------------------------


def mlp_loss(m, params, x, y):
    h = m.tanh(x @ params["w1"] + params["b1"])
    out = h @ params["w2"] + params["b2"]
    return m.mean((out - y) ** 2)


def test_per_example_gradients():
    params = {"w1": randn(4, 8), "b1": randn(8), "w2": randn(8, 2), "b2": randn(2)}
    xs, ys = randn(6, 4), randn(6, 2)
    fi, fj = both(mlp_loss)
    gi = irjax.vmap(irjax.grad(fi), in_axes=(None, 0, 0))(params, xs, ys)
    gj = jax.vmap(jax.grad(fj), in_axes=(None, 0, 0))(params, xs, ys)
    close(gi, gj, rtol=1e-4, atol=1e-5)
    close(irjax.jit(irjax.vmap(irjax.grad(fi), in_axes=(None, 0, 0)))(params, xs, ys), gj, rtol=1e-4, atol=1e-5)


def test_batched_matvec():
    # the tutorial's apply_matrix: vmap over a batch of vectors
    mat = randn(15, 10)
    batched_x = randn(10, 10)

    def apply_matrix(m):
        return lambda v: m.dot(mat, v)

    want = np.stack([mat @ v for v in batched_x])
    close(irjax.vmap(apply_matrix(jnp))(batched_x), jax.vmap(apply_matrix(jjnp))(batched_x), rtol=1e-5, atol=1e-4)
    close(irjax.jit(irjax.vmap(apply_matrix(jnp)))(batched_x), want, rtol=1e-5, atol=1e-4)
    close(irjax.vmap(apply_matrix(jnp), in_axes=1, out_axes=1)(batched_x.T), want.T, rtol=1e-5, atol=1e-4)


def test_jacobians_of_vmap():
    def f(m, x):
        return m.sin(x) * m.sum(x**2)

    fi, fj = both(f)
    xs = randn(3, 4)
    vi, vj = irjax.vmap(fi), jax.vmap(fj)
    close(irjax.jacfwd(vi)(xs), jax.jacfwd(vj)(xs), rtol=1e-4, atol=1e-4)
    close(irjax.jacrev(vi)(xs), jax.jacrev(vj)(xs), rtol=1e-4, atol=1e-4)
    close(irjax.vmap(irjax.jacfwd(fi))(xs), jax.vmap(jax.jacfwd(fj))(xs), rtol=1e-4, atol=1e-4)


def test_batched_indexing_and_updates():
    def f(m, x, i):
        return x[i] * 2.0 + x.at[i].add(1.0)[0] + x[1:3].sum()

    fi, fj = both(f)
    xs, idx = randn(4, 5), np.array([0, 2, 4, 1], np.int32)
    close(irjax.vmap(fi)(xs, idx), jax.vmap(fj)(xs, idx))
    close(irjax.vmap(fi, in_axes=(0, None))(xs, 3), jax.vmap(fj, in_axes=(0, None))(xs, 3))


# ---- errors -------------------------------------------------------------------------------------


def test_inconsistent_sizes():
    f = lambda x, y: x + y  # noqa: E731
    with pytest.raises(ValueError, match="inconsistent sizes"):
        irjax.vmap(f)(randn(3), randn(4))
    with pytest.raises(ValueError, match="inconsistent sizes"):
        jax.vmap(f)(randn(3), randn(4))


@pytest.mark.parametrize("in_axes", [1, -2, (0, 2)])
def test_out_of_range_in_axes(in_axes):
    f = lambda x, y: x * y  # noqa: E731
    x, y = randn(3), randn(3)
    with pytest.raises(ValueError):
        jax.vmap(f, in_axes=in_axes)(x, y)
    with pytest.raises(ValueError):
        irjax.vmap(f, in_axes=in_axes)(x, y)


def test_in_axes_tree_mismatch():
    with pytest.raises(ValueError):
        irjax.vmap(lambda x, y: x, in_axes=(0, 0, 0))(randn(3), randn(3))
    with pytest.raises(ValueError):
        irjax.vmap(lambda d: d["a"], in_axes=({"b": 0},))({"a": randn(3)})


def test_vmap_argsort_with_ties_matches_loop():
    # the batched sort's position key is a broadcast iota; it used to get a second iota, which
    # IREE fails to compile (dialects/misc.py _is_position)
    x = np.array([[3.0, 1.0, 3.0, 2.0], [0.5, 0.5, -1.0, 0.5], [2.0, 2.0, 2.0, 2.0]], np.float32)
    for in_axes, src in ((0, x), (1, x.T)):
        got = np.asarray(irjax.vmap(jnp.argsort, in_axes=in_axes)(src))
        want = np.stack([np.argsort(r, kind="stable") for r in x])
        np.testing.assert_array_equal(got, want)


def test_keyword_arguments_are_mapped_over_their_leading_axis_as_jax():
    xs = np.arange(3.0, dtype=np.float32)
    ys = np.arange(1.0, 4.0, dtype=np.float32)
    for api in (irjax, jax):
        got = api.vmap(lambda x, y=1.0: x * y)(xs, y=ys)
        np.testing.assert_allclose(np.asarray(got), xs * ys)
        got = api.vmap(lambda x, d: x * d["a"], in_axes=(None,))(2.0, d={"a": ys})
        np.testing.assert_allclose(np.asarray(got), 2.0 * ys)


def test_out_axes_none_needs_an_unbatched_output():
    # a batched output with out_axes=None returned its first element silently; JAX raises
    jax = pytest.importorskip("jax")
    for m in (irjax, jax):
        with pytest.raises(ValueError, match="got axis spec None but output was batched"):
            m.vmap(lambda x: x * 2, out_axes=None)(m.numpy.arange(3.0))
    for m in (irjax, jax):
        out = m.jit(m.vmap(lambda x, y: (x + y, y.sum()), in_axes=(0, None), out_axes=(1, None)))(
            np.ones((3, 2), np.float32), np.arange(2.0, dtype=np.float32)
        )
        assert np.asarray(out[0]).shape == (2, 3) and float(out[1]) == 1.0

"""Eager fusion writes only the outputs held outside the pending graph; small data movement runs on the host."""

import irjax.numpy as jnp
import numpy as np
import pytest
from irjax import lazy
from irjax.runtime import compiler

jax = pytest.importorskip("jax")
jjnp = pytest.importorskip("jax.numpy")


def _norm(np_, X):
    X = X - X.mean(0)
    return X / X.std(0)


def test_only_the_result_is_written_and_values_match_jax():
    Xn = np.random.default_rng(0).random((50, 3), dtype=np.float32)
    y = _norm(jnp, jnp.asarray(Xn))
    node = y._lazy[0]
    nodes, _ = lazy._topo(node)
    assert len(nodes) > 10  # the whole norm is one pending graph
    assert lazy._live_outputs(nodes, y) == [(len(nodes) - 1, 0)]
    want = _norm(jjnp, jjnp.asarray(Xn))
    np.testing.assert_allclose(np.asarray(y), np.asarray(want), rtol=1e-5, atol=1e-5)
    assert np.asarray(y).dtype == np.asarray(want).dtype


def test_held_intermediates_are_written_and_dropped_ones_recompute():
    x = jnp.asarray(np.arange(6, dtype=np.float32))
    a = jnp.sin(x)
    b = a * 2.0
    c = jnp.exp(b) + 1.0
    np.asarray(c)  # runs the graph: a is held here, b is not
    assert a._lazy is None and a._buf is not None  # written by the same module
    np.testing.assert_allclose(np.asarray(a), np.sin(np.arange(6, dtype=np.float32)), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(c), np.exp(2 * np.sin(np.arange(6, dtype=np.float32))) + 1, rtol=1e-5)


def test_an_unwritten_intermediate_recomputes_when_read():
    x = jnp.asarray(np.linspace(0, 1, 5, dtype=np.float32))
    f = jnp.cos(x) * 3.0 + 1.0
    mul_node = f._lazy[0].inputs[0]._lazy[0]  # holds cos(x) only as a graph input
    np.asarray(f)
    d = mul_node.inputs[0]
    assert d._lazy is not None  # not written: nothing outside the graph held it
    np.testing.assert_allclose(np.asarray(d), np.cos(np.linspace(0, 1, 5, dtype=np.float32)), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(f), 3 * np.cos(np.linspace(0, 1, 5, dtype=np.float32)) + 1, rtol=1e-6)


def test_an_input_of_another_pending_graph_is_written():
    x = jnp.asarray(np.arange(4, dtype=np.float32))
    d = jnp.sin(x)
    f = d * 2.0
    g = d - 1.0  # a second pending graph over d
    del d
    np.asarray(f)
    d = g._lazy[0].inputs[0]
    assert d._lazy is None and d._buf is not None
    np.testing.assert_allclose(np.asarray(g), np.sin(np.arange(4, dtype=np.float32)) - 1, rtol=1e-6)


def test_eager_indexing_runs_on_host_without_compiling():
    xn = np.arange(40, dtype=np.float32).reshape(8, 5)
    x, xj = jnp.asarray(xn), jjnp.asarray(xn)
    x.block_until_ready()
    cases = [
        lambda a, i: a[i],
        lambda a, i: a[i, 2],
        lambda a, i: a[-i - 1, 1:4],
        lambda a, i: a[i : i + 3],
        lambda a, i: a[::-1][i],
        lambda a, i: a.T[1:3],
        lambda a, i: a[i].reshape(5, 1),
    ]
    before = compiler.stats["compiles"]
    got = [np.asarray(f(x, i)) for f in cases for i in range(8)]
    assert compiler.stats["compiles"] == before
    want = [np.asarray(f(xj, i)) for f in cases for i in range(8)]
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_array_equal(g, w)
    b = jnp.asarray(np.array([True, False, True]))
    assert np.asarray(b[1]).dtype == np.bool_ and not bool(b[1])

"""Collectives over named vmap axes (psum, pmax, pmin, pmean, all_gather, psum_scatter,
ppermute, all_to_all, axis_index): values and dtypes against their NumPy definitions and
against jax.vmap(..., axis_name=), gradients against JAX, nested names, unbound names."""

from __future__ import annotations

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest
from irjax import lax

jax = pytest.importorskip("jax")
import jax.numpy as jjnp  # noqa: E402
from jax import lax as jlax  # noqa: E402

N = 4  # members of the named axis
PERM = ((0, 1), (1, 2), (2, 3), (3, 0))
PARTIAL = ((0, 2), (3, 1))  # members 0 and 3 receive nothing: zeros


def _all(lx, y):
    """Every collective on one member's y (shape (4, 6)); lx is irjax.lax or jax.lax."""
    return {
        "psum": lx.psum(y, "i"),
        "pmax": lx.pmax(y, "i"),
        "pmin": lx.pmin(y, "i"),
        "pmean": lx.pmean(y, "i"),
        "gather0": lx.all_gather(y, "i"),
        "gather1": lx.all_gather(y, "i", axis=1),
        "gather_tiled": lx.all_gather(y, "i", axis=1, tiled=True),
        "scatter": lx.psum_scatter(y, "i"),
        "scatter_tiled": lx.psum_scatter(y, "i", scatter_dimension=0, tiled=True),
        "perm": lx.ppermute(y, "i", PERM),
        "a2a": lx.all_to_all(y, "i", 0, 1),
        "a2a_tiled": lx.all_to_all(y, "i", 0, 1, tiled=True),
        "index": lx.axis_index("i"),
        "size": lx.psum(1, "i"),
    }


def _numpy_all(xs):
    """The definitions, on the stacked members xs (N, 4, 6)."""
    n = xs.shape[0]
    rep = lambda v: np.stack([v] * n)  # noqa: E731  (the same value on every member)
    perm = np.zeros_like(xs)
    for s, d in PERM:
        perm[d] = xs[s]
    s = xs.sum(0)
    return {
        "psum": rep(s),
        "pmax": rep(xs.max(0)),
        "pmin": rep(xs.min(0)),
        "pmean": rep(s / n),
        "gather0": rep(xs),
        "gather1": rep(np.moveaxis(xs, 0, 1)),
        "gather_tiled": rep(np.concatenate(list(xs), axis=1)),
        "scatter": np.stack([s[k] for k in range(n)]),
        "scatter_tiled": np.stack([s[k : k + 1] for k in range(n)]),
        "perm": perm,
        "a2a": np.stack([np.stack([xs[j][i] for j in range(n)], axis=1) for i in range(n)]),
        "a2a_tiled": np.stack([np.concatenate([xs[j][i : i + 1] for j in range(n)], axis=1) for i in range(n)]),
        "index": np.arange(n, dtype=np.int32),
        "size": np.full(n, n, np.int32),
    }


_irjax_all = irjax.jit(irjax.vmap(lambda y: _all(lax, y), axis_name="i"))


@pytest.mark.parametrize("dtype", [np.float32, np.int32])
def test_every_collective_vs_numpy_and_jax(dtype):
    xs = np.random.default_rng(0).integers(-9, 9, (N, 4, 6)).astype(dtype)
    got = _irjax_all(xs)
    want_jax = jax.vmap(lambda y: _all(jlax, y), axis_name="i")(xs)
    want_np = _numpy_all(xs)
    for k in want_np:
        g, j = np.asarray(got[k]), np.asarray(want_jax[k])
        assert g.dtype == j.dtype, (k, g.dtype, j.dtype)
        np.testing.assert_allclose(g, j, rtol=1e-6, err_msg=k)
        np.testing.assert_allclose(g, want_np[k].astype(g.dtype), rtol=1e-6, err_msg=k)


def test_partial_permutation_gives_zeros():
    xs = np.arange(N * 3, dtype=np.float32).reshape(N, 3)
    got = irjax.vmap(lambda y: lax.ppermute(y, "i", PARTIAL), axis_name="i")(xs)
    want = np.zeros_like(xs)
    for s, d in PARTIAL:
        want[d] = xs[s]
    np.testing.assert_array_equal(np.asarray(got), want)


def _nested(lx, y):
    return (
        lx.psum(y, ("i", "j")),
        lx.pmax(y, ("j", "i")),
        lx.psum(y, "j"),
        lx.axis_index(("i", "j")),
        lx.axis_index("j"),
        lx.all_gather(y, "i"),  # the outer name, inside the inner vmap
        lx.ppermute(y, "i", ((0, 1), (1, 0))),
        lx.pmean(y, "i") * lx.axis_size(("i", "j")),
    )


def test_nested_vmaps_with_two_names_vs_jax():
    xs = np.random.default_rng(1).standard_normal((2, 3, 5)).astype(np.float32)
    got = irjax.vmap(irjax.vmap(lambda y: _nested(lax, y), axis_name="j"), axis_name="i")(xs)
    want = jax.vmap(jax.vmap(lambda y: _nested(jlax, y), axis_name="j"), axis_name="i")(xs)
    for k, (g, w) in enumerate(zip(got, want)):
        assert np.asarray(g).dtype == np.asarray(w).dtype, k
        np.testing.assert_allclose(np.asarray(g), np.asarray(w), rtol=1e-5, atol=1e-6, err_msg=str(k))


def test_unnamed_inner_vmap_keeps_outer_collectives():
    """Collectives over the outer name inside an unnamed inner vmap: kept by the inner batch
    pass with their axes shifted past its batch dim, resolved by the outer one."""
    xs = np.random.default_rng(2).standard_normal((3, 4, 6)).astype(np.float32)

    def f(lx, vm, y):
        g = vm(lambda r: lx.all_gather(r, "i", axis=1, tiled=True))(y.reshape(4, 3, 2))
        a = vm(lambda r: lx.all_to_all(r, "i", 0, 1))(y.reshape(4, 3, 2))
        return g, a

    g, a = irjax.vmap(lambda y: f(lax, irjax.vmap, y), axis_name="i")(xs)
    gj, aj = jax.vmap(lambda y: f(jlax, jax.vmap, y), axis_name="i")(xs)
    np.testing.assert_allclose(np.asarray(g), np.asarray(gj), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(a), np.asarray(aj), rtol=1e-6)
    r = xs.reshape(3, 4, 3, 2)  # [member j, inner b, split, ...]
    want = np.stack([np.stack([r[j, :, i] for j in range(3)], axis=2) for i in range(3)])
    np.testing.assert_allclose(np.asarray(a), want, rtol=1e-6)


def _loss(lx, y, w):
    h = jjnp.tanh if lx is jlax else jnp.tanh
    a = lx.psum(y * w, "i")
    b = lx.all_gather(h(y), "i")
    c = lx.psum_scatter(y * y, "i", tiled=True)
    d = lx.ppermute(y, "i", PERM)
    e = lx.all_to_all(y.reshape(N, 2), "i", 0, 0)
    f = lx.all_to_all(y.reshape(N, 2), "i", 0, 1, tiled=True)
    return (a * y).sum() + (b * b).sum() * w + (c * c).sum() + (d * y).sum() + (e * e * w).sum() + (f * f * f).sum()


def test_grads_inside_vmap_vs_jax():
    """vmap(grad(f)) with every linear collective in f (their transposes) and an unmapped w."""
    xs = np.random.default_rng(3).standard_normal((N, 8)).astype(np.float32)
    w = np.float32(0.7)
    got = irjax.vmap(irjax.grad(lambda y, w: _loss(lax, y, w), argnums=(0, 1)), in_axes=(0, None), axis_name="i")(xs, w)
    want = jax.vmap(jax.grad(lambda y, w: _loss(jlax, y, w), argnums=(0, 1)), in_axes=(0, None), axis_name="i")(xs, w)
    for g, wv in zip(got, want):
        np.testing.assert_allclose(np.asarray(g), np.asarray(wv), rtol=2e-5, atol=1e-5)


def test_grad_and_jvp_of_vmapped_collectives_vs_jax():
    xs = np.random.default_rng(4).standard_normal((N, 8)).astype(np.float32)
    ts = np.random.default_rng(5).standard_normal((N, 8)).astype(np.float32)

    def total(lx, vm, x):
        return vm(lambda y: _loss(lx, y, 0.5), axis_name="i")(x).sum()

    g = irjax.grad(lambda x: total(lax, irjax.vmap, x))(xs)
    gj = jax.grad(lambda x: total(jlax, jax.vmap, x))(xs)
    np.testing.assert_allclose(np.asarray(g), np.asarray(gj), rtol=2e-5, atol=1e-5)
    _, t = irjax.jvp(lambda x: total(lax, irjax.vmap, x), (xs,), (ts,))
    _, tj = jax.jvp(lambda x: total(jlax, jax.vmap, x), (xs,), (ts,))
    np.testing.assert_allclose(float(t), float(tj), rtol=2e-5)


def test_pmax_is_not_differentiable_as_in_jax():
    xs = np.arange(4.0, dtype=np.float32)
    with pytest.raises(NotImplementedError, match="differentiation of jx.pmax is not implemented"):
        irjax.vmap(irjax.grad(lambda y: lax.pmax(y, "i")), axis_name="i")(xs)


def test_collective_inside_jit_with_unmapped_operands():
    """A call whose operands are all unmapped still varies over the axis when its callee uses
    axis_index: the batch pass must not pass it through unbatched."""
    jf = irjax.jit(lambda c: c + lax.axis_index("i") + lax.psum(c, "i"))
    got = irjax.vmap(lambda x, c: jf(c) * x, in_axes=(0, None), axis_name="i")(np.ones(3, np.int32), np.int32(2))
    np.testing.assert_array_equal(np.asarray(got), np.array([8, 9, 10], np.int32))


def test_cond_and_scan_bodies_use_the_axis():
    def f(x):
        def body(c, _):
            return c + lax.psum(x, "i"), None

        s, _ = lax.scan(body, x, None, length=2)
        return lax.cond(x > 1, lambda: s, lambda: -s)

    xs = np.arange(4.0, dtype=np.float32)
    got = irjax.vmap(f, axis_name="i")(xs)
    want = np.where(xs > 1, xs + 2 * xs.sum(), -(xs + 2 * xs.sum()))
    np.testing.assert_allclose(np.asarray(got), want)


def test_unbound_axis_names_raise_name_error():
    with pytest.raises(NameError, match="unbound axis name: i"):
        lax.psum(1.0, "i")
    with pytest.raises(NameError, match="unbound axis name: k"):
        irjax.jit(lambda x: lax.all_gather(x, "k"))(np.ones(2, np.float32))
    with pytest.raises(NameError, match="unbound axis name: j"):
        irjax.vmap(lambda x: lax.psum(x, ("i", "j")), axis_name="i")(np.ones(2, np.float32))
    with pytest.raises(NameError, match="unbound axis name: i"):
        lax.axis_index("i")


def test_bad_arguments_name_what_was_expected():
    xs = np.ones((4, 3), np.float32)
    with pytest.raises(ValueError, match="unique"):
        irjax.vmap(lambda y: lax.ppermute(y, "i", ((0, 1), (1, 1))), axis_name="i")(xs)
    with pytest.raises(ValueError, match="outside axis 'i' of size 4"):
        irjax.vmap(lambda y: lax.ppermute(y, "i", ((0, 4),)), axis_name="i")(xs)
    with pytest.raises(ValueError, match="equal the axis size 4"):
        irjax.vmap(lambda y: lax.psum_scatter(y, "i"), axis_name="i")(xs)
    with pytest.raises(ValueError, match="divisible by the axis size 4"):
        irjax.vmap(lambda y: lax.all_to_all(y, "i", 0, 0, tiled=True), axis_name="i")(xs)
    with pytest.raises(NotImplementedError, match="one axis name"):
        irjax.vmap(irjax.vmap(lambda y: lax.all_gather(y, ("i", "j")), axis_name="j"), axis_name="i")(
            np.ones((2, 2, 3), np.float32)
        )
    with pytest.raises(TypeError, match="axis_name must be a string"):
        irjax.vmap(lambda y: y, axis_name=3)


def test_ir_batch_pass_and_unbound_lowering():
    """The batch pass resolves a collective over its axis-name; one left unbound stops at
    lower-stablehlo with JAX's NameError."""
    from irjax.dialects.mlir import enter, ir
    from irjax.passes.registry import run_pipeline

    text = """func.func @f(%x: tensor<3xf32>) -> (tensor<3xf32>, tensor<i32>) {
      %0 = "jx.psum"(%x) {axis_name = ["i"]} : (tensor<3xf32>) -> tensor<3xf32>
      %1 = "jx.axis_index"() {axis_name = ["i"]} : () -> tensor<i32>
      return %0, %1 : tensor<3xf32>, tensor<i32>
    }"""
    with enter():
        m = ir.Module.parse(text)
        run_pipeline(m, "batch{func=f in-axes=0 axis-size=4 axis-name=i}")
        out = str(m)
    assert '"jx.reduce_sum"(%arg0) {axes = array<i64: 0>} : (tensor<4x3xf32>) -> tensor<3xf32>' in out
    assert '"jx.iota"() {dimension = 0 : i64, dtype = i32, shape = array<i64: 4>}' in out
    with enter():
        m = ir.Module.parse(text)
        with pytest.raises(NameError, match="unbound axis name: i"):
            run_pipeline(m, "lower-stablehlo{entry=f}")


def test_pmap_size_one_vs_jax_and_larger_via_vmap():
    """pmap runs on vmap's machinery; sizes above local_device_count() are refused as JAX does."""
    x = np.arange(3.0, dtype=np.float32).reshape(1, 3)

    def f(lx, y, scale):
        return lx.psum(y, "d") * scale + lx.axis_index("d")

    got = irjax.pmap(lambda y, s: f(lax, y, s), axis_name="d", static_broadcasted_argnums=1)(x, 2.0)
    want = jax.pmap(lambda y, s: f(jlax, y, s), axis_name="d", static_broadcasted_argnums=1)(x, 2.0)
    np.testing.assert_allclose(np.asarray(got), np.asarray(want))
    assert np.asarray(got).dtype == np.asarray(want).dtype
    n = irjax.local_device_count()
    with pytest.raises(ValueError, match=f"requires {n + 1} logical devices"):
        irjax.pmap(lambda y: y, axis_name="d")(np.ones((n + 1, 2), np.float32))


def test_control_flow_with_only_the_axis_varying():
    """cond / while / scan whose operands are all unmapped but whose bodies use axis_index."""

    got = irjax.vmap(lambda x, c: _cf(lax, c), in_axes=(0, None), axis_name="i")(np.zeros(3), np.int32(1))
    want = jax.vmap(lambda x, c: _cf(jlax, c), in_axes=(0, None), axis_name="i")(np.zeros(3), np.int32(1))
    for g, w in zip(got, want):
        np.testing.assert_array_equal(np.asarray(g), np.asarray(w))
        assert np.asarray(g).dtype == np.asarray(w).dtype


def _cf(lx, c):
    a = lx.cond(c > 0, lambda: lx.axis_index("i") * 2, lambda: lx.axis_index("i"))
    b = lx.fori_loop(0, 3, lambda k, s: s + lx.axis_index("i"), 0)
    d, _ = lx.scan(lambda s, _: (s + lx.axis_index("i"), None), 1, None, length=2)
    return a, b, d


def test_jit_cache_keys_on_the_bound_axis_size():
    """A jitted function traced under an axis of size 4 must not be reused under size 8 (pmean
    divides by the size, all_gather's shape holds it)."""
    jf = irjax.jit(lambda y: (lax.pmean(y, "i"), lax.all_gather(y, "i")))
    for n in (4, 8):
        x = np.arange(float(n), dtype=np.float32)
        m, g = irjax.vmap(jf, axis_name="i")(x)
        np.testing.assert_allclose(np.asarray(m), np.full(n, x.mean()))
        np.testing.assert_array_equal(np.asarray(g), np.broadcast_to(x, (n, n)))

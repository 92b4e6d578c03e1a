"""checkpoint / remat against jax.checkpoint: values and gradients under jit, grad and vmap,
static_argnums, prevent_cse (an optimization barrier before the recomputation) and policy."""

import irjax
import irjax.numpy as jnp
import jax
import jax.numpy as jjnp
import numpy as np
import pytest
from irjax.dialects.func import parse_module
from irjax.dialects.interpret import evaluate
from irjax.passes.autodiff import vjp_function
from irjax.passes.registry import run_pipeline

X = np.linspace(-1.0, 1.5, 6).astype(np.float32)
W = np.linspace(0.5, -0.7, 6).astype(np.float32)


def block(np_):
    def f(x, w):
        return np_.sin(x * w) * np_.tanh(x) + w

    return f


def loss(np_, ckpt, **kw):
    inner = ckpt(block(np_), **kw)

    def l(x, w):
        h = inner(x, w)
        h = inner(h, w)
        return np_.sum(h * h)

    return l


def close(a, b, rtol=1e-5, atol=1e-6):
    a, b = np.asarray(a), np.asarray(b)
    assert a.dtype == b.dtype, (a.dtype, b.dtype)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


@pytest.mark.parametrize("prevent_cse", [True, False])
def test_value_and_grad_match_jax(prevent_cse):
    mine = loss(jnp, irjax.checkpoint, prevent_cse=prevent_cse)
    ref = loss(jjnp, jax.checkpoint, prevent_cse=prevent_cse)
    close(irjax.jit(mine)(X, W), ref(X, W))
    g, gr = irjax.grad(mine, argnums=(0, 1))(X, W), jax.grad(ref, argnums=(0, 1))(X, W)
    for a, b in zip(g, gr):
        close(a, b)


def test_eager_call_and_remat_alias():
    assert irjax.remat is irjax.checkpoint
    close(irjax.checkpoint(block(jnp))(X, W), jax.checkpoint(block(jjnp))(X, W))


def test_jit_of_grad_and_second_order():
    mine, ref = loss(jnp, irjax.checkpoint), loss(jjnp, jax.checkpoint)
    close(irjax.jit(irjax.grad(mine))(X, W), jax.grad(ref)(X, W))
    s = lambda x: jnp.sum(irjax.checkpoint(jnp.sin)(x) ** 2)
    sr = lambda x: jjnp.sum(jax.checkpoint(jjnp.sin)(x) ** 2)
    hv = irjax.grad(lambda x: jnp.vdot(irjax.grad(s)(x), W))(X)
    hvr = jax.grad(lambda x: jjnp.vdot(jax.grad(sr)(x), W))(X)
    close(hv, hvr)


def test_vmap_and_vmap_of_grad_match_a_loop():
    f = irjax.checkpoint(block(jnp))
    xs = np.stack([X, X * 2, -X]).astype(np.float32)
    got = irjax.vmap(f, in_axes=(0, None))(xs, W)
    close(got, np.stack([jax.checkpoint(block(jjnp))(x, W) for x in xs]))
    gl = irjax.vmap(irjax.grad(loss(jnp, irjax.checkpoint)), in_axes=(0, None))(xs, W)
    close(gl, np.stack([jax.grad(loss(jjnp, jax.checkpoint))(x, W) for x in xs]))


def test_jvp_matches_jax():
    f, fr = irjax.checkpoint(block(jnp)), jax.checkpoint(block(jjnp))
    p, t = irjax.jvp(lambda x: f(x, W), (X,), (W,))
    pr, tr = jax.jvp(lambda x: fr(x, W), (X,), (W,))
    close(p, pr)
    close(t, tr)


def test_static_argnums():
    def f(x, n, scale):
        for _ in range(n):  # n is a Python int: only possible when static
            x = jnp.sin(x) * scale
        return x

    def fr(x, n, scale):
        for _ in range(n):
            x = jjnp.sin(x) * scale
        return x

    g = irjax.grad(lambda x: jnp.sum(irjax.checkpoint(f, static_argnums=(1,))(x, 3, 1.5)))(X)
    gr = jax.grad(lambda x: jjnp.sum(jax.checkpoint(fr, static_argnums=(1,))(x, 3, 1.5)))(X)
    close(g, gr)
    with pytest.raises(ValueError, match="static_argnums"):
        irjax.jit(lambda x: irjax.checkpoint(f, static_argnums=(5,))(x, 3, 1.5))(X)


def test_policy_other_than_none_is_refused():
    with pytest.raises(NotImplementedError, match="policy=None"):
        irjax.checkpoint(jnp.sin, policy=lambda *a, **k: True)
    assert irjax.checkpoint(jnp.sin, policy=None)(np.float32(0.5)) == np.sin(np.float32(0.5))


def test_backward_pass_recomputes_behind_a_barrier():
    """The vjp of a remat is a remat of the callee's vjp (which recomputes the callee from the
    primals); with prevent_cse its lowering puts an optimization barrier on those operands."""
    m = parse_module("""
func.func @g(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = "jx.sin"(%x) : (tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}
func.func @f(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = "jx.remat"(%x) {callee = @g, prevent_cse = true} : (tensor<3xf32>) -> tensor<3xf32>
  %1 = "jx.mul"(%0, %0) : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %1 : tensor<3xf32>
}""")
    v = vjp_function(m, "f")
    text = str(m)
    assert '"jx.remat"(%arg0) {callee = @g, prevent_cse = true}' in text  # forward
    assert "{callee = @g_vjp, prevent_cse = true}" in text  # backward: recompute + transpose
    x = np.array([0.1, 0.2, 0.3], np.float32)
    ct = np.ones(3, np.float32)
    out, gx = evaluate(m, v, [x, ct])
    close(out, np.sin(x) ** 2)
    close(gx, 2 * np.sin(x) * np.cos(x))
    run_pipeline(m, f"lower-stablehlo{{entry={v}}}")
    lowered = str(m)
    assert "jx." not in lowered
    f_vjp = next(t for t in lowered.split("func.func") if f"@{v}(" in t)
    # one barrier before the forward call @g, one before the recomputing call @g_vjp
    assert f_vjp.count("stablehlo.optimization_barrier") == 2
    assert "call @g(" in f_vjp and "call @g_vjp(" in f_vjp


def test_without_prevent_cse_no_barrier():
    text = irjax.jit(lambda x: irjax.checkpoint(jnp.sin, prevent_cse=False)(x)).lower(X).as_text("stablehlo")
    assert "optimization_barrier" not in text
    text = irjax.jit(lambda x: irjax.checkpoint(jnp.sin)(x)).lower(X).as_text("stablehlo")
    assert "optimization_barrier" in text

"""Differential tests of irjax's autodiff against JAX (the test-only oracle).

Each suite function is written once against a NumPy-like module `m` and run with both
`irjax.numpy` and `jax.numpy`; gradients, Jacobians, jvp/vjp and their compositions with
jit and vmap must agree. A few gradients are also checked against finite differences.
"""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.portable  # CI runs this file on Vulkan too (-m portable)

jax = pytest.importorskip("jax")
import irjax  # noqa: E402
import irjax.numpy as jnp  # noqa: E402
import jax.numpy as jjnp  # noqa: E402
from irjax import tree_util  # noqa: E402
from tree_compare import tree_close  # noqa: E402

RTOL, ATOL = 2e-5, 2e-5


def close(a, b, rtol=RTOL, atol=ATOL):
    tree_close(a, b, rtol, atol)


rng = np.random.RandomState(0)


def randn(*shape):
    return rng.randn(*shape).astype(np.float32)


# ---- the suite: each entry is (function of (m, *args), args) ------------------------------------


def mlp_loss(m, params, x, y):
    h = m.tanh(x @ params["w1"] + params["b1"])
    out = h @ params["w2"] + params["b2"]
    return m.mean((out - y) ** 2)


MLP_PARAMS = {"w1": randn(4, 8) * 0.5, "b1": randn(8) * 0.1, "w2": randn(8, 3) * 0.5, "b2": randn(3) * 0.1}
MLP_X, MLP_Y = randn(5, 4), randn(5, 3)


def logsumexp(m, x):
    mx = m.max(x, axis=-1, keepdims=True)
    return m.sum(m.log(m.sum(m.exp(x - mx), axis=-1)) + mx[..., 0])


def softmax_xent(m, logits, labels):
    mx = m.max(logits, axis=-1, keepdims=True)
    shifted = logits - mx
    logp = shifted - m.log(m.sum(m.exp(shifted), axis=-1, keepdims=True))
    return -m.mean(m.sum(labels * logp, axis=-1))


def norms(m, x):
    return m.sqrt(m.sum(x**2)) + m.sum(m.abs(x)) + m.max(m.abs(x))


def indexing(m, x):
    y = x[1:3] * 2.0 + x[np.array([0, 2])] + x[::-1][:2]
    z = x.at[1].set(0.5).at[np.array([0, 3])].add(x[2]) * x
    return m.sum(y**2) + m.sum(z * x[0]) + x[2, 1] * x[-1, -1]


def broadcasting(m, x, y):
    return m.sum(m.sin(x[:, None] * y[None, :] + y) * 2.0 - x.reshape(-1, 1))


def reductions(m, x):
    return m.sum(m.mean(x, axis=0) ** 2) + m.max(x) + m.min(m.sum(x, axis=1)) + m.prod(x[0]) + m.var(x)


def matmuls(m, a, b):
    c = a @ b
    d = m.dot(c, c.T)
    return m.sum(m.tanh(d)) + m.sum(m.einsum("ij,jk->ik", a, b))


def where_select(m, x):
    leaky = m.where(x > 0, x, 0.1 * x)
    return m.sum(leaky**2) + m.sum(m.where(x < 0.5, m.exp(x), 1.0)) + m.sum(m.maximum(x, 0.2) * m.minimum(x, -0.1))


def sort_fn(m, x):
    w = m.arange(x.shape[0], dtype=np.float32)
    return m.sum(m.sort(x) * w) + m.sum(m.sort(x * x)[-2:])


SUITE = {
    "mlp": (mlp_loss, (MLP_PARAMS, MLP_X, MLP_Y)),
    "logsumexp": (logsumexp, (randn(3, 5),)),
    "softmax_xent": (softmax_xent, (randn(4, 6), np.eye(6, dtype=np.float32)[[0, 3, 5, 1]])),
    "norms": (norms, (randn(7),)),
    "indexing": (indexing, (randn(4, 3),)),
    "broadcasting": (broadcasting, (randn(3), randn(4))),
    "reductions": (reductions, (randn(3, 4) + 2.0,)),
    "matmuls": (matmuls, (randn(3, 4), randn(4, 2))),
    "where_select": (where_select, (randn(9),)),
    "sort": (sort_fn, (randn(6),)),
}


def both(fn):
    return (lambda *a: fn(jnp, *a)), (lambda *a: fn(jjnp, *a))


@pytest.mark.parametrize("name", list(SUITE))
def test_grad_suite(name):
    fn, args = SUITE[name]
    fi, fj = both(fn)
    argnums = tuple(range(len(args)))
    vi, gi = irjax.value_and_grad(fi, argnums=argnums)(*args)
    vj, gj = jax.value_and_grad(fj, argnums=argnums)(*args)
    close(vi, vj)
    close(gi, gj, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", ["logsumexp", "indexing", "broadcasting", "where_select", "sort"])
def test_jacobians_suite(name):
    fn, args = SUITE[name]
    fi, fj = both(fn)
    close(irjax.jacfwd(fi)(*args), jax.jacfwd(fj)(*args), rtol=1e-4, atol=1e-4)
    close(irjax.jacrev(fi)(*args), jax.jacrev(fj)(*args), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", ["logsumexp", "norms", "reductions"])
def test_hessian_suite(name):
    fn, args = SUITE[name]
    fi, fj = both(fn)
    close(irjax.hessian(fi)(*args), jax.hessian(fj)(*args), rtol=1e-3, atol=1e-3)


def test_jvp_vjp_mlp():
    fi, fj = both(mlp_loss)
    tang = jax.tree_util.tree_map(lambda a: np.ones_like(a) * 0.3, (MLP_PARAMS, MLP_X, MLP_Y))
    pi, ti = irjax.jvp(fi, (MLP_PARAMS, MLP_X, MLP_Y), tang)
    pj, tj = jax.jvp(fj, (MLP_PARAMS, MLP_X, MLP_Y), tang)
    close(pi, pj)
    close(ti, tj, rtol=1e-4, atol=1e-4)
    oi, pbi = irjax.vjp(fi, MLP_PARAMS, MLP_X, MLP_Y)
    oj, pbj = jax.vjp(fj, MLP_PARAMS, MLP_X, MLP_Y)
    close(oi, oj)
    close(pbi(np.float32(2.0)), pbj(np.float32(2.0)), rtol=1e-4, atol=1e-4)


def test_jvp_vjp_vector_output():
    def f(m, x, y):
        return {"a": m.sin(x) * y, "b": (m.cumsum(x), x @ m.ones((3, 2)))}

    fi, fj = both(f)
    x, y = randn(3), randn(3)
    tx, ty = randn(3), randn(3)
    close(irjax.jvp(fi, (x, y), (tx, ty)), jax.jvp(fj, (x, y), (tx, ty)))
    oi, pbi = irjax.vjp(fi, x, y)
    oj, pbj = jax.vjp(fj, x, y)
    ct = {"a": randn(3), "b": (randn(3), randn(2))}
    close(oi, oj)
    close(pbi(ct), pbj(ct))


# ---- argnums, has_aux, pytrees ------------------------------------------------------------------


def f3(m, x, y, z):
    return m.sum(m.sin(x) * y) + m.sum(z**2 * x)


X3 = (randn(3), randn(3), randn(3))


@pytest.mark.parametrize("argnums", [0, 1, (0,), (0, 2), (2, 0, 1), -1])
def test_argnums(argnums):
    fi, fj = both(f3)
    gi = irjax.grad(fi, argnums=argnums)(*X3)
    gj = jax.grad(fj, argnums=argnums)(*X3)
    assert isinstance(gi, tuple) == isinstance(gj, tuple)
    close(gi, gj)


def test_has_aux():
    def f(m, x):
        y = m.sin(x)
        return m.sum(y), {"y": y, "n": m.max(x)}

    fi, fj = both(f)
    x = randn(4)
    gi, auxi = irjax.grad(fi, has_aux=True)(x)
    gj, auxj = jax.grad(fj, has_aux=True)(x)
    close(gi, gj)
    close(auxi, auxj)
    (vi, ai), gi = irjax.value_and_grad(fi, has_aux=True)(x)
    (vj, aj), gj = jax.value_and_grad(fj, has_aux=True)(x)
    close((vi, ai, gi), (vj, aj, gj))
    oi, pbi, auxi = irjax.vjp(fi, x, has_aux=True)
    oj, pbj, auxj = jax.vjp(fj, x, has_aux=True)
    close((oi, pbi(np.float32(1.5)), auxi), (oj, pbj(np.float32(1.5)), auxj))
    pi, ti, auxi = irjax.jvp(fi, (x,), (x,), has_aux=True)
    pj, tj, auxj = jax.jvp(fj, (x,), (x,), has_aux=True)
    close((pi, ti, auxi), (pj, tj, auxj))


def test_pytree_params():
    def f(m, p):
        (a, b), d = p["pair"], p["list"]
        return m.sum(a * b) + m.sum(m.exp(d[0])) * d[1][0]

    fi, fj = both(f)
    p = {"pair": (randn(2), randn(2)), "list": [randn(3), randn(1)]}
    gi, gj = irjax.grad(fi)(p), jax.grad(fj)(p)
    assert tree_util.tree_structure(gi) == tree_util.tree_structure(p)
    close(gi, gj)


def test_integer_inputs():
    def f(m, x, n):
        return m.sum(x * n)

    fi, fj = both(f)
    x, n = randn(3), np.arange(3, dtype=np.int32)
    with pytest.raises(TypeError, match="inexact"):
        irjax.grad(fi, argnums=1)(x, n)
    with pytest.raises(TypeError):
        jax.grad(fj, argnums=1)(x, n)
    close(irjax.grad(fi)(x, n), jax.grad(fj)(x, n))
    # jvp with an integer primal: its tangent is ignored (float0 in JAX)
    ti = irjax.jvp(fi, (x, n), (x, np.zeros(3, np.int32)))[1]
    tj = jax.jvp(fj, (x, n), (x, np.zeros(3, jax.dtypes.float0)))[1]
    close(ti, tj)
    # integer outputs pass through jvp with zero tangents
    pi, tti = irjax.jvp(lambda x: (x * 2.0, jnp.argmax(x)), (x,), (x,))
    assert np.asarray(pi[1]) == np.argmax(x)


def test_nonscalar_output_error():
    with pytest.raises(TypeError, match="Gradient only defined for scalar-output functions"):
        irjax.grad(lambda x: jnp.sin(x))(randn(3))
    with pytest.raises(TypeError, match="Gradient only defined for scalar-output functions"):
        jax.grad(lambda x: jjnp.sin(x))(randn(3))
    with pytest.raises(TypeError):
        irjax.grad(lambda x: jnp.sum(x).astype(np.int32))(randn(3))


def test_stop_gradient():
    def f(m, sg, x):
        return m.sum(x * sg(x) + sg(m.sin(x)) * m.cos(x))

    x = randn(4)
    gi = irjax.grad(lambda x: f(jnp, irjax.stop_gradient, x))(x)
    gj = jax.grad(lambda x: f(jjnp, jax.lax.stop_gradient, x))(x)
    close(gi, gj)
    # stop_gradient on a pytree, and of a whole function
    tree = irjax.stop_gradient({"a": x})
    close(tree, {"a": x})
    assert np.all(np.asarray(irjax.grad(lambda x: jnp.sum(irjax.stop_gradient(x * 2)))(x)) == 0)


# ---- compositions -------------------------------------------------------------------------------


def g(m, x):
    return m.sum(m.tanh(x) * m.sin(x[::-1]) + x**3 / 3.0)


GX = randn(4)


def test_compositions_first_order():
    fi, fj = both(g)
    want_v, want_g = fj(GX), jax.grad(fj)(GX)
    close(fi(GX), want_v)
    close(irjax.jit(fi)(GX), want_v)
    close(irjax.grad(fi)(GX), want_g)
    close(irjax.grad(irjax.jit(fi))(GX), want_g)
    close(irjax.jit(irjax.grad(fi))(GX), want_g)
    close(irjax.jit(irjax.grad(irjax.jit(fi)))(GX), want_g)


def test_grad_grad_scalar():
    def h(m, x):
        return m.sin(x) * x**2 + m.exp(-x)

    fi, fj = both(h)
    for x in (0.3, np.float32(-1.2)):
        close(irjax.grad(irjax.grad(fi))(x), jax.grad(jax.grad(fj))(x))
        close(irjax.jit(irjax.grad(irjax.grad(fi)))(x), jax.grad(jax.grad(fj))(x))
    close(
        irjax.grad(irjax.jit(irjax.grad(irjax.jit(irjax.grad(fi)))))(0.7),
        jax.grad(jax.grad(jax.grad(fj)))(0.7),
        rtol=1e-4,
    )


def test_second_order_jacobians():
    fi, fj = both(g)
    want = jax.hessian(fj)(GX)
    close(irjax.jacfwd(irjax.jacrev(fi))(GX), want, rtol=1e-4, atol=1e-4)
    close(irjax.jacrev(irjax.jacfwd(fi))(GX), want, rtol=1e-4, atol=1e-4)
    close(irjax.jacrev(irjax.jacrev(fi))(GX), want, rtol=1e-4, atol=1e-4)
    close(irjax.hessian(fi)(GX), want, rtol=1e-4, atol=1e-4)


def test_vmap_grad_and_grad_vmap():
    fi, fj = both(g)
    xs = randn(5, 4)
    close(irjax.vmap(irjax.grad(fi))(xs), jax.vmap(jax.grad(fj))(xs))
    close(irjax.jit(irjax.vmap(irjax.grad(fi)))(xs), jax.vmap(jax.grad(fj))(xs))

    def gv_i(x):
        return jnp.sum(irjax.vmap(fi)(x) ** 2)

    def gv_j(x):
        return jjnp.sum(jax.vmap(fj)(x) ** 2)

    close(irjax.grad(gv_i)(xs), jax.grad(gv_j)(xs), rtol=1e-4, atol=1e-4)


def test_jacobian_argnums_and_pytree_outputs():
    def f(m, x, y):
        return {"s": m.sin(x) * y[0], "t": m.sum(x) * y}

    fi, fj = both(f)
    x, y = randn(3), randn(2)
    close(irjax.jacfwd(fi, argnums=(0, 1))(x, y), jax.jacfwd(fj, argnums=(0, 1))(x, y))
    close(irjax.jacrev(fi, argnums=(0, 1))(x, y), jax.jacrev(fj, argnums=(0, 1))(x, y))
    close(irjax.jacobian(fi, argnums=1)(x, y), jax.jacobian(fj, argnums=1)(x, y))


def test_linearize():
    fi, fj = both(g)
    oi, li = irjax.linearize(fi, GX)
    oj, lj = jax.linearize(fj, GX)
    t = randn(4)
    close(oi, oj)
    close(li(t), lj(t))


def test_closure_over_outer_tracer():
    # grad inside jit closing over a traced value, and grad w.r.t. a closed-over array
    def outer(m, grad, x, w):
        return grad(lambda v: m.sum(m.sin(v * w)))(x) * w

    x, w = randn(3), randn(3)
    gi = irjax.jit(lambda x, w: outer(jnp, irjax.grad, x, w))(x, w)
    gj = jax.jit(lambda x, w: outer(jjnp, jax.grad, x, w))(x, w)
    close(gi, gj)
    close(
        irjax.grad(lambda w: jnp.sum(outer(jnp, irjax.grad, x, w)))(w),
        jax.grad(lambda w: jjnp.sum(outer(jjnp, jax.grad, x, w)))(w),
        rtol=1e-4,
        atol=1e-4,
    )


# ---- finite differences -------------------------------------------------------------------------


def _fd_grad(f, x, eps=1e-3):
    x = np.asarray(x, np.float64)
    out = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = eps
        out[i] = (float(f((x + e).astype(np.float32))) - float(f((x - e).astype(np.float32)))) / (2 * eps)
    return out


@pytest.mark.parametrize("name", ["logsumexp", "norms", "sort"])
def test_grad_vs_finite_differences(name):
    fn, args = SUITE[name]
    f = irjax.jit(lambda x: fn(jnp, x))
    g_ = irjax.grad(lambda x: fn(jnp, x))(args[0])
    np.testing.assert_allclose(np.asarray(g_), _fd_grad(f, args[0]), rtol=2e-2, atol=2e-2)


# ---- IR size ------------------------------------------------------------------------------------


def _count_jx_ops(module, fname):
    from irjax.dialects.func import body_ops, find_func

    return sum(1 for op in body_ops(find_func(module, fname)) if op.name.startswith("jx."))


def test_reverse_mode_ir_size():
    from irjax.passes.autodiff import grad_function
    from irjax.passes.registry import run_pipeline

    jx = irjax.make_jaxpr(lambda p, x, y: mlp_loss(jnp, p, x, y))(MLP_PARAMS, MLP_X, MLP_Y)
    tr = jx.traced
    module, fname = tr.module, tr.fname
    n_leaves = len(tree_util.tree_leaves(MLP_PARAMS))
    gname = grad_function(module, fname, tuple(range(n_leaves)))
    run_pipeline(module, "inline,cse,dce")
    n_fwd = _count_jx_ops(module, fname)
    n_rev = _count_jx_ops(module, gname)
    ratio = n_rev / n_fwd
    print(f"\nMLP loss: forward {n_fwd} jx ops, grad {n_rev} jx ops, ratio {ratio:.2f}")
    assert ratio <= 4.0, (n_fwd, n_rev)


# ---- custom_jvp / custom_vjp --------------------------------------------------------------------


def _log1pexp(m, custom_jvp):
    @custom_jvp
    def log1pexp(x):
        return m.log(1.0 + m.exp(x))

    @log1pexp.defjvp
    def log1pexp_jvp(primals, tangents):
        (x,), (t,) = primals, tangents
        return log1pexp(x), t * (1 - 1 / (1 + m.exp(x)))

    return log1pexp


def test_custom_jvp_log1pexp():
    fi, fj = _log1pexp(jnp, irjax.custom_jvp), _log1pexp(jjnp, jax.custom_jvp)
    xs = np.array([-3.0, 0.0, 2.0, 100.0], np.float32)
    close(irjax.jit(fi)(xs), jax.jit(fj)(xs))
    close(irjax.grad(fi)(100.0), jax.grad(fj)(100.0))  # 1.0, not nan: the rule is used
    close(irjax.vmap(irjax.grad(fi))(xs), jax.vmap(jax.grad(fj))(xs))
    close(irjax.grad(lambda x: jnp.sum(irjax.vmap(fi)(x)))(xs), jax.grad(lambda x: jjnp.sum(jax.vmap(fj)(x)))(xs))
    close(irjax.jvp(fi, (xs,), (xs,)), jax.jvp(fj, (xs,), (xs,)))
    close(irjax.jit(irjax.grad(fi))(1.5), jax.grad(fj)(1.5))
    close(irjax.grad(irjax.grad(fi))(0.7), jax.grad(jax.grad(fj))(0.7))
    close(irjax.hessian(fi)(0.7), jax.hessian(fj)(0.7))


def test_custom_jvp_nondiff_and_pytrees():
    def make(m, custom_jvp):
        @custom_jvp
        def scaled(p, k):
            return {"s": m.sin(p["a"]) * k, "t": p["b"] ** 2}

        @scaled.defjvp
        def scaled_jvp(k, primals, tangents):
            (p,), (tp,) = primals, tangents
            # deliberately "wrong" (x3) so the test sees the rule was used
            return scaled(p, k), {"s": 3.0 * m.cos(p["a"]) * k * tp["a"], "t": 2 * p["b"] * tp["b"]}

        return scaled

    si = make(jnp, lambda f: irjax.custom_jvp(f, nondiff_argnums=(1,)))
    sj = make(jjnp, lambda f: jax.custom_jvp(f, nondiff_argnums=(1,)))
    p = {"a": randn(3), "b": randn(3)}
    close(irjax.jacrev(lambda p: si(p, 2.0))(p), jax.jacrev(lambda p: sj(p, 2.0))(p))
    close(irjax.jacfwd(lambda p: si(p, 2.0))(p), jax.jacfwd(lambda p: sj(p, 2.0))(p))


def _clip_gradient(m, custom_vjp):
    @custom_vjp
    def clip_gradient(lo, hi, x):
        return x

    def fwd(lo, hi, x):
        return x, (lo, hi)

    def bwd(res, g):
        lo, hi = res
        return (None, None, m.clip(g, lo, hi))

    clip_gradient.defvjp(fwd, bwd)
    return clip_gradient


def test_custom_vjp_clip_gradient():
    ci, cj = _clip_gradient(jnp, irjax.custom_vjp), _clip_gradient(jjnp, jax.custom_vjp)
    xs = np.linspace(-2, 2, 5).astype(np.float32)

    def li(x):
        return jnp.sum(ci(-0.5, 0.5, jnp.sin(x) * 3.0))

    def lj(x):
        return jjnp.sum(cj(-0.5, 0.5, jjnp.sin(x) * 3.0))

    close(irjax.grad(li)(xs), jax.grad(lj)(xs))
    close(irjax.jit(irjax.grad(li))(xs), jax.grad(lj)(xs))
    close(irjax.grad(irjax.jit(li))(xs), jax.grad(lj)(xs))
    gvi = irjax.vmap(irjax.grad(lambda x: ci(-0.5, 0.5, jnp.sin(x) * 3.0)))(xs)
    gvj = jax.vmap(jax.grad(lambda x: cj(-0.5, 0.5, jjnp.sin(x) * 3.0)))(xs)
    close(gvi, gvj)
    close(
        irjax.grad(lambda x: jnp.sum(irjax.vmap(lambda v: ci(-0.5, 0.5, v * 3.0))(x)))(xs),
        jax.grad(lambda x: jjnp.sum(jax.vmap(lambda v: cj(-0.5, 0.5, v * 3.0))(x)))(xs),
    )
    with pytest.raises(TypeError, match="forward-mode"):
        irjax.jvp(lambda x: ci(-0.5, 0.5, x), (xs,), (xs,))


def test_custom_vjp_residuals_closure_and_unbatched_args():
    w = randn(3)

    def make(m, custom_vjp):
        @custom_vjp
        def f(x, y):
            return m.sin(x) * y * w

        def fwd(x, y):
            return f(x, y), (m.cos(x), m.sin(x), y)

        def bwd(res, g):
            c, s, y = res
            return (2.0 * c * y * w * g, s * w * g)  # x-gradient doubled: the rule is visible

        f.defvjp(fwd, bwd)
        return f

    fi, fj = make(jnp, irjax.custom_vjp), make(jjnp, jax.custom_vjp)
    x, ys = randn(3), randn(4, 3)
    close(
        irjax.grad(lambda x, y: jnp.sum(fi(x, y)), argnums=(0, 1))(x, ys[0]),
        jax.grad(lambda x, y: jjnp.sum(fj(x, y)), argnums=(0, 1))(x, ys[0]),
    )
    # vmapped over y only: x's cotangent must be summed over the batch
    close(
        irjax.grad(lambda x, ys: jnp.sum(irjax.vmap(fi, in_axes=(None, 0))(x, ys)), argnums=(0, 1))(x, ys),
        jax.grad(lambda x, ys: jjnp.sum(jax.vmap(fj, in_axes=(None, 0))(x, ys)), argnums=(0, 1))(x, ys),
    )


def test_custom_rules_errors():
    @irjax.custom_jvp
    def f(x):
        return x

    with pytest.raises(AttributeError, match="No JVP defined"):
        irjax.grad(f)(1.0)

    @irjax.custom_vjp
    def g(x):
        return x

    g.defvjp(lambda x: (x, None), lambda r, ct: ct)  # not a tuple
    with pytest.raises(TypeError, match="bwd rule must produce"):
        irjax.grad(g)(1.0)


def test_float0_tangents_and_grads_for_integers():
    """Integer/bool values get float0 tangents and cotangents, as in JAX."""
    from irjax import dtypes

    (p, pi), (t, ti) = irjax.jvp(lambda x: (x * 2.0, x.astype(jnp.int32)), (1.5,), (1.0,))
    assert float(t) == 2.0 and ti.dtype == dtypes.float0 and ti.shape == ()
    out, tout = irjax.jvp(lambda n, x: x * n, (3, 2.0), (np.zeros((), dtypes.float0), 1.0))
    assert float(tout) == 3.0
    gx, gn = irjax.grad(lambda x, n: x * n, argnums=(0, 1), allow_int=True)(2.0, 3)
    assert float(gx) == 3.0 and gn.dtype == dtypes.float0
    with pytest.raises(TypeError, match="float0"):
        irjax.jvp(lambda x: x * 2.0, (1.0,), (np.zeros((), dtypes.float0),))


def test_grad_of_batched_diagonal():
    # the gather's transpose is a scatter indexing trailing operand dims; IREE needs them leading
    # (dialects/indexing.py _scatter_indexed_dims_first)
    x = RNG_DIAG.standard_normal((2, 3, 3)).astype(np.float32)
    for a1, a2 in ((-2, -1), (0, 2), (1, 0)):

        def f(m):
            return lambda a: m.sum(
                m.diagonal(a, axis1=a1, axis2=a2) ** 2 * m.arange(1.0, 1.0 + min(x.shape[a1], x.shape[a2]))
            )

        close(irjax.grad(f(jnp))(x), jax.grad(f(jjnp))(x))


RNG_DIAG = np.random.default_rng(11)


def test_custom_jvp_rule_coefficients_need_no_derivative_in_reverse_mode():
    """Reverse mode transposes a custom_jvp rule in its tangents only: a coefficient that depends
    on the primals alone (digamma here) is not differentiated."""

    def make(api):
        @api.custom_jvp
        def f(x):
            return api.lax.lgamma(x)

        @f.defjvp
        def f_jvp(primals, tangents):
            return f(primals[0]), api.lax.digamma(primals[0]) * tangents[0]

        return f

    f, g = make(irjax), make(jax)
    xs = np.array([0.5, 1.0, 2.5], np.float32)
    np.testing.assert_allclose(irjax.vmap(irjax.grad(f))(xs), jax.vmap(jax.grad(g))(xs), rtol=1e-6)
    loss = lambda api, h: api.jit(api.grad(lambda x: h(x) * x))  # noqa: E731
    np.testing.assert_allclose(loss(irjax, f)(np.float32(2.0)), loss(jax, g)(np.float32(2.0)), rtol=1e-6)

"""lax.cond / switch / while_loop / fori_loop / scan / map against jax.lax: values, gradients
and vmapped values on a small suite (cumulative sums, an RNN loss, Newton iterations,
piecewise functions, nested loops), plus the errors JAX raises."""

from __future__ import annotations

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest
from irjax import lax

jax = pytest.importorskip("jax")
from tree_compare import tree_close  # noqa: E402

jjnp = jax.numpy
jlax = jax.lax
pytestmark = pytest.mark.portable  # CI runs this file on Vulkan too (-m portable)

RNG = np.random.default_rng(0)
X5 = RNG.normal(size=(5,)).astype(np.float32)
X45 = RNG.normal(size=(4, 5)).astype(np.float32)


def close(got, want, rtol=1e-5, atol=1e-5):
    tree_close(got, want, rtol, atol, dtype=True)


def both(make):
    """make(jnp, lax) -> function; the irjax and the jax versions."""
    return make(jnp, lax), make(jjnp, jlax)


# ---- scan ----------------------------------------------------------------------------------------


def _cumsum(np_, lax_, reverse=False):
    def f(xs):
        c, ys = lax_.scan(lambda c, x: (c + x, c + x), np_.zeros((), np_.float32), xs, reverse=reverse)
        return c, ys

    return f


@pytest.mark.parametrize("reverse", [False, True])
def test_cumsum_scan_value_grad_vmap(reverse):
    f, jf = both(lambda np_, lax_: _cumsum(np_, lax_, reverse))
    close(f(X5), jf(X5))
    loss, jloss = (lambda x: jnp.sum(f(x)[1] * jnp.arange(5.0))), (lambda x: jjnp.sum(jf(x)[1] * jjnp.arange(5.0)))
    close(irjax.grad(loss)(X5), jax.grad(jloss)(X5))
    close(irjax.vmap(f)(X45), jax.vmap(jf)(X45))


def _rnn(np_, lax_):
    def loss(params, xs):
        w, u, b = params

        def step(h, x):
            h = np_.tanh(w @ h + u * x + b)
            return h, np_.sum(h)

        h, ys = lax_.scan(step, np_.zeros(3, np_.float32), xs)
        return np_.sum(ys * ys) + np_.sum(h)

    return loss


W = (RNG.normal(size=(3, 3)) * 0.5).astype(np.float32)
U = RNG.normal(size=(3,)).astype(np.float32)
Bv = RNG.normal(size=(3,)).astype(np.float32)


def test_rnn_loss_value_and_grad_jit_vmap():
    f, jf = both(_rnn)
    params = (W, U, Bv)
    v, g = irjax.jit(irjax.value_and_grad(f))(params, X5)
    jv, jg = jax.value_and_grad(jf)(params, X5)
    close(v, jv, rtol=1e-4)
    close(g, jg, rtol=1e-4, atol=1e-4)
    close(irjax.grad(f, argnums=1)(params, X5), jax.grad(jf, argnums=1)(params, X5), rtol=1e-4, atol=1e-4)
    close(irjax.vmap(f, in_axes=(None, 0))(params, X45), jax.vmap(jf, in_axes=(None, 0))(params, X45), rtol=1e-4)
    # per-example gradients: vmap of the grad (a batched reverse scan)
    gv = irjax.vmap(irjax.grad(f), in_axes=(None, 0))(params, X45)
    jgv = jax.vmap(jax.grad(jf), in_axes=(None, 0))(params, X45)
    close(gv, jgv, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("length", [63, 64, 70, 144])  # below / at the chunking threshold; partial and whole chunks
@pytest.mark.parametrize("reverse", [False, True])
def test_long_scans_run_in_chunks(length, reverse):
    # from CHUNK_FROM steps on, scan lowers to chunks of ~sqrt(length) steps (dialects/control_flow.py)
    xs = RNG.normal(size=(length, 3)).astype(np.float32)

    def make(np_, lax_):
        def f(c0, xs):
            def step(c, x):
                c = np_.tanh(c * 0.9 + x)
                return c, (c * 2, np_.sum(x) + c[0])

            return lax_.scan(step, c0, xs, reverse=reverse)

        return f

    f, jf = both(make)
    c0 = np.zeros(3, np.float32)
    close(irjax.jit(f)(c0, xs), jax.jit(jf)(c0, xs))
    loss = lambda f_, np_: lambda c0, xs: np_.sum(f_(c0, xs)[1][0] ** 2) + np_.sum(f_(c0, xs)[1][1])  # noqa: E731
    close(
        irjax.grad(loss(f, jnp), argnums=(0, 1))(c0, xs),
        jax.grad(loss(jf, jjnp), argnums=(0, 1))(c0, xs),
        rtol=1e-4,
        atol=1e-4,
    )
    xb = np.stack([xs, xs[::-1] * 0.5])
    close(irjax.vmap(f, in_axes=(None, 0))(c0, xb), jax.vmap(jf, in_axes=(None, 0))(c0, xb), rtol=1e-5, atol=1e-5)


def test_scan_pytrees_length_and_map():
    def f(lax_, np_):
        def step(c, x):
            a, b = c
            return (a + x["u"], b * 1.5), {"s": a * x["v"], "t": b}

        xs = {"u": np_.arange(4.0), "v": np_.ones((4, 2))}
        return lax_.scan(step, (np_.zeros(2), 1.0), xs)

    close(f(lax, jnp), f(jlax, jjnp))
    close(
        lax.scan(lambda c, _: (c * 2, c), 1.0, None, length=6), jlax.scan(lambda c, _: (c * 2, c), 1.0, None, length=6)
    )
    close(lax.map(lambda x: x * x + 1, X45), jlax.map(lambda x: x * x + 1, X45))


@pytest.mark.parametrize("batch_size", [1, 3, 5, 10, 16])  # whole chunks, a remainder, one chunk, > n
def test_map_batch_size(batch_size):
    x = RNG.normal(size=(10, 3)).astype(np.float32)

    def make(np_, lax_):
        return lambda xs: lax_.map(lambda v: (np_.sin(v) * np_.sum(v), v[0]), xs, batch_size=batch_size)

    f, jf = both(make)
    close(f(x), jf(x))
    close(irjax.jit(f)(x), jf(x))
    g = irjax.grad(lambda xs: jnp.sum(f(xs)[0]))(x)
    close(g, jax.grad(lambda xs: jjnp.sum(jf(xs)[0]))(x), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="batch_size"):
        lax.map(lambda v: v, x, batch_size=0)


def test_scan_stays_a_loop():
    f = irjax.jit(lambda xs: lax.scan(lambda c, x: (c * 0.9 + x, c), 0.0, xs)[0])
    text = f.lower(np.zeros(1000, np.float32)).as_text()
    assert "jx.scan" in text and "length = 1000" in text
    assert text.count("jx.mul") <= 2


# ---- while_loop / fori_loop ---------------------------------------------------------------------


def _newton(np_, lax_):
    def sqrt(a):
        def cond(c):
            x, i = c
            return (np_.abs(x * x - a) > 1e-5 * a) & (i < 50)

        def body(c):
            x, i = c
            return 0.5 * (x + a / x), i + 1

        return lax_.while_loop(cond, body, (a, 0))[0]

    return sqrt


def test_newton_while_value_jvp_vmap():
    f, jf = both(_newton)
    a = np.float32(7.0)
    close(f(a), jf(a))
    close(irjax.jit(f)(a), jf(a))
    close(irjax.jvp(f, (a,), (np.float32(1.0),)), jax.jvp(jf, (a,), (np.float32(1.0),)), rtol=1e-4)
    # a batched loop condition: lanes finish after different numbers of iterations
    xs = np.array([0.5, 2.0, 100.0, 1e4], np.float32)
    close(irjax.vmap(f)(xs), jax.vmap(jf)(xs), rtol=1e-5)


def test_while_reverse_mode_raises():
    f = _newton(jnp, lax)
    with pytest.raises(ValueError, match="Reverse-mode differentiation does not work for lax.while_loop"):
        irjax.grad(f)(np.float32(2.0))
    g = lambda x, n: lax.fori_loop(0, n, lambda i, v: v * x, 1.0)  # noqa: E731
    with pytest.raises(ValueError, match="fori_loop with dynamic start/stop"):
        irjax.grad(irjax.jit(g))(np.float32(1.1), 3)


def test_fori_loop_static_and_traced_bounds():
    body = lambda i, v: v * 1.1 + jnp.sin(i * v)  # noqa: E731
    jbody = lambda i, v: v * 1.1 + jjnp.sin(i * v)  # noqa: E731
    f = lambda x: lax.fori_loop(1, 6, body, x)  # noqa: E731
    jf = lambda x: jlax.fori_loop(1, 6, jbody, x)  # noqa: E731
    x = np.float32(0.3)
    close(f(x), jf(x))
    close(irjax.grad(f)(x), jax.grad(jf)(x), rtol=1e-4)  # static bounds: a scan, differentiable
    g = irjax.jit(lambda x, lo, hi: lax.fori_loop(lo, hi, body, x))
    jg = jax.jit(lambda x, lo, hi: jlax.fori_loop(lo, hi, jbody, x))
    close(g(x, 1, 6), jg(x, 1, 6))
    close(g(x, 4, 2), jg(x, 4, 2))  # empty range
    close(irjax.vmap(f)(X5), jax.vmap(jf)(X5), rtol=1e-4)
    # traced bounds under vmap: a batched trip count (batched while condition)
    n = np.array([0, 1, 3, 5], np.int32)
    close(irjax.vmap(lambda k: g(x, 0, k))(n), jax.vmap(lambda k: jg(x, 0, k))(n), rtol=1e-5)


def test_nested_fori_inside_scan_grad():
    def make(np_, lax_):
        def f(x):
            def step(c, xi):
                inner = lax_.fori_loop(0, 3, lambda i, v: v * 0.5 + np_.sin(xi * v), c)
                return inner, inner * xi

            c, ys = lax_.scan(step, x[0], x)
            return c + np_.sum(ys)

        return f

    f, jf = both(make)
    close(f(X5), jf(X5), rtol=1e-5)
    close(irjax.grad(f)(X5), jax.grad(jf)(X5), rtol=1e-4, atol=1e-5)
    close(irjax.vmap(f)(X45), jax.vmap(jf)(X45), rtol=1e-5)


# ---- cond / switch ------------------------------------------------------------------------------------


def _piecewise(np_, lax_):
    def f(x):
        return lax_.cond(x > 0.5, lambda y: np_.sin(y) * y, lambda y: y * y - 1.0, x)

    return f


def _switch(np_, lax_):
    def f(i, x):
        return lax_.switch(i, [lambda y: y + 1.0, lambda y: np_.exp(y), lambda y: y * y * y], x)

    return f


def test_piecewise_cond_value_grad_vmap():
    f, jf = both(_piecewise)
    for x in (np.float32(-0.7), np.float32(1.3)):
        close(f(x), jf(x))
        close(irjax.grad(f)(x), jax.grad(jf)(x))
        close(irjax.jit(irjax.grad(irjax.grad(f)))(x), jax.grad(jax.grad(jf))(x), rtol=1e-4)
    xs = np.array([-1.0, 0.2, 0.7, 2.0], np.float32)
    # batched predicate: both branches run, a select picks per lane
    close(irjax.vmap(f)(xs), jax.vmap(jf)(xs))
    close(irjax.vmap(irjax.grad(f))(xs), jax.vmap(jax.grad(jf))(xs))


def test_switch_value_grad_vmap_clamped_index():
    f, jf = both(_switch)
    x = np.float32(0.4)
    for i in (-3, 0, 1, 2, 7):
        close(f(i, x), jf(i, x))
    close(irjax.grad(f, argnums=1)(2, x), jax.grad(jf, argnums=1)(2, x))
    idx = np.array([0, 2, 1, 5], np.int32)
    xs = np.array([0.1, 0.2, 0.3, 0.4], np.float32)
    close(irjax.vmap(f)(idx, xs), jax.vmap(jf)(idx, xs))
    # unbatched index, batched operand: one cond over batched branches
    close(irjax.vmap(f, in_axes=(None, 0))(1, xs), jax.vmap(jf, in_axes=(None, 0))(1, xs))


def test_cond_pytree_operands_and_closures():
    def make(np_, lax_):
        def f(p, x, s):
            out = lax_.cond(
                p, lambda d: {"a": d[0] * s, "b": d[1]}, lambda d: {"a": d[0] + s, "b": d[1] * 2}, (x, s * 2)
            )
            return out["a"].sum() + out["b"]

        return f

    f, jf = both(make)
    for p in (True, False):
        close(irjax.jit(f)(p, X5, np.float32(3.0)), jf(p, X5, np.float32(3.0)))
        close(
            irjax.grad(f, argnums=(1, 2))(p, X5, np.float32(3.0)), jax.grad(jf, argnums=(1, 2))(p, X5, np.float32(3.0))
        )
    ps = np.array([True, False, True, False])
    close(
        irjax.vmap(f, in_axes=(0, 0, None))(ps, X45, np.float32(3.0)),
        jax.vmap(jf, in_axes=(0, 0, None))(ps, X45, np.float32(3.0)),
    )


def test_cond_jvp_and_while_jvp_in_vmap():
    f, jf = both(_piecewise)
    close(irjax.jvp(f, (np.float32(1.3),), (np.float32(2.0),)), jax.jvp(jf, (np.float32(1.3),), (np.float32(2.0),)))
    g, jg = both(_newton)
    xs = np.array([2.0, 9.0, 30.0], np.float32)
    close(
        irjax.vmap(lambda a: irjax.jvp(g, (a,), (np.float32(1.0),))[1])(xs),
        jax.vmap(lambda a: jax.jvp(jg, (a,), (np.float32(1.0),))[1])(xs),
        rtol=1e-4,
    )


# ---- errors ----------------------------------------------------------------------------------------------


def test_errors():
    with pytest.raises(TypeError, match="cond branches must have equal output types but they differ"):
        lax.cond(True, lambda x: x, lambda x: x.astype(jnp.int32), np.float32(1.0))
    with pytest.raises(TypeError, match="same type structure"):
        lax.cond(True, lambda x: (x, x), lambda x: x, np.float32(1.0))
    with pytest.raises(TypeError, match="Pred must be a scalar"):
        lax.cond(np.array([True, False]), lambda x: x, lambda x: x, 1.0)
    with pytest.raises(TypeError, match="cond_fun must return a boolean scalar"):
        lax.while_loop(lambda c: c, lambda c: c + 1.0, 1.0)
    with pytest.raises(TypeError, match="body_fun output and input must have identical types"):
        lax.while_loop(lambda c: c < 3, lambda c: jnp.zeros(2), np.float32(1.0))
    with pytest.raises(TypeError, match="carry input and carry output must have equal types"):
        lax.scan(lambda c, x: (jnp.zeros(3), x), np.float32(0.0), X5)
    with pytest.raises(ValueError, match="no values to scan over"):
        lax.scan(lambda c, x: (c, x), 0.0, None)

    def py_if(x):
        if x > 0:
            return x
        return -x

    with pytest.raises(irjax.errors.TracerBoolConversionError, match="lax.cond"):
        irjax.jit(py_if)(1.0)


def test_reference_interpreter_runs_control_flow():
    from irjax.core import aval_of
    from irjax.dialects.interpret import evaluate
    from irjax.passes.autodiff import grad_function
    from irjax.tracing import trace_function

    f = _rnn(jnp, lax)
    leaves, tree = irjax.tree_util.tree_flatten(((W, U, Bv), X5))
    tr = trace_function(f, [aval_of(x) for x in leaves], tree)
    g = grad_function(tr.module, tr.fname, (0, 1, 2))
    ref = evaluate(tr.module, g, list(leaves) + [np.asarray(c) for c in tr.captured])
    want_v, want_g = jax.value_and_grad(_rnn(jjnp, jlax))((W, U, Bv), X5)
    np.testing.assert_allclose(ref[0], want_v, rtol=1e-4)
    for r, w in zip(ref[1:], want_g):
        np.testing.assert_allclose(r, w, rtol=1e-4, atol=1e-4)


def test_loop_results_take_the_bodys_weak_types_as_jax():
    """scan/fori_loop/while_loop from a Python-scalar init end strongly typed when the body's
    carry output is (JAX's loop results have the body's output types)."""

    def cases(api, np_):
        xs = np_.arange(3.0)
        return [
            api.lax.scan(lambda c, x: (c + x, c), 0.0, xs),
            api.lax.fori_loop(0, 3, lambda i, c: c + xs[i], 0.0),
            api.lax.while_loop(lambda c: c < 2, lambda c: c + np_.float32(1), 0.0),
            api.lax.scan(lambda c, x: (c + 1, c * 2), 0, None, length=3),
        ]

    def types(tree, api):
        return [(np.dtype(a.dtype), bool(a.weak_type)) for a in api.tree_util.tree_leaves(tree)]

    got = [types(t, irjax) for t in cases(irjax, irjax.numpy)]
    want = [types(t, jax) for t in cases(jax, jax.numpy)]
    assert got == want


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32, np.int8, np.bool_])
def test_scan_stacks_narrow_and_unsigned_outputs(dtype):
    # unsigned stacked outputs did not compile (IREE left the in-place stack's transfer unsigned)
    def run(m, mlax):
        carry, ys = mlax.scan(
            lambda c, _: (c ^ dtype(1) if dtype == np.bool_ else c + dtype(1), c), dtype(1), None, length=3
        )
        mapped = mlax.map(lambda x: (x * 2).astype(dtype), m.arange(4))
        return carry, ys, mapped

    got, want = run(jnp, lax), run(jjnp, jlax)
    for g, w in zip(got, want):
        assert np.asarray(g).dtype == np.asarray(w).dtype
        np.testing.assert_array_equal(np.asarray(g), np.asarray(w))
    keys = lax.scan(lambda c, _: (irjax.random.split(c)[0], c), irjax.random.key(0), None, length=2)[1]
    jkeys = jlax.scan(lambda c, _: (jax.random.split(c)[0], c), jax.random.key(0), None, length=2)[1]
    np.testing.assert_array_equal(np.asarray(irjax.random.key_data(keys)), np.asarray(jax.random.key_data(jkeys)))


def test_long_scalar_computation_and_its_gradient():
    # IREE fused the gradient's forward part into one dispatch with 38 scalar results, one binding
    # each: the runtime refused the module (binding count 40 > 32); scalar-only modules now
    # compile without multi-use fusion
    def f(m, x, y):
        acc = 0.0
        for i in range(60):
            acc = acc + m.where(x > i, m.log(x + i) * y, x * (y + i))
        return acc

    args = (np.float32(3.0), np.float32(2.0))
    close(irjax.jit(lambda x, y: f(jnp, x, y))(*args), jax.jit(lambda x, y: f(jjnp, x, y))(*args))
    close(
        irjax.jit(irjax.grad(lambda x, y: f(jnp, x, y), (0, 1)))(*args),
        jax.grad(lambda x, y: f(jjnp, x, y), (0, 1))(*args),
    )

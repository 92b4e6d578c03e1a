"""Autodiff through scan / fori_loop / while_loop / cond differentiates only the active part
(what depends on a differentiated input and reaches a wanted output), as JAX: gradients and
tangents against JAX with integer counters, inactive carries and a body op (digamma) on the
inactive path, and the differentiated IR carrying fewer values."""

from __future__ import annotations

import re

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest
from irjax.dialects.func import parse_module
from irjax.dialects.mlir import enter
from irjax.passes.registry import run_pipeline

jax = pytest.importorskip("jax")
from tree_compare import tree_close  # noqa: E402

jjnp = jax.numpy
RNG = np.random.default_rng(3)
W = (RNG.normal(size=(3, 3)) * 0.5).astype(np.float32)
XS = RNG.uniform(0.5, 2.0, size=(6, 3)).astype(np.float32)


def close(got, want, rtol=1e-5, atol=1e-5):
    tree_close(got, want, rtol, atol, dtype=True)


def both(make):
    return make(irjax, jnp), make(jax, jjnp)


def _scan_mixed(api, np_):
    """Carries: an int counter, h (active through w), acc (xs only, through digamma)."""

    def f(w, xs):
        def step(c, x):
            i, h, acc = c
            acc = acc + api.lax.digamma(x)
            h = np_.tanh(h @ w + x * i.astype(np_.float32))
            return (i + 1, h, acc), h.sum() * acc.sum()

        init = (np_.int32(0), np_.zeros(3, np_.float32), np_.zeros(3, np_.float32))
        (i, h, acc), ys = api.lax.scan(step, init, xs)
        return h.sum() + ys.sum() + acc.sum() + i.astype(np_.float32)

    return f


def test_scan_grad_skips_inactive_carries_and_the_op_without_derivative_on_them():
    f, jf = both(_scan_mixed)
    v, g = irjax.jit(irjax.value_and_grad(f))(W, XS)
    jv, jg = jax.value_and_grad(jf)(W, XS)
    close(v, jv, rtol=1e-5)
    close(g, jg, rtol=1e-4)


def test_scan_jvp_gives_no_tangent_to_inactive_carries():
    f, jf = both(_scan_mixed)
    t = np.ones_like(W)
    close(irjax.jvp(lambda w: f(w, XS), (W,), (t,)), jax.jvp(lambda w: jf(w, XS), (W,), (t,)), rtol=1e-4)


def test_scan_vjp_with_cotangents_for_inactive_outputs():
    """vjp seeds every output, the int counter's and the inactive carry's included."""

    def make(api, np_):
        def f(w):
            def step(c, x):
                i, h, z = c
                z = z * 0.5 + api.lax.digamma(x)
                return (i + 1, np_.sin(h * w + z), z), h * x

            (i, h, z), ys = api.lax.scan(step, (np_.int32(0), np_.float32(0.3), np_.float32(1.0)), XS[:, 0])
            return h, z, ys

        return f

    f, jf = both(make)
    w = np.float32(0.8)
    out, vf = irjax.vjp(f, w)
    jout, jvf = jax.vjp(jf, w)
    close(out, jout, rtol=1e-5)
    cts = (np.float32(1.5), np.float32(-2.0), np.linspace(0, 1, 6).astype(np.float32))
    close(vf(cts), jvf(cts), rtol=1e-5)


def test_fori_loop_grad_with_int_index_argsort_and_digamma_off_the_active_path():
    def make(api, np_):
        def f(w, xs):
            xs = np_.asarray(xs)

            def body(i, c):
                h, z = c
                order = np_.argsort(xs[i])  # an integer index from a non-differentiated input
                z = z + api.lax.digamma(xs[i])
                return np_.sin(h[order] * w[0] + z), z

            h, z = api.lax.fori_loop(0, 4, body, (np_.ones(3, np_.float32), np_.zeros(3, np_.float32)))
            return (h * z).sum()

        return f

    f, jf = both(make)
    close(irjax.grad(f)(W, XS), jax.grad(jf)(W, XS), rtol=1e-4)


def test_while_loop_fixed_trip_jvp_with_an_inactive_carry():
    def make(api, np_):
        def f(w):
            def body(c):
                i, h, z = c
                z = api.lax.digamma(z + 1.0)  # z never depends on w
                return i + 1, np_.sin(h * w) + z, z

            return api.lax.while_loop(lambda c: c[0] < 5, body, (0, np_.float32(0.5), np_.float32(1.0)))[1]

        return f

    f, jf = both(make)
    w = np.float32(0.9)
    close(irjax.jvp(f, (w,), (np.float32(1.0),)), jax.jvp(jf, (w,), (np.float32(1.0),)), rtol=1e-4)


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_cond_and_switch_grad_with_an_inactive_operand(sign):
    def make(api, np_):
        def f(x, y):
            def a(ops):
                return np_.sin(ops[0]) * api.lax.digamma(ops[1])

            def b(ops):
                return ops[0] * ops[1]

            def c(ops):
                return np_.exp(ops[0]) + api.lax.digamma(ops[1])

            r = api.lax.cond(x.sum() > 0, a, b, (x, y))
            k = (x.sum() > 0).astype(np_.int32) * 2
            return (r + api.lax.switch(k, [a, b, c], (x, y))).sum()

        return f

    f, jf = both(make)
    x = (sign * XS[0]).astype(np.float32)
    close(irjax.grad(f)(x, XS[1]), jax.grad(jf)(x, XS[1]), rtol=1e-5)


def test_nested_scan_in_cond_in_scan_grad():
    def make(api, np_):
        def f(w, xs):
            def outer(c, x):
                def inner(h, xi):
                    return np_.tanh(h * w + api.lax.digamma(xi)), h

                def yes(c):
                    h, ys = api.lax.scan(inner, c, x)
                    return h + ys.sum()

                c = api.lax.cond(x[0] > 1.0, yes, lambda c: c * w, c)
                return c, c

            c, ys = api.lax.scan(outer, np_.float32(0.3), xs)
            return c + ys.sum()

        return f

    f, jf = both(make)
    close(irjax.grad(f)(np.float32(0.7), XS), jax.grad(jf)(np.float32(0.7), XS), rtol=1e-4)


def _rnn(api, np_):
    def loss(w, u, xs):
        def step(h, x):
            h = np_.tanh(h @ w + x @ u)
            return h, h.sum()

        _, ys = api.lax.scan(step, np_.zeros((2, 3), np_.float32), xs)
        return (ys**2).mean()

    return loss


def _ops(text: str) -> dict:
    """jx op counts of a module's text after cse,dce (dead cotangents of inactive values gone)."""
    m = parse_module(text)
    run_pipeline(m, "cse,dce")
    with enter():
        text = str(m)
    return {n: text.count(f'"jx.{n}"') for n in set(re.findall(r'"jx\.([a-z_]+)"', text))}, text


def test_grad_wrt_fewer_arguments_builds_a_smaller_reverse_scan():
    """grad w.r.t. w only: the reverse scan carries no cotangent for u and stacks none for xs
    (a transposed matmul less per step); the gradient still matches JAX."""
    f, jf = both(_rnn)
    u = RNG.normal(size=(2, 3)).astype(np.float32)
    xs = RNG.normal(size=(5, 2, 2)).astype(np.float32)
    args = (W, u, xs)
    ops, texts = {}, {}
    for nums in [(0,), (0, 1, 2)]:
        g = irjax.jit(irjax.grad(f, argnums=nums))
        close(g(*args), jax.grad(jf, argnums=nums)(*args), rtol=1e-4)
        ops[nums], texts[nums] = _ops(g.lower(*args).as_text())
    reverse = {k: re.findall(r'"jx.scan".*reverse = true.*-> \((.*)\)', t) for k, t in texts.items()}
    assert reverse[(0, 1, 2)] == ["tensor<3x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<5x2x2xf32>"]
    assert reverse[(0,)] == ["tensor<3x3xf32>, tensor<2x3xf32>"]
    assert ops[(0,)]["dot_general"] < ops[(0, 1, 2)]["dot_general"]
    assert sum(ops[(0,)].values()) < sum(ops[(0, 1, 2)].values())


def test_grad_through_a_while_loop_whose_carries_are_inactive():
    """Only the trip count depends on w (through the cond): JAX differentiates nothing in the
    loop and raises nothing; a carry that depends on w still gets JAX's error."""

    def make(api, np_):
        def f(w):
            n = api.lax.while_loop(lambda c: c < w, lambda c: c + 1.0, np_.float32(0.0))
            return n * w

        return f

    f, jf = both(make)
    close(irjax.grad(f)(np.float32(2.5)), jax.grad(jf)(np.float32(2.5)))
    with pytest.raises(ValueError, match="Reverse-mode differentiation does not work for lax.while_loop"):
        irjax.grad(lambda w: irjax.lax.while_loop(lambda c: c < 3.0, lambda c: c + w, w))(np.float32(1.0))


def test_forward_over_reverse_through_a_scan_with_int_and_inactive_carries():
    """jvp of the reverse scan (a Hessian-vector product): the derived functions with fewer
    tangents / cotangents compose."""

    def make(api, np_):
        def f(w, xs):
            def step(c, x):
                i, h, z = c
                z = z + x
                h = np_.sin(h * w + z * i.astype(np_.float32))
                return (i + 1, h, z), (h * z).sum()

            init = (np_.int32(0), np_.ones(2, np_.float32), np_.zeros(2, np_.float32))
            (i, h, z), ys = api.lax.scan(step, init, xs)
            return ys.sum() + h.sum()

        return f

    f, jf = both(make)
    w = np.array([0.3, -0.4], np.float32)
    t = np.array([1.0, -2.0], np.float32)
    xs = XS[:4, :2]
    got = irjax.jvp(lambda w: irjax.grad(f)(w, xs), (w,), (t,))
    close(got, jax.jvp(lambda w: jax.grad(jf)(w, xs), (w,), (t,)), rtol=1e-4, atol=1e-5)

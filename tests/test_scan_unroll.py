"""lax.scan / fori_loop `unroll=` against JAX (values, grad, vmap), the errors JAX raises for
it, and the lowering's unrolled loops: every unroll gives the same results."""

from __future__ import annotations

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest
from irjax import lax
from irjax.dialects import control_flow as cf_dialect

jax = pytest.importorskip("jax")
from tree_compare import tree_close  # noqa: E402

jjnp = jax.numpy
jlax = jax.lax

RNG = np.random.default_rng(7)
W = (RNG.normal(size=(4, 4)) / 2).astype(np.float32)
U = (RNG.normal(size=(3, 4)) / 2).astype(np.float32)
XS13 = RNG.normal(size=(13, 2, 3)).astype(np.float32)  # 13 steps: remainders for 2, 3, 5, 8
XS70 = RNG.normal(size=(70, 2, 3)).astype(np.float32)  # >= CHUNK_FROM: the chunked lowering
H0 = np.zeros((2, 4), np.float32)


def rnn(np_, lax_, unroll, reverse=False):
    """loss(w, xs): an RNN over xs whose carry and stacked outputs both feed the loss."""

    def loss(w, xs):
        def step(h, x):
            h = np_.tanh(h @ w + x @ U)
            return h, np_.sum(h, axis=1)

        h, ys = lax_.scan(step, H0, xs, reverse=reverse, unroll=unroll)
        return np_.sum(h**2) + np_.sum(ys * np_.arange(1, ys.shape[0] + 1, dtype=np_.float32)[:, None])

    return loss


def close(got, want, rtol=2e-5, atol=2e-5):
    tree_close(got, want, rtol, atol, dtype=True)


@pytest.mark.parametrize(
    "unroll,reverse,xs",
    [(3, False, XS13), (5, True, XS13), (True, False, XS13), (0, True, XS13), (3, True, XS70), (8, False, XS70)],
)
def test_scan_unroll_value_and_grad_match_jax(unroll, reverse, xs):
    f = irjax.jit(irjax.value_and_grad(rnn(jnp, lax, unroll, reverse)))
    g = jax.jit(jax.value_and_grad(rnn(jjnp, jlax, unroll, reverse)))
    close(f(W, xs), g(W, xs))


def test_scan_unroll_vmap_matches_loop_and_jax():
    f = irjax.jit(irjax.vmap(irjax.grad(rnn(jnp, lax, 4)), in_axes=(None, 0)))
    batch = np.stack([XS13, XS13[::-1].copy(), XS13 * 0.5])
    got = f(W, batch)
    one = irjax.jit(irjax.grad(rnn(jnp, lax, 4)))
    close(got, np.stack([np.asarray(one(W, b)) for b in batch]))
    close(got, jax.vmap(jax.grad(rnn(jjnp, jlax, 4)), in_axes=(None, 0))(W, batch))


def test_every_unroll_agrees(monkeypatch):
    """Unrolling repeats the same ops in the same order, with or without the default unroll of
    small bodies: the loss is bit-identical; the gradient may differ in the last bit (IREE
    may fold an accumulator add into a matmul differently in an unrolled body)."""
    monkeypatch.setattr(cf_dialect, "AUTO_UNROLL", 1)
    outs = [irjax.jit(irjax.value_and_grad(rnn(jnp, lax, u, rev)))(W, XS70) for u in (1, 3, 70) for rev in (0, 1)]
    monkeypatch.setattr(cf_dialect, "AUTO_UNROLL", 8)
    outs += [irjax.jit(irjax.value_and_grad(rnn(jnp, lax, 1, rev)))(W, XS70) for rev in (0, 1)]
    for k, o in enumerate(outs):
        ref = outs[k % 2]
        assert np.asarray(o[0]).tobytes() == np.asarray(ref[0]).tobytes(), k
        np.testing.assert_allclose(np.asarray(o[1]), np.asarray(ref[1]), rtol=1e-6, atol=1e-6, err_msg=str(k))


def test_unroll_attribute_reaches_the_ir_and_its_transforms():
    f = rnn(jnp, lax, 4)
    text = irjax.jit(irjax.grad(f)).lower(W, XS13).as_text(dialect="jx")
    assert text.count("unroll = 4") >= 2  # the forward scan and the reverse (vjp) scan
    assert "unroll" not in irjax.jit(rnn(jnp, lax, 1)).lower(W, XS13).as_text(dialect="jx")


def _fori(np_, lax_, unroll):
    def f(x):
        return lax_.fori_loop(2, 11, lambda i, c: c * 0.8 + np_.sin(c) * (0.05 * i), x, unroll=unroll)

    return f


@pytest.mark.parametrize("unroll", [None, 1, 4, True, False])
def test_fori_loop_unroll_matches_jax(unroll):
    x = RNG.normal(size=(3,)).astype(np.float32)
    f, g = _fori(jnp, lax, unroll), _fori(jjnp, jlax, unroll)
    close(irjax.jit(irjax.value_and_grad(lambda x: jnp.sum(f(x))))(x), jax.value_and_grad(lambda x: jjnp.sum(g(x)))(x))


def test_unroll_errors_match_jax():
    body = lambda c, x: (c + x, c)  # noqa: E731
    for mod, np_ in ((lax, jnp), (jlax, jjnp)):
        with pytest.raises(ValueError, match="non-negative"):
            mod.scan(body, np_.float32(0), np_.arange(3.0), unroll=-1)
        with pytest.raises(ValueError, match="statically known"):
            irjax.jit(lambda n: lax.fori_loop(0, n, lambda i, c: c + i, 0, unroll=2))(3) if mod is lax else jax.jit(
                lambda n: jlax.fori_loop(0, n, lambda i, c: c + i, 0, unroll=2)
            )(3)
    with pytest.raises(TypeError, match="concrete `int` or `bool`"):
        lax.scan(body, jnp.float32(0), jnp.arange(3.0), unroll=1.5)

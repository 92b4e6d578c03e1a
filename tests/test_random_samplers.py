"""jax.random's gamma family, count samplers and the rest (issue #14) against jax.random itself.

Same key, same parameters: integer samplers and those whose math irjax reproduces bit for bit
(log/log1p/erf_inv/sqrt/div) must agree exactly; samplers that end in exp, pow, a norm or a QR
(IREE's exp/pow differ from XLA:CPU's in the last bit) agree to float32 rounding. Each sampler
also runs under jit(vmap) over a batch of keys, and the reparameterized ones under grad.
Gamma-based samplers compile rejection loops (~15 s each), hence `slow`.
"""

import os
import tempfile

import irjax
import irjax.numpy as jnp
import ml_dtypes
import numpy as np
import pytest
from irjax import lax, random

pytestmark = pytest.mark.slow

A = np.float32([0.3, 1.0, 2.5, 7.0])
LAM = np.float32([0.0, 0.5, 3.0, 9.9, 10.0, 40.0, 1000.0])

# name -> (draw(module, key), exact): `module` is irjax.random or jax.random
SAMPLERS = {
    "gamma": (lambda m, k: m.gamma(k, A, (2, 4)), False),  # a < 1 boosts with pow
    "loggamma": (lambda m, k: m.loggamma(k, A, (2, 4)), True),
    "beta": (lambda m, k: m.beta(k, A, 3.0), False),
    "dirichlet": (lambda m, k: m.dirichlet(k, A[:3], (2,)), False),
    "chisquare": (lambda m, k: m.chisquare(k, 3.0, (5,)), False),
    "f": (lambda m, k: m.f(k, 3.0, np.float32([5.0, 9.0])), False),
    "t": (lambda m, k: m.t(k, 4.0, (5,)), True),
    "generalized_normal": (lambda m, k: m.generalized_normal(k, 1.5, (5,)), False),
    "ball": (lambda m, k: m.ball(k, 3, 2, (2,)), False),
    "poisson": (lambda m, k: m.poisson(k, LAM, (2, 7)), True),
    "binomial": (lambda m, k: m.binomial(k, np.float32([5, 20, 100, 1000]), np.float32([0.3, 0.7, 0.5, 0.05])), True),
    "geometric": (lambda m, k: m.geometric(k, np.float32([0.1, 0.5, 0.9]), (2, 3), "int32"), True),
    "multinomial": (lambda m, k: m.multinomial(k, 20.0, np.float32([0.2, 0.3, 0.5])), True),
    "orthogonal": (lambda m, k: m.orthogonal(k, 3, (2,)), False),
    "triangular": (lambda m, k: m.triangular(k, 0.0, np.float32([0.3, 0.9]), 1.0), True),
    "wald": (lambda m, k: m.wald(k, 2.0, (5,)), True),
    "double_sided_maxwell": (lambda m, k: m.double_sided_maxwell(k, 1.0, 2.0, (5,)), False),
}


@pytest.fixture(scope="module")
def jax():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_compilation_cache_dir", os.path.join(tempfile.gettempdir(), "irjax-test-jax-cache"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    assert not jax.config.jax_enable_x64
    return jax


def check(got, want, exact):
    got, want = np.asarray(got), np.asarray(want)
    assert (got.shape, got.dtype) == (want.shape, want.dtype)
    if exact:
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=2e-6)


@pytest.mark.parametrize("name", SAMPLERS)
def test_sampler_matches_jax_eagerly_and_under_jit_vmap(jax, name):
    draw, exact = SAMPLERS[name]
    for seed in (0, 1701):
        check(draw(random, random.key(seed)), draw(jax.random, jax.random.key(seed)), exact)
    keys, jkeys = random.split(random.key(5), 3), jax.random.split(jax.random.key(5), 3)
    got = irjax.jit(irjax.vmap(lambda k: draw(random, k)))(keys)
    check(got, jax.vmap(lambda k: draw(jax.random, k))(jkeys), exact)


LOW_DTYPES = {
    "triangular": lambda m, k: m.triangular(k, 0.0, 0.3, 1.0, (6,), ml_dtypes.bfloat16),
    "wald": lambda m, k: m.wald(k, 2.0, (6,), np.float16),
    "geometric": lambda m, k: m.geometric(k, 0.3, (6,), np.int16),
    "poisson": lambda m, k: m.poisson(k, np.float32([2.0, 30.0]), (3, 2), np.int16),
    "binomial": lambda m, k: m.binomial(k, 20.0, 0.4, (6,), np.float16),
    "t": lambda m, k: m.t(k, 3.0, (6,), np.float16),
}


@pytest.mark.parametrize("name", LOW_DTYPES)
def test_dtype_argument_matches_jax(jax, name):
    """Narrow float and int dtypes: float16/bfloat16 math rounds per op, as XLA:CPU's does."""
    draw = LOW_DTYPES[name]
    check(draw(random, random.key(2)), draw(jax.random, jax.random.key(2)), exact=True)


def test_gamma_gradient(jax):
    """The implicit reparameterization gradient in `a`: gamma's, and beta's (through loggamma)."""
    ki, kj = random.key(3), jax.random.key(3)
    jnp_j = jax.numpy
    gi = irjax.grad(lambda a: jnp.sum(random.gamma(ki, a)))(A)
    gj = jax.grad(lambda a: jnp_j.sum(jax.random.gamma(kj, a)))(A)
    np.testing.assert_allclose(np.asarray(gi), np.asarray(gj), rtol=2e-5)
    # the custom JVP under jit(vmap(grad)) over a batch of keys
    ks, jks = random.split(ki, 3), jax.random.split(kj, 3)
    gi = irjax.jit(irjax.vmap(irjax.grad(lambda a, k: jnp.sum(random.gamma(k, a))), in_axes=(None, 0)))(A, ks)
    gj = jax.vmap(jax.grad(lambda a, k: jnp_j.sum(jax.random.gamma(k, a))), in_axes=(None, 0))(A, jks)
    np.testing.assert_allclose(np.asarray(gi), np.asarray(gj), rtol=2e-5)
    gi = irjax.grad(lambda a, b: jnp.sum(random.beta(ki, a, b) * A), argnums=(0, 1))(A, 2.0)
    gj = jax.grad(lambda a, b: jnp_j.sum(jax.random.beta(kj, a, b) * A), argnums=(0, 1))(A, 2.0)
    for x, y in zip(gi, gj):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=2e-5)


def test_dirichlet_gradient(jax):
    alpha = np.float32([0.5, 2.0, 4.0])
    w = np.float32([1.0, -2.0, 3.0])
    gi = irjax.grad(lambda a: jnp.sum(random.dirichlet(random.key(4), a) * w))(alpha)
    gj = jax.grad(lambda a: jax.numpy.sum(jax.random.dirichlet(jax.random.key(4), a) * w))(alpha)
    np.testing.assert_allclose(np.asarray(gi), np.asarray(gj), rtol=2e-5, atol=1e-7)


def test_random_gamma_grad_matches_jax(jax):
    # both branches (series for x <= max(1, a), continued fraction above), x = 0, a <= 0 and NaN
    a = np.float32([0.3, 1.0, 2.5, 7.0, 0.3, 50.0, 3.0, -1.0, np.nan, 0.01, 200.0])
    x = np.float32([0.1, 0.5, 4.0, 2.0, 3.0, 55.0, 0.0, 1.0, 1.0, 1e-20, 180.0])
    want = jax.lax.random_gamma_grad(a, x)
    got = irjax.jit(lax.random_gamma_grad)(a, x)
    check(got, want, exact=False)
    got16 = lax.random_gamma_grad(a[:7].astype(np.float16), x[:7].astype(np.float16))
    want16 = jax.lax.random_gamma_grad(a[:7].astype(np.float16), x[:7].astype(np.float16))
    assert np.asarray(got16).dtype == np.float16
    np.testing.assert_allclose(np.asarray(got16, np.float32), np.asarray(want16, np.float32), rtol=2e-3)


def test_bad_arguments():
    k = random.key(0)
    with pytest.raises(ValueError, match="dtype argument to `gamma` must be a float"):
        random.gamma(k, 1.0, dtype=np.int32)
    with pytest.raises(ValueError, match="dtype argument to `poisson` must be an int"):
        random.poisson(k, 1.0, dtype=np.float32)
    with pytest.raises(ValueError, match="broadcast-compatible"):
        random.gamma(k, np.ones(3, np.float32), (2,))
    with pytest.raises(ValueError, match="alpha.ndim >= 1"):
        random.dirichlet(k, 1.0)
    with pytest.raises(ValueError, match="accepts a single key"):
        random.beta(random.split(k, 2), 1.0, 1.0)
    with pytest.raises(TypeError, match="one float dtype"):
        lax.random_gamma_grad(np.float32(1.0), np.int32(1))
    assert {"gamma", "poisson", "orthogonal", "ball"} <= set(dir(random)) and "gamma" in random.__all__

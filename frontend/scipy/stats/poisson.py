"""Poisson distribution (`jax.scipy.stats.poisson`)."""

from __future__ import annotations

import numpy as np

from ... import numpy as jnp
from ..special import gammaincc, gammaln, xlogy
from ._util import promote_args_inexact


def logpmf(k, mu, loc=0):
    k, mu, loc = promote_args_inexact(k, mu, loc)
    x = k - loc
    log_probs = xlogy(x, mu) - gammaln(x + 1) - mu
    return jnp.where((x < 0) | (jnp.round(x) != x), -np.inf, log_probs)


def pmf(k, mu, loc=0):
    return jnp.exp(logpmf(k, mu, loc))


def cdf(k, mu, loc=0):
    k, mu, loc = promote_args_inexact(k, mu, loc)
    x = k - loc
    return jnp.where(x < 0, 0, gammaincc(jnp.floor(1 + jnp.maximum(x, 0)), mu))


_ENTROPY_TERMS = 260  # k = 0 .. 259 covers mu + 10 sqrt(mu) + 20 for every mu < 100


def entropy(mu, loc=0):
    """Shannon entropy -sum_k p(k) log p(k): summed over k <= mu + 10 sqrt(mu) + 20 for mu < 100,
    the asymptotic expansion 1/2 log(2 pi e mu) - 1/(12 mu) - 1/(24 mu^2) - 19/(360 mu^3) beyond;
    NaN for mu < 0 (loc does not move the entropy)."""
    mu, loc = promote_args_inexact(mu, loc)
    shape = mu.shape
    m = jnp.ravel(mu)
    small = jnp.where(m < 100, m, 1.0)
    k = jnp.arange(_ENTROPY_TERMS, dtype=m.dtype)[:, None]
    p = pmf(k, small)
    terms = jnp.where((k <= small + 10 * jnp.sqrt(small) + 20) & (p > 0), -p * jnp.log(jnp.where(p > 0, p, 1)), 0)
    summed = jnp.sum(terms, axis=0)
    big = jnp.where(m >= 100, m, 100.0)
    asym = 0.5 * jnp.log(2 * np.pi * np.e * big) - 1 / (12 * big) - 1 / (24 * big**2) - 19 / (360 * big**3)
    out = jnp.where(m < 0, np.nan, jnp.where(m == 0, 0, jnp.where(m < 100, summed, asym)))
    return jnp.reshape(out, shape)

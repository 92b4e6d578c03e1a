"""Poisson distribution (`jax.scipy.stats.poisson`; no entropy yet)."""

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

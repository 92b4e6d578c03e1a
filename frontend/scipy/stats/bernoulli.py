"""Bernoulli distribution (`jax.scipy.stats.bernoulli`)."""

from __future__ import annotations

import numpy as np

from ... import numpy as jnp
from ..special import xlog1py, xlogy
from ._util import promote_args_inexact


def logpmf(k, p, loc=0):
    k, p, loc = promote_args_inexact(k, p, loc)
    x = k - loc
    log_probs = xlogy(x, p) + xlog1py(1 - x, -p)
    return jnp.where((x < 0) | (x > 1), -np.inf, log_probs)


def pmf(k, p, loc=0):
    return jnp.exp(logpmf(k, p, loc))


def cdf(k, p):
    k, p = promote_args_inexact(k, p)
    inside = jnp.where(k >= 1, 1, 1 - p)
    out = jnp.where(k < 0, 0, inside)
    return jnp.where(jnp.isnan(k) | jnp.isnan(p) | (p < 0) | (p > 1), np.nan, out)


def ppf(q, p):
    q, p = promote_args_inexact(q, p)
    out = jnp.where(q > 1 - p, 1, 0).astype(q.dtype)
    return jnp.where(jnp.isnan(q) | jnp.isnan(p) | (p < 0) | (p > 1) | (q < 0) | (q > 1), np.nan, out)

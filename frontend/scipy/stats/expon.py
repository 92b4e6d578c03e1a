"""Exponential distribution (`jax.scipy.stats.expon`)."""

from __future__ import annotations

import numpy as np

from ... import numpy as jnp
from ._util import promote_args_inexact


def logpdf(x, loc=0, scale=1):
    x, loc, scale = promote_args_inexact(x, loc, scale)
    log_probs = -(x - loc) / scale - jnp.log(scale)
    return jnp.where(x < loc, -np.inf, log_probs)


def pdf(x, loc=0, scale=1):
    return jnp.exp(logpdf(x, loc, scale))


def logsf(x, loc=0, scale=1):
    x, loc, scale = promote_args_inexact(x, loc, scale)
    return jnp.where(x < loc, 0, -(x - loc) / scale)


def sf(x, loc=0, scale=1):
    return jnp.exp(logsf(x, loc, scale))


def logcdf(x, loc=0, scale=1):
    x, loc, scale = promote_args_inexact(x, loc, scale)
    y = jnp.where(x < loc, 0, x - loc)  # a select, not max: d/dx at x == loc is JAX's one-sided 1/scale
    return jnp.where(x < loc, -np.inf, jnp.log(-jnp.expm1(-y / scale)))


def cdf(x, loc=0, scale=1):
    x, loc, scale = promote_args_inexact(x, loc, scale)
    y = jnp.where(x < loc, 0, x - loc)
    return jnp.where(x < loc, 0, -jnp.expm1(-y / scale))


def ppf(q, loc=0, scale=1):
    q, loc, scale = promote_args_inexact(q, loc, scale)
    return jnp.where((q < 0) | (q > 1), np.nan, loc - scale * jnp.log1p(-q))

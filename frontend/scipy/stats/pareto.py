"""Pareto distribution (`jax.scipy.stats.pareto`): support x >= loc + scale."""

from __future__ import annotations

import numpy as np

from ... import numpy as jnp
from ._util import promote_args_inexact


def _scaled(x, b, loc, scale):
    x, b, loc, scale = promote_args_inexact(x, b, loc, scale)
    return (x - loc) / scale, b, scale, x < loc + scale


def logpdf(x, b, loc=0, scale=1):
    y, b, scale, below = _scaled(x, b, loc, scale)
    return jnp.where(below, -np.inf, -(jnp.log(scale / b) + (b + 1) * jnp.log(y)))


def pdf(x, b, loc=0, scale=1):
    return jnp.exp(logpdf(x, b, loc, scale))


def cdf(x, b, loc=0, scale=1):
    y, b, scale, below = _scaled(x, b, loc, scale)
    return jnp.where(below, 0, 1 - jnp.power(y, -b))


def logcdf(x, b, loc=0, scale=1):
    y, b, scale, below = _scaled(x, b, loc, scale)
    return jnp.where(below, -np.inf, jnp.log1p(-jnp.power(y, -b)))


def logsf(x, b, loc=0, scale=1):
    y, b, scale, below = _scaled(x, b, loc, scale)
    return jnp.where(below, 0, -b * jnp.log(y))


def sf(x, b, loc=0, scale=1):
    return jnp.exp(logsf(x, b, loc, scale))


def ppf(q, b, loc=0, scale=1):
    q, b, loc, scale = promote_args_inexact(q, b, loc, scale)
    out = loc + scale * jnp.power(1 - q, -1 / b)
    return jnp.where(jnp.isnan(q) | (q < 0) | (q > 1), np.nan, out)

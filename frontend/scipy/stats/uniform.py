"""Uniform distribution on [loc, loc + scale] (`jax.scipy.stats.uniform`)."""

from __future__ import annotations

import numpy as np

from ... import numpy as jnp
from ._util import promote_args_inexact, standardized


def logpdf(x, loc=0, scale=1):
    x, loc, scale = promote_args_inexact(x, loc, scale)
    return jnp.where((x > loc + scale) | (x < loc), -np.inf, -jnp.log(scale))


def pdf(x, loc=0, scale=1):
    return jnp.exp(logpdf(x, loc, scale))


def cdf(x, loc=0, scale=1):
    return jnp.clip(standardized(x, loc, scale), 0, 1)


def ppf(q, loc=0, scale=1):
    q, loc, scale = promote_args_inexact(q, loc, scale)
    return jnp.where((q < 0) | (q > 1), np.nan, loc + q * scale)

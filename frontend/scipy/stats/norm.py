"""Normal distribution (`jax.scipy.stats.norm`)."""

from __future__ import annotations

import numpy as np

from ... import numpy as jnp
from ..special import log_ndtr, ndtr, ndtri
from ._util import from_standard, promote_args_inexact, standardized


def logpdf(x, loc=0, scale=1):
    x, loc, scale = promote_args_inexact(x, loc, scale)
    scale_sq = scale * scale
    return (jnp.log(2 * np.pi * scale_sq) + jnp.square(x - loc) / scale_sq) / -2


def pdf(x, loc=0, scale=1):
    return jnp.exp(logpdf(x, loc, scale))


def cdf(x, loc=0, scale=1):
    return ndtr(standardized(x, loc, scale))


def logcdf(x, loc=0, scale=1):
    return log_ndtr(standardized(x, loc, scale))


def sf(x, loc=0, scale=1):
    return ndtr(-standardized(x, loc, scale))


def logsf(x, loc=0, scale=1):
    return log_ndtr(-standardized(x, loc, scale))


def ppf(q, loc=0, scale=1):
    q, loc, scale = promote_args_inexact(q, loc, scale)
    return from_standard(ndtri(q), loc, scale)


def isf(q, loc=0, scale=1):
    q, loc, scale = promote_args_inexact(q, loc, scale)
    return ppf(1 - q, loc, scale)

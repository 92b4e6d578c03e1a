"""Cauchy distribution (`jax.scipy.stats.cauchy`)."""

from __future__ import annotations

import numpy as np

from ... import numpy as jnp
from ._util import promote_args_inexact, standardized


def logpdf(x, loc=0, scale=1):
    x, loc, scale = promote_args_inexact(x, loc, scale)
    z = (x - loc) / scale
    return -(np.log(np.pi) + jnp.log(scale) + jnp.log1p(z * z))


def pdf(x, loc=0, scale=1):
    return jnp.exp(logpdf(x, loc, scale))


def cdf(x, loc=0, scale=1):
    return 0.5 + jnp.arctan(standardized(x, loc, scale)) / np.pi


def logcdf(x, loc=0, scale=1):
    return jnp.log(cdf(x, loc, scale))


def sf(x, loc=0, scale=1):
    x, loc, scale = promote_args_inexact(x, loc, scale)
    return cdf(-x, -loc, scale)


def logsf(x, loc=0, scale=1):
    return jnp.log(sf(x, loc, scale))


def _tan_centered(q):
    """tan(pi (q - 1/2)) as -cot(pi q) or cot(pi (1 - q)), so the argument stays small near the
    poles; -inf and inf at q = 0 and 1 (SciPy's values; tan of a rounded pi/2 is finite)."""
    lo = q < 0.5
    r = jnp.where(lo, q, 1 - q)
    t = jnp.cos(np.pi * r) / jnp.sin(np.pi * r)  # cot; r <= 1/2 keeps sin away from 0
    return jnp.where(lo, -t, t)


def ppf(q, loc=0, scale=1):
    q, loc, scale = promote_args_inexact(q, loc, scale)
    return _tan_centered(q) * scale + loc


def isf(q, loc=0, scale=1):
    q, loc, scale = promote_args_inexact(q, loc, scale)
    return -_tan_centered(q) * scale + loc

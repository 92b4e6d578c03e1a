"""Truncated normal distribution (`jax.scipy.stats.truncnorm`) on [a, b] in standard units;
masses in log space from log_ndtr, so far tails keep their digits."""

from __future__ import annotations

import numpy as np

from ... import numpy as jnp
from ...api import jit
from ..special import log_ndtr, ndtr
from . import norm
from ._util import promote_args_inexact


def _log_diff(hi, lo):
    """log(e^hi - e^lo) for hi >= lo; -inf when both are -inf."""
    safe = jnp.where(hi == -np.inf, 0, hi)
    return jnp.where(hi == -np.inf, -np.inf, safe + jnp.log(-jnp.expm1(lo - safe)))


def _log_mass(a, b):
    """log(Φ(b) - Φ(a)): from the nearer tail when [a, b] lies on one side of 0."""
    a, b = jnp.broadcast_arrays(a, b)
    right = a > 0  # mirror to the left tail: Φ(b) - Φ(a) = Φ(-a) - Φ(-b)
    one_sided = (b <= 0) | right
    hi, lo = jnp.where(right, -a, b), jnp.where(right, -b, a)
    tail = _log_diff(log_ndtr(hi), log_ndtr(lo))
    central = jnp.log1p(-ndtr(a) - ndtr(-b))
    return jnp.where(one_sided, tail, central)


@jit
def _logpdf(x, a, b, loc, scale):
    out = norm.logpdf(x, loc, scale) - _log_mass(a, b)
    z = (x - loc) / scale
    out = jnp.where((z < a) | (z > b), -np.inf, out)
    return jnp.where(a >= b, np.nan, out)


def logpdf(x, a, b, loc=0, scale=1):
    return _logpdf(*promote_args_inexact(x, a, b, loc, scale))


def pdf(x, a, b, loc=0, scale=1):
    return jnp.exp(logpdf(x, a, b, loc, scale))


@jit
def _logcdf(x, a, b, loc, scale):
    z = (x - loc) / scale
    z, a, b = jnp.broadcast_arrays(z, a, b)
    total = _log_mass(a, b)
    log_cdf = _log_mass(a, z) - total
    log_sf = _log_mass(z, b) - total
    # near 1, the complement carries the digits
    out = jnp.where(log_cdf > -0.1, jnp.log1p(-jnp.exp(log_sf)), log_cdf)
    out = jnp.where(z <= a, -np.inf, out)
    out = jnp.where((z >= b) | jnp.isnan(z), 0, out)  # nan x: log 1, as JAX's select falls through
    return jnp.where(a >= b, np.nan, out)


def logcdf(x, a, b, loc=0, scale=1):
    return _logcdf(*promote_args_inexact(x, a, b, loc, scale))


def cdf(x, a, b, loc=0, scale=1):
    return jnp.exp(logcdf(x, a, b, loc, scale))


def logsf(x, a, b, loc=0, scale=1):
    x, a, b, loc, scale = promote_args_inexact(x, a, b, loc, scale)
    return _logcdf(-x, -b, -a, -loc, scale)  # the mirror image's CDF


def sf(x, a, b, loc=0, scale=1):
    return jnp.exp(logsf(x, a, b, loc, scale))

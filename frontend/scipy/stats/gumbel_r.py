"""Right-skewed Gumbel distribution (`jax.scipy.stats.gumbel_r`); nan for scale <= 0."""

from __future__ import annotations

import numpy as np

from ... import numpy as jnp
from ...nn.functions import log1mexp
from ._util import promote_args_inexact


def _z(x, loc, scale):
    x, loc, scale = promote_args_inexact(x, loc, scale)
    return (x - loc) / scale, scale, scale > 0


def logpdf(x, loc=0, scale=1):
    z, scale, ok = _z(x, loc, scale)
    # -inf + inf is nan in JAX; IREE's compiled z + exp(-z) gives -inf there: say nan explicitly
    log_probs = jnp.where(z == -np.inf, np.nan, -jnp.log(scale) - (z + jnp.exp(-z)))
    return jnp.where(ok, log_probs, np.nan)


def pdf(x, loc=0, scale=1):
    return jnp.exp(logpdf(x, loc, scale))


def logcdf(x, loc=0, scale=1):
    z, scale, ok = _z(x, loc, scale)
    return jnp.where(ok, -jnp.exp(-z), np.nan)


def cdf(x, loc=0, scale=1):
    return jnp.exp(logcdf(x, loc, scale))


def sf(x, loc=0, scale=1):
    z, scale, ok = _z(x, loc, scale)
    return jnp.where(ok, -jnp.expm1(-jnp.exp(-z)), np.nan)


def logsf(x, loc=0, scale=1):
    z, scale, ok = _z(x, loc, scale)
    return jnp.where(ok, log1mexp(jnp.exp(-z)), np.nan)


def ppf(p, loc=0, scale=1):
    p, loc, scale = promote_args_inexact(p, loc, scale)
    return jnp.where((p > 0) & (p < 1), loc - scale * jnp.log(-jnp.log(p)), np.nan)

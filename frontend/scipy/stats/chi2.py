"""Chi-squared distribution (`jax.scipy.stats.chi2`): a gamma with shape df/2 and scale 2."""

from __future__ import annotations

import numpy as np

from ... import numpy as jnp
from ..special import gammainc, gammaincc, gammaln, xlogy
from ._util import promote_args_inexact


def logpdf(x, df, loc=0, scale=1):
    x, df, loc, scale = promote_args_inexact(x, df, loc, scale)
    y = (x - loc) / scale
    half = df / 2
    log_probs = xlogy(half - 1, y) - y / 2 - gammaln(half) - half * np.log(2).astype(x.dtype) - jnp.log(scale)
    return jnp.where(y < 0, -np.inf, log_probs)


def pdf(x, df, loc=0, scale=1):
    return jnp.exp(logpdf(x, df, loc, scale))


def cdf(x, df, loc=0, scale=1):
    x, df, loc, scale = promote_args_inexact(x, df, loc, scale)
    return gammainc(df / 2, jnp.clip((x - loc) / scale, 0, np.inf) / 2)


def logcdf(x, df, loc=0, scale=1):
    return jnp.log(cdf(x, df, loc, scale))


def sf(x, df, loc=0, scale=1):
    x, df, loc, scale = promote_args_inexact(x, df, loc, scale)
    return gammaincc(df / 2, jnp.clip((x - loc) / scale, 0, np.inf) / 2)


def logsf(x, df, loc=0, scale=1):
    return jnp.log(sf(x, df, loc, scale))

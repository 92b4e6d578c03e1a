"""Gamma distribution (`jax.scipy.stats.gamma`; the CDFs need gammainc, which irjax lacks)."""

from __future__ import annotations

import numpy as np

from ... import numpy as jnp
from ..special import gammaln, xlogy
from ._util import promote_args_inexact


def logpdf(x, a, loc=0, scale=1):
    x, a, loc, scale = promote_args_inexact(x, a, loc, scale)
    y = (x - loc) / scale
    log_probs = xlogy(a - 1, y) - y - (gammaln(a) + jnp.log(scale))
    return jnp.where(x < loc, -np.inf, log_probs)


def pdf(x, a, loc=0, scale=1):
    return jnp.exp(logpdf(x, a, loc, scale))

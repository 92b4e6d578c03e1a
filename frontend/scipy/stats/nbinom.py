"""Negative binomial distribution (`jax.scipy.stats.nbinom`): failures before the n-th success."""

from __future__ import annotations

import numpy as np

from ... import numpy as jnp
from ..special import gammaln, xlogy
from ._util import promote_args_inexact


def logpmf(k, n, p, loc=0):
    k, n, p, loc = promote_args_inexact(k, n, p, loc)
    y = k - loc
    log_comb = gammaln(y + n) - gammaln(n) - gammaln(y + 1)
    log_probs = log_comb + xlogy(n, p) + xlogy(y, 1 - p)
    return jnp.where(k < loc, -np.inf, log_probs)


def pmf(k, n, p, loc=0):
    return jnp.exp(logpmf(k, n, p, loc))

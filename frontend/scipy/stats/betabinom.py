"""Beta-binomial distribution (`jax.scipy.stats.betabinom`)."""

from __future__ import annotations

import numpy as np

from ... import numpy as jnp
from ...api import jit
from ..special import betaln
from ._util import promote_args_inexact


@jit
def _logpmf(k, n, a, b, loc):
    y = jnp.floor(k) - loc
    log_comb = -(jnp.log1p(n) + betaln(n - y + 1, y + 1))  # log C(n, y) through B(n-y+1, y+1)
    log_probs = log_comb + betaln(y + a, n - y + b) - betaln(a, b)
    log_probs = jnp.where((y == 0) & (n == 0), 0, log_probs)
    outside = (y < -loc) | (y > n) | (y + a <= 0)
    log_probs = jnp.where(outside, -np.inf, log_probs)
    return jnp.where((n < 0) | (a <= 0) | (b <= 0), np.nan, log_probs)


def logpmf(k, n, a, b, loc=0):
    return _logpmf(*promote_args_inexact(k, n, a, b, loc))


def pmf(k, n, a, b, loc=0):
    return jnp.exp(logpmf(k, n, a, b, loc))

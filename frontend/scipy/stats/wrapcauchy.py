"""Wrapped Cauchy distribution (`jax.scipy.stats.wrapcauchy`) on [0, 2π]; nan unless 0 < c < 1."""

from __future__ import annotations

import numpy as np

from ... import numpy as jnp
from ._util import promote_args_inexact


def logpdf(x, c):
    x, c = promote_args_inexact(x, c)
    log_probs = jnp.log(1 - c * c) - np.log(2 * np.pi) - jnp.log(1 + c * c - 2 * c * jnp.cos(x))
    inside = (x >= 0) & (x <= 2 * np.pi)
    return jnp.where((c > 0) & (c < 1), jnp.where(inside, log_probs, -np.inf), np.nan)


def pdf(x, c):
    return jnp.exp(logpdf(x, c))

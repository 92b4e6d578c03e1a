"""Multinomial distribution (`jax.scipy.stats.multinomial`): counts x over the last axis."""

from __future__ import annotations

import numpy as np

from ... import numpy as jnp
from ..special import gammaln, xlogy
from ._util import promote_args_inexact


def logpmf(x, n, p):
    (p,) = promote_args_inexact(p)
    x, n = jnp.asarray(x), jnp.asarray(n)
    if not (jnp.issubdtype(x.dtype, jnp.integer) and jnp.issubdtype(n.dtype, jnp.integer)):
        raise ValueError(f"x and n must be of integer type; got x.dtype={x.dtype}, n.dtype={n.dtype}")
    x, n = x.astype(p.dtype), n.astype(p.dtype)
    log_probs = gammaln(n + 1) + jnp.sum(xlogy(x, p) - gammaln(x + 1), axis=-1)
    return jnp.where(jnp.sum(x, axis=-1) == n, log_probs, -np.inf)


def pmf(x, n, p):
    return jnp.exp(logpmf(x, n, p))

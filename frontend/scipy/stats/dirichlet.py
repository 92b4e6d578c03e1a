"""Dirichlet distribution (`jax.scipy.stats.dirichlet`): x's first axis runs over the components."""

from __future__ import annotations

import numpy as np

from ... import numpy as jnp
from ..special import gammaln, xlogy


def _inexact_pair(x, alpha):
    """One common inexact dtype for both, shapes kept (they broadcast only after reshaping)."""
    x, alpha = jnp.asarray(x), jnp.asarray(alpha)
    dt = jnp.result_type(x, alpha)
    if not jnp.issubdtype(dt, jnp.inexact):
        dt = jnp.float32
    return x.astype(dt), alpha.astype(dt)


def logpdf(x, alpha):
    x, alpha = _inexact_pair(x, alpha)
    if alpha.ndim != 1:
        raise ValueError(f"`alpha` must be one-dimensional; got alpha.shape={alpha.shape}")
    k = alpha.shape[0]
    if x.ndim == 0 or x.shape[0] not in (k, k - 1):
        raise ValueError(
            "`x` must have either the same number of entries as `alpha` "
            f"or one entry fewer; got x.shape={x.shape}, alpha.shape={alpha.shape}"
        )
    if x.shape[0] == k - 1:  # the last component is implied
        x = jnp.concatenate([x, 1 - jnp.sum(x, axis=0, keepdims=True)], axis=0)
    a = alpha.reshape(alpha.shape + (1,) * (x.ndim - 1))
    log_norm = jnp.sum(gammaln(alpha)) - gammaln(jnp.sum(alpha))
    log_probs = jnp.sum(xlogy(a - 1, x), axis=0) - log_norm
    on_simplex = jnp.all(x > 0, axis=0) & (jnp.abs(jnp.sum(x, axis=0) - 1) < 1e-6)
    return jnp.where(on_simplex, log_probs, -np.inf)


def pdf(x, alpha):
    return jnp.exp(logpdf(x, alpha))

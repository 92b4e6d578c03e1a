"""Multivariate normal distribution (`jax.scipy.stats.multivariate_normal`)."""

from __future__ import annotations

import numpy as np

from ... import numpy as jnp
from .. import linalg
from ._util import promote_args_inexact


def logpdf(x, mean, cov, allow_singular=None):
    """log density at x (..., n) for mean (n,) and a scalar, or (n, n) Cholesky-factorable cov."""
    if allow_singular is not None:
        raise NotImplementedError("multivariate_normal.logpdf: allow_singular is not supported (as in JAX)")
    x, mean, cov = (jnp.asarray(v) for v in (x, mean, cov))
    dt = jnp.result_type(x, mean, cov, 1.0)
    x, mean, cov = x.astype(dt), mean.astype(dt), cov.astype(dt)
    if not mean.shape:
        x, mean, cov = promote_args_inexact(x, mean, cov)
        return -0.5 * jnp.square(x - mean) / cov - 0.5 * (np.log(2 * np.pi) + jnp.log(cov))
    n = mean.shape[-1]
    y = x - mean
    if not cov.shape:
        return -0.5 * jnp.sum(y * y, axis=-1) / cov - n / 2 * (np.log(2 * np.pi) + jnp.log(cov))
    if cov.ndim < 2 or cov.shape[-2:] != (n, n):
        raise ValueError(f"multivariate_normal.logpdf got incompatible shapes: mean {mean.shape}, cov {cov.shape}")
    # JAX factors the symmetrized cov here (lax.linalg.cholesky's default), so d/dcov is symmetric
    chol = linalg.cholesky((cov + jnp.swapaxes(cov, -1, -2)) / 2, lower=True)
    # solve L z = y for every leading index of y: y's vectors become the columns of one rhs
    batch = jnp.broadcast_shapes(y.shape[:-1], cov.shape[:-2])
    y = jnp.broadcast_to(y, batch + (n,))
    z = linalg.solve_triangular(chol, y[..., None], lower=True)[..., 0]
    logdiag = jnp.sum(jnp.log(jnp.diagonal(chol, axis1=-2, axis2=-1)), axis=-1)
    return -0.5 * jnp.sum(z * z, axis=-1) - n / 2 * np.log(2 * np.pi) - logdiag


def pdf(x, mean, cov):
    return jnp.exp(logpdf(x, mean, cov))

"""Generalized normal distribution (`jax.scipy.stats.gennorm`): density ∝ exp(-|x|^β)."""

from __future__ import annotations

from ... import numpy as jnp
from ..special import gammainc, gammaln
from ._util import promote_args_inexact


def logpdf(x, beta):
    x, beta = promote_args_inexact(x, beta)
    return jnp.log(0.5 * beta) - gammaln(1 / beta) - jnp.abs(x) ** beta


def pdf(x, beta):
    return jnp.exp(logpdf(x, beta))


def cdf(x, beta):
    x, beta = promote_args_inexact(x, beta)
    return 0.5 * (1 + jnp.sign(x) * gammainc(1 / beta, jnp.abs(x) ** beta))

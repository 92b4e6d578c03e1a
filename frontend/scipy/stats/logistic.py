"""Logistic distribution (`jax.scipy.stats.logistic`)."""

from __future__ import annotations

from ... import numpy as jnp
from ..special import expit, logit
from ._util import from_standard, promote_args_inexact, standardized


def logpdf(x, loc=0, scale=1):
    x, loc, scale = promote_args_inexact(x, loc, scale)
    half = (x - loc) / scale / 2
    return -2 * jnp.logaddexp(half, -half) - jnp.log(scale)


def pdf(x, loc=0, scale=1):
    return jnp.exp(logpdf(x, loc, scale))


def cdf(x, loc=0, scale=1):
    return expit(standardized(x, loc, scale))


def sf(x, loc=0, scale=1):
    return expit(-standardized(x, loc, scale))


def ppf(x, loc=0, scale=1):
    x, loc, scale = promote_args_inexact(x, loc, scale)
    return from_standard(logit(x), loc, scale)


def isf(x, loc=0, scale=1):
    x, loc, scale = promote_args_inexact(x, loc, scale)
    return from_standard(-logit(x), loc, scale)

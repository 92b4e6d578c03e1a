"""Box-Cox transformations of `jax.scipy.special`: boxcox and boxcox1p."""

from __future__ import annotations

from .. import numpy as jnp
from ._special_util import inexact

__all__ = ["boxcox", "boxcox1p"]


def _power_branch(log_y, lmbda):
    """(y^λ - 1) / λ via expm1 (exact near λ = 0), log y at λ = 0."""
    zero = lmbda == 0
    safe = jnp.where(zero, 1, lmbda)
    return jnp.where(zero, log_y, jnp.expm1(safe * log_y) / safe)


def boxcox(x, lmbda):
    """(x^λ - 1) / λ, log x at λ = 0."""
    x, lmbda = inexact(x, lmbda)
    return _power_branch(jnp.log(x), lmbda)


def boxcox1p(x, lmbda):
    """((1 + x)^λ - 1) / λ, log1p x at λ = 0."""
    x, lmbda = inexact(x, lmbda)
    return _power_branch(jnp.log1p(x), lmbda)

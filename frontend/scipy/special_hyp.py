"""Kummer's confluent hypergeometric function 1F1(a; b; x) (`jax.scipy.special.hyp1f1`): its
power series with a fixed number of terms, after Kummer's transformation for x < 0."""

from __future__ import annotations

import numpy as np

from .. import lax
from .. import numpy as jnp
from ..api import jit
from ._special_util import inexact

__all__ = ["hyp1f1"]

_TERMS = 200  # enough for |x| up to ~50 (terms peak near k ≈ |x| a / b)


@jit
def _hyp1f1(a, b, x):
    # M(a, b, x) = e^x M(b - a, b, -x): the series then has positive terms when b > a > 0
    neg = x < 0
    aa = jnp.where(neg, b - a, a)
    ax = jnp.abs(x)

    def step(k, carry):
        term, total = carry
        k = k.astype(x.dtype)
        term = term * (aa + k) / (b + k) * ax / (k + 1)
        return term, total + term

    _, total = lax.fori_loop(0, _TERMS, step, (jnp.ones_like(x), jnp.ones_like(x)))
    out = jnp.where(neg, jnp.exp(x) * total, total)
    return jnp.where(jnp.isinf(x) | jnp.isnan(x), np.nan, out)


def hyp1f1(a, b, x):
    """1F1(a; b; x) = Σ_k (a)_k / (b)_k x^k / k!, accurate for |x| up to about 50; differentiable
    in all three arguments (through the series, as JAX)."""
    a, b, x = inexact(a, b, x)
    return _hyp1f1(a, b, x)

"""Spence's function (`jax.scipy.special.spence`): the dilogarithm Li2(1 - x) for x >= 0."""

from __future__ import annotations

import numpy as np

from .. import numpy as jnp
from ..api import jit
from ._special_util import inexact
from .special_zeta import _bernoulli_numbers

__all__ = ["spence"]

_PI2_6 = float(np.pi**2 / 6)
_TERMS = 20
# Li2(z) = Σ_n B_n u^(n+1) / (n+1)!, u = -log(1 - z): converges for |u| < 2π; used for |u| < log 2
_COEFS = [
    float(b) / float(np.prod(np.arange(1, n + 2, dtype=np.float64))) for n, b in enumerate(_bernoulli_numbers(_TERMS))
]


def _li2(u):
    """Li2(z) from u = -log(1 - z), |u| <= log 2 here."""
    total = jnp.zeros_like(u)
    for c in reversed(_COEFS):  # Horner in u, then one factor u
        total = total * u + c
    return total * u


@jit
def _spence(x):
    # Li2(1 - x): directly on [1/2, 2] (u = -log x); for x < 1/2 by the reflection
    # Li2(1 - x) = π²/6 - log x log(1 - x) - Li2(x); for x > 2 by the inversion
    # Li2(1 - x) = -Li2(1 - 1/x) - log²x / 2 and the reflection of Li2(1 - 1/x)
    mid = (x >= 0.5) & (x <= 2)
    low = (x > 0) & (x < 0.5)
    xm = jnp.where(mid, x, 1)
    xl = jnp.where(low, x, 0.25)
    xh = jnp.where(x > 2, x, 4)
    v_mid = _li2(-jnp.log(xm))
    log1m_l = jnp.log1p(-xl)
    v_low = _PI2_6 - jnp.log(xl) * log1m_l - _li2(-log1m_l)
    log_h, log1m_inv = jnp.log(xh), jnp.log1p(-1 / xh)
    v_high = -_PI2_6 - log1m_inv * log_h + _li2(-log1m_inv) - 0.5 * log_h * log_h
    out = jnp.where(mid, v_mid, jnp.where(low, v_low, v_high))
    out = jnp.where(x == 0, _PI2_6, out)
    return jnp.where((x < 0) | jnp.isnan(x), np.nan, out).astype(x.dtype)


def spence(x):
    """Li2(1 - x) = ∫_1^x log(t) / (1 - t) dt for x >= 0 (nan for x < 0)."""
    (x,) = inexact(x)
    return _spence(x)

"""Dawson's integral F(x) = exp(-x²) ∫_0^x exp(t²) dt (`jax.scipy.special.dawsn`): Taylor's series
near 0, Rybicki's sampling formula elsewhere (as in Numerical Recipes' dawson)."""

from __future__ import annotations

import numpy as np

from .. import numpy as jnp
from ..api import jit
from ..custom_derivatives import custom_jvp
from ._special_util import inexact

__all__ = ["dawsn"]

_H = 0.4  # Rybicki's sampling step
_TERMS = 6  # odd offsets n = ±1, ±3, ..., ±11 around the nearest even multiple of H
_WEIGHTS = [float(np.exp(-(((2 * i + 1) * _H) ** 2))) for i in range(_TERMS)]
_TAYLOR_SPLIT = 0.2
_ASYMPTOTIC_SPLIT = 100.0  # the next term, 15/(8x^6), is below 1e-12 there


@custom_jvp
@jit
def _dawsn(x):
    ax = jnp.abs(x)
    x2 = x * x
    # x (1 - 2/3 x² (1 - 2/5 x² (1 - 2/7 x²))): the Taylor series to x^7
    taylor = x * (1 - (2 / 3) * x2 * (1 - 0.4 * x2 * (1 - (2 / 7) * x2)))
    xs = jnp.where(ax <= _ASYMPTOTIC_SPLIT, jnp.maximum(ax, _TAYLOR_SPLIT), _TAYLOR_SPLIT)
    n0 = 2 * jnp.round(0.5 * xs / _H)
    xp = xs - n0 * _H
    e1 = jnp.exp(2 * xp * _H)
    e2 = e1 * e1
    d1, d2 = n0 + 1, n0 - 1
    total = jnp.zeros_like(x)
    for w in _WEIGHTS:
        total = total + w * (e1 / d1 + 1 / (d2 * e1))
        d1, d2, e1 = d1 + 2, d2 - 2, e1 * e2
    far = float(1 / np.sqrt(np.pi)) * jnp.sign(x) * jnp.exp(-xp * xp) * total
    # far out (where n0 H would lose x's digits) the asymptotic 1/(2x) (1 + 1/(2x²) + 3/(4x⁴))
    xb = jnp.where(ax > _ASYMPTOTIC_SPLIT, x, _ASYMPTOTIC_SPLIT)
    inv2 = 1 / (2 * xb * xb)
    asym = (1 + inv2 * (1 + 3 * inv2)) / (2 * xb)
    out = jnp.where(ax < _TAYLOR_SPLIT, taylor, jnp.where(ax > _ASYMPTOTIC_SPLIT, asym, far))
    return jnp.where(jnp.isinf(x), jnp.sign(x) * 0, out).astype(x.dtype)


_dawsn.defjvps(lambda g, ans, x: g * (1 - 2 * x * ans))


def dawsn(x):
    """Dawson's integral F(x) = exp(-x²) ∫_0^x exp(t²) dt."""
    (x,) = inexact(x)
    return _dawsn(x)

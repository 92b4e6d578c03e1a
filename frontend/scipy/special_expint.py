"""Exponential integrals of `jax.scipy.special`: expn (E_n), exp1 (E_1) and expi (Ei), by power
series near 0 and continued fractions / asymptotic series further out (fixed term counts)."""

from __future__ import annotations

import numpy as np

from .. import lax
from .. import numpy as jnp
from ..api import jit
from ..custom_derivatives import custom_jvp
from ..numpy._util import asarray_any
from ._special_util import inexact

__all__ = ["exp1", "expi", "expn"]

_EULER = 0.57721566490153286061
_SERIES_TERMS = 40  # x <= 1: terms fall like x^k / k!
_CF_TERMS = 80  # x > 1: the E_n continued fraction (Numerical Recipes' expint), bottom-up
_EI_SERIES_TERMS = 130  # 0 < x <= 40: positive terms peak near k = x
_EI_SPLIT = 40.0


def _expn_series(n, x):
    """E_n(x) = (-x)^(n-1)/(n-1)! (ψ(n) - log x) - Σ_{k≠n-1} (-x)^k / ((k - n + 1) k!), n >= 1."""
    total = jnp.zeros_like(x)
    term = jnp.ones_like(x)  # (-x)^k / k!
    for k in range(_SERIES_TERMS):
        if k > 0:
            term = term * -x / k
        denom = k - n + 1
        skip = denom == 0
        total = total - jnp.where(skip, 0, term / jnp.where(skip, 1, denom))
    lead = jnp.power(-x, n - 1) * jnp.exp(-lax.lgamma(n)) * (_digamma_int(n) - jnp.log(x))
    return total + lead


_HARMONIC_TERMS = 40


def _digamma_int(n):
    """ψ(n) for integer n >= 1 without lax.digamma (which has no reverse-mode rule, and
    reverse mode walks through this when it transposes expn's jvp rule): -γ + Σ_{k<n} 1/k,
    Stirling's series from n = 40 on."""
    h = jnp.zeros_like(n)
    for k in range(1, _HARMONIC_TERMS):
        h = h + jnp.where(k < n, 1.0 / k, 0)
    inv = 1 / jnp.maximum(n, _HARMONIC_TERMS)
    stirling = -jnp.log(inv) - inv / 2 - inv * inv / 12 + inv**4 / 120
    return jnp.where(n < _HARMONIC_TERMS, h - _EULER, stirling)


def _expn_cf(n, x):
    """E_n(x) = e^-x / (x + n - 1·n/(x + n + 2 - 2(n+1)/(x + n + 4 - ...))), evaluated bottom-up."""
    tail = jnp.zeros_like(x)
    for i in range(_CF_TERMS, 0, -1):
        tail = i * (n - 1 + i) / (x + n + 2 * i - tail)
    return jnp.exp(-x) / (x + n - tail)


@jit
def _expn_values(n, x):
    n_ok = (n == jnp.floor(n)) & (n >= 0)
    nn = jnp.where(n_ok & (n >= 1), n, 1)
    small = (x > 0) & (x <= 1)
    xs = jnp.where(small, x, 0.5)
    xl = jnp.where(x > 1, x, 2)
    out = jnp.where(small, _expn_series(nn, xs), _expn_cf(nn, xl))
    out = jnp.where(n == 0, jnp.exp(-x) / x, out)
    at0 = jnp.where(n <= 1, np.inf, 1 / jnp.where(n > 1, n - 1, 1))
    out = jnp.where((x == 0) & (n != 0), at0, out)
    bad = ~n_ok | (x < 0) | jnp.isinf(x) | jnp.isnan(x) | jnp.isnan(n)
    return jnp.where(bad, np.nan, out).astype(x.dtype)


@custom_jvp
def _expn(n, x):
    return _expn_values(n, x)


def _expn_dx(g, ans, n, x):
    # d/dx E_n = -E_{n-1} for n >= 1; E_0 = e^-x / x differentiates directly
    d0 = -jnp.exp(-x) * (1 / x + 1 / (x * x))
    return g * jnp.where(n == 0, d0, -_expn(jnp.maximum(n - 1, 0), x))


# n is an integer: no derivative in it
_expn.defjvps(None, _expn_dx)


def expn(n, x):
    """Generalized exponential integral E_n(x) = ∫_1^∞ e^{-xt} / t^n dt; nan unless n >= 0 is integer."""
    n_arr = asarray_any(n)
    if not np.issubdtype(n_arr.dtype, np.integer) and not np.issubdtype(n_arr.dtype, np.floating):
        raise TypeError(f"expn: n must be an integer or float array, got dtype {n_arr.dtype}")
    n, x = inexact(n, x)
    return _expn(n, x)


@custom_jvp
@jit
def _exp1(x):
    return _expn_values(jnp.ones_like(x), x)


_exp1.defjvps(lambda g, ans, x: g * jnp.where(x < 0, np.nan, -jnp.exp(-x) / x))


def exp1(x):
    """Exponential integral E_1(x) = ∫_x^∞ e^{-t} / t dt (nan for x < 0, as JAX)."""
    (x,) = inexact(x)
    return _exp1(x)


@custom_jvp
@jit
def _expi(x):
    pos = x > 0
    mid = pos & (x <= _EI_SPLIT)
    xm = jnp.where(mid, x, 1)
    term = jnp.ones_like(x)
    total = jnp.zeros_like(x)
    for k in range(1, _EI_SERIES_TERMS + 1):
        term = term * xm / k
        total = total + term / k
    series = _EULER + jnp.log(xm) + total
    xb = jnp.where(x > _EI_SPLIT, x, 2 * _EI_SPLIT)
    term, asym = jnp.ones_like(x), jnp.ones_like(x)
    for k in range(1, 40):
        term = term * k / xb
        asym = asym + term
    big = jnp.exp(xb) / xb * asym
    neg = -_expn_values(jnp.ones_like(x), jnp.where(pos, 1, -x))  # Ei(x) = -E_1(-x) for x < 0
    out = jnp.where(mid, series, jnp.where(pos, big, neg))
    return jnp.where((x == 0) | jnp.isinf(x), np.nan, out).astype(x.dtype)


_expi.defjvps(lambda g, ans, x: g * jnp.exp(x) / x)


def expi(x):
    """Exponential integral Ei(x) = -E_1(-x) for x < 0, its principal value for x > 0."""
    (x,) = inexact(x)
    return _expi(x)

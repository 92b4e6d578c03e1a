"""Regularized incomplete beta I_x(a, b) (`jax.scipy.special.betainc`, lax.betainc) and the
beta function: a fixed-length modified-Lentz continued fraction, as Numerical Recipes' betacf."""

from __future__ import annotations

import numpy as np

from .. import lax
from .. import numpy as jnp
from ..api import jit
from ..custom_derivatives import custom_jvp
from ._special_util import inexact
from .special_gamma import gammasgn

__all__ = ["beta", "betainc", "betaln"]

_BETAINC_STEPS = 200  # each step adds two partial fractions: converges for a, b up to ~1e4


def _betaln(a, b):
    """log|B(a, b)| as a difference of lgammas. (It loses digits where one argument is large,
    betaln(0.1, 1e5) = 1.125 for 1.1014 in float32; a Stirling-series form fixed that but its
    gradients under vmap made dispatches with more buffer bindings than IREE's runtime allows, so
    it was taken out again: docs/decisions.md.)"""
    return lax.lgamma(a) + lax.lgamma(b) - lax.lgamma(a + b)


betaln = jit(_betaln)


def _clamp(v, tiny):
    return jnp.where(jnp.abs(v) < tiny, tiny, v)


@jit
def _betainc_values(a, b, x):
    # The fraction converges fast for x < (a + 1) / (a + b + 2); elsewhere use
    # I_x(a, b) = 1 - I_{1-x}(b, a) (1 - x is exact there, x >= 1/2 or close).
    swap = x > (a + 1) / (a + b + 2)
    ok = (a > 0) & (b > 0) & jnp.isfinite(a) & jnp.isfinite(b) & (x > 0) & (x < 1)
    p = jnp.where(ok, jnp.where(swap, b, a), 1)
    r = jnp.where(ok, jnp.where(swap, a, b), 1)
    y = jnp.where(ok, jnp.where(swap, 1 - x, x), 0.5)
    tiny = jnp.asarray(1e-30, x.dtype)

    def lentz(coef, c, d, h):
        d = 1 / _clamp(1 + coef * d, tiny)
        c = _clamp(1 + coef / c, tiny)
        return c, d, h * d * c

    def step(m, carry):
        c, d, h = carry
        m = jnp.asarray(m + 1, x.dtype)
        even = m * (r - m) * y / ((p + 2 * m - 1) * (p + 2 * m))
        c, d, h = lentz(even, c, d, h)
        odd = -(p + m) * (p + r + m) * y / ((p + 2 * m) * (p + 2 * m + 1))
        return lentz(odd, c, d, h)

    d0 = 1 / _clamp(1 - (p + r) * y / (p + 1), tiny)
    _, _, h = lax.fori_loop(0, _BETAINC_STEPS, step, (jnp.ones_like(y), d0, d0))
    front = jnp.exp(p * jnp.log(y) + r * jnp.log1p(-y) - _betaln(p, r)) / p
    out = front * h
    out = jnp.where(swap, 1 - out, out)
    # limits: a -> 0 or b -> inf puts all mass at 0, b -> 0 or a -> inf at 1
    out = jnp.where((a == 0) | (b == np.inf), 1, jnp.where((b == 0) | (a == np.inf), 0, out))
    out = jnp.where(x == 0, 0, jnp.where(x == 1, 1, out))
    bad = (
        ((a == 0) & (b == 0))
        | ((a == np.inf) & (b == np.inf))
        | (a < 0)
        | (b < 0)
        | (x < 0)
        | (x > 1)
        | jnp.isnan(a)
        | jnp.isnan(b)
        | jnp.isnan(x)
    )
    return jnp.where(bad, np.nan, out).astype(x.dtype)


@custom_jvp
def _betainc(a, b, x):
    return _betainc_values(a, b, x)


def _param_rule(which):
    """d/da or d/db (JAX has neither): a Richardson-extrapolated central difference with a
    step proportional to the parameter, as the existing d/da of gammainc."""

    def rule(g, ans, a, b, x):
        p = a if which == 0 else b

        def diff(h):
            if which == 0:
                return (_betainc_values(a + h, b, x) - _betainc_values(a - h, b, x)) / (2 * h)
            return (_betainc_values(a, b + h, x) - _betainc_values(a, b - h, x)) / (2 * h)

        h = 0.05 * jnp.where(p < 1, p, jnp.sqrt(jnp.abs(p)))
        return g * (4 * diff(h / 2) - diff(h)) / 3

    return rule


@jit
def _betainc_dx(a, b, x):
    inside = (x > 0) & (x < 1)
    xs = jnp.where(inside, x, 0.5)
    density = jnp.exp((a - 1) * jnp.log(xs) + (b - 1) * jnp.log1p(-xs) - _betaln(a, b))
    return jnp.where(inside, density, 0)


_betainc.defjvps(_param_rule(0), _param_rule(1), lambda g, ans, a, b, x: g * _betainc_dx(a, b, x))


def betainc(a, b, x):
    """Regularized incomplete beta I_x(a, b); d/da and d/db by central
    differences (JAX has only d/dx)."""
    a, b, x = inexact(a, b, x)
    return _betainc(a, b, x)


@jit
def _beta_values(a, b):
    return gammasgn(a) * gammasgn(b) * gammasgn(a + b) * jnp.exp(_betaln(a, b))


def beta(a, b):
    """B(a, b) = Γ(a) Γ(b) / Γ(a + b)."""
    a, b = inexact(a, b)
    return _beta_values(a, b)

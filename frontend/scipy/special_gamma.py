"""Gamma-function relatives of `jax.scipy.special`: gamma, gammasgn, loggamma, poch, factorial,
comb, and the relative entropies kl_div and rel_entr."""

from __future__ import annotations

import numpy as np

from .. import lax
from .. import numpy as jnp
from ._special_util import inexact

__all__ = ["comb", "factorial", "gamma", "gammasgn", "kl_div", "loggamma", "poch", "rel_entr"]


def gammasgn(x):
    """Sign of Γ(x): -1 on (-1, 0), (-3, -2), ... and at -0.0; nan at the poles 0 > x ∈ Z."""
    (x,) = inexact(x)
    fx = jnp.floor(x)
    neg = ((x < 0) & (jnp.fmod(fx, 2) != 0)) | ((x == 0) & jnp.signbit(x))
    out = jnp.where(neg, -1, 1).astype(x.dtype)
    return jnp.where(((x < 0) & (x == fx)) | jnp.isnan(x), np.nan, out).astype(x.dtype)


def gamma(x):
    """Γ(x) = gammasgn(x) exp(gammaln(x))."""
    (x,) = inexact(x)
    return gammasgn(x) * jnp.exp(lax.lgamma(x))


def loggamma(x):
    """log Γ(x) for real x > 0, nan elsewhere (as JAX)."""
    (x,) = inexact(x)
    return jnp.where(x > 0, lax.lgamma(x), np.nan).astype(x.dtype)


def poch(z, m):
    """Pochhammer's rising factorial (z)_m = Γ(z + m) / Γ(z), 1 at m = 0."""
    z, m = inexact(z, m)
    return jnp.where(m == 0, 1, gamma(z + m) / gamma(z)).astype(z.dtype)


def factorial(n, exact: bool = False):
    """n! = Γ(n + 1), 0 for n < 0."""
    if exact:
        raise NotImplementedError("factorial with exact=True")
    (n,) = inexact(n)
    return jnp.where(n < 0, 0, jnp.exp(lax.lgamma(n + 1))).astype(n.dtype)


def comb(N, k, exact: bool = False, repetition: bool = False):
    """Binomial coefficient C(N, k) by log-gamma; 0 unless 0 <= k <= N (nan counts as outside)."""
    if exact:
        raise NotImplementedError("comb with exact=True")
    N, k = inexact(N, k)
    if repetition:
        return jnp.where((k == 0) & (N >= 0), 1, comb(N + k - 1, k)).astype(N.dtype)
    ok = (k >= 0) & (k <= N) & (N >= 0)
    n_, k_ = jnp.where(ok, N, 0), jnp.where(ok, k, 0)
    out = jnp.exp(lax.lgamma(n_ + 1) - lax.lgamma(k_ + 1) - lax.lgamma(n_ - k_ + 1))
    return jnp.where(ok, out, 0).astype(N.dtype)


def rel_entr(p, q):
    """p log(p / q) for p, q > 0; 0 at p = 0 <= q; inf elsewhere."""
    p, q = inexact(p, q)
    both = (p > 0) & (q > 0)
    pp, qq = jnp.where(both, p, 1), jnp.where(both, q, 1)
    # exactly 0 at p == q; at p = inf JAX's p log p - p log q (nan for q >= 1)
    inner = jnp.where(jnp.isinf(pp), pp * jnp.log(pp) - pp * jnp.log(qq), pp * (jnp.log(pp) - jnp.log(qq)))
    out = jnp.where(both, inner, jnp.where((p == 0) & (q >= 0), 0, np.inf))
    return out.astype(p.dtype)


def kl_div(p, q):
    """rel_entr(p, q) - p + q."""
    p, q = inexact(p, q)
    return rel_entr(p, q) - p + q

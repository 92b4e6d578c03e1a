"""Hurwitz zeta and polygamma (`jax.scipy.special.zeta`, `polygamma`; also lax.zeta/polygamma):
Euler-Maclaurin summation with a fixed number of terms, as Cephes' zeta."""

from __future__ import annotations

import operator
from fractions import Fraction

import numpy as np

from .. import lax
from .. import numpy as jnp
from ..api import jit
from ..custom_derivatives import custom_jvp
from ..numpy._util import asarray_any
from ._special_util import inexact

__all__ = ["bernoulli", "polygamma", "zeta"]

_DIRECT_TERMS = 9  # (q + k)^-x summed directly for k < 9, Euler-Maclaurin from q + 9 on
# (2j)! / B_2j for j = 1..12: the Euler-Maclaurin remainder's coefficients.
_EM = (
    12.0,
    -720.0,
    30240.0,
    -1209600.0,
    47900160.0,
    -1.8924375803183791606e9,
    7.47242496e10,
    -2.950130727918164224e12,
    1.1646782814350067249e14,
    -4.5979787224074726105e15,
    1.8152105401943546773e17,
    -7.1661652561756670113e18,
)


def _zeta_sum(x, q):
    """(ζ(x, q), dζ/dx) by Euler-Maclaurin, the derivative carried along term by term
    (d/dx (q + k)^-x = -log(q + k) (q + k)^-x); x finite and > 1 where the result is used."""
    b = jnp.power(q, -x)
    db = -jnp.log(jnp.abs(q)) * b
    s, ds, a = b, db, q
    for _ in range(_DIRECT_TERMS):
        a = a + 1
        b = jnp.power(a, -x)
        db = -jnp.log(jnp.abs(a)) * b
        s, ds = s + b, ds + db
    w = a
    s = s + b * w / (x - 1) - 0.5 * b
    ds = ds + db * w / (x - 1) - b * w / ((x - 1) * (x - 1)) - 0.5 * db
    # c_j = b x (x+1) ... (x+2j-2) / w^(2j-1), kept as one running product so that a
    # vanishing w^-x never meets an overflowing rising factorial (0 * inf).
    c, dc = b, db
    k = 0.0
    for coef in _EM:
        c, dc = c * (x + k) / w, (dc * (x + k) + c) / w
        s, ds = s + c / coef, ds + dc / coef
        c, dc = c * (x + k + 1) / w, (dc * (x + k + 1) + c) / w
        k += 2.0
    return s, ds


def _guard(x, q, out):
    """JAX's values off the domain: nan for x < 1, x = inf or nan inputs; inf at x = 1; at the
    poles q = 0, -1, ... inf for even integer x, else nan; nan for q < 0 and x not integer."""
    q_int = q == jnp.floor(q)
    x_int = x == jnp.floor(x)
    even = x_int & (jnp.fmod(x, 2) == 0)
    out = jnp.where((q <= 0) & q_int, jnp.where(even, np.inf, np.nan), out)
    out = jnp.where((q < 0) & ~x_int, np.nan, out)
    bad = (x < 1) | jnp.isinf(x) | jnp.isnan(x) | jnp.isnan(q)
    out = jnp.where(bad, np.nan, out)
    return jnp.where(x == 1, np.inf, out).astype(x.dtype)


def _safe_x(x):
    return jnp.where(jnp.isfinite(x) & (x > 1), x, 2)


@jit
def _zeta_values(x, q):
    return _guard(x, q, _zeta_sum(_safe_x(x), q)[0])


@jit
def _zeta_dx(x, q):
    d = _zeta_sum(_safe_x(x), q)[1]
    return jnp.where(x == 1, -np.inf, _guard(x, q, d))


@custom_jvp
def _zeta(x, q):
    return _zeta_values(x, q)


_zeta.defjvps(lambda g, ans, x, q: g * _zeta_dx(x, q), lambda g, ans, x, q: g * -x * _zeta(x + 1, q))


def zeta(x, q=None):
    """Hurwitz zeta ζ(x, q) = Σ_k (q + k)^-x; q is required (as in JAX)."""
    if q is None:
        raise NotImplementedError("zeta: Riemann zeta (q=None) is not implemented; pass q=1")
    x, q = inexact(x, q)
    return _zeta(x, q)


@jit
def _polygamma_values(n, x):
    n_ok = (n == jnp.round(n)) & (n >= 0)
    nn = jnp.where(n_ok & (n > 0), n, 1)
    sign = jnp.where(jnp.fmod(nn, 2) == 1, 1, -1).astype(x.dtype)
    higher = sign * jnp.exp(lax.lgamma(nn + 1)) * _zeta_values(nn + 1, x)
    pole = (x <= 0) & (x == jnp.floor(x))
    out = jnp.where(n == 0, jnp.where(pole, np.nan, lax.digamma(x)), higher)
    return jnp.where(n_ok, out, np.nan).astype(x.dtype)


@custom_jvp
def _polygamma(n, x):
    return _polygamma_values(n, x)


def _polygamma_next(n, x):
    """ψ^(n+1)(x) = (-1)^n (n+1)! ζ(n+2, x), built on _zeta (not on digamma, which has no
    reverse-mode rule for the transposed jvp rule to walk through); nan unless n >= 0 is integer."""
    n_ok = (n == jnp.round(n)) & (n >= 0)
    nn = jnp.where(n_ok, n, 0)
    sign = jnp.where(jnp.fmod(nn, 2) == 0, 1, -1).astype(x.dtype)
    return jnp.where(n_ok, sign * jnp.exp(lax.lgamma(nn + 2)) * _zeta(nn + 2, x), np.nan)


# n takes integer values only: no derivative in n (the rule sees every tangent, so it cannot raise)
_polygamma.defjvps(None, lambda g, ans, n, x: g * _polygamma_next(n, x))


def polygamma(n, x):
    """ψ^(n)(x), the n-th derivative of digamma; n of an integer dtype (nan where negative)."""
    n_arr = asarray_any(n)
    if not np.issubdtype(n_arr.dtype, np.integer):
        raise ValueError(f"Argument `n` to polygamma must be of integer type. Got dtype {n_arr.dtype}.")
    n, x = inexact(n, x)
    return _polygamma(n, x)


def _bernoulli_numbers(n: int) -> list[Fraction]:
    """B_0 .. B_n exactly (B_1 = -1/2), by the Akiyama-Tanigawa algorithm."""
    out, row = [], []
    for m in range(n + 1):
        row.append(Fraction(1, m + 1))
        for j in range(m, 0, -1):
            row[j - 1] = j * (row[j - 1] - row[j])
        out.append(row[0])
    if n >= 1:
        out[1] = -out[1]  # the algorithm gives B_1 = +1/2; JAX and SciPy use -1/2
    return out


def bernoulli(n: int):
    """The Bernoulli numbers B_0 .. B_n as a float array (n a concrete non-negative int)."""
    try:
        n = operator.index(n)
    except TypeError:
        raise TypeError(f"bernoulli: n must be a concrete Python integer, got {n!r}") from None
    if n < 0:
        raise ValueError("n must be a non-negative integer.")
    with np.errstate(over="ignore"):
        values = np.array([float(b) for b in _bernoulli_numbers(n)]).astype(np.float32)
    return jnp.asarray(values)

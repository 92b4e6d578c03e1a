"""NumPy's polynomial helpers over coefficient arrays (highest power first): polyval, polyfit,
polyadd/sub/mul/div, polyder, polyint, poly. The coefficient count is static."""

from __future__ import annotations

import numpy as np
from irjax import dtypes
from irjax.core import Tracer

from . import linalg
from ._util import asarray_any
from .creation import arange, asarray, full, zeros
from .products import convolve
from .reductions import sum as _sum
from .shape import concatenate, flip
from .ufuncs import sqrt


def _coeffs(p, name):
    p = asarray_any(p)
    if p.ndim != 1:
        raise ValueError(f"jnp.{name}: expected a 1-d array of coefficients, got shape {p.shape}")
    return p


def polyval(p, x, *, unroll: int = 16):
    """p[0]*x**(n-1) + ... + p[n-1], by Horner's rule (one multiply-add per coefficient)."""
    p, x = _promote_unbroadcast(_coeffs(p, "polyval"), asarray_any(x))
    y = zeros(x.shape, dtype=x.dtype)
    for i in range(p.shape[0]):
        y = y * x + p[i]
    return y


def _promote_unbroadcast(*xs):
    dt = dtypes.result_type(*xs)
    return [x.astype(dt) for x in xs]


def polyadd(a1, a2):
    a, b = _promote_unbroadcast(_coeffs(a1, "polyadd"), _coeffs(a2, "polyadd"))
    n = max(a.shape[0], b.shape[0])
    return _lead_pad(a, n) + _lead_pad(b, n)


def polysub(a1, a2):
    a, b = _promote_unbroadcast(_coeffs(a1, "polysub"), _coeffs(a2, "polysub"))
    n = max(a.shape[0], b.shape[0])
    return _lead_pad(a, n) - _lead_pad(b, n)


def _lead_pad(a, n):
    if a.shape[0] == n:
        return a
    return concatenate([zeros((n - a.shape[0],), a.dtype), a])


def _trim(a, name):
    if isinstance(a, Tracer):
        raise ValueError(f"jnp.{name}: trim_leading_zeros=True needs concrete coefficients")
    host = np.asarray(a)
    nz = np.flatnonzero(host)
    return a[int(nz[0]) :] if nz.size else a[-1:]


def polymul(a1, a2, *, trim_leading_zeros: bool = False):
    a, b = _promote_unbroadcast(_coeffs(a1, "polymul"), _coeffs(a2, "polymul"))
    if trim_leading_zeros:
        a, b = _trim(a, "polymul"), _trim(b, "polymul")
    if a.shape[0] == 0 or b.shape[0] == 0:
        return zeros((1,), a.dtype)
    return convolve(a, b)


def polydiv(u, v, *, trim_leading_zeros: bool = False):
    """(quotient, remainder) of u / v by long division (the divisor's leading term must be nonzero)."""
    u, v = _promote_unbroadcast(_coeffs(u, "polydiv"), _coeffs(v, "polydiv"))
    dt = u.dtype if dtypes.issubdtype(u.dtype, np.inexact) else dtypes.default_float
    u, v = u.astype(dt), v.astype(dt)
    if trim_leading_zeros:
        v = _trim(v, "polydiv")
    m, n = u.shape[0] - 1, v.shape[0] - 1
    scale = 1.0 / v[0]
    q = zeros((max(m - n + 1, 1),), dt)
    r = u
    for k in range(0, m - n + 1):
        d = scale * r[k]
        q = q.at[k].set(d)
        r = r.at[k : k + n + 1].add(-d * v)
    if trim_leading_zeros:
        r = _trim(r, "polydiv")
    return q, r


def polyder(p, m: int = 1):
    p = _coeffs(p, "polyder")
    if m < 0:
        raise ValueError("Order of derivative must be positive")
    if m == 0:
        return p
    n = p.shape[0]
    # d^m/dx^m of x^k is k!/(k-m)! x^(k-m): one falling-factorial weight per coefficient
    k = np.arange(n - 1, m - 1, -1)
    w = np.ones_like(k, dtype=np.int64)
    for j in range(m):
        w = w * (k - j)
    return p[: max(n - m, 0)] * asarray(w.astype(dtypes.canonicalize_dtype(np.int64)))


def polyint(p, m: int = 1, k=None):
    p = _coeffs(p, "polyint")
    if m < 0:
        raise ValueError("Order of integral must be positive (see polyder)")
    if m == 0:
        return p
    dt = dtypes.result_type(p, dtypes.default_float) if not dtypes.issubdtype(p.dtype, np.inexact) else p.dtype
    kk = zeros((m,), dt) if k is None else asarray_any(k).astype(dt) * full((m,), 1, dt)
    out = p.astype(dt)
    for j in range(m):
        n = out.shape[0]
        out = concatenate([out / arange(n, 0, -1).astype(dt), kk[j : j + 1]])
    return out


def poly(seq_of_zeros):
    """Coefficients of the monic polynomial with the given (real) zeros."""
    z = asarray_any(seq_of_zeros)
    if z.ndim == 2 and z.shape[0] == z.shape[1] and z.shape[0] > 0:
        raise NotImplementedError("jnp.poly of a matrix needs complex eigenvalues, which irjax does not have yet")
    if z.ndim != 1:
        raise ValueError(f"jnp.poly: input must be 1d or non-empty square 2d array, got shape {z.shape}")
    dt = z.dtype if dtypes.issubdtype(z.dtype, np.inexact) else dtypes.default_float
    out = asarray(np.ones(1, dt))
    for i in range(z.shape[0]):
        out = convolve(out, concatenate([asarray(np.ones(1, dt)), -z[i : i + 1].astype(dt)]))
    return out


def polyfit(x, y, deg: int, rcond=None, full: bool = False, w=None, cov: bool = False):
    """Least-squares polynomial fit of degree `deg` (columns scaled as NumPy does)."""
    x, y = asarray_any(x), asarray_any(y)
    deg = int(deg)
    if deg < 0:
        raise ValueError("expected deg >= 0")
    if x.ndim != 1 or x.shape[0] == 0:
        raise TypeError("expected 1D vector for x and a non-empty one")
    if y.ndim not in (1, 2) or y.shape[0] != x.shape[0]:
        raise TypeError("expected 1D or 2D array for y, with as many rows as x has entries")
    dt = dtypes.result_type(x, y, dtypes.default_float)
    x, y = x.astype(dt), y.astype(dt)
    order = deg + 1
    if rcond is None:
        rcond = x.shape[0] * float(np.finfo(dt).eps)
    lhs = flip(x[:, None] ** arange(order).astype(dt), 1)  # Vandermonde, highest power first
    rhs = y
    if w is not None:
        w = asarray_any(w).astype(dt)
        if w.ndim != 1 or w.shape[0] != x.shape[0]:
            raise TypeError("expected a 1-d weight vector as long as x")
        lhs = lhs * w[:, None]
        rhs = rhs * (w if rhs.ndim == 1 else w[:, None])
    scale = sqrt(_sum(lhs * lhs, axis=0))
    c, resids, rank, s = linalg.lstsq(lhs / scale, rhs, rcond=rcond)
    c = (c.T / scale).T
    if full:
        return c, resids, rank, s, asarray(np.array(rcond, dt))
    if cov:
        if y.ndim != 1:
            raise NotImplementedError("jnp.polyfit(cov=True) supports 1-d y in irjax")
        # NumPy's scaled covariance: inv(A^T A) / outer(scale, scale) * resid / (n - order)
        base = linalg.inv(lhs.T @ lhs / (scale[:, None] * scale[None, :])) / (scale[:, None] * scale[None, :])
        fac = _sum((lhs @ c - rhs) ** 2) / (x.shape[0] - order)
        return c, base * fac
    return c

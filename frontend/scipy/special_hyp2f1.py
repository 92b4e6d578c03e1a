"""Gauss's hypergeometric function 2F1(a, b; c; x) (`jax.scipy.special.hyp2f1`) for real x <= 1:
JAX's case split (special values, Euler's transformation for c - a - b <= -1, the terminating
polynomial, the Taylor series, AMS 15.3.10-12 near x = 1 when c - a - b is an integer)."""

from __future__ import annotations

import numpy as np

from .. import lax
from .. import numpy as jnp
from ..custom_derivatives import custom_jvp
from ._special_util import inexact
from .special_gamma import gamma

__all__ = ["hyp2f1"]

_MAX_TERMS = 250  # the series' cap (as JAX): past it, slow series near x = 1 stop where they are
_psi = lax.digamma


def _tol(x):
    return float(np.finfo(x.dtype).eps)


def _series(a, b, c, x, weight=None):
    """sum_k (a)_k (b)_k / (c)_k x^k / k! (times weight(k) when given), each element stopping when
    its next term falls below eps of its sum, or after 249 terms (JAX's rule)."""
    tol = _tol(x)

    def cond(st):
        k, _, _, active = st
        return (k < _MAX_TERMS - 1) & jnp.any(active)

    def body(st):
        k, total, term, active = st
        total = jnp.where(active, total + (term if weight is None else term * weight(k)), total)
        nxt = term * (a + k) * (b + k) / (c + k) / (k + 1) * x
        still = jnp.abs(nxt if weight is None else nxt * weight(k + 1)) > tol * jnp.abs(total)
        active = active & (still if weight is None else still | (k == 0))
        return k + 1, total, jnp.where(active, nxt, term), active

    zero = jnp.zeros_like(x)
    st = (jnp.asarray(0.0, x.dtype), zero, jnp.ones_like(x), jnp.ones(x.shape, bool))
    return lax.while_loop(cond, body, st)[1]


def _terminal(a, b, c, x):
    """The polynomial when a (or b, swapped in) is a non-positive integer -n: n + 1 terms."""
    eps50 = _tol(x) * 50
    swap = (b < a) & (jnp.abs(b - jnp.round(b)) < eps50) & ~((c % 1 == 0) & (c <= 0) & (c > b))
    a, b = jnp.where(swap, b, a), jnp.where(swap, a, b)
    n = jnp.abs(a)

    def cond(st):
        i, _, _ = st
        return jnp.any(i <= n)

    def body(st):
        i, total, term = st
        live = i <= n
        term = jnp.where(live, term * -(n - i + 1) / (c + i - 1) * (b + i - 1) / i * x, term)
        return i + 1, jnp.where(live, total + term, total), term

    one = jnp.ones_like(x)
    return lax.while_loop(cond, body, (jnp.asarray(1.0, x.dtype), one, one))[1]


def _near_one(a, b, c, x):
    """AMS 15.3.10-12: 2F1 for x near 1 when m = c - a - b is an integer (logarithmic case)."""
    tol = _tol(x)
    d = c - a - b
    m = jnp.round(d)
    pos = m >= 0
    e = jnp.abs(d)  # |m| in exact arithmetic, kept unrounded as the reference does
    s = 1 - x
    shift = jnp.where(pos, d, 0.0)  # the infinite sum runs over (a + m)_n (b + m)_n for m >= 0
    ls = jnp.log(s)
    # infinite part: sum_n (a')_n (b')_n / (n! (n + e)!) s^n [psi(n+1) + psi(n+e+1) - psi(a'+n) - psi(b'+n) - ln s]
    ap, bp = a + shift, b + shift
    p0 = 1.0 / gamma(e + 1.0)
    y0 = (_psi(jnp.ones_like(x)) + _psi(1.0 + e) - _psi(ap) - _psi(bp) - ls) * p0

    def cond(st):
        t, _, _, active = st
        return (t < _MAX_TERMS) & jnp.any(active)

    def body(st):
        t, p, y, active = st
        p = p * s * (ap + t) / (t + 1.0) * (bp + t) / (t + 1.0 + e)
        q = p * (_psi(2.0 + t) + _psi(2.0 + t + e) - _psi(ap + t + 1.0) - _psi(bp + t + 1.0) - ls)
        active = active & (jnp.abs(q) >= tol * jnp.abs(y))
        return t + 1.0, p, jnp.where(active, y + q, y), active

    _, _, y, _ = lax.while_loop(cond, body, (jnp.asarray(0.0, x.dtype), p0, y0, jnp.ones(x.shape, bool)))
    # finite part: sum_{n < |m|} (a'')_n (b'')_n / (n! (1 - |m|)_n) s^n, a'' = a (m > 0) or a - |m| (m < 0)
    app, bpp = jnp.where(pos, a, a + d), jnp.where(pos, b, b + d)
    k = jnp.abs(m)

    def fcond(st):
        n, _, _ = st
        return jnp.any(n < k)

    def fbody(st):
        n, term, total = st
        live = n < k
        term = jnp.where(live, term * (app + n - 1) * (bpp + n - 1) / (n * (n - e)) * s, term)
        return n + 1.0, term, jnp.where(live, total + term, total)

    one = jnp.ones_like(x)
    _, _, fin = lax.while_loop(fcond, fbody, (jnp.asarray(1.0, x.dtype), one, one))
    gc = gamma(c)
    odd = (k % 2) == 1
    inf_part = jnp.where(pos, y * gc / (gamma(a) * gamma(b)), y * gc / (gamma(a + d) * gamma(b + d)))
    inf_part = jnp.where(odd, -inf_part, inf_part)
    fin = jnp.where(
        pos, fin * gamma(e) * gc / (gamma(a + d) * gamma(b + d)), fin * gamma(e) * gc / (gamma(a) * gamma(b))
    )
    sm = s**m
    total = jnp.where(m > 0, inf_part * sm + fin, inf_part + fin * sm)
    return jnp.where(m == 0, y * gc / (gamma(a) * gamma(b)), total)


def _terminal_or_series(a, b, c, x):
    eps50 = _tol(x) * 50
    d = c - a - b
    neg_int = ((a <= 0) & (jnp.abs(a - jnp.round(a)) < eps50)) | ((b <= 0) & (jnp.abs(b - jnp.round(b)) < eps50))
    log_case = (x > 0.9) & ~neg_int & (jnp.abs(d - jnp.round(d)) < eps50)
    # each branch only sees the elements that take it (the others get harmless arguments)
    one = jnp.ones_like(x)
    safe_x = jnp.where(neg_int | log_case, 0.0, x)
    ser = _series(a, b, c, safe_x)
    ter = _terminal(jnp.where(neg_int, a, 0.0), jnp.where(neg_int, b, one), jnp.where(neg_int, c, one), x)
    near = _near_one(a, b, c, jnp.where(log_case, x, 0.95))
    return jnp.where(neg_int, ter, jnp.where(log_case, near, ser))


@custom_jvp
def _hyp2f1(a, b, c, x):
    eps50 = _tol(x) * 50
    d = c - a - b
    s = 1 - x
    ca, cb = c - a, c - b
    case = jnp.where(
        (x == 0) | (((a == 0) | (b == 0)) & (c != 0)),
        0,
        jnp.where(
            (c == 0) | ((c < 0) & (c % 1 == 0)),
            1,
            jnp.where(
                (d <= -1) & ~((jnp.abs(d - jnp.round(d)) >= eps50) & (s < 0)),
                2,
                jnp.where(
                    (d <= 0) & (x == 1),
                    1,
                    jnp.where(
                        (x < 1) & (b == c),
                        3,
                        jnp.where((x < 1) & (a == c), 4, jnp.where(x > 1, 1, jnp.where(x == 1, 5, 6))),
                    ),
                ),
            ),
        ),
    )
    euler = case == 2
    direct = case == 6
    # Euler's transformation 2F1(a, b; c; x) = (1 - x)^(c - a - b) 2F1(c - a, c - b; c; x)
    ea, eb = jnp.where(euler, ca, a), jnp.where(euler, cb, b)
    f = _terminal_or_series(ea, eb, c, jnp.where(euler | direct, x, 0.0))
    vals = [
        jnp.ones_like(x),
        jnp.full_like(x, np.inf),
        s**d * f,
        s ** (-a),
        s ** (-b),
        gamma(c) * gamma(d) / (gamma(ca) * gamma(cb)),
        f,
    ]
    out = vals[6]
    for i in range(6):
        out = jnp.where(case == i, vals[i], out)
    return out


def _param_derivative(a, b, c, x, which):
    """d/da (which=0), d/db (1), d/dc (2) of the Taylor series, term by term (digamma weights)."""
    p = (a, b, c)[which]
    sign = -1.0 if which == 2 else 1.0
    return _series(a, b, c, x, weight=lambda k: sign * (_psi(p + k) - _psi(p)))


@_hyp2f1.defjvp
def _hyp2f1_jvp(primals, tangents):
    a, b, c, x = primals
    da, db, dc, dx = tangents
    out = _hyp2f1(a, b, c, x)
    dfx = a * b / c * _hyp2f1(a + 1, b + 1, c + 1, x)
    t = dfx * dx
    for i, dp in enumerate((da, db, dc)):
        t = t + _param_derivative(a, b, c, x, i) * dp
    return out, t


def hyp2f1(a, b, c, x):
    """2F1(a, b; c; x) = sum_k (a)_k (b)_k / (c)_k x^k / k! for real x <= 1 (inf for x > 1, as JAX);
    differentiable in all four arguments (x exactly, a, b, c through the series, as JAX)."""
    a, b, c, x = inexact(a, b, c, x)
    return _hyp2f1(a, b, c, x)

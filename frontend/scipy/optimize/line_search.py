"""Strong-Wolfe line search (Nocedal & Wright, algorithms 3.5/3.6) as one lax.while_loop.

Branches are selected with `where` masks rather than lax.cond, so every iteration runs the
same ops; the step logic follows jax.scipy.optimize's line search step for step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from ... import numpy as jnp
from ...api import value_and_grad
from ...control_flow import while_loop


class _ZoomState(NamedTuple):
    done: object
    failed: object
    j: object
    a_lo: object
    phi_lo: object
    dphi_lo: object
    a_hi: object
    phi_hi: object
    dphi_hi: object
    a_rec: object
    phi_rec: object
    a_star: object
    phi_star: object
    dphi_star: object
    g_star: object
    nfev: object
    ngev: object


class _LineSearchState(NamedTuple):
    done: object
    failed: object
    i: object
    a_i1: object
    phi_i1: object
    dphi_i1: object
    nfev: object
    ngev: object
    a_star: object
    phi_star: object
    dphi_star: object
    g_star: object


class _LineSearchResults(NamedTuple):
    """Result of line_search: step `a_k`, the value/gradient there, and counters."""

    failed: object
    nit: object
    nfev: object
    ngev: object
    k: object
    a_k: object
    f_k: object
    g_k: object
    status: object


def _pick(mask, old: NamedTuple, **new) -> dict:
    """Fields of `old` replaced by `new` where mask holds (a branch-free `if`)."""
    return {k: jnp.where(mask, v, getattr(old, k)) for k, v in new.items()}


def _cubicmin(a, fa, fpa, b, fb, c, fc):
    # minimiser of the cubic through (a, fa, fpa), (b, fb), (c, fc)
    db, dc = b - a, c - a
    denom = (db * dc) ** 2 * (db - dc)
    rb, rc = fb - fa - fpa * db, fc - fa - fpa * dc
    A = (dc**2 * rb - db**2 * rc) / denom
    B = (-(dc**3) * rb + db**3 * rc) / denom
    radical = B * B - 3.0 * A * fpa
    return a + (-B + jnp.sqrt(radical)) / (3.0 * A)


def _quadmin(a, fa, fpa, b, fb):
    # minimiser of the quadratic through (a, fa, fpa), (b, fb)
    db = b - a
    B = (fb - fa - fpa * db) / (db**2)
    return a - fpa / (2.0 * B)


def _zoom(phi_dphi, wolfe_one, wolfe_two, a_lo, phi_lo, dphi_lo, a_hi, phi_hi, dphi_hi, g_0, pass_through):
    """Shrink [a_lo, a_hi] until a point meets the strong Wolfe conditions."""
    dt = jnp.asarray(phi_lo).dtype
    state = _ZoomState(
        done=jnp.asarray(False),
        failed=jnp.asarray(False),
        j=jnp.asarray(0),
        a_lo=a_lo,
        phi_lo=phi_lo,
        dphi_lo=dphi_lo,
        a_hi=a_hi,
        phi_hi=phi_hi,
        dphi_hi=dphi_hi,
        a_rec=(a_lo + a_hi) / 2.0,
        phi_rec=(phi_lo + phi_hi) / 2.0,
        a_star=jnp.asarray(1.0, dtype=jnp.asarray(a_lo).dtype),
        phi_star=phi_lo,
        dphi_star=dphi_lo,
        g_star=g_0,
        nfev=jnp.asarray(0),
        ngev=jnp.asarray(0),
    )
    # single precision stops shrinking earlier than double
    threshold = 1e-5 if np.finfo(dt).bits < 64 else 1e-10

    def body(s: _ZoomState) -> _ZoomState:
        dalpha = s.a_hi - s.a_lo
        lo, hi = jnp.minimum(s.a_hi, s.a_lo), jnp.maximum(s.a_hi, s.a_lo)
        cchk, qchk = 0.2 * dalpha, 0.1 * dalpha
        s = s._replace(failed=s.failed | (dalpha <= threshold))
        # the cubic step may be nan; the bracket test then rejects it
        a_cubic = _cubicmin(s.a_lo, s.phi_lo, s.dphi_lo, s.a_hi, s.phi_hi, s.a_rec, s.phi_rec)
        use_cubic = (s.j > 0) & (a_cubic > lo + cchk) & (a_cubic < hi - cchk)
        a_quad = _quadmin(s.a_lo, s.phi_lo, s.dphi_lo, s.a_hi, s.phi_hi)
        use_quad = (~use_cubic) & (a_quad > lo + qchk) & (a_quad < hi - qchk)
        a_bisect = (s.a_lo + s.a_hi) / 2.0
        a_j = jnp.where(use_cubic, a_cubic, s.a_rec)
        a_j = jnp.where(use_quad, a_quad, a_j)
        a_j = jnp.where((~use_cubic) & (~use_quad), a_bisect, a_j)

        phi_j, dphi_j, g_j = phi_dphi(a_j)
        phi_j = phi_j.astype(s.phi_lo.dtype)
        dphi_j = dphi_j.astype(s.dphi_lo.dtype)
        g_j = g_j.astype(s.g_star.dtype)
        s = s._replace(nfev=s.nfev + 1, ngev=s.ngev + 1)

        hi_to_j = wolfe_one(a_j, phi_j) | (phi_j >= s.phi_lo)
        star_to_j = wolfe_two(dphi_j) & (~hi_to_j)
        hi_to_lo = (dphi_j * (s.a_hi - s.a_lo) >= 0.0) & (~hi_to_j) & (~star_to_j)
        lo_to_j = (~hi_to_j) & (~star_to_j)

        s = s._replace(**_pick(hi_to_j, s, a_hi=a_j, phi_hi=phi_j, dphi_hi=dphi_j, a_rec=s.a_hi, phi_rec=s.phi_hi))
        s = s._replace(
            done=star_to_j | s.done,
            **_pick(star_to_j, s, a_star=a_j, phi_star=phi_j, dphi_star=dphi_j, g_star=g_j),
        )
        s = s._replace(
            **_pick(hi_to_lo, s, a_hi=s.a_lo, phi_hi=s.phi_lo, dphi_hi=s.dphi_lo, a_rec=s.a_hi, phi_rec=s.phi_hi)
        )
        s = s._replace(**_pick(lo_to_j, s, a_lo=a_j, phi_lo=phi_j, dphi_lo=dphi_j, a_rec=s.a_lo, phi_rec=s.phi_lo))
        s = s._replace(j=s.j + 1)
        return s._replace(failed=s.failed | (s.j >= 30))

    return while_loop(lambda s: (~s.done) & (~pass_through) & (~s.failed), body, state)


def line_search(
    f: Callable,
    xk,
    pk,
    old_fval=None,
    old_old_fval=None,
    gfk=None,
    c1: float = 1e-4,
    c2: float = 0.9,
    maxiter: int = 20,
) -> _LineSearchResults:
    """Step length along `pk` from `xk` meeting the strong Wolfe conditions."""
    xk, pk = jnp.asarray(xk), jnp.asarray(pk)
    dt = jnp.result_type(xk, pk)
    if not jnp.issubdtype(dt, jnp.inexact):
        dt = jnp.result_type(dt, jnp.float32)
    xk, pk = xk.astype(dt), pk.astype(dt)
    vg = value_and_grad(f)

    def phi_dphi(t):
        t = jnp.asarray(t, dtype=pk.dtype)
        phi, g = vg(xk + t * pk)
        return phi, jnp.real(jnp.dot(g, pk)), g

    fresh = old_fval is None or gfk is None
    if fresh:
        phi_0, dphi_0, gfk = phi_dphi(0.0)
    else:
        phi_0 = jnp.asarray(old_fval)
        dphi_0 = jnp.real(jnp.dot(gfk, pk))
    if old_old_fval is not None:
        candidate = 1.01 * 2 * (phi_0 - old_old_fval) / dphi_0
        start = jnp.where(candidate > 1, 1.0, candidate)
    else:
        start = jnp.asarray(1.0)

    def wolfe_one(a_i, phi_i):  # sufficient decrease (Armijo)
        return phi_i > phi_0 + c1 * a_i * dphi_0

    def wolfe_two(dphi_i):  # curvature
        return jnp.abs(dphi_i) <= -c2 * dphi_0

    rdt = jnp.asarray(dphi_0).dtype
    zero = jnp.asarray(0.0, dtype=rdt)
    state = _LineSearchState(
        done=jnp.asarray(False),
        failed=jnp.asarray(False),
        i=jnp.asarray(1),
        a_i1=zero,
        phi_i1=phi_0,
        dphi_i1=dphi_0,
        nfev=jnp.asarray(1 if fresh else 0),
        ngev=jnp.asarray(1 if fresh else 0),
        a_star=zero,
        phi_star=phi_0,
        dphi_star=dphi_0,
        g_star=gfk,
    )

    def body(s: _LineSearchState) -> _LineSearchState:
        a_i = jnp.where(s.i == 1, start, s.a_i1 * 2.0).astype(rdt)
        phi_i, dphi_i, g_i = phi_dphi(a_i)
        s = s._replace(nfev=s.nfev + 1, ngev=s.ngev + 1)
        star_to_zoom1 = wolfe_one(a_i, phi_i) | ((phi_i >= s.phi_i1) & (s.i > 1))
        star_to_i = wolfe_two(dphi_i) & (~star_to_zoom1)
        star_to_zoom2 = (dphi_i >= 0.0) & (~star_to_zoom1) & (~star_to_i)

        # one zoom serves both brackets (JAX runs two, of which at most one iterates)
        sel = lambda x1, x2: jnp.where(star_to_zoom1, x1, x2)  # noqa: E731
        z = _zoom(
            phi_dphi,
            wolfe_one,
            wolfe_two,
            sel(s.a_i1, a_i),
            sel(s.phi_i1, phi_i),
            sel(s.dphi_i1, dphi_i),
            sel(a_i, s.a_i1),
            sel(phi_i, s.phi_i1),
            sel(dphi_i, s.dphi_i1),
            gfk,
            ~(star_to_zoom1 | star_to_zoom2),
        )
        zoomed = star_to_zoom1 | star_to_zoom2
        s = s._replace(nfev=s.nfev + z.nfev, ngev=s.ngev + z.ngev)
        s = s._replace(
            done=zoomed | s.done,
            failed=(zoomed & z.failed) | s.failed,
            **_pick(zoomed, s, **{k: getattr(z, k) for k in ("a_star", "phi_star", "dphi_star", "g_star")}),
        )
        s = s._replace(
            done=star_to_i | s.done,
            **_pick(star_to_i, s, a_star=a_i, phi_star=phi_i, dphi_star=dphi_i, g_star=g_i),
        )
        return s._replace(i=s.i + 1, a_i1=a_i, phi_i1=phi_i, dphi_i1=dphi_i)

    state = while_loop(lambda s: (~s.done) & (s.i <= maxiter) & (~s.failed), body, state)
    status = jnp.where(state.failed, 1, jnp.where(state.i > maxiter, 3, 0))
    a_k = state.a_star
    if np.finfo(a_k.dtype).bits != 64:
        # a vanishing single-precision step would stall the outer optimiser
        a_k = jnp.where(jnp.abs(a_k) < 1e-8, jnp.sign(a_k) * 1e-8, a_k)
    return _LineSearchResults(
        failed=state.failed | (~state.done),
        nit=state.i - 1,
        nfev=state.nfev,
        ngev=state.ngev,
        k=state.i,
        a_k=a_k,
        f_k=state.phi_star,
        g_k=state.g_star,
        status=status,
    )

"""minimize(): BFGS with a strong-Wolfe zoom line search, as jax.scipy.optimize.minimize.

The optimiser, its line search and the zoom are one lax.while_loop whose every iteration
makes one function evaluation (a bracketing step or a zoom step) and, when the line search
ends, the BFGS update: IREE 3.13 crashes compiling the three nested loops of the direct
form. The sequence of evaluated points, counters and results are those of JAX's BFGS.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from ... import numpy as jnp
from ...api import value_and_grad
from ...control_flow import while_loop
from .line_search import _cubicmin, _quadmin


class OptimizeResults(NamedTuple):
    """Result of minimize: solution, convergence flags, final value/gradient and counters."""

    x: Any
    success: Any
    status: Any
    fun: Any
    jac: Any
    hess_inv: Any
    nfev: Any
    njev: Any
    nit: Any


class _State(NamedTuple):
    # BFGS
    converged: Any
    failed: Any
    k: Any
    nfev: Any
    x_k: Any
    f_k: Any
    g_k: Any
    H_k: Any
    ls_status: Any
    # line search along p from x_k (phase 0: bracketing, phase 1: zoom)
    p: Any
    dphi_0: Any
    start: Any
    zooming: Any
    i: Any
    a_i1: Any
    phi_i1: Any
    dphi_i1: Any
    a_star: Any
    phi_star: Any
    dphi_star: Any
    g_star: Any
    # zoom bracket
    j: Any
    a_lo: Any
    phi_lo: Any
    dphi_lo: Any
    a_hi: Any
    phi_hi: Any
    dphi_hi: Any
    a_rec: Any
    phi_rec: Any


def _sel(mask, new: dict, old: NamedTuple) -> dict:
    return {k: jnp.where(mask, v, getattr(old, k)) for k, v in new.items()}


def _new_search(x, f, g, H, old_old, zero):
    """Line-search fields for a fresh search from (x, f, g) along -H g."""
    p = -jnp.dot(H, g)
    dphi_0 = jnp.real(jnp.dot(g, p))
    cand = 1.01 * 2 * (f - old_old) / dphi_0
    start = jnp.where(cand > 1, 1.0, cand).astype(zero.dtype)
    return dict(
        p=p,
        dphi_0=dphi_0,
        start=start,
        zooming=jnp.asarray(False),
        i=jnp.asarray(1),
        a_i1=zero,
        phi_i1=f,
        dphi_i1=dphi_0,
        a_star=zero,
        phi_star=f,
        dphi_star=dphi_0,
        g_star=g,
    )


def _bfgs(
    fun: Callable,
    x0,
    maxiter: int | None = None,
    norm=jnp.inf,
    gtol: float = 1e-5,
    line_search_maxiter: int = 10,
    c1: float = 1e-4,
    c2: float = 0.9,
):
    if maxiter is None:
        maxiter = jnp.size(x0) * 200
    d = x0.shape[0]
    vg = value_and_grad(fun)
    f_0, g_0 = vg(x0)
    H_0 = jnp.eye(d, dtype=x0.dtype)
    rdt = jnp.real(g_0).dtype
    zero = jnp.zeros((), rdt)
    # single precision stops the zoom (and floors the step) earlier than double
    single = np.finfo(rdt).bits < 64
    threshold = 1e-5 if single else 1e-10
    old_old = f_0 + jnp.linalg.norm(g_0) / 2
    state = _State(
        converged=jnp.linalg.norm(g_0, ord=norm) < gtol,
        failed=jnp.asarray(False),
        k=jnp.asarray(0),
        nfev=jnp.asarray(1),
        x_k=x0,
        f_k=f_0,
        g_k=g_0,
        H_k=H_0,
        ls_status=jnp.asarray(0),
        j=jnp.asarray(0),
        a_lo=zero,
        phi_lo=f_0,
        dphi_lo=zero,
        a_hi=zero,
        phi_hi=f_0,
        dphi_hi=zero,
        a_rec=zero,
        phi_rec=f_0,
        **_new_search(x0, f_0, g_0, H_0, old_old, zero),
    )

    def body(s: _State) -> _State:
        phi_0, dphi_0 = s.f_k, s.dphi_0

        def wolfe_one(a, phi):  # sufficient decrease
            return phi > phi_0 + c1 * a * dphi_0

        def wolfe_two(dphi):  # curvature
            return jnp.abs(dphi) <= -c2 * dphi_0

        # the trial step: next bracketing step, or the zoom's interpolated point
        dalpha = s.a_hi - s.a_lo
        lo, hi = jnp.minimum(s.a_hi, s.a_lo), jnp.maximum(s.a_hi, s.a_lo)
        a_cubic = _cubicmin(s.a_lo, s.phi_lo, s.dphi_lo, s.a_hi, s.phi_hi, s.a_rec, s.phi_rec)
        use_cubic = (s.j > 0) & (a_cubic > lo + 0.2 * dalpha) & (a_cubic < hi - 0.2 * dalpha)
        a_quad = _quadmin(s.a_lo, s.phi_lo, s.dphi_lo, s.a_hi, s.phi_hi)
        use_quad = (~use_cubic) & (a_quad > lo + 0.1 * dalpha) & (a_quad < hi - 0.1 * dalpha)
        a_j = jnp.where(use_cubic, a_cubic, s.a_rec)
        a_j = jnp.where(use_quad, a_quad, a_j)
        a_j = jnp.where((~use_cubic) & (~use_quad), (s.a_lo + s.a_hi) / 2.0, a_j)
        a_b = jnp.where(s.i == 1, s.start, s.a_i1 * 2.0)
        a = jnp.where(s.zooming, a_j, a_b).astype(rdt)

        phi, g = vg(s.x_k + a.astype(s.p.dtype) * s.p)
        phi = phi.astype(s.f_k.dtype)
        g = g.astype(s.g_k.dtype)
        dphi = jnp.real(jnp.dot(g, s.p))
        s = s._replace(nfev=s.nfev + 1)
        B, Z = ~s.zooming, s.zooming

        # bracketing step (Nocedal & Wright algorithm 3.5)
        zoom1 = B & (wolfe_one(a, phi) | ((phi >= s.phi_i1) & (s.i > 1)))
        star_i = B & wolfe_two(dphi) & (~zoom1)
        zoom2 = B & (dphi >= 0.0) & (~zoom1) & (~star_i)
        start_zoom = zoom1 | zoom2
        pick = lambda u, v: jnp.where(zoom1, u, v)  # noqa: E731
        lo3 = (pick(s.a_i1, a), pick(s.phi_i1, phi), pick(s.dphi_i1, dphi))
        hi3 = (pick(a, s.a_i1), pick(phi, s.phi_i1), pick(dphi, s.dphi_i1))
        bracket_ends = star_i | (B & (~start_zoom) & (s.i + 1 > line_search_maxiter))

        # zoom step (algorithm 3.6)
        z_failed = Z & (dalpha <= threshold)
        hi_to_j = Z & (wolfe_one(a, phi) | (phi >= s.phi_lo))
        star_j = Z & wolfe_two(dphi) & (~hi_to_j)
        hi_to_lo = Z & (dphi * (s.a_hi - s.a_lo) >= 0.0) & (~hi_to_j) & (~star_j)
        lo_to_j = Z & (~hi_to_j) & (~star_j)
        z = s._replace(**_sel(hi_to_j, dict(a_hi=a, phi_hi=phi, dphi_hi=dphi, a_rec=s.a_hi, phi_rec=s.phi_hi), s))
        z = z._replace(
            **_sel(hi_to_lo, dict(a_hi=z.a_lo, phi_hi=z.phi_lo, dphi_hi=z.dphi_lo, a_rec=z.a_hi, phi_rec=z.phi_hi), z)
        )
        z = z._replace(**_sel(lo_to_j, dict(a_lo=a, phi_lo=phi, dphi_lo=dphi, a_rec=z.a_lo, phi_rec=z.phi_lo), z))
        j_next = s.j + 1
        z_failed = z_failed | (Z & (j_next >= 30))
        zoom_ends = star_j | z_failed

        s = z._replace(
            j=jnp.where(Z, j_next, jnp.where(start_zoom, 0, s.j)),
            i=jnp.where(B, s.i + 1, s.i),
            a_i1=jnp.where(B, a, s.a_i1),
            phi_i1=jnp.where(B, phi, s.phi_i1),
            dphi_i1=jnp.where(B, dphi, s.dphi_i1),
            zooming=(Z & ~zoom_ends) | start_zoom,
        )
        # a new zoom: its bracket, and the star it reports if it fails before meeting Wolfe
        s = s._replace(
            **_sel(
                start_zoom,
                dict(
                    a_lo=lo3[0],
                    phi_lo=lo3[1],
                    dphi_lo=lo3[2],
                    a_hi=hi3[0],
                    phi_hi=hi3[1],
                    dphi_hi=hi3[2],
                    a_rec=(lo3[0] + hi3[0]) / 2.0,
                    phi_rec=(lo3[1] + hi3[1]) / 2.0,
                    a_star=jnp.ones((), rdt),
                    phi_star=lo3[1],
                    dphi_star=lo3[2],
                    g_star=s.g_k,
                ),
                s,
            )
        )
        s = s._replace(**_sel(star_i | star_j, dict(a_star=a, phi_star=phi, dphi_star=dphi, g_star=g), s))

        # the line search ends: take the BFGS step and start the next search
        ends = bracket_ends | zoom_ends
        ls_failed = z_failed | (bracket_ends & ~star_i)
        ls_status = jnp.where(z_failed, 1, jnp.where(s.i > line_search_maxiter, 3, 0))
        a_k = s.a_star
        if single:  # a vanishing step would stall the optimiser
            a_k = jnp.where(jnp.abs(a_k) < 1e-8, jnp.sign(a_k) * 1e-8, a_k)
        s_k = a_k.astype(s.p.dtype) * s.p
        y_k = s.g_star - s.g_k
        rho = jnp.reciprocal(jnp.dot(y_k, s_k))
        # H' = (I - rho s y^T) H (I - rho y s^T) + rho s s^T, skipped when y.s == 0
        w = jnp.eye(d, dtype=rho.dtype) - rho * jnp.outer(s_k, y_k)
        H_1 = w @ s.H_k @ w.T + rho * jnp.outer(s_k, s_k)
        H_1 = jnp.where(jnp.isfinite(rho), H_1, s.H_k)
        x_1, f_1, g_1 = s.x_k + s_k, s.phi_star, s.g_star
        step = dict(
            converged=jnp.linalg.norm(g_1, ord=norm) < gtol,
            failed=ls_failed,
            k=s.k + 1,
            x_k=x_1,
            f_k=f_1,
            g_k=g_1,
            H_k=H_1,
            ls_status=ls_status,
            **_new_search(x_1, f_1, g_1, H_1, s.f_k, zero),
        )
        return s._replace(**_sel(ends, step, s))

    def cond(s: _State):
        return (~s.converged) & (~s.failed) & (s.k < maxiter)

    s = while_loop(cond, body, state)
    status = jnp.where(s.converged, 0, jnp.where(s.k == maxiter, 1, jnp.where(s.failed, 2 + s.ls_status, -1)))
    return s, status


def minimize(
    fun: Callable,
    x0,
    args: tuple = (),
    *,
    method: str,
    tol: float | None = None,
    options: dict | None = None,
) -> OptimizeResults:
    """Minimise a scalar function of one 1-d array, as jax.scipy.optimize.minimize (method 'BFGS')."""
    if options is None:
        options = {}
    if not isinstance(args, tuple):
        raise TypeError(f"args argument to jax.scipy.optimize.minimize must be a tuple, got {args}")

    def fun_with_args(x):
        return fun(x, *args)

    if method.lower() == "bfgs":
        s, status = _bfgs(fun_with_args, jnp.asarray(x0), **options)
        return OptimizeResults(
            x=s.x_k,
            success=s.converged & (~s.failed),
            status=status,
            fun=s.f_k,
            jac=s.g_k,
            hess_inv=s.H_k,
            nfev=s.nfev,
            njev=s.nfev,
            nit=s.k,
        )
    raise ValueError(f"Method {method} not recognized")

"""One evaluation of the strong-Wolfe line search (bracketing or zoom step) as a masked update.

BFGS and L-BFGS each run their optimiser, line search and zoom as ONE lax.while_loop (IREE
3.13 crashes compiling the three nested loops of the direct form); this module owns the
line-search fields both states carry and the step that advances them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from ... import numpy as jnp
from .line_search import _cubicmin, _quadmin

# the line-search fields an optimiser state carries (besides x_k, f_k, g_k and nfev)
SEARCH_FIELDS = (
    # along p from x_k (phase 0: bracketing, phase 1: zoom)
    "p dphi_0 start zooming i a_i1 phi_i1 dphi_i1 a_star phi_star dphi_star g_star "
    # zoom bracket
    "j a_lo phi_lo dphi_lo a_hi phi_hi dphi_hi a_rec phi_rec"
).split()


def select(mask, new: dict, old: NamedTuple) -> dict:
    """Fields of `old` replaced by `new` where mask holds (a branch-free `if`)."""
    return {k: jnp.where(mask, v, getattr(old, k)) for k, v in new.items()}


def new_search(p, f, g, start, zero) -> dict:
    """Line-search fields for a fresh search from (f, g) along p, first trying step `start`."""
    dphi_0 = jnp.real(jnp.dot(g, p))
    return dict(
        p=p,
        dphi_0=dphi_0,
        start=jnp.asarray(start).astype(zero.dtype),
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


def empty_bracket(f, zero) -> dict:
    """Zoom-bracket fields before any zoom (overwritten when one starts)."""
    return dict(
        j=jnp.asarray(0),
        a_lo=zero,
        phi_lo=f,
        dphi_lo=zero,
        a_hi=zero,
        phi_hi=f,
        dphi_hi=zero,
        a_rec=zero,
        phi_rec=f,
    )


class StepOutcome(NamedTuple):
    ends: Any  # the line search ended at this evaluation
    failed: Any  # ... without a point meeting the strong Wolfe conditions
    status: Any  # 0 ok, 1 zoom failed, 3 bracketing ran out of steps (JAX's line_search status)
    a_k: Any  # the accepted step length


def search_step(
    s: NamedTuple, vg: Callable, maxiter: int, c1: float, c2: float, single: bool
) -> tuple[NamedTuple, StepOutcome]:
    """Evaluate `vg` at the next trial step of the search in `s`; return the advanced state."""
    rdt = s.dphi_0.dtype
    phi_0, dphi_0 = s.f_k, s.dphi_0
    # single precision stops the zoom (and floors the step) earlier than double
    threshold = 1e-5 if single else 1e-10

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
    bracket_ends = star_i | (B & (~start_zoom) & (s.i + 1 > maxiter))

    # zoom step (algorithm 3.6)
    z_failed = Z & (dalpha <= threshold)
    hi_to_j = Z & (wolfe_one(a, phi) | (phi >= s.phi_lo))
    star_j = Z & wolfe_two(dphi) & (~hi_to_j)
    hi_to_lo = Z & (dphi * (s.a_hi - s.a_lo) >= 0.0) & (~hi_to_j) & (~star_j)
    lo_to_j = Z & (~hi_to_j) & (~star_j)
    z = s._replace(**select(hi_to_j, dict(a_hi=a, phi_hi=phi, dphi_hi=dphi, a_rec=s.a_hi, phi_rec=s.phi_hi), s))
    z = z._replace(
        **select(hi_to_lo, dict(a_hi=z.a_lo, phi_hi=z.phi_lo, dphi_hi=z.dphi_lo, a_rec=z.a_hi, phi_rec=z.phi_hi), z)
    )
    z = z._replace(**select(lo_to_j, dict(a_lo=a, phi_lo=phi, dphi_lo=dphi, a_rec=z.a_lo, phi_rec=z.phi_lo), z))
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
        **select(
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
    s = s._replace(**select(star_i | star_j, dict(a_star=a, phi_star=phi, dphi_star=dphi, g_star=g), s))

    ends = bracket_ends | zoom_ends
    failed = z_failed | (bracket_ends & ~star_i)
    status = jnp.where(z_failed, 1, jnp.where(s.i > maxiter, 3, 0))
    a_k = s.a_star
    if single:  # a vanishing step would stall the optimiser
        a_k = jnp.where(jnp.abs(a_k) < 1e-8, jnp.sign(a_k) * 1e-8, a_k)
    return s, StepOutcome(ends, failed, status, a_k)

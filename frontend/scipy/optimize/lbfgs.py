"""L-BFGS (JAX's 'l-bfgs-experimental-do-not-rely-on-this'): two-loop recursion over a ring of
maxcor (s, y, rho) pairs, with the strong-Wolfe line search of wolfe_step, in one lax.while_loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from ... import numpy as jnp
from ...api import value_and_grad
from ...control_flow import while_loop
from .wolfe_step import SEARCH_FIELDS, empty_bracket, new_search, search_step, select

LBFGSState = NamedTuple(
    "LBFGSState",
    [
        ("converged", Any),
        ("failed", Any),
        ("k", Any),
        ("nfev", Any),  # evaluations so far (each one is also a gradient evaluation)
        ("nfev_k", Any),  # evaluations when iteration k began: JAX tests maxfun/maxgrad on it
        ("x_k", Any),
        ("f_k", Any),
        ("g_k", Any),
        ("s_history", Any),  # (maxcor, d), newest pair last
        ("y_history", Any),
        ("rho_history", Any),
        ("gamma", Any),
        ("status", Any),
        ("ls_status", Any),
        # the line search in flight
        *((name, Any) for name in SEARCH_FIELDS),
    ],
)


def _direction(g, k, s_hist, y_hist, rho_hist, gamma):
    """-H_k g by the two-loop recursion over the min(k, maxcor) newest pairs.

    Unrolled over the fixed ring (maxcor is static) so that no loop nests in the optimiser's.
    """
    m = rho_hist.shape[0]
    used = jnp.minimum(k, m)
    q = -jnp.conj(g)
    alphas = [None] * m
    for i in range(m - 1, -1, -1):  # newest first
        live = i >= m - used
        a_i = rho_hist[i] * jnp.real(jnp.dot(jnp.conj(s_hist[i]), q)).astype(rho_hist.dtype)
        alphas[i] = a_i
        q = jnp.where(live, q - a_i * jnp.conj(y_hist[i]), q)
    q = gamma * q
    for i in range(m):  # oldest first
        live = i >= m - used
        b_i = rho_hist[i] * jnp.real(jnp.dot(y_hist[i], q)).astype(rho_hist.dtype)
        q = jnp.where(live, q + (alphas[i] - b_i) * s_hist[i], q)
    return q


def _push(history, new):
    # drop the oldest entry, append the newest
    return jnp.concatenate([history[1:], jnp.expand_dims(new, 0)], axis=0)


def minimize_lbfgs(
    fun: Callable,
    x0,
    maxiter: int | None = None,
    norm=jnp.inf,
    maxcor: int = 10,
    ftol: float = 2.220446049250313e-09,
    gtol: float = 1e-05,
    maxfun: int | None = None,
    maxgrad: int | None = None,
    maxls: int = 20,
) -> LBFGSState:
    """Minimise `fun` from `x0` by L-BFGS; options and status codes as JAX's _minimize_lbfgs.

    status: 0 converged, 1 maxiter, 2 maxfun, 3 maxgrad, 4 f decreased by less than ftol,
    5 line search failed. A limit left as None is no limit (maxiter defaults to 200 * d
    when all three are None).
    """
    if x0.ndim != 1:
        raise ValueError(f"L-BFGS expects x0 to be a 1-d array, got shape {x0.shape}")
    d = x0.shape[0]
    if maxiter is None and maxfun is None and maxgrad is None:
        maxiter = d * 200
    dtype = x0.dtype
    vg = value_and_grad(fun)
    f_0, g_0 = vg(x0)
    rdt = jnp.real(g_0).dtype
    zero = jnp.zeros((), rdt)
    single = np.finfo(rdt).bits < 64
    s_hist = jnp.zeros((maxcor, d), dtype)
    y_hist = jnp.zeros((maxcor, d), dtype)
    rho_hist = jnp.zeros((maxcor,), dtype)
    gamma = jnp.ones((), dtype)
    k0 = jnp.asarray(0)
    state = LBFGSState(
        converged=jnp.asarray(False),
        failed=jnp.asarray(False),
        k=k0,
        nfev=jnp.asarray(1),
        nfev_k=jnp.asarray(1),
        x_k=x0,
        f_k=f_0,
        g_k=g_0,
        s_history=s_hist,
        y_history=y_hist,
        rho_history=rho_hist,
        gamma=gamma,
        status=jnp.asarray(0),
        ls_status=jnp.asarray(0),
        **empty_bracket(f_0, zero),
        **new_search(_direction(g_0, k0, s_hist, y_hist, rho_hist, gamma), f_0, g_0, 1.0, zero),
    )

    def body(s: LBFGSState) -> LBFGSState:
        s, ls = search_step(s, vg, maxls, c1=1e-4, c2=0.9, single=single)
        # the line search ends: store the new pair and start the next search
        s_k = ls.a_k.astype(s.p.dtype) * s.p
        x_1, f_1, g_1 = s.x_k + s_k, s.phi_star, s.g_star
        y_k = g_1 - s.g_k
        rho_inv = jnp.real(jnp.dot(y_k, s_k))
        rho = jnp.reciprocal(rho_inv).astype(y_k.dtype)
        gamma = (rho_inv / jnp.real(jnp.dot(jnp.conj(y_k), y_k))).astype(s.g_k.dtype)
        # later tests win, in JAX's order of precedence
        status = jnp.where(s.f_k - f_1 < ftol, 4, 0)
        if maxgrad is not None:
            status = jnp.where(s.nfev_k >= maxgrad, 3, status)
        if maxfun is not None:
            status = jnp.where(s.nfev_k >= maxfun, 2, status)
        if maxiter is not None:
            status = jnp.where(s.k >= maxiter, 1, status)
        status = jnp.where(ls.failed, 5, status)
        converged = jnp.linalg.norm(g_1, ord=norm) < gtol
        k_1 = s.k + 1
        s_h, y_h, r_h = _push(s.s_history, s_k), _push(s.y_history, y_k), _push(s.rho_history, rho)
        step = dict(
            converged=converged,
            failed=(status > 0) & (~converged),
            k=k_1,
            nfev_k=s.nfev,
            x_k=x_1.astype(dtype),
            f_k=f_1,
            g_k=g_1,
            s_history=s_h,
            y_history=y_h,
            rho_history=r_h,
            gamma=gamma,
            status=jnp.where(converged, 0, status),
            ls_status=ls.status,
            **new_search(_direction(g_1, k_1, s_h, y_h, r_h, gamma), f_1, g_1, 1.0, zero),
        )
        return s._replace(**select(ls.ends, step, s))

    return while_loop(lambda s: (~s.converged) & (~s.failed), body, state)

"""minimize(): BFGS (and the L-BFGS of lbfgs.py) with a strong-Wolfe zoom line search, as jax.scipy.optimize.minimize.

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
from ...api import jit, value_and_grad
from ...control_flow import while_loop
from .lbfgs import minimize_lbfgs
from .wolfe_step import SEARCH_FIELDS, empty_bracket, new_search, search_step, select


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


_State = NamedTuple(
    "_State",
    [
        ("converged", Any),
        ("failed", Any),
        ("k", Any),
        ("nfev", Any),
        ("x_k", Any),
        ("f_k", Any),
        ("g_k", Any),
        ("H_k", Any),
        ("ls_status", Any),
        # the line search in flight
        *((name, Any) for name in SEARCH_FIELDS),
    ],
)


def _bfgs_search(f, g, H, old_old, zero) -> dict:
    """A fresh search along -H g, first trying JAX's step from the last decrease."""
    p = -jnp.dot(H, g)
    cand = 1.01 * 2 * (f - old_old) / jnp.real(jnp.dot(g, p))
    return new_search(p, f, g, jnp.where(cand > 1, 1.0, cand), zero)


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
    single = np.finfo(rdt).bits < 64
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
        **empty_bracket(f_0, zero),
        **_bfgs_search(f_0, g_0, H_0, old_old, zero),
    )

    def body(s: _State) -> _State:
        s, ls = search_step(s, vg, line_search_maxiter, c1, c2, single)
        # the line search ends: take the BFGS step and start the next search
        s_k = ls.a_k.astype(s.p.dtype) * s.p
        y_k = s.g_star - s.g_k
        rho = jnp.reciprocal(jnp.dot(y_k, s_k))
        # H' = (I - rho s y^T) H (I - rho y s^T) + rho s s^T, skipped when y.s == 0
        w = jnp.eye(d, dtype=rho.dtype) - rho * jnp.outer(s_k, y_k)
        H_1 = w @ s.H_k @ w.T + rho * jnp.outer(s_k, s_k)
        H_1 = jnp.where(jnp.isfinite(rho), H_1, s.H_k)
        x_1, f_1, g_1 = s.x_k + s_k, s.phi_star, s.g_star
        step = dict(
            converged=jnp.linalg.norm(g_1, ord=norm) < gtol,
            failed=ls.failed,
            k=s.k + 1,
            x_k=x_1,
            f_k=f_1,
            g_k=g_1,
            H_k=H_1,
            ls_status=ls.status,
            **_bfgs_search(f_1, g_1, H_1, s.f_k, zero),
        )
        return s._replace(**select(ls.ends, step, s))

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
    """Minimise a scalar function of one 1-d array, as jax.scipy.optimize.minimize.

    method: 'BFGS', or 'l-bfgs-experimental-do-not-rely-on-this' (L-BFGS; hess_inv is None).
    """
    if options is None:
        options = {}
    if not isinstance(args, tuple):
        raise TypeError(f"args argument to jax.scipy.optimize.minimize must be a tuple, got {args}")

    def fun_with_args(x):
        return fun(x, *args)

    if method.lower() == "bfgs":
        s, status = _bfgs(fun_with_args, jnp.asarray(x0), **options)
        hess_inv = s.H_k
    elif method.lower() == "l-bfgs-experimental-do-not-rely-on-this":
        # staged whole: the setup and the loop compile as one module
        s = jit(lambda x: minimize_lbfgs(fun_with_args, x, **options))(jnp.asarray(x0))
        status, hess_inv = s.status, None
    else:
        raise ValueError(f"Method {method} not recognized")
    return OptimizeResults(
        x=s.x_k,
        success=s.converged & (~s.failed),
        status=status,
        fun=s.f_k,
        jac=s.g_k,
        hess_inv=hess_inv,
        nfev=s.nfev,
        njev=s.nfev,
        nit=s.k,
    )

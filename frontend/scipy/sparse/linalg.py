"""irjax.scipy.sparse.linalg (`jax.scipy.sparse.linalg`): cg, bicgstab and gmres over a matrix or a
matvec function and pytree right-hand sides, each one lax.while_loop (JAX's iterations and stopping
rules); gradients by implicit differentiation, x' = A^-1 (b' - A'x)."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ... import lax
from ... import numpy as jnp
from ...custom_derivatives import custom_vjp
from ...transform_extras import linear_transpose
from ...tree_util import tree_leaves, tree_map, tree_structure

__all__ = ["bicgstab", "cg", "gmres"]


# ---- pytree vector algebra ----------------------------------------------------------------------


def _vdot(x, y):
    """sum over leaves of conj(x) . y"""
    return sum(jnp.vdot(a, b) for a, b in zip(tree_leaves(x), tree_leaves(y)))


def _vdot_real(x, y):
    return sum(jnp.real(jnp.vdot(a, b)) for a, b in zip(tree_leaves(x), tree_leaves(y)))


def _norm(x):
    return jnp.sqrt(_vdot_real(x, x))


def _add(x, y):
    return tree_map(jnp.add, x, y)


def _sub(x, y):
    return tree_map(jnp.subtract, x, y)


def _mul(s, x):
    return tree_map(lambda v: s * v, x)


def _identity(x):
    return x


def _operator(A, name):
    if callable(A):
        return A
    a = jnp.asarray(A)
    if a.ndim != 2:
        raise ValueError(f"{name}: A must be a 2-D matrix or a function computing A @ x, got shape {a.shape}")
    return lambda x: jnp.matmul(a, x, precision=lax.Precision.HIGHEST)


def _dtype(tree):
    return jnp.result_type(*tree_leaves(tree))


def _setup(A, b, x0, M, name):
    leaves = tree_leaves(b)
    if not leaves:
        raise ValueError(f"{name}: b must hold at least one array")
    b = tree_map(jnp.asarray, b)
    x0 = tree_map(jnp.zeros_like, b) if x0 is None else tree_map(jnp.asarray, x0)
    if tree_structure(x0) != tree_structure(b):
        raise ValueError(
            f"{name}: x0 and b must be trees of one structure, got {tree_structure(x0)} and {tree_structure(b)}"
        )
    for u, v in zip(tree_leaves(x0), tree_leaves(b)):
        if u.shape != v.shape:
            raise ValueError(f"{name}: x0 and b must have matching shapes, got {u.shape} and {v.shape}")
    A = _operator(A, name)
    M = _identity if M is None else _operator(M, name)
    return A, b, x0, M


# ---- implicit differentiation -------------------------------------------------------------------


def _implicit(solve, A, b, symmetric):
    """solve(A, b) whose reverse derivative is x' = A^-1 (b' - A' x): the stopped solution x plus a
    linear map of the residual r = b - A(x) that is zero in value and A^-1 in its vjp (the vjp
    solves with A^T), so neither reverse-mode through a while_loop nor a dense inverse is needed."""
    x = tree_map(lax.stop_gradient, solve(A, tree_map(lax.stop_gradient, b)))
    r = _sub(b, A(x))
    if symmetric:
        AT = A
    else:
        AT = lambda ct: linear_transpose(A, x)(ct)[0]  # noqa: E731

    @custom_vjp
    def inverse(r):
        return tree_map(jnp.zeros_like, r)  # (r is zero at the solution; only the derivative matters)

    def fwd(r):
        return inverse(r), None

    def bwd(_, ct):
        return (solve(AT, ct),)

    inverse.defvjp(fwd, bwd)
    return _add(x, inverse(r))


def _real_valued(tree):
    return all(not jnp.issubdtype(v.dtype, np.complexfloating) for v in tree_leaves(tree))


# ---- conjugate gradients ------------------------------------------------------------------------


def _cg_solve(A, b, x0, *, maxiter, tol, atol, M):
    dtype = _dtype(b)
    atol2 = jnp.maximum(jnp.square(tol) * _vdot_real(b, b), jnp.square(atol))

    def cond(state):
        _, r, gamma, _, k = state
        rs = jnp.real(gamma) if M is _identity else _vdot_real(r, r)
        return (rs > atol2) & (k < maxiter)

    def body(state):
        x, r, gamma, p, k = state
        Ap = A(p)
        alpha = gamma / _vdot_real(p, Ap).astype(dtype)
        x = _add(x, _mul(alpha, p))
        r = _sub(r, _mul(alpha, Ap))
        z = M(r)
        gamma_new = _vdot_real(r, z).astype(dtype)
        p = _add(z, _mul(gamma_new / gamma, p))
        return x, r, gamma_new, p, k + 1

    r0 = _sub(b, A(x0))
    z0 = M(r0)
    state = (x0, r0, _vdot_real(r0, z0).astype(dtype), z0, jnp.asarray(0, np.int32))
    return lax.while_loop(cond, body, state)[0]


def _maxiter(b, maxiter):
    size = sum(int(np.prod(v.shape)) for v in tree_leaves(b))
    return 10 * size if maxiter is None else int(maxiter)


def cg(A, b, x0=None, *, tol=1e-5, atol=0.0, maxiter=None, M=None) -> tuple[Any, None]:
    """Conjugate gradients for A x = b with A Hermitian positive definite: (x, None), as JAX.

    Stops when ||r||^2 <= max(tol^2 ||b||^2, atol^2) or after maxiter (default 10 * size) steps."""
    A, b, x0, M = _setup(A, b, x0, M, "cg")
    solve = functools.partial(
        lambda A, b, x0: _cg_solve(A, b, x0, maxiter=_maxiter(b, maxiter), tol=tol, atol=atol, M=M), x0=x0
    )
    return _implicit(solve, A, b, symmetric=_real_valued(b)), None


# ---- BiCGSTAB -----------------------------------------------------------------------------------


def _bicgstab_solve(A, b, x0, *, maxiter, tol, atol, M):
    dtype = _dtype(b)
    atol2 = jnp.maximum(jnp.square(tol) * _vdot_real(b, b), jnp.square(atol))

    def cond(state):
        _, r, *_, k = state
        return (_vdot_real(r, r) > atol2) & (k < maxiter) & (k >= 0)  # k < 0: breakdown

    def body(state):
        x, r, rhat, alpha, omega, rho, p, q, k = state
        rho_new = _vdot(rhat, r)
        beta = rho_new / rho * alpha / omega
        p = _add(r, _mul(beta, _sub(p, _mul(omega, q))))
        phat = M(p)
        q = A(phat)
        alpha = rho_new / _vdot(rhat, q)
        s = _sub(r, _mul(alpha, q))
        early = _vdot_real(s, s) < atol2
        shat = M(s)
        t = A(shat)
        omega = _vdot(t, s) / _vdot(t, t)
        step = _mul(alpha, phat)
        x = tree_map(lambda u, v: jnp.where(early, u, v), _add(x, step), _add(x, _add(step, _mul(omega, shat))))
        r = tree_map(lambda u, v: jnp.where(early, u, v), s, _sub(s, _mul(omega, t)))
        k = jnp.where((omega == 0) | (alpha == 0), -11, k + 1)
        k = jnp.where(rho_new == 0, -10, k)
        return x, r, rhat, alpha, omega, rho_new, p, q, k

    r0 = _sub(b, A(x0))
    one = jnp.ones((), dtype)
    state = (x0, r0, r0, one, one, one, r0, r0, jnp.asarray(0, np.int32))
    return lax.while_loop(cond, body, state)[0]


def bicgstab(A, b, x0=None, *, tol=1e-5, atol=0.0, maxiter=None, M=None) -> tuple[Any, None]:
    """BiCGSTAB for a general square A x = b: (x, None), as JAX (stops on ||r|| <= max(tol ||b||,
    atol), after maxiter steps (default 10 * size), or on a breakdown)."""
    A, b, x0, M = _setup(A, b, x0, M, "bicgstab")
    solve = functools.partial(
        lambda A, b, x0: _bicgstab_solve(A, b, x0, maxiter=_maxiter(b, maxiter), tol=tol, atol=atol, M=M), x0=x0
    )
    return _implicit(solve, A, b, symmetric=False), None


# ---- GMRES --------------------------------------------------------------------------------------


def _safe_normalize(x, thresh=None):
    norm = _norm(x)
    dtype = _dtype(x)
    if thresh is None:
        thresh = jnp.finfo(norm.dtype).eps
    use = norm > jnp.real(jnp.asarray(thresh).astype(dtype))
    scale = jnp.where(use, norm, 1).astype(dtype)
    return tree_map(lambda v: jnp.where(use, v / scale, 0), x), jnp.where(use, norm, 0)


def _gram_schmidt(V, v, v_norm, iterations=2):
    """Classical Gram-Schmidt against the columns of V, repeated (re-orthogonalization)."""
    h = None
    for _ in range(iterations):
        hk = sum(
            jnp.matmul(jnp.conj(jnp.moveaxis(Q, -1, 0).reshape(Q.shape[-1], -1)), u.reshape(-1))
            for Q, u in zip(tree_leaves(V), tree_leaves(v))
        )
        v = tree_map(lambda Q, u: u - jnp.matmul(Q, hk), V, v)
        h = hk if h is None else h + hk
    return v, h


def _gmres_restart(A, b, x0, unit_residual, residual_norm, restart, M):
    dtype = _dtype(b)
    eps = jnp.finfo(dtype).eps
    V = tree_map(lambda u: jnp.concatenate([u[..., None], jnp.zeros(u.shape + (restart,), u.dtype)], -1), unit_residual)
    H = jnp.eye(restart, restart + 1, dtype=dtype)
    cols = jnp.arange(restart + 1)

    def cond(state):
        _, _, breakdown, k = state
        return (k < restart) & ~breakdown

    def body(state):
        V, H, _, k = state
        v = tree_map(lambda Q: jnp.sum(jnp.where(cols == k, Q, 0), -1), V)
        v = M(A(v))
        _, n0 = _safe_normalize(v)
        v, h = _gram_schmidt(V, v, n0)
        unit_v, n1 = _safe_normalize(v, thresh=eps * n0)
        V = tree_map(lambda Q, u: jnp.where(cols == k + 1, u[..., None], Q), V, unit_v)
        h = jnp.where(cols == k + 1, n1.astype(dtype), h)
        H = jnp.where((jnp.arange(restart) == k)[:, None], h[None, :], H)
        return V, H, n1 == 0, k + 1

    V, H, _, _ = lax.while_loop(cond, body, (V, H, jnp.asarray(False), jnp.asarray(0, np.int32)))
    beta = jnp.where(cols == 0, residual_norm.astype(dtype), 0)
    # least squares min ||H^T y - beta|| through the normal equations (H^T has full column rank:
    # rows not reached keep the identity they started with)
    Ht = H.T
    y = jnp.linalg.solve(jnp.matmul(jnp.conj(Ht.T), Ht), jnp.matmul(jnp.conj(Ht.T), beta))
    x = _add(x0, tree_map(lambda Q: jnp.matmul(Q[..., :-1], y), V))
    unit_residual, residual_norm = _safe_normalize(M(_sub(b, A(x))))
    return x, unit_residual, residual_norm


def _gmres_solve(A, b, x0, *, maxiter, restart, tol, atol, M):
    b_norm = _norm(b)
    atol = jnp.maximum(tol * b_norm, atol)
    ptol = _norm(M(b)) * jnp.minimum(1.0, atol / b_norm)
    unit_residual, residual_norm = _safe_normalize(M(_sub(b, A(x0))))

    def cond(state):
        _, k, _, rn = state
        return (k < maxiter) & (rn > ptol)

    def body(state):
        x, k, u, rn = state
        x, u, rn = _gmres_restart(A, b, x, u, rn, restart, M)
        return x, k + 1, u, rn

    return lax.while_loop(cond, body, (x0, jnp.asarray(0, np.int32), unit_residual, residual_norm))[0]


def gmres(
    A,
    b,
    x0=None,
    *,
    tol=1e-5,
    atol=0.0,
    restart: int = 20,
    maxiter=None,
    M=None,
    solve_method: str = "batched",
) -> tuple[Any, None]:
    """Restarted GMRES for a general A x = b: (x, None), as JAX. Each restart builds a Krylov basis
    of `restart` vectors (Arnoldi, re-orthogonalized Gram-Schmidt) and solves its least squares
    problem at once ('batched'); 'incremental' (Givens rotations in JAX) takes the same batched
    steps here, which stop on the same tolerance."""
    if solve_method not in ("batched", "incremental"):
        raise ValueError(f"gmres: solve_method must be 'batched' or 'incremental', got {solve_method!r}")
    A, b, x0, M = _setup(A, b, x0, M, "gmres")
    size = sum(int(np.prod(v.shape)) for v in tree_leaves(b))
    restart = min(int(restart), size)
    if restart < 1:
        raise ValueError(f"gmres: restart must be positive, got {restart}")
    solve = functools.partial(
        lambda A, b, x0: _gmres_solve(A, b, x0, maxiter=_maxiter(b, maxiter), restart=restart, tol=tol, atol=atol, M=M),
        x0=x0,
    )
    return _implicit(solve, A, b, symmetric=False), None

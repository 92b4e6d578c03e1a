"""More of jax.scipy.linalg over the composite factorizations: polar (SVD), Hessenberg reduction
(Householder, LAPACK's reflector signs), eigh_tridiagonal, solve_sylvester, qr_multiply."""

from __future__ import annotations

import numpy as np

from .. import lax
from .. import numpy as jnp
from ..numpy import linalg as _np_linalg
from ..numpy.linalg import _matrix

__all__ = ["eigh_tridiagonal", "hessenberg", "polar", "qr_multiply", "solve_sylvester"]


def _mH(x):
    return jnp.conj(jnp.swapaxes(x, -1, -2))


def polar(a, side: str = "right", *, method: str = "qdwh", eps=None, max_iterations=None):
    """(u, p) with a = u p (side='right') or a = p u (side='left'): u has orthonormal columns (rows),
    p is Hermitian positive semidefinite. Computed from the SVD for either method."""
    if side not in ("right", "left"):
        raise ValueError(f"polar: side must be 'right' or 'left', got {side!r}")
    if method not in ("qdwh", "svd"):
        raise ValueError(f"polar: method must be 'qdwh' or 'svd', got {method!r}")
    a = _matrix(a, "polar")
    w, s, vh = _np_linalg.svd(a, full_matrices=False)
    u = jnp.matmul(w, vh)
    s = s.astype(a.dtype)
    if side == "right":
        p = jnp.matmul(_mH(vh) * s[..., None, :], vh)
    else:
        p = jnp.matmul(w * s[..., None, :], _mH(w))
    return u, p


def _hessenberg(a):
    n = a.shape[-1]
    idx = jnp.arange(n)
    eye = jnp.eye(n, dtype=a.dtype)

    def step(k, carry):
        h, q = carry
        x = jnp.where(idx > k, jnp.sum(jnp.where(idx == k, h, 0), -1), 0)  # column k below the diagonal
        alpha = jnp.sum(jnp.where(idx == k + 1, x, 0), -1)
        tail = jnp.sqrt(jnp.sum(jnp.where(idx > k + 1, x * x, 0), -1))
        beta = -jnp.where(alpha >= 0, 1.0, -1.0).astype(a.dtype) * jnp.sqrt(alpha * alpha + tail * tail)
        skip = tail == 0  # nothing below the subdiagonal: no reflection (tau = 0), as LAPACK
        safe = jnp.where(skip, 1.0, alpha - beta)
        tau = jnp.where(skip, 0.0, (beta - alpha) / jnp.where(skip, 1.0, beta))
        v = jnp.where(idx == k + 1, 1.0, jnp.where(idx > k + 1, x / safe[..., None], 0.0)).astype(a.dtype)
        t = tau[..., None]
        h = h - t[..., None] * v[..., :, None] * jnp.matmul(v[..., None, :], h)
        h = h - t[..., None] * jnp.matmul(h, v[..., :, None]) * v[..., None, :]
        q = q - t[..., None] * jnp.matmul(q, v[..., :, None]) * v[..., None, :]
        return h, q

    q0 = jnp.broadcast_to(eye, a.shape)
    h, q = lax.fori_loop(0, max(n - 2, 0), step, (a, q0))
    below = idx[:, None] > idx[None, :] + 1
    return jnp.where(below, 0, h), q


def hessenberg(a, *, calc_q: bool = False, overwrite_a: bool = False, check_finite: bool = True):
    """The upper Hessenberg form h = q^T a q of a real square matrix (and q with calc_q=True)."""
    a = _matrix(a, "hessenberg", square=True)
    if jnp.issubdtype(a.dtype, np.complexfloating):
        raise NotImplementedError("hessenberg: complex matrices are not implemented in irjax")
    h, q = _hessenberg(a)
    return (h, q) if calc_q else h


def eigh_tridiagonal(d, e, *, eigvals_only: bool = False, select: str = "a", select_range=None, tol=None, key=None):
    """Eigenvalues (ascending; and eigenvectors) of the symmetric tridiagonal matrix with diagonal d
    and off-diagonal e. select='i' takes eigenvalues select_range[0]..[1] by index."""
    d, e = jnp.asarray(d), jnp.asarray(e)
    if d.ndim != 1 or e.ndim != 1 or e.shape[0] != max(d.shape[0] - 1, 0):
        raise ValueError(
            f"eigh_tridiagonal: expected d of shape (n,) and e of shape (n-1,), got {d.shape} and {e.shape}"
        )
    if select not in ("a", "i"):
        raise NotImplementedError(f"eigh_tridiagonal: select={select!r} is not implemented in irjax ('a' or 'i')")
    dt = jnp.result_type(d, e, jnp.float32)
    n = d.shape[0]
    t = jnp.diag(d.astype(dt)) + jnp.diag(e.astype(dt), 1) + jnp.diag(jnp.conj(e).astype(dt), -1)
    w, v = _np_linalg.eigh(t)
    if select == "i":
        lo, hi = (int(i) for i in select_range)
        if not 0 <= lo <= hi < n:
            raise ValueError(f"eigh_tridiagonal: select_range must satisfy 0 <= lo <= hi < {n}, got {select_range}")
        w, v = w[lo : hi + 1], v[:, lo : hi + 1]
    return w if eigvals_only else (w, v)


def solve_sylvester(A, B, C, *, method: str = "schur", tol: float = 1e-8):
    """X with A X + X B = C, by the Kronecker form (I (x) A + B^T (x) I) vec(X) = vec(C): exact for
    the small systems it is meant for ((nm)^3 work); NaN where A and -B share an eigenvalue is
    not detected."""
    a = _matrix(A, "solve_sylvester", square=True)
    b = _matrix(B, "solve_sylvester", square=True)
    c = _matrix(C, "solve_sylvester")
    n, m = a.shape[-1], b.shape[-1]
    if c.shape[-2:] != (n, m) or a.ndim != 2 or b.ndim != 2 or c.ndim != 2:
        raise ValueError(f"solve_sylvester: expected A (n, n), B (m, m), C (n, m), got {a.shape}, {b.shape}, {c.shape}")
    dt = jnp.result_type(a, b, c, jnp.float32)
    a, b, c = a.astype(dt), b.astype(dt), c.astype(dt)
    k = jnp.kron(jnp.eye(m, dtype=dt), a) + jnp.kron(b.T, jnp.eye(n, dtype=dt))
    x = _np_linalg.solve(k, jnp.reshape(c.T, (n * m,)))  # column-major vec
    return jnp.reshape(x, (m, n)).T


def qr_multiply(
    a,
    c,
    mode: str = "right",
    pivoting: bool = False,
    conjugate: bool = False,
    overwrite_a: bool = False,
    overwrite_c: bool = False,
):
    """(Q @ c, r) for mode='left' or (c @ Q, r) for mode='right', with the economic QR of a."""
    if pivoting:
        raise NotImplementedError("qr_multiply: pivoting=True is not implemented in irjax")
    if mode not in ("left", "right"):
        raise ValueError(f"qr_multiply: mode must be 'left' or 'right', got {mode!r}")
    a = _matrix(a, "qr_multiply")
    c = jnp.asarray(c)
    q, r = _np_linalg.qr(a, mode="reduced")
    if conjugate:
        q = jnp.conj(q)
    vec = c.ndim == 1
    if mode == "left":
        cm = c[:, None] if vec else c
        if cm.shape[0] != q.shape[-1]:
            raise ValueError(f"qr_multiply: Q @ c needs c with {q.shape[-1]} rows, got shape {c.shape}")
        out = jnp.matmul(q, cm)
    else:
        cm = c[None, :] if vec else c
        if cm.shape[-1] != q.shape[-2]:
            raise ValueError(f"qr_multiply: c @ Q needs c with {q.shape[-2]} columns, got shape {c.shape}")
        out = jnp.matmul(cm, q)
    return (out[..., 0] if mode == "left" else out[0]) if vec else out, r

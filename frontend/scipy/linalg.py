"""irjax.scipy.linalg (`jax.scipy.linalg`): SciPy's conventions over the composite
factorizations of irjax.numpy.linalg (LU, Cholesky, Householder QR, Jacobi eigh/svd)."""

from __future__ import annotations

import functools

import numpy as np

from .. import lax
from .. import numpy as jnp
from ..api import jit
from ..custom_derivatives import custom_jvp
from ..numpy import linalg as _np_linalg
from ..numpy.linalg import _cholesky, _lu, _lu_solve, _matrix, _tri_solve, det, inv  # noqa: F401
from . import linalg_extra as _extra
from . import linalg_matrices as _matrices
from .linalg_extra import *  # noqa: F401,F403
from .linalg_matrices import *  # noqa: F401,F403

__all__ = [
    "block_diag",
    "cho_factor",
    "cho_solve",
    "cholesky",
    "det",
    "eigh",
    "expm",
    "inv",
    "lu",
    "lu_factor",
    "lu_solve",
    "qr",
    "solve",
    "solve_triangular",
    "svd",
    *_matrices.__all__,
    *_extra.__all__,
    "expm_frechet",
]


def _mT(x):
    return jnp.swapaxes(x, -1, -2)


def _mH(x):
    return jnp.conj(jnp.swapaxes(x, -1, -2))


@custom_jvp
def _cholesky_lower(a):
    return _cholesky(a, False, False)


def _cholesky_jvp(t, l, a):
    # JAX's rule: dL = L phi(L^-1 dA L^-H), phi = lower triangle with half its diagonal
    # (dA is not symmetrized, so gradients match JAX's exactly, not only on symmetric tangents)
    y = _tri_solve(l, t, True, False)
    z = _mH(_tri_solve(l, _mH(y), True, False))
    phi = jnp.tril(z, -1) + 0.5 * jnp.tril(jnp.triu(z))
    return jnp.matmul(l, phi)


_cholesky_lower.defjvps(_cholesky_jvp)


def cholesky(a, lower: bool = False, overwrite_a: bool = False, check_finite: bool = True):
    """Cholesky factor of (..., n, n), upper by default (as SciPy); reads only one triangle."""
    a = _matrix(a, "cholesky", square=True)
    if lower:
        return _cholesky_lower(a)
    return _mH(_cholesky_lower(_mH(a)))  # A = U^H U, U = L^H


def cho_factor(a, lower: bool = False, overwrite_a: bool = False, check_finite: bool = True):
    """(c, lower) for cho_solve; c is the factor with zeros in its other triangle."""
    return cholesky(a, lower=lower), lower


def cho_solve(c_and_lower, b, overwrite_b: bool = False, check_finite: bool = True):
    """x with A x = b given cho_factor(A)."""
    c, lower = c_and_lower
    c = _matrix(c, "cho_solve", square=True)
    b, vec = _rhs(c, b, "cho_solve")
    c, b = _broadcast_batch(c, b)
    l = c if lower else _mH(c)
    x = _tri_solve(_mH(l), _tri_solve(l, b, True, False), False, False)
    return x[..., 0] if vec else x


def _rhs(a, b, name):
    """b as (..., n, k) in a's promoted float dtype; vec says it was a single vector (n,)."""
    b = jnp.asarray(b)
    vec = b.ndim == 1
    if vec:
        b = b[:, None]
    if b.ndim < 2 or b.shape[-2] != a.shape[-1]:
        raise ValueError(f"{name}: incompatible shapes a {a.shape} and b {b.shape[:-1] if vec else b.shape}")
    dt = jnp.result_type(a, b)
    return b.astype(dt if jnp.issubdtype(dt, np.inexact) else jnp.float32), vec


def _broadcast_batch(a, b):
    batch = jnp.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    dt = jnp.result_type(a, b)
    return (jnp.broadcast_to(a, batch + a.shape[-2:]).astype(dt), jnp.broadcast_to(b, batch + b.shape[-2:]).astype(dt))


_TRANS = {0: 0, "N": 0, 1: 1, "T": 1, 2: 2, "C": 2}  # 2: the conjugate transpose


def solve_triangular(
    a,
    b,
    trans=0,
    lower: bool = False,
    unit_diagonal: bool = False,
    overwrite_b: bool = False,
    debug=None,
    check_finite: bool = True,
):
    """x with op(a) x = b for triangular a (the other triangle is ignored); op per `trans`."""
    if trans not in _TRANS:
        raise ValueError(f"solve_triangular: trans must be 0, 1, 2, 'N', 'T' or 'C', got {trans!r}")
    a = _matrix(a, "solve_triangular", square=True)
    b, vec = _rhs(a, b, "solve_triangular")
    a, b = _broadcast_batch(a, b)
    if _TRANS[trans]:
        a, lower = (_mT(a) if _TRANS[trans] == 1 else _mH(a)), not lower
    x = _tri_solve(a, b, bool(lower), bool(unit_diagonal))
    return x[..., 0] if vec else x


# ---- LU ------------------------------------------------------------------------------------------


def _perm_matrix(perm, dtype):
    """P with P[perm[i], i] = 1, so a = P @ L @ U when a[perm] = L @ U."""
    return jnp.where(perm[..., None, :] == jnp.arange(perm.shape[-1])[:, None], jnp.ones((), dtype), 0)


def _unpack(lu_):
    n = lu_.shape[-1]
    eye = jnp.eye(n, dtype=lu_.dtype)
    return jnp.tril(lu_, -1) + eye, jnp.triu(lu_)


def lu(a, permute_l: bool = False, overwrite_a: bool = False, check_finite: bool = True):
    """(p, l, u) with a = p @ l @ u (or (p @ l, u) with permute_l) for square (..., n, n)."""
    a = _matrix(a, "lu", square=True)
    lu_, perm, _ = _lu(a)
    l, u = _unpack(lu_)
    p = _perm_matrix(perm, a.dtype)
    return (jnp.matmul(p, l), u) if permute_l else (p, l, u)


@jit
def _pivots(perm):
    """LAPACK-style pivots (row k was swapped with piv[k]) that produce the row order perm."""
    n = perm.shape[-1]
    idx = jnp.arange(n)

    def step(k, carry):
        cur, piv = carry
        want = jnp.sum(jnp.where(idx == k, perm, 0), -1)
        j = jnp.argmax((cur == want[..., None]) & (idx >= k), axis=-1).astype(jnp.int32)
        ck = jnp.sum(jnp.where(idx == k, cur, 0), -1)
        cur = jnp.where(idx == k, want[..., None], jnp.where(idx == j[..., None], ck[..., None], cur))
        return cur, jnp.where(idx == k, j[..., None], piv)

    start = jnp.broadcast_to(idx, perm.shape)
    return lax.fori_loop(0, n, step, (start, jnp.zeros_like(perm)))[1]


@jit
def _permutation(piv):
    """The row order produced by applying LAPACK pivots in sequence."""
    n = piv.shape[-1]
    idx = jnp.arange(n)

    def step(k, perm):
        j = jnp.sum(jnp.where(idx == k, piv, 0), -1)[..., None]
        pk = jnp.sum(jnp.where(idx == k, perm, 0), -1)[..., None]
        pj = jnp.sum(jnp.where(idx == j, perm, 0), -1)[..., None]
        return jnp.where(idx == k, pj, jnp.where(idx == j, pk, perm))

    return lax.fori_loop(0, n, step, jnp.broadcast_to(idx, piv.shape).astype(piv.dtype))


def lu_factor(a, overwrite_a: bool = False, check_finite: bool = True):
    """(lu, piv): L and U packed in one matrix and int32 LAPACK pivots."""
    a = _matrix(a, "lu_factor", square=True)
    lu_, perm, _ = _lu(a)
    return lu_, _pivots(perm.astype(jnp.int32))


def lu_solve(lu_and_piv, b, trans=0, overwrite_b: bool = False, check_finite: bool = True):
    """x with a x = b (trans=0), a^T x = b (trans=1) or a^H x = b (trans=2) from lu_factor(a)."""
    lu_, piv = lu_and_piv
    if trans not in (0, 1, 2):
        raise ValueError(f"lu_solve: trans must be 0, 1 or 2, got {trans!r}")
    lu_ = _matrix(lu_, "lu_solve", square=True)
    b, vec = _rhs(lu_, b, "lu_solve")
    perm = _permutation(jnp.asarray(piv).astype(jnp.int32))
    if trans == 0:
        lu_, b = _broadcast_batch(lu_, b)
        x = _lu_solve(lu_, jnp.broadcast_to(perm, lu_.shape[:-1]), b)
    else:  # a = P L U, a^T x = b  ->  U^T y = b, L^T z = y, x = P z (a^H: conjugated factors)
        lu_, b = _broadcast_batch(lu_, b)
        if trans == 2:
            lu_ = jnp.conj(lu_)
        y = _tri_solve(_mT(lu_), b, True, False)
        z = _tri_solve(_mT(lu_), y, False, True)
        x = jnp.matmul(_perm_matrix(jnp.broadcast_to(perm, lu_.shape[:-1]), b.dtype), z)
    return x[..., 0] if vec else x


_ASSUME = ("gen", "sym", "her", "pos")


def solve(
    a,
    b,
    lower: bool = False,
    overwrite_a: bool = False,
    overwrite_b: bool = False,
    debug: bool = False,
    check_finite: bool = True,
    assume_a: str = "gen",
):
    """x with a x = b; assume_a='pos' uses Cholesky (reading the `lower` triangle)."""
    if assume_a not in _ASSUME:
        raise ValueError(f"solve: assume_a must be one of {_ASSUME}, got {assume_a!r}")
    if assume_a != "pos":
        a = _matrix(a, "solve", square=True)
        b, vec = _rhs(a, b, "solve")
        x = _np_linalg.solve(*_broadcast_batch(a, b))
        return x[..., 0] if vec else x
    return cho_solve(cho_factor(a, lower=lower), b)


# ---- decompositions ------------------------------------------------------------------------------

_QR_MODES = {"full": "complete", "economic": "reduced", "r": "r"}


def qr(a, overwrite_a: bool = False, lwork=None, mode: str = "full", pivoting: bool = False, check_finite: bool = True):
    """(q, r) (mode 'full' or 'economic') or (r,) (mode 'r'), as SciPy."""
    if pivoting:
        raise NotImplementedError("qr: pivoting=True is not implemented in irjax")
    if mode not in _QR_MODES:
        raise ValueError(f"qr: mode must be one of {tuple(_QR_MODES)}, got {mode!r}")
    out = _np_linalg.qr(a, mode=_QR_MODES[mode])
    return (out,) if mode == "r" else tuple(out)


def svd(
    a,
    full_matrices: bool = True,
    compute_uv: bool = True,
    overwrite_a: bool = False,
    check_finite: bool = True,
    lapack_driver: str = "gesdd",
):
    out = _np_linalg.svd(a, full_matrices=full_matrices, compute_uv=compute_uv)
    return tuple(out) if compute_uv else out


def eigh(
    a,
    b=None,
    lower: bool = True,
    eigvals_only: bool = False,
    overwrite_a: bool = False,
    overwrite_b: bool = False,
    turbo: bool = True,
    eigvals=None,
    type: int = 1,  # noqa: A002
    check_finite: bool = True,
):
    """Eigenvalues (ascending) and eigenvectors of a symmetric matrix, read from one triangle."""
    if b is not None:
        raise NotImplementedError("eigh: the generalized problem (b is not None) is not implemented in irjax")
    if eigvals is not None:
        raise NotImplementedError("eigh: eigvals= (a subset of eigenvalues) is not implemented in irjax")
    w, v = _np_linalg.eigh(a, UPLO="L" if lower else "U", symmetrize_input=False)
    return w if eigvals_only else (w, v)


def block_diag(*arrs):
    """A block-diagonal matrix of the given (at most 2-D) arrays."""
    if not arrs:
        return jnp.zeros((1, 0))
    arrs = [jnp.atleast_2d(jnp.asarray(a)) for a in arrs]
    for a in arrs:
        if a.ndim != 2:
            raise ValueError(f"block_diag: arguments must have dimension <= 2, got shape {a.shape}")
    dt = jnp.result_type(*arrs)
    cols = sum(a.shape[1] for a in arrs)
    rows, left = [], 0
    for a in arrs:
        rows.append(jnp.pad(a.astype(dt), ((0, 0), (left, cols - left - a.shape[1]))))
        left += a.shape[1]
    return jnp.concatenate(rows, axis=0)


# ---- matrix exponential --------------------------------------------------------------------------

# Padé [7/7] for float32 (its backward error bound holds for ||A||_1 <= 3.93) and [13/13] for
# float64 (||A||_1 <= 5.37), with scaling and squaring beyond that.
_PADE = {
    7: ([17297280.0, 8648640.0, 1995840.0, 277200.0, 25200.0, 1512.0, 56.0, 1.0], 3.925724783138660),
    13: (
        [
            64764752532480000.0,
            32382376266240000.0,
            7771770303897600.0,
            1187353796428800.0,
            129060195264000.0,
            10559470521600.0,
            670442572800.0,
            33522128640.0,
            1323241920.0,
            40840800.0,
            960960.0,
            16380.0,
            182.0,
            1.0,
        ],
        5.371920351148152,
    ),
}


@functools.partial(jit, static_argnums=(1,))
def _expm(a, max_squarings):
    order = 13 if a.dtype == np.float64 else 7
    b, theta = _PADE[order]
    norm = jnp.max(jnp.sum(jnp.abs(a), axis=-2), axis=-1)
    s = jnp.clip(jnp.ceil(jnp.log2(jnp.maximum(norm, 1e-30) / theta)), 0, max_squarings)
    a = a / jnp.exp2(s)[..., None, None]
    eye = jnp.broadcast_to(jnp.eye(a.shape[-1], dtype=a.dtype), a.shape)
    powers = [eye, jnp.matmul(a, a)]  # I, A^2, A^4, ...
    for _ in range(order // 2 - 1):
        powers.append(jnp.matmul(powers[-1], powers[1]))
    u = sum(b[2 * k + 1] * powers[k] for k in range(order // 2 + 1))
    v = sum(b[2 * k] * powers[k] for k in range(order // 2 + 1))
    u = jnp.matmul(a, u)
    # (v - u)^-1 (v + u) = I + 2 (v - u)^-1 u: v - u and v + u fused into one two-result
    # dispatch around solve's loops trip an IREE stream-partitioning error
    r = eye + 2 * _np_linalg.solve(v - u, u)

    # unrolled: a fori_loop here after solve's loops trips an IREE stream-partitioning error
    out = r
    for i in range(max_squarings):
        out = jnp.where((i < s)[..., None, None], jnp.matmul(out, out), out)
    return jnp.where(
        jnp.isnan(norm)[..., None, None] | (norm / theta > 2.0**max_squarings)[..., None, None], np.nan, out
    )


def expm(A, *, upper_triangular: bool = False, max_squarings: int = 16):
    """Matrix exponential by Padé approximation with scaling and squaring (NaN when more than
    max_squarings squarings would be needed, as JAX)."""
    a = _matrix(A, "expm", square=True)
    return _expm(a, int(max_squarings))


def expm_frechet(A, E, *, method: str | None = None, compute_expm: bool = True):
    """(expm(A), L(A, E)): the Fréchet derivative of expm at A in direction E, read from the
    exponential of the block matrix [[A, E], [0, A]] (L alone with compute_expm=False)."""
    if method not in (None, "SPS", "blockEnlarge"):
        raise ValueError(f"expm_frechet: method must be None, 'SPS' or 'blockEnlarge', got {method!r}")
    a = _matrix(A, "expm_frechet", square=True)
    e = _matrix(E, "expm_frechet", square=True)
    if a.shape != e.shape:
        raise ValueError(f"expm_frechet: A and E must have one shape, got {a.shape} and {e.shape}")
    dt = jnp.result_type(a, e)
    a, e = a.astype(dt), e.astype(dt)
    n = a.shape[-1]
    from_block = jnp.concatenate(
        [jnp.concatenate([a, e], axis=-1), jnp.concatenate([jnp.zeros_like(a), a], axis=-1)], axis=-2
    )
    big = expm(from_block)
    ea, lae = big[..., :n, :n], big[..., :n, n:]
    return (ea, lae) if compute_expm else lae

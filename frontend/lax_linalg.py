"""irjax.lax.linalg (`jax.lax.linalg`): the linear algebra primitives' user functions with JAX's
lax conventions (eigh returns (v, w), lu returns pivots and permutation, right-side triangular
solves), over the composite factorizations of irjax.numpy.linalg."""

from __future__ import annotations

import sys

import numpy as np

from . import numpy as jnp
from .numpy import linalg as _np_linalg
from .numpy.linalg import _lu, _matrix
from .scipy import linalg as _sp_linalg

__all__ = [
    "cholesky",
    "eigh",
    "lu",
    "lu_pivots_to_permutation",
    "qr",
    "svd",
    "triangular_solve",
    "tridiagonal_solve",
]

linalg = sys.modules[__name__]  # irjax.lax's lazy table reads the attribute `linalg` of this module


def cholesky(x, *, symmetrize_input: bool = True):
    """The lower Cholesky factor (NaN where x is not positive definite)."""
    return _np_linalg.cholesky(x, symmetrize_input=symmetrize_input)


def eigh(
    x,
    *,
    lower: bool = True,
    symmetrize_input: bool = True,
    sort_eigenvalues: bool = True,
    subset_by_index=None,
    implementation=None,
):
    """(v, w): eigenvectors (columns) and ascending eigenvalues of a Hermitian matrix."""
    if subset_by_index is not None:
        raise NotImplementedError("lax.linalg.eigh: subset_by_index is not implemented in irjax")
    w, v = _np_linalg.eigh(x, UPLO="L" if lower else "U", symmetrize_input=symmetrize_input)
    return v, w


def qr(x, *, pivoting: bool = False, full_matrices: bool = True, use_magma=None):
    """(q, r): complete (full_matrices) or reduced Householder QR."""
    if pivoting:
        raise NotImplementedError("lax.linalg.qr: pivoting=True is not implemented in irjax")
    return tuple(_np_linalg.qr(x, mode="complete" if full_matrices else "reduced"))


def svd(x, *, full_matrices: bool = True, compute_uv: bool = True, subset_by_index=None, algorithm=None):
    """(u, s, vh) or s, singular values descending."""
    if subset_by_index is not None:
        raise NotImplementedError("lax.linalg.svd: subset_by_index is not implemented in irjax")
    out = _np_linalg.svd(x, full_matrices=full_matrices, compute_uv=compute_uv)
    return tuple(out) if compute_uv else out


def lu(x):
    """(lu, pivots, permutation): L and U packed, int32 LAPACK pivots and the row permutation."""
    a = _matrix(x, "lu", square=True)
    packed, perm, _ = _lu(a)
    return packed, _sp_linalg._pivots(perm.astype(np.int32)), perm.astype(np.int32)


def lu_pivots_to_permutation(pivots, permutation_size: int):
    """The row permutation that applying LAPACK pivots in sequence produces."""
    piv = jnp.asarray(pivots).astype(np.int32)
    k, n = piv.shape[-1], int(permutation_size)
    if n < k:
        raise ValueError(f"lu_pivots_to_permutation: permutation_size {n} is smaller than the {k} pivots")
    full = jnp.concatenate([piv, jnp.broadcast_to(jnp.arange(k, n, dtype=np.int32), piv.shape[:-1] + (n - k,))], -1)
    return _sp_linalg._permutation(full)


def triangular_solve(
    a,
    b,
    *,
    left_side: bool = False,
    lower: bool = False,
    transpose_a: bool = False,
    conjugate_a: bool = False,
    unit_diagonal: bool = False,
):
    """x with op(a) x = b (left_side) or x op(a) = b, op = transpose and/or conjugate."""
    a, b = jnp.asarray(a), jnp.asarray(b)
    if a.ndim < 2 or b.ndim < 2:
        raise ValueError(f"triangular_solve: a and b must be at least 2-D, got {a.shape} and {b.shape}")
    m = jnp.conj(a) if conjugate_a else a
    if transpose_a:
        m, lower = jnp.swapaxes(m, -1, -2), not lower
    if left_side:
        return _sp_linalg.solve_triangular(m, b, lower=lower, unit_diagonal=unit_diagonal)
    xt = _sp_linalg.solve_triangular(
        jnp.swapaxes(m, -1, -2), jnp.swapaxes(b, -1, -2), lower=not lower, unit_diagonal=unit_diagonal
    )
    return jnp.swapaxes(xt, -1, -2)


def tridiagonal_solve(dl, d, du, b, *, perturb_singular: bool = False):
    """x with T x = b for T of sub-, main and super-diagonals dl, d, du (dl[0] and du[-1] unused)."""
    dl, d, du, b = (jnp.asarray(v) for v in (dl, d, du, b))
    n = d.shape[-1]
    if dl.shape != d.shape or du.shape != d.shape or b.ndim < 2 or b.shape[-2] != n:
        raise ValueError(
            f"tridiagonal_solve: expected dl, d, du of shape (..., m) and b (..., m, n), got "
            f"{dl.shape}, {d.shape}, {du.shape}, {b.shape}"
        )
    i = jnp.arange(n)
    t = (
        jnp.where(i[:, None] == i[None, :], d[..., :, None], 0)
        + jnp.where(i[:, None] == i[None, :] + 1, dl[..., :, None], 0)
        + jnp.where(i[:, None] + 1 == i[None, :], du[..., :, None], 0)
    )
    return _np_linalg.solve(t.astype(b.dtype), b)

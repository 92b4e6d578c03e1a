"""irjax.lax.linalg against jax.lax.linalg: cholesky, eigh (v, w), qr, svd, lu (pivots and
permutation), lu_pivots_to_permutation, triangular_solve (both sides), tridiagonal_solve; jit."""

import irjax
import irjax.lax as il
import jax.lax.linalg as jla
import numpy as np
import pytest
from irjax.lax import linalg as ila

rng = np.random.default_rng(0)
A = rng.standard_normal((4, 4)).astype(np.float32)
S = (A @ A.T + 4 * np.eye(4)).astype(np.float32)
B = rng.standard_normal((4, 3)).astype(np.float32)
DL = np.r_[0, rng.standard_normal(3)].astype(np.float32)
D = (rng.standard_normal(4) + 4).astype(np.float32)
DU = np.r_[rng.standard_normal(3), 0].astype(np.float32)
PIV = np.array([2, 2, 3], np.int32)
TRI = [
    dict(left_side=True, lower=True),
    dict(left_side=False, lower=True),
    dict(left_side=True, transpose_a=True),
    dict(lower=True, transpose_a=True, unit_diagonal=True),
]


def close(a, b, tol=1e-4):
    for u, v in zip(a if isinstance(a, (tuple, list)) else (a,), b if isinstance(b, (tuple, list)) else (b,)):
        u, v = np.asarray(u), np.asarray(v)
        assert u.dtype == v.dtype and u.shape == v.shape, (u.dtype, v.dtype, u.shape, v.shape)
        np.testing.assert_allclose(u, v, rtol=tol, atol=tol)


def _all(L, S, A, B, dl, d, du):
    v, w = L.eigh(S)
    return {
        "chol": L.cholesky(S),
        "eigh_w": w,
        "eigh_absv": abs(v),
        "qr": L.qr(B),
        "qr_reduced": L.qr(B, full_matrices=False),
        "svd_s": L.svd(B, compute_uv=False),
        "lu": L.lu(A),
        **{f"tri{i}": L.triangular_solve(S, B if kw.get("left_side") else B.T, **kw) for i, kw in enumerate(TRI)},
        "tridiag": L.tridiagonal_solve(dl, d, du, B),
    }


def test_matches_jax_under_jit():
    assert il.linalg is ila
    got = irjax.jit(lambda *a: _all(ila, *a))(S, A, B, DL, D, DU)
    want = _all(jla, S, A, B, DL, D, DU)
    for k in want:
        close(got[k], want[k])
    close(ila.lu_pivots_to_permutation(PIV, 5), jla.lu_pivots_to_permutation(PIV, 5))


def test_bad_input():
    with pytest.raises(ValueError, match="at least 2-D"):
        ila.triangular_solve(S, B[:, 0])
    with pytest.raises(ValueError, match="tridiagonal_solve"):
        ila.tridiagonal_solve(DL, D, DU[:3], B)
    with pytest.raises(NotImplementedError, match="pivoting"):
        ila.qr(B, pivoting=True)

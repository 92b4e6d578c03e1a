"""polar, hessenberg, expm_frechet, eigh_tridiagonal, solve_sylvester, qr_multiply against
jax.scipy.linalg: values, dtypes, jit and a gradient."""

import irjax
import irjax.scipy.linalg as il
import jax
import jax.scipy.linalg as jl
import numpy as np
import pytest

# many compiles (or worker processes): run in the -m slow set (CI runs it too)
pytestmark = pytest.mark.slow

rng = np.random.default_rng(0)
A = rng.standard_normal((4, 4)).astype(np.float32)
E = (rng.standard_normal((4, 4)) * 0.3).astype(np.float32)
BM = rng.standard_normal((4, 3)).astype(np.float32)
SB = (A[:3, :3].T + 3 * np.eye(3)).astype(np.float32)
D, OFF = rng.standard_normal(5).astype(np.float32), rng.standard_normal(4).astype(np.float32)


def close(a, b, tol=1e-4):
    for u, v in zip(a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,)):
        u, v = np.asarray(u), np.asarray(v)
        assert u.dtype == v.dtype and u.shape == v.shape, (u.dtype, v.dtype, u.shape, v.shape)
        np.testing.assert_allclose(u, v, rtol=tol, atol=tol)


CASES = {
    "polar": lambda L: L.polar(A),
    "polar_rect": lambda L: L.polar(BM),
    "polar_left_svd": lambda L: L.polar(BM.T, "left", method="svd"),
    "hessenberg": lambda L: L.hessenberg(A, calc_q=True),
    "hessenberg_h": lambda L: L.hessenberg(A),
    "frechet": lambda L: L.expm_frechet(A * 0.5, E),
    "frechet_only": lambda L: L.expm_frechet(A * 0.5, E, compute_expm=False),
    "tri_eigvals": lambda L: L.eigh_tridiagonal(D, OFF, eigvals_only=True),
    "tri_abs_vectors": lambda L: abs(L.eigh_tridiagonal(D, OFF)[1]),
    "sylvester": lambda L: L.solve_sylvester(A, SB, BM),
    "qr_right": lambda L: L.qr_multiply(BM, np.ones((2, 4), np.float32)),
    "qr_left": lambda L: L.qr_multiply(BM, np.ones((3, 2), np.float32), mode="left"),
    "qr_vector": lambda L: L.qr_multiply(BM, np.ones(4, np.float32)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_jax(name):
    close(CASES[name](il), CASES[name](jl), 1e-3 if name == "sylvester" else 1e-4)


def test_hessenberg_jit_and_sylvester_grad():
    h, q = irjax.jit(lambda a: il.hessenberg(a, calc_q=True))(A)
    np.testing.assert_allclose(np.asarray(q) @ np.asarray(h) @ np.asarray(q).T, A, atol=1e-5)
    gi = irjax.grad(lambda c: (il.solve_sylvester(A, SB, c) ** 2).sum())(BM)
    gj = jax.grad(lambda c: (jl.solve_sylvester(A, SB, c) ** 2).sum())(BM)
    close(gi, gj, 1e-3)


def test_bad_input():
    with pytest.raises(ValueError, match="side"):
        il.polar(A, "up")
    with pytest.raises(ValueError, match="columns"):
        il.qr_multiply(BM, np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match="one shape"):
        il.expm_frechet(A, E[:3, :3])
    with pytest.raises(ValueError, match="\\(n-1,\\)"):
        il.eigh_tridiagonal(D, D)

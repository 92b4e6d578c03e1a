"""irjax.scipy.linalg against jax.scipy.linalg on the same matrices: values and dtypes,
SciPy's conventions (upper Cholesky by default, trans=, LAPACK pivots), gradients, vmap."""

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest
from irjax.scipy import linalg

jax = pytest.importorskip("jax")
jjnp = jax.numpy
jl = jax.scipy.linalg

R = np.random.RandomState(0)
A = R.randn(4, 4).astype(np.float32)
SPD = (A @ A.T + 4 * np.eye(4)).astype(np.float32)
B = R.randn(4, 2).astype(np.float32)
BATCH = np.stack([SPD, SPD + np.eye(4, dtype=np.float32)])


def _check(ours, theirs, rtol=1e-5, atol=1e-5):
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.dtype == theirs.dtype, (ours.dtype, theirs.dtype)
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol)


@pytest.mark.parametrize("lower", [False, True])
def test_cholesky_cho_factor_cho_solve(lower):
    _check(linalg.cholesky(SPD, lower=lower), jl.cholesky(SPD, lower=lower))
    _check(linalg.cholesky(BATCH, lower=lower), jl.cholesky(BATCH, lower=lower))
    c, low = linalg.cho_factor(SPD, lower=lower)
    assert low is lower
    cj = jl.cho_factor(SPD, lower=lower)
    _check(linalg.cho_solve((c, low), B), jl.cho_solve(cj, B))
    _check(linalg.cho_solve((c, low), B[:, 0]), jl.cho_solve(cj, B[:, 0]))
    # only one triangle is read; gradients are symmetric, as JAX's
    junk = SPD + (np.triu(np.ones((4, 4)), 1) if lower else np.tril(np.ones((4, 4)), -1)).astype(np.float32)
    _check(linalg.cholesky(junk, lower=lower), jl.cholesky(junk, lower=lower))
    f = lambda m: jnp.sum(linalg.cholesky(m, lower=lower) * A)
    g = lambda m: jjnp.sum(jl.cholesky(m, lower=lower) * A)
    _check(irjax.jit(irjax.grad(f))(SPD), jax.grad(g)(SPD), rtol=1e-4, atol=1e-6)
    _check(irjax.vmap(irjax.grad(f))(BATCH), jax.vmap(jax.grad(g))(BATCH), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("trans", [0, 1, 2, "N", "T"])
@pytest.mark.parametrize("lower", [False, True])
def test_solve_triangular(trans, lower):
    t = SPD  # the other triangle must be ignored
    _check(
        linalg.solve_triangular(t, B, trans=trans, lower=lower),
        jl.solve_triangular(t, B, trans=trans, lower=lower),
        rtol=1e-4,
    )
    _check(
        linalg.solve_triangular(t, B[:, 1], trans=trans, lower=lower, unit_diagonal=True),
        jl.solve_triangular(t, B[:, 1], trans=trans, lower=lower, unit_diagonal=True),
        rtol=1e-4,
        atol=1e-4,
    )


def test_solve_triangular_batched_grad_and_errors():
    bb = np.stack([B, -B])
    _check(linalg.solve_triangular(BATCH, bb, lower=True), jl.solve_triangular(BATCH, bb, lower=True))
    f = lambda t, b: jnp.sum(linalg.solve_triangular(t, b, lower=True) ** 2)
    g = lambda t, b: jjnp.sum(jl.solve_triangular(t, b, lower=True) ** 2)
    for arg in (0, 1):
        _check(irjax.grad(f, argnums=arg)(SPD, B), jax.grad(g, argnums=arg)(SPD, B), rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match="trans must be"):
        linalg.solve_triangular(SPD, B, trans=3)
    with pytest.raises(ValueError, match="incompatible shapes"):
        linalg.solve_triangular(SPD, B[:3])


def test_lu_family():
    p, l, u = linalg.lu(A)
    pj, lj, uj = jl.lu(A)
    for o, t in zip((p, l, u), (pj, lj, uj)):
        _check(o, t)
    pl, u2 = linalg.lu(A, permute_l=True)
    _check(pl, jl.lu(A, permute_l=True)[0])
    lu, piv = linalg.lu_factor(A)
    luj, pivj = jl.lu_factor(A)
    _check(lu, luj)
    _check(piv, pivj)  # LAPACK pivots, int32
    for trans in (0, 1):
        _check(linalg.lu_solve((lu, piv), B, trans=trans), jl.lu_solve((luj, pivj), B, trans=trans), rtol=1e-4)
    _check(linalg.lu_solve((lu, piv), B[:, 0]), jl.lu_solve((luj, pivj), B[:, 0]), rtol=1e-4)


@pytest.mark.parametrize("assume_a", ["gen", "sym", "pos"])
def test_solve(assume_a):
    _check(linalg.solve(SPD, B, assume_a=assume_a), jl.solve(SPD, B, assume_a=assume_a))
    _check(linalg.solve(SPD, B[:, 0], assume_a=assume_a), jl.solve(SPD, B[:, 0], assume_a=assume_a))
    with pytest.raises(ValueError, match="assume_a"):
        linalg.solve(SPD, B, assume_a="banded")


def test_inv_det_qr_svd_eigh_block_diag():
    _check(linalg.inv(A), jl.inv(A), rtol=1e-4)
    _check(linalg.det(A), jl.det(A), rtol=1e-5)
    for mode in ("full", "economic"):
        q, r = linalg.qr(A[:, :3], mode=mode)
        qj, rj = jl.qr(A[:, :3], mode=mode)
        _check(q, qj)
        _check(r, rj)
    (r,) = linalg.qr(A, mode="r")
    _check(r, jl.qr(A, mode="r")[0])
    s = linalg.svd(A, compute_uv=False)
    _check(s, jl.svd(A, compute_uv=False))
    u, s, vh = linalg.svd(A)
    _check(u @ np.diag(s) @ vh, A, atol=1e-5)
    w, v = linalg.eigh(SPD)
    _check(w, jl.eigh(SPD)[0], rtol=1e-5)
    _check(np.abs(np.asarray(v)), np.abs(np.asarray(jl.eigh(SPD)[1])), atol=1e-4)
    _check(linalg.eigh(SPD, lower=False, eigvals_only=True), jl.eigh(SPD, lower=False, eigvals_only=True), rtol=1e-5)
    with pytest.raises(NotImplementedError, match="generalized"):
        linalg.eigh(SPD, SPD)
    parts = (A[:2, :3], np.float32(5), A[:1], np.ones(2, np.int32))
    _check(linalg.block_diag(*parts), jl.block_diag(*parts))


@pytest.mark.parametrize("scale", [0.0, 0.1, 1.0, 30.0])
def test_expm(scale):
    a = (A * scale).astype(np.float32)
    _check(linalg.expm(a), jl.expm(a), rtol=2e-5, atol=1e-6 * max(1.0, float(np.abs(jl.expm(a)).max())))


def test_expm_grad_and_vmap():
    f = lambda x: jnp.sum(linalg.expm(x) * A)
    g = lambda x: jjnp.sum(jl.expm(x) * A)
    _check(irjax.grad(f)(0.3 * A), jax.grad(g)(0.3 * A), rtol=1e-4, atol=1e-5)
    stack = np.stack([0.3 * A, -0.2 * A])
    _check(irjax.vmap(linalg.expm)(stack), np.stack([jl.expm(m) for m in stack]), rtol=1e-5, atol=1e-6)
    _check(irjax.jit(linalg.cholesky)(SPD), jl.cholesky(SPD))


def test_expm_of_complex_matrices():
    # IREE's constant-expression hoisting of an int/bool -> complex convert made a complex LU of a
    # jnp.eye-built matrix add 2 to every entry: expm(diag(1j, 2j)) had 3.1-2.0j below the
    # diagonal (such converts now lower to complex(convert(x), 0))
    sl = pytest.importorskip("scipy.linalg")
    rng = np.random.default_rng(0)
    for a in (
        np.diag([1j, 2j]).astype(np.complex64),
        ((rng.standard_normal((3, 3)) + 1j * rng.standard_normal((3, 3))) / 2).astype(np.complex64),
    ):
        np.testing.assert_allclose(
            np.asarray(irjax.scipy.linalg.expm(a)), sl.expm(a.astype(np.complex128)), rtol=2e-5, atol=2e-5
        )
        np.testing.assert_allclose(
            np.asarray(irjax.jit(irjax.scipy.linalg.expm)(a)), sl.expm(a.astype(np.complex128)), rtol=2e-5, atol=2e-5
        )


def test_grad_through_complex_det():
    a = np.array([[1 + 2j, 0.5 - 1j], [0.3j, 2 - 0.5j]], np.complex64)
    f = lambda m: lambda x: m.numpy.real(m.numpy.linalg.det(x))  # noqa: E731
    np.testing.assert_allclose(
        np.asarray(irjax.grad(f(irjax))(a)), np.asarray(jax.grad(f(jax))(a)), rtol=1e-5, atol=1e-6
    )

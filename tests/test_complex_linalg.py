"""complex64 linear algebra against JAX: cholesky, qr, eigh, svd, lstsq, pinv, norms and
irjax.scipy.linalg's conjugate transposes (values up to each factorization's phase freedom),
under jit and grad; plus complex max/min ordering and linspace with complex endpoints."""

from __future__ import annotations

import irjax
import irjax.numpy as jnp
import irjax.scipy.linalg as isl
import jax
import jax.numpy as jjnp
import jax.scipy.linalg as jsl
import numpy as np
import pytest

jax.config.update("jax_platforms", "cpu")

# about 4 minutes on the shared 2-core machine (each factorization, norm and gradient is its own
# IREE compile of a loop): CI runs it with -m slow
pytestmark = pytest.mark.slow

_RNG = np.random.default_rng(7)
C64 = np.dtype(np.complex64)


def _cplx(*shape):
    return (_RNG.normal(size=shape) + 1j * _RNG.normal(size=shape)).astype(np.complex64)


def _hermitian_pd(*shape):
    a = _cplx(*shape)
    n = shape[-1]
    return (a @ np.conj(np.swapaxes(a, -1, -2)) + n * np.eye(n, dtype=np.complex64)).astype(np.complex64)


A = _cplx(5, 3)  # tall
W = _cplx(3, 5)  # wide
H = _hermitian_pd(4, 4)
HB = _hermitian_pd(2, 3, 3)  # a batch
B = _cplx(5, 2)


def _np(x):
    return np.asarray(x)


def _mh(x):
    return np.conj(np.swapaxes(_np(x), -1, -2))


def _same(got, want, rtol=1e-4, atol=2e-5, what=""):
    assert np.dtype(got.dtype) == np.dtype(want.dtype), f"{what}: dtype {got.dtype} != JAX's {want.dtype}"
    assert got.shape == want.shape, f"{what}: shape {got.shape} != JAX's {want.shape}"
    np.testing.assert_allclose(_np(got), _np(want), rtol=rtol, atol=atol, err_msg=what)


def _orthonormal_columns(u, what):
    u = _np(u)
    eye = np.broadcast_to(np.eye(u.shape[-1]), u.shape[:-2] + (u.shape[-1],) * 2)
    np.testing.assert_allclose(_mh(u) @ u, eye, atol=2e-5, err_msg=f"{what}: U^H U != I")


# ---- factorizations ------------------------------------------------------------------------------


@pytest.mark.parametrize("h", [H, HB], ids=["4x4", "batch"])
def test_cholesky_matches_jax(h):
    for upper in (False, True):
        got, want = jnp.linalg.cholesky(h, upper=upper), jjnp.linalg.cholesky(h, upper=upper)
        _same(got, want, what=f"cholesky upper={upper}")
    l = _np(jnp.linalg.cholesky(h))
    np.testing.assert_allclose(l @ _mh(l), h, rtol=1e-4, atol=1e-4)
    assert np.all(np.triu(l, 1) == 0)


@pytest.mark.parametrize("a", [A, W, H, _cplx(2, 4, 3)], ids=["tall", "wide", "square", "batch"])
def test_qr_matches_jax(a):
    # LAPACK's reflectors fix the phases (R's diagonal is real), so Q and R equal JAX's
    for mode in ("reduced", "complete"):
        q, r = jnp.linalg.qr(a, mode=mode)
        qj, rj = jjnp.linalg.qr(a, mode=mode)
        _same(q, qj, what=f"Q {mode}")
        _same(r, rj, what=f"R {mode}")
        np.testing.assert_allclose(_np(q) @ _np(r), a, rtol=1e-4, atol=1e-5)
        _orthonormal_columns(q, f"qr {mode}")
        np.testing.assert_allclose(np.imag(np.diagonal(_np(r), axis1=-2, axis2=-1)), 0, atol=1e-6)
    _same(jnp.linalg.qr(a, mode="r"), jjnp.linalg.qr(a, mode="r"), what="R only")


@pytest.mark.parametrize("h", [H, HB], ids=["4x4", "batch"])
def test_eigh_matches_jax_up_to_phases(h):
    w, v = jnp.linalg.eigh(h)
    wj, vj = jjnp.linalg.eigh(h)
    _same(w, wj, what="eigenvalues")  # float32, ascending
    assert v.dtype == C64
    np.testing.assert_allclose(np.asarray(h) @ _np(v), _np(v) * _np(w)[..., None, :], atol=1e-4)
    _orthonormal_columns(v, "eigh")
    # distinct eigenvalues: each eigenvector equals JAX's times a unit phase
    overlap = np.abs(np.diagonal(_mh(v) @ _np(vj), axis1=-2, axis2=-1))
    np.testing.assert_allclose(overlap, 1, atol=1e-4)
    # UPLO reads one triangle only (the other is garbage here)
    lower = np.tril(np.asarray(h)) + np.triu(_cplx(*h.shape), 1)
    _same(jnp.linalg.eigvalsh(lower, UPLO="L"), jjnp.linalg.eigvalsh(lower, UPLO="L"), what="UPLO=L")


@pytest.mark.parametrize("a", [A, W, _cplx(2, 4, 3)], ids=["tall", "wide", "batch"])
def test_svd_matches_jax_up_to_phases(a):
    u, s, vh = jnp.linalg.svd(a, full_matrices=False)
    uj, sj, vhj = jjnp.linalg.svd(a, full_matrices=False)
    _same(s, sj, what="S")
    assert u.dtype == vh.dtype == C64 and u.shape == uj.shape and vh.shape == vhj.shape
    np.testing.assert_allclose((_np(u) * _np(s)[..., None, :]) @ _np(vh), a, rtol=1e-4, atol=1e-5)
    _orthonormal_columns(u, "U")
    _orthonormal_columns(_mh(vh), "V")
    # distinct singular values: columns equal JAX's up to one phase per singular triple
    np.testing.assert_allclose(np.abs(np.diagonal(_mh(u) @ _np(uj), axis1=-2, axis2=-1)), 1, atol=1e-4)
    phase = np.diagonal(_mh(u) @ _np(uj), axis1=-2, axis2=-1)
    np.testing.assert_allclose(_np(vh) * np.conj(phase)[..., :, None], _np(vhj), atol=1e-4)
    uf, _, vhf = jnp.linalg.svd(a)  # complete
    _orthonormal_columns(uf, "full U")
    _orthonormal_columns(vhf, "full Vh")
    _same(jnp.linalg.svdvals(a), jjnp.linalg.svdvals(a), what="svdvals")


def test_lstsq_pinv_norms_rank_cond_match_jax():
    for got, want in zip(jnp.linalg.lstsq(A, B), jjnp.linalg.lstsq(A, B)):
        _same(got, want, what="lstsq")
    for got, want in zip(jnp.linalg.lstsq(A, B[:, 0]), jjnp.linalg.lstsq(A, B[:, 0])):
        _same(got, want, what="lstsq vector b")
    _same(jnp.linalg.pinv(A), jjnp.linalg.pinv(A), what="pinv tall")
    _same(jnp.linalg.pinv(W), jjnp.linalg.pinv(W), what="pinv wide")
    for ord in ("fro", "nuc", 1, -1, 2, -2, np.inf, -np.inf):
        _same(jnp.linalg.matrix_norm(A, ord=ord), jjnp.linalg.matrix_norm(A, ord=ord), what=f"matrix_norm {ord}")
        _same(jnp.linalg.norm(W, ord=ord), jjnp.linalg.norm(W, ord=ord), what=f"norm {ord}")
    _same(jnp.linalg.matrix_rank(A), jjnp.linalg.matrix_rank(A), what="matrix_rank")
    low = (A[:, :1] @ W[:1, :]).astype(np.complex64)  # rank 1
    assert int(jnp.linalg.matrix_rank(low)) == int(jjnp.linalg.matrix_rank(low)) == 1
    _same(jnp.linalg.cond(H), jjnp.linalg.cond(H), what="cond")


def test_scipy_linalg_conjugate_transposes_match_jax():
    b = _cplx(4, 2)
    t = (np.triu(_cplx(4, 4)) + 3 * np.eye(4)).astype(np.complex64)
    for lower in (True, False):
        _same(isl.cholesky(H, lower=lower), jsl.cholesky(H, lower=lower), what=f"cholesky lower={lower}")
        got = isl.cho_solve(isl.cho_factor(H, lower=lower), b)
        _same(got, jsl.cho_solve(jsl.cho_factor(H, lower=lower), b), what=f"cho_solve lower={lower}")
    for trans in (0, 1, 2, "C"):
        _same(isl.solve_triangular(t, b, trans=trans), jsl.solve_triangular(t, b, trans=trans), what=f"trans={trans}")
    a = _cplx(4, 4)
    for trans in (0, 1, 2):
        got = isl.lu_solve(isl.lu_factor(a), b, trans=trans)
        _same(got, jsl.lu_solve(jsl.lu_factor(a), b, trans=trans), what=f"lu_solve trans={trans}")
    _same(isl.solve(H, b, assume_a="pos"), jsl.solve(H, b, assume_a="pos"), what="solve pos")
    _same(isl.eigh(H, eigvals_only=True), jsl.eigh(H, eigvals_only=True), what="scipy eigh")


# ---- jit and grad --------------------------------------------------------------------------------


def _invariants(xp, h, a, b):
    """Phase-free outputs of every factorization, in one program."""
    la = xp.linalg
    q, r = la.qr(a)
    u, s, vh = la.svd(a, full_matrices=False)
    w, v = la.eigh(h)
    sign, logdet = la.slogdet(h)
    return {
        "chol": la.cholesky(h),
        "qr": (q, r),
        "svd": (s, xp.abs(u) ** 2, xp.abs(vh) ** 2),
        "eigh": (w, xp.abs(v) ** 2),
        "inv": la.inv(h),
        "solve": la.solve(h, a[:4, :2]),
        "det": la.det(h),
        "slogdet": (sign, logdet),
        "lstsq": la.lstsq(a, b)[0],
        "pinv": la.pinv(a),
        "norms": (la.matrix_norm(a, ord=2), la.matrix_norm(a, ord="nuc")),
    }


def test_factorizations_under_jit_match_jax():
    got = irjax.jit(lambda *x: _invariants(jnp, *x))(H, A, B)
    want = jax.jit(lambda *x: _invariants(jjnp, *x))(H, A, B)
    flat_got, tree = jax.tree_util.tree_flatten(got)
    flat_want, tree_want = jax.tree_util.tree_flatten(want)
    assert tree == tree_want
    for g, w in zip(flat_got, flat_want):
        _same(g, w, rtol=2e-4, atol=5e-5, what="jit")


H1 = _cplx(3, 3)
H1 = (H1 + np.conj(H1.T)).astype(np.complex64)
H3 = _hermitian_pd(3, 3)
A1 = _cplx(4, 3)
A4 = _cplx(4, 3)


def _grad_cases(xp):
    la = xp.linalg
    k3 = xp.arange(1.0, 4.0)
    return {
        "eigvalsh": lambda x: xp.sum(la.eigh(H3 + x * H1)[0] * k3),
        "eigenvectors": lambda x: xp.sum(xp.abs(la.eigh(H3 + x * H1)[1][0]) ** 2 * k3),
        "svdvals": lambda x: xp.sum(la.svd(A4 + x * A1, compute_uv=False) * k3),
        "cholesky": lambda x: xp.sum(xp.abs(la.cholesky(H3 + x * H1)) ** 2 * k3),
        "qr": lambda x: xp.sum(xp.abs(la.qr(A4 + x * A1)[0]) ** 2 * k3) + xp.sum(xp.real(la.qr(A4 + x * A1)[1])),
        "slogdet": lambda x: la.slogdet(H3 + x * H1)[1],
        "pinv": lambda x: xp.sum(xp.abs(la.pinv(A4 + x * A1)) ** 2),
    }


@pytest.mark.parametrize("name", list(_grad_cases(np)))
def test_grad_through_complex_factorizations_matches_jax(name):
    f, fj = _grad_cases(jnp)[name], _grad_cases(jjnp)[name]
    x0 = np.float32(0.3)
    want = jax.grad(fj)(x0)
    np.testing.assert_allclose(irjax.grad(f)(x0), want, rtol=2e-4, atol=2e-5, err_msg=name)
    np.testing.assert_allclose(irjax.jit(irjax.grad(f))(x0), want, rtol=2e-4, atol=2e-5, err_msg=f"{name} jit")


# ---- ordering and linspace -----------------------------------------------------------------------

X = np.array([[1 + 2j, 1 + 3j, 0], [0.5 + 9j, 1 + 1j, -2j], [1 + 3j, -1, 1 - 5j]], np.complex64)


@pytest.mark.parametrize("name", ["max", "min"])
def test_complex_max_min_are_lexicographic_as_jax(name):
    mask = np.array([[True, False, True], [False, True, True], [True, True, False]])
    for kw in (
        {},
        {"axis": 0},
        {"axis": 1, "keepdims": True},
        {"initial": 1 + 5j},
        {"axis": 0, "where": mask, "initial": -9j},
    ):
        got, want = getattr(jnp, name)(X, **kw), getattr(jjnp, name)(X, **kw)
        _same(got, want, rtol=0, atol=0, what=f"{name} {kw}")
    got = irjax.jit(lambda x: getattr(jnp, name)(x, axis=1))(X)
    _same(got, getattr(jjnp, name)(X, axis=1), rtol=0, atol=0, what=f"{name} under jit")


def test_linspace_with_complex_endpoints_matches_jax():
    cases = [
        ((0, 1 + 2j, 4), {}),
        ((1j, 2, 3), {"endpoint": False}),
        ((np.array([0, 1j]), np.array([2 + 2j, 3]), 5), {"axis": 1}),
        ((0, 1, 3), {"dtype": "complex64"}),
    ]
    for args, kw in cases:
        _same(jnp.linspace(*args, **kw), jjnp.linspace(*args, **kw), rtol=1e-6, atol=1e-6, what=f"{args} {kw}")
    got, step = jnp.linspace(1j, 2, 3, endpoint=False, retstep=True)
    want, stepj = jjnp.linspace(1j, 2, 3, endpoint=False, retstep=True)
    _same(got, want, what="retstep values")
    np.testing.assert_allclose(_np(step), _np(stepj), rtol=1e-6)

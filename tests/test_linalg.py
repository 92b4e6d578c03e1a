"""irjax.numpy.linalg against numpy.linalg (values) and jax (gradients), eagerly and under jit."""

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest
from irjax.numpy import linalg as la
from tree_compare import tree_close

jax = pytest.importorskip("jax")
jla = jax.numpy.linalg

rng = np.random.default_rng(0)
A = (rng.standard_normal((2, 4, 4)) + 4 * np.eye(4)).astype(np.float32)  # well conditioned batch
A[1, [0, 1]] = A[1, [1, 0]]  # one with a negative determinant, so the pivoting parity matters
B = rng.standard_normal((2, 4, 2)).astype(np.float32)
S = (A @ np.swapaxes(A, -1, -2) + np.eye(4)).astype(np.float32)  # SPD batch
T = rng.standard_normal((5, 3)).astype(np.float32)  # tall
W = rng.standard_normal((5, 5)).astype(np.float32)  # weights for scalar losses
TOL = dict(rtol=2e-4, atol=2e-5)


def close(x, y, **kw):
    np.testing.assert_allclose(np.asarray(x), y, **{**TOL, **kw})


def test_det_slogdet():
    close(la.det(A), np.linalg.det(A))
    assert np.all(np.asarray(la.det(A)) * np.linalg.det(A) > 0)
    sign, logdet = la.slogdet(A)
    ns, nl = np.linalg.slogdet(A)
    close(sign, ns)
    close(logdet, nl)
    assert la.slogdet(A)._fields == ("sign", "logabsdet")


def test_singular_det():
    sing = A.copy()
    sing[1, 3] = sing[1, 0]  # equal rows stay equal through elimination: an exact zero pivot
    d = np.asarray(la.det(sing))
    assert d[1] == 0.0
    close(d[0], np.linalg.det(sing[0]))
    sign, logdet = map(np.asarray, la.slogdet(sing))
    assert sign[1] == 0.0 and logdet[1] == -np.inf


def test_solve_inv():
    close(la.solve(A, B), np.linalg.solve(A, B))
    close(la.solve(A[0], B[0, :, 0]), np.linalg.solve(A[0], B[0, :, 0]))  # 1-D b is a vector
    close(la.solve(A[0], B), np.linalg.solve(A[0], B))  # a broadcast against a batch of b
    close(la.inv(A), np.linalg.inv(A))
    assert la.solve(A[0], B[0, :, 0]).shape == (4,)


def test_cholesky():
    close(la.cholesky(S), np.linalg.cholesky(S))
    close(la.cholesky(S[0], upper=True), np.linalg.cholesky(S[0]).T)
    assert np.isnan(np.asarray(la.cholesky(-S[0]))).any()  # not positive definite


@pytest.mark.parametrize("n", [0, 1, 3, -2])
def test_matrix_power(n):
    close(la.matrix_power(A, n), np.linalg.matrix_power(A.astype(np.float64), n), rtol=1e-3)


X = rng.standard_normal((3, 4)).astype(np.float32)
X[0, 1] = 0.0


@pytest.mark.parametrize("ord", [None, 2, 1, np.inf, -np.inf, 0, 3, 0.5])
def test_vector_norm(ord):
    close(la.norm(X, ord, axis=1), np.linalg.norm(X, ord, axis=1))
    if ord in (None, 0, 3):  # 1-D input, axis=None
        close(la.norm(X[0], ord), np.linalg.norm(X[0], ord))


@pytest.mark.parametrize("ord", [None, "fro", 1, -1, np.inf, -np.inf, 2, "nuc"])
def test_matrix_norm(ord):
    close(la.norm(X, ord), np.linalg.norm(X, ord))


def test_norm_axes_keepdims():
    x3 = rng.standard_normal((2, 3, 4)).astype(np.float32)
    close(la.norm(x3), np.linalg.norm(x3))
    close(la.norm(x3, keepdims=True), np.linalg.norm(x3, keepdims=True))
    for ord in (1, -2):
        got = la.norm(x3, ord, axis=(2, 0), keepdims=True)
        want = np.linalg.norm(x3, ord, axis=(2, 0), keepdims=True)
        assert got.shape == want.shape == (1, 3, 1)
        close(got, want)
    close(la.norm(x3, 3, axis=-2, keepdims=True), np.linalg.norm(x3, 3, axis=-2, keepdims=True))
    close(la.norm(np.arange(5)), np.linalg.norm(np.arange(5)))  # ints become float32
    close(la.vector_norm(x3, ord=1), np.abs(x3).sum())
    close(la.matrix_norm(x3, ord=np.inf), np.linalg.norm(x3, np.inf, axis=(-2, -1)))


@pytest.mark.parametrize("shape, mode", [((5, 3), "reduced"), ((5, 3), "complete"), ((5, 3), "r"), ((3, 5), "reduced")])
def test_qr(shape, mode):
    a = T if shape == (5, 3) else T.T.copy()
    got, want = la.qr(a, mode), np.linalg.qr(a, mode)
    if mode == "r":
        close(got, want)
        return
    q, r = got
    assert q.shape == want[0].shape and r.shape == want[1].shape
    close(q, want[0])  # same Householder sign convention as LAPACK
    close(r, want[1])
    close(q @ r, a)


def test_qr_batched_orthonormal():
    q, r = la.qr(A)
    close(np.swapaxes(q, -1, -2) @ q, _eyes(A.shape[:-2], 4), atol=1e-5)
    close(q @ r, A)
    assert np.all(np.tril(np.asarray(r), -1) == 0)


def _eyes(batch, n):
    return np.broadcast_to(np.eye(n), batch + (n, n))


def _check_eigh(a, w, v):
    w, v = np.asarray(w), np.asarray(v)
    close(w, np.linalg.eigvalsh(a), atol=1e-4)
    assert np.all(np.diff(w, axis=-1) >= 0)
    scale = np.abs(w).max()
    close(a @ v / scale, v * w[..., None, :] / scale, atol=1e-5)
    close(np.swapaxes(v, -1, -2) @ v, _eyes(a.shape[:-2], a.shape[-1]), atol=1e-5)


def test_eigh():
    _check_eigh(S, *la.eigh(S))
    close(la.eigvalsh(S), np.linalg.eigvalsh(S), atol=1e-4)


def test_eigh_odd_and_larger():
    m = rng.standard_normal((33, 33)).astype(np.float32)
    m = m + m.T
    _check_eigh(m, *la.eigh(m))


def test_eigh_uplo_and_degenerate():
    m = rng.standard_normal((3, 3)).astype(np.float32)  # not symmetric: only one triangle is read
    for uplo in ("L", "U"):
        close(la.eigh(m, uplo, symmetrize_input=False)[0], np.linalg.eigvalsh(m, uplo), atol=1e-5)
    w, v = la.eigh(np.eye(3, dtype=np.float32) * 2, symmetrize_input=False)
    close(w, [2, 2, 2])
    close(v, np.eye(3))


def _check_svd(a, u, s, vh, full):
    u, s, vh = map(np.asarray, (u, s, vh))
    m, n = a.shape[-2:]
    k = min(m, n)
    assert u.shape == a.shape[:-2] + ((m, m) if full else (m, k))
    assert vh.shape == a.shape[:-2] + ((n, n) if full else (k, n))
    close(s, np.linalg.svd(a, compute_uv=False), atol=1e-5)
    close((u[..., :k] * s[..., None, :]) @ vh[..., :k, :], a, atol=1e-5)
    close(np.swapaxes(u, -1, -2) @ u, _eyes(u.shape[:-2], u.shape[-1]), atol=1e-5)
    close(vh @ np.swapaxes(vh, -1, -2), _eyes(vh.shape[:-2], vh.shape[-2]), atol=1e-5)


@pytest.mark.parametrize("which", ["tall_full", "wide_reduced", "batched", "rank_deficient"])
def test_svd(which):
    a, full = {
        "tall_full": (T, True),
        "wide_reduced": (T.T.copy(), False),
        "batched": (A, False),
        "rank_deficient": (np.outer(T[:, 0], T[:3, 1]) + np.outer(T[:, 2], T[:3, 0]), True),
    }[which]
    _check_svd(a, *la.svd(a, full_matrices=full), full)
    if which == "batched":
        close(la.svdvals(a), np.linalg.svd(a, compute_uv=False))


def test_pinv_matrix_rank_lstsq():
    close(la.pinv(T), np.linalg.pinv(T), atol=1e-5)
    low = np.outer(T[:, 0], T[:3, 1]).astype(np.float32)
    assert int(la.matrix_rank(low)) == 1
    assert int(la.matrix_rank(T)) == 3
    assert int(la.matrix_rank(np.zeros(3))) == 0
    x, resid, rank, s = la.lstsq(T, W[:, :1])
    nx, nresid, nrank, ns = np.linalg.lstsq(T, W[:, :1], rcond=None)
    close(x, nx)
    close(resid, nresid)
    assert int(rank) == nrank == 3
    close(s, ns)
    x1, resid1 = la.lstsq(T, W[:, 0])[:2]
    assert x1.shape == (3,) and resid1.shape == (1,)  # as JAX
    close(x1, nx[:, 0])
    close(resid1, nresid)


def test_cond_multi_dot_small_wrappers():
    close(la.cond(A), np.linalg.cond(A), rtol=1e-3)
    close(la.cond(A, 1), np.linalg.cond(A, 1), rtol=1e-3)
    v = W[0, :4]
    close(la.multi_dot([v, A[0], A[1], v]), np.linalg.multi_dot([v, A[0], A[1], v]), rtol=1e-3)
    close(la.multi_dot([A[0], A[1], B[0]]), np.linalg.multi_dot([A[0], A[1], B[0]]), rtol=1e-3)
    close(la.matrix_transpose(A), np.swapaxes(A, -1, -2))
    close(la.trace(A), np.trace(A, axis1=-2, axis2=-1))
    close(la.vecdot(A, B[..., :1].transpose(0, 2, 1)), np.sum(A * B[..., :1].transpose(0, 2, 1), -1))


def test_under_jit():
    """One jitted program using the factorizations (nested in one trace) gives the eager values."""

    def f(a, s, b, t):
        return dict(
            det=la.det(a),
            slogdet=tuple(la.slogdet(a)),
            solve=la.solve(a, b),
            chol=la.cholesky(s),
            eigh=tuple(la.eigh(s)),
            svd=tuple(la.svd(t)),
            norms=(la.norm(a), la.norm(b, 1, axis=-2)),
        )

    args = (A, S, B, T)
    got, want = irjax.jit(f)(*args), f(*args)
    for k in want:
        gl, wl = irjax.tree_util.tree_leaves(got[k]), irjax.tree_util.tree_leaves(want[k])
        assert len(gl) == len(wl), k
        for x, y in zip(gl, wl):
            close(x, np.asarray(y), atol=1e-5, err_msg=k)


def test_vmap():
    close(irjax.vmap(la.det)(A), np.linalg.det(A))
    close(irjax.vmap(la.eigvalsh)(S), np.linalg.eigvalsh(S), atol=1e-4)


GRADS = {  # batched where it matters: permutations and diagonals must transpose under a batch too
    "det_slogdet_inv_solve": (
        lambda m, L: (
            (L.det(m) * W[0, :2]).sum()
            + (L.slogdet(m)[1] * L.slogdet(m)[0]).sum()
            + (L.inv(m) * W[:4, :4]).sum()
            + (L.solve(m, B) * B[::-1]).sum()
        ),
        A,
    ),
    "norm": (lambda m, L: L.norm(m) + L.norm(m, 1) + L.norm(m, -np.inf) + L.norm(m[0], 3) + L.norm(m[1], np.inf), A[0]),
    "cholesky": (lambda m, L: (L.cholesky(m) * W[:4, :4]).sum(), S[0]),
    "eigvalsh_svdvals": (
        lambda m, L: (L.eigh(m)[0] * W[:2, :4]).sum() + (L.svd(m, compute_uv=False) * W[2:4, :4]).sum(),
        S,
    ),
    "svdvals_tall": (lambda m, L: (L.svd(m, compute_uv=False) * W[0, :3]).sum(), T),
}


@pytest.mark.parametrize("name", list(GRADS))
def test_grad_matches_jax(name):
    f, x = GRADS[name]
    got = irjax.grad(lambda m: f(m, la))(x)
    tree_close(got, jax.grad(lambda m: f(m, jla))(x), rtol=1e-3, atol=1e-4)


def test_multivariate_normal_methods():
    cov = S[0] / 10
    key = irjax.random.key(1)
    for method in ("eigh", "svd"):  # (cholesky: tests/test_random.py)
        z = np.asarray(irjax.random.multivariate_normal(key, np.zeros(4, np.float32), cov, (4000,), method=method))
        assert z.shape == (4000, 4)
        close(np.cov(z.T), cov, rtol=0.15, atol=0.15 * np.abs(cov).max())


@pytest.mark.parametrize("fn", [la.det, la.slogdet, la.inv, la.cholesky, la.eigh, lambda a: la.matrix_power(a, 2)])
def test_errors_non_square(fn):
    with pytest.raises(ValueError, match="square"):
        fn(T)
    with pytest.raises(ValueError, match="2 dimensions"):
        fn(T[0])


def test_errors_other():
    with pytest.raises(ValueError, match="square"):
        la.solve(T, T)
    with pytest.raises(ValueError, match="incompatible"):
        la.solve(A[0], T)
    with pytest.raises(TypeError, match="integer"):
        la.matrix_power(A, 1.5)
    with pytest.raises(ValueError, match="mode"):
        la.qr(T, "raw")
    with pytest.raises(ValueError, match="Invalid norm order"):
        la.norm(X, "fro", axis=1)
    with pytest.raises(ValueError, match="Invalid norm order"):
        la.norm(X, 3)
    with pytest.raises(ValueError, match="Improper number of dimensions"):
        la.norm(np.zeros((2, 2, 2)), 1)
    with pytest.raises(ValueError, match="out of bounds"):
        la.norm(X, axis=2)
    with pytest.raises(ValueError, match="multi_dot"):
        la.multi_dot([A[0]])
    with pytest.raises(ValueError, match="2-D"):
        la.lstsq(A, B)


def test_namespace():
    assert jnp.linalg is la
    for name in (
        "norm",
        "det",
        "slogdet",
        "inv",
        "solve",
        "cholesky",
        "matrix_power",
        "qr",
        "eigh",
        "eigvalsh",
        "svd",
        "svdvals",
        "pinv",
        "matrix_rank",
        "lstsq",
        "multi_dot",
        "cond",
    ):
        assert callable(getattr(jnp.linalg, name)), name


def test_cholesky_of_a_matrix_that_is_not_positive_definite_is_nan():
    # as LAPACK's failed potrf reads in JAX: the whole factor NaN (its zero triangle kept), not
    # the columns before the failing pivot
    for a in (
        np.array([[1.0, 2.0], [2.0, 1.0]], np.float32),
        np.array([[[1.0, 2.0], [2.0, 1.0]], [[4.0, 0.0], [0.0, 9.0]]], np.float32),
        np.diag(np.float32([1.0, -1.0, 4.0])),
    ):
        np.testing.assert_array_equal(
            np.asarray(irjax.numpy.linalg.cholesky(a)), np.asarray(jax.numpy.linalg.cholesky(a))
        )
        np.testing.assert_array_equal(
            np.asarray(irjax.scipy.linalg.cholesky(a)), np.asarray(jax.scipy.linalg.cholesky(a))
        )

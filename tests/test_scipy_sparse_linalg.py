"""irjax.scipy.sparse.linalg (cg, bicgstab, gmres) against jax.scipy.sparse.linalg: solutions,
dtypes, pytrees, preconditioners, gradients (implicit), jit and vmap."""

import irjax
import irjax.scipy.sparse.linalg as isl
import jax
import jax.scipy.sparse.linalg as jsl
import numpy as np
import pytest

# many compiles (or worker processes): run in the -m slow set (CI runs it too)
pytestmark = pytest.mark.slow

rng = np.random.default_rng(0)
N = 6
_q = rng.standard_normal((N, N)).astype(np.float32)
SPD = (_q @ _q.T + N * np.eye(N)).astype(np.float32)
GEN = (rng.standard_normal((N, N)) + N * np.eye(N)).astype(np.float32)
B = rng.standard_normal(N).astype(np.float32)
SOLVERS = ["cg", "bicgstab", "gmres"]


def _mat(name):
    return SPD if name == "cg" else GEN


def _close(a, b, tol=1e-5):
    assert np.asarray(a).dtype == np.asarray(b).dtype
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=tol, atol=tol)


@pytest.mark.parametrize("name", SOLVERS)
def test_solution_matches_jax(name):
    A = _mat(name)
    xi, info = getattr(isl, name)(A, B)
    xj, _ = getattr(jsl, name)(A, B)
    assert info is None
    _close(xi, xj)
    np.testing.assert_allclose(A @ np.asarray(xi), B, atol=1e-4)


@pytest.mark.slow  # (compiles each solver's loops again: ~20-30 s a test on 2 busy cores)
@pytest.mark.parametrize("name", SOLVERS)
def test_grad_matches_jax(name):
    A = _mat(name)

    def loss(mod, A, b):
        return (getattr(mod, name)(lambda v: A @ v, b, tol=1e-6)[0] ** 2).sum()

    gi = irjax.jit(irjax.grad(lambda A, b: loss(isl, A, b), argnums=(0, 1)))(A, B)
    gj = jax.grad(lambda A, b: loss(jsl, A, b), argnums=(0, 1))(A, B)
    for a, b in zip(gi, gj):
        _close(a, b, 1e-4)


@pytest.mark.slow  # (compiles each solver's loops again: ~20-30 s a test on 2 busy cores)
def test_pytree_preconditioner_and_x0():
    # a block-diagonal operator on a dict of two vectors, with a Jacobi preconditioner
    A1, A2 = SPD[:3, :3], SPD[3:, 3:]
    b = {"u": B[:3], "v": B[3:]}
    x0 = {"u": np.ones(3, np.float32), "v": np.zeros(3, np.float32)}
    for mod in (isl, jsl):
        op = lambda x: {"u": A1 @ x["u"], "v": A2 @ x["v"]}  # noqa: E731
        pre = lambda x: {"u": x["u"] / np.diag(A1), "v": x["v"] / np.diag(A2)}  # noqa: E731
        res = [getattr(mod, n)(op, b, x0, M=pre, tol=1e-6)[0] for n in SOLVERS]
        if mod is isl:
            got = res
        else:
            want = res
    for g, w in zip(got, want):
        for k in "uv":
            _close(g[k], w[k], 1e-4)


@pytest.mark.slow  # (compiles each solver's loops again: ~20-30 s a test on 2 busy cores)
def test_jit_vmap_and_maxiter():
    bs = rng.standard_normal((3, N)).astype(np.float32)
    f = irjax.jit(irjax.vmap(lambda b: isl.cg(SPD, b)[0]))
    got = f(bs)
    _close(got, np.stack([np.asarray(jsl.cg(SPD, b)[0]) for b in bs]))
    # a truncated run takes exactly JAX's steps
    _close(isl.bicgstab(GEN, B, maxiter=2)[0], jsl.bicgstab(GEN, B, maxiter=2)[0], 1e-5)
    _close(isl.gmres(GEN, B, restart=2, maxiter=1)[0], jsl.gmres(GEN, B, restart=2, maxiter=1)[0], 1e-5)


def test_bad_input():
    with pytest.raises(ValueError, match="matching shapes"):
        isl.cg(SPD, B, np.zeros(N + 1, np.float32))
    with pytest.raises(ValueError, match="2-D matrix"):
        isl.cg(np.ones(3), B)
    with pytest.raises(ValueError, match="solve_method"):
        isl.gmres(GEN, B, solve_method="qr")

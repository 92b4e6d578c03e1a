"""irjax.scipy.optimize.minimize(method='l-bfgs-experimental-do-not-rely-on-this') against JAX's
L-BFGS from the same starts: every OptimizeResults field (values, dtypes, counters), under jit."""

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest
from irjax.scipy import optimize

jax = pytest.importorskip("jax")
jjnp = jax.numpy
import jax.scipy.optimize as jopt  # noqa: E402

pytestmark = pytest.mark.slow  # each optimiser is one large while loop: ~15 s of IREE compile

M = "l-bfgs-experimental-do-not-rely-on-this"


def rosen(np_):
    return lambda x: np_.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


A = np.array([[3.0, 0.5, 0.0], [0.5, 2.0, 0.3], [0.0, 0.3, 1.0]], np.float32)
C = np.array([1.0, -2.0, 0.5], np.float32)


def quad(x, c):
    return 0.5 * x @ (A @ x) - (c * x).sum()


def _check(ours, theirs, rtol=1e-6, atol=1e-9):
    assert ours._fields == theirs._fields
    assert ours.hess_inv is None and theirs.hess_inv is None
    for name, o, t in zip(ours._fields, ours, theirs):
        if name == "hess_inv":
            continue
        o, t = np.asarray(o), np.asarray(t)
        assert (o.dtype, o.shape) == (t.dtype, t.shape), (name, o.dtype, t.dtype, o.shape, t.shape)
        if o.dtype.kind in "biu":
            np.testing.assert_array_equal(o, t, err_msg=name)
        else:
            np.testing.assert_allclose(o, t, rtol=rtol, atol=atol, err_msg=name)


@pytest.fixture(scope="module")
def x64():
    jax.config.update("jax_enable_x64", True)
    with irjax.enable_x64():
        yield
    jax.config.update("jax_enable_x64", False)


def test_rosenbrock_2d_and_10d_match_jax_in_float64(x64):
    ours = irjax.jit(lambda x: optimize.minimize(rosen(jnp), x, method=M))
    theirs = jax.jit(lambda x: jopt.minimize(rosen(jjnp), x, method=M))
    # JAX's L-BFGS ends the classic start with a failed zoom (status 5) after 17 steps
    x0 = np.array([-1.2, 1.0])
    o, t = ours(x0), theirs(x0)
    _check(o, t)
    assert int(o.status) == 5 and not bool(o.success) and 10 <= int(o.nit) <= 40
    # 10 dims: stops on the ftol test (status 4) at the minimiser
    x0 = 1 + 0.3 * np.sin(np.arange(10.0))
    o, t = ours(x0), theirs(x0)
    _check(o, t)
    assert int(o.status) == 4 and 10 <= int(o.nit) <= 100
    np.testing.assert_allclose(np.asarray(o.x), np.ones(10), atol=1e-4)


def test_quadratic_converges_float32_and_limits():
    x0 = np.zeros(3, np.float32)
    o = irjax.jit(lambda x, c: optimize.minimize(quad, x, (c,), method=M))(x0, C)
    t = jopt.minimize(quad, x0, (C,), method=M)
    _check(o, t, rtol=1e-4, atol=1e-5)
    assert bool(o.success) and int(o.status) == 0 and 1 <= int(o.nit) <= 10
    np.testing.assert_allclose(np.asarray(o.x), np.linalg.solve(A, C), rtol=1e-4)
    _check(optimize.minimize(quad, x0, (C,), method=M), t, rtol=1e-4, atol=1e-5)  # eager
    # float32 Rosenbrock: the first iterations match JAX's step for step; maxiter gives status 1
    x0 = np.array([-1.2, 1.0], np.float32)
    opts = dict(maxiter=3, maxcor=4)
    o = irjax.jit(lambda x: optimize.minimize(rosen(jnp), x, method=M, options=opts))(x0)
    t = jopt.minimize(rosen(jjnp), x0, method=M, options=opts)
    _check(o, t, rtol=1e-3, atol=1e-4)  # the gradient amplifies float32 rounding
    assert int(o.status) == 1 and int(o.nit) == 4 and not bool(o.success)


def test_eager_loop_matches_jit_and_jax():
    # run eagerly, the loop's 35 carries come straight from the arguments: IREE 3.13 failed that
    # module at run time ("ref is null") until the initial values passed a barrier
    from irjax.scipy.optimize.lbfgs import minimize_lbfgs
    from jax._src.scipy.optimize._lbfgs import _minimize_lbfgs

    eager = minimize_lbfgs(rosen(jnp), jnp.zeros(4))
    staged = irjax.jit(lambda x: minimize_lbfgs(rosen(jnp), x))(jnp.zeros(4))
    theirs = _minimize_lbfgs(rosen(jjnp), jjnp.zeros(4))
    for name, e, s, t in zip(eager._fields, eager, staged, theirs):
        np.testing.assert_array_equal(np.asarray(e), np.asarray(s), err_msg=name)
        np.testing.assert_allclose(np.asarray(e), np.asarray(t), rtol=1e-4, atol=1e-5, err_msg=name)


def test_bad_method_and_args_errors_match_jax():
    x0 = np.zeros(3, np.float32)
    for mod, np_ in ((optimize, jnp), (jopt, jjnp)):
        with pytest.raises(ValueError, match="Method l-bfgs not recognized"):
            mod.minimize(rosen(np_), x0, method="l-bfgs")
        with pytest.raises(TypeError, match="args argument to jax.scipy.optimize.minimize must be a tuple"):
            mod.minimize(quad, x0, C, method=M)

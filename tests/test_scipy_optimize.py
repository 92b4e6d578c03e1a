"""irjax.scipy.optimize.minimize (BFGS) against jax.scipy.optimize.minimize from the same
starts: every OptimizeResults field (values, dtypes, iteration and evaluation counts),
under jit and vmap, and JAX's errors; line_search against JAX's."""

import irjax
import irjax.numpy as jnp
import numpy as np
import pytest
from irjax.scipy import optimize

jax = pytest.importorskip("jax")
jjnp = jax.numpy
import jax.scipy.optimize as jopt  # noqa: E402


def rosen(np_):
    return lambda x: np_.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def quad(np_):
    A = np.array([[3.0, 0.5, 0.0], [0.5, 2.0, 0.3], [0.0, 0.3, 1.0]], np.float32)
    return lambda x, c: 0.5 * x @ (A @ x) - np_.sum(c * x) + np_.sum(np_.sin(x)) * 0.1


C = np.array([1.0, -2.0, 0.5], np.float32)


def _check_results(ours, theirs, atol=1e-4):
    assert ours._fields == theirs._fields
    for name, o, t in zip(ours._fields, ours, theirs):
        o, t = np.asarray(o), np.asarray(t)
        assert o.dtype == t.dtype, (name, o.dtype, t.dtype)
        assert o.shape == t.shape, (name, o.shape, t.shape)
        if o.dtype.kind in "biu":
            np.testing.assert_array_equal(o, t, err_msg=name)
        elif name == "hess_inv":  # the last rank-2 updates amplify float32 rounding
            np.testing.assert_allclose(o, t, rtol=1e-2, atol=1e-3, err_msg=name)
        else:
            np.testing.assert_allclose(o, t, rtol=3e-3, atol=atol, err_msg=name)


_min_rosen = irjax.jit(lambda x0: optimize.minimize(rosen(jnp), x0, method="BFGS"))
_jmin_rosen = jax.jit(lambda x0: jopt.minimize(rosen(jjnp), x0, method="BFGS"))


@pytest.mark.parametrize("x0", [[-1.2, 1.0], [0.5, 0.5], [2.0, -1.0]], ids=["classic", "near", "far"])
def test_bfgs_rosenbrock_matches_jax(x0):
    x0 = np.asarray(x0, np.float32)
    ours, theirs = _min_rosen(x0), _jmin_rosen(x0)
    _check_results(ours, theirs)
    assert bool(ours.success) == bool(theirs.success)


def test_bfgs_args_status_and_eager():
    x0 = np.zeros(3, np.float32)
    ours = optimize.minimize(quad(jnp), x0, (C,), method="bfgs", options=dict(gtol=1e-4))
    theirs = jopt.minimize(quad(jjnp), x0, (C,), method="bfgs", options=dict(gtol=1e-4))
    _check_results(ours, theirs)
    assert bool(ours.success) and int(ours.status) == 0
    # maxiter reached: status 1, as JAX
    ours = optimize.minimize(rosen(jnp), np.array([-1.2, 1.0, 0.7], np.float32), method="BFGS", options=dict(maxiter=3))
    theirs = jopt.minimize(rosen(jjnp), np.array([-1.2, 1.0, 0.7], np.float32), method="BFGS", options=dict(maxiter=3))
    _check_results(ours, theirs)
    assert int(ours.status) == 1 and int(ours.nit) == 3


@pytest.mark.slow  # a batched BFGS compile: ~8 s on 2 shared cores
def test_bfgs_vmap_over_starts():
    starts = np.array([[-1.2, 1.0], [0.5, 0.5], [1.5, 2.0]], np.float32)
    got = irjax.vmap(lambda x0: optimize.minimize(rosen(jnp), x0, method="BFGS").x)(starts)
    want = np.stack([np.asarray(jopt.minimize(rosen(jjnp), x, method="BFGS").x) for x in starts])
    np.testing.assert_allclose(got, want, atol=1e-4)


def test_minimize_errors_match_jax():
    for mod, np_ in ((optimize, jnp), (jopt, jjnp)):
        with pytest.raises(TypeError, match="args argument to jax.scipy.optimize.minimize must be a tuple"):
            mod.minimize(quad(np_), np.zeros(3, np.float32), C, method="BFGS")
        with pytest.raises(ValueError, match="Method nelder-mead not recognized"):
            mod.minimize(rosen(np_), np.zeros(2, np.float32), method="nelder-mead")


def test_line_search_matches_jax():
    from jax._src.scipy.optimize.line_search import line_search as jls

    xk = np.array([-1.2, 1.0], np.float32)
    for pk in (np.array([1.0, 0.2], np.float32), np.array([0.3, -0.1], np.float32)):
        ours, theirs = optimize.line_search(rosen(jnp), xk, pk), jls(rosen(jjnp), xk, pk)
        for name in ("failed", "nfev", "ngev", "a_k", "f_k", "g_k", "status"):
            o, t = np.asarray(getattr(ours, name)), np.asarray(getattr(theirs, name))
            assert o.dtype == t.dtype, (name, o.dtype, t.dtype)
            np.testing.assert_allclose(o, t, rtol=1e-4, atol=1e-5, err_msg=name)

"""irjax.scipy.stats against jax.scipy.stats on the same inputs: values and dtypes (support
edges included), jit, gradients in x and in a parameter through vmap, and module imports."""

import importlib

import irjax
import numpy as np
import pytest
from irjax.scipy import stats

jax = pytest.importorskip("jax")
js = jax.scipy.stats

X = np.array([-np.inf, -5, -1.5, -0.2, 0, 0.3, 0.5, 1, 2.5, 7, np.inf], np.float32)
POS = np.array([0, 1e-3, 0.2, 0.5, 1, 1.7, 3, 10], np.float32)
UNIT = np.array([0, 0.001, 0.2, 0.5, 0.9, 1], np.float32)
K = np.array([-1, 0, 1, 2, 2.5, 5, 10], np.float32)

# module, function, args (x first), kwargs, grad x-values (None: skip), argnum of a parameter
CASES = [
    ("norm", "logpdf", (X, 0.5, 2.0), (X[1:-1],)),
    ("norm", "pdf", (X, -1.0, 0.7), (X[1:-1],)),
    ("norm", "cdf", (X, 0.5, 2.0), (X[1:-1],)),
    ("norm", "logcdf", (X, 0.5, 2.0), (X[1:-1],)),
    ("norm", "sf", (X, 0.5, 2.0), (X[1:-1],)),
    ("norm", "logsf", (X, 0.5, 2.0), (X[1:-1],)),
    ("norm", "ppf", (UNIT, 0.5, 2.0), (UNIT[1:-1],)),
    ("norm", "isf", (UNIT, 0.5, 2.0), (UNIT[1:-1],)),
    ("bernoulli", "logpmf", (K, 0.3), None),
    ("bernoulli", "pmf", (K, 0.3), None),
    ("bernoulli", "cdf", (K, 0.3), None),
    ("bernoulli", "ppf", (UNIT, 0.3), None),
    ("beta", "logpdf", (UNIT, 2.0, 3.5), (UNIT[1:-1],)),
    ("beta", "pdf", (UNIT, 0.5, 1.0), (UNIT[1:-1],)),
    ("gamma", "logpdf", (POS, 2.5), (POS[1:],)),
    ("gamma", "pdf", (POS, 1.0, 0.0, 2.0), (POS[1:],)),
    ("gamma", "cdf", (POS, 2.5, 0.1, 1.5), (POS[2:],)),
    ("gamma", "sf", (POS, 2.5), (POS[1:],)),
    ("gamma", "logcdf", (POS[1:], 2.5), (POS[1:],)),
    ("gamma", "logsf", (POS, 2.5), (POS[1:],)),
    ("poisson", "logpmf", (K, 3.0), None),
    ("poisson", "pmf", (K, 0.5), None),
    ("poisson", "cdf", (K, 3.0), None),
    ("uniform", "logpdf", (X, -1.0, 3.0), None),
    ("uniform", "pdf", (X, 0.0, 2.0), None),
    ("uniform", "cdf", (X, -1.0, 3.0), None),
    ("uniform", "ppf", (UNIT, -1.0, 3.0), None),
    ("t", "logpdf", (X, 3.0), (X[1:-1],)),
    ("t", "pdf", (X, 1.5, 0.5, 2.0), (X[1:-1],)),
    ("laplace", "logpdf", (X, 0.5, 2.0), (X[2:4],)),
    ("laplace", "pdf", (X, 0.5), (X[2:4],)),
    ("laplace", "cdf", (X, 0.5, 2.0), (X[2:4],)),
    ("logistic", "logpdf", (X, 0.5, 2.0), (X[1:-1],)),
    ("logistic", "pdf", (X,), (X[1:-1],)),
    ("logistic", "cdf", (X, 0.5, 2.0), (X[1:-1],)),
    ("logistic", "sf", (X, 0.5, 2.0), (X[1:-1],)),
    ("logistic", "ppf", (UNIT, 0.5, 2.0), (UNIT[1:-1],)),
    ("logistic", "isf", (UNIT,), (UNIT[1:-1],)),
    ("expon", "logpdf", (X, 0.5, 2.0), (X[5:-1],)),
    ("expon", "pdf", (X,), (X[5:-1],)),
    ("expon", "cdf", (X, 0.5, 2.0), (X[5:-1],)),
    ("expon", "logcdf", (X, 0.5, 2.0), (X[7:-1],)),
    ("expon", "sf", (X, 0.5, 2.0), (X[5:-1],)),
    ("expon", "logsf", (X, 0.5, 2.0), (X[7:-1],)),
    ("expon", "ppf", (UNIT, 0.5, 2.0), (UNIT[1:-1],)),
    ("cauchy", "logpdf", (X, 0.5, 2.0), (X[1:-1],)),
    ("cauchy", "pdf", (X,), (X[1:-1],)),
    ("cauchy", "cdf", (X, 0.5, 2.0), (X[1:-1],)),
    ("cauchy", "logcdf", (X, 0.5, 2.0), (X[2:-1],)),
    ("cauchy", "sf", (X, 0.5, 2.0), (X[1:-1],)),
    ("cauchy", "logsf", (X, 0.5, 2.0), (X[1:-2],)),
    ("cauchy", "ppf", (UNIT[1:-1], 0.5, 2.0), (UNIT[1:-1],)),
    ("cauchy", "isf", (UNIT[1:-1], 0.5, 2.0), (UNIT[1:-1],)),
]


def test_cauchy_quantiles_at_the_poles_are_infinite_as_scipy():
    # JAX returns tan of float32-rounded ±pi/2 there (±4.6e7, with the wrong sign at q = 0)
    q = np.array([0, 1], np.float32)
    np.testing.assert_array_equal(stats.cauchy.ppf(q, 0.5, 2.0), [-np.inf, np.inf])
    np.testing.assert_array_equal(stats.cauchy.isf(q), [np.inf, -np.inf])


def _check(ours, theirs, rtol=2e-6, atol=1e-6):
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.dtype == theirs.dtype, (ours.dtype, theirs.dtype)
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol)


@pytest.mark.parametrize("mod,fn,args,grad_x", CASES, ids=[f"{c[0]}.{c[1]}" for c in CASES])
def test_distribution(mod, fn, args, grad_x):
    f, g = getattr(getattr(stats, mod), fn), getattr(getattr(js, mod), fn)
    _check(f(*args), g(*args), rtol=1e-5)
    _check(irjax.jit(f)(*args), g(*args), rtol=1e-5)
    if grad_x is not None:
        xs, rest = grad_x[0], args[1:]
        ours = irjax.vmap(irjax.grad(lambda x: f(x, *rest)))(xs)
        theirs = jax.vmap(jax.grad(lambda x: g(x, *rest)))(xs)
        _check(ours, theirs, rtol=1e-4, atol=1e-5)
        if rest:  # the first parameter, through jit(vmap(grad))
            p = np.float32(rest[0])
            ours = irjax.jit(irjax.vmap(irjax.grad(lambda q, x: f(x, q, *rest[1:])), in_axes=(None, 0)))(p, xs)
            theirs = jax.vmap(jax.grad(lambda q, x: g(x, q, *rest[1:])), in_axes=(None, 0))(p, xs)
            _check(ours, theirs, rtol=1e-4, atol=1e-5)


def test_integer_arguments_promote():
    k = np.array([0, 1, 3], np.int32)
    _check(stats.poisson.logpmf(k, 2), js.poisson.logpmf(k, 2), rtol=1e-6)
    _check(stats.norm.logpdf(k), js.norm.logpdf(k))
    _check(stats.uniform.pdf(k, 0, 2), js.uniform.pdf(k, 0, 2))


COV = np.array([[2.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 0.5]], np.float32)
MEAN = np.array([0.1, -0.5, 1.0], np.float32)
XS = np.random.RandomState(0).randn(5, 3).astype(np.float32)


@pytest.mark.parametrize("fn", ["logpdf", "pdf"])
def test_multivariate_normal(fn):
    f, g = getattr(stats.multivariate_normal, fn), getattr(js.multivariate_normal, fn)
    _check(f(XS, MEAN, COV), g(XS, MEAN, COV), rtol=1e-5)
    _check(f(XS[0], MEAN, COV), g(XS[0], MEAN, COV), rtol=1e-5)
    _check(f(XS, MEAN, 0.7), g(XS, MEAN, 0.7), rtol=1e-5)  # scalar covariance
    _check(f(XS[:, 0], 0.2, 1.5), g(XS[:, 0], 0.2, 1.5), rtol=1e-5)  # univariate
    _check(irjax.vmap(f, in_axes=(0, None, None))(XS, MEAN, COV), g(XS, MEAN, COV), rtol=1e-5)
    for arg in (0, 1, 2):
        ours = irjax.grad(lambda *a: f(*a).sum(), argnums=arg)(XS, MEAN, COV)
        theirs = jax.grad(lambda *a: g(*a).sum(), argnums=arg)(XS, MEAN, COV)
        _check(ours, theirs, rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="incompatible shapes"):
        f(XS, MEAN, COV[:2, :2])


def test_modules_import_as_in_jax():
    for name in (
        "norm",
        "multivariate_normal",
        "bernoulli",
        "beta",
        "gamma",
        "poisson",
        "uniform",
        "t",
        "laplace",
        "logistic",
        "expon",
        "cauchy",
        "chi2",
        "binom",
        "nbinom",
        "geom",
        "betabinom",
        "gumbel_l",
        "gumbel_r",
        "pareto",
        "vonmises",
        "gennorm",
        "dirichlet",
        "multinomial",
        "wrapcauchy",
        "truncnorm",
    ):
        mod = importlib.import_module(f"irjax.scipy.stats.{name}")
        jmod = importlib.import_module(f"jax.scipy.stats.{name}")
        ours = {n for n in dir(mod) if not n.startswith("_") and callable(getattr(mod, n)) and n.islower()}
        theirs = {n for n in dir(jmod) if not n.startswith("_")}
        missing = theirs - ours
        assert missing == set(), (name, missing)


# minutes of compiles on 2 cores: run with -m slow (.ci/run runs the slow set after the default one)
pytestmark = pytest.mark.slow

"""irjax.scipy.stats distributions added on betainc/gammainc/i0e (beta CDFs, chi2, binom, nbinom,
geom, betabinom, gumbel_l/r, pareto, vonmises, gennorm) against jax.scipy.stats: values, dtypes,
jit and gradients."""

import irjax
import numpy as np
import pytest
from irjax.scipy import stats

jax = pytest.importorskip("jax")
jst = jax.scipy.stats
pytestmark = pytest.mark.slow  # many distinct compiles (> 20 s on the shared machine)

X = np.array([-1, 0, 0.05, 0.3, 0.5, 0.8, 0.99, 1, 1.5, 3, 7, np.inf, np.nan], np.float32)
CASES = [
    ("beta", ("cdf", "logcdf", "sf", "logsf", "logpdf"), (np.float32(2.5), np.float32(1.5))),
    ("chi2", ("cdf", "logcdf", "sf", "logsf", "logpdf", "pdf"), (np.float32(3.0),)),
]


@pytest.mark.parametrize("dist,methods,params", CASES, ids=[c[0] for c in CASES])
def test_values_against_jax(dist, methods, params):
    for m in methods:
        ours = np.asarray(getattr(getattr(stats, dist), m)(X, *params))
        theirs = np.asarray(getattr(getattr(jst, dist), m)(X, *params))
        assert ours.dtype == theirs.dtype, (m, ours.dtype, theirs.dtype)
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-6, err_msg=f"{dist}.{m}")


def test_cdf_grad_in_x_is_the_density():
    x = np.array([0.1, 0.4, 0.7], np.float32)
    got = irjax.jit(irjax.vmap(irjax.grad(lambda t: stats.beta.cdf(t, 2.5, 1.5))))(x)
    np.testing.assert_allclose(got, jax.vmap(jax.grad(lambda t: jst.beta.cdf(t, 2.5, 1.5)))(x), rtol=1e-4)
    got = irjax.jit(irjax.vmap(irjax.grad(lambda t: stats.chi2.cdf(t, 3.0))))(x * 5)
    np.testing.assert_allclose(got, jax.vmap(jax.grad(lambda t: jst.chi2.cdf(t, 3.0)))(x * 5), rtol=1e-4)


K = np.array([-1, 0, 1, 2, 3, 5, 9, 10, 11, 2.5, np.nan], np.float32)
R = np.array([-np.inf, -5, -1, -0.3, 0, 0.3, 1, 1.5, 2, 4, 30, np.inf, np.nan], np.float32)
DISCRETE = [
    ("binom", (np.float32(10), np.float32(0.3))),
    ("binom", (np.float32(0), np.float32(0.3))),
    ("binom", (np.float32(10), np.float32(1.0))),
    ("nbinom", (np.float32(4), np.float32(0.35))),
    ("geom", (np.float32(0.25),)),
    ("betabinom", (np.float32(10), np.float32(2.5), np.float32(0.7))),
]
CONTINUOUS = [
    ("gumbel_r", ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"), (np.float32(0.5), np.float32(2))),
    ("gumbel_l", ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"), (np.float32(0.5), np.float32(2))),
    ("gumbel_r", ("logpdf", "cdf"), (np.float32(0.5), np.float32(-1))),
    ("pareto", ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"), (np.float32(2.5), np.float32(0.5), np.float32(1))),
    ("vonmises", ("logpdf", "pdf"), (np.float32(3.0),)),
    ("vonmises", ("logpdf",), (np.float32(0.0),)),
    ("gennorm", ("logpdf", "pdf", "cdf"), (np.float32(1.5),)),
]


def _same(ours, theirs, what, rtol=2e-5):
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.dtype == theirs.dtype, (what, ours.dtype, theirs.dtype)
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=1e-6, err_msg=what)


@pytest.mark.parametrize("dist,params", DISCRETE, ids=[f"{d}-{i}" for i, (d, _) in enumerate(DISCRETE)])
def test_discrete_against_jax(dist, params):
    for m in ("logpmf", "pmf"):
        ours = getattr(getattr(stats, dist), m)(K, *params)
        _same(ours, getattr(getattr(jst, dist), m)(K, *params), f"{dist}.{m}", 5e-5)


@pytest.mark.parametrize("dist,methods,params", CONTINUOUS, ids=[f"{d}-{i}" for i, (d, _, _) in enumerate(CONTINUOUS)])
def test_continuous_against_jax(dist, methods, params):
    for m in methods:
        ours = getattr(getattr(stats, dist), m)(R, *params)
        _same(ours, getattr(getattr(jst, dist), m)(R, *params), f"{dist}.{m}")


def test_ppfs_against_jax():
    q = np.array([-0.1, 0, 1e-6, 0.2, 0.5, 0.9, 1, 1.5, np.nan], np.float32)
    for dist, params in (("gumbel_r", (0.5, 2.0)), ("gumbel_l", (0.5, 2.0)), ("pareto", (2.5, 0.5, 1.0))):
        ours = getattr(stats, dist).ppf(q, *params)
        _same(ours, getattr(jst, dist).ppf(q, *params), f"{dist}.ppf")


def test_logpmf_gradients_in_the_parameters():
    k = np.array([0, 2, 3, 7], np.float32)
    p = np.array([0.2, 0.3, 0.5, 0.8], np.float32)
    got = irjax.jit(irjax.vmap(irjax.grad(stats.binom.logpmf, (1, 2))))(k, k + 3, p)
    want = jax.vmap(jax.grad(jst.binom.logpmf, (1, 2)))(k, k + 3, p)
    for o, t in zip(got, want):
        np.testing.assert_allclose(o, t, rtol=1e-4, atol=1e-5)
    got = irjax.jit(irjax.vmap(irjax.grad(stats.vonmises.logpdf, 1)))(p, k + 0.5)
    np.testing.assert_allclose(got, jax.vmap(jax.grad(jst.vonmises.logpdf, 1))(p, k + 0.5), rtol=1e-4, atol=1e-6)


def test_dirichlet_multinomial_wrapcauchy_against_jax():
    alpha = np.array([0.5, 2.0, 3.5], np.float32)
    x = np.array([[0.2, 0.1, 0.5, 0.0], [0.3, 0.6, 0.25, 0.5], [0.5, 0.3, 0.25, 0.5]], np.float32)
    for m in ("logpdf", "pdf"):
        _same(getattr(stats.dirichlet, m)(x, alpha), getattr(jst.dirichlet, m)(x, alpha), f"dirichlet.{m}")
        _same(getattr(stats.dirichlet, m)(x[:2], alpha), getattr(jst.dirichlet, m)(x[:2], alpha), f"dirichlet.{m}")
    with pytest.raises(ValueError, match="one-dimensional"):
        stats.dirichlet.logpdf(x, x)
    counts, p = np.array([1, 0, 3, 2], np.int32), np.array([0.1, 0.2, 0.3, 0.4], np.float32)
    for n in (6, 5):
        for m in ("logpmf", "pmf"):
            ours = getattr(stats.multinomial, m)(counts, np.int32(n), p)
            _same(ours, getattr(jst.multinomial, m)(counts, np.int32(n), p), f"multinomial.{m}")
    with pytest.raises(ValueError, match="integer type"):
        stats.multinomial.logpmf(counts.astype(np.float32), 6, p)
    theta = np.array([-1, 0, 0.5, 3, 6.28, 7, np.nan], np.float32)
    for c in (0.3, 0.0, 1.2):
        _same(stats.wrapcauchy.logpdf(theta, np.float32(c)), jst.wrapcauchy.logpdf(theta, np.float32(c)), "wrapcauchy")


TRUNC = [(-1, 2), (1, 3), (-3, -1), (2, 1), (-np.inf, 0.5), (8, np.inf), (-30, -25)]


@pytest.mark.parametrize("a,b", TRUNC, ids=[f"{a}-{b}" for a, b in TRUNC])
def test_truncnorm_against_jax(a, b):
    x = np.array([-np.inf, -40, -5, -2, -1, -0.5, 0, 0.5, 1, 1.5, 2, 3, 10, np.inf, np.nan], np.float32)
    for m in ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"):
        ours = getattr(stats.truncnorm, m)(x, np.float32(a), np.float32(b), 0.5, 2.0)
        _same(ours, getattr(jst.truncnorm, m)(x, np.float32(a), np.float32(b), 0.5, 2.0), f"truncnorm.{m}", 1e-5)

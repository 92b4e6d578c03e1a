"""irjax.scipy.stats beta CDFs and chi2 against jax.scipy.stats: values and dtypes, jit, grad in x."""

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

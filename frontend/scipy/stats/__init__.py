"""irjax.scipy.stats (`jax.scipy.stats`): one module per distribution family."""

from . import (  # noqa: F401
    bernoulli,
    beta,
    cauchy,
    chi2,
    expon,
    gamma,
    laplace,
    logistic,
    multivariate_normal,
    norm,
    poisson,
    t,
    uniform,
)

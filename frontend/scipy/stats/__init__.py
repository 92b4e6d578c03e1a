"""irjax.scipy.stats (`jax.scipy.stats`): one module per distribution family."""

from . import (  # noqa: F401
    bernoulli,
    beta,
    betabinom,
    binom,
    cauchy,
    chi2,
    dirichlet,
    expon,
    gamma,
    gennorm,
    geom,
    gumbel_l,
    gumbel_r,
    laplace,
    logistic,
    multinomial,
    multivariate_normal,
    nbinom,
    norm,
    pareto,
    poisson,
    t,
    truncnorm,
    uniform,
    vonmises,
    wrapcauchy,
)
from .descriptive import ModeResult, mode, rankdata, sem  # noqa: F401,E402
from .kde import gaussian_kde  # noqa: F401,E402

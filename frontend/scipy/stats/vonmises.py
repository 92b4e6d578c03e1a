"""Von Mises distribution (`jax.scipy.stats.vonmises`); nan for kappa <= 0."""

from __future__ import annotations

import numpy as np

from ... import numpy as jnp
from ..special import i0e
from ._util import promote_args_inexact


def logpdf(x, kappa):
    x, kappa = promote_args_inexact(x, kappa)
    # I_0(κ) = e^κ i0e(κ): the e^κ cancels against κ cos x, so no overflow for large κ
    log_probs = kappa * (jnp.cos(x) - 1) - jnp.log(2 * np.pi * i0e(kappa))
    return jnp.where(kappa > 0, log_probs, np.nan)


def pdf(x, kappa):
    return jnp.exp(logpdf(x, kappa))

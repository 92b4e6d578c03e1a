"""Spherical harmonics Y_n^m(theta, phi) (`jax.scipy.special.sph_harm_y`; theta polar, phi azimuth),
from the fully normalized associated Legendre recurrences (no factorials, so no overflow)."""

from __future__ import annotations

import numpy as np

from .. import numpy as jnp
from ..numpy._util import promote

__all__ = ["sph_harm_y"]


def sph_harm_y(n, m, theta, phi, diff_n: int | None = None, n_max: int | None = None):
    """Y_n^m(theta, phi) = sqrt((2n+1)/(4 pi) (n-m)!/(n+m)!) P_n^m(cos theta) e^{i m phi} with the
    Condon-Shortley phase, complex; 0 where |m| > n. n and |m| are clipped to n_max in the Legendre
    factor (default max(n), which then must be concrete), as JAX."""
    if diff_n is not None:
        raise NotImplementedError("The 'diff_n' argument to jax.scipy.special.sph_harm_y is not supported.")
    if n_max is None:
        try:
            n_max = int(np.max(np.asarray(n)))
        except Exception as err:  # a tracer
            raise TypeError(
                "sph_harm_y: n_max must be given statically to use sph_harm_y within JAX transformations"
            ) from err
    n_max = int(n_max)
    if n_max < 0:
        raise ValueError(f"sph_harm_y: n_max must be non-negative, got {n_max}")
    (theta, phi), _, _ = promote(jnp.atleast_1d(jnp.asarray(theta)), jnp.asarray(phi), to_float=True)
    n = jnp.minimum(jnp.asarray(n).astype(jnp.int32), n_max)
    m = jnp.asarray(m).astype(jnp.int32)
    n, m, theta, phi = jnp.broadcast_arrays(n, m, theta, phi)
    dt = theta.dtype
    am_phase = jnp.abs(m)
    am = jnp.minimum(am_phase, n_max)  # the order is clipped to n_max too (JAX's table lookup)
    x = jnp.cos(theta)
    s = jnp.sqrt(jnp.maximum(1 - x * x, 0))
    # Q_m^m = (-1)^m sqrt((2m+1)!! / (2m)!! / (4 pi)) sin^m theta, one factor per k <= |m|
    qmm = jnp.full(theta.shape, np.sqrt(1 / (4 * np.pi)), dt)
    for k in range(1, n_max + 1):
        qmm = jnp.where(k <= am, -np.sqrt((2 * k + 1) / (2 * k)) * s * qmm, qmm)
    # upward in l: Q_l^m = a_l (x Q_{l-1}^m - Q_{l-2}^m / a_{l-1}), a_l = sqrt((4l^2 - 1) / (l^2 - m^2))
    out = jnp.where(n == am, qmm, 0)
    prev2, prev, a_prev = jnp.zeros_like(qmm), qmm, jnp.ones_like(qmm)
    mf = am.astype(dt)
    for l in range(1, n_max + 1):
        lf = float(l)
        a_l = jnp.sqrt((4 * lf * lf - 1) / jnp.maximum(lf * lf - mf * mf, 1))
        first = l == am + 1
        cur = jnp.where(first, np.sqrt(2 * lf + 1) * x * prev, a_l * (x * prev - prev2 / a_prev))
        live = l > am
        prev2, prev, a_prev = (
            jnp.where(live, prev, prev2),
            jnp.where(live, cur, prev),
            jnp.where(live, a_l, a_prev),
        )
        out = jnp.where(live & (n == l), cur, out)
    out = jnp.where(am > n, 0, out)
    ctype = jnp.result_type(dt, jnp.complex64)
    y = out.astype(ctype) * jnp.exp(1j * (am_phase.astype(dt) * phi).astype(ctype))
    neg_phase = jnp.where((am_phase % 2) == 1, -1, 1).astype(dt)
    return jnp.where(m < 0, neg_phase * jnp.conj(y), y)

"""Bessel functions of the first kind J_0 .. J_v (`jax.scipy.special.bessel_jn`) by Miller's
backward recurrence, normalized with J_0 + 2 Σ J_2k = 1."""

from __future__ import annotations

import operator

import numpy as np

from .. import lax
from .. import numpy as jnp
from ._special_util import inexact

__all__ = ["bessel_jn"]

_RESCALE = 1e10  # the recurrence grows downward: rescale everything past this


def bessel_jn(z, *, v: int, n_iter: int = 50):
    """[J_0(z), ..., J_v(z)] stacked on a new leading axis. The recurrence starts at order
    2 (max(v, n_iter) + n_iter) // 2 + 20 and is accurate for |z| up to about that start minus
    30; beyond, the result is nan rather than a wrong number."""
    try:
        v, n_iter = operator.index(v), operator.index(n_iter)
    except TypeError:
        raise TypeError(f"bessel_jn: v and n_iter must be concrete Python integers, got {v!r}, {n_iter!r}") from None
    if v < 0:
        raise ValueError(f"bessel_jn: v must be non-negative, got {v}")
    (z,) = inexact(z)
    start = 2 * ((max(v, n_iter) + n_iter) // 2 + 20)
    az = jnp.abs(z)
    zero = az == 0
    x = jnp.where(zero | ~jnp.isfinite(az), 1, az)
    orders = jnp.arange(v + 1, dtype=z.dtype).reshape((v + 1,) + (1,) * z.ndim)

    def step(i, carry):
        f_next, f_cur, total, outs = carry
        k = (start - i).astype(z.dtype)  # f_cur is order k; produce order k - 1
        f_prev = (2 * k / x) * f_cur - f_next
        m = k - 1
        outs = jnp.where(orders == m, f_prev, outs)
        weight = jnp.where(m == 0, 1.0, jnp.where(jnp.fmod(m, 2) == 0, 2.0, 0.0)).astype(z.dtype)
        total = total + weight * f_prev
        scale = jnp.where(jnp.abs(f_prev) > _RESCALE, 1 / _RESCALE, 1).astype(z.dtype)
        return f_cur * scale, f_prev * scale, total * scale, outs * scale

    init = (jnp.zeros_like(x), jnp.full_like(x, 1e-30), jnp.zeros_like(x), jnp.zeros((v + 1,) + x.shape, z.dtype))
    _, _, total, outs = lax.fori_loop(0, start, step, init)
    out = outs / total
    sign = jnp.where((z < 0) & (jnp.fmod(orders, 2) == 1), -1, 1).astype(z.dtype)
    out = out * sign
    out = jnp.where(zero, jnp.where(orders == 0, 1, 0).astype(z.dtype), out)
    bad = jnp.isnan(z) | (az > start - 30)
    return jnp.where(bad, np.nan, out).astype(z.dtype)

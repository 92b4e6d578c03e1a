"""lax.random_gamma_grad: d(sample)/d(a) of Gamma(a, 1) samples by implicit reparameterization.

XLA's algorithm (-dP(a, x)/da / dP(a, x)/dx): the incomplete gamma series for x <= max(1, a), its
continued fraction above, each carrying the derivative in `a` along; float16/bfloat16 run in float32.
"""

from __future__ import annotations

import numpy as np

from . import lax
from . import numpy as jnp
from . import random_math as _math

F32 = np.dtype(np.float32)


def _any(pred):
    return lax.reduce_or(pred, tuple(range(pred.ndim)))


def _series(ax, x, a, enabled, eps):
    """The power series of P(a, x), with d/da: returns x * d(sample)/da's series form."""

    def cond(v):
        return _any(v[0])

    def body(v):
        enabled, r, c, ans, x, dc_da, dans_da = v
        r = r + 1
        dc_da = dc_da * (x / r) - (c * x) / (r * r)
        dans_da = dans_da + dc_da
        c = c * (x / r)
        ans = ans + c
        go = lax.bitwise_and(enabled, lax.gt(lax.abs(dc_da / dans_da), eps))
        new = (r, c, ans, x, dc_da, dans_da)
        return (go, *(lax.select(enabled, n, o) for n, o in zip(new, v[1:])))

    one, zero = lax.full_like(a, 1), lax.full_like(a, 0)
    out = lax.while_loop(cond, body, (enabled, a, one, one, x, zero, zero))
    ans, dans_da = out[3], out[6]
    dlogax_da = _math.log(x) - lax.digamma(a + 1)
    return -(dans_da + ans * dlogax_da) * x / a


def _continued_fraction(ax, x, a, enabled, eps):
    """The continued fraction of Q(a, x), with d/da (the sign is undone by the caller, as XLA)."""

    def cond(v):
        return lax.bitwise_and(lax.lt(v[5], 2000), _any(v[0]))

    def body(v):
        enabled, ans, t, y, z, c, pkm1, qkm1, pkm2, qkm2, dpkm2, dqkm2, dpkm1, dqkm1, dans = v
        c = c + 1
        y = y + 1
        z = z + 2
        yc = y * c
        pk = pkm1 * z - pkm2 * yc
        qk = qkm1 * z - qkm2 * yc
        nz = lax.ne(qk, 0.0)
        r = pk / qk
        t = lax.select(nz, lax.abs((ans - r) / r), lax.full_like(r, 1))
        ans = lax.select(nz, r, ans)
        dpk = dpkm1 * z - pkm1 - dpkm2 * yc + pkm2 * c
        dqk = dqkm1 * z - qkm1 - dqkm2 * yc + qkm2 * c
        dans_new = lax.select(nz, (dpk - ans * dqk) / qk, dans)
        grad_cond = lax.select(nz, lax.abs(dans_new - dans), lax.full_like(dans, 1))
        pkm2, pkm1, qkm2, qkm1 = pkm1, pk, qkm1, qk
        dpkm2, dqkm2, dpkm1, dqkm1 = dpkm1, dqkm1, dpk, dqk
        rescale = lax.gt(lax.abs(pk), 1 / eps)
        scaled = [lax.select(rescale, w * eps, w) for w in (pkm2, pkm1, qkm2, qkm1, dpkm2, dqkm2, dpkm1, dqkm1)]
        pkm2, pkm1, qkm2, qkm1, dpkm2, dqkm2, dpkm1, dqkm1 = scaled
        go = lax.bitwise_and(enabled, lax.gt(grad_cond, eps))
        new = (ans, t, y, z)
        keep = [lax.select(enabled, n, o) for n, o in zip(new, v[1:5])]
        rest = (pkm1, qkm1, pkm2, qkm2, dpkm2, dqkm2, dpkm1, dqkm1, dans_new)
        return (go, *keep, c, *(lax.select(enabled, n, o) for n, o in zip(rest, v[6:])))

    y = 1 - a
    z = x + y + 1
    pkm1 = x + 1
    qkm1 = z * x
    ans = pkm1 / qkm1
    zero = lax.full_like(x, 0)
    dqkm1 = -x
    dans = (zero - ans * dqkm1) / qkm1
    init = (enabled, ans, lax.full_like(x, 1), y, z, np.array(0, x.dtype), pkm1, qkm1, lax.full_like(x, 1), x)
    out = lax.while_loop(cond, body, (*init, zero, zero, zero, dqkm1, dans))
    ans, dans = out[1], out[14]
    dlogax_da = _math.log(x) - lax.digamma(a)
    return -((dans + ans * dlogax_da) * x)


def _gamma_grad_f(a, x):
    eps = np.array(np.finfo(a.dtype).eps, a.dtype)
    is_nan = lax.bitwise_or(lax.ne(a, a), lax.ne(x, x))
    x_is_zero = lax.eq(x, 0.0)
    domain_error = lax.bitwise_or(lax.lt(x, 0.0), lax.le(a, 0.0))
    use_cf = lax.bitwise_and(lax.gt(x, 1.0), lax.gt(x, a))
    ax = a * _math.log(x) - x - lax.lgamma(a)
    underflow = lax.lt(ax, -float(np.log(np.finfo(a.dtype).max)))
    ax = lax.exp(ax)
    enabled = lax.bitwise_not(
        lax.bitwise_or(lax.bitwise_or(lax.bitwise_or(x_is_zero, domain_error), underflow), is_nan)
    )
    cf = _continued_fraction(ax, x, a, lax.bitwise_and(enabled, use_cf), eps)
    series = _series(ax, x, a, lax.bitwise_and(enabled, lax.bitwise_not(use_cf)), eps)
    out = lax.select(use_cf, -cf, series)
    out = lax.select(x_is_zero, lax.full_like(out, 0), out)
    return lax.select(lax.bitwise_or(domain_error, is_nan), lax.full_like(out, np.nan), out)


def random_gamma_grad(a, x):
    """d(sample)/da for samples x of Gamma(a, 1) (JAX's lax.random_gamma_grad)."""
    a, x = jnp.asarray(a), jnp.asarray(x)
    if a.dtype != x.dtype or np.dtype(a.dtype).kind not in "fV":
        raise TypeError(f"random_gamma_grad needs a and x of one float dtype, got {a.dtype} and {x.dtype}")
    shape = tuple(np.broadcast_shapes(a.shape, x.shape))
    a, x = jnp.broadcast_to(a, shape), jnp.broadcast_to(x, shape)
    dt = np.dtype(a.dtype)
    if dt.itemsize < 4:
        return lax.convert_element_type(
            _gamma_grad_f(lax.convert_element_type(a, F32), lax.convert_element_type(x, F32)), dt
        )
    return _gamma_grad_f(a, x)

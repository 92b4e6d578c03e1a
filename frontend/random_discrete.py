"""irjax.random's count samplers, as jax.random: poisson (Knuth below lam = 10, Hormann's
transformed rejection above), binomial (inversion below n p = 10, BTRS above), geometric and
multinomial (a scan of binomials).
"""

from __future__ import annotations

import numpy as np

from . import dtypes as _dtypes
from . import lax
from . import numpy as jnp
from . import prng as _prng
from . import random as _r
from . import random_math as _math
from .api import jit as _jit

__all__ = ["poisson", "binomial", "geometric", "multinomial"]

F32 = np.dtype(np.float32)
_MAX_ITERS = np.int32(np.iinfo(np.int32).max)  # JAX's bound is as loose: the loops end by acceptance


def _keys3(data):
    ks = _prng.split_data(data, (3,))
    return tuple(lax.index_in_dim(ks, i, keepdims=False) for i in range(3))


def _int_dtype(name, dtype):
    dt = _dtypes.canonicalize_dtype(_dtypes.default_int if dtype is None else dtype)
    if dt.kind not in "iu":
        raise ValueError(f"dtype argument to `{name}` must be an int dtype, got {dt}")
    return dt


# ---- poisson --------------------------------------------------------------------------------------


def _poisson_knuth(data, lam, shape, dtype):
    def body(c):
        i, k, key, log_prod = c
        key, sub = _r._split_pair(key)
        k = lax.select(lax.gt(log_prod, -lam), k + dtype.type(1), k)
        u = _r._uniform_impl(sub, 0.0, 1.0, shape, F32)
        return i + np.int32(1), k, key, log_prod + _math.log(u)

    def cond(c):
        going = jnp.any(lax.gt(c[3], -lam))
        return lax.bitwise_and(going, lax.lt(c[0], _MAX_ITERS))

    init = (np.int32(0), lax.full(shape, 0, dtype), data, lax.full(shape, 0, F32))
    k = lax.while_loop(cond, body, init)[1]
    return k - dtype.type(1)


def _poisson_rejection(data, lam, shape, dtype):
    log_lam = _math.log(lam)
    b = 0.931 + 2.53 * lax.sqrt(lam)
    a = -0.059 + 0.02483 * b
    inv_alpha = 1.1239 + 1.1328 / (b - 3.4)
    v_r = 0.9277 - 3.6224 / (b - 2)

    def body(c):
        i, k_out, accepted, key = c
        key, k0, k1 = _keys3(key)
        u = _r._uniform_impl(k0, 0.0, 1.0, shape, lam.dtype) - 0.5
        v = _r._uniform_impl(k1, 0.0, 1.0, shape, lam.dtype)
        us = 0.5 - lax.abs(u)
        k = lax.floor((2 * a / us + b) * u + lam + 0.43)
        s = _math.log(v * inv_alpha / (a / (us * us) + b))
        t = -lam + k * log_lam - lax.lgamma(k + 1)
        accept1 = (us >= 0.07) & (v <= v_r)
        reject = (k < 0) | ((us < 0.013) & (v > us))
        accept = accept1 | (~reject & (s <= t))
        return i + np.int32(1), lax.select(accept, k, k_out), accepted | accept, key

    def cond(c):
        return lax.bitwise_and(jnp.any(~c[2]), lax.lt(c[0], _MAX_ITERS))

    init = (np.int32(0), lax.full(shape, -1, lam.dtype), lax.full(shape, False, np.bool_), data)
    return lax.convert_element_type(lax.while_loop(cond, body, init)[1], dtype)


def _poisson_impl(data, lam, shape, dtype):
    lam = lax.convert_element_type(jnp.broadcast_to(lam, shape), F32)
    use_knuth = lax.bitwise_or(lax.ne(lam, lam), lax.lt(lam, 10.0))
    lam_knuth = lax.select(use_knuth, lam, lax.full_like(lam, 0.0))
    lam_rejection = lax.select(use_knuth, lax.full_like(lam, 1e5), lam)
    result = lax.select(
        use_knuth, _poisson_knuth(data, lam_knuth, shape, dtype), _poisson_rejection(data, lam_rejection, shape, dtype)
    )
    return lax.select(lax.eq(lam, 0.0), lax.full_like(result, 0), result)


_jit_poisson = _jit(_poisson_impl, static_argnums=(2, 3))


def poisson(key, lam, shape=None, dtype=None):
    """Poisson(lam) counts."""
    typed, _ = _r._check_prng_key("poisson", key)
    dt = _int_dtype("poisson", dtype)
    shape = tuple(np.shape(lam)) if shape is None else _r._canon_shape(shape)
    _r._check_shape("poisson", shape, np.shape(lam))
    return _jit_poisson(_r._data(typed), lam, shape, dt)


# ---- binomial -------------------------------------------------------------------------------------

_STIRLING_TAIL = np.array(
    [
        0.0810614667953272,
        0.0413406959554092,
        0.0276779256849983,
        0.02079067210376509,
        0.0166446911898211,
        0.0138761288230707,
        0.0118967099458917,
        0.0104112652619720,
        0.00925546218271273,
        0.00833056343336287,
    ]
)


def _stirling_approx_tail(k):
    table = jnp.asarray(_STIRLING_TAIL.astype(k.dtype))
    small = k <= 9
    k = lax.clamp(0.0, k, 9.0)
    kp1sq = (k + 1) * (k + 1)
    approx = (1.0 / 12 - (1.0 / 360 - 1.0 / 1260 / kp1sq) / kp1sq) / (k + 1)
    return lax.select(small, table[lax.convert_element_type(lax.floor(k), np.int32)], approx)


def _binomial_inversion(data, count, prob, shape):
    log1mp = _math.log1p(-prob)

    def body(c):
        i, num_geom, geom_sum, key = c
        sub, key = _r._split_pair(key)
        num_geom = lax.select(geom_sum <= count, num_geom + 1, num_geom)
        u = _r._uniform_impl(sub, 0.0, 1.0, shape, prob.dtype)
        geom = lax.ceil(_math.log(u) / log1mp)
        return i + np.int32(1), num_geom, geom_sum + geom, key

    def cond(c):
        return lax.bitwise_and(jnp.any(c[2] <= count), lax.lt(c[0], _MAX_ITERS))

    zeros = lax.full(shape, 0, prob.dtype)
    k = lax.while_loop(cond, body, (np.int32(0), zeros, zeros, data))[1]
    return k - 1


def _btrs(data, count, prob, shape):
    stddev = lax.sqrt(count * prob * (1 - prob))
    b = 1.15 + 2.53 * stddev
    a = -0.0873 + 0.0248 * b + 0.01 * prob
    c = count * prob + 0.5
    v_r = 0.92 - 4.2 / b
    r = prob / (1 - prob)
    alpha = (2.83 + 5.1 / b) * stddev
    m = lax.floor((count + 1) * prob)
    log = _math.log
    tail = _stirling_approx_tail

    def body(carry):
        i, k_out, accepted, key = carry
        key, k0, k1 = _keys3(key)
        u = _r._uniform_impl(k0, 0.0, 1.0, shape, prob.dtype)
        v = _r._uniform_impl(k1, 0.0, 1.0, shape, prob.dtype)
        u = u - 0.5
        us = 0.5 - lax.abs(u)
        accept1 = (us >= 0.07) & (v <= v_r)
        k = lax.floor((2 * a / us + b) * u + c)
        reject = (k < 0) | (k > count)
        v = log(v * alpha / (a / (us * us) + b))
        ub = (
            (m + 0.5) * log((m + 1) / (r * (count - m + 1)))
            + (count + 1) * log((count - m + 1) / (count - k + 1))
            + (k + 0.5) * log(r * (count - k + 1) / (k + 1))
            + tail(m)
            + tail(count - m)
            - tail(k)
            - tail(count - k)
        )
        accept = accept1 | (~reject & (v <= ub))
        return i + np.int32(1), lax.select(accept, k, k_out), accepted | accept, key

    def cond(carry):
        return lax.bitwise_and(jnp.any(~carry[2]), lax.lt(carry[0], _MAX_ITERS))

    init = (np.int32(0), lax.full(shape, -1, prob.dtype), lax.full(shape, False, np.bool_), data)
    return lax.while_loop(cond, body, init)[1]


def _binomial_impl(data, count, prob, shape, dtype):
    prob = jnp.asarray(prob)
    if prob.dtype.kind != "f":
        prob = prob.astype(_dtypes.default_float)
    count = jnp.broadcast_to(lax.convert_element_type(count, prob.dtype), shape)
    prob = jnp.broadcast_to(prob, shape)
    p_lt_half = prob < 0.5
    q = lax.select(p_lt_half, prob, 1.0 - prob)
    count_nan_or_neg = (count != count) | (count < 0.0)
    count_inf = jnp.isinf(count)
    q_is_nan = q != q
    q_l_0 = q < 0.0
    q = lax.select(q_is_nan | q_l_0, lax.full_like(q, 0.01), q)
    use_inversion = count_nan_or_neg | (count * q <= 10.0)
    count = lax.floor(count)
    count_inv = lax.select(use_inversion, count, lax.full_like(count, 0.0))
    count_btrs = lax.select(use_inversion, lax.full_like(count, 1e4), count)
    q_btrs = lax.select(use_inversion, lax.full_like(q, 0.5), q)
    inv = lax.convert_element_type(_binomial_inversion(data, count_inv, q, shape), dtype)
    btrs = lax.convert_element_type(_btrs(data, count_btrs, q_btrs, shape), dtype)
    samples = lax.select(use_inversion, inv, btrs)
    invalid = q_l_0 | q_is_nan | count_nan_or_neg
    samples = lax.select(invalid, lax.full_like(samples, np.nan), samples)
    samples = lax.select(count_inf & ~invalid, lax.full_like(samples, np.inf), samples)
    flipped = lax.convert_element_type(count, dtype) - samples
    return lax.select(p_lt_half | count_nan_or_neg | q_is_nan | count_inf, samples, flipped)


_jit_binomial = _jit(_binomial_impl, static_argnums=(3, 4))


def binomial(key, n, p, shape=None, dtype=None):
    """Binomial(n, p) counts, as floats (JAX's inversion / BTRS algorithms)."""
    typed, _ = _r._check_prng_key("binomial", key)
    dt = _r._float_dtype("binomial", dtype)
    if shape is None:
        shape = tuple(np.broadcast_shapes(np.shape(n), np.shape(p)))
    else:
        shape = _r._canon_shape(shape)
        _r._check_shape("binomial", shape, np.shape(n), np.shape(p))
    return _jit_binomial(_r._data(typed), n, p, shape, dt)


# ---- geometric and multinomial ------------------------------------------------------------------------


def _geometric_impl(data, p, shape, dtype):
    p = jnp.asarray(p)
    if p.dtype.kind != "f":
        p = p.astype(_dtypes.default_float)
    u = _r._uniform_impl(data, 0.0, 1.0, shape, np.dtype(p.dtype))
    u = lax.select(u == 0, lax.full_like(u, 1), u)  # JAX maps u = 0 to 1 (no inf from log)
    log_1mp = jnp.broadcast_to(_math.log1p(-p), shape)
    g = lax.floor(lax.div(_math.log(u), log_1mp)) + 1
    return lax.convert_element_type(g, dtype)


_jit_geometric = _jit(_geometric_impl, static_argnums=(2, 3))


def geometric(key, p, shape=None, dtype=None):
    """Geometric(p) counts of trials up to the first success (values >= 1)."""
    typed, _ = _r._check_prng_key("geometric", key)
    dt = _int_dtype("geometric", dtype)
    if shape is None:
        shape = tuple(np.shape(p))
    else:
        shape = _r._canon_shape(shape)
        _r._check_shape("geometric", shape, np.shape(p))
    return _jit_geometric(_r._data(typed), p, shape, dt)


def _multinomial_impl(data, n, p, shape, dtype, unroll):
    n = jnp.broadcast_to(n, shape[:-1])
    p = jnp.moveaxis(jnp.broadcast_to(p, shape), -1, 0)
    remaining = lax.cumsum(p, 0, reverse=True)
    ratios = p / jnp.where(remaining == 0, 1, remaining)
    keys = _prng.split_data(data, (ratios.shape[0],))

    def step(remainder, ratio_key):
        ratio, key = ratio_key
        count = _binomial_impl(key, remainder, jnp.clip(ratio, 0, 1), remainder.shape, np.dtype(remainder.dtype))
        return remainder - count, count

    _, counts = lax.scan(step, n, (ratios, keys), unroll=unroll)
    return jnp.moveaxis(counts, 0, -1).astype(dtype)


_jit_multinomial = _jit(_multinomial_impl, static_argnums=(3, 4, 5))


def multinomial(key, n, p, *, shape=None, dtype=None, unroll=1):
    """Multinomial(n, p) counts (outcomes along p's last axis), as floats."""
    typed, _ = _r._check_prng_key("multinomial", key)
    n, p = jnp.asarray(n), jnp.asarray(p)
    dt = _dtypes.result_type(n, p)
    if dt.kind != "f":
        dt = _dtypes.default_float
    n, p = n.astype(dt), p.astype(dt)
    out_dt = dt if dtype is None else _r._float_dtype("multinomial", dtype)
    shape = tuple(p.shape) if shape is None else _r._canon_shape(shape)
    if not shape:
        raise ValueError("multinomial needs p (or shape) with at least one axis: the outcomes")
    return _jit_multinomial(_r._data(typed), n, p, shape, out_dt, unroll)

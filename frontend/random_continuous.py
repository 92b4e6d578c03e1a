"""irjax.random's remaining continuous samplers, as jax.random: triangular, wald (inverse
Gaussian), double_sided_maxwell and orthogonal (Haar-random matrices by QR of a normal matrix).
"""

from __future__ import annotations

import numpy as np

from . import lax
from . import numpy as jnp
from . import random as _r
from .api import jit as _jit

__all__ = ["orthogonal", "triangular", "wald", "double_sided_maxwell"]


def _broadcast_shape(name, shape, *args):
    arg_shapes = [np.shape(x) for x in args]
    if shape is None:
        return tuple(np.broadcast_shapes(*arg_shapes))
    shape = _r._canon_shape(shape)
    _r._check_shape(name, shape, *arg_shapes)
    return shape


def _triangular_impl(data, left, mode, right, shape, dtype):
    left, mode, right = (jnp.broadcast_to(lax.convert_element_type(v, dtype), shape) for v in (left, mode, right))
    fc = (mode - left) / (right - left)
    u = _r._uniform_impl(data, 0.0, 1.0, shape, dtype)
    out1 = left + lax.sqrt(u * (right - left) * (mode - left))
    out2 = right - lax.sqrt((1 - u) * (right - left) * (right - mode))
    return lax.select(u < fc, out1, out2)


_jit_triangular = _jit(_triangular_impl, static_argnums=(4, 5))


def triangular(key, left, mode, right, shape=None, dtype=None):
    """Triangular(left, mode, right) samples, by inverting the CDF."""
    typed, _ = _r._check_prng_key("triangular", key)
    dt = _r._float_dtype("triangular", dtype)
    shape = _broadcast_shape("triangular", shape, left, mode, right)
    return _jit_triangular(_r._data(typed), left, mode, right, shape, dt)


def _wald_impl(data, mean, shape, dtype):
    k1, k2 = _r._split_pair(data)
    mean = jnp.broadcast_to(lax.convert_element_type(mean, dtype), shape)
    v = _r._normal_impl(k1, shape, dtype)
    z = _r._uniform_impl(k2, 0.0, 1.0, shape, dtype)
    y = lax.integer_pow(v, 2)
    y_sq = lax.integer_pow(y, 2)
    mean_sq = lax.integer_pow(mean, 2)
    sqrt_term = lax.sqrt(4 * mean * y + mean_sq * y_sq)
    x = mean + mean_sq * y / 2 - mean / 2 * sqrt_term
    return lax.select(z <= mean / (mean + x), x, mean_sq / x)


_jit_wald = _jit(_wald_impl, static_argnums=(2, 3))


def wald(key, mean, shape=None, dtype=None):
    """Wald (inverse Gaussian, scale 1) samples with the given mean."""
    typed, _ = _r._check_prng_key("wald", key)
    dt = _r._float_dtype("wald", dtype)
    return _jit_wald(_r._data(typed), mean, _broadcast_shape("wald", shape, mean), dt)


def _double_sided_maxwell_impl(data, loc, scale, shape, dtype):
    k_maxwell, k_sign = _r._split_pair(data)
    rvs = _r.maxwell(k_maxwell, shape, dtype)
    sign = _r.rademacher(k_sign, shape, dtype)
    return sign * rvs * lax.convert_element_type(scale, dtype) + lax.convert_element_type(loc, dtype)


_jit_double_sided_maxwell = _jit(_double_sided_maxwell_impl, static_argnums=(3, 4))


def double_sided_maxwell(key, loc, scale, shape=(), dtype=None):
    """Double-sided Maxwell samples: shape + broadcast(loc, scale).shape."""
    typed, _ = _r._check_prng_key("double_sided_maxwell", key)
    dt = _r._float_dtype("double_sided_maxwell", dtype)
    params = tuple(np.broadcast_shapes(np.shape(loc), np.shape(scale)))
    shape = _r._canon_shape(shape) or params
    return _jit_double_sided_maxwell(_r._data(typed), loc, scale, shape + params, dt)


def _orthogonal_impl(data, n, m, shape, dtype):
    z = _r._normal_impl(data, (*shape, max(n, m), min(n, m)), dtype)
    q, r = jnp.linalg.qr(z)
    d = jnp.diagonal(r, axis1=-2, axis2=-1)
    x = q * jnp.expand_dims(jnp.sign(d), -2)
    return jnp.swapaxes(x, -1, -2) if n < m else x


_jit_orthogonal = _jit(_orthogonal_impl, static_argnums=(1, 2, 3, 4))


def orthogonal(key, n, shape=(), dtype=None, m=None):
    """Haar-random matrices of shape (*shape, n, m) with orthonormal rows or columns (m = n: orthogonal)."""
    typed, _ = _r._check_prng_key("orthogonal", key)
    dt = _r._float_dtype("orthogonal", dtype)
    n = _r._concrete_int(n, "argument n of jax.random.orthogonal()")
    m = n if m is None else _r._concrete_int(m, "argument m of jax.random.orthogonal()")
    return _jit_orthogonal(_r._data(typed), n, m, _r._canon_shape(shape), dt)

"""irjax.random's gamma family, as jax.random: gamma and loggamma (Marsaglia-Tsang with its
rejection loop, one key per element; implicit-reparameterization gradient in `a`), and the
samplers built on them: beta, dirichlet, chisquare, f, t, generalized_normal, ball.
"""

from __future__ import annotations

import math

import numpy as np

from . import lax
from . import numpy as jnp
from . import prng as _prng
from . import random as _r
from . import random_math as _math
from .api import jit as _jit
from .api import vmap as _vmap
from .custom_derivatives import custom_jvp
from .random_igamma import random_gamma_grad

__all__ = ["gamma", "loggamma", "beta", "dirichlet", "chisquare", "f", "t", "generalized_normal", "ball"]


def _row(keys, i):
    return lax.index_in_dim(keys, i, keepdims=False)


def _gamma_one(data, alpha, log_space):
    """One Gamma(alpha) sample (JAX's _gamma_one: alpha < 1 is boosted to alpha + 1)."""
    dtype = np.dtype(alpha.dtype)
    zero, one = np.array(0, dtype), np.array(1, dtype)
    third = np.array(1.0 / 3.0, dtype)
    boost_mask = lax.ge(alpha, one)
    alpha_orig = alpha
    alpha = lax.select(boost_mask, alpha, lax.add(alpha, one))
    d = lax.sub(alpha, third)
    c = lax.div(third, lax.sqrt(d))

    def reject(state):
        _, x2, v, u = state
        squeeze = lax.ge(u, lax.sub(one, lax.mul(np.array(0.0331, dtype), x2)))
        log_test = lax.add(lax.mul(x2, np.array(0.5, dtype)), lax.mul(d, lax.add(lax.sub(one, v), _math.log(v))))
        return lax.bitwise_and(squeeze, lax.ge(_math.log(u), log_test))

    def next_v(kxv):
        k, sub = _r._split_pair(kxv[0])
        x = _r._normal_impl(sub, (), dtype)
        return k, x, lax.add(one, lax.mul(x, c))

    def propose(state):
        keys = _prng.split_data(state[0], (3,))
        _, x, v = lax.while_loop(lambda kxv: lax.le(kxv[2], zero), next_v, (_row(keys, 1), zero, -one))
        u = _r._uniform_impl(_row(keys, 2), 0.0, 1.0, (), dtype)
        return _row(keys, 0), lax.mul(x, x), lax.mul(lax.mul(v, v), v), u

    key, sub = _r._split_pair(data)
    v = lax.while_loop(reject, propose, (key, zero, one, np.array(2, dtype)))[2]
    if log_space:
        log_samples = lax.neg(_r._exponential_impl(sub, (), dtype))
        keep = lax.bitwise_or(boost_mask, lax.eq(log_samples, zero))
        log_boost = lax.select(keep, zero, lax.mul(log_samples, lax.div(one, alpha_orig)))
        return lax.add(lax.add(_math.log(d), _math.log(v)), log_boost)
    samples = lax.sub(one, _r._uniform_impl(sub, 0.0, 1.0, (), dtype))
    boost = lax.select(boost_mask, one, lax.pow(samples, lax.div(one, alpha_orig)))
    return lax.mul(lax.mul(d, v), boost)


def _gamma_sample_fn(data, a, log_space):
    n = math.prod(a.shape)
    if n == 0:
        return lax.full_like(a, 0)
    keys = _prng.split_data(data, (n,))
    out = _vmap(lambda k, al: _gamma_one(k, al, log_space))(keys, lax.reshape(a, (n,)))
    return lax.reshape(out, a.shape)


_gamma_sample = custom_jvp(_gamma_sample_fn, nondiff_argnums=(2,))


def _gamma_grad(sample, a, log_space):
    if not log_space:
        return random_gamma_grad(a, sample)
    # d log(sample) = d sample / sample; exp(log_sample) may round to zero: use tiny there
    samples = lax.exp(sample)
    samples = lax.select(lax.eq(samples, 0.0), lax.full_like(samples, np.finfo(samples.dtype).tiny), samples)
    return lax.div(random_gamma_grad(a, samples), samples)


@_gamma_sample.defjvp
def _gamma_sample_jvp(log_space, primals, tangents):
    data, a = primals
    ans = _gamma_sample_fn(data, a, log_space)
    # the derivative is a constant factor of the tangent (random_gamma_grad has no derivative of its own)
    return ans, lax.mul(tangents[1], lax.stop_gradient(_gamma_grad(ans, a, log_space)))


def _check_broadcast_shapes(name, shape, *args):
    arg_shapes = [np.shape(x) for x in args]
    if shape is None:
        return tuple(np.broadcast_shapes(*arg_shapes)) if arg_shapes else ()
    shape = _r._canon_shape(shape)
    _r._check_shape(name, shape, *arg_shapes)
    return shape


def _gamma_impl(data, a, shape, dtype, log_space):
    a = jnp.broadcast_to(lax.convert_element_type(a, dtype), shape)
    return _gamma_sample(data, a, log_space)


_jit_gamma = _jit(_gamma_impl, static_argnums=(2, 3, 4))


def _gamma_public(name, key, a, shape, dtype, log_space):
    typed, _ = _r._check_prng_key(name, key)
    dt = _r._float_dtype(name, dtype)
    shape = _check_broadcast_shapes(name, shape, a)
    return _jit_gamma(_r._data(typed), a, shape, dt, log_space)


def gamma(key, a, shape=None, dtype=None):
    """Gamma(a, 1) samples (Marsaglia-Tsang), differentiable in `a`."""
    return _gamma_public("gamma", key, a, shape, dtype, False)


def loggamma(key, a, shape=None, dtype=None):
    """log of Gamma(a, 1) samples, computed in log space (accurate for small `a`)."""
    return _gamma_public("loggamma", key, a, shape, dtype, True)


def _beta_impl(data, a, b, shape, dtype):
    ka, kb = _r._split_pair(data)
    log_a = _gamma_impl(ka, a, shape, dtype, True)
    log_b = _gamma_impl(kb, b, shape, dtype, True)
    # gamma_a / (gamma_a + gamma_b) without losing precision
    log_max = lax.max(log_a, log_b)
    ga, gb = lax.exp(lax.sub(log_a, log_max)), lax.exp(lax.sub(log_b, log_max))
    return lax.div(ga, lax.add(ga, gb))


_jit_beta = _jit(_beta_impl, static_argnums=(3, 4))


def beta(key, a, b, shape=None, dtype=None):
    """Beta(a, b) samples, from two log-gamma samples; differentiable in a and b."""
    typed, _ = _r._check_prng_key("beta", key)
    dt = _r._float_dtype("beta", dtype)
    shape = _check_broadcast_shapes("beta", shape, a, b)
    return _jit_beta(_r._data(typed), a, b, shape, dt)


def _dirichlet_impl(data, alpha, shape, dtype):
    full = shape + tuple(alpha.shape[-1:])
    log_g = _gamma_impl(data, alpha, full, dtype, True)
    # softmax over the last axis, as jax.nn.softmax computes it
    e = jnp.exp(log_g - lax.stop_gradient(jnp.max(log_g, axis=-1, keepdims=True)))
    return e / jnp.sum(e, axis=-1, keepdims=True)


_jit_dirichlet = _jit(_dirichlet_impl, static_argnums=(2, 3))


def dirichlet(key, alpha, shape=None, dtype=None):
    """Dirichlet(alpha) samples (alpha's last axis is the categories): softmax of log-gammas."""
    typed, _ = _r._check_prng_key("dirichlet", key)
    dt = _r._float_dtype("dirichlet", dtype)
    alpha = jnp.asarray(alpha)
    if alpha.ndim < 1:
        raise ValueError(f"dirichlet requires alpha.ndim >= 1, got alpha.ndim == {alpha.ndim}")
    if shape is None:
        shape = tuple(alpha.shape[:-1])
    else:
        shape = _r._canon_shape(shape)
        _r._check_shape("dirichlet", shape, alpha.shape[:-1])
    return _jit_dirichlet(_r._data(typed), alpha, shape, dt)


def _chisquare_impl(data, df, shape, dtype):
    half = lax.div(lax.convert_element_type(df, dtype), np.array(2, dtype))
    return lax.mul(lax.exp(_gamma_impl(data, half, shape, dtype, True)), np.array(2, dtype))


def _f_impl(data, dfnum, dfden, shape, dtype):
    k_den, k_num = _r._split_pair(data)
    dfnum = jnp.broadcast_to(lax.convert_element_type(dfnum, dtype), shape)
    dfden = jnp.broadcast_to(lax.convert_element_type(dfden, dtype), shape)
    num = lax.div(_chisquare_impl(k_num, dfnum, shape, dtype), dfnum)
    den = lax.div(_chisquare_impl(k_den, dfden, shape, dtype), dfden)
    return lax.div(num, den)


def _t_impl(data, df, shape, dtype):
    k_n, k_g = _r._split_pair(data)
    n = _r._normal_impl(k_n, shape, dtype)
    half = jnp.broadcast_to(lax.div(lax.convert_element_type(df, dtype), np.array(2, dtype)), shape)
    g = _gamma_impl(k_g, half, shape, dtype, False)
    return lax.mul(n, lax.sqrt(lax.div(half, g)))


_jit_chisquare = _jit(_chisquare_impl, static_argnums=(2, 3))
_jit_f = _jit(_f_impl, static_argnums=(3, 4))
_jit_t = _jit(_t_impl, static_argnums=(2, 3))


def chisquare(key, df, shape=None, dtype=None):
    """Chi-square(df) samples: 2 * Gamma(df / 2)."""
    typed, _ = _r._check_prng_key("chisquare", key)
    dt = _r._float_dtype("chisquare", dtype)
    return _jit_chisquare(_r._data(typed), df, _check_broadcast_shapes("chisquare", shape, df), dt)


def f(key, dfnum, dfden, shape=None, dtype=None):
    """F(dfnum, dfden) samples: a ratio of scaled chi-squares."""
    typed, _ = _r._check_prng_key("f", key)
    dt = _r._float_dtype("f", dtype)
    shape = _check_broadcast_shapes("f", shape, dfnum, dfden)
    return _jit_f(_r._data(typed), dfnum, dfden, shape, dt)


def t(key, df, shape=None, dtype=None):
    """Student's t(df) samples: normal * sqrt(df / 2 / Gamma(df / 2))."""
    typed, _ = _r._check_prng_key("t", key)
    dt = _r._float_dtype("t", dtype)
    return _jit_t(_r._data(typed), df, _check_broadcast_shapes("t", shape, df), dt)


def _generalized_normal_impl(data, p, shape, dtype):
    k_g, k_r = _r._split_pair(data)
    inv_p = lax.div(np.array(1, dtype), lax.convert_element_type(p, dtype))
    g = _gamma_impl(k_g, inv_p, shape, dtype, False)
    r = _r._rademacher_impl(k_r, shape, dtype)
    return lax.mul(r, lax.pow(g, jnp.broadcast_to(inv_p, shape)))


def _ball_impl(data, p, d, shape, dtype):
    k1, k2 = _r._split_pair(data)
    g = _generalized_normal_impl(k1, p, (*shape, d), dtype)
    e = _r._exponential_impl(k2, shape, dtype)
    p = lax.convert_element_type(p, dtype)
    norm = jnp.sum(lax.pow(lax.abs(g), jnp.broadcast_to(p, g.shape)), axis=-1) + e
    return g / lax.pow(norm, jnp.broadcast_to(lax.div(np.array(1, dtype), p), norm.shape))[..., None]


_jit_generalized_normal = _jit(_generalized_normal_impl, static_argnums=(2, 3))
_jit_ball = _jit(_ball_impl, static_argnums=(2, 3, 4))


def generalized_normal(key, p, shape=(), dtype=None):
    """Samples with density proportional to exp(-|x|**p)."""
    typed, _ = _r._check_prng_key("generalized_normal", key)
    dt = _r._float_dtype("generalized_normal", dtype)
    shape = _r._canon_shape(shape)
    if np.ndim(p):
        raise ValueError(f"generalized_normal needs a scalar p, got shape {np.shape(p)}")
    return _jit_generalized_normal(_r._data(typed), p, shape, dt)


def ball(key, d, p=2, shape=(), dtype=None):
    """Uniform samples from the unit Lp ball in d dimensions: shape (*shape, d)."""
    typed, _ = _r._check_prng_key("ball", key)
    dt = _r._float_dtype("ball", dtype)
    shape = _r._canon_shape(shape)
    d = _r._concrete_int(d, "argument d of jax.random.ball()")
    return _jit_ball(_r._data(typed), p, d, shape, dt)

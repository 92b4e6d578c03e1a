"""irjax.random: JAX's explicit-key PRNG API, bit-identical with JAX's defaults.

Keys: `key(seed)` makes a typed key (a `PRNGKeyArray`, printed like JAX's
``key<fry>`` arrays); `PRNGKey(seed)` makes a legacy ``uint32[2]`` key. Every function
accepts either and, like JAX, returns legacy keys for legacy inputs.

Each sampler runs as one `irjax.jit`-compiled function per (shape, dtype), built from
irjax.lax ops (threefry2x32 in `irjax.prng`), so it also works under jit, vmap and grad.
gamma & co., the count samplers and a few more live in random_gamma / random_discrete /
random_continuous, loaded on first use.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import ml_dtypes
import numpy as np
from irjax import dtypes as _dtypes
from irjax import numpy as jnp
from irjax.api import jit as _jit
from irjax.array import from_numpy
from irjax.core import Tracer, aval_of
from irjax.errors import ConcretizationTypeError
from irjax.runtime.lazy_names import lazy_attributes

from . import lax
from . import prng as _prng
from . import random_math as _math
from .prng import U32, UINT_DTYPES, PRNGKeyArray

__all__ = [
    "PRNGKey",
    "key",
    "key_data",
    "wrap_key_data",
    "key_impl",
    "clone",
    "split",
    "fold_in",
    "bits",
    "uniform",
    "normal",
    "randint",
    "bernoulli",
    "choice",
    "permutation",
    "shuffle",
    "categorical",
    "truncated_normal",
    "exponential",
    "gumbel",
    "laplace",
    "logistic",
    "multivariate_normal",
    "cauchy",
    "rademacher",
    "lognormal",
    "maxwell",
    "weibull_min",
    "pareto",
    "rayleigh",
    "PRNGKeyArray",
]

KeyArray = PRNGKeyArray


# ---- helpers ----------------------------------------------------------------------------------


def _finfo(dtype):
    try:
        return ml_dtypes.finfo(dtype)
    except (ImportError, ValueError, TypeError):  # pragma: no cover
        return np.finfo(dtype)


def _float_dtype(name, dtype, allow_complex=False):
    dt = _dtypes.canonicalize_dtype(_dtypes.default_float) if dtype is None else _dtypes.check_user_dtype(dtype, None)
    ok = dt.kind == "f" or (dt.kind == "V" and "float" in dt.name) or (allow_complex and dt.kind == "c")
    if not ok:
        kind = "float or complex" if allow_complex else "float"
        raise ValueError(f"dtype argument to `{name}` must be a {kind} dtype, got {dt}")
    return dt


def _canon_shape(shape):
    if shape is None:
        return None
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    try:
        return tuple(int(d) for d in shape)
    except TypeError:
        raise TypeError(f"Shapes must be 1D sequences of concrete values of integer type, got {shape}.") from None


def _check_shape(name, shape, *param_shapes):
    if param_shapes:
        try:
            shape_ = tuple(np.broadcast_shapes(shape, *param_shapes))
        except ValueError:
            shape_ = f"none ({', '.join(map(str, param_shapes))} do not broadcast)"
        if shape != shape_:
            raise ValueError(
                f"{name} parameter shapes must be broadcast-compatible with shape argument, and the result "
                f"of broadcasting the shapes must equal the shape argument, but got result {shape_} for "
                f"shape argument {shape}."
            )


def _is_raw_key_like(x):
    return hasattr(x, "aval") or isinstance(x, (np.ndarray, list, tuple))


def _check_prng_key(name, key, allow_batched=False):
    """(typed key, was_wrapped): legacy uint32 keys are wrapped, as JAX does."""
    if isinstance(key, PRNGKeyArray):
        typed, wrapped = key, False
    elif _is_raw_key_like(key):
        typed, wrapped = wrap_key_data(key), True
    else:
        raise TypeError(f"unexpected PRNG key type {type(key)}")
    if not allow_batched and typed.ndim:
        raise ValueError(
            f"{name} accepts a single key, but was given a key array of shape {typed.shape} != (). "
            "Use jax.vmap for batching."
        )
    return typed, wrapped


def _return_keys(wrapped, typed):
    return typed._base_array if wrapped else typed


def _data(key: PRNGKeyArray):
    return key._base_array


def _concrete_int(x, what):
    if isinstance(x, Tracer):
        raise ConcretizationTypeError(x, f"The problem arose with {what}.")
    return int(np.asarray(x))


# ---- keys -------------------------------------------------------------------------------------


def _resolve_impl(impl):
    if impl is None or impl == "threefry2x32" or isinstance(impl, _prng.KeyTy):
        return
    raise ValueError(f'unrecognized PRNG implementation "{impl}". irjax implements only "threefry2x32".')


def _key(ctor_name, seed, impl):
    _resolve_impl(impl)
    if isinstance(seed, PRNGKeyArray):
        raise TypeError(f"{ctor_name} accepts a scalar seed, but was given a PRNG key.")
    if np.ndim(seed) if not hasattr(seed, "aval") else seed.ndim:
        raise TypeError(
            f"{ctor_name} accepts a scalar seed, but was given an array of shape {np.shape(seed)} != (). "
            "Use jax.vmap for batching"
        )
    if isinstance(seed, Tracer):
        return PRNGKeyArray(_jit_seed(seed))

    if hasattr(seed, "aval"):
        if seed.dtype.kind not in "iu":
            raise TypeError(f"PRNG key seed must be an integer; got {seed!r}")
        seed = np.asarray(seed)
    return PRNGKeyArray(from_numpy(_prng.seed_data_np(seed), dtype=U32))


_jit_seed = _jit(_prng.seed_data)


def key(seed, *, impl=None, dtype=None):
    """A typed PRNG key (shape ``()``, dtype ``key<fry>``) from an integer seed."""
    if dtype is not None:
        if impl is not None:
            raise ValueError("Cannot specify both `impl` and `dtype` arguments to jax.random.key")
        impl = dtype
    return _key("key", seed, impl)


def PRNGKey(seed, *, impl=None):
    """A legacy PRNG key: a ``uint32[2]`` array."""
    return _key("PRNGKey", seed, impl)._base_array


def key_data(keys):
    """The uint32 data underneath a key array (shape ``(*keys.shape, 2)``)."""
    keys, _ = _check_prng_key("key_data", keys, allow_batched=True)
    return keys._base_array


def wrap_key_data(key_bits_array, *, impl=None, dtype=None):
    """Wrap uint32 key data of shape ``(..., 2)`` into a typed key array."""
    if dtype is not None:
        if impl is not None:
            raise ValueError("Cannot specify both `impl` and `dtype` arguments to jax.random.wrap_key_data")
        impl = dtype
    _resolve_impl(impl)
    if isinstance(key_bits_array, PRNGKeyArray):
        raise TypeError("wrap_key_data expects uint32 key data, got a key array")
    x = key_bits_array
    if not hasattr(x, "aval"):
        x = from_numpy(np.asarray(x))
    a = aval_of(x)
    if a.dtype != U32:
        raise TypeError(f"JAX encountered invalid PRNG key data: expected key_data.dtype = uint32; got dtype={a.dtype}")
    if not a.shape or a.shape[-1] != 2:
        raise TypeError(
            f"JAX encountered invalid PRNG key data: expected key_data.shape to end with (2,); got shape={a.shape}"
        )
    return PRNGKeyArray(x)


def key_impl(keys):
    _check_prng_key("key_impl", keys, allow_batched=True)
    return "threefry2x32"


def key_dtype(impl=None):
    _resolve_impl(impl)
    return _prng.KEY_DTYPE


def clone(key):
    return key


_jit_fold_in = _jit(_prng.fold_in_data)
_jit_split = _jit(_prng.split_data, static_argnums=(1,))


def fold_in(key, data):
    """Fold a 32-bit integer into a key, giving a new key."""
    typed, wrapped = _check_prng_key("fold_in", key)
    if np.ndim(data) if not hasattr(data, "aval") else data.ndim:
        raise TypeError(
            f"fold_in accepts a scalar, but was given an array of shape {np.shape(data)} != (). Use jax.vmap for batching."
        )
    if isinstance(data, Tracer):
        msg = data if data.dtype == U32 else lax.convert_element_type(data, U32)
    elif hasattr(data, "aval"):
        msg = np.asarray(data).astype(U32)
    else:
        msg = np.asarray(data, dtype=U32)  # OverflowError for negative Python ints, as JAX
    return _return_keys(wrapped, PRNGKeyArray(_jit_fold_in(_data(typed), msg)))


def _split(typed, num=2):
    if typed.ndim:
        raise TypeError(
            f"split accepts a single key, but was given a key array of shape {typed.shape} != (). Use jax.vmap for batching."
        )
    shape = tuple(int(n) for n in num) if isinstance(num, Sequence) else (_concrete_int(num, "split's num"),)
    return PRNGKeyArray(_jit_split(_data(typed), shape))


def split(key, num=2):
    """Split a key into `num` (an int or a shape) new keys along a leading axis."""
    typed, wrapped = _check_prng_key("split", key)
    return _return_keys(wrapped, _split(typed, num))


# ---- bits and uniform -------------------------------------------------------------------------


_jit_bits = _jit(_prng.random_bits_data, static_argnums=(1, 2))


def bits(key, shape=(), dtype=None):
    """Uniform random bits as unsigned integers (uint32 by default)."""
    typed, _ = _check_prng_key("bits", key)
    dt = _dtypes.canonicalize_dtype(np.uint32) if dtype is None else _dtypes.check_user_dtype(dtype, None)
    if dt.kind != "u":
        raise ValueError(f"dtype argument to `bits` must be an unsigned int dtype, got {dt}")
    return _jit_bits(_data(typed), dt.itemsize * 8, _canon_shape(shape))


def _uniform_impl(data, minval, maxval, shape, dtype):
    """JAX's _uniform: random mantissa bits with exponent 0 -> [1, 2), minus 1, scaled."""
    minval = lax.convert_element_type(minval, dtype)
    maxval = lax.convert_element_type(maxval, dtype)
    fi = _finfo(dtype)
    nbits, nmant = fi.bits, fi.nmant
    rng_bits = 8 if nmant < 8 else nbits
    uint = UINT_DTYPES[nbits]
    b = lax.convert_element_type(_prng.random_bits_data(data, rng_bits, shape), uint)
    fbits = lax.bitwise_or(lax.shift_right_logical(b, uint.type(rng_bits - nmant)), np.array(1.0, dtype).view(uint))
    floats = lax.sub(lax.bitcast_convert_type(fbits, dtype), np.array(1.0, dtype))
    out = jnp.add(jnp.multiply(floats, jnp.subtract(maxval, minval)), minval)
    return lax.max(jnp.broadcast_to(minval, out.shape), out)


_jit_uniform = _jit(_uniform_impl, static_argnums=(3, 4))


def uniform(key, shape=(), dtype=None, minval=0.0, maxval=1.0):
    """Uniform floats in [minval, maxval)."""
    typed, _ = _check_prng_key("uniform", key)
    dt = _float_dtype("uniform", dtype)
    shape = _canon_shape(shape)
    _check_shape("uniform", shape)
    return _jit_uniform(_data(typed), minval, maxval, shape, dt)


# ---- normal family ----------------------------------------------------------------------------


def _nextafter_toward_zero_from_minus_one(dtype):
    uint = _prng.UINT_DTYPES[_finfo(dtype).bits]
    return (np.array(-1.0, dtype).view(uint) - uint.type(1)).view(dtype)


def _normal_real(data, shape, dtype):
    lo = _nextafter_toward_zero_from_minus_one(dtype)
    u = _uniform_impl(data, lo, np.array(1.0, dtype), shape, dtype)
    return lax.mul(np.array(np.sqrt(2), dtype), _math.erf_inv(u))


def _normal_impl(data, shape, dtype):
    if np.dtype(dtype).kind != "c":
        return _normal_real(data, shape, dtype)
    # complex: real and imaginary parts from the two halves of a split, each of variance 1/2 (as JAX)
    part = np.dtype(np.float64 if np.dtype(dtype) == np.complex128 else np.float32)
    k_re, k_im = _split_pair(data)
    re, im = _normal_real(k_re, shape, part), _normal_real(k_im, shape, part)
    half = np.array(1 / np.sqrt(2), part)  # (XLA divides by sqrt(2) + 0j as a product with its inverse)
    return lax.complex(lax.mul(re, half), lax.mul(im, half))


def _split_pair(data):
    ks = _prng.split_data(data, (2,))
    return lax.index_in_dim(ks, 0, keepdims=False), lax.index_in_dim(ks, 1, keepdims=False)


_jit_normal = _jit(_normal_impl, static_argnums=(1, 2))


def normal(key, shape=(), dtype=None):
    """Standard normal floats: sqrt(2) * erf_inv(uniform(nextafter(-1, 0), 1))."""
    typed, _ = _check_prng_key("normal", key)
    dt = _float_dtype("normal", dtype, allow_complex=True)
    return _jit_normal(_data(typed), _canon_shape(shape), dt)


def _truncated_normal_impl(data, lower, upper, shape, dtype):
    sqrt2 = np.array(np.sqrt(2), dtype)
    lower = lax.convert_element_type(lower, dtype)
    upper = lax.convert_element_type(upper, dtype)
    a = _math.erf(lax.div(lower, sqrt2))
    b = _math.erf(lax.div(upper, sqrt2))
    u = _uniform_impl(data, a, b, shape, dtype)
    out = lax.mul(sqrt2, _math.erf_inv(u))
    lo = jnp.broadcast_to(jnp.nextafter(lax.stop_gradient(lower), np.array(np.inf, dtype)), shape)
    hi = jnp.broadcast_to(jnp.nextafter(lax.stop_gradient(upper), np.array(-np.inf, dtype)), shape)
    return lax.min(hi, lax.max(lo, out))


_jit_truncated_normal = _jit(_truncated_normal_impl, static_argnums=(3, 4))


def truncated_normal(key, lower, upper, shape=None, dtype=None):
    """Standard normal values truncated to the open interval (lower, upper)."""
    shape = _canon_shape(shape)
    typed, _ = _check_prng_key("truncated_normal", key)
    dt = _float_dtype("truncated_normal", dtype)
    if shape is None:
        shape = tuple(np.broadcast_shapes(np.shape(lower), np.shape(upper)))
    else:
        _check_shape("truncated_normal", shape, np.shape(lower), np.shape(upper))
    return _jit_truncated_normal(_data(typed), lower, upper, shape, dt)


# ---- simple transforms of uniform -------------------------------------------------------------


def _exponential_impl(data, shape, dtype):
    u = _uniform_impl(data, 0.0, 1.0, shape, dtype)
    return lax.neg(_math.log1p(lax.neg(u)))


def _laplace_impl(data, shape, dtype):
    u = _uniform_impl(data, -1.0 + float(_finfo(dtype).epsneg), 1.0, shape, dtype)
    return lax.mul(lax.sign(u), _math.log1p(lax.neg(lax.abs(u))))


def _logistic_impl(data, shape, dtype):
    x = _uniform_impl(data, np.array(_finfo(dtype).tiny, dtype), 1.0, shape, dtype)
    return lax.sub(_math.log(x), _math.log1p(lax.neg(x)))


def _cauchy_impl(data, shape, dtype):
    u = _uniform_impl(data, np.array(_finfo(dtype).eps, dtype), 1.0, shape, dtype)
    return lax.tan(lax.mul(np.array(np.pi, dtype), lax.sub(u, 0.5)))


_jit_exponential = _jit(_exponential_impl, static_argnums=(1, 2))
_jit_laplace = _jit(_laplace_impl, static_argnums=(1, 2))
_jit_logistic = _jit(_logistic_impl, static_argnums=(1, 2))
_jit_cauchy = _jit(_cauchy_impl, static_argnums=(1, 2))


def _simple(name, jitted):
    def sampler(key, shape=(), dtype=None):
        typed, _ = _check_prng_key(name, key)
        dt = _float_dtype(name, dtype)
        return jitted(_data(typed), _canon_shape(shape), dt)

    sampler.__name__ = name
    return sampler


exponential = _simple("exponential", _jit_exponential)
exponential.__doc__ = "Exponential(1) floats: -log1p(-uniform)."
laplace = _simple("laplace", _jit_laplace)
laplace.__doc__ = "Laplace(0, 1) floats."
logistic = _simple("logistic", _jit_logistic)
logistic.__doc__ = "Logistic(0, 1) floats."
cauchy = _simple("cauchy", _jit_cauchy)
cauchy.__doc__ = "Standard Cauchy floats."


# ---- gumbel -----------------------------------------------------------------------------------


def _safe_int_to_float(b):
    """JAX's u32[2, ...] -> f32 in (0, 1) conversion (gumbel mode='highest')."""
    fi = _finfo(np.float32)
    u32 = np.uint32
    hi, lo = lax.index_in_dim(b, 0, keepdims=False), lax.index_in_dim(b, 1, keepdims=False)
    hiclz, loclz = lax.clz(hi), lax.clz(lo)
    hi32 = lax.eq(hiclz, u32(32))
    low_part = lax.select(hi32, lax.shift_left(lo, loclz), lax.shift_right_logical(lo, lax.sub(u32(fi.bits), hiclz)))
    mant = lax.bitwise_or(lax.shift_left(hi, hiclz), low_part)
    mant = lax.shift_right_logical(mant, u32(fi.bits - fi.nmant - 1))
    mant = lax.bitwise_and(mant, u32((1 << fi.nmant) - 1))
    # exponent arithmetic runs in uint32 (wrapping), as JAX's does
    e = lax.sub(u32(-fi.minexp), lax.select(hi32, lax.add(loclz, u32(32)), hiclz))
    e = lax.shift_left(e, u32(fi.nmant))
    e = lax.bitwise_and(e, u32((1 << (fi.bits - 2)) - (1 << (fi.nmant - 1))))
    return lax.bitcast_convert_type(lax.bitwise_or(e, mant), np.float32)


def _neglog(v):
    return lax.neg(_math.log(v))


def _gumbel_impl(data, shape, dtype, mode):
    fi = _finfo(dtype)
    if dtype == np.float32 and mode == "highest":
        b = _prng.random_bits_data(data, 32, (2,) + shape)
        neg = lax.bitwise_not(b)
        lo_bits = lax.index_in_dim(neg, 1, keepdims=False)
        carry = lax.convert_element_type(lax.eq(lo_bits, np.uint32(0xFFFFFFFF)), U32)
        inc = lax.concatenate([lax.reshape(carry, (1,) + shape), lax.full((1,) + shape, 1, U32)], 0)
        neg = lax.add(neg, inc)
        flip = lax.lt(lax.index_in_dim(b, 0, keepdims=False), np.uint32(1 << 31))
        flip2 = lax.broadcast_in_dim(flip, (2,) + shape, tuple(range(1, len(shape) + 1)))
        x = _safe_int_to_float(lax.select(flip2, b, neg))
        small = _neglog(lax.neg(_math.log1p(lax.neg(x))))
        big = _neglog(_neglog(x))
        return lax.select(flip, small, big)
    if mode in ("high", "highest"):
        u = _uniform_impl(data, 0.0, 1.0, (2,) + shape, dtype)
        high, low = lax.index_in_dim(u, 0, keepdims=False), lax.index_in_dim(u, 1, keepdims=False)
        alt = lax.add(lax.add(high, lax.mul(np.array(2.0**-fi.nmant, dtype), low)), np.array(fi.tiny, dtype))
        x = lax.select(lax.ge(high, 0.5), high, alt)
        return _neglog(lax.neg(_math.log1p(lax.neg(x))))
    u = _uniform_impl(data, np.array(fi.tiny, dtype), 1.0, shape, dtype)
    return _neglog(_neglog(u))


_jit_gumbel = _jit(_gumbel_impl, static_argnums=(1, 2, 3))


def _gumbel_mode(mode):
    if mode is None:
        mode = "low"
    if mode not in ("highest", "high", "low"):
        raise ValueError(f"Must provide valid mode for gumbel got: {mode}")
    return mode


def gumbel(key, shape=(), dtype=None, mode=None):
    """Gumbel(0, 1) floats: -log(-log(uniform(tiny, 1)))."""
    typed, _ = _check_prng_key("gumbel", key)
    dt = _float_dtype("gumbel", dtype)
    return _jit_gumbel(_data(typed), _canon_shape(shape), dt, _gumbel_mode(mode))


# ---- integers ---------------------------------------------------------------------------------


def _clip_int(val, dtype):
    """Convert integer val to dtype, clipping to dtype's range instead of wrapping."""
    vdt = np.dtype(val.dtype)
    lo = max(int(np.iinfo(dtype).min), int(np.iinfo(vdt).min))
    hi = min(int(np.iinfo(dtype).max), int(np.iinfo(vdt).max))
    return lax.convert_element_type(lax.min(lax.max(val, vdt.type(lo)), vdt.type(hi)), dtype)


def _rem(x, span):
    """lax.rem for unsigned ints with XLA's x % 0 == x (IREE would trap)."""
    zero = lax.eq(span, span.dtype.type(0))
    safe = lax.select(zero, lax.full_like(span, 1), span)
    return lax.select(zero, x, lax.rem(x, safe))


def _randint_impl(data, minval, maxval, shape, dtype):
    minval, maxval = jnp.asarray(minval), jnp.asarray(maxval)
    if minval.dtype.kind not in "iu":
        minval = lax.convert_element_type(minval, _dtypes.default_int)
    if maxval.dtype.kind not in "iu":
        maxval = lax.convert_element_type(maxval, _dtypes.default_int)
    imax = _clip_int(jnp.asarray(np.iinfo(dtype).max, dtype), maxval.dtype)
    maxval_out_of_range = lax.gt(maxval, imax)
    minval = _clip_int(minval, dtype)
    maxval = _clip_int(maxval, dtype)
    nbits = np.iinfo(dtype).bits
    k1, k2 = _split_pair(data)
    higher = _prng.random_bits_data(k1, nbits, shape)
    lower = _prng.random_bits_data(k2, nbits, shape)
    udt = UINT_DTYPES[nbits]
    span = lax.convert_element_type(jnp.subtract(maxval, minval), udt)
    span = lax.select(jnp.less_equal(maxval, minval), lax.full_like(span, 1), span)
    grow = jnp.logical_and(maxval_out_of_range, jnp.greater(maxval, minval))
    span = jnp.broadcast_to(lax.select(grow, lax.add(span, udt.type(1)), span), shape)
    multiplier = _rem(lax.full_like(span, 2 ** (nbits // 2)), span)
    multiplier = _rem(lax.mul(multiplier, multiplier), span)
    offset = lax.add(lax.mul(_rem(higher, span), multiplier), _rem(lower, span))
    offset = _rem(offset, span)
    return lax.add(jnp.broadcast_to(minval, shape), lax.convert_element_type(offset, dtype))


_jit_randint = _jit(_randint_impl, static_argnums=(3, 4))


def randint(key, shape, minval, maxval, dtype=None):
    """Uniform integers in [minval, maxval) (JAX's 2*nbits modulus method)."""
    typed, _ = _check_prng_key("randint", key)
    dt = _dtypes.canonicalize_dtype(_dtypes.default_int) if dtype is None else _dtypes.check_user_dtype(dtype, None)
    if dt.kind not in "iu":
        raise TypeError(f"randint only accepts integer dtypes, got {dt}")
    shape = _canon_shape(shape)
    _check_shape("randint", shape, np.shape(minval), np.shape(maxval))
    info = np.iinfo(dt)
    sdt = dt
    if info.bits < 32:
        sdt = np.dtype(np.int32)
        minval = jnp.clip(jnp.asarray(minval).astype("int32"), int(info.min), int(info.max))
        maxval = jnp.clip(jnp.asarray(maxval).astype("int32"), int(info.min), int(info.max) + 1)
    out = _jit_randint(_data(typed), minval, maxval, shape, sdt)
    return out if sdt == dt else out.astype(dt)


def _rademacher_impl(data, shape, dtype):
    b = lax.lt(_uniform_impl(data, 0.0, 1.0, shape, np.dtype(np.float32)), np.float32(0.5))
    return lax.sub(lax.mul(lax.convert_element_type(b, dtype), dtype.type(2)), dtype.type(1))


_jit_rademacher = _jit(_rademacher_impl, static_argnums=(1, 2))


def rademacher(key, shape=(), dtype=None):
    """Random -1/+1 values (bernoulli(0.5) mapped to {-1, 1})."""
    typed, _ = _check_prng_key("rademacher", key)
    dt = _dtypes.canonicalize_dtype(_dtypes.default_int) if dtype is None else _dtypes.check_user_dtype(dtype, None)
    return _jit_rademacher(_data(typed), _canon_shape(shape), dt)


# ---- bernoulli --------------------------------------------------------------------------------


def _bernoulli_impl(data, p, shape, mode):
    dtype = np.dtype(p.dtype)
    p = jnp.broadcast_to(p, shape)
    if mode == "high":
        u = _uniform_impl(data, 0.0, 1.0, (2,) + shape, dtype)
        u1, u2 = lax.index_in_dim(u, 0, keepdims=False), lax.index_in_dim(u, 1, keepdims=False)
        u2 = lax.mul(u2, np.array(2.0 ** -_finfo(dtype).nmant, dtype))
        return lax.lt(u2, lax.sub(p, u1))
    return lax.lt(_uniform_impl(data, 0.0, 1.0, shape, dtype), p)


_jit_bernoulli = _jit(_bernoulli_impl, static_argnums=(2, 3))


def bernoulli(key, p=0.5, shape=None, mode="low"):
    """Boolean samples that are True with probability p."""
    shape = _canon_shape(shape)
    if mode not in ("high", "low"):
        raise ValueError(f"got {mode=}, expected 'high' or 'low'")
    typed, _ = _check_prng_key("bernoulli", key)
    if isinstance(p, (list, tuple)):
        p = np.asarray(p)
    dt = aval_of(p).dtype
    if not (dt.kind == "f" or (dt.kind == "V" and "float" in dt.name)):
        raise TypeError(f"bernoulli probability `p` must have a floating dtype, got {dt}.")
    pshape = tuple(np.shape(p)) if not hasattr(p, "aval") else tuple(p.shape)
    if shape is None:
        shape = pshape
    else:
        _check_shape("bernoulli", shape, pshape)
    if hasattr(p, "aval"):
        p = lax.convert_element_type(p, dt)
    else:
        p = np.asarray(p, dt)
    return _jit_bernoulli(_data(typed), p, shape, mode)


# ---- permutations, choice, categorical --------------------------------------------------------


def _shuffle_impl(data, x, axis):
    size = math.prod(x.shape)
    uint32max = np.iinfo(np.uint32).max
    num_rounds = int(np.ceil(3 * np.log(max(1, size)) / np.log(uint32max)))
    for _ in range(num_rounds):
        ks = _prng.split_data(data, (2,))
        data, sub = lax.index_in_dim(ks, 0, keepdims=False), lax.index_in_dim(ks, 1, keepdims=False)
        sort_keys = _prng.random_bits_data(sub, 32, x.shape)
        x = _stable_sort(sort_keys, x, dimension=axis)
    return x


def _stable_sort(keys, vals, dimension):
    """vals sorted by keys along `dimension`, ties in original order (lax.sort_key_val).

    Sorts (keys, position) lexicographically and gathers vals by the positions: IREE 3.13
    fails to compile some multi-operand sorts of 2-D arrays ("write affecting operations
    on global resources are restricted to workgroup distributed contexts"), e.g. a stable
    sort whose operands include an iota, or one whose value operand is computed from an
    argument; the (keys, iota) sort alone compiles."""
    return jnp.take_along_axis(vals, _argsort_stable(keys, dimension), axis=dimension)


def _argsort_stable(keys, dimension):
    pos = lax.broadcasted_iota(np.int32, keys.shape, dimension)
    return lax.sort((keys, pos), dimension=dimension, is_stable=False, num_keys=2)[1]


_jit_shuffle = _jit(_shuffle_impl, static_argnums=(2,))


def _canonical_axis(axis, ndim):
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis {axis} is out of bounds for array of dimension {ndim}")
    return axis % ndim


def permutation(key, x, axis=0, independent=False):
    """A random permutation of arange(x) (int x) or of x along `axis`."""
    typed, _ = _check_prng_key("permutation", key)
    ndim = np.ndim(x) if not hasattr(x, "aval") else x.ndim
    axis = _canonical_axis(axis, ndim or 1)
    if not ndim:
        dt = x.dtype if hasattr(x, "aval") else np.asarray(x).dtype
        if np.dtype(dt).kind not in "iu":
            raise TypeError("x must be an integer or at least 1-dimensional")
        r = _concrete_int(x, "argument x of jax.random.permutation()")
        return _jit_shuffle(_data(typed), jnp.arange(r), axis)
    x = jnp.asarray(x)
    if independent or x.ndim == 1:
        return _jit_shuffle(_data(typed), x, axis)
    ind = _jit_shuffle(_data(typed), jnp.arange(x.shape[axis]), 0)
    return jnp.take(x, ind, axis=axis)


def shuffle(key, x, axis=0):
    """Deprecated in JAX: same as permutation(key, x, axis, independent=True)."""
    return permutation(key, x, axis, independent=True)


def _top_k_indices(x, k):
    """Indices of the k largest entries along the last axis (ties: lower index first)."""
    last = x.ndim - 1
    order = _argsort_stable(lax.neg(x), last)
    if k != x.shape[-1]:
        order = lax.slice_in_dim(order, 0, k, axis=last)
    return order


def choice(key, a, shape=(), replace=True, p=None, axis=0, mode=None):
    """Random samples from `a` (an array, or arange(a) for an int)."""
    typed, _ = _check_prng_key("choice", key)
    if not isinstance(shape, Sequence):
        raise TypeError(f"shape argument of jax.random.choice must be a sequence, got {shape}")
    shape = tuple(shape)
    arr = jnp.asarray(a)
    if arr.ndim == 0:
        n_inputs = _concrete_int(a, "jax.random.choice()")
    else:
        axis = _canonical_axis(axis, arr.ndim)
        n_inputs = arr.shape[axis]
    n_draws = math.prod(shape)
    if n_draws == 0:
        return jnp.zeros(shape, dtype=arr.dtype)
    if n_inputs <= 0:
        raise ValueError("a must be greater than 0 unless no samples are taken")
    if not replace and n_draws > n_inputs:
        raise ValueError(
            f"Cannot take a larger sample (size {n_draws}) than population (size {n_inputs}) when 'replace=False'"
        )
    if p is None:
        if replace:
            ind = randint(typed, shape, 0, n_inputs)
            result = ind if arr.ndim == 0 else jnp.take(arr, ind, axis=axis)
        else:
            slices = (slice(None),) * axis + (slice(n_draws),)
            result = permutation(typed, n_inputs if arr.ndim == 0 else arr, axis)[slices]
    else:
        p_arr = jnp.asarray(p)
        if p_arr.dtype.kind not in "fc":
            p_arr = p_arr.astype(_dtypes.default_float)
        if p_arr.shape != (n_inputs,):
            raise ValueError(
                "p must be None or a 1D vector with the same size as a.shape[axis]. "
                f"p has shape {p_arr.shape} and a.shape[axis] is {n_inputs}."
            )
        if replace:
            ind = _jit_choice_p(_data(typed), p_arr, shape)
        else:
            ind = _jit_choice_gumbel(_data(typed), p_arr, n_draws, _gumbel_mode(mode))
        result = ind if arr.ndim == 0 else jnp.take(arr, ind, axis=axis)
    return result.reshape(shape if arr.ndim == 0 else arr.shape[0:axis] + tuple(shape) + arr.shape[axis + 1 :])


def _choice_p_impl(data, p, shape):
    dtype = np.dtype(p.dtype)
    p_cuml = jnp.cumsum(p)
    u = _uniform_impl(data, 0.0, 1.0, shape, dtype)
    r = lax.mul(p_cuml[-1], lax.sub(np.array(1, dtype), u))
    # searchsorted(p_cuml, r, side='left') on a sorted p_cuml: count of entries < r
    less = jnp.less(p_cuml, r[..., None])
    return lax.reduce_sum(lax.convert_element_type(less, np.int32), (len(shape),))


def _choice_gumbel_impl(data, p, k, mode):
    g = lax.add(_gumbel_impl(data, p.shape, np.dtype(p.dtype), mode), jnp.log(p))
    return _top_k_indices(g, k)


_jit_choice_p = _jit(_choice_p_impl, static_argnums=(2,))
_jit_choice_gumbel = _jit(_choice_gumbel_impl, static_argnums=(2, 3))


def _categorical_impl(data, logits, shape, batch_shape, axis, replace, mode):
    nd = len(logits.shape)
    shape_prefix = shape[: len(shape) - len(batch_shape)]
    dtype = np.dtype(logits.dtype)
    if replace:
        if axis >= 0:
            axis -= nd
        logits_shape = list(shape[len(shape) - len(batch_shape) :])
        logits_shape.insert(axis % nd, logits.shape[axis])
        g = _gumbel_impl(data, (*shape_prefix, *logits_shape), dtype, mode)
        return jnp.argmax(jnp.add(g, logits), axis=axis)
    logits = lax.add(logits, _gumbel_impl(data, tuple(logits.shape), dtype, mode))
    k = math.prod(shape_prefix)
    if k > logits.shape[axis]:
        raise ValueError(
            f"Number of samples without replacement ({k}) cannot exceed number of categories ({logits.shape[axis]})."
        )
    ind = _top_k_indices(jnp.moveaxis(logits, axis, -1), k)
    ind = lax.transpose(ind, (ind.ndim - 1, *range(ind.ndim - 1)))
    return lax.reshape(ind, shape)


_jit_categorical = _jit(_categorical_impl, static_argnums=(2, 3, 4, 5, 6))


def categorical(key, logits, axis=-1, shape=None, replace=True, mode=None):
    """Samples from categorical distributions given unnormalized log-probabilities."""
    typed, _ = _check_prng_key("categorical", key)
    logits = jnp.asarray(logits)
    batch_shape = tuple(np.delete(logits.shape, axis))
    if shape is None:
        shape = batch_shape
    else:
        shape = _canon_shape(shape)
        _check_shape("categorical", shape, batch_shape)
    return _jit_categorical(_data(typed), logits, shape, batch_shape, axis, replace, _gumbel_mode(mode))


# ---- multivariate normal ----------------------------------------------------------------------


def _mvn_impl(data, mean, cov, shape, dtype, method):
    if method == "cholesky":
        factor = jnp.linalg.cholesky(cov)
    elif method == "eigh":
        w, v = jnp.linalg.eigh(cov)
        factor = v * jnp.sqrt(w[..., None, :])
    else:
        u, s, _ = jnp.linalg.svd(cov)
        factor = u * jnp.sqrt(s[..., None, :])
    z = _normal_impl(data, shape + mean.shape[-1:], dtype)
    return mean + jnp.sum(factor * z[..., None, :], axis=-1)


_jit_mvn = _jit(_mvn_impl, static_argnums=(3, 4, 5))


def multivariate_normal(key, mean, cov, shape=None, dtype=None, method="cholesky"):
    """Multivariate normal samples: mean + cholesky(cov) @ normal."""
    typed, _ = _check_prng_key("multivariate_normal", key)
    mean, cov = jnp.asarray(mean), jnp.asarray(cov)
    dt = _dtypes.result_type(mean, cov)
    if dt.kind not in "fc":
        dt = _dtypes.default_float
    mean, cov = mean.astype(dt), cov.astype(dt)
    if method not in {"svd", "eigh", "cholesky"}:
        raise ValueError("method must be one of {'svd', 'eigh', 'cholesky'}")
    dtype = dt if dtype is None else _float_dtype("multivariate_normal", dtype)
    if mean.ndim < 1:
        raise ValueError(f"multivariate_normal requires mean.ndim >= 1, got mean.ndim == {mean.ndim}")
    if cov.ndim < 2:
        raise ValueError(f"multivariate_normal requires cov.ndim >= 2, got cov.ndim == {cov.ndim}")
    n = mean.shape[-1]
    if cov.shape[-2:] != (n, n):
        raise ValueError(
            f"multivariate_normal requires cov.shape == (..., n, n) for n={n}, but got cov.shape == {cov.shape}."
        )
    if shape is None:
        shape = tuple(np.broadcast_shapes(mean.shape[:-1], cov.shape[:-2]))
    else:
        shape = _canon_shape(shape)
        _check_shape("normal", shape, mean.shape[:-1], cov.shape[:-2])
    return _jit_mvn(_data(typed), mean, cov, shape, dtype, method)


# ---- a few more of JAX's samplers built on the ones above --------------------------------------


def lognormal(key, sigma=1.0, shape=None, dtype=None):
    typed, _ = _check_prng_key("lognormal", key)
    dt = _float_dtype("lognormal", dtype)
    shape = tuple(np.shape(sigma)) if shape is None else _canon_shape(shape)
    return jnp.exp(normal(typed, shape, dt) * jnp.asarray(sigma, dt))


def maxwell(key, shape=(), dtype=None):
    typed, _ = _check_prng_key("maxwell", key)
    dt = _float_dtype("maxwell", dtype)
    shape = _canon_shape(shape) + (3,)
    return (
        jnp.linalg.norm(normal(typed, shape, dt), axis=-1)
        if hasattr(jnp, "linalg")
        else jnp.sqrt(jnp.sum(normal(typed, shape, dt) ** 2, axis=-1))
    )


def weibull_min(key, scale, concentration, shape=(), dtype=None):
    typed, _ = _check_prng_key("weibull_min", key)
    dt = _float_dtype("weibull_min", dtype)
    u = uniform(typed, _canon_shape(shape), dt, 0.0, 1.0)
    return jnp.asarray(scale, dt) * jnp.power(-jnp.log1p(-u), 1.0 / jnp.asarray(concentration, dt))


def pareto(key, b, shape=None, dtype=None):
    typed, _ = _check_prng_key("pareto", key)
    dt = _float_dtype("pareto", dtype)
    shape = tuple(np.shape(b)) if shape is None else _canon_shape(shape)
    e = exponential(typed, shape, dt)
    return jnp.exp(e / jnp.asarray(b, dt))


_jit_log = _jit(_math.log)


def rayleigh(key, scale=1.0, shape=None, dtype=None):
    typed, _ = _check_prng_key("rayleigh", key)
    dt = _float_dtype("rayleigh", dtype)
    shape = tuple(np.shape(scale)) if shape is None else _canon_shape(shape)
    u = uniform(typed, shape, dt, 0.0, 1.0)
    log_u = _jit_log(u)
    n_two = jnp.asarray(-2, dt)
    return jnp.sqrt(log_u * n_two) * jnp.asarray(scale, dt)


# Samplers in their own modules, loaded on first use (they build on the samplers above).
_LAZY = {
    **dict.fromkeys(
        "gamma loggamma beta dirichlet chisquare f t generalized_normal ball".split(), "irjax.random_gamma"
    ),
    **dict.fromkeys("poisson binomial geometric multinomial".split(), "irjax.random_discrete"),
    **dict.fromkeys("orthogonal triangular wald double_sided_maxwell".split(), "irjax.random_continuous"),
}
__all__ += list(_LAZY)

__getattr__, __dir__ = lazy_attributes("irjax.random", globals(), _LAZY)

"""irjax.nn activation functions and normalisers (`jax.nn`), built from irjax.numpy/lax."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import dtypes, lax
from .. import numpy as jnp
from ..custom_derivatives import custom_jvp
from ..dtypes import canonicalize_dtype, issubdtype

Axis = Any


def _float(x):
    x = jnp.asarray(x)
    return x if issubdtype(x.dtype, jnp.inexact) else x.astype(jnp.float32)


@custom_jvp
def relu(x):
    """max(x, 0); its derivative at 0 is 0, as in JAX."""
    return jnp.maximum(x, 0)


relu.defjvps(lambda g, ans, x: jnp.where(x > 0, g, jnp.zeros_like(g)))


@custom_jvp
def relu6(x):
    """min(max(x, 0), 6); its derivative at 0 and 6 is 0, as in JAX."""
    return jnp.minimum(jnp.maximum(x, 0), 6.0)


relu6.defjvps(lambda g, ans, x: jnp.where((x > 0) & (x < 6), g, jnp.zeros_like(g)))


def sigmoid(x):
    x = jnp.asarray(x)
    if not issubdtype(x.dtype, jnp.inexact):  # JAX's logistic refuses integers too
        raise TypeError(
            f"sigmoid (logistic) does not accept dtype {x.dtype}. Accepted dtypes "
            "are subtypes of floating, complexfloating."
        )
    return lax.logistic(x)


def softplus(x):
    return jnp.logaddexp(x, 0)


def soft_sign(x):
    x = jnp.asarray(x)
    return x / (jnp.abs(x) + 1)


def silu(x):
    x = jnp.asarray(x)
    return x * sigmoid(x)


swish = silu


def log_sigmoid(x):
    return -softplus(-jnp.asarray(x))


def elu(x, alpha=1.0):
    x = jnp.asarray(x)
    safe = jnp.where(x > 0, 0.0, x)  # keeps expm1 finite where the branch is unused
    return jnp.where(x > 0, x, alpha * jnp.expm1(safe))


def leaky_relu(x, negative_slope=1e-2):
    x = jnp.asarray(x)
    return jnp.where(x >= 0, x, negative_slope * x)


def hard_tanh(x):
    x = jnp.asarray(x)
    return jnp.where(x > 1, 1, jnp.where(x < -1, -1, x))


def celu(x, alpha=1.0):
    return jnp.maximum(x, 0.0) + alpha * jnp.expm1(jnp.minimum(x, 0.0) / alpha)


def selu(x):
    alpha = 1.6732632423543772848170429916717
    scale = 1.0507009873554804934193349852946
    return scale * elu(x, alpha)


def gelu(x, approximate: bool = True):
    """Gaussian error linear unit: tanh approximation, or exact through erf."""
    x = _float(x)
    if approximate:
        c = np.sqrt(2 / np.pi).astype(x.dtype)
        cdf = 0.5 * (1.0 + jnp.tanh(c * (x + 0.044715 * (x**3))))
        return x * cdf
    return (0.5 * x * (1.0 + lax.erf(x * np.sqrt(0.5).astype(x.dtype)))).astype(x.dtype)


def glu(x, axis: int = -1):
    x = jnp.asarray(x)
    if x.shape[axis] % 2:
        raise ValueError(f"glu: axis {axis} must have even size, got shape {x.shape}.")
    x1, x2 = jnp.split(x, 2, axis)
    return x1 * sigmoid(x2)


def hard_sigmoid(x):
    return relu6(jnp.asarray(x) + 3.0) / 6.0


def hard_silu(x):
    x = jnp.asarray(x)
    return x * hard_sigmoid(x)


hard_swish = hard_silu


def logsumexp(a, axis: Axis = None, b=None, keepdims: bool = False, return_sign: bool = False, where=None):
    """log(sum(b * exp(a))) computed stably; with return_sign, also the sign of the sum."""
    a = _float(a)
    if b is not None:
        b = jnp.asarray(b)
        a = a + jnp.where(b != 0, jnp.log(jnp.abs(jnp.where(b != 0, b, 1))), -np.inf)
    m = jnp.max(a, axis, keepdims=True, where=where, initial=-np.inf)
    m = lax.stop_gradient(jnp.where(jnp.isfinite(m), m, 0.0))
    e = jnp.exp(a - m)
    if b is not None:
        e = e * jnp.sign(b)
    s = jnp.sum(e, axis, keepdims=True, where=where)
    sign = jnp.sign(s)
    out = jnp.log(jnp.abs(s) if return_sign else s) + m
    if not keepdims:
        out, sign = jnp.squeeze(out, axis), jnp.squeeze(sign, axis)
    return (out, sign) if return_sign else out


def log_softmax(x, axis: Axis = -1, where=None):
    x = _float(x)
    x_max = jnp.max(x, axis, where=where, initial=-np.inf, keepdims=True)
    x_safe = x if where is None else jnp.where(where, x, -np.inf)
    shifted = x_safe - lax.stop_gradient(x_max)
    out = shifted - jnp.log(jnp.sum(jnp.exp(shifted), axis, where=where, keepdims=True))
    return out if where is None else jnp.where(where, out, -np.inf)


def softmax(x, axis: Axis = -1, where=None):
    x = _float(x)
    x_max = jnp.max(x, axis, where=where, initial=-np.inf, keepdims=True)
    x_safe = x if where is None else jnp.where(where, x, -np.inf)
    unnormalized = jnp.exp(x_safe - lax.stop_gradient(x_max))
    out = unnormalized / jnp.sum(unnormalized, axis, where=where, keepdims=True)
    return out if where is None else jnp.where(where, out, 0)


def standardize(x, axis: Axis = -1, mean=None, variance=None, epsilon=1e-5, where=None, algorithm: str = "fast"):
    """(x - mean) / sqrt(variance + epsilon) along `axis`."""
    x = _float(x)
    if mean is None:
        mean = jnp.mean(x, axis, keepdims=True, where=where)
    if variance is None:
        if algorithm == "stable":
            # (mean - x: the same squares, and no shared x - mean for IREE to write out; see jnp.var)
            variance = jnp.mean(jnp.square(mean - x), axis, keepdims=True, where=where)
        elif algorithm == "fast":
            variance = jnp.mean(jnp.square(x), axis, keepdims=True, where=where) - jnp.square(mean)
            variance = jnp.clip(variance, 0)
        else:
            raise ValueError(f"Unknown algorithm '{algorithm}'. Expected 'fast' or 'stable'.")
    return (x - mean) * lax.rsqrt(variance + epsilon)


def one_hot(x, num_classes: int, *, dtype=None, axis: int = -1):
    """x[..., None] == arange(num_classes), with the class axis at `axis`."""
    x = jnp.asarray(x)
    if not isinstance(num_classes, (int, np.integer)):
        raise TypeError(f"one_hot: num_classes must be a concrete int, got {num_classes!r}.")
    dtype = dtypes.default_float if dtype is None else canonicalize_dtype(dtype)  # (float64 under x64, as JAX)
    pos = axis % (x.ndim + 1)
    lhs = jnp.expand_dims(x, pos)
    shape = [1] * x.ndim
    shape.insert(pos, int(num_classes))
    rhs = lax.broadcasted_iota(x.dtype, tuple(shape), pos)
    return (lhs == rhs).astype(dtype)


def identity(x):
    return jnp.asarray(x)


tanh = jnp.tanh


def mish(x):
    x = jnp.asarray(x)
    return x * jnp.tanh(softplus(x))


def squareplus(x, b=4):
    x = jnp.asarray(x)
    return (x + jnp.sqrt(jnp.square(x) + b)) / 2


def sparse_plus(x):
    x = jnp.asarray(x)
    return jnp.where(x <= -1.0, 0.0, jnp.where(x >= 1.0, x, (x + 1.0) ** 2 / 4))


def sparse_sigmoid(x):
    return 0.5 * jnp.clip(jnp.asarray(x) + 1.0, 0.0, 2.0)


def log1mexp(x):
    """log(1 - exp(-x)) for x > 0, by expm1 below log(2) and log1p above (both accurate)."""
    x = jnp.asarray(x)
    return jnp.where(x < np.log(2.0), jnp.log(-jnp.expm1(-x)), jnp.log1p(-jnp.exp(-x)))

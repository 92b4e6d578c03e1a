"""irjax.nn: common activation functions and normalisers, built from irjax.numpy."""

from __future__ import annotations

from . import numpy as jnp
from .api import stop_gradient


def relu(x):
    return jnp.maximum(x, 0)


def relu6(x):
    return jnp.minimum(jnp.maximum(x, 0), 6.0)


def sigmoid(x):
    from .core import bind
    from .numpy._util import promote

    (x,), _, weak = promote(x, to_float=True)
    return bind("logistic", x)


def softplus(x):
    return jnp.logaddexp(x, 0.0)


def silu(x):
    return x * sigmoid(x)


swish = silu


def gelu(x, approximate=True):
    if approximate:
        c = 0.7978845608028654  # sqrt(2/pi)
        return 0.5 * x * (1.0 + jnp.tanh(c * (x + 0.044715 * x * x * x)))
    from .core import bind

    return 0.5 * x * (1.0 + bind("erf", jnp.asarray(x) / 1.4142135623730951))


def elu(x, alpha=1.0):
    return jnp.where(x > 0, x, alpha * jnp.expm1(jnp.minimum(x, 0.0)))


def leaky_relu(x, negative_slope=0.01):
    return jnp.where(x >= 0, x, negative_slope * x)


def logsumexp(a, axis=None, keepdims=False):
    from .numpy.reductions import logsumexp as _lse

    return _lse(a, axis, keepdims)


def log_softmax(x, axis=-1):
    shifted = x - stop_gradient(jnp.max(x, axis, keepdims=True))
    return shifted - jnp.log(jnp.sum(jnp.exp(shifted), axis, keepdims=True))


def softmax(x, axis=-1):
    unnormalized = jnp.exp(x - stop_gradient(jnp.max(x, axis, keepdims=True)))
    return unnormalized / jnp.sum(unnormalized, axis, keepdims=True)


def one_hot(x, num_classes, dtype=jnp.float32, axis=-1):
    x = jnp.asarray(x)
    classes = jnp.arange(num_classes)
    return (jnp.expand_dims(x, axis) == classes.reshape((1,) * x.ndim + (num_classes,))).astype(dtype)


def standardize(x, axis=-1, mean=None, variance=None, epsilon=1e-5):
    if mean is None:
        mean = jnp.mean(x, axis, keepdims=True)
    if variance is None:
        variance = jnp.mean(jnp.square(x - mean), axis, keepdims=True)
    return (x - mean) * jnp.reciprocal(jnp.sqrt(variance + epsilon))

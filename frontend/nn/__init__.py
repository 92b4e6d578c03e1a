"""`irjax.nn`: activations and normalisers (`jax.nn`) and `irjax.nn.initializers`."""

from . import initializers  # noqa: F401
from .functions import (  # noqa: F401
    celu, elu, gelu, glu, hard_sigmoid, hard_silu, hard_swish, hard_tanh, leaky_relu,
    log_sigmoid, log_softmax, logsumexp, one_hot, relu, relu6, selu, sigmoid, silu,
    soft_sign, softmax, softplus, standardize, swish, identity, tanh, mish, squareplus,
    sparse_plus, sparse_sigmoid, log1mexp,
)

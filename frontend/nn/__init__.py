"""`irjax.nn`: activations and normalisers (`jax.nn`) and `irjax.nn.initializers`."""

from . import initializers  # noqa: F401
from .attention import dot_product_attention, logmeanexp  # noqa: F401
from .functions import (  # noqa: F401
    celu,
    elu,
    gelu,
    glu,
    hard_sigmoid,
    hard_silu,
    hard_swish,
    hard_tanh,
    identity,
    leaky_relu,
    log1mexp,
    log_sigmoid,
    log_softmax,
    logsumexp,
    mish,
    one_hot,
    relu,
    relu6,
    selu,
    sigmoid,
    silu,
    soft_sign,
    softmax,
    softplus,
    sparse_plus,
    sparse_sigmoid,
    squareplus,
    standardize,
    swish,
    tanh,
)
from .scaled import scaled_dot_general, scaled_matmul  # noqa: F401

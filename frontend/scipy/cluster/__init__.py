"""irjax.scipy.cluster (`jax.scipy.cluster`): vector quantisation."""

from . import vq  # noqa: F401

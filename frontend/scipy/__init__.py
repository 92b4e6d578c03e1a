"""irjax.scipy (`jax.scipy`): special functions, distributions and dense linear algebra."""

from . import cluster, fft, integrate, interpolate, linalg, ndimage, optimize, signal, special, stats  # noqa: F401

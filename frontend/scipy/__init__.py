"""irjax.scipy (`jax.scipy`): special functions, distributions and dense linear algebra."""

from . import cluster, fft, integrate, interpolate, linalg, ndimage, optimize, signal, sparse, spatial, special, stats  # noqa: F401

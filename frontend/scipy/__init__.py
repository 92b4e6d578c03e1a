"""irjax.scipy (`jax.scipy`): special functions, distributions and dense linear algebra."""

from . import linalg, special, stats  # noqa: F401
from . import fft, integrate, interpolate, ndimage, signal  # noqa: F401

"""irjax.scipy.spatial (`jax.scipy.spatial`): rotations and their interpolation."""

from . import transform  # noqa: F401

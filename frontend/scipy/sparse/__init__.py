"""irjax.scipy.sparse (`jax.scipy.sparse`): iterative solvers for linear operators."""

from . import linalg  # noqa: F401

"""irjax.scipy.optimize (`jax.scipy.optimize`): BFGS and L-BFGS minimization with a strong-Wolfe line search."""

from .line_search import line_search  # noqa: F401
from .minimize import OptimizeResults, minimize  # noqa: F401

__all__ = ["OptimizeResults", "minimize"]

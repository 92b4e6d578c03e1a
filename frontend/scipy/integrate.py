"""irjax.scipy.integrate (`jax.scipy.integrate`): the composite trapezoidal rule."""

from __future__ import annotations

from .. import numpy as jnp

__all__ = ["trapezoid"]


def trapezoid(y, x=None, dx=1.0, axis: int = -1):
    """Integral of y(x) along `axis` by the trapezoidal rule, as scipy.integrate.trapezoid."""
    return jnp.trapezoid(y, x=x, dx=dx, axis=axis)

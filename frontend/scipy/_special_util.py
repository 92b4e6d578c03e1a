"""Argument promotion and small numeric helpers shared by the irjax.scipy.special modules."""

from __future__ import annotations

import numpy as np

from .. import numpy as jnp
from ..numpy._util import asarray_any, promote


def inexact(*args):
    """Promote to one inexact dtype and shape (ints and bools become float32, as JAX's
    promote_args_inexact)."""
    out, _, _ = promote(*args, to_float=True)
    return out


def floating(name, x):
    """x as an array that must already be float32/float64 (JAX's ndtr family refuses others)."""
    x = asarray_any(x)
    if x.dtype not in (np.float32, np.float64):
        raise TypeError(f"{name}: x.dtype={x.dtype} is not supported, expected float32 or float64")
    return x


def const(x, v):
    return jnp.asarray(v, x.dtype)


def poly(coeffs, x):
    """Horner's rule, highest degree first."""
    out = jnp.full_like(x, coeffs[0])
    for c in coeffs[1:]:
        out = out * x + c
    return out


def eps(x) -> float:
    """Machine epsilon of x's dtype (the series' stopping scale)."""
    return float(np.finfo(x.dtype).eps)

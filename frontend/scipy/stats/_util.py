"""Shared argument handling for irjax.scipy.stats distributions."""

from __future__ import annotations

from ...numpy._util import promote


def promote_args_inexact(*args):
    """Broadcast to one shape and one inexact dtype (ints and bools become float32), as JAX."""
    out, _, _ = promote(*args, to_float=True)
    return out


def standardized(x, loc, scale):
    """(x - loc) / scale after promotion: the location-scale family's standard variable."""
    x, loc, scale = promote_args_inexact(x, loc, scale)
    return (x - loc) / scale


def from_standard(z, loc, scale):
    """z * scale + loc after promotion: a standard quantile moved to the family member."""
    z, loc, scale = promote_args_inexact(z, loc, scale)
    return z * scale + loc

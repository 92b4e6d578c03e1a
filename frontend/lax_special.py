"""irjax.lax special functions, reusing the math in irjax.scipy.special (not duplicated here).

lax's versions take floating arrays of one dtype (no promotion), as JAX's."""

from __future__ import annotations

import numpy as np

from .numpy._util import asarray_any
from .scipy import special_beta, special_zeta
from .scipy.special import _igamma_grad_a, erfc, gammainc, gammaincc, i0e, i1e

__all__ = [
    "bessel_i0e",
    "bessel_i1e",
    "betainc",
    "erfc",
    "igamma",
    "igamma_grad_a",
    "igammac",
    "polygamma",
    "zeta",
]

igamma, igammac = gammainc, gammaincc  # JAX's lax names for P(a, x) and Q(a, x)
bessel_i0e, bessel_i1e = i0e, i1e


def _floating_same(name: str, *args):
    """lax's operand rule: every argument floating, all of one dtype, shapes equal or scalar."""
    arrs = [asarray_any(a) for a in args]
    for i, a in enumerate(arrs):
        if not np.issubdtype(a.dtype, np.floating):
            raise TypeError(
                f"{name} does not accept dtype {a.dtype.name} at position {i}. "
                f"Accepted dtypes at position {i} are subtypes of floating."
            )
    dts = {a.dtype for a in arrs}
    if len(dts) > 1:
        raise TypeError(f"{name} requires arguments to have the same dtypes, got {', '.join(d.name for d in dts)}.")
    shapes = {a.shape for a in arrs if a.shape != ()}
    if len(shapes) > 1:
        raise TypeError(f"{name} got incompatible shapes for broadcasting: {', '.join(map(str, shapes))}.")
    return arrs


def zeta(x, q):
    """Hurwitz zeta ζ(x, q)."""
    x, q = _floating_same("zeta", x, q)
    return special_zeta.zeta(x, q)


def polygamma(m, x):
    """ψ^(m)(x); m must hold non-negative integers (nan elsewhere)."""
    m, x = _floating_same("polygamma", m, x)
    return special_zeta._polygamma(m, x)


def betainc(a, b, x):
    """Regularized incomplete beta I_x(a, b)."""
    a, b, x = _floating_same("regularized_incomplete_beta", a, b, x)
    return special_beta.betainc(a, b, x)


def igamma_grad_a(a, x):
    """∂P(a, x)/∂a."""
    a, x = _floating_same("igamma_grad_a", a, x)
    return _igamma_grad_a(a, x)

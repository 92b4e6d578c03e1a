"""irjax.lax special functions, reusing the math in irjax.scipy.special (not duplicated here).

lax.polygamma, lax.zeta and lax.betainc are not provided: irjax.scipy.special has no such math yet.
"""

from __future__ import annotations

from .scipy.special import erfc, gammainc, gammaincc, i0e, i1e

__all__ = ["bessel_i0e", "bessel_i1e", "erfc", "igamma", "igammac"]

igamma, igammac = gammainc, gammaincc  # JAX's lax names for P(a, x) and Q(a, x)
bessel_i0e, bessel_i1e = i0e, i1e

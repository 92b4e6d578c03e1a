"""jnp.roots (Aberth-Ehrlich iteration: irjax has no nonsymmetric eig) and jnp.sort_complex.

Roots come out in the iteration's order, not LAPACK's eigenvalue order (JAX's and NumPy's);
sort_complex(roots(p)) compares across the three.
"""

from __future__ import annotations

import math

import numpy as np
from irjax import dtypes
from irjax.control_flow import fori_loop
from irjax.core import Tracer
from irjax.errors import ConcretizationTypeError

from ._util import asarray_any, convert
from .creation import arange, eye
from .indexing import where
from .reductions import all, argmin, max, sum
from .sorting import argsort, sort
from .ufuncs import abs

__all__ = ["roots", "sort_complex"]

_ITERATIONS = 80  # Aberth converges cubically; 80 also covers slow starts and double roots


def _complex_of(dtype) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype.kind == "c":
        return dtype
    return dtypes.canonicalize_dtype(np.complex128 if dtype == np.float64 else np.complex64)


def sort_complex(a):
    """Sort along the last axis, real part first then imaginary (as jnp.sort_complex); complex result."""
    a = sort(asarray_any(a), axis=-1)
    return convert(a, _complex_of(a.dtype))


def _roots_no_zeros(p):
    n = p.shape[0] - 1
    a = p / p[0]  # monic
    scale = 1.0 + max(abs(a[1:]))  # Cauchy's bound on |root|
    angles = np.array(2 * np.pi * np.arange(n) / n + 0.4, np.float64)
    start = np.exp(1j * angles)
    z0 = convert(asarray_any(start), p.dtype) * scale
    off = ~eye(n, dtype=bool)

    def step(_, z):
        val, der = a[0] * 0 + 1, z * 0
        for c in range(1, n + 1):  # Horner for p(z) and p'(z) together
            der = der * z + val
            val = val * z + a[c]
        w = where(der == 0, 0, val / where(der == 0, 1, der))
        diff = z[:, None] - z[None, :]
        inv = where(off & (diff != 0), 1 / where(diff == 0, 1, diff), 0)
        s = sum(inv, axis=1)
        return z - where(w == 0, 0, w / (1 - w * s))

    return fori_loop(0, _ITERATIONS, step, z0)


def roots(p, *, strip_zeros: bool = True):
    """Roots of the polynomial with coefficients p (highest degree first), as jnp.roots.

    strip_zeros=True drops leading zeros (needs a concrete p); under jit pass
    strip_zeros=False, and leading zeros give NaN roots (as JAX).
    """
    p = asarray_any(p)
    if p.ndim == 0:
        p = p.reshape(1)
    if p.ndim != 1:
        raise ValueError("Input must be a rank-1 array.")
    if not dtypes.issubdtype(p.dtype, np.inexact):
        p = convert(p, dtypes.canonicalize_dtype(np.float64))
    p = convert(p, _complex_of(p.dtype))
    if p.shape[0] < 2:
        return asarray_any(np.zeros(0, p.dtype))
    if strip_zeros:
        if isinstance(p, Tracer):
            raise ConcretizationTypeError(
                p,
                "The error occurred in the jnp.roots() function. To use this within a JIT-compiled context, "
                "pass strip_zeros=False, but be aware that leading zeros will result in some returned roots "
                "being set to NaN.",
            )
        host = np.asarray(p)
        nz = np.flatnonzero(host)
        lead = int(nz[0]) if nz.size else host.shape[0]
        p = p[lead:]
        if p.shape[0] < 2:
            return asarray_any(np.zeros(0, p.dtype))
        return _roots_no_zeros(p)
    n = p.shape[0]
    is_zero = p == 0
    lead = where(all(is_zero), n, argmin(is_zero))
    shifted = p[(arange(n) + lead) % n]  # roll the leading zeros to the end: they become zero roots
    r = _roots_no_zeros(shifted)
    # the `lead` extra roots are zeros: NaN the `lead` smallest in magnitude (a true zero root
    # of p is the same number, so which of equal zeros is dropped does not matter)
    rank = argsort(argsort(abs(r)))
    nan = asarray_any(np.array(complex(math.nan, math.nan), p.dtype))
    return where(rank < lead, nan, r)

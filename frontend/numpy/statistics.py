"""Order statistics and correlations: median, quantile, percentile, cov, corrcoef.

quantile sorts along the axis and interpolates between neighbouring order statistics with
NumPy's methods (linear, lower, higher, midpoint, nearest). With ignore_nan (nanquantile),
NaNs sort last and each slice uses its own count of valid values.
"""

from __future__ import annotations

import numpy as np
from irjax import dtypes, lax

from . import reductions as r
from ._util import asarray_any, canonical_axis, convert
from .indexing import take, take_along_axis, where
from .products import dot
from .reductions import mean
from .shape import atleast_2d, broadcast_to, concatenate, diagonal, expand_dims, moveaxis, reshape
from .sorting import sort
from .ufuncs import ceil, clip, floor, isnan, sqrt


def median(a, axis=None, keepdims=False):
    a = asarray_any(a)
    if axis is None:
        a, axis = a.reshape((a.size,)), 0
    ax = canonical_axis(axis, a.ndim)
    s = lax.sort(a, dimension=ax)  # stable, as jnp.sort
    n = a.shape[ax]

    lo = take(s, (n - 1) // 2, axis=ax, mode="clip")
    hi = take(s, n // 2, axis=ax, mode="clip")
    ft = a.dtype if dtypes.kind(a.dtype) in "fc" else dtypes.default_float
    out = (convert(lo, ft) + convert(hi, ft)) / np.asarray(2, ft)
    return expand_dims(out, ax) if keepdims else out


_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(a, q, axis, method, keepdims, ignore_nan=False):
    if method not in _METHODS:
        raise ValueError(f"method must be one of {list(_METHODS)}, got {method!r}")
    a = asarray_any(a)
    if a.dtype.kind not in "fc":
        a = convert(a, dtypes.default_float)
    q = asarray_any(q)
    if q.ndim > 1:
        raise ValueError(f"q must be a scalar or 1-d, got shape {q.shape}")
    q = convert(q, a.dtype)
    in_shape = a.shape
    if axis is None:
        a, ax = reshape(a, (a.size,)), 0
    else:
        ax = canonical_axis(axis, a.ndim)
    a = moveaxis(a, ax, -1)  # (..., n)
    s = sort(a, -1)
    n = a.shape[-1]
    if ignore_nan:
        valid = r.sum(~isnan(a), -1, keepdims=True)  # (..., 1)
        last = convert(valid, a.dtype) - 1.0
    else:
        last = np.asarray(n - 1, a.dtype)
    lead = q.shape  # () or (nq,): quantiles first in the result, as NumPy
    pos = q.reshape(lead + (1,) * a.ndim) * last
    pos = broadcast_to(pos, lead + a.shape[:-1] + (1,))
    lo_pos = clip(floor(pos), 0, n - 1)
    hi_pos = clip(ceil(pos), 0, n - 1)
    if method == "lower":
        hi_pos = lo_pos
    elif method == "higher":
        lo_pos = hi_pos
    elif method == "nearest":
        # the upper neighbour only past the midpoint, as JAX (NumPy rounds half to even)
        lo_pos = hi_pos = where(pos - lo_pos > 0.5, hi_pos, lo_pos)
    src = broadcast_to(s, lead + s.shape)

    def at(p):
        return take_along_axis(src, convert(p, np.dtype(np.int32)), axis=-1)

    lo, hi = at(lo_pos), at(hi_pos)
    if method == "linear":
        frac = pos - lo_pos
        out = lo + (hi - lo) * frac
    elif method == "midpoint":
        out = (lo + hi) * 0.5
    else:
        out = lo
    out = out[..., 0]  # drop the kept axis: (q..., ...)
    if ignore_nan:
        out = where(broadcast_to(valid[..., 0], out.shape) == 0, np.asarray(np.nan, out.dtype), out)
    if keepdims:
        if axis is None:
            out = reshape(out, out.shape[: q.ndim] + (1,) * len(in_shape))
        else:
            out = expand_dims(out, q.ndim + ax)
    return out


def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False):
    return _quantile(a, q, axis, method, keepdims)


def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False):
    return _quantile(a, asarray_any(q) / 100.0, axis, method, keepdims)


def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None):
    """Covariance of the rows (variables) of m, as numpy.cov (no frequency/analytic weights)."""
    if fweights is not None or aweights is not None:
        raise NotImplementedError("cov: fweights and aweights are not supported")
    x = atleast_2d(asarray_any(m))
    if x.dtype.kind not in "fc":
        x = convert(x, dtypes.default_float)
    if not rowvar and x.shape[0] != 1:
        x = x.T
    if y is not None:
        yy = atleast_2d(asarray_any(y))
        if not rowvar and yy.shape[0] != 1:
            yy = yy.T
        x = concatenate([x, convert(yy, x.dtype)], axis=0)
    if ddof is None:
        ddof = 0 if bias else 1
    n = x.shape[1]
    xc = x - mean(x, axis=1, keepdims=True)
    c = dot(xc, xc.T) / np.asarray(n - ddof, x.dtype)
    return c[0, 0] if c.shape == (1, 1) else c


def corrcoef(x, y=None, rowvar=True):
    c = cov(x, y, rowvar)
    if c.ndim == 0:
        return c / c
    d = sqrt(diagonal(c))
    c = c / d[:, None] / d[None, :]
    return clip(c, -1.0, 1.0)

"""Order statistics and correlations: median, quantile, percentile, cov, corrcoef.

quantile sorts along the axes (several are flattened into one) and interpolates between
neighbouring order statistics with the methods JAX takes (linear, lower, higher, midpoint, nearest,
inverted_cdf; weights with inverted_cdf only). A NaN in a slice makes its quantiles NaN; with
ignore_nan (nanquantile) NaNs sort last and each slice uses its own count of valid values.
"""

from __future__ import annotations

import math

import numpy as np
from irjax import dtypes, lax

from . import reductions as r
from ._util import asarray_any, canonical_axes, canonical_axis, convert
from .indexing import take_along_axis, where
from .products import dot
from .reductions import cumsum, mean
from .shape import atleast_2d, broadcast_to, concatenate, diagonal, expand_dims, reshape
from .sorting import argsort, sort
from .ufuncs import ceil, clip, conj, floor, isnan, sqrt


def median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    return _quantile(a, 0.5, axis, "midpoint", keepdims)


_METHODS = ("linear", "lower", "higher", "midpoint", "nearest", "inverted_cdf")


def _to_last_axis(a, axis):
    """(a with the reduced axes flattened into its last, the axes): axis None, an int or a tuple."""
    axes = canonical_axes(axis, a.ndim)
    rest = [i for i in range(a.ndim) if i not in axes]
    a = lax.transpose(a, tuple(rest + list(axes))) if axes != tuple(range(a.ndim - len(axes), a.ndim)) else a
    return reshape(a, tuple(a.shape[: len(rest)]) + (math.prod(a.shape[len(rest) :]),)), axes


def _quantile(a, q, axis, method, keepdims, ignore_nan=False, weights=None):
    """Quantiles of `a` over `axis` (None, an int or a tuple), as jnp.quantile: NaN where a slice
    holds a NaN (ignore_nan: NaNs are left out, an all-NaN slice gives NaN)."""
    if method not in _METHODS:
        raise ValueError(f"method must be one of {list(_METHODS)}, got {method!r}")
    a = asarray_any(a)
    if a.dtype.kind == "c":
        raise ValueError("quantile does not support complex input, as the operation is poorly defined.")
    if a.dtype.kind != "f":
        a = convert(a, dtypes.default_float)
    q = asarray_any(q)
    if q.ndim > 1:
        raise ValueError(f"q must be a scalar or 1-d, got shape {q.shape}")
    q = convert(q, a.dtype)
    in_shape = a.shape
    if weights is not None:
        if method != "inverted_cdf":
            raise ValueError(f"{method} doesn't support weights. Only method 'inverted_cdf' supports weights.")
        w = convert(asarray_any(weights), a.dtype)
        if w.shape != a.shape:
            if axis is None or not isinstance(axis, (int, np.integer)) or w.shape != (a.shape[axis],):
                raise ValueError(
                    f"weights of shape {w.shape} must have the shape of a {a.shape}, or be 1-d with the "
                    "length of the one axis reduced"
                )
            w = expand_dims(w, tuple(i for i in range(a.ndim) if i != canonical_axis(axis, a.ndim)))
            w = broadcast_to(w, a.shape)
        w, _ = _to_last_axis(w, axis)
    a, axes = _to_last_axis(a, axis)  # (..., n)
    nan = isnan(a)
    lead = q.shape  # () or (nq,): quantiles first in the result, as NumPy
    if weights is not None:
        out = _weighted_inverted_cdf(a, w, q, nan if ignore_nan else None)
    else:
        out = _unweighted(a, q, method, ignore_nan, nan)
    if ignore_nan:
        none = r.all(nan, -1) if weights is None else r.all(nan | (w == 0), -1)
        out = where(broadcast_to(none, out.shape), np.asarray(np.nan, out.dtype), out)
    else:  # a NaN anywhere in the slice makes its quantiles NaN (as NumPy and JAX)
        out = where(broadcast_to(r.any(nan, -1), out.shape), np.asarray(np.nan, out.dtype), out)
    if keepdims:
        kept = tuple(1 if i in axes else d for i, d in enumerate(in_shape))
        out = reshape(out, lead + kept)
    return out


def _unweighted(a, q, method, ignore_nan, nan):
    """(q..., ...) quantiles of the last axis of a; NaNs sort last."""
    s = sort(a, -1)
    n = a.shape[-1]
    lead = q.shape
    if ignore_nan:
        count = convert(r.sum(~nan, -1, keepdims=True), a.dtype)  # (..., 1)
    else:
        count = np.asarray(n, a.dtype)
    qq = q.reshape(lead + (1,) * a.ndim)
    if method == "inverted_cdf":  # the smallest x with CDF(x) >= q
        lo_pos = hi_pos = ceil(qq * count) - 1.0
        pos = lo_pos
    else:
        pos = qq * (count - 1.0)
        lo_pos, hi_pos = floor(pos), ceil(pos)
    pos = broadcast_to(pos, lead + a.shape[:-1] + (1,))
    lo_pos = clip(broadcast_to(lo_pos, pos.shape), 0, n - 1)
    hi_pos = clip(broadcast_to(hi_pos, pos.shape), 0, n - 1)
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
        out = lo + (hi - lo) * (pos - lo_pos)
    elif method == "midpoint":
        out = (lo + hi) * 0.5
    else:
        out = lo
    return out[..., 0]  # drop the kept axis: (q..., ...)


def _weighted_inverted_cdf(a, w, q, nan):
    """(q..., ...) weighted inverted-CDF quantiles of the last axis of a: the first value, in sorted
    order, whose cumulative weight reaches q times the slice's total (NaNs weigh 0 when given)."""
    if nan is not None:
        w = where(nan, np.asarray(0, w.dtype), w)
    order = argsort(a, -1)
    s = take_along_axis(a, order, -1)
    cw = cumsum(take_along_axis(w, order, -1), -1)  # (..., n)
    lead = q.shape
    target = q.reshape(lead + (1,) * a.ndim) * cw[..., -1:]  # (q..., ..., 1)
    idx = r.sum(broadcast_to(cw, lead + cw.shape) < target, -1, keepdims=True)
    idx = clip(idx, 0, a.shape[-1] - 1)
    return take_along_axis(broadcast_to(s, lead + s.shape), convert(idx, np.dtype(np.int32)), axis=-1)[..., 0]


def quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *, weights=None):
    return _quantile(a, q, axis, method, keepdims, weights=weights)


def percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *, weights=None):
    return _quantile(a, asarray_any(q) / 100.0, axis, method, keepdims, weights=weights)


def cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, dtype=None):
    """Covariance of the rows (variables) of m, as numpy.cov: integer frequency weights and
    analytic weights per observation."""
    x = atleast_2d(asarray_any(m))
    if dtype is not None:
        x = convert(x, dtypes.canonicalize_dtype(dtype))
    elif x.dtype.kind not in "fc":
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
    real_dt = np.dtype(x.dtype.char.lower()) if x.dtype.kind == "c" else x.dtype
    w = None
    for weights, what in ((fweights, "fweights"), (aweights, "aweights")):
        if weights is None:
            continue
        weights = asarray_any(weights)
        if weights.ndim != 1 or weights.shape[0] != n:
            raise ValueError(
                f"cov: {what} must be 1-d with one weight per observation ({n}), got shape {weights.shape}"
            )
        if what == "fweights" and weights.dtype.kind not in "iub":
            raise TypeError(f"cov: fweights must be integers, got {weights.dtype}")
        weights = convert(weights, real_dt)
        w = weights if w is None else w * weights
    if w is None:
        xc = x - mean(x, axis=1, keepdims=True)
        fact = np.asarray(n - ddof, real_dt)
        c = dot(xc, conj(xc.T)) / fact
    else:
        w_sum = r.sum(w)
        xc = x - r.sum(x * w, axis=1, keepdims=True) / w_sum
        if ddof == 0:
            fact = w_sum
        elif aweights is None:
            fact = w_sum - ddof
        else:
            fact = w_sum - ddof * r.sum(w * convert(asarray_any(aweights), real_dt)) / w_sum
        c = dot(xc, conj((xc * w).T)) / fact
    return c[0, 0] if c.shape == (1, 1) else c


def corrcoef(x, y=None, rowvar=True, dtype=None):
    c = cov(x, y, rowvar, dtype=dtype)
    if c.ndim == 0:
        return c / c
    d = sqrt(diagonal(c))
    c = c / d[:, None] / d[None, :]
    return clip(c, -1.0, 1.0)

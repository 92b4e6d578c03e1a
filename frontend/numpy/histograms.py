"""Counting and binning: bincount, digitize, histogram, histogram_bin_edges, histogram2d,
histogramdd, interp (bin counts are static: an int `bins`, or edges of a static length)."""

from __future__ import annotations

import numpy as np
from irjax import dtypes
from irjax.core import Tracer
from irjax.errors import ConcretizationTypeError

from ._util import asarray_any
from .creation import linspace, zeros
from .indexing import take, where
from .reductions import max as _max
from .reductions import min as _min
from .reductions import sum as _sum
from .shape import concatenate, diff, reshape, stack
from .sorting import argsort, searchsorted
from .ufuncs import abs as _abs
from .ufuncs import clip, equal, remainder


def bincount(x, weights=None, minlength: int = 0, *, length: int | None = None, out_sharding=None):
    """Counts of each value of a non-negative int array; negative values count as 0 (as in JAX)."""
    x = asarray_any(x)
    if not dtypes.issubdtype(x.dtype, np.integer):
        raise TypeError(f"x argument to bincount must have an integer type; got {x.dtype}")
    if x.ndim != 1:
        raise ValueError(f"only 1-dimensional input supported for bincount, got shape {x.shape}")
    if length is None:
        if isinstance(x, Tracer):
            raise ConcretizationTypeError(
                "The error occurred because of argument 'length' of jnp.bincount: it must be given "
                "(static) when x is traced, as the result's shape depends on x's values."
            )
        host = np.asarray(x)
        length = max(int(minlength), int(host.max()) + 1 if host.size else 0)
    length = int(length)
    if weights is None:
        w, dt = 1, dtypes.default_int
    else:
        w = asarray_any(weights)
        dt = w.dtype
    idx = clip(x, 0, None)
    return zeros((length,), dt).at[idx].add(w, mode="drop")


def digitize(x, bins, right: bool = False, *, method: str | None = None):
    """Index of the bin each x falls in; bins must be monotonic (increasing or decreasing)."""
    x, bins = asarray_any(x), asarray_any(bins)
    if bins.ndim != 1:
        raise ValueError(f"digitize: bins must be a 1-dimensional array; got bins={bins}")
    if bins.shape[0] == 0:
        return zeros(x.shape, dtypes.default_int)
    side = "left" if right else "right"
    up = searchsorted(bins, x, side=side)
    n = bins.shape[0]
    rev = bins[::-1]
    down = n - searchsorted(rev, x, side="left" if right else "right")
    return where(bins[-1] >= bins[0], up, down).astype(dtypes.default_int)


def _inexact(a):
    if dtypes.issubdtype(a.dtype, np.inexact):
        return a
    return a.astype(dtypes.default_float)


def histogram_bin_edges(a, bins=10, range=None, weights=None):  # noqa: A002
    a = asarray_any(a)
    if not isinstance(bins, (int, np.integer)):
        b = asarray_any(bins)
        if b.ndim != 1:
            raise ValueError(f"histogram_bin_edges: bins must be an int or a 1-d array, got shape {b.shape}")
        return b
    if int(bins) < 1:
        raise ValueError(f"`bins` must be positive, when an integer; got {bins}")
    af = _inexact(a).ravel()
    if range is None:
        lo, hi = (_min(af), _max(af)) if af.shape[0] else (0.0, 1.0)
    else:
        lo, hi = range
    lo, hi = asarray_any(lo).astype(af.dtype), asarray_any(hi).astype(af.dtype)
    # an empty range widens to +-0.5, as NumPy does
    same = equal(lo, hi)
    lo, hi = where(same, lo - 0.5, lo), where(same, hi + 0.5, hi)
    return linspace(lo, hi, int(bins) + 1, dtype=af.dtype)


def _bin_index(a, edges):
    """Bin number in 1..n for values inside [edges[0], edges[-1]] (the last edge belongs to
    the last bin), 0 below and n+1 above."""
    n = edges.shape[0] - 1
    i = searchsorted(edges, a, side="right")
    return where(equal(a, edges[-1]), n, i)


def histogram(a, bins=10, range=None, weights=None, density: bool | None = None):  # noqa: A002
    a = _inexact(asarray_any(a)).ravel()
    edges = _inexact(histogram_bin_edges(a, bins, range))
    n = edges.shape[0] - 1
    w = None if weights is None else asarray_any(weights).ravel()
    if w is not None and w.shape != a.shape:
        raise ValueError(f"weights should have the same shape as a; got {w.shape} and {a.shape}")
    ones = w if w is not None else (a * 0 + 1)
    counts = zeros((n + 2,), ones.dtype).at[_bin_index(a, edges)].add(ones)[1:-1]
    if density:
        counts = counts / (diff(edges) * _sum(counts))
    return counts, edges


def histogramdd(sample, bins=10, range=None, weights=None, density: bool | None = None):  # noqa: A002
    sample = _inexact(asarray_any(sample))
    if sample.ndim != 2:
        raise ValueError(f"histogramdd: sample must be 2-d (N, D), got shape {sample.shape}")
    d = sample.shape[1]
    bins_per = list(bins) if isinstance(bins, (list, tuple)) else [bins] * d
    ranges = list(range) if range is not None else [None] * d
    if len(bins_per) != d or len(ranges) != d:
        raise ValueError(f"histogramdd: need one bins entry and one range per dimension ({d})")
    edges = [_inexact(histogram_bin_edges(sample[:, k], bins_per[k], ranges[k])) for k in np.arange(d)]
    sizes = [e.shape[0] + 1 for e in edges]  # bins plus the two outside slots
    flat = zeros(sample.shape[:1], dtypes.default_int)
    for k in np.arange(d):
        flat = flat * sizes[k] + _bin_index(sample[:, k], edges[k])
    # JAX counts in ints here when unweighted (histogram() counts in floats)
    w = asarray_any(weights).ravel() if weights is not None else zeros(sample.shape[:1], dtypes.default_int) + 1
    counts = zeros((int(np.prod(sizes)),), w.dtype).at[flat].add(w)
    counts = reshape(counts, sizes)[tuple(slice(1, -1) for _ in sizes)]
    if density:
        vol = 1.0
        for k in np.arange(d):
            shp = [1] * d
            shp[k] = -1
            vol = vol * reshape(diff(edges[k]), shp)
        counts = counts / (vol * _sum(counts))
    return counts, edges


def histogram2d(x, y, bins=10, range=None, weights=None, density: bool | None = None):  # noqa: A002
    x, y = asarray_any(x), asarray_any(y)
    sample = stack([_inexact(x), _inexact(y)], axis=1)
    if isinstance(bins, (list, tuple)) and len(bins) == 2:
        b = list(bins)
    elif isinstance(bins, (int, np.integer)) or asarray_any(bins).ndim == 1:
        b = [bins, bins]
    else:
        b = bins
    counts, (ex, ey) = histogramdd(sample, b, range, weights, density)
    return counts, ex, ey


def interp(x, xp, fp, left=None, right=None, period=None):
    """Piecewise-linear interpolation of (xp, fp) at x; xp increasing (or periodic)."""
    x, xp, fp = asarray_any(x), asarray_any(xp), asarray_any(fp)
    if xp.ndim != 1 or fp.ndim != 1 or xp.shape != fp.shape or xp.shape[0] == 0:
        raise ValueError("xp and fp must be one-dimensional arrays of equal, non-zero size")
    dt = dtypes.result_type(x, xp, fp, dtypes.default_float)
    if not dtypes.issubdtype(dt, np.inexact):
        dt = dtypes.default_float
    x, xp, fp = x.astype(dt), xp.astype(dt), fp.astype(dt)
    if period is not None:
        if left is not None or right is not None:
            raise ValueError("left and right are not allowed together with period")
        per = _abs(asarray_any(period).astype(dt))
        x = remainder(x, per)
        xp = remainder(xp, per)
        order = argsort(xp)
        xp, fp = take(xp, order), take(fp, order)
        xp = concatenate([xp[-1:] - per, xp, xp[:1] + per])
        fp = concatenate([fp[-1:], fp, fp[:1]])
    n = xp.shape[0]
    i = clip(searchsorted(xp, x, side="right"), 1, max(n - 1, 1))
    if n == 1:
        out = x * 0 + fp[0]
    else:
        x0, x1, f0, f1 = take(xp, i - 1), take(xp, i), take(fp, i - 1), take(fp, i)
        dx = x1 - x0
        safe = where(dx == 0, 1, dx)
        out = where(dx == 0, f0, f0 + (x - x0) * ((f1 - f0) / safe))
    if period is None:
        lv = fp[0] if left is None else asarray_any(left).astype(dt)
        rv = fp[-1] if right is None else asarray_any(right).astype(dt)
        out = where(x < xp[0], lv, out)
        out = where(x > xp[-1], rv, out)
    return out

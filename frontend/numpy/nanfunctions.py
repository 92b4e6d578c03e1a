"""NaN-ignoring reductions: nansum, nanmean, nanvar, nanstd, nanmax, nanmin, nanargmax,
nanargmin, nanprod, nancumsum, nancumprod, nanmedian, nanquantile, nanpercentile.

Each replaces NaNs with the reduction's identity (or masks them) and reduces, so it works
eagerly and under jit / grad / vmap. As in JAX, an all-NaN slice gives NaN for nanmax /
nanmin / nanmean and -1 for nanargmax / nanargmin.
"""

from __future__ import annotations

import numpy as np

from . import reductions as _r
from ._util import asarray_any
from .indexing import where as _where
from .statistics import _quantile
from .ufuncs import (
    imag,
    isnan,  # (reductions take a `where=` argument)
    real,
    sqrt,
)


def _float_like(a):
    return a.dtype.kind in "fc"


def _fill(a, value):
    """a with NaNs replaced by `value` (integers and bools have no NaNs)."""
    a = asarray_any(a)
    return _where(isnan(a), np.asarray(value, a.dtype), a) if _float_like(a) else a


def nansum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    return _r.sum(_fill(a, 0), axis, dtype, keepdims=keepdims, initial=initial, where=where)


def nanprod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None):
    return _r.prod(_fill(a, 1), axis, dtype, keepdims=keepdims, initial=initial, where=where)


def _n_valid(a, where, axis, keepdims):
    """How many elements are not NaN (and selected by `where`)."""
    valid = ~isnan(a)
    if where is not None:
        valid = valid & where
    return _r.sum(valid, axis, keepdims=keepdims)


def nanmean(a, axis=None, dtype=None, out=None, keepdims=False, where=None):
    a = asarray_any(a)
    if not _float_like(a):
        return _r.mean(a, axis, dtype, keepdims=keepdims, where=where)
    total = nansum(a, axis, dtype, keepdims=keepdims, where=where)
    n = _n_valid(a, where, axis, keepdims)
    return total / n.astype(total.dtype)  # 0/0: NaN for an all-NaN slice


def nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None, correction=None, *, mean=None):
    a = asarray_any(a)
    if correction is not None:
        ddof = correction
    if not _float_like(a):
        return _r.var(a, axis, dtype, ddof=ddof, keepdims=keepdims, where=where, mean=mean)
    mu = nanmean(a, axis, dtype, keepdims=True, where=where) if mean is None else mean
    d = _fill(a - mu, 0)
    if where is not None:
        d = _where(where, d, np.asarray(0, d.dtype))
    if d.dtype.kind == "c":  # |d|^2: a real variance, as JAX's
        ss = _r.sum(real(d) * real(d) + imag(d) * imag(d), axis, keepdims=keepdims)
    else:
        ss = _r.sum(d * d, axis, dtype, keepdims=keepdims)
    dof = _n_valid(a, where, axis, keepdims).astype(ss.dtype) - ddof
    return _where(dof > 0, ss / dof, np.asarray(np.nan, ss.dtype))  # NaN without degrees of freedom


def nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None, correction=None, *, mean=None):
    return sqrt(nanvar(a, axis, dtype, ddof=ddof, keepdims=keepdims, where=where, correction=correction, mean=mean))


def _nan_extreme(fn, fill, a, axis, keepdims, initial, where):
    a = asarray_any(a)
    if not _float_like(a):
        return fn(a, axis, keepdims=keepdims, initial=initial, where=where)
    out = fn(_fill(a, fill), axis, keepdims=keepdims, initial=initial, where=where)
    all_nan = _r.all(isnan(a), axis, keepdims=keepdims, where=where)
    return _where(all_nan, np.asarray(np.nan, out.dtype), out) if initial is None else out


def nanmax(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    return _nan_extreme(_r.max, -np.inf, a, axis, keepdims, initial, where)


def nanmin(a, axis=None, out=None, keepdims=False, initial=None, where=None):
    return _nan_extreme(_r.min, np.inf, a, axis, keepdims, initial, where)


def _nan_arg(fn, fill, a, axis, keepdims):
    a = asarray_any(a)
    if not _float_like(a):
        return fn(a, axis, keepdims=keepdims)
    idx = fn(_fill(a, fill), axis, keepdims=keepdims)
    all_nan = _r.all(isnan(a), axis, keepdims=keepdims)
    return _where(all_nan, np.asarray(-1, idx.dtype), idx)


def nanargmax(a, axis=None, out=None, keepdims=None):
    return _nan_arg(_r.argmax, -np.inf, a, axis, bool(keepdims))


def nanargmin(a, axis=None, out=None, keepdims=None):
    return _nan_arg(_r.argmin, np.inf, a, axis, bool(keepdims))


def nancumsum(a, axis=None, dtype=None, out=None):
    return _r.cumsum(_fill(a, 0), axis, dtype)


def nancumprod(a, axis=None, dtype=None, out=None):
    return _r.cumprod(_fill(a, 1), axis, dtype)


def nanquantile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *, weights=None):
    return _quantile(a, q, axis, method, keepdims, ignore_nan=True, weights=weights)


def nanpercentile(a, q, axis=None, out=None, overwrite_input=False, method="linear", keepdims=False, *, weights=None):
    return _quantile(a, asarray_any(q) / 100.0, axis, method, keepdims, ignore_nan=True, weights=weights)


def nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    return nanquantile(a, 0.5, axis, method="midpoint", keepdims=keepdims)

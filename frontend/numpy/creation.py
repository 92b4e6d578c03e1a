"""Array creation: array, asarray, zeros, ones, full, *_like, arange, linspace, eye, identity."""

from __future__ import annotations

import numpy as np
from irjax import dtypes
from irjax import lax as _lax  # (as _lax: this module is star-exported)
from irjax.array import from_numpy as _from_numpy
from irjax.core import Tracer
from irjax.errors import ConcretizationTypeError as _ConcretizationTypeError
from irjax.operands import _like, array, asarray, concatenate, full, full_like, moveaxis, zeros_like  # noqa: F401  (moved below lax)

from ._util import asarray_any, broadcast_to, convert
from .ufuncs import _where, exp, log, power, sign
from .ufuncs import abs as _abs


def _dt(dtype, default=None, name="zeros"):
    if dtype is None:
        return dtypes.canonicalize_dtype(default if default is not None else dtypes.default_float)
    return dtypes.check_user_dtype(dtype, name)


def zeros(shape, dtype=None):
    return full(shape, 0, _dt(dtype))


def ones(shape, dtype=None):
    return full(shape, 1, _dt(dtype, name="ones"))


def empty(shape, dtype=None):
    return zeros(shape, dtype)


def ones_like(a, dtype=None, shape=None):
    return _like(a, 1, dtype, shape)


def empty_like(prototype, dtype=None, shape=None):
    return _like(prototype, 0, dtype, shape)


def arange(start, stop=None, step=None, dtype=None):
    for v in (start, stop, step):
        if isinstance(v, Tracer):
            raise _ConcretizationTypeError(v, "It arose in the jnp.arange argument; arange needs concrete bounds.")
    if stop is None:
        start, stop = 0, start
    step = 1 if step is None else step
    vals = [np.asarray(v) for v in (start, stop, step)]
    if dtype is None:
        dt = dtypes.canonicalize_dtype(np.result_type(*[v.dtype for v in vals]))
    else:
        dt = dtypes.check_user_dtype(dtype, "arange")
    n = max(int(np.ceil((float(stop) - float(start)) / float(step))), 0)
    if dt.kind in "iu" and all(np.asarray(v).dtype.kind in "iu" for v in vals):
        out = _lax.iota(dt, n) if n else zeros((0,), dt)
        if step != 1:
            out = out * np.asarray(step, dt)
        if start != 0:
            out = out + np.asarray(start, dt)
        return out

    return _from_numpy(np.arange(start, stop, step).astype(dt))


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    num = int(num)
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    dt = _dt(dtype, dtypes.result_type(start, stop, float))
    compute = dt if dt.kind in "fc" else dtypes.default_float
    start_a, stop_a = asarray_any(start, compute), asarray_any(stop, compute)
    bshape = np.broadcast_shapes(start_a.shape, stop_a.shape)
    div = (num - 1) if endpoint else num
    if num == 0:
        out = zeros((0,) + bshape, dt)
    else:
        # complex endpoints: a real iota times a complex step
        iota = _lax.broadcasted_iota(np.finfo(compute).dtype, (num,) + bshape, 0)
        s = broadcast_to(start_a, (num,) + bshape)
        delta = broadcast_to(stop_a - start_a, (num,) + bshape)
        if div > 0:
            step = delta / np.asarray(div, np.finfo(compute).dtype)
            out = s + iota * step
            if endpoint and num > 1:
                # the last row is stop itself (the step's rounding would miss it)
                last = convert(broadcast_to(stop_a, (1,) + bshape), out.dtype)
                out = concatenate([_lax.slice_in_dim(out, 0, num - 1), last], axis=0)
        else:
            out = s
        out = convert(out, dt)
    if axis != 0 and out.ndim > 1:
        out = moveaxis(out, 0, axis)
    if retstep:
        return out, (stop_a - start_a) / div if div > 0 else np.nan
    return out


def eye(N, M=None, k=0, dtype=None):
    M = N if M is None else M
    dt = _dt(dtype, name="eye")
    if isinstance(k, (int, np.integer)) and not -N < int(k) < M:
        k = 0 if not (N and M) else None  # a diagonal outside the matrix (any Python int): all zeros
    r = _lax.broadcasted_iota(np.int32, (N, M), 0) if N and M and k is not None else None
    if r is None:
        return zeros((N, M), dt)
    c = _lax.broadcasted_iota(np.int32, (N, M), 1)
    return convert(_lax.eq(r + np.asarray(k, np.int32), c), dt)


def identity(n, dtype=None):
    return eye(n, dtype=dtype)


def tri(N, M=None, k=0, dtype=None):
    M = N if M is None else M
    r = _lax.broadcasted_iota(np.int32, (N, M), 0)
    c = _lax.broadcasted_iota(np.int32, (N, M), 1)
    return convert(_lax.ge(r + np.asarray(k, np.int32), c), _dt(dtype))


def tril(m, k=0):
    m = asarray_any(m)
    return _where(tri(m.shape[-2], m.shape[-1], k, bool), m, zeros_like(m))


def triu(m, k=0):
    m = asarray_any(m)
    return _where(tri(m.shape[-2], m.shape[-1], k - 1, bool), zeros_like(m), m)


def meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    if indexing not in ("xy", "ij"):
        raise ValueError(f"Valid values for indexing are 'xy' and 'ij', got {indexing!r}")
    xs = [asarray_any(x).reshape(-1) for x in xi]
    shape = [x.shape[0] for x in xs]
    if indexing == "xy" and len(xs) >= 2:
        shape[0], shape[1] = shape[1], shape[0]
    out = []
    for i, x in enumerate(xs):
        j = i
        if indexing == "xy" and len(xs) >= 2 and i < 2:
            j = 1 - i
        if sparse:  # each output keeps its own axis, ones elsewhere
            out.append(x.reshape(tuple(d if k == j else 1 for k, d in enumerate(shape))))
        else:
            out.append(_lax.broadcast_in_dim(x, shape, (j,)))
    return out


# ---- log-spaced ranges, index helpers --------------------------------------------------------------


def logspace(start, stop, num=50, endpoint=True, base=10.0, dtype=None, axis=0):
    """base ** linspace(start, stop, num)."""
    y = linspace(start, stop, num, endpoint=endpoint, axis=axis)
    out = power(asarray(base, dtype=y.dtype), y)
    return out.astype(dtype) if dtype is not None else out


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """Numbers spaced evenly on a log scale between start and stop (same signs)."""
    start, stop = asarray(start), asarray(stop)
    s = sign(start)
    y = exp(linspace(log(_abs(start)), log(_abs(stop)), num, endpoint=endpoint, axis=axis))
    y = y * s
    # exact endpoints, as NumPy
    out = y.at[0].set(start.astype(y.dtype)) if num > 0 and axis == 0 and start.ndim == 0 else y
    if endpoint and num > 1 and axis == 0 and stop.ndim == 0:
        out = out.at[-1].set(stop.astype(y.dtype))
    return out.astype(dtype) if dtype is not None else out


def tril_indices(n, k=0, m=None):
    r, c = np.tril_indices(n, k, m)
    return asarray(r.astype(np.int32)), asarray(c.astype(np.int32))


def triu_indices(n, k=0, m=None):
    r, c = np.triu_indices(n, k, m)
    return asarray(r.astype(np.int32)), asarray(c.astype(np.int32))


def tril_indices_from(arr, k=0):
    if len(np.shape(arr)) != 2:
        raise ValueError("input array must be 2-d")
    return tril_indices(np.shape(arr)[0], k, np.shape(arr)[1])


def triu_indices_from(arr, k=0):
    if len(np.shape(arr)) != 2:
        raise ValueError("input array must be 2-d")
    return triu_indices(np.shape(arr)[0], k, np.shape(arr)[1])


def diag_indices(n, ndim=2):
    i = asarray(np.arange(n, dtype=np.int32))
    return (i,) * ndim


def diag_indices_from(arr):
    shape = np.shape(arr)
    if len(shape) < 2 or len(set(shape)) != 1:
        raise ValueError("All dimensions of input must be of equal length")
    return diag_indices(shape[0], len(shape))


def indices(dimensions, dtype=None, sparse=False):
    dt = np.dtype(dtype) if dtype is not None else np.dtype(np.int32)
    grids = np.indices(tuple(dimensions), dtype=dt, sparse=sparse)
    return tuple(asarray(g) for g in grids) if sparse else asarray(grids)


def fromfunction(function, shape, *, dtype=float, **kwargs):
    """function(*index_arrays): the index grids are irjax arrays, so function may use jnp."""
    dt = np.dtype(dtype)
    grids = [asarray(g.astype(dt)) for g in np.indices(tuple(shape))] if shape else []
    return function(*grids, **kwargs)


def vander(x, N=None, increasing=False):
    x = asarray(x)
    if x.ndim != 1:
        raise ValueError("x must be a one-dimensional array")
    n = x.shape[0] if N is None else N
    p = np.arange(n)
    if not increasing:
        p = p[::-1]
    return power(x[:, None], asarray(p.astype(np.int32))[None, :])

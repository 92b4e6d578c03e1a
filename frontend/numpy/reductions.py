"""Reductions: sum, mean, var, std, max, min, prod, argmax, argmin, all, any, cumulative ops."""

from __future__ import annotations

import math

import numpy as np
from irjax import dtypes, lax
from irjax.api import stop_gradient
from irjax.operands import concatenate, full_like

from ._util import asarray_any, broadcast_to, canonical_axes, canonical_axis, convert
from .ufuncs import _where, add, exp, imag, isfinite, log, maximum, minimum, multiply, real, sqrt


def _keep(out, x_shape, axes, keepdims):
    if not keepdims:
        return out
    shape = tuple(1 if i in axes else d for i, d in enumerate(x_shape))
    return lax.reshape(out, shape)


def _reduce(op, x, axis, keepdims, dtype=None, initial=None, where=None, promote_int=False):
    x = asarray_any(x)
    k = x.aval.dtype.kind
    if dtype is not None:
        x = convert(x, dtype)
    elif promote_int and k == "b":
        x = convert(x, dtypes.default_int)
    elif promote_int and k in "iu" and x.aval.dtype.itemsize < 4:
        x = convert(x, np.dtype(f"{k}4"))
    axes = canonical_axes(axis, len(x.aval.shape))
    low = None
    if dtype is None and x.aval.dtype in dtypes.LOW_FLOATS and op in (lax.reduce_sum, lax.reduce_prod):
        low, x = x.dtype, convert(x, np.float32)  # JAX sums float16/bfloat16 in float32, rounds once
    if where is not None:
        ident = {lax.reduce_sum: 0, lax.reduce_prod: 1, lax.reduce_and: True, lax.reduce_or: False}.get(op)
        if ident is None:
            ident = _extreme(op, x.dtype) if initial is None else initial
        x = _where(where, x, np.asarray(ident, x.dtype))
    out = op(x, axes) if axes else x
    if initial is not None:
        f = {
            lax.reduce_sum: add,
            lax.reduce_prod: multiply,
            lax.reduce_max: maximum,
            lax.reduce_min: minimum,
        }[op]
        out = f(out, np.asarray(initial, out.dtype))
    if low is not None:
        out = convert(out, low)
    # a reduction's result is strongly typed even for a weak input (JAX converts it to its dtype);
    # convert copies rather than retypes in place: with no axes `out` may be the input itself
    out = _keep(out, x.shape, axes, keepdims)
    return convert(out, out.dtype)


def _extreme(op, dtype):
    """The identity of reduce_max (op is lax.reduce_max) or reduce_min for dtype."""
    top = op is lax.reduce_max
    if dtypes.kind(dtype) == "f":
        return -np.inf if top else np.inf
    if dtype.kind == "b":
        return not top
    info = np.iinfo(dtype)
    return info.min if top else info.max


def sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None, promote_integers=True):  # noqa: A001
    return _reduce(lax.reduce_sum, a, axis, keepdims, dtype, initial, where, promote_int=promote_integers)


def prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=None, promote_integers=True):
    return _reduce(lax.reduce_prod, a, axis, keepdims, dtype, initial, where, promote_int=promote_integers)


def max(a, axis=None, out=None, keepdims=False, initial=None, where=None):  # noqa: A001
    a = asarray_any(a)
    _check_nonempty("max", a, axis, initial)
    if a.dtype.kind == "b":
        return _reduce(lax.reduce_or, a, axis, keepdims)
    if a.dtype.kind == "c":
        return _complex_extreme(lax.reduce_max, a, axis, keepdims, initial, where)
    return _reduce(lax.reduce_max, a, axis, keepdims, initial=initial, where=where)


def min(a, axis=None, out=None, keepdims=False, initial=None, where=None):  # noqa: A001
    a = asarray_any(a)
    _check_nonempty("min", a, axis, initial)
    if a.dtype.kind == "b":
        return _reduce(lax.reduce_and, a, axis, keepdims)
    if a.dtype.kind == "c":
        return _complex_extreme(lax.reduce_min, a, axis, keepdims, initial, where)
    return _reduce(lax.reduce_min, a, axis, keepdims, initial=initial, where=where)


amax, amin = max, min


def _complex_extreme(op, a, axis, keepdims, initial, where):
    """max/min of complex values in JAX's lexicographic order: the extreme real part, then the
    extreme imaginary part among the elements that have it."""
    re, im = lax.real(a), lax.imag(a)
    top = _reduce(op, re, axis, True, where=where)
    hit = lax.eq(re, broadcast_to(top, a.shape))
    if where is not None:
        hit = lax.bitwise_and(hit, broadcast_to(convert(asarray_any(where), bool), a.shape))
    fill = broadcast_to(np.asarray(_extreme(op, im.dtype), im.dtype), a.shape)
    out = lax.complex(top, _reduce(op, lax.select(hit, im, fill), axis, True))
    if initial is not None:
        init = broadcast_to(np.asarray(initial, a.dtype), out.shape)
        cmp = lax.gt if op is lax.reduce_max else lax.lt
        o_re, o_im, i_re, i_im = lax.real(out), lax.imag(out), lax.real(init), lax.imag(init)
        better = lax.bitwise_or(cmp(o_re, i_re), lax.bitwise_and(lax.eq(o_re, i_re), cmp(o_im, i_im)))
        out = lax.select(better, out, init)
    axes = canonical_axes(axis, a.ndim)
    return out if keepdims or not axes else lax.reshape(out, tuple(d for i, d in enumerate(a.shape) if i not in axes))


def _check_nonempty(name, a, axis, initial):
    if initial is None and 0 in [a.shape[i] for i in canonical_axes(axis, a.ndim)]:  # (any is shadowed here)
        raise ValueError(f"zero-size array to reduction operation {name} which has no identity")


def all(a, axis=None, out=None, keepdims=False, where=None):  # noqa: A001
    return _reduce(lax.reduce_and, convert(asarray_any(a), bool), axis, keepdims, where=where)


def any(a, axis=None, out=None, keepdims=False, where=None):  # noqa: A001
    return _reduce(lax.reduce_or, convert(asarray_any(a), bool), axis, keepdims, where=where)


def _count(x, axes):
    return math.prod([x.shape[i] for i in axes])


def mean(a, axis=None, dtype=None, out=None, keepdims=False, where=None):
    a = asarray_any(a)
    dt = (
        dtypes.canonicalize_dtype(dtype)
        if dtype is not None
        else (a.dtype if dtypes.kind(a.dtype) in "fc" else dtypes.default_float)
    )
    if dtype is None and dt in dtypes.LOW_FLOATS:  # JAX: float32 inside, rounded once at the end
        return convert(mean(convert(a, np.float32, a.aval.weak_type), axis, keepdims=keepdims, where=where), dt)
    axes = canonical_axes(axis, a.ndim)
    s = sum(convert(a, dt, a.aval.weak_type), axis, keepdims=keepdims, where=where)
    if where is not None:
        n = sum(broadcast_to(convert(asarray_any(where), dt), a.shape), axis, keepdims=keepdims)
        return s / n
    return s / np.asarray(_count(a, axes), dt)


_mean = mean  # (var's `mean` argument shadows it there)


def var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None, correction=None, *, mean=None):
    """As jnp.var; `where` masks elements out (their count leaves n), `mean` is a precomputed
    mean of `a` over `axis` with kept dimensions (as JAX's)."""
    if correction is not None:
        ddof = correction
    a = asarray_any(a)
    dt = (
        dtypes.canonicalize_dtype(dtype)
        if dtype is not None
        else (a.dtype if dtypes.kind(a.dtype) in "fc" else dtypes.default_float)
    )
    if dtype is None and dt in dtypes.LOW_FLOATS:  # JAX: float32 inside, rounded once at the end
        wide = convert(a, np.float32, a.aval.weak_type)
        m = None if mean is None else convert(asarray_any(mean), np.float32)
        return convert(var(wide, axis, ddof=ddof, keepdims=keepdims, where=where, mean=m), dt)
    a = convert(a, dt, a.aval.weak_type)
    axes = canonical_axes(axis, a.ndim)
    m = _mean(a, axis, keepdims=True, where=where) if mean is None else convert(asarray_any(mean), dt)
    # m - a, not a - m: the same squares bit for bit (IEEE subtraction is antisymmetric), and
    # not the same op as a caller's own `x - x.mean()`, which IREE would otherwise merge with it
    # and write out to memory for both uses (jit (x - mean) / std of 1M f32: 0.41-0.45 ->
    # 0.38-0.39 ms a call, one 4 MB array less written and read twice)
    d = m - a
    if d.dtype.kind == "c":  # |d|^2, a real variance (as JAX)
        sq = real(d) * real(d) + imag(d) * imag(d)
    else:
        sq = d * d
    if where is None:
        return sum(sq, axis, keepdims=keepdims) / np.asarray(_count(a, axes) - ddof, sq.dtype)
    n = sum(broadcast_to(convert(asarray_any(where), sq.dtype), a.shape), axis, keepdims=keepdims)
    return sum(sq, axis, keepdims=keepdims, where=where) / (n - np.asarray(ddof, sq.dtype))


def std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, where=None, correction=None, *, mean=None):
    return sqrt(var(a, axis, dtype, ddof=ddof, keepdims=keepdims, where=where, correction=correction, mean=mean))


def _arg(op, a, axis, keepdims):
    a = asarray_any(a)
    if axis is None:
        flat = lax.reshape(a, (a.size,))
        if a.size == 0:
            raise ValueError(f"attempt to get {op.__name__} of an empty sequence")
        out = op(flat, 0, dtypes.default_int)
        return lax.reshape(out, (1,) * a.ndim) if keepdims else out
    ax = canonical_axis(axis, a.ndim)
    if a.shape[ax] == 0:
        raise ValueError(f"attempt to get {op.__name__} of an empty sequence")
    out = op(a, ax, dtypes.default_int)
    return _keep(out, a.shape, (ax,), keepdims)


def argmax(a, axis=None, out=None, keepdims=False):
    return _arg(lax.argmax, a, axis, keepdims)


def argmin(a, axis=None, out=None, keepdims=False):
    return _arg(lax.argmin, a, axis, keepdims)


def _cum(op, a, axis, dtype):
    a = asarray_any(a)
    if axis is None:
        a = lax.reshape(a, (a.size,))
        axis = 0
    if dtype is not None:
        a = convert(a, dtype)
    elif a.dtype.kind == "b":
        # JAX scans small ints in their own dtype (wrapping); only bool becomes int
        a = convert(a, dtypes.default_int)
    return op(a, canonical_axis(axis, a.ndim), reverse=False)


def cumsum(a, axis=None, dtype=None, out=None):
    return _cum(lax.cumsum, a, axis, dtype)


def cumprod(a, axis=None, dtype=None, out=None):
    return _cum(lax.cumprod, a, axis, dtype)


def _cumulative(op, x, axis, dtype, include_initial):
    """The array-API forms: cumulative_sum promotes small ints as sum does, cumulative_prod
    only bool (JAX's rules); include_initial prepends the identity."""
    x = asarray_any(x)
    if axis is None:
        if x.ndim > 1:
            raise ValueError(f"{op.__name__}: axis must be given for an array of {x.ndim} dimensions")
        x = lax.reshape(x, (x.size,))
        axis = 0
    ax = canonical_axis(axis, x.ndim)
    if dtype is None and op is lax.cumsum and x.dtype.kind in "iu" and x.dtype.itemsize < 4:
        dtype = np.dtype(np.uint32) if x.dtype.kind == "u" else dtypes.default_int
    out = _cum(op, x, ax, dtype)
    if include_initial:
        shape = tuple(1 if d == ax else n for d, n in enumerate(out.shape))
        init = np.full(shape, 0 if op is lax.cumsum else 1, out.dtype)
        out = concatenate([asarray_any(init), out], axis=ax)
    return out


def cumulative_sum(x, /, *, axis=None, dtype=None, include_initial=False):
    return _cumulative(lax.cumsum, x, axis, dtype, include_initial)


def cumulative_prod(x, /, *, axis=None, dtype=None, include_initial=False):
    return _cumulative(lax.cumprod, x, axis, dtype, include_initial)


def logsumexp(a, axis=None, keepdims=False):
    a = asarray_any(a)
    # an empty axis sums nothing: log(0) = -inf, as JAX (max alone has no identity)
    m = max(a, axis, keepdims=True, initial=-np.inf if a.size == 0 else None)
    m = stop_gradient(_where(isfinite(m), m, 0.0))
    out = log(sum(exp(a - m), axis, keepdims=True)) + m
    if not keepdims:
        axes = canonical_axes(axis, a.ndim)
        out = lax.reshape(out, tuple(d for i, d in enumerate(out.shape) if i not in axes))
    return out


def count_nonzero(a, axis=None, keepdims=False):
    return sum(convert(asarray_any(a), bool), axis, keepdims=keepdims, dtype=dtypes.default_int)


def average(a, axis=None, weights=None, returned=False, keepdims=False):
    if weights is None:
        avg = mean(a, axis, keepdims=keepdims)
        if returned:
            a = asarray_any(a)
            return avg, full_like_count(a, axis, keepdims, avg)
        return avg
    w = asarray_any(weights)
    a = asarray_any(a)
    if w.shape != a.shape:
        w = w.reshape((1,) * 0 + w.shape) if axis is None else _bcast_weights(w, a, axis)
    sw = sum(w, axis, keepdims=keepdims)
    avg = sum(a * w, axis, keepdims=keepdims) / sw
    return (avg, sw) if returned else avg


def full_like_count(a, axis, keepdims, like):
    return full_like(like, _count(a, canonical_axes(axis, a.ndim)))


def _bcast_weights(w, a, axis):
    ax = canonical_axis(axis, a.ndim)
    shape = [1] * a.ndim
    shape[ax] = a.shape[ax]
    return broadcast_to(w.reshape(tuple(shape)), a.shape)


def ptp(a, axis=None, keepdims=False):
    return max(a, axis, keepdims=keepdims) - min(a, axis, keepdims=keepdims)

"""jnp.pad: every NumPy mode (constant, edge, wrap, reflect/symmetric with reflect_type,
linear_ramp, mean/maximum/minimum/median with stat_length, empty, and a callable).

Axes are padded one after another, as NumPy does, so the statistics and ramps of a later axis
see the padding already added along earlier ones. Widths and statistic lengths are static
(they fix the result's shape); padding values may be traced.
"""

from __future__ import annotations

import numpy as np
from irjax import dtypes, lax
from irjax.api import vmap

from ._util import asarray_any, convert
from .creation import linspace
from .indexing import slice_axis, take
from .reductions import max as _max
from .reductions import mean as _mean
from .reductions import min as _min
from .shape import broadcast_to, concatenate, flip, moveaxis, reshape
from .statistics import median as _median
from .ufuncs import round as _round

_STATS = {"mean": _mean, "maximum": _max, "minimum": _min, "median": _median}
_REFLECTIONS = ("reflect", "symmetric")


def _pairs(value, ndim: int, what: str, static: bool = True):
    """value as ndim (before, after) pairs (NumPy's broadcasting of pad arguments): a numpy array of
    ints when static, else a list of pairs of array-likes."""
    if static:
        try:
            arr = np.asarray(value)
        except Exception as e:  # (a traced width)
            raise TypeError(f"jnp.pad: {what} must be static integers, got {value!r}") from e
        if arr.dtype.kind not in "iub":
            raise TypeError(f"jnp.pad: {what} must be integers, got {value!r}")
        arr = arr.astype(np.int64)
        try:
            return np.broadcast_to(arr.reshape(-1, 2) if arr.ndim else arr.reshape(1, 1), (ndim, 2)).copy()
        except ValueError as e:
            raise ValueError(f"jnp.pad: {what} {value!r} does not fit an array of {ndim} dimensions") from e
    if isinstance(value, (tuple, list)) and value and isinstance(value[0], (tuple, list)):
        if len(value) == 1:
            value = list(value) * ndim
        if len(value) != ndim:
            raise ValueError(f"jnp.pad: {what} has {len(value)} pairs for {ndim} dimensions")
        return [(p[0], p[-1]) for p in value]
    if isinstance(value, (tuple, list)):
        if len(value) not in (1, 2):
            raise ValueError(f"jnp.pad: {what} must be a scalar, a pair or one pair per dimension")
        return [(value[0], value[-1])] * ndim
    return [(value, value)] * ndim


def _block(a, ax: int, width: int, values):
    """A `width`-long block along ax of `values` (broadcast over it)."""
    shape = a.shape[:ax] + (width,) + a.shape[ax + 1 :]
    return broadcast_to(convert(asarray_any(values), a.dtype), shape)


def _constant(a, widths, values):
    if not isinstance(values, (tuple, list)):  # one value: one stablehlo.pad
        pv = convert(asarray_any(values), a.dtype)
        if pv.ndim:
            raise ValueError(
                f"jnp.pad: constant_values must be a scalar or (before, after) pairs, got shape {pv.shape}"
            )
        return lax.pad(a, pv, [(int(lo), int(hi), 0) for lo, hi in widths])
    pairs = _pairs(values, a.ndim, "constant_values", static=False)
    for ax, ((lo, hi), (before, after)) in enumerate(zip(widths, pairs)):
        a = concatenate([_block(a, ax, int(lo), before), a, _block(a, ax, int(hi), after)], axis=ax)
    return a


def _indexed(a, ax: int, lo: int, hi: int, mode: str):
    """Edge, wrap and even reflections: one gather of the axis."""
    n = a.shape[ax]
    idx = np.arange(-lo, n + hi)
    if mode == "edge" or n == 1:
        idx = np.clip(idx, 0, n - 1)
    elif mode == "wrap":
        idx = idx % n
    else:
        period = 2 * n - 2 if mode == "reflect" else 2 * n
        idx = np.abs(idx) if mode == "reflect" else np.where(idx < 0, -idx - 1, idx)
        idx = idx % period
        idx = np.where(idx >= n, period - idx - (0 if mode == "reflect" else 1), idx)
    return take(a, idx, axis=ax)


def _odd_reflection(a, ax: int, lo: int, hi: int, mode: str):
    """reflect_type='odd': each reflected value v becomes 2 * edge - v. Wider than the axis, the
    padding grows in chunks, each reflected about the current outermost value (as NumPy)."""
    n = a.shape[ax]
    if n == 1:
        return _indexed(a, ax, lo, hi, "edge")
    with_edge = mode == "symmetric"
    while lo > 0 or hi > 0:
        length = a.shape[ax]
        # the reflected stretch: whole periods of the original axis
        usable = length // n * n if with_edge else (length - 1) // (n - 1) * (n - 1)
        skip = 0 if with_edge else 1
        parts = [a]
        if lo > 0:
            k = min(usable, lo)
            edge = slice_axis(a, ax, 0, 1)
            parts.insert(0, 2 * edge - flip(slice_axis(a, ax, skip, skip + k), ax))
            lo -= k
        if hi > 0:
            k = min(usable, hi)
            edge = slice_axis(a, ax, length - 1, length)
            parts.append(2 * edge - flip(slice_axis(a, ax, length - skip - k, length - skip), ax))
            hi -= k
        a = concatenate(parts, axis=ax)
    return a


def _stat(a, ax: int, lo: int, hi: int, mode: str, stat_length):
    n = a.shape[ax]
    if n == 0 and (lo or hi):
        raise ValueError(f"jnp.pad: can't extend an empty axis {ax} with mode {mode!r}")
    fn = _STATS[mode]

    def side(start, stop, width):
        v = fn(slice_axis(a, ax, start, stop), axis=ax, keepdims=True)
        if dtypes.kind(a.dtype) in "iub" and mode in ("mean", "median"):
            v = _round(v)  # integers: the rounded statistic, as NumPy
        return _block(a, ax, width, convert(v, a.dtype))

    sl_lo, sl_hi = (n, n) if stat_length is None else (min(int(stat_length[0]), n), min(int(stat_length[1]), n))
    if (lo and sl_lo <= 0) or (hi and sl_hi <= 0):
        raise ValueError(f"jnp.pad: stat_length must be positive for mode {mode!r}")
    return concatenate([side(0, sl_lo, lo), a, side(n - sl_hi, n, hi)], axis=ax)


def _ramp(a, ax: int, lo: int, hi: int, ends):
    """linear_ramp: from the end value to the edge value (NumPy's linspace without its endpoint;
    integers round down, as NumPy's)."""
    n = a.shape[ax]
    if n == 0 and (lo or hi):
        raise ValueError(f"jnp.pad: can't extend an empty axis {ax} with mode 'linear_ramp'")
    dt = a.dtype
    calc = dt if dtypes.kind(dt) in "fc" else dtypes.default_float

    def ramp(edge, end, width):
        edge = convert(edge, calc)
        end = broadcast_to(convert(asarray_any(end), calc), edge.shape)
        r = linspace(end, edge, width, endpoint=False, dtype=calc, axis=ax)
        r = reshape(r, a.shape[:ax] + (width,) + a.shape[ax + 1 :])
        if dtypes.kind(dt) in "iu":
            r = lax.floor(r)
        return convert(r, dt)

    parts = [a]
    if lo:
        parts.insert(0, ramp(slice_axis(a, ax, 0, 1), ends[0], lo))
    if hi:
        parts.append(flip(ramp(slice_axis(a, ax, n - 1, n), ends[1], hi), ax))
    return concatenate(parts, axis=ax) if len(parts) > 1 else a


def _with_function(a, widths, func, kwargs):
    """A callable mode: pad with zeros, then func(vector, (before, after), axis, kwargs) returns
    each padded 1-d vector along each axis in turn (as JAX's)."""
    a = lax.pad(a, np.zeros((), a.dtype), [(int(lo), int(hi), 0) for lo, hi in widths])
    for ax in range(a.ndim):
        moved = moveaxis(a, ax, -1)
        rows = reshape(moved, (-1, moved.shape[-1]))
        width = (int(widths[ax][0]), int(widths[ax][1]))
        out = vmap(lambda v, ax=ax, width=width: asarray_any(func(v, width, ax, kwargs)))(rows)
        if out.shape != rows.shape:
            raise ValueError(f"jnp.pad: the mode function returned shape {out.shape[1:]}, expected {rows.shape[1:]}")
        a = moveaxis(reshape(convert(out, a.dtype), moved.shape), -1, ax)
    return a


def pad(array, pad_width, mode="constant", **kwargs):
    a = asarray_any(array)
    widths = _pairs(pad_width, a.ndim, "pad_width")
    if (widths < 0).any():
        raise ValueError(f"index can't contain negative values: pad_width={pad_width!r}")
    if callable(mode):
        return _with_function(a, widths, mode, kwargs)
    allowed = {
        "constant": {"constant_values"},
        "empty": set(),
        "edge": set(),
        "wrap": set(),
        "reflect": {"reflect_type"},
        "symmetric": {"reflect_type"},
        "linear_ramp": {"end_values"},
        "mean": {"stat_length"},
        "maximum": {"stat_length"},
        "minimum": {"stat_length"},
        "median": {"stat_length"},
    }
    if mode not in allowed:
        raise ValueError(f"jnp.pad: mode {mode!r} is not one of {sorted(allowed)} or a function")
    unknown = set(kwargs) - allowed[mode]
    if unknown:
        raise ValueError(f"jnp.pad: unsupported keyword arguments for mode {mode!r}: {sorted(unknown)}")
    if mode in ("constant", "empty"):
        return _constant(a, widths, kwargs.get("constant_values", 0))
    if mode in _REFLECTIONS and kwargs.get("reflect_type", "even") not in ("even", "odd"):
        raise ValueError(f"jnp.pad: reflect_type must be 'even' or 'odd', got {kwargs['reflect_type']!r}")
    stat = kwargs.get("stat_length")
    stat = None if stat is None else _pairs(stat, a.ndim, "stat_length")
    ends = _pairs(kwargs.get("end_values", 0), a.ndim, "end_values", static=False)
    for ax in range(a.ndim):
        lo, hi = int(widths[ax][0]), int(widths[ax][1])
        if not lo and not hi:
            continue
        if mode in ("edge", "wrap") + _REFLECTIONS and a.shape[ax] == 0:
            raise ValueError(f"jnp.pad: can't extend an empty axis {ax} with mode {mode!r}")
        if mode in _REFLECTIONS and kwargs.get("reflect_type", "even") == "odd":
            a = _odd_reflection(a, ax, lo, hi, mode)
        elif mode in ("edge", "wrap") + _REFLECTIONS:
            a = _indexed(a, ax, lo, hi, mode)
        elif mode == "linear_ramp":
            a = _ramp(a, ax, lo, hi, ends[ax])
        else:
            a = _stat(a, ax, lo, hi, mode, None if stat is None else stat[ax])
    return a

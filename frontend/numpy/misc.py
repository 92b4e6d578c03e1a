"""NumPy's remaining small names: float bit tricks (frexp, nextafter, spacing), bit packing,
window functions and i0, gradient, unwrap, block, resize, trim_zeros, and host I/O wrappers."""

from __future__ import annotations

import numpy as np
from irjax import dtypes
from irjax.api import jit
from irjax.core import Tracer
from irjax.errors import ConcretizationTypeError
from irjax.lax import bitcast_convert_type

from ._util import asarray_any, canonical_axis, promote
from .creation import arange, array, asarray, zeros
from .indexing import take, where
from .reductions import all as _all
from .reductions import cumsum
from .reductions import sum as _sum
from .shape import concatenate, diff, moveaxis, reshape, split, stack
from .ufuncs import abs as _abs
from .ufuncs import (
    bitwise_and,
    bitwise_or,
    cos,
    equal,
    exp,
    isfinite,
    isnan,
    left_shift,
    logical_and,
    logical_or,
    not_equal,
    remainder,
    right_shift,
    sqrt,
)

# ---- floats as bits --------------------------------------------------------------------------

_UINT = {2: np.uint16, 4: np.uint32, 8: np.uint64}


def _float_operand(name, x):
    (x,), dt, _ = promote(asarray_any(x), to_float=True)
    if dt.itemsize not in _UINT:
        raise TypeError(f"jnp.{name}: unsupported dtype {dt}")
    return x, dt


def nextafter(x, y, /):
    """The next representable float after x towards y (NaN if either is NaN)."""
    (x, y), dt, weak = promote(asarray_any(x), asarray_any(y), to_float=True)
    ut = np.dtype(_UINT[dt.itemsize])
    bits = bitcast_convert_type(x, ut)
    one = np.array(1, ut)
    sign_bit = np.array(1 << (8 * dt.itemsize - 1), ut)
    # away from zero means +1 on the magnitude bits, towards zero -1
    away = (y > x) == (x > 0)
    stepped = bitcast_convert_type(where(away, bits + one, bits - one), dt)
    # from zero: the smallest subnormal with y's sign
    tiny = bitcast_convert_type(where(y < 0, sign_bit | one, one), dt)
    out = where(x == 0, tiny, stepped)
    out = where(x == y, y, out)
    return where(logical_or(isnan(x), isnan(y)), x + y, out)


def spacing(x, /):
    """Distance from x to the next float away from zero (NumPy's spacing)."""
    x, dt = _float_operand("spacing", x)
    inf = np.array(np.inf, dt)
    nxt = nextafter(x, where(x < 0, -inf, inf))
    return where(isfinite(x), nxt - x, np.array(np.nan, dt))


def frexp(x, /):
    """(mantissa, exponent) with x = mantissa * 2**exponent, 0.5 <= |mantissa| < 1."""
    x, dt = _float_operand("frexp", x)
    fi = dtypes.finfo(dt) if hasattr(dtypes, "finfo") else np.finfo(dt)
    nmant = int(fi.nmant)
    nexp = 8 * dt.itemsize - 1 - nmant
    bias = (1 << (nexp - 1)) - 1
    ut = np.dtype(_UINT[dt.itemsize])
    # subnormals: scale into the normal range first, then take the exponent back out
    sub = logical_and(_abs(x) < np.array(fi.tiny, dt), x != 0)
    xs = where(sub, x * np.array(2.0 ** (nmant + 1), dt), x)
    bits = bitcast_convert_type(xs, ut)
    e = ((bits >> np.array(nmant, ut)) & np.array((1 << nexp) - 1, ut)).astype(dtypes.default_int)
    keep = np.array(~(((1 << nexp) - 1) << nmant) & ((1 << (8 * dt.itemsize)) - 1), ut)
    mbits = (bits & keep) | np.array((bias - 1) << nmant, ut)
    mant = bitcast_convert_type(mbits, dt)
    expo = e - (bias - 1) - where(sub, nmant + 1, 0)
    special = logical_or(x == 0, logical_or(isnan(x), ~isfinite(x)))
    return where(special, x, mant), where(special, 0, expo).astype(dtypes.default_int)


_UINT_OF = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}


def array_view(x, dtype=None):
    """Array.view: reinterpret the bytes as `dtype`. A narrower dtype splits the last axis into
    more elements, a wider one joins them (little-endian, as JAX and NumPy on x86/ARM)."""
    x = asarray(x)
    if dtype is None:
        return x
    dt = dtypes.canonicalize_dtype(dtype)
    src = x.dtype
    if dt == src:
        return x
    if src == np.bool_:
        return array_view(x.astype(np.uint8), dt)
    if dt == np.bool_:
        return not_equal(array_view(x, np.uint8), 0)
    if dt.itemsize == src.itemsize:
        return bitcast_convert_type(x, dt)
    if x.ndim == 0:
        raise ValueError("Changing the dtype of a 0d array is only supported if the itemsize is unchanged")
    bits = bitcast_convert_type(x, _UINT_OF[src.itemsize])
    if dt.itemsize < src.itemsize:
        r, w = src.itemsize // dt.itemsize, 8 * dt.itemsize
        parts = [bitwise_and(right_shift(bits, w * k), (1 << w) - 1) for k in range(r)]
        narrow = stack(parts, axis=-1).astype(_UINT_OF[dt.itemsize])
        return bitcast_convert_type(reshape(narrow, (*x.shape[:-1], x.shape[-1] * r)), dt)
    r, w = dt.itemsize // src.itemsize, 8 * src.itemsize
    if x.shape[-1] % r:
        raise ValueError(
            "When changing to a larger dtype, its size must be a divisor of the total size in bytes "
            f"of the last axis of the array (got shape {x.shape}, {src.name} -> {dt.name})"
        )
    groups = reshape(bits, (*x.shape[:-1], x.shape[-1] // r, r)).astype(_UINT_OF[dt.itemsize])
    wide = groups[..., 0]
    for k in range(1, r):
        wide = bitwise_or(wide, left_shift(groups[..., k], w * k))
    return bitcast_convert_type(wide, dt)


def bitwise_count(x, /):
    """Set bits of |x| (NumPy's rule for signed ints), as uint8."""
    x = asarray_any(x)
    if not (dtypes.issubdtype(x.dtype, np.integer) or x.dtype == np.bool_):
        raise TypeError(f"bitwise_count requires an integer or boolean array, got {x.dtype}")
    if x.dtype == np.bool_:
        return x.astype(np.uint8)
    if dtypes.issubdtype(x.dtype, np.signedinteger):
        x = _abs(x)
    u = bitcast_convert_type(x, np.dtype(f"uint{8 * x.dtype.itemsize}"))
    total = zeros(x.shape, np.uint8)
    for k in range(8 * x.dtype.itemsize):
        total = total + ((u >> np.array(k, u.dtype)) & np.array(1, u.dtype)).astype(np.uint8)
    return total


def packbits(a, axis: int | None = None, bitorder: str = "big"):
    a = asarray_any(a)
    if not (dtypes.issubdtype(a.dtype, np.integer) or a.dtype == np.bool_):
        raise TypeError("Expected an input array of integer or boolean data type")
    if bitorder not in ("little", "big"):
        raise ValueError("'order' must be either 'little' or 'big'")
    bits = (a != 0).astype(np.uint8)
    if axis is None:
        bits, axis = bits.ravel(), 0
    axis = canonical_axis(axis, bits.ndim)
    bits = moveaxis(bits, axis, -1)
    n = bits.shape[-1]
    pad = (-n) % 8
    if pad:
        bits = concatenate([bits, zeros(bits.shape[:-1] + (pad,), np.uint8)], axis=-1)
    bits = reshape(bits, bits.shape[:-1] + ((n + pad) // 8, 8))
    w = np.array([128, 64, 32, 16, 8, 4, 2, 1], np.uint8)
    if bitorder == "little":
        w = w[::-1].copy()
    packed = _sum(bits * asarray(w), axis=-1, dtype=np.uint8)
    return moveaxis(packed, -1, axis)


def unpackbits(a, axis: int | None = None, count: int | None = None, bitorder: str = "big"):
    a = asarray_any(a)
    if a.dtype != np.uint8:
        raise TypeError("Expected an input array of unsigned byte data type")
    if bitorder not in ("little", "big"):
        raise ValueError("'order' must be either 'little' or 'big'")
    shifts = np.array([7, 6, 5, 4, 3, 2, 1, 0], np.uint8)
    if bitorder == "little":
        shifts = shifts[::-1].copy()
    bits = (a[..., None] >> asarray(shifts)) & np.uint8(1)
    if axis is None:
        bits, axis = bits.ravel(), 0
    else:
        axis = canonical_axis(axis, a.ndim)
        bits = moveaxis(bits, axis, -2)
        bits = reshape(bits, bits.shape[:-2] + (bits.shape[-2] * 8,))
        bits = moveaxis(bits, -1, axis)
    if count is not None:
        bits = moveaxis(moveaxis(bits, axis, 0)[:count], 0, axis)
    return bits


# ---- windows and i0 --------------------------------------------------------------------------


def _window_n(M):
    if isinstance(M, Tracer):
        raise TypeError("window length M must be a static int")
    return int(M)


def _window(M, body):
    """A window of M points: empty below 1, [1.] at 1, else body(n, dtype, M) with n = 0..M-1."""
    M = _window_n(M)
    if M < 1:
        return zeros((0,), dtypes.default_float)
    if M == 1:
        return asarray(np.ones(1, dtypes.default_float))
    dt = dtypes.default_float
    return body(arange(M).astype(dt), dt, M)


def bartlett(M: int):
    return _window(M, lambda n, dt, M: 1 - _abs(2 * n / (M - 1) - 1))


def _cosine_window(M, coeffs):
    def body(n, dt, M):
        out = zeros((M,), dt)
        for k, c in enumerate(coeffs):
            out = out + c * cos(2 * np.pi * k * n / (M - 1))
        return out

    return _window(M, body)


def hanning(M: int):
    return _cosine_window(M, (0.5, -0.5))


def hamming(M: int):
    return _cosine_window(M, (0.54, -0.46))


def blackman(M: int):
    return _cosine_window(M, (0.42, -0.5, 0.08))


# Abramowitz & Stegun 9.8.1 / 9.8.2 (relative error below 2e-7: float32's resolution)
_I0_SMALL = (1.0, 3.5156229, 3.0899424, 1.2067492, 0.2659732, 0.0360768, 0.0045813)
_I0_LARGE = (
    0.39894228,
    0.01328592,
    0.00225319,
    -0.00157565,
    0.00916281,
    -0.02057706,
    0.02635537,
    -0.01647633,
    0.00392377,
)


def _horner(coeffs, t):
    out = coeffs[-1] + t * 0
    for c in reversed(coeffs[:-1]):
        out = out * t + c
    return out


def i0(x):
    """The modified Bessel function of the first kind, order 0."""
    (x,), dt, _ = promote(asarray_any(x), to_float=True)
    return _i0_jit(x)


def _i0(x):
    dt = x.dtype
    ax = _abs(x)
    small = ax <= 3.75
    ts = (where(small, ax, 0) / 3.75) ** 2
    big = where(small, 3.75, ax)
    tl = 3.75 / big
    out_small = _horner(_I0_SMALL, ts)
    out_large = exp(big) / sqrt(big) * _horner(_I0_LARGE, tl)
    return where(small, out_small, out_large).astype(dt)


# one compiled function: eagerly its ~40 ops would make one lazy graph past IREE's binding limit
_i0_jit = jit(_i0)


def kaiser(M: int, beta):
    def body(n, dt, M):
        alpha = (M - 1) / 2.0
        b = asarray_any(beta).astype(dt)
        return _i0_jit(b * sqrt(1 - ((n - alpha) / alpha) ** 2)) / _i0_jit(b)

    return _window(M, body)


# ---- array-level helpers -----------------------------------------------------------------------


def gradient(f, *varargs, axis=None, edge_order=None):
    """Second-order central differences inside, first-order one-sided at the edges."""
    if edge_order is not None and edge_order != 1:
        raise NotImplementedError("jnp.gradient: only edge_order=1 is supported (as in JAX)")
    f = asarray_any(f)
    (f,), dt, _ = promote(f, to_float=True)
    axes = list(range(f.ndim)) if axis is None else ([axis] if isinstance(axis, int) else list(axis))
    axes = [canonical_axis(a, f.ndim) for a in axes]
    if len(varargs) == 0:
        spacings = [1.0] * len(axes)
    elif len(varargs) == 1 and np.ndim(varargs[0]) == 0:
        spacings = list(varargs) * len(axes)
    elif len(varargs) == len(axes):
        spacings = list(varargs)
    else:
        raise TypeError("invalid number of spacing arguments")
    outs = []
    for ax, h in zip(axes, spacings):
        y = moveaxis(f, ax, 0)
        n = y.shape[0]
        if n < 2:
            raise ValueError(
                "Shape of array too small to calculate a numerical gradient, at least 2 elements are required."
            )
        h = asarray_any(h)
        if h.ndim == 0:
            inner = (y[2:] - y[:-2]) / (2 * h)
            first = (y[1:2] - y[0:1]) / h
            last = (y[-1:] - y[-2:-1]) / h
        else:
            if h.shape != (n,):
                raise ValueError("when 1d, distances must match the length of the corresponding dimension")
            d = diff(h.astype(dt))
            d1, d2 = d[:-1], d[1:]
            sh = (-1,) + (1,) * (y.ndim - 1)
            a = reshape(-d2 / (d1 * (d1 + d2)), sh)
            b = reshape((d2 - d1) / (d1 * d2), sh)
            c = reshape(d1 / (d2 * (d1 + d2)), sh)
            inner = a * y[:-2] + b * y[1:-1] + c * y[2:]
            first = (y[1:2] - y[0:1]) / d[0]
            last = (y[-1:] - y[-2:-1]) / d[-1]
        g = concatenate([first, inner, last], axis=0) if n > 2 else concatenate([first, last], axis=0)
        outs.append(moveaxis(g.astype(dt), 0, ax))
    return outs[0] if len(outs) == 1 else outs


def unwrap(p, discont=None, axis: int = -1, period=2 * np.pi):
    """p with jumps larger than discont (default period/2) corrected by multiples of period."""
    (p,), dt, _ = promote(asarray_any(p), to_float=True)
    axis = canonical_axis(axis, p.ndim)
    dd = diff(p, axis=axis)
    half = period / 2
    if discont is None:
        discont = half
    ddmod = remainder(dd + half, period) - half
    ddmod = where(logical_and(ddmod == -half, dd > 0), half, ddmod)
    corr = where(_abs(dd) < discont, 0, ddmod - dd)
    head = zeros(p.shape[:axis] + (1,) + p.shape[axis + 1 :], dt)
    return p + concatenate([head, cumsum(corr, axis=axis)], axis=axis).astype(dt)


def resize(a, new_shape):
    """a's flattened values repeated cyclically to fill new_shape."""
    a = asarray_any(a)
    shape = (int(new_shape),) if isinstance(new_shape, (int, np.integer)) else tuple(int(d) for d in new_shape)
    if any(d < 0 for d in shape):
        raise ValueError("all elements of `new_shape` must be non-negative")
    size = int(np.prod(shape))
    flat = a.ravel()
    if flat.shape[0] == 0 or size == 0:
        return zeros(shape, a.dtype)
    return reshape(take(flat, remainder(arange(size), flat.shape[0])), shape)


def trim_zeros(filt, trim: str = "fb", axis=None):
    """filt without its leading ('f') and/or trailing ('b') zeros (needs concrete values)."""
    a = asarray_any(filt)
    if isinstance(a, Tracer):
        raise ConcretizationTypeError("jnp.trim_zeros needs concrete input: the result's size depends on the values")
    host = np.asarray(a)
    if a.ndim != 1 and axis is None:
        nz = np.argwhere(host != 0)
        if nz.size == 0:
            return a[tuple(slice(0, 0) for _ in a.shape)]
        lo = nz.min(axis=0) if "f" in trim.lower() else np.zeros(a.ndim, int)
        hi = nz.max(axis=0) + 1 if "b" in trim.lower() else np.array(a.shape)
        return a[tuple(slice(int(lo_), int(hi_)) for lo_, hi_ in zip(lo, hi))]
    nz = np.flatnonzero(host != 0)
    if nz.size == 0:
        return a[0:0]
    lo = int(nz[0]) if "f" in trim.lower() else 0
    hi = int(nz[-1]) + 1 if "b" in trim.lower() else host.shape[0]
    return a[lo:hi]


def block(arrays):
    """Assemble an array from nested lists of blocks (the innermost lists join on the last axis)."""

    def depth(x):
        if isinstance(x, list):
            if not x:
                raise ValueError("Lists cannot be empty")
            ds = {depth(v) for v in x}
            if len(ds) != 1:
                raise ValueError("List depths are mismatched")
            return 1 + ds.pop()
        if isinstance(x, tuple):
            raise TypeError("jnp.block does not accept tuples; use lists")
        return 0

    d = depth(arrays)

    def leaves(x):
        return [v for s in x for v in leaves(s)] if isinstance(x, list) else [asarray_any(x)]

    nd = max([d] + [v.ndim for v in leaves(arrays)])

    def build(x, level):
        if not isinstance(x, list):
            v = asarray_any(x)
            return reshape(v, (1,) * (nd - v.ndim) + v.shape)
        return concatenate([build(v, level + 1) for v in x], axis=-(d - level))

    return build(arrays, 0)


def dsplit(ary, indices_or_sections):
    a = asarray_any(ary)
    if a.ndim < 3:
        raise ValueError("dsplit only works on arrays of 3 or more dimensions")
    return split(a, indices_or_sections, axis=2)


def copy(a, order: str | None = None):
    return array(a, copy=True)


def array_equiv(a1, a2):
    a1, a2 = asarray_any(a1), asarray_any(a2)
    try:
        np.broadcast_shapes(a1.shape, a2.shape)
    except ValueError:
        return asarray(np.False_)
    return _all(equal(a1, a2))


iterable = np.iterable


def array_str(a, max_line_width=None, precision=None, suppress_small=None):
    return np.array_str(np.asarray(a), max_line_width, precision, suppress_small)


def array_repr(arr, max_line_width=None, precision=None, suppress_small=None):
    return "Array" + np.array_repr(np.asarray(arr), max_line_width, precision, suppress_small)[5:]


printoptions = np.printoptions
get_printoptions = np.get_printoptions
set_printoptions = np.set_printoptions


def frombuffer(buffer, dtype=float, count: int = -1, offset: int = 0):
    return asarray(np.frombuffer(buffer, dtype=dtype, count=count, offset=offset))


def fromstring(string: str, dtype=float, count: int = -1, *, sep: str):
    return asarray(np.fromstring(string, dtype=dtype, count=count, sep=sep))


def fromiter(iterable, dtype, count: int = -1, *, like=None):
    return asarray(np.fromiter(iterable, dtype=dtype, count=count))


def fromfile(file, dtype=float, count: int = -1, sep: str = "", offset: int = 0, *, like=None):
    return asarray(np.fromfile(file, dtype=dtype, count=count, sep=sep, offset=offset))


def load(file, *args, **kwargs):
    """np.load, with a plain array result as an irjax Array (archives stay NumPy's)."""
    out = np.load(file, *args, **kwargs)
    return asarray(out) if isinstance(out, np.ndarray) and out.dtype != object else out


save = np.save
savez = np.savez


def einsum_path(subscripts, /, *operands, optimize="greedy"):
    """NumPy's contraction path for operands of these shapes (the values are not read)."""
    shaped = [
        np.broadcast_to(np.zeros((), dtypes.canonicalize_dtype(asarray_any(o).dtype)), np.shape(o)) for o in operands
    ]
    path, info = np.einsum_path(subscripts, *shaped, optimize=optimize if optimize != "auto" else "greedy")
    return [p for p in path if p != "einsum_path"], info

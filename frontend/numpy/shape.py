"""Shape manipulation: reshape, transpose, concatenate, stack, split, tile, repeat, pad, ..."""

from __future__ import annotations

import numpy as np
from irjax import lax
from irjax.core import Tracer
from irjax.errors import ConcretizationTypeError
from irjax.operands import (  # noqa: F401  (moved below lax)
    concatenate,
    expand_dims,
    moveaxis,
    ravel,
    reshape,
    squeeze,
    stack,
    transpose,
)

from ._util import asarray_any, canonical_axes, canonical_axis, convert, with_weak
from ._util import broadcast_to as _broadcast_to
from .creation import eye
from .indexing import (
    slice_axis,
    take,
    take_along_last_two,
    where,
)
from .reductions import cumsum
from .reductions import sum as _sum


def shape(a):
    return asarray_any(a).shape if hasattr(a, "aval") else np.shape(a)


def ndim(a):
    return len(shape(a))


def size(a, axis=None):
    s = shape(a)
    return int(np.prod(s)) if axis is None else s[axis]


def permute_dims(a, axes):
    return transpose(a, axes)


def swapaxes(a, axis1, axis2):
    a = asarray_any(a)
    perm = list(range(a.ndim))
    i, j = canonical_axis(axis1, a.ndim), canonical_axis(axis2, a.ndim)
    perm[i], perm[j] = perm[j], perm[i]
    return transpose(a, perm)


def broadcast_to(array, shape):
    a = asarray_any(array)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return with_weak(_broadcast_to(a, shape), a.aval.weak_type)


def broadcast_arrays(*args):
    shp = np.broadcast_shapes(*[asarray_any(a).shape for a in args])
    return [broadcast_to(a, shp) for a in args]


def broadcast_shapes(*shapes):
    return np.broadcast_shapes(*shapes)


def atleast_1d(*arys):
    out = [asarray_any(a) if asarray_any(a).ndim >= 1 else reshape(a, (1,)) for a in arys]
    return out[0] if len(out) == 1 else out


def atleast_2d(*arys):
    out = []
    for a in arys:
        a = asarray_any(a)
        out.append(a if a.ndim >= 2 else reshape(a, (1,) * (2 - a.ndim) + a.shape))
    return out[0] if len(out) == 1 else out


def atleast_3d(*arys):
    out = []
    for a in arys:
        a = asarray_any(a)
        if a.ndim == 0:
            a = reshape(a, (1, 1, 1))
        elif a.ndim == 1:
            a = reshape(a, (1, a.shape[0], 1))
        elif a.ndim == 2:
            a = reshape(a, a.shape + (1,))
        out.append(a)
    return out[0] if len(out) == 1 else out


concat = concatenate


def hstack(tup, dtype=None):
    arrs = [atleast_1d(a) for a in tup]
    return concatenate(arrs, axis=0 if arrs[0].ndim == 1 else 1, dtype=dtype)


def vstack(tup, dtype=None):
    return concatenate([atleast_2d(a) for a in tup], axis=0, dtype=dtype)


row_stack = vstack


def dstack(tup, dtype=None):
    return concatenate([atleast_3d(a) for a in tup], axis=2, dtype=dtype)


def column_stack(tup):
    arrs = [asarray_any(a) for a in tup]
    return concatenate([reshape(a, (a.shape[0], 1)) if a.ndim == 1 else a for a in arrs], axis=1)


def split(ary, indices_or_sections, axis=0):
    a = asarray_any(ary)
    ax = canonical_axis(axis, a.ndim)
    n = a.shape[ax]
    if isinstance(indices_or_sections, (int, np.integer)):
        k = int(indices_or_sections)
        if n % k:
            raise ValueError(f"array split does not result in an equal division: rest is {n % k}")
        bounds = [i * (n // k) for i in range(k + 1)]
    else:
        bounds = [0] + [int(i) for i in indices_or_sections] + [n]
    return [slice_axis(a, ax, max(min(s, n), 0), max(min(e, n), 0)) for s, e in zip(bounds[:-1], bounds[1:])]


def array_split(ary, indices_or_sections, axis=0):
    a = asarray_any(ary)
    if isinstance(indices_or_sections, int):
        n = a.shape[canonical_axis(axis, a.ndim)]
        k = indices_or_sections
        sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
        idx = list(np.cumsum(sizes)[:-1])
        return split(a, idx, axis)
    return split(a, indices_or_sections, axis)


def hsplit(ary, indices_or_sections):
    return split(ary, indices_or_sections, axis=1 if asarray_any(ary).ndim > 1 else 0)


def vsplit(ary, indices_or_sections):
    return split(ary, indices_or_sections, axis=0)


def tile(A, reps):
    a = asarray_any(A)
    reps = (reps,) if isinstance(reps, int) else tuple(reps)
    nd = max(a.ndim, len(reps))
    a = reshape(a, (1,) * (nd - a.ndim) + a.shape)
    reps = (1,) * (nd - len(reps)) + reps
    # broadcast to (r0, d0, r1, d1, ...) then merge pairs
    inter = []
    for r, d in zip(reps, a.shape):
        inter += [r, d]
    b = lax.broadcast_in_dim(a, inter, range(1, 2 * nd, 2))
    return reshape(b, tuple(r * d for r, d in zip(reps, a.shape)))


def repeat(a, repeats, axis=None, total_repeat_length=None):
    """As jnp.repeat. With total_repeat_length the result has that length along the axis: cut
    short, or padded with the last element (as JAX), and `repeats` may then be traced."""
    a = asarray_any(a)
    if axis is None:
        a, axis = ravel(a), 0
    ax = canonical_axis(axis, a.ndim)
    n = a.shape[ax]
    if isinstance(repeats, (int, np.integer)) and total_repeat_length is None:
        r = int(repeats)
        shp = a.shape[: ax + 1] + (r,) + a.shape[ax + 1 :]
        b = lax.broadcast_in_dim(a, shp, [i if i <= ax else i + 1 for i in range(a.ndim)])
        return reshape(b, a.shape[:ax] + (n * r,) + a.shape[ax + 1 :])
    if total_repeat_length is None:
        if isinstance(repeats, Tracer):
            raise ConcretizationTypeError(
                repeats,
                "jnp.repeat with traced repeats needs total_repeat_length, the length of its result.",
            )
        idx = np.repeat(np.arange(n), np.asarray(repeats))
        return take(a, idx, axis=ax)
    total = int(total_repeat_length)
    if not isinstance(repeats, Tracer):
        reps = np.broadcast_to(np.asarray(repeats), (n,))
        idx = np.repeat(np.arange(n), reps)[:total]
        if idx.size < total:  # the last element fills the rest (nothing to fill from if a is empty)
            idx = np.concatenate([idx, np.full(total - idx.size, n - 1 if n else 0, idx.dtype)])
        return take(a, idx, axis=ax, mode="clip")
    # output position j takes element i: the count of elements whose repeats end at or before j
    ends = cumsum(broadcast_to(convert(asarray_any(repeats), np.dtype(np.int32)), (n,)))
    j = lax.iota(np.int32, total)
    idx = _sum(ends[None, :] <= j[:, None], axis=1)
    return take(a, idx, axis=ax, mode="clip")


def flip(m, axis=None):
    m = asarray_any(m)
    axes = canonical_axes(axis, m.ndim)
    if not axes:
        return m
    if m.dtype.kind == "u":
        # IREE 3.13 fails to compile stablehlo.reverse of unsigned ints ("failed to legalize
        # linalg.generic"): reverse the same bits as signed ints
        signed = np.dtype(f"i{m.dtype.itemsize}")
        r = lax.rev(lax.bitcast_convert_type(m, signed), axes)
        return with_weak(lax.bitcast_convert_type(r, m.dtype), m.aval.weak_type)
    return with_weak(lax.rev(m, axes), m.aval.weak_type)


def fliplr(m):
    return flip(m, 1)


def flipud(m):
    return flip(m, 0)


def roll(a, shift, axis=None):
    """As jnp.roll: shifts and axes broadcast against each other; a traced shift rolls with a
    dynamic slice of the axis written twice."""
    a = asarray_any(a)
    if axis is None:
        return reshape(roll(ravel(a), shift, 0), a.shape)
    shifts = list(shift) if isinstance(shift, (tuple, list)) else [shift] if np.ndim(shift) == 0 else list(shift)
    axes = [axis] if isinstance(axis, (int, np.integer)) else list(axis)
    if len(shifts) == 1:
        shifts = shifts * len(axes)
    if len(axes) == 1:
        axes = axes * len(shifts)
    if len(shifts) != len(axes):
        raise ValueError(f"roll: {len(shifts)} shifts for {len(axes)} axes")
    for s, ax in zip(shifts, axes):
        ax = canonical_axis(ax, a.ndim)
        n = a.shape[ax]
        if n == 0:
            continue
        if isinstance(s, Tracer):
            start = n - lax.rem(lax.rem(convert(s, np.dtype(np.int32)), np.int32(n)) + np.int32(n), np.int32(n))
            a = lax.dynamic_slice_in_dim(concatenate([a, a], axis=ax), start, n, ax)
            continue
        s = int(s) % n
        if s:
            a = concatenate([slice_axis(a, ax, n - s, n), slice_axis(a, ax, 0, n - s)], axis=ax)
    return a


def rot90(m, k=1, axes=(0, 1)):
    m = asarray_any(m)
    k %= 4
    for _ in range(k):
        m = swapaxes(flip(m, axes[1]), axes[0], axes[1])
    return m


def diagonal(a, offset=0, axis1=0, axis2=1):
    return take_along_last_two(moveaxis(asarray_any(a), (axis1, axis2), (-2, -1)), offset)


def trace(a, offset=0, axis1=0, axis2=1, dtype=None):
    return _sum(diagonal(a, offset, axis1, axis2), axis=-1, dtype=dtype)


def diag(v, k=0):
    """A 1-D v placed on the k-th diagonal of a square matrix, or the k-th diagonal of a 2-D v."""
    v = asarray_any(v)
    if v.ndim == 1:
        n = v.shape[0] + abs(k)
        vv = lax.pad(
            v, np.zeros((), v.dtype), [(0, abs(k), 0)]
        )  # length n; row i (k >= 0) or column j (k < 0) holds v[i] / v[j]
        vv = reshape(vv, (n, 1)) if k >= 0 else reshape(vv, (1, n))
        return where(eye(n, k=k, dtype=bool), vv, 0)
    if v.ndim == 2:
        return diagonal(v, k)
    raise ValueError("diag input must be 1d or 2d")


# ---- differences, appends and deletions (static positions) ---------------------------------------


def diff(a, n=1, axis=-1, prepend=None, append=None):
    """n-th discrete difference along axis."""
    a = asarray_any(a)
    if n < 0:
        raise ValueError(f"order must be non-negative but got {n}")
    ax = canonical_axis(axis, a.ndim)
    parts = []
    for extra in (prepend, append):
        if extra is None:
            parts.append(None)
            continue
        e = asarray_any(extra)
        if e.ndim == 0:
            shape = list(a.shape)
            shape[ax] = 1
            e = broadcast_to(e, tuple(shape))
        parts.append(e)
    if parts[0] is not None or parts[1] is not None:
        a = concatenate([p for p in (parts[0], a, parts[1]) if p is not None], axis=ax)
    for _ in range(n):
        m = a.shape[ax]
        hi = [slice(None)] * a.ndim
        lo = [slice(None)] * a.ndim
        hi[ax], lo[ax] = slice(1, m), slice(0, m - 1)
        a = a[tuple(hi)] - a[tuple(lo)] if a.dtype != np.bool_ else a[tuple(hi)] != a[tuple(lo)]
    return a


def ediff1d(ary, to_end=None, to_begin=None):
    out = diff(ravel(ary))
    parts = [ravel(_as(to_begin, out.dtype))] if to_begin is not None else []
    parts.append(out)
    if to_end is not None:
        parts.append(ravel(_as(to_end, out.dtype)))
    return concatenate(parts) if len(parts) > 1 else out


def _as(x, dtype):
    return convert(asarray_any(x), dtype)


def append(arr, values, axis=None):
    if axis is None:
        return concatenate([ravel(arr), ravel(values)])
    return concatenate([arr, values], axis=axis)


def _static_indices(obj, n, what):
    if hasattr(obj, "aval") and not hasattr(obj, "_buf"):
        raise TypeError(f"{what}: the positions must be static (concrete), not traced")
    if isinstance(obj, slice):
        return np.arange(n)[obj]
    idx = np.asarray(obj)
    if idx.dtype == np.bool_:
        if idx.shape != (n,):
            raise ValueError(f"{what}: boolean index of shape {idx.shape} for an axis of length {n}")
        return np.nonzero(idx)[0]
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{what}: positions must be integers, got {idx.dtype.name}")
    if idx.size and (idx.max() >= n or idx.min() < -n):
        raise IndexError(
            f"{what}: index {int(idx.max() if idx.max() >= n else idx.min())} is out of bounds for axis with size {n}"
        )
    return np.where(idx < 0, idx + n, idx)


def delete(arr, obj, axis=None, *, assume_unique_indices=False):
    """arr without the entries at the (static) positions obj along axis."""
    a = asarray_any(arr)
    if axis is None:
        a, axis = ravel(a), 0
    ax = canonical_axis(axis, a.ndim)
    n = a.shape[ax]
    drop = set(_static_indices(obj, n, "delete").ravel().tolist())
    keep = np.array([i for i in range(n) if i not in drop], np.int32)
    return take(a, keep, axis=ax)


def insert(arr, obj, values, axis=None):
    """values inserted before the (static) positions obj along axis."""
    a = asarray_any(arr)
    if axis is None:
        a, axis = ravel(a), 0
    ax = canonical_axis(axis, a.ndim)
    n = a.shape[ax]
    if isinstance(obj, slice):
        pos = np.arange(n + 1)[obj]
    else:
        pos = np.asarray(obj)
        if pos.dtype.kind not in "iu":
            raise TypeError(f"insert: positions must be integers, got {pos.dtype.name}")
        if pos.size and (pos.max() > n or pos.min() < -n):
            raise IndexError(f"insert: index out of bounds for axis {ax} with size {n}")
        pos = np.where(pos < 0, pos + n, pos)
    v = convert(asarray_any(values), a.dtype)
    scalar_pos = np.ndim(obj) == 0 and not isinstance(obj, slice)
    cnt = 1 if scalar_pos and v.ndim < a.ndim else (int(v.shape[ax]) if scalar_pos else int(np.size(pos)))
    vshape = list(a.shape)
    vshape[ax] = cnt
    if scalar_pos and v.ndim < a.ndim:
        v = expand_dims(v, ax) if v.ndim == a.ndim - 1 else v
    v = broadcast_to(v, tuple(vshape))
    positions = np.full(cnt, int(pos)) if scalar_pos else pos.ravel()
    # stable order: originals at i, inserted items just before original positions[j]
    order = sorted([(i, 1, i) for i in range(n)] + [(int(p), 0, n + j) for j, p in enumerate(positions)])
    src = np.array([k for _, _, k in order], np.int32)

    return take(concatenate([a, v], axis=ax), src, axis=ax)


def unstack(x, /, *, axis=0):
    x = asarray_any(x)
    ax = canonical_axis(axis, x.ndim)
    return tuple(moveaxis(x, ax, 0)[i] for i in range(x.shape[ax]))


def matrix_transpose(x, /):
    x = asarray_any(x)
    if x.ndim < 2:
        raise ValueError(f"x must be at least two-dimensional for matrix_transpose; got ndim={x.ndim}")
    return swapaxes(x, -1, -2)


def rollaxis(a, axis, start=0):
    a = asarray_any(a)
    ax = canonical_axis(axis, a.ndim)
    start = start + a.ndim if start < 0 else start
    if not 0 <= start <= a.ndim:
        raise ValueError(f"start {start} is out of bounds for {a.ndim} dimensions")
    if ax < start:
        start -= 1
    return moveaxis(a, ax, start)

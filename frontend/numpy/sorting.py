"""sort, argsort (stable, NaNs last, as JAX)."""

from __future__ import annotations

import numpy as np
from irjax import dtypes, lax
from irjax.core import Tracer
from irjax.errors import ConcretizationTypeError
from irjax.operands import asarray, concatenate

from ._util import asarray_any, canonical_axis
from .creation import arange, full
from .indexing import take, where
from .reductions import any as _any
from .reductions import cumsum
from .reductions import sum as _sum
from .shape import flip
from .ufuncs import isnan, less, less_equal, logical_and, logical_not, not_equal, subtract


def sort(a, axis=-1, kind=None, order=None, stable=True, descending=False):
    a = asarray_any(a)
    if axis is None:
        a, axis = a.ravel(), 0
    ax = canonical_axis(axis, a.ndim)
    if a.ndim == 0:
        return a
    out = lax.sort(a, dimension=ax)
    if descending:
        out = flip(out, ax)
    return out


def argsort(a, axis=-1, kind=None, order=None, stable=True, descending=False, dtype=None):
    if dtype is not None:  # the index dtype (JAX's default is int32 without x64)
        return argsort(a, axis, stable=stable, descending=descending).astype(dtype)
    a = asarray_any(a)
    if axis is None:
        a, axis = a.ravel(), 0
    ax = canonical_axis(axis, a.ndim)
    idx = lax.broadcasted_iota(np.int32, a.shape, ax)
    if not descending:
        return lax.sort((a, idx), dimension=ax)[1]
    # JAX's order: stable ascending sort of the reversed array, read backwards, so ties keep
    # their original order and NaNs come first (negating the keys breaks ints, uints and NaN)
    _, perm = lax.sort((flip(a, ax), idx), dimension=ax)
    return subtract(np.int32(a.shape[ax] - 1), flip(perm, ax))


def lexsort(keys, axis=-1):
    keys = [asarray_any(k) for k in keys]
    ax = canonical_axis(axis, keys[0].ndim)
    idx = lax.broadcasted_iota(np.int32, keys[0].shape, ax)
    outs = lax.sort((*reversed(keys), idx), dimension=ax, num_keys=len(keys))
    return outs[-1]


def searchsorted(a, v, side="left", sorter=None, *, method="scan"):
    """Indices where v would be inserted into the sorted 1-d a to keep it sorted."""
    a, v = asarray_any(a), asarray_any(v)
    if a.ndim != 1:
        raise ValueError(f"a should be 1-dimensional, got shape {a.shape}")
    if side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right', got {side!r}")
    if sorter is not None:
        a = take(a, sorter)

    x, y = a, v[..., None]
    before = less(x, y) if side == "left" else less_equal(x, y)
    if dtypes.kind(a.dtype) == "f" or dtypes.kind(v.dtype) == "f":
        # NaN sorts last (as jnp.sort): every number is before it, and with side='right' NaN too
        nan_y = isnan(y)
        before = before | (nan_y if side == "right" else nan_y & ~isnan(x))
    # count of a's elements before v: a comparison per (v, a) pair, summed (O(len(a)) each)
    return _sum(before, axis=-1).astype(np.int32)


def partition(a, kth, axis=-1):
    """Like numpy.partition: the result is fully sorted, which satisfies the contract."""
    a = asarray_any(a)
    _check_kth(a, kth, axis)
    return sort(a, axis)


def argpartition(a, kth, axis=-1):
    a = asarray_any(a)
    _check_kth(a, kth, axis)
    return argsort(a, axis)


def _check_kth(a, kth, axis):
    n = a.shape[canonical_axis(axis, a.ndim)]
    for k in np.atleast_1d(np.asarray(kth)):
        if not -n <= int(k) < n:
            raise ValueError(f"kth(={int(k)}) out of bounds ({n})")


def isin(element, test_elements, assume_unique=False, invert=False, *, method="auto"):
    """element in test_elements, elementwise (a comparison with every test element)."""
    e, t = asarray_any(element), asarray_any(test_elements).ravel()
    hit = _any(e[..., None] == t, axis=-1)
    return ~hit if invert else hit


def unique(
    ar,
    return_index=False,
    return_inverse=False,
    return_counts=False,
    axis=None,
    *,
    equal_nan=True,
    size=None,
    fill_value=None,
    sorted=True,
):
    """Sorted unique values (of the flattened array, or of the slices along `axis`).

    The result's size depends on the values, so, as in JAX, it needs concrete input unless
    `size` is given (then padded with fill_value, default the smallest unique value).
    """
    a = asarray_any(ar)
    if axis is not None:
        if isinstance(a, Tracer):
            raise NotImplementedError("jnp.unique with axis= needs concrete input in irjax (no traced form yet)")
        return _unique_axis(a, axis, return_index, return_inverse, return_counts, equal_nan)
    if isinstance(a, Tracer) and size is None:
        raise ConcretizationTypeError(
            "The size argument of jnp.unique must be statically specified to use jnp.unique within JAX transformations."
        )
    if size is None:
        host = np.asarray(a).ravel()
        res = np.unique(
            host,
            return_index=return_index,
            return_inverse=return_inverse,
            return_counts=return_counts,
            equal_nan=equal_nan,
        )
        res = res if isinstance(res, tuple) else (res,)

        out = [asarray(res[0])] + [asarray(r.astype(np.int32)) for r in res[1:]]
        if return_inverse:  # JAX's inverse has the input's shape (axis=None)
            k = 1 + bool(return_index)
            out[k] = out[k].reshape(a.shape)
        return out[0] if len(out) == 1 else tuple(out)
    out = _unique_sized(a.ravel(), size, fill_value, return_index, return_inverse, return_counts, equal_nan)
    if return_inverse:
        out = list(out)
        k = 1 + bool(return_index)
        out[k] = out[k].reshape(a.shape)
        out = tuple(out)
    return out


def _unique_axis(a, axis, return_index, return_inverse, return_counts, equal_nan):
    """unique of the slices along `axis`, from a concrete array (NumPy's row order)."""
    axis = canonical_axis(axis, a.ndim)
    res = np.unique(
        np.asarray(a),
        return_index=return_index,
        return_inverse=return_inverse,
        return_counts=return_counts,
        axis=axis,
        equal_nan=equal_nan,
    )
    res = res if isinstance(res, tuple) else (res,)
    out = [asarray(res[0])] + [asarray(np.asarray(r).ravel().astype(np.int32)) for r in res[1:]]
    return out[0] if len(out) == 1 else tuple(out)


def _unique_sized(flat, size, fill_value, return_index, return_inverse, return_counts, equal_nan=True):
    order = argsort(flat)
    s = flat[order]
    first = _starts(s, equal_nan)  # True where a new value starts
    slot = cumsum(first) - 1  # each sorted element's unique slot
    n = flat.shape[0]
    fill = s[0] if fill_value is None else fill_value
    vals = full((size,), fill, dtype=flat.dtype).at[where(first, slot, size)].set(s, mode="drop")
    out = [vals]
    if return_index:
        # padding slots repeat the smallest value, so they get its index (as in JAX)
        pad = order[0].astype(np.int32) if n else 0
        idx = full((size,), -1, dtype=np.int32).at[where(first, slot, size)].set(order.astype(np.int32), mode="drop")
        out.append(where(idx < 0, pad, idx))
    if return_inverse:
        out.append(full((n,), 0, dtype=np.int32).at[order].set(slot.astype(np.int32)))
    if return_counts:
        out.append(_sum((slot[None, :] == arange(size)[:, None]), axis=1).astype(np.int32))
    return out[0] if len(out) == 1 else tuple(out)


def _starts(s, equal_nan=False):
    """For a sorted 1-d s: True at each position where a new value starts (NaNs, sorted
    last, form one run when equal_nan)."""
    if not s.shape[0]:
        return s == s
    new = not_equal(s[1:], s[:-1])
    if equal_nan and s.dtype.kind in "fcV":
        new = logical_and(new, logical_not(logical_and(isnan(s[1:]), isnan(s[:-1]))))
    return concatenate([asarray_any(np.array([True])), new])

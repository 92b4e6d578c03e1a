"""Set operations: the array API's unique_all/counts/inverse/values and NumPy's union1d,
intersect1d, setdiff1d, setxor1d (value-dependent sizes: concrete input, or a static `size=`)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from irjax.core import Tracer
from irjax.errors import ConcretizationTypeError

from ._util import asarray_any
from .creation import arange, full
from .indexing import nonzero, take, where
from .reductions import sum as _sum
from .shape import concatenate, reshape
from .sorting import argsort, isin, unique
from .ufuncs import logical_and, logical_not, not_equal


class UniqueAllResult(NamedTuple):
    values: object
    indices: object
    inverse_indices: object
    counts: object


class UniqueCountsResult(NamedTuple):
    values: object
    counts: object


class UniqueInverseResult(NamedTuple):
    values: object
    inverse_indices: object


# The array API treats NaNs as distinct (equal_nan=False), as JAX's unique_* do.
def unique_all(x, /, *, size: int | None = None, fill_value=None) -> UniqueAllResult:
    x = asarray_any(x)
    v, i, inv, c = unique(
        x, return_index=True, return_inverse=True, return_counts=True, equal_nan=False, size=size, fill_value=fill_value
    )
    return UniqueAllResult(v, i, reshape(inv, x.shape), c)


def unique_counts(x, /, *, size: int | None = None, fill_value=None) -> UniqueCountsResult:
    v, c = unique(x, return_counts=True, equal_nan=False, size=size, fill_value=fill_value)
    return UniqueCountsResult(v, c)


def unique_inverse(x, /, *, size: int | None = None, fill_value=None) -> UniqueInverseResult:
    x = asarray_any(x)
    v, inv = unique(x, return_inverse=True, equal_nan=False, size=size, fill_value=fill_value)
    return UniqueInverseResult(v, reshape(inv, x.shape))


def unique_values(x, /, *, size: int | None = None, fill_value=None):
    return unique(x, equal_nan=False, size=size, fill_value=fill_value)


def _sorted_firsts(flat):
    """(sorted values, True where a new value starts) for a 1-d array; NaNs are distinct."""
    s = take(flat, argsort(flat))
    if s.shape[0] == 0:
        return s, s == s
    head = asarray_any(np.array([True]))
    return s, concatenate([head, not_equal(s[1:], s[:-1])])


def _compact(name, s, keep, size, fill_value):
    """s[keep] with a value-dependent length: concrete `keep`, or `size` entries padded."""
    if size is None:
        if isinstance(keep, Tracer):
            raise ConcretizationTypeError(
                f"The size argument of jnp.{name} must be statically specified to use jnp.{name} "
                "within JAX transformations."
            )
        return take(s, asarray_any(np.flatnonzero(np.asarray(keep)).astype(np.int32)))
    size = int(size)
    n = s.shape[0]
    (idx,) = nonzero(keep, size=size, fill_value=n)
    out = take(s, idx, mode="fill", fill_value=0)
    if n == 0:
        return full((size,), 0 if fill_value is None else fill_value, dtype=s.dtype)
    count = _sum(keep.astype(np.int32))
    # JAX pads with the smallest kept value unless fill_value is given
    pad = out[0] if fill_value is None else asarray_any(fill_value, s.dtype)
    return where(arange(size) < count, out, pad)


def union1d(ar1, ar2, *, size: int | None = None, fill_value=None):
    a = concatenate([asarray_any(ar1).ravel(), asarray_any(ar2).ravel()])
    s, first = _sorted_firsts(a)
    return _compact("union1d", s, first, size, fill_value)


def setdiff1d(ar1, ar2, assume_unique: bool = False, *, size: int | None = None, fill_value=None):
    s, first = _sorted_firsts(asarray_any(ar1).ravel())
    keep = logical_and(first, logical_not(isin(s, asarray_any(ar2))))
    # JAX pads setdiff1d with zeros (the other set operations with their smallest value)
    return _compact("setdiff1d", s, keep, size, 0 if fill_value is None else fill_value)


def setxor1d(ar1, ar2, assume_unique: bool = False, *, size: int | None = None, fill_value=None):
    a, b = asarray_any(ar1).ravel(), asarray_any(ar2).ravel()
    s, first = _sorted_firsts(concatenate([a, b]))
    keep = logical_and(first, not_equal(isin(s, a), isin(s, b)))
    return _compact("setxor1d", s, keep, size, fill_value)


def intersect1d(
    ar1, ar2, assume_unique: bool = False, return_indices: bool = False, *, size: int | None = None, fill_value=None
):
    a, b = asarray_any(ar1).ravel(), asarray_any(ar2).ravel()
    order = argsort(a)
    s = take(a, order)
    if s.shape[0]:
        first = concatenate([asarray_any(np.array([True])), not_equal(s[1:], s[:-1])])
    else:
        first = s == s
    keep = logical_and(first, isin(s, b))
    vals = _compact("intersect1d", s, keep, size, fill_value)
    if not return_indices:
        return vals
    # first index of each common value in ar1 (stable sort: `order` at the run start) and in ar2
    i1 = _compact("intersect1d", order.astype(np.int32), keep, size, None)
    eq = vals[:, None] == b[None, :]
    i2 = argsort(logical_not(eq), axis=1)[:, 0].astype(np.int32) if b.shape[0] else i1 * 0
    return vals, i1, i2


__all__ = [
    "UniqueAllResult",
    "UniqueCountsResult",
    "UniqueInverseResult",
    "intersect1d",
    "setdiff1d",
    "setxor1d",
    "union1d",
    "unique_all",
    "unique_counts",
    "unique_inverse",
    "unique_values",
]

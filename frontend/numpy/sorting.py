"""sort, argsort (stable, NaNs last, as JAX)."""

from __future__ import annotations

import numpy as np

from irjax.core import bind

from ._util import asarray_any, canonical_axis


def sort(a, axis=-1, kind=None, order=None, stable=True, descending=False):
    a = asarray_any(a)
    if axis is None:
        a, axis = a.ravel(), 0
    ax = canonical_axis(axis, a.ndim)
    if a.ndim == 0:
        return a
    (out,) = bind("sort", a, dimension=ax, num_keys=1, is_stable=True)
    if descending:
        from .shape import flip

        out = flip(out, ax)
    return out


def argsort(a, axis=-1, kind=None, order=None, stable=True, descending=False):
    a = asarray_any(a)
    if axis is None:
        a, axis = a.ravel(), 0
    ax = canonical_axis(axis, a.ndim)
    idx = bind("iota", dtype=np.dtype(np.int32), shape=a.shape, dimension=ax)
    key = a
    if descending:
        from .ufuncs import negative

        key = negative(a) if a.dtype.kind != "b" else bind("not", a)
    _, perm = bind("sort", key, idx, dimension=ax, num_keys=1, is_stable=True)
    return perm


def lexsort(keys, axis=-1):
    keys = [asarray_any(k) for k in keys]
    ax = canonical_axis(axis, keys[0].ndim)
    idx = bind("iota", dtype=np.dtype(np.int32), shape=keys[0].shape, dimension=ax)
    outs = bind("sort", *reversed(keys), idx, dimension=ax, num_keys=len(keys), is_stable=True)
    return outs[-1]

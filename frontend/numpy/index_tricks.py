"""Index helpers and functional updates: unravel_index, ravel_multi_index, ix_, mgrid, ogrid,
r_, c_, s_, index_exp, mask_indices, diagflat, choose, compress, extract, place, put,
put_along_axis, fill_diagonal (JAX's versions: they return new arrays, inplace=False)."""

from __future__ import annotations

import numpy as np
from irjax import dtypes
from irjax.core import Tracer
from irjax.errors import ConcretizationTypeError

from ._util import asarray_any, canonical_axis
from .creation import arange, asarray, ones
from .indexing import nonzero, take, take_along_axis, where
from .reductions import cumsum
from .shape import broadcast_arrays, concatenate, diag, moveaxis, reshape, stack
from .ufuncs import clip, remainder

s_ = np.s_
index_exp = np.index_exp


def unravel_index(indices, shape):
    """Coordinates of flat `indices` in `shape`; negative indices wrap once and out-of-range
    ones clip to the edge (JAX's rule: it cannot raise on traced values)."""
    idx = asarray_any(indices)
    if not dtypes.issubdtype(idx.dtype, np.integer):
        raise TypeError(f"unravel_index: indices must be integers, got {idx.dtype}")
    shape = tuple(int(d) for d in np.atleast_1d(shape))
    total = int(np.prod(shape))
    idx = where(idx < 0, idx + total, idx)
    idx = clip(idx, 0, max(total - 1, 0))
    out = []
    for d in reversed(shape):
        out.append(remainder(idx, d) if d else idx * 0)
        idx = idx // d if d else idx
    return tuple(reversed(out))


def ravel_multi_index(multi_index, dims, mode: str = "raise", order: str = "C", *, dtype=None):
    dims = tuple(int(d) for d in dims)
    if len(multi_index) != len(dims):
        raise ValueError(f"parameter multi_index must be a sequence of length {len(dims)}")
    if order not in ("C", "F"):
        raise ValueError(f"order must be 'C' or 'F', got {order!r}")
    idx = [asarray_any(i) for i in multi_index]
    for i in idx:
        if not dtypes.issubdtype(i.dtype, np.integer):
            raise TypeError(f"only int indices permitted, got {i.dtype}")
    if mode == "raise":
        if any(isinstance(i, Tracer) for i in idx):
            raise ValueError(
                "The error occurred because ravel_multi_index was jit-compiled with mode='raise'. "
                "Use mode='wrap' or mode='clip' instead."
            )
        for i, d in zip(idx, dims):
            h = np.asarray(i)
            if h.size and (h.min() < 0 or h.max() >= d):
                raise ValueError("invalid entry in coordinates array")
    elif mode == "wrap":
        idx = [remainder(i, d) for i, d in zip(idx, dims)]
    elif mode == "clip":
        idx = [clip(i, 0, d - 1) for i, d in zip(idx, dims)]
    else:
        raise ValueError(f"invalid mode={mode!r}. Expected 'raise', 'wrap', or 'clip'")
    axes = range(len(dims)) if order == "F" else reversed(range(len(dims)))
    out, stride = 0, 1
    dt = dtypes.canonicalize_dtype(dtype) if dtype is not None else dtypes.default_int
    for k in axes:
        out = out + idx[k].astype(dt) * stride
        stride *= dims[k]
    return asarray_any(out).astype(dt)


def ix_(*args):
    """Open mesh from 1-d sequences: the k-th output has shape (1, .., n_k, .., 1)."""
    n = len(args)
    out = []
    for k, a in enumerate(args):
        a = asarray_any(a)
        if a.ndim != 1:
            raise ValueError(f"Cross index must be 1 dimensional, got shape {a.shape}")
        if a.dtype == np.bool_:
            (a,) = nonzero(a)
        out.append(reshape(a, (1,) * k + (a.shape[0],) + (1,) * (n - k - 1)))
    return tuple(out)


class _Grid:
    """mgrid / ogrid: static slices give arange or (complex step) linspace grids."""

    def __init__(self, sparse: bool):
        self.sparse = sparse

    def __getitem__(self, key):
        single = isinstance(key, slice)
        keys = (key,) if single else tuple(key)
        for k in keys:
            for v in (k.start, k.stop, k.step):
                if isinstance(v, Tracer):
                    raise ValueError("mgrid/ogrid slices must be static (not traced)")
        host = (np.ogrid if self.sparse else np.mgrid)[key]
        if single:
            return asarray(_canon(host))
        if self.sparse:
            return [asarray(_canon(h)) for h in host]
        return asarray(_canon(host))


def _canon(h):
    h = np.asarray(h)
    if h.dtype.kind == "f":
        return h.astype(dtypes.canonicalize_dtype(np.float64))
    if h.dtype.kind in "iu":
        return h.astype(dtypes.canonicalize_dtype(np.int64))
    return h


mgrid = _Grid(sparse=False)
ogrid = _Grid(sparse=True)


class _Concat:
    """r_ / c_: concatenate slices (as aranges/linspaces) and arrays along an axis; a leading
    string 'axis[,ndmin[,trans1d]]' sets the axis as in NumPy."""

    def __init__(self, axis: int, ndmin: int, trans1d: int):
        self.axis, self.ndmin, self.trans1d = axis, ndmin, trans1d

    def __getitem__(self, key):
        items = key if isinstance(key, tuple) else (key,)
        axis, ndmin, trans1d = self.axis, self.ndmin, self.trans1d
        parts = []
        for i, it in enumerate(items):
            if isinstance(it, str):
                if i != 0:
                    raise ValueError("string directive must be placed at the beginning")
                if it in ("r", "c"):
                    axis, ndmin, trans1d = (0, 1, -1) if it == "r" else (-1, 2, 0)
                    continue
                vals = [int(v) for v in it.split(",")]
                axis = vals[0]
                if len(vals) > 1:
                    ndmin = vals[1]
                if len(vals) > 2:
                    trans1d = vals[2]
                continue
            if isinstance(it, slice):
                a = asarray(_canon(np.r_[it]))
            else:
                a = asarray_any(it)
            if a.ndim < ndmin:
                orig = a.ndim
                a = reshape(a, (1,) * (ndmin - a.ndim) + a.shape)
                if trans1d != -1 and orig > 0:
                    # NumPy's trans1d: where the original dims go among the new ones
                    t = trans1d % ndmin
                    a = moveaxis(a, tuple(range(ndmin - orig, ndmin)), tuple(range(t, t + orig)))
            parts.append(a)
        if not parts:
            return asarray(np.zeros((0,), dtypes.default_float))
        return concatenate([p if p.ndim else reshape(p, (1,)) for p in parts], axis=axis)


r_ = _Concat(0, 1, -1)
c_ = _Concat(-1, 2, 0)


def mask_indices(n: int, mask_func, k: int = 0, *, size: int | None = None):
    m = mask_func(ones((n, n), dtypes.default_int), k)
    return nonzero(m, size=size)


def diagflat(v, k: int = 0):
    return diag(asarray_any(v).ravel(), k)


def choose(a, choices, out=None, mode: str = "raise"):
    if out is not None:
        raise NotImplementedError("The 'out' argument to jnp.choose is not supported.")
    a = asarray_any(a)
    if not dtypes.issubdtype(a.dtype, np.integer):
        raise TypeError(f"choose: a must be an integer array, got {a.dtype}")
    ch = [asarray_any(c) for c in choices]
    n = len(ch)
    if mode == "raise":
        if isinstance(a, Tracer):  # JAX: a ConcretizationTypeError naming the traced choice array
            raise ConcretizationTypeError(
                a,
                "The error occurred because jnp.choose was jit-compiled with mode='raise'. "
                "Use mode='wrap' or mode='clip' instead.",
            )
        h = np.asarray(a)
        if h.size and (h.min() < 0 or h.max() >= n):
            raise ValueError("invalid entry in choice array")
    elif mode == "wrap":
        a = remainder(a, n)
    elif mode == "clip":
        a = clip(a, 0, n - 1)
    else:
        raise ValueError(f"mode={mode!r} not understood. Must be 'raise', 'wrap', or 'clip'")
    a, *ch = broadcast_arrays(a, *ch)
    return take_along_axis(stack(ch), a[None], axis=0)[0]


def compress(condition, a, axis: int | None = None, *, size: int | None = None, fill_value=0, out=None):
    cond = asarray_any(condition)
    if cond.ndim != 1:
        raise ValueError("condition must be a 1D array")
    arr = asarray_any(a)
    if axis is None:
        arr, axis = arr.ravel(), 0
    axis = canonical_axis(axis, arr.ndim)
    cond = cond[: arr.shape[axis]] != 0
    if size is None:
        if isinstance(cond, Tracer):
            raise ConcretizationTypeError("jnp.compress needs a static size= when condition is traced")
        idx = asarray(np.flatnonzero(np.asarray(cond)).astype(np.int32))
        return take(arr, idx, axis=axis)
    (idx,) = nonzero(cond, size=int(size), fill_value=arr.shape[axis])
    return take(arr, idx, axis=axis, mode="fill", fill_value=fill_value)


def extract(condition, arr, *, size: int | None = None, fill_value=0):
    return compress(asarray_any(condition).ravel(), asarray_any(arr).ravel(), size=size, fill_value=fill_value)


def _no_inplace(name, inplace):
    if inplace:
        raise ValueError(
            f"jax.numpy.{name} cannot modify arrays in-place, because JAX arrays are immutable. "
            f"Pass inplace=False to instead return an updated array."
        )


def place(arr, mask, vals, *, inplace: bool = True):
    """arr with the positions where mask is True set to vals, cycled in order."""
    _no_inplace("place", inplace)
    a = asarray_any(arr)
    m = asarray_any(mask).ravel() != 0
    v = asarray_any(vals).ravel()
    if v.shape[0] == 0:
        raise ValueError("Cannot place values from an empty array")
    k = remainder(cumsum(m.astype(dtypes.default_int)) - 1, v.shape[0])
    return reshape(where(m, take(v, k).astype(a.dtype), a.ravel()), a.shape)


def put(a, ind, v, mode: str | None = None, *, inplace: bool = True):
    _no_inplace("put", inplace)
    arr = asarray_any(a)
    flat = arr.ravel()
    ind = asarray_any(ind).ravel()
    vals = asarray_any(v).ravel().astype(arr.dtype)
    n = flat.shape[0]
    if mode is None or mode == "clip":  # JAX's default for put clips
        ind, m = clip(ind, 0, n - 1), None
    elif mode == "fill":
        m = "drop"
    elif mode == "wrap":
        ind, m = remainder(ind, n), None
    else:
        raise ValueError(f"mode should be one of 'wrap', 'clip' or 'fill'; got mode={mode!r}")
    if vals.shape[0] != ind.shape[0] and ind.shape[0]:
        vals = take(vals, remainder(arange(ind.shape[0]), max(vals.shape[0], 1)))
    return reshape(flat.at[ind].set(vals, mode=m), arr.shape)


def put_along_axis(arr, indices, values, axis: int | None, inplace: bool = True, *, mode: str | None = None):
    _no_inplace("put_along_axis", inplace)
    a = asarray_any(arr)
    idx = asarray_any(indices)
    if axis is None:
        a2, ax = a.ravel(), 0
        idx = idx.ravel()
    else:
        a2, ax = a, canonical_axis(axis, a.ndim)
    if idx.ndim != a2.ndim:
        raise ValueError("indices and arr must have the same number of dimensions")
    shape = np.broadcast_shapes(tuple(d if i != ax else 1 for i, d in enumerate(a2.shape)), idx.shape)
    full_idx = []
    for i in range(a2.ndim):
        if i == ax:
            full_idx.append(idx)
        else:
            sh = [1] * a2.ndim
            sh[i] = shape[i]
            full_idx.append(reshape(arange(shape[i]), sh))
    full_idx = broadcast_arrays(*full_idx)
    out = a2.at[tuple(full_idx)].set(asarray_any(values).astype(a.dtype), mode=mode)
    return reshape(out, a.shape)


def fill_diagonal(a, val, wrap: bool = False, *, inplace: bool = True):
    _no_inplace("fill_diagonal", inplace)
    a = asarray_any(a)
    if a.ndim < 2:
        raise ValueError("array must be at least 2-d")
    if a.ndim > 2 and len(set(a.shape)) != 1:
        raise ValueError("All dimensions of input must be of equal length")
    n = min(a.shape)
    if a.ndim == 2:
        # NumPy's flat step of ncols+1; `wrap` continues it down a tall matrix
        step = a.shape[1] + 1
        end = a.size if wrap else a.shape[1] * a.shape[1]
        flat_idx = np.arange(0, min(end, a.size), step)
    else:
        step = 1 + int(np.cumprod(a.shape[:-1]).sum())
        flat_idx = np.arange(n) * step
    v = asarray_any(val).ravel().astype(a.dtype)
    k = len(flat_idx)
    if v.shape[0] == 0:
        return a
    v = take(v, asarray(np.arange(k) % v.shape[0]))
    return reshape(a.ravel().at[asarray(flat_idx.astype(np.int32))].set(v), a.shape)

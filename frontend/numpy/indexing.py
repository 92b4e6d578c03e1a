"""NumPy indexing: x[idx] (basic, integer arrays, concrete boolean masks) and x.at[idx].

Static ints and slices become `slice`/`rev`; integer-array (or traced) indices become one
`gather` (`scatter` for .at updates). Out-of-range gathers clamp; out-of-range updates drop.
"""

from __future__ import annotations

import numpy as np

from irjax import dtypes
from irjax.core import Tracer, bind
from irjax.errors import NonConcreteBooleanIndexError

from ._util import asarray_any, broadcast_to, convert, is_array, with_weak


def _is_int_scalar(i):
    return isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_))


def _expand(x, idx):
    """idx as a tuple with Ellipsis expanded, None turned into new size-1 axes of x."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    idx = tuple(np.asarray(i) if isinstance(i, list) else i for i in idx)
    n_ell = sum(1 for i in idx if i is Ellipsis)
    if n_ell > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    consumed = sum(_ndim_consumed(i) for i in idx if i is not Ellipsis and i is not None)
    if consumed > x.ndim:
        raise IndexError(f"Too many indices: {x.ndim}-dimensional array indexed with {consumed} regular indices.")
    if n_ell:
        k = idx.index(Ellipsis)
        idx = idx[:k] + (slice(None),) * (x.ndim - consumed) + idx[k + 1 :]
    else:
        idx = idx + (slice(None),) * (x.ndim - consumed)
    if any(i is None for i in idx):
        shape, out_idx, d = [], [], 0
        for i in idx:
            if i is None:
                shape.append(1)
                out_idx.append(slice(None))
            else:
                n = _ndim_consumed(i)
                shape += list(x.shape[d : d + n])
                d += n
                out_idx.append(i)
        x = bind("reshape", x, new_sizes=tuple(shape)) if tuple(shape) != x.shape else x
        idx = tuple(out_idx)
    return x, idx


def _ndim_consumed(i):
    if _is_bool_array(i):
        return np.ndim(i) if not is_array(i) else i.ndim
    return 1


def _is_bool_array(i):
    if is_array(i):
        return i.dtype == np.bool_
    return isinstance(i, (np.ndarray, np.bool_, bool)) and np.asarray(i).dtype == np.bool_


def _resolve_bools(idx):
    out = []
    for i in idx:
        if _is_bool_array(i):
            if isinstance(i, Tracer):
                raise NonConcreteBooleanIndexError(i)
            out.extend(np.nonzero(np.asarray(i)))
        else:
            out.append(i)
    return tuple(out)


def _is_advanced(i):
    return is_array(i) or isinstance(i, np.ndarray)


def _analyze(x, idx):
    x, idx = _expand(x, idx)
    idx = _resolve_bools(idx)
    for i in idx:
        if not (_is_int_scalar(i) or isinstance(i, slice) or _is_advanced(i)):
            raise IndexError(
                f"only integers, slices (`:`), ellipsis (`...`), numpy.newaxis (`None`) and integer or "
                f"boolean arrays are valid indices; got {i!r}"
            )
        if _is_advanced(i) and asarray_any(i).dtype.kind not in "iu":
            raise IndexError(f"Indexer must have integer or boolean type, got indexer with type {asarray_any(i).dtype}")
        if isinstance(i, slice):
            for v in (i.start, i.stop, i.step):
                if isinstance(v, Tracer):
                    raise IndexError(
                        "Array slice indices must have static start/stop/step to be used with NumPy indexing "
                        "syntax. Use lax.dynamic_slice instead."
                    )
    return x, idx


def _basic_slice(x, idx):
    """Apply the slices of idx (ints kept as length-1 slices); returns x and squeeze dims."""
    starts, limits, strides, rev, squeeze = [], [], [], [], []
    for d, (i, n) in enumerate(zip(idx, x.shape)):
        if _is_int_scalar(i):
            j = int(i)
            if not -n <= j < n:
                raise IndexError(f"index {j} is out of bounds for axis {d} with size {n}")
            j %= n
            starts.append(j), limits.append(j + 1), strides.append(1)
            squeeze.append(d)
        elif isinstance(i, slice):
            s, e, st = i.indices(n)
            if st < 0:
                # reverse the axis, then slice forward
                rev.append(d)
                s, e = n - 1 - s, n - 1 - e
                st = -st
            cnt = max(0, (e - s + st - 1) // st)
            starts.append(s if cnt else 0)
            limits.append(s + (cnt - 1) * st + 1 if cnt else 0)
            strides.append(st)
        else:
            starts.append(0), limits.append(n), strides.append(1)
    if rev:
        x = bind("rev", x, dimensions=tuple(rev))
    if (tuple(starts), tuple(limits)) != ((0,) * x.ndim, x.shape) or any(s != 1 for s in strides):
        x = bind("slice", x, start_indices=tuple(starts), limit_indices=tuple(limits), strides=tuple(strides))
    return x, squeeze


def _index_array(i, n):
    """Integer index array with negatives wrapped (int32)."""
    if isinstance(i, Tracer) or is_array(i):
        a = convert(asarray_any(i), np.int32) if asarray_any(i).dtype != np.int32 else asarray_any(i)
        from .ufuncs import where, less, add

        return where(less(a, 0), add(a, np.int32(n)), a)
    a = np.asarray(i).astype(np.int64)
    return np.where(a < 0, a + n, a).astype(np.int32)


def _gather_plan(x, idx):
    """(indices, dims) for the advanced part, plus where the batch dims land."""
    adv = [d for d, i in enumerate(idx) if _is_advanced(i) or _is_int_scalar(i)]
    arrays = [_index_array(idx[d], x.shape[d]) for d in adv]
    bshape = np.broadcast_shapes(*[np.shape(a) if not is_array(a) else a.shape for a in arrays])
    contiguous = adv == list(range(adv[0], adv[-1] + 1))
    return adv, arrays, bshape, contiguous


def _stack_indices(arrays, bshape):
    cols = []
    for a in arrays:
        if is_array(a):
            cols.append(broadcast_to(a, bshape).reshape(bshape + (1,)))
        else:
            cols.append(np.broadcast_to(a, bshape).reshape(bshape + (1,)))
    if all(not is_array(c) for c in cols):
        return np.concatenate(cols, axis=-1).astype(np.int32)
    from .shape import concatenate

    return concatenate([asarray_any(c, np.int32) for c in cols], axis=-1)


def getitem(x, idx):
    x = x if is_array(x) else asarray_any(x)
    weak = x.aval.weak_type
    x, idx = _analyze(x, idx)
    if not any(_is_advanced(i) for i in idx):
        y, squeeze = _basic_slice(x, idx)
        if squeeze:
            y = bind("reshape", y, new_sizes=tuple(d for k, d in enumerate(y.shape) if k not in squeeze))
        return with_weak(y, weak)
    # slices first (keeping every axis), then one gather over the advanced axes
    sl = tuple(i if isinstance(i, slice) else slice(None) for i in idx)
    y, _ = _basic_slice(x, sl)
    adv, arrays, bshape, contiguous = _gather_plan(y, idx)
    indices = _stack_indices(arrays, bshape)
    rest = [d for d in range(y.ndim) if d not in adv]
    nb = len(bshape)
    out_rank = nb + len(rest)
    start = adv[0] if contiguous else 0
    offset_dims = tuple(k for k in range(out_rank) if not start <= k < start + nb)
    slice_sizes = tuple(1 if d in adv else y.shape[d] for d in range(y.ndim))
    out = bind(
        "gather", y, indices,
        offset_dims=offset_dims, collapsed_slice_dims=tuple(adv),
        start_index_map=tuple(adv), slice_sizes=slice_sizes,
    )
    return with_weak(out, weak)


def take(a, indices, axis=None, mode=None, fill_value=None):
    a = asarray_any(a)
    if axis is None:
        a, axis = a.ravel(), 0
    from ._util import canonical_axis

    ax = canonical_axis(axis, a.ndim)
    return getitem(a, (slice(None),) * ax + (indices if is_array(indices) else np.asarray(indices),))


def take_along_axis(arr, indices, axis):
    arr = asarray_any(arr)
    from ._util import canonical_axis

    ax = canonical_axis(axis, arr.ndim)
    ind = asarray_any(indices)
    shape = np.broadcast_shapes(tuple(1 if d == ax else n for d, n in enumerate(arr.shape)), tuple(1 if d == ax else n for d, n in enumerate(ind.shape)))
    idx = []
    for d in range(arr.ndim):
        if d == ax:
            idx.append(broadcast_to(ind, shape[:ax] + (ind.shape[ax],) + shape[ax + 1 :]))
        else:
            r = [1] * arr.ndim
            r[d] = arr.shape[d]
            idx.append(np.arange(arr.shape[d]).reshape(r))
    return getitem(arr, tuple(idx))


def slice_axis(a, axis, start, stop):
    idx = [slice(None)] * a.ndim
    idx[axis] = slice(start, stop)
    return getitem(a, tuple(idx))


def set_last(out, last):
    """out with its last row along axis 0 replaced by `last` (shape (1, ...))."""
    from .shape import concatenate

    n = out.shape[0]
    return concatenate([slice_axis(out, 0, 0, n - 1), convert(asarray_any(last), out.dtype)], axis=0)


def take_along_last_two(a, offset):
    n, m = a.shape[-2], a.shape[-1]
    rows = np.arange(max(0, -offset), min(n, m - offset)) if offset <= m else np.arange(0)
    return getitem(a, (Ellipsis, rows, rows + offset))


def nonzero(a, size=None, fill_value=None):
    if isinstance(a, Tracer) and size is None:
        from irjax.errors import ConcretizationTypeError

        raise ConcretizationTypeError(a, "The size argument of jnp.nonzero must be statically specified to use jnp.nonzero within JAX transformations.")
    if isinstance(a, Tracer):
        raise NotImplementedError("jnp.nonzero with size= under a transformation")
    res = np.nonzero(np.asarray(a))
    if size is not None:
        fv = 0 if fill_value is None else fill_value
        res = tuple(np.concatenate([r[:size], np.full(max(0, size - len(r)), fv, r.dtype)]) for r in res)
    from .creation import array

    return tuple(array(r.astype(np.int32)) for r in res)


def argwhere(a, size=None, fill_value=None):
    from .shape import stack

    nz = nonzero(a, size=size, fill_value=fill_value)
    return stack(nz, axis=1) if nz else asarray_any(np.zeros((0, 0), np.int32))


def flatnonzero(a, size=None, fill_value=None):
    return nonzero(asarray_any(a).ravel(), size=size, fill_value=fill_value)[0]


# ---- .at[...] ----------------------------------------------------------------------------------


class IndexUpdateHelper:
    __slots__ = ("array",)

    def __init__(self, array):
        self.array = array

    def __getitem__(self, idx):
        return IndexUpdateRef(self.array, idx)

    def __repr__(self):
        return f"_IndexUpdateHelper({self.array!r})"


class IndexUpdateRef:
    __slots__ = ("array", "index")

    def __init__(self, array, index):
        self.array, self.index = array, index

    def get(self, **kw):
        return getitem(self.array, self.index)

    def set(self, values, **kw):
        return _scatter(self.array, self.index, values, "set")

    def add(self, values, **kw):
        return _scatter(self.array, self.index, values, "add")

    def subtract(self, values, **kw):
        from .ufuncs import negative

        return _scatter(self.array, self.index, negative(values), "add")

    def multiply(self, values, **kw):
        return _scatter(self.array, self.index, values, "mul")

    mul = multiply

    def divide(self, values, **kw):
        from .ufuncs import true_divide

        return _scatter(self.array, self.index, true_divide(1, values), "mul")

    def power(self, values, **kw):
        from .ufuncs import power

        cur = getitem(self.array, self.index)
        return _scatter(self.array, self.index, power(cur, values), "set")

    def min(self, values, **kw):
        return _scatter(self.array, self.index, values, "min")

    def max(self, values, **kw):
        return _scatter(self.array, self.index, values, "max")

    def apply(self, func, **kw):
        return _scatter(self.array, self.index, func(getitem(self.array, self.index)), "set")


def _scatter(x, idx, values, kind):
    """Every indexed axis becomes an index array (outer product for slices)."""
    x = asarray_any(x)
    weak = x.aval.weak_type
    orig_shape = x.shape
    xe, eidx = _analyze(x, idx)
    if dtypes.is_weakly_typed(values) or not is_array(values):
        v = convert(asarray_any(values), x.dtype)
    else:
        v = convert(values, x.dtype)
    target_shape = getitem(xe, eidx).shape  # traced: the unused gather is removed by dce
    v = broadcast_to(v, target_shape)
    has_adv = any(_is_advanced(i) for i in eidx)
    if not has_adv:
        # ints and slices: an outer grid of index arrays, windows of size 1
        grids, dims, out_order = [], [], []
        for d, (i, n) in enumerate(zip(eidx, xe.shape)):
            if _is_int_scalar(i):
                grids.append(np.asarray([int(i) % n if -n <= int(i) < n else int(i)]))
            else:
                grids.append(np.arange(n)[i])
            dims.append(d)
        k = len(grids)
        mesh = np.meshgrid(*grids, indexing="ij")
        indices = np.stack([m.astype(np.int32) for m in mesh], axis=-1)
        grid_shape = indices.shape[:-1]
        v = bind("reshape", v, new_sizes=grid_shape)
        out = bind(
            "scatter", xe, indices, v,
            update_window_dims=(), inserted_window_dims=tuple(range(k)),
            scatter_dims_to_operand_dims=tuple(range(k)), kind=kind,
        )
    else:
        sl_all = all(isinstance(i, slice) and i == slice(None) for i in eidx if not (_is_advanced(i) or _is_int_scalar(i)))
        if not sl_all:
            raise NotImplementedError(".at[] updates mixing integer arrays with partial slices")
        adv, arrays, bshape, contiguous = _gather_plan(xe, eidx)
        indices = _stack_indices(arrays, bshape)
        rest = [d for d in range(xe.ndim) if d not in adv]
        nb = len(bshape)
        start = adv[0] if contiguous else 0
        window_dims = tuple(k for k in range(nb + len(rest)) if not start <= k < start + nb)
        out = bind(
            "scatter", xe, indices, v,
            update_window_dims=window_dims, inserted_window_dims=tuple(adv),
            scatter_dims_to_operand_dims=tuple(adv), kind=kind,
        )
    if out.shape != orig_shape:
        out = bind("reshape", out, new_sizes=orig_shape)
    return with_weak(out, weak)

"""NumPy indexing: x[idx] (basic, integer arrays, concrete boolean masks) and x.at[idx].

Static ints and slices become `slice`/`rev`; integer-array (or traced) indices become one
`gather` (`scatter` for .at updates). As in JAX, out-of-range gathers clamp (mode='fill'
gives a fill value instead) and out-of-range updates drop (mode='clip' clamps them).
"""

from __future__ import annotations

import numpy as np
from irjax import dtypes, lax
from irjax.core import Tracer, current_trace
from irjax.errors import ConcretizationTypeError, NonConcreteBooleanIndexError
from irjax.operands import array, concatenate, stack

from ._util import asarray_any, broadcast_to, canonical_axis, convert, is_array, with_weak
from .creation import arange, full
from .reductions import cumsum
from .ufuncs import _where, add, less, negative, power, true_divide


def _is_int_scalar(i):
    return isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_))


def _expand(x, idx):
    """idx as a tuple with Ellipsis expanded, None turned into new size-1 axes of x."""
    if isinstance(idx, list):
        # NumPy once read x[[0, 1]] as x[0, 1]; JAX refuses the ambiguity, and so do we
        raise TypeError(
            "Using a non-tuple sequence for multidimensional indexing is not allowed; use "
            "`arr[array(seq)]` instead of `arr[seq]` (or `arr[tuple(seq)]`)."
        )
    if not isinstance(idx, tuple):
        idx = (idx,)
    idx = tuple(np.asarray(i) if isinstance(i, list) else i for i in idx)
    n_ell = sum(1 for i in idx if i is Ellipsis)
    if n_ell > 1:
        raise IndexError("an index can only have a single ellipsis ('...')")
    consumed = sum(_ndim_consumed(i) for i in idx if i is not Ellipsis and i is not None)
    if consumed > x.ndim:
        raise IndexError(f"Too many indices: array is {x.ndim}-dimensional, but {consumed} were indexed")
    if n_ell:
        k = idx.index(Ellipsis)
        idx = idx[:k] + (slice(None),) * (x.ndim - consumed) + idx[k + 1 :]
    else:
        idx = idx + (slice(None),) * (x.ndim - consumed)
    if any(i is None or _is_bool_scalar(i) for i in idx):
        shape, out_idx, d = [], [], 0
        for i in idx:
            if i is None:
                shape.append(1)
                out_idx.append(slice(None))
            elif _is_bool_scalar(i):
                # a 0-d mask among other indices (NumPy's rule): a new axis, indexed by [0] for
                # True and by nothing for False, as an advanced index
                shape.append(1)
                out_idx.append(np.zeros(1 if bool(np.asarray(i)) else 0, np.intp))
            else:
                n = _ndim_consumed(i)
                shape += list(x.shape[d : d + n])
                d += n
                out_idx.append(i)
        x = lax.reshape(x, tuple(shape)) if tuple(shape) != x.shape else x
        idx = tuple(out_idx)
    return x, idx


def _ndim_consumed(i):
    if _is_bool_array(i):
        return np.ndim(i) if not is_array(i) else i.ndim
    return 1


def _is_bool_scalar(i):
    return _is_bool_array(i) and np.ndim(i) == 0 and not isinstance(i, Tracer)


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
            j = _checked_int(i, n, d)
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
        x = lax.rev(x, tuple(rev))
    if (tuple(starts), tuple(limits)) != ((0,) * x.ndim, x.shape) or any(s != 1 for s in strides):
        x = lax.slice(x, starts, limits, strides)
    return x, squeeze


def _checked_int(i, n, d):
    """A static int index: negatives wrap once, then it clamps into the axis (JAX's gather
    rule, also for Python ints on concrete arrays); an empty axis has nothing to index."""
    if n == 0:
        raise IndexError(f"index is out of bounds for axis {d} with size 0")
    j = int(i)
    j = j + n if j < 0 else j
    return min(max(j, 0), n - 1)


_MODES = {
    None: "clip",
    "clip": "clip",
    "promise_in_bounds": "clip",
    "fill": "fill",
    "drop": "fill",
    "fill_or_drop": "fill",
}


def _parse_mode(mode) -> str:
    """'clip' (out-of-range indices clamp) or 'fill' (they read fill_value / updates drop)."""
    mode = getattr(mode, "name", mode)  # a GatherScatterMode-like enum
    key = mode.lower() if isinstance(mode, str) else mode
    if key not in _MODES:
        raise ValueError(f'Unknown gather mode "{mode}"')
    return _MODES[key]


def _default_fill(dtype):
    """JAX's fill for out-of-range gathers: NaN, the most negative int, the largest unsigned
    int, True."""
    dtype = np.dtype(dtype)
    if dtype.kind in "fc":
        return np.nan
    if dtype.kind == "i":
        return np.iinfo(dtype).min
    if dtype.kind == "u":
        return np.iinfo(dtype).max
    return True


def _full(a, v):
    """int32 scalar v, shaped like index array a (host or device)."""
    if not is_array(a):
        return np.full(np.shape(a), v, np.int32)
    return broadcast_to(asarray_any(np.int32(v)), a.shape)


def _both(host_op, op, a, b):
    """host_op(a, b) (a NumPy function) on host values, else op (its lax twin)."""
    if not is_array(a) and not is_array(b):
        return host_op(a, b)
    return op(asarray_any(a), asarray_any(b))


def _clamp_index(a, n):
    """Index array a (int32) clamped into [0, n - 1]."""
    if not is_array(a):
        return np.clip(a, 0, max(n - 1, 0)).astype(np.int32)
    return lax.clamp(_full(a, 0), a, _full(a, max(n - 1, 0)))


def _in_bounds(arrays, adv, shape, bshape):
    """Bool mask of shape bshape: every (wrapped) index of the row lies inside its axis."""
    ok = None
    for a, d in zip(arrays, adv):
        lo_ok = _both(np.greater_equal, lax.ge, a, _full(a, 0))
        okd = _both(np.logical_and, lax.bitwise_and, lo_ok, _both(np.less, lax.lt, a, _full(a, shape[d])))
        okd = broadcast_to(okd, bshape) if is_array(okd) else np.broadcast_to(okd, bshape)
        ok = okd if ok is None else _both(np.logical_and, lax.bitwise_and, ok, okd)
    return ok


def _eager_basic(x, idx):
    """Eagerly, ints and unit-step slices become one dynamic_slice whose starts are int32
    operands rather than attributes, so a loop over x[i] or x[i:i + k] reuses one executable
    for every i. None where a static slice is needed (steps other than 1) or nothing is cut."""
    starts, sizes, squeeze = [], [], []
    for d, (i, n) in enumerate(zip(idx, x.shape)):
        if _is_int_scalar(i):
            starts.append(_checked_int(i, n, d)), sizes.append(1), squeeze.append(d)
            continue
        s, e, st = i.indices(n)
        if st != 1:
            return None
        cnt = max(0, e - s)
        starts.append(s if cnt else 0), sizes.append(cnt)
    if tuple(sizes) == x.shape:
        return x if not squeeze else None
    y = lax.dynamic_slice(x, starts, sizes)
    if squeeze:
        y = lax.reshape(y, tuple(z for k, z in enumerate(sizes) if k not in squeeze))
    return y


def _index_array(i, n):
    """Integer index array with negatives wrapped (int32)."""
    if isinstance(i, Tracer) or is_array(i):
        a = convert(asarray_any(i), np.int32) if asarray_any(i).dtype != np.int32 else asarray_any(i)

        return _where(less(a, 0), add(a, np.int32(n)), a)
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

    return concatenate([asarray_any(c, np.int32) for c in cols], axis=-1)


def getitem(x, idx, mode=None, fill_value=None):
    x = x if is_array(x) else asarray_any(x)
    weak = x.aval.weak_type
    shape = x.aval.shape
    if type(idx) is int and mode is None and shape and shape[0] != 1 and current_trace() is None:
        # x[i] eagerly, the commonest index: what _eager_basic makes of it, without the analysis
        starts = (_checked_int(idx, shape[0], 0),) + (0,) * (len(shape) - 1)
        return with_weak(lax.reshape(lax.dynamic_slice(x, starts, (1,) + shape[1:]), shape[1:]), weak)
    mode = _parse_mode(mode)
    if _is_bool_array(idx) and np.ndim(idx) == 0 and not isinstance(idx, Tracer):
        # a 0-d mask (NumPy): a new axis of length 1 (True) or 0 (False)
        y = getitem(x, None)
        return y if bool(np.asarray(idx)) else getitem(y, slice(0, 0))
    x, idx = _analyze(x, idx)
    if mode == "fill":
        # static ints join the gather, whose rows are checked against the bounds
        idx = tuple(np.asarray(int(i), np.int64) if _is_int_scalar(i) else i for i in idx)
    if not any(_is_advanced(i) for i in idx):
        if current_trace() is None:
            y = _eager_basic(x, idx)
            if y is not None:
                return with_weak(y, weak)
        y, squeeze = _basic_slice(x, idx)
        if squeeze:
            y = lax.reshape(y, tuple(d for k, d in enumerate(y.shape) if k not in squeeze))
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
    empty_axes = [d for d in adv if y.shape[d] == 0]
    if empty_axes and int(np.prod(bshape)) > 0:
        raise TypeError(f"cannot gather from axis {empty_axes[0]} of size 0 with a non-empty index array")
    # (no rows to gather: a zero slice of an empty axis keeps the gather well-formed)
    slice_sizes = tuple(min(1, y.shape[d]) if d in adv else y.shape[d] for d in range(y.ndim))
    dnums = lax.GatherDimensionNumbers(offset_dims, collapsed_slice_dims=tuple(adv), start_index_map=tuple(adv))
    out = lax.gather(y, indices, dnums, slice_sizes)
    if mode == "fill":
        ok = _in_bounds(arrays, adv, y.shape, bshape)
        where = [1] * out.ndim
        where[start : start + nb] = bshape
        ok = broadcast_to(asarray_any(ok).reshape(tuple(where)), out.shape)
        # the default fill (uint32's max) is built in out's dtype: as a weak int32 it overflows
        fill = np.asarray(_default_fill(out.dtype), out.dtype) if fill_value is None else asarray_any(fill_value)
        out = lax.select(ok, out, broadcast_to(convert(fill, out.dtype), out.shape))
    return with_weak(out, weak)


def take(a, indices, axis=None, out=None, mode=None, unique_indices=False, indices_are_sorted=False, fill_value=None):
    """jnp.take: mode 'fill' (default: out-of-range indices read fill_value, negatives wrap
    once), 'clip' (clamp, negatives included) or 'wrap' (modulo the axis size)."""
    mode = "fill" if mode is None else mode
    if mode == "raise":
        raise NotImplementedError("The 'raise' mode to jnp.take is not supported.")
    if mode not in ("fill", "clip", "wrap"):
        raise ValueError(f"Invalid mode '{mode}' for np.take")
    a = asarray_any(a)
    if axis is None:
        a, axis = a.ravel(), 0

    ax = canonical_axis(axis, a.ndim)
    n = a.shape[ax]
    ind = indices if is_array(indices) else np.asarray(indices)
    if ind.dtype.kind not in "iu":
        raise TypeError(f"jnp.take indices must be integers, got {ind.dtype}")
    if n == 0 and int(np.prod(ind.shape)) > 0:
        raise IndexError("Cannot do a non-empty jnp.take() from an empty axis.")
    if mode == "wrap":
        ind = np.mod(ind, n).astype(np.int32) if not is_array(ind) else _wrap_index(ind, n)
    elif mode == "clip":
        ind = _clamp_index(ind.astype(np.int32) if not is_array(ind) else convert(ind, np.int32), n)
    return getitem(a, (slice(None),) * ax + (ind,), mode="fill" if mode == "fill" else "clip", fill_value=fill_value)


def _wrap_index(i, n):
    i = convert(i, np.int32)
    m = _full(i, n)
    return lax.rem(lax.add(lax.rem(i, m), m), m)


def take_along_axis(arr, indices, axis=-1, mode=None, fill_value=None, *, wrap_negative_indices=None):
    """As jnp.take_along_axis: axis None takes from the flattened array; negative indices count
    from the end unless wrap_negative_indices is False (then they are out of bounds)."""
    arr = asarray_any(arr)
    ind = asarray_any(indices)
    if axis is None:
        if ind.ndim != 1:
            raise ValueError(f"take_along_axis: with axis=None indices must be 1-d, got shape {ind.shape}")
        arr, axis = arr.ravel(), 0
    ax = canonical_axis(axis, arr.ndim)
    if wrap_negative_indices is False:  # a negative index is out of bounds, not from the end
        if ind.dtype.kind == "i":
            ind = _where(less(ind, 0), np.asarray(arr.shape[ax], ind.dtype), ind)
        if mode is None:
            mode = "fill"
    shape = np.broadcast_shapes(
        tuple(1 if d == ax else n for d, n in enumerate(arr.shape)),
        tuple(1 if d == ax else n for d, n in enumerate(ind.shape)),
    )
    idx = []
    for d in range(arr.ndim):
        if d == ax:
            idx.append(broadcast_to(ind, shape[:ax] + (ind.shape[ax],) + shape[ax + 1 :]))
        else:
            r = [1] * arr.ndim
            r[d] = arr.shape[d]
            idx.append(np.arange(arr.shape[d]).reshape(r))
    return getitem(arr, tuple(idx), mode="fill" if mode is None else mode, fill_value=fill_value)


def slice_axis(a, axis, start, stop):
    idx = [slice(None)] * a.ndim
    idx[axis] = slice(start, stop)
    return getitem(a, tuple(idx))


def set_last(out, last):
    """out with its last row along axis 0 replaced by `last` (shape (1, ...))."""
    n = out.shape[0]
    return concatenate([slice_axis(out, 0, 0, n - 1), convert(asarray_any(last), out.dtype)], axis=0)


def take_along_last_two(a, offset):
    n, m = a.shape[-2], a.shape[-1]
    rows = np.arange(max(0, -offset), min(n, m - offset)) if offset <= m else np.arange(0)
    return getitem(a, (Ellipsis, rows, rows + offset))


def nonzero(a, size=None, fill_value=None):
    if isinstance(a, Tracer) and size is None:
        raise ConcretizationTypeError(
            a,
            "The size argument of jnp.nonzero must be statically specified to use jnp.nonzero within JAX transformations.",
        )
    if isinstance(a, Tracer):
        return _nonzero_sized(a, int(size), fill_value)
    res = np.nonzero(np.asarray(a))
    if size is not None:
        fills = fill_value if isinstance(fill_value, (tuple, list)) else (fill_value,) * len(res)
        if len(fills) != len(res):
            raise ValueError(f"fill_value must be a scalar or a tuple of length {len(res)}; got {fill_value!r}")
        res = tuple(
            np.concatenate([r[:size], np.full(max(0, size - len(r)), 0 if f is None else f, r.dtype)])
            for r, f in zip(res, fills)
        )

    return tuple(array(r.astype(np.int32)) for r in res)


def _nonzero_sized(a, size, fill_value):
    """nonzero of a traced array, `size` entries: each nonzero element scatters its flat index
    to its rank (a cumulative count); empty slots keep fill_value (default 0) per dimension."""
    shape = a.shape
    m = (a != 0).ravel()
    n = m.shape[0]
    rank = cumsum(m.astype(np.int32)) - 1
    flat = full((size,), n, dtype=np.int32).at[_where(m, rank, size)].set(arange(n, dtype=np.int32), mode="drop")
    empty = flat == n
    fills = fill_value if isinstance(fill_value, (tuple, list)) else (fill_value,) * len(shape)
    if len(fills) != len(shape):
        raise ValueError(f"fill_value must be a scalar or a tuple of length {len(shape)}; got {fill_value!r}")
    out, stride = [], 1
    for d in reversed(shape):
        out.append(((flat // stride) % max(d, 1)).astype(np.int32))
        stride *= d
    out.reverse()
    return tuple(_where(empty, np.int32(0 if f is None else f), c) for c, f in zip(out, fills))


def argwhere(a, size=None, fill_value=None):
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

    # indices_are_sorted / unique_indices are hints; they change no result
    def get(self, *, indices_are_sorted=False, unique_indices=False, mode=None, fill_value=None):
        return getitem(self.array, self.index, mode=mode, fill_value=fill_value)

    def set(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        return _scatter(self.array, self.index, values, "set", mode)

    def add(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        return _scatter(self.array, self.index, values, "add", mode)

    def subtract(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        return _scatter(self.array, self.index, negative(values), "add", mode)

    def multiply(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        return _scatter(self.array, self.index, values, "mul", mode)

    mul = multiply

    def divide(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        return _scatter(self.array, self.index, true_divide(1, values), "mul", mode)

    def power(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """x ** values at the index; an entry named k times is raised k times, as JAX's scatter
        (x ** a) ** b, here x ** (a * b): the exponents multiplied by a scatter first."""
        x = asarray_any(self.array)
        exponent = _scatter(full(x.shape, 1, x.dtype), self.index, values, "mul", mode)
        hit = _scatter(full(x.shape, 0, np.int32), self.index, 1, "add", mode)
        return _where(hit > 0, power(x, exponent), x)

    def min(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        return _scatter(self.array, self.index, values, "min", mode)

    def max(self, values, *, indices_are_sorted=False, unique_indices=False, mode=None):
        return _scatter(self.array, self.index, values, "max", mode)

    def apply(self, func, *, indices_are_sorted=False, unique_indices=False, mode=None):
        """func applied once per time an index names an entry (as JAX's scatter_apply: a
        duplicated index applies it twice); func must be elementwise."""
        x = asarray_any(self.array)
        hits = _scatter(full(x.shape, 0, np.int32), self.index, 1, "add", mode)
        if unique_indices:
            return _where(hits > 0, asarray_any(func(x)), x)

        def body(state):
            k, v = state
            return k + 1, _where(hits > k, convert(asarray_any(func(v)), x.dtype), v)

        most = lax.reduce_max(hits, tuple(range(hits.ndim))) if hits.ndim else hits
        return lax.while_loop(lambda state: state[0] < most, body, (asarray_any(np.int32(0)), x))[1]


def _scatter(x, idx, values, kind, mode=None):
    """Every indexed axis becomes an index array (outer product for slices). Out-of-range
    rows drop (scatter's rule), or clamp into range with mode='clip'."""
    _parse_mode(mode)  # (validates; scatter's default, 'fill' and 'drop' all drop)
    clip = str(getattr(mode, "name", mode)).lower() == "clip"
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
    if not eidx:  # x[()] of a 0-d x: the whole value, as a one-element scatter
        one = _SCATTER[kind](
            lax.reshape(xe, (1,)),
            np.zeros((1, 1), np.int32),
            lax.reshape(v, (1,)),
            lax.ScatterDimensionNumbers((), (0,), (0,)),
        )
        return with_weak(lax.reshape(one, orig_shape), weak)
    if not has_adv:
        # ints and slices: an outer grid of index arrays, windows of size 1
        grids, dims = [], []
        for d, (i, n) in enumerate(zip(eidx, xe.shape)):
            if _is_int_scalar(i):
                j = int(i) + n if int(i) < 0 else int(i)  # negatives wrap once; still out: dropped
                grids.append(np.asarray([min(max(j, 0), n - 1) if clip else j]))
            else:
                grids.append(np.arange(n)[i])
            dims.append(d)
        k = len(grids)
        mesh = np.meshgrid(*grids, indexing="ij")
        indices = np.stack([m.astype(np.int32) for m in mesh], axis=-1)
        grid_shape = indices.shape[:-1]
        v = lax.reshape(v, grid_shape)
        dnums = lax.ScatterDimensionNumbers((), tuple(range(k)), tuple(range(k)))
        out = _SCATTER[kind](xe, indices, v, dnums)
    else:
        sl_all = all(
            isinstance(i, slice) and i == slice(None) for i in eidx if not (_is_advanced(i) or _is_int_scalar(i))
        )
        if not sl_all:
            raise NotImplementedError(".at[] updates mixing integer arrays with partial slices")
        adv, arrays, bshape, contiguous = _gather_plan(xe, eidx)
        if clip:
            arrays = [_clamp_index(a, xe.shape[d]) for a, d in zip(arrays, adv)]
        indices = _stack_indices(arrays, bshape)
        rest = [d for d in range(xe.ndim) if d not in adv]
        nb = len(bshape)
        start = adv[0] if contiguous else 0
        window_dims = tuple(k for k in range(nb + len(rest)) if not start <= k < start + nb)
        dnums = lax.ScatterDimensionNumbers(window_dims, tuple(adv), tuple(adv))
        out = _SCATTER[kind](xe, indices, v, dnums)
    if out.shape != orig_shape:
        out = lax.reshape(out, orig_shape)
    return with_weak(out, weak)


_SCATTER = {
    "set": lax.scatter,
    "add": lax.scatter_add,
    "mul": lax.scatter_mul,
    "min": lax.scatter_min,
    "max": lax.scatter_max,
}


def where(condition, x=None, y=None, /, *, size=None, fill_value=None):
    """jnp.where: x where condition holds, else y; with condition alone, nonzero(condition)."""
    if x is None and y is None:
        return nonzero(condition, size=size, fill_value=fill_value)
    if x is None or y is None:
        raise ValueError("Either both or neither of the x and y arguments should be provided to jax.numpy.where")
    return _where(condition, x, y)

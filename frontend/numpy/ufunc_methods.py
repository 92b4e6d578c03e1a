"""The ufunc methods JAX's jnp.ufunc objects carry, on the 14 functions JAX makes ufuncs:
`reduce`, `accumulate`, `reduceat`, `outer`, `at` and `identity`, `nin`, `nout`, `nargs`.

They are attributes of the plain functions (a call costs nothing more). Reductions and
accumulations with a dedicated operation use it (add -> sum / cumsum, maximum -> max / cummax,
...); the others fold along the axis in order with lax.scan, as NumPy's definition reads.
"""

from __future__ import annotations

import numpy as np
from irjax import lax
from irjax.control_flow import scan

from . import reductions as r
from . import ufuncs as u
from ._util import asarray_any, canonical_axis, convert
from .indexing import take
from .shape import broadcast_to, expand_dims, moveaxis, reshape

# name: (function, identity, the reduction, the accumulation, the .at[] update) - None where a
# fold does it
_BINARY = {
    "add": (u.add, 0, r.sum, r.cumsum, "add"),
    "multiply": (u.multiply, 1, r.prod, r.cumprod, "mul"),
    "maximum": (u.maximum, None, r.max, lambda a, axis: lax.cummax(a, axis), "max"),
    "minimum": (u.minimum, None, r.min, lambda a, axis: lax.cummin(a, axis), "min"),
    "logical_and": (u.logical_and, True, r.all, None, None),
    "logical_or": (u.logical_or, False, r.any, None, None),
    "subtract": (u.subtract, None, None, None, None),
    "bitwise_and": (u.bitwise_and, -1, None, None, None),
    "bitwise_or": (u.bitwise_or, 0, None, None, None),
    "bitwise_xor": (u.bitwise_xor, 0, None, None, None),
    "logical_xor": (u.logical_xor, False, None, None, None),
    "logaddexp": (u.logaddexp, -np.inf, None, None, None),
    "logaddexp2": (u.logaddexp2, -np.inf, None, None, None),
}


def _fold(fn, a, axis, initial=None):
    """(fn folded over axis in order, every partial result): NumPy's reduce and accumulate."""
    a = moveaxis(asarray_any(a), axis, 0)
    first = a[0] if initial is None else fn(convert(asarray_any(initial), a.dtype), a[0])

    def step(acc, x):
        out = convert(fn(acc, x), acc.dtype)
        return out, out

    last, partial = scan(step, convert(first, a.dtype), a[1:])
    return last, moveaxis(lax.concatenate([expand_dims(first, 0), partial], 0), 0, axis)


def _masked_fold(fn, a, where, axis, initial, keepdims):
    """fn folded from `initial` over the elements `where` selects, along one axis."""
    if axis is None or np.ndim(axis) != 0:
        raise NotImplementedError("a where mask with a ufunc without an identity needs one axis")
    ax = canonical_axis(axis, a.ndim)
    xs = moveaxis(a, ax, 0)
    ws = moveaxis(broadcast_to(convert(asarray_any(where), np.dtype(np.bool_)), a.shape), ax, 0)
    start = broadcast_to(convert(asarray_any(initial), a.dtype), xs.shape[1:])

    def step(acc, xw):
        x, w = xw
        return u._where(w, convert(fn(acc, x), acc.dtype), acc), None

    res = scan(step, start, (xs, ws))[0]
    return expand_dims(res, ax) if keepdims else res


def _make_reduce(name, fn, identity, reducer):
    def reduce(a, axis=0, dtype=None, out=None, keepdims=False, initial=None, where=None):
        a = asarray_any(a)
        if dtype is not None:
            a = convert(a, np.dtype(dtype))
        if reducer is not None and (initial is None or reducer not in (r.all, r.any)):
            kw = {} if initial is None else {"initial": initial}
            if where is not None:
                kw["where"] = where
            return reducer(a, axis=axis, keepdims=keepdims, **kw)
        if where is not None:
            if identity is None and initial is None:
                raise ValueError(
                    f"reduction operation '{name}' does not have an identity, so to use a where mask one has to "
                    "specify 'initial'"
                )
            if identity is None:  # masked elements are skipped: fold from initial over the rest
                return _masked_fold(fn, a, where, axis, initial, keepdims)
            a = u._where(where, a, np.asarray(identity, a.dtype))
        axes = tuple(range(a.ndim)) if axis is None else (axis,) if np.ndim(axis) == 0 else tuple(axis)
        if not axes:
            return a
        if len(axes) > 1:  # (several axes: fold them as one, as NumPy for reorderable ufuncs)
            axes = tuple(sorted(canonical_axis(x, a.ndim) for x in axes))
            rest = [i for i in range(a.ndim) if i not in axes]
            flat = reshape(lax.transpose(a, tuple(axes) + tuple(rest)), (-1,) + tuple(a.shape[i] for i in rest))
            res = reduce(flat, 0, initial=initial)
            return reshape(res, tuple(1 if i in axes else a.shape[i] for i in range(a.ndim))) if keepdims else res
        ax = canonical_axis(axes[0], a.ndim)
        if a.shape[ax] == 0:
            start = identity if initial is None else initial
            if start is None:
                raise ValueError(f"zero-size array to reduction operation {name} which has no identity")
            res = broadcast_to(convert(asarray_any(start), a.dtype), a.shape[:ax] + a.shape[ax + 1 :])
        else:
            res = _fold(fn, a, ax, initial)[0]
        return expand_dims(res, ax) if keepdims else res

    return reduce


def _make_accumulate(fn, accumulator):
    def accumulate(a, axis=0, dtype=None, out=None):
        a = asarray_any(a)
        if dtype is not None:
            a = convert(a, np.dtype(dtype))
        ax = canonical_axis(axis, a.ndim)
        if accumulator is not None:
            return accumulator(a, axis=ax)
        return a if a.shape[ax] == 0 else _fold(fn, a, ax)[1]

    return accumulate


def _make_reduceat(reduce):
    def reduceat(a, indices, axis=0, dtype=None, out=None):
        """NumPy's reduceat: for each i, reduce(a[indices[i]:indices[i+1]]), or a[indices[i]]
        where the next index is not larger (static indices)."""
        a = asarray_any(a)
        idx = np.asarray(indices)
        if idx.ndim != 1 or idx.dtype.kind not in "iu":
            raise ValueError("reduceat: indices must be a static 1-d array of integers")
        ax = canonical_axis(axis, a.ndim)
        n = a.shape[ax]
        parts = []
        for k, start in enumerate(idx):
            stop = idx[k + 1] if k + 1 < len(idx) else n
            if not 0 <= start < n:
                raise IndexError(f"reduceat: index {start} is out of bounds for axis {ax} of size {n}")
            if stop > start:
                piece = reduce(take(a, np.arange(start, stop), axis=ax), axis=ax, dtype=dtype)
            else:
                piece = take(a, int(start), axis=ax)
            parts.append(expand_dims(piece, ax))
        return lax.concatenate(parts, ax)

    return reduceat


def _make_outer(fn):
    def outer(A, B, /, **kwargs):
        A, B = asarray_any(A), asarray_any(B)
        return fn(reshape(A, A.shape + (1,) * B.ndim), B, **kwargs)

    return outer


def _make_at(name, fn, update):
    def at(a, indices, b=None, /, *, inplace=True):
        """fn(a[indices], b) written back at indices, duplicates applied in turn; inplace=False as
        JAX requires (arrays are immutable)."""
        if inplace:
            raise NotImplementedError(f"jax.numpy.ufunc.at: jnp.{name}.at is not supported in place; use inplace=False")
        if b is None:
            raise TypeError(f"jnp.{name}.at needs the second operand b")
        a = asarray_any(a)
        if update is not None:
            return getattr(a.at[indices], update)(b)

        flat = reshape(a, (-1,))
        # flat positions, in order; a.size (past the end: dropped, as .at[] updates are) for one out of bounds
        pos = reshape(
            reshape(lax.iota(np.int32, a.size), a.shape).at[indices].get(mode="fill", fill_value=a.size), (-1,)
        )
        vals = reshape(broadcast_to(convert(asarray_any(b), a.dtype), pos.shape), (-1,))

        def step(x, iv):
            i, v = iv
            return x.at[i].set(convert(fn(x[i], v), x.dtype), mode="drop"), None

        return reshape(scan(step, flat, (pos, vals))[0], a.shape)

    return at


def attach(namespace: dict) -> None:
    """Give the 14 ufunc functions of `namespace` (irjax.numpy's) JAX's ufunc methods."""
    for name, (fn, identity, reducer, accumulator, update) in _BINARY.items():
        reduce = _make_reduce(name, fn, identity, reducer)
        fn.identity, fn.nin, fn.nout, fn.nargs = identity, 2, 1, 2
        fn.reduce, fn.accumulate = reduce, _make_accumulate(fn, accumulator)
        fn.reduceat, fn.outer, fn.at = _make_reduceat(reduce), _make_outer(fn), _make_at(name, fn, update)
        assert namespace[name] is fn, name
    neg = namespace["negative"]
    neg.identity, neg.nin, neg.nout, neg.nargs = None, 1, 1, 1

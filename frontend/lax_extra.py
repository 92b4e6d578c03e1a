"""More irjax.lax names composed from the primitives: top_k, sort_key_val, reduce, associative_scan,
shape helpers, reciprocal, nextafter, optimization_barrier, custom_linear_solve and custom_root.

lax.reduce recognizes the monoids add/mul/max/min/and/or by the computation's name (JAX traces
it); any other computation raises NotImplementedError.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence

import numpy as np

from . import numpy as jnp
from .api import jvp, vmap
from .control_flow import scan
from .lax import (
    concatenate,
    convert_element_type,
    dynamic_update_slice_in_dim,
    expand_dims,
    pad,
    reduce_and,
    reduce_max,
    reduce_min,
    reduce_or,
    reduce_prod,
    reduce_sum,
    reshape,
    select,
    slice_in_dim,
    sort,
    stop_gradient,
)
from .numpy._util import asarray_any
from .tracing import binary_op_of
from .tree_util import tree_flatten, tree_leaves, tree_map, tree_unflatten

__all__ = [
    "associative_scan",
    "broadcast_shapes",
    "broadcast_to_rank",
    "collapse",
    "custom_linear_solve",
    "custom_root",
    "dynamic_update_index_in_dim",
    "index_take",
    "nextafter",
    "optimization_barrier",
    "reciprocal",
    "reduce",
    "sort_key_val",
    "split",
    "tile",
    "top_k",
]


def reciprocal(x):
    """1 / x in x's dtype."""
    x = asarray_any(x)
    return jnp.ones_like(x) / x


def nextafter(x1, x2):
    """The next representable value after x1 towards x2 (jnp.nextafter's math)."""
    return jnp.nextafter(x1, x2)


def optimization_barrier(operand):
    """Identity on a pytree (XLA's scheduling barrier; irjax keeps the values as they are)."""
    return tree_map(asarray_any, operand)


def top_k(operand, k: int):
    """[the k largest entries along the last axis, descending, their int32 indices] (lower index
    first among equal values, as JAX)."""
    x = asarray_any(operand)
    k = int(k)
    if x.ndim == 0 or not 0 <= k <= x.shape[-1]:
        raise ValueError(f"top_k needs 0 <= k <= operand.shape[-1], got k={k} for shape {x.shape}")
    idx = jnp.argsort(x, axis=-1, stable=True, descending=True)[..., :k].astype(np.int32)
    return [jnp.take_along_axis(x, idx, axis=-1), idx]  # a list, as JAX returns


def sort_key_val(keys, values, dimension: int = -1, is_stable: bool = True):
    """Sort `values` by `keys` along `dimension`: (sorted keys, values in that order)."""
    return sort((keys, values), dimension=dimension, is_stable=is_stable, num_keys=1)


# ---- lax.reduce: a recognized monoid becomes its reduce_* primitive --------------------------

_MONOIDS = {
    "add": reduce_sum,
    "mul": reduce_prod,
    "multiply": reduce_prod,
    "max": reduce_max,
    "maximum": reduce_max,
    "min": reduce_min,
    "minimum": reduce_min,
    "and": reduce_and,
    "and_": reduce_and,
    "bitwise_and": reduce_and,
    "logical_and": reduce_and,
    "or": reduce_or,
    "or_": reduce_or,
    "bitwise_or": reduce_or,
    "logical_or": reduce_or,
}
_OPERATOR = {operator.add: reduce_sum, operator.mul: reduce_prod, operator.and_: reduce_and, operator.or_: reduce_or}


_TRACED_MONOIDS = {"jx.add": reduce_sum, "jx.mul": reduce_prod, "jx.max": reduce_max, "jx.min": reduce_min}


def _monoid(computation: Callable, dtype):
    """The reduce_* primitive `computation` is, or None: a named one (lax.add, jnp.maximum,
    operator.add, ...), or a function whose trace on two scalars is that one op on its two
    arguments (lambda a, b: a + b)."""
    if computation in _OPERATOR:
        return _OPERATOR[computation]
    name = getattr(computation, "__name__", "")
    module = getattr(computation, "__module__", "") or ""
    if module.startswith("irjax") and name in _MONOIDS:
        return _MONOIDS[name]
    if computation in (max, min):
        return reduce_max if computation is max else reduce_min
    return _TRACED_MONOIDS.get(binary_op_of(computation, dtype))


def _fold(operands, init_values, computation, dims):
    """reduce by folding `computation` over the reduced elements in order (lax.scan), applied to
    scalars through vmap, as JAX calls it: any computation, several operands."""
    xs = [asarray_any(x) for x in operands]
    shape = xs[0].shape
    rest = [i for i in range(len(shape)) if i not in dims]
    out_shape = tuple(shape[i] for i in rest)
    m = int(np.prod(out_shape, dtype=np.int64))
    n = int(np.prod([shape[i] for i in dims], dtype=np.int64))
    seq = [jnp.reshape(jnp.transpose(x, tuple(dims) + tuple(rest)), (n, m)) for x in xs]
    inits = [jnp.broadcast_to(asarray_any(v, x.dtype), (m,)) for v, x in zip(init_values, xs)]
    combine = vmap(lambda acc, x: tuple(computation(tuple(acc), tuple(x))))

    def step(acc, x):
        out = combine(acc, x)
        return [convert_element_type(o, a.dtype) for o, a in zip(out, acc)], None

    res = scan(step, inits, seq)[0]
    return [jnp.reshape(r, out_shape) for r in res]


def reduce(operands, init_values, computation: Callable, dimensions: Sequence[int]):
    """Reduce `operands` over `dimensions` with `computation` from init_values: a recognized
    monoid through its reduce_* primitive, anything else (several operands too) by a fold."""
    many = isinstance(operands, (tuple, list))
    if many != isinstance(init_values, (tuple, list)):
        raise TypeError("lax.reduce: operands and init_values must both be sequences, or both single values")
    xs = [asarray_any(x) for x in (operands if many else [operands])]
    inits = list(init_values) if many else [init_values]
    if len(inits) != len(xs) or len({x.shape for x in xs}) != 1:
        raise ValueError("lax.reduce: one init value per operand, and operands of one shape")
    dims = tuple(sorted({int(d) % max(xs[0].ndim, 1) for d in dimensions}))
    prim = None if many else _monoid(computation, xs[0].dtype)
    if prim is not None:
        x = xs[0]
        out = prim(x, dims) if dims else x
        init = asarray_any(inits[0], x.dtype)
        return computation(init, out)
    if not dims:
        outs = xs
    elif many:
        outs = _fold(xs, inits, computation, dims)
    else:
        outs = _fold(xs, inits, lambda a, b: (computation(a[0], b[0]),), dims)
    return tuple(outs) if many else outs[0]


# ---- associative_scan: Blelloch-style odd/even recursion over slices ---------------------------


def _interleave(even, odd, axis: int):
    """[e0, o0, e1, o1, ...] along axis (even has as many or one more entry than odd)."""
    n_e, n_o = even.shape[axis], odd.shape[axis]
    cfg_e = [(0, 0, 0)] * even.ndim
    cfg_o = [(0, 0, 0)] * odd.ndim
    cfg_e[axis] = (0, n_o - n_e + 1, 1)
    cfg_o[axis] = (1, n_e - n_o, 1)
    zero = np.zeros((), even.dtype)
    e, o = pad(even, zero, cfg_e), pad(odd, zero, cfg_o)
    mask = jnp.arange(n_e + n_o) % 2 == 0
    mask = jnp.broadcast_to(jnp.reshape(mask, [-1 if i == axis else 1 for i in range(e.ndim)]), e.shape)
    return select(mask, e, o)


def associative_scan(fn: Callable, elems, reverse: bool = False, axis: int = 0):
    """All prefix combinations fn(x0, x1, ...) along axis, for an associative fn over pytrees."""
    flat, tree = tree_flatten(elems)
    flat = [asarray_any(e) for e in flat]
    if not flat:
        return elems
    axis = int(axis) % flat[0].ndim
    n = flat[0].shape[axis]
    if any(e.shape[axis] != n for e in flat):
        raise ValueError(f"associative_scan: all leaves need the same length along axis {axis}")
    if reverse:
        flat = [jnp.flip(e, axis) for e in flat]

    def combine(a, b):
        return [asarray_any(v) for v in tree_leaves(fn(tree_unflatten(tree, a), tree_unflatten(tree, b)))]

    def sl(e, start, stop, stride=1):
        return slice_in_dim(e, start, stop, stride, axis)

    def scan(es):
        m = es[0].shape[axis]
        if m < 2:
            return es
        odd = scan(combine([sl(e, 0, m - 1, 2) for e in es], [sl(e, 1, m, 2) for e in es]))
        if m % 2 == 0:
            even = combine([sl(e, 0, e.shape[axis] - 1) for e in odd], [sl(e, 2, m, 2) for e in es])
        else:
            even = combine(odd, [sl(e, 2, m, 2) for e in es])
        even = [concatenate([sl(e, 0, 1), r], axis) for e, r in zip(es, even)]
        return [_interleave(e, o, axis) for e, o in zip(even, odd)]

    out = scan(flat)
    if reverse:
        out = [jnp.flip(e, axis) for e in out]
    return tree_unflatten(tree, out)


# ---- shape helpers ----------------------------------------------------------------------------


def tile(operand, reps: Sequence[int]):
    return jnp.tile(operand, tuple(int(r) for r in reps))


def split(operand, sizes: Sequence[int], axis: int = 0) -> list:
    """Pieces of `sizes` along axis (they must sum to its length)."""
    x = asarray_any(operand)
    axis = int(axis) % x.ndim
    sizes = [int(s) for s in sizes]
    if sum(sizes) != x.shape[axis] or any(s < 0 for s in sizes):
        raise ValueError(f"split: sizes {sizes} must be non-negative and sum to {x.shape[axis]} (axis {axis})")
    out, start = [], 0
    for s in sizes:
        out.append(slice_in_dim(x, start, start + s, 1, axis))
        start += s
    return out


def broadcast_shapes(*shapes) -> tuple:
    """The broadcast of shapes (NumPy's rule); ValueError when they are incompatible."""
    try:
        return tuple(int(d) for d in np.broadcast_shapes(*[tuple(s) for s in shapes]))
    except ValueError:
        raise ValueError(f"Incompatible shapes for broadcasting: shapes={[tuple(s) for s in shapes]}") from None


def broadcast_to_rank(x, rank: int):
    """x with leading 1-axes added up to `rank`."""
    x = asarray_any(x)
    return x if x.ndim >= rank else reshape(x, (1,) * (rank - x.ndim) + x.shape)


def collapse(operand, start_dimension: int, stop_dimension: int | None = None):
    """Merge axes [start, stop) into one."""
    x = asarray_any(operand)
    lo = int(start_dimension) % max(x.ndim, 1) if start_dimension < 0 else int(start_dimension)
    hi = x.ndim if stop_dimension is None else int(stop_dimension) % (x.ndim + 1)
    size = int(np.prod(x.shape[lo:hi], dtype=np.int64))
    return reshape(x, x.shape[:lo] + (size,) + x.shape[hi:])


def index_take(src, idxs, axes):
    """src[idxs[0], idxs[1], ...] along `axes` (1-D index arrays of one length), remaining axes after."""
    x = asarray_any(src)
    axes = [int(a) % x.ndim for a in axes]
    moved = jnp.moveaxis(x, axes, list(range(len(axes))))
    return moved[tuple(asarray_any(i) for i in idxs)]


def dynamic_update_index_in_dim(operand, update, index, axis: int):
    """operand with its slice `index` along axis replaced by update (axis absent or of size 1)."""
    x, u = asarray_any(operand), asarray_any(update)
    axis = int(axis) % x.ndim
    if u.ndim != x.ndim:
        u = expand_dims(u, (axis,))
    return dynamic_update_slice_in_dim(x, u, index, axis)


# ---- implicit solves: the value from the user's solver, gradients by the implicit rule -------


def custom_linear_solve(matvec, b, solve, transpose_solve=None, symmetric: bool = False, has_aux: bool = False):
    """x = solve(matvec, b). Gradients flow through `solve` itself (exact when solve is exact),
    not JAX's implicit rule; transpose_solve and symmetric are accepted for JAX's signature."""
    out = solve(matvec, b)
    return out


def custom_root(f, initial_guess, solve, tangent_solve, has_aux: bool = False):
    """x = solve(f, initial_guess) with f(x) = 0; derivatives by the implicit function theorem:
    dx = -tangent_solve(J_f(x), df), with the value kept exactly as `solve` returned it."""
    out = solve(f, initial_guess)
    root, aux = out if has_aux else (out, None)
    root = tree_map(stop_gradient, root)

    def lin(v):  # J_f at the root, applied to v
        return jvp(lambda x: _main(f(x), has_aux), (root,), (v,))[1]

    resid = _main(f(root), has_aux)
    step = tangent_solve(lin, resid)
    # root - step + stop_gradient(step): the value of root, the derivative of -J^-1 f(root, params)
    x = tree_map(lambda r, s: r - s + stop_gradient(s), root, step)
    return (x, aux) if has_aux else x


def _main(out, has_aux):
    return out[0] if has_aux else out

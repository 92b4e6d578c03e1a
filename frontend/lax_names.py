"""More jax.lax names composed from irjax.lax ops: stack/unstack, broadcast_like, empty, mulhi,
reduce_xor, batch_matmul, scatter_sub/apply, approx_max_k/min_k, dtype, platform_dependent, composite."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import numpy as np

from . import numpy as jnp
from .control_flow import while_loop
from .device_api import default_backend
from .dtypes import canonicalize_dtype, dtype_of, issubdtype
from .lax import (
    ScatterDimensionNumbers,
    bitcast_convert_type,
    broadcast_in_dim,
    concatenate,
    dot_general,
    expand_dims,
    full,
    index_in_dim,
    iota,
    scatter_add,
    select,
    shift_right_logical,
    slice_in_dim,
    sort,
    xor,
)
from .operands import asarray_any
from .tree_util import register_pytree_node

__all__ = [
    "after_all",
    "approx_max_k",
    "approx_min_k",
    "batch_matmul",
    "broadcast_like",
    "composite",
    "create_token",
    "dtype",
    "empty",
    "mulhi",
    "platform_dependent",
    "reduce_xor",
    "scatter_apply",
    "scatter_sub",
    "shape_as_value",
    "stack",
    "unstack",
]


def _axis(axis: int, n: int) -> int:
    if not -n <= axis < n:
        raise ValueError(f"axis {axis} is out of bounds for array of dimension {n}")
    return axis % n


def stack(operands: Sequence, axis: int = 0):
    """Join arrays of one shape and dtype along a new axis."""
    ops = [asarray_any(o) for o in operands]
    if not ops:
        raise ValueError("lax.stack needs at least one array")
    if len({o.shape for o in ops}) > 1:
        raise ValueError(f"All input arrays must have the same shape. Got {', '.join(str(o.shape) for o in ops)}.")
    if len({o.dtype for o in ops}) > 1:
        raise TypeError(
            f"lax.stack requires arguments to have the same dtypes, got {', '.join(o.dtype.name for o in ops)}."
        )
    axis = _axis(axis, ops[0].ndim + 1)
    return concatenate([expand_dims(o, (axis,)) for o in ops], axis)


def unstack(x, axis: int = 0) -> tuple:
    """The slices of x along axis, as a tuple."""
    x = asarray_any(x)
    axis = _axis(axis, x.ndim)
    return tuple(index_in_dim(x, i, axis, keepdims=False) for i in range(x.shape[axis]))


def broadcast_like(arr, like_arr):
    """arr broadcast to like_arr's shape (NumPy rules), keeping arr's dtype."""
    x, like = asarray_any(arr), asarray_any(like_arr)
    return jnp.broadcast_to(x, like.shape)


def empty(shape, dtype, *, out_sharding=None):
    """An array of the shape and dtype; irjax fills it with zeros (as JAX on CPU)."""
    return full(tuple(shape), 0, canonicalize_dtype(dtype))


def _unsigned(dt: np.dtype) -> np.dtype:
    return np.dtype(f"uint{dt.itemsize * 8}")


def mulhi(x, y, /):
    """The high half of the double-width product x * y of integers of one dtype."""
    x, y = asarray_any(x), asarray_any(y)
    if x.dtype.kind not in "iu":
        raise TypeError(
            f"mulhi does not accept dtype {x.dtype.name} at position 0. "
            "Accepted dtypes at position 0 are subtypes of integer."
        )
    if x.dtype != y.dtype:
        raise TypeError(f"lax.mulhi requires arguments to have the same dtypes, got {x.dtype.name}, {y.dtype.name}.")
    x, y = jnp.broadcast_arrays(x, y)
    ut = _unsigned(x.dtype)
    u, v = (bitcast_convert_type(a, ut) if x.dtype.kind == "i" else a for a in (x, y))
    half = x.dtype.itemsize * 4
    lo_mask, h = jnp.asarray((1 << half) - 1, ut), jnp.asarray(half, ut)
    # schoolbook multiply on half-width digits: no intermediate overflows the word (Hacker's Delight)
    u0, u1 = u & lo_mask, shift_right_logical(u, jnp.broadcast_to(h, u.shape))
    v0, v1 = v & lo_mask, shift_right_logical(v, jnp.broadcast_to(h, v.shape))
    hs = jnp.broadcast_to(h, u.shape)
    t = u1 * v0 + shift_right_logical(u0 * v0, hs)
    w1 = u0 * v1 + (t & lo_mask)
    hi = u1 * v1 + shift_right_logical(t, hs) + shift_right_logical(w1, hs)
    if x.dtype.kind == "u":
        return hi
    zero = jnp.zeros((), ut)  # signed: subtract v where x < 0 and u where y < 0 (mod 2**bits)
    hi = hi - select(x < 0, v, jnp.broadcast_to(zero, v.shape)) - select(y < 0, u, jnp.broadcast_to(zero, u.shape))
    return bitcast_convert_type(hi, x.dtype)


def reduce_xor(operand, axes: Sequence[int]):
    """Bitwise xor (for bool: parity) over axes, by halving each axis."""
    x = asarray_any(operand)
    if x.dtype.kind not in "biu":
        raise TypeError(f"logical reduction requires operand dtype bool or int, got {x.dtype.name}.")
    for a in sorted({_axis(a, x.ndim) for a in axes}, reverse=True):
        while x.shape[a] > 1:
            n = x.shape[a]
            if n % 2:  # xor with zero leaves the last entry as it is
                x = jnp.pad(x, [(0, int(i == a)) for i in range(x.ndim)])
                n += 1
            x = xor(slice_in_dim(x, 0, n // 2, axis=a), slice_in_dim(x, n // 2, n, axis=a))
        x = jnp.zeros(x.shape[:a] + x.shape[a + 1 :], x.dtype) if x.shape[a] == 0 else jnp.squeeze(x, a)
    return x


def batch_matmul(lhs, rhs, precision=None):
    """Matrix products over leading batch dims: (..., m, k) @ (..., k, n)."""
    lhs, rhs = asarray_any(lhs), asarray_any(rhs)
    if min(lhs.ndim, rhs.ndim) < 2:
        raise ValueError(f"Arguments to batch_matmul must be at least 2D, got {lhs.ndim}, {rhs.ndim}")
    if lhs.ndim != rhs.ndim:
        raise ValueError(f"Arguments to batch_matmul must have same ndim, got {lhs.ndim}, {rhs.ndim}")
    if lhs.dtype != rhs.dtype:
        raise TypeError(f"dot_general requires operands of the same dtype, got {lhs.dtype.name} and {rhs.dtype.name}.")
    if lhs.shape[:-2] != rhs.shape[:-2]:
        raise TypeError(
            f"dot_general requires lhs batch dimensions and rhs batch dimensions to have the same shape, "
            f"got {lhs.shape[:-2]} and {rhs.shape[:-2]}."
        )
    if lhs.shape[-1] != rhs.shape[-2]:
        raise TypeError(
            f"dot_general requires contracting dimensions to have the same shape, "
            f"got {lhs.shape[-1:]} and {rhs.shape[-2:-1]}."
        )
    batch = tuple(range(lhs.ndim - 2))
    return dot_general(lhs, rhs, (((lhs.ndim - 1,), (rhs.ndim - 2,)), (batch, batch)))


def scatter_sub(operand, scatter_indices, updates, dimension_numbers: ScatterDimensionNumbers, **kw):
    """operand with updates subtracted at the indices: scatter_add of -updates, exact in IEEE
    arithmetic and modulo 2**bits for integers."""
    return scatter_add(operand, scatter_indices, -asarray_any(updates), dimension_numbers, **kw)


def scatter_apply(
    operand,
    scatter_indices,
    func: Callable,
    dimension_numbers: ScatterDimensionNumbers,
    *,
    update_shape=(),
    indices_are_sorted: bool = False,
    unique_indices: bool = False,
    mode=None,
):
    """func applied to the operand's entries at the indices, once per index naming the entry (as
    XLA's scatter, so a duplicated index applies it twice). func must be elementwise. With
    unique_indices it is one masked application (differentiable); otherwise a while_loop repeats
    it up to the largest duplicate count (not reverse-differentiable; neither is JAX's)."""
    x = asarray_any(operand)
    hits = jnp.zeros(x.shape, np.int32)
    count = scatter_add(hits, scatter_indices, jnp.ones(tuple(update_shape), np.int32), dimension_numbers)
    if unique_indices:
        return select(count > 0, asarray_any(func(x)), x)

    def body(state):
        k, v = state
        return k + 1, select(count > k, asarray_any(func(v)), v)

    return while_loop(lambda state: state[0] < jnp.max(count), body, (jnp.asarray(0, np.int32), x))[1]


def _approx_k(name: str, operand, k: int, reduction_dimension: int, recall_target: float, aggregate: bool, top: bool):
    x = asarray_any(operand)
    d = _axis(reduction_dimension, max(x.ndim, 1))
    k = int(k)
    if x.ndim == 0 or not 0 <= k <= x.shape[d]:
        raise ValueError(f"k must be smaller than the size of reduction_dim {x.shape[d] if x.ndim else 0}, got {k}")
    if not issubdtype(x.dtype, np.floating):
        raise ValueError(f"{name}: operand must be a floating type, got {x.dtype.name}")
    if not 0 < recall_target <= 1:
        raise ValueError(f"{name}: recall_target must be in (0, 1], got {recall_target}")
    idx = broadcast_in_dim(iota(np.int32, x.shape[d]), x.shape, (d,))
    # XLA's CPU order among equal values: the lowest index first, except that k == 1 (a
    # reduction there) keeps the highest. A stable ascending sort of x, or of its reversal, and
    # reading it from the front or the back gives each of the four cases.
    last = k == 1 and aggregate
    flip_in = top != last
    xs, ids = sort((jnp.flip(x, d), jnp.flip(idx, d)) if flip_in else (x, idx), dimension=d, num_keys=1)
    if top:
        xs, ids = jnp.flip(xs, d), jnp.flip(ids, d)
    if not aggregate:  # CPU's approximate top-k returns every candidate, sorted
        return xs, ids
    return slice_in_dim(xs, 0, k, axis=d), slice_in_dim(ids, 0, k, axis=d)


def approx_max_k(
    operand,
    k: int,
    reduction_dimension: int = -1,
    recall_target: float = 0.95,
    reduction_input_size_override: int = -1,
    aggregate_to_topk: bool = True,
):
    """The k largest entries along reduction_dimension and their int32 indices; exact on CPU, as JAX's.
    Equal values come in XLA's CPU order (lowest index first; for k == 1 the highest)."""
    return _approx_k("approx_max_k", operand, k, reduction_dimension, recall_target, aggregate_to_topk, True)


def approx_min_k(
    operand,
    k: int,
    reduction_dimension: int = -1,
    recall_target: float = 0.95,
    reduction_input_size_override: int = -1,
    aggregate_to_topk: bool = True,
):
    """The k smallest entries along reduction_dimension and their int32 indices; exact on CPU, as JAX's."""
    return _approx_k("approx_min_k", operand, k, reduction_dimension, recall_target, aggregate_to_topk, False)


def dtype(x) -> np.dtype:
    """x's dtype as irjax canonicalizes it (Python float -> float32 without x64)."""
    if isinstance(x, type) or isinstance(x, (np.dtype, str)):
        return canonicalize_dtype(x)
    return canonicalize_dtype(dtype_of(x))


def shape_as_value(shape) -> np.ndarray:
    """A static shape as an int32 array."""
    return np.asarray(tuple(int(d) for d in shape), np.int32)


def platform_dependent(*args, default: Callable | None = None, **per_platform: Callable):
    """The branch for the platform irjax runs on ('cpu', 'cuda', 'rocm', 'vulkan'), else default."""
    platform = default_backend()
    branch = per_platform.get(platform, default)
    if branch is None:
        raise NotImplementedError(
            f"platform_dependent has no branch for platform {platform!r} and no default; "
            f"got branches for {sorted(per_platform)}"
        )
    return branch(*args)


def composite(decomposition: Callable, name: str, version: int = 0) -> Callable:
    """A named composite op: irjax runs (and differentiates) its decomposition."""
    if not isinstance(name, str) or not name:
        raise TypeError(f"composite needs a non-empty name string, got {name!r}")

    @functools.wraps(decomposition)
    def call(*args, **kwargs):
        return decomposition(*args, **kwargs)

    return call


class Token:
    """An ordering token (jax.lax.create_token / after_all). irjax runs effects in program order,
    so a token carries nothing: a pytree without leaves, it passes through jit, vmap and scan."""

    def __repr__(self) -> str:
        return "Token()"


register_pytree_node(Token, lambda t: ((), None), lambda aux, children: Token())


def create_token(_=None) -> Token:
    """A fresh token (the argument is ignored, as JAX's)."""
    return Token()


def after_all(*operands) -> Token:
    """A token ordered after every operand token."""
    if not all(isinstance(t, Token) for t in operands):
        raise TypeError("Arguments to after_all must be tokens")
    return Token()

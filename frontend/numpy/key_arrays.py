"""irjax.numpy's structural functions on typed PRNG key arrays (jax.random.key), as JAX's:
stack, concatenate, where, broadcast_to, take, expand_dims, swapaxes, transpose, array and
asarray move keys whole. A key array holds uint32 data of shape (*shape, 2) underneath
(prng.PRNGKeyArray); each rule applies the function to that data with the key axes named (a
negative axis counts from the last key axis, never the data's trailing one) and wraps the
result. Keys are recognised by their dtype (dtypes.ExtendedDType), so this module needs no
import of irjax.prng (which imports irjax.numpy)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

from irjax import dtypes
from irjax.operands import canonical_axes, canonical_axis, stack

__all__ = ["keys_through"]


def is_key(x) -> bool:
    return isinstance(getattr(x, "dtype", None), dtypes.ExtendedDType)


def _data(k):
    return k._base_array


def _wrap(like, data):
    return type(like)(data)


def _all_keys(xs, what: str) -> list:
    xs = list(xs)
    if not all(is_key(x) for x in xs):
        raise TypeError(f"{what}: key arrays can only be combined with other key arrays")
    return xs


def _stack(f, arrays: Sequence, axis=0, out=None, dtype=None):
    ks = _all_keys(arrays, "stack")
    return _wrap(ks[0], f([_data(k) for k in ks], axis=canonical_axis(axis, ks[0].ndim + 1)))


def _concatenate(f, arrays: Sequence, axis=0, dtype=None):
    ks = _all_keys(arrays, "concatenate")
    if axis is None:
        ks, axis = [k.ravel() for k in ks], 0
    return _wrap(ks[0], f([_data(k) for k in ks], axis=canonical_axis(axis, ks[0].ndim)))


def _where(f, condition, x=None, y=None, /, **kw):
    if x is None or y is None:
        return f(condition, x, y, **kw)
    kx, ky = _all_keys((x, y), "where")
    cond = condition[..., None] if getattr(condition, "ndim", 0) else condition
    return _wrap(kx, f(cond, _data(kx), _data(ky)))


def _broadcast_to(f, array, shape):
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return _wrap(array, f(_data(array), shape + (2,)))


def _take(f, a, indices, axis=None, **kw):
    if axis is None:
        a, axis = a.ravel(), 0
    return _wrap(a, f(_data(a), indices, axis=canonical_axis(axis, a.ndim), **kw))


def _expand_dims(f, a, axis):
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    return _wrap(a, f(_data(a), canonical_axes(axes, a.ndim + len(axes))))


def _swapaxes(f, a, axis1, axis2):
    return _wrap(a, f(_data(a), canonical_axis(axis1, a.ndim), canonical_axis(axis2, a.ndim)))


def _transpose(f, a, axes=None):
    axes = tuple(reversed(range(a.ndim))) if axes is None else canonical_axes(tuple(axes), a.ndim)
    return _wrap(a, f(_data(a), axes + (a.ndim,)))


def _as_is(f, a, dtype=None, *args, **kw):
    if dtype is not None and dtype != a.dtype:
        raise TypeError(f"cannot convert a key array ({a.dtype}) to {dtype}; use jax.random.key_data")
    return a


_RULES: dict[str, Callable] = {
    "stack": _stack,
    "concatenate": _concatenate,
    "where": _where,
    "broadcast_to": _broadcast_to,
    "take": _take,
    "expand_dims": _expand_dims,
    "swapaxes": _swapaxes,
    "transpose": _transpose,
    "array": _as_is,
    "asarray": _as_is,
}
NAMES = tuple(_RULES)  # (irjax.numpy wraps these)
_SEQUENCE_FIRST = frozenset(("stack", "concatenate"))


def keys_through(f: Callable) -> Callable:
    """f, which moves a key array given as its array argument (in a sequence for stack and
    concatenate; as x and y for where) by the rule of f's name."""
    rule = _RULES[f.__name__]
    seq = f.__name__ in _SEQUENCE_FIRST
    pick = 1 if f.__name__ == "where" else 0

    @functools.wraps(f)
    def g(*args, **kwargs):
        if len(args) > pick:
            probe = args[pick]
            if seq and isinstance(probe, (list, tuple)) and probe:
                probe = probe[0]
            if is_key(probe):
                return rule(f, *args, **kwargs)
        if f.__name__ in ("array", "asarray") and isinstance(args[0] if args else None, (list, tuple)):
            items = args[0]
            if items and all(is_key(k) for k in items):  # jnp.array([k1, k2]): a stacked key array
                return _stack(stack, items)
        return f(*args, **kwargs)

    return g

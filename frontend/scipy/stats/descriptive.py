"""jax.scipy.stats's descriptive functions: mode, rankdata, sem (sorts and comparisons, no loops)."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ... import numpy as jnp

__all__ = ["ModeResult", "mode", "rankdata", "sem"]


class ModeResult(NamedTuple):
    mode: Any
    count: Any


def _policy(nan_policy, name, allowed=("propagate",)):
    if nan_policy not in ("propagate", "omit", "raise"):
        raise ValueError(f"{name}: nan_policy must be 'propagate', 'omit' or 'raise', got {nan_policy!r}")
    if nan_policy == "raise":
        raise ValueError(f"{name}: nan_policy='raise' is not supported (it needs a value-dependent check)")
    if nan_policy not in allowed:
        raise NotImplementedError(f"{name}: nan_policy={nan_policy!r} is not implemented (as in JAX)")


def mode(a, axis: int | None = 0, nan_policy: str = "propagate", keepdims: bool = False) -> ModeResult:
    """The most frequent value along `axis` (the smallest among ties) and its count (int32)."""
    _policy(nan_policy, "mode")
    x = jnp.asarray(a)
    if axis is None:
        x, axis = jnp.ravel(x), 0
    axis = int(axis) % max(x.ndim, 1) if x.ndim else 0
    if x.ndim == 0:
        x = x[None]
    x = jnp.moveaxis(x, axis, -1)
    s = jnp.sort(x, axis=-1)
    counts = jnp.sum(s[..., :, None] == s[..., None, :], axis=-1).astype(np.int32)
    best = jnp.argmax(counts, axis=-1)  # first maximum in sorted order: the smallest tied value
    m = jnp.take_along_axis(s, best[..., None], axis=-1)
    c = jnp.take_along_axis(counts, best[..., None], axis=-1)
    if keepdims and jnp.asarray(a).ndim:
        return ModeResult(jnp.moveaxis(m, -1, axis), jnp.moveaxis(c, -1, axis))
    return ModeResult(m[..., 0], c[..., 0])


_METHODS = ("average", "min", "max", "dense", "ordinal")


def rankdata(a, method: str = "average", *, axis: int | None = None, nan_policy: str = "propagate"):
    """Ranks from 1 along `axis` (flattened when None) as float32; ties by `method`; a slice holding
    NaN ranks NaN (nan_policy='propagate')."""
    if method not in _METHODS:
        raise ValueError(f"rankdata: method must be one of {_METHODS}, got {method!r}")
    _policy(nan_policy, "rankdata")
    x = jnp.asarray(a)
    if axis is None:
        return rankdata(jnp.ravel(x), method, axis=0)
    if x.ndim == 0:
        raise ValueError("rankdata: expected an array of at least one dimension when axis is given")
    x = jnp.moveaxis(x, int(axis), -1)
    n = x.shape[-1]
    order = jnp.argsort(x, axis=-1, stable=True)
    s = jnp.take_along_axis(x, order, axis=-1)
    pos = jnp.arange(n)
    if method == "ordinal":  # the inverse permutation of the stable sort
        r = jnp.sum(jnp.where(order[..., :, None] == pos, pos[:, None] + 1, 0), axis=-2)
    else:
        less = jnp.sum(s[..., None, :] < x[..., :, None], axis=-1)
        less_eq = jnp.sum(s[..., None, :] <= x[..., :, None], axis=-1)
        if method == "min":
            r = less + 1
        elif method == "max":
            r = less_eq
        elif method == "average":
            r = (less + 1 + less_eq) / 2
        else:  # dense: distinct values below, plus one
            new = jnp.concatenate([jnp.ones_like(s[..., :1], bool), s[..., 1:] != s[..., :-1]], axis=-1)
            distinct = jnp.cumsum(new, axis=-1)
            r = jnp.sum(jnp.where(pos == less[..., None], distinct[..., None, :], 0), axis=-1)
    r = r.astype(jnp.float32)
    if jnp.issubdtype(x.dtype, np.inexact):
        r = jnp.where(jnp.any(jnp.isnan(x), axis=-1, keepdims=True), np.nan, r)
    return jnp.moveaxis(r, -1, int(axis))


def sem(a, axis: int | None = 0, ddof: int = 1, nan_policy: str = "propagate", *, keepdims: bool = False):
    """Standard error of the mean: std(a, ddof) / sqrt(n); nan_policy='omit' skips NaNs."""
    _policy(nan_policy, "sem", ("propagate", "omit"))
    x = jnp.asarray(a)
    if not jnp.issubdtype(x.dtype, np.inexact):
        x = x.astype(jnp.float32)
    if nan_policy == "omit":
        n = jnp.sum(~jnp.isnan(x), axis=axis, keepdims=keepdims)
        return jnp.nanstd(x, axis=axis, ddof=ddof, keepdims=keepdims) / jnp.sqrt(n).astype(x.dtype)
    n = x.size if axis is None else x.shape[axis]
    return jnp.std(x, axis=axis, ddof=ddof, keepdims=keepdims) / np.sqrt(n).astype(x.dtype)

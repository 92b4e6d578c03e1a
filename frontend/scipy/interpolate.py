"""irjax.scipy.interpolate (`jax.scipy.interpolate`): RegularGridInterpolator (linear, nearest)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from .. import numpy as jnp
from ..tree_util import register_pytree_node

__all__ = ["RegularGridInterpolator"]

_METHODS = ("linear", "nearest")


def _points(xi, ndim: int):
    # a tuple of coordinate arrays broadcasts and stacks into (..., ndim) points
    if isinstance(xi, tuple) and len(xi) > 0:
        parts = jnp.broadcast_arrays(*[jnp.asarray(p) for p in xi])
        if len(parts) == 1 and ndim == 1:
            return parts[0][..., None]
        return jnp.stack(parts, axis=-1)
    xi = jnp.asarray(xi)
    if xi.ndim == 1:
        return xi.reshape(-1, ndim)
    return xi


class RegularGridInterpolator:
    """Interpolate values given on a rectilinear grid, as scipy.interpolate.RegularGridInterpolator."""

    def __init__(
        self,
        points: Sequence,
        values,
        method: str = "linear",
        bounds_error: bool = False,
        fill_value=np.nan,
    ):
        if method not in _METHODS:
            raise ValueError(f"method {method!r} is not defined")
        self.method = method
        self.bounds_error = bounds_error
        if bounds_error:
            raise NotImplementedError("`bounds_error` takes no effect under JIT")
        values = jnp.asarray(values)
        if len(points) > values.ndim:
            raise ValueError(f"there are {len(points)} point arrays, but values has {values.ndim} dimensions")
        if not jnp.issubdtype(values.dtype, jnp.inexact):
            values = values.astype(jnp.result_type(values.dtype, jnp.float32))
        if fill_value is not None:
            fill_value = jnp.asarray(fill_value)
            if not jnp.can_cast(fill_value.dtype, values.dtype, casting="same_kind"):
                raise ValueError("fill_value must be either 'None' or of a type compatible with values")
        self.fill_value = fill_value
        self.grid = tuple(jnp.asarray(p) for p in points)
        self.values = values

    def __call__(self, xi, method: str | None = None):
        method = self.method if method is None else method
        if method not in _METHODS:
            raise ValueError(f"method {method!r} is not defined")
        ndim = len(self.grid)
        xi = _points(xi, ndim)
        if xi.shape[-1] != ndim:
            raise ValueError(
                f"the requested sample points xi have dimension {xi.shape[-1]}, "
                f"but this RegularGridInterpolator has dimension {ndim}"
            )
        lead = xi.shape[:-1]
        xi = xi.reshape(-1, ndim)
        idx, dist = [], []
        outside = jnp.zeros((xi.shape[0],), dtype=bool)
        for d, g in enumerate(self.grid):
            x = xi[:, d]
            # lower edge of the cell holding x, clamped so edge i+1 exists
            i = jnp.clip(jnp.searchsorted(g, x) - 1, 0, g.size - 2)
            idx.append(i)
            dist.append((x - g[i]) / (g[i + 1] - g[i]))
            outside = outside | (x < g[0]) | (x > g[-1])
        trail = (slice(None),) + (None,) * (self.values.ndim - ndim)
        if method == "linear":
            out = jnp.asarray(0.0)
            for corner in itertools.product(*[(False, True) for _ in idx]):
                w = jnp.asarray(1.0)
                for up, y in zip(corner, dist):
                    w = w * (y if up else 1 - y)
                out = out + self.values[tuple(i + 1 if up else i for up, i in zip(corner, idx))] * w[trail]
        else:
            out = self.values[tuple(jnp.where(y <= 0.5, i, i + 1) for i, y in zip(idx, dist))]
        if self.fill_value is not None:
            out = jnp.where(outside.reshape(out.shape[:1] + (1,) * (out.ndim - 1)), self.fill_value, out)
        return out.reshape(lead + self.values.shape[ndim:])


register_pytree_node(
    RegularGridInterpolator,
    lambda o: ((o.grid, o.values, o.fill_value), (o.method, o.bounds_error)),
    lambda aux, ch: _rebuild(aux, ch),
)


def _rebuild(aux, children) -> RegularGridInterpolator:
    obj = object.__new__(RegularGridInterpolator)
    obj.grid, obj.values, obj.fill_value = children
    obj.method, obj.bounds_error = aux
    return obj

"""irjax.scipy.ndimage (`jax.scipy.ndimage`): map_coordinates with order 0/1 interpolation."""

from __future__ import annotations

import functools
import itertools
import operator
from collections.abc import Sequence

from .. import numpy as jnp

__all__ = ["map_coordinates"]


def _mirror(index, size: int):
    s = size - 1  # half period of the triangle wave
    return jnp.abs((index + s) % (2 * s) - s)


def _reflect(index, size: int):
    return jnp.floor_divide(_mirror(2 * index + 1, 2 * size + 1) - 1, 2)


_FIXERS = {
    "constant": lambda index, size: index,
    "nearest": lambda index, size: jnp.clip(index, 0, size - 1),
    "wrap": lambda index, size: index % size,
    "mirror": _mirror,
    "reflect": _reflect,
}


def _round_half_away(a):
    return a if jnp.issubdtype(a.dtype, jnp.integer) else jnp.sign(a) * jnp.floor(jnp.abs(a) + 0.5)


def _nearest(c):
    return [(_round_half_away(c).astype(jnp.int32), 1)]


def _linear(c):
    lo = jnp.floor(c)
    hi_w = c - lo
    lo_i = lo.astype(jnp.int32)
    return [(lo_i, 1 - hi_w), (lo_i + 1, hi_w)]


def map_coordinates(input, coordinates: Sequence, order: int, mode: str = "constant", cval=0.0):
    """Sample `input` at `coordinates` (one array per axis), as scipy.ndimage.map_coordinates."""
    arr = jnp.asarray(input)
    coords = [jnp.asarray(c) for c in coordinates]
    cval = jnp.asarray(cval, arr.dtype)
    if len(coordinates) != arr.ndim:
        raise ValueError(f"coordinates must be a sequence of length input.ndim, but {len(coordinates)} != {arr.ndim}")
    fixer = _FIXERS.get(mode)
    if fixer is None:
        raise NotImplementedError(
            f"jax.scipy.ndimage.map_coordinates does not yet support mode {mode}. "
            f"Currently supported modes are {set(_FIXERS)}."
        )
    if order == 0:
        nodes = _nearest
    elif order == 1:
        nodes = _linear
    else:
        raise NotImplementedError("jax.scipy.ndimage.map_coordinates currently requires order<=1")
    per_axis = []
    for c, size in zip(coords, arr.shape):
        row = []
        for index, weight in nodes(c):
            valid = ((index >= 0) & (index < size)) if mode == "constant" else None
            # gather indices clamp like JAX's; constant mode masks the out-of-range corners
            row.append((jnp.clip(fixer(index, size), 0, size - 1), valid, weight))
        per_axis.append(row)
    terms = []
    for corner in itertools.product(*per_axis):
        idx, valid, weights = zip(*corner)
        value = arr[tuple(idx)]
        if mode == "constant":
            value = jnp.where(functools.reduce(operator.and_, valid), value, cval)
        terms.append(functools.reduce(operator.mul, weights) * value)
    out = functools.reduce(operator.add, terms)
    if jnp.issubdtype(arr.dtype, jnp.integer):
        out = _round_half_away(out)
    return out.astype(arr.dtype)

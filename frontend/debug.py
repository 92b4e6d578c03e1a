"""irjax.debug: print (formatted printing of array values) and visualize_array_sharding (a
text picture of which devices hold which block of an array)."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any

import numpy as np

from . import tree_util
from .callbacks import debug_callback


def print(fmt: str, *args, ordered: bool = False, **kwargs) -> None:  # noqa: A001
    """Print `fmt.format(*args, **kwargs)` with the runtime values: at once outside
    transformations, from the compiled program under jit (per element under vmap)."""

    def show(*a, **kw):
        # a 0-d value formats as its scalar (np.float32: "0.1"), not as a Python float
        a, kw = tree_util.tree_map(lambda v: v[()] if isinstance(v, np.ndarray) and v.ndim == 0 else v, (a, kw))
        builtins.print(fmt.format(*a, **kw))

    debug_callback(show, *args, key=("debug.print", fmt), **kwargs)


def callback(callback: Callable[..., Any], *args, ordered: bool = False, **kwargs) -> None:
    """callback(*args, **kwargs) for its effect with the runtime values (JAX's
    jax.debug.callback): its return value is ignored."""
    debug_callback(callback, *args, **kwargs)


def sharding_grid(shape: tuple, sharding) -> list[list[str]]:
    """The blocks of a 1-D or 2-D array under `sharding`, rows of labels naming the devices
    that hold each block ("CPU 0,1"), as visualize_sharding draws them."""
    shape = tuple(shape)
    if len(shape) > 2:
        raise ValueError(f"visualize_sharding only works for shapes with 1 or 2 dimensions. Got shape {shape}")
    idx = sharding.devices_indices_map(shape)

    def span(index, d):  # (start, stop) of 2-D dimension d
        k = d - (2 - len(shape))
        return index[k].indices(shape[k])[:2] if k >= 0 else (0, 1)

    rows = sorted({span(i, 0) for i in idx.values()})
    cols = sorted({span(i, 1) for i in idx.values()})
    holders: dict = {}
    for dev, i in idx.items():
        holders.setdefault((span(i, 0), span(i, 1)), []).append(dev)
    grid = []
    for r in rows:
        line = []
        for c in cols:
            devs = holders.get((r, c), [])
            plat = devs[0].platform.upper() if devs else "?"
            line.append(f"{plat} {','.join(str(d.id) for d in sorted(devs, key=lambda d: d.id))}")
        grid.append(line)
    return grid


def visualize_sharding(shape, sharding, *, use_color: bool = False, scale: float = 1.0, **_) -> None:
    """Print a plain-text grid of which devices hold each block of a 1-D or 2-D array (JAX draws
    the same picture with `rich`)."""
    grid = sharding_grid(tuple(shape), sharding)
    width = max(len(s) for row in grid for s in row) + 2
    bar = "+" + "+".join("-" * width for _ in grid[0]) + "+"
    lines = [bar]
    for row in grid:
        lines.append("|" + "|".join(s.center(width) for s in row) + "|")
        lines.append(bar)
    builtins.print("\n".join(lines))


def visualize_array_sharding(arr, **kwargs) -> None:
    """visualize_sharding(arr.shape, arr.sharding)."""
    visualize_sharding(arr.shape, arr.sharding, **kwargs)

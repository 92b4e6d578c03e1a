"""irjax.pure_callback: call a host (NumPy) function on concrete arguments.

Outside transformations the callback runs on the host and its results are checked against
result_shape_dtypes. Inside jit/grad/vmap irjax has no host-callback op yet: it raises
NotImplementedError rather than run the callback on trace-time placeholders.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .core import Tracer
from .numpy._util import asarray_any
from .tree_util import tree_flatten, tree_leaves, tree_map, tree_structure, tree_unflatten

__all__ = ["pure_callback"]


def pure_callback(
    callback: Callable[..., Any],
    result_shape_dtypes: Any,
    *args: Any,
    sharding=None,
    vmap_method: str | None = None,
    vectorized: bool | None = None,
    **kwargs: Any,
):
    """callback(*args, **kwargs) on NumPy values, as Arrays shaped like result_shape_dtypes."""
    if any(isinstance(x, Tracer) for x in tree_leaves((args, kwargs))):
        raise NotImplementedError(
            "irjax.pure_callback inside jit/grad/vmap is not supported yet (irjax has no host-callback "
            "op); call it outside the transformation, on concrete arrays"
        )
    host_args, host_kwargs = tree_map(np.asarray, (args, kwargs))
    out = callback(*host_args, **host_kwargs)
    want, got = tree_structure(result_shape_dtypes), tree_structure(out)
    if want != got:
        raise TypeError(f"pure_callback: the callback returned a {got}, result_shape_dtypes declares {want}")
    specs, tree = tree_flatten(result_shape_dtypes)
    results = []
    for value, spec in zip(tree_leaves(out), specs):
        value = np.asarray(value)
        shape, dtype = tuple(spec.shape), np.dtype(spec.dtype)
        if value.shape != shape or value.dtype != dtype:
            raise TypeError(
                f"pure_callback: the callback returned {value.dtype.name}{list(value.shape)}, "
                f"result_shape_dtypes declares {dtype.name}{list(shape)}"
            )
        results.append(asarray_any(value))
    return tree_unflatten(tree, results)

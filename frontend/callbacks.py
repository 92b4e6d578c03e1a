"""irjax.pure_callback, irjax.experimental.io_callback and the debug callbacks under
irjax.debug.print/callback: call a host (NumPy) function from inside jit, vmap and control flow.

Outside transformations the callback runs at once. Traced, it becomes a jx.pure_callback /
jx.io_callback / jx.debug_callback op (dialects/host_calls.py) that the compiled program runs through an IREE
import served from Python: the callback sees NumPy arrays, as JAX's sees arrays, and its results
are checked against result_shape_dtypes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from irjax.dialects.host_calls import VMAP_METHODS, HostFunction, call_host, register_host_function
from irjax.dialects.registry import ShapedType

from . import dtypes
from .core import Tracer, current_trace, jx
from .operands import asarray_any
from .tree_util import tree_flatten, tree_leaves, tree_structure, tree_unflatten

__all__ = ["debug_callback", "io_callback", "pure_callback"]


def _result_types(result_shape_dtypes) -> tuple[tuple, Any]:
    specs, tree = tree_flatten(result_shape_dtypes)
    return tuple(ShapedType(tuple(s.shape), dtypes.canonicalize_dtype(s.dtype)) for s in specs), tree


def _vmap_method(vmap_method: str | None, vectorized: bool | None) -> str | None:
    if vmap_method is not None and vmap_method not in VMAP_METHODS:
        raise ValueError(f"vmap_method must be one of {VMAP_METHODS} or None, got {vmap_method!r}")
    if vectorized is not None and vmap_method is not None:
        raise ValueError("the vectorized and vmap_method arguments of pure_callback cannot be used together")
    if vectorized:
        return "legacy_vectorized"
    if vectorized is not None:
        return "sequential"
    return vmap_method


def _host_pure(callback, in_tree, results, out_tree, vmap_method) -> HostFunction:
    def fn(arrays):
        args, kwargs = tree_unflatten(in_tree, list(arrays))
        out = callback(*args, **kwargs)
        got = tree_structure(out)
        if got != out_tree:
            raise TypeError(f"the callback returned a {got}, result_shape_dtypes declares {out_tree}")
        return [np.asarray(v) for v in tree_leaves(out)]

    return HostFunction(fn, results, vmap_method)


def _staged(leaves) -> bool:
    """Inside a trace the callback is staged (it runs when the compiled program does, on every
    call), also when none of its arguments is traced, as in JAX."""
    return current_trace() is not None or any(isinstance(x, Tracer) for x in leaves)


def _flat_args(leaves) -> list:
    return [x if isinstance(x, Tracer) else asarray_any(x) for x in leaves]


def pure_callback(
    callback: Callable[..., Any],
    result_shape_dtypes: Any,
    *args: Any,
    sharding=None,
    vmap_method: str | None = None,
    vectorized: bool | None = None,
    **kwargs: Any,
):
    """callback(*args, **kwargs) on NumPy values, as Arrays shaped like result_shape_dtypes;
    inside jit/vmap/scan the compiled program calls it. Not differentiable (as in JAX: wrap it
    in custom_jvp)."""
    method = _vmap_method(vmap_method, vectorized)
    results, out_tree = _result_types(result_shape_dtypes)
    leaves, in_tree = tree_flatten((args, kwargs))
    n = register_host_function(
        ("pure", id(callback), in_tree, results, out_tree, method),
        lambda: _host_pure(callback, in_tree, results, out_tree, method),
    )
    if _staged(leaves):
        outs = jx.pure_callback(
            *_flat_args(leaves),
            callback=n,
            result_shapes=tuple(r.shape for r in results),
            result_dtypes=tuple(r.dtype for r in results),
        )
    else:
        outs = [asarray_any(v) for v in call_host(n, [np.asarray(x) for x in leaves])]
    return tree_unflatten(out_tree, outs)


def io_callback(
    callback: Callable[..., Any],
    result_shape_dtypes: Any,
    *args: Any,
    sharding=None,
    ordered: bool = False,
    **kwargs: Any,
):
    """callback(*args, **kwargs) for its results and its effects (JAX's
    jax.experimental.io_callback): never dropped when its results go unused; under vmap
    called per element unless `ordered` (then vmap raises); not differentiable."""
    results, out_tree = _result_types(result_shape_dtypes)
    leaves, in_tree = tree_flatten((args, kwargs))
    n = register_host_function(
        ("io", id(callback), in_tree, results, out_tree),
        lambda: _host_pure(callback, in_tree, results, out_tree, None),
    )
    if _staged(leaves):
        outs = jx.io_callback(
            *_flat_args(leaves),
            callback=n,
            ordered=bool(ordered),
            result_shapes=tuple(r.shape for r in results),
            result_dtypes=tuple(r.dtype for r in results),
        )
    else:
        outs = [asarray_any(v) for v in call_host(n, [np.asarray(x) for x in leaves])]
    return tree_unflatten(out_tree, outs)


def _host_effect(callback, in_tree) -> HostFunction:
    def fn(arrays):
        args, kwargs = tree_unflatten(in_tree, list(arrays))
        callback(*args, **kwargs)
        return []

    return HostFunction(fn, ())


def debug_callback(callback: Callable[..., Any], *args: Any, key=None, **kwargs: Any) -> None:
    """callback(*args, **kwargs) for its effect, with the runtime values: at once outside
    transformations, from the compiled program inside them (under vmap once per element, under
    grad with the primal values). `key` names the callback for the compile caches (equal keys:
    the same callback); by default the callable's identity does."""
    leaves, in_tree = tree_flatten((args, kwargs))
    n = register_host_function(
        ("effect", key if key is not None else id(callback), in_tree),
        lambda: _host_effect(callback, in_tree),
    )
    if _staged(leaves):
        jx.debug_callback(*_flat_args(leaves), callback=n)
    else:
        call_host(n, [np.asarray(x) for x in leaves])

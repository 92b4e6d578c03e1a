"""irjax.lax windowed ops: reduce_window (pooling), cumlogsumexp and reduce_precision.

reduce_window takes JAX's (init_value, computation) form; lax.add / lax.max / lax.min (and
their jnp twins) map to the jx.reduce_window kinds sum / max / min. Any other computation, and
several operands (a pytree of arrays with a pytree of init values), fold the window's positions
one at a time (`_fold_windows`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
from irjax.dialects.hlo import reducer_identity

from . import tree_util
from .control_flow import run_staged
from .core import Tracer, current_trace, jx
from .lax_conv import padtype_to_pads
from .operands import asarray_any
from .tracing import binary_op_of

__all__ = ["cumlogsumexp", "reduce_precision", "reduce_window"]

_KINDS = {"add": "sum", "max": "max", "maximum": "max", "min": "min", "minimum": "min"}


def _arr(x, dtype=None):
    return asarray_any(x, dtype)


_TRACED_KINDS = {"jx.add": "sum", "jx.max": "max", "jx.min": "min"}


def _kind_of(computation: Callable, dtype) -> str | None:
    """sum / max / min for a computation that is that op of its two arguments, else None."""
    name = getattr(computation, "__name__", "")
    module = getattr(computation, "__module__", "") or ""
    if name in _KINDS and module.startswith("irjax"):
        return _KINDS[name]
    return _TRACED_KINDS.get(binary_op_of(computation, dtype))  # (lambda a, b: a + b, ...)


def _window_params(x, window_dimensions, window_strides, padding, base_dilation, window_dilation):
    nd = x.ndim

    def ints(v, what):
        v = (1,) * nd if v is None else tuple(int(a) for a in v)
        if len(v) != nd:
            raise ValueError(f"reduce_window {what} needs {nd} entries (one per operand axis), got {v}")
        return v

    dims, strides = ints(window_dimensions, "window_dimensions"), ints(window_strides, "window_strides")
    if isinstance(padding, str):
        pads = padtype_to_pads(x.shape, dims, strides, padding)
    else:
        pads = [tuple(int(a) for a in p) for p in padding]
        if len(pads) != nd or any(len(p) != 2 for p in pads):
            raise ValueError(f"reduce_window padding must be a string or {nd} (low, high) pairs, got {padding!r}")
    return dict(
        window_dimensions=dims,
        window_strides=strides,
        padding=tuple(pads),
        base_dilation=ints(base_dilation, "base_dilation"),
        window_dilation=ints(window_dilation, "window_dilation"),
    )


def _reduce_window_kind(x, kind, **p):
    return jx.reduce_window(x, kind=kind, **p)


def reduce_window(
    operand,
    init_value,
    computation: Callable,
    window_dimensions,
    window_strides,
    padding,
    base_dilation=None,
    window_dilation=None,
):
    """Reduce each window with computation from init_value (padding and base-dilation holes take
    no part, as XLA: init_value joins each window once). operand and init_value may be pytrees of
    one structure; computation then takes and returns that structure."""
    leaves, tree = tree_util.tree_flatten(operand)
    inits, init_tree = tree_util.tree_flatten(init_value)
    if init_tree != tree:
        raise TypeError(
            f"reduce_window: operand and init_value must have the same structure, got {tree} and {init_tree}"
        )
    xs = [_arr(x) for x in leaves]
    if not xs or len({x.shape for x in xs}) != 1:
        raise ValueError("reduce_window needs one or more operands of one shape")
    p = _window_params(xs[0], window_dimensions, window_strides, padding, base_dilation, window_dilation)
    kind = _kind_of(computation, xs[0].dtype) if tree == tree_util.tree_structure(0) else None
    if kind is None:

        def fold(xs, inits):
            unflat = tree_util.tree_unflatten
            return _fold_windows(xs, inits, lambda a, b: computation(unflat(tree, a), unflat(tree, b)), p)

        args = (xs, [i if hasattr(i, "aval") else np.asarray(i, x.dtype) for i, x in zip(inits, xs)])
        outs = fold(*args) if current_trace() is not None else run_staged(fold, args, "reduce_window")
        return tree_util.tree_unflatten(tree, outs)
    x, init_value = xs[0], inits[0]
    out = _reduce_window_kind(x, kind, **p)
    ident = reducer_identity(kind, x.dtype)
    if not isinstance(init_value, Tracer) and np.all(np.asarray(init_value) == ident):
        return out
    init = _arr(np.asarray(init_value, x.dtype)) if not hasattr(init_value, "aval") else init_value
    if init.shape != ():
        raise TypeError(f"reduce_window init_value must be a scalar, got shape {init.shape}")
    init = jx.convert_element_type(init, new_dtype=x.dtype) if init.dtype != x.dtype else init
    full = jx.broadcast_in_dim(init, shape=out.shape, broadcast_dimensions=())
    # the init value joins every window once (XLA, as JAX runs it, does not add it for padding)
    return (jx.add if kind == "sum" else getattr(jx, kind))(full, out)


def _np_pad(a: np.ndarray, config) -> np.ndarray:
    """NumPy's twin of jx.pad with False as the padding value: interior first, then the edges
    (a negative edge crops)."""
    for axis, (lo, hi, interior) in enumerate(config):
        n = a.shape[axis]
        if interior and n:
            shape = list(a.shape)
            shape[axis] = n + (n - 1) * interior
            b = np.zeros(shape, a.dtype)
            b[(slice(None),) * axis + (slice(None, None, interior + 1),)] = a
            a = b
        widths = [(0, 0)] * a.ndim
        widths[axis] = (max(lo, 0), max(hi, 0))
        a = np.pad(a, widths)
        n = a.shape[axis]
        a = a[(slice(None),) * axis + (slice(max(-lo, 0), n - max(-hi, 0)),)]
    return a


def _fold_windows(xs, inits, computation, p):
    """reduce_window for any computation: the operands padded (and base-dilated) once, then one
    strided slice per window position, combined into the accumulators where that position is a
    real element (a NumPy mask, so padding and holes take no part)."""
    config = [(lo, hi, b - 1) for (lo, hi), b in zip(p["padding"], p["base_dilation"])]
    valid = _np_pad(np.ones(xs[0].shape, bool), config)
    padded = [jx.pad(x, _arr(np.zeros((), x.dtype)), padding_config=tuple(config)) for x in xs]
    dims, strides, wdil = p["window_dimensions"], p["window_strides"], p["window_dilation"]
    span = [(w - 1) * d + 1 for w, d in zip(dims, wdil)]
    out_shape = tuple(max((n - s) // st + 1, 0) if n >= s else 0 for n, s, st in zip(valid.shape, span, strides))
    accs = []
    for i, x in zip(inits, xs):
        i = _arr(i)
        i = jx.convert_element_type(i, new_dtype=x.dtype) if i.dtype != x.dtype else i
        if i.shape != ():
            raise TypeError(f"reduce_window init_value must be a scalar, got shape {i.shape}")
        accs.append(jx.broadcast_in_dim(i, shape=out_shape, broadcast_dimensions=()))
    if 0 in out_shape:
        return accs
    for offset in itertools.product(*(range(w) for w in dims)):
        start = [o * d for o, d in zip(offset, wdil)]
        limit = [s + (n - 1) * st + 1 for s, n, st in zip(start, out_shape, strides)]
        where = valid[tuple(slice(a, b, st) for a, b, st in zip(start, limit, strides))]
        if not where.any():
            continue
        cut = [
            jx.slice(x, start_indices=tuple(start), limit_indices=tuple(limit), strides=tuple(strides)) for x in padded
        ]
        new = tree_util.tree_leaves(computation(accs, cut))
        if len(new) != len(accs):
            raise TypeError(f"reduce_window computation must return {len(accs)} array(s), got {len(new)}")
        new = [_arr(n, a.dtype) for n, a in zip(new, accs)]
        if where.all():
            accs = new
        else:
            mask = _arr(where)
            accs = [jx.select(mask, n, a) for n, a in zip(new, accs)]
    return accs


def _logaddexp(a, b):
    """max(a, b) + log1p(exp(-|a - b|)): exact where one side is -inf (the scan's padding)."""
    m = jx.max(a, b)
    return jx.add(m, jx.log1p(jx.exp(jx.neg(jx.abs(jx.sub(a, b))))))


def cumlogsumexp(operand, axis: int = 0, reverse: bool = False):
    """log(cumsum(exp(x))) along axis, stable: a log-depth scan of logaddexp."""
    x = _arr(operand)
    if x.dtype.kind != "f":
        raise TypeError(f"cumlogsumexp needs a floating-point operand, got {x.dtype.name}")
    axis = axis % x.ndim
    n = x.shape[axis]
    y, shift = x, 1
    neg_inf = _arr(np.array(-np.inf, x.dtype))
    while shift < n:
        cfg = [(0, 0, 0)] * x.ndim
        cfg[axis] = (-shift, shift, 0) if reverse else (shift, -shift, 0)
        y = _logaddexp(y, jx.pad(y, neg_inf, padding_config=tuple(cfg)))
        shift *= 2
    return y


def reduce_precision(operand, exponent_bits: int, mantissa_bits: int):
    """Round to the nearest value with the given exponent / mantissa widths (same dtype)."""
    x = _arr(operand)
    if x.dtype.kind != "f":
        raise TypeError(f"reduce_precision needs a floating-point operand, got {x.dtype.name}")
    return jx.reduce_precision(x, exponent_bits=int(exponent_bits), mantissa_bits=int(mantissa_bits))

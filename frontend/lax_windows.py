"""irjax.lax windowed ops: reduce_window (pooling), cumlogsumexp and reduce_precision.

reduce_window takes JAX's (init_value, computation) form; lax.add / lax.max / lax.min (and
their jnp twins) map to the jx.reduce_window kinds sum / max / min.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from irjax.dialects.hlo import reducer_identity

from .core import Tracer, jx
from .lax_conv import padtype_to_pads
from .operands import asarray_any
from .tracing import binary_op_of

__all__ = ["cumlogsumexp", "reduce_precision", "reduce_window"]

_KINDS = {"add": "sum", "max": "max", "maximum": "max", "min": "min", "minimum": "min"}


def _arr(x, dtype=None):
    return asarray_any(x, dtype)


_TRACED_KINDS = {"jx.add": "sum", "jx.max": "max", "jx.min": "min"}


def _kind_of(computation: Callable, dtype) -> str:
    name = getattr(computation, "__name__", "")
    module = getattr(computation, "__module__", "") or ""
    if name in _KINDS and module.startswith("irjax"):
        return _KINDS[name]
    kind = _TRACED_KINDS.get(binary_op_of(computation, dtype))  # (lambda a, b: a + b, ...)
    if kind is not None:
        return kind
    raise NotImplementedError(
        f"lax.reduce_window supports computations that are an add, max or min of their two arguments "
        f"(lax.add, jnp.maximum, lambda a, b: a + b, ...), got {computation!r}"
    )


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
    """Reduce each window with computation (lax.add / lax.max / lax.min) from init_value."""
    if isinstance(operand, (tuple, list)):
        raise NotImplementedError("lax.reduce_window over several operands is not supported; pass one array")
    x = _arr(operand)
    kind = _kind_of(computation, x.dtype)
    p = _window_params(x, window_dimensions, window_strides, padding, base_dilation, window_dilation)
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

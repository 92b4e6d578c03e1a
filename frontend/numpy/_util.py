"""Shared plumbing for irjax.numpy: operand conversion, promotion, broadcasting."""

from __future__ import annotations

import numpy as np
from irjax import dtypes
from irjax.array import from_numpy
from irjax.core import current_trace
from irjax.operands import (  # noqa: F401  (moved below lax and numpy; re-exported for the numpy modules)
    _copy_with_weak,
    asarray_any,
    broadcast_to,
    canonical_axes,
    canonical_axis,
    convert,
    is_array,
    shape_of,
    with_weak,
)


def promote(*args, to_float=False, op_name=None):
    """Convert args to their JAX result dtype and broadcast them to one shape. With `op_name`
    (an elementwise lax op's name) a mismatch between shapes of one rank is lax's TypeError, as
    JAX's ufuncs raise (shapes of different ranks fail in JAX's rank promotion: ValueError)."""
    a0 = getattr(args[0], "aval", None)
    if a0 is not None and all(getattr(a, "aval", None) == a0 for a in args[1:]):
        if not to_float or dtypes.kind(a0.dtype) in "fc":  # fast path: nothing to convert or broadcast
            return list(args), a0.dtype, a0.weak_type
    dt, weak = dtypes.result_type(*args, return_weak_type_flag=True)
    if to_float and dtypes.kind(dt) not in "fc":
        dt = dtypes.default_float if not (dt == np.bool_ or np.issubdtype(dt, np.integer)) else dtypes.default_float
    shapes = [shape_of(a) if is_array(a) else np.shape(a) for a in args]
    try:
        shape = np.broadcast_shapes(*shapes)
    except ValueError:
        if op_name is not None and len({len(s) for s in shapes}) == 1:  # ranks differ: JAX's ValueError
            listed = ", ".join(str(tuple(s)) for s in shapes)
            raise TypeError(f"{op_name} got incompatible shapes for broadcasting: {listed}.") from None
        raise ValueError(f"Incompatible shapes for broadcasting: shapes={[tuple(s) for s in shapes]}") from None
    eager = current_trace() is None
    out = []
    for a in args:
        if eager and not is_array(a):
            # a host value: convert and broadcast on the host (no compiled broadcast op); a Python
            # int must fit the default int first (JAX's rule), then wraps into dt as in JAX
            dtypes.check_python_ints(a, dtypes.default_int)

            out.append(from_numpy(np.broadcast_to(np.asarray(a).astype(dt), shape), weak_type=weak))
        else:
            out.append(broadcast_to(convert(asarray_any(a), dt, weak), shape))
    return out, dt, weak


def check_arraylike(name, *args):
    for a in args:
        if not (is_array(a) or isinstance(a, (int, float, complex, bool, np.ndarray, np.generic))):
            raise TypeError(f"{name} requires ndarray or scalar arguments, got {type(a)} at position 0.")

"""Shared plumbing for irjax.numpy: operand conversion, promotion, broadcasting."""

from __future__ import annotations

import numpy as np
from irjax import dtypes
from irjax.core import ShapedArray, Tracer, aval_of, bind, current_trace


def is_array(x) -> bool:
    return hasattr(x, "aval")


def shape_of(x) -> tuple:
    return aval_of(x).shape


def with_weak(x, weak: bool):
    if is_array(x) and x.aval.weak_type != weak:
        x.aval = x.aval._replace(weak_type=weak)
    return x


def convert(x, dtype, weak=False):
    """x as dtype: NumPy values stay on the host, arrays/tracers get a convert op."""
    dtype = dtypes.check_supported(dtype)
    if is_array(x):
        if x.aval.dtype == dtype:
            return x if x.aval.weak_type == weak else _copy_with_weak(x, weak)
        return with_weak(bind("convert_element_type", x, new_dtype=dtype), weak)
    from irjax.array import from_numpy

    dtypes.check_python_ints(x, dtype)
    return from_numpy(np.asarray(x).astype(dtype), weak_type=weak)


def _copy_with_weak(x, weak):
    if isinstance(x, Tracer):
        return Tracer(x._trace, x.value, x.aval._replace(weak_type=weak))
    from irjax.array import Array

    return Array(x._bv, x.aval._replace(weak_type=weak), x._device, x._npy, x._committed)


def asarray_any(x, dtype=None):
    """Array/Tracer for any operand (Python scalars stay weakly typed)."""
    if is_array(x):
        return convert(x, dtype, x.aval.weak_type) if dtype is not None else x
    if isinstance(x, (list, tuple)) and any(is_array(v) for v in _flat(x)):
        from .creation import array

        return array(x, dtype)
    if isinstance(x, (list, tuple)):
        a = ShapedArray(np.shape(x), dtypes.check_supported(_host_dtype(x)))
    elif dtype is not None and type(x) in (int, float):
        a = ShapedArray((), dtypes.dtype_of(x), True)  # the explicit dtype decides the range
    else:
        a = aval_of(x)
    dt = dtypes.check_supported(dtype) if dtype is not None else a.dtype
    dtypes.check_python_ints(x, dt)
    from irjax.array import from_numpy

    return from_numpy(np.asarray(x, dt), weak_type=a.weak_type and dtype is None)


def _host_dtype(x):
    """NumPy's dtype for a nested list; Python ints too large for int64 count as int64 here
    (check_python_ints then raises JAX's OverflowError instead of NumPy's)."""
    try:
        return np.asarray(x).dtype
    except OverflowError:
        return np.dtype(np.int64)


def _flat(x):
    for v in x:
        if isinstance(v, (list, tuple)):
            yield from _flat(v)
        else:
            yield v


def broadcast_to(x, shape):
    shape = tuple(shape)
    xs = shape_of(x)
    if xs == shape:
        return x
    try:
        if np.broadcast_shapes(xs, shape) != shape:
            raise ValueError
    except ValueError:
        raise ValueError(f"Incompatible shapes for broadcasting: {xs} and requested shape {shape}") from None
    lead = len(shape) - len(xs)
    keep = [i for i, d in enumerate(xs) if d == shape[lead + i]]
    if len(keep) != len(xs):
        x = bind("reshape", x, new_sizes=tuple(xs[i] for i in keep))
    return bind("broadcast_in_dim", x, shape=shape, broadcast_dimensions=tuple(lead + i for i in keep))


def promote(*args, to_float=False):
    """Convert args to their JAX result dtype and broadcast them to one shape."""
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
        raise ValueError(f"Incompatible shapes for broadcasting: shapes={[tuple(s) for s in shapes]}") from None
    eager = current_trace() is None
    out = []
    for a in args:
        if eager and not is_array(a):
            # a host value: convert and broadcast on the host (no compiled broadcast op); a Python
            # int must fit the default int first (JAX's rule), then wraps into dt as in JAX
            from irjax.array import from_numpy

            dtypes.check_python_ints(a, dtypes.default_int)

            out.append(from_numpy(np.broadcast_to(np.asarray(a).astype(dt), shape), weak_type=weak))
        else:
            out.append(broadcast_to(convert(asarray_any(a), dt, weak), shape))
    return out, dt, weak


def canonical_axis(axis, ndim) -> int:
    if not -ndim <= axis < max(ndim, 1) or (ndim == 0 and axis not in (0, -1)):
        raise ValueError(f"axis {axis} is out of bounds for array of dimension {ndim}")
    return axis % ndim if ndim else 0


def canonical_axes(axis, ndim) -> tuple:
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (int, np.integer)):
        axis = (int(axis),)
    out = tuple(canonical_axis(a, ndim) for a in axis)
    if len(set(out)) != len(out):
        raise ValueError("repeated axis")
    return out


def check_arraylike(name, *args):
    for a in args:
        if not (is_array(a) or isinstance(a, (int, float, complex, bool, np.ndarray, np.generic))):
            raise TypeError(f"{name} requires ndarray or scalar arguments, got {type(a)} at position 0.")

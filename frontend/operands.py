"""Operands and the basic array builders that lax and numpy share: conversion to Arrays, dtype
conversion, weak types, broadcasting, reshape/transpose/concatenate/stack, full and *_like.
Below both irjax.lax and irjax.numpy (which re-exports the public ones), above core and array."""

from __future__ import annotations

import math
import operator

import numpy as np

from . import (
    dispatch,  # noqa: F401  (registers eager execution with core.bind)
    dtypes,
)
from .array import Array, from_numpy
from .core import ShapedArray, Tracer, aval_of, jx


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
        return with_weak(jx.convert_element_type(x, new_dtype=dtype), weak)
    dtypes.check_python_ints(x, dtype)
    return from_numpy(np.asarray(x).astype(dtype), weak_type=weak)


def _copy_with_weak(x, weak):
    if isinstance(x, Tracer):
        return Tracer(x._trace, x.value, x.aval._replace(weak_type=weak))
    return Array(x._bv, x.aval._replace(weak_type=weak), x._device, x._npy, x._committed)


def asarray_any(x, dtype=None):
    """Array/Tracer for any operand (Python scalars stay weakly typed)."""
    if is_array(x):
        return convert(x, dtype, x.aval.weak_type) if dtype is not None else x
    if isinstance(x, (list, tuple)) and any(is_array(v) for v in _flat(x)):
        return array(x, dtype)
    if isinstance(x, (list, tuple)):
        a = ShapedArray(np.shape(x), dtypes.check_supported(_host_dtype(x)))
    elif dtype is not None and type(x) in (int, float):
        a = ShapedArray((), dtypes.dtype_of(x), True)  # the explicit dtype decides the range
    else:
        a = aval_of(x)
    dt = dtypes.check_supported(dtype) if dtype is not None else a.dtype
    dtypes.check_python_ints(x, dt)
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
    lead = len(shape) - len(xs)
    # (NumPy's rule: broadcast_shapes(xs, shape) == shape; in Python, a fifth of its cost)
    if lead < 0 or any(d != 1 and d != s for d, s in zip(xs, shape[lead:])):
        raise ValueError(f"Incompatible shapes for broadcasting: {xs} and requested shape {shape}")
    keep = [i for i, d in enumerate(xs) if d == shape[lead + i]]
    if len(keep) != len(xs):
        x = jx.reshape(x, new_sizes=tuple(xs[i] for i in keep))
    return jx.broadcast_in_dim(x, shape=shape, broadcast_dimensions=tuple(lead + i for i in keep))


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


def array(object, dtype=None, copy=True, ndmin=0):  # noqa: A002
    if dtype is not None:
        dtype = dtypes.check_user_dtype(dtype, "array")
    if isinstance(object, (range, memoryview)):  # (as JAX: through NumPy, so a range is int, a
        object = np.asarray(object)  # memoryview keeps its buffer's dtype)
    if is_array(object):
        out = convert(object, dtype) if dtype is not None else object
    elif isinstance(object, (list, tuple)) and _has_arrays(object):
        out = stack([array(o) for o in object])
        if dtype is not None:
            out = convert(out, dtype)
    else:
        if isinstance(object, (list, tuple)) and len(object) == 0 and dtype is None:
            dtype = dtypes.default_float
        elif isinstance(object, (list, tuple)) and dtype is None and _has_numpy_values(object):
            # NumPy scalars and arrays keep their dtypes, Python numbers are weak (JAX's rule:
            # [np.float16(1), 2] is float16), not NumPy's promotion of the whole list
            dtype = dtypes.result_type(*_leaves(object))
        out = asarray_any(object, dtype)
        if not isinstance(object, (int, float, complex, bool)) or dtype is not None:
            out = with_weak(out, False) if not isinstance(object, (int, float, complex, bool)) else out
    if ndmin and out.ndim < ndmin:
        out = out.reshape((1,) * (ndmin - out.ndim) + out.shape)
    if copy and out is object and not isinstance(out, Tracer):
        # a new Array; sharing the buffer is a copy, as arrays are immutable (JAX returns a copy)
        out = Array(out._bv, out.aval, out._device, out._npy, out._committed)
    return out


def _has_numpy_values(obj) -> bool:
    return any(
        isinstance(o, (np.generic, np.ndarray)) or (isinstance(o, (list, tuple)) and _has_numpy_values(o)) for o in obj
    )


def _leaves(obj) -> list:
    out = []
    for o in obj:
        out.extend(_leaves(o) if isinstance(o, (list, tuple)) else [o])
    return out


def _has_arrays(obj):
    for o in obj:
        if is_array(o) or (isinstance(o, (list, tuple)) and _has_arrays(o)):
            return True
    return False


def asarray(a, dtype=None, order=None, copy=None):
    return array(a, dtype=None if dtype is None else dtypes.check_user_dtype(dtype, "asarray"), copy=False)


def _static_shape(shape) -> tuple:
    """A shape argument as a tuple of ints; a traced or non-integer dimension is JAX's TypeError."""
    scalar = not isinstance(shape, (tuple, list)) and np.ndim(getattr(shape, "aval", shape)) == 0
    dims = (shape,) if scalar else shape
    try:
        return tuple(operator.index(d) for d in dims)
    except TypeError:
        got = tuple(dims) if scalar else shape
        raise TypeError(f"Shapes must be 1D sequences of concrete values of integer type, got {got}.") from None


def full(shape, fill_value, dtype=None):
    shape = _static_shape(shape)
    if dtype is not None:
        dtype = dtypes.check_user_dtype(dtype, "full")
    if is_array(fill_value):
        v = fill_value if dtype is None else convert(fill_value, dtype)
        return broadcast_to(v, shape)
    dt = dtypes.check_supported(dtype if dtype is not None else dtypes.dtype_of(fill_value))
    dtypes.check_python_ints(fill_value, dt)
    # a Python int/float fill with no dtype gives a weakly typed array, as in JAX
    weak = dtype is None and type(fill_value) in (int, float, complex)
    return from_numpy(np.full(shape, fill_value, dt), weak_type=weak)


def _like(x, fill, dtype, shape):
    a = asarray_any(x)
    dt = dtypes.canonicalize_dtype(dtype) if dtype is not None else a.dtype
    shp = a.shape if shape is None else ((shape,) if isinstance(shape, int) else tuple(shape))
    if isinstance(a, Tracer):
        c = convert(_scalar(fill, dt, a), dt)
        return broadcast_to(c, shp)
    return from_numpy(np.full(shp, fill, dt))


def _scalar(fill, dt, like):
    return like._trace.constant(np.array(fill, dt))


def full_like(a, fill_value, dtype=None, shape=None):
    if is_array(fill_value):
        dt = dtype or asarray_any(a).dtype
        shp = asarray_any(a).shape if shape is None else tuple(shape)
        return broadcast_to(convert(fill_value, dt), shp)
    return _like(a, fill_value, dtype, shape)


def zeros_like(a, dtype=None, shape=None):
    return _like(a, 0, dtype, shape)


def reshape(a, shape=None, order="C", *, newshape=None, copy=None):  # noqa: A002
    """`copy` (array API): arrays are immutable, so a reshape never needs one; copy=True still
    returns a new Array object."""
    if shape is None:
        shape = newshape
    if copy:
        return reshape(_copy_with_weak(a, a.aval.weak_type) if is_array(a) else a, shape, order)
    a = asarray_any(a)
    if order not in ("C", "F", "A", "K"):
        raise ValueError(f"order must be one of 'C', 'F', 'A', or 'K' (got {order!r})")
    if order in ("A", "K"):
        raise NotImplementedError(f"np.reshape order={order} is not implemented.")
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple([int(d) for d in shape])
    if shape == a.shape:
        return a
    if order == "F":  # column-major: reverse the axes, reshape row-major, reverse back
        return transpose(reshape(transpose(a), tuple(reversed(shape))))
    if shape.count(-1) > 1:
        raise ValueError("can only specify one unknown dimension")
    if -1 in shape:
        known = int(np.prod([d for d in shape if d != -1]))
        if known == 0 or a.size % known:
            raise TypeError(
                f"cannot reshape array of shape {a.shape} (size {a.size}) into shape {shape} because the "
                f"product of specified axis sizes ({known}) does not evenly divide {a.size}"
            )
        shape = tuple(a.size // known if d == -1 else d for d in shape)
    size = math.prod(shape)
    if size != a.size or min(shape, default=0) < 0:
        raise TypeError(f"cannot reshape array of shape {a.shape} (size {a.size}) into shape {shape} (size {size})")
    return with_weak(jx.reshape(a, new_sizes=shape), a.aval.weak_type)


def ravel(a, order="C"):
    a = asarray_any(a)
    if order == "K":
        raise NotImplementedError("Ravel not implemented for order='K'.")
    return reshape(a, (a.size,), order=order)


def transpose(a, axes=None):
    a = asarray_any(a)
    perm = tuple(reversed(range(a.ndim))) if axes is None else tuple(canonical_axis(x, a.ndim) for x in axes)
    if sorted(perm) != list(range(a.ndim)):
        raise TypeError(
            "transpose permutation isn't a permutation of operand dimensions, got permutation "
            f"{perm} for operand shape {a.shape}."
        )
    if perm == tuple(range(a.ndim)):
        return a
    return with_weak(jx.transpose(a, permutation=perm), a.aval.weak_type)


def moveaxis(a, source, destination):
    a = asarray_any(a)
    src = canonical_axes(source, a.ndim)
    dst = canonical_axes(destination, a.ndim)
    if len(src) != len(dst):
        raise ValueError("`source` and `destination` arguments must have the same number of elements")
    order = [i for i in range(a.ndim) if i not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return transpose(a, order)


def expand_dims(a, axis):
    a = asarray_any(a)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    n = a.ndim + len(axes)
    axes = sorted(canonical_axis(x, n) for x in axes)
    shape = list(a.shape)
    for ax in axes:
        shape.insert(ax, 1)
    return reshape(a, tuple(shape))


def squeeze(a, axis=None):
    a = asarray_any(a)
    if axis is None:
        axes = tuple(i for i, d in enumerate(a.shape) if d == 1)
    else:
        axes = canonical_axes(axis, a.ndim)
        for i in axes:
            if a.shape[i] != 1:
                raise ValueError(
                    f"cannot select an axis to squeeze out which has size not equal to one, got shape={a.shape} and dimensions={axes}"
                )
    return reshape(a, tuple(d for i, d in enumerate(a.shape) if i not in axes))


def concatenate(arrays, axis=0, dtype=None):
    if not len(arrays):
        raise ValueError("Need at least one array to concatenate.")
    if axis is None:
        arrays = [ravel(a) for a in arrays]
        axis = 0
    arrs, dt, weak = _promote_no_broadcast(arrays)
    if dtype is not None:
        arrs = [convert(a, dtype) for a in arrs]
    nd = arrs[0].ndim
    if nd == 0:
        raise ValueError("Zero-dimensional arrays cannot be concatenated.")
    for a in arrs:
        if a.ndim != nd:
            raise ValueError(f"all the input arrays must have same number of dimensions, got {[x.ndim for x in arrs]}")
    ax = canonical_axis(axis, nd)
    if any(a.shape[:ax] + a.shape[ax + 1 :] != arrs[0].shape[:ax] + arrs[0].shape[ax + 1 :] for a in arrs):
        raise TypeError(
            "Cannot concatenate arrays with shapes that differ in dimensions other than the one being "
            f"concatenated: concatenating along dimension {ax} for shapes {', '.join(str(a.shape) for a in arrs)}."
        )
    arrs = [a for a in arrs if a.shape[ax] != 0] or arrs[:1]
    if len(arrs) == 1:
        return arrs[0]
    return with_weak(jx.concatenate(*arrs, dimension=ax), weak)


def _promote_no_broadcast(arrays):
    dt, weak = dtypes.result_type(*arrays, return_weak_type_flag=True)
    return [convert(asarray_any(a), dt, weak) for a in arrays], dt, weak


def stack(arrays, axis=0, dtype=None):
    if not len(arrays):
        raise ValueError("Need at least one array to stack.")
    arrs = [asarray_any(a) for a in arrays]
    shp = arrs[0].shape
    for a in arrs:
        if a.shape != shp:
            raise ValueError("All input arrays must have the same shape.")
    ax = canonical_axis(axis, len(shp) + 1)
    return concatenate([expand_dims(a, ax) for a in arrs], axis=ax, dtype=dtype)


def convert_element_type(operand, new_dtype):
    x = asarray_any(operand)
    dt = dtypes.canonicalize_dtype(new_dtype)
    return x if x.dtype == dt else jx.convert_element_type(x, new_dtype=dt)

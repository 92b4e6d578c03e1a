"""Shared plumbing for irjax.numpy: operand conversion, promotion, broadcasting."""

from __future__ import annotations

import math

import numpy as np
from irjax import dtypes
from irjax.array import Array, from_numpy, share_buffer
from irjax.core import ShapedArray, current_trace
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
from irjax.runtime.device import default_device

_PY_SCALARS = (bool, int, float, complex)
_promoted: dict = {}  # (x64, operand kinds) -> (result dtype, weak): result_type of the common cases
_scalar_buffers: dict = {}  # (device, dtype, weak, bytes, shape) -> shared buffer of a host scalar (eager)
_SCALAR_BUFFERS_MAX = 1024
_SCALAR_FILL_MAX = 1024  # elements: a scalar filled to a shape this small is cached whole


def _kind_key(a):
    """What result_type reads of `a`: (dtype, weak) of an array, the type of a Python scalar,
    the dtype of a NumPy scalar; None for anything else (lists, arrays of NumPy: the full rule)."""
    aval = getattr(a, "aval", None)
    if aval is not None:
        return (aval.dtype, aval.weak_type)
    t = type(a)
    if t in _PY_SCALARS:
        return t
    return ("numpy", a.dtype) if _numpy_scalar(a) else None


def _numpy_scalar(a) -> bool:
    return isinstance(a, np.generic) or (isinstance(a, np.ndarray) and a.ndim == 0)


def _result_type(args):
    kinds = tuple(_kind_key(a) for a in args)
    if None in kinds:
        return dtypes.result_type(*args, return_weak_type_flag=True)
    key = (dtypes.x64_enabled(), kinds)
    hit = _promoted.get(key)
    if hit is None:
        hit = _promoted[key] = dtypes.result_type(*args, return_weak_type_flag=True)
    return hit


def _host_scalar(a, dt, weak, shape):
    """A Python or NumPy scalar as an Array of dt and `shape` on the default device. Small
    shapes get a device buffer shared by every use of the same value and shape (each use its
    own Array: deleting or donating one drops only that wrapper, and a DLPack export of it is a
    copy, so nothing writes into the shared buffer); larger ones broadcast a shared rank-0 buffer
    in the fused graph instead of putting a broadcast host array (60 us for x + 1.0 on
    10000x10). The first 1024 (value, shape) pairs are cached, for the life of the process."""
    small = math.prod(shape) <= _SCALAR_FILL_MAX
    dev = default_device()
    t = type(a)
    if t is float and a == a:  # keyed by the value (-0.0 equals 0.0: its sign is in the key; NaNs by bytes)
        key = (dev, dt, weak, t, a, math.copysign(1.0, a), shape if small else ())
    elif t is int or t is bool:
        key = (dev, dt, weak, t, a, shape if small else ())
    else:
        key = None
    bv = None if key is None else _scalar_buffers.get(key)
    if bv is None:
        host = np.asarray(a).astype(dt)
        if key is None:
            key = (dev, dt, weak, host.tobytes(), shape if small else ())
            bv = _scalar_buffers.get(key)
    if bv is None:
        bv = from_numpy(np.full(shape, host) if small else host, weak_type=weak)._bv
        if len(_scalar_buffers) < _SCALAR_BUFFERS_MAX:  # (full: later values are not cached)
            won = _scalar_buffers.setdefault(key, bv)  # (two threads: one buffer is shared)
            bv = share_buffer(won) if won is bv else won
    if small:
        return Array(bv, ShapedArray(shape, dt, weak), dev)
    return broadcast_to(Array(bv, ShapedArray((), dt, weak), dev), shape)


def _broadcast_shapes(shapes) -> tuple:
    """np.broadcast_shapes in Python (a fifth of its cost on the few short shapes of an op)."""
    rank = max(len(s) for s in shapes)
    out = []
    for i in range(-rank, 0):
        d = 1
        for s in shapes:
            if len(s) >= -i:
                e = s[i]
                if e != 1:
                    if d != 1 and e != d:
                        raise ValueError("shapes cannot be broadcast together")
                    d = e
        out.append(d)
    return tuple(out)


def _array_and_scalar(args, to_float: bool):
    """promote's result for a strongly typed array and a scalar that JAX's rule joins at the
    array's dtype: a Python float or int with a float or complex array (float16 and bfloat16
    too; x / 2.0, x * 3), or a NumPy scalar or 0-d array of the array's own dtype (mean's
    x / np.asarray(n, dt)). Only the scalar is converted (in eager mode to a shared buffer:
    _host_scalar). None for every other pair (the full rule). Measured: `m / 3.0` on a (10,)
    float32 array 21 -> 13 us."""
    x, y = args
    a = getattr(x, "aval", None)
    s, scalar_first = y, False
    if a is None:
        a, s, scalar_first = getattr(y, "aval", None), x, True
        if a is None:
            return None
    floating = dtypes.kind(a.dtype) in "fc"
    if a.weak_type or (to_float and not floating):
        return None  # (a weak array joins a Python float at the default float; integers divide to floats)
    if type(s) is float or type(s) is int:
        if not floating:
            return None  # (bool is neither float nor int here)
    elif not (type(s) is np.ndarray and s.ndim == 0 or isinstance(s, np.generic)) or s.dtype != a.dtype:
        return None
    array = y if scalar_first else x
    conv = _operand(s, a.dtype, False, a.shape, current_trace() is None)
    return ([conv, array] if scalar_first else [array, conv]), a.dtype, False


def _operand(a, dt, weak, shape, eager: bool):
    """One operand of promote as an array of dt and `shape`."""
    if eager and not is_array(a):
        # a host value; a Python int must fit the default int first (JAX's rule), then wraps
        # into dt as in JAX
        dtypes.check_python_ints(a, dtypes.default_int)
        if type(a) in _PY_SCALARS or _numpy_scalar(a):
            return _host_scalar(a, dt, weak, shape)
        return from_numpy(np.broadcast_to(np.asarray(a).astype(dt), shape), weak_type=weak)
    return broadcast_to(convert(asarray_any(a), dt, weak), shape)


def promote(*args, to_float=False, op_name=None):
    """Convert args to their JAX result dtype and broadcast them to one shape. With `op_name`
    (an elementwise lax op's name) a mismatch between shapes of one rank is lax's TypeError, as
    JAX's ufuncs raise (shapes of different ranks fail in JAX's rank promotion: ValueError)."""
    a0 = getattr(args[0], "aval", None)
    if a0 is not None and all(getattr(a, "aval", None) == a0 for a in args[1:]):
        if not to_float or dtypes.kind(a0.dtype) in "fc":  # fast path: nothing to convert or broadcast
            return list(args), a0.dtype, a0.weak_type
    if len(args) == 2:
        out = _array_and_scalar(args, to_float)
        if out is not None:
            return out
    dt, weak = _result_type(args)
    if to_float and dtypes.kind(dt) not in "fc":
        dt = dtypes.default_float  # (bools and integers alike)
    shapes = [shape_of(a) if is_array(a) else np.shape(a) for a in args]
    try:
        shape = _broadcast_shapes(shapes)
    except ValueError:
        if op_name is not None and len({len(s) for s in shapes}) == 1:  # ranks differ: JAX's ValueError
            listed = ", ".join(str(tuple(s)) for s in shapes)
            raise TypeError(f"{op_name} got incompatible shapes for broadcasting: {listed}.") from None
        raise ValueError(f"Incompatible shapes for broadcasting: shapes={[tuple(s) for s in shapes]}") from None
    eager = current_trace() is None
    return [_operand(a, dt, weak, shape, eager) for a in args], dt, weak


def check_arraylike(name, *args):
    for a in args:
        if not (is_array(a) or isinstance(a, (int, float, complex, bool, np.ndarray, np.generic))):
            raise TypeError(f"{name} requires ndarray or scalar arguments, got {type(a)} at position 0.")

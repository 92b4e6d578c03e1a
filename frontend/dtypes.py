"""JAX dtype rules for irjax: canonicalization (x64 disabled) and type promotion.

Implements JAX's type promotion lattice, including weak types for Python scalars,
as described at https://docs.jax.dev/en/latest/type_promotion.html.
Only numpy, the standard library and (optionally) ml_dtypes are used.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

try:  # bfloat16 is optional.
    from ml_dtypes import bfloat16 as _bfloat16_type

    bfloat16: np.dtype | None = np.dtype(_bfloat16_type)
except ImportError:  # pragma: no cover
    bfloat16 = None

__all__ = [
    "bfloat16",
    "float0",
    "default_float",
    "default_int",
    "canonicalize_dtype",
    "promote_types",
    "result_type",
    "is_weakly_typed",
    "dtype_of",
    "issubdtype",
    "is_float",
    "is_int",
    "check_supported",
    "check_python_ints",
]

# JAX's dtype for tangents of integer/bool values.
float0 = np.dtype([("float0", np.void, 0)])
default_float = np.dtype("float32")
default_int = np.dtype("int32")
default_complex = np.dtype("complex64")

_CANONICAL = {
    np.dtype("int64"): np.dtype("int32"),
    np.dtype("uint64"): np.dtype("uint32"),
    np.dtype("float64"): np.dtype("float32"),
    np.dtype("complex128"): np.dtype("complex64"),
}

# Python scalar types and the (canonical) dtypes they map to.
_PY_SCALAR_DTYPES = {
    bool: np.dtype("bool"),
    int: default_int,
    float: default_float,
    complex: default_complex,
}
_WEAK_PY_TYPES = (int, float, complex)


def _to_dtype(dtype: Any) -> np.dtype:
    if isinstance(dtype, str) and dtype == "bfloat16" and bfloat16 is not None:
        return bfloat16
    if isinstance(dtype, type) and dtype in _PY_SCALAR_DTYPES:
        return _PY_SCALAR_DTYPES[dtype]
    if hasattr(dtype, "dtype") and not isinstance(dtype, (np.dtype, type)):
        return np.dtype(dtype.dtype)
    return np.dtype(dtype)


def canonicalize_dtype(dtype: Any) -> np.dtype:
    """Maps a dtype-like to the dtype JAX uses with x64 disabled."""
    dt = _to_dtype(dtype)
    return _CANONICAL.get(dt, dt)


def check_supported(dtype: Any) -> np.dtype:
    """The canonical dtype of a value irjax can hold (complex64 included, as in JAX)."""
    return canonicalize_dtype(dtype)


def check_python_ints(obj: Any, dtype: Any) -> None:
    """OverflowError, as JAX raises, when a Python int in `obj` (a scalar or nested lists/tuples)
    does not fit integer `dtype`; NumPy integers are not checked (they wrap, as in JAX)."""
    dt = np.dtype(dtype)
    if dt.kind not in "iu":
        return
    info = np.iinfo(dt)
    stack = [obj]
    while stack:
        v = stack.pop()
        if isinstance(v, (list, tuple)):
            stack.extend(v)
        elif type(v) is int and not info.min <= v <= info.max:
            raise OverflowError(f"Python integer {v} out of bounds for {dt.name}")


# ---------------------------------------------------------------- the lattice
class _WeakNode:
    """A weak-type node of the lattice (i*, f*, c*)."""

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name


_WEAK_INT, _WEAK_FLOAT, _WEAK_COMPLEX = _WeakNode("i*"), _WeakNode("f*"), _WeakNode("c*")
_d = np.dtype
_b1 = _d("bool")
_u8, _u16, _u32, _u64 = _d("uint8"), _d("uint16"), _d("uint32"), _d("uint64")
_i8, _i16, _i32, _i64 = _d("int8"), _d("int16"), _d("int32"), _d("int64")
_f16, _f32, _f64 = _d("float16"), _d("float32"), _d("float64")
_c64, _c128 = _d("complex64"), _d("complex128")
_bf16: Any = bfloat16 if bfloat16 is not None else object()  # unreachable placeholder

_EDGES: dict[Any, list[Any]] = {
    _b1: [_WEAK_INT],
    _WEAK_INT: [_u8, _i8],
    _u8: [_u16, _i16],
    _u16: [_u32, _i32],
    _u32: [_u64, _i64],
    _u64: [_WEAK_FLOAT],
    _i8: [_i16],
    _i16: [_i32],
    _i32: [_i64],
    _i64: [_WEAK_FLOAT],
    _WEAK_FLOAT: [_bf16, _f16, _WEAK_COMPLEX],
    _bf16: [_f32],
    _f16: [_f32],
    _f32: [_f64, _c64],
    _f64: [_c128],
    _WEAK_COMPLEX: [_c64],
    _c64: [_c128],
    _c128: [],
}


def _compute_upper_bounds() -> dict[Any, frozenset]:
    ub: dict[Any, frozenset] = {}

    def visit(node: Any) -> frozenset:
        if node not in ub:
            acc = {node}
            for nxt in _EDGES[node]:
                acc |= visit(nxt)
            ub[node] = frozenset(acc)
        return ub[node]

    for n in _EDGES:
        visit(n)
    return ub


_UPPER_BOUNDS = _compute_upper_bounds()
_WEAK_TO_DTYPE = {_WEAK_INT: default_int, _WEAK_FLOAT: default_float, _WEAK_COMPLEX: default_complex}


def _node(dtype: np.dtype, weak: bool) -> Any:
    """The lattice node of a (dtype, weak) pair."""
    if weak and dtype != _b1:
        if is_float(dtype):
            return _WEAK_FLOAT
        if np.issubdtype(dtype, np.complexfloating):
            return _WEAK_COMPLEX
        if np.issubdtype(dtype, np.integer):
            return _WEAK_INT
    if dtype not in _UPPER_BOUNDS:
        raise TypeError(f"irjax does not support type promotion for dtype {dtype}")
    return dtype


@functools.cache
def _lub(nodes: frozenset) -> Any:
    common = frozenset.intersection(*(_UPPER_BOUNDS[n] for n in nodes))
    for c in common:
        if _UPPER_BOUNDS[c] == common:
            return c
    raise TypeError(f"no unique least upper bound for {sorted(map(repr, nodes))}")  # pragma: no cover


def _node_to_dtype(node: Any) -> np.dtype:
    return _WEAK_TO_DTYPE[node] if isinstance(node, _WeakNode) else canonicalize_dtype(node)


def promote_types(a: Any, b: Any) -> np.dtype:
    """Least upper bound of two dtypes in JAX's lattice, canonicalized (x64 off).

    Like ``jnp.promote_types``, the Python types int/float/complex count as weak."""
    nodes = frozenset(
        _node(_to_dtype(x), True) if any(x is t for t in _WEAK_PY_TYPES) else _node(_to_dtype(x), False) for x in (a, b)
    )
    return _node_to_dtype(_lub(nodes))


def is_weakly_typed(x: Any) -> bool:
    """True for Python int/float/complex scalars and values flagged ``weak_type``."""
    if type(x) in _WEAK_PY_TYPES:
        return True
    return bool(getattr(x, "weak_type", False))


def dtype_of(x: Any) -> np.dtype:
    """Canonical dtype of a value (Python scalar, numpy value, or object with .dtype)."""
    if type(x) in _PY_SCALAR_DTYPES:
        return _PY_SCALAR_DTYPES[type(x)]
    if hasattr(x, "dtype"):
        return canonicalize_dtype(x.dtype)
    return canonicalize_dtype(np.asarray(x).dtype)


def _dtype_and_weak(x: Any) -> tuple[np.dtype, bool]:
    if isinstance(x, type) and x in _PY_SCALAR_DTYPES:  # int/float/complex types are weak
        return _PY_SCALAR_DTYPES[x], x is not bool
    if isinstance(x, (np.dtype, str, type)):
        return canonicalize_dtype(x), False
    if type(x) in _PY_SCALAR_DTYPES or hasattr(x, "dtype"):
        return dtype_of(x), is_weakly_typed(x)
    return canonicalize_dtype(x), False  # other dtype-likes


def result_type(*args: Any, return_weak_type_flag: bool = False) -> Any:
    """JAX's result_type: promote dtypes/values (weak Python scalars included)."""
    if not args:
        raise ValueError("at least one array or dtype is required")
    pairs = [_dtype_and_weak(a) for a in args]
    dtypes = [d for d, _ in pairs]
    weaks = [w for _, w in pairs]
    if len(pairs) == 1:
        out, weak = pairs[0]
    elif len(set(dtypes)) == 1 and not all(weaks):
        out, weak = dtypes[0], False
    elif all(weaks):
        # All weak: join the strong counterparts, then mark the result weak.
        out, weak = _node_to_dtype(_lub(frozenset(_node(d, False) for d in dtypes))), True
    else:
        node = _lub(frozenset(_node(d, w) for d, w in pairs))
        out, weak = _node_to_dtype(node), isinstance(node, _WeakNode)
    out = canonicalize_dtype(out)
    return (out, weak) if return_weak_type_flag else out


def issubdtype(arg1: Any, arg2: Any) -> bool:
    """``np.issubdtype`` that also treats bfloat16 as floating."""
    if bfloat16 is not None and arg2 in (np.floating, np.inexact, np.number):
        try:
            if np.dtype(arg1) == bfloat16:
                return True
        except TypeError:
            pass
    return bool(np.issubdtype(arg1, arg2))


def is_float(dtype: Any) -> bool:
    """True for real floating dtypes (including bfloat16)."""
    return issubdtype(_to_dtype(dtype), np.floating)


def is_int(dtype: Any) -> bool:
    """True for signed or unsigned integer dtypes (not bool)."""
    return bool(np.issubdtype(_to_dtype(dtype), np.integer))

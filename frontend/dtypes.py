"""JAX dtype rules for irjax: canonicalization (x64 mode on or off) and type promotion.

Implements JAX's type promotion lattice, including weak types for Python scalars,
as described at https://docs.jax.dev/en/latest/type_promotion.html.
Only numpy, the standard library and (optionally) ml_dtypes are used.
"""

from __future__ import annotations

import functools
import os
import warnings
from typing import Any

import numpy as np
from ml_dtypes import bfloat16 as _bfloat16_type
from ml_dtypes import finfo, iinfo  # (jax.dtypes.finfo / iinfo are ml_dtypes', which know bfloat16)

bfloat16: np.dtype | None = np.dtype(_bfloat16_type)

__all__ = [
    "bfloat16",
    "float0",
    "x64_enabled",
    "set_x64",
    "kind",
    "LOW_FLOATS",
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
    "TypePromotionError",
    "extended",
    "prng_key",
    "ExtendedDType",
    "finfo",
    "iinfo",
    "itemsize_bits",
    "scalar_type_of",
]

# JAX's dtype for tangents of integer/bool values.
float0 = np.dtype([("float0", np.void, 0)])


class extended(np.generic):  # noqa: N801  (JAX's name)
    """The scalar class of JAX's extended dtypes: jnp.issubdtype(key.dtype, jax.dtypes.extended)."""


class prng_key(extended):  # noqa: N801
    """The scalar class of typed PRNG key dtypes (jax.random.key(0).dtype)."""


class ExtendedDType:
    """Base of irjax's extended dtypes (prng.KeyTy): not NumPy dtypes; `type` is the scalar class
    issubdtype files them under (a subclass of extended)."""

    type: type = extended


# ---------------------------------------------------------------- x64 mode
# With x64 off (JAX's default) 64-bit dtypes canonicalize to 32-bit ones and the defaults are
# 32-bit; `jax_enable_x64` switches both. config.py sets the flag through set_x64.


def _env_flag(*names: str) -> bool:
    """A boolean environment variable as JAX reads one ('1', 'true', 'yes', 'on'; case-insensitive)."""
    for name in names:
        v = os.environ.get(name)
        if v is not None:
            if v.strip().lower() in ("1", "true", "t", "yes", "y", "on"):
                return True
            if v.strip().lower() in ("0", "false", "f", "no", "n", "off", ""):
                return False
            raise ValueError(f"invalid value {v!r} for environment variable {name}: expected a boolean")
    return False


# read at import, as JAX reads JAX_ENABLE_X64 (IRJAX_ENABLE_X64 wins when both are set)
_x64 = _env_flag("IRJAX_ENABLE_X64", "JAX_ENABLE_X64")
_DEFAULTS = {
    False: {
        "int": np.dtype("int32"),
        "uint": np.dtype("uint32"),
        "float": np.dtype("float32"),
        "complex": np.dtype("complex64"),
    },
    True: {
        "int": np.dtype("int64"),
        "uint": np.dtype("uint64"),
        "float": np.dtype("float64"),
        "complex": np.dtype("complex128"),
    },
}


def x64_enabled() -> bool:
    """Whether 64-bit dtypes are enabled (`jax_enable_x64`)."""
    return _x64


def set_x64(enabled: bool) -> None:
    """Switch x64 mode (use irjax.config.update('jax_enable_x64', ...), which also keys caches)."""
    global _x64
    _x64 = bool(enabled)
    _lub.cache_clear()


def __getattr__(name: str) -> Any:
    # default_int / default_uint / default_float / default_complex follow the x64 flag
    if name.startswith("default_") and name[8:] in _DEFAULTS[False]:
        return _DEFAULTS[_x64][name[8:]]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_CANONICAL = {
    np.dtype("int64"): np.dtype("int32"),
    np.dtype("uint64"): np.dtype("uint32"),
    np.dtype("float64"): np.dtype("float32"),
    np.dtype("complex128"): np.dtype("complex64"),
}

# Python scalar types and the kinds of default dtype they map to.
_PY_SCALAR_KINDS = {bool: None, int: "int", float: "float", complex: "complex"}
_WEAK_PY_TYPES = (int, float, complex)


def _py_scalar_dtype(t: type) -> np.dtype:
    k = _PY_SCALAR_KINDS[t]
    return np.dtype("bool") if k is None else _DEFAULTS[_x64][k]


def _to_dtype(dtype: Any) -> np.dtype:
    if isinstance(dtype, str) and dtype == "bfloat16" and bfloat16 is not None:
        return bfloat16
    if isinstance(dtype, type) and dtype in _PY_SCALAR_KINDS:
        return _py_scalar_dtype(dtype)
    if hasattr(dtype, "dtype") and not isinstance(dtype, (np.dtype, type)):
        return np.dtype(dtype.dtype)
    return np.dtype(dtype)


def canonicalize_dtype(dtype: Any) -> np.dtype:
    """Maps a dtype-like to the dtype JAX uses (64-bit ones to 32-bit when x64 is disabled)."""
    dt = _to_dtype(dtype)
    return dt if _x64 else _CANONICAL.get(dt, dt)


def check_supported(dtype: Any) -> np.dtype:
    """The canonical dtype of a value irjax can hold (complex64 included, as in JAX)."""
    return canonicalize_dtype(dtype)


def check_user_dtype(dtype: Any, name: str | None) -> np.dtype:
    """The canonical dtype for a dtype a user asked `name` for, with JAX's UserWarning when x64
    mode is off and a 64-bit dtype is truncated (Python's float/int/complex never warn)."""
    dt = _to_dtype(dtype)
    out = canonicalize_dtype(dt)
    if out != dt:
        warnings.warn(
            f"Explicitly requested dtype {dt.name}{f' requested in {name}' if name else ''} is not available, and will be "
            f"truncated to dtype {out.name}. To enable more dtypes, set the jax_enable_x64 configuration "
            "option or the JAX_ENABLE_X64 shell environment variable. See "
            "https://github.com/jax-ml/jax#current-gotchas for more.",
            UserWarning,
            stacklevel=3,
        )
    return out


def check_python_ints(obj: Any, dtype: Any) -> None:
    """OverflowError, as JAX raises, when a Python int in `obj` (a scalar or nested lists/tuples)
    does not fit integer `dtype`; NumPy integers are not checked (they wrap, as in JAX)."""
    if type(obj) is not int and not isinstance(obj, (list, tuple)):
        return  # (the common case, on every eager op with a float scalar: no dtype work)
    bounds = _int_bounds.get(dtype)
    if bounds is None:
        dt = np.dtype(dtype)
        bounds = _int_bounds[dtype] = (int(np.iinfo(dt).min), int(np.iinfo(dt).max), dt.name) if dt.kind in "iu" else ()
    if not bounds:
        return
    lo, hi, name = bounds
    if type(obj) is int:
        if not lo <= obj <= hi:
            raise OverflowError(f"Python integer {obj} out of bounds for {name}")
        return
    stack = [obj]
    while stack:
        v = stack.pop()
        if isinstance(v, (list, tuple)):
            stack.extend(v)
        elif type(v) is int and not lo <= v <= hi:
            raise OverflowError(f"Python integer {v} out of bounds for {name}")


_int_bounds: dict = {}  # dtype-like -> (min, max, name) of an integer dtype, () for the others


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
# With x64 off JAX forms no 64-bit type from 32-bit inputs: uint32 and int32 meet at int32.
_EDGES_X32 = {**_EDGES, _u32: [_i32, _u64]}


def _compute_upper_bounds(edges: dict) -> dict[Any, frozenset]:
    ub: dict[Any, frozenset] = {}

    def visit(node: Any) -> frozenset:
        if node not in ub:
            acc = {node}
            for nxt in edges[node]:
                acc |= visit(nxt)
            ub[node] = frozenset(acc)
        return ub[node]

    for n in edges:
        visit(n)
    return ub


_UPPER_BOUNDS_BY_X64 = {False: _compute_upper_bounds(_EDGES_X32), True: _compute_upper_bounds(_EDGES)}
_UPPER_BOUNDS = _UPPER_BOUNDS_BY_X64[True]  # (the node set; both tables have the same nodes)
_WEAK_KINDS = {_WEAK_INT: "int", _WEAK_FLOAT: "float", _WEAK_COMPLEX: "complex"}
# jnp.promote_types names a weak node by its Python type's NumPy dtype, in either mode
_WEAK_RAW = {_WEAK_INT: np.dtype(int), _WEAK_FLOAT: np.dtype(float), _WEAK_COMPLEX: np.dtype(complex)}


class TypePromotionError(ValueError):
    """No implicit promotion between these dtypes (JAX's jax.dtypes.TypePromotionError)."""


def _no_promotion(dtypes_in: list) -> TypePromotionError:
    """JAX's error for mixing a 1/2/4-bit integer or 8/4-bit float with another dtype."""
    narrow = next(d for d in dtypes_in if d not in _UPPER_BOUNDS)
    floating = is_float(narrow)
    what = "8-bit floats" if floating else "1-bit, 2-bit and 4-bit integers"
    target = "float32" if floating else "int32"
    return TypePromotionError(
        f"Input dtypes {tuple(d.name for d in dtypes_in)} have no available implicit dtype promotion "
        f"path. To avoid unintended promotion, {what} do not support implicit promotion. If you'd like "
        f"your inputs to be promoted to another type, you can do so explicitly using e.g. "
        f"x.astype('{target}')"
    )


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
        raise TypePromotionError(f"irjax does not support type promotion for dtype {dtype}")
    return dtype


@functools.cache
def _lub(nodes: frozenset) -> Any:
    ubs = _UPPER_BOUNDS_BY_X64[_x64]
    common = frozenset.intersection(*(ubs[n] for n in nodes))
    for c in common:
        if ubs[c] == common:
            return c
    raise TypeError(f"no unique least upper bound for {sorted(map(repr, nodes))}")  # pragma: no cover


def _node_to_dtype(node: Any) -> np.dtype:
    return _DEFAULTS[_x64][_WEAK_KINDS[node]] if isinstance(node, _WeakNode) else canonicalize_dtype(node)


def _raw_dtype(x: Any) -> np.dtype:
    if isinstance(x, str) and x == "bfloat16" and bfloat16 is not None:
        return bfloat16
    return np.dtype(x)


def promote_types(a: Any, b: Any) -> np.dtype:
    """Least upper bound of two dtypes in JAX's lattice, not canonicalized (as ``jnp.promote_types``:
    int32 and int64 give int64 even with x64 off).

    The Python types int/float/complex count as weak and name their node int64/float64/complex128."""
    nodes = frozenset(_node(_raw_dtype(x), any(x is t for t in _WEAK_PY_TYPES)) for x in (a, b))
    node = _lub(nodes)
    return _WEAK_RAW[node] if isinstance(node, _WeakNode) else node


def is_weakly_typed(x: Any) -> bool:
    """True for Python int/float/complex scalars and values flagged ``weak_type``."""
    if type(x) in _WEAK_PY_TYPES:
        return True
    return bool(getattr(x, "weak_type", False))


def dtype_of(x: Any) -> np.dtype:
    """Canonical dtype of a value (Python scalar, numpy value, or object with .dtype)."""
    if type(x) in _PY_SCALAR_KINDS:
        return _py_scalar_dtype(type(x))
    if hasattr(x, "dtype"):
        return canonicalize_dtype(x.dtype)
    return canonicalize_dtype(np.asarray(x).dtype)


def _dtype_and_weak(x: Any) -> tuple[np.dtype, bool]:
    if isinstance(x, type) and x in _PY_SCALAR_KINDS:  # int/float/complex types are weak
        return _py_scalar_dtype(x), x is not bool
    if isinstance(x, (np.dtype, str, type)):
        return canonicalize_dtype(x), False
    if type(x) in _PY_SCALAR_KINDS or hasattr(x, "dtype"):
        return dtype_of(x), is_weakly_typed(x)
    if isinstance(x, (list, tuple)):  # (np.dtype would read a list as a structured dtype spec)
        raise TypeError(f"Cannot determine dtype of {x!r}")
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
        try:
            node = _lub(frozenset(_node(d, w) for d, w in pairs))
        except TypePromotionError:
            raise _no_promotion(dtypes) from None
        out, weak = _node_to_dtype(node), isinstance(node, _WeakNode)
    out = canonicalize_dtype(out)
    return (out, weak) if return_weak_type_flag else out


def _narrow_parent(dt: np.dtype) -> type | None:
    """NumPy's abstract parent of an ml_dtypes narrow dtype (NumPy files them all under void)."""
    if issubclass(dt.type, np.number) or dt.fields is not None or dt.itemsize > 2:
        return None
    name = dt.name
    if name.startswith("uint"):
        return np.unsignedinteger
    if name.startswith("int"):
        return np.signedinteger
    if name.startswith(("float", "bfloat")):
        return np.floating
    return None


_ABSTRACT = (np.generic, np.number, np.integer, np.signedinteger, np.unsignedinteger, np.inexact, np.floating)


def _extended_type(x: Any) -> type | None:
    if isinstance(x, ExtendedDType):
        return x.type
    if isinstance(x, type) and issubclass(x, extended):
        return x
    return None


def issubdtype(arg1: Any, arg2: Any) -> bool:
    """``np.issubdtype`` that also files bfloat16, float8/float4 and int4/uint4/int2 under
    floating / signedinteger / unsignedinteger, and key dtypes under extended / prng_key (and
    np.generic), as JAX does."""
    ext1 = _extended_type(arg1)
    if ext1 is not None:
        if isinstance(arg2, ExtendedDType):
            return arg1 == arg2
        return isinstance(arg2, type) and issubclass(ext1, arg2)
    if _extended_type(arg2) is not None:
        return False
    if isinstance(arg2, type) and arg2 in _ABSTRACT:
        try:
            parent = _narrow_parent(_to_dtype(arg1))
        except TypeError:
            parent = None
        if parent is not None:
            return issubclass(parent, arg2)
    return bool(np.issubdtype(arg1, arg2))


def itemsize_bits(dtype: Any) -> int:
    """Bits per element: 4 for int4 and float4, 16 for bfloat16, 8 for bool."""
    dt = _to_dtype(dtype)
    if issubdtype(dt, np.integer):
        return int(iinfo(dt).bits)
    if issubdtype(dt, np.floating) and not issubclass(dt.type, np.number):
        return int(finfo(dt).bits)
    return dt.itemsize * 8


def scalar_type_of(x: Any) -> type:
    """The Python scalar type (bool, int, float or complex) of x's dtype."""
    dt = dtype_of(x)
    if dt == np.bool_:
        return bool
    if issubdtype(dt, np.integer):
        return int
    if issubdtype(dt, np.floating):
        return float
    if issubdtype(dt, np.complexfloating):
        return complex
    raise TypeError(f"Invalid scalar value {x}")


def is_float(dtype: Any) -> bool:
    """True for real floating dtypes (including bfloat16)."""
    return issubdtype(_to_dtype(dtype), np.floating)


# ---------------------------------------------------------------- float16 / bfloat16
LOW_FLOATS = frozenset(d for d in (np.dtype("float16"), bfloat16) if d is not None)


def kind(dtype: Any) -> str:
    """NumPy's dtype.kind, except 'f' for bfloat16 (ml_dtypes gives it kind 'V')."""
    if isinstance(dtype, np.dtype) and dtype.kind != "V":
        return dtype.kind  # (the common case, an array's dtype: no conversion)
    dt = _to_dtype(dtype)
    return "f" if dt == bfloat16 else dt.kind


def is_int(dtype: Any) -> bool:
    """True for signed or unsigned integer dtypes (not bool)."""
    return bool(np.issubdtype(_to_dtype(dtype), np.integer))

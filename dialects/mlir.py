"""The one place that imports the MLIR Python bindings (shipped inside iree-base-compiler).

Also owns the process-wide context and the dtype <-> MLIR element type mapping.
"""

from __future__ import annotations

import sys
import threading
import types

import numpy as np
from iree.compiler import ir, passmanager  # noqa: F401  (re-exported)

# The bindings look for a Python module per dialect whenever they wrap an op, and do not
# remember a miss: without this empty `jx` module every jx op created or cloned paid a failed
# import (~0.1 ms, 90% of inlining a call chain). Measured: 6.0 s -> 0.6 s for one inline.
sys.modules.setdefault("iree.compiler.dialects.jx", types.ModuleType("iree.compiler.dialects.jx"))

_ctx: ir.Context | None = None
_ctx_lock = threading.Lock()


def context() -> ir.Context:
    """The one process-wide context (jx ops are unregistered, so it allows unknown dialects).
    Every thread shares it: IR objects are cached across calls (traced functions, parsed
    attributes), and objects from two contexts must never meet. Building IR is serialized by
    the frontend's IR lock (frontend/core.py)."""
    global _ctx
    if _ctx is None:
        with _ctx_lock:
            if _ctx is None:
                ctx = ir.Context()
                ctx.allow_unregistered_dialects = True
                _ctx = ctx
    return _ctx


class enter:
    """`with enter():` makes the shared context and an unknown location current."""

    def __enter__(self):
        self._ctx = context()
        self._ctx.__enter__()
        self._loc = ir.Location.unknown(self._ctx)
        self._loc.__enter__()
        return self._ctx

    def __exit__(self, *exc):
        self._loc.__exit__(*exc)
        self._ctx.__exit__(*exc)
        return False


try:  # ml_dtypes comes with iree-base-runtime's numpy stack; bfloat16 is optional.
    from ml_dtypes import bfloat16 as _bf16
except ImportError:  # pragma: no cover
    _bf16 = None

_ELEMENT_NAMES = {
    np.dtype(np.bool_): "i1",
    np.dtype(np.int8): "i8",
    np.dtype(np.int16): "i16",
    np.dtype(np.int32): "i32",
    np.dtype(np.int64): "i64",
    np.dtype(np.uint8): "ui8",
    np.dtype(np.uint16): "ui16",
    np.dtype(np.uint32): "ui32",
    np.dtype(np.uint64): "ui64",
    np.dtype(np.float16): "f16",
    np.dtype(np.float32): "f32",
    np.dtype(np.float64): "f64",
    np.dtype(np.complex64): "complex<f32>",
    np.dtype(np.complex128): "complex<f64>",
}
if _bf16 is not None:
    _ELEMENT_NAMES[np.dtype(_bf16)] = "bf16"
_DTYPES = {v: k for k, v in _ELEMENT_NAMES.items()}


def element_name(dtype) -> str:
    """`float32` -> `f32`, as MLIR spells the element type."""
    try:
        return _ELEMENT_NAMES[np.dtype(dtype)]
    except KeyError:
        raise TypeError(f"irjax has no MLIR element type for dtype {dtype}") from None


def dtype_of_element(name: str) -> np.dtype:
    try:
        return _DTYPES[name]
    except KeyError:
        raise TypeError(f"irjax does not support MLIR element type {name}") from None


def tensor_type_str(shape, dtype) -> str:
    dims = "".join(f"{d}x" for d in shape)
    return f"tensor<{dims}{element_name(dtype)}>"


_type_cache: dict = {}


def tensor_type(shape, dtype) -> ir.RankedTensorType:
    key = (id(context()), tuple(shape), np.dtype(dtype))
    t = _type_cache.get(key)
    if t is None:
        t = ir.Type.parse(tensor_type_str(shape, dtype), context())
        _type_cache[key] = t
    return t


def shape_dtype(t: ir.Type):
    """MLIR ranked tensor type -> (shape tuple, numpy dtype)."""
    rt = ir.RankedTensorType(t)
    return tuple(rt.shape), dtype_of_element(str(rt.element_type))

"""Emitting jx ops at the current insertion point, with result types from the records."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import registry
from .attrs import encode_params
from .mlir import ir, shape_dtype, tensor_type
from .registry import ShapedType, VerifyError

_aval_cache: dict = {}


def aval(v) -> ShapedType:
    """ShapedType of an `ir.Value` (or of an `ir.Type`)."""
    t = v if isinstance(v, ir.Type) else v.type
    key = str(t)
    a = _aval_cache.get(key)
    if a is None:
        shape, dtype = shape_dtype(t)
        a = _aval_cache[key] = ShapedType(shape, dtype)
    return a


def ir_type(a: ShapedType) -> ir.Type:
    return tensor_type(a.shape, a.dtype)


def infer(name: str, avals: Sequence[ShapedType], params: dict) -> list[ShapedType]:
    prim = registry.get(name)
    try:
        if prim.verify is not None:
            prim.verify(*avals, **params)
        return registry.infer_list(prim, avals, params)
    except VerifyError:
        raise
    except (TypeError, ValueError) as e:
        sig = ", ".join(a.str_short() for a in avals)
        raise VerifyError(f"jx.{prim.name}({sig}) with {params}: {e}") from e


def emit(name: str, operands: Sequence, params: dict | None = None, result_types=None) -> list:
    """Create `jx.<name>` at the current insertion point and return its results."""
    params = params or {}
    if result_types is None:
        outs = infer(name, [aval(v) for v in operands], params)
        result_types = [ir_type(a) for a in outs]
    op = ir.Operation.create(
        "jx." + name,
        results=list(result_types),
        operands=list(operands),
        attributes=encode_params(params),
    )
    return list(op.results)


def constant(value, dtype=None) -> ir.Value:
    """A `jx.constant` holding `value` (array or scalar)."""
    arr = np.asarray(value, dtype=dtype)
    if arr.dtype.kind == "c":
        # complex(re, im) of two real literals: the bindings cannot read back a complex
        # DenseElementsAttr (any attribute walk over it raises or aborts the process)
        re, im = constant(arr.real.copy()), constant(arr.imag.copy())
        return emit("complex", [re, im])[0]
    return emit("constant", [], {"value": arr})[0]

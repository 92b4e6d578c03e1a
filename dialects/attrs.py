"""Op parameters <-> MLIR attributes, so the IR carries them and passes read them back.

bool/int/float/str, numpy dtypes (as a TypeAttr of the element type), tuples of ints
(DenseI64ArrayAttr), nested tuples (ArrayAttr), `Symbol` (FlatSymbolRefAttr) and
ndarrays (DenseElementsAttr) round-trip. `None` parameters are omitted.
"""

from __future__ import annotations

import numpy as np

from .mlir import dtype_of_element, element_name, ir, shape_dtype, tensor_type


class Symbol(str):
    """A function name, encoded as a symbol reference (`@f`)."""


def encode(value) -> ir.Attribute:
    if isinstance(value, Symbol):
        return ir.FlatSymbolRefAttr.get(str(value))
    if isinstance(value, (bool, np.bool_)):
        return ir.BoolAttr.get(bool(value))
    if isinstance(value, (int, np.integer)):
        return ir.IntegerAttr.get(ir.IntegerType.get_signless(64), int(value))
    if isinstance(value, (float, np.floating)):
        return ir.FloatAttr.get_f64(float(value))
    if isinstance(value, str):
        return ir.StringAttr.get(value)
    if isinstance(value, np.dtype) or (isinstance(value, type) and issubclass(value, np.generic)):
        return ir.TypeAttr.get(ir.Type.parse(element_name(np.dtype(value))))
    if isinstance(value, np.ndarray):
        return dense(value)
    if isinstance(value, (tuple, list)):
        if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value):
            return ir.DenseI64ArrayAttr.get([int(v) for v in value])
        return ir.ArrayAttr.get([encode(v) for v in value])
    raise TypeError(f"cannot encode op parameter {value!r} as an MLIR attribute")


def dense(value: np.ndarray) -> ir.DenseElementsAttr:
    """A DenseElementsAttr; uniform arrays (and 0-d ones) become splats, small in the text."""
    value = np.array(value, copy=None, order="C")  # (ascontiguousarray makes 0-d arrays 1-d)
    t = tensor_type(value.shape, value.dtype)
    et = ir.RankedTensorType(t).element_type
    flat = value.reshape(-1)
    if value.size == 0:
        return ir.DenseElementsAttr.get(value, type=et, shape=list(value.shape))
    kind = "f" if value.dtype.name == "bfloat16" else value.dtype.kind  # (ml_dtypes' bfloat16 has kind 'V')
    if (flat == flat[0]).all() and not (kind == "f" and np.isnan(flat).any() and not np.isnan(flat).all()):
        v = flat[0]
        if value.dtype.kind == "c":  # no complex element attribute in the bindings: one element, full shape
            return ir.DenseElementsAttr.get(flat[:1].copy(), type=et, shape=list(value.shape))
        if value.dtype.kind == "b":
            el = ir.BoolAttr.get(bool(v))
        elif kind == "f":
            el = ir.FloatAttr.get(et, float(v))
        else:
            el = ir.IntegerAttr.get(et, int(v))
        return ir.DenseElementsAttr.get_splat(t, el)
    if value.dtype.kind == "b":
        return ir.DenseElementsAttr.get([ir.BoolAttr.get(bool(b)) for b in flat], type=t)
    if value.dtype.name == "bfloat16":  # the bindings take its bits (the buffer protocol lacks bfloat16)
        value = value.view(np.uint16)
    return ir.DenseElementsAttr.get(value, type=et, shape=list(value.shape))


def decode(attr: ir.Attribute):
    # the bindings hand back attributes already downcast to their concrete class
    if isinstance(attr, ir.FlatSymbolRefAttr):
        return Symbol(attr.value)
    if isinstance(attr, ir.BoolAttr):
        return attr.value
    if isinstance(attr, ir.IntegerAttr):
        return attr.value
    if isinstance(attr, ir.FloatAttr):
        return attr.value
    if isinstance(attr, ir.StringAttr):
        return attr.value
    if isinstance(attr, ir.TypeAttr):
        return dtype_of_element(str(attr.value))
    if isinstance(attr, ir.DenseI64ArrayAttr):
        return tuple(attr)
    if isinstance(attr, ir.ArrayAttr):
        return tuple(decode(a) for a in attr)
    if isinstance(attr, ir.DenseElementsAttr):
        return dense_value(attr)
    raise TypeError(f"cannot decode attribute {attr}")


def dense_value(attr) -> np.ndarray:
    shape, dtype = shape_dtype(attr.type)
    if attr.is_splat:
        v = decode(attr.get_splat_value())
        return np.full(shape, v, dtype)
    if dtype == np.bool_:
        return np.array(list(ir.DenseIntElementsAttr(attr)), dtype=np.bool_).reshape(shape)
    return np.array(attr, dtype=dtype).reshape(shape)


def encode_params(params: dict) -> dict:
    return {k: encode(v) for k, v in params.items() if v is not None}


def decode_params(op) -> dict:
    attrs = op.attributes
    return {name: decode(attrs[name]) for name in attrs}
